/* attach.h: running a command in a container that already runs
 * (`krill exec NAME|PID`, `krill run --join-pid=PID`). */
#ifndef KRILL_ATTACH_H
#define KRILL_ATTACH_H

#include "container.h"

/* Enter the container that `target` names (a --name, or the pid of any
 * process in it) and run c->argv there, with c->cwd (default: the target's
 * cwd) and an environment built from base (the target's environment for
 * exec, ours for run) plus the image file and c's --set-env/--unset-env.
 * Returns the command's exit status, or 125/126/127 with e filled. */
int attach_run(struct container *c, const char *target, bool target_env, struct kerr *e);

#endif
