/* hold.c: see hold.h. */
#include "hold.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int hold_report_and_wait(int fd, const char *cwd, char *const *env, struct kerr *e)
{
	char head[128];
	int n = snprintf(head, sizeof head, "%s%cpid=%d%c", HOLD_MAGIC, 0, (int)getpid(), 0);
	_cleanup_free_ char *dir = xasprintf("cwd=%s", cwd ? cwd : "/");
	if (send_all(fd, head, (size_t)n) < 0 || send_all(fd, dir, strlen(dir) + 1) < 0)
		goto fail;
	for (char *const *v = env; v && *v; v++)
		if (send_all(fd, *v, strlen(*v) + 1) < 0)
			goto fail;
	if (send_all(fd, "", 1) < 0)
		goto fail;
	klog(KLOG_VERBOSE, "container ready; holding it until released");
	/* Anything the peer sends, or its end closing, releases us. */
	for (;;) {
		char byte;
		ssize_t r = read(fd, &byte, 1);
		if (r < 0 && errno == EINTR)
			continue;
		return 0;
	}
fail:
	return kerr_set(e, errno, "--hold-fd: can't report the container");
}

int hold_report_parse(char *buf, size_t len, long *pid, const char **cwd, char ***env,
                      struct kerr *e)
{
	*env = NULL;
	if (len == 0 || buf[len - 1] != '\0')
		return kerr_set(e, 0, "container report: truncated");
	/* Split into strings; the last one must be the empty terminator. */
	size_t count = 0;
	for (size_t i = 0; i < len; i++)
		count += buf[i] == '\0';
	char **v = xcalloc(count + 1, sizeof *v);
	size_t nv = 0;
	bool ended = false;
	for (char *p = buf; p < buf + len; p += strlen(p) + 1) {
		if (ended) {
			free(v);
			return kerr_set(e, 0, "container report: data after the end");
		}
		if (!*p)
			ended = true;
		else
			v[nv++] = p;
	}
	if (!ended || nv < 3 || strcmp(v[0], HOLD_MAGIC) != 0 ||
	    strncmp(v[1], "pid=", 4) != 0 || strncmp(v[2], "cwd=", 4) != 0 ||
	    v[2][4] != '/') {
		free(v);
		return kerr_set(e, 0, "container report: malformed header");
	}
	char *end;
	errno = 0;
	long p = strtol(v[1] + 4, &end, 10);
	if (errno || *end || p <= 1 || p > 0x400000) {
		kerr_set(e, 0, "container report: bad pid '%s'", v[1] + 4);
		free(v);
		return -1;
	}
	for (size_t i = 3; i < nv; i++) {
		const char *eq = strchr(v[i], '=');
		if (!eq || eq == v[i]) {
			free(v);
			return kerr_set(e, 0, "container report: bad environment entry");
		}
	}
	*pid = p;
	*cwd = v[2] + 4;
	memmove(v, v + 3, (nv - 3) * sizeof *v);
	v[nv - 3] = NULL;
	*env = v;
	return 0;
}
