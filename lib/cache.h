/* cache.h: the import cache, $XDG_CACHE_HOME/krill (or [import] cache).
 *
 *   blobs/sha256/HEX   manifests, configs and layers, named by their digest
 *   images/HEX.json    one record per imported DEST (HEX = sha256 of its
 *                      path): source, manifest digest, options, and the
 *                      DEST's dev/inode/size/mtime when it was written
 *   locks/             flock(2) files: one per blob being fetched, one per
 *                      DEST being written, and "cache" (shared by imports,
 *                      exclusive for prune)
 *   tmp/               scratch trees and files, each flock'ed by its owner;
 *                      those whose lock is free are stale and removed
 *
 * Trust: the cache and each directory and blob in it must be owned by the
 * caller and not writable by group or others.  That is checked with fstat
 * on the opened fd (O_NOFOLLOW), never by path.
 * Concurrency: a blob enters blobs/ only complete and verified (a file
 * written unnamed, O_TMPFILE where the filesystem has it, then linked and
 * renamed into place), so a crash leaves no partial blob. */
#ifndef KRILL_CACHE_H
#define KRILL_CACHE_H

#include "err.h"
#include "digest.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct cache {
	char *path;
	int fd, blobs_fd, images_fd, locks_fd, tmp_fd;
	int use_lock; /* locks/cache, held shared (import) or exclusive (prune) */
};

/* ${XDG_CACHE_HOME:-$HOME/.cache}/krill; NULL (with e) when neither is set. */
char *cache_default_path(struct kerr *e);

/* Open (creating, mode 0700) the cache at path and check the trust rule.
 * exclusive: take locks/cache exclusively (prune), else shared. */
int cache_open(struct cache *c, const char *path, bool exclusive, struct kerr *e);
void cache_close(struct cache *c);

/* The trust rule on an open fd (exported for the tests' use of DEST dirs). */
int cache_check_fd(int fd, const char *what, bool want_dir, struct kerr *e);

/* Open blob digest read-only: its fd, or -1 with errno ENOENT (e set) when
 * absent.  The blob must pass the trust rule. */
int cache_blob_open(const struct cache *c, const char *digest, struct kerr *e);
bool cache_blob_has(const struct cache *c, const char *digest);

/* A file being written into the cache: unnamed until committed. */
struct cache_tmp {
	int fd;
	char name[64]; /* "" for an O_TMPFILE file, else its name in tmp/ */
};
int cache_tmp_create(const struct cache *c, struct cache_tmp *t, struct kerr *e);
/* Name the file blobs/sha256/HEX of digest (replacing any) and close it. */
int cache_tmp_commit_blob(const struct cache *c, struct cache_tmp *t, const char *digest,
                          struct kerr *e);
/* Drop an uncommitted file. */
void cache_tmp_discard(const struct cache *c, struct cache_tmp *t);

/* Store buf as the blob digest (already verified by the caller). */
int cache_put_blob(const struct cache *c, const void *buf, size_t len, const char *digest,
                   struct kerr *e);

/* flock(LOCK_EX) locks/NAME, creating it; blocking or not (then 0 with
 * *fd = -1 when another process holds it).  Returns the fd to close. */
int cache_lock(const struct cache *c, const char *name, bool wait, int *fd, struct kerr *e);

/* A new directory tmp/PREFIX-XXXXXX, flock'ed for the caller's lifetime.
 * *dfd is its fd (held: it carries the lock), *name its name in tmp/. */
int cache_scratch_dir(const struct cache *c, const char *prefix, int *dfd, char **name,
                      struct kerr *e);
/* The same for a regular file (mode 0600). */
int cache_scratch_file(const struct cache *c, const char *prefix, int *fd, char **name,
                       struct kerr *e);
/* Remove tmp/ entries whose lock is free (left by a killed import). */
void cache_clean_stale(const struct cache *c);

/* The record of an imported DEST. */
struct cache_record {
	char *dest, *source, *manifest, *options;
	struct strv blobs; /* every cached blob the image was built from */
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
};
/* Read the record for dest: 1 found, 0 none, -1 error. */
int cache_record_get(const struct cache *c, const char *dest, struct cache_record *r,
                     struct kerr *e);
/* Write the record for r->dest with the current stat of the DEST. */
int cache_record_put(const struct cache *c, struct cache_record *r, struct kerr *e);
void cache_record_free(struct cache_record *r);
/* Does DEST still look as the record says? */
bool cache_record_current(const struct cache_record *r);

/* Report the cache (blobs and bytes in use, unused) on stdout; with prune,
 * remove unused blobs and stale records; with verify, rehash every blob
 * and fail naming the first that doesn't match (it is removed). */
int cache_report(struct cache *c, bool prune, bool verify, struct kerr *e);

#endif
