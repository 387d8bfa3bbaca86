/* apt.c: see apt.h. */
#include "apt.h"
#include "log.h"
#include "path.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char snippet[] =
	"// Written by krill run --seccomp: under the fake-root filter apt can't\n"
	"// switch to its _apt sandbox user (as with Charliecloud's ch-image).\n"
	"APT::Sandbox::User \"root\";\n";

int apt_sandbox_off(int root_fd, bool persistent, struct kerr *e)
{
	_cleanup_close_ int dir = open_beneath(root_fd, "etc/apt/apt.conf.d",
	                                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (dir < 0)
		return 0; /* no apt in this image */
	/* Only on the image's own filesystem (or the -W layer): never into a
	 * bind from the host. */
	uint64_t root_mnt, dir_mnt;
	bool is_root;
	if (mount_of(root_fd, &root_mnt, &is_root) < 0 || mount_of(dir, &dir_mnt, &is_root) < 0 ||
	    root_mnt != dir_mnt) {
		klog(KLOG_VERBOSE, "--seccomp: /etc/apt/apt.conf.d isn't on the image's own "
		                   "filesystem: leaving apt's sandbox as it is");
		return 0;
	}
	int fd = openat(dir, "no-sandbox", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	                0644);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0; /* the image has it (a ch-image build), or the user's own */
		return kerr_set(e, errno, "--seccomp: can't write /" APT_NO_SANDBOX);
	}
	ssize_t n = write(fd, snippet, sizeof snippet - 1);
	int err = errno;
	close(fd);
	if (n != (ssize_t)sizeof snippet - 1)
		return kerr_set(e, n < 0 ? err : EIO, "--seccomp: can't write /" APT_NO_SANDBOX);
	klog(KLOG_INFO, "--seccomp: apt's _apt sandbox can't work under the fake-root filter: "
	                "turned off with /" APT_NO_SANDBOX " (APT::Sandbox::User \"root\")%s",
	     persistent ? ", which stays in the image" : " in the -W layer");
	return 0;
}
