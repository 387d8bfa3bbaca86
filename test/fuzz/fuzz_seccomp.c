/* fuzz_seccomp.c: libFuzzer harness for seccomp_profile_parse (parse only;
 * building and loading filters is not exercised here).  Also checks that
 * every error names the file and a line. */
#include "seccomp_profile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seccomp_profile *p = NULL;
	struct kerr e = {0};
	if (seccomp_profile_parse((const char *)data, size, "f.json", &p, &e) < 0) {
		if (p || strncmp(e.msg, "f.json:", 7) != 0)
			abort();
		return 0;
	}
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].line < 1)
			abort();
	seccomp_profile_free(p);
	return 0;
}
