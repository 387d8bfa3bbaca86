/* registry.c: the registry client (see registry.h). */
#include "registry.h"
#include "digest.h"
#include "json_doc.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define SMALL_MAX (4u << 20) /* manifests, token responses */
#define MAX_REDIRS 10
#define ACCEPT_MANIFESTS                                                             \
	"Accept: " MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST

struct registry {
	const struct imgref *ref;
	struct registry_opts o;
	char *base;   /* scheme://host[:port] */
	char *basic;  /* base64 user:pass, or NULL */
	char *auth;   /* "Authorization: ..." header, or NULL */
	CURL *easy;   /* for small requests, reused (keeps the connection) */
	char where[512]; /* "docker://REGISTRY/REPO" for messages */
};

struct resp {
	long status;
	char *body;
	size_t len, max;
	bool too_big;
	char *content_type, *www_auth, *digest_hdr;
};

static void resp_free(struct resp *r)
{
	free(r->body);
	free(r->content_type);
	free(r->www_auth);
	free(r->digest_hdr);
	memset(r, 0, sizeof *r);
}

static size_t body_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = sz * n;
	if (r->len + len > r->max) {
		r->too_big = true;
		return 0;
	}
	r->body = xrealloc(r->body, r->len + len + 1);
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* Keep the headers we use.  A redirect's headers come first: each new
 * status line starts over. */
static size_t header_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = sz * n;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		free(r->content_type);
		free(r->www_auth);
		free(r->digest_hdr);
		r->content_type = r->www_auth = r->digest_hdr = NULL;
		return len;
	}
	static const struct {
		const char *name;
		size_t off;
	} keep[] = {
		{"content-type:", offsetof(struct resp, content_type)},
		{"www-authenticate:", offsetof(struct resp, www_auth)},
		{"docker-content-digest:", offsetof(struct resp, digest_hdr)},
	};
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		size_t kl = strlen(keep[i].name);
		if (len > kl && strncasecmp(p, keep[i].name, kl) == 0) {
			const char *v = p + kl, *end = p + len;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
				end--;
			char **slot = (char **)((char *)r + keep[i].off);
			free(*slot);
			*slot = xstrndup(v, end - v);
		}
	}
	return len;
}

static int progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	volatile sig_atomic_t *cancel = arg;
	return cancel && *cancel ? 1 : 0;
}

static void easy_common(struct registry *r, CURL *h, char *errbuf)
{
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)MAX_REDIRS);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, r->o.plain_http ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, r->o.timeout > 0 ? r->o.timeout : 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "krill/" KRILL_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, r->o.cancel);
	if (r->o.tls_ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, r->o.tls_ca);
	errbuf[0] = '\0';
}

/* One line for a transport failure, with a hint when the fix is known. */
static int curl_fail(struct registry *r, CURLcode rc, const char *errbuf, const char *what,
                     struct kerr *e)
{
	if (rc == CURLE_ABORTED_BY_CALLBACK && r->o.cancel && *r->o.cancel)
		return kerr_set(e, EINTR, "%s", what);
	kerr_set(e, 0, "%s: %s", what, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
	case CURLE_SSL_CACERT:
#endif
	case CURLE_SSL_CACERT_BADFILE:
		return kerr_hint(e, "give the registry's CA certificate with --tls-ca FILE");
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return kerr_hint(e, "is the registry name right, and is it reachable from here?");
	case CURLE_SSL_CONNECT_ERROR:
		if (!r->o.plain_http)
			return kerr_hint(e, "for a plain-HTTP registry, list it in [import] "
			                    "insecure-registries in krill.conf");
		return -1;
	default:
		return -1;
	}
}

static int http_status_fail(struct registry *r, long status, const char *what, struct kerr *e)
{
	switch (status) {
	case 401:
		kerr_set(e, 0, "%s: authentication failed (HTTP 401)", what);
		return kerr_hint(e, r->basic ? "check the user name and password (--creds, podman login, docker login)"
		                             : "log in with --creds USER, podman login or docker login");
	case 403:
		return kerr_set(e, 0, "%s: access denied (HTTP 403)", what);
	case 404:
		return kerr_set(e, 0, "%s: not found (HTTP 404)", what);
	case 429:
		return kerr_set(e, 0, "%s: too many requests (HTTP 429); try again later", what);
	default:
		return kerr_set(e, 0, "%s: unexpected HTTP status %ld", what, status);
	}
}

