/* fuzz_passwd.c: libFuzzer harness for passwd_merge (lib/passwd.c), which
 * reads an image's /etc/passwd and /etc/group: any bytes.  The result is a
 * string of newline-terminated lines without NUL; every line is one of the
 * image's or one of ours; the caller's own entry is there exactly once. */
#include "passwd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char ours[] = "root:x:0:0:root:/root:/bin/sh\n"
                           "me:x:1000:1000::/home/me:/bin/sh\n"
                           "nobody:x:65534:65534:nobody:/:/bin/false\n";

static int is_line_of(const char *line, size_t n, const char *text, size_t len)
{
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', end - p);
		size_t m = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (m == n && memcmp(p, line, n) == 0)
			return 1;
		p += m + 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *img = malloc(size ? size : 1);
	memcpy(img, data, size);
	char *out = passwd_merge(img, size, ours);
	size_t len = strlen(out);
	if (len && out[len - 1] != '\n')
		abort();
	int mine = 0;
	for (const char *p = out; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl - p;
		if (n == 0 || !(is_line_of(p, n, img, size) || is_line_of(p, n, ours, sizeof ours - 1)))
			abort();
		if (n == 32 && memcmp(p, "me:x:1000:1000::/home/me:/bin/sh", 32) == 0)
			mine++;
		p = nl + 1;
	}
	if (mine != 1)
		abort();
	free(out);
	free(img);
	return 0;
}
