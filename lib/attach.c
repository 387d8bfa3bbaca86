/* attach.c: see attach.h.
 *
 * Every process that enters a container gets the confinement of its first
 * process (issue 9): the same user and group, capability sets, seccomp
 * filters, cgroup (with a cgroup namespace rooted there) and no_new_privs,
 * applied by the one exec tail, launch_exec.  A named container's record
 * holds what krill applied.  A container given by pid is looked up among
 * the records by its mount namespace; failing that, the confinement is
 * read back from /proc/PID (IDs and capabilities as root, the cgroup when
 * the process has a cgroup namespace of its own), and a seccomp filter,
 * which can't be read back unprivileged, makes krill refuse rather than
 * run the command without it. */
#include "attach.h"
#include "cgroup.h"
#include "launch.h"
#include "log.h"
#include "nsjoin.h"
#include "record.h"
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Where the command goes, and under what. */
struct target {
	pid_t pid;           /* a process of the container: its cwd and environment */
	struct ns_set set;
	int root;            /* a pid target's root directory, or -1 */
	uid_t uid;           /* the IDs security_apply switches to (privileged) */
	gid_t gid;
	struct security sec; /* owned */
	char *cgroup;        /* to enter, with a cgroup namespace; owned, or NULL */
};

static void target_free(struct target *t)
{
	ns_set_close(&t->set);
	if (t->root >= 0)
		close(t->root);
	security_free(&t->sec);
	free(t->cgroup);
}

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

/* The value after "KEY:" in /proc/PID/status, or NULL. */
static const char *status_field(const char *status, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = status; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == ':')
			return p + n + 1;
	return NULL;
}

