/* test_seccomp.c: the seccomp profile parser (good profiles, Docker's
 * default, and each malformed case with its exact message), and real
 * filters loaded in forked children: fake root, a mkdir-denying profile,
 * Docker's default, and the compiled-filter cache. */
#include "caps.h"
#include "seccomp_filter.h"
#include "seccomp_profile.h"
#include "seccomp_sim.h"

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef FIXTURES
#define FIXTURES "test/fixtures/seccomp"
#endif

static struct seccomp_profile *parse_ok(const char *json)
{
	struct seccomp_profile *p = NULL;
	struct kerr e = {0};
	int r = seccomp_profile_parse(json, strlen(json), "p.json", &p, &e);
	if (r < 0)
		fail_msg("unexpected error: %s", e.msg);
	return p;
}

static void expect_error(const char *json, const char *msg)
{
	struct seccomp_profile *p = (void *)1;
	struct kerr e = {0};
	assert_int_equal(seccomp_profile_parse(json, strlen(json), "p.json", &p, &e), -1);
	assert_null(p);
	assert_string_equal(e.msg, msg);
	assert_int_equal(e.errnum, 0);
}

static char *read_fixture(const char *name, size_t *len)
{
	char path[512];
	char *buf = NULL;
	struct kerr e;
	snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
	if (file_read_all(AT_FDCWD, path, 1 << 20, &buf, len, &e) < 0)
		fail_msg("%s", e.msg);
	return buf;
}

/* ---- parsing ------------------------------------------------------------ */

