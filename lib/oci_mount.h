/* oci_mount.h: the OCI mount options that are more than a mount(2) call:
 * tmpcopyup (a tmpfs that starts as a copy of the directory it covers),
 * crun's recursive attributes (rro, rnosuid, ...), and the container's view
 * of its own cgroups on a v1 or hybrid host. */
#ifndef KRILL_OCI_MOUNT_H
#define KRILL_OCI_MOUNT_H

#include "cgroup.h"
#include "err.h"
#include "path.h"

#include <stdint.h>

/* Copy the tree under directory fd from into directory fd to: regular
 * files, directories, symlinks (as links, never followed) and, as real
 * root, device nodes and FIFOs; with owners and modes.  The top of to gets
 * from's owner and mode.  what names the mount in messages. */
int oci_copy_up(int from, int to, const char *what, struct kerr *e);

/* mount_setattr(2) of set/clr (MOUNT_ATTR_*) on the mount at dst beneath
 * root_fd and every mount under it. */
int oci_mount_rattr(int root_fd, const char *dst, uint64_t set, uint64_t clr, const char *what,
                    struct kerr *e);

/* dst beneath root_fd becomes a tmpfs with one bind per hierarchy of cg,
 * named as the host names them (memory, cpu,cpuacct, unified, ...), each
 * showing the container's own cgroup as its root, as runc does: tools that
 * read memory.limit_in_bytes or cpu.cfs_quota_us find the container's
 * limits, and no other cgroup is visible.  flags: the mount's MS_RDONLY,
 * MS_NOSUID, MS_NODEV, MS_NOEXEC. */
int oci_cgroup_view(int root_fd, const char *dst, const struct cgroup *cg, unsigned long flags,
                    const char *what, struct mount_set *own, struct kerr *e);

#endif
