/* bind_spec.h: parsing `-b SRC[:DST[:ro]]` (and the config's `?SRC...`). */
#ifndef KRILL_BIND_SPEC_H
#define KRILL_BIND_SPEC_H

#include "container.h"

/* Parse one spec into *out (strings allocated).  A leading `?` marks the
 * bind optional when allow_optional (the config file's syntax).  SRC must be
 * absolute; DST defaults to SRC and must be absolute, not `/`, and is
 * normalized (no `//`, `.`, or trailing `/`; `..` is refused).  The error
 * names the spec: `--bind=SPEC: destination must be an absolute path`. */
int bind_spec_parse(const char *spec, bool allow_optional, struct bind *out, struct kerr *e);

/* Normalize an absolute path in place as above; -1 if it has a `..`. */
int path_normalize(char *path);

#endif
