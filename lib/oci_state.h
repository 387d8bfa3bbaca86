/* oci_state.h: the OCI state directory and state.json.
 *
 * Each container has a directory ROOT/ID (ROOT: --root, else /run/krill/oci
 * for root and $XDG_RUNTIME_DIR/krill/oci otherwise; `krill run` keeps its
 * NAME.json records one level up, and the seccomp cache in .../seccomp, so
 * OCI IDs can't collide with either).  It holds:
 *   state.json   the OCI state plus krill's own fields, replaced atomically
 *   config.json  the bundle's config as it was at create (for poststop hooks
 *                and exec, whatever happens to the bundle since)
 *   start.sock   the container init's socket; `start` connects to it
 * The directory is created with mkdir(2), which is what makes a duplicate
 * ID fail, and removed by delete (or by a failed create). */
#ifndef KRILL_OCI_STATE_H
#define KRILL_OCI_STATE_H

#include "err.h"

#include <stdbool.h>
#include <sys/types.h>

struct oci_state {
	char *id;
	char *bundle;
	char *annotations;  /* compact JSON object text */
	char *status;       /* as recorded: creating, created, running */
	pid_t pid;          /* the container's init, in our PID namespace; 0 = none yet */
	unsigned long long pid_start; /* its start time: a recycled pid is not it */
	bool paused;
	char *cgroup;       /* cgroup_path() of its cgroup, NULL = none */
	char *created;      /* RFC 3339 */
	uid_t owner;
};

/* The state root, created (0700, and owned by the caller) if missing. */
char *oci_state_root(const char *opt_root, struct kerr *e);

/* Make the state directory of a new container under a temporary name in
 * ROOT (*tmp_name, malloc'd), locked (flock) until the caller's create is
 * over; "container ID already exists" when ROOT/ID does.  Returns an
 * O_DIRECTORY fd.  oci_state_publish() then renames it to ID.  What a
 * killed create left (a temporary directory, or ID with status "creating"
 * and nobody holding its lock) is collected by the next create, list or
 * open: its init killed, its cgroup and directory removed. */
int oci_state_create(const char *root, const char *id, char **tmp_name, struct kerr *e);
int oci_state_publish(const char *root, const char *tmp_name, const char *id, struct kerr *e);
/* Collect what killed creates left in ROOT. */
void oci_state_sweep(const char *root);
/* Open ROOT/ID; "container ID does not exist" when it doesn't (or was
 * what a killed create left, now collected). */
int oci_state_open(const char *root, const char *id, struct kerr *e);
/* Remove ROOT/ID and the files in it. */
int oci_state_remove(const char *root, const char *id, struct kerr *e);

int oci_state_write(int dirfd, const struct oci_state *s, struct kerr *e);
int oci_state_read(int dirfd, struct oci_state *s, struct kerr *e);
void oci_state_free(struct oci_state *s);

/* The status as the runtime spec defines it, judged now: "stopped" once
 * the init is gone (or a zombie, or its pid now names another process). */
const char *oci_state_status(const struct oci_state *s);

/* The state JSON of the runtime spec, for `state` and hooks (malloc'd). */
char *oci_state_json(const char *id, const char *status, pid_t pid, const char *bundle,
                     const char *annotations, bool pretty);

#endif
