/* import.c: the import sequence (see import.h), on one screen in
 * import_image(); each source kind resolves to the same thing: a manifest
 * digest, an image config, and a list of verified layer streams. */
#include "import.h"
#include "cache.h"
#include "digest.h"
#include "imgref.h"
#include "import_meta.h"
#include "import_squash.h"
#include "layer.h"
#include "log.h"
#include "manifest.h"
#include "path.h"
#include "registry.h"
#include "rmtree.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct layer_ref {
	int dirfd;               /* borrowed: the cache's blobs, or a layout's directory */
	char *name;              /* relative to dirfd */
	char expect[72], alt[72]; /* digests the stream may have; "" = unchecked */
	char what[128];          /* "layer 2/3 (sha256:abcd…)" */
};

struct job {
	const struct import_opts *o;
	struct imgsrc src;
	char *dest, *options;
	struct cache cache;
	bool cache_open;
	char manifest_digest[72]; /* "" when the source has none (tar:, dir:) */
	struct strv blobs;        /* cached blobs used, for the record */
	char *config_raw;
	size_t config_len;
	struct image_config cfg;
	bool have_cfg;
	struct layer_ref *layers;
	size_t nlayers;
	bool whiteouts;
	int layout_fd;            /* an OCI layout (oci:, or an extracted archive) */
	int work_fd;              /* tmp/work-*: extracted archives, engine exports */
	char *work_name;
	struct registry *reg;
	bool up_to_date;
};

static const char *or_default(const char *s, const char *def)
{
	return s && *s ? s : def;
}

static const char *job_arch(const struct job *j)
{
	return or_default(j->o->arch, platform_host_arch());
}

static const char *job_variant(const struct job *j)
{
	if (j->o->variant && *j->o->variant)
		return j->o->variant;
	return j->o->arch && *j->o->arch ? NULL : platform_host_variant();
}

/* ---- DEST ----------------------------------------------------------------- */

static char *absolute(const char *p)
{
	if (p[0] == '/')
		return xstrdup(p);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return xstrdup(p);
	return xasprintf("%s/%s", cwd, p);
}

char *import_default_dest(const struct import_opts *o, struct kerr *e)
{
	if (o->dest)
		return absolute(o->dest);
	struct imgsrc src;
	if (imgsrc_parse(o->source, &src, e) < 0)
		return NULL;
	_cleanup_free_ char *name = imgsrc_default_name(&src);
	imgsrc_free(&src);
	if (!o->storage) {
		kerr_set(e, 0, "no DEST given and no storage directory");
		kerr_hint(e, "give DEST, or set -s DIR, $KRILL_STORAGE or [run] storage");
		return NULL;
	}
	_cleanup_free_ char *st = absolute(o->storage);
	return xasprintf("%s/%s%s", st, name, o->dir_out ? "" : ".sqfs");
}

/* The storage directory of a default DEST: created 0700 when missing, and
 * then it must be the caller's and not writable by others. */
static int storage_prepare(const char *dest, struct kerr *e)
{
	_cleanup_free_ char *d = xstrdup(dest);
	const char *dir = dirname(d);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return kerr_set(e, errno, "can't create the storage directory %s", dir);
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kerr_set(e, errno, "can't open %s", dir);
	return cache_check_fd(fd, dir, true, e);
}

/* ---- reading blobs -------------------------------------------------------- */

/* The cache whose blobs_fd is being read from, for the trust check of
 * each blob opened there (set once the cache is open). */
static const struct cache *trust_cache;

static int fd_trusted(int dirfd, int fd, const char *name, struct kerr *e)
{
	if (!trust_cache || dirfd != trust_cache->blobs_fd)
		return 0;
	_cleanup_free_ char *what = xasprintf("%s/blobs/sha256/%s", trust_cache->path, name);
	return cache_check_fd(fd, what, false, e);
}

/* Read a small blob at dirfd/name and check it has digest (and size, when
 * size != UINT64_MAX). */
