/* util.c: see util.h. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

void freep(void *p) { free(*(void **)p); }

void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static void *oom(void)
{
	fputs("krill: error: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom();
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	return p ? p : oom();
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	return p ? p : oom();
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	return p ? p : oom();
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	return p ? p : oom();
}

char *xasprintf(const char *fmt, ...)
{
	char *p;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&p, fmt, ap);
	va_end(ap);
	return r < 0 ? oom() : p;
}

void strv_push_owned(struct strv *s, char *str)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

void strv_push(struct strv *s, const char *str) { strv_push_owned(s, xstrdup(str)); }

void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

int fd_read_all(int fd, const char *what, size_t max, char **buf, size_t *len,
                struct kerr *e)
{
	size_t cap = 4096, n = 0;
	char *b = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max) {
				free(b);
				return kerr_set(e, EFBIG, "can't read %s", what);
			}
			cap *= 2;
			b = xrealloc(b, cap);
		}
		ssize_t r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			free(b);
			return kerr_set(e, err, "can't read %s", what);
		}
		if (r == 0)
			break;
		n += r;
	}
	b[n] = '\0';
	*buf = b;
	if (len)
		*len = n;
	return 0;
}

int file_read_all(int dirfd, const char *path, size_t max, char **buf, size_t *len,
                  struct kerr *e)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kerr_set(e, errno, "can't open %s", path);
	return fd_read_all(fd, path, max, buf, len, e);
}

int file_write_str(const char *path, const char *buf, struct kerr *e)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return kerr_set(e, errno, "can't open %s", path);
	size_t len = strlen(buf);
	ssize_t w = write(fd, buf, len);
	if (w < 0)
		return kerr_set(e, errno, "can't write %s", path);
	if ((size_t)w != len)
		return kerr_set(e, EIO, "short write to %s", path);
	return 0;
}

int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

void fds_close_except(const int *keep, size_t n)
{
	int lo = 3;
	for (;;) {
		int next = INT_MAX;
		for (size_t k = 0; k < n; k++)
			if (keep[k] >= lo && keep[k] < next)
				next = keep[k];
		if (next == INT_MAX) {
			syscall(SYS_close_range, (unsigned)lo, ~0u, 0);
			return;
		}
		if (next > lo)
			syscall(SYS_close_range, (unsigned)lo, (unsigned)next - 1, 0);
		lo = next + 1;
	}
}

bool guard_wait_release(int pipe_fd, int pidfd)
{
	struct pollfd p[2] = {{.fd = pipe_fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
	for (;;) {
		int n = poll(p, pidfd >= 0 ? 2 : 1, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		if (p[0].revents) {
			char c;
			ssize_t r = read(pipe_fd, &c, 1);
			if (r < 0 && errno == EINTR)
				continue;
			return r == 1;
		}
		if (p[1].revents)
			return false;
	}
}
