/* container.c: defaults and release of struct container. */
#include "container.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void container_init(struct container *c)
{
	memset(c, 0, sizeof *c);
	c->uid = geteuid();
	c->gid = getegid();
	c->net = NET_HOST;
	c->join_timeout = 30;
	c->hold_fd = -1;
}

void container_free(struct container *c)
{
	free(c->image);
	free(c->mountpoint);
	free(c->storage);
	if (c->argv)
		for (char **a = c->argv; *a; a++)
			free(*a);
	free(c->argv);
	free(c->cwd);
	free(c->write_fake_size);
	for (size_t i = 0; i < c->nbinds; i++) {
		free(c->binds[i].src);
		free(c->binds[i].dst);
	}
	free(c->binds);
	for (size_t i = 0; i < c->nenv_ops; i++) {
		free(c->env_ops[i].arg);
		free(c->env_ops[i].text);
	}
	free(c->env_ops);
	strv_free(&c->env_keep);
	free(c->join_tag);
	free(c->name);
	free(c->hostname);
	free(c->cgroup_parent);
	free(c->seccomp_profile);
	strv_free(&c->cap_add);
	strv_free(&c->cap_drop);
	memset(c, 0, sizeof *c);
}
