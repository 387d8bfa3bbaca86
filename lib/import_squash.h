/* import_squash.h: writing a SquashFS file from a directory tree with
 * mksquashfs (squashfs-tools), atomically.
 *
 * Why mksquashfs rather than in-process libsquashfs: see doc/squash.md
 * ("Import output").  In short: it is multithreaded over all cores, and
 * Debian ships no pkg-config file or tree-packing API for libsquashfs
 * (gensquashfs's directory packer is internal to squashfs-tools-ng). */
#ifndef KRILL_IMPORT_SQUASH_H
#define KRILL_IMPORT_SQUASH_H

#include "err.h"

#include <signal.h>

/* zstd decompresses about as fast at any level, and startup is what a run
 * pays; level 3 squashes the debian-mpi tree ~40x faster than mksquashfs's
 * default 15 for a 16% larger file (doc/squash.md, "Import output"). */
#define SQUASH_DEFAULT_COMP "zstd:3"

struct squash_opts {
	const char *comp;  /* "zstd", "zstd:LEVEL", "lz4", "gzip", "xz", "lzo"; NULL = default */
	int threads;       /* 0 = all online CPUs */
	volatile sig_atomic_t *cancel;
};

/* Check a --comp / [import] compression value. */
int squash_comp_check(const char *comp, struct kerr *e);

/* Squash src (a directory path) into dest: files owned by root
 * (-all-root), no xattrs.  The image is written unnamed in dest's
 * directory (O_TMPFILE where possible) and named dest only when complete,
 * replacing any old dest; a failed or interrupted build leaves nothing. */
int squash_build(const char *src, const char *dest, const struct squash_opts *o,
                 struct kerr *e);

#endif
