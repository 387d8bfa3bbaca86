/* squash_mount_driver.c: benchmark driver for lib/squash.c, standing in for
 * `krill run` until the core exists.  It follows the same process model:
 * enter a user+mount namespace (0 -> caller), mount IMAGE with FUSE, fork;
 * the child runs `sh -c CMD` with $MNT set to the mount point; the parent
 * serves with THREADS workers, waits, stops, and prints its own peak RSS
 * (the FUSE server's) to stderr.
 *
 *   squash_mount_driver IMAGE THREADS 'CMD'     (THREADS 0: the default) */
#include "err.h"
#include "squash.h"
#include "util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct kerr e;
	struct squash *sq;
	char map[64], mnt[] = "/tmp/krill-bench.XXXXXX";
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (argc != 4) {
		fprintf(stderr, "usage: %s IMAGE THREADS CMD\n", argv[0]);
		return 125;
	}
	int threads = atoi(argv[2]);
	if (threads <= 0)
		threads = squash_default_threads();
	if (!mkdtemp(mnt) || unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		perror("setup");
		return 125;
	}
	snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
	if (file_write_str("/proc/self/setgroups", "deny", &e) < 0 ||
	    file_write_str("/proc/self/uid_map", map, &e) < 0)
		goto fail;
	snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
	if (file_write_str("/proc/self/gid_map", map, &e) < 0)
		goto fail;
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		perror("mount /");
		return 125;
	}
	if (squash_open(argv[1], &sq, &e) < 0 || squash_mount_fuse(sq, mnt, &e) < 0)
		goto fail;
	pid_t pid = fork();
	if (pid == 0) {
		squash_child_drop(sq);
		setenv("MNT", mnt, 1);
		execl("/bin/sh", "sh", "-c", argv[3], (char *)NULL);
		_exit(127);
	}
	if (squash_serve_start(sq, threads, &e) < 0)
		goto fail;
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	squash_stop(sq);
	squash_close(sq);
	rmdir(mnt);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, "server: %d threads, peak RSS %ld KiB, cpu %.2f s user + %.2f s sys\n",
	        threads, ru.ru_maxrss, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	        ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
fail:
	kerr_print(&e);
	return 125;
}
