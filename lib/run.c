/* run.c: the setup sequence of `krill run` (SPEC §5–§6), on one screen.
 *
 *   host side      resolve the image, open SquashFS, look up passwd names
 *   outer ns       unshare user (caller -> 0) + mount + the extras; we are
 *                  root here, which is what mounting FUSE and binds needs
 *   staging        tree_stage(): pivot into a private tmpfs
 *   image          bind the directory, or mount the SquashFS
 *   [fork]         when something must outlive the exec: the parent
 *                  supervises (FUSE server, subreaper, cgroup, join)
 *   tree           tree_finish(): overlay, binds, passwd, pivot_root
 *   inner ns       unshare user (0 -> container uid) + mount
 *   exec           environment, no_new_privs, caps, seccomp, execvp
 */
#include "run.h"
#include "cdi.h"
#include "cgroup.h"
#include "fdpass.h"
#include "hold.h"
#include "join.h"
#include "nsjoin.h"
#include "launch.h"
#include "log.h"
#include "ns.h"
#include "passwd.h"
#include "record.h"
#include "squash.h"
#include "supervise.h"
#include "tree.h"
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Everything the run needs that isn't in struct container. */
struct run {
	struct container *c;
	bool privileged;        /* real root, no user namespace */
	struct squash *sq;      /* SquashFS image, or NULL */
	bool supervise;         /* a process stays behind */
	struct tree_host host;
	char *passwd, *group;
	char *user, *home, *container_home, *tmpdir;
	sigset_t oldmask;
	struct security sec;    /* prepared capabilities and seccomp filters */
	struct cgroup *cg;      /* the container's cgroup, with --memory etc. */
	struct join *join;      /* --join group, or NULL */
	int record_dir;         /* --name: the runtime directory, or -1 */
	int ns_sock[2];         /* container -> supervisor: its namespace fds */
	int init_sock[2];       /* --pid --join: supervisor <-> init handshake */
	bool init_done, init_released;
};

static void run_free(struct run *r)
{
	free(r->passwd);
	free(r->group);
	free(r->user);
	free(r->home);
	free(r->container_home);
	free(r->tmpdir);
	tree_host_free(r->c, &r->host);
	if (r->sq)
		squash_close(r->sq);
	join_end(r->join);
	security_free(&r->sec);
	cgroup_free(r->cg); /* destroys it, if still there */
	if (r->record_dir >= 0)
		close(r->record_dir);
	for (int i = 0; i < 2; i++) {
		if (r->ns_sock[i] >= 0)
			close(r->ns_sock[i]);
		if (r->init_sock[i] >= 0)
			close(r->init_sock[i]);
	}
}

/* Host-side facts, gathered before any namespace exists: NSS lookups
 * (LDAP, SSSD) may not work from inside. */
