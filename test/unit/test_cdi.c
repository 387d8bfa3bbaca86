/* test_cdi.c: unit tests of lib/cdi_spec.c: a spec in JSON and YAML gives
 * the same structs, and each bad input gives its exact error line. */
#include "cdi_spec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static const char yaml_spec[] =
	"cdiVersion: 0.7.0\n"
	"kind: krill.test/gpu\n"
	"devices:\n"
	"  - name: gpu0\n"
	"    containerEdits:\n"
	"      deviceNodes:\n"
	"        - {path: /dev/kgpu0, hostPath: /dev/zero, type: c, major: 1, minor: 5,\n"
	"           fileMode: 438, permissions: rw, uid: 7, gid: 8}\n"
	"containerEdits:\n"
	"  env: [A=1]\n"
	"  mounts:\n"
	"    - hostPath: /usr/lib/x\n"
	"      containerPath: /opt/x\n"
	"      options: [ro, nosuid, bind]\n"
	"  hooks:\n"
	"    - hookName: createContainer\n"
	"      path: /bin/sh\n"
	"      args: [sh, -c, 'true']\n"
	"      timeout: 5\n"
	"  additionalGids: [0, 44]\n";

static const char json_spec[] =
	"{\"cdiVersion\": \"0.7.0\", \"kind\": \"krill.test/gpu\",\n"
	" \"devices\": [{\"name\": \"gpu0\", \"containerEdits\": {\"deviceNodes\": [\n"
	"   {\"path\": \"/dev/kgpu0\", \"hostPath\": \"/dev/zero\", \"type\": \"c\", \"major\": 1,\n"
	"    \"minor\": 5, \"fileMode\": 438, \"permissions\": \"rw\", \"uid\": 7, \"gid\": 8}]}}],\n"
	" \"containerEdits\": {\"env\": [\"A=1\"],\n"
	"   \"mounts\": [{\"hostPath\": \"/usr/lib/x\", \"containerPath\": \"/opt/x\",\n"
	"                \"options\": [\"ro\", \"nosuid\", \"bind\"]}],\n"
	"   \"hooks\": [{\"hookName\": \"createContainer\", \"path\": \"/bin/sh\",\n"
	"               \"args\": [\"sh\", \"-c\", \"true\"], \"timeout\": 5}],\n"
	"   \"additionalGids\": [0, 44]}}\n";

static void check_spec(const struct cdi_spec *s)
{
	assert_string_equal(s->kind, "krill.test/gpu");
	assert_int_equal(s->ndevices, 1);
	const struct cdi_node *n = &s->devices[0].edits.nodes[0];
	assert_string_equal(n->path, "/dev/kgpu0");
	assert_string_equal(n->host_path, "/dev/zero");
	assert_int_equal(n->type, 'c');
	assert_true(n->has_major && n->has_minor && n->has_mode && n->has_uid && n->has_gid);
	assert_int_equal(n->major, 1);
	assert_int_equal(n->minor, 5);
	assert_int_equal(n->mode, 0666);
	assert_string_equal(n->permissions, "rw");
	assert_int_equal(n->uid, 7);
	assert_int_equal(n->gid, 8);
	assert_int_equal(s->edits.env.n, 1);
	assert_string_equal(s->edits.env.v[0], "A=1");
	assert_int_equal(s->edits.nmounts, 1);
	assert_string_equal(s->edits.mounts[0].container_path, "/opt/x");
	assert_int_equal(s->edits.mounts[0].options.n, 3);
	assert_int_equal(s->edits.nhooks, 1);
	assert_string_equal(s->edits.hooks[0].args.v[2], "true");
	assert_int_equal(s->edits.hooks[0].timeout, 5);
	assert_int_equal(s->edits.ngids, 1); /* 0 is dropped */
	assert_int_equal(s->edits.gids[0], 44);
}

static void test_json_and_yaml_agree(void **state)
{
	(void)state;
	struct cdi_spec s;
	struct kerr e = {0};
	assert_int_equal(cdi_spec_parse(yaml_spec, strlen(yaml_spec), "t.yaml", &s, &e), 0);
	check_spec(&s);
	cdi_spec_free(&s);
	assert_int_equal(cdi_spec_parse(json_spec, strlen(json_spec), "t.json", &s, &e), 0);
	check_spec(&s);
	cdi_spec_free(&s);
}

