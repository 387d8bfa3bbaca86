/* cache.c: the content-addressed import cache (see cache.h). */
#include "cache.h"
#include "json_doc.h"
#include "log.h"
#include "rmtree.h"
#include "imgref.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_MAX_SIZE (1 << 20)

char *cache_default_path(struct kerr *e)
{
	const char *x = getenv("XDG_CACHE_HOME");
	if (x && x[0] == '/')
		return xasprintf("%s/krill", x);
	const char *home = getenv("HOME");
	if (home && home[0] == '/')
		return xasprintf("%s/.cache/krill", home);
	kerr_set(e, 0, "no cache directory: neither XDG_CACHE_HOME nor HOME is set");
	kerr_hint(e, "set [import] cache in krill.conf, or pass --cache DIR");
	return NULL;
}

int cache_check_fd(int fd, const char *what, bool want_dir, struct kerr *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return kerr_set(e, errno, "can't stat %s", what);
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return kerr_set(e, 0, "%s: not a %s", what, want_dir ? "directory" : "regular file");
	if (st.st_uid != geteuid()) {
		kerr_set(e, 0, "%s: owned by uid %u, not by you (uid %u)", what, (unsigned)st.st_uid,
		         (unsigned)geteuid());
		return kerr_hint(e, "another user may have created it first; remove it or use --cache DIR");
	}
	if (st.st_mode & 022) {
		kerr_set(e, 0, "%s: writable by group or others (mode %04o)", what,
		         (unsigned)(st.st_mode & 07777));
		return kerr_hint(e, "chmod go-w %s", what);
	}
	return 0;
}

/* mkdir + open (O_NOFOLLOW) + trust check of one directory. */
static int open_dir(int at, const char *name, const char *what, struct kerr *e)
{
	if (mkdirat(at, name, 0700) < 0 && errno != EEXIST)
		return kerr_set(e, errno, "can't create %s", what);
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 && (errno == ENOTDIR || errno == ELOOP) &&
	    fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return kerr_set(e, 0, "%s: is a symlink; refusing to follow it", what);
	if (fd < 0)
		return kerr_set(e, errno, "can't open %s", what);
	if (cache_check_fd(fd, what, true, e) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* mkdir -p of the cache's parents (e.g. ~/.cache), mode 0700 when new. */
static int make_parents(const char *path, struct kerr *e)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return kerr_set(e, errno, "can't create %s", p);
		*s = '/';
	}
	return 0;
}

static int open_subdirs(struct cache *c, struct kerr *e)
{
	const char *path = c->path;
	_cleanup_free_ char *b = xasprintf("%s/blobs", path);
	_cleanup_free_ char *bs = xasprintf("%s/blobs/sha256", path);
	_cleanup_free_ char *im = xasprintf("%s/images", path);
	_cleanup_free_ char *lk = xasprintf("%s/locks", path);
	_cleanup_free_ char *tm = xasprintf("%s/tmp", path);
	_cleanup_close_ int bfd = open_dir(c->fd, "blobs", b, e);
	if (bfd < 0 || (c->blobs_fd = open_dir(bfd, "sha256", bs, e)) < 0 ||
	    (c->images_fd = open_dir(c->fd, "images", im, e)) < 0 ||
	    (c->locks_fd = open_dir(c->fd, "locks", lk, e)) < 0 ||
	    (c->tmp_fd = open_dir(c->fd, "tmp", tm, e)) < 0)
		return -1;
	return 0;
}

