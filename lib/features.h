/* features.h: what this build and host offer (`krill version`, --feature). */
#ifndef KRILL_FEATURES_H
#define KRILL_FEATURES_H

#include <stdbool.h>
#include <stdio.h>

/* "krill 0.1.0" and the compiled-in feature list on a second line. */
void features_print_version(FILE *f);

/* --feature=FEAT: squashfuse, seccomp, oci, join, overlayfs, cgroup, and
 * ch-run's names: extglob, squash, overlayfs, tmpfs-xattrs, seccomp. */
bool features_has(const char *feat);

#endif
