/* squash.c: SquashFS images.  Owns opening and checking an image, mounting
 * it (FUSE without fusermount, or a kernel loop mount for real root), and
 * the multithreaded in-process FUSE server.
 *
 * Thread safety (details in doc/squash.md): libsquashfuse 0.1.10x keeps
 * unlocked caches inside `sqfs` (metadata blocks, the block index of big
 * files, data and fragment blocks), and the pointers they return are only
 * valid until the next call.  So every call into libsquashfuse happens
 * under md_lock.  File data does not go through those calls: under the lock
 * we only look up where each data block lies; reading and decompressing it
 * (the expensive part) happens outside the lock, into our own refcounted
 * block cache.  The decompressors libsquashfuse picks (zlib uncompress,
 * ZSTD_decompress, LZ4_decompress_safe, lzma_stream_buffer_decode,
 * lzo1x_decompress_safe) are one-shot and keep no state, so they may run
 * in parallel.
 *
 * FUSE inode numbers are derived from SquashFS inode ids with no table
 * (root -> FUSE_ROOT_ID, others -> id + 2), so lookup counts need no
 * bookkeeping and FORGET is a no-op. */
#include "squash.h"

#include "log.h"
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
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

/* squashfuse's config.h defines FUSE_USE_VERSION 32 and _POSIX_C_SOURCE,
 * which would clash (-Werror) with ours; every system header is already in,
 * so drop ours while its headers are read, and restore FUSE_USE_VERSION. */
#pragma push_macro("FUSE_USE_VERSION")
#undef FUSE_USE_VERSION
#undef _POSIX_C_SOURCE
#include <squashfuse.h>
#undef FUSE_USE_VERSION
#pragma pop_macro("FUSE_USE_VERSION")

/* The image is immutable: let the kernel keep names and attributes for a
 * day (it revalidates nothing it has not been told to). */
#define SQ_TIMEOUT 86400.0
#define SQ_CACHE_BYTES (8u << 20) /* decompressed blocks kept in memory */
#define SQ_CACHE_MIN 8
#define SQ_MAX_THREADS 64

/* A decompressed data or fragment block, shared between requests. */
struct blk {
	uint64_t key;  /* position of the block in the image */
	int refs;      /* one for the cache slot, one per request using it */
	size_t size;
	char data[];
};

struct squash {
	char *path;
	int fd;              /* the image, O_RDONLY */
	sqfs fs;
	bool fs_ok;
	sqfs_inode_id root;
	uint64_t image_size;

	pthread_mutex_t md_lock; /* every call into libsquashfuse */

	pthread_mutex_t cache_lock;
	struct blk **slots;
	size_t nslots, next_slot;
	char *zeros;             /* block_size zero bytes, for sparse blocks */
	pthread_key_t scratch;   /* per-thread buffer for compressed input */
	bool scratch_ok;

	char *mountpoint;        /* set while mounted */
	struct fuse_session *se;
	pthread_t *workers;
	int nworkers;
};

/* ------------------------------------------------------------------ */
/* Opening and checking                                                */

