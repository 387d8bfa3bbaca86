/* squash_tree.h: reading a SquashFS image that may be hostile, without
 * FUSE.  The FUSE server (squash.c) and the fuzz harness
 * (test/fuzz/fuzz_squash.c) call the same functions.
 *
 * Every on-disk field is checked before libsquashfuse or krill trusts it
 * (doc/squash.md lists the rules): a corrupt image gives an error at open,
 * or -EIO from the operation that meets the corruption, never a crash.
 *
 * Inode numbers: SQT_ROOT is the root; others are SquashFS inode ids + 2.
 * Functions return 0 or a negative errno.  They are thread-safe. */
#ifndef KRILL_SQUASH_TREE_H
#define KRILL_SQUASH_TREE_H

#include "err.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SQT_ROOT 1

struct sqt;

/* Open the image on fd (read-only; sqt owns it from here, also on error).
 * path names it in errors: "PATH: can't open SquashFS: REASON". */
int sqt_open(const char *path, int fd, struct sqt **out, struct kerr *e);
void sqt_close(struct sqt *t);

int sqt_fd(const struct sqt *t);
void sqt_statfs(struct sqt *t, struct statvfs *sv);

int sqt_getattr(struct sqt *t, uint64_t ino, struct stat *st);

/* *ino = 0 (and 0 returned) when parent has no entry name. */
int sqt_lookup(struct sqt *t, uint64_t parent, const char *name, uint64_t *ino,
               struct stat *st);

/* Called per entry; st has only st_ino and st_mode unless `plus`.  next is
 * the offset to resume after this entry.  Return false to stop (the entry
 * was not taken; the next call starts again with it). */
typedef bool (*sqt_dirent_fn)(void *arg, const char *name, const struct stat *st,
                              off_t next);

/* List directory ino from offset off (0 or an earlier `next`). */
int sqt_readdir(struct sqt *t, uint64_t ino, off_t off, bool plus, sqt_dirent_fn fn,
                void *arg);

/* *target is malloc'd, NUL-terminated. */
int sqt_readlink(struct sqt *t, uint64_t ino, char **target);

/* Read up to size bytes at off: on success fn is called once with the
 * data (n may be 0 at end of file), and the iovecs are valid only during
 * the call. */
typedef void (*sqt_data_fn)(void *arg, const struct iovec *iov, int n);
int sqt_read(struct sqt *t, uint64_t ino, off_t off, size_t size, sqt_data_fn fn,
             void *arg);

/* getxattr(2) rules: size 0 asks for the length (*len); -ENODATA when
 * absent; -ERANGE when buf is too small. */
int sqt_getxattr(struct sqt *t, uint64_t ino, const char *name, void *buf, size_t size,
                 size_t *len);
/* listxattr(2) rules, the same way. */
int sqt_listxattr(struct sqt *t, uint64_t ino, char *buf, size_t size, size_t *len);

#endif
