/* userns.c: entering user namespaces (see userns.h). */
#include "userns.h"
#include "util.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long read_long(const char *path)
{
	_cleanup_free_ char *buf = NULL;
	if (file_read_all(AT_FDCWD, path, 64, &buf, NULL, NULL) < 0)
		return -1;
	return strtol(buf, NULL, 10);
}

void userns_diagnose(char *why, size_t whylen, char *hint, size_t hintlen)
{
	*why = *hint = '\0';
	if (read_long("/proc/sys/kernel/unprivileged_userns_clone") == 0) {
		snprintf(why, whylen, "kernel.unprivileged_userns_clone is 0");
		snprintf(hint, hintlen, "ask the admin to run: sysctl -w kernel.unprivileged_userns_clone=1");
	} else if (read_long("/proc/sys/user/max_user_namespaces") == 0) {
		snprintf(why, whylen, "user.max_user_namespaces is 0");
		snprintf(hint, hintlen, "ask the admin to run: sysctl -w user.max_user_namespaces=15000");
	} else if (read_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1) {
		snprintf(why, whylen, "AppArmor restricts unprivileged user namespaces");
		snprintf(hint, hintlen,
		         "ask the admin for an AppArmor profile allowing 'userns' for krill, or "
		         "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0");
	}
}

static int write_map(const char *file, unsigned inside, unsigned outside, struct kerr *e)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%u %u 1\n", inside, outside);
	return file_write_str(file, buf, e);
}

int userns_unshare(uid_t inside_uid, gid_t inside_gid, int extra_flags, struct kerr *e)
{
	uid_t euid = geteuid();
	gid_t egid = getegid();
	if (unshare(CLONE_NEWUSER | extra_flags) < 0) {
		int err = errno;
		char why[256], hint[512];
		userns_diagnose(why, sizeof why, hint, sizeof hint);
		if (why[0])
			kerr_set(e, 0, "can't create a user namespace: %s: %s", strerror(err), why);
		else
			kerr_set(e, err, "can't create a user namespace");
		if (hint[0])
			kerr_hint(e, "%s", hint);
		return -1;
	}
	klog(KLOG_DEBUG, "user namespace: uid %u -> %u, gid %u -> %u", euid, inside_uid, egid,
	     inside_gid);
	if (write_map("/proc/self/uid_map", inside_uid, euid, e) < 0)
		return -1;
	/* An unprivileged gid_map requires setgroups to be denied first; it
	 * stays denied, so the container can't drop supplementary groups to
	 * dodge a negative group permission on the host. */
	if (file_write_str("/proc/self/setgroups", "deny", e) < 0 && e && e->errnum != ENOENT)
		return -1;
	return write_map("/proc/self/gid_map", inside_gid, egid, e);
}

static int write_maps(pid_t pid, const char *file, const struct userns_map *m, size_t n,
                      struct kerr *e)
{
	/* One write(2): the kernel takes a map only whole, and only once. */
	size_t cap = n * 40 + 1, used = 0;
	_cleanup_free_ char *buf = xmalloc(cap);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, cap - used, "%u %u %u\n", m[i].inside,
		                         m[i].outside, m[i].count);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	klog(KLOG_DEBUG, "%s: %s", path, buf);
	if (file_write_str(path, buf, e) < 0) {
		kerr_set(e, e ? e->errnum : 0, "can't write %s of process %d", file, (int)pid);
		return kerr_hint(e, "without root, a user namespace maps only your own IDs, "
		                    "one line each");
	}
	return 0;
}

int userns_write_maps(pid_t pid, const struct userns_map *uids, size_t nuids,
                      const struct userns_map *gids, size_t ngids, bool deny_setgroups,
                      struct kerr *e)
{
	if (write_maps(pid, "uid_map", uids, nuids, e) < 0)
		return -1;
	if (deny_setgroups) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
		if (file_write_str(path, "deny", e) < 0)
			return -1;
	}
	return write_maps(pid, "gid_map", gids, ngids, e);
}

bool userns_real_root(void)
{
	static int cached = -1;
	if (geteuid() != 0)
		return false;
	if (cached < 0) {
		_cleanup_free_ char *buf = NULL;
		unsigned long a = 0, b = 0, n = 0;
		cached = file_read_all(AT_FDCWD, "/proc/self/uid_map", 4096, &buf, NULL, NULL) == 0 &&
		         sscanf(buf, "%lu %lu %lu", &a, &b, &n) == 3 && a == 0 && b == 0 &&
		         n == 4294967295UL;
	}
	return cached == 1;
}
