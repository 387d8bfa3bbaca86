/* passwd.h: the synthesized /etc/passwd and /etc/group of a container. */
#ifndef KRILL_PASSWD_H
#define KRILL_PASSWD_H

#include <sys/types.h>

/* Build the files' contents: root, nobody, and the container user and group,
 * named as the host's NSS (so LDAP and SSSD work) knows the *container*
 * IDs; an ID the host doesn't know gets a dummy entry.  home is the
 * container user's home directory.  Results are malloc'd strings. */
void passwd_build(uid_t uid, gid_t gid, const char *home, char **passwd, char **group);

#endif
