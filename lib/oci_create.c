/* oci_create.c: create, start and delete (OCI runtime spec 1.x lifecycle).
 *
 * The processes, like runc's (so that a subreaper such as conmon is the
 * parent of the container's process and gets its exit status):
 *
 *   create (P)       parses config.json, makes the state directory and the
 *                    cgroup, prepares the seccomp BPF, then forks:
 *   C1               enters the cgroup, joins namespaces given by path,
 *                    unshares the user namespace (P writes its maps), then
 *                    the others; with a PID namespace it forks again and
 *                    exits, so that
 *   init (C)         is PID 1 of the container.  It builds the tree (the
 *                    same tree_mount_at/tree_pivot `krill run` uses), lets
 *                    P run prestart/createRuntime hooks, runs
 *                    createContainer hooks, pivots, and says "ready".  P
 *                    records "created" and exits.  The init then waits on
 *                    start.sock in the state directory.
 *   start            connects to start.sock; the init runs startContainer
 *                    hooks, switches to the process's user, caps and
 *                    seccomp, and execs.  start reads until EOF: the socket
 *                    is close-on-exec, so EOF means exec succeeded, and
 *                    anything else is the init's error message.
 *
 * Every failure during create kills the init (its mounts go with its mount
 * namespace), removes the cgroup and the state directory. */
#include "oci_create.h"
#include "caps.h"
#include "cgroup.h"
#include "launch.h"
#include "log.h"
#include "ns.h"
#include "nsjoin.h"
#include "oci_console.h"
#include "oci_hooks.h"
#include "oci_mount.h"
#include "path.h"
#include "seccomp_filter.h"
#include "supervise.h"
#include "tree.h"
#include "userns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void unknown_field(const char *path, void *arg)
{
	klog(KLOG_DEBUG, "%s: %s: unknown field, ignored", (const char *)arg, path);
}

int oci_load_config(int dirfd, const char *path, const char *display, const char *bundle,
                    struct oci_spec *s, char **text, size_t *len, struct kerr *e)
{
	char *buf = NULL;
	size_t n;
	if (file_read_all(dirfd, path, 16 << 20, &buf, &n, e) < 0) {
		kerr_set(e, e->errnum, "can't read %s", display);
		return -1;
	}
	int r = oci_config_parse(buf, n, display, bundle, unknown_field, (void *)display, s, e);
	if (r == 0 && text) {
		*text = buf;
		*len = n;
	} else {
		free(buf);
	}
	return r;
}

/* ---- P <-> init messages ------------------------------------------------ */

enum { MSG_MAP = 1, MSG_MAP_DONE, MSG_PID, MSG_HOOKS, MSG_HOOKS_DONE, MSG_READY, MSG_ERROR };

struct msg {
	int type;
	int value;
	char text[1536];
};

static int msg_send(int sock, int type, int value, const char *text)
{
	struct msg m = {.type = type, .value = value};
	if (text)
		snprintf(m.text, sizeof m.text, "%s", text);
	return send(sock, &m, sizeof m, MSG_NOSIGNAL) == sizeof m ? 0 : -1;
}

static int msg_recv(int sock, struct msg *m)
{
	ssize_t n;
	do
		n = recv(sock, m, sizeof *m, 0);
	while (n < 0 && errno == EINTR);
	return n == sizeof *m ? 0 : -1;
}

/* ---- the init's side ---------------------------------------------------- */

struct init {
	const struct oci_spec *s;
	const char *id, *bundle;
	int sync;          /* to P */
	int listen;        /* start.sock */
	int console;       /* the console socket, or -1 */
	struct cgroup *cg;
	struct seccomp_bpf *bpf;
	bool in_userns;    /* a user namespace of the container's own */
	bool setgroups_denied;
	pid_t host_pid;    /* as P sees it, for the hooks' state */
	char *exe;         /* process.args[0] resolved in the container */
	unsigned preserve_fds;
	/* The filesystems mount points and device nodes may be created on:
	 * the rootfs's and those the runtime mounted (tmpfs, devpts, ...),
	 * never a bind from the host (a symlink in the rootfs could lead
	 * into a host volume otherwise). */
	struct mount_set own;
};

static _Noreturn void init_die(struct init *in, struct kerr *e, int code)
{
	char buf[sizeof e->msg + 128];
	kerr_str(e, buf, sizeof buf);
	if (e->hint[0]) {
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof buf - n, "\n%s: hint: %s", klog_prog, e->hint);
	}
	msg_send(in->sync, MSG_ERROR, code, buf);
	_exit(code);
}

/* tmpfs with tmpcopyup: the directory it covers, opened first. */
static int mount_tmpfs_copyup(struct init *in, int root_fd, const struct oci_mount *m,
                              struct tree_mount *tm, struct kerr *e)
{
	_cleanup_close_ int from = open_beneath(root_fd, m->dst, O_RDONLY | O_DIRECTORY);
	if (from < 0 && errno != ENOENT)
		return kerr_set(e, errno, "%s: tmpcopyup: can't open %s", tm->what, m->dst);
	/* Read-write until filled; the options' flags come after. */
	unsigned long flags = tm->flags;
	tm->flags &= ~MS_RDONLY;
	if (tree_mount_at(root_fd, tm, &in->own, e) < 0)
		return -1;
	if (from < 0)
		return 0; /* nothing there to copy */
	_cleanup_close_ int to = open_beneath(root_fd, m->dst, O_RDONLY | O_DIRECTORY);
	if (to < 0)
		return kerr_set(e, errno, "%s: can't reopen %s", tm->what, m->dst);
	if (oci_copy_up(from, to, tm->what, e) < 0)
		return -1;
	if (flags & MS_RDONLY) {
		char target[64];
		snprintf(target, sizeof target, "/proc/self/fd/%d", to);
		if (mount(NULL, target, NULL, MS_REMOUNT | flags, m->data) < 0)
			return kerr_set(e, errno, "%s: can't make %s read-only", tm->what, m->dst);
	}
	return 0;
}

