/* test_cgroup.c: unit tests for lib/cgroup*.c.
 *
 * The parsers and the error paths run anywhere.  The rest needs root and
 * real hierarchies: each backend is forced in turn by filtering the
 * detection result (v1 only, v2 only, both), so that on a hybrid host the
 * v2 code runs on the unified hierarchy and the v1 code on the controller
 * mounts.  Tests that can't run here are skipped with the reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cgroup.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

/* ---- helpers ------------------------------------------------------------ */

#define SKIP_UNLESS(cond, why)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			print_message("# skip: %s\n", why);                                        \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

enum mode { BOTH, V1_ONLY, V2_ONLY };

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Detect, then drop the hierarchies of the other backend. */
static bool detect_mode(struct cgroup_info *info, enum mode m)
{
	struct kerr e;
	assert_int_equal(cgroup_detect(info, &e), 0);
	size_t o = 0;
	for (size_t i = 0; i < info->nh; i++) {
		bool drop = (m == V1_ONLY && info->h[i].v2) || (m == V2_ONLY && !info->h[i].v2);
		if (drop) {
			free(info->h[i].mount);
			free(info->h[i].mount_root);
			free(info->h[i].self);
			continue;
		}
		info->h[o++] = info->h[i];
	}
	info->nh = o;
	info->v2 = -1;
	for (size_t i = 0; i < info->nh; i++)
		if (info->h[i].v2)
			info->v2 = (int)i;
	return o > 0;
}

static char *unique_path(void)
{
	static int n;
	return xasprintf("krill-unit/t%d-%d", (int)getpid(), n++);
}

static bool exists(const char *p)
{
	struct stat st;
	return p && stat(p, &st) == 0;
}

static char *read_file(const char *dir, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
	char *buf = NULL;
	struct kerr e;
	if (file_read_all(AT_FDCWD, p, 1 << 20, &buf, NULL, &e) < 0)
		return NULL;
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* A child that waits for "go" on a pipe, then runs fn. */
static pid_t spawn_waiting(int *go_fd, void (*fn)(void *), void *arg)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[1]);
		char c;
		if (read(p[0], &c, 1) != 1)
			_exit(99);
		fn(arg);
		_exit(0);
	}
	close(p[0]);
	*go_fd = p[1];
	return pid;
}

static void go(int fd)
{
	assert_int_equal(write(fd, "g", 1), 1);
	close(fd);
}

static void count_forever(void *arg)
{
	volatile unsigned long *c = arg;
	for (;;) {
		(*c)++;
		if ((*c & 0xfffff) == 0)
			usleep(100);
	}
}

static void sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
}

/* ---- parsers ------------------------------------------------------------ */

static void test_parse_size(void **state)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t out;
	} t[] = {
	    {"1", 0, 1},
	    {"4096", 0, 4096},
	    {"64k", 0, 65536},
	    {"64K", 0, 65536},
	    {"32m", 0, 32u << 20},
	    {"32M", 0, 32u << 20},
	    {"32mb", 0, 32u << 20},
	    {"2g", 0, 2ull << 30},
	    {"2G", 0, 2ull << 30},
	    {"1t", 0, 1ull << 40},
	    {"", -1, 0},
	    {"0", -1, 0},
	    {"0m", -1, 0},
	    {"-1", -1, 0},
	    {"m", -1, 0},
	    {"12x", -1, 0},
	    {"1.5g", -1, 0},
	    {" 5", -1, 0},
	    {"5 ", -1, 0},
	    {"5mm", -1, 0},
	    {"99999999999999999999", -1, 0},
	    {"17179869184g", -1, 0},
	    {"+5", -1, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t v = 0;
		int r = parse_size(t[i].in, &v);
		if (r != t[i].ret || (r == 0 && v != t[i].out))
			fail_msg("parse_size(\"%s\") = %d, %" PRIu64, t[i].in, r, v);
	}
	uint64_t v;
	assert_int_equal(parse_size(NULL, &v), -1);
}

