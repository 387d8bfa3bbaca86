/* digest.h: streaming sha256 (OpenSSL's libcrypto), for checking every
 * blob and manifest against the digest that names it. */
#ifndef KRILL_DIGEST_H
#define KRILL_DIGEST_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>

struct digest {
	void *ctx; /* EVP_MD_CTX */
};

#define DIGEST_STR_LEN 72 /* "sha256:" + 64 hex + NUL, rounded */

void digest_init(struct digest *d);
void digest_update(struct digest *d, const void *buf, size_t len);
/* Write "sha256:HEX" into out and free the context. */
void digest_final(struct digest *d, char out[DIGEST_STR_LEN]);
void digest_free(struct digest *d);

/* sha256 of a buffer, as "sha256:HEX". */
void digest_buf(const void *buf, size_t len, char out[DIGEST_STR_LEN]);

/* sha256 of an fd's contents from its current offset to EOF. */
int digest_fd(int fd, const char *what, char out[DIGEST_STR_LEN], struct kerr *e);

#endif
