/* userns.h: user namespaces and their single-ID maps. */
#ifndef KRILL_USERNS_H
#define KRILL_USERNS_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* unshare(CLONE_NEWUSER | extra_flags) and map inside_uid/gid to the
 * caller's current effective IDs (one line each; setgroups denied, which
 * the kernel requires before an unprivileged gid_map). */
int userns_unshare(uid_t inside_uid, gid_t inside_gid, int extra_flags, struct kerr *e);

/* One line of a uid_map or gid_map. */
struct userns_map {
	uint32_t inside, outside, count;
};

/* Write the maps of PID's user namespace from another process (the parent
 * of a child that has just unshared it): multi-line maps, which only a
 * writer in the parent namespace may set.  deny_setgroups writes "deny" to
 * /proc/PID/setgroups first, which the kernel requires when the writer has
 * no CAP_SETGID over the parent namespace (a rootless single-ID map). */
int userns_write_maps(pid_t pid, const struct userns_map *uids, size_t nuids,
                      const struct userns_map *gids, size_t ngids, bool deny_setgroups,
                      struct kerr *e);

/* True when the caller is root of the initial user namespace: euid 0 and
 * the full identity map (as runc's RunningInUserNS reads uid_map).  Root of
 * a child namespace (rootless podman) is not: no mknod, no host cgroups,
 * no /run. */
bool userns_real_root(void);

/* Explain why unprivileged user namespaces are off on this host: fills
 * why/hint (either may be "" when nothing specific is found). */
void userns_diagnose(char *why, size_t whylen, char *hint, size_t hintlen);

#endif
