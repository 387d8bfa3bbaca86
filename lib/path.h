/* path.h: resolving paths inside a root directory without escaping it.
 *
 * Inside an image, a path means what it means to a process chrooted
 * there: an absolute symlink starts again from the image root, and `..`
 * at the root stays at the root (openat2's RESOLVE_IN_ROOT).  So
 * /etc/resolv.conf -> /etc/resolv.conf.real resolves inside the image,
 * and no symlink of any shape reaches a host path. */
#ifndef KRILL_PATH_H
#define KRILL_PATH_H

#include "err.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Mount IDs (statx STATX_MNT_ID): the filesystems krill may create
 * files on, because they are the image's own or krill made them. */
struct mount_set {
	uint64_t *id;
	size_t n, cap;
};
void mount_set_add_fd(struct mount_set *s, int fd); /* the mount fd is on */
void mount_set_free(struct mount_set *s);

/* Open `path` (absolute or relative, taken relative to root_fd) inside
 * root_fd with RESOLVE_IN_ROOT semantics; magic links (/proc/PID/fd/...)
 * are never followed.  flags are open(2) flags; O_CLOEXEC is always
 * added; O_NOFOLLOW refuses a symlink as the last component (ELOOP).
 * Returns the fd, or -1 with errno set (ELOOP for a symlink loop; no kerr:
 * callers phrase the message, since only they know the role of the path). */
int open_beneath(int root_fd, const char *path, int flags);

/* Create the missing components of `path` inside root_fd, following
 * symlinks as open_beneath does (a dangling link's target is what gets
 * created): directories, and, when last_is_file, a regular file as the
 * last component.  Creating happens only on filesystems in `allowed`, or,
 * with allowed NULL or empty, on root_fd's own; elsewhere EXDEV, so that
 * a symlink leading into a bind of a host directory can't make krill
 * write to the host.  Returns an O_PATH fd of the final component, or -1
 * with errno set. */
int mkpath_beneath(int root_fd, const char *path, bool last_is_file, mode_t mode,
                   const struct mount_set *allowed);

/* Where `path` would be created: on ENOENT, the deepest existing
 * directory as a path from root_fd with every symlink resolved (*prefix,
 * "" for the root itself), and the missing rest (*rest, never starting
 * with '/').  Returns 0 when path is missing that way, 1 when it exists
 * (nothing is set), -1 with errno set on any other failure. */
int path_missing(int root_fd, const char *path, char **prefix, char **rest);

/* Is fd on a mount in `allowed` (root_fd's mount when allowed is NULL or
 * empty)?  True when the kernel can't say (no STATX_MNT_ID, < 5.8). */
bool mount_allowed(int root_fd, int fd, const struct mount_set *allowed);

/* The mount an fd is on (statx STATX_MNT_ID), and whether it is that
 * mount's root; -1 (ENOSYS) on kernels before 5.8. */
int mount_of(int fd, uint64_t *id, bool *is_root);

/* Read a small metadata file of the image (/.krill/cmd, ...): opened
 * inside root_fd with O_NOFOLLOW|O_NONBLOCK, so that neither a symlink nor
 * a FIFO or device can redirect or stall krill; only a regular file of at
 * most max bytes is read (NUL-terminated).  Returns 0, 1 when it is
 * missing, -1 with e set ("/PATH in the image: not a regular file"). */
int path_read_meta(int root_fd, const char *path, size_t max, char **buf, size_t *len,
                   struct kerr *e);

#endif
