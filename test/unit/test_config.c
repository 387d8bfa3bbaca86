/* test_config.c: unit tests of krill.conf parsing, loading and applying
 * (lib/config.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct krill_config cfg;
static struct kerr e;

static int setup(void **state)
{
	config_init(&cfg);
	cfg.uid = 1234;
	cfg.user = xstrdup("alice");
	memset(&e, 0, sizeof e);
	return 0;
}

static int teardown(void **state)
{
	config_free(&cfg);
	return 0;
}

static int parse_as(const char *name, const char *text)
{
	memset(&e, 0, sizeof e);
	return config_parse(text, strlen(text), name, &cfg, &e);
}

static int parse(const char *text)
{
	return parse_as("k.conf", text);
}

#define ok(text) assert_int_equal(parse(text), 0)
#define bad(text, want)                                                                            \
	do {                                                                                       \
		assert_int_equal(parse(text), -1);                                                 \
		assert_string_equal(e.msg, want);                                                  \
		assert_int_equal(e.errnum, 0);                                                     \
	} while (0)

static void test_defaults(void **state)
{
	assert_null(cfg.storage);
	assert_int_equal(cfg.nbinds, 0);
	assert_false(cfg.private_tmp);
	assert_string_equal(cfg.write_fake_size, "12%");
	assert_int_equal(cfg.env_keep.n, 0);
	assert_int_equal(cfg.join_timeout, 30);
	assert_int_equal(cfg.squash_threads, 0);
	assert_string_equal(cfg.cgroup_parent, "krill");
	assert_null(cfg.oci_root);
	assert_true(cfg.syslog);
	ok("");
	ok("\n\n; only comments\n# here\n");
	assert_string_equal(cfg.write_fake_size, "12%");
}

static void test_spec_example(void **state)
{
	ok("[run]\n"
	   "storage = /var/tmp/%u.krill     ; %u = user name\n"
	   "binds = /scratch, /projects:/projects:ro, ?/opt/site   ; ? = optional\n"
	   "private-tmp = false\n"
	   "write-fake-size = 12%\n"
	   "env-keep = SLURM_*, PMI*, OMPI_*\n"
	   "\n"
	   "[join]\n"
	   "timeout = 30\n"
	   "\n"
	   "[squash]\n"
	   "threads = 4\n"
	   "\n"
	   "[oci]\n"
	   "root = /run/krill\n");
	assert_string_equal(cfg.storage, "/var/tmp/alice.krill");
	assert_int_equal(cfg.nbinds, 3);
	assert_string_equal(cfg.binds[0].src, "/scratch");
	assert_string_equal(cfg.binds[0].dst, "/scratch");
	assert_false(cfg.binds[0].ro);
	assert_false(cfg.binds[0].optional);
	assert_string_equal(cfg.binds[1].src, "/projects");
	assert_true(cfg.binds[1].ro);
	assert_string_equal(cfg.binds[2].src, "/opt/site");
	assert_true(cfg.binds[2].optional);
	assert_false(cfg.private_tmp);
	assert_int_equal(cfg.env_keep.n, 3);
	assert_string_equal(cfg.env_keep.v[0], "SLURM_*");
	assert_string_equal(cfg.env_keep.v[1], "PMI*");
	assert_string_equal(cfg.env_keep.v[2], "OMPI_*");
	assert_null(cfg.env_keep.v[3]);
	assert_int_equal(cfg.join_timeout, 30);
	assert_int_equal(cfg.squash_threads, 4);
	assert_string_equal(cfg.oci_root, "/run/krill");
}

static void test_comments(void **state)
{
	ok("; leading comment\n# hash comment\n[join] ; after a section\n"
	   "timeout = 45 ; inline\n");
	assert_int_equal(cfg.join_timeout, 45);
	/* `;` starts a comment only after a blank, as in the SPEC example. */
	ok("[run]\nenv-keep = A;B ; comment\n");
	assert_int_equal(cfg.env_keep.n, 1);
	assert_string_equal(cfg.env_keep.v[0], "A;B");
	/* `#` is a comment only at the start of a line. */
	bad("[join]\ntimeout = 5 # five\n",
	    "k.conf:2: timeout: expected a number of seconds (1-3600), got '5 # five'");
	ok("  ; indented comment\n[join]\n\ttimeout = 7\n");
	assert_int_equal(cfg.join_timeout, 7);
}

