/* security.h: capabilities and seccomp for `krill run`.
 *
 * Prepared on the host side before any namespace exists (profile files
 * read, filters compiled, capability names checked: a bad option exits
 * 125 with nothing to undo), and applied in the container right before
 * exec, after no_new_privs.  Thin glue over caps.c and seccomp_filter.c. */
#ifndef KRILL_SECURITY_H
#define KRILL_SECURITY_H

#include "caps.h"
#include "container.h"
#include "seccomp_filter.h"

struct security {
	bool privileged;           /* real root, no user namespace */
	struct capsets caps;       /* privileged only */
	struct seccomp_bpf filters[2];
	int nfilters;
};

int security_prepare(const struct container *c, bool privileged, struct security *s,
                     struct kerr *e);
/* In the container: switch to the container's IDs with the capability
 * sets (privileged), then load the filters.  s may be NULL (nothing). */
int security_apply(const struct container *c, const struct security *s, struct kerr *e);
void security_free(struct security *s);

#endif