static int run_prepare(struct run *r, struct kerr *e)
{
	struct container *c = r->c;
	/* The same name env.c uses for HOME with --home. */
	struct passwd *pw = getpwuid(getuid());
	const char *env_user = getenv("USER");
	r->user = xstrdup(env_user && *env_user ? env_user : pw ? pw->pw_name : "krill");
	/* Host paths are resolved here, on the host: after staging, an
	 * absolute symlink (home and scratch often are, into /gpfs or
	 * /lustre) would resolve in the staging tmpfs. */
	const char *home = getenv("HOME");
	if (!home && pw)
		home = pw->pw_dir;
	r->home = home && home[0] == '/' ? realpath(home, NULL) : NULL;
	if (!r->home && home)
		r->home = xstrdup(home);
	r->container_home = xasprintf("/home/%s", r->user);
	free(c->container_home);
	c->container_home = xstrdup(r->container_home);
	const char *tmp = getenv("TMPDIR");
	r->tmpdir = realpath(tmp && tmp[0] == '/' ? tmp : "/tmp", NULL);
	if (!r->tmpdir)
		r->tmpdir = xstrdup(tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (!c->no_passwd)
		passwd_build(c->uid, c->gid, c->home ? r->container_home : "/", &r->passwd,
		             &r->group);

	if (c->mountpoint) {
		struct stat st;
		if (c->image_type != IMAGE_SQUASH)
			return kerr_set(e, 0, "--mount=%s: only a SquashFS image is mounted",
			                c->mountpoint);
		if (stat(c->mountpoint, &st) < 0)
			return kerr_set(e, errno, "--mount=%s", c->mountpoint);
		if (!S_ISDIR(st.st_mode))
			return kerr_set(e, 0, "--mount=%s: not a directory", c->mountpoint);
		/* Later it is reached as /oldroot + this path. */
		char *abs = realpath(c->mountpoint, NULL);
		if (!abs)
			return kerr_set(e, errno, "--mount=%s", c->mountpoint);
		free(c->mountpoint);
		c->mountpoint = abs;
	}
	if (security_prepare(c, r->privileged, &r->sec, e) < 0)
		return -1;
	if (c->image_type == IMAGE_SQUASH && squash_open(c->image, &r->sq, e) < 0)
		return -1;
	if (c->name) {
		r->record_dir = record_dir_open(e);
		if (r->record_dir < 0)
			return -1;
		struct record old;
		if (record_read(c->name, &old, NULL) == 0) {
			record_free(&old);
			return kerr_set(e, 0, "--name=%s: a container of that name is running",
			                c->name);
		}
	}

	r->host = (struct tree_host){
		.user = r->user, .home = r->home, .tmpdir = r->tmpdir,
		.passwd = r->passwd, .group = r->group, .container_home = r->container_home,
		.privileged = r->privileged, .fresh_proc = c->ns_pid,
		.fresh_sys = c->net == NET_NONE,
	};
	tree_resolve_host(c, &r->host);
	return 0;
}

/* The image at TREE_IMAGE_DIR, in the staging namespace. */
static int run_mount_image(struct run *r, struct kerr *e)
{
	struct container *c = r->c;
	if (c->image_type == IMAGE_DIR) {
		klog(KLOG_VERBOSE, "binding directory image %s", c->image);
		return tree_bind_image(c->image, e);
	}
	_cleanup_free_ char *at = c->mountpoint ? xasprintf(TREE_OLDROOT "%s", c->mountpoint)
	                                        : xstrdup(TREE_IMAGE_DIR);
	int rc;
	if (r->privileged) {
		klog(KLOG_VERBOSE, "mounting %s with the kernel (loop device)", c->image);
		rc = squash_mount_kernel(r->sq, at, e);
	} else {
		klog(KLOG_VERBOSE, "mounting %s with the in-process FUSE server", c->image);
		rc = squash_mount_fuse(r->sq, at, e);
	}
	if (rc < 0)
		return -1;
	return c->mountpoint ? tree_bind_image(c->mountpoint, e) : 0;
}

/* Hand the supervisor fds of our (the container's final) user, mount and
 * PID namespaces, so it can keep them for join peers and krill exec even
 * after this process has exited. */
static int send_namespaces(int sock, struct kerr *e)
{
	int fds[3] = {open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC),
	              open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC),
	              open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)};
	int rc = 0;
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0)
		rc = kerr_set(e, errno, "can't open the container's namespaces");
	else if (fd_send(sock, fds, 3, "n", 1) < 0)
		rc = kerr_set(e, errno, "can't pass the container's namespaces to the supervisor");
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

/* Supervisor: collect the container's namespaces: those we created
 * ourselves, and the inner user, mount and PID namespaces the container
 * sends.
 * Returns -1 if the container died before sending them. */
static int collect_namespaces(struct run *r, struct ns_set *set)
{
	ns_set_init(set);
	const struct container *c = r->c;
	static const struct {
		int kind;
		const char *file;
	} own[] = {{NS_USER_OUTER, "user"}, {NS_NET, "net"}, {NS_UTS, "uts"}, {NS_IPC, "ipc"}};
	bool want[NS_COUNT] = {
		[NS_USER_OUTER] = !r->privileged, [NS_NET] = c->net == NET_NONE,
		[NS_UTS] = c->hostname != NULL, [NS_IPC] = c->ns_ipc,
	};
	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		if (!want[own[i].kind])
			continue;
		char path[64];
		snprintf(path, sizeof path, "/proc/self/ns/%s", own[i].file);
		set->fd[own[i].kind] = open(path, O_RDONLY | O_CLOEXEC);
	}
	int fds[3];
	if (fd_recv(r->ns_sock[0], fds, 3) < 0) {
		ns_set_close(set);
		return -1;
	}
	if (r->privileged)
		close(fds[0]); /* no user namespace of ours: that's the host's */
	else
		set->fd[NS_USER] = fds[0];
	set->fd[NS_MNT] = fds[1];
	if (c->ns_pid)
		set->fd[NS_PID] = fds[2];
	else
		close(fds[2]); /* the host's */
	return 0;
}

