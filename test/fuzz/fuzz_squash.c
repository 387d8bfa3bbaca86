/* fuzz_squash.c: libFuzzer harness for the SquashFS reader behind the FUSE
 * server (lib/squash_tree.c).  The bytes are an image, opened from a memfd
 * with the same sqt_open() squash_open() uses, then walked the way the
 * kernel drives the FUSE ops: readdir and readdirplus (resumed from every
 * offset a short buffer stops at), lookup of each name, getattr, read of
 * each file in pieces and past its end, readlink, listxattr and getxattr.
 * Nothing is mounted.  Bounded: corrupt images may hold directory loops. */
#include "squash_tree.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_NODES 512
#define MAX_DEPTH 16
#define MAX_READ (256u << 10) /* per file */

struct ent {
	char name[257];
	uint64_t ino;
	mode_t mode;
};

struct list {
	struct ent e[1024]; /* more than the 400 of the biggest seed directory */
	size_t n;
	size_t per_call, taken; /* accept this many per readdir call */
	off_t next;
};

static bool take(void *arg, const char *name, const struct stat *st, off_t next)
{
	struct list *l = arg;
	if (l->taken == l->per_call || l->n == sizeof l->e / sizeof l->e[0])
		return false;
	size_t len = strlen(name);
	if (len == 0 || len > 256 || strchr(name, '/'))
		abort(); /* the reader must never hand these out */
	memcpy(l->e[l->n].name, name, len + 1);
	l->e[l->n].ino = st->st_ino;
	l->e[l->n].mode = st->st_mode;
	l->n++;
	l->taken++;
	l->next = next;
	return true;
}

static uint64_t sink;

static void consume(void *arg, const struct iovec *iov, int n)
{
	size_t *got = arg;
	*got = 0;
	for (int i = 0; i < n; i++) {
		const unsigned char *p = iov[i].iov_base;
		for (size_t j = 0; j < iov[i].iov_len; j += 512)
			sink += p[j];
		if (iov[i].iov_len)
			sink += p[iov[i].iov_len - 1];
		*got += iov[i].iov_len;
	}
}

static void xattrs(struct sqt *t, uint64_t ino)
{
	char list[1024], val[512];
	size_t len, vlen;
	if (sqt_listxattr(t, ino, NULL, 0, &len) == 0 &&
	    sqt_listxattr(t, ino, list, sizeof list, &len) == 0) {
		for (size_t i = 0; i < len; i += strlen(list + i) + 1) {
			if (memchr(list + i, '\0', len - i) == NULL)
				abort();
			sqt_getxattr(t, ino, list + i, NULL, 0, &vlen);
			sqt_getxattr(t, ino, list + i, val, sizeof val, &vlen);
			sqt_getxattr(t, ino, list + i, val, 1, &vlen);
		}
	}
	sqt_getxattr(t, ino, "user.krill-absent", val, sizeof val, &vlen);
}

static void file(struct sqt *t, uint64_t ino, const struct stat *st)
{
	size_t got;
	off_t size = st->st_size;
	static const size_t chunks[] = { 4096, 131072, 1000 };
	for (size_t c = 0; c < 3; c++) {
		off_t off = 0;
		while (off < size && off < (off_t)MAX_READ) {
			if (sqt_read(t, ino, off, chunks[c], consume, &got) < 0 || got == 0)
				break;
			if (got > chunks[c])
				abort();
			off += (off_t)got;
		}
	}
	sqt_read(t, ino, size / 2, 8192, consume, &got); /* far into a big file */
	sqt_read(t, ino, size > 4096 ? size - 4096 : 0, 8192, consume, &got);
	sqt_read(t, ino, size, 4096, consume, &got);
	sqt_read(t, ino, size + 100000, 4096, consume, &got);
}

static int nodes;

static void walk(struct sqt *t, uint64_t dir, int depth)
{
	static struct list l, plus; /* big: not on the stack; rebuilt per call */
	struct stat st;

	if (depth > MAX_DEPTH || ++nodes > MAX_NODES)
		return;
	/* readdir in short calls, resuming where each stopped: every entry,
	 * as the kernel lists a whole directory. */
	memset(&l, 0, sizeof l);
	l.per_call = 7;
	off_t off = 0;
	for (int calls = 0; calls < 1024; calls++) {
		l.taken = 0;
		if (sqt_readdir(t, dir, off, false, take, &l) < 0 || l.taken == 0)
			break;
		off = l.next;
	}
	memset(&plus, 0, sizeof plus);
	plus.per_call = sizeof plus.e / sizeof plus.e[0];
	sqt_readdir(t, dir, 0, true, take, &plus);

	/* The walk recurses, so copy this directory's entries first. */
	size_t n = l.n;
	struct ent *ents = malloc(n * sizeof *ents + 1);
	memcpy(ents, l.e, n * sizeof *ents);
	for (size_t i = 0; i < n && nodes <= MAX_NODES; i++) {
		const struct ent *e = &ents[i];
		uint64_t ino;
		if (sqt_lookup(t, dir, e->name, &ino, &st) < 0 || ino == 0)
			ino = e->ino;
		if (sqt_getattr(t, ino, &st) < 0)
			continue;
		xattrs(t, ino);
		if (S_ISDIR(st.st_mode)) {
			if (ino != dir && ino != SQT_ROOT)
				walk(t, ino, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			file(t, ino, &st);
		} else if (S_ISLNK(st.st_mode)) {
			char *target;
			if (sqt_readlink(t, ino, &target) == 0) {
				if (strlen(target) != (size_t)st.st_size)
					abort();
				free(target);
			}
		}
		nodes++;
	}
	free(ents);
	/* Names that aren't there (sorting first, in the middle, last: a
	 * lookup scans up to where the name would be), and ops on the wrong
	 * type. */
	uint64_t ino;
	sqt_lookup(t, dir, "krill-no-such-name", &ino, &st);
	sqt_lookup(t, dir, "", &ino, &st);
	sqt_lookup(t, dir, "\x01", &ino, &st);
	sqt_lookup(t, dir, "\xff\xff", &ino, &st);
	char *target;
	if (sqt_readlink(t, dir, &target) == 0)
		abort();
	size_t got;
	if (sqt_read(t, dir, 0, 10, consume, &got) == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kerr e;
	struct sqt *t;
	struct statvfs sv;

	int fd = memfd_create("fuzz_squash", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	for (size_t done = 0; done < size;) {
		ssize_t n = write(fd, data + done, size - done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	if (sqt_open("fuzz.sqfs", fd, &t, &e) < 0)
		return 0;
	nodes = 0;
	sqt_statfs(t, &sv);
	struct stat st;
	if (sqt_getattr(t, SQT_ROOT, &st) < 0 || !S_ISDIR(st.st_mode))
		abort(); /* checked at open */
	xattrs(t, SQT_ROOT);
	walk(t, SQT_ROOT, 0);
	sqt_getattr(t, 0, &st);
	sqt_getattr(t, UINT64_MAX, &st);
	sqt_readdir(t, SQT_ROOT, 7, false, take, &(struct list){ .per_call = 1 });
	sqt_close(t);
	return 0;
}