static int mount_fs(struct init *in, int root_fd, const struct oci_mount *m,
                    struct tree_mount *tmp, const char *what, struct kerr *e)
{
	struct tree_mount tm = *tmp;
	tm.type = m->type;
	if (m->tmpcopyup)
		return mount_tmpfs_copyup(in, root_fd, m, &tm, e);
	if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0) {
		/* A pure v2 host: the container's own cgroup2 mount (its
		 * cgroup namespace shows its cgroup as the root).  v1 and
		 * hybrid hosts: the host's hierarchies, bound read-only or as
		 * the options say. */
		struct statfs sf;
		if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
			tm.type = "cgroup2";
			tm.src = "cgroup2";
			if (tree_mount_at(root_fd, &tm, &in->own, e) == 0)
				return 0;
			if (e->errnum != EPERM)
				return -1;
		} else if (in->cg) {
			/* v1/hybrid: each hierarchy shows the container's own
			 * cgroup as its root, as runc's binds do. */
			return oci_cgroup_view(root_fd, m->dst, in->cg, m->flags, what, &in->own, e);
		}
		tm.type = NULL;
		tm.src = "/sys/fs/cgroup";
		tm.data = NULL;
		tm.flags |= MS_REC;
		return tree_mount_at(root_fd, &tm, &in->own, e);
	}
	if (tree_mount_at(root_fd, &tm, &in->own, e) == 0)
		return 0;
	/* Without a network (sysfs) or IPC (mqueue) namespace of its own, a
	 * user namespace may not mount these: bind the host's, as runc's
	 * rootless spec does for /sys. */
	const char *host = strcmp(m->type, "sysfs") == 0 ? "/sys"
	                   : strcmp(m->type, "mqueue") == 0 ? "/dev/mqueue" : NULL;
	if (!host || e->errnum != EPERM || !in->in_userns)
		return -1;
	klog(KLOG_DEBUG, "%s: can't mount %s here; binding the host's %s", what, m->type, host);
	tm.type = NULL;
	tm.src = host;
	tm.data = NULL;
	tm.flags |= MS_REC;
	return tree_mount_at(root_fd, &tm, &in->own, e);
}

/* A bind with copy-symlink whose source is a symlink: the link itself,
 * not what it points to (crun's option; podman uses it for /etc/localtime). */
static int copy_symlink(struct init *in, int root_fd, const struct oci_mount *m, const char *what,
                        struct kerr *e)
{
	char target[PATH_MAX];
	ssize_t n = readlink(m->src, target, sizeof target - 1);
	if (n < 0)
		return kerr_set(e, errno, "%s: can't read the link %s", what, m->src);
	target[n] = '\0';
	_cleanup_free_ char *dir = xstrdup(m->dst), *base = xstrdup(m->dst);
	char *dn = dirname(dir), *bn = basename(base);
	_cleanup_close_ int dfd = open_beneath(root_fd, dn, O_PATH | O_DIRECTORY);
	if (dfd < 0 && errno == ENOENT)
		dfd = mkpath_beneath(root_fd, dn, false, 0755, &in->own);
	if (dfd < 0)
		return kerr_set(e, errno, "%s: can't open %s", what, dn);
	if (unlinkat(dfd, bn, 0) < 0 && errno != ENOENT)
		return kerr_set(e, errno, "%s: can't replace %s", what, m->dst);
	if (symlinkat(target, dfd, bn) < 0)
		return kerr_set(e, errno, "%s: can't create the link %s", what, m->dst);
	return 0;
}

static int mount_one(struct init *in, int root_fd, size_t i, struct kerr *e)
{
	const struct oci_mount *m = &in->s->mounts[i];
	_cleanup_free_ char *what = xasprintf("mounts[%zu] (%s)", i, m->dst);
	struct tree_mount tm = {.src = m->src, .dst = m->dst, .flags = m->flags,
	                        .propagation = m->propagation, .data = m->data, .what = what};
	int r;
	if (m->bind) {
		struct stat st;
		if (m->copy_symlink && lstat(m->src, &st) == 0 && S_ISLNK(st.st_mode))
			return copy_symlink(in, root_fd, m, what, e);
		tm.flags |= m->rec ? MS_REC : 0;
		r = tree_mount_at(root_fd, &tm, &in->own, e);
	} else {
		r = mount_fs(in, root_fd, m, &tm, what, e);
	}
	if (r < 0)
		return -1;
	if ((m->rattr_set || m->rattr_clr) &&
	    oci_mount_rattr(root_fd, m->dst, m->rattr_set, m->rattr_clr, what, e) < 0)
		return -1;
	return 0;
}

