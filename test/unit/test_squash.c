/* test_squash.c: lib/squash.c end to end.  Builds a small image with
 * mksquashfs, mounts it with FUSE inside a user+mount namespace (the
 * unprivileged process model: the parent serves, a forked reader reads),
 * checks the tree byte for byte, the error messages for broken images,
 * what a reader sees when the server is killed, and (as root) that the
 * kernel loop mount leaves no loop device behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "squash.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static char tmp[64];       /* everything lives under here */
static char src[128];      /* the tree */
static char img[128];      /* the image */
static char mnt[128];      /* a mount point */
static bool have_tools;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static int group_setup(void **state)
{
	snprintf(tmp, sizeof tmp, "/tmp/krill-sq.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	chmod(tmp, 0755);
	snprintf(src, sizeof src, "%s/src", tmp);
	snprintf(img, sizeof img, "%s/img.sqfs", tmp);
	snprintf(mnt, sizeof mnt, "%s/mnt", tmp);
	mkdir(src, 0755);
	mkdir(mnt, 0755);
	have_tools = sh("command -v mksquashfs >/dev/null") == 0;
	if (!have_tools)
		return 0;

	char p[256];
	snprintf(p, sizeof p, "%s/hello.txt", src);
	write_file(p, "hello\n", 6);
	/* Several full blocks plus a tail in a fragment, random-ish bytes. */
	size_t big = 3 * 131072 + 777;
	unsigned char *b = xmalloc(big);
	uint32_t x = 12345;
	for (size_t i = 0; i < big; i++) {
		x = x * 1103515245 + 12345;
		b[i] = (unsigned char)(x >> 16);
	}
	snprintf(p, sizeof p, "%s/big.bin", src);
	write_file(p, b, big);
	/* A sparse file: whole zero blocks become holes in the image. */
	memset(b, 0, big);
	b[big - 1] = 'z';
	snprintf(p, sizeof p, "%s/sparse.bin", src);
	write_file(p, b, big);
	free(b);
	snprintf(p, sizeof p, "%s/empty", src);
	write_file(p, "", 0);
	snprintf(p, sizeof p, "%s/link", src);
	if (symlink("hello.txt", p) < 0)
		return -1;
	snprintf(p, sizeof p, "%s/dir", src);
	mkdir(p, 0755);
	for (int i = 0; i < 400; i++) { /* several READDIR pages */
		char q[300];
		snprintf(q, sizeof q, "%s/dir/file-with-a-longish-name-%04d", src, i);
		write_file(q, q, strlen(q));
	}
	snprintf(p, sizeof p, "%s/dir/sub/deeper", src);
	sh("mkdir -p %s && chmod 0700 %s/dir/sub", p, src);
	if (sh("mksquashfs %s %s -noappend -all-root -quiet >/dev/null 2>&1", src, img))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	sh("umount -l %s 2>/dev/null; rm -rf %s", mnt, tmp);
	return 0;
}

/* In a forked child: become root of a new user+mount namespace, as the
 * core does (single-ID map, setgroups denied, private mounts). */
static int enter_userns(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	struct kerr e;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return -1;
	if (file_write_str("/proc/self/setgroups", "deny", &e) < 0)
		return -1;
	snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
	if (file_write_str("/proc/self/uid_map", map, &e) < 0)
		return -1;
	snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
	if (file_write_str("/proc/self/gid_map", map, &e) < 0)
		return -1;
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool mounted(const char *path)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof line, f))
		if (strstr(line, path))
			found = true;
	fclose(f);
	return found;
}

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "reader: %s:%d: %s failed (%s)\n", __FILE__, \
			        __LINE__, #cond, strerror(errno));              \
			_exit(1);                                               \
		}                                                               \
	} while (0)

