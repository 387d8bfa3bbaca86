/* apt.h: apt under --seccomp's fake root.
 *
 * apt drops privileges to its `_apt` user before it downloads, then checks
 * that the switch worked.  The fake-root filter makes setresuid/setgroups
 * succeed without effect (the user namespace maps one ID), so the check
 * fails: "Could not switch group".  No switch can work there, so krill
 * turns the sandbox off, as Charliecloud's ch-image does, with its
 * snippet /etc/apt/apt.conf.d/no-sandbox: APT::Sandbox::User "root". */
#ifndef KRILL_APT_H
#define KRILL_APT_H

#include "err.h"

#include <stdbool.h>

#define APT_NO_SANDBOX "etc/apt/apt.conf.d/no-sandbox"

/* When the image beneath root_fd has /etc/apt/apt.conf.d on its own
 * filesystem and no no-sandbox snippet, write one and say so.  persistent
 * tells whether the file stays in the image (-w) or goes with the -W
 * layer.  Nothing to do without apt.  Returns 0, or -1 with e set. */
int apt_sandbox_off(int root_fd, bool persistent, struct kerr *e);

#endif