/* "PATH: can't open SquashFS: WHY"; with errnum, WHY is strerror(errnum). */
static int open_fail(struct kerr *e, const char *path, int errnum,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int open_fail(struct kerr *e, const char *path, int errnum,
                     const char *fmt, ...)
{
	char why[512];
	va_list ap;
	if (errnum)
		return kerr_set(e, errnum, "%s: can't open SquashFS", path);
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return kerr_set(e, 0, "%s: can't open SquashFS: %s", path, why);
}

/* libsquashfuse trusts much of the superblock; check what would otherwise
 * surface later as odd I/O errors deep inside a container. */
static int check_super(const char *path, const struct squashfs_super_block *sb,
                       uint64_t file_size, struct kerr *e)
{
	if (sb->s_magic != SQUASHFS_MAGIC)
		return open_fail(e, path, 0, "bad magic number");
	if (sb->inodes == 0)
		return open_fail(e, path, 0, "corrupt superblock (inode count is 0)");
	if (sb->s_major != 4)
		return open_fail(e, path, 0, "unsupported version %u.%u (need 4.x)",
		                 sb->s_major, sb->s_minor);
	if (sb->block_size < 4096 || sb->block_size > (1u << 20) ||
	    (sb->block_size & (sb->block_size - 1)) ||
	    (1u << sb->block_log) != sb->block_size)
		return open_fail(e, path, 0, "corrupt superblock (block size %u)",
		                 sb->block_size);
	if (sb->bytes_used > file_size)
		return open_fail(e, path, 0,
		                 "image is truncated (superblock says %llu bytes, file has %llu)",
		                 (unsigned long long)sb->bytes_used,
		                 (unsigned long long)file_size);
	if (sb->inode_table_start >= sb->directory_table_start ||
	    sb->directory_table_start >= sb->bytes_used ||
	    sb->id_table_start >= sb->bytes_used)
		return open_fail(e, path, 0, "corrupt superblock (table offsets)");
	return 0;
}

int squash_open(const char *path, struct squash **out, struct kerr *e)
{
	struct squashfs_super_block sb;
	struct stat st;
	sqfs_inode root;
	sqfs_err err;

	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return open_fail(e, path, errno, "open");
	if (fstat(fd, &st) < 0) {
		open_fail(e, path, errno, "stat");
		close(fd);
		return -1;
	}
	ssize_t n = pread(fd, &sb, sizeof sb, 0);
	if (n < 0) {
		open_fail(e, path, errno, "read");
		close(fd);
		return -1;
	}
	if ((size_t)n < sizeof sb) {
		open_fail(e, path, 0, "file too short (%zd bytes) for a superblock", n);
		close(fd);
		return -1;
	}
	if (check_super(path, &sb, (uint64_t)st.st_size, e) < 0) {
		close(fd);
		return -1;
	}

	struct squash *sq = xcalloc(1, sizeof *sq);
	sq->path = xstrdup(path);
	sq->fd = fd;
	sq->image_size = (uint64_t)st.st_size;
	pthread_mutex_init(&sq->md_lock, NULL);
	pthread_mutex_init(&sq->cache_lock, NULL);

	err = sqfs_init(&sq->fs, fd, 0);
	if (err) {
		switch (err) {
		case SQFS_BADFORMAT:
			open_fail(e, path, 0, "not a SquashFS image");
			break;
		case SQFS_BADVERSION:
			open_fail(e, path, 0, "unsupported SquashFS version");
			break;
		case SQFS_BADCOMP:
			open_fail(e, path, 0, "compression '%s' is not supported by libsquashfuse",
			          sqfs_compression_name(sqfs_compression(&sq->fs))
			                  ? sqfs_compression_name(sqfs_compression(&sq->fs))
			                  : "unknown");
			break;
		default:
			open_fail(e, path, 0, "corrupt or truncated image (can't read its tables)");
		}
		sqfs_destroy(&sq->fs);
		goto fail;
	}
	sq->fs_ok = true;
	sq->root = sqfs_inode_root(&sq->fs);
	if (sqfs_inode_get(&sq->fs, &root, sq->root) || !S_ISDIR(root.base.mode)) {
		open_fail(e, path, 0, "corrupt image (can't read the root directory)");
		goto fail;
	}

	size_t bs = sq->fs.sb.block_size;
	sq->nslots = SQ_CACHE_BYTES / bs;
	if (sq->nslots < SQ_CACHE_MIN)
		sq->nslots = SQ_CACHE_MIN;
	sq->slots = xcalloc(sq->nslots, sizeof *sq->slots);
	sq->zeros = xcalloc(1, bs);
	if (pthread_key_create(&sq->scratch, free) == 0)
		sq->scratch_ok = true;
	else {
		open_fail(e, path, 0, "out of thread-specific keys");
		goto fail;
	}
	klog(KLOG_DEBUG, "%s: SquashFS %u.%u, %s, block size %zu, %u inodes", path,
	     sb.s_major, sb.s_minor,
	     sqfs_compression_name(sqfs_compression(&sq->fs))
	             ? sqfs_compression_name(sqfs_compression(&sq->fs)) : "?",
	     bs, sb.inodes);
	*out = sq;
	return 0;
fail:
	squash_close(sq);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Block cache                                                         */

static void blk_put(struct squash *sq, struct blk *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&sq->cache_lock);
	bool last = --b->refs == 0;
	pthread_mutex_unlock(&sq->cache_lock);
	if (last)
		free(b);
}

static char *scratch_get(struct squash *sq)
{
	char *s = pthread_getspecific(sq->scratch);
	if (!s) {
		s = xmalloc(sq->fs.sb.block_size);
		pthread_setspecific(sq->scratch, s);
	}
	return s;
}

/* Get the block at image position pos whose on-disk header is hdr (size
 * and "uncompressed" bit), decompressed.  The result holds a reference. */
static int blk_get(struct squash *sq, uint64_t pos, uint32_t hdr, struct blk **out)
{
	bool compressed;
	uint32_t csize;
	size_t bs = sq->fs.sb.block_size;

	pthread_mutex_lock(&sq->cache_lock);
	for (size_t i = 0; i < sq->nslots; i++) {
		struct blk *b = sq->slots[i];
		if (b && b->key == pos) {
			b->refs++;
			pthread_mutex_unlock(&sq->cache_lock);
			*out = b;
			return 0;
		}
	}
	pthread_mutex_unlock(&sq->cache_lock);

	/* Miss: read and decompress without any lock.  Two threads missing
	 * the same block both do the work; the second insert is dropped. */
	sqfs_data_header(hdr, &compressed, &csize);
	if (csize > bs || pos + csize > sq->image_size)
		return -EIO;
	struct blk *b = xmalloc(sizeof *b + bs);
	b->key = pos;
	b->refs = 1;
	char *in = compressed ? scratch_get(sq) : b->data;
	for (size_t done = 0; done < csize;) {
		ssize_t n = pread(sq->fd, in + done, csize - done, (off_t)(pos + done));
		if (n <= 0) {
			free(b);
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	if (compressed) {
		size_t osize = bs;
		if (sq->fs.decompressor(in, csize, b->data, &osize)) {
			free(b);
			return -EIO;
		}
		b->size = osize;
	} else {
		b->size = csize;
	}

	pthread_mutex_lock(&sq->cache_lock);
	for (size_t i = 0; i < sq->nslots; i++) {
		struct blk *c = sq->slots[i];
		if (c && c->key == pos) { /* lost the race: use theirs */
			c->refs++;
			pthread_mutex_unlock(&sq->cache_lock);
			free(b);
			*out = c;
			return 0;
		}
	}
	struct blk *old = sq->slots[sq->next_slot];
	bool free_old = old && --old->refs == 0;
	sq->slots[sq->next_slot] = b;
	sq->next_slot = (sq->next_slot + 1) % sq->nslots;
	b->refs++; /* the caller's */
	pthread_mutex_unlock(&sq->cache_lock);
	if (free_old)
		free(old);
	*out = b;
	return 0;
}

/* ------------------------------------------------------------------ */
/* FUSE operations                                                     */

static struct squash *req_sq(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static fuse_ino_t ino_fuse(struct squash *sq, sqfs_inode_id id)
{
	return id == sq->root ? FUSE_ROOT_ID : (fuse_ino_t)id + 2;
}

static sqfs_inode_id ino_sqfs(struct squash *sq, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? sq->root : (sqfs_inode_id)(ino - 2);
}

/* Under md_lock. */
static int inode_get(struct squash *sq, fuse_ino_t ino, sqfs_inode *inode)
{
	if (ino == 0)
		return -EINVAL;
	if (sqfs_inode_get(&sq->fs, inode, ino_sqfs(sq, ino)))
		return -EIO;
	return 0;
}

/* Under md_lock. */
static int inode_stat(struct squash *sq, sqfs_inode *inode, fuse_ino_t ino,
                      struct stat *st)
{
	sqfs_id_t id;

	memset(st, 0, sizeof *st);
	st->st_ino = ino;
	st->st_mode = inode->base.mode;
	st->st_nlink = inode->nlink;
	st->st_mtime = st->st_ctime = st->st_atime = (time_t)inode->base.mtime;
	st->st_blksize = sq->fs.sb.block_size;
	if (sqfs_id_get(&sq->fs, inode->base.uid, &id))
		return -EIO;
	st->st_uid = id;
	if (sqfs_id_get(&sq->fs, inode->base.guid, &id))
		return -EIO;
	st->st_gid = id;
	if (S_ISREG(st->st_mode)) {
		st->st_size = (off_t)inode->xtra.reg.file_size;
		st->st_blocks = (blkcnt_t)((inode->xtra.reg.file_size + 511) / 512);
	} else if (S_ISLNK(st->st_mode)) {
		st->st_size = (off_t)inode->xtra.symlink_size;
	} else if (S_ISDIR(st->st_mode)) {
		st->st_size = inode->xtra.dir.dir_size;
	} else if (S_ISBLK(st->st_mode) || S_ISCHR(st->st_mode)) {
		st->st_rdev = makedev((unsigned)inode->xtra.dev.major,
		                      (unsigned)inode->xtra.dev.minor);
	}
	return 0;
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
	struct squash *sq = req_sq(req);
	struct fuse_entry_param ep = { 0 };
	sqfs_inode dir, inode;
	sqfs_name namebuf;
	sqfs_dir_entry de;
	bool found = false;
	int r;

	pthread_mutex_lock(&sq->md_lock);
	r = inode_get(sq, parent, &dir);
	if (!r && !S_ISDIR(dir.base.mode))
		r = -ENOTDIR;
	if (!r) {
		sqfs_dentry_init(&de, namebuf);
		if (sqfs_dir_lookup(&sq->fs, &dir, name, strlen(name), &de, &found))
			r = -EIO;
	}
	if (!r && found) {
		fuse_ino_t ino = ino_fuse(sq, sqfs_dentry_inode(&de));
		if (sqfs_inode_get(&sq->fs, &inode, sqfs_dentry_inode(&de)))
			r = -EIO;
		else
			r = inode_stat(sq, &inode, ino, &ep.attr);
		entry_fill(&ep, ino);
	}
	pthread_mutex_unlock(&sq->md_lock);
	if (r) {
		fuse_reply_err(req, -r);
		return;
	}
	if (!found) /* a negative entry, cached as long as positive ones */
		entry_fill(&ep, 0);
	fuse_reply_entry(req, &ep);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct squash *sq = req_sq(req);
	sqfs_inode inode;
	struct stat st;

	pthread_mutex_lock(&sq->md_lock);
	int r = inode_get(sq, ino, &inode);
	if (!r)
		r = inode_stat(sq, &inode, ino, &st);
	pthread_mutex_unlock(&sq->md_lock);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, SQ_TIMEOUT);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct squash *sq = req_sq(req);
	sqfs_inode inode;
	char *buf = NULL;
	size_t size = 0;

	pthread_mutex_lock(&sq->md_lock);
	int r = inode_get(sq, ino, &inode);
	if (!r && !S_ISLNK(inode.base.mode))
		r = -EINVAL;
	if (!r && sqfs_readlink(&sq->fs, &inode, NULL, &size))
		r = -EIO;
	if (!r) {
		buf = xmalloc(++size);
		if (sqfs_readlink(&sq->fs, &inode, buf, &size))
			r = -EIO;
	}
	pthread_mutex_unlock(&sq->md_lock);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_readlink(req, buf);
	free(buf);
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

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       bool plus)
{
	struct squash *sq = req_sq(req);
	sqfs_inode dir, inode;
	sqfs_dir d;
	sqfs_name namebuf;
	sqfs_dir_entry de;
	sqfs_err err = SQFS_OK;
	size_t used = 0;
	char *buf = xmalloc(size);

	pthread_mutex_lock(&sq->md_lock);
	int r = inode_get(sq, ino, &dir);
	if (!r && !S_ISDIR(dir.base.mode))
		r = -ENOTDIR;
	/* Offsets are libsquashfuse's own directory offsets, so a later call
	 * restarts right after the last entry that fitted. */
	if (!r && sqfs_dir_open(&sq->fs, &dir, &d, off))
		r = -EINVAL;
	if (!r)
		sqfs_dentry_init(&de, namebuf);
	while (!r && sqfs_dir_next(&sq->fs, &d, &de, &err)) {
		struct fuse_entry_param ep = { 0 };
		fuse_ino_t cino = ino_fuse(sq, sqfs_dentry_inode(&de));
		size_t need;

		if (plus) {
			if (sqfs_inode_get(&sq->fs, &inode, sqfs_dentry_inode(&de))) {
				r = -EIO;
				break;
			}
			if ((r = inode_stat(sq, &inode, cino, &ep.attr)))
				break;
			entry_fill(&ep, cino);
			need = fuse_add_direntry_plus(req, buf + used, size - used,
			                              sqfs_dentry_name(&de), &ep,
			                              sqfs_dentry_next_offset(&de));
		} else {
			ep.attr.st_ino = cino;
			ep.attr.st_mode = sqfs_dentry_mode(&de);
			need = fuse_add_direntry(req, buf + used, size - used,
			                         sqfs_dentry_name(&de), &ep.attr,
			                         sqfs_dentry_next_offset(&de));
		}
		if (need > size - used)
			break; /* not added; the kernel asks again from here */
		used += need;
	}
	if (!r && err)
		r = -EIO;
	pthread_mutex_unlock(&sq->md_lock);
	if (r && used == 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
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

/* One piece of a read reply: a block (or zeros) and the range wanted. */
struct piece {
	uint64_t pos;   /* image position; 0 with hdr 0 for a hole */
	uint32_t hdr;
	size_t off, len;
	struct blk *b;
};

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	struct squash *sq = req_sq(req);
	size_t bs = sq->fs.sb.block_size;
	sqfs_inode inode;
	sqfs_blocklist bl;
	struct squashfs_fragment_entry frag;
	size_t np = 0, maxp = size / bs + 3;
	struct piece stackp[16];
	struct piece *p = maxp <= ARRAY_SIZE(stackp) ? stackp : xmalloc(maxp * sizeof *p);
	struct iovec stackv[16];
	struct iovec *iov = maxp <= ARRAY_SIZE(stackv) ? stackv : xmalloc(maxp * sizeof *iov);
	int r;

	/* 1. Under md_lock: where the wanted blocks are. */
	pthread_mutex_lock(&sq->md_lock);
	r = inode_get(sq, ino, &inode);
	if (!r && !S_ISREG(inode.base.mode))
		r = -EISDIR;
	uint64_t fsize = r ? 0 : inode.xtra.reg.file_size;
	uint64_t start = (uint64_t)off, end = start + size;
	if (end > fsize)
		end = fsize;
	if (!r && start < end) {
		uint64_t nfull = sqfs_blocklist_count(&sq->fs, &inode);
		uint64_t first = start / bs;
		if (first < nfull) {
			if (sqfs_blockidx_blocklist(&sq->fs, &inode, &bl, (sqfs_off_t)start))
				r = -EIO;
			while (!r && bl.remain > 0) {
				if (sqfs_blocklist_next(&bl)) {
					r = -EIO;
					break;
				}
				if (bl.pos + bs <= start)
					continue;
				if (bl.pos >= end)
					break;
				uint64_t from = start > bl.pos ? start : bl.pos;
				uint64_t to = end < bl.pos + bs ? end : bl.pos + bs;
				p[np++] = (struct piece){
					.pos = bl.input_size ? bl.block : 0,
					.hdr = bl.input_size ? bl.header : 0,
					.off = from - bl.pos,
					.len = to - from,
				};
			}
		}
		uint64_t tail = nfull * bs;
		if (!r && end > tail && inode.xtra.reg.frag_idx != SQUASHFS_INVALID_FRAG) {
			if (sqfs_frag_entry(&sq->fs, &frag, inode.xtra.reg.frag_idx)) {
				r = -EIO;
			} else {
				uint64_t from = start > tail ? start : tail;
				p[np++] = (struct piece){
					.pos = frag.start_block,
					.hdr = frag.size,
					.off = inode.xtra.reg.frag_off + (from - tail),
					.len = end - from,
				};
				if (!frag.size) /* a zero-size fragment can't exist */
					r = -EIO;
			}
		}
	}
	pthread_mutex_unlock(&sq->md_lock);

	/* 2. Without md_lock: decompress (or find in the cache) and reply. */
	for (size_t i = 0; !r && i < np; i++) {
		if (!p[i].hdr) {
			iov[i] = (struct iovec){ sq->zeros, p[i].len };
			continue;
		}
		r = blk_get(sq, p[i].pos, p[i].hdr, &p[i].b);
		if (r)
			break;
		if (p[i].off + p[i].len > p[i].b->size) {
			r = -EIO;
			break;
		}
		iov[i] = (struct iovec){ p[i].b->data + p[i].off, p[i].len };
	}
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_iov(req, iov, (int)np);
	for (size_t i = 0; i < np; i++)
		blk_put(sq, p[i].b);
	if (p != stackp)
		free(p);
	if (iov != stackv)
		free(iov);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct squash *sq = req_sq(req);
	struct statvfs sv = {
		.f_bsize = sq->fs.sb.block_size,
		.f_frsize = sq->fs.sb.block_size,
		.f_blocks = (sq->fs.sb.bytes_used + sq->fs.sb.block_size - 1) /
		            sq->fs.sb.block_size,
		.f_files = sq->fs.sb.inodes,
		.f_namemax = SQUASHFS_NAME_LEN,
		.f_flag = ST_RDONLY,
	};
	fuse_reply_statfs(req, &sv);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct squash *sq = req_sq(req);
	sqfs_inode inode;
	char *buf = size ? xmalloc(size) : NULL;
	size_t real = size;

	pthread_mutex_lock(&sq->md_lock);
	int r = inode_get(sq, ino, &inode);
	if (!r && sqfs_xattr_lookup(&sq->fs, &inode, name, buf, &real))
		r = -EIO;
	pthread_mutex_unlock(&sq->md_lock);
	if (r)
		fuse_reply_err(req, -r);
	else if (real == 0)
		fuse_reply_err(req, ENODATA);
	else if (size == 0)
		fuse_reply_xattr(req, real);
	else if (size < real)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, real);
	free(buf);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct squash *sq = req_sq(req);
	sqfs_inode inode;
	sqfs_xattr x;
	char *buf = size ? xmalloc(size) : NULL;
	size_t used = 0;

	pthread_mutex_lock(&sq->md_lock);
	int r = inode_get(sq, ino, &inode);
	if (!r && sqfs_xattr_open(&sq->fs, &inode, &x))
		r = -EIO;
	while (!r && x.remain) {
		if (sqfs_xattr_read(&x)) {
			r = -EIO;
			break;
		}
		size_t n = sqfs_xattr_name_size(&x);
		if (buf && used + n + 1 > size) {
			r = -ERANGE;
			break;
		}
		if (buf) {
			if (sqfs_xattr_name(&x, buf + used, true)) {
				r = -EIO;
				break;
			}
			buf[used + n] = '\0';
		}
		used += n + 1;
	}
	pthread_mutex_unlock(&sq->md_lock);
	if (r)
		fuse_reply_err(req, -r);
	else if (size == 0)
		fuse_reply_xattr(req, used);
	else
		fuse_reply_buf(req, buf, used);
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

		struct loop_config cfg = { .fd = (unsigned)sq->fd };
		cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
		snprintf((char *)cfg.info.lo_file_name, sizeof cfg.info.lo_file_name, "%s",
		         sq->path);
		int rc = ioctl(lfd, LOOP_CONFIGURE, &cfg);
		if (rc < 0 && (errno == EINVAL || errno == ENOTTY)) {
			/* Before Linux 5.8: two steps. */
			rc = ioctl(lfd, LOOP_SET_FD, sq->fd);
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
	if (sq->fd >= 0)
		close(sq->fd);
}

void squash_close(struct squash *sq)
{
	if (!sq)
		return;
	squash_stop(sq);
	for (size_t i = 0; i < sq->nslots; i++)
		free(sq->slots[i]);
	free(sq->slots);
	free(sq->zeros);
	if (sq->scratch_ok) {
		/* The workers' buffers were freed as they exited; this one is
		 * the calling thread's, if it ever read anything. */
		free(pthread_getspecific(sq->scratch));
		pthread_key_delete(sq->scratch);
	}
	if (sq->fs_ok)
		sqfs_destroy(&sq->fs);
	if (sq->fd >= 0)
		close(sq->fd);
	pthread_mutex_destroy(&sq->md_lock);
	pthread_mutex_destroy(&sq->cache_lock);
	free(sq->path);
	free(sq);
}
