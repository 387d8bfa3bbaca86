/* join.c: the peer-group protocol (see join.h).
 *
 * One name, /dev/shm/krill-UID-TAG, a segment with a header and one slot
 * per peer.  flock(2) on the segment is the mutex around "create or open
 * and take a slot": the kernel drops it when its holder dies, so a peer
 * killed while holding it stalls nobody (a POSIX semaphore stays taken).
 * A name is only ever removed by a process that holds that lock and has
 * checked the name still leads to the segment it means (fstat: the same
 * inode, still linked), so nobody removes a newer group's name.
 *
 * The state word is a futex, so waiting peers sleep until the winner
 * publishes, and wake every 100 ms to check that the winner is still
 * alive: a winner killed during setup fails its peers within a fraction of
 * a second, and they remove the name.  Who removes it when nobody is left
 * (see doc/join.md): a guard process the winner starts, and, for a kill of
 * everything at once (scancel's SIGKILL of the whole step), the next
 * winner of the same user, which reclaims groups whose winner is dead. */
#include "join.h"
#include "join_params.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define JOIN_MAGIC 0x6b726a31 /* "krj1" */

enum join_state { JOIN_SETUP = 0, JOIN_READY = 1, JOIN_FAILED = 2 };

struct join_slot {
	int32_t pid; /* the peer's krill process while its command runs; 0 after */
	uint32_t pad;
	uint64_t start; /* its start time: a recycled pid is not the peer */
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
	char name[256];         /* "krill-UID-TAG" (in /dev/shm) */
	dev_t dev;              /* the segment this process mapped */
	ino_t ino;
	unsigned slot;
	bool winner;
	bool unlinked;
	int guard_fd;           /* winner: the guard's pipe, or -1 */
	unsigned timeout;
	struct timespec start;
};

#define SHM_DIR "/dev/shm"

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
	for (size_t i = 0; i < c->devices.n; i++) {
		char *t = xasprintf("%sdevice %s\n", s, c->devices.v[i]);
		free(s);
		s = t;
	}
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

static int lock_fd(int fd, int how)
{
	int r;
	do
		r = flock(fd, how);
	while (r < 0 && errno == EINTR);
	return r;
}

/* /dev/shm is shared by every user: a segment someone else made first
 * (or may write) is not our peer group. */
static bool segment_is_ours(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == geteuid() && !(st->st_mode & 077);
}

/* Remove the name, if it still leads to our segment.  The caller holds
 * the lock of fd, the segment; nobody else can then remove or replace the
 * name. */
static void unlink_locked(int dirfd, const char *name, int fd)
{
	struct stat st, by_name;
	if (fstat(fd, &st) == 0 && st.st_nlink > 0 &&
	    fstatat(dirfd, name, &by_name, AT_SYMLINK_NOFOLLOW) == 0 &&
	    by_name.st_dev == st.st_dev && by_name.st_ino == st.st_ino &&
	    unlinkat(dirfd, name, 0) == 0)
		klog(KLOG_DEBUG, "join: removed %s from " SHM_DIR, name);
}

/* Remove our group's name, if the name still leads to the segment this
 * process mapped (not to a newer group of the same tag). */
