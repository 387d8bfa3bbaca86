/* layer.h: applying an image layer (a tar stream, any compression) to a
 * root filesystem being built, with OCI whiteout semantics.
 *
 * Every byte of a layer is hostile:
 *  - names are cleaned first (layer_path_clean): absolute names and ".."
 *    are refused, "./" and "//" are folded, length is bounded;
 *  - every directory on the way to an entry is opened one component at a
 *    time with O_NOFOLLOW, so a symlink (from this layer or a lower one)
 *    can never be written through: that is refused, naming the layer and
 *    the path;
 *  - the entry itself replaces whatever is there (a symlink is removed,
 *    never followed; files are created O_EXCL);
 *  - hard-link targets are resolved the same way and must already exist;
 *  - device nodes are skipped when unprivileged (and counted), sockets
 *    always; setuid/setgid bits are kept (they are inert under krill's
 *    no_new_privs and user namespace); modes are made owner-readable
 *    (directories owner-rwx), as ch-image does, so the tree can be
 *    squashed and removed by its unprivileged owner;
 *  - entry count, path length and total file bytes are bounded;
 *  - the layer's compressed bytes are hashed as they are read, and a
 *    digest mismatch fails the layer. */
#ifndef KRILL_LAYER_H
#define KRILL_LAYER_H

#include "err.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAYER_MAX_PATH 4096
#define LAYER_MAX_ENTRIES (4u << 20)                /* per image */
#define LAYER_MAX_BYTES ((uint64_t)512 << 30)       /* per image: 512 GiB */

enum layer_path_kind {
	LAYER_PATH_ROOT,     /* "." or "./": the root itself */
	LAYER_PATH_NORMAL,   /* out = the entry's path */
	LAYER_PATH_WHITEOUT, /* out = the path it removes */
	LAYER_PATH_OPAQUE,   /* out = the directory it empties ("" = the root) */
	LAYER_PATH_IGNORED,  /* other .wh..wh. names (aufs metadata) */
};

/* Clean a tar entry name into out ("a/b/c", relative, no trailing '/').
 * whiteouts: interpret .wh. names (OCI layers); without, they are plain
 * names.  Returns 0, or -1 with why set (absolute, "..", too long,
 * an empty whiteout name). */
int layer_path_clean(const char *name, bool whiteouts, char *out, size_t outlen,
                     enum layer_path_kind *kind, const char **why);

struct layer_opts {
	bool whiteouts;                 /* OCI/docker layers: yes; tar:FILE: no */
	const char *expect_digest;      /* sha256 of the compressed stream, or NULL */
	const char *expect_digest_alt;  /* another acceptable one (docker-archive), or NULL */
	volatile sig_atomic_t *cancel;  /* nonzero: stop with EINTR */
};

struct layer_stats {
	uint64_t entries, bytes;
	uint64_t devices_skipped, sockets_skipped;
	char digest[72]; /* of the stream read, "sha256:HEX" */
};

/* Apply the tar stream readable from fd onto the tree at root_fd.  what
 * names the layer in errors ("layer 2 (sha256:abcd…)").  stats add up over
 * calls (the bounds are per image). */
int layer_apply(int root_fd, int fd, const char *what, const struct layer_opts *o,
                struct layer_stats *stats, struct kerr *e);

#endif