static const struct {
	const char *path;
	unsigned major, minor;
} default_devices[] = {
	{"/dev/null", 1, 3},    {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
	{"/dev/random", 1, 8},  {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

/* As real root: mknod.  In a user namespace, where mknod of a device is
 * never allowed: bind the host's node of the same path. */
static int make_device(struct init *in, int root_fd, const struct oci_device *d, struct kerr *e)
{
	_cleanup_free_ char *what = xasprintf("linux.devices (%s)", d->path);
	if (in->in_userns || !userns_real_root()) {
		struct tree_mount tm = {.src = d->path, .dst = d->path, .what = what};
		return tree_mount_at(root_fd, &tm, &in->own, e);
	}
	_cleanup_free_ char *dir = xstrdup(d->path), *base = xstrdup(d->path);
	char *dn = dirname(dir), *bn = basename(base);
	_cleanup_close_ int dfd = mkpath_beneath(root_fd, dn, false, 0755, &in->own);
	if (dfd < 0 && errno == ELOOP)
		return kerr_set(e, 0, "%s: %s: symlink loop", what, dn);
	if ((dfd < 0 && errno == EXDEV) || (dfd >= 0 && !mount_allowed(root_fd, dfd, &in->own)))
		return kerr_set(e, 0, "%s: %s leads into a bind mount from the host (symlink); "
		                      "device nodes are made only on the rootfs and the runtime's "
		                      "own mounts", what, dn);
	if (dfd < 0)
		return kerr_set(e, errno, "%s: can't open %s", what, dn);
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	unlinkat(dfd, bn, 0);
	if (mknodat(dfd, bn, type | (d->mode & 07777), makedev(d->major, d->minor)) < 0)
		return kerr_set(e, errno, "%s: can't create the device node", what);
	if ((d->has_uid || d->has_gid) &&
	    fchownat(dfd, bn, d->has_uid ? d->uid : (uid_t)-1, d->has_gid ? d->gid : (gid_t)-1,
	             AT_SYMLINK_NOFOLLOW) < 0)
		return kerr_set(e, errno, "%s: can't change its owner", what);
	return 0;
}

static int make_devices(struct init *in, int root_fd, struct kerr *e)
{
	const struct oci_spec *s = in->s;
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
		bool named = false;
		for (size_t k = 0; k < s->ndevices; k++)
			named |= strcmp(s->devices[k].path, default_devices[i].path) == 0;
		if (named)
			continue;
		struct oci_device d = {.path = (char *)default_devices[i].path, .type = 'c',
		                       .major = default_devices[i].major,
		                       .minor = default_devices[i].minor, .mode = 0666};
		if (make_device(in, root_fd, &d, e) < 0)
			return -1;
	}
	for (size_t k = 0; k < s->ndevices; k++)
		if (make_device(in, root_fd, &s->devices[k], e) < 0)
			return -1;
	/* The links every runtime provides. */
	_cleanup_close_ int dev = open_beneath(root_fd, "dev", O_PATH | O_DIRECTORY);
	if (dev >= 0 && !mount_allowed(root_fd, dev, &in->own))
		return kerr_set(e, 0, "/dev leads into a bind mount from the host (symlink); its "
		                      "links (fd, stdin, ptmx...) are made only on the rootfs and "
		                      "the runtime's own mounts");
	static const char *const links[][2] = {
		{"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
		{"pts/ptmx", "ptmx"},
	};
	for (size_t i = 0; dev >= 0 && i < ARRAY_SIZE(links); i++) {
		if (strcmp(links[i][1], "ptmx") == 0)
			unlinkat(dev, "ptmx", 0); /* a tmpfs /dev has none; an image's may */
		if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
			return kerr_set(e, errno, "can't create /dev/%s", links[i][1]);
	}
	return 0;
}

static int write_sysctls(const struct oci_spec *s, struct kerr *e)
{
	for (size_t i = 0; i < s->nsysctl; i++) {
		_cleanup_free_ char *path = xasprintf("/proc/sys/%s", s->sysctl[i].key);
		for (char *p = path + 10; *p; p++)
			if (*p == '.')
				*p = '/';
		klog(KLOG_DEBUG, "sysctl %s = %s", s->sysctl[i].key, s->sysctl[i].value);
		if (file_write_str(path, s->sysctl[i].value, e) < 0)
			return kerr_set(e, e->errnum, "linux.sysctl.%s: can't set it", s->sysctl[i].key);
	}
	return 0;
}

/* The namespace a sysctl lives in (runc's list): net.*, the IPC limits,
 * the UTS names; 0 for the rest (the parser refused those). */
static int sysctl_namespace(const char *key)
{
	if (strncmp(key, "net.", 4) == 0)
		return CLONE_NEWNET;
	if (strncmp(key, "fs.mqueue.", 10) == 0 || strncmp(key, "kernel.msgm", 11) == 0 ||
	    strcmp(key, "kernel.sem") == 0 || strncmp(key, "kernel.shm", 10) == 0)
		return CLONE_NEWIPC;
	if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
		return CLONE_NEWUTS;
	return 0;
}

/* A namespace joined by path may be the host's own (runc: "sysctl ... is
 * not allowed in the host's network namespace"): its sysctls would change
 * the host.  Judged by the namespace's identity, not its path. */
static int check_sysctls_not_host(const struct oci_spec *s, struct kerr *e)
{
	for (size_t i = 0; i < s->nns; i++) {
		const struct oci_ns *ns = &s->ns[i];
		if (!ns->path || !(ns->flag & (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)))
			continue;
		const char *name = ns->flag == CLONE_NEWNET ? "net"
		                   : ns->flag == CLONE_NEWIPC ? "ipc" : "uts";
		_cleanup_free_ char *self = xasprintf("/proc/self/ns/%s", name);
		struct stat a, b;
		if (stat(ns->path, &a) < 0 || stat(self, &b) < 0 || a.st_dev != b.st_dev ||
		    a.st_ino != b.st_ino)
			continue;
		for (size_t k = 0; k < s->nsysctl; k++)
			if (sysctl_namespace(s->sysctl[k].key) == ns->flag)
				return kerr_set(e, 0, "linux.sysctl.%s: the container joins the host's "
				                      "%s namespace (%s): refused, it would change "
				                      "the host", s->sysctl[k].key, name, ns->path);
	}
	return 0;
}

static int mask_paths(const struct oci_spec *s, struct kerr *e)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; i < s->readonly.n; i++) {
		_cleanup_free_ char *what = xasprintf("linux.readonlyPaths (%s)", s->readonly.v[i]);
		struct tree_mount tm = {.src = s->readonly.v[i], .dst = s->readonly.v[i],
		                        .flags = MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		                        .what = what, .optional = true, .no_create = true};
		if (tree_mount_at(root, &tm, NULL, e) < 0)
			return -1;
	}
	for (size_t i = 0; i < s->masked.n; i++) {
		const char *p = s->masked.v[i];
		struct stat st;
		if (stat(p, &st) < 0)
			continue;
		_cleanup_free_ char *what = xasprintf("linux.maskedPaths (%s)", p);
		struct tree_mount tm = {.dst = p, .what = what, .optional = true, .no_create = true};
		if (S_ISDIR(st.st_mode)) {
			tm.src = "tmpfs";
			tm.type = "tmpfs";
			tm.flags = MS_RDONLY;
			tm.data = "size=0";
		} else {
			tm.src = "/dev/null";
		}
		if (tree_mount_at(root, &tm, NULL, e) < 0)
			return -1;
	}
	return 0;
}

/* process.args[0] in the container's PATH (process.env's). */
char *oci_resolve_exe(const struct oci_spec *s, struct kerr *e)
{
	const char *name = s->c.argv[0];
	if (strchr(name, '/')) {
		if (access(name, F_OK) < 0)
			return kerr_set(e, errno, "process.args[0]: %s", name), NULL;
		return xstrdup(name);
	}
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (size_t i = 0; i < s->env.n; i++)
		if (strncmp(s->env.v[i], "PATH=", 5) == 0)
			path = s->env.v[i] + 5;
	_cleanup_free_ char *copy = xstrdup(path);
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/%s", *dir ? dir : ".", name);
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	kerr_set(e, 0, "process.args[0]: %s: not found in the container's PATH", name);
	return NULL;
}

/* Close-on-exec for every fd from first on. */
static int close_fds_on_exec(unsigned first)
{
	if (syscall(SYS_close_range, first, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	DIR *d = opendir("/proc/self/fd"); /* before Linux 5.11 */
	if (!d)
		return -1;
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned long fd;
		if (parse_ulong(de->d_name, INT_MAX, &fd) == 0 && fd >= first &&
		    (int)fd != dirfd(d))
			fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
	return 0;
}

/* The last steps, shared with exec: user, groups and capabilities, umask,
 * no_new_privs and seccomp, then execve. Returns only on failure. */
int oci_become_process(const struct oci_spec *s, const char *exe, bool setgroups_denied,
                       const struct seccomp_bpf *bpf, unsigned preserve_fds, struct kerr *e)
{
	/* The kernel raises an ambient cap only if it is permitted and
	 * inheritable; runc's default spec lists ambient caps without
	 * inheritable ones, and runc skips them: so does krill. */
	struct capsets caps = s->caps;
	if (caps.ambient & ~(caps.permitted & caps.inheritable))
		klog(KLOG_DEBUG, "process.capabilities.ambient: caps not also permitted and "
		                 "inheritable are left out");
	caps.ambient &= caps.permitted & caps.inheritable;
	/* Only stdio and --preserve-fds reach the process: fds krill-oci
	 * inherited from its caller must not leak host files into it.  Before
	 * seccomp, which may deny close_range. */
	if (close_fds_on_exec(3 + preserve_fds) < 0)
		return kerr_set(e, errno, "can't close inherited file descriptors"), EXIT_KRILL;
	/* Without no_new_privs, loading a filter takes CAP_SYS_ADMIN: load it
	 * while the capabilities are still there, as runc does (the profile
	 * must then allow the few calls left: setresuid, capset, execve). */
	bool early_seccomp = !s->no_new_privs && bpf && bpf->len;
	if (early_seccomp && seccomp_bpf_load_privileged(bpf, e) < 0)
		return -1;
	if (setgroups_denied) {
		/* A rootless single-ID map: setgroups(2) is denied for good
		 * (see userns.c), so only the IDs and the caps change. */
		if (s->ngroups)
			return kerr_set(e, 0, "process.user.additionalGids: can't be set in a user "
			                      "namespace without a group map (rootless)");
		if (setresgid(s->c.gid, s->c.gid, s->c.gid) < 0)
			return kerr_set(e, errno, "can't switch to gid %u", (unsigned)s->c.gid);
		if (s->c.uid != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return kerr_set(e, errno, "prctl(PR_SET_KEEPCAPS)");
		if (setresuid(s->c.uid, s->c.uid, s->c.uid) < 0)
			return kerr_set(e, errno, "can't switch to uid %u", (unsigned)s->c.uid);
		if (caps_apply(&caps, e) < 0)
			return -1;
	} else if (caps_apply_for_uid(&caps, s->c.uid, s->c.gid, s->groups, s->ngroups, e) < 0) {
		return -1;
	}
	umask(s->has_umask ? s->umask : 022);
	/* As process.noNewPrivileges says (runtime-spec); krill run sets it
	 * always (SPEC §5), OCI mode follows the config, as runc does. */
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return kerr_set(e, errno, "can't set no_new_privs");
	if (!early_seccomp && bpf && bpf->len && seccomp_bpf_load(bpf, e) < 0)
		return -1;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execve(exe, s->c.argv, s->env.v ? s->env.v : (char *[]){NULL});
	int err = errno;
	kerr_set(e, err, "can't execute %s", exe);
	return err == ENOENT || err == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}

static int setgroups_is_denied(void)
{
	_cleanup_free_ char *buf = NULL;
	if (file_read_all(AT_FDCWD, "/proc/self/setgroups", 64, &buf, NULL, NULL) < 0)
		return false;
	return strncmp(buf, "deny", 4) == 0;
}

static int init_rlimits(const struct oci_spec *s, struct kerr *e)
{
	for (size_t i = 0; i < s->nrlimits; i++) {
		struct rlimit rl = {s->rlimits[i].soft, s->rlimits[i].hard};
		if (setrlimit(s->rlimits[i].resource, &rl) < 0)
			return kerr_set(e, errno, "process.rlimits[%zu] (%s): can't set it", i,
			                oci_rlimit_name(s->rlimits[i].resource));
	}
	if (s->has_oom_score_adj) {
		char v[16];
		snprintf(v, sizeof v, "%d", s->oom_score_adj);
		if (file_write_str("/proc/self/oom_score_adj", v, e) < 0)
			return kerr_set(e, e->errnum, "process.oomScoreAdj: can't set %d",
			                s->oom_score_adj);
	}
	return 0;
}

/* The container init, after the namespaces exist. */
static _Noreturn void init_container(struct init *in)
{
	const struct oci_spec *s = in->s;
	struct kerr e = {0};
	umask(0);
	if (ns_setup(&s->c, &e) < 0)
		init_die(in, &e, EXIT_KRILL);
	/* Nothing we mount may propagate to the host; rootfsPropagation is
	 * applied to the container's / once it is the root. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		kerr_set(&e, errno, "can't make / a slave mount");
		init_die(in, &e, EXIT_KRILL);
	}
	const char *rootfs = s->c.image;
	/* pivot_root needs the new root to be a mount point. */
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
		kerr_set(&e, errno, "root.path: can't bind %s", rootfs);
		init_die(in, &e, EXIT_KRILL);
	}
	int root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		kerr_set(&e, errno, "root.path: can't open %s", rootfs);
		init_die(in, &e, EXIT_KRILL);
	}
	mount_set_add_fd(&in->own, root_fd);
	for (size_t i = 0; i < s->nmounts; i++)
		if (mount_one(in, root_fd, i, &e) < 0)
			init_die(in, &e, EXIT_KRILL);
	if (make_devices(in, root_fd, &e) < 0 || write_sysctls(s, &e) < 0 ||
	    init_rlimits(s, &e) < 0)
		init_die(in, &e, EXIT_KRILL);
	close(root_fd);
	in->setgroups_denied = setgroups_is_denied();

	/* prestart and createRuntime: P runs them, in the runtime's
	 * namespaces, now that ours exist. */
	struct msg m;
	if (msg_send(in->sync, MSG_HOOKS, 0, NULL) < 0 || msg_recv(in->sync, &m) < 0 ||
	    m.type != MSG_HOOKS_DONE)
		_exit(EXIT_KRILL);
	in->host_pid = m.value;
	if (s->hooks[OCI_HOOK_CREATE_CONTAINER].n) {
		_cleanup_free_ char *st = oci_state_json(in->id, "creating", in->host_pid, in->bundle,
		                                         s->annotations, false);
		if (chdir(rootfs) < 0 ||
		    oci_hooks_run(&s->hooks[OCI_HOOK_CREATE_CONTAINER], OCI_HOOK_CREATE_CONTAINER,
		                  st, &e) < 0)
			init_die(in, &e, EXIT_KRILL);
	}
	if (tree_pivot(rootfs, &e) < 0)
		init_die(in, &e, EXIT_KRILL);
	if (s->rootfs_propagation && mount(NULL, "/", NULL, s->rootfs_propagation, NULL) < 0) {
		kerr_set(&e, errno, "linux.rootfsPropagation: can't apply it to /");
		init_die(in, &e, EXIT_KRILL);
	}
	if (mask_paths(s, &e) < 0 || (s->root_readonly && tree_readonly("/", false, &e) < 0))
		init_die(in, &e, EXIT_KRILL);
	if (in->console >= 0) {
		if (oci_console_setup(in->console, &e) < 0)
			init_die(in, &e, EXIT_KRILL);
		close(in->console);
	}
	if (chdir(s->c.cwd) < 0) {
		kerr_set(&e, errno, "process.cwd: can't enter %s", s->c.cwd);
		init_die(in, &e, EXIT_KRILL);
	}
	in->exe = oci_resolve_exe(s, &e);
	if (!in->exe)
		init_die(in, &e, EXIT_NOT_FOUND);
	if (msg_send(in->sync, MSG_READY, 0, NULL) < 0)
		_exit(EXIT_KRILL);
	close(in->sync);

	/* Created.  Wait for start. */
	int conn;
	for (;;) {
		conn = accept4(in->listen, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR)
				continue;
			_exit(EXIT_KRILL);
		}
		char c;
		if (read(conn, &c, 1) == 1)
			break;
		close(conn);
	}
	close(in->listen);
	in->sync = conn; /* errors now go to start */
	int code = EXIT_KRILL;
	if (s->hooks[OCI_HOOK_START_CONTAINER].n) {
		_cleanup_free_ char *st = oci_state_json(in->id, "created", in->host_pid, in->bundle,
		                                         s->annotations, false);
		if (oci_hooks_run(&s->hooks[OCI_HOOK_START_CONTAINER], OCI_HOOK_START_CONTAINER, st,
		                  &e) < 0)
			goto fail;
	}
	code = oci_become_process(s, in->exe, in->setgroups_denied, in->bpf, in->preserve_fds, &e);
fail:;
	char buf[sizeof e.msg + 128];
	kerr_str(&e, buf, sizeof buf);
	if (write(conn, buf, strlen(buf)) < 0)
		_exit(code);
	_exit(code);
}

/* C1: cgroup, namespaces; forks the init when there is a PID namespace. */
static _Noreturn void init_begin(struct init *in)
{
	const struct oci_spec *s = in->s;
	struct kerr e = {0};
	if (in->cg && cgroup_enter(in->cg, 0, &e) < 0)
		init_die(in, &e, EXIT_KRILL);
	/* Namespaces given by path: the user namespace first (it grants the
	 * capabilities the others need), the mount namespace last. */
	static const int order[] = {CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC,
	                            CLONE_NEWPID, CLONE_NEWCGROUP, CLONE_NEWNS};
	for (size_t k = 0; k < ARRAY_SIZE(order); k++)
		for (size_t i = 0; i < s->nns; i++)
			if (s->ns[i].path && s->ns[i].flag == order[k] &&
			    ns_join_path(s->ns[i].path, s->ns[i].flag, "linux.namespaces", &e) < 0)
				init_die(in, &e, EXIT_KRILL);
	/* Joined, or already in one (root of rootless podman's). */
	in->in_userns = (s->ns_join & CLONE_NEWUSER) || !userns_real_root();
	if (s->ns_new & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0) {
			kerr_set(&e, errno, "can't create a user namespace");
			init_die(in, &e, EXIT_KRILL);
		}
		struct msg m;
		if (msg_send(in->sync, MSG_MAP, 0, NULL) < 0 || msg_recv(in->sync, &m) < 0 ||
		    m.type != MSG_MAP_DONE)
			_exit(EXIT_KRILL);
		/* Become the namespace's root when it is mapped; an unmapped
		 * creator keeps full capabilities in it anyway. */
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			klog(KLOG_DEBUG, "uid/gid 0 is not mapped in the user namespace");
		in->in_userns = true;
	}
	int flags = s->ns_new & ~CLONE_NEWUSER;
	if (unshare(flags) < 0) {
		kerr_set(&e, errno, "can't create the container's namespaces");
		init_die(in, &e, EXIT_KRILL);
	}
	if ((s->ns_new | s->ns_join) & CLONE_NEWPID) {
		/* A PID namespace takes effect for children: the init is our
		 * child, PID 1 in it. */
		pid_t pid = fork();
		if (pid < 0) {
			kerr_set(&e, errno, "can't fork the container's init");
			init_die(in, &e, EXIT_KRILL);
		}
		if (pid > 0) {
			msg_send(in->sync, MSG_PID, pid, NULL);
			_exit(0);
		}
	} else {
		msg_send(in->sync, MSG_PID, 0, NULL);
	}
	init_container(in);
}

