/* imgref.c: import SOURCE and registry reference parsing (see imgref.h).
 * The grammar is docker's (distribution/reference): every part is checked
 * here, so later stages can put a repository or tag in a URL or a file
 * name without escaping. */
#include "imgref.h"
#include "util.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128

bool digest_is_valid(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + 64)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static bool is_lower_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* path-component := [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool path_component_ok(const char *s, size_t n)
{
	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n;) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && !is_lower_alnum(s[j]))
			j++;
		size_t len = j - i;
		bool ok = (len == 1 && (s[i] == '.' || s[i] == '_')) ||
		          (len == 2 && s[i] == '_' && s[i + 1] == '_');
		if (!ok) {
			ok = true;
			for (size_t k = i; k < j; k++)
				ok = ok && s[k] == '-';
		}
		if (!ok)
			return false;
		i = j;
	}
	return true;
}

/* domain := label(.label)*(:port)?, label := [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? */
static bool domain_ok(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t hlen = colon ? (size_t)(colon - s) : n;
	if (hlen == 0)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < hlen; i++) {
		char ch = s[i];
		if (ch == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)ch) || (ch == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	if (label == 0 || s[hlen - 1] == '-')
		return false;
	if (colon) {
		size_t plen = n - hlen - 1;
		if (plen == 0 || plen > 5)
			return false;
		for (size_t i = hlen + 1; i < n; i++)
			if (!isdigit((unsigned char)s[i]))
				return false;
		if (atoi(s + hlen + 1) == 0 || atoi(s + hlen + 1) > 65535)
			return false;
	}
	return true;
}

static bool tag_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > TAG_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = t[i];
		bool word = isalnum((unsigned char)ch) || ch == '_';
		if (!(word || (i > 0 && (ch == '.' || ch == '-'))))
			return false;
	}
	return true;
}

void imgref_free(struct imgref *r)
{
	free(r->registry);
	free(r->repo);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof *r);
}

int imgref_parse(const char *s, struct imgref *r, struct kerr *e)
{
	memset(r, 0, sizeof *r);
	_cleanup_free_ char *name = xstrdup(s);
	char *at = strchr(name, '@');
	if (at) {
		*at = '\0';
		if (!digest_is_valid(at + 1)) {
			kerr_set(e, 0, "%s: invalid digest '%s'", s, at + 1);
			return kerr_hint(e, "a digest is sha256: followed by 64 lowercase hex digits");
		}
		r->digest = xstrdup(at + 1);
	}
	char *slash = strrchr(name, '/');
	char *colon = strrchr(slash ? slash : name, ':');
	if (colon) {
		*colon = '\0';
		if (!tag_ok(colon + 1)) {
			imgref_free(r);
			return kerr_set(e, 0, "%s: invalid tag '%s'", s, colon + 1);
		}
		r->tag = xstrdup(colon + 1);
	}
	if (!r->tag && !r->digest)
		r->tag = xstrdup("latest");

	char *path = name;
	char *first = strchr(name, '/');
	if (first) {
		size_t n = first - name;
		bool is_domain = memchr(name, '.', n) || memchr(name, ':', n) ||
		                 (n == 9 && memcmp(name, "localhost", 9) == 0);
		for (size_t i = 0; i < n && !is_domain; i++)
			is_domain = isupper((unsigned char)name[i]);
		if (is_domain) {
			if (!domain_ok(name, n)) {
				imgref_free(r);
				return kerr_set(e, 0, "%s: invalid registry '%.*s'", s, (int)n, name);
			}
			r->registry = xstrndup(name, n);
			path = first + 1;
		}
	}
	if (!r->registry)
		r->registry = xstrdup(IMGREF_DEFAULT_REGISTRY);
	if (strcmp(r->registry, "index.docker.io") == 0) {
		free(r->registry);
		r->registry = xstrdup(IMGREF_DEFAULT_REGISTRY);
	}
	if (!*path || strlen(path) > NAME_MAX_LEN) {
		imgref_free(r);
		return kerr_set(e, 0, "%s: %s image name", s, *path ? "too long an" : "missing");
	}
	for (const char *c = path;;) {
		const char *end = strchrnul(c, '/');
		if (!path_component_ok(c, end - c)) {
			kerr_set(e, 0, "%s: invalid name component '%.*s'", s, (int)(end - c), c);
			imgref_free(r);
			return kerr_hint(e, "names are lowercase letters and digits, separated by '.', '_', '__' or '-'");
		}
		if (!*end)
			break;
		c = end + 1;
	}
	if (strcmp(r->registry, IMGREF_DEFAULT_REGISTRY) == 0 && !strchr(path, '/'))
		r->repo = xasprintf("library/%s", path);
	else
		r->repo = xstrdup(path);
	return 0;
}

