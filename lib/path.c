/* path.c: resolution inside a root directory (see path.h).
 *
 * openat2(2) with RESOLVE_IN_ROOT does this in the kernel, race-free.  On
 * kernels without it (< 5.6), under a seccomp filter that hides it, and
 * whenever something must be created on the way, we walk the path one
 * component at a time with O_NOFOLLOW and resolve each symlink ourselves
 * under the same rules: an absolute target restarts at the root, and `..`
 * pops our own stack of directory fds, so no link, and no directory moved
 * while we walk, can lead above the root. */
#include "path.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

void mount_set_add_fd(struct mount_set *s, int fd)
{
	uint64_t id;
	if (mount_of(fd, &id, NULL) < 0)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->id[i] == id)
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		s->id = xrealloc(s->id, s->cap * sizeof *s->id);
	}
	s->id[s->n++] = id;
}

void mount_set_free(struct mount_set *s)
{
	free(s->id);
	*s = (struct mount_set){0};
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
 * host.  Kernels without STATX_MNT_ID (< 5.8) can't tell: the textual
 * nesting check of the callers still applies there. */
bool mount_allowed(int root_fd, int fd, const struct mount_set *allowed)
{
	uint64_t want, got;
	if (mount_of(fd, &got, NULL) < 0)
		return true;
	if (!allowed || allowed->n == 0) {
		if (mount_of(root_fd, &want, NULL) < 0)
			return true;
		return got == want;
	}
	for (size_t i = 0; i < allowed->n; i++)
		if (allowed->id[i] == got)
			return true;
	return false;
}

/* ---- the component walk ---------------------------------------------- */

#define WALK_DEPTH 256
#define WALK_LINKS 40 /* as the kernel's MAXSYMLINKS */

struct walk_opts {
	int flags;                      /* open(2) flags for the last component */
	bool create;                    /* create what is missing ... */
	bool last_is_file;              /* ... the last one as a regular file */
	mode_t mode;                    /* ... with this mode */
	const struct mount_set *allowed; /* ... only on these filesystems */
	char **prefix, **rest;          /* plan only: where the path is missing */
};

struct walk {
	int stack[WALK_DEPTH];          /* directory fds, stack[0] the root */
	size_t len[WALK_DEPTH];         /* length of `resolved` at each depth */
	int top;
	char resolved[PATH_MAX];        /* the directories on the stack, "a/b" */
};

static void walk_pop(struct walk *w, int to)
{
	while (w->top > to)
		close(w->stack[w->top--]);
	w->resolved[w->len[w->top]] = '\0';
}

static int walk_push(struct walk *w, int fd, const char *name)
{
	size_t at = w->len[w->top], n = strlen(name);
	if (w->top + 1 >= WALK_DEPTH || at + n + 2 > sizeof w->resolved) {
		close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	if (at)
		w->resolved[at++] = '/';
	memcpy(w->resolved + at, name, n + 1);
	w->stack[++w->top] = fd;
	w->len[w->top] = at + n;
	return 0;
}

/* Create the missing component name in the directory dir. */
static int walk_create(int root_fd, int dir, const char *name, bool last,
                       const struct walk_opts *o)
{
	if (!mount_allowed(root_fd, dir, o->allowed)) {
		errno = EXDEV;
		return -1;
	}
	int r;
	if (last && o->last_is_file) {
		r = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, o->mode);
		if (r >= 0)
			close(r);
	} else {
		r = mkdirat(dir, name, last ? o->mode : 0755);
	}
	if (r < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* The last component, already opened O_PATH|O_NOFOLLOW as fd (not a
 * symlink): reopen it with the caller's flags, and make sure it is still
 * the same file. */
static int walk_last(int dir, const char *name, int fd, const struct stat *st, int flags)
{
	if ((flags & O_DIRECTORY) && !S_ISDIR(st->st_mode)) {
		close(fd);
		errno = ENOTDIR;
		return -1;
	}
	if (flags & O_PATH)
		return fd;
	close(fd);
	int r = openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC);
	struct stat now;
	if (r >= 0 && (fstat(r, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino)) {
		close(r);
		errno = EAGAIN; /* it was replaced while we looked */
		return -1;
	}
	return r;
}

static int walk_in_root(int root_fd, const char *path, const struct walk_opts *o)
{
	struct walk w = {.top = 0};
	int links = 0, result = -1;
	char *todo = xstrdup(path);
	w.stack[0] = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
	if (w.stack[0] < 0)
		goto out;
	char *p = todo;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p) { /* the path named the directory we're in */
			if (o->prefix) {
				result = 1;
				goto out;
			}
			result = openat(w.stack[w.top], ".", o->flags | O_CLOEXEC);
			goto out;
		}
		char *end = strchrnul(p, '/');
		bool last = true;
		for (const char *q = end; *q; q++)
			if (*q != '/')
				last = false;
		char saved = *end;
		*end = '\0';
		if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
			if (p[1] == '.' && w.top > 0) /* `..` at the root stays there */
				walk_pop(&w, w.top - 1);
			*end = saved;
			p = end;
			continue;
		}
		int dir = w.stack[w.top];
		int fd = openat(dir, p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && o->create) {
			if (walk_create(root_fd, dir, p, last, o) < 0)
				goto out;
			fd = openat(dir, p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0 && errno == ENOENT && o->prefix) {
			*end = saved;
			*o->prefix = xstrdup(w.resolved);
			*o->rest = xstrdup(p);
			result = 0;
			goto out;
		}
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0)
				close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			if (last && (o->flags & O_NOFOLLOW)) {
				if (o->flags & O_PATH) { /* the link itself, as open(2) gives it */
					result = fd;
					goto out;
				}
				close(fd);
				errno = ELOOP;
				goto out;
			}
			char target[PATH_MAX];
			ssize_t n = readlinkat(fd, "", target, sizeof target - 1);
			close(fd);
			if (n < 0)
				goto out;
			target[n] = '\0';
			if (++links > WALK_LINKS) {
				errno = ELOOP;
				goto out;
			}
			if (n == 0) {
				errno = ENOENT;
				goto out;
			}
			if (target[0] == '/') /* absolute: from the root, as in a chroot */
				walk_pop(&w, 0);
			*end = saved;
			char *next = *end ? xasprintf("%s%s", target, end) : xstrdup(target);
			free(todo);
			todo = p = next;
			continue;
		}
		if (last) {
			if (o->prefix) {
				close(fd);
				result = 1;
				goto out;
			}
			result = walk_last(dir, p, fd, &st, o->flags);
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			errno = ENOTDIR;
			goto out;
		}
		if (walk_push(&w, fd, p) < 0)
			goto out;
		*end = saved;
		p = end;
	}
