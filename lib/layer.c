/* layer.c: applying a layer tar onto a rootfs (see layer.h for the rules).
 * libarchive reads the tar and its compression; this file decides what
 * each entry may do to the tree. */
#include "layer.h"
#include "digest.h"
#include "rmtree.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define WH_META ".wh..wh."

int layer_path_clean(const char *name, bool whiteouts, char *out, size_t outlen,
                     enum layer_path_kind *kind, const char **why)
{
	size_t n = 0;
	const char *base = NULL; /* in out */
	if (!name || !*name) {
		*why = "empty name";
		return -1;
	}
	if (name[0] == '/') {
		*why = "absolute name";
		return -1;
	}
	for (const char *c = name; *c;) {
		const char *end = strchrnul(c, '/');
		size_t len = end - c;
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			*why = "'..' in the name";
			return -1;
		}
		if (len > 0 && !(len == 1 && c[0] == '.')) {
			if (n + len + 2 > outlen || n + len + 2 > LAYER_MAX_PATH) {
				*why = "name too long";
				return -1;
			}
			if (n)
				out[n++] = '/';
			base = out + n;
			memcpy(out + n, c, len);
			n += len;
		}
		c = *end ? end + 1 : end;
	}
	out[n] = '\0';
	*kind = LAYER_PATH_NORMAL;
	if (n == 0) {
		*kind = LAYER_PATH_ROOT;
		return 0;
	}
	if (!whiteouts || strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0)
		return 0;
	size_t dirlen = base > out ? (size_t)(base - out - 1) : 0;
	if (strcmp(base, WH_OPAQUE) == 0) {
		out[dirlen] = '\0';
		*kind = LAYER_PATH_OPAQUE;
		return 0;
	}
	if (strncmp(base, WH_META, strlen(WH_META)) == 0) {
		*kind = LAYER_PATH_IGNORED;
		return 0;
	}
	const char *victim = base + strlen(WH_PREFIX);
	if (!*victim || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0) {
		*why = "whiteout without a name";
		return -1;
	}
	memmove((char *)base, victim, strlen(victim) + 1);
	*kind = LAYER_PATH_WHITEOUT;
	return 0;
}

/* ---- the set of paths this layer wrote (for whiteouts of lower layers) --- */

struct pathset {
	char **slot;
	size_t cap, n;
};

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static bool set_has_n(const struct pathset *s, const char *p, size_t len)
{
	if (!s->cap)
		return false;
	for (size_t i = hash(p, len) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slot[i])
			return false;
		if (strlen(s->slot[i]) == len && memcmp(s->slot[i], p, len) == 0)
			return true;
	}
}

static void set_add_n(struct pathset *s, const char *p, size_t len)
{
	if (set_has_n(s, p, len))
		return;
	if ((s->n + 1) * 2 > s->cap) {
		struct pathset g = {xcalloc(s->cap ? s->cap * 2 : 1024, sizeof(char *)),
		                    s->cap ? s->cap * 2 : 1024, 0};
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i]) {
				size_t j = hash(s->slot[i], strlen(s->slot[i])) & (g.cap - 1);
				while (g.slot[j])
					j = (j + 1) & (g.cap - 1);
				g.slot[j] = s->slot[i];
				g.n++;
			}
		free(s->slot);
		*s = g;
	}
	size_t i = hash(p, len) & (s->cap - 1);
	while (s->slot[i])
		i = (i + 1) & (s->cap - 1);
	s->slot[i] = xstrndup(p, len);
	s->n++;
}

/* Add path and each of its ancestors. */
static void set_add_path(struct pathset *s, const char *p)
{
	for (const char *q = p; (q = strchr(q, '/')); q++)
		set_add_n(s, p, q - p);
	set_add_n(s, p, strlen(p));
}

static void set_free(struct pathset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof *s);
}

/* ---- walking inside the root ---------------------------------------------- */

struct ctx {
	int root_fd;
	const char *what;
	const struct layer_opts *o;
	struct layer_stats *st;
	struct pathset wrote;
	char parent_path[LAYER_MAX_PATH]; /* the cached parent */
	int parent_fd;
	bool have_parent;
	struct kerr *e;
};

static int refuse(struct ctx *x, const char *path, const char *why)
{
	return kerr_set(x->e, 0, "%s: /%s: %s", x->what, path, why);
}

/* Open directory dir ("" = root) beneath the root, one component at a time
 * with O_NOFOLLOW; create missing ones when create.  Returns a new fd,
 * -1 with e set, or -2 (no e) when missing and !create. */
