/* oci_hooks.c: see oci_hooks.h. */
#include "oci_hooks.h"
#include "launch.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_one(const struct oci_hook *h, const char *kind, const char *state, struct kerr *e)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return kerr_set(e, errno, "%s hook %s: can't create a pipe", kind, h->path);
	/* With stdin (or stdout) closed, the pipe would land on 0-2, and
	 * dup2() onto itself keeps close-on-exec: the hook would get no
	 * stdin.  Keep both ends above 2. */
	for (int i = 0; i < 2; i++) {
		if (in[i] < 3) {
			int n = fcntl(in[i], F_DUPFD_CLOEXEC, 3);
			if (n < 0) {
				int err = errno;
				close(in[0]);
				close(in[1]);
				return kerr_set(e, err, "%s hook %s: can't create a pipe", kind,
				                h->path);
			}
			close(in[i]);
			in[i] = n;
		}
	}
	klog(KLOG_DEBUG, "running %s hook %s", kind, h->path);
	pid_t pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return kerr_set(e, errno, "%s hook %s: can't fork", kind, h->path);
	}
	if (pid == 0) {
		/* stdout joins stderr: a runtime's stdout belongs to its
		 * caller's protocol (state, list), not to hooks. */
		if (dup2(in[0], 0) < 0)
			_exit(EXIT_KRILL);
		/* A closed stderr: give the hook /dev/null for 1 and 2. */
		if (fcntl(2, F_GETFD) < 0) {
			int nul = open("/dev/null", O_WRONLY);
			if (nul >= 0 && nul != 2) {
				dup2(nul, 2);
				close(nul);
			}
		}
		if (dup2(2, 1) < 0)
			_exit(EXIT_KRILL);
		/* A hook doesn't outlive a runtime killed while waiting for it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char *argv0[] = {h->path, NULL};
		char *envp0[] = {NULL};
		execve(h->path, h->args.n ? h->args.v : argv0, h->env.n ? h->env.v : envp0);
		dprintf(2, "%s: error: %s hook %s: can't execute: %s\n", klog_prog, kind, h->path,
		        strerror(errno));
		_exit(EXIT_CANNOT_EXEC);
	}
	close(in[0]);
	/* A hook that doesn't read its stdin must not kill us with SIGPIPE,
	 * nor block us past its timeout: the state (annotations can make it
	 * larger than a pipe) is written as the hook reads it. */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	size_t len = strlen(state), off = 0;
	int wfd = in[1];
	fcntl(wfd, F_SETFL, O_NONBLOCK);

	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	long long deadline = h->timeout ? now_ms() + h->timeout * 1000LL : 0;
	int ws = 0;
	for (;;) {
		while (wfd >= 0) {
			ssize_t w = off < len ? write(wfd, state + off, len - off) : 0;
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno == EINTR)
				continue;
			else if (w < 0 && errno == EAGAIN)
				break;
			else if (w < 0 && errno != EPIPE)
				klog(KLOG_DEBUG, "%s hook %s: can't write the state: %s", kind,
				     h->path, strerror(errno));
			if (w <= 0 || off == len) {
				close(wfd);
				wfd = -1;
			}
		}
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			if (pfd >= 0)
				close(pfd);
			if (wfd >= 0)
				close(wfd);
			signal(SIGPIPE, old);
			return kerr_set(e, errno, "%s hook %s: can't wait for it", kind, h->path);
		}
		int wait_ms = -1;
		if (deadline) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				kill(pid, SIGKILL);
				waitpid(pid, &ws, 0);
				if (pfd >= 0)
					close(pfd);
				if (wfd >= 0)
					close(wfd);
				signal(SIGPIPE, old);
				return kerr_set(e, 0, "%s hook %s: timed out after %d s", kind, h->path,
				                h->timeout);
			}
			wait_ms = (int)left;
		}
		if (pfd >= 0) {
			struct pollfd p[2] = {{.fd = pfd, .events = POLLIN},
			                      {.fd = wfd, .events = POLLOUT}};
			poll(p, wfd >= 0 ? 2 : 1, wait_ms);
		} else {
			usleep(1000);
		}
	}
	if (pfd >= 0)
		close(pfd);
	if (wfd >= 0)
		close(wfd);
	signal(SIGPIPE, old);
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return 0;
	if (WIFSIGNALED(ws))
		return kerr_set(e, 0, "%s hook %s: killed by signal %d", kind, h->path,
		                WTERMSIG(ws));
	return kerr_set(e, 0, "%s hook %s: exited with status %d", kind, h->path,
	                WEXITSTATUS(ws));
}

int oci_hooks_run(const struct oci_hook_list *l, enum oci_hook_kind kind, const char *state,
                  struct kerr *e)
{
	for (size_t i = 0; i < l->n; i++)
		if (run_one(&l->v[i], oci_hook_names[kind], state, e) < 0)
			return -1;
	return 0;
}
