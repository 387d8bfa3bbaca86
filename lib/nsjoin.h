/* nsjoin.h: entering an existing container's namespaces (join peers,
 * --join-pid, krill exec). */
#ifndef KRILL_NSJOIN_H
#define KRILL_NSJOIN_H

#include "err.h"

#include <stdbool.h>
#include <sys/types.h>

enum ns_kind { NS_USER_OUTER, NS_NET, NS_UTS, NS_IPC, NS_PID, NS_USER, NS_MNT, NS_COUNT };

/* Namespace fds, -1 where the container doesn't have its own. */
struct ns_set {
	int fd[NS_COUNT];
};

void ns_set_init(struct ns_set *s);
void ns_set_close(struct ns_set *s);

/* Enter them in the only order the kernel allows for an unprivileged
 * caller: the outer user namespace first (which grants the capabilities
 * the others need), then the namespaces it owns, then the inner user and
 * mount namespaces.  Joining a PID namespace affects children only. */
int ns_set_enter(const struct ns_set *s, struct kerr *e);

/* The namespaces of a running process that differ from ours: what krill
 * created for its container.  Fails if PID is in none (not a container). */
int ns_set_of_pid(pid_t pid, struct ns_set *s, struct kerr *e);

/* Enter the namespace at path (a /proc/PID/ns/ file, or a bind of one such
 * as `ip netns add` makes), after checking with NS_GET_NSTYPE that it is
 * of type nstype (a CLONE_NEW* flag).  what names the path's origin in
 * messages. */
int ns_join_path(const char *path, int nstype, const char *what, struct kerr *e);

/* "net", "pid", ... for a CLONE_NEW* flag. */
const char *ns_type_name(int nstype);

/* Start time of a process (field 22 of /proc/PID/stat), 0 if gone: with
 * the pid it identifies a process, where the pid alone may be recycled. */
unsigned long long proc_starttime(pid_t pid);
/* Is the process that had this start time still running (not a zombie)? */
bool proc_alive(pid_t pid, unsigned long long start);
/* The same, and the process state letter (R, S, Z for a zombie...). */
unsigned long long proc_starttime_state(pid_t pid, char *state);

#endif
