/* nsjoin.c: see nsjoin.h. */
#include "nsjoin.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *file; /* in /proc/PID/ns */
	int flag;
} kinds[NS_COUNT] = {
	[NS_USER_OUTER] = {"user", CLONE_NEWUSER},
	[NS_NET] = {"net", CLONE_NEWNET},
	[NS_UTS] = {"uts", CLONE_NEWUTS},
	[NS_IPC] = {"ipc", CLONE_NEWIPC},
	[NS_PID] = {"pid_for_children", CLONE_NEWPID},
	[NS_USER] = {"user", CLONE_NEWUSER},
	[NS_MNT] = {"mnt", CLONE_NEWNS},
};

void ns_set_init(struct ns_set *s)
{
	for (int i = 0; i < NS_COUNT; i++)
		s->fd[i] = -1;
}

void ns_set_close(struct ns_set *s)
{
	for (int i = 0; i < NS_COUNT; i++)
		if (s->fd[i] >= 0)
			close(s->fd[i]);
	ns_set_init(s);
}

int ns_set_enter(const struct ns_set *s, struct kerr *e)
{
	for (int i = 0; i < NS_COUNT; i++) {
		if (s->fd[i] < 0)
			continue;
		/* The outer and inner user namespaces may be one and the same
		 * (a process that only has one level). */
		if (setns(s->fd[i], kinds[i].flag) < 0) {
			if (errno == EINVAL && kinds[i].flag == CLONE_NEWUSER)
				continue; /* already in it */
			return kerr_set(e, errno, "can't join the container's %s namespace",
			                kinds[i].file);
		}
		klog(KLOG_DEBUG, "joined %s namespace", kinds[i].file);
	}
	return 0;
}

static int ns_ino(const char *path, ino_t *ino)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	*ino = st.st_ino;
	return 0;
}

int ns_set_of_pid(pid_t pid, struct ns_set *s, struct kerr *e)
{
	ns_set_init(s);
	bool any = false;
	for (int i = 0; i < NS_COUNT; i++) {
		if (i == NS_USER_OUTER)
			continue; /* found through the inner one's parent below */
		char theirs[64], ours[64];
		snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", pid, kinds[i].file);
		snprintf(ours, sizeof ours, "/proc/self/ns/%s", kinds[i].file);
		ino_t a, b;
		if (ns_ino(theirs, &a) < 0) {
			int err = errno;
			ns_set_close(s);
			return kerr_set(e, err, "can't inspect process %d", pid);
		}
		if (ns_ino(ours, &b) < 0 || a == b)
			continue;
		s->fd[i] = open(theirs, O_RDONLY | O_CLOEXEC);
		if (s->fd[i] < 0) {
			int err = errno;
			ns_set_close(s);
			return kerr_set(e, err, "can't open %s", theirs);
		}
		any = true;
	}
	if (!any || s->fd[NS_MNT] < 0) {
		ns_set_close(s);
		return kerr_set(e, 0, "process %d is not in a krill container (it shares our "
		                      "mount namespace)", pid);
	}
	/* The namespaces other than user and mount are owned by the outer user
	 * namespace, the parent of the container's: enter that one first. */
	if (s->fd[NS_USER] >= 0 && (s->fd[NS_NET] >= 0 || s->fd[NS_UTS] >= 0 ||
	                            s->fd[NS_IPC] >= 0 || s->fd[NS_PID] >= 0)) {
		int parent = ioctl(s->fd[NS_USER], NS_GET_PARENT);
		if (parent >= 0)
			s->fd[NS_USER_OUTER] = parent;
	}
	return 0;
}

bool proc_alive(pid_t pid, unsigned long long start)
{
	char state = '?';
	/* A zombie has ended; only its parent hasn't noticed yet. */
	return pid > 0 && start && proc_starttime_state(pid, &state) == start && state != 'Z' &&
	       state != 'X';
}

unsigned long long proc_starttime(pid_t pid)
{
	return proc_starttime_state(pid, NULL);
}

unsigned long long proc_starttime_state(pid_t pid, char *state)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	_cleanup_free_ char *buf = NULL;
	if (file_read_all(AT_FDCWD, path, 4096, &buf, NULL, NULL) < 0)
		return 0;
	/* The command name may hold spaces and parentheses: skip to the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	if (state)
		*state = p[1] == ' ' ? p[2] : '?';
	unsigned long long start = 0;
	/* Field 22: the 20th space after the name's closing parenthesis. */
	for (int field = 3; field <= 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

const char *ns_type_name(int nstype)
{
	switch (nstype) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWNS: return "mount";
	case CLONE_NEWNET: return "network";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWTIME: return "time";
	default: return "unknown";
	}
}

int ns_join_path(const char *path, int nstype, const char *what, struct kerr *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kerr_set(e, errno, "%s: can't open %s", what, path);
	/* A wrong file would make setns fail with a bare EINVAL; say what
	 * the file is instead. */
	int type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0)
		return kerr_set(e, 0, "%s: %s is not a namespace", what, path);
	if (type != nstype)
		return kerr_set(e, 0, "%s: %s is a %s namespace, not a %s namespace", what, path,
		                ns_type_name(type), ns_type_name(nstype));
	if (setns(fd, nstype) < 0)
		return kerr_set(e, errno, "%s: can't join the %s namespace %s", what,
		                ns_type_name(nstype), path);
	klog(KLOG_DEBUG, "joined %s namespace %s", ns_type_name(nstype), path);
	return 0;
}
