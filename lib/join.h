/* join.h: --join, many peers in one container (SPEC §7).
 *
 * Peers with the same UID and tag meet in a shared-memory segment,
 * /dev/shm/krill-UID-TAG, locked with flock(2).  The first to arrive (the
 * winner) builds the container; its supervisor keeps the container's
 * namespace fds open and publishes their numbers; the others wait until
 * the container is ready, then open those fds through /proc/WINNER/fd and
 * enter.  The name is removed as soon as the last peer has arrived, the
 * group fails or times out, or the winner dies (by a waiting peer, or the
 * winner's guard process, or the next winner of the same user): the
 * mapping outlives the name.  doc/join.md has the cases. */
#ifndef KRILL_JOIN_H
#define KRILL_JOIN_H

#include "container.h"
#include "nsjoin.h"

#include <stdbool.h>

struct join;

/* Find or create the group.  Sets *winner.  For a peer, checks that its
 * image and options match the winner's. */
int join_begin(const struct container *c, struct join **out, bool *winner, struct kerr *e);

/* Winner: the container is built; fds are the namespace fds the
 * supervisor holds (their numbers are published).  Wakes the peers. */
void join_ready(struct join *j, const struct ns_set *fds);

/* Winner: the container failed before it was ready; waiting peers fail. */
void join_fail(struct join *j);

/* Supervisor's hold: true while peers may still arrive (until the
 * timeout) or a peer's command still runs. */
bool join_hold(struct join *j);

/* Peer: wait for the container, then open its namespace fds. */
int join_wait(struct join *j, struct ns_set *fds, struct kerr *e);

/* Peer: its command and all it started have ended. */
void join_peer_done(struct join *j);

unsigned join_group_size(const struct join *j);

/* Names of the caller's in /dev/shm that no group can use any more (their
 * winner is dead; semaphores of older krill versions).  Calls found() for
 * each, removes them if remove is true; returns how many there were. */
int join_stale_scan(bool remove, void (*found)(const char *name, void *arg), void *arg);
/* The winner's supervisor (valid once join_wait returned). */
pid_t join_winner_pid(const struct join *j);
void join_end(struct join *j);

#endif
