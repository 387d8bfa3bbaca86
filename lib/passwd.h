/* passwd.h: the synthesized /etc/passwd and /etc/group of a container. */
#ifndef KRILL_PASSWD_H
#define KRILL_PASSWD_H

#include <stddef.h>
#include <sys/types.h>

/* Build the files' contents: root, nobody, and the container user and group,
 * named as the host's NSS (so LDAP and SSSD work) knows the *container*
 * IDs; an ID the host doesn't know gets a dummy entry.  home is the
 * container user's home directory.  Results are malloc'd strings. */
void passwd_build(uid_t uid, gid_t gid, const char *home, char **passwd, char **group);

/* The largest image passwd or group file krill reads. */
#define PASSWD_MAX (8u << 20)

/* Merge ours (passwd_build's passwd or group text) into the image's own
 * file (len bytes, hostile: any bytes), as Apptainer does, so that the
 * image's system users and groups (staff, _apt, messagebus...) stay and
 * package scripts that chown to them work.  Every image line is kept, in
 * order, except empty lines, lines with a NUL byte, and lines with the
 * same name or ID as the caller's user or group, which ours replace
 * (appended at the end).  Our root and nobody entries are added only when
 * the image has no entry of that name or ID.  Returns a malloc'd string. */
char *passwd_merge(const char *image, size_t len, const char *ours);

#endif