static int http_get(struct registry *r, const char *url, const char *accept, const char *auth,
                    struct resp *out, const char *what, struct kerr *e)
{
	memset(out, 0, sizeof *out);
	out->max = SMALL_MAX;
	char errbuf[CURL_ERROR_SIZE];
	CURL *h = r->easy;
	curl_easy_reset(h);
	easy_common(r, h, errbuf);
	struct curl_slist *hdrs = NULL;
	if (accept)
		hdrs = curl_slist_append(hdrs, accept);
	if (auth)
		hdrs = curl_slist_append(hdrs, auth);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	CURLcode rc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	if (out->too_big) {
		resp_free(out);
		return kerr_set(e, 0, "%s: response larger than %u bytes", what, SMALL_MAX);
	}
	if (rc != CURLE_OK) {
		resp_free(out);
		return curl_fail(r, rc, errbuf, what, e);
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	return 0;
}

/* ---- auth ------------------------------------------------------------------ */

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static bool b64_ok(const char *s)
{
	if (!*s || strlen(s) > 4096)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '+' || *s == '/' || *s == '='))
			return false;
	return true;
}

static char *login_from_file(const char *path, const char *host)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct kerr e;
	if (file_read_all(AT_FDCWD, path, 1 << 20, &buf, &len, &e) < 0)
		return NULL;
	json_t *doc = json_doc_load(buf, len, path, &e);
	if (!doc)
		return NULL;
	char *found = NULL;
	json_t *auths = json_object_get(doc, "auths");
	const char *keys[3] = {host, NULL, NULL};
	if (strcmp(host, IMGREF_DEFAULT_REGISTRY) == 0) {
		keys[1] = "https://index.docker.io/v1/";
		keys[2] = "index.docker.io";
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys) && !found && json_is_object(auths); i++) {
		if (!keys[i])
			continue;
		json_t *a = json_object_get(json_object_get(auths, keys[i]), "auth");
		if (json_is_string(a) && b64_ok(json_string_value(a)))
			found = xstrdup(json_string_value(a));
	}
	json_decref(doc);
	return found;
}

char *registry_login_lookup(const char *host)
{
	char *found = NULL;
	const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	const char *auth_file = getenv("REGISTRY_AUTH_FILE");
	if (auth_file && *auth_file)
		found = login_from_file(auth_file, host);
	if (!found && xdg && *xdg) {
		_cleanup_free_ char *p = xasprintf("%s/containers/auth.json", xdg);
		found = login_from_file(p, host);
	}
	if (!found && home && *home) {
		_cleanup_free_ char *p = xasprintf("%s/.docker/config.json", home);
		found = login_from_file(p, host);
	}
	return found;
}

/* Parse `Bearer realm="...",service="...",scope="..."`; values are quoted
 * strings or tokens. */
static int challenge_get(const char *h, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	for (const char *p = h; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *name = p;
		while (*p && *p != '=' && *p != ' ' && *p != ',')
			p++;
		size_t nl = p - name;
		if (*p != '=') {
			while (*p && *p != ',')
				p++;
			continue;
		}
		p++;
		size_t n = 0;
		bool match = nl == kl && strncasecmp(name, key, kl) == 0;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				if (match && n + 1 < outlen)
					out[n++] = *p;
			}
			if (*p)
				p++;
		} else {
			for (; *p && *p != ','; p++)
				if (match && n + 1 < outlen)
					out[n++] = *p;
		}
		if (match) {
			out[n] = '\0';
			return 0;
		}
	}
	return -1;
}

static char *url_escape(CURL *h, const char *s)
{
	char *q = curl_easy_escape(h, s, 0);
	char *out = xstrdup(q ? q : "");
	curl_free(q);
	return out;
}