/* ---- create (P) ---------------------------------------------------------- */

/* A map an unprivileged writer may set itself: its own ID, once. */
static bool self_map(const struct userns_map *m, size_t n, unsigned id)
{
	return n == 1 && m[0].outside == id && m[0].count == 1;
}

/* newuidmap/newgidmap PID INSIDE OUTSIDE COUNT...: the setuid helpers of
 * Debian's uidmap, which grant the ranges /etc/subuid and /etc/subgid give
 * the caller.  Failures name the field. */
static int map_helper(const char *tool, const char *field, pid_t pid, const struct userns_map *m,
                      size_t n, struct kerr *e)
{
	char **argv = xcalloc(3 * n + 3, sizeof *argv);
	size_t k = 0;
	argv[k++] = xstrdup(tool);
	argv[k++] = xasprintf("%d", (int)pid);
	for (size_t i = 0; i < n; i++) {
		argv[k++] = xasprintf("%u", m[i].inside);
		argv[k++] = xasprintf("%u", m[i].outside);
		argv[k++] = xasprintf("%u", m[i].count);
	}
	klog(KLOG_DEBUG, "running %s for %s", tool, field);
	pid_t h = fork();
	if (h == 0) {
		execvp(tool, argv);
		dprintf(2, "%s: error: %s: can't execute %s: %s\n", klog_prog, field, tool,
		        strerror(errno));
		_exit(EXIT_NOT_FOUND);
	}
	for (size_t i = 0; i < k; i++)
		free(argv[i]);
	free(argv);
	int ws = 0;
	if (h < 0)
		return kerr_set(e, errno, "%s: can't fork %s", field, tool);
	while (waitpid(h, &ws, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return 0;
	kerr_set(e, 0, "%s: %s failed (status %d)", field, tool, launch_status(ws));
	return kerr_hint(e, "the ranges must be the caller's in /etc/subuid and /etc/subgid, and "
	                    "%s (Debian package uidmap) installed", tool);
}

/* The new user namespace's maps.  Real root writes them; anyone else
 * writes a map of its own IDs, and needs newuidmap/newgidmap for more, as
 * runc's rootless mode does. */
static int write_userns_maps(pid_t pid, const struct oci_spec *s, struct kerr *e)
{
	bool root = userns_real_root();
	bool uid_self = self_map(s->uid_maps, s->nuid_maps, geteuid());
	bool gid_self = self_map(s->gid_maps, s->ngid_maps, getegid());
	if (root || (uid_self && gid_self))
		return userns_write_maps(pid, s->uid_maps, s->nuid_maps, s->gid_maps, s->ngid_maps,
		                         !root, e);
	if (map_helper("newuidmap", "linux.uidMappings", pid, s->uid_maps, s->nuid_maps, e) < 0 ||
	    map_helper("newgidmap", "linux.gidMappings", pid, s->gid_maps, s->ngid_maps, e) < 0)
		return -1;
	return 0;
}

static char *now_rfc3339(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char buf[64];
	size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
	return xstrdup(buf);
}

static int write_pid_file(const char *path, pid_t pid, struct kerr *e)
{
	_cleanup_free_ char *tmp = xasprintf("%s.krill-tmp", path);
	char v[32];
	snprintf(v, sizeof v, "%d", (int)pid);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kerr_set(e, errno, "--pid-file=%s: can't write it", path);
	ssize_t n = write(fd, v, strlen(v));
	close(fd);
	if (n < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return kerr_set(e, errno, "--pid-file=%s: can't write it", path);
	}
	return 0;
}

static int listen_start_sock(int dirfd, struct kerr *e)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return kerr_set(e, errno, "can't create the start socket");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/start.sock", dirfd);
	if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 4) < 0) {
		int err = errno;
		close(s);
		return kerr_set(e, err, "can't create the start socket");
	}
	return s;
}

