/* fuzz_oci_config.c: libFuzzer harness for the config.json parser
 * (lib/oci_config.c), and for `exec --process` objects. */
#include "oci_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void unknown(const char *path, void *arg)
{
	(void)arg;
	if (!path)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_spec s;
	struct kerr e = {0};
	if (oci_config_parse((const char *)data, size, "config.json", "/b", unknown, NULL, &s, &e) ==
	    0) {
		/* What the runtime relies on after a successful parse. */
		if (!s.c.argv || !s.c.argv[0] || !s.c.image || s.c.image[0] != '/' || !s.c.cwd ||
		    s.c.cwd[0] != '/' || !((s.ns_new | s.ns_join) & 0x00020000 /* CLONE_NEWNS */))
			abort();
		for (size_t i = 0; i < s.nmounts; i++)
			if (!s.mounts[i].dst || s.mounts[i].dst[0] != '/' || !s.mounts[i].src)
				abort();
		if (oci_process_parse((const char *)data, size, "process.json", &s, &e) == 0 &&
		    (!s.c.argv || !s.c.argv[0]))
			abort();
		oci_spec_free(&s);
	} else if (!e.msg[0]) {
		abort();
	}
	return 0;
}