struct bad {
	const char *file, *in, *err;
};

#define HEAD "cdiVersion: 0.6.0\nkind: a.com/b\ndevices:\n  - name: d\n    containerEdits:\n"

static const struct bad bad_cases[] = {
	{"t.yaml", "", "t.yaml:1:1: empty spec"},
	{"t.yaml", "kind: a.com/b\n", "t.yaml:1:1: missing required field 'cdiVersion'"},
	{"t.yaml", "cdiVersion: 0.6.0\nkind: a.com/b\ndevices: []\n",
	 "t.yaml:3:10: devices: a spec must define at least one device"},
	{"t.yaml", "cdiVersion: 0.2.0\nkind: a.com/b\ndevices: [{name: d, containerEdits: {}}]\n",
	 "t.yaml:1:13: cdiVersion: '0.2.0' is not a supported version (0.3.0 to 1.1.x)"},
	{"t.yaml", "cdiVersion: 0.6.0\nkind: vendor\ndevices: [{name: d, containerEdits: {}}]\n",
	 "t.yaml:2:7: kind: 'vendor': a kind is VENDOR/CLASS, e.g. nvidia.com/gpu"},
	{"t.yaml", "cdiVersion: 0.6.0\nkind: a.com/b\nextra: 1\ndevices: [{name: d, containerEdits: {}}]\n",
	 "t.yaml:3:1: extra: unknown field"},
	{"t.yaml", HEAD "      env: [NOEQUALS]\n",
	 "t.yaml:6:13: devices[0].containerEdits.env[0]: 'NOEQUALS' is not NAME=VALUE"},
	{"t.yaml", HEAD "      deviceNodes: [{path: dev/x}]\n",
	 "t.yaml:6:28: devices[0].containerEdits.deviceNodes[0].path: 'dev/x' is not an absolute path"},
	{"t.yaml", HEAD "      deviceNodes: [{path: /dev/x, major: 4096}]\n",
	 "t.yaml:6:43: devices[0].containerEdits.deviceNodes[0].major: expected an integer from 0 to 4095"},
	{"t.yaml", HEAD "      deviceNodes: [{path: /dev/x, permissions: rwx}]\n",
	 "t.yaml:6:49: devices[0].containerEdits.deviceNodes[0].permissions: 'rwx' is not a subset of 'rwm'"},
	{"t.yaml", HEAD "      deviceNodes: [{path: /dev/x, type: z}]\n",
	 "t.yaml:6:42: devices[0].containerEdits.deviceNodes[0].type: 'z' is not a device type (c, b, u or p)"},
	{"t.yaml", HEAD "      mounts: [{hostPath: /a, containerPath: /b/../../c}]\n",
	 "t.yaml:6:46: devices[0].containerEdits.mounts[0].containerPath: '/b/../../c' contains a '..' component"},
	{"t.yaml", HEAD "      mounts: [{hostPath: /a, containerPath: /b, options: [suidx]}]\n",
	 "t.yaml:6:60: devices[0].containerEdits.mounts[0].options[0]: unknown mount option 'suidx'"},
	{"t.yaml", HEAD "      hooks: [{hookName: preStart, path: /x}]\n",
	 "t.yaml:6:26: devices[0].containerEdits.hooks[0].hookName: 'preStart' is not a hook name (createContainer, startContainer, ...)"},
	{"t.yaml", HEAD "      hooks: [{hookName: poststop, path: /x, timeout: 0}]\n",
	 "t.yaml:6:55: devices[0].containerEdits.hooks[0].timeout: expected an integer from 1 to 86400"},
	{"t.yaml", HEAD "      deviceNodes: [{path: /dev/x}]\n  - name: d\n    containerEdits: {}\n",
	 "t.yaml:7:11: devices[1]: device 'd' is defined twice (also at t.yaml:4:5: devices[0])"},
	{"t.yaml", HEAD "      env: [A=1]\n      env: [B=1]\n",
	 "t.yaml:7:7: devices[0].containerEdits: field 'env' given twice"},
	{"t.yaml", "cdiVersion: 0.4.0\nkind: a.com/b\ndevices: [{name: d, containerEdits: {additionalGids: [1]}}]\n",
	 "t.yaml:3:54: devices[0].containerEdits.additionalGids: additionalGids needs cdiVersion 0.7.0 or later (the spec says 0.4.0)"},
	{"t.yaml", "cdiVersion: 0.6.0\nkind: a.com/b\ndevices: [&a {name: d, containerEdits: {}}]\n",
	 "t.yaml:3:11: invalid YAML: anchors are not allowed in a CDI spec"},
	{"t.json", "{\"cdiVersion\": \"0.6.0\", \"cdiVersion\": \"0.6.0\"}",
	 "t.json:1:36: invalid JSON: duplicate object key near '\"cdiVersion\"'"},
	{"t.json", "{\"cdiVersion\": 0.6, \"kind\": \"a.com/b\", \"devices\": []}",
	 "t.json:1:16: cdiVersion: expected a string"},
	{"t.json", "{\"cdiVersion\": \"0.6.0\", \"kind\": \"a.com/b\", \"devices\": [{\"name\": \"d\",\n"
	 " \"containerEdits\": {\"deviceNodes\": [{\"path\": \"/dev/x\", \"major\": 1e2}]}}]}",
	 "t.json:2:65: devices[0].containerEdits.deviceNodes[0].major: expected an integer from 0 to 4095"},
	/* Valid JSON that libyaml can't read (a surrogate pair): the error has no position. */
	{"t.json", "{\"cdiVersion\": \"0.6.0\", \"kind\": \"a.com/b\", \"devices\": [{\"name\": \"d\","
	 " \"containerEdits\": {\"env\": [\"\\ud83d\\ude00\"]}}]}",
	 "t.json: devices[0].containerEdits.env[0]: '\xf0\x9f\x98\x80' is not NAME=VALUE"},
};

