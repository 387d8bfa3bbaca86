/* record.h: named containers (`--name`) and `krill ps`.
 *
 * A record is a small JSON file in the per-user runtime directory
 * ($XDG_RUNTIME_DIR/krill, else /tmp/krill-UID, mode 0700), written
 * atomically by the container's supervisor and removed when it exits.  It
 * names the supervisor by pid *and* start time, so a recycled pid is never
 * mistaken for the container; `krill ps` removes records whose supervisor
 * is gone (killed with SIGKILL). */
#ifndef KRILL_RECORD_H
#define KRILL_RECORD_H

#include "nsjoin.h"

#include <stdbool.h>
#include <sys/types.h>

struct record {
	char *name;
	pid_t pid;                   /* the supervisor, which holds the fds */
	unsigned long long pid_start;
	pid_t main_pid;              /* the container's first process (host pid) */
	char *image;
	long long started;           /* epoch seconds */
	unsigned peers;
	int fds[NS_COUNT];           /* namespace fds in the supervisor, -1 = none */
};

/* The runtime directory, created if missing. */
char *record_dir(struct kerr *e);

/* dirfd: the runtime directory, opened before any namespace exists (inside
 * them, /tmp and our uid are not the host's). */
int record_write(int dirfd, const struct record *r, struct kerr *e);
void record_remove_at(int dirfd, const char *name);
/* Read NAME's record; fails if there is none or its supervisor is gone
 * (and then removes the stale file). */
int record_read(const char *name, struct record *r, struct kerr *e);
void record_free(struct record *r);

int ps_main(int argc, char **argv);

#endif
