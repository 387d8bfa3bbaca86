/* rmtree.c: see rmtree.h.  Everything is done relative to directory fds
 * opened with O_NOFOLLOW, so a symlink planted in the tree can't redirect
 * a removal outside it. */
#include "rmtree.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RMTREE_MAX_DEPTH 4096

static int rm_children(int fd, const char *what, int depth,
                       int (*keep)(const char *, void *), void *arg, struct kerr *e);

static int rm_at(int dirfd, const char *name, int depth, struct kerr *e)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return kerr_set(e, errno, "can't remove %s", name);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		/* A directory of mode 0000: its owner may still chmod it. */
		if (fchmodat(dirfd, name, 0700, 0) == 0)
			fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return errno == ENOENT ? 0 : kerr_set(e, errno, "can't open %s for removal", name);
	int r = rm_children(fd, name, depth + 1, NULL, NULL, e);
	close(fd);
	if (r < 0)
		return -1;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return kerr_set(e, errno, "can't remove %s", name);
	return 0;
}

static int rm_children(int fd, const char *what, int depth,
                       int (*keep)(const char *, void *), void *arg, struct kerr *e)
{
	if (depth > RMTREE_MAX_DEPTH)
		return kerr_set(e, ELOOP, "can't remove %s", what);
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
		(void)fchmod(fd, st.st_mode | 0700);
	int dfd = dup(fd);
	if (dfd < 0)
		return kerr_set(e, errno, "can't list %s", what);
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return kerr_set(e, errno, "can't list %s", what);
	}
	/* Entries removed while reading may make readdir skip others on some
	 * filesystems: scan again until a scan removes nothing. */
	int r = 0;
	for (size_t removed = 1; r == 0 && removed;) {
		removed = 0;
		rewinddir(d);
		struct dirent *de;
		while (r == 0 && (errno = 0, de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (keep && keep(de->d_name, arg))
				continue;
			r = rm_at(fd, de->d_name, depth, e);
			removed++;
		}
		if (r == 0 && errno)
			r = kerr_set(e, errno, "can't list %s", what);
	}
	closedir(d);
	return r;
}

int rmtree_at(int dirfd, const char *name, struct kerr *e)
{
	return rm_at(dirfd, name, 0, e);
}

int rmtree_children(int fd, const char *what, int (*keep)(const char *name, void *arg),
                    void *arg, struct kerr *e)
{
	return rm_children(fd, what, 0, keep, arg, e);
}
