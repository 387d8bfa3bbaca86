/* fdpass.c: see fdpass.h. */
#include "fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FDPASS_MAX 8

int fd_send(int sock, const int *fds, size_t n, const void *data, size_t len)
{
	if (n == 0 || n > FDPASS_MAX || len == 0) {
		errno = EINVAL;
		return -1;
	}
	char cbuf[CMSG_SPACE(FDPASS_MAX * sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
	                     .msg_controllen = CMSG_SPACE(n * sizeof(int))};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	ssize_t r;
	do
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

int fd_recv(int sock, int *fds, size_t n)
{
	if (n == 0 || n > FDPASS_MAX) {
		errno = EINVAL;
		return -1;
	}
	char cbuf[CMSG_SPACE(FDPASS_MAX * sizeof(int))];
	char byte[64];
	struct iovec iov = {.iov_base = byte, .iov_len = sizeof byte};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
	                     .msg_controllen = sizeof cbuf};
	ssize_t r;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		if (r == 0)
			errno = EPIPE;
		return -1;
	}
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
		errno = EPROTO;
		return -1;
	}
	size_t got = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	if (got != n) {
		int extra[FDPASS_MAX];
		memcpy(extra, CMSG_DATA(cm), got * sizeof(int));
		for (size_t i = 0; i < got; i++)
			close(extra[i]);
		errno = EPROTO;
		return -1;
	}
	memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
	return 0;
}
