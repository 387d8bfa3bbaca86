/* cdi_apply.c: the parts of a CDI plan that happen inside the container's
 * namespaces: a /dev of the container's own, and the hooks.
 *
 * /dev: krill binds the host's /dev whole, which shows every node at its
 * host path.  A node the spec renames (hostPath /dev/zero at /dev/kgpu0) or
 * that root creates from its numbers needs a mount point that the host's
 * /dev doesn't have, and creating one there would write to the host.  So
 * the container then gets a tmpfs on /dev with a bind of each entry of the
 * host's /dev (directories recursively, symlinks copied), and the plan's
 * nodes on top.  A device node on a tmpfs mounted in a user namespace can't
 * be opened (the kernel sets SB_I_NODEV), but a bind of the host's node can:
 * the bound inode stays on the host's devtmpfs.
 *
 * Hooks: see doc/cdi.md, "Hooks". */
#include "cdi.h"
#include "caps.h"
#include "log.h"
#include "oci_hooks.h"
#include "path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the staging namespace the host's root is at /oldroot. */
#define STAGED_PROC_FD "/oldroot/proc/self/fd/"
#define STAGED_DEV "/oldroot/dev"

static int bind_fd(const char *src, int dst_fd, const char *what, struct kerr *e)
{
	char target[64];
	snprintf(target, sizeof target, STAGED_PROC_FD "%d", dst_fd);
	klog(KLOG_DEBUG, "mount %s on %s (bind)", src, what);
	if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return kerr_set(e, errno, "can't bind %s at %s", src, what);
	return 0;
}

/* Is /dev/NAME (a top-level entry) taken by one of the plan's nodes? */
static bool taken(const struct cdi_plan *p, const char *name)
{
	for (size_t i = 0; i < p->nnodes; i++) {
		const char *rel = p->nodes[i].path + 5;
		rel += strspn(rel, "/");
		size_t n = strcspn(rel, "/");
		if (rel[n] == '\0' && strlen(name) == n && !strncmp(rel, name, n))
			return true;
	}
	return false;
}

