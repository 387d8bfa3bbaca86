/* manifest.c: image manifests, indexes, configs and docker-archive
 * manifest.json (see manifest.h).  jansson does the JSON; this file checks
 * every field that is used. */
#include "manifest.h"
#include "imgref.h"
#include "json_doc.h"

#include <stdlib.h>
#include <string.h>

#define FIELD_MAX 4096 /* any single string we keep (os, arch, workdir, ...) */
#define ARGS_MAX 4096  /* Env, Cmd, Entrypoint entries */

static int bad(struct kerr *e, const char *what, const char *field, const char *why)
{
	return kerr_set(e, 0, "%s: %s: %s", what, field, why);
}

static json_t *load(const char *buf, size_t len, const char *what, struct kerr *e)
{
	if (len > MANIFEST_MAX_SIZE) {
		kerr_set(e, 0, "%s: larger than %u bytes", what, MANIFEST_MAX_SIZE);
		return NULL;
	}
	json_t *doc = json_doc_load(buf, len, what, e);
	if (doc && !json_is_object(doc)) {
		kerr_set(e, 0, "%s: not a JSON object", what);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* An optional string field: NULL when absent or null; error when not a
 * string, too long, or holding a NUL or control byte. */
static int opt_string(json_t *obj, const char *key, const char *what, const char **out,
                      struct kerr *e)
{
	*out = NULL;
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad(e, what, key, "not a string");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n > FIELD_MAX || strlen(s) != n)
		return bad(e, what, key, n > FIELD_MAX ? "too long" : "holds a NUL byte");
	*out = s;
	return 0;
}

static int dup_opt(json_t *obj, const char *key, const char *what, char **out, struct kerr *e)
{
	const char *s;
	if (opt_string(obj, key, what, &s, e) < 0)
		return -1;
	*out = s && *s ? xstrdup(s) : NULL;
	return 0;
}

static int descriptor_parse(json_t *d, const char *what, const char *field,
                            struct descriptor *out, struct kerr *e)
{
	char f[256];
	if (!json_is_object(d))
		return bad(e, what, field, "not an object");
	json_t *dig = json_object_get(d, "digest");
	snprintf(f, sizeof f, "%s.digest", field);
	if (!json_is_string(dig))
		return bad(e, what, f, "missing or not a string");
	if (!digest_is_valid(json_string_value(dig)))
		return kerr_set(e, 0, "%s: %s: unsupported or invalid digest '%.80s'", what, f,
		                json_string_value(dig));
	strcpy(out->digest, json_string_value(dig));
	json_t *size = json_object_get(d, "size");
	snprintf(f, sizeof f, "%s.size", field);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return bad(e, what, f, "missing or not a non-negative integer");
	out->size = (uint64_t)json_integer_value(size);
	return 0;
}

static const char *media_type(json_t *doc)
{
	json_t *mt = json_object_get(doc, "mediaType");
	return json_is_string(mt) ? json_string_value(mt) : NULL;
}

int manifest_kind(const char *content_type, const char *buf, size_t len,
                  enum manifest_kind *kind, struct kerr *e)
{
	json_t *doc = load(buf, len, "manifest", e);
	if (!doc)
		return -1;
	json_t *sv = json_object_get(doc, "schemaVersion");
	const char *mt = media_type(doc);
	_cleanup_free_ char *ct = NULL;
	if (content_type && *content_type) {
		ct = xstrdup(content_type);
		ct[strcspn(ct, "; \t")] = '\0';
	}
	const char *t = mt ? mt : ct;
	int r = 0;
	if (json_is_integer(sv) && json_integer_value(sv) == 1) {
		kerr_set(e, 0, "manifest: Docker schema 1 manifests are not supported");
		r = kerr_hint(e, "push the image again with a current docker, podman or skopeo");
	} else if (!t && json_object_get(doc, "manifests")) {
		*kind = MANIFEST_INDEX; /* OCI allows an index without mediaType */
	} else if (!t && json_object_get(doc, "layers")) {
		*kind = MANIFEST_IMAGE;
	} else if (t && (!strcmp(t, MT_OCI_INDEX) || !strcmp(t, MT_DOCKER_LIST))) {
		*kind = MANIFEST_INDEX;
	} else if (t && (!strcmp(t, MT_OCI_MANIFEST) || !strcmp(t, MT_DOCKER_MANIFEST))) {
		*kind = MANIFEST_IMAGE;
	} else {
		r = kerr_set(e, 0, "manifest: unsupported media type '%.200s'", t ? t : "(none)");
	}
	json_decref(doc);
	return r;
}

static int layer_type(const char *mt, enum layer_compression *c)
{
	static const struct {
		const char *type;
		enum layer_compression comp;
	} types[] = {
		{"application/vnd.oci.image.layer.v1.tar", LAYER_TAR},
		{"application/vnd.oci.image.layer.v1.tar+gzip", LAYER_GZIP},
		{"application/vnd.oci.image.layer.v1.tar+zstd", LAYER_ZSTD},
		{"application/vnd.docker.image.rootfs.diff.tar", LAYER_TAR},
		{"application/vnd.docker.image.rootfs.diff.tar.gzip", LAYER_GZIP},
		{"application/vnd.docker.image.rootfs.diff.tar.zstd", LAYER_ZSTD},
	};
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strcmp(mt, types[i].type) == 0) {
			*c = types[i].comp;
			return 0;
		}
	return -1;
}

