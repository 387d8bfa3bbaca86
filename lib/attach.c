/* attach.c: see attach.h. */
#include "attach.h"
#include "launch.h"
#include "log.h"
#include "nsjoin.h"
#include "record.h"
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* /proc/PID/environ as a vector. */
static void read_environ(pid_t pid, struct strv *out)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/environ", pid);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (file_read_all(AT_FDCWD, path, 1 << 22, &buf, &len, NULL) < 0)
		return;
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		if (buf[i])
			strv_push(out, buf + i);
}

static int open_from(pid_t pid, const char *what, struct kerr *e)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", pid, what);
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		kerr_set(e, errno, "can't open %s", path);
	return fd;
}

int attach_run(struct container *c, const char *target, bool target_env, struct kerr *e)
{
	struct ns_set set;
	ns_set_init(&set);
	struct strv base = {0};
	int root = -1, cwd = -1, status = EXIT_KRILL;
	unsigned long n;
	pid_t pid;
	if (parse_ulong(target, 4194304, &n) == 0) {
		pid = (pid_t)n;
		if (ns_set_of_pid(pid, &set, e) < 0)
			goto out;
		if ((root = open_from(pid, "root", e)) < 0)
			goto out;
		klog(KLOG_VERBOSE, "joining the namespaces of pid %d", pid);
	} else {
		struct record r;
		if (record_read(target, &r, e) < 0)
			goto out;
		pid = r.main_pid;
		for (int i = 0; i < NS_COUNT; i++) {
			if (r.fds[i] < 0)
				continue;
			char path[64];
			snprintf(path, sizeof path, "/proc/%d/fd/%d", r.pid, r.fds[i]);
			set.fd[i] = open(path, O_RDONLY | O_CLOEXEC);
			if (set.fd[i] < 0) {
				kerr_set(e, errno, "%s: can't open the container's namespaces", target);
				record_free(&r);
				goto out;
			}
		}
		klog(KLOG_VERBOSE, "joining container %s (supervisor pid %d)", target, r.pid);
		record_free(&r);
	}
	/* The cwd and the environment of the target process, when it lives. */
	if (!c->cwd)
		cwd = open_from(pid, "cwd", NULL);
	if (target_env)
		read_environ(pid, &base);
	else
		for (char **p = environ; *p; p++)
			strv_push(&base, *p);

	if (ns_set_enter(&set, e) < 0)
		goto out;
	/* setns(mnt) put us at the namespace's root; a target given by pid may
	 * have another root (its own chroot): take that one. */
	if (root >= 0 && (fchdir(root) < 0 || chroot(".") < 0)) {
		kerr_set(e, errno, "can't enter the root of pid %d", pid);
		goto out;
	}
	if (cwd >= 0 && fchdir(cwd) < 0)
		cwd = -1;
	sigset_t old;
	if (supervise_prepare(&old) < 0) {
		kerr_set(e, errno, "can't prepare the supervisor");
		goto out;
	}
	pid_t child = fork();
	if (child < 0) {
		kerr_set(e, errno, "can't fork");
		goto out;
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		struct strv env = {0};
		int code = EXIT_KRILL;
		if (!c->cwd) {
			char buf[4096];
			c->cwd = xstrdup(cwd >= 0 && getcwd(buf, sizeof buf) ? buf : "/");
		}
		if (launch_prepare(c, base.v ? base.v : (char *[]){NULL}, &env, e) == 0)
			code = launch_exec(c, c->argv, env.v, NULL, e);
		kerr_print(e);
		_exit(code);
	}
	status = supervise_wait(child, false, NULL, NULL);
out:
	ns_set_close(&set);
	strv_free(&base);
	if (root >= 0)
		close(root);
	if (cwd >= 0)
		close(cwd);
	return status;
}