static void test_parse_minimal(void **state)
{
	struct seccomp_profile *p = parse_ok("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
	assert_int_equal(p->default_action, SCMP_ACT_ALLOW);
	assert_int_equal(p->nrules, 0);
	seccomp_profile_free(p);
}

static void test_parse_full(void **state)
{
	struct seccomp_profile *p = parse_ok(
	    "{\n"
	    "  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
	    "  \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],\n"
	    "  \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],\n"
	    "  \"comment\": \"unknown keys are ignored\",\n"
	    "  \"syscalls\": [\n"
	    "    {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},\n"
	    "    {\"name\": \"mkdir\", \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13},\n"
	    "    {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_KILL_PROCESS\",\n"
	    "     \"args\": [{\"index\": 0, \"value\": 16, \"op\": \"SCMP_CMP_EQ\"},\n"
	    "              {\"index\": 2, \"value\": 4095, \"valueTwo\": 1, \"op\": "
	    "\"SCMP_CMP_MASKED_EQ\"}]},\n"
	    "    {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 7,\n"
	    "     \"includes\": {\"caps\": [\"CAP_SYS_PTRACE\"], \"arches\": [\"amd64\"], "
	    "\"minKernel\": \"4.8\"},\n"
	    "     \"excludes\": {\"caps\": [\"sys_admin\"]}},\n"
	    "    {\"names\": [\"reboot\"], \"action\": \"SCMP_ACT_LOG\"}\n"
	    "  ]\n"
	    "}\n");
	assert_int_equal(p->default_action, SCMP_ACT_ERRNO(EPERM));
	assert_int_equal(p->narches, 2);
	assert_int_equal(p->arches[1], SCMP_ARCH_X86);
	assert_true(p->flag_log);
	assert_int_equal(p->nrules, 5);
	assert_int_equal(p->rules[0].names.n, 2);
	assert_string_equal(p->rules[0].names.v[1], "write");
	assert_int_equal(p->rules[0].line, 7);
	assert_int_equal(p->rules[1].action, SCMP_ACT_ERRNO(13));
	assert_string_equal(p->rules[1].names.v[0], "mkdir");
	assert_int_equal(p->rules[2].action, SCMP_ACT_KILL_PROCESS);
	assert_int_equal(p->rules[2].nargs, 2);
	assert_int_equal(p->rules[2].args[1].index, 2);
	assert_int_equal(p->rules[2].args[1].op, SCMP_CMP_MASKED_EQ);
	assert_int_equal(p->rules[2].args[1].value, 4095);
	assert_int_equal(p->rules[2].args[1].value_two, 1);
	assert_int_equal(p->rules[3].action, SCMP_ACT_TRACE(7));
	assert_int_equal(p->rules[3].caps_include, CAPS_BIT(19));
	assert_int_equal(p->rules[3].caps_exclude, CAPS_BIT(21));
	assert_string_equal(p->rules[3].arches_include.v[0], "amd64");
	assert_int_equal(p->rules[3].min_kernel[0], 4);
	assert_int_equal(p->rules[3].min_kernel[1], 8);
	assert_int_equal(p->rules[3].line, 12);
	assert_int_equal(p->rules[4].action, SCMP_ACT_LOG);
	seccomp_profile_free(p);
}

static void test_parse_docker_default(void **state)
{
	size_t len;
	char *buf = read_fixture("docker-default.json", &len);
	struct seccomp_profile *p = NULL;
	struct kerr e = {0};
	if (seccomp_profile_parse(buf, len, "docker-default.json", &p, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(p->default_action, SCMP_ACT_ERRNO(1));
	assert_int_equal(p->narchmap, 8);
	assert_int_equal(p->archmap[0].arch, SCMP_ARCH_X86_64);
	assert_int_equal(p->archmap[0].nsubs, 2);
	assert_int_equal(p->nrules, 31);
	assert_true(p->rules[0].names.n > 300);
	assert_int_equal(p->rules[0].line, 58);
	/* Builds for the default caps and for all caps (more, overlapping rules). */
	scmp_filter_ctx ctx;
	if (seccomp_profile_build(p, caps_default, &ctx, &e) < 0)
		fail_msg("%s", e.msg);
	seccomp_release(ctx);
	if (seccomp_profile_build(p, caps_all, &ctx, &e) < 0)
		fail_msg("%s", e.msg);
	seccomp_release(ctx);
	seccomp_profile_free(p);
	free(buf);
}

static void test_parse_fixtures(void **state)
{
	static const char *const good[] = {"mkdir-eperm.json", "allow-all.json", "oci-style.json"};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		size_t len;
		char *buf = read_fixture(good[i], &len);
		struct seccomp_profile *p = NULL;
		struct kerr e = {0};
		if (seccomp_profile_parse(buf, len, good[i], &p, &e) < 0)
			fail_msg("%s", e.msg);
		seccomp_profile_free(p);
		free(buf);
	}
}

static void test_err_bad_json(void **state)
{
	expect_error("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n}\n",
		     "p.json:3:1: invalid JSON: string or '}' expected near '}'");
	expect_error("", "p.json:1:0: invalid JSON: '[' or '{' expected near end of file");
	expect_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultAction\": \"SCMP_ACT_LOG\"}",
		     "p.json:1:51: invalid JSON: duplicate object key near '\"defaultAction\"'");
	expect_error("[1]", "p.json:1: profile: expected a JSON object");
	struct seccomp_profile *p;
	struct kerr e = {0};
	assert_int_equal(seccomp_profile_parse("{\n\"a\"\0:1}", 9, "p.json", &p, &e), -1);
	assert_string_equal(e.msg, "p.json:2: invalid JSON: NUL byte");
}

static void test_err_unknown_action(void **state)
{
	expect_error("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [\n"
		     "    {\"names\": [\"mkdir\"],\n     \"action\": \"SCMP_ACT_DENY\"}\n  ]\n}\n",
		     "p.json:5: syscall 'mkdir': unknown action 'SCMP_ACT_DENY'");
	expect_error("{\n\"defaultAction\": \"ALLOW\"}", "p.json:2: unknown action 'ALLOW'");
	expect_error("{\"syscalls\": []}", "p.json:1: no defaultAction");
	expect_error("{\n\"defaultAction\": \"SCMP_ACT_NOTIFY\"}",
		     "p.json:2: action SCMP_ACT_NOTIFY is not supported");
}

static void test_err_unknown_syscall(void **state)
{
	/* The line is the misspelt name's own, and the name is the bad one. */
	expect_error("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [\n"
		     "    {\"names\": [\"read\",\n                \"mkdr\"],\n"
		     "     \"action\": \"SCMP_ACT_ERRNO\"}\n  ]\n}\n",
		     "p.json:5: syscall 'mkdr': unknown system call");
	struct seccomp_profile *p;
	struct kerr e = {0};
	const char *j = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
			"[{\"name\": \"nope\", \"action\": \"SCMP_ACT_LOG\"}]}";
	assert_int_equal(seccomp_profile_parse(j, strlen(j), "p.json", &p, &e), -1);
	assert_non_null(strstr(e.hint, "knows no system call of that name"));
}

static void test_err_bad_op(void **state)
{
	expect_error("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [\n"
		     "    {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
		     "     \"args\": [\n"
		     "       {\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"},\n"
		     "       {\"index\": 1, \"value\": 1, \"op\": \"SCMP_CMP_ABOUT\"}\n"
		     "     ]}\n  ]\n}\n",
		     "p.json:7: syscall 'socket': unknown operator 'SCMP_CMP_ABOUT'");
}

