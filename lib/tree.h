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

#include "cgroup.h"
#include "container.h"
#include "path.h"

#define TREE_IMAGE_DIR "/image"   /* the image root, in the staging tmpfs */
#define TREE_NEWROOT "/newroot"   /* the container root, in the staging tmpfs */
#define TREE_OLDROOT "/oldroot"   /* the host root, in the staging tmpfs */
#define TREE_UNDERLAY "/underlay" /* missing mount points, in the staging tmpfs */
#define TREE_NDEFAULTS 8          /* the optional default binds (/etc/hosts, ...) */

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
	/* --memory/--cpus/--pids-limit: the container's cgroup.  Each of its
	 * directories is bound over /sys/fs/cgroup/HIERARCHY, so the
	 * container reads its own limits there (a v1 or hybrid host: a
	 * cgroup namespace alone doesn't change what a bind of the host's
	 * hierarchies shows). */
	const struct cgroup *cg;
	/* Host paths resolved on the host, before staging (tree_resolve_host):
	 * after it, an absolute symlink such as /scratch -> /lustre/u would
	 * resolve in the staging tmpfs.  NULL entries: use the path as given. */
	char **bind_src;                      /* parallel to c->binds */
	char *default_src[TREE_NDEFAULTS];    /* the optional default binds */
};

/* Fill h->bind_src and h->default_src with realpath(3) of each source, as
 * the caller sees the host; tree_host_free() frees them. */
void tree_resolve_host(const struct container *c, struct tree_host *h);
void tree_host_free(const struct container *c, struct tree_host *h);

int tree_stage(struct kerr *e);
/* Bind a host directory (as seen before staging) at TREE_IMAGE_DIR. */
int tree_bind_image(const char *host_dir, struct kerr *e);
int tree_finish(const struct container *c, const struct tree_host *h, struct kerr *e);

/* The same mechanisms, one mount at a time, for the OCI front door (which
 * has no staging tmpfs: its sources are paths as the caller sees them).
 * dst is resolved inside root_fd with open_beneath() (missing components
 * are created, the last one as a file when a bind's source is one, but
 * only on the filesystems in own: the rootfs's and those the runtime
 * mounted; a new non-bind mount is added to own); the mount then targets
 * the resolved fd through /proc/self/fd. */
struct tree_mount {
	const char *src;           /* bind: a path as the caller sees it; else the fs source */
	const char *dst;           /* beneath root_fd */
	const char *type;          /* NULL = bind */
	unsigned long flags;       /* MS_REC (rbind), MS_RDONLY, MS_NOSUID, MS_NODEV, ... */
	unsigned long propagation; /* MS_PRIVATE/SLAVE/SHARED/UNBINDABLE [| MS_REC], 0 = none */
	const char *data;          /* fs options, e.g. "mode=755" */
	const char *what;          /* for messages */
	bool optional;             /* a missing bind source or destination is no error */
	bool no_create;            /* a missing destination is an error (or skipped if optional) */
};
int tree_mount_at(int root_fd, const struct tree_mount *m, struct mount_set *own,
                  struct kerr *e);

/* Make the mount at path read-only (with its submounts when recursive). */
int tree_readonly(const char *path, bool recursive, struct kerr *e);

/* pivot_root into root (a mount point) and detach the old root. */
int tree_pivot(const char *root, struct kerr *e);

#endif