/* --memory, --cpus, --pids-limit: one cgroup for the container, with a
 * guard that removes it even if krill is killed. */
static int run_cgroup(struct run *r, struct kerr *e)
{
	const struct container *c = r->c;
	struct cgroup_limits lim = {.memory = c->memory, .cpus_milli = c->cpus_milli,
	                            .pids = c->pids_limit};
	_cleanup_free_ char *name = c->name ? xasprintf("%s-%d", c->name, getpid())
	                                    : xasprintf("run-%d", getpid());
	if (cgroup_create(c->cgroup_parent ? c->cgroup_parent : "krill", name, &lim, &r->cg, e) < 0)
		return -1;
	klog(KLOG_VERBOSE, "cgroup %s", cgroup_path(r->cg));
	r->host.cg = r->cg;
	return cgroup_guard_start(r->cg, e);
}

/* --name: the record `krill exec` and `krill ps` find the container by. */
/* With --pid, main_pid is the init; krill exec wants the command's cwd and
 * environment: the init's first child (the command is forked before the
 * namespaces reach us, so it is there unless it has already ended). */
static pid_t command_pid(pid_t init)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", init, init);
	_cleanup_free_ char *buf = NULL;
	unsigned long child;
	if (file_read_all(AT_FDCWD, path, 4096, &buf, NULL, NULL) < 0 ||
	    sscanf(buf, "%lu", &child) != 1)
		return init;
	return (pid_t)child;
}

static int run_record(struct run *r, pid_t main_pid, const struct ns_set *held, struct kerr *e)
{
	if (r->c->ns_pid)
		main_pid = command_pid(main_pid);
	struct record rec = {.name = r->c->name, .pid = getpid(), .main_pid = main_pid,
	                     .pid_start = proc_starttime(getpid()), .image = r->c->image,
	                     .started = time(NULL), .peers = r->join ? join_group_size(r->join) : 1,
	                     /* what launch_exec applies to the container's processes */
	                     .uid = r->c->uid, .gid = r->c->gid, .sec = r->sec,
	                     .cgroup = r->cg ? (char *)cgroup_path(r->cg) : NULL};
	for (int i = 0; i < NS_COUNT; i++)
		rec.fds[i] = held->fd[i];
	if (record_write(r->record_dir, &rec, e) < 0) {
		kerr_print(e);
		e->msg[0] = '\0';
		return -1;
	}
	return 0;
}

/* A join peer: wait for the winner's container, enter it, run our own
 * command in it, and stay until that command (and all it started) ends,
 * so the winner knows the container is still in use. */
/* The cgroup of the winner's container (the options match, so it has one
 * when we ask for limits): the one its supervisor's child, the container's
 * first process, is in and the supervisor isn't.  Opened here, while the
 * host's paths resolve; *n = 0 when there is none. */
static int peer_cgroup_open(struct run *r, int *fds, int *n, struct kerr *e)
{
	const struct container *c = r->c;
	*n = 0;
	if (!c->memory && !c->cpus_milli && !c->pids_limit)
		return 0;
	pid_t w = join_winner_pid(r->join);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", w, w);
	_cleanup_free_ char *kids = NULL, *own = cgroup_of_pid(w), *cgpath = NULL;
	if (file_read_all(AT_FDCWD, path, 4096, &kids, NULL, NULL) == 0 && own) {
		char *save;
		for (char *k = strtok_r(kids, " \n", &save); k && !cgpath;
		     k = strtok_r(NULL, " \n", &save)) {
			char *cg = cgroup_of_pid((pid_t)strtol(k, NULL, 10));
			if (cg && strcmp(cg, own) != 0)
				cgpath = cg;
			else
				free(cg);
		}
	}
	if (!cgpath)
		return kerr_set(e, 0, "join: can't find the cgroup of the winner's container "
		                      "(supervisor pid %d)", w);
	struct cgroup *cg;
	if (cgroup_open_existing(cgpath, &cg, e) < 0)
		return -1;
	int got = cgroup_procs_open(cg, fds, CGROUP_MAX_HIER, e);
	cgroup_free(cg);
	if (got < 0)
		return -1;
	klog(KLOG_VERBOSE, "join: entering the container's cgroup %s", cgpath);
	*n = got;
	return 0;
}

