/* fuzz_layer_path.c: libFuzzer harness for layer entry names
 * (layer_path_clean in lib/layer.c) and /.krill/environment writing
 * (lib/import_meta.c): a cleaned name never climbs out or starts with
 * '/', and the environment text always reads back literally. */
#include "env.h"
#include "import_meta.h"
#include "layer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_clean(const char *p)
{
	if (p[0] == '/' || strstr(p, "//"))
		abort();
	for (const char *c = p; *c;) {
		const char *end = strchrnul(c, '/');
		if ((end - c == 2 && c[0] == '.' && c[1] == '.') || (end - c == 1 && c[0] == '.') || end == c)
			abort();
		c = *end ? end + 1 : end;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	for (int wh = 0; wh < 2; wh++) {
		char out[LAYER_MAX_PATH];
		enum layer_path_kind kind;
		const char *why;
		if (layer_path_clean(s, wh, out, sizeof out, &kind, &why) == 0) {
			check_clean(out);
			if (kind == LAYER_PATH_ROOT && out[0])
				abort();
			if (kind == LAYER_PATH_WHITEOUT && (!out[0] || !strcmp(strrchr(out, '/') ? strrchr(out, '/') + 1 : out, "..")))
				abort();
		}
	}
	/* One Env entry: what import_meta writes, env_parse reads back as is. */
	struct strv env = {0};
	if (memchr(data, '\0', size) == NULL)
		strv_push(&env, s);
	size_t skipped;
	char *text = import_meta_environment(&env, &skipped);
	struct strv got = {0};
	struct kerr e = {0};
	if (env.n && !skipped) {
		char *const none[] = {NULL};
		if (env_parse(text, strlen(text), '\n', "fuzz", none, true, &got, &e) < 0 || got.n != 1 ||
		    strcmp(got.v[0], s) != 0)
			abort();
	}
	strv_free(&got);
	free(text);
	strv_free(&env);
	free(s);
	return 0;
}
