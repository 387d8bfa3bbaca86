/* path.h: resolving paths inside the image root without escaping it. */
#ifndef KRILL_PATH_H
#define KRILL_PATH_H

#include "err.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Open `path` (absolute or relative, taken relative to root_fd) beneath
 * root_fd.  Symlinks are followed only while they stay inside the root: an
 * absolute symlink or a `..` that would climb out fails with EXDEV, and
 * magic links (/proc/PID/fd/...) are never followed.  flags are open(2)
 * flags; O_CLOEXEC is always added.  Returns the fd, or -1 with errno set
 * (no kerr: callers phrase the message, since only they know the role of
 * the path). */
int open_beneath(int root_fd, const char *path, int flags);

/* Create the missing components of `path` beneath root_fd: directories,
 * and, when last_is_file, a regular file as the last component.  Existing
 * components are resolved with open_beneath's rules, on whatever
 * filesystem they lead to (OCI mode: the bundle's config decides, as with
 * runc).  Returns an O_PATH fd of the final component, or -1 with errno
 * set. */
int mkpath_beneath(int root_fd, const char *path, bool last_is_file, mode_t mode);

/* The same, creating only on the filesystems whose mount IDs are in mnts
 * (n > 0), or on root_fd's own (n == 0); elsewhere EXDEV.  A symlink in the
 * image that leads into a bind of a host directory thus can't make krill
 * write to the host. */
int mkpath_beneath_in(int root_fd, const char *path, bool last_is_file, mode_t mode,
                      const uint64_t *mnts, size_t n);

/* The mount an fd is on (statx STATX_MNT_ID), and whether it is that
 * mount's root; -1 (ENOSYS) on kernels before 5.8. */
int mount_of(int fd, uint64_t *id, bool *is_root);

#endif
