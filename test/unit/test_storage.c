/* test_storage.c: unit tests of lib/storage.c: ch-image's names, the trust
 * rule on fds (owner and mode), and lookups in both layouts. */
#include "storage.h"
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

static void ch_names(void **state)
{
	static const struct {
		const char *name, *want;
	} cases[] = {
		{"debian", "debian"},
		{"debian:12", "debian+12"},
		{"library/debian:12", "library%debian+12"},
		{"localhost:5000/a/b:tag", "localhost+5000%a%b+tag"},
		{"..", NULL},
		{".", NULL},
		{"", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = storage_ch_name(cases[i].name);
		if (!cases[i].want)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
		free(got);
	}
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_null(storage_ch_name(longname));
}

static void check_fd_modes(void **state)
{
	char dir[] = "/tmp/krill-test-storage.XXXXXX";
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	struct kerr e;
	int fd = storage_open_dir(dir, &e);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(storage_open_dir(dir, &e), -1);
	char want[512];
	snprintf(want, sizeof want, "%s: writable by its group (mode 0775)", dir);
	assert_string_equal(e.msg, want);
	assert_int_equal(chmod(dir, 0757), 0);
	assert_int_equal(storage_open_dir(dir, &e), -1);
	snprintf(want, sizeof want, "%s: writable by others (mode 0757)", dir);
	assert_string_equal(e.msg, want);
	assert_int_equal(chmod(dir, 0755), 0);
	_cleanup_free_ char *missing = xasprintf("%s/none", dir);
	assert_int_equal(storage_open_dir(missing, &e), -1);
	assert_int_equal(e.errnum, ENOENT);

	/* Lookups: krill's layout first, then Charliecloud's. */
	_cleanup_free_ char *img = xasprintf("%s/img", dir);
	_cleanup_free_ char *ch = xasprintf("%s/img/library%%tiny+1", dir);
	_cleanup_free_ char *sq = xasprintf("%s/x.sqfs", dir);
	assert_int_equal(mkdir(img, 0755), 0);
	assert_int_equal(mkdir(ch, 0755), 0);
	int f = open(sq, O_CREAT | O_WRONLY, 0644);
	assert_true(f >= 0);
	close(f);
	const char *dirs[] = {missing, dir, NULL};
	struct storage_hit hit;
	assert_int_equal(storage_find(dirs, "library/tiny:1", &hit, &e), 1);
	assert_true(hit.charliecloud);
	assert_string_equal(hit.path, ch);
	close(hit.fd);
	free(hit.path);
	assert_int_equal(storage_find(dirs, "x", &hit, &e), 1);
	assert_false(hit.charliecloud);
	assert_string_equal(hit.path, sq);
	close(hit.fd);
	free(hit.path);
	assert_int_equal(storage_find(dirs, "nothing", &hit, &e), 0);
	/* An image others can write to is refused, by its path. */
	assert_int_equal(chmod(sq, 0646), 0);
	assert_int_equal(storage_find(dirs, "x", &hit, &e), -1);
	snprintf(want, sizeof want, "%s: writable by others (mode 0646)", sq);
	assert_string_equal(e.msg, want);
	assert_int_equal(chmod(img, 0777), 0);
	assert_int_equal(storage_find(dirs, "library/tiny:1", &hit, &e), -1);
	snprintf(want, sizeof want, "%s: writable by its group and others (mode 0777)", img);
	assert_string_equal(e.msg, want);

	unlink(sq);
	rmdir(ch);
	rmdir(img);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ch_names),
		cmocka_unit_test(check_fd_modes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
