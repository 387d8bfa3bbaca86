/* tree.c: the container's filesystem tree (see tree.h for the phases).
 *
 * All of this happens in a private mount namespace, as root of the outer
 * user namespace (or as real root), so no mount is ever visible on the
 * host and nothing is written there.  Destinations inside the image are
 * resolved with open_beneath(), so a symlink in the image can't redirect a
 * bind onto a host path; mounts then target the resolved fd through
 * /proc/self/fd, which closes the window between checking and mounting. */
#include "tree.h"
#include "apt.h"
#include "log.h"
#include "passwd.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PROC_FD "/oldroot/proc/self/fd/"

static int do_mount(const char *src, const char *dst, const char *type, unsigned long flags,
                    const char *data, const char *what, struct kerr *e)
{
	klog(KLOG_DEBUG, "mount %s on %s (%s%s%s)", src ? src : "none", dst, type ? type : "bind",
	     data ? ", " : "", data ? data : "");
	if (mount(src, dst, type, flags, data) < 0)
		return kerr_set(e, errno, "can't mount %s", what);
	return 0;
}

int tree_stage(struct kerr *e)
{
	/* Slave, not private: unmounts on the host (autofs expiry, a
	 * filesystem going away) still reach us, but nothing flows back. */
	if (do_mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL, "/ as a slave", e) < 0)
		return -1;
	/* The staging area: a tmpfs that exists only in our namespace. /tmp
	 * is the one directory every host has; the host's /tmp stays
	 * reachable at /oldroot/tmp once we have pivoted. */
	if (do_mount("krill", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m",
	             "the staging tmpfs on /tmp", e) < 0)
		return -1;
	const char *dirs[] = {"/tmp/image", "/tmp/newroot", "/tmp/oldroot", "/tmp/rw"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (mkdir(dirs[i], 0755) < 0)
			return kerr_set(e, errno, "can't create %s in the staging tmpfs", dirs[i]);
	/* Code that opens /dev/fuse, /dev/loop-control or /proc/self/... by
	 * path keeps working in the staging root. */
	const char *links[] = {"dev", "proc", "sys"};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		char from[32], to[32];
		snprintf(from, sizeof from, "/tmp/%s", links[i]);
		snprintf(to, sizeof to, TREE_OLDROOT "/%s", links[i]);
		if (symlink(to, from) < 0)
			return kerr_set(e, errno, "can't create %s in the staging tmpfs", from);
	}
	if (chdir("/tmp") < 0)
		return kerr_set(e, errno, "can't enter the staging tmpfs");
	if (syscall(SYS_pivot_root, ".", "oldroot") < 0) {
		kerr_set(e, errno, "can't pivot into the staging tmpfs");
		return kerr_hint(e, "is the host root an initramfs (rootfs)? krill needs a real "
		                    "root filesystem");
	}
	if (chdir("/") < 0)
		return kerr_set(e, errno, "can't chdir to /");
	return 0;
}

int tree_bind_image(const char *host_dir, struct kerr *e)
{
	_cleanup_free_ char *src = xasprintf(TREE_OLDROOT "%s", host_dir);
	return do_mount(src, TREE_IMAGE_DIR, NULL, MS_BIND | MS_REC, NULL, host_dir, e);
}

/* Flags of an existing mount that a bind remount must keep: the kernel
 * refuses (EPERM) to drop nosuid/nodev/noexec/atime flags that a less
 * privileged namespace inherited locked. */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	if (statvfs(path, &sv) < 0)
		return 0;
	unsigned long f = 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* Make a mount read-only, with its submounts when recursive. */
static int make_readonly(const char *path, bool recursive, const char *what, struct kerr *e)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr,
	            sizeof attr) == 0)
		return 0;
	if (errno != ENOSYS)
		return kerr_set(e, errno, "can't make %s read-only", what);
	/* Before 5.12: only the top mount can be remounted read-only. */
	if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(path),
	          NULL) < 0)
		return kerr_set(e, errno, "can't make %s read-only", what);
	return 0;
}

