/* image.c: image lookup, type detection and metadata (see image.h). */
#include "image.h"
#include "imgref.h"
#include "log.h"
#include "path.h"
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int detect_fd(int fd, const char *path, enum image_type *type, struct kerr *e)
{
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

static int detect(const char *path, enum image_type *type, struct kerr *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return kerr_set(e, errno, "%s: can't open image", path);
	return detect_fd(fd, path, type, e);
}

/* The storage directories a name is looked up in, in order: -s DIR alone;
 * else krill's storage, then Charliecloud's ($CH_IMAGE_STORAGE, else
 * ch-image's default /var/tmp/$USER.ch), so images built with ch-image
 * run by the same name as with ch-run. */
static void storage_dirs(const struct container *c, struct strv *dirs)
{
	if (c->storage)
		strv_push(dirs, c->storage);
	if (c->storage_cli)
		return;
	const char *ch = getenv("CH_IMAGE_STORAGE"), *user = getenv("USER");
	if (ch && *ch)
		strv_push(dirs, ch);
	else if (user && *user && !strchr(user, '/'))
		strv_push_owned(dirs, xasprintf("/var/tmp/%s.ch", user));
}

static int resolve_by_name(struct container *c, struct kerr *e)
{
	struct strv dirs = {0};
	storage_dirs(c, &dirs);
	struct storage_hit hit;
	int r = dirs.n ? storage_find((const char *const *)dirs.v, c->image, &hit, e) : 0;
	if (r == 0) {
		_cleanup_free_ char *list = xstrdup("");
		for (size_t i = 0; i < dirs.n; i++) {
			char *t = xasprintf("%s%s%s", list, i ? (i + 1 == dirs.n ? " or " : ", ") : "",
			                    dirs.v[i]);
			free(list);
			list = t;
		}
		kerr_set(e, 0, "%s: no such image in the current directory%s%s", c->image,
		         dirs.n ? " or in " : "", list);
	}
	strv_free(&dirs);
	if (r <= 0)
		return -1;
	_cleanup_close_ int fd = hit.fd;
	klog(KLOG_VERBOSE, "image %s is %s%s", c->image, hit.path,
	     hit.charliecloud ? " (Charliecloud storage)" : "");
	free(c->image);
	c->image = hit.path;
	if (hit.charliecloud && c->write) {
		kerr_set(e, 0, "--write: %s is in Charliecloud storage, which ch-image manages",
		         c->image);
		return kerr_hint(e, "use -W for a throwaway writable layer, as ch-run also refuses "
		                    "-w for an image run by name");
	}
	return detect_fd(fd, c->image, &c->image_type, e);
}

int image_resolve(struct container *c, struct kerr *e)
{
	/* IMAGE is a path when it starts with '/' or '.', or when something
	 * of that name exists; else it is a name, looked up in the storage
	 * directories (storage.c checks that no other user could have
	 * planted what it finds). */
	bool path_only = c->image[0] == '/' || c->image[0] == '.';
	if (!path_only && access(c->image, F_OK) < 0 && (errno == ENOENT || errno == ENOTDIR))
		return resolve_by_name(c, e);
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
