/* userns.h: user namespaces and their single-ID maps. */
#ifndef KRILL_USERNS_H
#define KRILL_USERNS_H

#include "err.h"

#include <sys/types.h>

/* unshare(CLONE_NEWUSER | extra_flags) and map inside_uid/gid to the
 * caller's current effective IDs (one line each; setgroups denied, which
 * the kernel requires before an unprivileged gid_map). */
int userns_unshare(uid_t inside_uid, gid_t inside_gid, int extra_flags, struct kerr *e);

/* Explain why unprivileged user namespaces are off on this host: fills
 * why/hint (either may be "" when nothing specific is found). */
void userns_diagnose(char *why, size_t whylen, char *hint, size_t hintlen);

#endif
