/* squash.c: SquashFS images.  Owns mounting an image (FUSE without
 * fusermount, or a kernel loop mount for real root) and the multithreaded
 * in-process FUSE server.  Reading the image, with every on-disk field
 * checked, is squash_tree.c's: each FUSE operation here is a thin call
 * into it, so the fuzz harness exercises the same code (doc/squash.md).
 *
 * FUSE inode numbers are squash_tree's (root -> FUSE_ROOT_ID, others ->
 * SquashFS inode id + 2), so lookup counts need no bookkeeping and FORGET
 * is a no-op. */
#include "squash.h"

#include "log.h"
#include "squash_tree.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

_Static_assert(SQT_ROOT == FUSE_ROOT_ID, "squash_tree's root is FUSE's");

/* The image is immutable: let the kernel keep names and attributes for a
 * day (it revalidates nothing it has not been told to). */
#define SQ_TIMEOUT 86400.0
#define SQ_MAX_THREADS 64

struct squash {
	char *path;
	struct sqt *t;

	char *mountpoint;        /* set while mounted */
	bool kernel;             /* mounted by the kernel: nothing to serve */
	struct fuse_session *se;
	pthread_t *workers;
	int nworkers;
};

int squash_open(const char *path, struct squash **out, struct kerr *e)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kerr_set(e, errno, "%s: can't open SquashFS", path);
	struct sqt *t;
	if (sqt_open(path, fd, &t, e) < 0) /* closes fd on failure */
		return -1;
	struct squash *sq = xcalloc(1, sizeof *sq);
	sq->path = xstrdup(path);
	sq->t = t;
	*out = sq;
	return 0;
}

/* ------------------------------------------------------------------ */
/* FUSE operations                                                     */

static struct sqt *req_tree(fuse_req_t req)
{
	return ((struct squash *)fuse_req_userdata(req))->t;
}

static void entry_fill(struct fuse_entry_param *ep, fuse_ino_t ino)
{
	ep->ino = ino;
	ep->generation = 1;
	ep->attr_timeout = SQ_TIMEOUT;
	ep->entry_timeout = SQ_TIMEOUT;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	/* Page-cache symlink targets; no OPEN/OPENDIR round trips (we reply
	 * ENOSYS once, and the kernel then defaults to keep_cache and
	 * cache_dir for every open); readdirplus always, so listing a
	 * directory also primes the attributes for the lstat() that
	 * follows. */
	conn->want |= conn->capable & (FUSE_CAP_CACHE_SYMLINKS | FUSE_CAP_ASYNC_READ |
	                               FUSE_CAP_READDIRPLUS | FUSE_CAP_PARALLEL_DIROPS |
	                               FUSE_CAP_NO_OPEN_SUPPORT |
	                               FUSE_CAP_NO_OPENDIR_SUPPORT);
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
	/* Nothing is ever written, so there is nothing to flush or lock. */
	conn->want &= ~(unsigned)(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_POSIX_LOCKS |
	                          FUSE_CAP_FLOCK_LOCKS);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param ep = { 0 };
	uint64_t ino;
	int r = sqt_lookup(req_tree(req), parent, name, &ino, &ep.attr);
	if (r) {
		fuse_reply_err(req, -r);
		return;
	}
	/* ino 0 is a negative entry, cached as long as positive ones. */
	entry_fill(&ep, ino);
	fuse_reply_entry(req, &ep);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int r = sqt_getattr(req_tree(req), ino, &st);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, SQ_TIMEOUT);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char *target;
	int r = sqt_readlink(req_tree(req), ino, &target);
	if (r) {
		fuse_reply_err(req, -r);
		return;
	}
	fuse_reply_readlink(req, target);
	free(target);
}

/* Reply ENOSYS: the kernel remembers it, sends no more OPEN/OPENDIR (nor
 * RELEASE), and opens files with FOPEN_KEEP_CACHE and directories with
 * FOPEN_CACHE_DIR, which is what we want for an immutable image. */
static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fuse_reply_err(req, ENOSYS);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, ENOSYS);
}

/* Filling one READDIR(PLUS) reply buffer. */
struct dirbuf {
	fuse_req_t req;
	bool plus;
	char *buf;
	size_t size, used;
};

