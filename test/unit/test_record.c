/* test_record.c: unit tests of lib/record.c: container names, the checks
 * on the runtime directory, and a record's confinement written and read
 * back exactly (the IDs, capability sets, seccomp BPF and cgroup that
 * krill exec applies), with damaged confinement refused. */
#include "nsjoin.h"
#include "record.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char xdg[64];

static int setup(void **state)
{
	(void)state;
	strcpy(xdg, "/tmp/krill-test-record.XXXXXX");
	if (!mkdtemp(xdg))
		return -1;
	return setenv("XDG_RUNTIME_DIR", xdg, 1);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", xdg);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_names(void **state)
{
	(void)state;
	static const char *const good[] = {"a", "web1", "A.b_c-d", "1x", "0-9"};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_null(record_name_invalid(good[i]));
	static const struct {
		const char *name, *why;
	} bad[] = {
		{"", "expected 1-64 characters"},
		{"../x", "a name starts with a letter or a digit"},
		{".hidden", "a name starts with a letter or a digit"},
		{"a/b", "a name holds only letters, digits, '_', '.' and '-'"},
		{"a b", "a name holds only letters, digits, '_', '.' and '-'"},
		{"a\n", "a name holds only letters, digits, '_', '.' and '-'"},
		{"123", "a name of digits only would be taken for a pid"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *why = record_name_invalid(bad[i].name);
		assert_non_null(why);
		assert_string_equal(why, bad[i].why);
	}
	char longname[66];
	memset(longname, 'x', 65);
	longname[65] = '\0';
	assert_string_equal(record_name_invalid(longname), "expected 1-64 characters");
	longname[64] = '\0';
	assert_null(record_name_invalid(longname));
}

static void test_dir_mode(void **state)
{
	(void)state;
	struct kerr e = {0};
	int fd = record_dir_open(&e);
	assert_true(fd >= 0);
	close(fd);
	char dir[128], msg[256];
	snprintf(dir, sizeof dir, "%s/krill", xdg);
	assert_int_equal(chmod(dir, 0750), 0);
	assert_int_equal(record_dir_open(&e), -1);
	snprintf(msg, sizeof msg, "runtime directory %s is open to other users (mode 0750)", dir);
	assert_string_equal(e.msg, msg);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(symlink("/tmp", dir), 0);
	assert_int_equal(record_dir_open(&e), -1);
	snprintf(msg, sizeof msg, "runtime directory %s is not a directory (a symlink?)", dir);
	assert_string_equal(e.msg, msg);
	assert_int_equal(unlink(dir), 0);
}

static struct record sample(struct sock_filter *insns, unsigned short len)
{
	struct record r = {
		.name = "c1", .pid = getpid(), .pid_start = proc_starttime(getpid()),
		.main_pid = getpid(), .image = "/img", .started = 1, .peers = 1,
		.uid = 1005, .gid = 7, .cgroup = "/krill/c1-42",
	};
	for (int i = 0; i < NS_COUNT; i++)
		r.fds[i] = -1;
	r.fds[NS_MNT] = 5;
	r.sec.privileged = true;
	r.sec.caps = (struct capsets){0x3, 0x1, 0x2, 0x1, 0};
	r.sec.filters[0] = (struct seccomp_bpf){insns, len, 1};
	r.sec.filters[1] = (struct seccomp_bpf){insns, 1, 0};
	r.sec.nfilters = 2;
	return r;
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct sock_filter insns[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
	                              BPF_STMT(BPF_RET | BPF_K, 0x7fff0000)};
	struct record w = sample(insns, 2);
	struct kerr e = {0};
	int dir = record_dir_open(&e);
	assert_true(dir >= 0);
	assert_int_equal(record_write(dir, &w, &e), 0);
	struct record r;
	assert_int_equal(record_read("c1", &r, &e), 0);
	assert_int_equal(r.uid, 1005);
	assert_int_equal(r.gid, 7);
	assert_string_equal(r.cgroup, "/krill/c1-42");
	assert_true(r.sec.privileged);
	assert_memory_equal(&r.sec.caps, &w.sec.caps, sizeof w.sec.caps);
	assert_int_equal(r.fds[NS_MNT], 5);
	assert_int_equal(r.fds[NS_USER], -1);
	assert_int_equal(r.sec.nfilters, 2);
	assert_int_equal(r.sec.filters[0].len, 2);
	assert_int_equal(r.sec.filters[0].flags, 1);
	assert_memory_equal(r.sec.filters[0].insns, insns, sizeof insns);
	assert_int_equal(r.sec.filters[1].len, 1);
	record_free(&r);
	assert_int_equal(record_read("c2", &r, &e), -1);
	assert_string_equal(e.msg, "c2: no such container (see `krill ps`)");
	assert_int_equal(record_read("../c1", &r, &e), -1);
	assert_string_equal(e.msg,
	                    "../c1: invalid container name: a name starts with a letter or a digit");
	close(dir);
}

/* A record whose confinement is damaged is refused, never read as "none". */
static void test_damaged(void **state)
{
	(void)state;
	struct sock_filter insns[] = {BPF_STMT(BPF_RET | BPF_K, 0x7fff0000)};
	struct record w = sample(insns, 1);
	struct kerr e = {0};
	int dir = record_dir_open(&e);
	assert_true(dir >= 0);
	static const struct {
		const char *from, *to;
	} cuts[] = {
		{"\"bpf\":\"", "\"bpf\":\"0"},        /* odd length */
		{"\"bpf\":\"", "\"bpf\":\"zz"},       /* not hex */
		{"\"bounding\":3", "\"bounding\":-1"}, /* not a capability set */
		{"\"uid\":1005", "\"uid\":\"x\""},
		{",\"cgroup\":\"/krill/c1-42\"", ""}, /* missing */
	};
	char path[128];
	snprintf(path, sizeof path, "%s/krill/c1.json", xdg);
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		assert_int_equal(record_write(dir, &w, &e), 0);
		char *text = NULL;
		size_t len;
		assert_int_equal(file_read_all(AT_FDCWD, path, 1 << 20, &text, &len, &e), 0);
		char *at = strstr(text, cuts[i].from);
		assert_non_null(at);
		char *out = xasprintf("%.*s%s%s", (int)(at - text), text, cuts[i].to,
		                      at + strlen(cuts[i].from));
		FILE *f = fopen(path, "w");
		fputs(out, f);
		fclose(f);
		free(out);
		free(text);
		struct record r;
		assert_int_equal(record_read("c1", &r, &e), -1);
		assert_string_equal(e.msg, "record c1.json: invalid confinement");
	}
	close(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_dir_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
