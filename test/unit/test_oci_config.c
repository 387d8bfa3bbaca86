/* test_oci_config.c: unit tests of lib/oci_config.c: a full runc-style
 * config.json into struct oci_spec, and exact messages for bad input. */
#include "oci_config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

static const char good[] =
	"{\"ociVersion\": \"1.0.2\",\n"
	" \"process\": {\"terminal\": false, \"user\": {\"uid\": 1, \"gid\": 2, \"umask\": 18,\n"
	"    \"additionalGids\": [5, 6]},\n"
	"  \"args\": [\"sh\", \"-c\", \"true\"], \"env\": [\"PATH=/bin\", \"A=b\"], \"cwd\": \"/w\",\n"
	"  \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_CHOWN\"], \"effective\": [\"CAP_KILL\"]},\n"
	"  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 512}],\n"
	"  \"noNewPrivileges\": true, \"oomScoreAdj\": -10},\n"
	" \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
	" \"hostname\": \"h\",\n"
	" \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
	"   {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"d\",\n"
	"    \"options\": [\"rbind\", \"ro\", \"nosuid\", \"rslave\"]},\n"
	"   {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
	"    \"options\": [\"nosuid\", \"mode=755\", \"size=65536k\"]}],\n"
	" \"hooks\": {\"prestart\": [{\"path\": \"/bin/h\", \"args\": [\"h\", \"x\"], \"timeout\": 3}]},\n"
	" \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"uts\"},\n"
	"    {\"type\": \"network\", \"path\": \"/var/run/netns/n\"}, {\"type\": \"user\"}],\n"
	"  \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1},\n"
	"                   {\"containerID\": 1, \"hostID\": 100000, \"size\": 65536}],\n"
	"  \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],\n"
	"  \"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229}],\n"
	"  \"resources\": {\"memory\": {\"limit\": 1048576}, \"cpu\": {\"quota\": 50000, \"period\": 100000},\n"
	"    \"pids\": {\"limit\": 10}, \"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},\n"
	"  \"cgroupsPath\": \"/a/b\", \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},\n"
	"  \"maskedPaths\": [\"/proc/kcore\"], \"readonlyPaths\": [\"/proc/sys\"],\n"
	"  \"rootfsPropagation\": \"rprivate\",\n"
	"  \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"],\n"
	"    \"action\": \"SCMP_ACT_ERRNO\"}]}},\n"
	" \"annotations\": {\"k\": \"v\"}}\n";

static int unknown_count;
static void count_unknown(const char *path, void *arg)
{
	(void)arg;
	(void)path;
	unknown_count++;
}

