/* cgroup_backend.h: internal to cgroup*.c.  The shape of a `struct
 * cgroup` and the per-directory operations each backend provides
 * (cgroup_v1.c, cgroup_v2.c).  Nothing outside lib/cgroup*.c includes it. */
#ifndef KRILL_CGROUP_BACKEND_H
#define KRILL_CGROUP_BACKEND_H

#include "cgroup.h"
#include "util.h"

struct cgroup_dir {
	char *path;   /* absolute directory */
	char *name;   /* base name of the hierarchy's mount point */
	unsigned ctl; /* controllers usable here (CG_* bits) */
	bool v2;
	bool limits; /* limits were written here (the chosen backend per limit) */
};

struct cgroup {
	char *rel; /* relative to the hierarchy roots, "/krill/ctr" */
	struct cgroup_dir d[CGROUP_MAX_HIER];
	size_t n;
	char *parent_rel; /* also try to rmdir this (the "krill" parent), or NULL */
	bool owned;	  /* created by this handle: cgroup_free destroys */
	bool destroyed;
	bool oci_names;
	int guard_fd; /* write end of the guard's pipe, -1 */
	pid_t guard_pid;
};

/* Shared file helpers (cgroup.c). */
int cg_write(const char *dir, const char *file, const char *val, struct kerr *e);
int cg_read(const char *dir, const char *file, char **buf, struct kerr *e);
/* Find "KEY VALUE" in a flat-keyed file (memory.events, cgroup.events). */
int cg_read_key(const char *dir, const char *file, const char *key, uint64_t *v);
bool cg_has(const char *dir, const char *file);
const char *cg_limit_name(bool oci, unsigned controller);

/* The CFS bandwidth period both hierarchies use, and the quota for a CPU
 * limit in thousandths of a CPU (the kernel refuses quotas below 1 ms). */
#define CG_CPU_PERIOD_US 100000
uint64_t cg_cpu_quota_us(uint64_t cpus_milli);

/* v1: one directory per hierarchy. */
int cgv1_set_limits(const struct cgroup_dir *d, const struct cgroup_limits *lim, struct kerr *e);
int cgv1_freeze(const struct cgroup_dir *d, bool frozen, struct kerr *e);
int cgv1_is_frozen(const struct cgroup_dir *d);
int cgv1_oom_kills(const struct cgroup_dir *d, uint64_t *n);

/* v2: the one unified directory. */
int cgv2_enable(const char *dir, unsigned ctl, struct kerr *e);
int cgv2_set_limits(const struct cgroup_dir *d, const struct cgroup_limits *lim, struct kerr *e);
bool cgv2_can_freeze(const struct cgroup_dir *d);
int cgv2_freeze(const struct cgroup_dir *d, bool frozen, struct kerr *e);
int cgv2_is_frozen(const struct cgroup_dir *d);
/* 1 when done, 0 when cgroup.kill is absent, -1 on error. */
int cgv2_kill(const struct cgroup_dir *d, struct kerr *e);
int cgv2_oom_kills(const struct cgroup_dir *d, uint64_t *n);
unsigned cgv2_parse_controllers(const char *buf);

/* Sleep helper for the wait loops: 1, 2, 4 .. 32 ms. */
void cg_backoff(unsigned *round);

#endif
