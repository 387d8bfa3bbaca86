/* ns.c: see ns.h. */
#include "ns.h"
#include "log.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int ns_flags(const struct container *c)
{
	int f = CLONE_NEWNS;
	if (c->net == NET_NONE)
		f |= CLONE_NEWNET;
	if (c->hostname)
		f |= CLONE_NEWUTS;
	if (c->ns_ipc)
		f |= CLONE_NEWIPC;
	return f;
}

pid_t ns_fork(const struct container *c)
{
	if (!c->ns_pid)
		return fork();
	/* The raw syscall behaves like fork() (no new stack: the child runs on a
	 * copy of ours); glibc has no clone wrapper without one. */
	return (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
}

static int loopback_up(struct kerr *e)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return kerr_set(e, errno, "--net=none: can't open a socket");
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	int r = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	int err = errno;
	close(s);
	return r < 0 ? kerr_set(e, err, "--net=none: can't bring up lo") : 0;
}

int ns_setup(const struct container *c, struct kerr *e)
{
	if (c->net == NET_NONE) {
		klog(KLOG_VERBOSE, "new network namespace with lo only");
		if (loopback_up(e) < 0)
			return -1;
	}
	if (c->hostname) {
		klog(KLOG_VERBOSE, "new UTS namespace, hostname %s", c->hostname);
		if (sethostname(c->hostname, strlen(c->hostname)) < 0)
			return kerr_set(e, errno, "--hostname=%s: can't set the hostname", c->hostname);
	}
	return 0;
}