static void test_parse_cpus(void **state)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t out;
	} t[] = {
	    {"2", 0, 2000},	 {"0.5", 0, 500},  {".5", 0, 500},    {"1.25", 0, 1250},
	    {"0.001", 0, 1},	 {"16", 0, 16000}, {"1.0", 0, 1000},  {"3.141", 0, 3141},
	    {"0", -1, 0},	 {"0.0", -1, 0},   {"0.0001", -1, 0}, {"-1", -1, 0},
	    {"-0.5", -1, 0},	 {"", -1, 0},	   {"abc", -1, 0},    {"1.", -1, 0},
	    {"1.2.3", -1, 0},	 {"1e3", -1, 0},   {"2 ", -1, 0},     {".", -1, 0},
	    {"99999999", -1, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t v = 0;
		int r = parse_cpus(t[i].in, &v);
		if (r != t[i].ret || (r == 0 && v != t[i].out))
			fail_msg("parse_cpus(\"%s\") = %d, %" PRIu64, t[i].in, r, v);
	}
}

/* ---- detection and errors (any user) ------------------------------------ */

static bool is_fs(const char *path, long magic)
{
	struct statfs s;
	return statfs(path, &s) == 0 && s.f_type == magic;
}

static void test_detect(void **state)
{
	struct cgroup_info info;
	struct kerr e;
	assert_int_equal(cgroup_detect(&info, &e), 0);
	/* The same question answered with statfs. */
	enum cgroup_layout want = CGROUP_NONE;
	bool v1 = is_fs("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC) ||
		  is_fs("/sys/fs/cgroup/pids", CGROUP_SUPER_MAGIC) ||
		  is_fs("/sys/fs/cgroup/cpu", CGROUP_SUPER_MAGIC);
	if (is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
		want = v1 ? CGROUP_HYBRID : CGROUP_V2;
	else if (is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
		want = v1 ? CGROUP_HYBRID : CGROUP_V2;
	else if (v1)
		want = CGROUP_V1;
	print_message("# layout: %s\n", cgroup_layout_name(info.layout));
	assert_string_equal(cgroup_layout_name(info.layout), cgroup_layout_name(want));
	if (want == CGROUP_HYBRID && is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC)) {
		assert_true(info.v2 >= 0);
		assert_string_equal(info.h[info.v2].mount, "/sys/fs/cgroup/unified");
	}
	for (size_t i = 0; i < info.nh; i++) {
		assert_non_null(info.h[i].self);
		assert_true(info.h[i].self[0] == '/');
	}
	char *desc, *hint;
	cgroup_describe(&info, &desc, &hint);
	print_message("# %s%s%s\n", desc, hint ? " / hint: " : "", hint ? hint : "");
	assert_non_null(strstr(desc, cgroup_layout_name(info.layout)));
	free(desc);
	free(hint);
	cgroup_info_free(&info);
}

static void test_no_writable_cgroup(void **state)
{
	struct cgroup_info info;
	struct kerr e;
	assert_int_equal(cgroup_detect(&info, &e), 0);
	info.root = false;
	info.self_writable = false;
	struct cgroup_limits lim = {.memory = 32 << 20};
	struct cgroup *cg = NULL;
	assert_int_equal(cgroup_create_in(&info, "krill/x", true, &lim, &cg, &e), -1);
	assert_null(cg);
	assert_string_equal(e.msg, "--memory: no writable cgroup");
	assert_non_null(strstr(e.hint, "delegate a cgroup v2 subtree"));
	lim = (struct cgroup_limits){.pids = 5};
	assert_int_equal(cgroup_create_in(&info, "krill/x", true, &lim, &cg, &e), -1);
	assert_string_equal(e.msg, "--pids-limit: no writable cgroup");
	lim.oci_names = true;
	assert_int_equal(cgroup_create_in(&info, "krill/x", true, &lim, &cg, &e), -1);
	assert_string_equal(e.msg, "linux.resources.pids.limit: no writable cgroup");
	cgroup_info_free(&info);
}

static void test_bad_names(void **state)
{
	struct cgroup *cg = NULL;
	struct kerr e;
	assert_int_equal(cgroup_create(NULL, "a/b", NULL, &cg, &e), -1);
	assert_int_equal(cgroup_create(NULL, "..", NULL, &cg, &e), -1);
	assert_int_equal(cgroup_create(NULL, "", NULL, &cg, &e), -1);
	assert_int_equal(cgroup_create_path("/a/../../b", NULL, &cg, &e), -1);
	assert_int_equal(cgroup_open_existing("relative", &cg, &e), -1);
	assert_null(cg);
}

/* ---- lifecycle per backend (root) --------------------------------------- */

static bool need_root(void)
{
	return geteuid() == 0;
}

static void check_frozen(struct cgroup *cg, volatile unsigned long *counter, pid_t pid)
{
	struct kerr e;
	assert_int_equal(cgroup_freeze(cg, true, &e), 0);
	unsigned long a = *counter;
	msleep(100);
	unsigned long b = *counter;
	assert_int_equal(a, b); /* frozen: no progress */
	_cleanup_free_ char *stat = NULL;
	_cleanup_free_ char *sp = xasprintf("/proc/%d/stat", (int)pid);
	assert_int_equal(file_read_all(AT_FDCWD, sp, 4096, &stat, NULL, &e), 0);
	char st = strrchr(stat, ')')[2];
	print_message("# frozen task state: %c\n", st);
	assert_true(st != 'R');
	/* Freezing twice is fine. */
	assert_int_equal(cgroup_freeze(cg, true, &e), 0);
	assert_int_equal(cgroup_freeze(cg, false, &e), 0);
	msleep(50);
	assert_true(*counter != b);
}

static bool has_file(const char *dir, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
	return exists(p);
}

static void lifecycle(enum mode m)
{
	SKIP_UNLESS(need_root(), "needs root");
	struct cgroup_info info;
	SKIP_UNLESS(detect_mode(&info, m),
		    m == V2_ONLY ? "no cgroup v2 hierarchy" : "no cgroup v1 hierarchy");
	struct kerr e;
	/* Limits where the backend has the controller. */
	unsigned have = 0;
	for (size_t i = 0; i < info.nh; i++)
		have |= info.h[i].ctl;
	struct cgroup_limits lim = {
	    .memory = have & CG_MEMORY ? 32u << 20 : 0,
	    .cpus_milli = have & CG_CPU ? 500 : 0,
	    .pids = have & CG_PIDS ? 20 : 0,
	};
	if (!(have & CG_MEMORY)) {
		/* An absent controller is an error naming the option. */
		print_message("# memory limit skipped: no memory controller in this backend\n");
		struct cgroup_limits mem = {.memory = 32u << 20};
		struct cgroup *bad = NULL;
		_cleanup_free_ char *p = unique_path();
		assert_int_equal(cgroup_create_in(&info, p, true, &mem, &bad, &e), -1);
		print_message("# %s\n", e.msg);
		assert_non_null(strstr(e.msg, "--memory: the memory controller is not available"));
	}
	struct cgroup *cg = NULL;
	_cleanup_free_ char *path = unique_path();
	if (cgroup_create_in(&info, path, true, &lim, &cg, &e) < 0)
		fail_msg("create: %s: %s", e.msg, strerror(e.errnum));
	_cleanup_free_ char *want_rel = xasprintf("/%s", path);
	assert_string_equal(cgroup_path(cg), want_rel);
	const char *v2 = cgroup_dir_v2(cg);
	const char *mem = cgroup_dir_v1(cg, CG_MEMORY), *cpu = cgroup_dir_v1(cg, CG_CPU),
		   *pids = cgroup_dir_v1(cg, CG_PIDS), *frz = cgroup_dir_v1(cg, CG_FREEZER);
	if (m == V1_ONLY)
		assert_null(v2);
	else
		assert_true(exists(v2));
	if (m == V2_ONLY)
		assert_true(!mem && !cpu && !pids && !frz);
	if (mem) {
		_cleanup_free_ char *l = read_file(mem, "memory.limit_in_bytes");
		assert_string_equal(l, "33554432");
	}
	if (cpu) {
		_cleanup_free_ char *q = read_file(cpu, "cpu.cfs_quota_us");
		assert_string_equal(q, "50000");
	}
	if (pids) {
		_cleanup_free_ char *pm = read_file(pids, "pids.max");
		assert_string_equal(pm, "20");
	}
	if (m == V2_ONLY && (have & CG_MEMORY)) {
		_cleanup_free_ char *l = read_file(v2, "memory.max");
		assert_string_equal(l, "33554432");
	}

	/* enter */
	volatile unsigned long *counter =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(counter != MAP_FAILED);
	int gofd;
	pid_t child = spawn_waiting(&gofd, count_forever, (void *)counter);
	if (cgroup_enter(cg, child, &e) < 0)
		fail_msg("enter: %s: %s", e.msg, strerror(e.errnum));
	go(gofd);
	assert_int_equal(cgroup_nprocs(cg, &e), 1);
	const char *any = v2 ? v2 : mem ? mem : pids;
	_cleanup_free_ char *procs = read_file(any, "cgroup.procs");
	assert_int_equal(atoi(procs), child);
	msleep(20);

	/* freeze / thaw */
	if ((v2 && has_file(v2, "cgroup.freeze")) || frz) {
		check_frozen(cg, counter, child);
		if (v2 && has_file(v2, "cgroup.freeze")) {
			assert_int_equal(cgroup_freeze(cg, true, &e), 0);
			_cleanup_free_ char *ev = NULL;
			_cleanup_free_ char *evp = xasprintf("%s/cgroup.events", v2);
			assert_int_equal(file_read_all(AT_FDCWD, evp, 4096, &ev, NULL, &e), 0);
			assert_non_null(strstr(ev, "frozen 1"));
			assert_int_equal(cgroup_freeze(cg, false, &e), 0);
		} else {
			assert_int_equal(cgroup_freeze(cg, true, &e), 0);
			_cleanup_free_ char *fs = read_file(frz, "freezer.state");
			assert_string_equal(fs, "FROZEN");
			assert_int_equal(cgroup_freeze(cg, false, &e), 0);
			_cleanup_free_ char *ts = read_file(frz, "freezer.state");
			assert_string_equal(ts, "THAWED");
		}
	} else {
		print_message("# freeze skipped: no cgroup.freeze and no v1 freezer\n");
	}

	/* open from "another process": the saved path is enough */
	struct cgroup *other = NULL;
	if (cgroup_open_existing_in(&info, cgroup_path(cg), &other, &e) < 0)
		fail_msg("open_existing: %s", e.msg);
	assert_int_equal(cgroup_nprocs(other, &e), 1);

	/* kill_all with a catchable signal: freeze, signal, thaw */
	assert_int_equal(cgroup_kill_all(other, SIGTERM, &e), 0);
	int st;
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	cgroup_free(other); /* opened, not owned: stays */
	assert_true(exists(any));

	/* kill_all SIGKILL (cgroup.kill on v2 when present) */
	pid_t c2 = spawn_waiting(&gofd, sleep_forever, NULL);
	assert_int_equal(cgroup_enter(cg, c2, &e), 0);
	go(gofd);
	assert_int_equal(cgroup_kill_all(cg, SIGKILL, &e), 0);
	assert_int_equal(waitpid(c2, &st, 0), c2);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/* destroy with a live process in it */
	pid_t c3 = spawn_waiting(&gofd, sleep_forever, NULL);
	assert_int_equal(cgroup_enter(cg, c3, &e), 0);
	go(gofd);
	_cleanup_free_ char *d0 = xstrdup(any);
	if (cgroup_destroy(cg, &e) < 0)
		fail_msg("destroy: %s: %s", e.msg, strerror(e.errnum));
	assert_int_equal(waitpid(c3, &st, 0), c3);
	assert_false(exists(d0));
	assert_int_equal(cgroup_destroy(cg, &e), 0); /* idempotent */
	cgroup_free(cg);
	/* The shared parent went with its last child. */
	char *slash = strrchr(d0, '/');
	*slash = '\0';
	assert_false(exists(d0));
	munmap((void *)counter, 4096);
	cgroup_info_free(&info);
}

static void test_lifecycle_hybrid(void **state)
{
	lifecycle(BOTH);
}
static void test_lifecycle_v1(void **state)
{
	lifecycle(V1_ONLY);
}
static void test_lifecycle_v2(void **state)
{
	lifecycle(V2_ONLY);
}

/* ---- limits that bite (root) --------------------------------------------- */

static void touch_200m(void *arg)
{
	size_t n = 200u << 20;
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	for (size_t i = 0; i < n; i += 4096)
		p[i] = 1;
	_exit(0);
}

static void test_oom(void **state)
{
	SKIP_UNLESS(need_root(), "needs root");
	struct cgroup_info info;
	struct kerr e;
	assert_int_equal(cgroup_detect(&info, &e), 0);
	struct cgroup_limits lim = {.memory = 32u << 20};
	struct cgroup *cg = NULL;
	_cleanup_free_ char *path = unique_path();
	if (cgroup_create_in(&info, path, true, &lim, &cg, &e) < 0) {
		cgroup_info_free(&info);
		print_message("# skip: %s\n", e.msg);
		skip();
	}
	uint64_t before = 99;
	assert_int_equal(cgroup_oom_kills(cg, &before), 0);
	assert_int_equal(before, 0);
	int gofd;
	pid_t c = spawn_waiting(&gofd, touch_200m, NULL);
	assert_int_equal(cgroup_enter(cg, c, &e), 0);
	go(gofd);
	int st;
	assert_int_equal(waitpid(c, &st, 0), c);
	if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
		fail_msg("expected SIGKILL by the OOM killer, got status 0x%x", st);
	uint64_t after = 0;
	assert_int_equal(cgroup_oom_kills(cg, &after), 0);
	assert_true(after >= 1);
	assert_int_equal(cgroup_destroy(cg, &e), 0);
	cgroup_free(cg);
	cgroup_info_free(&info);
}

static void fork_loop(void *arg)
{
	int n = 0;
	for (int i = 0; i < 100; i++) {
		pid_t p = fork();
		if (p == 0) {
			for (;;)
				pause();
		}
		if (p < 0)
			break;
		n++;
	}
	_exit(n);
}

static void test_pids(void **state)
{
	SKIP_UNLESS(need_root(), "needs root");
	struct cgroup_info info;
	struct kerr e;
	assert_int_equal(cgroup_detect(&info, &e), 0);
	struct cgroup_limits lim = {.pids = 20};
	struct cgroup *cg = NULL;
	_cleanup_free_ char *path = unique_path();
	if (cgroup_create_in(&info, path, true, &lim, &cg, &e) < 0) {
		cgroup_info_free(&info);
		print_message("# skip: %s\n", e.msg);
		skip();
	}
	int gofd;
	pid_t c = spawn_waiting(&gofd, fork_loop, NULL);
	assert_int_equal(cgroup_enter(cg, c, &e), 0);
	go(gofd);
	int st;
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_true(WIFEXITED(st));
	print_message("# forks before the limit: %d\n", WEXITSTATUS(st));
	assert_true(WEXITSTATUS(st) < 20);
	assert_true(WEXITSTATUS(st) >= 10);
	/* The orphans are still in the cgroup; destroy kills them. */
	assert_true(cgroup_nprocs(cg, &e) > 0);
	assert_int_equal(cgroup_destroy(cg, &e), 0);
	cgroup_free(cg);
	cgroup_info_free(&info);
}

static void busy(void *arg)
{
	(void)arg;
	for (volatile unsigned long i = 0;; i++)
		;
}

static uint64_t usage_ns(struct cgroup *cg)
{
	const char *acct = cgroup_dir_v1(cg, CG_CPUACCT);
	if (acct) {
		_cleanup_free_ char *u = read_file(acct, "cpuacct.usage");
		return u ? strtoull(u, NULL, 10) : 0;
	}
	const char *v2 = cgroup_dir_v2(cg);
	_cleanup_free_ char *p = xasprintf("%s/cpu.stat", v2);
	_cleanup_free_ char *s = NULL;
	if (!v2 || file_read_all(AT_FDCWD, p, 4096, &s, NULL, NULL) < 0)
		return 0;
	char *k = strstr(s, "usage_usec ");
	return k ? strtoull(k + 11, NULL, 10) * 1000 : 0;
}

static void test_cpus(void **state)
{
	SKIP_UNLESS(need_root(), "needs root");
	struct cgroup_info info;
	struct kerr e;
	assert_int_equal(cgroup_detect(&info, &e), 0);
	struct cgroup_limits lim = {.cpus_milli = 500};
	struct cgroup *cg = NULL;
	_cleanup_free_ char *path = unique_path();
	if (cgroup_create_in(&info, path, true, &lim, &cg, &e) < 0) {
		cgroup_info_free(&info);
		print_message("# skip: %s\n", e.msg);
		skip();
	}
	int gofd;
	pid_t c = spawn_waiting(&gofd, busy, NULL);
	assert_int_equal(cgroup_enter(cg, c, &e), 0);
	go(gofd);
	msleep(200);
	struct timespec t0, t1;
	uint64_t u0 = usage_ns(cg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	msleep(1000);
	uint64_t u1 = usage_ns(cg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	double pct = (double)(u1 - u0) * 100.0 / wall;
	print_message("# busy loop under cpus=0.5: %.1f%%\n", pct);
	assert_int_equal(cgroup_destroy(cg, &e), 0);
	int st;
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_true(pct >= 35.0 && pct <= 65.0);
	cgroup_free(cg);
	cgroup_info_free(&info);
}

/* ---- the guard (root) ------------------------------------------------- */

static bool gone_within(const char *dir, int ms)
{
	for (int t = 0; t < ms; t += 20) {
		if (!exists(dir))
			return true;
		msleep(20);
	}
	return !exists(dir);
}

static bool pid_gone(pid_t pid, int ms)
{
	_cleanup_free_ char *p = xasprintf("/proc/%d/stat", (int)pid);
	for (int t = 0; t <= ms; t += 20) {
		_cleanup_free_ char *s = NULL;
		if (file_read_all(AT_FDCWD, p, 4096, &s, NULL, NULL) < 0)
			return true;
		if (strrchr(s, ')')[2] == 'Z')
			return true; /* exited; its new parent reaps it */
		msleep(20);
	}
	return false;
}

static void test_guard_sigkill(void **state)
{
	SKIP_UNLESS(need_root(), "needs root");
	struct kerr e;
	struct cgroup *cg = NULL;
	_cleanup_free_ char *name = xasprintf("guard-%d", (int)getpid());
	if (cgroup_create("krill-unit", name, NULL, &cg, &e) < 0)
		fail_msg("create: %s: %s", e.msg, strerror(e.errnum));
	_cleanup_free_ char *dir =
	    xstrdup(cgroup_dir_v2(cg) ? cgroup_dir_v2(cg) : cgroup_dir_v1(cg, CG_MEMORY));
	/* Something to kill in the cgroup. */
	int gofd;
	pid_t sleeper = spawn_waiting(&gofd, sleep_forever, NULL);
	assert_int_equal(cgroup_enter(cg, sleeper, &e), 0);
	go(gofd);
	/* The holder plays krill: it starts the guard and gets SIGKILL. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t holder = fork();
	assert_true(holder >= 0);
	if (holder == 0) {
		close(p[0]);
		struct kerr he;
		if (cgroup_guard_start(cg, &he) < 0)
			_exit(1);
		pid_t g = cgroup_guard_pid(cg);
		if (write(p[1], &g, sizeof g) != sizeof g)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	pid_t guard = 0;
	assert_int_equal(read(p[0], &guard, sizeof guard), sizeof guard);
	close(p[0]);
	assert_true(guard > 0);
	_cleanup_free_ char *gproc = xasprintf("/proc/%d", (int)guard);
	_cleanup_free_ char *comm = read_file(gproc, "comm");
	assert_string_equal(comm, "krill-cg-guard");
	_cleanup_free_ char *cwd = xasprintf("%s/cwd", gproc);
	char link[64] = "";
	assert_true(readlink(cwd, link, sizeof link - 1) > 0);
	assert_string_equal(link, "/");
	kill(holder, SIGKILL);
	int st;
	assert_int_equal(waitpid(holder, &st, 0), holder);
	assert_true(gone_within(dir, 2000));
	assert_int_equal(waitpid(sleeper, &st, 0), sleeper);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_true(pid_gone(guard, 1000));
	/* Our copy of the handle: the guard did the work. */
	assert_int_equal(cgroup_destroy(cg, &e), 0);
	cgroup_free(cg);
}

static void test_guard_normal_exit(void **state)
{
	SKIP_UNLESS(need_root(), "needs root");
	struct kerr e;
	struct cgroup *cg = NULL;
	_cleanup_free_ char *name = xasprintf("guard2-%d", (int)getpid());
	if (cgroup_create("krill-unit", name, NULL, &cg, &e) < 0)
		fail_msg("create: %s: %s", e.msg, strerror(e.errnum));
	assert_int_equal(cgroup_guard_start(cg, &e), 0);
	pid_t guard = cgroup_guard_pid(cg);
	assert_true(guard > 0);
	/* The guard holds only 0-2 (/dev/null), its pipe and a pidfd (after
	 * it has closed the "ready" pipe it just wrote to). */
	msleep(50);
	_cleanup_free_ char *fdd = xasprintf("/proc/%d/fd", (int)guard);
	int nfd = 0;
	for (int fd = 0; fd < 64; fd++) {
		_cleanup_free_ char *p = xasprintf("%s/%d", fdd, fd);
		if (exists(p)) {
			char l[256] = "";
			if (readlink(p, l, sizeof l - 1) < 0)
				l[0] = '?';
			print_message("# guard fd %d -> %s\n", fd, l);
			nfd++;
		}
	}
	assert_true(nfd <= 5);
	_cleanup_free_ char *dir =
	    xstrdup(cgroup_dir_v2(cg) ? cgroup_dir_v2(cg) : cgroup_dir_v1(cg, CG_MEMORY));
	assert_int_equal(cgroup_destroy(cg, &e), 0);
	assert_false(exists(dir));
	assert_true(pid_gone(guard, 1000));
	cgroup_free(cg);
}

static void test_create_path(void **state)
{
	SKIP_UNLESS(need_root(), "needs root");
	struct kerr e;
	struct cgroup *cg = NULL;
	_cleanup_free_ char *path = xasprintf("/krill-unit-oci-%d/ctr1", (int)getpid());
	struct cgroup_limits lim = {.pids = 50, .oci_names = true};
	if (cgroup_create_path(path, &lim, &cg, &e) < 0)
		fail_msg("create_path: %s: %s", e.msg, strerror(e.errnum));
	assert_string_equal(cgroup_path(cg), path);
	/* A second create of the same path while it's in use fails. */
	int gofd;
	pid_t c = spawn_waiting(&gofd, sleep_forever, NULL);
	assert_int_equal(cgroup_enter(cg, c, &e), 0);
	go(gofd);
	struct cgroup *dup = NULL;
	assert_int_equal(cgroup_create_path(path, &lim, &dup, &e), -1);
	assert_non_null(strstr(e.msg, "can't create cgroup"));
	_cleanup_free_ char *dir =
	    xstrdup(cgroup_dir_v2(cg) ? cgroup_dir_v2(cg) : cgroup_dir_v1(cg, CG_PIDS));
	assert_int_equal(cgroup_destroy(cg, &e), 0);
	int st;
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_false(exists(dir));
	/* The OCI parent is not ours: it stays.  Clean it up by hand. */
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	assert_true(exists(dir));
	cgroup_free(cg);
	struct cgroup_info info;
	assert_int_equal(cgroup_detect(&info, &e), 0);
	for (size_t i = 0; i < info.nh; i++) {
		_cleanup_free_ char *pd =
		    xasprintf("%s/krill-unit-oci-%d", info.h[i].mount, (int)getpid());
		rmdir(pd);
	}
	cgroup_info_free(&info);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_size),
	    cmocka_unit_test(test_parse_cpus),
	    cmocka_unit_test(test_detect),
	    cmocka_unit_test(test_no_writable_cgroup),
	    cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_lifecycle_hybrid),
	    cmocka_unit_test(test_lifecycle_v1),
	    cmocka_unit_test(test_lifecycle_v2),
	    cmocka_unit_test(test_oom),
	    cmocka_unit_test(test_pids),
	    cmocka_unit_test(test_cpus),
	    cmocka_unit_test(test_guard_sigkill),
	    cmocka_unit_test(test_guard_normal_exit),
	    cmocka_unit_test(test_create_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
