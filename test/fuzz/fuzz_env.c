/* fuzz_env.c: libFuzzer harness for the --set-env parser (lib/env.c):
 * arbitrary bytes as a newline- and as a NUL-separated file, with and
 * without expansion, and as one --set-env=ARG assignment. */
#include "env.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char *const cur_env[] = {"PATH=/usr/bin:/bin", "EMPTY=", "HOME=/h", "A=a:b", NULL};

static void check(const struct strv *out)
{
	for (size_t i = 0; i < out->n; i++) {
		const char *eq = strchr(out->v[i], '=');
		if (!eq || eq == out->v[i])
			abort();
	}
	if (out->v && out->v[out->n])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	for (int i = 0; i < 4; i++) {
		struct strv out = {0};
		struct kerr e = {0};
		int r = env_parse(buf, size, i & 1 ? '\0' : '\n', "fuzz", cur_env, i & 2, &out, &e);
		if (r < 0 && out.n)
			abort();
		check(&out);
		strv_free(&out);
	}
	char *arg = malloc(size + 1);
	memcpy(arg, data, size);
	arg[size] = '\0';
	struct strv out = {0};
	struct kerr e = {0};
	if (env_parse_assignment(arg, cur_env, true, &out, &e) == 0 && out.n != 1)
		abort();
	check(&out);
	strv_free(&out);
	free(arg);
	return 0;
}
