/* run.h: `krill run`, from a finished struct container to exec. */
#ifndef KRILL_RUN_H
#define KRILL_RUN_H

#include "container.h"

/* Run the container.  Returns the exit status krill should exit with (the
 * command's, or 125/126/127 with e filled when krill itself failed).  In
 * the simplest case (a directory image, nothing to supervise) this process
 * becomes the command and the call never returns. */
int run_container(struct container *c, struct kerr *e);

#endif