static int read_verified(int dirfd, const char *name, const char *digest, uint64_t size,
                         const char *what, char **buf, size_t *len, struct kerr *e)
{
	_cleanup_close_ int fd = open_beneath(dirfd, name, O_RDONLY);
	if (fd < 0)
		return kerr_set(e, errno, "%s: can't open %s", what, name);
	if (fd_trusted(dirfd, fd, name, e) < 0)
		return -1;
	if (fd_read_all(fd, what, MANIFEST_MAX_SIZE, buf, len, e) < 0)
		return -1;
	char got[DIGEST_STR_LEN];
	digest_buf(*buf, *len, got);
	if ((digest && strcmp(got, digest) != 0) || (size != UINT64_MAX && *len != size)) {
		free(*buf);
		*buf = NULL;
		return kerr_set(e, 0, "%s: content doesn't match its digest %s (got %s, %zu bytes)", what,
		                digest ? digest : "?", got, *len);
	}
	return 0;
}

static void add_layer(struct job *j, int dirfd, const char *name, const char *expect,
                      const char *alt, size_t i, size_t n)
{
	j->layers = xrealloc(j->layers, (j->nlayers + 1) * sizeof *j->layers);
	struct layer_ref *l = &j->layers[j->nlayers++];
	memset(l, 0, sizeof *l);
	l->dirfd = dirfd;
	l->name = xstrdup(name);
	if (expect)
		snprintf(l->expect, sizeof l->expect, "%s", expect);
	if (alt)
		snprintf(l->alt, sizeof l->alt, "%s", alt);
	snprintf(l->what, sizeof l->what, "layer %zu/%zu (%.19s)", i + 1, n,
	         expect ? expect : name);
}

static int parse_config(struct job *j, const char *what, struct kerr *e)
{
	if (image_config_parse(j->config_raw, j->config_len, what, &j->cfg, e) < 0)
		return -1;
	j->have_cfg = true;
	return 0;
}

/* ---- docker:// ------------------------------------------------------------ */

static bool insecure_listed(const struct job *j)
{
	for (char *const *p = j->o->insecure; p && *p; p++)
		if (strcmp(*p, j->src.reg.registry) == 0)
			return true;
	return false;
}

static int record_is_current(struct job *j, bool check_source, struct kerr *e)
{
	struct cache_record rec;
	int got = cache_record_get(&j->cache, j->dest, &rec, e);
	if (got < 0)
		return -1;
	bool ok = got == 1 && strcmp(rec.options, j->options) == 0 && cache_record_current(&rec) &&
	          (check_source ? strcmp(rec.source, j->o->source) == 0
	                        : j->manifest_digest[0] && strcmp(rec.manifest, j->manifest_digest) == 0);
	if (got == 1)
		cache_record_free(&rec);
	return ok;
}

