/* import_exec.h: how krill reaches krill-import, the program that holds
 * the import code (libcurl, libarchive): it is the file "krill-import"
 * beside krill's own executable.  This file has no dependency on those
 * libraries, so linking it keeps krill lean. */
#ifndef KRILL_IMPORT_EXEC_H
#define KRILL_IMPORT_EXEC_H

#include "err.h"

#include <stdbool.h>

/* The path of krill-import (newly allocated). */
char *import_exec_path(void);

/* Replace this process with `krill-import ARGV...` (argv[0] is the
 * subcommand: "import" or "cache").  Returns only on failure. */
int import_exec(char **argv, struct kerr *e);

/* `krill run SOURCE`: import SOURCE into storage (or find it imported),
 * and set *image to the image file.  krill-import reports its own errors
 * on stderr; then *status is its exit status and e is left empty. */
int import_for_run(const char *source, const char *storage, int verbosity, char **image,
                   int *status, struct kerr *e);

#endif
