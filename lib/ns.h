/* ns.h: the namespaces beyond user and mount (SPEC §9): pid, net, uts,
 * ipc.  They are created together with the outer user namespace, so the
 * container's root owns them, and join peers find them all in one place. */
#ifndef KRILL_NS_H
#define KRILL_NS_H

#include "container.h"

/* The CLONE_NEW* flags the options ask for (mount always included). */
int ns_flags(const struct container *c);

/* After unshare: bring `lo` up in a new network namespace, set the
 * hostname in a new UTS namespace. */
int ns_setup(const struct container *c, struct kerr *e);

#endif