static void test_line_endings(void **state)
{
	ok("\xEF\xBB\xBF[join]\r\ntimeout = 9\r\n");
	assert_int_equal(cfg.join_timeout, 9);
	ok("[join]\ntimeout = 8"); /* no final newline */
	assert_int_equal(cfg.join_timeout, 8);
	bad("[join]\r\ntimeout = x\r\n",
	    "k.conf:2: timeout: expected a number of seconds (1-3600), got 'x'");
}

static void test_storage(void **state)
{
	ok("[run]\nstorage = /s/%u/%U/%%/x");
	assert_string_equal(cfg.storage, "/s/alice/1234/%/x");
	free(cfg.user);
	cfg.user = NULL;
	ok("[run]\nstorage = /var/tmp/%u.krill");
	assert_string_equal(cfg.storage, "/var/tmp/1234.krill");
	bad("[run]\nstorage = /s/%x",
	    "k.conf:2: storage: unknown '%x' in '/s/%x' (known: %u user name, %U uid, %% a %)");
	bad("[run]\nstorage = /s/%",
	    "k.conf:2: storage: unknown '%' in '/s/%' (known: %u user name, %U uid, %% a %)");
	bad("[run]\nstorage = var/tmp",
	    "k.conf:2: storage: expected an absolute path, got 'var/tmp'");
	bad("[run]\nstorage =", "k.conf:2: storage: expected an absolute path, got ''");
	assert_string_equal(cfg.storage, "/var/tmp/1234.krill");
}

static void test_binds(void **state)
{
	ok("[run]\nbinds = /a ,  /b:/c:ro,?/d:/e\n");
	assert_int_equal(cfg.nbinds, 3);
	assert_string_equal(cfg.binds[0].src, "/a");
	assert_string_equal(cfg.binds[1].dst, "/c");
	assert_true(cfg.binds[1].ro);
	assert_true(cfg.binds[2].optional);
	assert_string_equal(cfg.binds[2].dst, "/e");
	/* Lines in one file add up; a later file replaces the list. */
	ok("[run]\nbinds = /a\nbinds = /b, /c\n");
	assert_int_equal(cfg.nbinds, 3);
	assert_string_equal(cfg.binds[2].src, "/c");
	ok("[run]\nbinds = /x\n");
	assert_int_equal(cfg.nbinds, 1);
	assert_string_equal(cfg.binds[0].src, "/x");
	/* An empty value clears the earlier file's list. */
	ok("[run]\nbinds =\n");
	assert_int_equal(cfg.nbinds, 0);

	bad("[run]\nbinds = /a,,/b", "k.conf:2: binds: empty item in '/a,,/b'");
	bad("[run]\nbinds = /a,", "k.conf:2: binds: empty item in '/a,'");
	bad("[run]\nbinds = scratch", "k.conf:2: binds: scratch: source must be an absolute path");
	bad("[run]\nbinds = /a, /b:/c:rw",
	    "k.conf:2: binds: /b:/c:rw: unknown flag 'rw' (only 'ro' is known)");
	bad("[run]\nbinds = ?/a:../b",
	    "k.conf:2: binds: ?/a:../b: destination must be an absolute path");
	bad("[run]\nbinds = /a:/", "k.conf:2: binds: /a:/: destination may not be /");
	bad("[run]\nbinds = ?\?/a", "k.conf:2: binds: ?\?/a: source must be an absolute path");
}