static void test_err_types(void **state)
{
	const char *head = "{\n\"defaultAction\": \"SCMP_ACT_ALLOW\",\n\"syscalls\": [\n";
	char buf[1024];
#define RULE(r) (snprintf(buf, sizeof buf, "%s%s\n]}", head, r), buf)
	expect_error(RULE("{\"names\": \"read\", \"action\": \"SCMP_ACT_LOG\"}"),
		     "p.json:4: syscalls[0].names: expected an array of system call names");
	expect_error(RULE("{\"names\": [\"read\", 3], \"action\": \"SCMP_ACT_LOG\"}"),
		     "p.json:4: syscall 'read': names[1]: expected a string");
	expect_error(RULE("{\"names\": [\"read\"], \"action\": 1}"),
		     "p.json:4: syscall 'read': action: expected a string");
	expect_error(RULE("{\"names\": [\"read\"]}"), "p.json:4: syscall 'read': no action");
	expect_error(RULE("{\"action\": \"SCMP_ACT_LOG\"}"), "p.json:4: syscalls[0]: no names");
	expect_error(
	    RULE("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 5000}"),
	    "p.json:4: syscall 'read': errnoRet: expected an integer from 0 to 4095");
	expect_error(
	    RULE("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}"),
	    "p.json:4: syscall 'read': errnoRet is only valid with SCMP_ACT_ERRNO or "
	    "SCMP_ACT_TRACE");
	expect_error(
	    RULE("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_LOG\",\n"
		 " \"args\": [{\"index\": \"0\", \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}"),
	    "p.json:5: syscall 'read': args[0].index: expected an integer from 0 to 5");
	expect_error(RULE("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_LOG\",\n"
			  " \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}"),
		     "p.json:5: syscall 'read': args[0].index: expected an integer from 0 to 5");
	expect_error(RULE("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_LOG\",\n"
			  " \"args\": [{\"index\": 1, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}"),
		     "p.json:5: syscall 'read': args[0].value: expected an integer from 0 to "
		     "18446744073709551615");
	expect_error(RULE("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_LOG\",\n"
			  " \"args\": [{\"index\": 1, \"op\": \"SCMP_CMP_EQ\"}]}"),
		     "p.json:5: syscall 'read': args[0]: no value");
	expect_error(RULE("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_LOG\",\n"
			  " \"includes\": {\"caps\": [\"CAP_FLY\"]}}"),
		     "p.json:5: syscall 'read': unknown capability 'CAP_FLY'");
	expect_error(RULE("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_LOG\",\n"
			  " \"includes\": {\"minKernel\": \"four\"}}"),
		     "p.json:5: syscall 'read': minKernel 'four': expected MAJOR.MINOR");
	expect_error(RULE("7"), "p.json:4: syscalls[0]: expected an object");
#undef RULE
	expect_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}",
		     "p.json:1: syscalls: expected an array of objects");
	expect_error(
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n \"architectures\": [\"SCMP_ARCH_Z80\"]}",
	    "p.json:2: unknown architecture 'SCMP_ARCH_Z80'");
	expect_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n \"flags\": "
		     "[\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}",
		     "p.json:2: flag 'SECCOMP_FILTER_FLAG_NEW_LISTENER' is not supported");
	expect_error(
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}",
	    "p.json:1: defaultErrnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
}

