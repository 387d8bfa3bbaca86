/* features.c: see features.h.  Build features are fixed; host features are
 * probed with the same checks `krill check` reports. */
#include "features.h"
#include "check.h"

#include <fnmatch.h>
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

/* ch-run's names (ch-run --feature), answered the same way: compiled in
 * and working here, for this user. */
static const struct {
	const char *ch_name, *krill_name;
} ch_names[] = {{"squash", "squashfuse"}, {"tmpfs-xattrs", "tmpfs-xattrs"}};

bool features_has(const char *feat)
{
	/* --unset-env globs are fnmatch(3) patterns with FNM_EXTMATCH, as in
	 * ch-run built with it. */
	if (strcmp(feat, "extglob") == 0) {
#ifdef FNM_EXTMATCH
		return true;
#else
		return false;
#endif
	}
	for (size_t i = 0; i < sizeof ch_names / sizeof ch_names[0]; i++)
		if (strcmp(feat, ch_names[i].ch_name) == 0)
			return check_feature_works(ch_names[i].krill_name);
	bool known = false;
	for (const char *const *b = built; *b; b++)
		if (strcmp(*b, feat) == 0)
			known = true;
	if (!known)
		return false;
	return check_feature_works(feat);
}
