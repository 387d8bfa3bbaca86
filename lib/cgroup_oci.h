/* cgroup_oci.h: the OCI linux.resources fields that `krill run` has no
 * option for: CPU shares, exact quota/period, cpusets, real-time and burst
 * CPU time, memory reservation/swap/swappiness/OOM killer, device rules,
 * block I/O, huge pages and network classes.  The parser (oci_config.c)
 * fills a struct cgroup_res; cgroup_res_apply() writes it into the
 * container's cgroup, or fails naming the field and why the host can't
 * honour it (runtime-spec: a resource that can't be set is an error). */
#ifndef KRILL_CGROUP_OCI_H
#define KRILL_CGROUP_OCI_H

#include "cgroup.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUP_ANY (-1LL) /* a device rule's major or minor: "*" */

struct cgroup_dev_rule {
	bool allow;
	char type;        /* 'a', 'c', 'b' */
	long long major;  /* CGROUP_ANY or a number */
	long long minor;
	char access[4];   /* a subset of "rwm" */
};

/* blockIO.weightDevice[] and the four throttle lists. */
struct cgroup_blk_dev {
	unsigned major, minor;
	uint64_t value;   /* weight, or bytes/IOs per second */
	bool has_leaf;    /* weightDevice: leafWeight given */
	uint64_t leaf;
};

enum { CG_THROTTLE_READ_BPS, CG_THROTTLE_WRITE_BPS, CG_THROTTLE_READ_IOPS,
       CG_THROTTLE_WRITE_IOPS, CG_THROTTLE_COUNT };

struct cgroup_hugepage {
	char size[16];    /* "2MB", "1GB": as the kernel names its files */
	uint64_t limit;
};

struct cgroup_ifprio {
	char name[16];    /* interface name (IFNAMSIZ) */
	uint32_t prio;
};

struct cgroup_res {
	/* cpu */
	bool has_shares, has_quota, has_period, has_rt_runtime, has_rt_period, has_burst,
		has_idle;
	uint64_t shares, period, rt_period, burst;
	long long quota, rt_runtime, idle; /* quota -1 = no limit */
	char *cpus, *mems;                 /* validated lists ("0-3,5") or NULL */
	/* memory */
	bool has_reservation, has_swap, has_swappiness, has_kernel_tcp, disable_oom;
	long long reservation, swap, kernel_tcp; /* -1 = no limit */
	uint64_t swappiness;
	uint64_t memory; /* memory.limit, for swap (which OCI counts with memory) */
	/* devices */
	struct cgroup_dev_rule *dev;
	size_t ndev;
	/* blockIO */
	bool has_blk_weight, has_blk_leaf;
	uint64_t blk_weight, blk_leaf;
	struct cgroup_blk_dev *blk_wdev;
	size_t nblk_wdev;
	struct cgroup_blk_dev *throttle[CG_THROTTLE_COUNT];
	size_t nthrottle[CG_THROTTLE_COUNT];
	/* hugepageLimits */
	struct cgroup_hugepage *huge;
	size_t nhuge;
	/* network */
	bool has_classid;
	uint32_t classid;
	struct cgroup_ifprio *prio;
	size_t nprio;
};

extern const char *const cgroup_throttle_fields[CG_THROTTLE_COUNT]; /* "throttleReadBpsDevice", ... */

/* The controllers r needs beyond memory, cpu and pids (CG_* bits). */
unsigned cgroup_res_controllers(const struct cgroup_res *r);

/* Write r into cg's directories.  Errors name the OCI field, e.g.
 * "linux.resources.hugepageLimits: no hugetlb controller on this host". */
int cgroup_res_apply(struct cgroup *cg, const struct cgroup_res *r, struct kerr *e);

/* cgroup v2's cpu.weight for v1 cpu.shares, as runc converts it:
 * [2, 262144] -> [1, 10000]. */
uint64_t cgroup_shares_to_weight(uint64_t shares);

void cgroup_res_free(struct cgroup_res *r);

#endif
