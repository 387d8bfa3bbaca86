/* test_squash_tree.c: lib/squash_tree.c on the seed images of the fuzz
 * corpus (test/fuzz/squash_seeds.sh says what is in them): contents,
 * lookup through a big directory's index, readdir resumed from every
 * offset, xattr prefixes as the kernel maps them, block-list checkpoints of
 * a big sparse file, and the crashers of issues 9 and 10 refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "squash_tree.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEEDS "test/fuzz/corpus/fuzz_squash/"

static struct sqt *open_seed(const char *name)
{
	struct kerr e = { 0 };
	struct sqt *t = NULL;
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	if (sqt_open(name, fd, &t, &e) < 0)
		fail_msg("%s: %s", name, e.msg);
	return t;
}

static uint64_t lookup(struct sqt *t, uint64_t dir, const char *name)
{
	struct stat st;
	uint64_t ino = 0;
	assert_int_equal(sqt_lookup(t, dir, name, &ino, &st), 0);
	return ino;
}

struct buf {
	char data[8192];
	size_t len;
};

static void collect(void *arg, const struct iovec *iov, int n)
{
	struct buf *b = arg;
	b->len = 0;
	for (int i = 0; i < n; i++) {
		assert_true(b->len + iov[i].iov_len <= sizeof b->data);
		memcpy(b->data + b->len, iov[i].iov_base, iov[i].iov_len);
		b->len += iov[i].iov_len;
	}
}

static void test_small(void **state)
{
	static const char *seeds[] = { "small-gzip", "small-xz", "small-lzo", "small-lz4",
	                               "small-zstd", "small-noall" };
	for (size_t i = 0; i < ARRAY_SIZE(seeds); i++) {
		char path[128];
		snprintf(path, sizeof path, SEEDS "%s.sqfs", seeds[i]);
		struct sqt *t = open_seed(path);
		uint64_t d = lookup(t, SQT_ROOT, "d");
		uint64_t f = lookup(t, d, "f");
		assert_true(d && f);
		assert_int_equal(lookup(t, d, "no-such"), 0);
		struct buf b;
		assert_int_equal(sqt_read(t, f, 0, 100, collect, &b), 0);
		assert_int_equal(b.len, 3);
		assert_memory_equal(b.data, "hi\n", 3);
		char *target;
		assert_int_equal(sqt_readlink(t, lookup(t, SQT_ROOT, "l"), &target), 0);
		assert_string_equal(target, "d/f");
		free(target);
		assert_int_equal(sqt_readlink(t, f, &target), -EINVAL);
		assert_int_equal(sqt_read(t, d, 0, 10, collect, &b), -EISDIR);

		/* The kernel's prefixes: 1 is trusted., 2 is security. */
		char v[64];
		size_t len;
		assert_int_equal(sqt_getxattr(t, d, "trusted.t", v, sizeof v, &len), 0);
		assert_int_equal(len, 1);
		uint64_t e = lookup(t, SQT_ROOT, "e");
		assert_int_equal(sqt_getxattr(t, e, "security.s", v, sizeof v, &len), 0);
		/* user.a is looked up past user.abc, or the other way round:
		 * libsquashfuse's lookup would copy "abc" into a 1-byte buffer. */
		assert_int_equal(sqt_getxattr(t, f, "user.abc", v, sizeof v, &len), 0);
		assert_int_equal(len, 12);
		assert_memory_equal(v, "longer-value", 12);
		assert_int_equal(sqt_getxattr(t, f, "user.a", v, sizeof v, &len), 0);
		assert_int_equal(len, 1);
		assert_int_equal(sqt_getxattr(t, f, "user.abc", v, 3, &len), -ERANGE);
		assert_int_equal(sqt_getxattr(t, f, "user.zz", v, sizeof v, &len), -ENODATA);
		char list[256];
		assert_int_equal(sqt_listxattr(t, f, list, sizeof list, &len), 0);
		assert_int_equal(len, sizeof "user.a" + sizeof "user.abc");
		sqt_close(t);
	}
}

struct names {
	char name[512][64];
	size_t n, per_call, taken;
	off_t next;
};

static bool take(void *arg, const char *name, const struct stat *st, off_t next)
{
	struct names *l = arg;
	if (l->taken == l->per_call)
		return false;
	snprintf(l->name[l->n++], sizeof l->name[0], "%s", name);
	l->taken++;
	l->next = next;
	return true;
}

/* 400 names, a listing of several metadata blocks with an index: every
 * name is found by lookup, and readdir resumed after every single entry
 * gives the same listing as one call. */