static int resolve_docker(struct job *j, struct kerr *e)
{
	struct registry_opts ro = {
		.creds = j->o->creds,
		.tls_ca = j->o->tls_ca,
		.plain_http = insecure_listed(j),
		.parallel = j->o->parallel,
		.cancel = j->o->cancel,
	};
	if (registry_open(&j->reg, &j->src.reg, &ro, e) < 0)
		return -1;
	const struct imgref *ref = &j->src.reg;
	_cleanup_free_ char *buf = NULL, *ctype = NULL;
	size_t len;
	char digest[72];
	if (registry_get_manifest(j->reg, ref->digest ? ref->digest : ref->tag, &buf, &len, &ctype,
	                          digest, e) < 0)
		return -1;
	enum manifest_kind kind;
	if (manifest_kind(ctype, buf, len, &kind, e) < 0)
		return -1;
	if (kind == MANIFEST_INDEX) {
		struct image_index ix;
		if (index_parse(buf, len, j->o->source, &ix, e) < 0)
			return -1;
		int i = index_select(&ix, or_default(j->o->os, "linux"), job_arch(j), job_variant(j),
		                     j->o->source, e);
		char pick[72];
		if (i >= 0)
			snprintf(pick, sizeof pick, "%s", ix.manifests[i].digest);
		index_free(&ix);
		if (i < 0)
			return -1;
		klog(KLOG_VERBOSE, "the index %.19s gives %s/%s: %.19s", digest, or_default(j->o->os, "linux"),
		     job_arch(j), pick);
		if (!cache_blob_has(&j->cache, digest) && cache_put_blob(&j->cache, buf, len, digest, e) < 0)
			return -1;
		strv_push(&j->blobs, digest);
		free(buf);
		free(ctype);
		buf = ctype = NULL;
		if (registry_get_manifest(j->reg, pick, &buf, &len, &ctype, digest, e) < 0)
			return -1;
		if (manifest_kind(ctype, buf, len, &kind, e) < 0)
			return -1;
		if (kind != MANIFEST_IMAGE)
			return kerr_set(e, 0, "%s: the index's entry %s is not an image manifest",
			                j->o->source, pick);
	}
	snprintf(j->manifest_digest, sizeof j->manifest_digest, "%s", digest);
	if (!cache_blob_has(&j->cache, digest) && cache_put_blob(&j->cache, buf, len, digest, e) < 0)
		return -1;
	strv_push(&j->blobs, digest);
	int cur = record_is_current(j, false, e);
	if (cur < 0)
		return -1;
	if (cur) {
		j->up_to_date = true;
		return 0;
	}
	struct manifest m;
	_cleanup_free_ char *what = xasprintf("%s manifest", j->o->source);
	if (manifest_parse(buf, len, what, &m, e) < 0)
		return -1;
	struct descriptor *all = xcalloc(m.nlayers + 1, sizeof *all);
	all[0] = m.config;
	memcpy(all + 1, m.layers, m.nlayers * sizeof *all);
	size_t fetched;
	int r = registry_fetch_blobs(j->reg, &j->cache, all, m.nlayers + 1, &fetched, e);
	free(all);
	if (r == 0) {
		klog(KLOG_VERBOSE, "%zu blobs fetched, %zu were in the cache", fetched,
		     m.nlayers + 1 - fetched);
		_cleanup_free_ char *cwhat = xasprintf("%s config", j->o->source);
		r = read_verified(j->cache.blobs_fd, m.config.digest + 7, m.config.digest, m.config.size,
		                  cwhat, &j->config_raw, &j->config_len, e);
		if (r == 0)
			r = parse_config(j, cwhat, e);
		strv_push(&j->blobs, m.config.digest);
		for (size_t i = 0; r == 0 && i < m.nlayers; i++) {
			add_layer(j, j->cache.blobs_fd, m.layers[i].digest + 7, m.layers[i].digest, NULL, i,
			          m.nlayers);
			strv_push(&j->blobs, m.layers[i].digest);
		}
	}
	manifest_free(&m);
	return r;
}

/* ---- OCI layouts ----------------------------------------------------------- */

static char *blob_path(const char *digest)
{
	return xasprintf("blobs/sha256/%s", digest + 7);
}

