/* oci_create.h: the OCI lifecycle operations that build or enter a
 * container: create, start, delete, exec.  oci.c parses the command line
 * and calls these. */
#ifndef KRILL_OCI_CREATE_H
#define KRILL_OCI_CREATE_H

#include "oci_config.h"
#include "oci_state.h"

#include <stdbool.h>
#include <sys/types.h>

/* Read and parse a config.json.  display names it in messages.  *text
 * (may be NULL) gets the file's bytes. */
int oci_load_config(int dirfd, const char *path, const char *display, const char *bundle,
                    struct oci_spec *s, char **text, size_t *len, struct kerr *e);

/* Shared by the init and exec: process.args[0] looked up in the PATH of
 * process.env, in the container's root. */
char *oci_resolve_exe(const struct oci_spec *s, struct kerr *e);
/* The last steps: user, groups, capabilities, umask, no_new_privs,
 * seccomp (bpf may be NULL), execve.  Returns only on failure, with the
 * exit status to use. */
struct seccomp_bpf;
int oci_become_process(const struct oci_spec *s, const char *exe, bool setgroups_denied,
                       const struct seccomp_bpf *bpf, unsigned preserve_fds, struct kerr *e);

struct oci_create_opts {
	const char *id;
	const char *bundle;         /* NULL = the current directory */
	const char *pid_file;
	const char *console_socket;
	bool for_run;               /* the caller stays the init's parent (subreaper) */
	unsigned preserve_fds;      /* fds 3 .. 3+N-1 pass to the process; no others */
};

/* create: everything but the user process.  *pid gets the init's pid. */
int oci_create(const char *root, const struct oci_create_opts *o, pid_t *pid, struct kerr *e);

/* start: make the created init exec the user process; poststart hooks. */
int oci_start(const char *root, const char *id, struct kerr *e);

/* delete: the container must be stopped or created, unless force (which
 * kills it); the cgroup goes, poststop hooks run (failures only warn),
 * the state directory goes. */
int oci_delete(const char *root, const char *id, bool force, struct kerr *e);

struct oci_exec_opts {
	const char *id;
	const char *process;        /* --process FILE */
	const char *cwd;
	const char *console_socket;
	const char *pid_file;
	bool tty, detach;
	unsigned preserve_fds;      /* as oci_create_opts */
	struct strv env;            /* --env K=V */
	char **argv;                /* NULL when --process */
};

/* exec: returns the process's exit status (or 0 with detach); -1 with e
 * filled when krill failed. */
int oci_exec(const char *root, const struct oci_exec_opts *o, struct kerr *e);

#endif
