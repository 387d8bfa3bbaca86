/* supervise.c: see supervise.h. */
#include "supervise.h"
#include "launch.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

const int supervise_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
                                 SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, 0};

static void forwarded_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (const int *s = supervise_signals; *s; s++)
		sigaddset(set, *s);
}

int supervise_prepare(sigset_t *old)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return -1;
	sigset_t set;
	forwarded_set(&set);
	return sigprocmask(SIG_BLOCK, &set, old);
}

static void ignore(int sig) { (void)sig; }

void supervise_init_handlers(void)
{
	struct sigaction sa = {.sa_handler = ignore};
	for (const int *s = supervise_signals; *s; s++)
		sigaction(*s, &sa, NULL);
}

int supervise_wait(pid_t main_pid, bool until_main, supervise_hold_fn hold, void *arg)
{
	sigset_t set;
	forwarded_set(&set);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	int status = EXIT_KRILL;
	bool main_alive = true;
	for (;;) {
		/* Reap whatever has exited: the main child, and orphans that
		 * were re-parented to us as the subreaper. */
		for (;;) {
			int ws;
			pid_t p = waitpid(-1, &ws, WNOHANG | __WALL);
			if (p <= 0) {
				bool none = p < 0 && errno == ECHILD;
				bool holding = hold && hold(arg, !none);
				if (none && !holding) {
					if (sfd >= 0)
						close(sfd);
					return status;
				}
				break;
			}
			if (p == main_pid) {
				status = launch_status(ws);
				main_alive = false;
				klog(KLOG_DEBUG, "container process %d ended with status %d", p, status);
				if (until_main) {
					if (sfd >= 0)
						close(sfd);
					return status;
				}
			}
		}
		struct pollfd pfd = {.fd = sfd, .events = POLLIN};
		/* The timeout lets hold() notice peers that left on their own;
		 * without a signalfd (out of fds), poll for children instead. */
		if (poll(&pfd, 1, hold || sfd < 0 ? 100 : -1) <= 0)
			continue;
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof si) == sizeof si) {
			if (si.ssi_signo == SIGCHLD || !main_alive)
				continue;
			/* A signal the terminal generated (Ctrl-C, Ctrl-\) already
			 * reached the container's process group; forward only those
			 * another process sent, such as scancel's SIGTERM. */
			if (si.ssi_code == SI_KERNEL)
				continue;
			klog(KLOG_DEBUG, "forwarding signal %d to %d", si.ssi_signo, main_pid);
			kill(main_pid, (int)si.ssi_signo);
		}
	}
}