/* Answer a 401's challenge: set r->auth for the retry. */
static int authenticate(struct registry *r, const char *challenge, struct kerr *e)
{
	free(r->auth);
	r->auth = NULL;
	if (strncasecmp(challenge, "Basic", 5) == 0) {
		if (!r->basic) {
			kerr_set(e, 0, "%s: the registry wants a user name and password (HTTP 401)", r->where);
			return kerr_hint(e, "log in with --creds USER, podman login or docker login");
		}
		r->auth = xasprintf("Authorization: Basic %s", r->basic);
		return 0;
	}
	if (strncasecmp(challenge, "Bearer", 6) != 0)
		return kerr_set(e, 0, "%s: unsupported authentication scheme in '%.60s'", r->where, challenge);
	char realm[1024], service[512] = "", scope[1024] = "";
	if (challenge_get(challenge + 6, "realm", realm, sizeof realm) < 0)
		return kerr_set(e, 0, "%s: the registry's token challenge has no realm", r->where);
	challenge_get(challenge + 6, "service", service, sizeof service);
	if (challenge_get(challenge + 6, "scope", scope, sizeof scope) < 0 || !*scope)
		snprintf(scope, sizeof scope, "repository:%s:pull", r->ref->repo);
	if (strncmp(realm, "https://", 8) != 0 && !(r->o.plain_http && strncmp(realm, "http://", 7) == 0))
		return kerr_set(e, 0, "%s: refusing the token realm '%.200s' (not https)", r->where, realm);
	_cleanup_free_ char *svc = url_escape(r->easy, service);
	_cleanup_free_ char *scp = url_escape(r->easy, scope);
	_cleanup_free_ char *url = xasprintf("%s%cservice=%s&scope=%s", realm,
	                                     strchr(realm, '?') ? '&' : '?', svc, scp);
	_cleanup_free_ char *basic = r->basic ? xasprintf("Authorization: Basic %s", r->basic) : NULL;
	struct resp rs;
	char what[800];
	snprintf(what, sizeof what, "%s: token from %.200s", r->where, realm);
	if (http_get(r, url, NULL, basic, &rs, what, e) < 0)
		return -1;
	if (rs.status != 200) {
		int rc = http_status_fail(r, rs.status, what, e);
		resp_free(&rs);
		return rc;
	}
	json_t *doc = json_doc_load(rs.body ? rs.body : "", rs.len, what, e);
	resp_free(&rs);
	if (!doc)
		return -1;
	json_t *t = json_object_get(doc, "token");
	if (!json_is_string(t))
		t = json_object_get(doc, "access_token");
	int rc = 0;
	const char *tok = json_is_string(t) ? json_string_value(t) : NULL;
	bool ok = tok && *tok && strlen(tok) < 16384;
	for (const char *p = tok; ok && *p; p++)
		ok = (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f;
	if (ok)
		r->auth = xasprintf("Authorization: Bearer %s", tok);
	else
		rc = kerr_set(e, 0, "%s: no usable token in the response", what);
	json_decref(doc);
	return rc;
}

/* GET with one retry after answering a 401 challenge. */
static int get_authed(struct registry *r, const char *url, const char *accept, struct resp *rs,
                      const char *what, struct kerr *e)
{
	if (http_get(r, url, accept, r->auth, rs, what, e) < 0)
		return -1;
	if (rs->status == 401 && rs->www_auth) {
		_cleanup_free_ char *ch = xstrdup(rs->www_auth);
		resp_free(rs);
		if (authenticate(r, ch, e) < 0)
			return -1;
		if (http_get(r, url, accept, r->auth, rs, what, e) < 0)
			return -1;
	}
	return 0;
}

/* ---- open/close ---------------------------------------------------------- */

int registry_open(struct registry **out, const struct imgref *ref, const struct registry_opts *o,
                  struct kerr *e)
{
	static bool global_done;
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return kerr_set(e, 0, "can't initialize libcurl");
		global_done = true;
	}
	struct registry *r = xcalloc(1, sizeof *r);
	r->ref = ref;
	r->o = *o;
	if (r->o.parallel < 1 || r->o.parallel > 16)
		r->o.parallel = 4;
	r->base = xasprintf("%s://%s", o->plain_http ? "http" : "https", imgref_endpoint(ref));
	snprintf(r->where, sizeof r->where, "docker://%s/%s", ref->registry, ref->repo);
	if (o->creds)
		r->basic = b64(o->creds);
	else
		r->basic = registry_login_lookup(ref->registry);
	r->easy = curl_easy_init();
	if (!r->easy) {
		registry_close(r);
		return kerr_set(e, 0, "can't initialize libcurl");
	}
	*out = r;
	return 0;
}

