/* test_import.c: unit tests of the import parsers: references and their
 * normalization (lib/imgref.c), manifests, indexes and configs
 * (lib/manifest.c), layer entry names (lib/layer.c) and the environment
 * file (lib/import_meta.c). */
#include "imgref.h"
#include "import_meta.h"
#include "layer.h"
#include "manifest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void ref_is(const char *in, const char *reg, const char *repo, const char *tag,
                   const char *digest, const char *name)
{
	struct imgsrc s;
	struct kerr e = {0};
	if (imgsrc_parse(in, &s, &e) < 0)
		fail_msg("%s: %s", in, e.msg);
	assert_string_equal(s.reg.registry, reg);
	assert_string_equal(s.reg.repo, repo);
	if (tag)
		assert_string_equal(s.reg.tag, tag);
	else
		assert_null(s.reg.tag);
	if (digest)
		assert_string_equal(s.reg.digest, digest);
	else
		assert_null(s.reg.digest);
	char *n = imgsrc_default_name(&s);
	assert_string_equal(n, name);
	free(n);
	imgsrc_free(&s);
}

static void test_refs(void **state)
{
	ref_is("docker://debian", "docker.io", "library/debian", "latest", NULL, "debian+latest");
	ref_is("docker://debian:bookworm", "docker.io", "library/debian", "bookworm", NULL, "debian+bookworm");
	ref_is("docker://index.docker.io/hpc/lammps:2024", "docker.io", "hpc/lammps", "2024", NULL, "hpc+lammps+2024");
	ref_is("docker://127.0.0.1:15000/test/tiny:1", "127.0.0.1:15000", "test/tiny", "1", NULL, "test+tiny+1");
	ref_is("docker://localhost/x", "localhost", "x", "latest", NULL, "x+latest");
	ref_is("docker://ghcr.io/a/b@sha256:" D64, "ghcr.io", "a/b", NULL, "sha256:" D64, "a+b+sha256+" D64);
	struct imgsrc s;
	assert_string_equal(imgref_endpoint(&(struct imgref){.registry = "docker.io"}), "registry-1.docker.io");
	static const char *const bad[][2] = {
		{"docker://Debian", "invalid name component 'Debian'"},
		{"docker://x/UPPER", "UPPER"},
		{"docker://x:", "invalid tag"},
		{"docker://x@sha256:abc", "invalid digest"},
		{"docker://x/a..b", "invalid name component"},
		{"docker://a..b/c", "invalid registry"},
		{"docker://host:99999/x", "invalid registry"},
		{"docker://", "missing image name"},
		{"foo:bar", "unknown image source"},
		{"podman://-rm", "invalid image name"},
		{"oci:", "missing path"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct kerr e = {0};
		if (imgsrc_parse(bad[i][0], &s, &e) == 0)
			fail_msg("%s parsed", bad[i][0]);
		if (!strstr(e.msg, bad[i][1]))
			fail_msg("%s: %s", bad[i][0], e.msg);
	}
	struct kerr e = {0};
	assert_int_equal(imgsrc_parse("oci:/a/b:v1", &s, &e), 0);
	assert_string_equal(s.path, "/a/b");
	assert_string_equal(s.ref, "v1");
	imgsrc_free(&s);
	assert_int_equal(imgsrc_parse("oci:./x:y/z", &s, &e), 0);
	assert_string_equal(s.path, "./x:y/z");
	assert_null(s.ref);
	imgsrc_free(&s);
	assert_int_equal(imgsrc_parse("tar:/srv/root.tar.gz", &s, &e), 0);
	char *n = imgsrc_default_name(&s);
	assert_string_equal(n, "root");
	free(n);
	imgsrc_free(&s);
}

static void test_manifest(void **state)
{
	const char *m = "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
	                "\"config\":{\"digest\":\"sha256:" D64 "\",\"size\":10},"
	                "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\","
	                "\"digest\":\"sha256:" D64 "\",\"size\":5}]}";
	struct manifest man;
	struct kerr e = {0};
	assert_int_equal(manifest_parse(m, strlen(m), "m", &man, &e), 0);
	assert_int_equal(man.nlayers, 1);
	assert_int_equal(man.layers[0].comp, LAYER_ZSTD);
	manifest_free(&man);
	enum manifest_kind k;
	assert_int_equal(manifest_kind(NULL, m, strlen(m), &k, &e), 0);
	assert_int_equal(k, MANIFEST_IMAGE);
	const char *s1 = "{\"schemaVersion\":1}";
	assert_int_equal(manifest_kind(NULL, s1, strlen(s1), &k, &e), -1);
	assert_string_equal(e.msg, "manifest: Docker schema 1 manifests are not supported");
	const char *badl = "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:" D64 "\",\"size\":1},"
	                   "\"layers\":[{\"mediaType\":\"x/y\",\"digest\":\"sha256:" D64 "\",\"size\":1}]}";
	assert_int_equal(manifest_parse(badl, strlen(badl), "m", &man, &e), -1);
	assert_string_equal(e.msg, "m: layers[0].mediaType: unsupported layer type 'x/y'");
	const char *bigc = "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:" D64 "\",\"size\":99999999},\"layers\":[]}";
	assert_int_equal(manifest_parse(bigc, strlen(bigc), "m", &man, &e), -1);
	assert_string_equal(e.msg, "m: config.size: too large for an image config");
}

static void test_index(void **state)
{
	const char *ix = "{\"schemaVersion\":2,\"manifests\":["
	                 "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"sha256:" D64 "\",\"size\":1,"
	                 "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
	                 "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"sha256:" D64 "\",\"size\":1,"
	                 "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
	                 "{\"mediaType\":\"application/vnd.in-toto+json\",\"digest\":\"sha256:" D64 "\",\"size\":1},"
	                 "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"sha256:" D64 "\",\"size\":1,"
	                 "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
	struct image_index x;
	struct kerr e = {0};
	assert_int_equal(index_parse(ix, strlen(ix), "i", &x, &e), 0);
	assert_int_equal(x.n, 3);
	assert_int_equal(index_select(&x, "linux", "amd64", NULL, "i", &e), 2);
	assert_int_equal(index_select(&x, "linux", "arm", NULL, "i", &e), 1);
	assert_int_equal(index_select(&x, "linux", "arm", "v6", "i", &e), 0);
	assert_int_equal(index_select(&x, "linux", "riscv64", NULL, "i", &e), -1);
	assert_string_equal(e.msg, "i: no image for linux/riscv64");
	assert_string_equal(e.hint, "the index has: linux/arm/v6, linux/arm/v7, linux/amd64; pick one with --arch and --variant");
	index_free(&x);
}

static void test_config(void **state)
{
	const char *c = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\",\"B=x y\"],"
	                "\"Entrypoint\":[\"/e\"],\"Cmd\":null,\"WorkingDir\":\"/w\",\"User\":\"1:2\"},"
	                "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" D64 "\"]}}";
	struct image_config cfg;
	struct kerr e = {0};
	assert_int_equal(image_config_parse(c, strlen(c), "c", &cfg, &e), 0);
	assert_int_equal(cfg.env.n, 2);
	assert_string_equal(cfg.entrypoint.v[0], "/e");
	assert_int_equal(cfg.cmd.n, 0);
	assert_string_equal(cfg.workdir, "/w");
	assert_int_equal(cfg.diff_ids.n, 1);
	image_config_free(&cfg);
	const char *rel = "{\"config\":{\"WorkingDir\":\"w\"}}";
	assert_int_equal(image_config_parse(rel, strlen(rel), "c", &cfg, &e), -1);
	assert_string_equal(e.msg, "c: config.WorkingDir: not an absolute path");
	const char *env = "{\"config\":{\"Env\":[\"NOEQUALS\"]}}";
	assert_int_equal(image_config_parse(env, strlen(env), "c", &cfg, &e), -1);
	assert_string_equal(e.msg, "c: Env[0]: 'NOEQUALS' is not VAR=VALUE");
}

static void path_is(const char *in, bool wh, int rc, enum layer_path_kind kind, const char *out)
{
	char buf[LAYER_MAX_PATH];
	enum layer_path_kind k = LAYER_PATH_NORMAL;
	const char *why = NULL;
	int r = layer_path_clean(in, wh, buf, sizeof buf, &k, &why);
	if (r != rc)
		fail_msg("%s: rc %d (%s)", in, r, why ? why : "");
	if (rc == 0) {
		assert_int_equal(k, kind);
		assert_string_equal(buf, out);
	} else {
		assert_string_equal(why, out);
	}
}

static void test_layer_paths(void **state)
{
	path_is("./etc/passwd", true, 0, LAYER_PATH_NORMAL, "etc/passwd");
	path_is("usr//bin/./x/", true, 0, LAYER_PATH_NORMAL, "usr/bin/x");
	path_is("./", true, 0, LAYER_PATH_ROOT, "");
	path_is("etc/.wh.deleted", true, 0, LAYER_PATH_WHITEOUT, "etc/deleted");
	path_is(".wh.top", true, 0, LAYER_PATH_WHITEOUT, "top");
	path_is("etc/.wh.deleted", false, 0, LAYER_PATH_NORMAL, "etc/.wh.deleted");
	path_is("opq/.wh..wh..opq", true, 0, LAYER_PATH_OPAQUE, "opq");
	path_is(".wh..wh..opq", true, 0, LAYER_PATH_OPAQUE, "");
	path_is(".wh..wh.plnk/1", true, 0, LAYER_PATH_NORMAL, ".wh..wh.plnk/1");
	path_is("x/.wh..wh.aufs", true, 0, LAYER_PATH_IGNORED, "x/.wh..wh.aufs");
	path_is("../../etc/x", true, -1, 0, "'..' in the name");
	path_is("a/../b", true, -1, 0, "'..' in the name");
	path_is("/etc/x", true, -1, 0, "absolute name");
	path_is("a/.wh..", true, -1, 0, "whiteout without a name");
	path_is("", true, -1, 0, "empty name");
}

static void test_environment(void **state)
{
	struct strv env = {0};
	strv_push(&env, "PATH=/usr/bin:$HOME");
	strv_push(&env, "Q=it's");
	strv_push(&env, "1BAD=x");
	strv_push(&env, "NL=a\nb");
	strv_push(&env, "E=");
	size_t skipped;
	char *t = import_meta_environment(&env, &skipped);
	assert_string_equal(t, "PATH='/usr/bin:$HOME'\nQ='it's'\nE=''\n");
	assert_int_equal(skipped, 2);
	free(t);
	strv_free(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refs),        cmocka_unit_test(test_manifest),
	    cmocka_unit_test(test_index),       cmocka_unit_test(test_config),
	    cmocka_unit_test(test_layer_paths), cmocka_unit_test(test_environment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
