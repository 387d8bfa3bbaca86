/* squash_tree.c: the SquashFS reader behind krill's FUSE server, for
 * images that may be hostile.
 *
 * libsquashfuse 0.1.105 (Debian's, linked as it is) trusts the image: its
 * directory code copies a name of the entry's u16 size into a 257-byte
 * buffer, sqfs_table_get() indexes its block list and copies out of a
 * metadata block without bounds, sqfs_md_read() starts at an in-block
 * offset taken from the image without checking it against the block's
 * size, its block cache takes position 0 for an empty slot, the block index
 * of big files is keyed by an on-disk inode number, and the xattr lookup
 * reads names into a buffer sized for the wanted name.  So we use only the
 * parts of it that are safe when their inputs are checked:
 *   - sqfs_init/sqfs_destroy, after the superblock and every table index
 *     it will read have been checked against the image size;
 *   - sqfs_md_cache (read + decompress one metadata block into a buffer of
 *     its own size) and sqfs_md_read, only from a cursor md_cursor_ok()
 *     has checked against the very block it starts in;
 *   - sqfs_inode_get, after the inode's position, type and symlink size
 *     are checked, and its result checked field by field;
 *   - fs.decompressor, into buffers of the block size.
 * Directories, tables, block lists and xattrs are decoded here, into
 * buffers sized by us, with every count, size and offset checked.
 *
 * Locking (doc/squash.md): every call into libsquashfuse holds md_lock.
 * File data is read and decompressed outside it, into our own refcounted
 * block cache. */
#include "squash_tree.h"

#include "log.h"
#include "util.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* squashfuse's config.h defines FUSE_USE_VERSION 32 and _POSIX_C_SOURCE,
 * which would clash (-Werror) with ours; every system header is already in,
 * so drop ours while its headers are read, and restore FUSE_USE_VERSION. */
#pragma push_macro("FUSE_USE_VERSION")
#undef FUSE_USE_VERSION
#undef _POSIX_C_SOURCE
#include <squashfuse.h>
#undef FUSE_USE_VERSION
#pragma pop_macro("FUSE_USE_VERSION")

#define MD_SIZE SQUASHFS_METADATA_SIZE        /* 8192 */
#define SB_SIZE sizeof(struct squashfs_super_block)
#define SQT_SYMLINK_MAX 4095                  /* PATH_MAX - 1, as Linux */
#define SQT_XATTR_NAME_MAX 255                /* XATTR_NAME_MAX */
#define SQT_XATTR_VALUE_MAX 65536             /* XATTR_SIZE_MAX */
#define SQT_XATTR_COUNT_MAX 65536
#define SQT_DIR_COUNT 256                     /* entries per header (kernel) */
#define SQT_CHK_EVERY 1024                    /* block-list checkpoint spacing */
#define SQT_FILES 8                           /* files whose checkpoints we keep */
#define SQT_CACHE_BYTES (8u << 20)            /* decompressed data blocks kept */
#define SQT_CACHE_MIN 8

/* A decompressed data or fragment block, shared between requests. */
struct blk {
	uint64_t pos;  /* where the block lies in the image */
	uint32_t hdr;  /* its on-disk size word (the key is both) */
	int refs;      /* one for the cache slot, one per request using it */
	size_t size;
	char data[];
};

/* Reading a file's block list from block k * SQT_CHK_EVERY on. */
struct chk {
	sqfs_md_cursor cur; /* the size word of that block */
	uint64_t pos;       /* where that block's data starts */
};
struct file_chk {
	sqfs_inode_id id; /* 0: slot unused (no inode lives at id 0 but the first) */
	bool used;
	size_t n, cap;
	struct chk *c;
};

struct sqt {
	char *path;
	int fd;
	sqfs fs;
	bool fs_ok;
	sqfs_inode_id root;
	uint64_t image_size;
	uint64_t end;        /* bytes_used: every table lies before it */
	uint32_t *ids;       /* the id table, read and checked at open */
	size_t nids;

	pthread_mutex_t md_lock; /* every call into libsquashfuse, and files[] */
	struct file_chk files[SQT_FILES];
	size_t next_file;

	pthread_mutex_t cache_lock;
	struct blk **slots;
	size_t nslots, next_slot;
	char *zeros;           /* block_size zero bytes, for holes */
	pthread_key_t scratch; /* per-thread buffer for compressed input */
	bool scratch_ok;
};

/* ------------------------------------------------------------------ */
/* Checked metadata access (all under md_lock)                         */

/* May cur be handed to sqfs_md_read()?  It copies block->size - offset
 * bytes without checking that this is positive, and its cache mistakes
 * position 0 for an empty slot (a NULL block).  So: the block must lie
 * inside the image, past the superblock, and the offset inside the block,
 * which we fetch through the same cache sqfs_md_read() looks in next. */
static int md_cursor_ok(struct sqt *t, const sqfs_md_cursor *cur)
{
	sqfs_block *b;
	sqfs_off_t pos = cur->block;

	if (cur->block < (sqfs_off_t)SB_SIZE || (uint64_t)cur->block >= t->end)
		return -EIO;
	if (sqfs_md_cache(&t->fs, &pos, &b) || !b)
		return -EIO;
	if (cur->offset > b->size)
		return -EIO;
	return 0;
}

/* Read size bytes (buf NULL: skip them) at cur, advancing it.  Later
 * blocks start at offset 0 and lie at increasing positions, so only the
 * first needs the check. */
static int md_read(struct sqt *t, sqfs_md_cursor *cur, void *buf, size_t size)
{
	if (md_cursor_ok(t, cur) < 0 || sqfs_md_read(&t->fs, cur, buf, size))
		return -EIO;
	return 0;
}

