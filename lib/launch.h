/* launch.h: the last steps inside the container, and exec. */
#ifndef KRILL_LAUNCH_H
#define KRILL_LAUNCH_H

#include "container.h"
#include "security.h"

/* Status codes of SPEC §12 for failures of krill itself. */
enum {
	EXIT_KRILL = 125,        /* krill failed: bad option, bad image, setup */
	EXIT_CANNOT_EXEC = 126,  /* found but not executable */
	EXIT_NOT_FOUND = 127,    /* not found in the container's PATH */
};

/* In the container, once its root is ours: the command (default: the
 * image's /.krill/cmd, else /bin/sh), the working directory (default: the
 * image's /.krill/cwd) and the environment built over base_env.  Fills
 * c->argv and c->cwd when unset, and *env. */
int launch_prepare(struct container *c, char *const *base_env, struct strv *env,
                   struct kerr *e);

/* chdir, no_new_privs, capabilities and seccomp (sec, may be NULL), then
 * execvp with envp.  Returns only on failure: the exit status to use
 * (125, 126 or 127), with e filled. */
int launch_exec(const struct container *c, char *const *argv, char **envp,
                const struct security *sec, struct kerr *e);

/* Encode a wait status the way shells do: the exit code, or 128+N for
 * death by signal N. */
int launch_status(int wstatus);

#endif
