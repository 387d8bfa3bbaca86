/* storage.c: images by name and the trust rule (see storage.h). */
#include "storage.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int storage_check_fd(int fd, const char *path, struct kerr *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return kerr_set(e, errno, "%s: can't stat", path);
	uid_t me = getuid();
	if (st.st_uid != me && st.st_uid != 0) {
		kerr_set(e, 0, "%s: owned by uid %u, not by you (uid %u) or root", path,
		         (unsigned)st.st_uid, (unsigned)me);
		return kerr_hint(e, "another user may have planted it; krill runs images by name "
		                    "only from storage that is yours or root's: check it, then "
		                    "remove it, or name another storage directory with -s DIR");
	}
	mode_t w = st.st_mode & (S_IWGRP | S_IWOTH);
	if (w) {
		kerr_set(e, 0, "%s: writable by %s (mode %04o)", path,
		         w == (S_IWGRP | S_IWOTH) ? "its group and others"
		         : w == S_IWGRP           ? "its group"
		                                  : "others",
		         (unsigned)(st.st_mode & 07777));
		return kerr_hint(e, "another user could plant images in it or change them; "
		                    "check it, then `chmod go-w %s`", path);
	}
	return 0;
}

int storage_open_dir(const char *path, struct kerr *e)
{
	/* The last component may be a symlink (storage on /scratch, linked
	 * from /var/tmp): the rule is applied to what it leads to, which is
	 * what would be used. */
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kerr_set(e, errno, "%s: can't open the storage directory", path);
	if (storage_check_fd(fd, path, e) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

char *storage_ch_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return NULL;
	char *s = xstrdup(name);
	for (char *p = s; *p; p++) {
		if (*p == '/')
			*p = '%';
		else if (*p == ':')
			*p = '+';
	}
	return s;
}

/* The path the kernel gives the open fd, else the path we built. */
static char *fd_path(int fd, const char *built)
{
	char link[64], buf[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof buf - 1);
	if (n <= 0 || buf[0] != '/')
		return xstrdup(built);
	buf[n] = '\0';
	return xstrdup(buf);
}

/* Open dir_fd/entry and check it.  1 = found (fd in *out), 0 = absent. */
static int open_entry(int dir_fd, const char *dir, const char *entry, int *out, char **path,
                      struct kerr *e)
{
	_cleanup_free_ char *built = xasprintf("%s/%s", dir, entry);
	/* O_NONBLOCK: a FIFO planted in our own storage can't hang us. */
	int fd = openat(dir_fd, entry, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return kerr_set(e, errno, "%s: can't open image", built);
	}
	if (storage_check_fd(fd, built, e) < 0) {
		close(fd);
		return -1;
	}
	*out = fd;
	*path = fd_path(fd, built);
	return 1;
}

static int find_in(const char *dir, const char *name, struct storage_hit *hit, struct kerr *e)
{
	struct kerr oe;
	_cleanup_close_ int dfd = storage_open_dir(dir, &oe);
	if (dfd < 0) {
		if (oe.errnum == ENOENT || oe.errnum == ENOTDIR) {
			klog(KLOG_DEBUG, "no storage directory %s: %s", dir, strerror(oe.errnum));
			return 0;
		}
		if (e)
			*e = oe;
		return -1;
	}
	int r;
	if (!strchr(name, '/')) {
		_cleanup_free_ char *sqfs = xasprintf("%s.sqfs", name);
		if ((r = open_entry(dfd, dir, name, &hit->fd, &hit->path, e)) != 0 ||
		    (r = open_entry(dfd, dir, sqfs, &hit->fd, &hit->path, e)) != 0)
			return r;
	}
	_cleanup_free_ char *chname = storage_ch_name(name);
	if (!chname)
		return 0;
	_cleanup_free_ char *img = xasprintf("%s/img", dir);
	_cleanup_close_ int ifd = openat(dfd, "img", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ifd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : kerr_set(e, errno, "%s", img);
	if (storage_check_fd(ifd, img, e) < 0)
		return -1;
	r = open_entry(ifd, img, chname, &hit->fd, &hit->path, e);
	if (r > 0)
		hit->charliecloud = true;
	return r;
}

int storage_find(const char *const *dirs, const char *name, struct storage_hit *hit,
                 struct kerr *e)
{
	*hit = (struct storage_hit){.fd = -1};
	for (const char *const *d = dirs; *d; d++) {
		int r = find_in(*d, name, hit, e);
		if (r != 0)
			return r;
	}
	return 0;
}