static bool dirbuf_add(void *arg, const char *name, const struct stat *st, off_t next)
{
	struct dirbuf *d = arg;
	size_t need;
	if (d->plus) {
		struct fuse_entry_param ep = { .attr = *st };
		entry_fill(&ep, st->st_ino);
		need = fuse_add_direntry_plus(d->req, d->buf + d->used, d->size - d->used,
		                              name, &ep, next);
	} else {
		need = fuse_add_direntry(d->req, d->buf + d->used, d->size - d->used, name,
		                         st, next);
	}
	if (need > d->size - d->used)
		return false; /* not added; the kernel asks again from here */
	d->used += need;
	return true;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	struct dirbuf d = { .req = req, .plus = plus, .buf = xmalloc(size), .size = size };
	int r = sqt_readdir(req_tree(req), ino, off, plus, dirbuf_add, &d);
	if (r && d.used == 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, d.buf, d.used);
	free(d.buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, true);
}

static void reply_data(void *arg, const struct iovec *iov, int n)
{
	fuse_reply_iov(arg, iov, n);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	/* On success reply_data has replied, from the block cache. */
	int r = sqt_read(req_tree(req), ino, off, size, reply_data, req);
	if (r)
		fuse_reply_err(req, -r);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	sqt_statfs(req_tree(req), &sv);
	fuse_reply_statfs(req, &sv);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char *buf = size ? xmalloc(size) : NULL;
	size_t len = 0;
	int r = sqt_getxattr(req_tree(req), ino, name, buf, size, &len);
	if (r)
		fuse_reply_err(req, -r);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
	free(buf);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *buf = size ? xmalloc(size) : NULL;
	size_t len = 0;
	int r = sqt_listxattr(req_tree(req), ino, buf, size, &len);
	if (r)
		fuse_reply_err(req, -r);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
	free(buf);
}

/* Inode numbers are computed, not registered: nothing to forget. */
static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
                            struct fuse_forget_data *forgets)
{
	fuse_reply_none(req);
}

static const struct fuse_lowlevel_ops squash_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.open = op_open,
	.read = op_read,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.statfs = op_statfs,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
};

/* ------------------------------------------------------------------ */
/* Mounting                                                            */

int squash_mount_fuse(struct squash *sq, const char *mountpoint, struct kerr *e)
{
	char opts[128], fdpath[32];
	char *argv[] = { (char *)"krill", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);

	if (sq->mountpoint)
		return kerr_set(e, EBUSY, "%s: already mounted", sq->path);
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		kerr_set(e, err, "can't open /dev/fuse");
		if (err == ENOENT || err == ENXIO || err == ENODEV)
			return kerr_hint(e, "this node has no FUSE device; ask the admin to "
			                    "load the fuse module (modprobe fuse), or run as root");
		if (err == EACCES || err == EPERM)
			return kerr_hint(e, "ask the admin to make /dev/fuse mode 0666, as udev does");
		return -1;
	}

	/* The kernel's FUSE accepts mounts from a user namespace (4.18+).
	 * rootmode is the octal file type of the root (a directory); user_id
	 * and group_id are read in our user namespace.  allow_other lets the
	 * container's inner user namespace (a child of ours) in; the kernel
	 * only lets processes in our namespace or below use it anyway. */
	snprintf(opts, sizeof opts,
	         "fd=%d,rootmode=40000,user_id=%u,group_id=%u,allow_other", fd,
	         (unsigned)geteuid(), (unsigned)getegid());
	unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV;
	int rc = mount(sq->path, mountpoint, "fuse.krill", flags, opts);
	if (rc < 0 && errno == ENODEV) /* a kernel without subtypes */
		rc = mount(sq->path, mountpoint, "fuse", flags, opts);
	if (rc < 0) {
		int err = errno;
		close(fd);
		kerr_set(e, err, "can't mount %s on %s (FUSE)", sq->path, mountpoint);
		if (err == EPERM)
			return kerr_hint(e, "mounting needs CAP_SYS_ADMIN in the user namespace "
			                    "that owns the mount namespace; are unprivileged user "
			                    "namespaces disabled (kernel.unprivileged_userns_clone, "
			                    "user.max_user_namespaces)?");
		if (err == ENODEV)
			return kerr_hint(e, "the kernel has no FUSE support; ask the admin to "
			                    "load the fuse module");
		return -1;
	}
	klog(KLOG_DEBUG, "mounted %s on %s (fuse, fd %d)", sq->path, mountpoint, fd);
	sq->mountpoint = xstrdup(mountpoint);

	sq->se = fuse_session_new(&args, &squash_ops, sizeof squash_ops, sq);
	fuse_opt_free_args(&args);
	if (!sq->se) {
		close(fd);
		umount2(mountpoint, MNT_DETACH);
		free(sq->mountpoint);
		sq->mountpoint = NULL;
		return kerr_set(e, ENOMEM, "%s: can't create the FUSE session", sq->path);
	}
	/* "/dev/fd/N" makes libfuse adopt an fd that is already mounted
	 * (fuse_session_mount() parses it) instead of mounting itself; the
	 * session owns the fd from here and fuse_session_destroy() closes it. */
	snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", fd);
	if (fuse_session_mount(sq->se, fdpath) != 0) {
		fuse_session_destroy(sq->se);
		sq->se = NULL;
		close(fd);
		umount2(mountpoint, MNT_DETACH);
		free(sq->mountpoint);
		sq->mountpoint = NULL;
		return kerr_set(e, 0, "%s: libfuse refused the FUSE fd", sq->path);
	}
	return 0;
}