static int open_dir_beneath(struct ctx *x, const char *dir, bool create, const char *entry)
{
	int fd = dup(x->root_fd);
	if (fd < 0)
		return kerr_set(x->e, errno, "%s: can't open the root", x->what);
	char comp[LAYER_MAX_PATH];
	for (const char *c = dir; *c;) {
		const char *end = strchrnul(c, '/');
		size_t len = end - c;
		memcpy(comp, c, len);
		comp[len] = '\0';
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
				int err = errno;
				close(fd);
				return kerr_set(x->e, err, "%s: can't create /%.*s", x->what,
				                (int)(end - dir), dir);
			}
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			int err = errno;
			struct stat sb;
			bool is_link = fstatat(fd, comp, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode);
			close(fd);
			if (err == ENOENT && !create)
				return -2;
			char why[LAYER_MAX_PATH + 64];
			if (is_link || err == ELOOP)
				snprintf(why, sizeof why, "refusing to write through the symlink /%.*s",
				         (int)(end - dir), dir);
			else if (err == ENOTDIR)
				snprintf(why, sizeof why, "/%.*s is not a directory", (int)(end - dir), dir);
			else
				return kerr_set(x->e, err, "%s: /%s: can't open /%.*s", x->what, entry,
				                (int)(end - dir), dir);
			return refuse(x, entry, why);
		}
		close(fd);
		fd = next;
		c = *end ? end + 1 : end;
	}
	return fd;
}

/* The parent directory fd of path (cached: tar entries come grouped by
 * directory).  *base is set to the last component.  Borrowed fd. */
static int parent_of(struct ctx *x, const char *path, bool create, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	*base = slash ? slash + 1 : path;
	if (x->have_parent && strlen(x->parent_path) == dlen &&
	    memcmp(x->parent_path, path, dlen) == 0)
		return x->parent_fd;
	char dir[LAYER_MAX_PATH];
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	int fd = open_dir_beneath(x, dir, create, path);
	if (fd < 0)
		return fd;
	if (x->have_parent)
		close(x->parent_fd);
	x->parent_fd = fd;
	memcpy(x->parent_path, dir, dlen + 1);
	x->have_parent = true;
	return fd;
}

/* The tree changed under the cached parent (a removal): forget it. */
static void parent_forget(struct ctx *x)
{
	if (x->have_parent)
		close(x->parent_fd);
	x->have_parent = false;
}

/* ---- whiteouts ------------------------------------------------------------ */

static int keep_written(const char *name, void *arg);

struct opaque_arg {
	struct ctx *x;
	const char *dir; /* path of the directory being emptied */
	int fd;
};

/* Empty dir fd of what lower layers put there, keeping what this layer
 * wrote (and, in kept directories, again only what this layer wrote). */
static int opaque_empty(struct ctx *x, int fd, const char *dir)
{
	struct opaque_arg a = {x, dir, fd};
	return rmtree_children(fd, dir[0] ? dir : "/", keep_written, &a, x->e);
}

static int keep_written(const char *name, void *arg)
{
	struct opaque_arg *a = arg;
	char path[LAYER_MAX_PATH];
	int n = snprintf(path, sizeof path, "%s%s%s", a->dir, a->dir[0] ? "/" : "", name);
	if (n < 0 || (size_t)n >= sizeof path || !set_has_n(&a->x->wrote, path, n))
		return 0;
	int sub = openat(a->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub >= 0) {
		(void)opaque_empty(a->x, sub, path); /* errors surface when squashing */
		close(sub);
	}
	return 1;
}

static int apply_whiteout(struct ctx *x, const char *path)
{
	if (set_has_n(&x->wrote, path, strlen(path)))
		return 0; /* whiteouts hide lower layers only */
	const char *base;
	int pfd = parent_of(x, path, false, &base);
	if (pfd == -2)
		return 0;
	if (pfd < 0)
		return -1;
	/* The cached parent stays valid: only its child goes. */
	return rmtree_at(pfd, base, x->e);
}

static int apply_opaque(struct ctx *x, const char *dir)
{
	int fd = open_dir_beneath(x, dir, true, dir[0] ? dir : ".");
	if (fd < 0)
		return -1;
	set_add_path(&x->wrote, dir);
	int r = opaque_empty(x, fd, dir);
	close(fd);
	parent_forget(x);
	return r;
}

/* ---- entries -------------------------------------------------------------- */

/* Make room for a new entry at base in pfd: remove what is there, unless
 * it is a directory and the new entry is one too. */
