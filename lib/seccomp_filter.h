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

/* ---- compile early, load late ------------------------------------------
 * Compiling Docker's default profile costs ~25 ms (libseccomp's rule
 * database and BPF generation for three arches); loading the result is one
 * syscall.  So the front door prepares the BPF before any setup (parse
 * errors exit 125 with nothing to undo), and the container child loads it
 * just before execve.  A prepared program may come from a cache directory,
 * keyed by everything the result depends on (profile text, caps, kernel
 * release, native arch, libseccomp version); the full key is stored in the
 * entry and compared byte for byte, so a hash collision can't substitute a
 * filter.  Entries and the directory must belong to the caller and be
 * writable by nobody else, else they are ignored. */
struct seccomp_bpf {
	void *insns; /* struct sock_filter[len] */
	unsigned short len;
	unsigned flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
};

/* cache_dir NULL: no cache.  Parse/compile errors as seccomp_profile_parse
 * and seccomp_profile_build give them. */
int seccomp_prepare_profile(const char *buf, size_t len, const char *filename, uint64_t caps,
			    const char *cache_dir, struct seccomp_bpf *out, struct kerr *e);
int seccomp_prepare_fakeroot(const char *cache_dir, struct seccomp_bpf *out, struct kerr *e);

/* The caller's cache directory, created 0700 if missing: /run/krill/seccomp
 * for root, $XDG_RUNTIME_DIR/krill/seccomp otherwise; NULL if none is
 * usable (then run uncached). */
const char *seccomp_cache_dir(void);

/* Export a built filter (released) as BPF. */
int seccomp_bpf_from_ctx(scmp_filter_ctx ctx, unsigned flags, struct seccomp_bpf *out,
			 struct kerr *e);

/* Refuse (125-style error naming filename) a filter under which the steps
 * after loading it can't run: execve, and write and exit_group to report
 * and end when execve fails (see seccomp_sim.h).  seccomp_prepare_profile
 * calls it; a profile must be loaded after every other filter. */
int seccomp_bpf_check_exec(const struct seccomp_bpf *b, const char *filename, struct kerr *e);

/* PR_SET_NO_NEW_PRIVS, then seccomp(SECCOMP_SET_MODE_FILTER).  Async-signal
 * safe apart from the error text, so it may run in a vfork/clone child. */
int seccomp_bpf_load(const struct seccomp_bpf *b, struct kerr *e);
/* The same without setting no_new_privs first (OCI's noNewPrivileges:
 * false): the caller needs CAP_SYS_ADMIN in its user namespace. */
int seccomp_bpf_load_privileged(const struct seccomp_bpf *b, struct kerr *e);
void seccomp_bpf_free(struct seccomp_bpf *b);

#endif
