/* oci_console.h: process.terminal with --console-socket, as runc and crun
 * do it: the runtime connects to the caller's unix socket, the container
 * side opens a pty from the container's own /dev/ptmx, sends the master
 * over the socket (SCM_RIGHTS) and makes the slave its controlling
 * terminal and stdio.  The caller (conmon, a test) then owns the master. */
#ifndef KRILL_OCI_CONSOLE_H
#define KRILL_OCI_CONSOLE_H

#include "err.h"

/* Connect to the console socket at path (any length).  Returns the fd. */
int oci_console_connect(const char *path, struct kerr *e);

/* In the container (after pivot_root, or after joining its mount
 * namespace): new pty, master sent over sock, slave on 0, 1, 2 as the
 * controlling terminal of a new session. */
int oci_console_setup(int sock, struct kerr *e);

#endif
