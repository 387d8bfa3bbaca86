/* supervise.h: the process that stays behind.
 *
 * When krill can't simply exec (a FUSE server to run, a PID namespace to
 * wait for, a cgroup to remove, a join group to hold), the krill process
 * forks the container and becomes its supervisor: the child subreaper of
 * everything the container starts, the forwarder of signals sent to krill,
 * and the one that cleans up after the last container process is gone. */
#ifndef KRILL_SUPERVISE_H
#define KRILL_SUPERVISE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/* Before fork: become a subreaper and block the signals we forward (and
 * SIGCHLD), so none is lost between fork and the wait loop.  *old gets
 * the previous mask, for the child to restore. */
int supervise_prepare(sigset_t *old);

/* Called by the wait loop whenever it wakes (at least every 100 ms), with
 * whether children remain; return true to keep waiting even when none do
 * (a join winner waiting for its peers). */
typedef bool (*supervise_hold_fn)(void *arg, bool children_left);

/* Reap every descendant; forward signals to main_pid.  Returns when no
 * child remains (and hold says so), or, with until_main, as soon as
 * main_pid has ended (an init, whose exit ends the PID namespace): the
 * main child's status, encoded as the shell does (code, or 128+N). */
int supervise_wait(pid_t main_pid, bool until_main, supervise_hold_fn hold, void *arg);

/* For PID 1 of a new PID namespace: the kernel drops signals an init has
 * left at SIG_DFL, even blocked ones; give them a handler so the signalfd
 * sees them. */
void supervise_init_handlers(void);

/* The forwarded signals: what scancel, Ctrl-C, a hangup or a resize send. */
extern const int supervise_signals[];

#endif