void registry_close(struct registry *r)
{
	if (!r)
		return;
	if (r->easy)
		curl_easy_cleanup(r->easy);
	free(r->base);
	if (r->basic)
		explicit_bzero(r->basic, strlen(r->basic));
	free(r->basic);
	if (r->auth)
		explicit_bzero(r->auth, strlen(r->auth));
	free(r->auth);
	free(r);
}

/* ---- manifests -------------------------------------------------------------- */

int registry_get_manifest(struct registry *r, const char *reference, char **buf, size_t *len,
                          char **content_type, char digest[72], struct kerr *e)
{
	_cleanup_free_ char *url = xasprintf("%s/v2/%s/manifests/%s", r->base, r->ref->repo, reference);
	char what[700];
	snprintf(what, sizeof what, "%s%c%s", r->where, strchr(reference, ':') ? '@' : ':', reference);
	struct resp rs;
	if (get_authed(r, url, ACCEPT_MANIFESTS, &rs, what, e) < 0)
		return -1;
	if (rs.status != 200) {
		int rc = rs.status == 404
		             ? kerr_set(e, 0, "%s: manifest unknown (HTTP 404)", what)
		             : http_status_fail(r, rs.status, what, e);
		resp_free(&rs);
		return rc;
	}
	digest_buf(rs.body ? rs.body : "", rs.len, digest);
	if (digest_is_valid(reference) && strcmp(reference, digest) != 0) {
		kerr_set(e, 0, "%s: manifest content doesn't match its digest (got %s)", what, digest);
		resp_free(&rs);
		return -1;
	}
	if (rs.digest_hdr && digest_is_valid(rs.digest_hdr) && strcmp(rs.digest_hdr, digest) != 0) {
		kerr_set(e, 0, "%s: manifest content doesn't match the registry's digest %s (got %s)",
		         what, rs.digest_hdr, digest);
		resp_free(&rs);
		return -1;
	}
	*buf = rs.body ? rs.body : xstrdup("");
	*len = rs.len;
	*content_type = rs.content_type;
	rs.body = rs.content_type = NULL;
	resp_free(&rs);
	return 0;
}

/* ---- blobs -------------------------------------------------------------------- */

struct xfer {
	struct registry *r;
	const struct descriptor *d;
	struct cache_tmp tmp;
	struct digest dg;
	uint64_t got;
	int lock_fd;
	CURL *h;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	int werr;   /* errno of a failed write */
	bool oversize;
	bool retried;
	struct resp hd; /* headers only */
};

static size_t blob_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = sz * n;
	long status = 0;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return len; /* an error page: dropped, the status says it */
	if (x->got + len > x->d->size) {
		x->oversize = true;
		return 0;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(x->tmp.fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			x->werr = errno;
			return 0;
		}
		off += w;
	}
	digest_update(&x->dg, p, len);
	x->got += len;
	return len;
}

static void xfer_free(struct xfer *x, const struct cache *c)
{
	if (x->h)
		curl_easy_cleanup(x->h);
	curl_slist_free_all(x->hdrs);
	if (x->tmp.fd >= 0)
		cache_tmp_discard(c, &x->tmp);
	if (x->dg.ctx)
		digest_free(&x->dg);
	if (x->lock_fd >= 0)
		close(x->lock_fd);
	resp_free(&x->hd);
	free(x);
}

static int xfer_start(struct registry *r, const struct cache *c, struct xfer *x, CURLM *m,
                      struct kerr *e)
{
	x->tmp.fd = -1;
	if (cache_tmp_create(c, &x->tmp, e) < 0)
		return -1;
	digest_init(&x->dg);
	x->got = 0;
	x->h = curl_easy_init();
	if (!x->h)
		return kerr_set(e, 0, "can't initialize libcurl");
	easy_common(r, x->h, x->errbuf);
	_cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/%s", r->base, r->ref->repo, x->d->digest);
	curl_easy_setopt(x->h, CURLOPT_URL, url);
	if (r->auth)
		x->hdrs = curl_slist_append(NULL, r->auth);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, blob_cb);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(x->h, CURLOPT_HEADERDATA, &x->hd);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(m, x->h) != CURLM_OK)
		return kerr_set(e, 0, "can't start a download");
	return 0;
}

