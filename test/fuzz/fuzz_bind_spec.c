/* fuzz_bind_spec.c: libFuzzer harness for the --bind parser
 * (lib/bind_spec.c) and for the --join count parsers (lib/join_params.c):
 * a parse either fails with a message or gives a normalized absolute
 * destination; counts are within their range. */
#include "bind_spec.h"
#include "join_params.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	for (int opt = 0; opt < 2; opt++) {
		struct bind b;
		struct kerr e = {0};
		if (bind_spec_parse(s, opt, &b, &e) == 0) {
			if (b.dst[0] != '/' || strcmp(b.dst, "/") == 0 || strstr(b.dst, "//") ||
			    strstr(b.dst, "/./") || strstr(b.dst, "/../") || b.src[0] != '/')
				abort();
			free(b.src);
			free(b.dst);
		} else if (!e.msg[0]) {
			abort();
		}
	}
	unsigned long n = 0;
	struct kerr e = {0};
	if (join_slurm_tasks(s, size % 7, &n, &e) == 0 && (n == 0 || n > 65536))
		abort();
	if (join_parse_count("X", s, 1, 65536, &n, &e) == 0 && (n < 1 || n > 65536))
		abort();
	free(s);
	return 0;
}