static int prepare_cgroup(const struct oci_spec *s, const char *id, struct cgroup **cg,
                          struct kerr *e)
{
	*cg = NULL;
	bool root = userns_real_root();
	if (!root && !s->has_resources && !s->cgroups_path)
		return 0; /* rootless: no cgroup unless asked for */
	struct cgroup_limits lim = {.memory = s->c.memory, .cpus_milli = s->c.cpus_milli,
	                            .pids = s->c.pids_limit, .oci_names = true,
	                            .extra = cgroup_res_controllers(&s->res), .all_v1 = true};
	/* The default krill/ID: the shared "krill" parent goes with the last
	 * container, as krill run's does (delete removes it too). */
	int made = s->cgroups_path ? cgroup_create_path(s->cgroups_path, &lim, cg, e)
	                           : cgroup_create("krill", id, &lim, cg, e);
	if (made == 0) {
		if (cgroup_res_apply(*cg, &s->res, e) == 0)
			return 0;
		cgroup_free(*cg); /* owned: removes it */
		*cg = NULL;
		return -1;
	}
	if (!s->has_resources && (!s->cgroups_path || !root)) {
		/* Root, nothing asked: pause and kill --all need a cgroup, the
		 * container itself doesn't.  Root of a child user namespace
		 * (rootless podman, which always names a cgroupsPath): a
		 * cgroup only where one is delegated, as runc's rootless mode. */
		klog(KLOG_DEBUG, "no cgroup for %s: %s", id, e->msg);
		memset(e, 0, sizeof *e);
		return 0;
	}
	return -1;
}