static void test_bools(void **state)
{
	static const char *const yes[] = {"true", "yes", "1", "TRUE", "Yes"};
	static const char *const no[] = {"false", "no", "0", "False", "NO"};
	char buf[64];
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		snprintf(buf, sizeof buf, "[run]\nprivate-tmp = %s\n[log]\nsyslog=%s", yes[i],
			 no[i]);
		ok(buf);
		assert_true(cfg.private_tmp);
		assert_false(cfg.syslog);
		snprintf(buf, sizeof buf, "[run]\nprivate-tmp = %s\n[log]\nsyslog=%s", no[i],
			 yes[i]);
		ok(buf);
		assert_false(cfg.private_tmp);
		assert_true(cfg.syslog);
	}
	bad("[run]\nprivate-tmp = on",
	    "k.conf:2: private-tmp: expected true or false (or yes/no, 1/0), got 'on'");
	bad("[log]\nsyslog = 2",
	    "k.conf:2: syslog: expected true or false (or yes/no, 1/0), got '2'");
	bad("[log]\nsyslog =", "k.conf:2: syslog: expected true or false (or yes/no, 1/0), got ''");
}

static void test_write_fake_size(void **state)
{
	static const char *const good[] = {"1%", "100%", "12%", "512m", "4G", "1024", "10k", "1g"};
	static const char *const worse[] = {
	    "0%",	    "101%", "%",  "0", "12x", "-1", "1.5g", "g", "99999999999999999999",
	    "17179869184g", "+5",   "5 %"};
	char buf[128];
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		snprintf(buf, sizeof buf, "[run]\nwrite-fake-size = %s", good[i]);
		ok(buf);
		assert_string_equal(cfg.write_fake_size, good[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(worse); i++) {
		snprintf(buf, sizeof buf, "[run]\nwrite-fake-size=%s", worse[i]);
		assert_int_equal(parse(buf), -1);
		char want[256];
		snprintf(
		    want, sizeof want,
		    "k.conf:2: write-fake-size: expected a percentage of RAM (1%%-100%%) or a size "
		    "such as 512m or 4g, got '%s'",
		    worse[i]);
		assert_string_equal(e.msg, want);
	}
	assert_string_equal(cfg.write_fake_size, "1g");
}

static void test_env_keep(void **state)
{
	ok("[run]\nenv-keep = FOO, BAR_*,LC_?\n");
	assert_int_equal(cfg.env_keep.n, 3);
	assert_string_equal(cfg.env_keep.v[2], "LC_?");
	ok("[run]\nenv-keep = X\n");
	assert_int_equal(cfg.env_keep.n, 1);
	ok("[run]\nenv-keep = \n");
	assert_int_equal(cfg.env_keep.n, 0);
	bad("[run]\nenv-keep = A=B", "k.conf:2: env-keep: 'A=B' is not a glob of variable names");
	bad("[run]\nenv-keep = A B", "k.conf:2: env-keep: 'A B' is not a glob of variable names");
	bad("[run]\nenv-keep = A, ,B", "k.conf:2: env-keep: empty item in 'A, ,B'");
}

static void test_timeout(void **state)
{
	ok("[join]\ntimeout = 1");
	assert_int_equal(cfg.join_timeout, 1);
	ok("[join]\ntimeout = 3600");
	assert_int_equal(cfg.join_timeout, 3600);
	bad("[join]\ntimeout = x",
	    "k.conf:2: timeout: expected a number of seconds (1-3600), got 'x'");
	bad("[join]\ntimeout = 0",
	    "k.conf:2: timeout: expected a number of seconds (1-3600), got '0'");
	bad("[join]\ntimeout = 3601",
	    "k.conf:2: timeout: expected a number of seconds (1-3600), got '3601'");
	bad("[join]\ntimeout = -5",
	    "k.conf:2: timeout: expected a number of seconds (1-3600), got '-5'");
	bad("[join]\ntimeout = 30s",
	    "k.conf:2: timeout: expected a number of seconds (1-3600), got '30s'");
	assert_int_equal(cfg.join_timeout, 3600);
}

static void test_threads(void **state)
{
	ok("[squash]\nthreads = 1");
	assert_int_equal(cfg.squash_threads, 1);
	ok("[squash]\nthreads = 64");
	assert_int_equal(cfg.squash_threads, 64);
	bad("[squash]\nthreads = 0",
	    "k.conf:2: threads: expected a number of threads (1-64), got '0'");
	bad("[squash]\nthreads = 65",
	    "k.conf:2: threads: expected a number of threads (1-64), got '65'");
	bad("[squash]\nthreads = four",
	    "k.conf:2: threads: expected a number of threads (1-64), got 'four'");
}

static void test_cgroup_parent(void **state)
{
	ok("[cgroup]\nparent = krill/jobs/");
	assert_string_equal(cfg.cgroup_parent, "krill/jobs");
	ok("[cgroup]\nparent = ./a//b/.");
	assert_string_equal(cfg.cgroup_parent, "a/b");
	bad("[cgroup]\nparent = /sys/fs/cgroup/krill",
	    "k.conf:2: parent: expected a relative path without '..', got '/sys/fs/cgroup/krill'");
	bad("[cgroup]\nparent = a/../b",
	    "k.conf:2: parent: expected a relative path without '..', got 'a/../b'");
	bad("[cgroup]\nparent = .",
	    "k.conf:2: parent: expected a relative path without '..', got '.'");
	bad("[cgroup]\nparent =",
	    "k.conf:2: parent: expected a relative path without '..', got ''");
	assert_string_equal(cfg.cgroup_parent, "a/b");
}

static void test_oci_root(void **state)
{
	ok("[oci]\nroot = /run//krill/");
	assert_string_equal(cfg.oci_root, "/run/krill");
	bad("[oci]\nroot = run/krill",
	    "k.conf:2: root: expected an absolute path without '..', got 'run/krill'");
	bad("[oci]\nroot = /run/../tmp",
	    "k.conf:2: root: expected an absolute path without '..', got '/run/../tmp'");
}

static void test_structure_errors(void **state)
{
	bad("[run]\n; c\n\nfoo = 1\n", "k.conf:4: unknown key 'foo' in [run]");
	bad("[join]\nstorage = /x\n", "k.conf:2: unknown key 'storage' in [join]");
	bad("[run]\nStorage = /x\n", "k.conf:2: unknown key 'Storage' in [run]");
	bad("[run]\nprivate_tmp = 1\n", "k.conf:2: unknown key 'private_tmp' in [run]");
	bad("[nope]\nfoo = 1\n", "k.conf:1: unknown section [nope]");
	bad("[run]\n[empty]\n", "k.conf:2: unknown section [empty]");
	bad("[run] junk\n", "k.conf:1: unexpected text after [run]");
	bad("timeout = 3\n[join]\n", "k.conf:1: key 'timeout' is outside any section");
	bad("[run]\n= /x\n", "k.conf:2: missing key name before '='");
	bad("[run]\n\njust some words\n",
	    "k.conf:3: can't parse 'just some words': expected KEY = VALUE or [SECTION]");
	bad("[run\nstorage = /x\n",
	    "k.conf:1: can't parse '[run': expected KEY = VALUE or [SECTION]");
	/* Not a continuation of the previous value, as inih would have it. */
	bad("[run]\nstorage = /x\n   /y\n",
	    "k.conf:3: can't parse '/y': expected KEY = VALUE or [SECTION]");
	assert_int_equal(parse("[run]\nstorage = /x\0y\n"), 0); /* strlen stops at the NUL */
	const char nul[] = "[run]\nstorage = /x\0y\n";
	assert_int_equal(config_parse(nul, sizeof nul - 1, "k.conf", &cfg, &e), -1);
	assert_string_equal(e.msg, "k.conf:2: NUL byte in line");
}

static void test_sections_trimmed(void **state)
{
	ok("[ join ]\ntimeout = 3\n");
	assert_int_equal(cfg.join_timeout, 3);
}

static void test_long_line(void **state)
{
	char buf[400];
	int n = snprintf(buf, sizeof buf, "[run]\nstorage = /");
	memset(buf + n, 'a', 250);
	strcpy(buf + n + 250, "\n[join]\ntimeout = x\n");
	bad(buf, "k.conf:2: line too long (more than 198 characters)");
	/* 198 characters fit. */
	n = snprintf(buf, sizeof buf, "[run]\nstorage = /");
	memset(buf + n, 'a', 198 - 11);
	buf[n + 198 - 11] = '\0';
	ok(buf);
	assert_int_equal(strlen(cfg.storage), 198 - 10);
}

static void test_first_error_wins(void **state)
{
	bad("[join]\ntimeout = x\n[squash]\nthreads = y\n",
	    "k.conf:2: timeout: expected a number of seconds (1-3600), got 'x'");
	bad("[join]\nbroken\ntimeout = x\n",
	    "k.conf:2: can't parse 'broken': expected KEY = VALUE or [SECTION]");
	bad("[join]\ntimeout = x\nbroken\n",
	    "k.conf:2: timeout: expected a number of seconds (1-3600), got 'x'");
	bad("[join]\nbroken\n[bad]\n",
	    "k.conf:2: can't parse 'broken': expected KEY = VALUE or [SECTION]");
	assert_int_equal(parse_as("/etc/krill/krill.conf", "[run]\n\n\n\n\n\nfoo = 1\n"), -1);
	assert_string_equal(e.msg, "/etc/krill/krill.conf:7: unknown key 'foo' in [run]");
}

static void test_later_overrides(void **state)
{
	ok("[join]\ntimeout = 10\n[run]\nprivate-tmp = yes\nenv-keep = A, B\n");
	ok("[join]\ntimeout = 20\n");
	assert_int_equal(cfg.join_timeout, 20);
	assert_true(cfg.private_tmp);
	assert_int_equal(cfg.env_keep.n, 2);
	ok("[run]\nenv-keep = C\nenv-keep = D\n");
	assert_int_equal(cfg.env_keep.n, 2);
	assert_string_equal(cfg.env_keep.v[0], "C");
	assert_string_equal(cfg.env_keep.v[1], "D");
}

static void test_apply(void **state)
{
	ok("[run]\nstorage = /st\nbinds = /a, ?/b:/c:ro\nprivate-tmp = 1\nwrite-fake-size = 2g\n"
	   "env-keep = K*\n[join]\ntimeout = 99\n[squash]\nthreads = 3\n[cgroup]\nparent = p/q\n");
	struct container c;
	container_init(&c);
	c.storage = xstrdup("/old");
	c.binds = xcalloc(1, sizeof *c.binds);
	c.binds[0].src = xstrdup("/user");
	c.binds[0].dst = xstrdup("/user");
	c.nbinds = 1;
	strv_push(&c.env_keep, "MINE");
	config_apply(&cfg, &c);
	assert_string_equal(c.storage, "/st");
	assert_int_equal(c.nbinds, 3);
	assert_string_equal(c.binds[0].src, "/a");
	assert_false(c.binds[0].optional);
	assert_string_equal(c.binds[1].src, "/b");
	assert_string_equal(c.binds[1].dst, "/c");
	assert_true(c.binds[1].optional);
	assert_true(c.binds[1].ro);
	assert_string_equal(c.binds[2].src, "/user");
	assert_true(c.private_tmp);
	assert_string_equal(c.write_fake_size, "2g");
	assert_int_equal(c.env_keep.n, 2);
	assert_string_equal(c.env_keep.v[0], "K*");
	assert_string_equal(c.env_keep.v[1], "MINE");
	assert_int_equal(c.join_timeout, 99);
	assert_int_equal(c.squash_threads, 3);
	assert_string_equal(c.cgroup_parent, "p/q");
	assert_ptr_not_equal(c.binds[0].src, cfg.binds[0].src);
	container_free(&c);

	/* Built-in defaults reach a container too. */
	config_free(&cfg);
	config_init(&cfg);
	container_init(&c);
	config_apply(&cfg, &c);
	assert_null(c.storage);
	assert_int_equal(c.nbinds, 0);
	assert_string_equal(c.write_fake_size, "12%");
	assert_int_equal(c.join_timeout, 30);
	assert_string_equal(c.cgroup_parent, "krill");
	container_free(&c);
}

/* The shipped example must parse; the tests run from the top of the tree. */
static void test_example_site_config(void **state)
{
	char *buf;
	size_t len;
	const char *path = "examples/site/krill.conf";
	if (access(path, F_OK) < 0)
		skip();
	assert_int_equal(file_read_all(AT_FDCWD, path, 1 << 20, &buf, &len, &e), 0);
	int r = config_parse(buf, len, path, &cfg, &e);
	free(buf);
	assert_int_equal(r, 0);
	assert_string_equal(cfg.storage, "/var/tmp/alice.krill");
	assert_int_equal(cfg.nbinds, 3);
	assert_true(cfg.binds[2].optional);
}

/* ---- config_load ------------------------------------------------------- */

static char tmp[64];

static void write_file(const char *rel, const char *text)
{
	char path[256], dir[256];
	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	/* mkdir -p of the parents */
	for (char *s = strchr(path + strlen(tmp) + 1, '/'); s; s = strchr(s + 1, '/')) {
		snprintf(dir, sizeof dir, "%.*s", (int)(s - path), path);
		mkdir(dir, 0755);
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *at(const char *rel)
{
	static char path[4][256];
	static int i;
	i = (i + 1) % 4;
	snprintf(path[i], sizeof path[i], "%s/%s", tmp, rel);
	return path[i];
}

static int load_setup(void **state)
{
	setup(state);
	snprintf(tmp, sizeof tmp, "/tmp/krill-test-config.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	unsetenv("KRILL_CONFIG");
	unsetenv("KRILL_STORAGE");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", at("home"), 1);
	write_file("site.conf",
		   "[join]\ntimeout = 10\n[squash]\nthreads = 2\n[run]\nbinds = /site\n");
	return 0;
}

static int load_teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
	return teardown(state);
}

static int load(void)
{
	memset(&e, 0, sizeof e);
	return config_load_from(at("site.conf"), &cfg, &e);
}

static void test_load_site_only(void **state)
{
	assert_int_equal(load(), 0);
	assert_int_equal(cfg.join_timeout, 10);
	assert_int_equal(cfg.squash_threads, 2);
	assert_int_equal(cfg.nbinds, 1);
	assert_string_equal(cfg.storage, "/var/tmp/alice.krill");
}

static void test_load_user_over_site(void **state)
{
	write_file("home/.config/krill/krill.conf",
		   "[join]\ntimeout = 20\n[run]\nbinds = /mine, /more\nstorage=/u/%u\n");
	assert_int_equal(load(), 0);
	assert_int_equal(cfg.join_timeout, 20);
	assert_int_equal(cfg.squash_threads, 2);
	assert_int_equal(cfg.nbinds, 2);
	assert_string_equal(cfg.binds[0].src, "/mine");
	assert_string_equal(cfg.storage, "/u/alice");
}

static void test_load_xdg(void **state)
{
	write_file("home/.config/krill/krill.conf", "[join]\ntimeout = 20\n");
	write_file("xdg/krill/krill.conf", "[join]\ntimeout = 30\n");
	setenv("XDG_CONFIG_HOME", at("xdg"), 1);
	assert_int_equal(load(), 0);
	assert_int_equal(cfg.join_timeout, 30);
	/* A relative XDG_CONFIG_HOME is ignored, as the XDG spec says. */
	setenv("XDG_CONFIG_HOME", "xdg", 1);
	assert_int_equal(load(), 0);
	assert_int_equal(cfg.join_timeout, 20);
}

static void test_load_missing_files(void **state)
{
	unlink(at("site.conf"));
	unsetenv("HOME");
	assert_int_equal(load(), 0);
	assert_int_equal(cfg.join_timeout, 30);
	setenv("HOME", at("nohome"), 1);
	assert_int_equal(load(), 0);
	/* A file where a directory should be counts as missing. */
	write_file("file", "");
	setenv("XDG_CONFIG_HOME", at("file"), 1);
	assert_int_equal(load(), 0);
}

static void test_load_krill_config(void **state)
{
	write_file("home/.config/krill/krill.conf", "[join]\ntimeout = 20\n");
	write_file("other.conf", "[squash]\nthreads = 7\n");
	setenv("KRILL_CONFIG", at("other.conf"), 1);
	assert_int_equal(load(), 0);
	/* Only that file: neither the site's timeout nor the user's. */
	assert_int_equal(cfg.squash_threads, 7);
	assert_int_equal(cfg.join_timeout, 30);
	assert_int_equal(cfg.nbinds, 0);
}

static void test_load_krill_config_empty(void **state)
{
	write_file("home/.config/krill/krill.conf", "[join]\ntimeout = 20\n");
	setenv("KRILL_CONFIG", "", 1);
	assert_int_equal(load(), 0);
	assert_int_equal(cfg.join_timeout, 30);
	assert_int_equal(cfg.squash_threads, 0);
	assert_int_equal(cfg.nbinds, 0);
	assert_string_equal(cfg.storage, "/var/tmp/alice.krill");
}

static void test_load_krill_config_missing(void **state)
{
	setenv("KRILL_CONFIG", at("absent.conf"), 1);
	assert_int_equal(load(), -1);
	char want[256];
	snprintf(want, sizeof want, "can't open %s", at("absent.conf"));
	assert_string_equal(e.msg, want);
	assert_int_equal(e.errnum, ENOENT);
	assert_string_equal(
	    e.hint, "KRILL_CONFIG names this file; set KRILL_CONFIG= (empty) for no config file");
}

static void test_load_errors_name_file(void **state)
{
	write_file("site.conf", "[join]\n\nfoo = 1\n");
	assert_int_equal(load(), -1);
	char want[256];
	snprintf(want, sizeof want, "%s:3: unknown key 'foo' in [join]", at("site.conf"));
	assert_string_equal(e.msg, want);

	write_file("site.conf", "");
	write_file("home/.config/krill/krill.conf", "[squash]\nthreads = 100\n");
	assert_int_equal(load(), -1);
	snprintf(want, sizeof want, "%s:2: threads: expected a number of threads (1-64), got '100'",
		 at("home/.config/krill/krill.conf"));
	assert_string_equal(e.msg, want);

	if (geteuid() != 0) { /* root reads it anyway */
		write_file("home/.config/krill/krill.conf", "");
		chmod(at("home/.config/krill/krill.conf"), 0);
		assert_int_equal(load(), -1);
		assert_int_equal(e.errnum, EACCES);
	}
}

static void test_load_storage(void **state)
{
	setenv("KRILL_STORAGE", "/env/store", 1);
	write_file("site.conf", "[run]\nstorage = /site/%u\n");
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.storage, "/env/store");
	setenv("KRILL_STORAGE", "", 1);
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.storage, "/site/alice");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spec_example, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_line_endings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_storage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_binds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bools, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_fake_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_keep, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cgroup_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oci_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_structure_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sections_trimmed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_first_error_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_later_overrides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_example_site_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_site_only, load_setup, load_teardown),
	    cmocka_unit_test_setup_teardown(test_load_user_over_site, load_setup, load_teardown),
	    cmocka_unit_test_setup_teardown(test_load_xdg, load_setup, load_teardown),
	    cmocka_unit_test_setup_teardown(test_load_missing_files, load_setup, load_teardown),
	    cmocka_unit_test_setup_teardown(test_load_krill_config, load_setup, load_teardown),
	    cmocka_unit_test_setup_teardown(test_load_krill_config_empty, load_setup,
					    load_teardown),
	    cmocka_unit_test_setup_teardown(test_load_krill_config_missing, load_setup,
					    load_teardown),
	    cmocka_unit_test_setup_teardown(test_load_errors_name_file, load_setup, load_teardown),
	    cmocka_unit_test_setup_teardown(test_load_storage, load_setup, load_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
