/* container.h: struct container, the one description of a container.
 *
 * It is built once (bin/ parses argv, config.c supplies defaults, image.c
 * adds what the image says) and is read-only afterwards: every stage takes a
 * `const struct container *`.  The OCI front door (oci.c) fills the same
 * struct from config.json. */
#ifndef KRILL_CONTAINER_H
#define KRILL_CONTAINER_H

#include "util.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum image_type { IMAGE_DIR, IMAGE_SQUASH };

struct bind {
	char *src;     /* host path, absolute */
	char *dst;     /* path inside the image, absolute, normalized */
	bool ro;
	bool optional; /* skip silently when src or dst is missing (defaults, `?` in config) */
	bool site;     /* from the config: mounted with the default binds, before /tmp */
};

/* --set-env / --set-env0 / --unset-env, kept in command-line order. */
enum env_op_kind { ENV_OP_SET_FILE, ENV_OP_SET_FILE0, ENV_OP_SET_VAR, ENV_OP_UNSET };
struct env_op {
	enum env_op_kind kind;
	char *arg;  /* file path ("" = the image's own environment file), VAR=VAL, or glob */
	char *text; /* a host file's contents, read before any namespace exists */
	size_t len;
};

enum net_mode { NET_HOST, NET_NONE };

struct container {
	/* image */
	char *image;          /* path as given, or resolved from the storage dir */
	enum image_type image_type;
	char *mountpoint;     /* -m: where to mount a SquashFS image; NULL = private */
	char *storage;        /* -s / KRILL_STORAGE / config */

	/* process */
	char **argv;          /* NULL = the image's default command */
	char *cwd;            /* -c; NULL = /.krill/cwd or / */
	uid_t uid;            /* inside the container */
	gid_t gid;

	/* filesystem */
	bool write;           /* -w */
	bool write_fake;      /* -W */
	char *write_fake_size; /* tmpfs size= value, e.g. "12%" or "2g" */
	bool home;            /* --home */
	bool private_tmp;     /* -t */
	bool no_passwd;
	struct bind *binds;   /* site binds from the config, then -b, in order */
	size_t nbinds;

	/* environment */
	struct env_op *env_ops;
	size_t nenv_ops;
	bool env_no_expand;
	bool env_clean;
	struct strv env_keep; /* globs */

	/* join */
	bool join;
	unsigned long join_ct;  /* 0 = from the launcher's environment */
	char *join_tag;         /* NULL = from the launcher's environment */
	pid_t join_pid;         /* --join-pid; 0 = none */
	unsigned join_timeout;  /* seconds */
	char *name;             /* --name */
	int hold_fd;            /* --hold-fd: report and hold, no command (hold.h); -1 = none */

	/* privileged extras */
	bool ns_pid;
	enum net_mode net;
	char *hostname;       /* NULL = no UTS namespace */
	bool ns_ipc;
	bool userns;          /* --userns: a user namespace even as root */
	uint64_t memory;      /* bytes, 0 = no limit */
	uint64_t cpus_milli;  /* --cpus in thousandths, 0 = no limit */
	uint64_t pids_limit;  /* 0 = no limit */
	char *cgroup_parent;  /* [cgroup] parent */
	bool seccomp_fakeroot;
	char *seccomp_profile;
	struct strv cap_add;
	struct strv cap_drop;

	/* tuning */
	int squash_threads;   /* [squash] threads; 0 = online CPUs capped at 16 */
};

void container_init(struct container *c);
void container_free(struct container *c);

#endif
