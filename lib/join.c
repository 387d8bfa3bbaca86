/* join.c: the peer-group protocol (see join.h).
 *
 * The segment holds a header and one slot per peer.  The state word is a
 * futex, so waiting peers sleep until the winner publishes, and wake every
 * 100 ms to check that the winner is still alive: a winner killed during
 * setup fails its peers within a fraction of a second, not at the
 * timeout. */
#include "join.h"
#include "join_params.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define JOIN_MAGIC 0x6b726a31 /* "krj1" */

enum join_state { JOIN_SETUP = 0, JOIN_READY = 1, JOIN_FAILED = 2 };

struct join_slot {
	int32_t pid; /* the peer's krill process while its command runs; 0 after */
};

struct join_shm {
	uint32_t magic;
	uint32_t state; /* futex word */
	uint32_t size;
	uint32_t arrived;
	int32_t winner;              /* the winner's supervisor */
	uint64_t winner_start;
	int32_t fds[NS_COUNT];       /* in the winner, -1 = none */
	char fingerprint[2048];
	struct join_slot slots[];    /* size of them, [0] unused (the winner) */
};

struct join {
	struct join_shm *shm;
	size_t len;
	char name[256];
	unsigned slot;
	bool winner;
	bool unlinked;
	unsigned timeout;
	struct timespec start;
};

static char *fingerprint(const struct container *c)
{
	char *s = xasprintf("image %s\nuid %u\ngid %u\nwrite %d\nwrite-fake %d %s\nhome %d\n"
	                    "private-tmp %d\nno-passwd %d\npid %d\nnet %d\nhostname %s\nipc %d\n"
	                    "memory %llu\ncpus %llu\npids-limit %llu\nseccomp %d %s\n",
	                    c->image, c->uid, c->gid, c->write, c->write_fake,
	                    c->write_fake_size ? c->write_fake_size : "", c->home, c->private_tmp,
	                    c->no_passwd, c->ns_pid, c->net, c->hostname ? c->hostname : "",
	                    c->ns_ipc, (unsigned long long)c->memory,
	                    (unsigned long long)c->cpus_milli, (unsigned long long)c->pids_limit,
	                    c->seccomp_fakeroot, c->seccomp_profile ? c->seccomp_profile : "");
	for (size_t i = 0; i < c->nbinds; i++) {
		char *t = xasprintf("%sbind %s:%s%s\n", s, c->binds[i].src, c->binds[i].dst,
		                    c->binds[i].ro ? ":ro" : "");
		free(s);
		s = t;
	}
	/* A peer gets the capabilities it asks for: they must be the
	 * winner's, or a peer could hold more than the container's first
	 * process (issue 9). */
	for (int add = 0; add < 2; add++) {
		const struct strv *v = add ? &c->cap_add : &c->cap_drop;
		for (size_t i = 0; i < v->n; i++) {
			char *t = xasprintf("%scap-%s %s\n", s, add ? "add" : "drop", v->v[i]);
			free(s);
			s = t;
		}
	}
	return s;
}

/* The first line where two fingerprints differ, as "KEY (A vs B)". */
static char *fingerprint_diff(const char *mine, const char *theirs)
{
	for (;;) {
		const char *me = strchrnul(mine, '\n'), *te = strchrnul(theirs, '\n');
		if ((me - mine) != (te - theirs) || strncmp(mine, theirs, me - mine) != 0) {
			const char *sp = memchr(mine, ' ', me - mine);
			const char *tsp = memchr(theirs, ' ', te - theirs);
			/* The key from whichever side has a line here. */
			const char *key = me > mine ? mine : theirs;
			const char *ksp = me > mine ? sp : tsp, *kend = me > mine ? me : te;
			int klen = ksp ? (int)(ksp - key) : (int)(kend - key);
			return xasprintf("%.*s (this peer: '%.*s', the winner: '%.*s')", klen, key,
			                 sp ? (int)(me - sp - 1) : 0, sp ? sp + 1 : "",
			                 tsp ? (int)(te - tsp - 1) : 0, tsp ? tsp + 1 : "");
		}
		if (!*me)
			return xstrdup("options");
		mine = me + 1;
		theirs = te + 1;
	}
}

static void unlink_names(struct join *j)
{
	if (j->unlinked)
		return;
	char sem[300];
	snprintf(sem, sizeof sem, "%s", j->name);
	sem_unlink(sem);
	shm_unlink(j->name);
	j->unlinked = true;
	klog(KLOG_DEBUG, "join: removed %s from /dev/shm", j->name);
}