static int resolve_layout(struct job *j, const char *ref, struct kerr *e)
{
	const char *where = j->src.path ? j->src.path : "the archive";
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct stat st;
	if (fstatat(j->layout_fd, "oci-layout", &st, 0) < 0) {
		kerr_set(e, 0, "%s: not an OCI image layout (no oci-layout file)", where);
		return kerr_hint(e, "an OCI layout has oci-layout, index.json and blobs/");
	}
	_cleanup_close_ int ifd = open_beneath(j->layout_fd, "index.json", O_RDONLY);
	_cleanup_free_ char *iwhat = xasprintf("%s/index.json", where);
	if (ifd < 0)
		return kerr_set(e, errno, "can't open %s", iwhat);
	if (fd_read_all(ifd, iwhat, MANIFEST_MAX_SIZE, &buf, &len, e) < 0)
		return -1;
	struct image_index ix;
	if (index_parse(buf, len, iwhat, &ix, e) < 0)
		return -1;
	int pick = -1;
	for (size_t i = 0; i < ix.n; i++) {
		if (ref ? !(ix.manifests[i].ref_name && strcmp(ix.manifests[i].ref_name, ref) == 0)
		        : ix.n != 1)
			continue;
		pick = (int)i;
		break;
	}
	if (pick < 0) {
		char have[512] = "";
		size_t used = 0;
		for (size_t i = 0; i < ix.n && used < sizeof have - 80; i++)
			used += snprintf(have + used, sizeof have - used, "%s%.60s", used ? ", " : "",
			                 ix.manifests[i].ref_name ? ix.manifests[i].ref_name : "(unnamed)");
		if (ref)
			kerr_set(e, 0, "%s: no image named '%s'", iwhat, ref);
		else
			kerr_set(e, 0, "%s: holds %zu images; say which", iwhat, ix.n);
		index_free(&ix);
		return kerr_hint(e, "the names are: %s; write oci:DIR:NAME", used ? have : "none");
	}
	struct descriptor d = ix.manifests[pick];
	ix.manifests[pick].os = ix.manifests[pick].arch = ix.manifests[pick].variant = NULL;
	ix.manifests[pick].ref_name = NULL;
	index_free(&ix);
	free(d.os), free(d.arch), free(d.variant), free(d.ref_name);
	free(buf);
	buf = NULL;
	_cleanup_free_ char *p = blob_path(d.digest);
	_cleanup_free_ char *mwhat = xasprintf("%s: manifest %.19s", where, d.digest);
	if (read_verified(j->layout_fd, p, d.digest, d.size, mwhat, &buf, &len, e) < 0)
		return -1;
	if (d.is_index) {
		struct image_index sub;
		if (index_parse(buf, len, mwhat, &sub, e) < 0)
			return -1;
		int i = index_select(&sub, or_default(j->o->os, "linux"), job_arch(j), job_variant(j),
		                     mwhat, e);
		if (i >= 0)
			d = sub.manifests[i], sub.manifests[i].os = sub.manifests[i].arch = NULL,
			sub.manifests[i].variant = sub.manifests[i].ref_name = NULL;
		index_free(&sub);
		if (i < 0)
			return -1;
		free(d.os), free(d.arch), free(d.variant), free(d.ref_name);
		free(buf);
		buf = NULL;
		free(p);
		p = blob_path(d.digest);
		free(mwhat);
		mwhat = xasprintf("%s: manifest %.19s", where, d.digest);
		if (read_verified(j->layout_fd, p, d.digest, d.size, mwhat, &buf, &len, e) < 0)
			return -1;
	}
	snprintf(j->manifest_digest, sizeof j->manifest_digest, "%s", d.digest);
	int cur = record_is_current(j, false, e);
	if (cur < 0)
		return -1;
	if (cur) {
		j->up_to_date = true;
		return 0;
	}
	struct manifest m;
	if (manifest_parse(buf, len, mwhat, &m, e) < 0)
		return -1;
	_cleanup_free_ char *cp = blob_path(m.config.digest);
	_cleanup_free_ char *cwhat = xasprintf("%s: config %.19s", where, m.config.digest);
	int r = read_verified(j->layout_fd, cp, m.config.digest, m.config.size, cwhat, &j->config_raw,
	                      &j->config_len, e);
	if (r == 0)
		r = parse_config(j, cwhat, e);
	for (size_t i = 0; r == 0 && i < m.nlayers; i++) {
		_cleanup_free_ char *lp = blob_path(m.layers[i].digest);
		add_layer(j, j->layout_fd, lp, m.layers[i].digest, NULL, i, m.nlayers);
	}
	manifest_free(&m);
	return r;
}

/* ---- archives and engines ---------------------------------------------------- */

static int work_dir(struct job *j, struct kerr *e)
{
	if (j->work_fd >= 0)
		return 0;
	return cache_scratch_dir(&j->cache, "work", &j->work_fd, &j->work_name, e);
}

/* Unpack the tar at path into work/archive (hostile-input rules of
 * layer.c, no whiteouts); j->layout_fd = that directory. */
