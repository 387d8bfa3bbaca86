/* test_join_params.c: unit tests of lib/join_params.c and lib/bind_spec.c:
 * group sizes from every launcher variable, Slurm task lists, tags, and the
 * exact error lines for bad values. */
#include "bind_spec.h"
#include "join_params.h"
#include "nsjoin.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

static void slurm_lists(void **state)
{
	static const struct {
		const char *list;
		unsigned long node, want;
	} ok[] = {
		{"4", 0, 4},         {"2(x3),1", 0, 2}, {"2(x3),1", 1, 2}, {"2(x3),1", 2, 2},
		{"2(x3),1", 3, 1},   {"1,2,3", 2, 3},   {"16(x2)", 1, 16}, {"3,5(x2),7", 3, 7},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		unsigned long n = 0;
		struct kerr e;
		assert_int_equal(join_slurm_tasks(ok[i].list, ok[i].node, &n, &e), 0);
		assert_int_equal(n, ok[i].want);
	}
	static const struct {
		const char *list;
		unsigned long node;
		const char *msg;
	} bad[] = {
		{"", 0, "SLURM_STEP_TASKS_PER_NODE is empty"},
		{"2(x3),1", 4, "SLURM_STEP_TASKS_PER_NODE=2(x3),1: no entry for node 4 (SLURM_NODEID)"},
		{"x", 0, "SLURM_STEP_TASKS_PER_NODE=x: expected a number at 'x'"},
		{"2(x0)", 0, "SLURM_STEP_TASKS_PER_NODE=2(x0): bad repeat '(x0'"},
		{"2(y3)", 0, "SLURM_STEP_TASKS_PER_NODE=2(y3): trailing characters '(y3)'"},
		{"0", 0, "SLURM_STEP_TASKS_PER_NODE=0: task count out of range (1-65536)"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		unsigned long n = 0;
		struct kerr e;
		assert_int_equal(join_slurm_tasks(bad[i].list, bad[i].node, &n, &e), -1);
		assert_string_equal(e.msg, bad[i].msg);
	}
}

static void sizes_from_env(void **state)
{
	static const struct {
		char *env[4];
		unsigned long want;
		const char *source;
	} ok[] = {
		{{"OMPI_COMM_WORLD_LOCAL_SIZE=4", "PMIX_LOCAL_SIZE=8"}, 4, "OMPI_COMM_WORLD_LOCAL_SIZE"},
		{{"PMIX_LOCAL_SIZE=8", "MPI_LOCALNRANKS=2"}, 8, "PMIX_LOCAL_SIZE"},
		{{"MPI_LOCALNRANKS=2"}, 2, "MPI_LOCALNRANKS"},
		{{"SLURM_STEP_TASKS_PER_NODE=2(x3),1", "SLURM_NODEID=3"}, 1, "SLURM_STEP_TASKS_PER_NODE"},
		{{"SLURM_STEP_TASKS_PER_NODE=2(x3),1", "SLURM_NODEID=1"}, 2, "SLURM_STEP_TASKS_PER_NODE"},
		{{"SLURM_STEP_TASKS_PER_NODE=5"}, 5, "SLURM_STEP_TASKS_PER_NODE"},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		unsigned long n = 0;
		const char *src = NULL;
		struct kerr e;
		assert_int_equal(join_size(0, ok[i].env, &n, &src, &e), 0);
		assert_int_equal(n, ok[i].want);
		assert_string_equal(src, ok[i].source);
	}
	unsigned long n;
	const char *src;
	struct kerr e;
	char *env[] = {"OMPI_COMM_WORLD_LOCAL_SIZE=4", NULL};
	assert_int_equal(join_size(3, env, &n, &src, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(src, "--join-ct");

	static const struct {
		char *env[3];
		const char *msg;
	} bad[] = {
		{{"OMPI_COMM_WORLD_LOCAL_SIZE=abc"}, "OMPI_COMM_WORLD_LOCAL_SIZE=abc: no digits"},
		{{"PMIX_LOCAL_SIZE=4x"}, "PMIX_LOCAL_SIZE=4x: trailing characters 'x'"},
		{{"MPI_LOCALNRANKS=0"}, "MPI_LOCALNRANKS=0: out of range (1-65536)"},
		{{"MPI_LOCALNRANKS=99999999999999999999"},
		 "MPI_LOCALNRANKS=99999999999999999999: out of range (1-65536)"},
		{{"SLURM_STEP_TASKS_PER_NODE=2", "SLURM_NODEID=x"}, "SLURM_NODEID=x: no digits"},
		{{"HOME=/"}, "--join: can't tell the number of peers: none of "
		             "OMPI_COMM_WORLD_LOCAL_SIZE, PMIX_LOCAL_SIZE, MPI_LOCALNRANKS or "
		             "SLURM_STEP_TASKS_PER_NODE is set"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(join_size(0, bad[i].env, &n, &src, &e), -1);
		assert_string_equal(e.msg, bad[i].msg);
	}
	assert_string_equal(e.hint, "give it with --join-ct=N");
}

static void tags(void **state)
{
	const char *src;
	char *env1[] = {"SLURM_JOB_ID=77", "SLURM_STEP_ID=3", "PMIX_NAMESPACE=p", NULL};
	char *t = join_tag(NULL, env1, 5, &src);
	assert_string_equal(t, "77.3");
	assert_string_equal(src, "SLURM_JOB_ID.SLURM_STEP_ID");
	free(t);
	char *env2[] = {"PMIX_NAMESPACE=prterun-x-1@1", NULL};
	t = join_tag(NULL, env2, 5, &src);
	assert_string_equal(t, "prterun-x-1@1");
	free(t);
	char *env3[] = {"OMPI_MCA_ess_base_jobid=12345", NULL};
	t = join_tag(NULL, env3, 5, &src);
	assert_string_equal(t, "12345");
	free(t);
	char *env4[] = {NULL};
	t = join_tag(NULL, env4, 42, &src);
	assert_string_equal(t, "ppid42");
	assert_string_equal(src, "the parent PID");
	free(t);
	t = join_tag("mine", env1, 42, &src);
	assert_string_equal(t, "mine");
	free(t);
}

static void bind_specs(void **state)
{
	static const struct {
		const char *spec;
		const char *src, *dst;
		bool ro;
	} ok[] = {
		{"/a", "/a", "/a", false},           {"/a:/b", "/a", "/b", false},
		{"/a:/b:ro", "/a", "/b", true},      {"/a://b//c/", "/a", "/b/c", false},
		{"/a:/b/./c", "/a", "/b/c", false},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct bind b;
		struct kerr e;
		assert_int_equal(bind_spec_parse(ok[i].spec, false, &b, &e), 0);
		assert_string_equal(b.src, ok[i].src);
		assert_string_equal(b.dst, ok[i].dst);
		assert_int_equal(b.ro, ok[i].ro);
		free(b.src);
		free(b.dst);
	}
	static const struct {
		const char *spec, *msg;
	} bad[] = {
		{"", "--bind=: no source"},
		{":/x", "--bind=:/x: no source"},
		{"rel:/x", "--bind=rel:/x: source must be an absolute path"},
		{"/a:", "--bind=/a:: empty destination"},
		{"/a:/", "--bind=/a:/: destination may not be /"},
		{"/a:b", "--bind=/a:b: destination must be an absolute path"},
		{"/a:/x/../y", "--bind=/a:/x/../y: destination may not contain '..'"},
		{"/a:/b:rw", "--bind=/a:/b:rw: unknown flag 'rw' (only 'ro' is known)"},
		{"?/a", "--bind=?/a: source must be an absolute path"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct bind b;
		struct kerr e;
		assert_int_equal(bind_spec_parse(bad[i].spec, false, &b, &e), -1);
		assert_string_equal(e.msg, bad[i].msg);
	}
	struct bind b;
	struct kerr e;
	assert_int_equal(bind_spec_parse("?/opt/site", true, &b, &e), 0);
	assert_true(b.optional);
	free(b.src);
	free(b.dst);
}

/* Field 22 of /proc/self/stat, as the kernel documents it, for a process
 * whose name holds spaces and parentheses. */
static void starttime(void **state)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	char *p = strrchr(buf, ')') + 2;
	unsigned long long want = 0;
	for (int field = 3; field < 22; field++)
		p = strchr(p, ' ') + 1;
	want = strtoull(p, NULL, 10);
	assert_true(want > 0);
	char st = 0;
	assert_int_equal(proc_starttime_state(getpid(), &st), want);
	assert_true(st == 'R' || st == 'S');
	assert_int_equal(proc_starttime(999999999), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slurm_lists),
		cmocka_unit_test(sizes_from_env),
		cmocka_unit_test(tags),
		cmocka_unit_test(bind_specs),
		cmocka_unit_test(starttime),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
