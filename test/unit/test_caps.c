/* test_caps.c: capability names, --cap-add/--cap-drop arithmetic, and (as
 * root, in forked children) the sets a process really ends up with. */
#include "caps.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define DOCKER_DEFAULT UINT64_C(0x00000000a80425fb) /* CapEff of a default Docker container */

static void test_parse_name(void **state)
{
	int cap = -1;
	struct kerr e = {0};
	assert_int_equal(caps_parse_name("CAP_CHOWN", &cap, &e), 0);
	assert_int_equal(cap, 0);
	assert_int_equal(caps_parse_name("sys_admin", &cap, &e), 0);
	assert_int_equal(cap, 21);
	assert_int_equal(caps_parse_name("cap_Sys_Admin", &cap, &e), 0);
	assert_int_equal(cap, 21);
	assert_int_equal(caps_parse_name("CHECKPOINT_RESTORE", &cap, &e), 0);
	assert_int_equal(cap, 40);
	static const char *const bad[] = {"FLY", "", "CAP_", "ALL", "CAP_CHOWN ", "CAPCHOWN"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char want[64];
		assert_int_equal(caps_parse_name(bad[i], &cap, &e), -1);
		snprintf(want, sizeof want, "unknown capability '%s'", bad[i]);
		assert_string_equal(e.msg, want);
	}
	assert_string_equal(caps_name(21), "CAP_SYS_ADMIN");
	assert_string_equal(caps_name(40), "CAP_CHECKPOINT_RESTORE");
	assert_null(caps_name(41));
	assert_null(caps_name(-1));
}

static void test_default_set(void **state)
{
	assert_int_equal(caps_default, DOCKER_DEFAULT);
	assert_int_equal(caps_all, UINT64_C(0x1ffffffffff));
}

static void split(const char *list, struct strv *out)
{
	if (!list)
		return;
	char *s = strdup(list), *save;
	for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		strv_push(out, tok);
	free(s);
}

static struct capsets from(const char *add, const char *drop)
{
	struct strv a = {0}, d = {0};
	split(add, &a);
	split(drop, &d);
	struct capsets c;
	struct kerr e = {0};
	if (caps_from_options(&a, &d, &c, &e) < 0)
		fail_msg("%s", e.msg);
	strv_free(&a);
	strv_free(&d);
	assert_int_equal(c.bounding, c.effective);
	assert_int_equal(c.bounding, c.permitted);
	assert_int_equal(c.bounding, c.inheritable);
	assert_int_equal(c.ambient, 0);
	return c;
}

static void test_options(void **state)
{
	assert_int_equal(from(NULL, NULL).bounding, DOCKER_DEFAULT);
	assert_int_equal(from("SYS_ADMIN", NULL).bounding, DOCKER_DEFAULT | CAPS_BIT(21));
	assert_int_equal(from(NULL, "chown,CAP_NET_RAW").bounding,
			 DOCKER_DEFAULT & ~CAPS_BIT(0) & ~CAPS_BIT(13));
	assert_int_equal(from(NULL, "ALL").bounding, 0);
	assert_int_equal(from(NULL, "all").bounding, 0);
	assert_int_equal(from("SYS_ADMIN", "ALL").bounding, CAPS_BIT(21));
	assert_int_equal(from("ALL", NULL).bounding, caps_all);
	assert_int_equal(from("ALL", "SYS_ADMIN").bounding, caps_all & ~CAPS_BIT(21));
	/* An explicit add wins over a drop of the same cap. */
	assert_int_equal(from("SYS_ADMIN", "sys_admin").bounding, DOCKER_DEFAULT | CAPS_BIT(21));
	assert_int_equal(from("ALL", "ALL").bounding, caps_all);
}

static void test_options_errors(void **state)
{
	struct strv a = {0}, d = {0};
	struct capsets c;
	struct kerr e = {0};
	strv_push(&a, "SYS_FLY");
	assert_int_equal(caps_from_options(&a, &d, &c, &e), -1);
	assert_string_equal(e.msg, "--cap-add=SYS_FLY: unknown capability");
	assert_non_null(strstr(e.hint, "capabilities(7)"));
	strv_free(&a);
	strv_push(&d, "chown");
	strv_push(&d, "bogus");
	assert_int_equal(caps_from_options(&a, &d, &c, &e), -1);
	assert_string_equal(e.msg, "--cap-drop=bogus: unknown capability");
	strv_free(&d);
}