/* What one tree_finish() call knows. */
struct builder {
	const struct container *c;
	const struct tree_host *h;
	int root_fd;            /* the new root */
	bool writable;          /* may we create mount points? */
	struct strv mounted;    /* destinations bound so far */
	uint64_t own[8];        /* mount IDs of the image and of krill's own */
	size_t nown;            /*   filesystems (tmpfs, sysfs, proc): not host binds */
};

static bool own_mount(const struct builder *b, uint64_t id)
{
	for (size_t i = 0; i < b->nown; i++)
		if (b->own[i] == id)
			return true;
	return false;
}

static void add_own_mount(struct builder *b, int fd)
{
	uint64_t id;
	if (b->nown < ARRAY_SIZE(b->own) && mount_of(fd, &id, NULL) == 0)
		b->own[b->nown++] = id;
}

static bool path_inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

struct bind_req {
	const char *src;        /* host path (as seen before staging) */
	const char *dst;        /* inside the container */
	const char *what;       /* for messages: "--bind=/a:/b", "/dev" ... */
	unsigned long flags;    /* MS_REC etc. */
	bool ro, optional, create;
	bool src_is_staged;     /* src is a path in the staging tmpfs */
};

static int bind_into(struct builder *b, const struct bind_req *r, struct kerr *e)
{
	_cleanup_free_ char *src = r->src_is_staged ? xstrdup(r->src) : xasprintf(TREE_OLDROOT "%s", r->src);
	struct stat sst;
	if (stat(src, &sst) < 0) {
		if (r->optional && errno == ENOENT)
			return 0;
		return kerr_set(e, errno, "%s: can't use source %s", r->what, r->src);
	}
	for (size_t i = 0; i < b->mounted.n; i++)
		if (path_inside(r->dst, b->mounted.v[i]))
			return kerr_set(e, 0, "%s: destination %s is inside the earlier bind at %s",
			                r->what, r->dst, b->mounted.v[i]);
	_cleanup_close_ int dst = open_beneath(b->root_fd, r->dst, O_PATH);
	if (dst < 0 && errno == ENOENT && !r->optional && r->create && b->writable)
		dst = mkpath_beneath_in(b->root_fd, r->dst, !S_ISDIR(sst.st_mode), 0755, b->own,
		                        b->nown);
	if (dst < 0) {
		int err = errno;
		if (r->optional && (err == ENOENT || err == ENOTDIR))
			return 0;
		if (err == EXDEV || err == ELOOP)
			return kerr_set(e, 0, "%s: destination %s leads outside the image (symlink)",
			                r->what, r->dst);
		if (err == ENOENT && !b->writable) {
			kerr_set(e, 0, "%s: destination %s doesn't exist in the image", r->what,
			         r->dst);
			return kerr_hint(e, "create it in the image, or use -W to create it in a "
			                    "writable overlay");
		}
		return kerr_set(e, err, "%s: can't open destination %s", r->what, r->dst);
	}
	/* A symlink in the image may lead into an earlier bind's subtree,
	 * which the textual check above can't see: only the image's own
	 * filesystem, or an earlier mount point itself (to mount over it), may
	 * take a mount. */
	uint64_t dst_mnt;
	bool dst_is_mount_root = false;
	if (b->nown && mount_of(dst, &dst_mnt, &dst_is_mount_root) == 0 &&
	    !own_mount(b, dst_mnt) && !dst_is_mount_root)
		return kerr_set(e, 0, "%s: destination %s resolves into an earlier bind", r->what,
		                r->dst);
	struct stat dstat;
	if (fstat(dst, &dstat) < 0)
		return kerr_set(e, errno, "%s: can't stat destination %s", r->what, r->dst);
	if (S_ISDIR(dstat.st_mode) != S_ISDIR(sst.st_mode)) {
		if (r->optional)
			return 0;
		return kerr_set(e, 0, "%s: can't bind a %s onto a %s", r->what,
		                S_ISDIR(sst.st_mode) ? "directory" : "file",
		                S_ISDIR(dstat.st_mode) ? "directory" : "file");
	}
	char target[64];
	snprintf(target, sizeof target, PROC_FD "%d", dst);
	if (do_mount(src, target, NULL, MS_BIND | r->flags, NULL, r->what, e) < 0)
		return -1;
	if (r->ro) {
		/* The fd still names the covered directory; reopen the mount. */
		_cleanup_close_ int top = open_beneath(b->root_fd, r->dst, O_PATH);
		if (top < 0)
			return kerr_set(e, errno, "%s: can't reopen %s", r->what, r->dst);
		snprintf(target, sizeof target, PROC_FD "%d", top);
		if (make_readonly(target, r->flags & MS_REC, r->what, e) < 0)
			return -1;
	}
	strv_push(&b->mounted, r->dst);
	return 0;
}