int manifest_parse(const char *buf, size_t len, const char *what, struct manifest *m,
                   struct kerr *e)
{
	memset(m, 0, sizeof *m);
	json_t *doc = load(buf, len, what, e);
	if (!doc)
		return -1;
	int r = -1;
	json_t *sv = json_object_get(doc, "schemaVersion");
	json_t *layers = json_object_get(doc, "layers");
	const char *mt = media_type(doc);
	if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
		bad(e, what, "schemaVersion", "not 2");
		goto out;
	}
	if (mt && strcmp(mt, MT_OCI_MANIFEST) && strcmp(mt, MT_DOCKER_MANIFEST)) {
		kerr_set(e, 0, "%s: mediaType: '%.200s' is not an image manifest", what, mt);
		goto out;
	}
	if (descriptor_parse(json_object_get(doc, "config"), what, "config", &m->config, e) < 0)
		goto out;
	if (m->config.size > MANIFEST_MAX_SIZE) {
		bad(e, what, "config.size", "too large for an image config");
		goto out;
	}
	if (!json_is_array(layers)) {
		bad(e, what, "layers", "missing or not an array");
		goto out;
	}
	if (json_array_size(layers) > MANIFEST_MAX_LAYERS) {
		kerr_set(e, 0, "%s: layers: more than %d", what, MANIFEST_MAX_LAYERS);
		goto out;
	}
	m->layers = xcalloc(json_array_size(layers) + 1, sizeof *m->layers);
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		char f[64];
		snprintf(f, sizeof f, "layers[%zu]", i);
		if (descriptor_parse(l, what, f, &m->layers[i], e) < 0)
			goto out;
		json_t *lmt = json_object_get(l, "mediaType");
		if (!json_is_string(lmt) || layer_type(json_string_value(lmt), &m->layers[i].comp) < 0) {
			kerr_set(e, 0, "%s: %s.mediaType: unsupported layer type '%.200s'", what, f,
			         json_is_string(lmt) ? json_string_value(lmt) : "(none)");
			goto out;
		}
		m->nlayers++;
	}
	r = 0;
out:
	json_decref(doc);
	if (r < 0)
		manifest_free(m);
	return r;
}

void manifest_free(struct manifest *m)
{
	free(m->layers);
	memset(m, 0, sizeof *m);
}

int index_parse(const char *buf, size_t len, const char *what, struct image_index *ix,
                struct kerr *e)
{
	memset(ix, 0, sizeof *ix);
	json_t *doc = load(buf, len, what, e);
	if (!doc)
		return -1;
	int r = -1;
	json_t *sv = json_object_get(doc, "schemaVersion");
	json_t *list = json_object_get(doc, "manifests");
	if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
		bad(e, what, "schemaVersion", "not 2");
		goto out;
	}
	if (!json_is_array(list)) {
		bad(e, what, "manifests", "missing or not an array");
		goto out;
	}
	if (json_array_size(list) > INDEX_MAX_ENTRIES) {
		kerr_set(e, 0, "%s: manifests: more than %d", what, INDEX_MAX_ENTRIES);
		goto out;
	}
	ix->manifests = xcalloc(json_array_size(list) + 1, sizeof *ix->manifests);
	size_t i;
	json_t *d;
	json_array_foreach(list, i, d) {
		char f[64];
		snprintf(f, sizeof f, "manifests[%zu]", i);
		struct descriptor *out = &ix->manifests[ix->n];
		if (descriptor_parse(d, what, f, out, e) < 0)
			goto out;
		if (out->size > MANIFEST_MAX_SIZE) {
			kerr_set(e, 0, "%s: %s.size: too large for a manifest", what, f);
			goto out;
		}
		json_t *mt = json_object_get(d, "mediaType");
		const char *t = json_is_string(mt) ? json_string_value(mt) : NULL;
		/* Other types (artifacts) are not images of a platform. */
		out->is_index = t && (!strcmp(t, MT_OCI_INDEX) || !strcmp(t, MT_DOCKER_LIST));
		if (t && !out->is_index && strcmp(t, MT_OCI_MANIFEST) && strcmp(t, MT_DOCKER_MANIFEST))
			continue;
		json_t *ann = json_object_get(d, "annotations");
		if (ann && !json_is_object(ann) && !json_is_null(ann)) {
			kerr_set(e, 0, "%s: %s.annotations: not an object", what, f);
			goto out;
		}
		if (json_is_object(ann) &&
		    dup_opt(ann, "org.opencontainers.image.ref.name", what, &out->ref_name, e) < 0)
			goto out;
		json_t *p = json_object_get(d, "platform");
		if (p && !json_is_object(p) && !json_is_null(p)) {
			kerr_set(e, 0, "%s: %s.platform: not an object", what, f);
			goto out;
		}
		if (json_is_object(p) && (dup_opt(p, "os", what, &out->os, e) < 0 ||
		                          dup_opt(p, "architecture", what, &out->arch, e) < 0 ||
		                          dup_opt(p, "variant", what, &out->variant, e) < 0))
			goto out;
		ix->n++;
	}
	r = 0;
