/* import_exec.c: see import_exec.h. */
#include "import_exec.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char *import_exec_path(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return xstrdup("krill-import");
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	*slash = '\0';
	return xasprintf("%s/krill-import", self);
}

static int missing(const char *path, int err, struct kerr *e)
{
	kerr_set(e, err, "can't run %s", path);
	return kerr_hint(e, "krill import needs krill-import, installed beside krill");
}

int import_exec(char **argv, struct kerr *e)
{
	_cleanup_free_ char *path = import_exec_path();
	int n = 0;
	while (argv[n])
		n++;
	char **v = xcalloc(n + 2, sizeof *v);
	v[0] = "krill-import";
	for (int i = 0; i < n; i++)
		v[i + 1] = argv[i];
	execv(path, v);
	int err = errno;
	free(v);
	return missing(path, err, e);
}

int import_for_run(const char *source, const char *storage, int verbosity, char **image,
                   int *status, struct kerr *e)
{
	_cleanup_free_ char *path = import_exec_path();
	const char *argv[16];
	int n = 0;
	argv[n++] = "krill-import";
	argv[n++] = "import";
	argv[n++] = "--for-run";
	argv[n++] = "--print-path";
	if (verbosity < 0)
		argv[n++] = "-q";
	if (verbosity > 0)
		argv[n++] = "-v";
	if (storage) {
		argv[n++] = "-s";
		argv[n++] = storage;
	}
	argv[n++] = "--";
	argv[n++] = source;
	argv[n] = NULL;
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return kerr_set(e, errno, "can't create a pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	pid_t pid;
	int rc = posix_spawn(&pid, path, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (rc != 0) {
		close(pipefd[0]);
		return missing(path, rc, e);
	}
	klog(KLOG_VERBOSE, "importing %s with %s", source, path);
	char *out = NULL;
	size_t len = 0;
	struct kerr e2;
	int rr = fd_read_all(pipefd[0], "krill-import's output", PATH_MAX + 1, &out, &len, &e2);
	close(pipefd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (*status != 0 || rr < 0) {
		free(out);
		if (*status == 0)
			return kerr_set(e, 0, "%s: krill-import printed no image path", source);
		e->msg[0] = '\0';
		return -1;
	}
	out[strcspn(out, "\n")] = '\0';
	if (out[0] != '/') {
		free(out);
		*status = 125;
		return kerr_set(e, 0, "%s: krill-import printed no image path", source);
	}
	*image = out;
	return 0;
}
