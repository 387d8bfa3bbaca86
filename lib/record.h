/* record.h: named containers (`--name`) and `krill ps`.
 *
 * A record is a small JSON file in the per-user runtime directory
 * ($XDG_RUNTIME_DIR/krill, else /tmp/krill-UID), written atomically by the
 * container's supervisor and removed when it exits.  It names the
 * supervisor by pid *and* start time, so a recycled pid is never mistaken
 * for the container; `krill ps` removes records whose supervisor is gone
 * (killed with SIGKILL).
 *
 * It also holds the confinement krill applied to the container's first
 * process: IDs, capability sets, the compiled seccomp filters and the
 * cgroup, so that `krill exec` gives every process that enters the
 * container exactly the same (issue 9).
 *
 * In /tmp another user could make the directory, or plant files in it,
 * first: the directory is opened with O_NOFOLLOW and must be ours and mode
 * 0700 (checked with fstat on the fd), every record file must be a regular
 * file of ours, and names are restricted to [A-Za-z0-9_.-]. */
#ifndef KRILL_RECORD_H
#define KRILL_RECORD_H

#include "nsjoin.h"
#include "security.h"

#include <stdbool.h>
#include <sys/types.h>

#define RECORD_NAME_MAX 64

struct record {
	char *name;
	pid_t pid;                   /* the supervisor, which holds the fds */
	unsigned long long pid_start;
	pid_t main_pid;              /* the container's first process (host pid) */
	char *image;
	long long started;           /* epoch seconds */
	unsigned peers;
	int fds[NS_COUNT];           /* namespace fds in the supervisor, -1 = none */
	/* confinement of the container's processes */
	uid_t uid;                   /* inside the container */
	gid_t gid;
	struct security sec;         /* privileged flag, capability sets, filters */
	char *cgroup;                /* cgroup_path(), or NULL */
};

/* NULL if name is a valid container name, else why not. */
const char *record_name_invalid(const char *name);

/* The runtime directory, created if missing, opened and checked; an fd
 * (O_RDONLY | O_DIRECTORY), or -1 with e filled: one error line and a hint
 * when it belongs to someone else or others may enter it. */
int record_dir_open(struct kerr *e);

/* dirfd: the runtime directory, opened before any namespace exists (inside
 * them, /tmp and our uid are not the host's). */
int record_write(int dirfd, const struct record *r, struct kerr *e);
void record_remove_at(int dirfd, const char *name);
/* Read NAME's record; fails if the name is invalid, if there is none or
 * its supervisor is gone (and then removes the stale file). */
int record_read(const char *name, struct record *r, struct kerr *e);
/* The live record whose container has the mount namespace (dev, ino):
 * 0 and *r filled, 1 if there is none, -1 on error. */
int record_find_mnt(dev_t dev, ino_t ino, struct record *r, struct kerr *e);
void record_free(struct record *r);

int ps_main(int argc, char **argv);

#endif
