/* cgroup_oci.c: OCI linux.resources beyond memory/cpu/pids limits (see
 * cgroup_oci.h).  Each field goes to the v1 hierarchy of its controller,
 * or to the v2 directory when the controller is enabled there (a pure v2
 * host); a field whose controller or file this host lacks is an error
 * naming it.  Values were validated by the parser: nothing here can put a
 * newline or a path into a cgroup file. */
#include "cgroup_oci.h"
#include "cgroup_backend.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cgroup_throttle_fields[CG_THROTTLE_COUNT] = {
	"throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
	"throttleWriteIOPSDevice",
};

#define F "linux.resources."

uint64_t cgroup_shares_to_weight(uint64_t shares)
{
	/* runc's ConvertCPUSharesToCgroupV2Value: 0 = unset. */
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

unsigned cgroup_res_controllers(const struct cgroup_res *r)
{
	unsigned c = 0;
	if (r->cpus || r->mems)
		c |= CG_CPUSET;
	if (r->ndev)
		c |= CG_DEVICES;
	bool blk = r->has_blk_weight || r->has_blk_leaf || r->nblk_wdev;
	for (int k = 0; k < CG_THROTTLE_COUNT; k++)
		blk |= r->nthrottle[k] > 0;
	if (blk)
		c |= CG_BLKIO;
	if (r->nhuge)
		c |= CG_HUGETLB;
	if (r->has_classid)
		c |= CG_NET_CLS;
	if (r->nprio)
		c |= CG_NET_PRIO;
	return c;
}

/* The directory that carries controller bit: v1 first, else v2 when the
 * controller is enabled there.  NULL with e set (naming field) if none. */
static const struct cgroup_dir *dir_for(const struct cgroup *cg, unsigned bit, const char *field,
                                        const char *ctl, struct kerr *e)
{
	for (size_t i = 0; i < cg->n; i++)
		if (!cg->d[i].v2 && (cg->d[i].ctl & bit))
			return &cg->d[i];
	for (size_t i = 0; i < cg->n; i++)
		if (cg->d[i].v2 && (cg->d[i].ctl & bit))
			return &cg->d[i];
	kerr_set(e, 0, "%s: no %s controller on this host", field, ctl);
	kerr_hint(e, "the controller must be mounted as a cgroup v1 hierarchy, or enabled in "
	             "the cgroup v2 hierarchy of a pure v2 host");
	return NULL;
}

/* Write val into the first of files that exists in d. */
static int put(const struct cgroup_dir *d, const char *const *files, const char *val,
               const char *field, struct kerr *e)
{
	for (const char *const *f = files; *f; f++) {
		if (!cg_has(d->path, *f))
			continue;
		if (cg_write(d->path, *f, val, e) < 0)
			return kerr_set(e, e ? e->errnum : 0, "%s: can't write '%s' to %s/%s", field,
			                val, d->path, *f);
		return 0;
	}
	return kerr_set(e, 0, "%s: this kernel has no %s in %s", field, files[0], d->path);
}

static int put1(const struct cgroup_dir *d, const char *file, const char *val,
                const char *field, struct kerr *e)
{
	const char *files[] = {file, NULL};
	return put(d, files, val, field, e);
}

static void num(char *buf, size_t n, long long v, bool v2)
{
	if (v < 0)
		snprintf(buf, n, "%s", v2 ? "max" : "-1");
	else
		snprintf(buf, n, "%lld", v);
}

static int apply_cpu(struct cgroup *cg, const struct cgroup_res *r, struct kerr *e)
{
	char v[64];
	bool any = r->has_shares || r->has_quota || r->has_period || r->has_rt_runtime ||
	           r->has_rt_period || r->has_burst || r->has_idle;
	if (any) {
		const struct cgroup_dir *d = dir_for(cg, CG_CPU, F "cpu", "cpu", e);
		if (!d)
			return -1;
		if (r->has_shares) {
			if (d->v2)
				snprintf(v, sizeof v, "%" PRIu64, cgroup_shares_to_weight(r->shares));
			else
				snprintf(v, sizeof v, "%" PRIu64, r->shares);
			if (put1(d, d->v2 ? "cpu.weight" : "cpu.shares", v, F "cpu.shares", e) < 0)
				return -1;
		}
		if (r->has_quota || r->has_period) {
			uint64_t period = r->has_period ? r->period : 100000;
			if (d->v2) {
				char q[32];
				num(q, sizeof q, r->has_quota ? r->quota : -1, true);
				snprintf(v, sizeof v, "%s %" PRIu64, q, period);
				if (put1(d, "cpu.max", v, F "cpu.quota", e) < 0)
					return -1;
			} else {
				snprintf(v, sizeof v, "%" PRIu64, period);
				if (put1(d, "cpu.cfs_period_us", v, F "cpu.period", e) < 0)
					return -1;
				if (r->has_quota) {
					num(v, sizeof v, r->quota, false);
					if (put1(d, "cpu.cfs_quota_us", v, F "cpu.quota", e) < 0)
						return -1;
				}
			}
		}
		if (r->has_rt_period || r->has_rt_runtime) {
			if (d->v2)
				return kerr_set(e, 0, F "cpu.%s: cgroup v2 has no real-time CPU "
				                      "bandwidth", r->has_rt_period ? "realtimePeriod"
				                                                   : "realtimeRuntime");
			snprintf(v, sizeof v, "%" PRIu64, r->rt_period);
			if (r->has_rt_period &&
			    put1(d, "cpu.rt_period_us", v, F "cpu.realtimePeriod", e) < 0)
				return -1;
			num(v, sizeof v, r->rt_runtime, false);
			if (r->has_rt_runtime &&
			    put1(d, "cpu.rt_runtime_us", v, F "cpu.realtimeRuntime", e) < 0)
				return -1;
		}
		if (r->has_burst) {
			snprintf(v, sizeof v, "%" PRIu64, r->burst);
			if (put1(d, d->v2 ? "cpu.max.burst" : "cpu.cfs_burst_us", v, F "cpu.burst",
			         e) < 0)
				return -1;
		}
		if (r->has_idle) {
			snprintf(v, sizeof v, "%lld", r->idle);
			if (put1(d, "cpu.idle", v, F "cpu.idle", e) < 0)
				return -1;
		}
	}
	if (r->cpus || r->mems) {
		const struct cgroup_dir *d =
			dir_for(cg, CG_CPUSET, r->cpus ? F "cpu.cpus" : F "cpu.mems", "cpuset", e);
		if (!d)
			return -1;
		if (r->cpus && put1(d, "cpuset.cpus", r->cpus, F "cpu.cpus", e) < 0)
			return -1;
		if (r->mems && put1(d, "cpuset.mems", r->mems, F "cpu.mems", e) < 0)
			return -1;
	}
	return 0;
}

static int apply_memory(struct cgroup *cg, const struct cgroup_res *r, struct kerr *e)
{
	if (!(r->has_reservation || r->has_swap || r->has_swappiness || r->has_kernel_tcp ||
	      r->disable_oom))
		return 0;
	const struct cgroup_dir *d = dir_for(cg, CG_MEMORY, F "memory", "memory", e);
	if (!d)
		return -1;
	char v[64];
	if (r->has_reservation) {
		num(v, sizeof v, r->reservation, d->v2);
		if (put1(d, d->v2 ? "memory.low" : "memory.soft_limit_in_bytes", v,
		         F "memory.reservation", e) < 0)
			return -1;
	}
	if (r->has_swap) {
		/* OCI's swap is memory + swap, as v1's memsw.  Without swap
		 * accounting there is no such file, and nothing to bound: the
		 * field is left out, as runc and crun do (podman sends it with
		 * every --memory). */
		const char *file = d->v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes";
		if (!cg_has(d->path, file)) {
			klog(KLOG_DEBUG, F "memory.swap: no swap accounting on this host, left out");
		} else if (d->v2) {
			if (r->swap >= 0 && !r->memory)
				return kerr_set(e, 0, F "memory.swap: needs memory.limit on cgroup v2");
			if (r->swap >= 0 && (uint64_t)r->swap < r->memory)
				return kerr_set(e, 0, F "memory.swap: %lld is below memory.limit %" PRIu64,
				                r->swap, r->memory);
			num(v, sizeof v, r->swap < 0 ? -1 : r->swap - (long long)r->memory, true);
			if (put1(d, file, v, F "memory.swap", e) < 0)
				return -1;
		} else {
			num(v, sizeof v, r->swap, false);
			if (put1(d, file, v, F "memory.swap", e) < 0)
				return -1;
		}
	}
	if (r->has_swappiness) {
		if (d->v2)
			return kerr_set(e, 0, F "memory.swappiness: cgroup v2 has no per-cgroup "
			                      "swappiness");
		snprintf(v, sizeof v, "%" PRIu64, r->swappiness);
		if (put1(d, "memory.swappiness", v, F "memory.swappiness", e) < 0)
			return -1;
	}
	if (r->has_kernel_tcp) {
		if (d->v2)
			return kerr_set(e, 0, F "memory.kernelTCP: cgroup v2 has no TCP memory limit");
		num(v, sizeof v, r->kernel_tcp, false);
		if (put1(d, "memory.kmem.tcp.limit_in_bytes", v, F "memory.kernelTCP", e) < 0)
			return -1;
	}
	if (r->disable_oom) {
		if (d->v2)
			return kerr_set(e, 0, F "memory.disableOOMKiller: cgroup v2 can't disable "
			                      "the OOM killer");
		if (put1(d, "memory.oom_control", "1", F "memory.disableOOMKiller", e) < 0)
			return -1;
	}
	return 0;
}

static void dev_num(char *buf, size_t n, long long v)
{
	if (v == CGROUP_ANY)
		snprintf(buf, n, "*");
	else
		snprintf(buf, n, "%lld", v);
}

/* v1: each rule, in order, to devices.allow or devices.deny. */
static int apply_devices(struct cgroup *cg, const struct cgroup_res *r, struct kerr *e)
{
	if (!r->ndev)
		return 0;
	const struct cgroup_dir *d = dir_for(cg, CG_DEVICES, F "devices", "devices", e);
	if (!d)
		return -1;
	if (d->v2) {
		kerr_set(e, 0, F "devices: cgroup v2 device rules need an eBPF program, which krill "
		                 "does not load");
		return kerr_hint(e, "leave linux.resources.devices out on a cgroup v2 host");
	}
	for (size_t i = 0; i < r->ndev; i++) {
		const struct cgroup_dev_rule *x = &r->dev[i];
		char v[96], ma[24], mi[24];
		if (x->type == 'a') {
			snprintf(v, sizeof v, "a");
		} else {
			dev_num(ma, sizeof ma, x->major);
			dev_num(mi, sizeof mi, x->minor);
			snprintf(v, sizeof v, "%c %s:%s %s", x->type, ma, mi, x->access);
		}
		char field[64];
		snprintf(field, sizeof field, F "devices[%zu]", i);
		if (put1(d, x->allow ? "devices.allow" : "devices.deny", v, field, e) < 0)
			return -1;
	}
	return 0;
}

static int apply_blkio(struct cgroup *cg, const struct cgroup_res *r, struct kerr *e)
{
	if (!(cgroup_res_controllers(r) & CG_BLKIO))
		return 0;
	const struct cgroup_dir *d = dir_for(cg, CG_BLKIO, F "blockIO", "blkio (v2: io)", e);
	if (!d)
		return -1;
	char v[96], field[96];
	if (r->has_blk_weight) {
		static const char *const v1[] = {"blkio.weight", "blkio.bfq.weight", NULL};
		static const char *const v2[] = {"io.bfq.weight", "io.weight", NULL};
		/* io.weight takes 1..10000; io.bfq.weight and v1 10..1000. */
		bool bfq = d->v2 && cg_has(d->path, "io.bfq.weight");
		uint64_t w = d->v2 && !bfq ? 1 + (r->blk_weight - 10) * 9999 / 990 : r->blk_weight;
		snprintf(v, sizeof v, d->v2 && !bfq ? "default %" PRIu64 : "%" PRIu64, w);
		if (put(d, d->v2 ? v2 : v1, v, F "blockIO.weight", e) < 0) {
			if (e && !e->errnum)
				kerr_hint(e, "the disk's I/O scheduler has no weights (BFQ has)");
			return -1;
		}
	}
	if (r->has_blk_leaf) {
		if (d->v2)
			return kerr_set(e, 0, F "blockIO.leafWeight: cgroup v2 has no leaf weights");
		snprintf(v, sizeof v, "%" PRIu64, r->blk_leaf);
		static const char *const lf[] = {"blkio.leaf_weight", "blkio.bfq.leaf_weight", NULL};
		if (put(d, lf, v, F "blockIO.leafWeight", e) < 0)
			return -1;
	}
	for (size_t i = 0; i < r->nblk_wdev; i++) {
		const struct cgroup_blk_dev *x = &r->blk_wdev[i];
		snprintf(field, sizeof field, F "blockIO.weightDevice[%zu]", i);
		static const char *const v1[] = {"blkio.weight_device", "blkio.bfq.weight_device",
		                                 NULL};
		static const char *const v2[] = {"io.bfq.weight", "io.weight", NULL};
		bool bfq = d->v2 && cg_has(d->path, "io.bfq.weight");
		uint64_t w = d->v2 && !bfq ? 1 + (x->value - 10) * 9999 / 990 : x->value;
		snprintf(v, sizeof v, "%u:%u %" PRIu64, x->major, x->minor, w);
		if (x->value && put(d, d->v2 ? v2 : v1, v, field, e) < 0)
			return -1;
		if (x->has_leaf) {
			if (d->v2)
				return kerr_set(e, 0, "%s.leafWeight: cgroup v2 has no leaf weights",
				                field);
			snprintf(v, sizeof v, "%u:%u %" PRIu64, x->major, x->minor, x->leaf);
			static const char *const lf[] = {"blkio.leaf_weight_device",
			                                 "blkio.bfq.leaf_weight_device", NULL};
			if (put(d, lf, v, field, e) < 0)
				return -1;
		}
	}
	static const char *const v1_files[CG_THROTTLE_COUNT] = {
		"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
		"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
	static const char *const v2_keys[CG_THROTTLE_COUNT] = {"rbps", "wbps", "riops", "wiops"};
	for (int k = 0; k < CG_THROTTLE_COUNT; k++)
		for (size_t i = 0; i < r->nthrottle[k]; i++) {
			const struct cgroup_blk_dev *x = &r->throttle[k][i];
			snprintf(field, sizeof field, F "blockIO.%s[%zu]", cgroup_throttle_fields[k], i);
			if (d->v2)
				snprintf(v, sizeof v, "%u:%u %s=%" PRIu64, x->major, x->minor,
				         v2_keys[k], x->value);
			else
				snprintf(v, sizeof v, "%u:%u %" PRIu64, x->major, x->minor, x->value);
			if (put1(d, d->v2 ? "io.max" : v1_files[k], v, field, e) < 0)
				return -1;
		}
	return 0;
}

static int apply_hugetlb(struct cgroup *cg, const struct cgroup_res *r, struct kerr *e)
{
	if (!r->nhuge)
		return 0;
	const struct cgroup_dir *d = dir_for(cg, CG_HUGETLB, F "hugepageLimits", "hugetlb", e);
	if (!d)
		return -1;
	for (size_t i = 0; i < r->nhuge; i++) {
		char file[64], v[32], field[64];
		snprintf(file, sizeof file, "hugetlb.%s.%s", r->huge[i].size,
		         d->v2 ? "max" : "limit_in_bytes");
		snprintf(v, sizeof v, "%" PRIu64, r->huge[i].limit);
		snprintf(field, sizeof field, F "hugepageLimits[%zu]", i);
		if (!cg_has(d->path, file))
			return kerr_set(e, 0, "%s: no %s huge pages on this host", field,
			                r->huge[i].size);
		if (put1(d, file, v, field, e) < 0)
			return -1;
	}
	return 0;
}

static int apply_network(struct cgroup *cg, const struct cgroup_res *r, struct kerr *e)
{
	char v[64];
	if (r->has_classid) {
		const struct cgroup_dir *d =
			dir_for(cg, CG_NET_CLS, F "network.classID", "net_cls", e);
		if (!d)
			return -1;
		snprintf(v, sizeof v, "%" PRIu32, r->classid);
		if (put1(d, "net_cls.classid", v, F "network.classID", e) < 0)
			return -1;
	}
	for (size_t i = 0; i < r->nprio; i++) {
		const struct cgroup_dir *d =
			dir_for(cg, CG_NET_PRIO, F "network.priorities", "net_prio", e);
		if (!d)
			return -1;
		char field[64];
		snprintf(field, sizeof field, F "network.priorities[%zu]", i);
		snprintf(v, sizeof v, "%s %" PRIu32, r->prio[i].name, r->prio[i].prio);
		if (put1(d, "net_prio.ifpriomap", v, field, e) < 0)
			return -1;
	}
	return 0;
}

int cgroup_res_apply(struct cgroup *cg, const struct cgroup_res *r, struct kerr *e)
{
	if (apply_cpu(cg, r, e) < 0 || apply_memory(cg, r, e) < 0 || apply_devices(cg, r, e) < 0 ||
	    apply_blkio(cg, r, e) < 0 || apply_hugetlb(cg, r, e) < 0 || apply_network(cg, r, e) < 0)
		return -1;
	return 0;
}

void cgroup_res_free(struct cgroup_res *r)
{
	free(r->cpus);
	free(r->mems);
	free(r->dev);
	free(r->blk_wdev);
	for (int k = 0; k < CG_THROTTLE_COUNT; k++)
		free(r->throttle[k]);
	free(r->huge);
	free(r->prio);
	memset(r, 0, sizeof *r);
}
