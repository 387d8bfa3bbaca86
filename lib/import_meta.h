/* import_meta.h: an image config's Env, Entrypoint+Cmd and WorkingDir as
 * krill's /.krill metadata (SPEC §4), plus the whole config as
 * /.krill/config.json, so that `krill run IMAGE` behaves like the image. */
#ifndef KRILL_IMPORT_META_H
#define KRILL_IMPORT_META_H

#include "manifest.h"

/* Write /.krill/{environment,cmd,cwd,config.json} beneath root_fd.  A
 * /.krill that isn't a directory (a symlink planted by a layer) is
 * replaced, never followed.  Values that /.krill's line formats can't
 * hold (a newline) are left out with a warning. */
int import_meta_write(int root_fd, const struct image_config *cfg, const char *raw,
                      size_t raw_len, struct kerr *e);

/* The text of /.krill/environment for env (VAR=VALUE each), single-quoted
 * so krill reads every value literally.  Pure; for the tests. */
char *import_meta_environment(const struct strv *env, size_t *skipped);

#endif