static int mount_overlay(const struct container *c, const struct tree_host *h, struct kerr *e)
{
	_cleanup_free_ char *size = xasprintf("mode=0755,size=%s",
	                                      c->write_fake_size ? c->write_fake_size : "12%");
	if (do_mount("krill", "/rw", "tmpfs", MS_NOSUID | MS_NODEV, size, "the -W tmpfs", e) < 0)
		return -1;
	if (mkdir("/rw/upper", 0755) < 0 || mkdir("/rw/work", 0755) < 0)
		return kerr_set(e, errno, "can't create the overlay's directories");
	/* userxattr: an unprivileged overlay keeps its metadata in user.*
	 * xattrs (trusted.* needs real root); tmpfs has them since 6.6. */
	const char *opts = "lowerdir=/image,upperdir=/rw/upper,workdir=/rw/work";
	_cleanup_free_ char *data = xasprintf("%s%s", opts, h->privileged ? "" : ",userxattr");
	if (mount("overlay", TREE_NEWROOT, "overlay", 0, data) < 0) {
		kerr_set(e, errno, "can't mount the writable overlay (-W)");
		return kerr_hint(e, "unprivileged overlayfs needs Linux 5.11 and tmpfs user "
		                    "xattrs (6.6); see `krill check`");
	}
	return 0;
}

/* The image's own file (dst, beneath root_fd) with our entries merged in;
 * ours alone when the image has no such regular file.  O_NONBLOCK: a FIFO
 * there can't hang us. */
static int image_passwd_merge(int root_fd, const char *dst, const char *ours, char **out,
                              struct kerr *e)
{
	_cleanup_close_ int fd = open_beneath(root_fd, dst, O_RDONLY | O_NONBLOCK);
	struct stat st;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		_cleanup_free_ char *what = xasprintf("the image's %s", dst);
		if (fd_read_all(fd, what, PASSWD_MAX, &buf, &len, e) < 0)
			return -1;
		klog(KLOG_VERBOSE, "merging your user and group into the image's %s", dst);
	}
	*out = passwd_merge(buf ? buf : "", len, ours);
	return 0;
}

/* The synthesized files live in the staging tmpfs: never on the host,
 * never in the image, and gone with our mount namespace. */