static int run_peer(struct run *r, struct kerr *e)
{
	struct container *c = r->c;
	struct ns_set set;
	if (join_wait(r->join, &set, e) < 0)
		return EXIT_KRILL;
	int cg_fds[CGROUP_MAX_HIER], ncg = 0;
	if (peer_cgroup_open(r, cg_fds, &ncg, e) < 0) {
		ns_set_close(&set);
		return EXIT_KRILL;
	}
	int rc = ns_set_enter(&set, e);
	ns_set_close(&set);
	if (rc < 0) {
		cgroup_enter_fds(cg_fds, ncg, NULL); /* closes them */
		return EXIT_KRILL;
	}
	if (supervise_prepare(&r->oldmask) < 0) {
		kerr_set(e, errno, "can't prepare the supervisor");
		goto fail_fds;
	}
	/* Joining a PID namespace takes effect for children: fork anyway, to
	 * wait for our command. */
	pid_t pid = fork();
	if (pid < 0) {
		kerr_set(e, errno, "can't fork");
		goto fail_fds;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
		struct strv env = {0};
		int code = EXIT_KRILL;
		/* Our command in the container's cgroup, seen as its root, as
		 * the winner's command is. */
		if (ncg > 0 && cgroup_enter_fds(cg_fds, ncg, e) < 0)
			goto fail;
		if (ncg > 0 && unshare(CLONE_NEWCGROUP) < 0) {
			kerr_set(e, errno, "can't create a cgroup namespace");
			goto fail;
		}
		if (launch_prepare(c, environ, &env, e) == 0)
			code = launch_exec(c, c->argv, env.v, &r->sec, e);
	fail:
		kerr_print(e);
		_exit(code);
	}
	for (int i = 0; i < ncg; i++)
		close(cg_fds[i]);
	int status = supervise_wait(pid, false, NULL, NULL);
	join_peer_done(r->join);
	return status;
fail_fds:
	for (int i = 0; i < ncg; i++)
		close(cg_fds[i]);
	return EXIT_KRILL;
}

/* --pid with --join: the PID namespace dies with its init, but peers'
 * commands run in it too, and only the supervisor knows when they are done.
 * So the init, once its own children are gone, says so and waits to be
 * released; the supervisor releases it when the group is done. */
static bool init_hold(void *arg, bool children_left)
{
	struct run *r = arg;
	char byte;
	if (!children_left && !r->init_done) {
		r->init_done = true;
		if (write(r->init_sock[1], "d", 1) < 0)
			return false; /* the supervisor is gone */
	}
	if (r->init_done && read(r->init_sock[1], &byte, 1) != -1)
		return false; /* released (or the supervisor is gone) */
	return true;
}

static bool supervisor_hold(void *arg, bool children_left)
{
	struct run *r = arg;
	if (join_hold(r->join))
		return true;
	if (r->init_sock[0] < 0)
		return false;
	char byte;
	if (!r->init_released && read(r->init_sock[0], &byte, 1) == 1) {
		r->init_released = true;
		if (write(r->init_sock[0], "r", 1) < 0)
			return false;
	}
	return !r->init_released && children_left;
}

/* The container side, after the fork if there is one: build the tree,
 * enter the inner namespaces and exec.  Returns only on failure. */
