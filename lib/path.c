/* path.c: resolution beneath a root directory (see path.h).
 *
 * openat2(2) with RESOLVE_BENEATH does this in the kernel, race-free.  On
 * kernels without it (< 5.6) we walk the path one component at a time with
 * O_NOFOLLOW and resolve each symlink ourselves under the same rules. */
#include "path.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <linux/openat2.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int openat2_beneath(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
}

/* The fallback walk: one component at a time, never following a symlink
 * with O_NOFOLLOW's help; a symlink's target is spliced in front of the
 * rest of the path, and `..` pops our own stack, so it can't climb above
 * the root whatever the links say. */
static int walk_beneath(int root_fd, const char *path, int flags)
{
	int stack[256];
	int top = 0, links = 0, result = -1;
	char *todo = xstrdup(path);
	stack[0] = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
	if (stack[0] < 0)
		goto out;
	char *p = todo;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p) { /* the path named a directory we're in */
			result = openat(stack[top], ".", flags | O_CLOEXEC);
			goto out;
		}
		char *end = strchrnul(p, '/');
		bool last = true;
		for (const char *q = end; *q; q++)
			if (*q != '/')
				last = false;
		char saved = *end;
		*end = '\0';
		if (strcmp(p, ".") == 0) {
			*end = saved;
			p = end;
			continue;
		}
		if (strcmp(p, "..") == 0) {
			if (top == 0) {
				errno = EXDEV;
				goto out;
			}
			close(stack[top--]);
			*end = saved;
			p = end;
			continue;
		}
		int fd = openat(stack[top], p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0)
				close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlinkat(fd, "", target, sizeof target - 1);
			close(fd);
			if (n < 0)
				goto out;
			target[n] = '\0';
			if (target[0] == '/' || ++links > 40) {
				errno = target[0] == '/' ? EXDEV : ELOOP;
				goto out;
			}
			*end = saved;
			char *next = xasprintf("%s/%s", target, end);
			free(todo);
			todo = p = next;
			continue;
		}
		if (last) {
			close(fd);
			result = openat(stack[top], p, flags | O_NOFOLLOW | O_CLOEXEC);
			goto out;
		}
		if (top + 1 >= (int)ARRAY_SIZE(stack)) {
			close(fd);
			errno = ENAMETOOLONG;
			goto out;
		}
		stack[++top] = fd;
		*end = saved;
		p = end;
	}
out:;
	int err = errno;
	for (int i = 0; i <= top; i++)
		if (stack[i] >= 0)
			close(stack[i]);
	free(todo);
	errno = err;
	return result;
}

int open_beneath(int root_fd, const char *path, int flags)
{
	static int have_openat2 = 1;
	if (getenv("KRILL_NO_OPENAT2")) /* lets the tests cover the fallback */
		have_openat2 = 0;
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	if (have_openat2) {
		int fd = openat2_beneath(root_fd, path, flags);
		if (fd >= 0 || errno != ENOSYS)
			return fd;
		have_openat2 = 0;
	}
	return walk_beneath(root_fd, path, flags);
}

int mount_of(int fd, uint64_t *id, bool *is_root)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
		return -1;
	if (!(stx.stx_mask & STATX_MNT_ID)) {
		errno = ENOSYS;
		return -1;
	}
	*id = stx.stx_mnt_id;
	if (is_root)
		*is_root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
		           (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	return 0;
}

/* Creating inside another mount than the allowed ones (a bind of a host
 * directory, reached through a symlink in the image) would write to the
 * host: refuse with EXDEV.  Kernels without STATX_MNT_ID (< 5.8) skip the
 * check; the textual nesting check of the callers still applies. */
static bool allowed_mount(int root_fd, int fd, const uint64_t *mnts, size_t n)
{
	uint64_t want, got;
	if (mount_of(fd, &got, NULL) < 0)
		return true;
	if (n == 0) {
		if (mount_of(root_fd, &want, NULL) < 0)
			return true;
		return got == want;
	}
	for (size_t i = 0; i < n; i++)
		if (mnts[i] == got)
			return true;
	return false;
}

static int mkpath(int root_fd, const char *path, bool last_is_file, mode_t mode, bool check,
                  const uint64_t *mnts, size_t n);

int mkpath_beneath(int root_fd, const char *path, bool last_is_file, mode_t mode)
{
	return mkpath(root_fd, path, last_is_file, mode, false, NULL, 0);
}

int mkpath_beneath_in(int root_fd, const char *path, bool last_is_file, mode_t mode,
                      const uint64_t *mnts, size_t n)
{
	return mkpath(root_fd, path, last_is_file, mode, true, mnts, n);
}

static int mkpath(int root_fd, const char *path, bool last_is_file, mode_t mode, bool check,
                  const uint64_t *mnts, size_t n)
{
	_cleanup_free_ char *copy = xstrdup(path);
	char *p = copy;
	while (*p == '/')
		p++;
	/* Find the deepest existing prefix, then create the rest under it. */
	for (char *slash = p;; ) {
		slash = strchr(slash, '/');
		bool last = slash == NULL;
		if (!last)
			*slash = '\0';
		int fd = open_beneath(root_fd, p, O_PATH);
		if (fd < 0 && errno == ENOENT) {
			_cleanup_close_ int parent = -1;
			char *base = strrchr(p, '/');
			if (base) {
				*base = '\0';
				parent = open_beneath(root_fd, p, O_PATH | O_DIRECTORY);
				*base = '/';
				base++;
			} else {
				parent = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
				base = p;
			}
			if (parent < 0)
				return -1;
			if (check && !allowed_mount(root_fd, parent, mnts, n)) {
				errno = EXDEV;
				return -1;
			}
			int r;
			if (last && last_is_file) {
				r = openat(parent, base, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
				           mode);
				if (r >= 0)
					close(r);
			} else {
				r = mkdirat(parent, base, last ? mode : 0755);
			}
			if (r < 0 && errno != EEXIST)
				return -1;
			fd = open_beneath(root_fd, p, O_PATH);
		}
		if (fd < 0)
			return -1;
		if (last)
			return fd;
		close(fd);
		*slash++ = '/';
	}
}