static void test_good(void **state)
{
	(void)state;
	struct oci_spec s;
	struct kerr e = {0};
	unknown_count = 0;
	int r = oci_config_parse(good, strlen(good), "config.json", "/b", count_unknown, NULL, &s, &e);
	if (r < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(unknown_count, 0);
	assert_string_equal(s.c.image, "/b/rootfs");
	assert_true(s.root_readonly);
	assert_string_equal(s.c.argv[2], "true");
	assert_null(s.c.argv[3]);
	assert_string_equal(s.c.cwd, "/w");
	assert_int_equal(s.env.n, 2);
	assert_int_equal(s.c.uid, 1);
	assert_int_equal(s.c.gid, 2);
	assert_true(s.has_umask);
	assert_int_equal(s.umask, 022);
	assert_int_equal(s.ngroups, 2);
	assert_int_equal(s.groups[1], 6);
	assert_int_equal(s.caps.bounding, CAPS_BIT(5) | CAPS_BIT(0));
	assert_int_equal(s.caps.effective, CAPS_BIT(5));
	assert_int_equal(s.caps.ambient, 0);
	assert_int_equal(s.nrlimits, 1);
	assert_int_equal(s.rlimits[0].soft, 512);
	assert_true(s.has_oom_score_adj);
	assert_int_equal(s.oom_score_adj, -10);
	assert_string_equal(s.c.hostname, "h");
	assert_int_equal(s.nmounts, 3);
	assert_string_equal(s.mounts[1].src, "/b/d");
	assert_true(s.mounts[1].bind && s.mounts[1].rec);
	assert_int_equal(s.mounts[1].flags, MS_RDONLY | MS_NOSUID);
	assert_int_equal(s.mounts[1].propagation, MS_SLAVE | MS_REC);
	assert_string_equal(s.mounts[2].data, "mode=755,size=65536k");
	assert_int_equal(s.hooks[OCI_HOOK_PRESTART].n, 1);
	assert_int_equal(s.hooks[OCI_HOOK_PRESTART].v[0].timeout, 3);
	assert_int_equal(s.ns_new, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWUSER);
	assert_int_equal(s.ns_join, CLONE_NEWNET);
	assert_true(s.c.ns_pid && s.c.userns);
	assert_int_equal(s.c.net, NET_HOST);
	assert_int_equal(s.nuid_maps, 2);
	assert_int_equal(s.uid_maps[1].outside, 100000);
	assert_int_equal(s.uid_maps[1].count, 65536);
	assert_int_equal(s.ndevices, 1);
	assert_int_equal(s.devices[0].major, 10);
	assert_int_equal(s.devices[0].mode, 0666);
	assert_int_equal(s.c.memory, 1048576);
	assert_int_equal(s.c.cpus_milli, 500);
	assert_int_equal(s.c.pids_limit, 10);
	assert_string_equal(s.cgroups_path, "/a/b");
	assert_string_equal(s.sysctl[0].key, "net.ipv4.ip_forward");
	assert_string_equal(s.masked.v[0], "/proc/kcore");
	assert_int_equal(s.rootfs_propagation, MS_PRIVATE | MS_REC);
	assert_non_null(s.seccomp);
	assert_non_null(s.seccomp_json);
	assert_string_equal(s.annotations, "{\"k\":\"v\"}");
	oci_spec_free(&s);
}

/* Replace the first occurrence of from with to in good, parse, compare. */
static void expect_error(const char *from, const char *to, const char *msg)
{
	const char *p = strstr(good, from);
	if (!p)
		fail_msg("test data: '%s' not in the config", from);
	char *buf = xasprintf("%.*s%s%s", (int)(p - good), good, to, p + strlen(from));
	struct oci_spec s;
	struct kerr e = {0};
	int r = oci_config_parse(buf, strlen(buf), "config.json", "/b", NULL, NULL, &s, &e);
	free(buf);
	if (r == 0) {
		oci_spec_free(&s);
		fail_msg("no error for %s -> %s", from, to);
	}
	assert_string_equal(e.msg, msg);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("\"1.0.2\"", "\"2.0.0\"",
	             "config.json: ociVersion: version '2.0.0' is not supported (krill implements 1.x)");
	expect_error("{\"limit\": 1048576}", "{\"limit\": \"1m\"}",
	             "config.json: linux.resources.memory.limit: expected integer");
	expect_error(" \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n", "",
	             "config.json: root: missing");
	expect_error("\"args\": [\"sh\", \"-c\", \"true\"]", "\"args\": []",
	             "config.json: process.args: must name the command to run");
	expect_error("\"cwd\": \"/w\"", "\"cwd\": \"w\"",
	             "config.json: process.cwd: 'w' is not an absolute path");
	expect_error("\"CAP_CHOWN\"", "\"CAP_NOPE\"",
	             "config.json: process.capabilities.bounding[1]: unknown capability 'CAP_NOPE'");
	expect_error("RLIMIT_NOFILE", "RLIMIT_FOO",
	             "config.json: process.rlimits[0].type: unknown resource 'RLIMIT_FOO'");
	expect_error("\"soft\": 512", "\"soft\": 2048",
	             "config.json: process.rlimits[0]: soft limit 2048 is above the hard limit 1024");
	expect_error("\"type\": \"proc\"", "\"type\": \"nfs\"",
	             "config.json: mounts[0].type: 'nfs' is not supported by krill (bind, tmpfs, "
	             "proc, sysfs, devpts, mqueue, cgroup)");
	expect_error("\"rbind\", \"ro\"", "\"ro\"",
	             "config.json: mounts[1].type: bind mount without the bind or rbind option");
	expect_error("{\"type\": \"pid\"}", "{\"type\": \"pod\"}",
	             "config.json: linux.namespaces[0].type: unknown namespace type 'pod'");
	expect_error("{\"type\": \"pid\"}", "{\"type\": \"pid\", \"path\": \"p\"}",
	             "config.json: linux.namespaces[0].path: 'p' is not an absolute path");
	expect_error("\"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],", "",
	             "config.json: linux.gidMappings: missing: a new user namespace needs both maps");
	expect_error("\"timeout\": 3", "\"timeout\": 0",
	             "config.json: hooks.prestart[0].timeout: 0 is out of range [1, 2147483647]");
	expect_error("\"path\": \"/bin/h\"", "\"path\": \"h\"",
	             "config.json: hooks.prestart[0].path: 'h' is not an absolute path");
	expect_error("\"quota\": 50000", "\"quota\": 50000, \"shares\": 1",
	             "config.json: linux.resources.cpu.shares: 1 is below the minimum of 2");
	expect_error("\"quota\": 50000", "\"quota\": 50000, \"cpus\": \"0\\n1\"",
	             "config.json: linux.resources.cpu.cpus: '0\n1' is not a list such as 0-3,5");
	expect_error("{\"limit\": 1048576}", "{\"limit\": 1048576, \"swap\": 1024}",
	             "config.json: linux.resources.memory.swap: 1024 is below memory.limit 1048576 "
	             "(swap counts memory + swap)");
	expect_error("{\"limit\": 1048576}", "{\"limit\": 1048576}, \"hugepageLimits\": "
	             "[{\"pageSize\": \"2M/../x\", \"limit\": 1}]",
	             "config.json: linux.resources.hugepageLimits[0].pageSize: '2M/../x': expected a "
	             "size such as 2MB or 1GB");
	expect_error("{\"limit\": 1048576}", "{\"limit\": 1048576}, \"network\": "
	             "{\"priorities\": [{\"name\": \"eth0 1\\neth1\", \"priority\": 1}]}",
	             "config.json: linux.resources.network.priorities[0].name: 'eth0 1\neth1' is not "
	             "an interface name");
	expect_error("{\"allow\": false, \"access\": \"rwm\"}",
	             "{\"allow\": false, \"access\": \"rwx\"}",
	             "config.json: linux.resources.devices[0].access: 'rwx': expected letters of rwm");
	expect_error("{\"limit\": 1048576}", "{\"limit\": 1048576}, \"blockIO\": "
	             "{\"weight\": 5}",
	             "config.json: linux.resources.blockIO.weight: 5 is out of range [10, 1000]");
	expect_error("\"rbind\", \"ro\"", "\"rbind\", \"tmpcopyup\"",
	             "config.json: mounts[1].options: tmpcopyup applies to tmpfs mounts, not binds");
	expect_error("\"quota\": 50000", "\"quota\": 18446744073709552",
	             "config.json: linux.resources.cpu.quota: 18446744073709552/100000 is more than "
	             "a million CPUs");
	expect_error("net.ipv4.ip_forward", "vm.swappiness",
	             "config.json: linux.sysctl.vm.swappiness: not in a namespace of the container's "
	             "own: it would change the host");
	expect_error("net.ipv4.ip_forward", "kernel.shmmax",
	             "config.json: linux.sysctl.kernel.shmmax: not in a namespace of the container's "
	             "own: it would change the host");
	expect_error("\"rprivate\"", "\"rsideways\"",
	             "config.json: linux.rootfsPropagation: unknown propagation 'rsideways'");
	expect_error("\"SCMP_ACT_ERRNO\"", "\"SCMP_ACT_NOPE\"",
	             "config.json:28: syscall 'mkdir': unknown action 'SCMP_ACT_NOPE'");
	expect_error("\"ociVersion\": \"1.0.2\",", "\"ociVersion\": 1.0,",
	             "config.json: ociVersion: expected string");
	expect_error("\"k\": \"v\"", "\"k\": 1", "config.json: annotations.k: expected string");
	expect_error(" \"hostname\": \"h\",\n", " \"hostname\": \"h\",,\n",
	             "config.json:9:18: invalid JSON: string or '}' expected near ','");
}

static void unknown_path(const char *path, void *arg)
{
	strcat((char *)arg, path);
	strcat((char *)arg, ";");
}

static void test_unknown_fields(void **state)
{
	(void)state;
	const char *cfg = "{\"ociVersion\": \"1.1.0\", \"frob\": 1, \"root\": {\"path\": \"/r\"},"
	                  " \"process\": {\"args\": [\"x\"], \"user\": {\"uid\": 0, \"gid\": 0},"
	                  " \"wobble\": true}, \"linux\": {\"namespaces\": [{\"type\": \"mount\"}],"
	                  " \"resources\": {\"blockIO\": {\"weighty\": 1}}}}";
	char seen[256] = "";
	struct oci_spec s;
	struct kerr e = {0};
	assert_int_equal(oci_config_parse(cfg, strlen(cfg), "c", "/b", unknown_path, seen, &s, &e), 0);
	assert_string_equal(seen, "frob;process.wobble;linux.resources.blockIO.weighty;");
	assert_string_equal(s.c.image, "/r");
	assert_string_equal(s.c.cwd, "/");
	oci_spec_free(&s);
}

static void test_resources(void **state)
{
	(void)state;
	const char *cfg =
		"{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"/r\"},"
		" \"process\": {\"args\": [\"x\"], \"user\": {\"uid\": 0, \"gid\": 0}},"
		" \"mounts\": [{\"destination\": \"/m\", \"type\": \"bind\", \"source\": \"/s\","
		"   \"options\": [\"rbind\", \"rro\", \"rnosuid\", \"mode=755\", \"copy-symlink\"]},"
		"  {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"options\": [\"tmpcopyup\"]}],"
		" \"linux\": {\"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10,"
		"   \"minor\": 229}],"
		"  \"resources\": {\"cpu\": {\"shares\": 512, \"quota\": 20000, \"period\": 50000,"
		"   \"cpus\": \"0-1\", \"mems\": \"0\"},"
		"  \"memory\": {\"limit\": 67108864, \"swap\": 134217728, \"reservation\": 1048576},"
		"  \"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
		"   {\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": 200, \"access\": \"rw\"}],"
		"  \"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 254, \"minor\": 0, \"rate\": 1048576}]},"
		"  \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 0}],"
		"  \"network\": {\"classID\": 1048577}}}}";
	struct oci_spec s;
	struct kerr e = {0};
	assert_int_equal(oci_config_parse(cfg, strlen(cfg), "c", "/b", NULL, NULL, &s, &e), 0);
	/* No linux.namespaces: all inherited, but a mount namespace of its own. */
	assert_int_equal(s.ns_new, CLONE_NEWNS);
	assert_true(s.mounts[0].bind && s.mounts[0].rec && s.mounts[0].copy_symlink);
	assert_string_equal(s.mounts[0].data, "mode=755");
	assert_int_equal(s.mounts[0].rattr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
	assert_true(s.mounts[1].tmpcopyup);
	const struct cgroup_res *r = &s.res;
	assert_true(r->has_shares && r->shares == 512);
	assert_true(r->has_quota && r->quota == 20000 && r->has_period && r->period == 50000);
	assert_int_equal(s.c.cpus_milli, 400);
	assert_string_equal(r->cpus, "0-1");
	assert_string_equal(r->mems, "0");
	assert_true(r->has_swap && r->swap == 134217728 && r->memory == 67108864);
	assert_true(r->has_reservation && r->reservation == 1048576);
	/* The config's two rules, then the defaults, then linux.devices. */
	assert_int_equal(r->ndev, 2 + 9 + 1);
	assert_false(r->dev[0].allow);
	assert_int_equal(r->dev[0].type, 'a');
	assert_true(r->dev[1].allow && r->dev[1].major == 10 && r->dev[1].minor == 200);
	assert_string_equal(r->dev[1].access, "rw");
	assert_true(r->dev[10].major == 136 && r->dev[10].minor == CGROUP_ANY);
	assert_true(r->dev[11].major == 10 && r->dev[11].minor == 229);
	assert_int_equal(r->nthrottle[CG_THROTTLE_READ_BPS], 1);
	assert_int_equal(r->throttle[CG_THROTTLE_READ_BPS][0].value, 1048576);
	assert_string_equal(r->huge[0].size, "2MB");
	assert_true(r->has_classid && r->classid == 1048577);
	assert_int_equal(cgroup_res_controllers(r),
	                 CG_CPUSET | CG_DEVICES | CG_BLKIO | CG_HUGETLB | CG_NET_CLS);
	oci_spec_free(&s);
	/* runc's conversion of cpu.shares to cpu.weight. */
	assert_int_equal(cgroup_shares_to_weight(2), 1);
	assert_int_equal(cgroup_shares_to_weight(1024), 39);
	assert_int_equal(cgroup_shares_to_weight(262144), 10000);
}

static void test_signals_and_ids(void **state)
{
	(void)state;
	assert_int_equal(oci_signal_parse("KILL"), SIGKILL);
	assert_int_equal(oci_signal_parse("SIGTERM"), SIGTERM);
	assert_int_equal(oci_signal_parse("hup"), SIGHUP);
	assert_int_equal(oci_signal_parse("9"), 9);
	assert_int_equal(oci_signal_parse("0"), -1);
	assert_int_equal(oci_signal_parse("SIGNOPE"), -1);
	assert_int_equal(oci_signal_parse(""), -1);
	assert_true(oci_id_valid("abc-1.2_3+x"));
	assert_false(oci_id_valid(""));
	assert_false(oci_id_valid("a/b"));
	assert_false(oci_id_valid(".."));
	assert_false(oci_id_valid(".hidden"));
	assert_false(oci_id_valid("a b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_signals_and_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
