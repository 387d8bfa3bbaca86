/* oci_config.h: config.json (OCI runtime spec 1.x) -> struct oci_spec.
 *
 * A pure parser over a buffer (jansson does the JSON): no I/O, no globals,
 * so the unit tests and the fuzzer call it directly.  What krill run also
 * knows (argv, cwd, ids, hostname, namespaces, limits) lands in the embedded
 * struct container, so the shared mechanisms (ns.c, cgroup.c) take it as
 * they take `krill run`'s; the rest (hooks, mounts, maps, devices, ...) is
 * OCI's own part.
 *
 * Errors: `FILE:LINE:COLUMN: invalid JSON: WHY` for syntax, and
 * `FILE: JSON.PATH: WHY` for a value that is there but wrong, e.g.
 * `config.json: linux.resources.memory.limit: expected integer`.
 * Unknown fields are ignored; each is reported through the debug callback
 * (`krill-oci --debug`).  Known fields krill can't honour are errors. */
#ifndef KRILL_OCI_CONFIG_H
#define KRILL_OCI_CONFIG_H

#include "caps.h"
#include "cgroup_oci.h"
#include "container.h"
#include "seccomp_profile.h"
#include "userns.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

struct oci_mount {
	char *dst;           /* absolute, inside the container */
	char *src;           /* binds: absolute host path (relative ones joined to the bundle) */
	char *type;          /* "bind" for binds, else the filesystem type */
	bool bind, rec;      /* bind / rbind */
	unsigned long flags; /* MS_RDONLY, MS_NOSUID, ... */
	unsigned long propagation; /* MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE [| MS_REC], 0 = none */
	char *data;          /* the options that are not flags, comma-joined, or NULL */
	/* Recursive attributes (rro, rnosuid, ...: mount_setattr(2) with
	 * AT_RECURSIVE after the mount): MOUNT_ATTR_* bits. */
	uint64_t rattr_set, rattr_clr;
	bool tmpcopyup;      /* tmpfs: start with the image directory's contents */
	bool copy_symlink;   /* bind: a symlink source is copied as a symlink */
};

struct oci_hook {
	char *path;
	struct strv args, env;
	int timeout; /* seconds, 0 = none */
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_COUNT
};
extern const char *const oci_hook_names[OCI_HOOK_COUNT]; /* "prestart", ... */

struct oci_hook_list {
	struct oci_hook *v;
	size_t n;
};

struct oci_ns {
	int flag;   /* CLONE_NEW* */
	char *path; /* join this one, or NULL = a new one */
};

struct oci_device {
	char *path;       /* absolute, inside the container */
	char type;        /* 'c', 'b', 'p' ('u' is taken as 'c') */
	unsigned major, minor;
	mode_t mode;      /* permission bits, default 0666 */
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
};

struct oci_rlimit {
	int resource; /* RLIMIT_* */
	rlim_t soft, hard;
};

struct oci_sysctl {
	char *key, *value;
};

struct oci_spec {
	char *oci_version;
	/* The shared part: argv, cwd, uid, gid, hostname, net (NET_NONE for a
	 * new network namespace, whose lo ns_setup brings up), ns_pid,
	 * ns_ipc, userns, memory, cpus_milli, pids_limit; image = root path. */
	struct container c;

	/* process */
	struct strv env;
	gid_t *groups; /* additionalGids */
	size_t ngroups;
	bool has_umask;
	mode_t umask;
	bool terminal;
	struct capsets caps; /* sets absent from the config are empty */
	struct oci_rlimit *rlimits;
	size_t nrlimits;
	bool no_new_privs;
	bool has_oom_score_adj;
	int oom_score_adj;

	/* root */
	bool root_readonly;

	struct oci_mount *mounts;
	size_t nmounts;
	struct oci_hook_list hooks[OCI_HOOK_COUNT];

	/* linux */
	struct oci_ns ns[8];
	size_t nns;
	int ns_new;  /* CLONE_NEW* flags of the namespaces to create */
	int ns_join; /* CLONE_NEW* flags of the namespaces to join by path */
	struct userns_map *uid_maps, *gid_maps;
	size_t nuid_maps, ngid_maps;
	struct oci_device *devices;
	size_t ndevices;
	char *cgroups_path;
	bool has_resources; /* any limit set */
	struct cgroup_res res; /* the resources beyond memory.limit, cpu quota, pids */
	struct oci_sysctl *sysctl;
	size_t nsysctl;
	struct strv masked, readonly;
	struct seccomp_profile *seccomp; /* NULL = none; parsed to check it */
	char *seccomp_json;              /* the same, as compact JSON, for seccomp_prepare_profile */
	unsigned long rootfs_propagation; /* 0 = default (rslave) */

	char *annotations; /* the "annotations" object as compact JSON, "{}" if none */
};

/* Called once per unknown field, with its JSON path ("process.foo"). */
typedef void (*oci_unknown_fn)(const char *path, void *arg);

/* Parse buf (len bytes).  filename names the file in messages; bundle
 * (absolute) is what relative root.path and mount sources are joined to. */
int oci_config_parse(const char *buf, size_t len, const char *filename, const char *bundle,
                     oci_unknown_fn unknown, void *arg, struct oci_spec *out, struct kerr *e);
void oci_spec_free(struct oci_spec *s);

/* `exec --process FILE`: a process object alone, replacing the process
 * fields of s (args, env, cwd, user, terminal, capabilities, rlimits, ...). */
int oci_process_parse(const char *buf, size_t len, const char *filename, struct oci_spec *s,
                      struct kerr *e);

/* RLIMIT_NOFILE -> "RLIMIT_NOFILE", as config.json writes it. */
const char *oci_rlimit_name(int resource);

/* "TERM", "SIGTERM", "15" -> 15.  -1 for garbage. */
int oci_signal_parse(const char *s);

/* Valid container IDs: non-empty, at most 1024 bytes, letters, digits and
 * `_+-.`, not starting with `.`: no path separator can sneak in. */
bool oci_id_valid(const char *id);

#endif