static void unlink_names(struct join *j)
{
	if (j->unlinked)
		return;
	j->unlinked = true;
	_cleanup_close_ int fd = open(SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int seg = fd < 0 ? -1 : openat(fd, j->name, O_RDWR | O_NOFOLLOW |
	                                               O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (seg < 0 || fstat(seg, &st) < 0 || st.st_dev != j->dev || st.st_ino != j->ino)
		return; /* gone, or someone else's now */
	if (lock_fd(seg, LOCK_EX) == 0)
		unlink_locked(fd, j->name, seg);
}

static bool segment_abandoned(int fd, const struct stat *st, pid_t pid,
                              unsigned long long start);

/* A waiting peer found the winner dead: remove the name if it still leads
 * to our segment and that segment still names this dead winner. */
static void unlink_dead_winner(struct join *j)
{
	if (j->unlinked)
		return;
	j->unlinked = true;
	pid_t pid = j->shm->winner;
	unsigned long long start = j->shm->winner_start;
	_cleanup_close_ int fd = open(SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int seg = fd < 0 ? -1 : openat(fd, j->name, O_RDWR | O_NOFOLLOW |
	                                               O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (seg < 0 || fstat(seg, &st) < 0 || st.st_dev != j->dev || st.st_ino != j->ino ||
	    lock_fd(seg, LOCK_EX) < 0 || fstat(seg, &st) < 0)
		return;
	if (segment_abandoned(seg, &st, pid, start))
		unlink_locked(fd, j->name, seg);
}

static bool winner_alive(const struct join_shm *s)
{
	/* A killed winner may linger as a zombie until its parent reaps it. */
	return proc_alive(__atomic_load_n(&s->winner, __ATOMIC_ACQUIRE), s->winner_start);
}

/* A segment whose group can never be completed: made by a process killed
 * before it could size or fill it (a header of zeros), or naming a winner
 * that is dead.  With pid != 0: only if it names that winner.  The caller
 * holds the segment's lock, so nobody is filling it meanwhile. */
static bool segment_abandoned(int fd, const struct stat *st, pid_t pid,
                              unsigned long long start)
{
	struct join_shm h;
	if (st->st_size == 0)
		return true;
	if ((size_t)st->st_size < sizeof h || pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
		return false; /* not krill's: report, never remove */
	if (h.magic == 0 && h.winner == 0 && h.size == 0)
		return true;
	if (h.magic != JOIN_MAGIC)
		return false;
	if (pid)
		return h.winner == pid && h.winner_start == start;
	return !proc_alive(h.winner, h.winner_start);
}

/* The guard: a small process outside the winner's namespaces, nobody's
 * child, started before the name can exist.  If the process that started
 * it dies while the name still leads to a group it made (a winner killed
 * before any peer arrived leaves nobody else to remove it), the guard
 * removes the name.  Released ("d" on the pipe) once that can't happen. */
static _Noreturn void guard_main(const char *name, pid_t winner, unsigned long long start,
                                 int pidfd, int pipe_fd)
{
	setsid();
	if (chdir("/") < 0)
		_exit(1);
	prctl(PR_SET_NAME, "krill-join-grd", 0, 0, 0);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN); /* scancel's SIGTERM is for the command */
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3; fd++)
		if (nul >= 0)
			dup2(nul, fd);
	/* pidfd and pipe_fd are >= 3: see guard_start. */
	int keep[2] = {pidfd, pipe_fd};
	fds_close_except(keep, 2);
	if (guard_wait_release(pipe_fd, pidfd))
		_exit(0); /* released */
	/* The winner is gone: remove the name if nobody else can. */
	int dirfd = open(SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int seg = dirfd < 0 ? -1 : openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (seg >= 0 && fstat(seg, &st) == 0 && segment_is_ours(&st) && lock_fd(seg, LOCK_EX) == 0 &&
	    fstat(seg, &st) == 0 && segment_abandoned(seg, &st, winner, start))
		unlink_locked(dirfd, name, seg);
	_exit(0);
}

/* Start the guard; on failure the run goes on without one (the next
 * winner reclaims the name). */
static void guard_start(struct join *j, unsigned long long start)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	int fds[] = {p[0], p[1], pidfd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (fds[i] >= 0 && fds[i] < 3) {
			int n = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
			close(fds[i]);
			fds[i] = n;
		}
	}
	pid_t self = getpid();
	pid_t mid = fork();
	if (mid == 0) {
		/* Double fork: the guard is nobody's child, so the supervisor's
		 * waitpid(-1) never reaps it, and it doesn't count as the
		 * supervisor's child still running. */
		if (fork() == 0)
			guard_main(j->name, self, start, fds[2], fds[0]);
		_exit(0);
	}
	if (mid > 0)
		while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
			;
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (i != 1 && fds[i] >= 0)
			close(fds[i]);
	if (mid < 0) {
		close(fds[1]);
		return;
	}
	j->guard_fd = fds[1];
}

/* Tell the guard the name is gone: it exits without touching anything. */
static void guard_release(struct join *j)
{
	if (j->guard_fd < 0)
		return;
	if (write(j->guard_fd, "d", 1) < 0)
		klog(KLOG_DEBUG, "join: can't release the guard: %m");
	close(j->guard_fd);
	j->guard_fd = -1;
}

int join_stale_scan(bool remove, void (*found)(const char *name, void *arg), void *arg)
{
	_cleanup_close_ int dirfd = open(SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return 0;
	DIR *d = fdopendir(fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
	if (!d)
		return 0;
	char prefix[64], old_prefix[64];
	snprintf(prefix, sizeof prefix, "krill-%u-", geteuid());
	snprintf(old_prefix, sizeof old_prefix, "sem.krill-%u-", geteuid());
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		bool seg = strncmp(de->d_name, prefix, strlen(prefix)) == 0;
		/* Semaphores of krill before 0.x (flock replaced them): the
		 * group is over when its segment is gone. */
		bool old = strncmp(de->d_name, old_prefix, strlen(old_prefix)) == 0;
		if (!seg && !old)
			continue;
		_cleanup_close_ int fd = openat(dirfd, de->d_name, O_RDONLY | O_NOFOLLOW |
		                                O_CLOEXEC | O_NONBLOCK);
		struct stat st, segst;
		if (fd < 0 || fstat(fd, &st) < 0 || !segment_is_ours(&st))
			continue;
		if (old) {
			if (fstatat(dirfd, de->d_name + 4, &segst, AT_SYMLINK_NOFOLLOW) == 0)
				continue;
		} else if (!segment_abandoned(fd, &st, 0, 0)) {
			continue;
		}
		n++;
		if (found)
			found(de->d_name, arg);
		if (!remove)
			continue;
		if (old) {
			unlinkat(dirfd, de->d_name, 0);
			continue;
		}
		/* Under the lock, judged again: a busy group is not stale. */
		if (lock_fd(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 &&
		    segment_abandoned(fd, &st, 0, 0))
			unlink_locked(dirfd, de->d_name, fd);
	}
	closedir(d);
	return n;
}

/* Remove the name while holding the lock of fd, the segment it led to. */
static void unlink_here(struct join *j, int fd)
{
	_cleanup_close_ int dirfd = open(SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd >= 0)
		unlink_locked(dirfd, j->name, fd);
	j->unlinked = true;
}

/* Open the group's segment, creating it if missing, and lock it.  The
 * name may be removed between the open and the lock (its group ended):
 * then open again, a newer group's or a new one.  Returns the fd, with
 * *st its fstat. */
static int open_locked(const char *name, unsigned timeout, struct stat *st, struct kerr *e)
{
	_cleanup_close_ int dirfd = open(SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return kerr_set(e, errno, "--join: can't open " SHM_DIR);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
		                0600);
		if (fd < 0)
			return kerr_set(e, errno, "--join: can't open shared memory " SHM_DIR "/%s",
			                name);
		if (fstat(fd, st) < 0 || !segment_is_ours(st)) {
			close(fd);
			kerr_set(e, 0, "--join: " SHM_DIR "/%s is not a private segment of yours",
			         name);
			kerr_hint(e, "another user made it first; use another --join-tag");
			return -1;
		}
		if (lock_fd(fd, LOCK_EX) < 0) {
			int err = errno;
			close(fd);
			return kerr_set(e, err, "--join: can't lock the peer group " SHM_DIR "/%s",
			                name);
		}
		if (fstat(fd, st) == 0 && st->st_nlink > 0)
			return fd;
		close(fd); /* removed before we had it locked */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > (time_t)timeout)
			return kerr_set(e, 0, "--join: can't lock the peer group " SHM_DIR "/%s: "
			                      "timed out", name);
	}
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
	j->guard_fd = -1;
	j->timeout = c->join_timeout ? c->join_timeout : 30;
	clock_gettime(CLOCK_MONOTONIC, &j->start);
	/* Names from the UID and the tag: two users never meet, and the tag
	 * keeps only characters that are safe in a file name. */
	int n = snprintf(j->name, sizeof j->name, "krill-%u-", getuid());
	for (const char *t = tag; *t && n < (int)sizeof j->name - 1; t++)
		j->name[n++] = (strchr("-_.", *t) || (*t >= '0' && *t <= '9') ||
		                ((*t | 32) >= 'a' && (*t | 32) <= 'z')) ? *t : '_';
	j->name[n] = '\0';
	unsigned long long self_start = proc_starttime(getpid());
	/* Before the name can exist: whatever kills us from here on, the
	 * guard removes a group we made. */
	guard_start(j, self_start);

	struct stat st;
	int fd = open_locked(j->name, j->timeout, &st, e);
	if (fd < 0) {
		join_end(j);
		return -1;
	}
	j->dev = st.st_dev;
	j->ino = st.st_ino;
	int rc = -1;
	_cleanup_free_ char *fp = fingerprint(c);
	j->len = sizeof(struct join_shm) + (size + 1) * sizeof(struct join_slot);
	if (st.st_size == 0 && ftruncate(fd, j->len) < 0) {
		kerr_set(e, errno, "--join: can't size shared memory " SHM_DIR "/%s", j->name);
		goto out;
	}
	if (st.st_size != 0) {
		/* Read before mapping: a segment of the wrong size is never
		 * touched through a mapping (no SIGBUS). */
		struct join_shm h;
		if ((size_t)st.st_size < sizeof h ||
		    pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
		    (h.magic != JOIN_MAGIC && !(h.magic == 0 && h.winner == 0 && h.size == 0))) {
			kerr_set(e, 0, "--join: " SHM_DIR "/%s is not a krill peer group", j->name);
			goto out;
		}
		if ((size_t)st.st_size != j->len) {
			kerr_set(e, 0, "--join: this peer counts %lu peers, the group it found %u",
			         size, h.size);
			goto out;
		}
	}
	j->shm = mmap(NULL, j->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (j->shm == MAP_FAILED) {
		j->shm = NULL;
		kerr_set(e, errno, "--join: can't map shared memory " SHM_DIR "/%s", j->name);
		goto out;
	}
	struct join_shm *s = j->shm;
	/* A header of zeros: its maker was killed before it could fill it. */
	if (st.st_size == 0 || (s->magic == 0 && s->winner == 0 && s->size == 0)) {
		j->winner = true;
		s->magic = JOIN_MAGIC;
		s->size = size;
		s->arrived = 1;
		s->winner = getpid();
		s->winner_start = self_start;
		for (int i = 0; i < NS_COUNT; i++)
			s->fds[i] = -1;
		snprintf(s->fingerprint, sizeof s->fingerprint, "%s", fp);
		klog(KLOG_VERBOSE, "join: winner (pid %d): building the container for %lu peers", getpid(),
		     size);
	} else {
		if (s->magic != JOIN_MAGIC) {
			kerr_set(e, 0, "--join: " SHM_DIR "/%s is not a krill peer group", j->name);
			goto out;
		}
		if (!winner_alive(s)) {
			/* We hold the lock of the segment that names this dead
			 * winner: the name is stale, whoever else is waiting. */
			kerr_set(e, 0, "--join: the winner (pid %d) died before the container was ready",
			         s->winner);
			unlink_here(j, fd);
			goto out;
		}
		if (strcmp(s->fingerprint, fp) != 0) {
			_cleanup_free_ char *d = fingerprint_diff(fp, s->fingerprint);
			kerr_set(e, 0, "--join: this peer's %s differs from the winner's", d);
			goto out;
		}
		if (s->size != size || s->arrived >= s->size) {
			kerr_set(e, 0, "--join: " SHM_DIR "/%s is not a valid peer group "
			               "(%u of %u peers arrived)", j->name, s->arrived, s->size);
			goto out;
		}
		/* Counted from now on: the winner holds the container while this
		 * process lives, even before it has entered.  The slot is filled
		 * before the count says it exists: the winner doesn't lock. */
		j->slot = s->arrived;
		s->slots[j->slot].start = self_start;
		s->slots[j->slot].pid = getpid();
		__atomic_store_n(&s->arrived, j->slot + 1, __ATOMIC_RELEASE);
		klog(KLOG_VERBOSE, "join: peer %u of %u: joining the container of pid %d",
		     j->slot + 1, s->size, s->winner);
	}
	/* The last to arrive removes the name: every peer has it mapped. */
	if (s->arrived >= s->size)
		unlink_here(j, fd);
	rc = 0;
	*winner = j->winner;
	*out = j;
out:
	if (rc < 0 && j->shm == NULL && st.st_size == 0)
		unlink_here(j, fd); /* we made it, and nobody can use it */
	lock_fd(fd, LOCK_UN);
	if (rc == 0 && !j->winner)
		guard_release(j); /* a peer never owns the name */
	if (rc == 0 && j->winner)
		/* Names of ours that a kill of everything left (a winner and
		 * its guard, killed at once): nobody else would remove them. */
		join_stale_scan(true, NULL, NULL);
	close(fd);
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
	guard_release(j);
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
	/* Every peer arrived: the last one removed the name. */
	guard_release(j);
	/* Peers whose command still runs keep the container (and its FUSE
	 * server) alive; a peer that was killed no longer counts, even while
	 * it lingers as a zombie its parent hasn't reaped. */
	for (uint32_t i = 1; i < arrived && i <= s->size; i++) {
		pid_t p = __atomic_load_n(&s->slots[i].pid, __ATOMIC_ACQUIRE);
		if (p > 0 && proc_alive(p, s->slots[i].start))
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
			if (state == JOIN_FAILED)
				unlink_names(j);
			else
				unlink_dead_winner(j);
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
	/* A winner that ends takes its group with it. */
	if (j->winner && j->shm)
		unlink_names(j);
	guard_release(j);
	if (j->shm)
		munmap(j->shm, j->len);
	free(j);
}