/* The reader: everything a container would do to the tree. */
static void reader(void)
{
	char p[256], buf[64];
	struct stat st;
	struct statvfs sv;

	snprintf(p, sizeof p, "%s/hello.txt", mnt);
	int fd = open(p, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(read(fd, buf, sizeof buf) == 6 && memcmp(buf, "hello\n", 6) == 0);
	close(fd);
	CHECK(open(p, O_WRONLY) < 0 && errno == EROFS);
	snprintf(p, sizeof p, "%s/link", mnt);
	CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 9);
	ssize_t n = readlink(p, buf, sizeof buf);
	CHECK(n == 9 && memcmp(buf, "hello.txt", 9) == 0);
	snprintf(p, sizeof p, "%s/nope", mnt);
	CHECK(stat(p, &st) < 0 && errno == ENOENT);
	CHECK(stat(p, &st) < 0 && errno == ENOENT); /* the cached negative entry */
	snprintf(p, sizeof p, "%s/dir/sub", mnt);
	CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700);
	CHECK(st.st_uid == 0 && st.st_gid == 0);
	snprintf(p, sizeof p, "%s/hello.txt/x", mnt);
	CHECK(stat(p, &st) < 0 && errno == ENOTDIR);
	CHECK(statvfs(mnt, &sv) == 0 && (sv.f_flag & ST_RDONLY) && sv.f_files > 400);
	snprintf(p, sizeof p, "%s/hello.txt", mnt);
	CHECK(getxattr(p, "user.nothing", buf, sizeof buf) < 0 && errno == ENODATA);
	CHECK(listxattr(p, buf, sizeof buf) == 0);

	/* 402 entries, listed twice (the second time from the kernel cache). */
	for (int round = 0; round < 2; round++) {
		snprintf(p, sizeof p, "%s/dir", mnt);
		DIR *d = opendir(p);
		CHECK(d);
		int count = 0;
		struct dirent *de;
		while ((de = readdir(d)))
			count++;
		closedir(d);
		CHECK(count == 401);
	}
	/* Byte for byte, then four trees at once, through the threads. */
	CHECK(sh("diff -r --no-dereference %s %s", src, mnt) == 0);
	CHECK(sh("(for i in 1 2 3 4; do diff -rq %s %s || echo FAIL & done; wait) "
	         "| grep -q FAIL; test $? = 1", src, mnt) == 0);
	/* A read that starts in the middle of a block and ends in the tail. */
	snprintf(p, sizeof p, "%s/big.bin", mnt);
	fd = open(p, O_RDONLY);
	CHECK(fd >= 0);
	char a[1000];
	CHECK(pread(fd, a, sizeof a, 3 * 131072 - 500) == 1000);
	CHECK(pread(fd, a, sizeof a, 3 * 131072 + 700) == 77);
	close(fd);
	_exit(0);
}

/* Child of the test: namespace, mount, fork the reader, serve, stop. */
static int serve_and_read(void)
{
	struct squash *sq;
	struct kerr e;

	if (enter_userns() < 0) {
		perror("userns");
		return 2;
	}
	if (squash_open(img, &sq, &e) < 0 || squash_mount_fuse(sq, mnt, &e) < 0) {
		kerr_print(&e);
		return 3;
	}
	pid_t pid = fork();
	if (pid == 0) {
		squash_child_drop(sq);
		reader();
	}
	if (squash_serve_start(sq, 4, &e) < 0) {
		kerr_print(&e);
		return 4;
	}
	int st = wait_status(pid);
	squash_stop(sq);
	if (mounted(mnt)) {
		fprintf(stderr, "still mounted after squash_stop\n");
		return 5;
	}
	squash_close(sq);
	return st;
}

static void test_fuse_read(void **state)
{
	if (!have_tools)
		skip();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(serve_and_read());
	assert_int_equal(wait_status(pid), 0);
	assert_false(mounted(mnt));
}

static void expect_open_error(const char *path, const char *want)
{
	struct squash *sq = NULL;
	struct kerr e;
	char buf[2048], full[1024];

	assert_int_equal(squash_open(path, &sq, &e), -1);
	assert_null(sq);
	snprintf(full, sizeof full, "%s: can't open SquashFS: %s", path, want);
	assert_string_equal(kerr_str(&e, buf, sizeof buf), full);
}

static void test_errors(void **state)
{
	char p[256];
	struct stat st;

	if (!have_tools)
		skip();
	assert_int_equal(stat(img, &st), 0);

	snprintf(p, sizeof p, "%s/zeroed.sqfs", tmp);
	assert_int_equal(sh("cp %s %s && printf '\\0\\0\\0\\0' | "
	                    "dd of=%s bs=1 seek=4 conv=notrunc status=none", img, p, p), 0);
	expect_open_error(p, "corrupt superblock (inode count is 0)");

	snprintf(p, sizeof p, "%s/trunc.sqfs", tmp);
	assert_int_equal(sh("head -c 4096 %s > %s", img, p), 0);
	char want[256];
	struct squash *sq;
	struct kerr e;
	assert_int_equal(squash_open(img, &sq, &e), 0);
	squash_close(sq);
	/* bytes_used is the unpadded size; mksquashfs pads the file to 4 KiB. */
	FILE *f = fopen(img, "rb");
	assert_non_null(f);
	unsigned char sb[96];
	assert_int_equal(fread(sb, 1, sizeof sb, f), sizeof sb);
	fclose(f);
	unsigned long long used = 0;
	for (int i = 7; i >= 0; i--)
		used = used << 8 | sb[40 + i];
	snprintf(want, sizeof want,
	         "image is truncated (superblock says %llu bytes, file has 4096)", used);
	expect_open_error(p, want);

	snprintf(p, sizeof p, "%s/short.sqfs", tmp);
	assert_int_equal(sh("head -c 10 %s > %s", img, p), 0);
	expect_open_error(p, "file too short (10 bytes) for a superblock");

	snprintf(p, sizeof p, "%s/elf", tmp);
	assert_int_equal(sh("cp /bin/true %s", p), 0);
	expect_open_error(p, "bad magic number");

	snprintf(p, sizeof p, "%s/missing.sqfs", tmp);
	expect_open_error(p, "No such file or directory");

	/* A mount point that isn't a directory. */
	pid_t pid = fork();
	if (pid == 0) {
		if (enter_userns() < 0 || squash_open(img, &sq, &e) < 0)
			_exit(2);
		snprintf(p, sizeof p, "%s/hello.txt", src);
		int rc = squash_mount_fuse(sq, p, &e);
		squash_close(sq);
		_exit(rc == -1 && e.errnum == ENOTDIR ? 0 : 1);
	}
	assert_int_equal(wait_status(pid), 0);
}