static int extract_archive(struct job *j, const char *path, struct kerr *e)
{
	if (work_dir(j, e) < 0)
		return -1;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kerr_set(e, errno, "can't open %s", path);
	if (mkdirat(j->work_fd, "archive", 0700) < 0)
		return kerr_set(e, errno, "can't create a directory in %s/tmp", j->cache.path);
	j->layout_fd = openat(j->work_fd, "archive", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (j->layout_fd < 0)
		return kerr_set(e, errno, "can't open %s/tmp/%s/archive", j->cache.path, j->work_name);
	struct layer_opts lo = {.cancel = j->o->cancel};
	struct layer_stats ls = {0};
	klog(KLOG_VERBOSE, "unpacking %s", path);
	return layer_apply(j->layout_fd, fd, path, &lo, &ls, e);
}

/* `docker save` output: manifest.json names the config and layer files;
 * each layer must have the sha256 the config's rootfs.diff_ids gives it
 * (the files are uncompressed tars), or the one its blobs/ name says. */
static int resolve_docker_archive(struct job *j, struct kerr *e)
{
	const char *where = j->src.path;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	_cleanup_free_ char *mwhat = xasprintf("%s: manifest.json", where);
	_cleanup_close_ int mfd = open_beneath(j->layout_fd, "manifest.json", O_RDONLY);
	if (mfd < 0) {
		kerr_set(e, errno, "%s: not a docker-archive (no manifest.json)", where);
		struct stat st;
		if (fstatat(j->layout_fd, "oci-layout", &st, 0) == 0)
			kerr_hint(e, "it is an OCI archive: krill import oci-archive:%s", where);
		return -1;
	}
	if (fd_read_all(mfd, mwhat, MANIFEST_MAX_SIZE, &buf, &len, e) < 0)
		return -1;
	struct docker_archive_manifest dm;
	if (docker_archive_manifest_parse(buf, len, mwhat, &dm, e) < 0)
		return -1;
	int r = -1;
	/* "HEX.json" (classic) or "blobs/sha256/HEX" (docker 25+): the name
	 * is the config's digest. */
	char cdigest[80] = "";
	const char *b = strrchr(dm.config, '/');
	b = b ? b + 1 : dm.config;
	snprintf(cdigest, sizeof cdigest, "sha256:%.64s", b);
	bool named = digest_is_valid(cdigest);
	_cleanup_free_ char *cwhat = xasprintf("%s: %s", where, dm.config);
	if (read_verified(j->layout_fd, dm.config, named ? cdigest : NULL, UINT64_MAX, cwhat,
	                  &j->config_raw, &j->config_len, e) < 0 ||
	    parse_config(j, cwhat, e) < 0)
		goto out;
	digest_buf(j->config_raw, j->config_len, j->manifest_digest);
	if (j->cfg.diff_ids.n != dm.layers.n) {
		kerr_set(e, 0, "%s: %zu layers, but its config lists %zu diff_ids", where, dm.layers.n,
		         j->cfg.diff_ids.n);
		goto out;
	}
	for (size_t i = 0; i < dm.layers.n; i++) {
		const char *lb = strrchr(dm.layers.v[i], '/');
		char alt[80];
		snprintf(alt, sizeof alt, "sha256:%.64s", lb ? lb + 1 : dm.layers.v[i]);
		add_layer(j, j->layout_fd, dm.layers.v[i], j->cfg.diff_ids.v[i],
		          digest_is_valid(alt) ? alt : NULL, i, dm.layers.n);
	}
	r = 0;
out:
	docker_archive_manifest_free(&dm);
	return r;
}

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *p = xstrdup(path && *path ? path : "/usr/bin:/bin");
	char *save = NULL;
	for (char *d = strtok_r(p, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *f = xasprintf("%s/%s", d, prog);
		if (access(f, X_OK) == 0)
			return true;
	}
	return false;
}

/* `podman save` / `docker save` into work/export.tar; returns its path. */
static char *engine_export(struct job *j, struct kerr *e)
{
	bool podman = j->src.kind == IMGSRC_PODMAN;
	const char *prog = podman ? "podman" : "docker";
	if (!in_path(prog)) {
		kerr_set(e, 0, "%s: %s is not installed (not found in PATH)", j->o->source, prog);
		kerr_hint(e, "run `%s save -o FILE %s` where %s is, then krill import %s:FILE", prog,
		          j->src.ref, prog, podman ? "oci-archive" : "docker-archive");
		return NULL;
	}
	if (work_dir(j, e) < 0)
		return NULL;
	char *out = xasprintf("%s/tmp/%s/export.tar", j->cache.path, j->work_name);
	const char *argv[8];
	int n = 0;
	argv[n++] = prog;
	argv[n++] = "save";
	if (podman) {
		argv[n++] = "--format";
		argv[n++] = "oci-archive";
	}
	argv[n++] = "-o";
	argv[n++] = out;
	argv[n++] = j->src.ref;
	argv[n] = NULL;
	int log = memfd_create("engine", MFD_CLOEXEC);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (log >= 0) {
		posix_spawn_file_actions_adddup2(&fa, log, 1);
		posix_spawn_file_actions_adddup2(&fa, log, 2);
	}
	klog(KLOG_INFO, "exporting %s with `%s save`", j->src.ref, prog);
	pid_t pid;
	int rc = posix_spawnp(&pid, prog, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	int status = 0;
	if (rc == 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* The engine's last line says why (earlier ones are warnings). */
		char why[512] = "", buf[4096];
		off_t end = log >= 0 ? lseek(log, 0, SEEK_END) : 0;
		ssize_t got = end > 0 ? pread(log, buf, sizeof buf - 1, end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0) : 0;
		if (got > 0) {
			buf[got] = '\0';
			while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == ' '))
				buf[--got] = '\0';
			char *l = strrchr(buf, '\n');
			snprintf(why, sizeof why, "%.500s", l ? l + 1 : buf);
		}
		kerr_set(e, rc, "%s: `%s save` failed%s%s", j->o->source, prog, why[0] ? ": " : "", why);
		if (log >= 0)
			close(log);
		free(out);
		return NULL;
	}
	if (log >= 0)
		close(log);
	return out;
}

