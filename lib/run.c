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
#include "env.h"
#include "image.h"
#include "launch.h"
#include "log.h"
#include "ns.h"
#include "passwd.h"
#include "squash.h"
#include "supervise.h"
#include "tree.h"
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
};

static void run_free(struct run *r)
{
	free(r->passwd);
	free(r->group);
	free(r->user);
	free(r->home);
	free(r->container_home);
	free(r->tmpdir);
	if (r->sq)
		squash_close(r->sq);
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
	const char *home = getenv("HOME");
	r->home = home ? xstrdup(home) : pw ? xstrdup(pw->pw_dir) : NULL;
	r->container_home = xasprintf("/home/%s", r->user);
	const char *tmp = getenv("TMPDIR");
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
	}
	if (c->image_type == IMAGE_SQUASH && squash_open(c->image, &r->sq, e) < 0)
		return -1;

	r->host = (struct tree_host){
		.user = r->user, .home = r->home, .tmpdir = r->tmpdir,
		.passwd = r->passwd, .group = r->group, .container_home = r->container_home,
		.privileged = r->privileged, .fresh_proc = c->ns_pid,
	};
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

/* The container side, after the fork if there is one: build the tree,
 * enter the inner namespaces and exec.  Returns only on failure. */
static int run_container_side(struct run *r, struct kerr *e)
{
	struct container *c = r->c;
	r->host.own_mount_ns = r->supervise;
	if (tree_finish(c, &r->host, e) < 0)
		return EXIT_KRILL;

	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!c->argv && image_default_cmd(root, &c->argv, e) < 0)
		return EXIT_KRILL;
	if (!c->argv) {
		c->argv = xcalloc(2, sizeof *c->argv);
		c->argv[0] = xstrdup("/bin/sh");
	}
	if (!c->cwd)
		c->cwd = image_default_cwd(root);
	struct strv env = {0};
	if (env_build(c, root, environ, &env, e) < 0)
		return EXIT_KRILL;

	if (c->ns_pid) {
		/* We are PID 1 of the new namespace: stay as its init, and run
		 * the command as our child. */
		supervise_init_handlers();
		pid_t pid = fork();
		if (pid < 0) {
			kerr_set(e, errno, "can't fork the container's first process");
			return EXIT_KRILL;
		}
		if (pid > 0) {
			prctl(PR_SET_NAME, "krill-init");
			_exit(supervise_wait(pid, true, NULL, NULL));
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
	return launch_exec(c, c->argv, env.v, r->privileged, e);
}

int run_container(struct container *c, struct kerr *e)
{
	struct run r = {.c = c, .privileged = geteuid() == 0 && !c->userns};
	int status = EXIT_KRILL;
	if (run_prepare(&r, e) < 0)
		goto out;

	r.supervise = (r.sq && !r.privileged) || c->ns_pid;
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
	pid_t pid = fork();
	if (pid < 0) {
		kerr_set(e, errno, "can't fork the container");
		goto out;
	}
	if (pid == 0) {
		if (r.sq)
			squash_forget(r.sq); /* the FUSE connection belongs to the parent */
		int rc = run_container_side(&r, e);
		kerr_print(e);
		_exit(rc);
	}
	prctl(PR_SET_NAME, "krill-supervise");
	if (r.sq && squash_serve_start(r.sq, c->squash_threads, e) < 0) {
		kill(pid, SIGKILL);
		goto out;
	}
	status = supervise_wait(pid, false, NULL, NULL);
	/* The container has been reaped: any error it had, it printed. */
	e->msg[0] = '\0';
out:
	run_free(&r);
	return status;
}
