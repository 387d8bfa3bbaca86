/* cgroup_v1.c: the cgroup v1 backend.  One directory per hierarchy; each
 * hierarchy carries one or more controllers (memory, cpu, cpuacct, pids,
 * freezer), and each function here touches only the files of the
 * controllers its directory has. */
#include "cgroup_backend.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int cgv1_set_limits(const struct cgroup_dir *d, const struct cgroup_limits *lim, struct kerr *e)
{
	char v[64];
	if (lim->memory && (d->ctl & CG_MEMORY)) {
		snprintf(v, sizeof v, "%" PRIu64, lim->memory);
		if (cg_write(d->path, "memory.limit_in_bytes", v, e) < 0)
			return -1;
		/* memsw bounds memory + swap, so that --memory means an OOM kill
		 * and not a crawl through swap.  It must be written after
		 * limit_in_bytes (the kernel keeps memsw >= memory).  Absent
		 * without swap accounting; then there is nothing to bound. */
		if (cg_has(d->path, "memory.memsw.limit_in_bytes") &&
		    cg_write(d->path, "memory.memsw.limit_in_bytes", v, e) < 0)
			return -1;
	}
	if (lim->cpus_milli && (d->ctl & CG_CPU)) {
		uint64_t quota = cg_cpu_quota_us(lim->cpus_milli);
		snprintf(v, sizeof v, "%d", CG_CPU_PERIOD_US);
		if (cg_write(d->path, "cpu.cfs_period_us", v, e) < 0)
			return -1;
		snprintf(v, sizeof v, "%" PRIu64, quota);
		if (cg_write(d->path, "cpu.cfs_quota_us", v, e) < 0)
			return -1;
	}
	if (lim->pids && (d->ctl & CG_PIDS)) {
		snprintf(v, sizeof v, "%" PRIu64, lim->pids);
		if (cg_write(d->path, "pids.max", v, e) < 0)
			return -1;
	}
	return 0;
}

/* 1 frozen, 0 thawed or freezing, -1 unreadable. */
int cgv1_is_frozen(const struct cgroup_dir *d)
{
	_cleanup_free_ char *s = NULL;
	if (cg_read(d->path, "freezer.state", &s, NULL) < 0)
		return -1;
	return strncmp(s, "FROZEN", 6) == 0;
}

/* Writing FROZEN starts freezing; the state reads FREEZING until every
 * task has stopped.  The kernel documentation asks to write FROZEN again
 * while it is FREEZING, which also catches tasks forked meanwhile. */
int cgv1_freeze(const struct cgroup_dir *d, bool frozen, struct kerr *e)
{
	const char *want = frozen ? "FROZEN" : "THAWED";
	unsigned round = 0;
	for (int i = 0; i < 200; i++) { /* ~5 s with the backoff */
		if (cg_write(d->path, "freezer.state", want, e) < 0)
			return -1;
		_cleanup_free_ char *s = NULL;
		if (cg_read(d->path, "freezer.state", &s, e) < 0)
			return -1;
		if (strncmp(s, want, strlen(want)) == 0)
			return 0;
		cg_backoff(&round);
	}
	return kerr_set(e, ETIMEDOUT, "can't %s %s", frozen ? "freeze" : "thaw", d->path);
}

int cgv1_oom_kills(const struct cgroup_dir *d, uint64_t *n)
{
	if (!(d->ctl & CG_MEMORY))
		return -1;
	/* memory.oom_control has had an oom_kill line since Linux 4.13. */
	return cg_read_key(d->path, "memory.oom_control", "oom_kill", n);
}
