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
