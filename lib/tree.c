/* tree.c: the container's filesystem tree (see tree.h for the phases).
 *
 * All of this happens in a private mount namespace, as root of the outer
 * user namespace (or as real root), so no mount is ever visible on the
 * host and nothing is written there.  Destinations inside the image are
 * resolved with open_beneath() (as in a chroot of the image), so a symlink
 * in the image can't redirect a bind onto a host path; mounts then target
 * the resolved fd through /proc/self/fd, which closes the window between
 * checking and mounting.  Mount points and device nodes are created only
 * on the image's own filesystem or on filesystems krill made, never inside
 * a bind from the host (dest_open, for krill run and krill-oci alike). */
#include "tree.h"
#include "log.h"
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

/* The optional default binds, in this order (see tree_host.default_src). */
static const char *const optional_defaults[TREE_NDEFAULTS] = {
	"/etc/hosts", "/etc/resolv.conf", "/etc/machine-id", "/var/spool/slurmd",
	/* Cray's programming environment and its workload manager hooks. */
	"/opt/cray", "/var/opt/cray", "/etc/opt/cray", "/var/lib/hugetlbfs",
};

void tree_resolve_host(const struct container *c, struct tree_host *h)
{
	for (size_t i = 0; i < TREE_NDEFAULTS; i++)
		h->default_src[i] = realpath(optional_defaults[i], NULL);
	h->bind_src = xcalloc(c->nbinds + 1, sizeof *h->bind_src);
	for (size_t i = 0; i < c->nbinds; i++)
		h->bind_src[i] = realpath(c->binds[i].src, NULL);
}

void tree_host_free(const struct container *c, struct tree_host *h)
{
	for (size_t i = 0; i < TREE_NDEFAULTS; i++) {
		free(h->default_src[i]);
		h->default_src[i] = NULL;
	}
	for (size_t i = 0; h->bind_src && i < c->nbinds; i++)
		free(h->bind_src[i]);
	free(h->bind_src);
	h->bind_src = NULL;
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

int tree_bind_image(const char *host_dir, struct kerr *e)
{
	_cleanup_free_ char *src = xasprintf(TREE_OLDROOT "%s", host_dir);
	if (do_mount(src, TREE_IMAGE_DIR, NULL, MS_BIND | MS_REC, NULL, host_dir, e) < 0)
		return -1;
	/* As a SquashFS image is: a device node in the image (made by
	 * whoever built it) must not open the host's device. */
	return bind_attrs(TREE_IMAGE_DIR, MS_REC | MS_NODEV | MS_NOSUID, "the image", e);
}

/* ---- destinations: one set of rules for krill run and krill-oci -------- */

/* Open the destination dst of a mount inside root_fd, creating it (a
 * directory, or a file when is_file) when create and it is missing.
 * Creating happens only on the filesystems in own (see mkpath_beneath).
 * Returns an O_PATH fd, or -1 with e set and errno kept (ENOENT: missing
 * and not created). */
static int dest_open(int root_fd, const char *dst, bool create, bool is_file,
                     const struct mount_set *own, const char *what, struct kerr *e)
{
	int fd = open_beneath(root_fd, dst, O_PATH);
	if (fd < 0 && errno == ENOENT && create)
		fd = mkpath_beneath(root_fd, dst, is_file, 0755, own);
	if (fd >= 0)
		return fd;
	int err = errno;
	if (err == ELOOP)
		kerr_set(e, 0, "%s: destination %s: symlink loop", what, dst);
	else if (err == EXDEV)
		kerr_set(e, 0, "%s: destination %s leads into a bind mount from the host "
		               "(symlink); nothing is created there", what, dst);
	else
		kerr_set(e, err, "%s: can't open destination %s", what, dst);
	errno = err;
	return -1;
}

/* Is the destination dst_path a dangling symlink (its target is missing)? */
static bool dest_dangling(int root_fd, const char *dst)
{
	_cleanup_close_ int fd = open_beneath(root_fd, dst, O_PATH | O_NOFOLLOW);
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode);
}

/* ---- krill run's tree ---------------------------------------------------- */

/* One mount krill made, and the destination it was made for. */
struct made {
	char *dst;
	uint64_t id;    /* its mount ID, 0 if unknown */
};

/* Where a missing mount point goes in the underlay. */
struct plan {
	char *path;     /* resolved inside the image, no symlinks */
	bool is_file;
};

