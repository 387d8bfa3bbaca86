/* fuzz_imgref.c: libFuzzer harness for SOURCE and registry reference
 * parsing (lib/imgref.c): whatever parses must give a repository, tag and
 * default file name that are safe in a URL path and a file name. */
#include "imgref.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void safe_name(const char *s)
{
	if (!*s || s[0] == '.' || strchr(s, '/'))
		abort();
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-", *s))
			abort();
}

static void url_safe(const char *s)
{
	for (; s && *s; s++)
		if (*s <= ' ' || *s >= 0x7f || strchr("?#%\\\"'<>", *s))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	struct kerr e = {0};
	struct imgsrc src;
	if (imgsrc_parse(s, &src, &e) == 0) {
		if (src.kind == IMGSRC_DOCKER) {
			url_safe(src.reg.registry);
			url_safe(src.reg.repo);
			url_safe(src.reg.tag);
			if (strstr(src.reg.repo, "..") || src.reg.repo[0] == '/')
				abort();
			if (src.reg.digest && !digest_is_valid(src.reg.digest))
				abort();
		}
		char *n = imgsrc_default_name(&src);
		safe_name(n);
		free(n);
		imgsrc_free(&src);
	}
	struct imgref r;
	if (imgref_parse(s, &r, &e) == 0) {
		url_safe(r.repo);
		url_safe(r.tag);
		if (!r.tag && !r.digest)
			abort();
		imgref_free(&r);
	}
	free(s);
	return 0;
}
