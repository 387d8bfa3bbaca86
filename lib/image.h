/* image.h: what an IMAGE argument names, and what the image says about
 * itself (/.krill metadata). */
#ifndef KRILL_IMAGE_H
#define KRILL_IMAGE_H

#include "container.h"

/* Resolve c->image (a path, or a name looked up in the storage directory)
 * and set c->image_type.  A directory is a directory image; a file starting
 * with "hsqs" is SquashFS; anything else is an error naming its first
 * bytes.  c->image is replaced by the resolved path. */
int image_resolve(struct container *c, struct kerr *e);

/* Read /.krill/cmd (one argument per line) beneath root_fd, for a run with
 * no command.  Sets *argv to a new NULL-terminated vector, or NULL. */
int image_default_cmd(int root_fd, char ***argv, struct kerr *e);

/* Read /.krill/cwd beneath root_fd; *cwd is NULL when absent or empty.
 * Both files must be regular files (path_read_meta). */
int image_default_cwd(int root_fd, char **cwd, struct kerr *e);

#endif