static bool same_ns(pid_t pid, const char *kind)
{
	char theirs[64], ours[64];
	snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", pid, kind);
	snprintf(ours, sizeof ours, "/proc/self/ns/%s", kind);
	struct stat a, b;
	return stat(theirs, &a) == 0 && stat(ours, &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

/* Does the process whose status this is run under a seccomp filter that
 * we don't?  Filters are inherited, so a host that puts every process
 * under one (a CI container) shows it in both: compare the counts
 * (Seccomp_filters, Linux 5.9), else the modes. */
static bool has_own_filter(const char *status)
{
	_cleanup_free_ char *ours = NULL;
	if (file_read_all(AT_FDCWD, "/proc/self/status", 65536, &ours, NULL, NULL) < 0)
		return true;
	const char *tn = status_field(status, "Seccomp_filters");
	const char *on = status_field(ours, "Seccomp_filters");
	if (tn && on)
		return strtol(tn, NULL, 10) > strtol(on, NULL, 10);
	/* Without counts, any filter may be its own. */
	const char *tm = status_field(status, "Seccomp");
	return tm && strtol(tm, NULL, 10) != 0;
}

/* The confinement of a process no record describes, read back from /proc. */
static int confinement_of_pid(struct target *t, struct kerr *e)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", t->pid);
	_cleanup_free_ char *st = NULL;
	if (file_read_all(AT_FDCWD, path, 65536, &st, NULL, NULL) < 0)
		return kerr_set(e, errno, "can't read %s", path);
	if (has_own_filter(st)) {
		kerr_set(e, 0, "process %d runs under a seccomp filter, which krill can copy only "
		               "from a named container", t->pid);
		return kerr_hint(e, "start the container with --name=NAME and use `krill exec NAME`");
	}
	/* Our user namespace (root, no --userns): the IDs and capabilities
	 * are ours to set, as krill run set them.  In a user namespace of its
	 * own the kernel maps our IDs to the container's. */
	if (geteuid() == 0 && t->set.fd[NS_USER] < 0) {
		unsigned long long caps[5];
		static const char *const keys[5] = {"CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"};
		for (int i = 0; i < 5; i++) {
			const char *v = status_field(st, keys[i]);
			if (!v)
				return kerr_set(e, 0, "%s: no %s line", path, keys[i]);
			caps[i] = strtoull(v, NULL, 16);
		}
		const char *u = status_field(st, "Uid"), *g = status_field(st, "Gid");
		if (!u || !g)
			return kerr_set(e, 0, "%s: no Uid or Gid line", path);
		t->uid = (uid_t)strtoul(u, NULL, 10);
		t->gid = (gid_t)strtoul(g, NULL, 10);
		t->sec.privileged = true;
		t->sec.caps = (struct capsets){caps[0], caps[1], caps[2], caps[3], caps[4]};
	}
	/* A krill container with a cgroup has its own cgroup namespace. */
	if (!same_ns(t->pid, "cgroup"))
		t->cgroup = cgroup_of_pid(t->pid);
	return 0;
}

static const int ns_flag[NS_COUNT] = {
	[NS_USER_OUTER] = CLONE_NEWUSER, [NS_NET] = CLONE_NEWNET, [NS_UTS] = CLONE_NEWUTS,
	[NS_IPC] = CLONE_NEWIPC, [NS_PID] = CLONE_NEWPID, [NS_USER] = CLONE_NEWUSER,
	[NS_MNT] = CLONE_NEWNS,
};

/* A named container: its record's namespaces (held by its supervisor,
 * which must be ours) and confinement. */
static int target_of_record(const char *name, struct target *t, struct kerr *e)
{
	struct record r;
	if (record_read(name, &r, e) < 0)
		return -1;
	int rc = -1;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", r.pid);
	struct stat st;
	if (stat(path, &st) < 0 || st.st_uid != getuid()) {
		kerr_set(e, 0, "%s: the record names a supervisor (pid %d) that isn't yours", name,
		         r.pid);
		goto out;
	}
	if (r.fds[NS_MNT] < 0) {
		kerr_set(e, 0, "%s: the record has no mount namespace: refusing to run on the host",
		         name);
		goto out;
	}
	for (int i = 0; i < NS_COUNT; i++) {
		if (r.fds[i] < 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/fd/%d", r.pid, r.fds[i]);
		t->set.fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (t->set.fd[i] < 0) {
			kerr_set(e, errno, "%s: can't open the container's namespaces", name);
			goto out;
		}
		/* The record gives fd numbers: make sure each is the namespace
		 * it claims to be. */
		if (ioctl(t->set.fd[i], NS_GET_NSTYPE) != ns_flag[i]) {
			kerr_set(e, 0, "%s: the record's fd %d is not a namespace of the right type",
			         name, r.fds[i]);
			goto out;
		}
	}
	struct stat ours;
	if (fstat(t->set.fd[NS_MNT], &st) == 0 && stat("/proc/self/ns/mnt", &ours) == 0 &&
	    st.st_ino == ours.st_ino && st.st_dev == ours.st_dev) {
		kerr_set(e, 0, "%s: the record names our own mount namespace: refusing to run on "
		               "the host", name);
		goto out;
	}
	t->pid = r.main_pid;
	t->uid = r.uid;
	t->gid = r.gid;
	t->sec = r.sec;
	r.sec.nfilters = 0; /* moved */
	t->cgroup = r.cgroup;
	r.cgroup = NULL;
	klog(KLOG_VERBOSE, "joining container %s (supervisor pid %d)", name, r.pid);
	rc = 0;
out:
	record_free(&r);
	return rc;
}

/* Any process in a container. */
static int target_of_pid(pid_t pid, struct target *t, struct kerr *e)
{
	t->pid = pid;
	if (ns_set_of_pid(pid, &t->set, e) < 0)
		return -1;
	if ((t->root = open_from(pid, "root", e)) < 0)
		return -1;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/mnt", pid);
	struct stat st;
	if (stat(path, &st) < 0)
		return kerr_set(e, errno, "can't inspect process %d", pid);
	struct record r;
	int found = record_find_mnt(st.st_dev, st.st_ino, &r, NULL);
	if (found == 0) {
		klog(KLOG_VERBOSE, "pid %d is in container %s", pid, r.name);
		t->uid = r.uid;
		t->gid = r.gid;
		t->sec = r.sec;
		r.sec.nfilters = 0;
		t->cgroup = r.cgroup;
		r.cgroup = NULL;
		record_free(&r);
	} else if (confinement_of_pid(t, e) < 0) {
		return -1;
	}
	klog(KLOG_VERBOSE, "joining the namespaces of pid %d", pid);
	return 0;
}

int attach_run(struct container *c, const char *target, bool target_env, struct kerr *e)
{
	struct target t = {.root = -1};
	ns_set_init(&t.set);
	struct strv base = {0};
	int cwd = -1, status = EXIT_KRILL, cg_fds[CGROUP_MAX_HIER];
	int ncg = 0;
	struct cgroup *cg = NULL;
	unsigned long n;
	if (parse_ulong(target, 4194304, &n) == 0) {
		if (target_of_pid((pid_t)n, &t, e) < 0)
			goto out;
	} else if (target_of_record(target, &t, e) < 0) {
		goto out;
	}
	/* The container's cgroup, opened while the host's paths resolve. */
	if (t.cgroup) {
		if (cgroup_open_existing(t.cgroup, &cg, e) < 0 ||
		    (ncg = cgroup_procs_open(cg, cg_fds, CGROUP_MAX_HIER, e)) < 0) {
			ncg = 0;
			goto out;
		}
		klog(KLOG_VERBOSE, "entering cgroup %s", t.cgroup);
	}
	/* IDs for security_apply, as the container's first process had them. */
	c->uid = t.uid;
	c->gid = t.gid;
	/* The cwd and the environment of the target process, when it lives. */
	if (!c->cwd)
		cwd = open_from(t.pid, "cwd", NULL);
	if (target_env)
		read_environ(t.pid, &base);
	else
		for (char **p = environ; *p; p++)
			strv_push(&base, *p);

	if (ns_set_enter(&t.set, e) < 0)
		goto out;
	/* setns(mnt) put us at the namespace's root; a target given by pid may
	 * have another root (its own chroot): take that one. */
	if (t.root >= 0 && (fchdir(t.root) < 0 || chroot(".") < 0)) {
		kerr_set(e, errno, "can't enter the root of pid %d", t.pid);
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
		/* Only the command is in the container's cgroup (as its first
		 * process is, and not its supervisor), and it sees that cgroup
		 * as its root. */
		if (ncg > 0) {
			int rc = cgroup_enter_fds(cg_fds, ncg, e);
			ncg = 0;
			if (rc < 0)
				goto fail;
			if (unshare(CLONE_NEWCGROUP) < 0) {
				kerr_set(e, errno, "can't create a cgroup namespace");
				goto fail;
			}
		}
		if (!c->cwd) {
			char buf[4096];
			c->cwd = xstrdup(cwd >= 0 && getcwd(buf, sizeof buf) ? buf : "/");
		}
		if (launch_prepare(c, base.v ? base.v : (char *[]){NULL}, &env, e) == 0)
			code = launch_exec(c, c->argv, env.v, &t.sec, e);
	fail:
		kerr_print(e);
		_exit(code);
	}
	status = supervise_wait(child, false, NULL, NULL);
out:
	for (int i = 0; i < ncg; i++)
		close(cg_fds[i]);
	if (cg)
		cgroup_free(cg);
	target_free(&t);
	strv_free(&base);
	if (cwd >= 0)
		close(cwd);
	return status;
}
