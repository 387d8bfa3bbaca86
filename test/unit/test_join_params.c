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
	/* {env..., want tag, want source}: the tag comes from the launcher
	 * whose variable gives the size. */
	static const struct {
		char *env[6];
		const char *tag, *source;
	} cases[] = {
		/* srun alone: Slurm's step */
		{{"SLURM_JOB_ID=77", "SLURM_STEP_ID=3", "SLURM_STEP_TASKS_PER_NODE=4", "PMIX_NAMESPACE=p"},
		 "77.3", "SLURM_JOB_ID.SLURM_STEP_ID"},
		/* mpirun inside a Slurm batch step (issue 10 item 5): mpirun's own
		 * id, not the step both mpiruns share */
		{{"SLURM_JOB_ID=77", "SLURM_STEP_ID=4294967291", "SLURM_STEP_TASKS_PER_NODE=1",
		  "OMPI_COMM_WORLD_LOCAL_SIZE=2", "PMIX_NAMESPACE=1560150017"},
		 "1560150017", "PMIX_NAMESPACE"},
		{{"SLURM_JOB_ID=77", "SLURM_STEP_ID=0", "OMPI_COMM_WORLD_LOCAL_SIZE=2",
		  "OMPI_MCA_ess_base_jobid=12345"},
		 "12345", "OMPI_MCA_ess_base_jobid"},
		/* srun --mpi=pmix */
		{{"SLURM_JOB_ID=77", "SLURM_STEP_ID=5", "SLURM_STEP_TASKS_PER_NODE=2",
		  "PMIX_LOCAL_SIZE=2", "PMIX_NAMESPACE=slurm.pmix.77.5"},
		 "slurm.pmix.77.5", "PMIX_NAMESPACE"},
		/* Hydra inside a Slurm job: its proxy, the parent */
		{{"SLURM_JOB_ID=77", "SLURM_STEP_ID=0", "SLURM_STEP_TASKS_PER_NODE=1",
		  "MPI_LOCALNRANKS=2"},
		 "ppid42", "the parent PID"},
		/* a launcher without its id: the parent, never another launcher's */
		{{"SLURM_JOB_ID=77", "OMPI_COMM_WORLD_LOCAL_SIZE=2"}, "ppid42", "the parent PID"},
		{{"SLURM_STEP_TASKS_PER_NODE=2", "PMIX_NAMESPACE=p"}, "ppid42", "the parent PID"},
		/* no launcher (--join-ct): a Slurm job, else an MPI id, else the parent */
		{{"SLURM_JOB_ID=77"}, "77.0", "SLURM_JOB_ID.SLURM_STEP_ID"},
		{{"PMIX_NAMESPACE=prterun-x-1@1"}, "prterun-x-1@1", "PMIX_NAMESPACE"},
		{{"OMPI_MCA_ess_base_jobid=12345"}, "12345", "OMPI_MCA_ess_base_jobid"},
		{{NULL}, "ppid42", "the parent PID"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *src = NULL;
		char *t = join_tag(NULL, cases[i].env, 42, &src);
		if (strcmp(t, cases[i].tag) || strcmp(src, cases[i].source))
			fail_msg("case %zu: got %s from %s, want %s from %s", i, t, src,
			         cases[i].tag, cases[i].source);
		free(t);
	}
	/* The size comes from the same launcher as the tag. */
	char *nested[] = {"SLURM_STEP_TASKS_PER_NODE=1", "OMPI_COMM_WORLD_LOCAL_SIZE=2",
	                  "PMIX_NAMESPACE=9", NULL};
	unsigned long n;
	const char *src;
	struct kerr e;
	assert_int_equal(join_size(0, nested, &n, &src, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(src, "OMPI_COMM_WORLD_LOCAL_SIZE");
	char *t = join_tag("mine", nested, 42, &src);
	assert_string_equal(t, "mine");
	assert_string_equal(src, "--join-tag");
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
