/* digest.c: sha256 through libcrypto's EVP interface (see digest.h). */
#include "digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void digest_init(struct digest *d)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		abort(); /* only on memory exhaustion, as xmalloc */
	d->ctx = ctx;
}

void digest_update(struct digest *d, const void *buf, size_t len)
{
	if (len && !EVP_DigestUpdate(d->ctx, buf, len))
		abort();
}

void digest_final(struct digest *d, char out[DIGEST_STR_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (!EVP_DigestFinal_ex(d->ctx, md, &n))
		abort();
	digest_free(d);
	int used = snprintf(out, DIGEST_STR_LEN, "sha256:");
	for (unsigned i = 0; i < n; i++)
		used += snprintf(out + used, DIGEST_STR_LEN - used, "%02x", md[i]);
}

void digest_free(struct digest *d)
{
	EVP_MD_CTX_free(d->ctx);
	d->ctx = NULL;
}

void digest_buf(const void *buf, size_t len, char out[DIGEST_STR_LEN])
{
	struct digest d;
	digest_init(&d);
	digest_update(&d, buf, len);
	digest_final(&d, out);
}

int digest_fd(int fd, const char *what, char out[DIGEST_STR_LEN], struct kerr *e)
{
	struct digest d;
	digest_init(&d);
	char buf[1 << 16];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			digest_free(&d);
			return kerr_set(e, err, "can't read %s", what);
		}
		if (n == 0)
			break;
		digest_update(&d, buf, n);
	}
	digest_final(&d, out);
	return 0;
}