/* Entry idx of a table of count entries of `each` bytes (ids, fragments,
 * xattr ids), whose index sqfs_init() read into tab->blocks. */
static int table_get(struct sqt *t, const sqfs_table *tab, size_t count, size_t each,
                     size_t idx, void *buf)
{
	sqfs_block *b;

	if (idx >= count || !tab->blocks)
		return -EIO;
	size_t at = idx * each;
	uint64_t where = tab->blocks[at / MD_SIZE];
	if (where < SB_SIZE || where >= t->end)
		return -EIO;
	sqfs_off_t pos = (sqfs_off_t)where;
	if (sqfs_md_cache(&t->fs, &pos, &b) || !b)
		return -EIO;
	size_t off = at % MD_SIZE;
	if (off + each > b->size)
		return -EIO;
	memcpy(buf, (char *)b->data + off, each);
	return 0;
}

/* A cursor at ref (block << 16 | offset) in the table starting at base
 * and ending before limit. */
static int ref_cursor(uint64_t base, uint64_t limit, uint64_t ref, sqfs_md_cursor *cur)
{
	uint64_t block = ref >> 16, off = ref & 0xffff;
	if (off >= MD_SIZE || base >= limit || block >= limit - base)
		return -EIO;
	cur->block = (sqfs_off_t)(base + block);
	cur->offset = (size_t)off;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Inodes                                                              */

static sqfs_inode_id ino_to_id(const struct sqt *t, uint64_t ino)
{
	return ino == SQT_ROOT ? t->root : ino - 2;
}

static uint64_t id_to_ino(const struct sqt *t, sqfs_inode_id id)
{
	return id == t->root ? SQT_ROOT : id + 2;
}

static int inode_read(struct sqt *t, sqfs_inode_id id, sqfs_inode *in)
{
	const struct squashfs_super_block *sb = &t->fs.sb;
	struct squashfs_base_inode base;
	sqfs_md_cursor cur;

	if (ref_cursor(sb->inode_table_start, sb->directory_table_start, id, &cur) < 0)
		return -EIO;
	sqfs_md_cursor at = cur;
	if (md_read(t, &at, &base, sizeof base) < 0)
		return -EIO;
	unsigned type = le16toh(base.inode_type);
	if (type < SQUASHFS_DIR_TYPE || type > SQUASHFS_LSOCKET_TYPE)
		return -EIO;
	if (type == SQUASHFS_SYMLINK_TYPE || type == SQUASHFS_LSYMLINK_TYPE) {
		/* sqfs_inode_get() skips an lsymlink's target to reach its
		 * xattr index: bound that before it tries. */
		uint32_t more[2]; /* nlink, symlink_size */
		if (md_read(t, &at, more, sizeof more) < 0 ||
		    le32toh(more[1]) > SQT_SYMLINK_MAX)
			return -EIO;
	}
	if (md_cursor_ok(t, &cur) < 0 || sqfs_inode_get(&t->fs, in, id))
		return -EIO;

	/* The library ORs the type's bits into the on-disk mode, which may
	 * carry type bits of its own: the type field alone decides. */
	in->base.mode = (le16toh(base.mode) & 07777) | sqfs_mode((int)type);
	if (in->base.uid >= t->nids || in->base.guid >= t->nids)
		return -EIO;
	if (in->xattr != SQUASHFS_INVALID_XATTR && in->xattr >= t->fs.xattr_info.xattr_ids)
		return -EIO;
	if (S_ISREG(in->base.mode)) {
		uint64_t bs = sb->block_size;
		if (in->xtra.reg.file_size > INT64_MAX || in->xtra.reg.start_block >= t->end)
			return -EIO;
		if (in->xtra.reg.frag_idx != SQUASHFS_INVALID_FRAG &&
		    (in->xtra.reg.frag_idx >= sb->fragments ||
		     (uint64_t)in->xtra.reg.frag_off + in->xtra.reg.file_size % bs > bs))
			return -EIO;
	} else if (S_ISDIR(in->base.mode)) {
		if (in->xtra.dir.offset >= MD_SIZE ||
		    in->xtra.dir.start_block >= t->end - sb->directory_table_start ||
		    in->xtra.dir.idx_count > in->xtra.dir.dir_size / sizeof(struct squashfs_dir_header))
			return -EIO;
	} else if (S_ISLNK(in->base.mode)) {
		if (in->xtra.symlink_size > SQT_SYMLINK_MAX)
			return -EIO;
	}
	return 0;
}

static int inode_get(struct sqt *t, uint64_t ino, sqfs_inode *in)
{
	if (ino == 0)
		return -EINVAL;
	return inode_read(t, ino_to_id(t, ino), in);
}

static void inode_stat(struct sqt *t, const sqfs_inode *in, uint64_t ino, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = ino;
	st->st_mode = in->base.mode;
	st->st_nlink = in->nlink > 0 ? (nlink_t)in->nlink : 1;
	st->st_mtime = st->st_ctime = st->st_atime = (time_t)in->base.mtime;
	st->st_blksize = t->fs.sb.block_size;
	st->st_uid = t->ids[in->base.uid]; /* both checked in inode_read */
	st->st_gid = t->ids[in->base.guid];
	if (S_ISREG(st->st_mode)) {
		st->st_size = (off_t)in->xtra.reg.file_size;
		st->st_blocks = (blkcnt_t)((in->xtra.reg.file_size + 511) / 512);
	} else if (S_ISLNK(st->st_mode)) {
		st->st_size = (off_t)in->xtra.symlink_size;
	} else if (S_ISDIR(st->st_mode)) {
		st->st_size = in->xtra.dir.dir_size;
	} else if (S_ISBLK(st->st_mode) || S_ISCHR(st->st_mode)) {
		st->st_rdev = makedev((unsigned)in->xtra.dev.major, (unsigned)in->xtra.dev.minor);
	}
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */

struct dir {
	sqfs_md_cursor cur;
	uint64_t done, total;  /* listing bytes consumed, and its size */
	uint32_t left;         /* entries left under the current header */
	uint32_t start_block;  /* of the inodes under the current header */
};

struct dentry {
	char name[SQUASHFS_NAME_LEN + 1];
	size_t len;
	int type;
	sqfs_inode_id id;
};

static int dir_open(struct sqt *t, const sqfs_inode *in, struct dir *d)
{
	if (!S_ISDIR(in->base.mode))
		return -ENOTDIR;
	memset(d, 0, sizeof *d);
	d->cur.block = (sqfs_off_t)(t->fs.sb.directory_table_start + in->xtra.dir.start_block);
	d->cur.offset = in->xtra.dir.offset;
	/* A directory's size counts 3 bytes for "." and "..", not stored. */
	d->total = in->xtra.dir.dir_size > 3 ? in->xtra.dir.dir_size - 3 : 0;
	return 0;
}

static bool name_ok(const char *name, size_t len)
{
	if (memchr(name, '\0', len) || memchr(name, '/', len))
		return false;
	return !(len == 1 && name[0] == '.') && !(len == 2 && name[0] == '.' && name[1] == '.');
}

/* 1: an entry in *de; 0: the end; < 0: corrupt.  Every size is checked
 * against what is left of the listing before anything is read. */
static int dir_next(struct sqt *t, struct dir *d, struct dentry *de)
{
	const struct squashfs_super_block *sb = &t->fs.sb;
	struct squashfs_dir_entry e;

	while (d->left == 0) {
		struct squashfs_dir_header h;
		if (d->done >= d->total)
			return 0;
		if (d->total - d->done < sizeof h + sizeof e + 1 ||
		    md_read(t, &d->cur, &h, sizeof h) < 0)
			return -EIO;
		d->done += sizeof h;
		uint32_t count = le32toh(h.count); /* biased by one */
		d->start_block = le32toh(h.start_block);
		if (count >= SQT_DIR_COUNT ||
		    d->start_block >= sb->directory_table_start - sb->inode_table_start)
			return -EIO;
		d->left = count + 1;
	}
	if (d->total - d->done < sizeof e + 1 || md_read(t, &d->cur, &e, sizeof e) < 0)
		return -EIO;
	d->done += sizeof e;
	size_t len = (size_t)le16toh(e.size) + 1;
	if (len > SQUASHFS_NAME_LEN || d->total - d->done < len ||
	    md_read(t, &d->cur, de->name, len) < 0)
		return -EIO;
	d->done += len;
	de->name[len] = '\0';
	de->len = len;
	de->type = le16toh(e.type);
	if (!name_ok(de->name, len) || de->type < SQUASHFS_DIR_TYPE ||
	    de->type > SQUASHFS_SOCKET_TYPE)
		return -EIO;
	de->id = ((sqfs_inode_id)d->start_block << 16) | le16toh(e.offset);
	d->left--;
	return 1;
}

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Skip ahead with a big directory's index: to the last indexed header
 * whose first name sorts at or before name (name != NULL), or that starts
 * before offset off.  Each index entry names a header at the start of a
 * metadata block; in-block offsets assume full 8 KiB blocks, as the kernel
 * does, and md_read() checks the result. */
static int dir_seek_index(struct sqt *t, const sqfs_inode *in, struct dir *d,
                          const char *name, size_t len, uint64_t off)
{
	const struct squashfs_super_block *sb = &t->fs.sb;
	sqfs_md_cursor c = in->next; /* the index follows the inode */
	size_t base_off = d->cur.offset;
	bool moved = false;

	for (unsigned i = 0; i < in->xtra.dir.idx_count; i++) {
		struct squashfs_dir_index x;
		char buf[SQUASHFS_NAME_LEN + 1];
		if (md_read(t, &c, &x, sizeof x) < 0)
			return -EIO;
		size_t xlen = (size_t)le32toh(x.size) + 1;
		uint32_t index = le32toh(x.index), block = le32toh(x.start_block);
		if (xlen > SQUASHFS_NAME_LEN || index > d->total ||
		    block >= t->end - sb->directory_table_start)
			return -EIO;
		if (name) {
			if (md_read(t, &c, buf, xlen) < 0)
				return -EIO;
			if (name_cmp(buf, xlen, name, len) > 0)
				break;
		} else {
			if (index >= off)
				break;
			if (md_read(t, &c, NULL, xlen) < 0)
				return -EIO;
		}
		d->cur.block = (sqfs_off_t)(sb->directory_table_start + block);
		d->done = index;
		moved = true;
	}
	if (moved) {
		d->cur.offset = (base_off + d->done) % MD_SIZE;
		d->left = 0;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Opening and checking                                                */

/* "PATH: can't open SquashFS: WHY"; with errnum, WHY is strerror(errnum). */
static int open_fail(struct kerr *e, const char *path, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int open_fail(struct kerr *e, const char *path, int errnum, const char *fmt, ...)
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

/* Is the index of a table of count entries of `each` bytes, at start,
 * inside the first `end` bytes?  (sqfs_init mallocs and reads it.) */
static bool index_fits(uint64_t start, uint64_t count, uint64_t each, uint64_t end)
{
	uint64_t bytes = (count * each + MD_SIZE - 1) / MD_SIZE * sizeof(uint64_t);
	return start >= SB_SIZE && start <= end && bytes <= end - start;
}

/* Everything sqfs_init() reads or allocates by, and every table start we
 * use later, checked against the file. */
static int check_super(const char *path, int fd, const struct squashfs_super_block *sb,
                       uint64_t file_size, struct kerr *e)
{
	uint64_t end = sb->bytes_used;

	if (sb->s_magic != SQUASHFS_MAGIC)
		return open_fail(e, path, 0, "bad magic number");
	if (sb->s_major != 4 || sb->s_minor != 0)
		return open_fail(e, path, 0, "unsupported version %u.%u (need 4.0)",
		                 sb->s_major, sb->s_minor);
	if (sb->inodes == 0)
		return open_fail(e, path, 0, "corrupt superblock (inode count is 0)");
	if (sb->block_size < 4096 || sb->block_size > (1u << 20) ||
	    (sb->block_size & (sb->block_size - 1)) || sb->block_log > 20 ||
	    (1u << sb->block_log) != sb->block_size)
		return open_fail(e, path, 0, "corrupt superblock (block size %u)", sb->block_size);
	if (end > file_size)
		return open_fail(e, path, 0,
		                 "image is truncated (superblock says %llu bytes, file has %llu)",
		                 (unsigned long long)end, (unsigned long long)file_size);
	if (sb->no_ids == 0)
		return open_fail(e, path, 0, "corrupt superblock (no ids)");
	if (sb->inode_table_start < SB_SIZE ||
	    sb->inode_table_start >= sb->directory_table_start ||
	    sb->directory_table_start >= end)
		return open_fail(e, path, 0, "corrupt superblock (inode and directory table offsets)");
	if (!index_fits(sb->id_table_start, sb->no_ids, sizeof(uint32_t), end))
		return open_fail(e, path, 0, "corrupt superblock (id table: %u ids at %llu)",
		                 sb->no_ids, (unsigned long long)sb->id_table_start);
	if (sb->fragments && !index_fits(sb->fragment_table_start, sb->fragments,
	                                 sizeof(struct squashfs_fragment_entry), end))
		return open_fail(e, path, 0, "corrupt superblock (fragment table: %u fragments at %llu)",
		                 sb->fragments, (unsigned long long)sb->fragment_table_start);
	if (sb->lookup_table_start != (uint64_t)SQUASHFS_INVALID_BLK &&
	    !index_fits(sb->lookup_table_start, sb->inodes, sizeof(uint64_t), end))
		return open_fail(e, path, 0, "corrupt superblock (export table: %u inodes at %llu)",
		                 sb->inodes, (unsigned long long)sb->lookup_table_start);
	if ((sb->root_inode & 0xffff) >= MD_SIZE ||
	    (sb->root_inode >> 16) >= sb->directory_table_start - sb->inode_table_start)
		return open_fail(e, path, 0, "corrupt superblock (root inode)");
	if (sb->xattr_id_table_start != (uint64_t)SQUASHFS_INVALID_BLK) {
		struct squashfs_xattr_id_table xt;
		uint64_t at = sb->xattr_id_table_start;
		if (at < SB_SIZE || at > end || end - at < sizeof xt ||
		    pread(fd, &xt, sizeof xt, (off_t)at) != (ssize_t)sizeof xt ||
		    !index_fits(at + sizeof xt, le32toh(xt.xattr_ids),
		                sizeof(struct squashfs_xattr_id), end) ||
		    le64toh(xt.xattr_table_start) < SB_SIZE ||
		    le64toh(xt.xattr_table_start) >= end)
			return open_fail(e, path, 0, "corrupt superblock (xattr table)");
	}
	return 0;
}

int sqt_open(const char *path, int fd, struct sqt **out, struct kerr *e)
{
	struct squashfs_super_block sb;
	struct stat st;
	sqfs_inode root;

	*out = NULL;
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
	if (check_super(path, fd, &sb, (uint64_t)st.st_size, e) < 0) {
		close(fd);
		return -1;
	}

	struct sqt *t = xcalloc(1, sizeof *t);
	t->path = xstrdup(path);
	t->fd = fd;
	t->image_size = (uint64_t)st.st_size;
	t->end = sb.bytes_used;
	pthread_mutex_init(&t->md_lock, NULL);
	pthread_mutex_init(&t->cache_lock, NULL);

	sqfs_err err = sqfs_init(&t->fs, fd, 0);
	if (err) {
		/* sqfs_init() frees what it made on failure (calling
		 * sqfs_destroy() again would free it twice) except the xattr
		 * index, which its sqfs_destroy() never frees. */
		sqfs_table_destroy(&t->fs.xattr_table);
		const char *comp = sqfs_compression_name(sqfs_compression(&t->fs));
		switch (err) {
		case SQFS_BADFORMAT:
			open_fail(e, path, 0, "not a SquashFS image");
			break;
		case SQFS_BADVERSION:
			open_fail(e, path, 0, "unsupported SquashFS version");
			break;
		case SQFS_BADCOMP:
			open_fail(e, path, 0, "compression '%s' is not supported by libsquashfuse",
			          comp ? comp : "unknown");
			break;
		default:
			open_fail(e, path, 0, "corrupt or truncated image (can't read its tables)");
		}
		goto fail;
	}
	t->fs_ok = true;

	/* The id table is at most 65535 entries: read it once, checked. */
	t->nids = t->fs.sb.no_ids;
	t->ids = xcalloc(t->nids, sizeof *t->ids);
	for (size_t i = 0; i < t->nids; i++) {
		uint32_t id;
		if (table_get(t, &t->fs.id_table, t->nids, sizeof id, i, &id) < 0) {
			open_fail(e, path, 0, "corrupt image (can't read its id table)");
			goto fail;
		}
		t->ids[i] = le32toh(id);
	}

	t->root = sqfs_inode_root(&t->fs);
	if (inode_read(t, t->root, &root) < 0 || !S_ISDIR(root.base.mode)) {
		open_fail(e, path, 0, "corrupt image (can't read the root directory)");
		goto fail;
	}

	size_t bs = t->fs.sb.block_size;
	t->nslots = SQT_CACHE_BYTES / bs;
	if (t->nslots < SQT_CACHE_MIN)
		t->nslots = SQT_CACHE_MIN;
	t->slots = xcalloc(t->nslots, sizeof *t->slots);
	t->zeros = xcalloc(1, bs);
	if (pthread_key_create(&t->scratch, free) != 0) {
		open_fail(e, path, 0, "out of thread-specific keys");
		goto fail;
	}
	t->scratch_ok = true;
	const char *comp = sqfs_compression_name(sqfs_compression(&t->fs));
	klog(KLOG_DEBUG, "%s: SquashFS %u.%u, %s, block size %zu, %u inodes", path,
	     sb.s_major, sb.s_minor, comp ? comp : "?", bs, sb.inodes);
	*out = t;
	return 0;
fail:
	sqt_close(t);
	return -1;
}

void sqt_close(struct sqt *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nslots; i++)
		free(t->slots[i]);
	free(t->slots);
	free(t->zeros);
	for (size_t i = 0; i < SQT_FILES; i++)
		free(t->files[i].c);
	if (t->scratch_ok) {
		/* Workers' buffers were freed as they exited; this one is the
		 * calling thread's, if it ever read anything. */
		free(pthread_getspecific(t->scratch));
		pthread_key_delete(t->scratch);
	}
	if (t->fs_ok) {
		sqfs_destroy(&t->fs);
		/* 0.1.105's sqfs_destroy() leaks the xattr index; this frees
		 * it (and is a no-op where a later version already did). */
		sqfs_table_destroy(&t->fs.xattr_table);
	}
	free(t->ids);
	if (t->fd >= 0)
		close(t->fd);
	pthread_mutex_destroy(&t->md_lock);
	pthread_mutex_destroy(&t->cache_lock);
	free(t->path);
	free(t);
}

int sqt_fd(const struct sqt *t)
{
	return t->fd;
}

void sqt_statfs(struct sqt *t, struct statvfs *sv)
{
	const struct squashfs_super_block *sb = &t->fs.sb;
	*sv = (struct statvfs){
		.f_bsize = sb->block_size,
		.f_frsize = sb->block_size,
		.f_blocks = (sb->bytes_used + sb->block_size - 1) / sb->block_size,
		.f_files = sb->inodes,
		.f_namemax = SQUASHFS_NAME_LEN,
		.f_flag = ST_RDONLY,
	};
}

/* ------------------------------------------------------------------ */
/* Metadata operations                                                 */

int sqt_getattr(struct sqt *t, uint64_t ino, struct stat *st)
{
	sqfs_inode in;
	pthread_mutex_lock(&t->md_lock);
	int r = inode_get(t, ino, &in);
	if (!r)
		inode_stat(t, &in, ino, st);
	pthread_mutex_unlock(&t->md_lock);
	return r;
}

int sqt_lookup(struct sqt *t, uint64_t parent, const char *name, uint64_t *ino,
               struct stat *st)
{
	sqfs_inode dir, in;
	struct dir d;
	struct dentry de;
	size_t len = strlen(name);

	*ino = 0;
	if (len == 0 || len > SQUASHFS_NAME_LEN)
		return 0; /* no such entry can exist */
	pthread_mutex_lock(&t->md_lock);
	int r = inode_get(t, parent, &dir);
	if (!r)
		r = dir_open(t, &dir, &d);
	if (!r)
		r = dir_seek_index(t, &dir, &d, name, len, 0);
	while (!r && (r = dir_next(t, &d, &de)) == 1) {
		int c = name_cmp(de.name, de.len, name, len);
		r = 0;
		if (c > 0)
			break; /* listings are sorted */
		if (c == 0) {
			uint64_t child = id_to_ino(t, de.id);
			r = inode_read(t, de.id, &in);
			if (!r) {
				inode_stat(t, &in, child, st);
				*ino = child;
			}
			break;
		}
	}
	pthread_mutex_unlock(&t->md_lock);
	return r < 0 ? r : 0;
}

int sqt_readdir(struct sqt *t, uint64_t ino, off_t off, bool plus, sqt_dirent_fn fn,
                void *arg)
{
	sqfs_inode dir, in;
	struct dir d;
	struct dentry de;

	if (off < 0)
		return -EINVAL;
	pthread_mutex_lock(&t->md_lock);
	int r = inode_get(t, ino, &dir);
	if (!r)
		r = dir_open(t, &dir, &d);
	/* Offsets are listing bytes consumed, so a later call restarts right
	 * after the last entry that was taken. */
	if (!r && off > 0) {
		r = dir_seek_index(t, &dir, &d, NULL, 0, (uint64_t)off);
		while (!r && d.done < (uint64_t)off) {
			r = dir_next(t, &d, &de);
			if (r == 0)
				break;
			r = r < 0 ? r : 0;
		}
		if (!r && d.done != (uint64_t)off && d.done < d.total)
			r = -EINVAL;
	}
	while (!r && (r = dir_next(t, &d, &de)) == 1) {
		struct stat st = { 0 };
		uint64_t cino = id_to_ino(t, de.id);
		r = 0;
		if (plus) {
			if ((r = inode_read(t, de.id, &in)) < 0)
				break;
			inode_stat(t, &in, cino, &st);
		} else {
			st.st_ino = cino;
			st.st_mode = sqfs_mode(de.type);
		}
		if (!fn(arg, de.name, &st, (off_t)d.done))
			break;
	}
	pthread_mutex_unlock(&t->md_lock);
	return r < 0 ? r : 0;
}

int sqt_readlink(struct sqt *t, uint64_t ino, char **target)
{
	sqfs_inode in;
	char *buf = NULL;

	*target = NULL;
	pthread_mutex_lock(&t->md_lock);
	int r = inode_get(t, ino, &in);
	if (!r && !S_ISLNK(in.base.mode))
		r = -EINVAL;
	if (!r) {
		size_t len = in.xtra.symlink_size; /* <= SQT_SYMLINK_MAX */
		sqfs_md_cursor cur = in.next;      /* the target follows the inode */
		buf = xmalloc(len + 1);
		r = md_read(t, &cur, buf, len);
		buf[len] = '\0';
		if (!r && (len == 0 || memchr(buf, '\0', len)))
			r = -EIO;
	}
	pthread_mutex_unlock(&t->md_lock);
	if (r)
		free(buf);
	else
		*target = buf;
	return r;
}

/* ------------------------------------------------------------------ */
/* Extended attributes                                                 */

static const struct {
	const char *name;
	size_t len;
} xattr_prefix[] = {
	[SQUASHFS_XATTR_USER] = { "user.", 5 },
	[SQUASHFS_XATTR_TRUSTED] = { "trusted.", 8 },
	[SQUASHFS_XATTR_SECURITY] = { "security.", 9 },
};

struct xattrs {
	sqfs_md_cursor cur; /* the next entry */
	uint32_t left;
};

struct xattr {
	char name[SQT_XATTR_NAME_MAX + 1];
	size_t len;
	sqfs_md_cursor value; /* vsize bytes */
	uint32_t vsize;
};

static int xattrs_open(struct sqt *t, const sqfs_inode *in, struct xattrs *x)
{
	struct squashfs_xattr_id xid;
	x->left = 0;
	if (in->xattr == SQUASHFS_INVALID_XATTR) /* else < xattr_ids (inode_read) */
		return 0;
	if (table_get(t, &t->fs.xattr_table, t->fs.xattr_info.xattr_ids, sizeof xid,
	              in->xattr, &xid) < 0 ||
	    ref_cursor(t->fs.xattr_info.xattr_table_start, t->end, le64toh(xid.xattr),
	               &x->cur) < 0)
		return -EIO;
	x->left = le32toh(xid.count);
	if (x->left > SQT_XATTR_COUNT_MAX)
		return -EIO;
	return 0;
}

/* 1: the next name in *a, and where its value is; 0: no more. */
static int xattrs_next(struct sqt *t, struct xattrs *x, struct xattr *a)
{
	struct squashfs_xattr_entry ent;
	uint32_t vsize;

	if (x->left == 0)
		return 0;
	if (md_read(t, &x->cur, &ent, sizeof ent) < 0)
		return -EIO;
	unsigned type = le16toh(ent.type), prefix = type & SQUASHFS_XATTR_PREFIX_MASK;
	size_t size = le16toh(ent.size);
	if (prefix >= ARRAY_SIZE(xattr_prefix) ||
	    (type & ~(unsigned)(SQUASHFS_XATTR_PREFIX_MASK | SQUASHFS_XATTR_VALUE_OOL)) ||
	    size == 0 || size > SQT_XATTR_NAME_MAX - xattr_prefix[prefix].len)
		return -EIO;
	memcpy(a->name, xattr_prefix[prefix].name, xattr_prefix[prefix].len);
	a->len = xattr_prefix[prefix].len + size;
	if (md_read(t, &x->cur, a->name + xattr_prefix[prefix].len, size) < 0)
		return -EIO;
	a->name[a->len] = '\0';
	if (memchr(a->name, '\0', a->len))
		return -EIO;
	if (md_read(t, &x->cur, &vsize, sizeof vsize) < 0)
		return -EIO;
	vsize = le32toh(vsize);
	if (type & SQUASHFS_XATTR_VALUE_OOL) {
		/* The value lies elsewhere: here is a reference to it. */
		uint64_t ref;
		if (vsize != sizeof ref || md_read(t, &x->cur, &ref, sizeof ref) < 0 ||
		    ref_cursor(t->fs.xattr_info.xattr_table_start, t->end, le64toh(ref),
		               &a->value) < 0 ||
		    md_read(t, &a->value, &vsize, sizeof vsize) < 0)
			return -EIO;
		vsize = le32toh(vsize);
		if (vsize > SQT_XATTR_VALUE_MAX)
			return -EIO;
	} else {
		if (vsize > SQT_XATTR_VALUE_MAX)
			return -EIO;
		a->value = x->cur;
		if (md_read(t, &x->cur, NULL, vsize) < 0)
			return -EIO;
	}
	a->vsize = vsize;
	x->left--;
	return 1;
}

int sqt_getxattr(struct sqt *t, uint64_t ino, const char *name, void *buf, size_t size,
                 size_t *len)
{
	sqfs_inode in;
	struct xattrs x;
	struct xattr a;
	size_t nlen = strlen(name);

	pthread_mutex_lock(&t->md_lock);
	int r = inode_get(t, ino, &in);
	if (!r)
		r = xattrs_open(t, &in, &x);
	bool found = false;
	while (!r && (r = xattrs_next(t, &x, &a)) == 1) {
		r = 0;
		if (a.len == nlen && memcmp(a.name, name, nlen) == 0) {
			found = true;
			*len = a.vsize;
			if (size && size < a.vsize)
				r = -ERANGE;
			else if (size)
				r = md_read(t, &a.value, buf, a.vsize);
			break;
		}
	}
	pthread_mutex_unlock(&t->md_lock);
	if (r < 0)
		return r;
	return found ? 0 : -ENODATA;
}

int sqt_listxattr(struct sqt *t, uint64_t ino, char *buf, size_t size, size_t *len)
{
	sqfs_inode in;
	struct xattrs x;
	struct xattr a;
	size_t used = 0;

	pthread_mutex_lock(&t->md_lock);
	int r = inode_get(t, ino, &in);
	if (!r)
		r = xattrs_open(t, &in, &x);
	while (!r && (r = xattrs_next(t, &x, &a)) == 1) {
		r = 0;
		if (size && used + a.len + 1 > size) {
			r = -ERANGE;
			break;
		}
		if (size)
			memcpy(buf + used, a.name, a.len + 1);
		used += a.len + 1;
	}
	pthread_mutex_unlock(&t->md_lock);
	*len = used;
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------ */
/* File data                                                           */

/* Walking a block list: the size word of block n is at cur, its data at
 * pos. */
struct blist {
	sqfs_md_cursor cur;
	uint64_t pos;
	uint64_t n;
};

static int blist_next(struct sqt *t, struct blist *b, uint32_t *hdr, uint64_t *pos)
{
	uint32_t h;
	if (md_read(t, &b->cur, &h, sizeof h) < 0)
		return -EIO;
	h = le32toh(h);
	uint32_t size = h & ~SQUASHFS_COMPRESSED_BIT_BLOCK;
	if (size > t->fs.sb.block_size || size > t->end || b->pos > t->end - size)
		return -EIO;
	*hdr = size ? h : 0; /* 0: a hole */
	*pos = b->pos;
	b->pos += size;
	b->n++;
	return 0;
}

/* The checkpoints of file id (slot made, evicting round-robin, if new). */
static struct file_chk *file_chk_get(struct sqt *t, sqfs_inode_id id, const sqfs_inode *in)
{
	for (size_t i = 0; i < SQT_FILES; i++)
		if (t->files[i].used && t->files[i].id == id)
			return &t->files[i];
	struct file_chk *f = &t->files[t->next_file];
	t->next_file = (t->next_file + 1) % SQT_FILES;
	f->id = id;
	f->used = true;
	f->n = 1;
	if (f->cap == 0) {
		f->cap = 4;
		f->c = xcalloc(f->cap, sizeof *f->c);
	}
	f->c[0] = (struct chk){ .cur = in->next, .pos = in->xtra.reg.start_block };
	return f;
}

/* Position b at block `first`: from the nearest checkpoint, adding
 * checkpoints on the way.  libsquashfuse's own block index is keyed by the
 * on-disk inode number, which two files may share: not used. */
static int blist_seek(struct sqt *t, sqfs_inode_id id, const sqfs_inode *in,
                      uint64_t first, struct blist *b)
{
	struct file_chk *f = file_chk_get(t, id, in);
	uint64_t k = first / SQT_CHK_EVERY;
	if (k >= f->n)
		k = f->n - 1;
	*b = (struct blist){ .cur = f->c[k].cur, .pos = f->c[k].pos, .n = k * SQT_CHK_EVERY };
	while (b->n < first) {
		uint32_t hdr;
		uint64_t pos;
		if (blist_next(t, b, &hdr, &pos) < 0)
			return -EIO;
		if (b->n % SQT_CHK_EVERY == 0 && b->n / SQT_CHK_EVERY == f->n) {
			if (f->n == f->cap) {
				f->cap *= 2;
				f->c = xrealloc(f->c, f->cap * sizeof *f->c);
			}
			f->c[f->n++] = (struct chk){ .cur = b->cur, .pos = b->pos };
		}
	}
	return 0;
}

static void blk_put(struct sqt *t, struct blk *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&t->cache_lock);
	bool last = --b->refs == 0;
	pthread_mutex_unlock(&t->cache_lock);
	if (last)
		free(b);
}

static char *scratch_get(struct sqt *t)
{
	char *s = pthread_getspecific(t->scratch);
	if (!s) {
		s = xmalloc(t->fs.sb.block_size);
		pthread_setspecific(t->scratch, s);
	}
	return s;
}

static struct blk *cache_find(struct sqt *t, uint64_t pos, uint32_t hdr)
{
	for (size_t i = 0; i < t->nslots; i++) {
		struct blk *b = t->slots[i];
		if (b && b->pos == pos && b->hdr == hdr) {
			b->refs++;
			return b;
		}
	}
	return NULL;
}

/* The block at pos with size word hdr, decompressed, holding a reference.
 * No md_lock: the decompressors keep no state. */
static int blk_get(struct sqt *t, uint64_t pos, uint32_t hdr, struct blk **out)
{
	bool compressed;
	uint32_t csize;
	size_t bs = t->fs.sb.block_size;

	pthread_mutex_lock(&t->cache_lock);
	struct blk *hit = cache_find(t, pos, hdr);
	pthread_mutex_unlock(&t->cache_lock);
	if (hit) {
		*out = hit;
		return 0;
	}

	/* Miss: read and decompress without any lock.  Two threads missing
	 * the same block both do the work; the second insert is dropped. */
	sqfs_data_header(hdr, &compressed, &csize);
	if (csize == 0 || csize > bs || csize > t->image_size || pos > t->image_size - csize)
		return -EIO;
	struct blk *b = xmalloc(sizeof *b + bs);
	b->pos = pos;
	b->hdr = hdr;
	b->refs = 1;
	char *in = compressed ? scratch_get(t) : b->data;
	for (size_t done = 0; done < csize;) {
		ssize_t n = pread(t->fd, in + done, csize - done, (off_t)(pos + done));
		if (n <= 0) {
			free(b);
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	if (compressed) {
		size_t osize = bs;
		if (t->fs.decompressor(in, csize, b->data, &osize) || osize > bs) {
			free(b);
			return -EIO;
		}
		b->size = osize;
	} else {
		b->size = csize;
	}

	pthread_mutex_lock(&t->cache_lock);
	hit = cache_find(t, pos, hdr);
	if (hit) { /* lost the race: use theirs */
		pthread_mutex_unlock(&t->cache_lock);
		free(b);
		*out = hit;
		return 0;
	}
	struct blk *old = t->slots[t->next_slot];
	bool free_old = old && --old->refs == 0;
	t->slots[t->next_slot] = b;
	t->next_slot = (t->next_slot + 1) % t->nslots;
	b->refs++; /* the caller's */
	pthread_mutex_unlock(&t->cache_lock);
	if (free_old)
		free(old);
	*out = b;
	return 0;
}

/* One piece of a read: a block (or zeros) and the range wanted of it. */
struct piece {
	uint64_t pos;  /* image position; hdr 0 for a hole */
	uint32_t hdr;
	size_t off, len;
	struct blk *b;
};

int sqt_read(struct sqt *t, uint64_t ino, off_t off, size_t size, sqt_data_fn fn,
             void *arg)
{
	size_t bs = t->fs.sb.block_size;
	sqfs_inode in;
	struct blist bl;
	struct squashfs_fragment_entry frag;
	size_t np = 0, maxp = size / bs + 3;
	struct piece stackp[16];
	struct iovec stackv[16];

	if (off < 0 || size > (1u << 30))
		return -EINVAL;
	struct piece *p = maxp <= ARRAY_SIZE(stackp) ? stackp : xcalloc(maxp, sizeof *p);
	struct iovec *iov = maxp <= ARRAY_SIZE(stackv) ? stackv : xcalloc(maxp, sizeof *iov);

	/* 1. Under md_lock: where the wanted blocks are. */
	pthread_mutex_lock(&t->md_lock);
	int r = inode_get(t, ino, &in);
	if (!r && !S_ISREG(in.base.mode))
		r = S_ISDIR(in.base.mode) ? -EISDIR : -EINVAL;
	uint64_t fsize = r ? 0 : in.xtra.reg.file_size;
	uint64_t start = (uint64_t)off, end = start + size;
	if (end > fsize)
		end = fsize;
	if (!r && start < end) {
		bool has_frag = in.xtra.reg.frag_idx != SQUASHFS_INVALID_FRAG;
		uint64_t nfull = has_frag ? fsize / bs : (fsize + bs - 1) / bs;
		uint64_t i = start / bs;
		if (i < nfull)
			r = blist_seek(t, ino_to_id(t, ino), &in, i, &bl);
		for (; !r && i < nfull && i * bs < end; i++) {
			uint32_t hdr;
			uint64_t pos;
			if ((r = blist_next(t, &bl, &hdr, &pos)) < 0)
				break;
			uint64_t bstart = i * bs;
			uint64_t from = start > bstart ? start : bstart;
			uint64_t to = end < bstart + bs ? end : bstart + bs;
			p[np++] = (struct piece){
				.pos = pos, .hdr = hdr, .off = from - bstart, .len = to - from,
			};
		}
		uint64_t tail = nfull * bs;
		if (!r && end > tail && has_frag) {
			uint64_t from = start > tail ? start : tail;
			r = table_get(t, &t->fs.frag_table, t->fs.sb.fragments, sizeof frag,
			              in.xtra.reg.frag_idx, &frag);
			if (!r && (le32toh(frag.size) & ~SQUASHFS_COMPRESSED_BIT_BLOCK) == 0)
				r = -EIO; /* a fragment block can't be empty */
			if (!r)
				p[np++] = (struct piece){
					.pos = le64toh(frag.start_block),
					.hdr = le32toh(frag.size),
					.off = in.xtra.reg.frag_off + (from - tail),
					.len = end - from,
				};
		}
	}
	pthread_mutex_unlock(&t->md_lock);

	/* 2. Without md_lock: decompress (or find in the cache). */
	for (size_t i = 0; !r && i < np; i++) {
		if (!p[i].hdr) {
			iov[i] = (struct iovec){ t->zeros, p[i].len };
			continue;
		}
		r = blk_get(t, p[i].pos, p[i].hdr, &p[i].b);
		if (r)
			break;
		if (p[i].off > p[i].b->size || p[i].len > p[i].b->size - p[i].off) {
			r = -EIO;
			break;
		}
		iov[i] = (struct iovec){ p[i].b->data + p[i].off, p[i].len };
	}
	if (!r)
		fn(arg, iov, (int)np);
	for (size_t i = 0; i < np; i++)
		blk_put(t, p[i].b);
	if (p != stackp)
		free(p);
	if (iov != stackv)
		free(iov);
	return r;
}
