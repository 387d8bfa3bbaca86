/* test_hold.c: unit tests of lib/hold.c: the report `krill run --hold-fd`
 * sends to the SPANK plugin, written over a real socket pair and parsed
 * back, and the exact errors for malformed reports. */
#include "hold.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void round_trip(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		char *env[] = {"PATH=/usr/bin:/bin", "EMPTY=", "X=a=b", NULL};
		struct kerr e = {0};
		_exit(hold_report_and_wait(sv[1], "/work dir", env, &e) == 0 ? 0 : 1);
	}
	close(sv[1]);
	char buf[4096];
	size_t n = 0;
	while (n < 2 || buf[n - 1] || buf[n - 2]) {
		ssize_t r = read(sv[0], buf + n, sizeof buf - n);
		assert_true(r > 0);
		n += (size_t)r;
	}
	/* The holder waits for us to close our end. */
	int status;
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	long hpid;
	const char *cwd;
	char **env;
	struct kerr e = {0};
	assert_int_equal(hold_report_parse(buf, n, &hpid, &cwd, &env, &e), 0);
	assert_int_equal(hpid, pid);
	assert_string_equal(cwd, "/work dir");
	assert_string_equal(env[0], "PATH=/usr/bin:/bin");
	assert_string_equal(env[1], "EMPTY=");
	assert_string_equal(env[2], "X=a=b");
	assert_null(env[3]);
	free(env);
	close(sv[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A literal and its length without the compiler's final NUL. */
#define S(lit) lit, sizeof(lit) - 1

static void bad_reports(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *msg;
	} bad[] = {
		{S(""), "container report: truncated"},
		{S("KRILL-READY 1\0pid=5\0cwd=/"), "container report: truncated"},
		{S("KRILL-READY 2\0pid=5\0cwd=/\0\0"), "container report: malformed header"},
		{S("KRILL-READY 1\0cwd=/\0pid=5\0\0"), "container report: malformed header"},
		{S("KRILL-READY 1\0pid=5\0cwd=x\0\0"), "container report: malformed header"},
		{S("KRILL-READY 1\0pid=-5\0cwd=/\0\0"), "container report: bad pid '-5'"},
		{S("KRILL-READY 1\0pid=1\0cwd=/\0\0"), "container report: bad pid '1'"},
		{S("KRILL-READY 1\0pid=5x\0cwd=/\0\0"), "container report: bad pid '5x'"},
		{S("KRILL-READY 1\0pid=5\0cwd=/\0NOEQUALS\0\0"),
		 "container report: bad environment entry"},
		{S("KRILL-READY 1\0pid=5\0cwd=/\0=x\0\0"), "container report: bad environment entry"},
		{S("KRILL-READY 1\0pid=5\0cwd=/\0\0A=b\0"), "container report: data after the end"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char buf[64];
		memcpy(buf, bad[i].bytes, bad[i].len);
		long pid;
		const char *cwd;
		char **env;
		struct kerr e = {0};
		assert_int_equal(hold_report_parse(buf, bad[i].len, &pid, &cwd, &env, &e), -1);
		assert_null(env);
		assert_string_equal(e.msg, bad[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(bad_reports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
