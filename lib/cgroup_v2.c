/* cgroup_v2.c: the cgroup v2 backend.  One directory in the unified
 * hierarchy.  Controllers must be enabled in every ancestor's
 * cgroup.subtree_control before their files appear in a child; freezing
 * (cgroup.freeze) and killing (cgroup.kill) are core features that need no
 * controller, so they work even on a hybrid host's nearly empty unified
 * hierarchy. */
#include "cgroup_backend.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const struct {
	const char *name;
	unsigned bit;
} ctl_names[] = {
    {"memory", CG_MEMORY},
    {"cpu", CG_CPU},
    {"pids", CG_PIDS},
    {"cpuset", CG_CPUSET},
    {"io", CG_BLKIO},
    {"hugetlb", CG_HUGETLB},
};

unsigned cgv2_parse_controllers(const char *buf)
{
	unsigned ctl = 0;
	const char *p = buf;
	while (*p) {
		while (*p == ' ' || *p == '\n')
			p++;
		size_t n = strcspn(p, " \n");
		for (size_t i = 0; i < ARRAY_SIZE(ctl_names); i++)
			if (n == strlen(ctl_names[i].name) && strncmp(p, ctl_names[i].name, n) == 0)
				ctl |= ctl_names[i].bit;
		p += n;
	}
	/* v2's cpu controller also does the accounting cpuacct did. */
	if (ctl & CG_CPU)
		ctl |= CG_CPUACCT;
	return ctl;
}

/* Enable the controllers in ctl for the children of dir.  Already enabled
 * ones are skipped, so that a parent shared by many containers is written
 * only once. */
int cgv2_enable(const char *dir, unsigned ctl, struct kerr *e)
{
	_cleanup_free_ char *cur = NULL;
	if (cg_read(dir, "cgroup.subtree_control", &cur, e) < 0)
		return -1;
	unsigned have = cgv2_parse_controllers(cur);
	for (size_t i = 0; i < ARRAY_SIZE(ctl_names); i++) {
		if (!(ctl & ctl_names[i].bit) || (have & ctl_names[i].bit))
			continue;
		char v[32];
		snprintf(v, sizeof v, "+%s", ctl_names[i].name);
		if (cg_write(dir, "cgroup.subtree_control", v, e) < 0) {
			/* EBUSY: "no internal processes": a non-root cgroup that
			 * holds processes can't hand controllers to children. */
			if (e && e->errnum == EBUSY)
				kerr_hint(e,
					  "%s holds processes, so it can't delegate the %s "
					  "controller; enable it in that cgroup's "
					  "cgroup.subtree_control from an empty parent first",
					  dir, ctl_names[i].name);
			return -1;
		}
	}
	return 0;
}

int cgv2_set_limits(const struct cgroup_dir *d, const struct cgroup_limits *lim, struct kerr *e)
{
	char v[64];
	if (lim->memory && (d->ctl & CG_MEMORY)) {
		snprintf(v, sizeof v, "%" PRIu64, lim->memory);
		if (cg_write(d->path, "memory.max", v, e) < 0)
			return -1;
		/* --memory bounds memory + swap, as memsw does on v1: without
		 * this a limited process swaps instead of being OOM-killed.
		 * memory.swap.max is absent without swap accounting. */
		if (cg_has(d->path, "memory.swap.max") &&
		    cg_write(d->path, "memory.swap.max", "0", e) < 0)
			return -1;
	}
	if (lim->cpus_milli && (d->ctl & CG_CPU)) {
		snprintf(v, sizeof v, "%" PRIu64 " %d", cg_cpu_quota_us(lim->cpus_milli),
		         CG_CPU_PERIOD_US);
		if (cg_write(d->path, "cpu.max", v, e) < 0)
			return -1;
	}
	if (lim->pids && (d->ctl & CG_PIDS)) {
		snprintf(v, sizeof v, "%" PRIu64, lim->pids);
		if (cg_write(d->path, "pids.max", v, e) < 0)
			return -1;
	}
	return 0;
}

bool cgv2_can_freeze(const struct cgroup_dir *d)
{
	return cg_has(d->path, "cgroup.freeze"); /* Linux 5.2 */
}

int cgv2_is_frozen(const struct cgroup_dir *d)
{
	uint64_t v;
	if (cg_read_key(d->path, "cgroup.events", "frozen", &v) < 0)
		return -1;
	return v == 1;
}

/* Writing cgroup.freeze only asks; cgroup.events says "frozen 1" once
 * every task has stopped. */
int cgv2_freeze(const struct cgroup_dir *d, bool frozen, struct kerr *e)
{
	if (cg_write(d->path, "cgroup.freeze", frozen ? "1" : "0", e) < 0)
		return -1;
	unsigned round = 0;
	for (int i = 0; i < 200; i++) {
		int f = cgv2_is_frozen(d);
		if (f < 0)
			return kerr_set(e, errno, "can't read %s/cgroup.events", d->path);
		if (f == frozen)
			return 0;
		cg_backoff(&round);
	}
	return kerr_set(e, ETIMEDOUT, "can't %s %s", frozen ? "freeze" : "thaw", d->path);
}

int cgv2_kill(const struct cgroup_dir *d, struct kerr *e)
{
	if (!cg_has(d->path, "cgroup.kill")) /* Linux 5.14 */
		return 0;
	return cg_write(d->path, "cgroup.kill", "1", e) < 0 ? -1 : 1;
}

int cgv2_oom_kills(const struct cgroup_dir *d, uint64_t *n)
{
	if (!(d->ctl & CG_MEMORY))
		return -1;
	return cg_read_key(d->path, "memory.events", "oom_kill", n);
}