/* Bind a free loop device to the image, read-only and auto-clearing.
 * Returns the open loop fd and its number. */
static int loop_attach(struct squash *sq, int *num, struct kerr *e)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return kerr_set(e, errno, "can't open /dev/loop-control");

	/* Between GET_FREE and CONFIGURE another process may take the same
	 * device (EBUSY); that is a race, not a failure, so try again a few
	 * times.  Any other error is reported at once. */
	for (int tries = 0; tries < 16; tries++) {
		char dev[32];
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return kerr_set(e, errno, "/dev/loop-control: can't get a free loop device");
		snprintf(dev, sizeof dev, "/dev/loop%d", n);
		int lfd = open(dev, O_RDONLY | O_CLOEXEC);
		if (lfd < 0)
			return kerr_set(e, errno, "can't open %s", dev);

		struct loop_config cfg = { .fd = (unsigned)sqt_fd(sq->t) };
		cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
		snprintf((char *)cfg.info.lo_file_name, sizeof cfg.info.lo_file_name, "%s",
		         sq->path);
		int rc = ioctl(lfd, LOOP_CONFIGURE, &cfg);
		if (rc < 0 && (errno == EINVAL || errno == ENOTTY)) {
			/* Before Linux 5.8: two steps. */
			rc = ioctl(lfd, LOOP_SET_FD, sqt_fd(sq->t));
			if (rc == 0 && ioctl(lfd, LOOP_SET_STATUS64, &cfg.info) < 0) {
				int err = errno;
				ioctl(lfd, LOOP_CLR_FD, 0);
				close(lfd);
				return kerr_set(e, err, "%s: can't configure", dev);
			}
		}
		if (rc == 0) {
			*num = n;
			return lfd;
		}
		int err = errno;
		close(lfd);
		if (err != EBUSY)
			return kerr_set(e, err, "%s: can't attach %s", dev, sq->path);
	}
	return kerr_set(e, EBUSY, "can't attach %s to a loop device", sq->path);
}