const char *imgref_endpoint(const struct imgref *r)
{
	return strcmp(r->registry, IMGREF_DEFAULT_REGISTRY) == 0 ? "registry-1.docker.io"
	                                                          : r->registry;
}

static const struct {
	const char *prefix;
	enum imgsrc_kind kind;
} prefixes[] = {
	{"docker://", IMGSRC_DOCKER},
	{"oci-archive:", IMGSRC_OCI_ARCHIVE},
	{"oci:", IMGSRC_OCI},
	{"docker-archive:", IMGSRC_DOCKER_ARCHIVE},
	{"podman://", IMGSRC_PODMAN},
	{"dockerd://", IMGSRC_DOCKERD},
	{"tar:", IMGSRC_TAR},
	{"dir:", IMGSRC_DIR},
};

const char *imgsrc_kind_prefix(enum imgsrc_kind kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (prefixes[i].kind == kind)
			return prefixes[i].prefix;
	return "?";
}

bool imgsrc_is_source(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strncmp(s, prefixes[i].prefix, strlen(prefixes[i].prefix)) == 0)
			return true;
	return false;
}

void imgsrc_free(struct imgsrc *src)
{
	free(src->path);
	free(src->ref);
	imgref_free(&src->reg);
	memset(src, 0, sizeof *src);
}

/* An engine's image name: printable, no blanks, not an option. */
static bool engine_name_ok(const char *s)
{
	if (!*s || *s == '-' || strlen(s) > 512)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int imgsrc_parse(const char *s, struct imgsrc *src, struct kerr *e)
{
	memset(src, 0, sizeof *src);
	size_t i;
	for (i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strncmp(s, prefixes[i].prefix, strlen(prefixes[i].prefix)) == 0)
			break;
	if (i == ARRAY_SIZE(prefixes)) {
		kerr_set(e, 0, "%s: unknown image source", s);
		return kerr_hint(e, "a source starts with docker://, oci:, oci-archive:, "
		                    "docker-archive:, podman://, dockerd://, tar: or dir:");
	}
	src->kind = prefixes[i].kind;
	const char *rest = s + strlen(prefixes[i].prefix);
	switch (src->kind) {
	case IMGSRC_DOCKER:
		return imgref_parse(rest, &src->reg, e);
	case IMGSRC_PODMAN:
	case IMGSRC_DOCKERD:
		if (!engine_name_ok(rest))
			return kerr_set(e, 0, "%s: invalid image name '%s'", s, rest);
		src->ref = xstrdup(rest);
		return 0;
	case IMGSRC_OCI: {
		/* oci:DIR:REF — the REF is what follows the last ':' when that
		 * part has no '/', as skopeo reads it. */
		const char *colon = strrchr(rest, ':');
		if (colon && !strchr(colon, '/')) {
			src->path = xstrndup(rest, colon - rest);
			if (colon[1])
				src->ref = xstrdup(colon + 1);
		} else {
			src->path = xstrdup(rest);
		}
		break;
	}
	default:
		src->path = xstrdup(rest);
		break;
	}
	if (!src->path[0]) {
		imgsrc_free(src);
		return kerr_set(e, 0, "%s: missing path", s);
	}
	return 0;
}

/* Push a copy of s, keeping [A-Za-z0-9._-] and turning '/' and ':' into '+'. */
static void name_append(struct strv *parts, const char *s)
{
	char *out = xstrdup(s);
	size_t n = 0;
	for (const char *p = s; *p; p++) {
		char ch = *p;
		if (ch == '/' || ch == ':')
			ch = '+';
		else if (!(isalnum((unsigned char)ch) || ch == '.' || ch == '_' || ch == '-'))
			ch = '_';
		out[n++] = ch;
	}
	out[n] = '\0';
	strv_push_owned(parts, out);
}

static char *base_without_ext(const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	const char *b = strrchr(p, '/');
	b = b ? b + 1 : p;
	char *out = xstrdup(*b ? b : "image");
	static const char *const exts[] = {".tar.gz", ".tar.xz", ".tar.zst", ".tgz",  ".txz",
	                                   ".tzst",   ".tar",    ".gz",      ".xz",   ".zst"};
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		size_t ol = strlen(out), el = strlen(exts[i]);
		if (ol > el && strcmp(out + ol - el, exts[i]) == 0) {
			out[ol - el] = '\0';
			break;
		}
	}
	if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
		free(out);
		out = xstrdup("image");
	}
	return out;
}