int cache_open(struct cache *c, const char *path, bool exclusive, struct kerr *e)
{
	memset(c, 0, sizeof *c);
	c->fd = c->blobs_fd = c->images_fd = c->locks_fd = c->tmp_fd = c->use_lock = -1;
	if (path[0] != '/')
		return kerr_set(e, 0, "%s: the cache must be an absolute path", path);
	c->path = xstrdup(path);
	if (make_parents(path, e) < 0)
		goto fail;
	if ((c->fd = open_dir(AT_FDCWD, path, path, e)) < 0)
		goto fail;
	if (open_subdirs(c, e) < 0)
		goto fail;
	/* Imports share locks/cache; prune takes it alone, so it never
	 * removes a blob that an import has fetched but not yet recorded. */
	c->use_lock = openat(c->locks_fd, "cache", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (c->use_lock < 0) {
		kerr_set(e, errno, "can't open %s/locks/cache", path);
		goto fail;
	}
	while (flock(c->use_lock, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		kerr_set(e, errno, "can't lock %s/locks/cache", path);
		goto fail;
	}
	return 0;
fail:
	cache_close(c);
	return -1;
}

void cache_close(struct cache *c)
{
	int *fds[] = {&c->fd, &c->blobs_fd, &c->images_fd, &c->locks_fd, &c->tmp_fd, &c->use_lock};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	free(c->path);
	c->path = NULL;
}

int cache_blob_open(const struct cache *c, const char *digest, struct kerr *e)
{
	const char *hex = digest + 7;
	int fd = openat(c->blobs_fd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_free_ char *what = xasprintf("%s/blobs/sha256/%s", c->path, hex);
	if (fd < 0) {
		int err = errno;
		kerr_set(e, err, "can't open %s", what);
		errno = err;
		return -1;
	}
	if (cache_check_fd(fd, what, false, e) < 0) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

bool cache_blob_has(const struct cache *c, const char *digest)
{
	struct stat st;
	return fstatat(c->blobs_fd, digest + 7, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static void random_name(char *buf, size_t len, const char *prefix)
{
	unsigned char r[6];
	if (getrandom(r, sizeof r, 0) != sizeof r)
		memset(r, 0, sizeof r), r[0] = (unsigned char)getpid();
	snprintf(buf, len, "%s-%02x%02x%02x%02x%02x%02x", prefix, r[0], r[1], r[2], r[3], r[4], r[5]);
}

int cache_tmp_create(const struct cache *c, struct cache_tmp *t, struct kerr *e)
{
	t->name[0] = '\0';
	t->fd = openat(c->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (t->fd >= 0)
		return 0;
	/* No O_TMPFILE here (NFS, old kernels): a named, locked file. */
	for (int tries = 0; tries < 16; tries++) {
		/* A dot name in blobs/: never swept by another import's
		 * cleanup; left over only if we are killed (prune removes
		 * dot names older than a day). */
		random_name(t->name, sizeof t->name, ".part");
		t->fd = openat(c->blobs_fd, t->name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		               0600);
		if (t->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	return kerr_set(e, errno, "can't create a file in %s/tmp", c->path);
}

int cache_tmp_commit_blob(const struct cache *c, struct cache_tmp *t, const char *digest,
                          struct kerr *e)
{
	const char *hex = digest + 7;
	int r = 0;
	if (fsync(t->fd) < 0)
		r = kerr_set(e, errno, "can't write blob %s", digest);
	else if (t->name[0]) {
		if (renameat(c->blobs_fd, t->name, c->blobs_fd, hex) < 0)
			r = kerr_set(e, errno, "can't store blob %s", digest);
	} else {
		/* linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the
		 * /proc/self/fd link works for the file's owner. */
		char proc[64], tmp[64];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->fd);
		/* The temporary name is a dot name in blobs/ itself: nothing
		 * lists those, and no other import's cleanup sweeps them. */
		random_name(tmp, sizeof tmp, ".new");
		if (linkat(AT_FDCWD, proc, c->blobs_fd, tmp, AT_SYMLINK_FOLLOW) < 0)
			r = kerr_set(e, errno, "can't store blob %s", digest);
		else if (renameat(c->blobs_fd, tmp, c->blobs_fd, hex) < 0) {
			r = kerr_set(e, errno, "can't store blob %s", digest);
			unlinkat(c->blobs_fd, tmp, 0);
		}
	}
	if (r < 0)
		cache_tmp_discard(c, t);
	else {
		close(t->fd);
		t->fd = -1;
	}
	return r;
}

void cache_tmp_discard(const struct cache *c, struct cache_tmp *t)
{
	if (t->name[0])
		unlinkat(c->blobs_fd, t->name, 0);
	t->name[0] = '\0';
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

int cache_put_blob(const struct cache *c, const void *buf, size_t len, const char *digest,
                   struct kerr *e)
{
	struct cache_tmp t;
	if (cache_tmp_create(c, &t, e) < 0)
		return -1;
	const char *p = buf;
	while (len) {
		ssize_t n = write(t.fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			cache_tmp_discard(c, &t);
			return kerr_set(e, err, "can't write blob %s in %s", digest, c->path);
		}
		p += n;
		len -= n;
	}
	return cache_tmp_commit_blob(c, &t, digest, e);
}

int cache_lock(const struct cache *c, const char *name, bool wait, int *fd, struct kerr *e)
{
	*fd = openat(c->locks_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return kerr_set(e, errno, "can't open %s/locks/%s", c->path, name);
	_cleanup_free_ char *what = xasprintf("%s/locks/%s", c->path, name);
	if (cache_check_fd(*fd, what, false, e) < 0)
		goto fail;
	while (flock(*fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR && wait)
			continue;
		if (errno == EWOULDBLOCK && !wait) {
			close(*fd);
			*fd = -1;
			return 0;
		}
		kerr_set(e, errno, "can't lock %s", what);
		goto fail;
	}
	return 0;
fail:
	close(*fd);
	*fd = -1;
	return -1;
}

int cache_scratch_dir(const struct cache *c, const char *prefix, int *dfd, char **name,
                      struct kerr *e)
{
	char n[96], hidden[100];
	for (int tries = 0; tries < 16; tries++) {
		/* Locked under a dot name (which cleanup skips), then named: so
		 * another import's cleanup never sees it unlocked. */
		random_name(n, sizeof n, prefix);
		snprintf(hidden, sizeof hidden, ".%s", n);
		if (mkdirat(c->tmp_fd, hidden, 0700) < 0) {
			if (errno == EEXIST)
				continue;
			return kerr_set(e, errno, "can't create a directory in %s/tmp", c->path);
		}
		*dfd = openat(c->tmp_fd, hidden, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (*dfd < 0 || flock(*dfd, LOCK_EX | LOCK_NB) < 0 ||
		    renameat(c->tmp_fd, hidden, c->tmp_fd, n) < 0) {
			int err = errno;
			if (*dfd >= 0)
				close(*dfd);
			unlinkat(c->tmp_fd, hidden, AT_REMOVEDIR);
			return kerr_set(e, err, "can't open %s/tmp/%s", c->path, n);
		}
		*name = xstrdup(n);
		return 0;
	}
	return kerr_set(e, EEXIST, "can't create a directory in %s/tmp", c->path);
}

int cache_scratch_file(const struct cache *c, const char *prefix, int *fd, char **name,
                       struct kerr *e)
{
	char n[96], hidden[100];
	for (int tries = 0; tries < 16; tries++) {
		random_name(n, sizeof n, prefix);
		snprintf(hidden, sizeof hidden, ".%s", n);
		*fd = openat(c->tmp_fd, hidden, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (*fd < 0) {
			if (errno == EEXIST)
				continue;
			return kerr_set(e, errno, "can't create a file in %s/tmp", c->path);
		}
		if (flock(*fd, LOCK_EX | LOCK_NB) < 0 || renameat(c->tmp_fd, hidden, c->tmp_fd, n) < 0) {
			int err = errno;
			close(*fd);
			unlinkat(c->tmp_fd, hidden, 0);
			return kerr_set(e, err, "can't create a file in %s/tmp", c->path);
		}
		*name = xstrdup(n);
		return 0;
	}
	return kerr_set(e, EEXIST, "can't create a file in %s/tmp", c->path);
}

/* A directory stream over a copy of dirfd, from its start (a dup shares
 * the directory offset of the cache's fd, so rewind it); NULL on failure. */
static DIR *opendir_dup(int dirfd)
{
	int dfd = dup(dirfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return NULL;
	}
	rewinddir(d);
	return d;
}

void cache_clean_stale(const struct cache *c)
{
	DIR *d = opendir_dup(c->tmp_fd);
	if (!d)
		return;
	struct strv stale = {0};
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int fd = openat(c->tmp_fd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		/* Free lock = its owner is gone.  (The owner's lock is on its
		 * own open file description, so ours conflicts with it.) */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			strv_push(&stale, de->d_name);
		close(fd);
	}
	closedir(d);
	for (size_t i = 0; i < stale.n; i++) {
		struct kerr e;
		klog(KLOG_VERBOSE, "removing %s/tmp/%s, left by an interrupted import", c->path,
		     stale.v[i]);
		(void)rmtree_at(c->tmp_fd, stale.v[i], &e);
	}
	strv_free(&stale);
}

/* ---- records ------------------------------------------------------------- */

static void record_name(const char *dest, char out[80])
{
	char d[DIGEST_STR_LEN];
	digest_buf(dest, strlen(dest), d);
	snprintf(out, 80, "%s.json", d + 7);
}

void cache_record_free(struct cache_record *r)
{
	free(r->dest);
	free(r->source);
	free(r->manifest);
	free(r->options);
	strv_free(&r->blobs);
	memset(r, 0, sizeof *r);
}

static int record_parse(const char *buf, size_t len, const char *what, struct cache_record *r,
                        struct kerr *e)
{
	memset(r, 0, sizeof *r);
	json_t *doc = json_doc_load(buf, len, what, e);
	if (!doc)
		return -1;
	const char *dest = NULL, *source = NULL, *manifest = NULL, *options = NULL;
	json_int_t dev = 0, ino = 0, size = 0, mtime = 0;
	json_t *blobs = NULL;
	json_error_t je;
	int rc = json_unpack_ex(doc, &je, 0, "{s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I}", "dest",
	                        &dest, "source", &source, "manifest", &manifest, "options", &options,
	                        "blobs", &blobs, "dev", &dev, "ino", &ino, "size", &size, "mtime_ns",
	                        &mtime);
	if (rc < 0 || !json_is_array(blobs)) {
		kerr_set(e, 0, "%s: not a krill image record", what);
		json_decref(doc);
		return -1;
	}
	r->dest = xstrdup(dest);
	r->source = xstrdup(source);
	r->manifest = xstrdup(manifest);
	r->options = xstrdup(options);
	size_t i;
	json_t *b;
	json_array_foreach(blobs, i, b)
		if (json_is_string(b) && digest_is_valid(json_string_value(b)))
			strv_push(&r->blobs, json_string_value(b));
	r->dev = (dev_t)dev;
	r->ino = (ino_t)ino;
	r->size = (off_t)size;
	r->mtime_ns = mtime;
	json_decref(doc);
	return 0;
}

static int record_read_at(const struct cache *c, const char *name, struct cache_record *r,
                          struct kerr *e)
{
	_cleanup_free_ char *what = xasprintf("%s/images/%s", c->path, name);
	_cleanup_close_ int fd = openat(c->images_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return kerr_set(e, errno, "can't open %s", what);
	}
	if (cache_check_fd(fd, what, false, e) < 0)
		return -1;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (fd_read_all(fd, what, RECORD_MAX_SIZE, &buf, &len, e) < 0)
		return -1;
	return record_parse(buf, len, what, r, e) < 0 ? -1 : 1;
}

int cache_record_get(const struct cache *c, const char *dest, struct cache_record *r,
                     struct kerr *e)
{
	char name[80];
	record_name(dest, name);
	memset(r, 0, sizeof *r);
	int got = record_read_at(c, name, r, e);
	if (got == 1 && strcmp(r->dest, dest) != 0) {
		cache_record_free(r);
		return 0;
	}
	return got;
}

static bool stat_matches(const struct cache_record *r, const struct stat *st)
{
	return st->st_dev == r->dev && st->st_ino == r->ino && st->st_size == r->size &&
	       (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec == r->mtime_ns;
}

bool cache_record_current(const struct cache_record *r)
{
	struct stat st;
	return lstat(r->dest, &st) == 0 && stat_matches(r, &st);
}

int cache_record_put(const struct cache *c, struct cache_record *r, struct kerr *e)
{
	struct stat st;
	if (lstat(r->dest, &st) < 0)
		return kerr_set(e, errno, "can't stat %s", r->dest);
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->size = st.st_size;
	r->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	json_t *blobs = json_array();
	for (size_t i = 0; i < r->blobs.n; i++)
		json_array_append_new(blobs, json_string(r->blobs.v[i]));
	json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I}", "dest", r->dest,
	                        "source", r->source, "manifest", r->manifest, "options", r->options,
	                        "blobs", blobs, "dev", (json_int_t)r->dev, "ino", (json_int_t)r->ino,
	                        "size", (json_int_t)r->size, "mtime_ns", (json_int_t)r->mtime_ns);
	if (!doc)
		return kerr_set(e, 0, "can't encode the record of %s (invalid UTF-8 in a path?)", r->dest);
	_cleanup_free_ char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(doc);
	char name[80], tmp[96];
	record_name(r->dest, name);
	random_name(tmp, sizeof tmp, ".new");
	_cleanup_close_ int fd =
	    openat(c->images_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return kerr_set(e, errno, "can't create a record in %s/images", c->path);
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || renameat(c->images_fd, tmp, c->images_fd, name) < 0) {
		int err = errno;
		unlinkat(c->images_fd, tmp, 0);
		return kerr_set(e, err, "can't write the record of %s in %s/images", r->dest, c->path);
	}
	return 0;
}

/* ---- report, prune, verify ---------------------------------------------- */

static int in_list(const struct strv *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static int list_dir(int fd, struct strv *out)
{
	DIR *d = opendir_dup(fd);
	if (!d)
		return -1;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			strv_push(out, de->d_name);
	closedir(d);
	return 0;
}

static double mib(uint64_t n)
{
	return n / 1048576.0;
}

/* Temporary dot names in dir (".new-*", ".part-*", a scratch tree not yet
 * named): prune holds locks/cache exclusively, so no import is running and
 * every one of them was left by a killed import. */
static void remove_dot_names(int dirfd)
{
	DIR *d = opendir_dup(dirfd);
	if (!d)
		return;
	struct strv names = {0};
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(&names, de->d_name);
	closedir(d);
	for (size_t i = 0; i < names.n; i++) {
		struct kerr e;
		(void)rmtree_at(dirfd, names.v[i], &e);
	}
	strv_free(&names);
}

int cache_report(struct cache *c, bool prune, bool verify, struct kerr *e)
{
	if (prune) {
		cache_clean_stale(c);
		remove_dot_names(c->blobs_fd);
		remove_dot_names(c->images_fd);
		remove_dot_names(c->tmp_fd);
	}
	struct strv records = {0}, used = {0}, blobs = {0};
	int r = -1;
	size_t nimages = 0, nstale = 0;
	if (list_dir(c->images_fd, &records) < 0 || list_dir(c->blobs_fd, &blobs) < 0) {
		kerr_set(e, errno, "can't list %s", c->path);
		goto out;
	}
	for (size_t i = 0; i < records.n; i++) {
		struct cache_record rec;
		struct kerr e2;
		int got = record_read_at(c, records.v[i], &rec, &e2);
		if (got == 1 && cache_record_current(&rec)) {
			nimages++;
			for (size_t j = 0; j < rec.blobs.n; j++)
				strv_push(&used, rec.blobs.v[j] + 7);
		} else {
			nstale++;
			if (prune)
				unlinkat(c->images_fd, records.v[i], 0);
		}
		if (got == 1)
			cache_record_free(&rec);
	}
	uint64_t used_bytes = 0, unused_bytes = 0;
	size_t nused = 0, nunused = 0;
	for (size_t i = 0; i < blobs.n; i++) {
		struct stat st;
		if (fstatat(c->blobs_fd, blobs.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (verify) {
			char want[DIGEST_STR_LEN], got[DIGEST_STR_LEN];
			snprintf(want, sizeof want, "sha256:%s", blobs.v[i]);
			_cleanup_close_ int fd = cache_blob_open(c, want, e);
			if (fd < 0 || digest_fd(fd, want, got, e) < 0)
				goto out;
			if (strcmp(got, want) != 0) {
				unlinkat(c->blobs_fd, blobs.v[i], 0);
				kerr_set(e, 0, "%s/blobs/sha256/%s: content doesn't match its digest (it is %s); removed",
				         c->path, blobs.v[i], got);
				goto out;
			}
		}
		if (in_list(&used, blobs.v[i])) {
			nused++;
			used_bytes += st.st_size;
		} else {
			nunused++;
			unused_bytes += st.st_size;
			if (prune)
				unlinkat(c->blobs_fd, blobs.v[i], 0);
		}
	}
	printf("cache %s\n", c->path);
	printf("images: %zu (stale records: %zu%s)\n", nimages, nstale, prune && nstale ? ", removed" : "");
	printf("blobs in use: %zu (%.1f MiB)\n", nused, mib(used_bytes));
	printf("blobs unused: %zu (%.1f MiB)%s\n", nunused, mib(unused_bytes),
	       prune && nunused ? ", removed" : "");
	if (verify)
		printf("verified: %zu blobs match their digests\n", nused + nunused);
	r = 0;
out:
	strv_free(&records);
	strv_free(&used);
	strv_free(&blobs);
	return r;
}