out:
	json_decref(doc);
	if (r < 0)
		index_free(ix);
	return r;
}

void index_free(struct image_index *ix)
{
	for (size_t i = 0; ix->manifests && i <= ix->n; i++) {
		free(ix->manifests[i].os);
		free(ix->manifests[i].arch);
		free(ix->manifests[i].variant);
		free(ix->manifests[i].ref_name);
	}
	free(ix->manifests);
	memset(ix, 0, sizeof *ix);
}

static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

int index_select(const struct image_index *ix, const char *os, const char *arch,
                 const char *variant, const char *what, struct kerr *e)
{
	const char *pref = variant ? variant : str_eq(arch, "arm64") ? "v8" : str_eq(arch, "arm") ? "v7" : NULL;
	int best = -1;
	for (size_t i = 0; i < ix->n; i++) {
		const struct descriptor *d = &ix->manifests[i];
		if (d->is_index || !str_eq(d->os, os) || !str_eq(d->arch, arch))
			continue;
		if (variant && !str_eq(d->variant, variant))
			continue;
		if (best < 0 || (pref && str_eq(d->variant, pref) && !str_eq(ix->manifests[best].variant, pref)))
			best = (int)i;
	}
	if (best >= 0)
		return best;
	char have[512] = "";
	size_t used = 0;
	for (size_t i = 0; i < ix->n && used < sizeof have - 64; i++) {
		const struct descriptor *d = &ix->manifests[i];
		used += snprintf(have + used, sizeof have - used, "%s%.20s/%.20s%s%.10s", i ? ", " : "",
		                 d->os ? d->os : "?", d->arch ? d->arch : "?", d->variant ? "/" : "",
		                 d->variant ? d->variant : "");
	}
	kerr_set(e, 0, "%s: no image for %s/%s%s%s", what, os, arch, variant ? "/" : "",
	         variant ? variant : "");
	return kerr_hint(e, "the index has: %s; pick one with --arch and --variant",
	                 ix->n ? have : "no image manifests");
}

static int strv_field(json_t *obj, const char *key, const char *what, bool env,
                      struct strv *out, struct kerr *e)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return bad(e, what, key, "not an array");
	if (json_array_size(v) > ARGS_MAX)
		return bad(e, what, key, "too many entries");
	if (!out->v)
		out->v = xcalloc(1, sizeof *out->v); /* present, even if empty */
	size_t i;
	json_t *s;
	json_array_foreach(v, i, s) {
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
			return kerr_set(e, 0, "%s: %s[%zu]: not a string without NUL bytes", what, key, i);
		const char *str = json_string_value(s);
		if (env) {
			const char *eq = strchr(str, '=');
			if (!eq || eq == str)
				return kerr_set(e, 0, "%s: %s[%zu]: '%.80s' is not VAR=VALUE", what, key, i, str);
		}
		strv_push(out, str);
	}
	return 0;
}