static void test_err_oci_prefix(void **state)
{
	const char *doc =
	    "{\n \"ociVersion\": \"1.0.2\",\n \"linux\": {\n  \"seccomp\": {\n"
	    "   \"defaultAction\": \"SCMP_ACT_ALLOW\",\n   \"flags\": 3\n  }\n }\n}\n";
	json_t *root = json_loadb(doc, strlen(doc), 0, NULL);
	assert_non_null(root);
	json_t *obj = json_object_get(json_object_get(root, "linux"), "seccomp");
	static const char *const prefix[] = {"linux", "seccomp"};
	struct seccomp_profile *p;
	struct kerr e = {0};
	assert_int_equal(
	    seccomp_profile_from_json(obj, doc, strlen(doc), "config.json", prefix, 2, &p, &e), -1);
	assert_string_equal(e.msg,
			    "config.json:6: linux.seccomp.flags: expected an array of strings");
	json_decref(root);
}

/* ---- real filters in forked children ------------------------------------ */

/* Run f in a child; return its exit status (or 128+signal). */
static int in_child(int (*f)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(f(arg));
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char scratch[64];

static int setup_scratch(void **state)
{
	strcpy(scratch, "/tmp/krill-ut-seccomp.XXXXXX");
	return mkdtemp(scratch) ? 0 : -1;
}

static int teardown_scratch(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
	return system(cmd) == 0 ? 0 : -1;
}

static int fakeroot_child(void *arg)
{
	struct kerr e;
	struct seccomp_bpf b;
	char f[128], dev[128], fifo[128];
	snprintf(f, sizeof f, "%s/file", scratch);
	snprintf(dev, sizeof dev, "%s/null", scratch);
	snprintf(fifo, sizeof fifo, "%s/fifo", scratch);
	int fd = open(f, O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		return 10;
	struct stat before, after;
	fstat(fd, &before);
	uid_t uid = getuid();
	if (arg ? seccomp_fakeroot_load(&e) < 0
		: (seccomp_prepare_fakeroot(NULL, &b, &e) < 0 || seccomp_bpf_load(&b, &e) < 0))
		return 11;
	if (chown(f, 4242, 4242) != 0 || fchown(fd, 4243, 4243) != 0 || lchown(f, 1, 1) != 0 ||
	    fchownat(AT_FDCWD, f, 2, 2, 0) != 0)
		return 12;
	if (stat(f, &after) < 0 || after.st_uid != before.st_uid || after.st_gid != before.st_gid)
		return 13;
	if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) != 0 || access(dev, F_OK) == 0)
		return 14;
	if (mknodat(AT_FDCWD, dev, S_IFBLK | 0600, makedev(7, 0)) != 0 || access(dev, F_OK) == 0)
		return 15;
	/* A fifo is no device: it is really made. */
	if (mknod(fifo, S_IFIFO | 0600, 0) != 0 || access(fifo, F_OK) != 0)
		return 16;
	if (setuid(4242) != 0 || setresgid(7, 7, 7) != 0 || setgroups(0, NULL) != 0 ||
	    getuid() != uid)
		return 17;
	return 0;
}

static void test_fakeroot_filter(void **state)
{
	assert_int_equal(in_child(fakeroot_child, NULL), 0);
}

static void test_fakeroot_filter_libseccomp_load(void **state)
{
	assert_int_equal(in_child(fakeroot_child, (void *)1), 0);
}

static int mkdir_child(void *arg)
{
	size_t len;
	char *buf = read_fixture("mkdir-eperm.json", &len);
	struct seccomp_profile *p;
	struct kerr e;
	char d[128];
	snprintf(d, sizeof d, "%s/dir", scratch);
	if (seccomp_profile_parse(buf, len, "mkdir-eperm.json", &p, &e) < 0 ||
	    seccomp_profile_load(p, caps_default, &e) < 0)
		return 10;
	if (mkdir(d, 0755) == 0 || errno != EPERM)
		return 11;
	if (mkdirat(AT_FDCWD, d, 0755) == 0 || errno != EPERM)
		return 12;
	if (access(d, F_OK) == 0)
		return 13;
	return 0;
}

