/* fuzz_config.c: libFuzzer harness for config_parse (lib/config.c).
 *
 * Each input is parsed twice onto one config, as a site and a user file
 * would be, to exercise the merge (list replacement) paths too, then
 * applied to a container. */
#include "config.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct krill_config cfg;
	struct kerr e;
	config_init(&cfg);
	cfg.user = xstrdup("fuzz");
	for (int i = 0; i < 2; i++) {
		if (config_parse((const char *)data, size, "fuzz.conf", &cfg, &e) < 0) {
			if (strncmp(e.msg, "fuzz.conf:", 10) != 0)
				__builtin_trap(); /* every parse error names the file and line */
			break;
		}
	}
	struct container c;
	container_init(&c);
	config_apply(&cfg, &c);
	container_free(&c);
	config_free(&cfg);
	return 0;
}
