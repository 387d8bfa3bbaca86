/* rmtree.h: removing a directory tree that krill built (a layer's
 * scratch root, an extracted archive), without following symlinks. */
#ifndef KRILL_RMTREE_H
#define KRILL_RMTREE_H

#include "err.h"

/* Remove name beneath dirfd and, if it is a directory, everything in it.
 * Symlinks are removed, never followed; directories the owner can't
 * write or search are made so first.  A missing name is not an error. */
int rmtree_at(int dirfd, const char *name, struct kerr *e);

/* Remove the entries of the directory fd, keeping the directory; entries
 * for which keep(name, arg) is true are left alone.  keep may be NULL. */
int rmtree_children(int fd, const char *what, int (*keep)(const char *name, void *arg),
                    void *arg, struct kerr *e);

#endif