static int make_room(struct ctx *x, int pfd, const char *base, bool new_is_dir, bool *exists_dir)
{
	struct stat sb;
	*exists_dir = false;
	if (fstatat(pfd, base, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : kerr_set(x->e, errno, "%s: can't stat %s", x->what, base);
	if (S_ISDIR(sb.st_mode)) {
		if (new_is_dir) {
			*exists_dir = true;
			return 0;
		}
		return rmtree_at(pfd, base, x->e);
	}
	if (unlinkat(pfd, base, 0) < 0)
		return kerr_set(x->e, errno, "%s: can't replace %s", x->what, base);
	return 0;
}

static int write_data(struct ctx *x, struct archive *a, int fd, const char *path, int64_t size)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	for (;;) {
		int r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_OK)
			return kerr_set(x->e, 0, "%s: /%s: %s", x->what, path, archive_error_string(a));
		x->st->bytes += len;
		if (x->st->bytes > LAYER_MAX_BYTES)
			return refuse(x, path, "the image's files add up to more than 512 GiB");
		const char *p = buf;
		while (len) {
			ssize_t n = pwrite(fd, p, len, off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return kerr_set(x->e, errno, "%s: can't write /%s", x->what, path);
			p += n;
			off += n;
			len -= n;
		}
	}
	if (ftruncate(fd, size) < 0) /* sparse tails */
		return kerr_set(x->e, errno, "%s: can't write /%s", x->what, path);
	return 0;
}

static void set_times(int pfd, const char *base, struct archive_entry *ent, int fd)
{
	if (!archive_entry_mtime_is_set(ent))
		return;
	struct timespec ts[2];
	ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(ent);
	ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(ent);
	if (fd >= 0)
		(void)futimens(fd, ts);
	else
		(void)utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
}

static int apply_entry(struct ctx *x, struct archive *a, struct archive_entry *ent, const char *path)
{
	mode_t type = archive_entry_filetype(ent);
	mode_t perm = archive_entry_perm(ent) & 07777;
	const char *link = archive_entry_hardlink(ent);
	if (!link && (type == AE_IFCHR || type == AE_IFBLK) && geteuid() != 0) {
		x->st->devices_skipped++;
		return 0;
	}
	if (!link && type == AE_IFSOCK) {
		x->st->sockets_skipped++;
		return 0;
	}
	const char *base;
	int pfd = parent_of(x, path, true, &base);
	if (pfd < 0)
		return -1;
	bool is_dir = !link && type == AE_IFDIR;
	bool exists_dir;

	if (link) {
		char target[LAYER_MAX_PATH];
		enum layer_path_kind k;
		const char *why;
		if (layer_path_clean(link, false, target, sizeof target, &k, &why) < 0 ||
		    k != LAYER_PATH_NORMAL) {
			char msg[LAYER_MAX_PATH + 64];
			snprintf(msg, sizeof msg, "hard link to '%.*s': %s", 1024, link,
			         k == LAYER_PATH_ROOT ? "the root" : why);
			return refuse(x, path, msg);
		}
		if (strcmp(target, path) == 0)
			return 0;
		/* The target's parent is walked with the same rules, into a
		 * separate fd: the cached parent stays the entry's. */
		const char *tslash = strrchr(target, '/');
		char tdir[LAYER_MAX_PATH];
		size_t tdl = tslash ? (size_t)(tslash - target) : 0;
		memcpy(tdir, target, tdl);
		tdir[tdl] = '\0';
		int tfd = open_dir_beneath(x, tdir, false, path);
		if (tfd == -2)
			return refuse(x, path, "hard link to a file that doesn't exist");
		if (tfd < 0)
			return -1;
		const char *tbase = tslash ? tslash + 1 : target;
		struct stat sb;
		int r = 0;
		if (fstatat(tfd, tbase, &sb, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(sb.st_mode)) {
			r = refuse(x, path, S_ISDIR(sb.st_mode) ? "hard link to a directory"
			                                        : "hard link to a file that doesn't exist");
		} else if (make_room(x, pfd, base, false, &exists_dir) < 0) {
			r = -1;
		} else if (linkat(tfd, tbase, pfd, base, 0) < 0) {
			r = kerr_set(x->e, errno, "%s: can't link /%s to /%s", x->what, path, target);
		}
		close(tfd);
		if (r == 0)
			set_add_path(&x->wrote, path);
		return r;
	}

	if (make_room(x, pfd, base, is_dir, &exists_dir) < 0)
		return -1;
	set_add_path(&x->wrote, path);
	switch (type) {
	case AE_IFDIR:
		if (!exists_dir && mkdirat(pfd, base, 0700) < 0)
			return kerr_set(x->e, errno, "%s: can't create /%s", x->what, path);
		if (fchmodat(pfd, base, perm | 0700, 0) < 0)
			return kerr_set(x->e, errno, "%s: can't chmod /%s", x->what, path);
		return 0;
	case AE_IFREG: {
		_cleanup_close_ int fd =
		    openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return kerr_set(x->e, errno, "%s: can't create /%s", x->what, path);
		int64_t size = archive_entry_size(ent);
		if (size < 0 || (uint64_t)size > LAYER_MAX_BYTES)
			return refuse(x, path, "file size out of range");
		if (write_data(x, a, fd, path, size) < 0)
			return -1;
		/* chmod after the data: the kernel clears setuid on write. */
		if (fchmod(fd, perm | 0400) < 0)
			return kerr_set(x->e, errno, "%s: can't chmod /%s", x->what, path);
		set_times(pfd, base, ent, fd);
		return 0;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(ent);
		if (!target || !*target || strlen(target) >= LAYER_MAX_PATH)
			return refuse(x, path, "symlink without a valid target");
		/* The target is stored as is: it is only ever resolved inside
		 * the container's root, and never followed while building. */
		if (symlinkat(target, pfd, base) < 0)
			return kerr_set(x->e, errno, "%s: can't create /%s", x->what, path);
		set_times(pfd, base, ent, -1);
		return 0;
	}
	case AE_IFIFO:
		if (mkfifoat(pfd, base, perm | 0600) < 0)
			return kerr_set(x->e, errno, "%s: can't create /%s", x->what, path);
		return 0;
	case AE_IFCHR:
	case AE_IFBLK:
		if (mknodat(pfd, base, type | perm, archive_entry_rdev(ent)) < 0)
			return kerr_set(x->e, errno, "%s: can't create /%s", x->what, path);
		return 0;
	default:
		return refuse(x, path, "unknown entry type");
	}
}

/* ---- the stream ------------------------------------------------------------ */

struct reader {
	int fd;
	struct digest d;
	char buf[1 << 17];
	int err;
};

static la_ssize_t read_cb(struct archive *a, void *arg, const void **out)
{
	struct reader *r = arg;
	for (;;) {
		ssize_t n = read(r->fd, r->buf, sizeof r->buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r->err = errno;
			archive_set_error(a, errno, "read error");
			return -1;
		}
		digest_update(&r->d, r->buf, n);
		*out = r->buf;
		return n;
	}
}

/* Hash what libarchive didn't read (padding after the tar's end). */
static int drain(struct reader *r)
{
	for (;;) {
		ssize_t n = read(r->fd, r->buf, sizeof r->buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		digest_update(&r->d, r->buf, n);
	}
}

int layer_apply(int root_fd, int fd, const char *what, const struct layer_opts *o,
                struct layer_stats *stats, struct kerr *e)
{
	struct ctx x = {.root_fd = root_fd, .what = what, .o = o, .st = stats, .e = e};
	struct reader *rd = xcalloc(1, sizeof *rd);
	rd->fd = fd;
	digest_init(&rd->d);
	struct archive *a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	int r = -1;
	if (archive_read_open(a, rd, NULL, read_cb, NULL) != ARCHIVE_OK) {
		kerr_set(e, rd->err, "%s: %s", what, archive_error_string(a));
		goto out;
	}
	for (;;) {
		if (o->cancel && *o->cancel) {
			kerr_set(e, EINTR, "%s", what);
			goto out;
		}
		struct archive_entry *ent;
		int ar = archive_read_next_header(a, &ent);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN) {
			kerr_set(e, rd->err, "%s: not a valid tar stream: %s", what,
			         archive_error_string(a) ? archive_error_string(a) : "read error");
			goto out;
		}
		if (++stats->entries > LAYER_MAX_ENTRIES) {
			kerr_set(e, 0, "%s: more than %u entries in the image", what, LAYER_MAX_ENTRIES);
			goto out;
		}
		const char *name = archive_entry_pathname(ent);
		char path[LAYER_MAX_PATH];
		enum layer_path_kind kind;
		const char *why;
		if (layer_path_clean(name, o->whiteouts, path, sizeof path, &kind, &why) < 0) {
			kerr_set(e, 0, "%s: '%.1024s': %s", what, name ? name : "", why);
			goto out;
		}
		int rc = 0;
		switch (kind) {
		case LAYER_PATH_ROOT:
		case LAYER_PATH_IGNORED:
			break;
		case LAYER_PATH_WHITEOUT:
			rc = apply_whiteout(&x, path);
			break;
		case LAYER_PATH_OPAQUE:
			rc = apply_opaque(&x, path);
			break;
		case LAYER_PATH_NORMAL:
			rc = apply_entry(&x, a, ent, path);
			break;
		}
		if (rc < 0)
			goto out;
	}
	if (drain(rd) < 0) {
		kerr_set(e, errno, "%s: read error", what);
		goto out;
	}
	digest_final(&rd->d, stats->digest);
	if (o->expect_digest && strcmp(stats->digest, o->expect_digest) != 0 &&
	    !(o->expect_digest_alt && strcmp(stats->digest, o->expect_digest_alt) == 0)) {
		kerr_set(e, 0, "%s: content doesn't match its digest (got %s)", what, stats->digest);
		goto out;
	}
	r = 0;
out:
	if (rd->d.ctx)
		digest_free(&rd->d);
	archive_read_free(a);
	free(rd);
	parent_forget(&x);
	set_free(&x.wrote);
	return r;
}