/* What one tree_finish() call knows. */
struct builder {
	const struct container *c;
	const struct tree_host *h;
	int root_fd;            /* the new root */
	bool writable;          /* may we create mount points? */
	bool planning;          /* first pass: only note missing mount points */
	struct made *made;      /* mounts made so far, in order */
	size_t nmade;
	struct mount_set own;   /* the image's and krill's own filesystems */
	struct plan *plan;      /* the missing mount points (planning) */
	size_t nplan;
};

static void made_push(struct builder *b, const char *dst, int root_fd)
{
	b->made = xrealloc(b->made, (b->nmade + 1) * sizeof *b->made);
	struct made *m = &b->made[b->nmade++];
	m->dst = xstrdup(dst);
	m->id = 0;
	if (b->planning)
		return;
	/* The fd before the mount names the covered directory: reopen. */
	_cleanup_close_ int top = open_beneath(root_fd, dst, O_PATH);
	bool is_root;
	if (top < 0 || mount_of(top, &m->id, &is_root) < 0 || !is_root)
		m->id = 0;
}

static void made_clear(struct builder *b)
{
	for (size_t i = 0; i < b->nmade; i++)
		free(b->made[i].dst);
	free(b->made);
	b->made = NULL;
	b->nmade = 0;
}

static bool path_inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* The textual rule: nothing is mounted inside an earlier bind (a mount
 * point there would be created on the host). */
static int dest_nested(const struct builder *b, const char *dst, const char *what,
                       struct kerr *e)
{
	for (size_t i = 0; i < b->nmade; i++)
		if (path_inside(dst, b->made[i].dst))
			return kerr_set(e, 0, "%s: destination %s is inside the earlier bind at %s",
			                what, dst, b->made[i].dst);
	return 0;
}

/* The same rule after symlinks: a mount may go on the image's own
 * filesystem, or on krill's own tmpfs/proc/sysfs, or over an earlier
 * mount made for the same destination (a later bind wins); never inside
 * a host bind, and never over a mount made for another destination (an
 * image with /dev -> tmp would otherwise get the host's /tmp as /dev). */
static int dest_check(const struct builder *b, int fd, const char *dst, const char *what,
                      struct kerr *e)
{
	uint64_t id, root_id;
	bool is_root;
	if (mount_of(fd, &id, &is_root) < 0)
		return 0; /* < 5.8: the textual rule only */
	if (is_root && mount_of(b->root_fd, &root_id, NULL) == 0 && id == root_id)
		return kerr_set(e, 0, "%s: destination %s resolves to the root of the image "
		                      "(symlink)", what, dst);
	if (is_root) {
		for (size_t i = 0; i < b->nmade; i++)
			if (b->made[i].id == id) {
				if (strcmp(b->made[i].dst, dst) == 0)
					return 0;
				return kerr_set(e, 0, "%s: destination %s resolves to the mount "
				                      "made for %s (symlink)", what, dst,
				                b->made[i].dst);
			}
	}
	for (size_t i = 0; i < b->own.n; i++)
		if (b->own.id[i] == id)
			return 0;
	return kerr_set(e, 0, "%s: destination %s resolves into an earlier bind", what, dst);
}

/* Planning: note where a missing mount point is to be made. */
static int plan_add(struct builder *b, const char *dst, bool is_file, const char *what,
                    struct kerr *e)
{
	_cleanup_free_ char *prefix = NULL, *rest = NULL;
	int r = path_missing(b->root_fd, dst, &prefix, &rest);
	if (r < 0) {
		int err = errno;
		if (err == ELOOP)
			return kerr_set(e, 0, "%s: destination %s: symlink loop", what, dst);
		return kerr_set(e, err, "%s: can't open destination %s", what, dst);
	}
	if (r > 0)
		return 0;
	b->plan = xrealloc(b->plan, (b->nplan + 1) * sizeof *b->plan);
	b->plan[b->nplan++] = (struct plan){
		.path = *prefix ? xasprintf("%s/%s", prefix, rest) : xstrdup(rest),
		.is_file = is_file,
	};
	return 0;
}

struct bind_req {
	const char *src;        /* host path (as seen before staging), resolved */
	const char *src_name;   /* for messages, when not src */
	const char *dst;        /* inside the container */
	const char *what;       /* for messages: "--bind=/a:/b", "/dev" ... */
	unsigned long flags;    /* MS_REC etc. */
	bool ro;
	bool optional;          /* a missing source is skipped */
	bool dst_optional;      /* a destination that can't take the bind is skipped */
	bool create;            /* a missing destination is created (or planned) */
	bool src_is_staged;     /* src is a path in the staging tmpfs */
};