int oci_create(const char *root, const struct oci_create_opts *o, pid_t *pid_out,
               struct kerr *e)
{
	*pid_out = 0;
	if (!oci_id_valid(o->id))
		return kerr_set(e, 0, "invalid container ID '%s': use letters, digits and _+-. "
		                      "(not first)", o->id);
	_cleanup_free_ char *bundle = realpath(o->bundle ? o->bundle : ".", NULL);
	if (!bundle)
		return kerr_set(e, errno, "--bundle=%s", o->bundle ? o->bundle : ".");
	_cleanup_free_ char *display = o->bundle ? xasprintf("%s/config.json", o->bundle)
	                                         : xstrdup("config.json");
	_cleanup_free_ char *cfg_path = xasprintf("%s/config.json", bundle);
	_cleanup_free_ char *text = NULL;
	size_t text_len = 0;
	struct oci_spec s;
	if (oci_load_config(AT_FDCWD, cfg_path, display, bundle, &s, &text, &text_len, e) < 0)
		return -1;

	int rc = -1, dirfd = -1, sync[2] = {-1, -1}, lsock = -1, csock = -1;
	pid_t c1 = 0, init_pid = 0;
	struct cgroup *cg = NULL;
	struct seccomp_bpf bpf = {0};
	struct oci_state st = {.id = (char *)o->id, .bundle = bundle, .status = "creating",
	                       .annotations = s.annotations, .owner = geteuid()};
	bool state_made = false, published = false;
	_cleanup_free_ char *tmp_name = NULL, *cg_planned = NULL;

