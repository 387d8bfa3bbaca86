/* fuzz_cdi.c: libFuzzer harness for the CDI spec parser (lib/cdi_spec.c).
 *
 * Each input is parsed as a JSON and as a YAML spec.  Every error must
 * name the file; every accepted spec must hold what the parser promises:
 * a valid kind, at least one device with a valid name, absolute paths. */
#include "cdi_spec.h"

#include <stdint.h>
#include <string.h>

static void check_edits(const struct cdi_edits *ed)
{
	for (size_t i = 0; i < ed->nnodes; i++)
		if (ed->nodes[i].path[0] != '/' || (ed->nodes[i].host_path &&
		                                    ed->nodes[i].host_path[0] != '/') ||
		    ed->nodes[i].major > 4095 || ed->nodes[i].minor > 1048575)
			__builtin_trap();
	for (size_t i = 0; i < ed->nmounts; i++)
		if (ed->mounts[i].host_path[0] != '/' || ed->mounts[i].container_path[0] != '/' ||
		    strstr(ed->mounts[i].container_path, "/../"))
			__builtin_trap();
	for (size_t i = 0; i < ed->nhooks; i++)
		if (ed->hooks[i].path[0] != '/' || !ed->hooks[i].name)
			__builtin_trap();
	for (size_t i = 0; i < ed->env.n; i++)
		if (!strchr(ed->env.v[i], '='))
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"fuzz.json", "fuzz.yaml"};
	for (int i = 0; i < 2; i++) {
		struct cdi_spec s;
		struct kerr e;
		if (cdi_spec_parse((const char *)data, size, names[i], &s, &e) < 0) {
			if (strncmp(e.msg, names[i], strlen(names[i])) != 0)
				__builtin_trap(); /* every error names the file */
			continue;
		}
		const char *why;
		if (cdi_kind_check(s.kind, &why) < 0 || s.ndevices == 0)
			__builtin_trap();
		check_edits(&s.edits);
		for (size_t k = 0; k < s.ndevices; k++) {
			if (cdi_device_name_check(s.devices[k].name, &why) < 0)
				__builtin_trap();
			check_edits(&s.devices[k].edits);
		}
		cdi_spec_free(&s);
	}
	return 0;
}