static void test_profile_mkdir_eperm(void **state)
{
	assert_int_equal(in_child(mkdir_child, NULL), 0);
}

static int docker_child(void *arg)
{
	size_t len;
	char *buf = read_fixture("docker-default.json", &len);
	struct seccomp_bpf b;
	struct kerr e;
	if (seccomp_prepare_profile(buf, len, "docker-default.json", caps_default, NULL, &b, &e) <
		0 ||
	    seccomp_bpf_load(&b, &e) < 0)
		return 10;
	/* Denied without CAP_SYS_ADMIN (EPERM is the profile's defaultErrnoRet). */
	if (syscall(SYS_unshare, 0) == 0 || errno != EPERM)
		return 11;
	execl("/bin/sh", "sh", "-c", "echo hi >/dev/null; exit 7", (char *)NULL);
	return 12;
}

static void test_profile_docker_runs_shell(void **state)
{
	assert_int_equal(in_child(docker_child, NULL), 7);
}

static void test_cache(void **state)
{
	size_t len;
	char *buf = read_fixture("docker-default.json", &len);
	struct seccomp_bpf a, b, c;
	struct kerr e;
	assert_int_equal(seccomp_prepare_profile(buf, len, "d.json", caps_default, scratch, &a, &e),
			 0);
	assert_int_equal(seccomp_prepare_profile(buf, len, "d.json", caps_default, scratch, &b, &e),
			 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.insns, b.insns, a.len * 8u);
	/* Other caps: another entry, another program (SYS_ADMIN allows mount...). */
	assert_int_equal(seccomp_prepare_profile(buf, len, "d.json", caps_all, scratch, &c, &e), 0);
	assert_true(c.len != a.len || memcmp(a.insns, c.insns, a.len * 8u) != 0);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "test $(ls %s/*.bpf | wc -l) = 2", scratch);
	assert_int_equal(system(cmd), 0);
	/* Errors are never cached. */
	struct seccomp_bpf d;
	const char *bad = "{\"defaultAction\": \"SCMP_ACT_NOPE\"}";
	assert_int_equal(seccomp_prepare_profile(bad, strlen(bad), "b.json", 0, scratch, &d, &e),
			 -1);
	assert_int_equal(seccomp_prepare_profile(bad, strlen(bad), "b.json", 0, scratch, &d, &e),
			 -1);
	assert_string_equal(e.msg, "b.json:1: unknown action 'SCMP_ACT_NOPE'");
	seccomp_bpf_free(&a);
	seccomp_bpf_free(&b);
	seccomp_bpf_free(&c);
	free(buf);
}

/* The action a prepared profile takes for syscall nr (native arch). */
static uint32_t sim(const char *json, int nr)
{
	struct seccomp_bpf b;
	struct kerr e = {0};
	scmp_filter_ctx ctx;
	struct seccomp_profile *p = parse_ok(json);
	assert_int_equal(seccomp_profile_build(p, caps_default, &ctx, &e), 0);
	seccomp_profile_free(p);
	assert_int_equal(seccomp_bpf_from_ctx(ctx, 0, &b, &e), 0);
	uint32_t ret = 0;
	assert_true(seccomp_sim_run(b.insns, b.len, seccomp_arch_native(), nr, &ret));
	seccomp_bpf_free(&b);
	return ret;
}

