/* util.h: small helpers used everywhere: cleanup attributes, allocation
 * that aborts on exhaustion (a launcher can't do anything useful without
 * memory), a growable string vector, and whole-file I/O. */
#ifndef KRILL_UTIL_H
#define KRILL_UTIL_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

void freep(void *p);
void closep(int *fd);
void fclosep(FILE **f);
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A NULL-terminated vector of owned strings. */
struct strv {
	char **v;
	size_t n, cap;
};
void strv_push(struct strv *s, const char *str);      /* copies str */
void strv_push_owned(struct strv *s, char *str);      /* takes str */
void strv_free(struct strv *s);

/* Read a whole file (at most max bytes) into a NUL-terminated buffer. */
int file_read_all(int dirfd, const char *path, size_t max, char **buf,
                  size_t *len, struct kerr *e);
/* The same from an open fd; what names it in errors. */
int fd_read_all(int fd, const char *what, size_t max, char **buf, size_t *len,
                struct kerr *e);
/* Write buf to path (O_WRONLY, no create, no truncation), for /proc files. */
int file_write_str(const char *path, const char *buf, struct kerr *e);

/* Parse a decimal unsigned number that must fill the whole string. */
int parse_ulong(const char *s, unsigned long max, unsigned long *out);

/* Close every fd from 3 up except those in keep[] (-1 entries ignored). */
void fds_close_except(const int *keep, size_t n);

/* The wait of a guard process (cgroup.c, join.c): true when its owner
 * released it (a byte on pipe_fd), false when the owner is gone (EOF on
 * pipe_fd, or pidfd, if >= 0, readable: the owner exited while a child of
 * it may still hold the pipe). */
bool guard_wait_release(int pipe_fd, int pidfd);

/* Number of online CPUs, at least 1. */
int cpu_count(void);

#endif
