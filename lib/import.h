/* import.h: `krill import SOURCE [DEST]`: get an image from a registry, an
 * OCI layout or archive, a docker-archive, a local engine, a rootfs
 * tarball or directory, and write it as a SquashFS file (or a directory)
 * that krill runs as the image would run under docker.
 *
 * The steps, each in its own file: imgref.c (what SOURCE names),
 * registry.c (fetching, verified, into the cache), cache.c (blobs by
 * digest, records of what DEST was built from), manifest.c (the JSON),
 * layer.c (flattening layers with whiteouts), import_meta.c (/.krill),
 * import_squash.c (mksquashfs, atomically). */
#ifndef KRILL_IMPORT_H
#define KRILL_IMPORT_H

#include "err.h"

#include <signal.h>
#include <stdbool.h>

struct import_opts {
	const char *source;
	const char *dest;       /* NULL = STORAGE/NAME.sqfs (or STORAGE/NAME with dir_out) */
	bool dir_out;           /* --dir: an unpacked directory */
	const char *storage;    /* where a default DEST goes */
	const char *cache;      /* NULL = cache_default_path() */
	const char *os, *arch, *variant; /* NULL = the host's */
	const char *comp;       /* NULL = SQUASH_DEFAULT_COMP (zstd:3) */
	const char *creds;      /* --creds USER:PASS */
	const char *tls_ca;
	char *const *insecure;  /* registries reached over plain HTTP (NULL-terminated) */
	bool for_run;           /* krill run SOURCE: a DEST recorded for this SOURCE is used as is */
	int threads;            /* mksquashfs; 0 = all CPUs */
	int parallel;           /* concurrent downloads; 0 = 4 */
	volatile sig_atomic_t *cancel;
};

/* Import; *dest_out is the image written (or found current). */
int import_image(const struct import_opts *o, char **dest_out, struct kerr *e);

/* The DEST import_image would choose for o (absolute). */
char *import_default_dest(const struct import_opts *o, struct kerr *e);

#endif
