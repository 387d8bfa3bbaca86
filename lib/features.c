/* features.c: see features.h.  Build features are fixed; host features are
 * probed with the same checks `krill check` reports. */
#include "features.h"
#include "check.h"

#include <string.h>

static const char *const built[] = {"squashfuse", "seccomp", "oci", "join", "cgroup",
                                    "overlayfs", NULL};

void features_print_version(FILE *f)
{
	fprintf(f, "krill %s\n", KRILL_VERSION);
	for (const char *const *b = built; *b; b++)
		fprintf(f, "%s+%s", b == built ? "" : " ", *b);
	fputc('\n', f);
}

bool features_has(const char *feat)
{
	bool known = false;
	for (const char *const *b = built; *b; b++)
		if (strcmp(*b, feat) == 0)
			known = true;
	if (!known)
		return false;
	return check_feature_works(feat);
}