out:;
	int err = errno;
	walk_pop(&w, 0);
	if (w.stack[0] >= 0)
		close(w.stack[0]);
	free(todo);
	errno = err;
	return result;
}

/* ---- the front doors --------------------------------------------------- */

static int openat2_in_root(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;
	/* EAGAIN: a rename elsewhere raced with a `..`; the kernel asks us
	 * to try again. */
	for (int i = 0; i < 16; i++) {
		fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd;
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
		int fd = openat2_in_root(root_fd, path, flags);
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;
		if (errno == ENOSYS)
			have_openat2 = 0;
	}
	struct walk_opts o = {.flags = flags};
	return walk_in_root(root_fd, path, &o);
}

int mkpath_beneath(int root_fd, const char *path, bool last_is_file, mode_t mode,
                   const struct mount_set *allowed)
{
	struct walk_opts o = {.flags = O_PATH, .create = true, .last_is_file = last_is_file,
	                      .mode = mode, .allowed = allowed};
	return walk_in_root(root_fd, path, &o);
}

int path_missing(int root_fd, const char *path, char **prefix, char **rest)
{
	*prefix = *rest = NULL;
	struct walk_opts o = {.flags = O_PATH, .prefix = prefix, .rest = rest};
	return walk_in_root(root_fd, path, &o);
}

int path_read_meta(int root_fd, const char *path, size_t max, char **buf, size_t *len,
                   struct kerr *e)
{
	/* O_PATH first: opening a FIFO (or a device) for reading could block
	 * or do something; only a regular file is opened for real. */
	_cleanup_close_ int pfd = open_beneath(root_fd, path, O_PATH | O_NOFOLLOW);
	if (pfd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return 1;
	if (pfd < 0)
		return kerr_set(e, errno, "can't open /%s in the image", path);
	struct stat st, now;
	if (fstat(pfd, &st) < 0)
		return kerr_set(e, errno, "can't stat /%s in the image", path);
	if (!S_ISREG(st.st_mode))
		return kerr_set(e, 0, "/%s in the image: not a regular file", path);
	if ((uintmax_t)st.st_size > max)
		return kerr_set(e, 0, "/%s in the image: larger than %zu bytes", path, max);
	_cleanup_close_ int fd =
	    open_beneath(root_fd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return kerr_set(e, errno, "can't open /%s in the image", path);
	if (fstat(fd, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino ||
	    !S_ISREG(now.st_mode))
		return kerr_set(e, 0, "/%s in the image: changed while krill read it", path);
	_cleanup_free_ char *b = xmalloc(max + 1);
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, b + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return kerr_set(e, errno, "can't read /%s in the image", path);
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max)
			return kerr_set(e, 0, "/%s in the image: larger than %zu bytes", path, max);
	}
	b[n] = '\0';
	*buf = b;
	b = NULL;
	if (len)
		*len = n;
	return 0;
}
