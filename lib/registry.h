/* registry.h: a client of the Registry HTTP API v2 / OCI distribution
 * spec, over libcurl: manifests by tag or digest, blobs into the cache.
 *
 * Auth: the bearer-token flow from WWW-Authenticate (anonymous, or with
 * basic credentials), or plain basic auth.  Credentials come from --creds,
 * else from $XDG_RUNTIME_DIR/containers/auth.json or ~/.docker/config.json
 * (what `podman login` and `docker login` write).  No secret is ever
 * logged or put in an error.
 * Integrity: a manifest fetched by digest, and every blob, is hashed while
 * it streams; a mismatch is an error naming the digest, and the bytes
 * never enter the cache. */
#ifndef KRILL_REGISTRY_H
#define KRILL_REGISTRY_H

#include "cache.h"
#include "err.h"
#include "imgref.h"
#include "manifest.h"

#include <signal.h>
#include <stdbool.h>

struct registry_opts {
	const char *creds;   /* "USER:PASS", or NULL */
	const char *tls_ca;  /* a CA bundle file, or NULL for the system's */
	bool plain_http;     /* [import] insecure-registries listed this registry */
	int parallel;        /* concurrent blob downloads, 1..16 */
	long timeout;        /* seconds without progress before giving up */
	volatile sig_atomic_t *cancel;
};

struct registry;

int registry_open(struct registry **r, const struct imgref *ref, const struct registry_opts *o,
                  struct kerr *e);
void registry_close(struct registry *r);

/* GET the manifest (or index) named by reference (a tag or a digest).
 * *digest is the sha256 of the bytes received; when reference is a digest
 * it must match. */
int registry_get_manifest(struct registry *r, const char *reference, char **buf, size_t *len,
                          char **content_type, char digest[72], struct kerr *e);

/* Make each blob present in the cache: fetched concurrently, verified,
 * each fetched by one process only when several import at once.
 * *fetched counts the blobs this call downloaded. */
int registry_fetch_blobs(struct registry *r, const struct cache *c, const struct descriptor *d,
                         size_t n, size_t *fetched, struct kerr *e);

/* The basic credentials for registry host in the login files, as the
 * base64 "auth" value; NULL when none.  Exposed for the tests. */
char *registry_login_lookup(const char *host);

#endif
