/* env.h: the container's environment: the pure parser for --set-env files
 * and assignments, and the assembly of the final environ (SPEC §8).  The
 * syntax and every rule are described for users in doc/env.md. */
#ifndef KRILL_ENV_H
#define KRILL_ENV_H

#include "container.h"

#include <stdbool.h>
#include <stddef.h>

/* Largest environment file read, host or image. */
#define ENV_FILE_MAX (16u << 20)

/* Parse buf (len bytes, need not be NUL-terminated): records separated by
 * delim ('\n' for --set-env, '\0' for --set-env0), one NAME=VALUE each.
 * Appends one "NAME=VALUE" string per assignment to out, in file order.
 * `$NAME` items are looked up first in earlier assignments of this buffer
 * (the last one wins), then in cur_env (NULL-terminated, may be NULL).
 * filename only names the file in errors: "FILE:LINE: WHY".  On error out
 * is left as it was. */
int env_parse(const char *buf, size_t len, char delim, const char *filename, char *const *cur_env,
	      bool expand, struct strv *out, struct kerr *e);

/* Parse one --set-env=NAME=VALUE argument the same way (no comments or
 * blank lines); errors read "--set-env=ARG: WHY". */
int env_parse_assignment(const char *arg, char *const *cur_env, bool expand, struct strv *out,
			 struct kerr *e);

/* The value of name in env (NULL-terminated "NAME=VALUE" strings, may be
 * NULL), the first match as getenv(3) would; NULL if absent. */
const char *env_get(char *const *env, const char *name);

/* Read the host files that --set-env/--set-env0 name into their env_op,
 * before any namespace exists (inside, the host's paths are gone). */
int env_load_host_files(struct container *c, struct kerr *e);

/* The value ch-run gives CH_RUNNING, which krill sets as well. */
#define CH_RUNNING_VALUE "Weird Al Yankovic"

/* Build the container's final environment from host_env per SPEC §8 and
 * doc/env.md.  image_root_fd is an fd of the image's root directory; image
 * files are resolved beneath it.  out must be empty; it is filled only on
 * success.  KRILL_RUNNING=1 and CH_RUNNING come last, whatever the
 * options say. */
int env_build(const struct container *c, int image_root_fd, char *const *host_env, struct strv *out,
	      struct kerr *e);

#endif