char *imgsrc_default_name(const struct imgsrc *src)
{
	struct strv parts = {0};
	switch (src->kind) {
	case IMGSRC_DOCKER: {
		const char *repo = src->reg.repo;
		if (strncmp(repo, "library/", 8) == 0 &&
		    strcmp(src->reg.registry, IMGREF_DEFAULT_REGISTRY) == 0)
			repo += 8;
		name_append(&parts, repo);
		if (src->reg.tag)
			name_append(&parts, src->reg.tag);
		else
			name_append(&parts, src->reg.digest);
		break;
	}
	case IMGSRC_PODMAN:
	case IMGSRC_DOCKERD: {
		const char *r = strrchr(src->ref, '/');
		name_append(&parts, r ? r + 1 : src->ref);
		break;
	}
	default: {
		char *b = base_without_ext(src->path);
		name_append(&parts, b);
		free(b);
		if (src->ref)
			name_append(&parts, src->ref);
		break;
	}
	}
	size_t len = 1;
	for (size_t i = 0; i < parts.n; i++)
		len += strlen(parts.v[i]) + 1;
	char *out = xcalloc(len, 1);
	for (size_t i = 0; i < parts.n; i++) {
		if (i)
			strcat(out, "+");
		strcat(out, parts.v[i]);
	}
	strv_free(&parts);
	/* A leading '.' would hide the file or name "." / "..". */
	if (!out[0]) {
		free(out);
		out = xstrdup("image");
	}
	if (out[0] == '.')
		out[0] = '_';
	return out;
}

int imgsrc_refuse_unimported(int fd, const char *path, bool is_dir, struct kerr *e)
{
	if (is_dir) {
		struct stat st;
		if (fstatat(fd, "oci-layout", &st, 0) == 0 && fstatat(fd, "index.json", &st, 0) == 0) {
			kerr_set(e, 0, "%s: is an OCI image layout, not a root filesystem", path);
			return kerr_hint(e, "import it first: krill import oci:%s IMAGE.sqfs", path);
		}
		return 0;
	}
	unsigned char b[512];
	ssize_t n = pread(fd, b, sizeof b, 0);
	if (n < 6)
		return 0;
	const char *kind = NULL;
	if (n >= 262 && memcmp(b + 257, "ustar", 5) == 0)
		kind = "a tar archive";
	else if (b[0] == 0x1f && b[1] == 0x8b)
		kind = "gzip-compressed (a tarball?)";
	else if (memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0)
		kind = "zstd-compressed (a tarball?)";
	else if (memcmp(b, "\xfd" "7zXZ", 5) == 0)
		kind = "xz-compressed (a tarball?)";
	if (!kind)
		return 0;
	kerr_set(e, 0, "%s: is %s, not an image krill runs directly", path, kind);
	return kerr_hint(e, "import it first: krill import docker-archive:%s (docker/podman save), "
	                    "oci-archive:%s, or tar:%s (a root filesystem)", path, path, path);
}