static bool winner_alive(const struct join_shm *s)
{
	/* A killed winner may linger as a zombie until its parent reaps it. */
	return proc_alive(__atomic_load_n(&s->winner, __ATOMIC_ACQUIRE), s->winner_start);
}

static int lock(sem_t *sem, unsigned timeout, struct kerr *e)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout;
	while (sem_timedwait(sem, &ts) < 0) {
		if (errno == EINTR)
			continue;
		return kerr_set(e, errno, "--join: can't lock the peer group");
	}
	return 0;
}

int join_begin(const struct container *c, struct join **out, bool *winner, struct kerr *e)
{
	unsigned long size;
	const char *size_src, *tag_src;
	if (join_size(c->join_ct, environ, &size, &size_src, e) < 0)
		return -1;
	_cleanup_free_ char *tag = join_tag(c->join_tag, environ, getppid(), &tag_src);
	klog(KLOG_VERBOSE, "join: group of %lu (from %s), tag %s (from %s)", size, size_src, tag,
	     tag_src);

	struct join *j = xcalloc(1, sizeof *j);
	j->timeout = c->join_timeout ? c->join_timeout : 30;
	clock_gettime(CLOCK_MONOTONIC, &j->start);
	/* Names from the UID and the tag: two users never meet, and the tag
	 * keeps only characters that are safe in a file name. */
	int n = snprintf(j->name, sizeof j->name, "/krill-%u-", getuid());
	for (const char *t = tag; *t && n < (int)sizeof j->name - 1; t++)
		j->name[n++] = (strchr("-_.", *t) || (*t >= '0' && *t <= '9') ||
		                ((*t | 32) >= 'a' && (*t | 32) <= 'z')) ? *t : '_';
	j->name[n] = '\0';

	sem_t *sem = sem_open(j->name, O_CREAT, 0600, 1);
	if (sem == SEM_FAILED) {
		kerr_set(e, errno, "--join: can't open semaphore %s", j->name);
		free(j);
		return -1;
	}
	if (lock(sem, j->timeout, e) < 0) {
		sem_close(sem);
		free(j);
		return -1;
	}
	int rc = -1;
	_cleanup_free_ char *fp = fingerprint(c);
	_cleanup_close_ int fd = shm_open(j->name, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		kerr_set(e, errno, "--join: can't open shared memory %s", j->name);
		goto out;
	}
	/* /dev/shm is shared by every user: a segment someone else made
	 * first (or may write) is not our peer group. */
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		kerr_set(e, 0, "--join: %s in /dev/shm is not a private segment of yours", j->name);
		goto out;
	}
	j->len = sizeof(struct join_shm) + (size + 1) * sizeof(struct join_slot);
	if (st.st_size == 0 && ftruncate(fd, j->len) < 0) {
		kerr_set(e, errno, "--join: can't size shared memory %s", j->name);
		goto out;
	}
	if (st.st_size != 0 && (size_t)st.st_size != j->len) {
		kerr_set(e, 0, "--join: this peer counts %lu peers, the group it found another number",
		         size);
		goto out;
	}
	j->shm = mmap(NULL, j->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (j->shm == MAP_FAILED) {
		j->shm = NULL;
		kerr_set(e, errno, "--join: can't map shared memory %s", j->name);
		goto out;
	}
	struct join_shm *s = j->shm;
	if (st.st_size == 0) {
		j->winner = true;
		s->magic = JOIN_MAGIC;
		s->size = size;
		s->arrived = 1;
		s->winner = getpid();
		s->winner_start = proc_starttime(getpid());
		for (int i = 0; i < NS_COUNT; i++)
			s->fds[i] = -1;
		snprintf(s->fingerprint, sizeof s->fingerprint, "%s", fp);
		klog(KLOG_VERBOSE, "join: winner (pid %d): building the container for %lu peers", getpid(),
		     size);
	} else {
		if (s->magic != JOIN_MAGIC) {
			kerr_set(e, 0, "--join: %s in /dev/shm is not a krill peer group", j->name);
			goto out;
		}
		if (!winner_alive(s) && s->state != JOIN_READY) {
			kerr_set(e, 0, "--join: the winner (pid %d) died before the container was ready",
			         s->winner);
			unlink_names(j);
			goto out;
		}
		if (strcmp(s->fingerprint, fp) != 0) {
			_cleanup_free_ char *d = fingerprint_diff(fp, s->fingerprint);
			kerr_set(e, 0, "--join: this peer's %s differs from the winner's", d);
			goto out;
		}
		if (s->size != size || s->arrived >= s->size) {
			kerr_set(e, 0, "--join: %s in /dev/shm is not a valid peer group "
			               "(%u of %u peers arrived)", j->name, s->arrived, s->size);
			goto out;
		}
		j->slot = s->arrived++;
		/* Counted from now on: the winner holds the container while this
		 * process lives, even before it has entered. */
		__atomic_store_n(&s->slots[j->slot].pid, getpid(), __ATOMIC_RELEASE);
		klog(KLOG_VERBOSE, "join: peer %u of %u: joining the container of pid %d",
		     j->slot + 1, s->size, s->winner);
	}
	/* The last to arrive removes the names: every peer has them open. */
	if (s->arrived >= s->size)
		unlink_names(j);
	rc = 0;
	*winner = j->winner;
	*out = j;
out:
	sem_post(sem);
	sem_close(sem);
	if (rc < 0)
		join_end(j);
	return rc;
}