static void xfer_reset(struct xfer *x, const struct cache *c, CURLM *m)
{
	curl_multi_remove_handle(m, x->h);
	curl_easy_cleanup(x->h);
	x->h = NULL;
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	cache_tmp_discard(c, &x->tmp);
	digest_free(&x->dg);
	resp_free(&x->hd);
}

static double mib(uint64_t n)
{
	return n / 1048576.0;
}

/* A transfer is over: verify and commit, or say why not.  Returns 1 when
 * it was restarted (after a 401), 0 when done, -1 on error. */
static int xfer_done(struct registry *r, const struct cache *c, struct xfer *x, CURLM *m,
                     CURLcode rc, struct kerr *e)
{
	char what[800];
	snprintf(what, sizeof what, "%s: blob %s", r->where, x->d->digest);
	long status = 0;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && status == 401 && x->hd.www_auth && !x->retried) {
		_cleanup_free_ char *ch = xstrdup(x->hd.www_auth);
		xfer_reset(x, c, m);
		x->retried = true;
		if (authenticate(r, ch, e) < 0 || xfer_start(r, c, x, m, e) < 0)
			return -1;
		return 1;
	}
	if (x->oversize)
		return kerr_set(e, 0, "%s: larger than its descriptor's %llu bytes", what,
		                (unsigned long long)x->d->size);
	if (x->werr)
		return kerr_set(e, x->werr, "%s: can't write to %s/tmp", what, c->path);
	if (rc != CURLE_OK)
		return curl_fail(r, rc, x->errbuf, what, e);
	if (status != 200)
		return http_status_fail(r, status, what, e);
	if (x->got != x->d->size)
		return kerr_set(e, 0, "%s: truncated: %llu of %llu bytes", what,
		                (unsigned long long)x->got, (unsigned long long)x->d->size);
	char got[DIGEST_STR_LEN];
	digest_final(&x->dg, got);
	if (strcmp(got, x->d->digest) != 0)
		return kerr_set(e, 0, "%s: content doesn't match its digest (got %s)", what, got);
	if (cache_tmp_commit_blob(c, &x->tmp, x->d->digest, e) < 0)
		return -1;
	if (isatty(STDERR_FILENO) && klog_enabled(KLOG_INFO))
		(void)!write(STDERR_FILENO, "\r\033[K", 4);
	klog(KLOG_INFO, "fetched %.19s (%.1f MiB)", x->d->digest, mib(x->d->size));
	return 0;
}

/* On a terminal: one status line, rewritten, with bytes per blob and in
 * total (elsewhere the "fetched" line per blob is the progress). */
static void progress_show(struct xfer **list, size_t n, bool final)
{
	if (!isatty(STDERR_FILENO) || !klog_enabled(KLOG_INFO))
		return;
	char line[512];
	uint64_t got = 0, all = 0;
	for (size_t i = 0; i < n; i++) {
		got += list[i]->h || list[i]->lock_fd < 0 ? list[i]->got : 0;
		all += list[i]->d->size;
	}
	int used = snprintf(line, sizeof line, "\r\033[Kkrill: %.1f/%.1f MiB", mib(got), mib(all));
	for (size_t i = 0; i < n && used < (int)sizeof line - 40; i++)
		if (list[i]->h)
			used += snprintf(line + used, sizeof line - used, "  %.12s %3.0f%%", list[i]->d->digest + 7,
			                 list[i]->d->size ? 100.0 * list[i]->got / list[i]->d->size : 100.0);
	if (final)
		used += snprintf(line + used, sizeof line - used, "\r\033[K");
	if (used > (int)sizeof line - 1)
		used = sizeof line - 1;
	(void)!write(STDERR_FILENO, line, used);
}