static void test_last_cap(void **state)
{
	int last = caps_last_cap();
	assert_true(last >= 36 && last < 64);
}

/* ---- applying, as root ------------------------------------------------- */

static uint64_t status_field(const char *text, const char *field)
{
	const char *p = strstr(text, field);
	assert_non_null(p);
	return strtoull(p + strlen(field), NULL, 16);
}

/* Apply s in a child (as uid, unless uid < 0), exec cat /proc/self/status,
 * and return what the exec'd program holds. */
static void apply_and_read(const struct capsets *s, int uid, char *out, size_t size)
{
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct kerr e;
		dup2(pfd[1], 1);
		int r = uid < 0 ? caps_apply(s, &e)
				: caps_apply_for_uid(s, (uid_t)uid, (gid_t)uid, NULL, 0, &e);
		if (r < 0) {
			kerr_print(&e);
			_exit(3);
		}
		execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
		_exit(4);
	}
	close(pfd[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < size && (r = read(pfd[0], out + n, size - n - 1)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(pfd[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_apply_default(void **state)
{
	if (geteuid() != 0)
		skip();
	char buf[8192];
	struct capsets s = from(NULL, NULL);
	apply_and_read(&s, -1, buf, sizeof buf);
	assert_int_equal(status_field(buf, "CapBnd:"), DOCKER_DEFAULT);
	assert_int_equal(status_field(buf, "CapEff:"), DOCKER_DEFAULT);
	assert_int_equal(status_field(buf, "CapPrm:"), DOCKER_DEFAULT);
	assert_int_equal(status_field(buf, "CapInh:"), DOCKER_DEFAULT);
	assert_int_equal(status_field(buf, "CapAmb:"), 0);

	s = from(NULL, "ALL");
	apply_and_read(&s, -1, buf, sizeof buf);
	assert_int_equal(status_field(buf, "CapBnd:"), 0);
	assert_int_equal(status_field(buf, "CapEff:"), 0);

	s = from("SYS_ADMIN", NULL);
	apply_and_read(&s, -1, buf, sizeof buf);
	assert_int_equal(status_field(buf, "CapEff:") & CAPS_BIT(21), CAPS_BIT(21));
}

static void test_apply_for_uid(void **state)
{
	if (geteuid() != 0)
		skip();
	char buf[8192];
	/* Docker semantics: a non-root user keeps the bounding set but execs
	 * with no permitted/effective caps. */
	struct capsets s = from(NULL, NULL);
	apply_and_read(&s, 1000, buf, sizeof buf);
	assert_int_equal(status_field(buf, "Uid:"), 0x1000); /* "1000" read as hex */
	assert_int_equal(status_field(buf, "CapBnd:"), DOCKER_DEFAULT);
	assert_int_equal(status_field(buf, "CapEff:"), 0);
	assert_int_equal(status_field(buf, "CapPrm:"), 0);
	/* An ambient cap (OCI process.capabilities.ambient) survives the exec. */
	s.ambient = CAPS_BIT(10);
	apply_and_read(&s, 1000, buf, sizeof buf);
	assert_int_equal(status_field(buf, "CapAmb:"), CAPS_BIT(10));
	assert_int_equal(status_field(buf, "CapEff:"), CAPS_BIT(10));
}

static void test_apply_missing_cap(void **state)
{
	if (geteuid() != 0)
		skip();
	/* Ask for a bounding cap we have dropped: a clear error naming it. */
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct kerr e;
		struct capsets s = {0};
		if (caps_apply(&s, &e) < 0)
			_exit(2);
		s.bounding = s.permitted = s.effective = CAPS_BIT(21);
		if (caps_apply(&s, &e) == 0)
			_exit(3);
		_exit(strcmp(e.msg, "CAP_SYS_ADMIN: can't put it in the bounding set") == 0 ? 0
											    : 4);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_name),	  cmocka_unit_test(test_default_set),
	    cmocka_unit_test(test_options),	  cmocka_unit_test(test_options_errors),
	    cmocka_unit_test(test_last_cap),	  cmocka_unit_test(test_apply_default),
	    cmocka_unit_test(test_apply_for_uid), cmocka_unit_test(test_apply_missing_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
