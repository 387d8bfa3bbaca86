/* fdpass.h: passing file descriptors over a unix socket (SCM_RIGHTS). */
#ifndef KRILL_FDPASS_H
#define KRILL_FDPASS_H

#include <stddef.h>

/* Send n (1..8) fds with len bytes of data (len >= 1: a message needs a
 * payload to carry them).  Returns 0, or -1 with errno set. */
int fd_send(int sock, const int *fds, size_t n, const void *data, size_t len);

/* Receive exactly n fds (close-on-exec) with one message.  Returns 0, or
 * -1 (errno set; EPROTO when the message held something else, 0-length
 * read = the sender is gone). */
int fd_recv(int sock, int *fds, size_t n);

#endif