static int run_container_side(struct run *r, struct kerr *e)
{
	struct container *c = r->c;
	r->host.own_mount_ns = r->supervise;
	if (tree_finish(c, &r->host, e) < 0)
		return EXIT_KRILL;
	/* CDI createContainer hooks: the container's root is their view. */
	bool writable = c->write || c->write_fake;
	const struct capsets *hook_caps = r->privileged ? &r->sec.caps : NULL;
	if (cdi_hooks_run(c->cdi, CDI_HOOK_CREATE, writable, hook_caps, e) < 0)
		return EXIT_KRILL;

	struct strv env = {0};
	if (launch_prepare(c, environ, &env, e) < 0)
		return EXIT_KRILL;

	if (c->ns_pid) {
		/* We are PID 1 of the new namespace: stay as its init, and run
		 * the command as our child.  If the supervisor is killed, take
		 * the namespace (every process in it) down with us. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		supervise_init_handlers();
		pid_t pid = fork();
		if (pid < 0) {
			kerr_set(e, errno, "can't fork the container's first process");
			return EXIT_KRILL;
		}
		if (pid > 0) {
			prctl(PR_SET_NAME, "krill-init");
			/* Only the command sends the namespaces: were our copy
			 * of the socket kept open, a command that died before
			 * sending would leave the supervisor waiting for them
			 * while (with --join) we wait to be released. */
			if (r->ns_sock[1] >= 0) {
				close(r->ns_sock[1]);
				r->ns_sock[1] = -1;
			}
			if (r->init_sock[1] < 0)
				_exit(supervise_wait(pid, true, NULL, NULL));
			_exit(supervise_wait(pid, false, init_hold, r));
		}
	}
	if (r->supervise || c->ns_pid)
		sigprocmask(SIG_SETMASK, &r->oldmask, NULL);

	if (!r->privileged) {
		/* The inner namespaces: map the outer root to the container's
		 * IDs.  Its own mount namespace locks the tree we built, so
		 * even a container root can't unmount a bind to see what lies
		 * beneath. */
		if (userns_unshare(c->uid, c->gid, CLONE_NEWNS, e) < 0)
			return EXIT_KRILL;
	}
	if (r->ns_sock[1] >= 0 && send_namespaces(r->ns_sock[1], e) < 0)
		return EXIT_KRILL;
	if (cdi_hooks_run(c->cdi, CDI_HOOK_START, writable, hook_caps, e) < 0)
		return EXIT_KRILL;
	if (c->hold_fd >= 0) {
		/* No command of our own: processes that enter the container
		 * apply no_new_privs themselves (bin/krill_spank.c).  Unlike
		 * a command, the holder dies with its supervisor. */
		return hold_report_and_wait(c->hold_fd, c->cwd, env.v, e) < 0 ? EXIT_KRILL : 0;
	}
	return launch_exec(c, c->argv, env.v, &r->sec, e);
}

