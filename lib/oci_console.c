/* oci_console.c: see oci_console.h. */
#include "oci_console.h"
#include "fdpass.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int oci_console_connect(const char *path, struct kerr *e)
{
	/* sun_path holds 108 bytes; a longer path goes through an fd of its
	 * directory. */
	_cleanup_free_ char *copy = xstrdup(path), *copy2 = xstrdup(path);
	_cleanup_close_ int dfd = open(dirname(copy), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kerr_set(e, errno, "--console-socket=%s: can't open its directory", path);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dfd, basename(copy2));
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return kerr_set(e, errno, "--console-socket=%s: can't create a socket", path);
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int err = errno;
		close(s);
		return kerr_set(e, err, "--console-socket=%s: can't connect", path);
	}
	return s;
}

int oci_console_setup(int sock, struct kerr *e)
{
	/* The container's ptmx: the pty then lives in its devpts instance,
	 * and its name (/dev/pts/0) makes sense inside. */
	_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return kerr_set(e, errno, "process.terminal: can't open /dev/ptmx in the container");
	char name[64];
	if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0)
		return kerr_set(e, errno, "process.terminal: can't set up the pty");
	int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return kerr_set(e, errno, "process.terminal: can't open %s", name);
	if (fd_send(sock, &master, 1, name, strlen(name)) < 0) {
		close(slave);
		return kerr_set(e, errno, "process.terminal: can't send the pty to the console socket");
	}
	if (setsid() < 0 && errno != EPERM) {
		close(slave);
		return kerr_set(e, errno, "process.terminal: can't start a session");
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0) {
		close(slave);
		return kerr_set(e, errno, "process.terminal: can't make %s the controlling terminal",
		                name);
	}
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0) {
			close(slave);
			return kerr_set(e, errno, "process.terminal: can't use %s as stdio", name);
		}
	if (slave > 2)
		close(slave);
	return 0;
}
