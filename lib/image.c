/* image.c: image lookup, type detection and metadata (see image.h). */
#include "image.h"
#include "imgref.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int detect(const char *path, enum image_type *type, struct kerr *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return kerr_set(e, errno, "%s: can't open image", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return kerr_set(e, errno, "%s: can't stat image", path);
	if (imgsrc_refuse_unimported(fd, path, S_ISDIR(st.st_mode), e) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		*type = IMAGE_DIR;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return kerr_set(e, 0, "%s: unknown image type (not a directory or a regular file)",
		                path);
	unsigned char magic[4] = {0};
	ssize_t n = pread(fd, magic, sizeof magic, 0);
	if (n < 0)
		return kerr_set(e, errno, "%s: can't read image", path);
	if (n == 4 && memcmp(magic, "hsqs", 4) == 0) {
		*type = IMAGE_SQUASH;
		return 0;
	}
	/* "xx xx xx xx": each byte after the first is preceded by a space. */
	char hex[3 * sizeof magic] = "";
	size_t used = 0;
	for (ssize_t i = 0; i < n; i++)
		used += snprintf(hex + used, sizeof hex - used, "%s%02x", i ? " " : "", magic[i]);
	return kerr_set(e, 0, "%s: unknown image type (first bytes: %s)", path,
	                n ? hex : "none, the file is empty");
}

int image_resolve(struct container *c, struct kerr *e)
{
	/* A bare name that isn't in the current directory is looked up in the
	 * storage directory: NAME (a directory) or NAME.sqfs. */
	if (!strchr(c->image, '/') && access(c->image, F_OK) < 0 && c->storage) {
		char *dir = xasprintf("%s/%s", c->storage, c->image);
		char *sqfs = xasprintf("%s/%s.sqfs", c->storage, c->image);
		char *found = access(dir, F_OK) == 0 ? dir : access(sqfs, F_OK) == 0 ? sqfs : NULL;
		if (!found) {
			kerr_set(e, 0, "%s: no such image in the current directory or in %s",
			         c->image, c->storage);
			free(dir);
			free(sqfs);
			return -1;
		}
		free(c->image);
		c->image = xstrdup(found);
		free(dir);
		free(sqfs);
	}
	char *abs = realpath(c->image, NULL);
	if (!abs)
		return kerr_set(e, errno, "%s: can't open image", c->image);
	free(c->image);
	c->image = abs;
	return detect(c->image, &c->image_type, e);
}

int image_default_cmd(int root_fd, char ***argv, struct kerr *e)
{
	*argv = NULL;
	_cleanup_free_ char *buf = NULL;
	int r = path_read_meta(root_fd, ".krill/cmd", 1 << 16, &buf, NULL, e);
	if (r != 0)
		return r < 0 ? -1 : 0;
	struct strv v = {0};
	char *save = NULL;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		strv_push(&v, l);
	*argv = v.v;
	return 0;
}

int image_default_cwd(int root_fd, char **cwd, struct kerr *e)
{
	*cwd = NULL;
	char *buf = NULL;
	int r = path_read_meta(root_fd, ".krill/cwd", 4096, &buf, NULL, e);
	if (r != 0)
		return r < 0 ? -1 : 0;
	buf[strcspn(buf, "\n")] = '\0';
	if (!*buf)
		free(buf);
	else
		*cwd = buf;
	return 0;
}