static void test_bad(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
		const struct bad *b = &bad_cases[i];
		struct cdi_spec s;
		struct kerr e = {0};
		int r = cdi_spec_parse(b->in, strlen(b->in), b->file, &s, &e);
		if (r == 0 || strcmp(e.msg, b->err) != 0) {
			print_error("case %zu:\n  want: %s\n  got:  %s\n", i, b->err,
			            r == 0 ? "(accepted)" : e.msg);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void test_json_surrogates(void **state)
{
	(void)state;
	static const char in[] = "{\"cdiVersion\": \"0.6.0\", \"kind\": \"a.com/b\", \"devices\": "
	                         "[{\"name\": \"d\", \"containerEdits\": {\"env\": [\"A=\\ud83d\\ude00\\/\"]}}]}";
	struct cdi_spec s;
	struct kerr e = {0};
	assert_int_equal(cdi_spec_parse(in, strlen(in), "t.json", &s, &e), 0);
	assert_string_equal(s.devices[0].edits.env.v[0], "A=\xf0\x9f\x98\x80/");
	cdi_spec_free(&s);
}

static void test_kind_and_names(void **state)
{
	(void)state;
	const char *why;
	assert_int_equal(cdi_kind_check("nvidia.com/gpu", &why), 0);
	assert_int_equal(cdi_kind_check("foo.bar.baz/foo-bar123.B_az", &why), 0);
	assert_int_equal(cdi_kind_check("foo", &why), -1);
	assert_int_equal(cdi_kind_check("vendor.com/foo/", &why), -1);
	assert_int_equal(cdi_kind_check("vendor.com/foo/bar", &why), -1);
	assert_int_equal(cdi_kind_check("-a.com/b", &why), -1);
	assert_int_equal(cdi_device_name_check("0", &why), 0);
	assert_int_equal(cdi_device_name_check("gpu-0.a_b", &why), 0);
	assert_int_equal(cdi_device_name_check("a/b", &why), -1);
	assert_int_equal(cdi_device_name_check("-a", &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_and_yaml_agree),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_json_surrogates),
		cmocka_unit_test(test_kind_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