/* Issue 9 item 13: the simulator agrees with what the rules say. */
static void test_sim(void **state)
{
	(void)state;
	const char *deny = "{\"defaultAction\": \"SCMP_ACT_ERRNO\"}";
	assert_int_equal(sim(deny, SYS_execve) & SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ERRNO);
	const char *mk = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
	                 "[\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 5}]}";
	assert_int_equal(sim(mk, SYS_mkdir), SECCOMP_RET_ERRNO | 5);
	assert_int_equal(sim(mk, SYS_execve), SECCOMP_RET_ALLOW);
	size_t len;
	char *buf = read_fixture("docker-default.json", &len);
	buf = xrealloc(buf, len + 1);
	buf[len] = '\0';
	assert_int_equal(sim(buf, SYS_execve), SECCOMP_RET_ALLOW);
	assert_int_equal(sim(buf, SYS_exit_group), SECCOMP_RET_ALLOW);
	assert_int_equal(sim(buf, SYS_kexec_load) & SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ERRNO);
	free(buf);
	/* Programs the kernel would refuse are not judged. */
	struct sock_filter jump_out[] = {BPF_JUMP(BPF_JMP | BPF_JA, 5, 0, 0),
	                                 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	struct sock_filter no_ret[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0)};
	struct sock_filter bad_load[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 62),
	                                 BPF_STMT(BPF_RET | BPF_A, 0)};
	uint32_t ret;
	assert_false(seccomp_sim_run(jump_out, 2, 0, 0, &ret));
	assert_false(seccomp_sim_run(no_ret, 1, 0, 0, &ret));
	assert_false(seccomp_sim_run(bad_load, 2, 0, 0, &ret));
	struct sock_filter nr[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
	                           BPF_STMT(BPF_RET | BPF_A, 0)};
	assert_true(seccomp_sim_run(nr, 2, 0, 59, &ret));
	assert_int_equal(ret, 59);
}

/* A profile that denies what krill calls after loading it is refused when
 * prepared (it used to kill krill with SIGSEGV), cached or not. */
static void test_refuse_denying_exec(void **state)
{
	(void)state;
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{"{\"defaultAction\": \"SCMP_ACT_ERRNO\"}",
		 "d.json: the profile denies execve, which krill must call after loading it"},
		{"{\"defaultAction\": \"SCMP_ACT_KILL\"}",
		 "d.json: the profile denies execve, which krill must call after loading it"},
		{"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
		 "[\"exit_group\"], \"action\": \"SCMP_ACT_TRAP\"}]}",
		 "d.json: the profile denies exit_group, which krill must call after loading it"},
		{"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
		 "[\"write\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
		 "d.json: the profile denies write, which krill must call after loading it"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		for (int pass = 0; pass < 2; pass++) {
			struct seccomp_bpf b;
			struct kerr e = {0};
			assert_int_equal(seccomp_prepare_profile(cases[i].json, strlen(cases[i].json),
			                                         "d.json", caps_default,
			                                         pass ? scratch : NULL, &b, &e),
			                 -1);
			assert_string_equal(e.msg, cases[i].msg);
			assert_null(b.insns);
		}
	}
	const char *log = "{\"defaultAction\": \"SCMP_ACT_LOG\"}";
	struct seccomp_bpf b;
	struct kerr e = {0};
	assert_int_equal(seccomp_prepare_profile(log, strlen(log), "l.json", caps_default, NULL, &b,
	                                         &e),
	                 0);
	seccomp_bpf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_minimal),
	    cmocka_unit_test(test_parse_full),
	    cmocka_unit_test(test_parse_docker_default),
	    cmocka_unit_test(test_parse_fixtures),
	    cmocka_unit_test(test_err_bad_json),
	    cmocka_unit_test(test_err_unknown_action),
	    cmocka_unit_test(test_err_unknown_syscall),
	    cmocka_unit_test(test_err_bad_op),
	    cmocka_unit_test(test_err_types),
	    cmocka_unit_test(test_err_oci_prefix),
	    cmocka_unit_test_setup_teardown(test_fakeroot_filter, setup_scratch, teardown_scratch),
	    cmocka_unit_test_setup_teardown(test_fakeroot_filter_libseccomp_load, setup_scratch,
					    teardown_scratch),
	    cmocka_unit_test_setup_teardown(test_profile_mkdir_eperm, setup_scratch,
					    teardown_scratch),
	    cmocka_unit_test(test_profile_docker_runs_shell),
	    cmocka_unit_test_setup_teardown(test_cache, setup_scratch, teardown_scratch),
	    cmocka_unit_test(test_sim),
	    cmocka_unit_test_setup_teardown(test_refuse_denying_exec, setup_scratch,
					    teardown_scratch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
