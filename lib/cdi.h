/* cdi.h: CDI devices for `krill run` (see doc/cdi.md).
 *
 *   cdi_registry_load()  every spec in the CDI directories (cdi_spec.c parses)
 *   cdi_prepare()        --device names -> a plan in struct container, on the
 *                        host side, before any namespace exists: host nodes
 *                        checked, mounts turned into binds, env and GIDs kept
 *   cdi_dev_build()      (tree.c) a /dev of the container's own, when a node
 *                        is renamed or must be created
 *   cdi_hooks_run()      (run.c) createContainer / startContainer hooks, run or
 *                        emulated, in the container's root
 */
#ifndef KRILL_CDI_H
#define KRILL_CDI_H

#include "cdi_spec.h"
#include "container.h"

#define CDI_DEFAULT_DIRS "/etc/cdi:/var/run/cdi"

struct cdi_registry {
	struct cdi_spec *specs;
	size_t n;
	char *dirs;  /* as searched, for messages */
};

/* Load every *.json, *.yaml and *.yml file of the colon-separated dirs, in
 * name order per dir.  A dir that doesn't exist is skipped unless
 * explicit (given with --cdi-dirs or [cdi] dirs).  A spec file must be a
 * regular file owned by root or the caller and not writable by others. */
int cdi_registry_load(const char *dirs, bool explicit, struct cdi_registry *r, struct kerr *e);
void cdi_registry_free(struct cdi_registry *r);

/* A device node the plan puts in place itself (the host's /dev, bound
 * whole, already shows every node whose path is its host path). */
struct cdi_plan_node {
	char *path;          /* in the container, under /dev */
	char *host_path;     /* bind this; NULL = mknod (root only) */
	mode_t type;         /* S_IFCHR or S_IFBLK, for mknod */
	dev_t rdev;
	mode_t mode;         /* for mknod */
	uid_t uid;
	gid_t gid;
	char *what;          /* "FILE:LINE:COL: PATH" for messages */
};

enum cdi_hook_stage { CDI_HOOK_CREATE, CDI_HOOK_START };

/* What a hook does: run the program, or one of the nvidia-cdi-hook
 * commands that krill does itself (doc/cdi.md says why). */
enum cdi_hook_op { CDI_HOOK_EXEC, CDI_HOOK_LDCACHE, CDI_HOOK_SYMLINKS, CDI_HOOK_CHMOD,
                   CDI_HOOK_NOOP };

struct cdi_plan_hook {
	enum cdi_hook_stage stage;
	enum cdi_hook_op op;
	const struct cdi_hook *hook; /* in the registry the plan keeps */
	struct strv folders;         /* LDCACHE: --folder; SYMLINKS: TARGET::LINK; CHMOD: paths */
	unsigned mode;               /* CHMOD */
};

struct cdi_plan {
	struct cdi_registry reg;
	struct strv devices;      /* the resolved fully-qualified names, for -v */
	struct strv env;          /* NAME=VALUE, applied after the image's env (env.c) */
	struct cdi_plan_node *nodes;
	size_t nnodes;
	bool own_dev;             /* nodes need a /dev of the container's own */
	struct cdi_plan_hook *hooks;
	size_t nhooks;
	gid_t *gids;              /* additionalGids, applied as root */
	size_t ngids;
};

/* The syntax of one --device argument (VENDOR/CLASS=NAME, or an absolute
 * path) and of a --cdi-dirs list (absolute paths separated by ':'), for
 * the command line and krill.conf.  0 if valid, else *why says why. */
int cdi_device_arg_check(const char *arg, const char **why);
int cdi_dirs_check(const char *dirs, const char **why);

/* Resolve c->devices (--device and [cdi] devices) into c->cdi, and append
 * the spec's mounts (and device nodes outside /dev) to c->binds.  Nothing
 * to do without devices.  privileged: real root without --userns. */
int cdi_prepare(struct container *c, bool privileged, struct kerr *e);
void cdi_plan_free(struct cdi_plan *p);

/* In the staging namespace (tree.c): a tmpfs on the image's /dev with a bind
 * of every entry of the host's /dev, symlinks copied, then the plan's
 * nodes.  root_fd is the new root. */
int cdi_dev_build(const struct cdi_plan *p, int root_fd, bool privileged, struct kerr *e);

/* In the container, after pivot_root: the hooks of one stage.  writable:
 * the root may be written (-w, -W).  caps: as real root, the capability
 * sets of the container's root (krill's runtime default, or as changed by
 * --cap-add/--cap-drop): the hooks, which are programs of the image, then
 * run in a child with only those and no_new_privs, never with the full
 * privilege krill holds during setup.  NULL unprivileged. */
struct capsets;
int cdi_hooks_run(const struct cdi_plan *p, enum cdi_hook_stage stage, bool writable,
                  const struct capsets *caps, struct kerr *e);

/* For krill check: the host's /dev/nvidiaN GPUs, and how many of them a
 * device of kind nvidia.com/gpu in the specs of dirs names (file: the
 * first spec that does, or NULL).  A spec that doesn't load counts as none,
 * with e saying why. */
void cdi_gpu_coverage(const char *dirs, size_t *gpus, size_t *covered, char **file,
                      struct kerr *e);

/* krill cdi list|generate: argv[0] is "cdi".  Returns an exit status. */
int cdi_main(int argc, char **argv);

/* The generator (cdi_generate.c): a spec for the NVIDIA driver found under
 * root ("/" normally; a fake tree in the tests), written to out. */
struct cdi_generate_opts {
	const char *root;
	const char *output;   /* NULL = stdout */
	bool yaml;
};
int cdi_generate_nvidia(const struct cdi_generate_opts *o, struct kerr *e);

#endif
