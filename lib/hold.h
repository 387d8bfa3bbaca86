/* hold.h: `krill run --hold-fd=FD`, a container with no command of its own.
 *
 * The Slurm SPANK plugin (bin/krill_spank.c) starts one `krill run` per
 * node and job step in this mode: it builds the container as usual, then,
 * instead of executing a command, reports on FD (a stream socket) where the
 * container is and what its processes should look like, and holds the
 * container until the other end of FD is closed.  The step's tasks enter
 * its namespaces themselves (setns, in slurm_spank_task_init) and are
 * executed by slurmstepd.
 *
 * The report is one message, all NUL-terminated strings:
 *   "KRILL-READY 1"  "pid=PID"  "cwd=DIR"  then VAR=VALUE... then ""
 * PID is this process (its namespaces are the container's), DIR the
 * working directory and the VARs the complete environment a command of
 * the container gets (SPEC §8). */
#ifndef KRILL_HOLD_H
#define KRILL_HOLD_H

#include "err.h"

#include <stddef.h>

#define HOLD_MAGIC "KRILL-READY 1"
/* The largest report the plugin accepts (the environment dominates). */
#define HOLD_REPORT_MAX (4u << 20)

/* Send the report on fd, then block until the peer closes it.  Returns 0
 * when released, -1 with e filled when the report couldn't be sent. */
int hold_report_and_wait(int fd, const char *cwd, char *const *env, struct kerr *e);

/* The reading side (pure, for the plugin and its tests): parse a report of
 * len bytes.  On success *pid, *cwd (points into buf) and *env (a
 * NULL-terminated array of pointers into buf, to free()) are set. */
int hold_report_parse(char *buf, size_t len, long *pid, const char **cwd, char ***env,
                      struct kerr *e);

#endif
