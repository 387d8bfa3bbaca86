/* tree.h: building the container's filesystem tree (SPEC §6).
 *
 * Two phases, because a SquashFS image is mounted (and its FUSE server
 * forked off) between them:
 *   tree_stage():  make our mount namespace a slave, put a tmpfs on /tmp
 *                  and pivot into it; the host's root stays reachable at
 *                  /oldroot.  Nothing of this is visible on the host.
 *   (the image is mounted at TREE_IMAGE_DIR, or bound there from a host
 *    directory with tree_bind_image())
 *   tree_finish(): overlay, default binds, passwd/group, /tmp, $HOME, user
 *                  binds, then pivot_root into the new root.
 */
#ifndef KRILL_TREE_H
#define KRILL_TREE_H

#include "container.h"

#define TREE_IMAGE_DIR "/image"   /* the image root, in the staging tmpfs */
#define TREE_NEWROOT "/newroot"   /* the container root, in the staging tmpfs */
#define TREE_OLDROOT "/oldroot"   /* the host root, in the staging tmpfs */

struct tree_host {
	const char *user;     /* host user name, for --home */
	const char *home;     /* host $HOME */
	const char *tmpdir;   /* host $TMPDIR, else /tmp */
	const char *passwd;   /* synthesized /etc/passwd text, NULL = --no-passwd */
	const char *group;
	const char *container_home; /* for --home: /home/$USER */
	bool privileged;      /* real root without a user namespace */
	bool fresh_proc;      /* a new PID namespace: mount a new /proc */
	bool fresh_sys;       /* a new network namespace: mount a new /sys */
	bool own_mount_ns;    /* unshare a mount namespace before the final pivot */
};

int tree_stage(struct kerr *e);
/* Bind a host directory (as seen before staging) at TREE_IMAGE_DIR. */
int tree_bind_image(const char *host_dir, struct kerr *e);
int tree_finish(const struct container *c, const struct tree_host *h, struct kerr *e);

#endif