/* Is the missing dst missing inside a mount that isn't the image's or
 * krill's own (so that no layer could have made it)? */
static bool dest_missing_in_bind(const struct builder *b, const char *dst)
{
	_cleanup_free_ char *prefix = NULL, *rest = NULL;
	if (path_missing(b->root_fd, dst, &prefix, &rest) != 0)
		return false;
	_cleanup_close_ int fd = open_beneath(b->root_fd, prefix, O_PATH | O_DIRECTORY);
	return fd >= 0 && !mount_allowed(b->root_fd, fd, &b->own);
}

/* A default bind skipped: say why with -v.  Always 0. */
static int skip_note(const struct bind_req *r, const char *why)
{
	klog(KLOG_VERBOSE, "not binding %s: %s", r->dst, why);
	return 0;
}

static int bind_into(struct builder *b, const struct bind_req *r, struct kerr *e)
{
	_cleanup_free_ char *src = r->src_is_staged ? xstrdup(r->src) : xasprintf(TREE_OLDROOT "%s", r->src);
	struct stat sst;
	if (stat(src, &sst) < 0) {
		if (r->optional && errno == ENOENT)
			return 0;
		return kerr_set(e, errno, "%s: can't use source %s", r->what,
		                r->src_name ? r->src_name : r->src);
	}
	if (dest_nested(b, r->dst, r->what, e) < 0)
		return -1;
	bool is_file = !S_ISDIR(sst.st_mode);
	/* A dangling link at an optional destination (systemd's
	 * /etc/resolv.conf -> /run/systemd/resolve/stub-resolv.conf): bind
	 * over its target, made in krill's underlay or -W overlay. */
	bool dangling = r->dst_optional && dest_dangling(b->root_fd, r->dst);
	bool create = r->create || (dangling && !b->c->write);
	if (b->planning) {
		_cleanup_close_ int fd = open_beneath(b->root_fd, r->dst, O_PATH);
		if (fd < 0 && errno == ENOENT && create) {
			if (plan_add(b, r->dst, is_file, r->what, e) < 0)
				return r->dst_optional ? 0 : -1; /* the second pass notes it */
		} else if (fd < 0) {
			return 0; /* the second pass says why */
		}
		made_push(b, r->dst, b->root_fd);
		return 0;
	}
	_cleanup_close_ int dst = dest_open(b->root_fd, r->dst, create && b->writable, is_file,
	                                    &b->own, r->what, e);
	if (dst < 0) {
		int err = errno;
		if (r->dst_optional)
			return err == ENOENT && !dangling ? 0 : skip_note(r, err == ENOENT ?
			       "its symlink's target is missing and can't be made" : e->msg);
		if (r->optional && (err == ENOENT || err == ENOTDIR))
			return skip_note(r, "its destination is missing and can't be made");
		if (err == ENOENT && !b->writable) {
			if (dest_missing_in_bind(b, r->dst))
				return kerr_set(e, 0, "%s: destination %s leads into a bind mount from "
				                      "the host (symlink); nothing is created there",
				                r->what, r->dst);
			kerr_set(e, 0, "%s: destination %s doesn't exist in the image", r->what,
			         r->dst);
			return kerr_hint(e, "create it in the image, or use -W to create it in a "
			                    "writable overlay");
		}
		return -1;
	}
	if (dest_check(b, dst, r->dst, r->what, e) < 0)
		return r->dst_optional ? skip_note(r, e->msg) : -1;
	struct stat dstat;
	if (fstat(dst, &dstat) < 0)
		return kerr_set(e, errno, "%s: can't stat destination %s", r->what, r->dst);
	if (S_ISDIR(dstat.st_mode) != S_ISDIR(sst.st_mode)) {
		if (r->dst_optional || r->optional)
			return skip_note(r, S_ISDIR(dstat.st_mode) ? "it is a directory in the image"
			                                           : "it is a file in the image");
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
	made_push(b, r->dst, b->root_fd);
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

/* The underlay (as Apptainer calls it): the mount points a read-only
 * image lacks are made in a directory of the staging tmpfs, which goes
 * over the image as the upper of two read-only overlay layers.  The image
 * stays read-only, nothing is written to it or to the host, and the
 * layer vanishes with the mount namespace.  Directories made where the
 * image has one take its mode. */
static int underlay_build(struct builder *b)
{
	if (mkdir(TREE_UNDERLAY, 0755) < 0)
		return -1;
	_cleanup_close_ int ufd = open(TREE_UNDERLAY, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (ufd < 0)
		return -1;
	if (fstat(b->root_fd, &st) == 0) /* the merged root shows the top layer's */
		chmod(TREE_UNDERLAY, st.st_mode & 07777);
	for (size_t i = 0; i < b->nplan; i++) {
		const struct plan *p = &b->plan[i];
		klog(KLOG_DEBUG, "underlay: making /%s", p->path);
		int fd = mkpath_beneath(ufd, p->path, p->is_file, p->is_file ? 0644 : 0755, NULL);
		if (fd < 0)
			return -1;
		close(fd);
		_cleanup_free_ char *sub = xstrdup(p->path);
		for (char *s = sub; (s = strchr(s, '/')); *s++ = '/') {
			*s = '\0';
			_cleanup_close_ int img = open_beneath(b->root_fd, sub, O_PATH | O_DIRECTORY);
			if (img >= 0 && fstat(img, &st) == 0)
				fchmodat(ufd, sub, st.st_mode & 07777, 0);
		}
	}
	_cleanup_free_ char *data = xasprintf("lowerdir=" TREE_UNDERLAY ":%s", TREE_IMAGE_DIR);
	unsigned long flags = MS_RDONLY | MS_NODEV | locked_flags(TREE_IMAGE_DIR);
	klog(KLOG_DEBUG, "mount overlay on %s (%s)", TREE_NEWROOT, data);
	return mount("overlay", TREE_NEWROOT, "overlay", flags, data);
}

/* The synthesized files live in the staging tmpfs: never on the host,
 * never in the image, and gone with our mount namespace. */
static int bind_passwd(struct builder *b, const char *name, const char *text, struct kerr *e)
{
	if (b->planning)
		return 0; /* never made: a read-only image without one goes without */
	_cleanup_free_ char *staged = xasprintf("/%s", name);
	_cleanup_free_ char *dst = xasprintf("/etc/%s", name);
	_cleanup_close_ int fd = open(staged, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
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
		const char *src = b->h->bind_src && b->h->bind_src[i] ? b->h->bind_src[i] : bd->src;
		struct bind_req r = {.src = src, .src_name = bd->src, .dst = bd->dst, .what = what,
		                     .flags = MS_REC, .ro = bd->ro, .optional = bd->optional,
		                     .create = true};
		if (!b->planning)
			klog(KLOG_VERBOSE, "binding %s at %s%s", bd->src, bd->dst,
			     bd->ro ? " (read-only)" : "");
		if (bind_into(b, &r, e) < 0)
			return -1;
	}
	return 0;
}

/* A new filesystem of type on the image's directory dir (tmpfs, proc,
 * sysfs), recorded as krill's own; the caller records it as made (after
 * what it mounts inside). */
static int fs_at(struct builder *b, const char *dir, const char *type, unsigned long flags,
                 const char *data, const char *what, struct kerr *e)
{
	if (dest_nested(b, dir, what, e) < 0)
		return -1;
	if (b->planning) {
		_cleanup_close_ int fd = open_beneath(b->root_fd, dir, O_PATH);
		if (fd < 0 && errno == ENOENT && plan_add(b, dir, false, what, e) < 0)
			return -1;
		return 0;
	}
	_cleanup_close_ int fd = dest_open(b->root_fd, dir, b->writable, false, &b->own, what, e);
	if (fd < 0)
		return -1;
	if (dest_check(b, fd, dir, what, e) < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		return kerr_set(e, ENOTDIR, "can't mount %s: %s in the image", what, dir);
	char target[64];
	snprintf(target, sizeof target, PROC_FD "%d", fd);
	const char *src = strcmp(type, "tmpfs") == 0 ? "krill" : type;
	if (do_mount(src, target, type, flags, data, what, e) < 0)
		return -1;
	_cleanup_close_ int top = open_beneath(b->root_fd, dir, O_PATH | O_DIRECTORY);
	if (top >= 0)
		mount_set_add_fd(&b->own, top);
	return 0;
}

/* As real root, the container's root is the host's: the paths of /proc
 * and /sys runc and docker protect by default are made read-only or
 * masked (a write to /proc/sys/kernel/core_pattern would run a helper as
 * host root).  See krill-run(1). */
static int protect_kernel_paths(struct builder *b, struct kerr *e)
{
	static const char *const readonly[] = {
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	};
	static const char *const masked[] = {
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap",
	};
	char target[64], src[64];
	for (size_t i = 0; i < ARRAY_SIZE(readonly); i++) {
		_cleanup_close_ int fd = open_beneath(b->root_fd, readonly[i], O_PATH | O_NOFOLLOW);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			return kerr_set(e, errno, "can't open %s", readonly[i]);
		snprintf(target, sizeof target, PROC_FD "%d", fd);
		if (do_mount(target, target, NULL, MS_BIND | MS_REC, NULL, readonly[i], e) < 0)
			return -1;
		_cleanup_close_ int top = open_beneath(b->root_fd, readonly[i], O_PATH | O_NOFOLLOW);
		if (top < 0)
			return kerr_set(e, errno, "can't reopen %s", readonly[i]);
		snprintf(target, sizeof target, PROC_FD "%d", top);
		if (bind_attrs(target, MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		               readonly[i], e) < 0)
			return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(masked); i++) {
		_cleanup_close_ int fd = open_beneath(b->root_fd, masked[i], O_PATH | O_NOFOLLOW);
		struct stat st;
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0 || fstat(fd, &st) < 0)
			return kerr_set(e, errno, "can't open %s", masked[i]);
		snprintf(target, sizeof target, PROC_FD "%d", fd);
		if (S_ISDIR(st.st_mode)) {
			if (do_mount("krill", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV |
			             MS_NOEXEC, "size=0,mode=0555", masked[i], e) < 0)
				return -1;
		} else {
			snprintf(src, sizeof src, TREE_OLDROOT "/dev/null");
			if (do_mount(src, target, NULL, MS_BIND, NULL, masked[i], e) < 0)
				return -1;
			_cleanup_close_ int top = open_beneath(b->root_fd, masked[i], O_PATH | O_NOFOLLOW);
			if (top < 0)
				return kerr_set(e, errno, "can't reopen %s", masked[i]);
			snprintf(target, sizeof target, PROC_FD "%d", top);
			if (bind_attrs(target, MS_RDONLY | MS_NOSUID | MS_NOEXEC, masked[i], e) < 0)
				return -1;
		}
	}
	return 0;
}

static int default_binds(struct builder *b, struct kerr *e)
{
	struct bind_req dev = {.src = "/dev", .dst = "/dev", .what = "/dev", .flags = MS_REC,
	                       .create = true};
	if (bind_into(b, &dev, e) < 0)
		return -1;
	if (b->h->fresh_sys) {
		/* A new network namespace: sysfs shows the network devices of
		 * the namespace that mounts it, so the host's would list the
		 * host's interfaces.  The cgroup mounts below it come along. */
		struct bind_req cg = {.src = "/sys/fs/cgroup", .dst = "/sys/fs/cgroup",
		                      .what = "/sys/fs/cgroup", .flags = MS_REC, .optional = true};
		if (fs_at(b, "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "a new /sys",
		          e) < 0)
			return -1;
		if (bind_into(b, &cg, e) < 0)
			return -1;
		made_push(b, "/sys", b->root_fd); /* after the cgroup bind inside it */
	} else {
		struct bind_req sys = {.src = "/sys", .dst = "/sys", .what = "/sys", .flags = MS_REC,
		                       .create = true};
		if (bind_into(b, &sys, e) < 0)
			return -1;
	}
	if (b->h->cg) {
		const char *dirs[CGROUP_MAX_HIER], *names[CGROUP_MAX_HIER];
		size_t n = cgroup_dirs(b->h->cg, dirs, names, CGROUP_MAX_HIER);
		/* Over the hierarchies' existing mount points inside the /sys
		 * just bound (nothing is created, so the earlier-bind rule of
		 * bind_into doesn't apply). */
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *dst = xasprintf("sys/fs/cgroup/%s", names[i]);
			_cleanup_free_ char *src = xasprintf(TREE_OLDROOT "%s", dirs[i]);
			_cleanup_close_ int fd = open_beneath(b->root_fd, dst, O_PATH | O_DIRECTORY);
			if (fd < 0)
				continue; /* not mounted there on this host */
			char target[64];
			snprintf(target, sizeof target, PROC_FD "%d", fd);
			if (do_mount(src, target, NULL, MS_BIND, NULL, "the container's cgroup", e) < 0)
				return -1;
		}
	}
	if (b->h->fresh_proc) {
		/* A new PID namespace needs its own /proc; the host's would
		 * show the host's processes. */
		if (fs_at(b, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "a new /proc",
		          e) < 0)
			return -1;
		made_push(b, "/proc", b->root_fd);
	} else {
		struct bind_req r = {.src = "/proc", .dst = "/proc", .what = "/proc", .flags = MS_REC,
		                     .create = true};
		if (bind_into(b, &r, e) < 0)
			return -1;
	}
	if (b->h->privileged && !b->planning && protect_kernel_paths(b, e) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(optional_defaults); i++) {
		const char *src = b->h->default_src[i] ? b->h->default_src[i] : optional_defaults[i];
		struct bind_req r = {.src = src, .src_name = optional_defaults[i],
		                     .dst = optional_defaults[i], .what = optional_defaults[i],
		                     .flags = MS_REC, .optional = true, .dst_optional = true,
		                     .ro = i >= 3};
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
		made_push(b, "/tmp", b->root_fd);
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

/* Every mount of the tree, in order; run twice on a read-only image (see
 * tree_finish). */
static int tree_build(struct builder *b, struct kerr *e)
{
	const struct tree_host *h = b->h;
	if (default_binds(b, e) < 0)
		return -1;
	if (h->passwd && (bind_passwd(b, "passwd", h->passwd, e) < 0 ||
	                  bind_passwd(b, "group", h->group, e) < 0))
		return -1;
	return tmp_and_home(b, e) < 0 || bind_list(b, false, e) < 0 ? -1 : 0;
}

static int open_root(struct builder *b, const char *root, struct kerr *e)
{
	if (b->root_fd >= 0)
		close(b->root_fd);
	b->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b->root_fd < 0)
		return kerr_set(e, errno, "can't open the new root");
	mount_set_free(&b->own);
	mount_set_add_fd(&b->own, b->root_fd);
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
	struct builder b = {.c = c, .h = h, .writable = c->write || c->write_fake, .root_fd = -1};
	int r = -1;
	if (open_root(&b, root, e) < 0)
		goto out;
	if (!b.writable) {
		/* A read-only image: a first pass finds the mount points it
		 * lacks, which go into the underlay before anything is
		 * mounted. */
		b.planning = true;
		int rc = tree_build(&b, e);
		b.planning = false;
		made_clear(&b);
		if (rc < 0)
			goto out;
		if (b.nplan) {
			klog(KLOG_VERBOSE, "making %zu missing mount point%s in a tmpfs under the "
			     "image", b.nplan, b.nplan > 1 ? "s" : "");
			if (underlay_build(&b) < 0)
				klog(KLOG_VERBOSE, "can't make the underlay: %s", strerror(errno));
			else if (open_root(&b, TREE_NEWROOT, e) < 0)
				goto out;
			else
				root = TREE_NEWROOT;
		}
	}
	if (tree_build(&b, e) < 0)
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
	if (b.root_fd >= 0)
		close(b.root_fd);
	made_clear(&b);
	mount_set_free(&b.own);
	for (size_t i = 0; i < b.nplan; i++)
		free(b.plan[i].path);
	free(b.plan);
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

int tree_mount_at(int root_fd, const struct tree_mount *m, struct mount_set *own,
                  struct kerr *e)
{
	bool bind = !m->type;
	struct stat sst = {.st_mode = S_IFDIR};
	if (bind && stat(m->src, &sst) < 0) {
		if (m->optional && errno == ENOENT)
			return 0;
		return kerr_set(e, errno, "%s: can't use source %s", m->what, m->src);
	}
	_cleanup_close_ int dst = dest_open(root_fd, m->dst, !m->no_create, !S_ISDIR(sst.st_mode),
	                                    own, m->what, e);
	if (dst < 0) {
		if (m->optional && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		return -1;
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
	bool attrs = bind && (m->flags & ~MS_REC);
	if (!attrs && !m->propagation && (bind || !own))
		return 0;
	/* The fd still names the covered directory; reopen the mount. */
	_cleanup_close_ int top = open_beneath(root_fd, m->dst, O_PATH);
	if (top < 0)
		return kerr_set(e, errno, "%s: can't reopen %s", m->what, m->dst);
	/* A filesystem the runtime made (tmpfs, devpts, proc...) may take
	 * mount points and device nodes; a bind from the host never. */
	if (!bind && own)
		mount_set_add_fd(own, top);
	snprintf(target, sizeof target, "/proc/self/fd/%d", top);
	if (attrs && bind_attrs(target, m->flags, m->what, e) < 0)
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
