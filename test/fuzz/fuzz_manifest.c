/* fuzz_manifest.c: libFuzzer harness for the image JSON parsers
 * (lib/manifest.c): manifest kind, image manifest, index with platform
 * selection, image config, docker-archive manifest.json. */
#include "manifest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_digest(const char *d)
{
	if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct kerr e = {0};
	enum manifest_kind kind;
	(void)manifest_kind(size > 0 && data[0] == 'o' ? MT_OCI_INDEX : NULL, buf, size, &kind, &e);

	struct manifest m;
	if (manifest_parse(buf, size, "fuzz", &m, &e) == 0) {
		check_digest(m.config.digest);
		for (size_t i = 0; i < m.nlayers; i++)
			check_digest(m.layers[i].digest);
		manifest_free(&m);
	}
	struct image_index ix;
	if (index_parse(buf, size, "fuzz", &ix, &e) == 0) {
		int i = index_select(&ix, "linux", "amd64", NULL, "fuzz", &e);
		if (i >= (int)ix.n)
			abort();
		(void)index_select(&ix, "linux", "arm64", "v8", "fuzz", &e);
		for (size_t j = 0; j < ix.n; j++)
			check_digest(ix.manifests[j].digest);
		index_free(&ix);
	}
	struct image_config c;
	if (image_config_parse(buf, size, "fuzz", &c, &e) == 0) {
		for (size_t i = 0; i < c.env.n; i++)
			if (!strchr(c.env.v[i], '='))
				abort();
		if (c.workdir && c.workdir[0] != '/')
			abort();
		image_config_free(&c);
	}
	struct docker_archive_manifest dm;
	if (docker_archive_manifest_parse(buf, size, "fuzz", &dm, &e) == 0) {
		if (dm.config[0] == '/' || strstr(dm.config, ".."  "/") == dm.config)
			abort();
		docker_archive_manifest_free(&dm);
	}
	return 0;
}