static int bind_passwd(struct builder *b, const char *name, const char *text, struct kerr *e)
{
	_cleanup_free_ char *staged = xasprintf("/%s", name);
	_cleanup_free_ char *dst = xasprintf("/etc/%s", name);
	_cleanup_free_ char *merged = NULL;
	if (image_passwd_merge(b->root_fd, dst, text, &merged, e) < 0)
		return -1;
	_cleanup_close_ int fd = open(staged, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t len = strlen(merged);
	if (fd < 0 || write(fd, merged, len) != (ssize_t)len)
		return kerr_set(e, errno, "can't write the container's %s", dst);
	_cleanup_close_ int f = open_beneath(b->root_fd, dst, O_PATH);
	if (f < 0 && !b->writable) {
		klog(KLOG_VERBOSE, "image has no %s; not providing it", dst);
		return 0;
	}
	struct bind_req r = {.src = staged, .dst = dst, .what = dst, .src_is_staged = true,
	                     .create = true, .ro = true};
	return bind_into(b, &r, e);
}

static char *bind_name(const struct bind *bd)
{
	return xasprintf("--bind=%s:%s%s", bd->src, bd->dst, bd->ro ? ":ro" : "");
}

static int bind_list(struct builder *b, bool site, struct kerr *e)
{
	const struct container *c = b->c;
	for (size_t i = 0; i < c->nbinds; i++) {
		const struct bind *bd = &c->binds[i];
		if (bd->site != site)
			continue;
		/* A later bind on the same destination wins: skip this one. */
		bool shadowed = false;
		for (size_t j = i + 1; j < c->nbinds; j++)
			if (c->binds[j].site == site && strcmp(c->binds[j].dst, bd->dst) == 0)
				shadowed = true;
		if (shadowed)
			continue;
		_cleanup_free_ char *what = bind_name(bd);
		if (strcmp(bd->dst, "/proc") == 0 || path_inside(bd->dst, "/proc"))
			return kerr_set(e, 0, "%s: can't bind over /proc", what);
		struct bind_req r = {.src = bd->src, .dst = bd->dst, .what = what,
		                     .flags = MS_REC, .ro = bd->ro, .optional = bd->optional,
		                     .create = true};
		klog(KLOG_VERBOSE, "binding %s at %s%s", bd->src, bd->dst, bd->ro ? " (read-only)" : "");
		if (bind_into(b, &r, e) < 0)
			return -1;
	}
	return 0;
}

/* A new filesystem of type on the image's directory dir (tmpfs, proc,
 * sysfs); the caller records it in b->mounted. */
static int fs_at(struct builder *b, const char *dir, const char *type, unsigned long flags,
                 const char *data, const char *what, struct kerr *e)
{
	_cleanup_close_ int fd = open_beneath(b->root_fd, dir, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return kerr_set(e, errno, "can't mount %s: %s in the image", what, dir);
	char target[64];
	snprintf(target, sizeof target, PROC_FD "%d", fd);
	const char *src = strcmp(type, "tmpfs") == 0 ? "krill" : type;
	if (do_mount(src, target, type, flags, data, what, e) < 0)
		return -1;
	_cleanup_close_ int top = open_beneath(b->root_fd, dir, O_PATH | O_DIRECTORY);
	if (top >= 0)
		add_own_mount(b, top);
	return 0;
}

static int default_binds(struct builder *b, struct kerr *e)
{
	static const char *optional[] = {
		"/etc/hosts", "/etc/resolv.conf", "/etc/machine-id", "/var/spool/slurmd",
		/* Cray's programming environment and its workload manager hooks. */
		"/opt/cray", "/var/opt/cray", "/etc/opt/cray", "/var/lib/hugetlbfs",
	};
	struct bind_req dev = {.src = "/dev", .dst = "/dev", .what = "/dev", .flags = MS_REC};
	if (bind_into(b, &dev, e) < 0)
		return -1;
	if (b->h->fresh_sys) {
		/* A new network namespace: sysfs shows the network devices of
		 * the namespace that mounts it, so the host's would list the
		 * host's interfaces.  The cgroup mounts below it come along. */
		struct bind_req cg = {.src = "/sys/fs/cgroup", .dst = "/sys/fs/cgroup",
		                      .what = "/sys/fs/cgroup", .flags = MS_REC, .optional = true};
		if (fs_at(b, "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "a new /sys",
		          e) < 0 || bind_into(b, &cg, e) < 0)
			return -1;
		strv_push(&b->mounted, "/sys"); /* after the cgroup bind inside it */
	} else {
		struct bind_req sys = {.src = "/sys", .dst = "/sys", .what = "/sys", .flags = MS_REC};
		if (bind_into(b, &sys, e) < 0)
			return -1;
	}
	if (b->h->fresh_proc) {
		/* A new PID namespace needs its own /proc; the host's would
		 * show the host's processes. */
		if (fs_at(b, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "a new /proc",
		          e) < 0)
			return -1;
		strv_push(&b->mounted, "/proc");
	} else {
		struct bind_req r = {.src = "/proc", .dst = "/proc", .what = "/proc", .flags = MS_REC};
		if (bind_into(b, &r, e) < 0)
			return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(optional); i++) {
		struct bind_req r = {.src = optional[i], .dst = optional[i], .what = optional[i],
		                     .flags = MS_REC, .optional = true, .ro = i >= 3};
		if (bind_into(b, &r, e) < 0)
			return -1;
	}
	return bind_list(b, true, e);
}

/* A new tmpfs on the image's directory dir. */
static int tmpfs_at(struct builder *b, const char *dir, const char *mode, const char *what,
                    struct kerr *e)
{
	_cleanup_free_ char *data = xasprintf("mode=%s", mode);
	return fs_at(b, dir, "tmpfs", MS_NOSUID | MS_NODEV, data, what, e);
}

static int tmp_and_home(struct builder *b, struct kerr *e)
{
	const struct container *c = b->c;
	if (c->private_tmp) {
		if (tmpfs_at(b, "/tmp", "1777", "a private /tmp", e) < 0)
			return -1;
		strv_push(&b->mounted, "/tmp");
	} else {
		struct bind_req r = {.src = b->h->tmpdir, .dst = "/tmp", .what = "/tmp",
		                     .flags = MS_REC, .create = true};
		if (bind_into(b, &r, e) < 0)
			return -1;
	}
	if (c->home) {
		if (!b->h->home || b->h->home[0] != '/')
			return kerr_set(e, 0, "--home: $HOME is not set to an absolute path");
		struct bind_req r = {.src = b->h->home, .dst = b->h->container_home,
		                     .what = "--home", .flags = MS_REC, .create = true};
		if (bind_into(b, &r, e) == 0)
			return 0;
		if (e->errnum != EACCES && e->errnum != EPERM)
			return -1;
		/* The image's /home isn't ours to write even in the overlay
		 * (a root-owned image run unprivileged): make the mount point
		 * on a tmpfs over /home instead, hiding the image's /home, as
		 * ch-run does. */
		klog(KLOG_VERBOSE, "the image's /home isn't writable: mounting a tmpfs on it");
		if (tmpfs_at(b, "/home", "0755", "a tmpfs on /home for --home", e) < 0 ||
		    bind_into(b, &r, e) < 0)
			return -1;
	}
	return 0;
}

int tree_finish(const struct container *c, const struct tree_host *h, struct kerr *e)
{
	const char *root = TREE_IMAGE_DIR;
	if (c->write_fake) {
		if (mount_overlay(c, h, e) < 0)
			return -1;
		root = TREE_NEWROOT;
	} else if (c->image_type == IMAGE_DIR && !c->write) {
		if (make_readonly(TREE_IMAGE_DIR, false, "the image", e) < 0)
			return -1;
	}
	struct builder b = {.c = c, .h = h, .writable = c->write || c->write_fake};
	b.root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b.root_fd < 0)
		return kerr_set(e, errno, "can't open the new root");
	add_own_mount(&b, b.root_fd);
	int r = -1;
	if (default_binds(&b, e) < 0)
		goto out;
	if (h->passwd && (bind_passwd(&b, "passwd", h->passwd, e) < 0 ||
	                  bind_passwd(&b, "group", h->group, e) < 0))
		goto out;
	if (c->seccomp_fakeroot && c->uid == 0 && b.writable &&
	    apt_sandbox_off(b.root_fd, !c->write_fake, e) < 0)
		goto out;
	if (tmp_and_home(&b, e) < 0 || bind_list(&b, false, e) < 0)
		goto out;

	/* A namespace of our own when another process (the FUSE server,
	 * the supervisor) shares the staging one: pivot_root moves the root
	 * of every process in the namespace, and theirs must stay put. */
	if (h->own_mount_ns && unshare(CLONE_NEWNS) < 0) {
		kerr_set(e, errno, "can't create the container's mount namespace");
		goto out;
	}
	if (tree_pivot(root, e) < 0)
		goto out;
	r = 0;
out:
	close(b.root_fd);
	strv_free(&b.mounted);
	return r;
}

int tree_pivot(const char *root, struct kerr *e)
{
	/* pivot_root(".", ".") stacks the old root on top of the new one;
	 * detaching it leaves the new root alone, with no put_old directory
	 * needed inside a (read-only) image. */
	if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return kerr_set(e, errno, "can't pivot_root into the image");
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return kerr_set(e, errno, "can't detach the host's root");
	return 0;
}

/* Mount attributes a bind can't take at bind time: they need a second,
 * recursive when asked, step. */
static int bind_attrs(const char *path, unsigned long flags, const char *what, struct kerr *e)
{
	struct mount_attr attr = {0};
	if (flags & MS_RDONLY)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		attr.attr_set |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		attr.attr_set |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		attr.attr_set |= MOUNT_ATTR_NOEXEC;
	if (flags & MS_NOATIME) {
		attr.attr_set |= MOUNT_ATTR_NOATIME;
		attr.attr_clr |= MOUNT_ATTR__ATIME;
	}
	if (flags & MS_NODIRATIME)
		attr.attr_set |= MOUNT_ATTR_NODIRATIME;
	if (!attr.attr_set)
		return 0;
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, flags & MS_REC ? AT_RECURSIVE : 0, &attr,
	            sizeof attr) == 0)
		return 0;
	if (errno != ENOSYS)
		return kerr_set(e, errno, "%s: can't set the mount's options", what);
	unsigned long keep = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME;
	if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | (flags & keep) | locked_flags(path),
	          NULL) < 0)
		return kerr_set(e, errno, "%s: can't set the mount's options", what);
	return 0;
}