static int mirror_entry(int host, int top, const char *name, struct kerr *e)
{
	struct stat st;
	_cleanup_free_ char *what = xasprintf("/dev/%s", name);
	if (fstatat(host, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : kerr_set(e, errno, "can't stat the host's %s", what);
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(host, name, target, sizeof target - 1);
		if (n < 0)
			return kerr_set(e, errno, "can't read the host's %s", what);
		target[n] = '\0';
		if (symlinkat(target, top, name) < 0)
			return kerr_set(e, errno, "can't create %s in the container", what);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(top, name, 0755) < 0)
			return kerr_set(e, errno, "can't create %s in the container", what);
	} else {
		int fd = openat(top, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return kerr_set(e, errno, "can't create %s in the container", what);
		close(fd);
	}
	_cleanup_close_ int dst = openat(top, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0)
		return kerr_set(e, errno, "can't open %s in the container", what);
	_cleanup_free_ char *src = xasprintf(STAGED_DEV "/%s", name);
	return bind_fd(src, dst, what, e);
}

static int place_node(const struct cdi_plan_node *n, int top, const struct mount_set *tmpfs,
                      struct kerr *e)
{
	const char *rel = n->path + 5;
	rel += strspn(rel, "/");
	if (!n->host_path) {
		/* Real root: create it from the spec's numbers. */
		_cleanup_free_ char *dir = xstrdup(rel);
		char *slash = strrchr(dir, '/');
		const char *base = slash ? slash + 1 : rel;
		_cleanup_close_ int parent = -1;
		if (slash) {
			*slash = '\0';
			parent = mkpath_beneath(top, dir, false, 0755, tmpfs);
		} else {
			parent = fcntl(top, F_DUPFD_CLOEXEC, 0);
		}
		if (parent < 0)
			return kerr_set(e, errno, "%s: can't create the directory of %s", n->what, n->path);
		if (mknodat(parent, base, n->type | (n->mode & 0777), n->rdev) < 0)
			return kerr_set(e, errno, "%s: can't create device node %s", n->what, n->path);
		if (fchownat(parent, base, n->uid, n->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(parent, base, n->mode & 0777, 0) < 0)
			return kerr_set(e, errno, "%s: can't set the owner and mode of %s", n->what,
			                n->path);
		klog(KLOG_VERBOSE, "created device node %s", n->path);
		return 0;
	}
	_cleanup_close_ int dst = mkpath_beneath(top, rel, true, 0644, tmpfs);
	if (dst < 0) {
		if (errno == EXDEV)
			return kerr_set(e, 0, "%s: can't create %s: its directory is the host's",
			                n->what, n->path);
		return kerr_set(e, errno, "%s: can't create %s", n->what, n->path);
	}
	struct stat st;
	if (fstat(dst, &st) < 0 || S_ISDIR(st.st_mode))
		return kerr_set(e, errno ? errno : EISDIR, "%s: can't use %s", n->what, n->path);
	_cleanup_free_ char *src = xasprintf("/oldroot%s", n->host_path);
	klog(KLOG_VERBOSE, "binding device %s at %s", n->host_path, n->path);
	return bind_fd(src, dst, n->path, e);
}

int cdi_dev_build(const struct cdi_plan *p, int root_fd, bool privileged, struct kerr *e)
{
	_cleanup_close_ int dev = open_beneath(root_fd, "/dev", O_PATH | O_DIRECTORY);
	if (dev < 0)
		return kerr_set(e, errno, "CDI devices: can't open /dev in the image");
	char target[64];
	snprintf(target, sizeof target, STAGED_PROC_FD "%d", dev);
	klog(KLOG_VERBOSE, "a /dev of the container's own, for the CDI device nodes");
	if (mount("krill", target, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m") < 0)
		return kerr_set(e, errno, "can't mount a tmpfs on the container's /dev");
	_cleanup_close_ int top = open_beneath(root_fd, "/dev", O_RDONLY | O_DIRECTORY);
	if (top < 0)
		return kerr_set(e, errno, "can't open the container's /dev");
	uint64_t tmpfs_id;
	if (mount_of(top, &tmpfs_id, NULL) < 0)
		return kerr_set(e, errno, "can't identify the container's /dev");
	/* Nodes are made only on that tmpfs, never through a link elsewhere. */
	const struct mount_set tmpfs = {.id = &tmpfs_id, .n = 1};
	int host = open(STAGED_DEV, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = host >= 0 ? fdopendir(host) : NULL;
	if (!d) {
		if (host >= 0)
			close(host);
		return kerr_set(e, errno, "can't read the host's /dev");
	}
	struct dirent *de;
	int rc = 0;
	errno = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || taken(p, de->d_name))
			continue;
		rc = mirror_entry(dirfd(d), top, de->d_name, e);
	}
	closedir(d);
	for (size_t i = 0; rc == 0 && i < p->nnodes; i++)
		rc = place_node(&p->nodes[i], top, &tmpfs, e);
	(void)privileged;
	return rc;
}

/* ---- hooks ---------------------------------------------------------------- */

static int run_program(char *const argv[], struct kerr *e)
{
	pid_t pid = fork();
	if (pid < 0)
		return kerr_set(e, errno, "can't fork %s", argv[0]);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* not outliving a killed krill */
		char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, 0);
		dup2(2, 1);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return kerr_set(e, errno, "can't wait for %s", argv[0]);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return kerr_set(e, 0, "%s failed (%s %d)", argv[0],
		                WIFEXITED(st) ? "exit status" : "signal",
		                WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}

/* update-ldcache: the container's own ldconfig, with the folders added, so
 * that its ld.so.cache finds the injected libraries. */
static int emulate_ldcache(const struct cdi_plan_hook *h, struct kerr *e)
{
	static const char *const where[] = {"/sbin/ldconfig", "/usr/sbin/ldconfig",
	                                    "/sbin/ldconfig.real"};
	const char *ldconfig = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(where) && !ldconfig; i++)
		if (access(where[i], X_OK) == 0)
			ldconfig = where[i];
	if (!ldconfig) {
		/* A static (busybox, musl) image: no ld.so.cache to update. */
		klog(KLOG_VERBOSE, "%s: update-ldcache: the image has no ldconfig: nothing to "
		     "update", h->hook->where);
		return 0;
	}
	struct strv argv = {0};
	strv_push(&argv, ldconfig);
	for (size_t i = 0; i < h->folders.n; i++)
		strv_push(&argv, h->folders.v[i]);
	klog(KLOG_VERBOSE, "update-ldcache: running %s in the container", ldconfig);
	int rc = run_program(argv.v, e);
	strv_free(&argv);
	if (rc < 0) {
		char why[sizeof e->msg];
		kerr_str(e, why, sizeof why);
		return kerr_set(e, 0, "%s: update-ldcache: %s", h->hook->where, why);
	}
	return 0;
}

static int emulate_symlinks(const struct cdi_plan_hook *h, int root, struct kerr *e)
{
	for (size_t i = 0; i < h->folders.n; i++) {
		const char *spec = h->folders.v[i], *sep = strstr(spec, "::");
		_cleanup_free_ char *target = xstrndup(spec, sep - spec);
		_cleanup_free_ char *link = xstrdup(sep + 2);
		char *slash = strrchr(link, '/');
		*slash = '\0';
		const char *base = slash + 1;
		if (!*base)
			return kerr_set(e, 0, "%s: create-symlinks: '%s' has no name", h->hook->where,
			                sep + 2);
		_cleanup_close_ int dir = *link ? mkpath_beneath(root, link, false, 0755, NULL)
		                                : fcntl(root, F_DUPFD_CLOEXEC, 0);
		if (dir < 0)
			return kerr_set(e, errno, "%s: create-symlinks: can't create %s", h->hook->where,
			                link);
		/* Not into a bind of a host directory (/tmp, $HOME): that would
		 * write on the host. */
		uint64_t root_mnt = 0, mnt = 1;
		if (mount_of(root, &root_mnt, NULL) == 0 && mount_of(dir, &mnt, NULL) == 0 &&
		    mnt != root_mnt) {
			klog(KLOG_VERBOSE, "create-symlinks %s: skipped: not on the container's own "
			     "filesystem", sep + 2);
			continue;
		}
		if (symlinkat(target, dir, base) < 0 && errno != EEXIST)
			return kerr_set(e, errno, "%s: create-symlinks: can't create %s", h->hook->where,
			                sep + 2);
		klog(KLOG_DEBUG, "create-symlinks: %s -> %s", sep + 2, target);
	}
	return 0;
}

/* chmod: only on the container's own filesystem; a path on a bind of a
 * host file would change the host's. */
static int emulate_chmod(const struct cdi_plan_hook *h, int root, struct kerr *e)
{
	uint64_t root_mnt, mnt;
	if (mount_of(root, &root_mnt, NULL) < 0)
		root_mnt = 0;
	for (size_t i = 0; i < h->folders.n; i++) {
		const char *path = h->folders.v[i];
		_cleanup_close_ int fd = open_beneath(root, path, O_PATH | O_NOFOLLOW);
		if (fd < 0)
			return kerr_set(e, errno, "%s: chmod %s", h->hook->where, path);
		if (mount_of(fd, &mnt, NULL) < 0 || mnt != root_mnt) {
			klog(KLOG_VERBOSE, "chmod %s: skipped: not on the container's own filesystem",
			     path);
			continue;
		}
		char p[64];
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		if (chmod(p, h->mode) < 0)
			return kerr_set(e, errno, "%s: chmod %s", h->hook->where, path);
	}
	return 0;
}

static int run_hooks(const struct cdi_plan *p, enum cdi_hook_stage stage, bool writable,
                     struct kerr *e);

int cdi_hooks_run(const struct cdi_plan *p, enum cdi_hook_stage stage, bool writable,
                  const struct capsets *caps, struct kerr *e)
{
	bool any = false;
	for (size_t i = 0; p && i < p->nhooks; i++)
		any |= p->hooks[i].stage == stage;
	if (!any)
		return 0;
	if (!caps)
		return run_hooks(p, stage, writable, e);
	/* Real root: the hooks (and ldconfig) are the image's programs; they
	 * get what the container's root gets, in a child of their own. */
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return kerr_set(e, errno, "can't create a pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return kerr_set(e, errno, "can't fork for the CDI hooks");
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pipefd[0]);
		int rc = -1;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			kerr_set(e, errno, "can't set no_new_privs");
		else if (caps_apply(caps, e) == 0)
			rc = run_hooks(p, stage, writable, e);
		if (rc < 0 && write(pipefd[1], e, sizeof *e) < 0)
			_exit(2);
		_exit(rc < 0);
	}
	close(pipefd[1]);
	struct kerr child = {0};
	ssize_t n;
	do
		n = read(pipefd[0], &child, sizeof child);
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof child) {
		*e = child;
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return kerr_set(e, 0, "the CDI hooks' process failed");
	return 0;
}

static int run_hooks(const struct cdi_plan *p, enum cdi_hook_stage stage, bool writable,
                     struct kerr *e)
{
	_cleanup_close_ int root = -1;
	_cleanup_free_ char *state = xasprintf(
		"{\"ociVersion\":\"1.0.2\",\"id\":\"krill-%d\",\"status\":\"%s\",\"pid\":%d,"
		"\"bundle\":\"/\"}", getpid(), stage == CDI_HOOK_CREATE ? "creating" : "created",
		getpid());
	for (size_t i = 0; i < p->nhooks; i++) {
		const struct cdi_plan_hook *h = &p->hooks[i];
		if (h->stage != stage)
			continue;
		if (root < 0 && (root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			return kerr_set(e, errno, "can't open the container's root");
		if (h->op != CDI_HOOK_EXEC && h->op != CDI_HOOK_NOOP && !writable) {
			klog(KLOG_WARN, "%s: %s %s: skipped: the image is read-only (-W makes it "
			     "writable)", h->hook->where, h->hook->args.v[0],
			     h->op == CDI_HOOK_LDCACHE ? "update-ldcache"
			     : h->op == CDI_HOOK_SYMLINKS ? "create-symlinks" : "chmod");
			continue;
		}
		int rc = 0;
		switch (h->op) {
		case CDI_HOOK_EXEC: {
			struct oci_hook oh = {.path = h->hook->path, .args = h->hook->args,
			                      .env = h->hook->env, .timeout = (int)h->hook->timeout};
			struct oci_hook_list l = {.v = &oh, .n = 1};
			klog(KLOG_VERBOSE, "running %s hook %s", h->hook->name, h->hook->path);
			rc = oci_hooks_run(&l, stage == CDI_HOOK_CREATE ? OCI_HOOK_CREATE_CONTAINER
			                                                : OCI_HOOK_START_CONTAINER,
			                   state, e);
			break;
		}
		case CDI_HOOK_LDCACHE:
			rc = emulate_ldcache(h, e);
			break;
		case CDI_HOOK_SYMLINKS:
			rc = emulate_symlinks(h, root, e);
			break;
		case CDI_HOOK_CHMOD:
			rc = emulate_chmod(h, root, e);
			break;
		case CDI_HOOK_NOOP:
			klog(KLOG_VERBOSE, "%s: %s: nothing to do in krill", h->hook->where,
			     h->hook->args.v[h->hook->args.n > 2 && !strcmp(h->hook->args.v[1], "hook") ? 2 : 1]);
			break;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}
