/* test_passwd.c: unit tests of lib/passwd.c: the caller's passwd and group
 * entries merged into an image's own files (issue 10 item 9). */
#include "passwd.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#define OURS_PASSWD "root:x:0:0:root:/root:/bin/sh\n" \
	"alice:x:1004:1004:Alice:/home/alice:/bin/sh\n" \
	"nobody:x:65534:65534:nobody:/:/bin/false\n"
#define OURS_GROUP "root:x:0:\nalice:x:1004:\nnogroup:x:65534:\n"

static void merge_is(const char *image, size_t len, const char *ours, const char *want)
{
	char *got = passwd_merge(image, len, ours);
	assert_string_equal(got, want);
	free(got);
}
#define MERGE(image, ours, want) merge_is(image, sizeof image - 1, ours, want)

static void keeps_the_image_entries(void **state)
{
	/* The image's root and nobody stay; its system users stay; ours is
	 * appended. */
	MERGE("root:x:0:0:root:/root:/bin/bash\n"
	      "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
	      "_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n"
	      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
	      OURS_PASSWD,
	      "root:x:0:0:root:/root:/bin/bash\n"
	      "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
	      "_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n"
	      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	      "alice:x:1004:1004:Alice:/home/alice:/bin/sh\n");
	MERGE("root:x:0:\nstaff:x:50:\nusers:x:100:\nnogroup:x:65534:\n", OURS_GROUP,
	      "root:x:0:\nstaff:x:50:\nusers:x:100:\nnogroup:x:65534:\nalice:x:1004:\n");
}

static void the_callers_entry_wins(void **state)
{
	/* Same ID, other name; same name, other ID: both replaced by ours. */
	MERGE("root:x:0:0:root:/root:/bin/bash\n"
	      "builder:x:1004:1004::/home/builder:/bin/bash\n"
	      "alice:x:2000:2000::/home/alice:/bin/bash\n"
	      "bob:x:2001:2001::/home/bob:/bin/bash\n",
	      OURS_PASSWD,
	      "root:x:0:0:root:/root:/bin/bash\n"
	      "bob:x:2001:2001::/home/bob:/bin/bash\n"
	      "alice:x:1004:1004:Alice:/home/alice:/bin/sh\n"
	      "nobody:x:65534:65534:nobody:/:/bin/false\n");
}

static void missing_defaults_are_added(void **state)
{
	MERGE("", OURS_PASSWD, OURS_PASSWD);
	MERGE("daemon:x:1:1::/:/bin/false", OURS_PASSWD,
	      "daemon:x:1:1::/:/bin/false\n" OURS_PASSWD);
	/* A nobody by name (other ID) counts: no second "nobody". */
	MERGE("nobody:x:99:99::/:/bin/false\n", OURS_PASSWD,
	      "nobody:x:99:99::/:/bin/false\n"
	      "root:x:0:0:root:/root:/bin/sh\n"
	      "alice:x:1004:1004:Alice:/home/alice:/bin/sh\n");
	/* As root (-u 0) there is no user line to add. */
	MERGE("root:x:0:0:root:/root:/bin/bash\n", "root:x:0:0:root:/root:/bin/sh\n",
	      "root:x:0:0:root:/root:/bin/bash\n");
}

static void hostile_bytes(void **state)
{
	/* Lines with a NUL and empty lines go; anything else is the image's
	 * business and stays as written, matched only by a real name or ID. */
	static const char img[] = "root:x:0:0::/root:/bin/sh\n\n\nx\0y:x:1004:\n"
	                          "garbage\n+::::::\nalice\n:x:1004\nz:x:99999999999:\n";
	merge_is(img, sizeof img - 1, OURS_GROUP,
	         "root:x:0:0::/root:/bin/sh\ngarbage\n+::::::\nalice\n"
	         "z:x:99999999999:\nalice:x:1004:\nnogroup:x:65534:\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keeps_the_image_entries),
		cmocka_unit_test(the_callers_entry_wins),
		cmocka_unit_test(missing_defaults_are_added),
		cmocka_unit_test(hostile_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
