/* storage.h: images run by name, and the trust rule for every object krill
 * finds by name on a user's behalf.
 *
 * A storage directory often lives in a world-writable place (/var/tmp),
 * where another user can create it first and fill it.  So the directory
 * and every image found in it must be owned by the caller (or root) and
 * not writable by group or others.  The rule is checked with fstat() on
 * the opened fd, so what is checked is what is used.  Any future cache
 * that krill fills for a user (the import cache) applies the same rule
 * through storage_open_dir() and storage_check_fd(). */
#ifndef KRILL_STORAGE_H
#define KRILL_STORAGE_H

#include "err.h"

#include <stdbool.h>

/* The trust rule on an open fd: owned by getuid() or root, and no group or
 * other write permission.  path names the object in the error, which has a
 * hint ("another user may have planted it"). */
int storage_check_fd(int fd, const char *path, struct kerr *e);

/* Open the directory path (O_DIRECTORY, close-on-exec) and apply the rule.
 * A missing directory is an error with errnum ENOENT, so that callers can
 * treat it as "nothing stored there". */
int storage_open_dir(const char *path, struct kerr *e);

/* ch-image's file name for an image reference: '/' becomes '%' and ':'
 * becomes '+' ("library/debian:12" -> "library%debian+12").  NULL for a
 * name that can't be one: empty, ".", "..", or longer than 255 bytes. */
char *storage_ch_name(const char *name);

/* Where an image named `name` was found. */
struct storage_hit {
	char *path;        /* canonical path of the checked image (malloc'd) */
	int fd;            /* the checked image, open (O_RDONLY); the caller closes it */
	bool charliecloud; /* found as DIR/img/NAME, ch-image's layout */
};

/* Look `name` up in each directory of dirs (NULL-terminated, in order):
 * DIR/NAME or DIR/NAME.sqfs (krill's layout, names without '/'), then
 * DIR/img/CHNAME (Charliecloud's).  Returns 1 and fills *hit when found,
 * 0 when no directory has it, -1 when a directory or the image fails the
 * trust rule (or can't be read). */
int storage_find(const char *const *dirs, const char *name, struct storage_hit *hit,
                 struct kerr *e);

#endif