int run_container(struct container *c, struct kerr *e)
{
	struct run r = {.c = c, .privileged = geteuid() == 0 && !c->userns,
	                .ns_sock = {-1, -1}, .init_sock = {-1, -1},
	                .record_dir = -1};
	int status = EXIT_KRILL;
	/* Tasks enter a held container by setns alone (bin/krill_spank.c):
	 * nothing that would need more than that to confine them. */
	if (c->hold_fd >= 0 && (c->argv || c->join || c->ns_pid || c->seccomp_fakeroot ||
	                        c->seccomp_profile || c->cap_add.n || c->cap_drop.n ||
	                        c->memory || c->cpus_milli || c->pids_limit)) {
		kerr_set(e, 0, "--hold-fd: a held container takes no command, --join, --pid, "
		               "seccomp, capability or cgroup limit options");
		goto out;
	}
	if (run_prepare(&r, e) < 0)
		goto out;
	bool winner = true;
	if (c->join && join_begin(c, &r.join, &winner, e) < 0)
		goto out;
	if (!winner) {
		status = run_peer(&r, e);
		goto out;
	}

	/* A named or joined container is held by its supervisor, which keeps
	 * its namespaces for peers and krill exec. */
	bool hold_ns = r.join || c->name;
	if ((c->memory || c->cpus_milli || c->pids_limit) && run_cgroup(&r, e) < 0)
		goto out;
	r.supervise = (r.sq && !r.privileged) || c->ns_pid || hold_ns || r.cg;
	if ((hold_ns && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, r.ns_sock) < 0) ||
	    (r.join && c->ns_pid &&
	     socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, r.init_sock) < 0)) {
		kerr_set(e, errno, "can't create a socket pair");
		goto out;
	}
	if (r.supervise && supervise_prepare(&r.oldmask) < 0) {
		kerr_set(e, errno, "can't prepare the supervisor");
		goto out;
	}
	int flags = ns_flags(c);
	klog(KLOG_VERBOSE, "creating namespaces%s", r.privileged ? " (as root)" : "");
	if (r.privileged) {
		if (unshare(flags) < 0) {
			kerr_set(e, errno, "can't create namespaces");
			goto out;
		}
	} else if (userns_unshare(0, 0, flags, e) < 0) {
		goto out;
	}
	if (ns_setup(c, e) < 0 || tree_stage(e) < 0 || run_mount_image(&r, e) < 0)
		goto out;

	if (!r.supervise) {
		status = run_container_side(&r, e);
		goto out;
	}
	/* The child asks the kernel to kill it when we die, but a supervisor
	 * killed between the fork and that request would leave it orphaned
	 * (with --pid, an init nobody releases): it checks our pidfd after
	 * asking.  getppid() can't tell, as it is 0 in a new PID namespace. */
	int parent_fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	pid_t pid = ns_fork(c);
	if (pid < 0) {
		kerr_set(e, errno, "can't fork the container");
		if (parent_fd >= 0)
			close(parent_fd);
		goto out;
	}
	if (pid == 0) {
		/* Until exec, a setup that lost its supervisor has no one to
		 * report to: die with it (cleared again in launch_exec). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (parent_fd >= 0) {
			struct pollfd pfd = {.fd = parent_fd, .events = POLLIN};
			if (poll(&pfd, 1, 0) != 0)
				_exit(EXIT_KRILL); /* already gone: nobody to report to */
			close(parent_fd);
		}
		if (r.sq)
			squash_child_drop(r.sq); /* the FUSE connection belongs to the parent */
		/* Only the container is limited, not its supervisor (the FUSE
		 * server's cache would count against --memory). */
		if (r.cg && cgroup_enter(r.cg, 0, e) < 0) {
			kerr_print(e);
			_exit(EXIT_KRILL);
		}
		/* ... and sees its own cgroup as the root of its hierarchy. */
		if (r.cg && unshare(CLONE_NEWCGROUP) < 0) {
			kerr_set(e, errno, "can't create a cgroup namespace");
			kerr_print(e);
			_exit(EXIT_KRILL);
		}
		if (r.ns_sock[0] >= 0) {
			close(r.ns_sock[0]);
			r.ns_sock[0] = -1;
		}
		if (r.init_sock[0] >= 0) {
			close(r.init_sock[0]);
			r.init_sock[0] = -1;
		}
		int rc = run_container_side(&r, e);
		if (e->msg[0])
			kerr_print(e);
		_exit(rc);
	}
	if (parent_fd >= 0)
		close(parent_fd);
	prctl(PR_SET_NAME, "krill-supervise");
	if (c->hold_fd >= 0) {
		/* Only the container holds the reporting socket: its end
		 * closing is how the plugin sees the container go. */
		close(c->hold_fd);
	}
	if (r.sq && squash_serve_start(r.sq, c->squash_threads ? c->squash_threads
							 : squash_default_threads(), e) < 0) {
		kill(pid, SIGKILL);
		if (r.join)
			join_fail(r.join);
		goto out;
	}
	struct ns_set held;
	ns_set_init(&held);
	bool recorded = false;
	if (hold_ns) {
		close(r.ns_sock[1]);
		r.ns_sock[1] = -1;
		if (collect_namespaces(&r, &held) < 0) {
			if (r.join)
				join_fail(r.join); /* the container died during setup */
		} else {
			if (r.join)
				join_ready(r.join, &held);
			if (c->name)
				recorded = run_record(&r, pid, &held, e) == 0;
		}
	}
	if (r.init_sock[1] >= 0) {
		close(r.init_sock[1]);
		r.init_sock[1] = -1;
	}
	status = supervise_wait(pid, false, r.join ? supervisor_hold : NULL, &r);
	uint64_t ooms = 0;
	if (r.cg && cgroup_oom_kills(r.cg, &ooms) == 0 && ooms > 0)
		klog(KLOG_WARN, "out of memory: the OOM killer killed %llu process%s of the "
		     "container (--memory)", (unsigned long long)ooms, ooms > 1 ? "es" : "");
	if (r.cg && cgroup_destroy(r.cg, e) < 0) {
		kerr_print(e);
		e->msg[0] = '\0';
	}
	if (recorded)
		record_remove_at(r.record_dir, c->name);
	ns_set_close(&held);
	/* The container has been reaped: any error it had, it printed. */
	e->msg[0] = '\0';
out:
	run_free(&r);
	return status;
}