int squash_mount_kernel(struct squash *sq, const char *mountpoint, struct kerr *e)
{
	char dev[32];
	int num = -1;

	if (sq->mountpoint)
		return kerr_set(e, EBUSY, "%s: already mounted", sq->path);
	int lfd = loop_attach(sq, &num, e);
	if (lfd < 0)
		return -1;
	snprintf(dev, sizeof dev, "/dev/loop%d", num);
	/* Closing our loop fd below leaves the mount as the only user; with
	 * LO_FLAGS_AUTOCLEAR the device detaches itself when the mount goes,
	 * including when the private mount namespace dies with its last
	 * process. */
	int rc = mount(dev, mountpoint, "squashfs", MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
	int err = errno;
	close(lfd);
	if (rc < 0) {
		kerr_set(e, err, "can't mount %s (%s) on %s", sq->path, dev, mountpoint);
		if (err == ENODEV)
			return kerr_hint(e, "the kernel has no squashfs support (modprobe squashfs)");
		return -1;
	}
	klog(KLOG_DEBUG, "mounted %s on %s (squashfs, %s)", sq->path, mountpoint, dev);
	sq->mountpoint = xstrdup(mountpoint);
	sq->kernel = true;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Serving                                                             */

static void worker_cleanup(void *arg)
{
	struct fuse_buf *fbuf = arg;
	free(fbuf->mem);
	fbuf->mem = NULL;
}

/* Stopping workers: a signal without SA_RESTART makes a read(2) blocked
 * on /dev/fuse return EINTR, and the loop then sees the session has
 * exited.  (Not pthread_cancel: glibc loads libgcc_s for it on first use,
 * and by then our root is a staging tmpfs without /lib.) */
#define SQ_WAKE_SIGNAL (SIGRTMIN + 3)

static void wake_handler(int sig) { (void)sig; }

/* A worker blocks in read(2) on /dev/fuse; the kernel hands each request
 * to one reader. */
static void *worker_main(void *arg)
{
	struct squash *sq = arg;
	struct fuse_buf fbuf = { .mem = NULL };
	sigset_t wake;
	sigemptyset(&wake);
	sigaddset(&wake, SQ_WAKE_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);

	while (!fuse_session_exited(sq->se)) {
		int n = fuse_session_receive_buf(sq->se, &fbuf);
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n <= 0) {
			/* 0: the connection is gone (ENODEV: unmounted or
			 * aborted); < 0: a real error.  Either way we are done. */
			if (n < 0)
				klog(KLOG_WARN, "%s: FUSE read failed: %s", sq->path,
				     strerror(-n));
			fuse_session_exit(sq->se);
			break;
		}
		fuse_session_process_buf(sq->se, &fbuf);
	}
	worker_cleanup(&fbuf);
	return NULL;
}

int squash_default_threads(void)
{
	int n = cpu_count();
	return n > 16 ? 16 : n;
}

int squash_serve_start(struct squash *sq, int threads, struct kerr *e)
{
	sigset_t all, old;

	/* The kernel serves its own mount (root with a supervisor: --pid,
	 * cgroup limits, --name, --join). */
	if (sq->kernel)
		return 0;
	if (!sq->se)
		return kerr_set(e, EINVAL, "%s: not mounted with FUSE", sq->path);
	if (sq->workers)
		return kerr_set(e, EBUSY, "%s: already served", sq->path);
	if (threads < 1)
		threads = 1;
	if (threads > SQ_MAX_THREADS)
		threads = SQ_MAX_THREADS;
	sq->workers = xcalloc((size_t)threads, sizeof *sq->workers);

	/* Threads inherit the signal mask: block everything while creating
	 * them, so that signals meant for the container are only ever taken
	 * by the caller's thread. */
	struct sigaction sa = { .sa_handler = wake_handler }; /* no SA_RESTART */
	sigaction(SQ_WAKE_SIGNAL, &sa, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < threads; i++) {
		int rc = pthread_create(&sq->workers[i], NULL, worker_main, sq);
		if (rc) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			kerr_set(e, rc, "%s: can't start FUSE thread %d", sq->path, i + 1);
			squash_stop(sq);
			return -1;
		}
		sq->nworkers = i + 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	klog(KLOG_DEBUG, "serving %s with %d threads", sq->path, threads);
	return 0;
}

void squash_stop(struct squash *sq)
{
	if (!sq)
		return;
	if (sq->se)
		fuse_session_exit(sq->se);
	/* Detach the mount: once nothing else holds it, the kernel tears the
	 * superblock down and aborts the connection, and blocked readers
	 * return ENODEV.  A copy of the mount still held elsewhere (a leaked
	 * process in another mount namespace) would keep it alive, so the
	 * workers are also woken with a signal until they have all ended. */
	if (sq->mountpoint) {
		if (umount2(sq->mountpoint, MNT_DETACH) < 0 && errno != EINVAL &&
		    errno != ENOENT)
			klog(KLOG_WARN, "can't unmount %s: %s", sq->mountpoint, strerror(errno));
		free(sq->mountpoint);
		sq->mountpoint = NULL;
	}
	for (int i = 0; i < sq->nworkers; i++) {
		/* Repeat the wake-up: a signal landing just before a worker
		 * blocks in read(2) would be missed. */
		for (;;) {
			pthread_kill(sq->workers[i], SQ_WAKE_SIGNAL);
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 10 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (pthread_timedjoin_np(sq->workers[i], NULL, &ts) == 0)
				break;
		}
	}
	free(sq->workers);
	sq->workers = NULL;
	sq->nworkers = 0;
	/* Closes the /dev/fuse fd: any request still queued now fails with
	 * ENOTCONN instead of waiting forever. */
	if (sq->se) {
		fuse_session_destroy(sq->se);
		sq->se = NULL;
	}
}

void squash_child_drop(struct squash *sq)
{
	if (!sq)
		return;
	if (sq->se) {
		int fd = fuse_session_fd(sq->se);
		if (fd >= 0)
			close(fd);
	}
	close(sqt_fd(sq->t));
}

void squash_close(struct squash *sq)
{
	if (!sq)
		return;
	squash_stop(sq);
	sqt_close(sq->t);
	free(sq->path);
	free(sq);
}
