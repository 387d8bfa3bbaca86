/* squash.h: SquashFS images, served in-process over FUSE (unprivileged) or
 * mounted by the kernel through a loop device (real root).
 *
 * Life cycle, unprivileged (see doc/squash.md):
 *     squash_open()          read and check the superblock; no threads
 *     squash_mount_fuse()    open /dev/fuse, mount(2) it; no threads
 *     fork()                 the child builds the container and execs
 *     squash_serve_start()   parent: worker threads answer FUSE requests
 *     ... wait for every container process ...
 *     squash_stop()          unmount, stop and join the workers
 *     squash_close()         free everything
 * Root: squash_open(), squash_mount_kernel(), squash_close(); no server
 * (squash_serve_start() then does nothing, so a supervisor may call it
 * either way).  Reading the image is squash_tree.h's, every field checked. */
#ifndef KRILL_SQUASH_H
#define KRILL_SQUASH_H

#include "err.h"

struct squash;

/* Open the image at path and check it (superblock, size, root inode).
 * Errors read "PATH: can't open SquashFS: REASON". */
int squash_open(const char *path, struct squash **out, struct kerr *e);

/* Mount the image as FUSE on mountpoint, without fusermount: needs
 * CAP_SYS_ADMIN in the user namespace owning the current mount namespace.
 * Requests queue in the kernel until squash_serve_start(). */
int squash_mount_fuse(struct squash *sq, const char *mountpoint, struct kerr *e);

/* Attach a read-only, auto-clearing loop device and mount it as squashfs on
 * mountpoint (real root only).  The loop device goes away with the mount. */
int squash_mount_kernel(struct squash *sq, const char *mountpoint, struct kerr *e);

/* Start `threads` worker threads (1..64) that serve the FUSE mount, and
 * return; after squash_mount_kernel() there is nothing to serve: 0.  Workers block every signal, so signals reach the caller's
 * threads only.  Call it after the last fork(). */
int squash_serve_start(struct squash *sq, int threads, struct kerr *e);

/* Default thread count: online CPUs, capped at 16. */
int squash_default_threads(void);

/* Unmount (lazily) and stop serving: workers finish the request in hand,
 * are joined, and the FUSE connection is closed, so any remaining reader
 * gets ENOTCONN.  Safe to call more than once, and without a mount. */
void squash_stop(struct squash *sq);

/* In a child forked after squash_mount_fuse(): close the inherited
 * /dev/fuse and image fds (close-on-exec would, but only at exec), so that
 * if the server dies the kernel aborts the connection instead of waiting
 * for this child.  Frees nothing, unmounts nothing; the child must not call
 * squash_stop() or squash_close() afterwards. */
void squash_child_drop(struct squash *sq);

/* squash_stop(), then free sq.  NULL is fine. */
void squash_close(struct squash *sq);

#endif