int image_config_parse(const char *buf, size_t len, const char *what, struct image_config *c,
                       struct kerr *e)
{
	memset(c, 0, sizeof *c);
	json_t *doc = load(buf, len, what, e);
	if (!doc)
		return -1;
	int r = -1;
	if (dup_opt(doc, "os", what, &c->os, e) < 0 ||
	    dup_opt(doc, "architecture", what, &c->arch, e) < 0 ||
	    dup_opt(doc, "variant", what, &c->variant, e) < 0)
		goto out;
	json_t *cfg = json_object_get(doc, "config");
	if (cfg && !json_is_null(cfg)) {
		if (!json_is_object(cfg)) {
			bad(e, what, "config", "not an object");
			goto out;
		}
		if (strv_field(cfg, "Env", what, true, &c->env, e) < 0 ||
		    strv_field(cfg, "Entrypoint", what, false, &c->entrypoint, e) < 0 ||
		    strv_field(cfg, "Cmd", what, false, &c->cmd, e) < 0 ||
		    dup_opt(cfg, "WorkingDir", what, &c->workdir, e) < 0 ||
		    dup_opt(cfg, "User", what, &c->user, e) < 0)
			goto out;
		if (c->workdir && c->workdir[0] != '/') {
			bad(e, what, "config.WorkingDir", "not an absolute path");
			goto out;
		}
	}
	json_t *rootfs = json_object_get(doc, "rootfs");
	if (rootfs && !json_is_null(rootfs)) {
		if (!json_is_object(rootfs)) {
			bad(e, what, "rootfs", "not an object");
			goto out;
		}
		if (strv_field(rootfs, "diff_ids", what, false, &c->diff_ids, e) < 0)
			goto out;
		for (size_t i = 0; i < c->diff_ids.n; i++)
			if (!digest_is_valid(c->diff_ids.v[i])) {
				kerr_set(e, 0, "%s: rootfs.diff_ids[%zu]: invalid digest", what, i);
				goto out;
			}
	}
	r = 0;
out:
	json_decref(doc);
	if (r < 0)
		image_config_free(c);
	return r;
}

void image_config_free(struct image_config *c)
{
	free(c->os);
	free(c->arch);
	free(c->variant);
	strv_free(&c->env);
	strv_free(&c->entrypoint);
	strv_free(&c->cmd);
	free(c->workdir);
	free(c->user);
	strv_free(&c->diff_ids);
	memset(c, 0, sizeof *c);
}

/* A relative path inside an archive: no leading '/', no ".." component,
 * no NUL, bounded. */
static bool archive_path_ok(const char *p)
{
	if (!*p || *p == '/' || strlen(p) > 1024)
		return false;
	for (const char *c = p;;) {
		const char *end = strchrnul(c, '/');
		if (end - c == 2 && c[0] == '.' && c[1] == '.')
			return false;
		if (!*end)
			return true;
		c = end + 1;
	}
}

int docker_archive_manifest_parse(const char *buf, size_t len, const char *what,
                                  struct docker_archive_manifest *m, struct kerr *e)
{
	memset(m, 0, sizeof *m);
	if (len > MANIFEST_MAX_SIZE)
		return kerr_set(e, 0, "%s: larger than %u bytes", what, MANIFEST_MAX_SIZE);
	json_t *doc = json_doc_load(buf, len, what, e);
	if (!doc)
		return -1;
	int r = -1;
	json_t *img = json_is_array(doc) ? json_array_get(doc, 0) : NULL;
	if (!json_is_object(img)) {
		kerr_set(e, 0, "%s: not an array of images", what);
		goto out;
	}
	if (json_array_size(doc) > 1) {
		kerr_set(e, 0, "%s: holds %zu images; krill imports archives of one image", what,
		         json_array_size(doc));
		goto out;
	}
	const char *config;
	if (opt_string(img, "Config", what, &config, e) < 0)
		goto out;
	if (!config || !archive_path_ok(config)) {
		bad(e, what, "[0].Config", "missing or not a relative path inside the archive");
		goto out;
	}
	m->config = xstrdup(config);
	if (strv_field(img, "Layers", what, false, &m->layers, e) < 0)
		goto out;
	if (m->layers.n > MANIFEST_MAX_LAYERS) {
		kerr_set(e, 0, "%s: [0].Layers: more than %d", what, MANIFEST_MAX_LAYERS);
		goto out;
	}
	for (size_t i = 0; i < m->layers.n; i++)
		if (!archive_path_ok(m->layers.v[i])) {
			kerr_set(e, 0, "%s: [0].Layers[%zu]: not a relative path inside the archive", what, i);
			goto out;
		}
	r = 0;
out:
	json_decref(doc);
	if (r < 0)
		docker_archive_manifest_free(m);
	return r;
}

void docker_archive_manifest_free(struct docker_archive_manifest *m)
{
	free(m->config);
	strv_free(&m->layers);
	memset(m, 0, sizeof *m);
}

const char *platform_host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#elif defined(__i386__)
	return "386";
#else
	return "unknown";
#endif
}

const char *platform_host_variant(void)
{
#if defined(__aarch64__)
	return "v8";
#elif defined(__arm__)
	return "v7";
#else
	return NULL;
#endif
}
