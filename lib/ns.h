/* ns.h: the namespaces beyond user and mount (SPEC §9): pid, net, uts,
 * ipc.  They are created together with the outer user namespace, so the
 * container's root owns them, and join peers find them all in one place. */
#ifndef KRILL_NS_H
#define KRILL_NS_H

#include "container.h"

/* The CLONE_NEW* flags to unshare for the options (mount always included).
 * Not CLONE_NEWPID: a process whose pid_for_children differs from its own
 * PID namespace can't create threads (the FUSE server needs them), so the
 * PID namespace is made by the clone of the container's first process. */
int ns_flags(const struct container *c);

/* fork(), and with --pid, into a new PID namespace where the child is 1. */
pid_t ns_fork(const struct container *c);

/* After unshare: bring `lo` up in a new network namespace, set the
 * hostname in a new UTS namespace. */
int ns_setup(const struct container *c, struct kerr *e);

#endif