static void futex_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

void join_ready(struct join *j, const struct ns_set *fds)
{
	for (int i = 0; i < NS_COUNT; i++)
		j->shm->fds[i] = fds->fd[i];
	__atomic_store_n(&j->shm->state, JOIN_READY, __ATOMIC_RELEASE);
	futex_wake(&j->shm->state);
	klog(KLOG_DEBUG, "join: container ready");
}

void join_fail(struct join *j)
{
	__atomic_store_n(&j->shm->state, JOIN_FAILED, __ATOMIC_RELEASE);
	futex_wake(&j->shm->state);
	unlink_names(j);
}

static double elapsed(const struct join *j)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - j->start.tv_sec) + (now.tv_nsec - j->start.tv_nsec) / 1e9;
}

bool join_hold(struct join *j)
{
	struct join_shm *s = j->shm;
	uint32_t arrived = __atomic_load_n(&s->arrived, __ATOMIC_ACQUIRE);
	if (arrived < s->size) {
		if (elapsed(j) < j->timeout)
			return true;
		if (!j->unlinked)
			klog(KLOG_WARN, "--join: timed out after %u s: %u of %u peers arrived",
			     j->timeout, arrived, s->size);
		unlink_names(j);
	}
	/* Peers whose command still runs keep the container (and its FUSE
	 * server) alive; a peer that was killed no longer counts. */
	for (uint32_t i = 1; i < arrived && i <= s->size; i++) {
		pid_t p = __atomic_load_n(&s->slots[i].pid, __ATOMIC_ACQUIRE);
		if (p > 0 && kill(p, 0) == 0)
			return true;
	}
	return false;
}

int join_wait(struct join *j, struct ns_set *fds, struct kerr *e)
{
	struct join_shm *s = j->shm;
	for (;;) {
		uint32_t state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		if (state == JOIN_READY)
			break;
		if (state == JOIN_FAILED || !winner_alive(s)) {
			unlink_names(j);
			return kerr_set(e, 0, "--join: the winner (pid %d) %s before the container "
			                      "was ready", s->winner,
			                state == JOIN_FAILED ? "failed" : "died");
		}
		if (elapsed(j) >= j->timeout) {
			unlink_names(j);
			return kerr_set(e, 0, "--join: timed out after %u s waiting for the winner "
			                      "(pid %d): %u of %u peers arrived", j->timeout,
			                s->winner, __atomic_load_n(&s->arrived, __ATOMIC_ACQUIRE),
			                s->size);
		}
		struct timespec ts = {0, 100 * 1000 * 1000};
		syscall(SYS_futex, &s->state, FUTEX_WAIT, JOIN_SETUP, &ts, NULL, 0);
	}
	ns_set_init(fds);
	for (int i = 0; i < NS_COUNT; i++) {
		if (s->fds[i] < 0)
			continue;
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/fd/%d", s->winner, s->fds[i]);
		fds->fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds->fd[i] < 0) {
			int err = errno;
			ns_set_close(fds);
			return kerr_set(e, err, "--join: can't open the container's namespaces "
			                        "(%s); has the winner ended?", path);
		}
	}
	return 0;
}

void join_peer_done(struct join *j)
{
	if (!j || j->winner)
		return;
	__atomic_store_n(&j->shm->slots[j->slot].pid, 0, __ATOMIC_RELEASE);
	/* Wake the winner's supervisor now rather than at its next 100 ms
	 * poll: it may be waiting only for us.  SIGCHLD is one it listens
	 * for and never forwards. */
	if (proc_alive(j->shm->winner, j->shm->winner_start))
		kill(j->shm->winner, SIGCHLD);
}

unsigned join_group_size(const struct join *j)
{
	return j->shm->size;
}

pid_t join_winner_pid(const struct join *j)
{
	return j->shm->winner;
}

void join_end(struct join *j)
{
	if (!j)
		return;
	if (j->shm)
		munmap(j->shm, j->len);
	free(j);
}
