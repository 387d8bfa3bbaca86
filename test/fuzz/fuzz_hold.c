/* fuzz_hold.c: libFuzzer harness for the --hold-fd report parser
 * (lib/hold.c) that the SPANK plugin runs over what krill sends it. */
#include "hold.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	long pid;
	const char *cwd;
	char **env;
	struct kerr e = {0};
	if (hold_report_parse(buf, size, &pid, &cwd, &env, &e) == 0) {
		if (pid <= 1 || cwd[0] != '/')
			abort();
		for (char **v = env; *v; v++)
			if (!strchr(*v, '=') || **v == '=' || *v < buf || *v >= buf + size)
				abort();
		free(env);
	} else if (env || !e.msg[0]) {
		abort();
	}
	free(buf);
	return 0;
}