/* ---- building -------------------------------------------------------------- */

static int resolve(struct job *j, struct kerr *e)
{
	j->whiteouts = true;
	switch (j->src.kind) {
	case IMGSRC_DOCKER:
		return resolve_docker(j, e);
	case IMGSRC_OCI:
		j->layout_fd = open(j->src.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (j->layout_fd < 0)
			return kerr_set(e, errno, "can't open the OCI layout %s", j->src.path);
		return resolve_layout(j, j->src.ref, e);
	case IMGSRC_OCI_ARCHIVE:
		return extract_archive(j, j->src.path, e) < 0 ? -1 : resolve_layout(j, NULL, e);
	case IMGSRC_DOCKER_ARCHIVE:
		return extract_archive(j, j->src.path, e) < 0 ? -1 : resolve_docker_archive(j, e);
	case IMGSRC_PODMAN:
	case IMGSRC_DOCKERD: {
		_cleanup_free_ char *tar = engine_export(j, e);
		if (!tar || extract_archive(j, tar, e) < 0)
			return -1;
		unlink(tar);
		return j->src.kind == IMGSRC_PODMAN ? resolve_layout(j, NULL, e)
		                                    : resolve_docker_archive(j, e);
	}
	case IMGSRC_TAR:
		j->whiteouts = false;
		add_layer(j, AT_FDCWD, j->src.path, NULL, NULL, 0, 1);
		snprintf(j->layers[0].what, sizeof j->layers[0].what, "%s", j->src.path);
		return 0;
	case IMGSRC_DIR:
		return 0;
	}
	return kerr_set(e, 0, "unknown source kind");
}

static int apply_layers(struct job *j, int root_fd, struct kerr *e)
{
	struct layer_stats st = {0};
	for (size_t i = 0; i < j->nlayers; i++) {
		struct layer_ref *l = &j->layers[i];
		int fd = l->dirfd == AT_FDCWD ? open(l->name, O_RDONLY | O_CLOEXEC)
		                              : open_beneath(l->dirfd, l->name, O_RDONLY);
		if (fd < 0)
			return kerr_set(e, errno, "%s: can't open %s", l->what, l->name);
		if (fd_trusted(l->dirfd, fd, l->name, e) < 0) {
			close(fd);
			return -1;
		}
		struct layer_opts lo = {
			.whiteouts = j->whiteouts,
			.expect_digest = l->expect[0] ? l->expect : NULL,
			.expect_digest_alt = l->alt[0] ? l->alt : NULL,
			.cancel = j->o->cancel,
		};
		klog(KLOG_VERBOSE, "applying %s", l->what);
		int r = layer_apply(root_fd, fd, l->what, &lo, &st, e);
		close(fd);
		if (r < 0)
			return -1;
	}
	if (st.devices_skipped)
		klog(KLOG_WARN, "skipped %llu device nodes: they can't be created unprivileged "
		     "(krill run binds the host's /dev)", (unsigned long long)st.devices_skipped);
	klog(KLOG_VERBOSE, "%llu entries, %.1f MiB of files", (unsigned long long)st.entries,
	     st.bytes / 1048576.0);
	return 0;
}

static int build_tree(struct job *j, int root_fd, struct kerr *e)
{
	if (fchmod(root_fd, 0755) < 0)
		return kerr_set(e, errno, "can't chmod the image's root");
	if (apply_layers(j, root_fd, e) < 0)
		return -1;
	/* krill run mounts on these; images built FROM scratch may lack
	 * them (ch-convert adds them too). */
	static const struct {
		const char *name;
		mode_t mode;
	} mountpoints[] = {{"dev", 0755}, {"proc", 0755}, {"sys", 0755}, {"tmp", 01777}, {"etc", 0755}};
	for (size_t i = 0; i < ARRAY_SIZE(mountpoints); i++) {
		struct stat st;
		if (fstatat(root_fd, mountpoints[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (mkdirat(root_fd, mountpoints[i].name, 0700) < 0 ||
		    fchmodat(root_fd, mountpoints[i].name, mountpoints[i].mode, 0) < 0)
			return kerr_set(e, errno, "can't create /%s in the image", mountpoints[i].name);
	}
	if (j->have_cfg) {
		if (import_meta_write(root_fd, &j->cfg, j->config_raw, j->config_len, e) < 0)
			return -1;
		if (j->cfg.workdir) {
			/* docker creates a missing WorkingDir. */
			int fd = mkpath_beneath(root_fd, j->cfg.workdir, false, 0755, NULL);
			if (fd < 0)
				return kerr_set(e, errno, "can't create the image's WorkingDir %s", j->cfg.workdir);
			close(fd);
		}
	}
	return 0;
}

/* --dir DEST: build next to DEST, then swap it in. */
static int write_dir(struct job *j, struct kerr *e)
{
	_cleanup_free_ char *d = xstrdup(j->dest), *b = xstrdup(j->dest);
	const char *dir = dirname(d), *base = basename(b);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kerr_set(e, errno, "can't open %s", dir);
	_cleanup_free_ char *tmp = xasprintf(".%s.krill-tmp-%d", base, getpid());
	_cleanup_free_ char *old = xasprintf(".%s.krill-old-%d", base, getpid());
	if (mkdirat(dfd, tmp, 0755) < 0)
		return kerr_set(e, errno, "can't create %s/%s", dir, tmp);
	int r = -1;
	_cleanup_close_ int root = openat(dfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0) {
		kerr_set(e, errno, "can't open %s/%s", dir, tmp);
		goto out;
	}
	if (j->src.kind == IMGSRC_DIR) {
		kerr_set(e, 0, "%s: --dir from a dir: source is a copy; use cp -a", j->o->source);
		goto out;
	}
	if (build_tree(j, root, e) < 0)
		goto out;
	struct stat st;
	bool had = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (had && !S_ISDIR(st.st_mode)) {
		kerr_set(e, EEXIST, "can't write %s", j->dest);
		kerr_hint(e, "it exists and is not a directory");
		goto out;
	}
	if (had && renameat(dfd, base, dfd, old) < 0) {
		kerr_set(e, errno, "can't replace %s", j->dest);
		goto out;
	}
	if (renameat(dfd, tmp, dfd, base) < 0) {
		kerr_set(e, errno, "can't rename the new tree to %s", j->dest);
		if (had)
			renameat(dfd, old, dfd, base);
		goto out;
	}
	if (had)
		(void)rmtree_at(dfd, old, e);
	r = 0;
out:
	if (r < 0) {
		struct kerr e2;
		(void)rmtree_at(dfd, tmp, &e2);
	}
	return r;
}

static int write_sqfs(struct job *j, struct kerr *e)
{
	struct squash_opts so = {.comp = j->o->comp, .threads = j->o->threads, .cancel = j->o->cancel};
	if (j->src.kind == IMGSRC_DIR)
		return squash_build(j->src.path, j->dest, &so, e);
	int root = -1;
	_cleanup_free_ char *name = NULL;
	if (cache_scratch_dir(&j->cache, "rootfs", &root, &name, e) < 0)
		return -1;
	int r = build_tree(j, root, e);
	if (r == 0) {
		_cleanup_free_ char *path = xasprintf("%s/tmp/%s", j->cache.path, name);
		r = squash_build(path, j->dest, &so, e);
	}
	struct kerr e2;
	(void)rmtree_at(j->cache.tmp_fd, name, &e2);
	close(root);
	return r;
}

static void job_free(struct job *j)
{
	registry_close(j->reg);
	for (size_t i = 0; i < j->nlayers; i++)
		free(j->layers[i].name);
	free(j->layers);
	if (j->have_cfg)
		image_config_free(&j->cfg);
	free(j->config_raw);
	strv_free(&j->blobs);
	if (j->layout_fd >= 0)
		close(j->layout_fd);
	if (j->work_fd >= 0) {
		struct kerr e2;
		(void)rmtree_at(j->cache.tmp_fd, j->work_name, &e2);
		close(j->work_fd);
	}
	free(j->work_name);
	if (j->cache_open)
		cache_close(&j->cache);
	imgsrc_free(&j->src);
	free(j->dest);
	free(j->options);
}

int import_image(const struct import_opts *o, char **dest_out, struct kerr *e)
{
	struct job j = {.o = o, .layout_fd = -1, .work_fd = -1};
	int r = -1;
	int dest_lock = -1;
	_cleanup_free_ char *cpath = NULL;
	if (imgsrc_parse(o->source, &j.src, e) < 0)
		goto out;
	if (o->comp && squash_comp_check(o->comp, e) < 0)
		goto out;
	if (!(j.dest = import_default_dest(o, e)))
		goto out;
	if (!o->dest && storage_prepare(j.dest, e) < 0)
		goto out;
	j.options = xasprintf("%s;%s/%s/%s", o->dir_out ? "dir" : or_default(o->comp, SQUASH_DEFAULT_COMP),
	                      or_default(o->os, "linux"), job_arch(&j), or_default(job_variant(&j), ""));
	cpath = o->cache ? xstrdup(o->cache) : cache_default_path(e);
	if (!cpath || cache_open(&j.cache, cpath, false, e) < 0)
		goto out;
	j.cache_open = true;
	trust_cache = &j.cache;
	cache_clean_stale(&j.cache);

	/* krill run SOURCE: what an earlier run imported is used as is, with
	 * no network access. */
	if (o->for_run) {
		int cur = record_is_current(&j, true, e);
		if (cur < 0)
			goto out;
		if (cur) {
			klog(KLOG_VERBOSE, "%s is %s, imported before", o->source, j.dest);
			goto done;
		}
	}
	if (resolve(&j, e) < 0)
		goto out;
	if (!j.up_to_date && j.manifest_digest[0]) {
		/* Writers of one DEST take turns; a later one finds it done. */
		char lock[96], d[DIGEST_STR_LEN];
		digest_buf(j.dest, strlen(j.dest), d);
		snprintf(lock, sizeof lock, "dest-%s", d + 7);
		if (cache_lock(&j.cache, lock, true, &dest_lock, e) < 0)
			goto out;
		int cur = record_is_current(&j, false, e);
		if (cur < 0)
			goto out;
		j.up_to_date = cur;
	}
	if (j.up_to_date) {
		klog(KLOG_INFO, "%s is up to date (%.19s)", j.dest, j.manifest_digest);
		goto done;
	}
	if ((o->dir_out ? write_dir(&j, e) : write_sqfs(&j, e)) < 0)
		goto out;
	struct stat st;
	if (stat(j.dest, &st) == 0)
		klog(KLOG_INFO, "wrote %s%s", j.dest, o->dir_out ? "" : "");
	struct cache_record rec = {
		.dest = j.dest,
		.source = (char *)o->source,
		.manifest = j.manifest_digest,
		.options = j.options,
		.blobs = j.blobs,
	};
	if (cache_record_put(&j.cache, &rec, e) < 0)
		goto out;
done:
	*dest_out = xstrdup(j.dest);
	r = 0;
out:
	if (dest_lock >= 0)
		close(dest_lock);
	trust_cache = NULL;
	job_free(&j);
	return r;
}
