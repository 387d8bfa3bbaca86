/* oci_mount.c: see oci_mount.h. */
#include "oci_mount.h"
#include "log.h"
#include "path.h"
#include "tree.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Deeper than any sane /tmp, /run or /var/tmp of an image. */
#define COPY_MAX_DEPTH 64

static int copy_file(int from, int to, const char *name, const struct stat *st,
                     const char *what, struct kerr *e)
{
	_cleanup_close_ int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (in < 0)
		return kerr_set(e, errno, "%s: tmpcopyup: can't open %s", what, name);
	_cleanup_close_ int out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	                                               O_CLOEXEC, st->st_mode & 07777);
	if (out < 0)
		return kerr_set(e, errno, "%s: tmpcopyup: can't create %s", what, name);
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			break;
		if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS)) {
			char buf[65536];
			n = read(in, buf, sizeof buf);
			if (n > 0 && write(out, buf, (size_t)n) != n)
				n = -1;
		}
		if (n == 0)
			break;
		if (n < 0)
			return kerr_set(e, errno, "%s: tmpcopyup: can't copy %s", what, name);
	}
	if (fchown(out, st->st_uid, st->st_gid) < 0 && errno != EPERM && errno != EINVAL)
		return kerr_set(e, errno, "%s: tmpcopyup: can't chown %s", what, name);
	if (fchmod(out, st->st_mode & 07777) < 0)
		return kerr_set(e, errno, "%s: tmpcopyup: can't chmod %s", what, name);
	return 0;
}

static int copy_dir(int from, int to, int depth, const char *what, struct kerr *e)
{
	if (depth > COPY_MAX_DEPTH)
		return kerr_set(e, 0, "%s: tmpcopyup: more than %d levels of directories", what,
		                COPY_MAX_DEPTH);
	int dfd = fcntl(from, F_DUPFD_CLOEXEC, 3);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return kerr_set(e, errno, "%s: tmpcopyup: can't read the directory", what);
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (errno = 0, de = readdir(d))) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(from, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = kerr_set(e, errno, "%s: tmpcopyup: can't stat %s", what, n);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(to, n, 0700) < 0) {
				r = kerr_set(e, errno, "%s: tmpcopyup: can't create %s", what, n);
				break;
			}
			int sf = openat(from, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int tf = openat(to, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sf < 0 || tf < 0)
				r = kerr_set(e, errno, "%s: tmpcopyup: can't open %s", what, n);
			else
				r = copy_dir(sf, tf, depth + 1, what, e);
			if (r == 0 && fchown(tf, st.st_uid, st.st_gid) < 0 && errno != EPERM &&
			    errno != EINVAL)
				r = kerr_set(e, errno, "%s: tmpcopyup: can't chown %s", what, n);
			if (r == 0 && fchmod(tf, st.st_mode & 07777) < 0)
				r = kerr_set(e, errno, "%s: tmpcopyup: can't chmod %s", what, n);
			if (sf >= 0)
				close(sf);
			if (tf >= 0)
				close(tf);
		} else if (S_ISREG(st.st_mode)) {
			r = copy_file(from, to, n, &st, what, e);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t len = readlinkat(from, n, target, sizeof target - 1);
			if (len < 0) {
				r = kerr_set(e, errno, "%s: tmpcopyup: can't read link %s", what, n);
				break;
			}
			target[len] = '\0';
			if (symlinkat(target, to, n) < 0)
				r = kerr_set(e, errno, "%s: tmpcopyup: can't create %s", what, n);
			else if (fchownat(to, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
			         errno != EPERM && errno != EINVAL)
				r = kerr_set(e, errno, "%s: tmpcopyup: can't chown %s", what, n);
		} else if (mknodat(to, n, st.st_mode, st.st_rdev) < 0) {
			/* A device node in a user namespace: left out. */
			klog(KLOG_DEBUG, "%s: tmpcopyup: %s left out: %s", what, n, strerror(errno));
		}
	}
	if (r == 0 && errno)
		r = kerr_set(e, errno, "%s: tmpcopyup: can't read the directory", what);
	closedir(d);
	return r;
}

int oci_copy_up(int from, int to, const char *what, struct kerr *e)
{
	struct stat st;
	if (fstat(from, &st) < 0)
		return kerr_set(e, errno, "%s: tmpcopyup: can't stat the directory", what);
	if (copy_dir(from, to, 0, what, e) < 0)
		return -1;
	if ((fchown(to, st.st_uid, st.st_gid) < 0 && errno != EPERM && errno != EINVAL) ||
	    fchmod(to, st.st_mode & 07777) < 0)
		return kerr_set(e, errno, "%s: tmpcopyup: can't set the owner and mode", what);
	return 0;
}

int oci_mount_rattr(int root_fd, const char *dst, uint64_t set, uint64_t clr, const char *what,
                    struct kerr *e)
{
	_cleanup_close_ int fd = open_beneath(root_fd, dst, O_PATH);
	if (fd < 0)
		return kerr_set(e, errno, "%s: can't reopen %s", what, dst);
	struct mount_attr attr = {.attr_set = set, .attr_clr = clr};
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
		return kerr_set(e, errno, "%s: can't set the recursive mount options", what);
	return 0;
}

int oci_cgroup_view(int root_fd, const char *dst, const struct cgroup *cg, unsigned long flags,
                    const char *what, struct mount_set *own, struct kerr *e)
{
	unsigned long keep = flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
	struct tree_mount tm = {.src = "tmpfs", .type = "tmpfs", .dst = dst, .flags = keep,
	                        .data = "mode=755", .what = what};
	if (tree_mount_at(root_fd, &tm, own, e) < 0)
		return -1;
	_cleanup_close_ int top = open_beneath(root_fd, dst, O_PATH | O_DIRECTORY);
	if (top < 0)
		return kerr_set(e, errno, "%s: can't reopen %s", what, dst);
	const char *dirs[CGROUP_MAX_HIER], *names[CGROUP_MAX_HIER];
	size_t n = cgroup_dirs(cg, dirs, names, CGROUP_MAX_HIER);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *sub = xasprintf("%s/%s", dst, names[i]);
		struct tree_mount b = {.src = dirs[i], .dst = sub,
		                       .flags = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC),
		                       .what = what};
		if (tree_mount_at(root_fd, &b, own, e) < 0)
			return -1;
		/* cpu,cpuacct: the links the host has (cpu -> cpu,cpuacct). */
		if (strchr(names[i], ',')) {
			_cleanup_free_ char *parts = xstrdup(names[i]);
			char *save = NULL;
			for (char *p = strtok_r(parts, ",", &save); p; p = strtok_r(NULL, ",", &save))
				if (symlinkat(names[i], top, p) < 0 && errno != EEXIST)
					return kerr_set(e, errno, "%s: can't create %s/%s", what, dst, p);
		}
	}
	if (flags & MS_RDONLY) {
		char target[64];
		snprintf(target, sizeof target, "/proc/self/fd/%d", top);
		if (mount(NULL, target, NULL, MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
			return kerr_set(e, errno, "%s: can't make %s read-only", what, dst);
	}
	return 0;
}