int tree_mount_at(int root_fd, const struct tree_mount *m, struct kerr *e)
{
	bool bind = !m->type;
	struct stat sst = {.st_mode = S_IFDIR};
	if (bind && stat(m->src, &sst) < 0) {
		if (m->optional && errno == ENOENT)
			return 0;
		return kerr_set(e, errno, "%s: can't use source %s", m->what, m->src);
	}
	_cleanup_close_ int dst = open_beneath(root_fd, m->dst, O_PATH);
	if (dst < 0 && errno == ENOENT && !m->no_create)
		dst = mkpath_beneath(root_fd, m->dst, !S_ISDIR(sst.st_mode), 0755);
	if (dst < 0) {
		int err = errno;
		if (m->optional && (err == ENOENT || err == ENOTDIR))
			return 0;
		if (err == EXDEV || err == ELOOP)
			return kerr_set(e, 0, "%s: destination %s leads outside the root (symlink)",
			                m->what, m->dst);
		return kerr_set(e, err, "%s: can't open destination %s", m->what, m->dst);
	}
	struct stat dstat;
	if (fstat(dst, &dstat) < 0)
		return kerr_set(e, errno, "%s: can't stat destination %s", m->what, m->dst);
	if (S_ISDIR(dstat.st_mode) != S_ISDIR(sst.st_mode))
		return kerr_set(e, 0, "%s: can't mount a %s onto a %s", m->what,
		                S_ISDIR(sst.st_mode) ? "directory" : "file",
		                S_ISDIR(dstat.st_mode) ? "directory" : "file");
	char target[64];
	snprintf(target, sizeof target, "/proc/self/fd/%d", dst);
	if (bind) {
		if (do_mount(m->src, target, NULL, MS_BIND | (m->flags & MS_REC), NULL, m->what, e) < 0)
			return -1;
	} else if (do_mount(m->src, target, m->type, m->flags, m->data, m->what, e) < 0) {
		return -1;
	}
	if (!(bind && (m->flags & ~MS_REC)) && !m->propagation)
		return 0;
	/* The fd still names the covered directory; reopen the mount. */
	_cleanup_close_ int top = open_beneath(root_fd, m->dst, O_PATH);
	if (top < 0)
		return kerr_set(e, errno, "%s: can't reopen %s", m->what, m->dst);
	snprintf(target, sizeof target, "/proc/self/fd/%d", top);
	if (bind && bind_attrs(target, m->flags, m->what, e) < 0)
		return -1;
	if (m->propagation &&
	    do_mount(NULL, target, NULL, m->propagation, NULL, m->what, e) < 0)
		return -1;
	return 0;
}

int tree_readonly(const char *path, bool recursive, struct kerr *e)
{
	return make_readonly(path, recursive, path, e);
}