	if (s.terminal && !o->console_socket) {
		kerr_set(e, 0, "process.terminal is true: --console-socket is required");
		goto out;
	}
	if (geteuid() != 0 && !((s.ns_new | s.ns_join) & CLONE_NEWUSER)) {
		kerr_set(e, 0, "linux.namespaces: without root, krill needs a user namespace");
		kerr_hint(e, "create a rootless bundle with `krill-oci spec --rootless`");
		goto out;
	}
	if (check_sysctls_not_host(&s, e) < 0)
		goto out;
	if (s.seccomp_json) {
		/* Compile early (errors before anything exists), load late. */
		uint64_t caps = s.caps.bounding;
		if (seccomp_prepare_profile(s.seccomp_json, strlen(s.seccomp_json), display, caps,
		                            seccomp_cache_dir(), &bpf, e) < 0)
			goto out;
	}
	/* Locked until create is over: start, delete and pause wait for it,
	 * and a lock found free on a "creating" state means this create was
	 * killed (see oci_state.h). */
	dirfd = oci_state_create(root, o->id, &tmp_name, e);
	if (dirfd < 0)
		goto out;
	state_made = true;
	{
		int fd = openat(dirfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, text, text_len) != (ssize_t)text_len) {
			kerr_set(e, errno, "can't save config.json in the state directory");
			if (fd >= 0)
				close(fd);
			goto out;
		}
		close(fd);
	}
	st.created = now_rfc3339();
	/* Say which cgroup this create is about to make before making it: if
	 * we are killed before the guard watches it, whoever collects this
	 * directory removes it.  Only krill's own default path: a
	 * cgroupsPath may name a cgroup that exists already and isn't ours
	 * to remove. */
	if (geteuid() == 0 && !s.cgroups_path) {
		cg_planned = xasprintf("/krill/%s", o->id);
		st.cgroup = cg_planned;
		if (oci_state_write(dirfd, &st, e) < 0)
			goto out;
	}
	if (prepare_cgroup(&s, o->id, &cg, e) < 0)
		goto out;
	/* Until create is over, the guard krill run uses removes the cgroup
	 * (killing the init in it) if we are killed. */
	if (cg && cgroup_guard_start(cg, e) < 0)
		goto out;
	st.cgroup = cg ? (char *)cgroup_path(cg) : NULL;
	if (oci_state_write(dirfd, &st, e) < 0 ||
	    oci_state_publish(root, tmp_name, o->id, e) < 0)
		goto out;
	published = true;
	if (o->console_socket && s.terminal) {
		csock = oci_console_connect(o->console_socket, e);
		if (csock < 0)
			goto out;
	}
	lsock = listen_start_sock(dirfd, e);
	if (lsock < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
		kerr_set(e, errno, "can't create a socket pair");
		goto out;
	}
	/* A subreaper, so that a container init whose intermediate parent has
	 * exited is our child: a failed create can then reap what it kills. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		kerr_set(e, errno, "can't become a subreaper");
		goto out;
	}
	c1 = fork();
	if (c1 < 0) {
		kerr_set(e, errno, "can't fork the container's init");
		goto out;
	}
	if (c1 == 0) {
		close(sync[0]);
		close(dirfd);
		struct init in = {.s = &s, .id = o->id, .bundle = bundle, .sync = sync[1],
		                  .listen = lsock, .console = csock, .cg = cg, .bpf = &bpf,
		                  .preserve_fds = o->preserve_fds};
		init_begin(&in);
	}
	close(sync[1]);
	sync[1] = -1;
	close(lsock);
	lsock = -1;
	if (csock >= 0) {
		close(csock);
		csock = -1;
	}
	for (;;) {
		struct msg m;
		if (msg_recv(sync[0], &m) < 0) {
			kerr_set(e, 0, "the container's init ended during create");
			goto out;
		}
		if (m.type == MSG_ERROR) {
			char *nl = strchr(m.text, '\n');
			if (nl) {
				*nl = '\0';
				const char *h = strstr(nl + 1, "hint: ");
				kerr_set(e, 0, "%s", m.text);
				if (h)
					kerr_hint(e, "%s", h + 6);
			} else {
				kerr_set(e, 0, "%s", m.text);
			}
			goto out;
		} else if (m.type == MSG_MAP) {
			if (write_userns_maps(c1, &s, e) < 0)
				goto out;
			msg_send(sync[0], MSG_MAP_DONE, 0, NULL);
		} else if (m.type == MSG_PID) {
			init_pid = m.value ? m.value : c1;
			if (m.value) {
				waitpid(c1, NULL, 0);
				c1 = 0; /* reaped: its pid may be anyone's now */
			}
			st.pid = init_pid;
			st.pid_start = proc_starttime(init_pid);
			*pid_out = init_pid;
			if (oci_state_write(dirfd, &st, e) < 0)
				goto out;
		} else if (m.type == MSG_HOOKS) {
			_cleanup_free_ char *sj = oci_state_json(o->id, "creating", init_pid, bundle,
			                                         s.annotations, false);
			if (oci_hooks_run(&s.hooks[OCI_HOOK_PRESTART], OCI_HOOK_PRESTART, sj, e) < 0 ||
			    oci_hooks_run(&s.hooks[OCI_HOOK_CREATE_RUNTIME], OCI_HOOK_CREATE_RUNTIME, sj,
			                  e) < 0)
				goto out;
			msg_send(sync[0], MSG_HOOKS_DONE, init_pid, NULL);
		} else if (m.type == MSG_READY) {
			break;
		}
	}
	/* Released before "created" is recorded: a create killed between
	 * the two leaves "creating" with its lock free, which is collected
	 * (init and cgroup included), never a "created" ghost. */
	if (cg)
		cgroup_guard_release(cg);
	st.status = "created";
	if (oci_state_write(dirfd, &st, e) < 0)
		goto out;
	if (o->pid_file && write_pid_file(o->pid_file, init_pid, e) < 0)
		goto out;
	klog(KLOG_DEBUG, "created container %s, init pid %d", o->id, (int)init_pid);
	rc = 0;
out:
	if (rc < 0) {
		if (init_pid > 0)
			kill(init_pid, SIGKILL);
		if (c1 > 0) {
			kill(c1, SIGKILL);
			waitpid(c1, NULL, 0);
		}
		if (cg)
			cgroup_destroy(cg, NULL);
		for (int i = 0; init_pid > 0 && i < 1000; i++) {
			if (waitpid(init_pid, NULL, WNOHANG) != 0) /* reaped, or not ours */
				break;
			usleep(1000);
		}
		if (state_made)
			oci_state_remove(root, published ? o->id : tmp_name, NULL);
		*pid_out = 0;
	}
	/* A created cgroup outlives create (delete removes it): cgroup_free
	 * would destroy it, so the handle is only freed after a failure. */
	if (cg && rc < 0)
		cgroup_free(cg);
	for (int i = 0; i < 2; i++)
		if (sync[i] >= 0)
			close(sync[i]);
	if (lsock >= 0)
		close(lsock);
	if (csock >= 0)
		close(csock);
	if (dirfd >= 0)
		close(dirfd);
	seccomp_bpf_free(&bpf);
	free(st.created);
	oci_spec_free(&s);
	return rc;
}