/* Download the blobs of list[0..n) (each locked by us) concurrently. */
static int fetch_locked(struct registry *r, const struct cache *c, struct xfer **list, size_t n,
                        struct kerr *e)
{
	CURLM *m = curl_multi_init();
	if (!m)
		return kerr_set(e, 0, "can't initialize libcurl");
	size_t next = 0, active = 0;
	int rc = 0;
	while (rc == 0 && (next < n || active)) {
		while (rc == 0 && next < n && active < (size_t)r->o.parallel) {
			if (xfer_start(r, c, list[next], m, e) < 0)
				rc = -1;
			next++;
			active++;
		}
		if (rc < 0)
			break;
		int running;
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			rc = kerr_set(e, 0, "%s: download failed", r->where);
			break;
		}
		CURLMsg *msg;
		int left;
		while (rc == 0 && (msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct xfer *x;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			int d = xfer_done(r, c, x, m, msg->data.result, e);
			if (d < 0)
				rc = -1;
			else if (d == 0) {
				curl_multi_remove_handle(m, x->h);
				curl_easy_cleanup(x->h);
				x->h = NULL;
				close(x->lock_fd); /* the blob is in: let waiters see it */
				x->lock_fd = -1;
				active--;
			}
		}
		if (rc == 0 && r->o.cancel && *r->o.cancel)
			rc = kerr_set(e, EINTR, "%s", r->where);
		if (rc == 0 && active) {
			curl_multi_poll(m, NULL, 0, 200, NULL);
			progress_show(list, n, false);
		}
	}
	progress_show(list, n, true);
	for (size_t i = 0; i < n; i++)
		if (list[i]->h) {
			curl_multi_remove_handle(m, list[i]->h);
			curl_easy_cleanup(list[i]->h);
			list[i]->h = NULL;
		}
	curl_multi_cleanup(m);
	return rc;
}

int registry_fetch_blobs(struct registry *r, const struct cache *c, const struct descriptor *d,
                         size_t n, size_t *fetched, struct kerr *e)
{
	*fetched = 0;
	struct xfer **mine = xcalloc(n + 1, sizeof *mine);
	size_t nmine = 0;
	const struct descriptor **wait = xcalloc(n + 1, sizeof *wait);
	size_t nwait = 0;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup = dup || strcmp(d[j].digest, d[i].digest) == 0;
		if (dup || cache_blob_has(c, d[i].digest))
			continue;
		char lock[96];
		snprintf(lock, sizeof lock, "blob-%s", d[i].digest + 7);
		int fd;
		if (cache_lock(c, lock, false, &fd, e) < 0) {
			rc = -1;
			break;
		}
		if (fd < 0) { /* another import is fetching it */
			wait[nwait++] = &d[i];
			continue;
		}
		if (cache_blob_has(c, d[i].digest)) {
			close(fd);
			continue;
		}
		struct xfer *x = xcalloc(1, sizeof *x);
		x->r = r;
		x->d = &d[i];
		x->lock_fd = fd;
		x->tmp.fd = -1;
		mine[nmine++] = x;
	}
	if (rc == 0 && nmine) {
		rc = fetch_locked(r, c, mine, nmine, e);
		if (rc == 0)
			*fetched += nmine;
	}
	for (size_t i = 0; i < nmine; i++)
		xfer_free(mine[i], c);
	/* Blobs another process was fetching: wait for its lock, then fetch
	 * what it didn't manage to (it may have failed or been killed). */
	for (size_t i = 0; rc == 0 && i < nwait; i++) {
		char lock[96];
		snprintf(lock, sizeof lock, "blob-%s", wait[i]->digest + 7);
		int fd;
		klog(KLOG_VERBOSE, "waiting for another import fetching %.19s", wait[i]->digest);
		if (cache_lock(c, lock, true, &fd, e) < 0) {
			rc = -1;
			break;
		}
		if (cache_blob_has(c, wait[i]->digest)) {
			close(fd);
			continue;
		}
		struct xfer *x = xcalloc(1, sizeof *x);
		x->r = r;
		x->d = wait[i];
		x->lock_fd = fd;
		x->tmp.fd = -1;
		rc = fetch_locked(r, c, &x, 1, e);
		if (rc == 0)
			(*fetched)++;
		xfer_free(x, c);
	}
	free(mine);
	free(wait);
	return rc;
}
