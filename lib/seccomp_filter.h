/* seccomp_filter.h: building seccomp filters with libseccomp and loading them:
 * krill's fake-root filter (--seccomp) and JSON profiles
 * (--seccomp-profile, OCI linux.seccomp; parsed by seccomp_profile.h).
 *
 * Loading is the last step before execve: after the capability and uid/gid
 * switch (the fake-root filter turns capset/setuid/setgroups into no-ops,
 * and a profile may forbid what setup still needs).  libseccomp sets
 * PR_SET_NO_NEW_PRIVS itself when loading, so an unprivileged caller needs
 * nothing else; krill sets it anyway (SPEC §5). */
#ifndef KRILL_SECCOMP_FILTER_H
#define KRILL_SECCOMP_FILTER_H

#include "seccomp_profile.h"

#include <seccomp.h>
#include <stdint.h>

/* The fake-root filter: the chown family, set*id, setgroups, capset and
 * kexec_load, and mknod/mknodat of a char or block device, return 0 without
 * doing anything; everything else is allowed.  It covers the native
 * architecture and its compat ones (x86_64: x86 and x32; aarch64: arm). */
int seccomp_fakeroot_build(scmp_filter_ctx *out, struct kerr *e);
int seccomp_fakeroot_load(struct kerr *e);

/* Build p for this host.  caps is the container's capability set (Docker
 * judges includes/excludes.caps against the bounding set: pass
 * capsets.bounding; in a rootless run, where krill applies no capability
 * sets, pass caps_default as Docker rootless does).  Rules whose
 * includes/excludes rule them out here (caps, native arch, minKernel against
 * uname) are left out, as are rules whose action is the default action.
 * Errors name the file, the rule's line and the syscall. */
int seccomp_profile_build(const struct seccomp_profile *p, uint64_t caps, scmp_filter_ctx *out,
                          struct kerr *e);
int seccomp_profile_load(const struct seccomp_profile *p, uint64_t caps, struct kerr *e);

/* Load a built filter (and release it). */
int seccomp_ctx_load(scmp_filter_ctx ctx, struct kerr *e);

#endif