static void test_bigdir(void **state)
{
	static const char *seeds[] = { SEEDS "bigdir.sqfs", SEEDS "bigdir-noall.sqfs" };
	for (size_t s = 0; s < ARRAY_SIZE(seeds); s++) {
		struct sqt *t = open_seed(seeds[s]);
		struct names *all = xcalloc(1, sizeof *all), *one = xcalloc(1, sizeof *one);
		all->per_call = 1000;
		assert_int_equal(sqt_readdir(t, SQT_ROOT, 0, true, take, all), 0);
		assert_int_equal(all->n, 400);
		one->per_call = 1;
		for (off_t off = 0;;) {
			one->taken = 0;
			assert_int_equal(sqt_readdir(t, SQT_ROOT, off, false, take, one), 0);
			if (one->taken == 0)
				break;
			off = one->next;
		}
		assert_int_equal(one->n, 400);
		for (size_t i = 0; i < all->n; i++) {
			assert_string_equal(all->name[i], one->name[i]);
			assert_true(lookup(t, SQT_ROOT, all->name[i]) != 0);
		}
		assert_int_equal(sqt_readdir(t, SQT_ROOT, 5, false, take, one), -EINVAL);
		free(all);
		free(one);
		sqt_close(t);
	}
}

/* Blocks, holes, fragments, and a read far into a 1221-block sparse file
 * (past the first block-list checkpoint), then back to its start. */
static void test_files(void **state)
{
	static const char *seeds[] = { SEEDS "files-gzip.sqfs", SEEDS "files-noall.sqfs",
	                               SEEDS "files-alwaysfrag.sqfs" };
	for (size_t s = 0; s < ARRAY_SIZE(seeds); s++) {
		struct sqt *t = open_seed(seeds[s]);
		struct buf b;
		struct stat st;
		uint64_t text = lookup(t, SQT_ROOT, "text");
		assert_int_equal(sqt_getattr(t, text, &st), 0);
		assert_int_equal(st.st_size, 8893); /* seq 1 2000 */
		assert_int_equal(sqt_read(t, text, 8190, 8192, collect, &b), 0);
		assert_int_equal(b.len, 8893 - 8190);
		assert_memory_equal(b.data + b.len - 10, "1999\n2000\n", 10);
		/* seq 1 2000, read across the block boundary at 4096 */
		char *want = xmalloc(9000);
		size_t wlen = 0;
		for (int i = 1; i <= 2000; i++)
			wlen += (size_t)sprintf(want + wlen, "%d\n", i);
		assert_int_equal(wlen, 8893);
		assert_int_equal(sqt_read(t, text, 4000, 4500, collect, &b), 0);
		assert_int_equal(b.len, 4500);
		assert_memory_equal(b.data, want + 4000, 4500);
		free(want);
		uint64_t sparse = lookup(t, SQT_ROOT, "sparse");
		assert_int_equal(sqt_getattr(t, sparse, &st), 0);
		assert_int_equal(st.st_size, 5000000);
		for (off_t off = 4999000; off >= 0; off -= 2499500) {
			assert_int_equal(sqt_read(t, sparse, off, 4096, collect, &b), 0);
			assert_true(b.len == 1000 || b.len == 4096);
			for (size_t i = 0; i < b.len; i++)
				assert_int_equal(b.data[i], 0);
		}
		assert_int_equal(sqt_read(t, sparse, 6000000, 4096, collect, &b), 0);
		assert_int_equal(b.len, 0);
		char v[4096];
		size_t len;
		uint64_t small = lookup(t, SQT_ROOT, "small");
		assert_int_equal(sqt_getxattr(t, small, "user.big", v, sizeof v, &len), 0);
		assert_int_equal(len, 3000);
		assert_int_equal(v[2999], 'x');
		sqt_close(t);
	}
}

static void test_crashers(void **state)
{
	static const char *refused[] = { "crash-inodes-ffffffff", "crash-inodes-845fed",
	                                 "crash-dir-offset" };
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		char path[128];
		struct kerr e = { 0 };
		struct sqt *t = NULL;
		snprintf(path, sizeof path, SEEDS "%s.sqfs", refused[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(sqt_open(path, fd, &t, &e), -1);
		assert_null(t);
		assert_non_null(strstr(e.msg, ": can't open SquashFS: corrupt"));
	}
	/* The name size 5999 opens, and is EIO where it is met. */
	struct sqt *t = open_seed(SEEDS "crash-name-size-5999.sqfs");
	struct names *l = xcalloc(1, sizeof *l);
	uint64_t ino;
	struct stat st;
	l->per_call = 100;
	assert_int_equal(sqt_readdir(t, SQT_ROOT, 0, false, take, l), -EIO);
	assert_int_equal(sqt_lookup(t, SQT_ROOT, "l", &ino, &st), -EIO);
	free(l);
	sqt_close(t);
}

int main(void)
{
	if (access(SEEDS "small-gzip.sqfs", R_OK) != 0) {
		printf("1..0 # skip skipped: run from the top of the tree (no %s)\n", SEEDS);
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_bigdir),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_crashers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
