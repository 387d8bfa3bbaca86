/* security.c: see security.h. */
#include "security.h"

#include <errno.h>
#include <grp.h>
#include <unistd.h>

int security_apply(const struct container *c, bool privileged, struct kerr *e)
{
	if (privileged) {
		/* Root asked for another identity: drop supplementary groups
		 * first, then the group, then the user. */
		if (c->gid != 0 || c->uid != 0) {
			if (setgroups(0, NULL) < 0 || setresgid(c->gid, c->gid, c->gid) < 0)
				return kerr_set(e, errno, "can't switch to gid %u", c->gid);
		}
		if (c->uid != 0 && setresuid(c->uid, c->uid, c->uid) < 0)
			return kerr_set(e, errno, "can't switch to uid %u", c->uid);
	}
	return 0;
}
