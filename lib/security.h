/* security.h: capabilities and seccomp for `krill run`, applied right
 * before exec (after no_new_privs).  Thin glue over caps.c and seccomp.c. */
#ifndef KRILL_SECURITY_H
#define KRILL_SECURITY_H

#include "container.h"

/* privileged: real root without a user namespace, where the capability
 * sets must be cut down to the runtime default. */
int security_apply(const struct container *c, bool privileged, struct kerr *e);

#endif