/* Kill -9 the server while a reader waits: the reader must get an error
 * (ENOTCONN or ECONNABORTED), not hang. */
static void test_server_killed(void **state)
{
	int ready[2], go[2], result[2];

	if (!have_tools)
		skip();
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	assert_int_equal(pipe2(result, O_CLOEXEC), 0);
	pid_t server = fork();
	assert_true(server >= 0);
	if (server == 0) {
		struct squash *sq;
		struct kerr e;
		close(ready[0]);
		close(go[1]);
		close(result[0]);
		if (enter_userns() < 0 || squash_open(img, &sq, &e) < 0 ||
		    squash_mount_fuse(sq, mnt, &e) < 0)
			_exit(2);
		pid_t rd = fork();
		if (rd == 0) {
			char p[256], c;
			struct stat st;
			squash_child_drop(sq);
			alarm(20);
			snprintf(p, sizeof p, "%s/hello.txt", mnt);
			char ok = stat(p, &st) == 0 ? 'y' : 'n';
			if (write(ready[1], &ok, 1) != 1)
				_exit(1);
			if (read(go[0], &c, 1) < 0) /* EOF: the server is dead */
				_exit(1);
			struct timespec t0, t1;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			snprintf(p, sizeof p, "%s/big.bin", mnt);
			int fd = open(p, O_RDONLY);
			int err = errno;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			char r = 'h'; /* hung, or no error */
			if (fd < 0 && (err == ENOTCONN || err == ECONNABORTED) &&
			    t1.tv_sec - t0.tv_sec < 5)
				r = 'e';
			if (write(result[1], &r, 1) != 1)
				_exit(1);
			_exit(0);
		}
		close(ready[1]);
		close(result[1]);
		close(go[0]);
		squash_serve_start(sq, 2, &e);
		for (;;)
			pause();
	}
	close(ready[1]);
	close(go[0]);
	close(result[1]);
	char c = 0;
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	kill(server, SIGKILL);
	assert_int_equal(wait_status(server), 128 + SIGKILL);
	close(go[1]);
	struct pollfd pfd = { .fd = result[0], .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	assert_int_equal(read(result[0], &c, 1), 1);
	assert_int_equal(c, 'e');
	close(ready[0]);
	close(result[0]);
}

/* Real root: loop device + kernel squashfs, gone with the namespace. */
static void test_kernel_mount(void **state)
{
	int res[2];

	if (!have_tools || geteuid() != 0 || access("/dev/loop-control", W_OK) < 0)
		skip();
	assert_int_equal(pipe(res), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct squash *sq;
		struct kerr e;
		struct stat st;
		char p[256];
		close(res[0]);
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(2);
		if (squash_open(img, &sq, &e) < 0 || squash_mount_kernel(sq, mnt, &e) < 0) {
			kerr_print(&e);
			_exit(3);
		}
		snprintf(p, sizeof p, "%s/hello.txt", mnt);
		if (stat(p, &st) < 0 || major(st.st_dev) != 7)
			_exit(4);
		unsigned minor_ = minor(st.st_dev);
		if (write(res[1], &minor_, sizeof minor_) != sizeof minor_)
			_exit(5);
		if (sh("diff -r --no-dereference %s %s", src, mnt))
			_exit(6);
		/* No unmount and no close: the namespace's death must do it. */
		_exit(0);
	}
	close(res[1]);
	unsigned num = 0;
	bool got = read(res[0], &num, sizeof num) == sizeof num;
	close(res[0]);
	int st = wait_status(pid);
	if (st == 3)
		skip(); /* no loop devices here (a container); printed above */
	assert_int_equal(st, 0);
	assert_true(got);
	char p[128];
	snprintf(p, sizeof p, "/sys/block/loop%u/loop/backing_file", num);
	/* Autoclear runs when the last mount goes; give the kernel a moment. */
	for (int i = 0; i < 100 && access(p, F_OK) == 0; i++)
		usleep(20000);
	assert_int_not_equal(access(p, F_OK), 0);
	assert_int_equal(sh("losetup -a 2>/dev/null | grep -q %s", img), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_fuse_read),
		cmocka_unit_test(test_server_killed),
		cmocka_unit_test(test_kernel_mount),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