/* ---- start ---------------------------------------------------------------- */

static int lock_state(int dirfd)
{
	return flock(dirfd, LOCK_EX);
}

int oci_start(const char *root, const char *id, struct kerr *e)
{
	_cleanup_close_ int dirfd = oci_state_open(root, id, e);
	if (dirfd < 0)
		return -1;
	lock_state(dirfd);
	struct oci_state st;
	if (oci_state_read(dirfd, &st, e) < 0)
		return -1;
	int rc = -1;
	const char *status = oci_state_status(&st);
	if (strcmp(status, "created") != 0) {
		kerr_set(e, 0, "container %s is %s, not created: it can't be started", id, status);
		goto out;
	}
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/start.sock", dirfd);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    write(s, "s", 1) != 1) {
		kerr_set(e, errno, "container %s: can't reach its init", id);
		if (s >= 0)
			close(s);
		goto out;
	}
	char buf[2048];
	size_t used = 0;
	ssize_t n;
	while (used < sizeof buf - 1 && (n = read(s, buf + used, sizeof buf - 1 - used)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		used += (size_t)n;
	}
	buf[used] = '\0';
	close(s);
	unlinkat(dirfd, "start.sock", 0);
	if (used) {
		kerr_set(e, 0, "%s", buf);
		goto out;
	}
	free(st.status);
	st.status = xstrdup("running");
	if (oci_state_write(dirfd, &st, e) < 0)
		goto out;
	/* poststart: only if there are any, which needs the saved config. */
	struct oci_spec s2;
	if (oci_load_config(dirfd, "config.json", "config.json", st.bundle, &s2, NULL, NULL, e) <
	    0)
		goto out;
	if (s2.hooks[OCI_HOOK_POSTSTART].n) {
		_cleanup_free_ char *sj =
			oci_state_json(id, "running", st.pid, st.bundle, st.annotations, false);
		if (oci_hooks_run(&s2.hooks[OCI_HOOK_POSTSTART], OCI_HOOK_POSTSTART, sj, e) < 0) {
			kill(st.pid, SIGKILL);
			oci_spec_free(&s2);
			goto out;
		}
	}
	oci_spec_free(&s2);
	rc = 0;
out:
	oci_state_free(&st);
	return rc;
}

/* ---- delete ----------------------------------------------------------------- */

/* Is the cgroup krill's default /krill/ID (no cgroupsPath)? */
static bool default_cgroup(const struct oci_state *st, const char *id)
{
	_cleanup_free_ char *def = xasprintf("/krill/%s", id);
	return st->cgroup && strcmp(st->cgroup, def) == 0;
}

int oci_delete(const char *root, const char *id, bool force, struct kerr *e)
{
	/* As runc: delete --force of a container that doesn't exist is no
	 * error.  Engines call it after a failed create, which removed
	 * everything already; a second "does not exist" would only mislead. */
	if (force && oci_id_valid(id)) {
		_cleanup_free_ char *dir = xasprintf("%s/%s", root, id);
		struct stat st;
		if (lstat(dir, &st) < 0 && errno == ENOENT)
			return 0;
	}
	int dirfd = oci_state_open(root, id, e);
	if (dirfd < 0)
		return -1;
	lock_state(dirfd);
	struct oci_state st;
	if (oci_state_read(dirfd, &st, e) < 0) {
		close(dirfd);
		if (!force)
			return -1;
		/* A damaged state: --force still removes it. */
		return oci_state_remove(root, id, e);
	}
	int rc = -1;
	const char *status = oci_state_status(&st);
	bool stopped = strcmp(status, "stopped") == 0;
	if (!stopped && !force && strcmp(status, "created") != 0) {
		kerr_set(e, 0, "container %s is %s: it can't be deleted", id, status);
		kerr_hint(e, "stop it with `krill-oci kill %s KILL`, or use delete --force", id);
		goto out;
	}
	struct cgroup *cg = NULL;
	if (st.cgroup && cgroup_open_existing(st.cgroup, &cg, NULL) < 0)
		cg = NULL;
	if (!stopped) {
		if (cg) {
			if (st.paused)
				cgroup_freeze(cg, false, NULL);
			cgroup_kill_all(cg, SIGKILL, NULL);
		}
		if (st.pid > 0) /* "creating" before the init existed: pid 0 */
			kill(st.pid, SIGKILL);
		for (int i = 0; i < 5000 && proc_alive(st.pid, st.pid_start); i++)
			usleep(1000);
	}
	if (cg) {
		if (default_cgroup(&st, id))
			cgroup_set_remove_parent(cg);
		if (cgroup_destroy(cg, e) < 0)
			klog(KLOG_WARN, "container %s: %s", id, e->msg);
		cgroup_free(cg);
	}
	struct oci_spec s2;
	struct kerr he = {0};
	if (oci_load_config(dirfd, "config.json", "config.json", st.bundle, &s2, NULL, NULL,
	                    &he) == 0) {
		if (s2.hooks[OCI_HOOK_POSTSTOP].n) {
			_cleanup_free_ char *sj =
				oci_state_json(id, "stopped", 0, st.bundle, st.annotations, false);
			/* One at a time: a failing poststop hook is a warning, and
			 * the rest run "as if it had succeeded" (runtime.md). */
			const struct oci_hook_list *l = &s2.hooks[OCI_HOOK_POSTSTOP];
			for (size_t i = 0; i < l->n; i++) {
				struct oci_hook_list one = {.v = &l->v[i], .n = 1};
				if (oci_hooks_run(&one, OCI_HOOK_POSTSTOP, sj, &he) < 0) {
					char buf[sizeof he.msg + 128];
					klog(KLOG_WARN, "%s", kerr_str(&he, buf, sizeof buf));
				}
			}
		}
		oci_spec_free(&s2);
	}
	rc = oci_state_remove(root, id, e);
out:
	close(dirfd);
	oci_state_free(&st);
	return rc;
}
