/* test_path.c: unit tests of lib/path.c over a temporary tree: the kernel's
 * RESOLVE_IN_ROOT (openat2) and krill's own component walk must agree on
 * every symlink layout, never leave the root, and create only what is
 * missing, through dangling links, inside the root. */
#include "path.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char top[64];   /* the temporary directory; the root is top/root */
static int root_fd;

static void put(const char *path, const char *text)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", top, path);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void dir(const char *path)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", top, path);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void link_(const char *target, const char *path)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", top, path);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	(void)state;
	strcpy(top, "/tmp/krill-test-path.XXXXXX");
	assert_non_null(mkdtemp(top));
	dir("root");
	dir("root/etc");
	dir("root/run");
	put("root/etc/real", "inside\n");
	put("secret", "host\n");  /* above the root: never reachable */
	link_("/etc/real", "root/etc/abs");
	link_("real", "root/etc/rel");
	link_("../../../../../etc/real", "root/etc/climb");
	link_("/../../secret", "root/etc/abs-climb");
	link_("/run/systemd/resolve/stub", "root/etc/dangling");
	link_("/run/nothing", "root/etc/dangling2");
	link_("loop2", "root/etc/loop1");
	link_("loop1", "root/etc/loop2");
	link_("/etc", "root/etcl");
	link_("/etc/real", "root/etc/to-file");
	char p[256];
	snprintf(p, sizeof p, "%s/root", top);
	root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root_fd >= 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(root_fd);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", top);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* What opening path shows: the file's first line, or "errno:N". */
static char *show(const char *path, int flags)
{
	int fd = open_beneath(root_fd, path, flags);
	if (fd < 0)
		return xasprintf("errno:%d", errno);
	char buf[64] = "";
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return xstrdup(buf);
}

static void both_ways(void (*check)(void))
{
	unsetenv("KRILL_NO_OPENAT2");
	check();
	setenv("KRILL_NO_OPENAT2", "1", 1); /* sticks for the rest of the program */
	check();
}

static void check_table(void)
{
	static const struct {
		const char *path, *want;
	} t[] = {
		{"/etc/abs", "inside"},           /* absolute: from the root */
		{"etc/rel", "inside"},
		{"/etc/climb", "inside"},         /* .. at the root stays there */
		{"/etc/abs-climb", "errno:2"},    /* /secret in the root: missing */
		{"/../../secret", "errno:2"},
		{"/etcl/abs", "inside"},          /* absolute link as a parent */
		{"/etcl/../etc/real", "inside"},
		{"/etc/dangling2", "errno:2"},
		{"/etc/loop1", "errno:40"},       /* ELOOP */
		{"/etc/to-file/x", "errno:20"},   /* ENOTDIR */
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char *got = show(t[i].path, O_RDONLY);
		bool ok = strcmp(got, t[i].want) == 0;
		if (!ok)
			print_error("%s: got %s, want %s (fallback: %s)", t[i].path, got, t[i].want,
			         getenv("KRILL_NO_OPENAT2") ? "yes" : "no");
		free(got);
		assert_true(ok);
	}
	/* O_NOFOLLOW refuses a link as the last component. */
	char *got = show("/etc/abs", O_RDONLY | O_NOFOLLOW);
	assert_string_equal(got, "errno:40");
	free(got);
}

static void test_resolve_in_root(void **state)
{
	(void)state;
	both_ways(check_table);
}

static void test_missing(void **state)
{
	(void)state;
	char *prefix, *rest;
	assert_int_equal(path_missing(root_fd, "/etc/dangling", &prefix, &rest), 0);
	assert_string_equal(prefix, "run");
	assert_string_equal(rest, "systemd/resolve/stub");
	free(prefix);
	free(rest);
	assert_int_equal(path_missing(root_fd, "/etcl/new/file", &prefix, &rest), 0);
	assert_string_equal(prefix, "etc");
	assert_string_equal(rest, "new/file");
	free(prefix);
	free(rest);
	assert_int_equal(path_missing(root_fd, "/etc/abs", &prefix, &rest), 1);
}

static void test_mkpath(void **state)
{
	(void)state;
	/* Through a dangling absolute link: its target is made, in the root. */
	int fd = mkpath_beneath(root_fd, "/etc/dangling", true, 0644, NULL);
	assert_true(fd >= 0);
	close(fd);
	char p[256];
	struct stat st;
	snprintf(p, sizeof p, "%s/root/run/systemd/resolve/stub", top);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* Climbing links make their target inside the root too. */
	link_("../../../../newdir", "root/etc/up");
	fd = mkpath_beneath(root_fd, "/etc/up/a/b", false, 0755, NULL);
	assert_true(fd >= 0);
	close(fd);
	snprintf(p, sizeof p, "%s/root/newdir/a/b", top);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof p, "%s/newdir", top);
	assert_int_equal(stat(p, &st), -1);
	/* Loops stay loops. */
	assert_int_equal(mkpath_beneath(root_fd, "/etc/loop1/x", false, 0755, NULL), -1);
	assert_int_equal(errno, ELOOP);
}

static void test_read_meta(void **state)
{
	(void)state;
	char p[256];
	snprintf(p, sizeof p, "%s/root/fifo", top);
	assert_int_equal(mkfifo(p, 0644), 0);
	struct kerr e = {0};
	char *buf = NULL;
	size_t len;
	assert_int_equal(path_read_meta(root_fd, "fifo", 100, &buf, &len, &e), -1);
	assert_string_equal(e.msg, "/fifo in the image: not a regular file");
	assert_int_equal(path_read_meta(root_fd, "etc/abs", 100, &buf, &len, &e), -1);
	assert_string_equal(e.msg, "/etc/abs in the image: not a regular file");
	assert_int_equal(path_read_meta(root_fd, "etc/real", 3, &buf, &len, &e), -1);
	assert_string_equal(e.msg, "/etc/real in the image: larger than 3 bytes");
	assert_int_equal(path_read_meta(root_fd, "etc/none", 100, &buf, &len, &e), 1);
	assert_int_equal(path_read_meta(root_fd, "etc/real", 100, &buf, &len, &e), 0);
	assert_string_equal(buf, "inside\n");
	assert_int_equal(len, 7);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_missing),
	    cmocka_unit_test(test_read_meta),
	    cmocka_unit_test(test_mkpath),
	    cmocka_unit_test(test_resolve_in_root), /* last: sets KRILL_NO_OPENAT2 */
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
