/* passwd.c: synthesized /etc/passwd and /etc/group (see passwd.h). */
#include "passwd.h"
#include "util.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Keep the fields a passwd file can hold: no ':' or newline. */
static char *field(const char *s)
{
	char *r = xstrdup(s ? s : "");
	for (char *p = r; *p; p++)
		if (*p == ':' || *p == '\n')
			*p = '_';
	return r;
}

void passwd_build(uid_t uid, gid_t gid, const char *home, char **passwd, char **group)
{
	struct passwd *pw = getpwuid(uid);
	_cleanup_free_ char *uname = pw ? field(pw->pw_name) : xasprintf("krilluser%u", uid);
	_cleanup_free_ char *gecos = pw ? field(pw->pw_gecos) : xstrdup("krill container user");
	struct group *gr = getgrgid(gid);
	_cleanup_free_ char *gname = gr ? field(gr->gr_name) : xasprintf("krillgroup%u", gid);

	_cleanup_free_ char *upart = NULL;
	if (uid != 0 && uid != 65534)
		upart = xasprintf("%s:x:%u:%u:%s:%s:/bin/sh\n", uname, uid, gid, gecos, home);
	*passwd = xasprintf("root:x:0:0:root:/root:/bin/sh\n"
	                    "%s"
	                    "nobody:x:65534:65534:nobody:/:/bin/false\n",
	                    upart ? upart : "");
	_cleanup_free_ char *gpart = NULL;
	if (gid != 0 && gid != 65534)
		gpart = xasprintf("%s:x:%u:\n", gname, gid);
	*group = xasprintf("root:x:0:\n"
	                   "%s"
	                   "nogroup:x:65534:\n",
	                   gpart ? gpart : "");
}
