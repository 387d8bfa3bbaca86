/* cgroup.c: the one cgroup interface over the v1 and v2 backends (see
 * cgroup.h): size/CPU parsers, detection of the host's layout, creation
 * with limits, enter/freeze/kill/destroy fanned out over every hierarchy,
 * and the guard process that removes the cgroup if krill is killed. */
#include "cgroup_backend.h"
#include "log.h"
#include "userns.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- parsers ------------------------------------------------------------ */

int parse_size(const char *s, uint64_t *bytes)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || v == 0)
		return -1;
	unsigned shift = 0;
	switch (tolower((unsigned char)*end)) {
	case 'k':
		shift = 10;
		end++;
		break;
	case 'm':
		shift = 20;
		end++;
		break;
	case 'g':
		shift = 30;
		end++;
		break;
	case 't':
		shift = 40;
		end++;
		break;
	}
	if (tolower((unsigned char)*end) == 'b')
		end++;
	if (*end)
		return -1;
	if (v > (UINT64_MAX >> shift))
		return -1;
	*bytes = (uint64_t)v << shift;
	return 0;
}

int parse_cpus(const char *s, uint64_t *milli)
{
	if (!s || !(isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))))
		return -1;
	uint64_t whole = 0, frac = 0;
	const char *p = s;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > 1000000) /* a million CPUs is garbage, and keeps *1000 safe */
			return -1;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		int digits = 0;
		for (; isdigit((unsigned char)*p); p++, digits++) {
			if (digits >= 3)
				return -1; /* finer than a thousandth: say so, don't round */
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (*p)
		return -1;
	uint64_t m = whole * 1000 + frac;
	if (m == 0)
		return -1;
	*milli = m;
	return 0;
}

/* ---- small file helpers ------------------------------------------------- */

int cg_write(const char *dir, const char *file, const char *val, struct kerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
	klog(KLOG_DEBUG, "cgroup: %s <- %s", p, val);
	return file_write_str(p, val, e);
}

int cg_read(const char *dir, const char *file, char **buf, struct kerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
	return file_read_all(AT_FDCWD, p, 1 << 22, buf, NULL, e);
}

int cg_read_key(const char *dir, const char *file, const char *key, uint64_t *v)
{
	_cleanup_free_ char *s = NULL;
	if (cg_read(dir, file, &s, NULL) < 0)
		return -1;
	size_t kl = strlen(key);
	for (char *line = s; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
			errno = 0;
			*v = strtoull(line + kl + 1, NULL, 10);
			return errno ? -1 : 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	errno = ENOENT;
	return -1;
}

bool cg_has(const char *dir, const char *file)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
	return access(p, F_OK) == 0;
}

const char *cg_limit_name(bool oci, unsigned controller)
{
	switch (controller) {
	case CG_MEMORY:
		return oci ? "linux.resources.memory.limit" : "--memory";
	case CG_CPU:
		return oci ? "linux.resources.cpu.quota" : "--cpus";
	case CG_PIDS:
		return oci ? "linux.resources.pids.limit" : "--pids-limit";
	}
	return "cgroup";
}

void cg_backoff(unsigned *round)
{
	unsigned ms = 1u << (*round < 5 ? *round : 5);
	(*round)++;
	struct timespec ts = {0, (long)ms * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- detection ---------------------------------------------------------- */

#define CG_ALL (CG_MEMORY | CG_CPU | CG_CPUACCT | CG_PIDS | CG_FREEZER)

static unsigned v1_controllers(const char *opts, bool *any)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
	    {"memory", CG_MEMORY}, {"cpu", CG_CPU},	    {"cpuacct", CG_CPUACCT},
	    {"pids", CG_PIDS},	   {"freezer", CG_FREEZER}, {"cpuset", CG_CPUSET},
	    {"devices", CG_DEVICES}, {"blkio", CG_BLKIO},     {"hugetlb", CG_HUGETLB},
	    {"net_cls", CG_NET_CLS}, {"net_prio", CG_NET_PRIO},
	};
	static const char *others[] = {"perf_event", "rdma", "misc"};
	unsigned ctl = 0;
	const char *p = opts;
	while (*p) {
		size_t n = strcspn(p, ",");
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			if (n == strlen(names[i].name) && strncmp(p, names[i].name, n) == 0)
				ctl |= names[i].bit;
		for (size_t i = 0; i < ARRAY_SIZE(others); i++)
			if (n == strlen(others[i]) && strncmp(p, others[i], n) == 0)
				*any = true;
		p += n;
		if (*p == ',')
			p++;
	}
	if (ctl)
		*any = true;
	return ctl;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

/* The directory for hierarchy path rel ("/a/b") under h's mount. */
static char *hier_dir(const struct cgroup_hier *h, const char *rel)
{
	size_t rl = strlen(h->mount_root);
	if (strcmp(h->mount_root, "/") != 0 && strncmp(rel, h->mount_root, rl) == 0 &&
	    (rel[rl] == '/' || rel[rl] == '\0'))
		rel += rl;
	while (*rel == '/')
		rel++;
	return *rel ? xasprintf("%s/%s", h->mount, rel) : xstrdup(h->mount);
}

static int parse_mountinfo(struct cgroup_info *info, bool *v1_any, struct kerr *e)
{
	_cleanup_free_ char *buf = NULL;
	if (file_read_all(AT_FDCWD, "/proc/self/mountinfo", 1 << 24, &buf, NULL, e) < 0)
		return -1;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS */
		char *f[6] = {0};
		char *sp = NULL, *tok = strtok_r(line, " ", &sp);
		for (int i = 0; i < 6 && tok; i++, tok = strtok_r(NULL, " ", &sp))
			f[i] = tok;
		while (tok && strcmp(tok, "-") != 0)
			tok = strtok_r(NULL, " ", &sp);
		char *fstype = tok ? strtok_r(NULL, " ", &sp) : NULL;
		char *source = fstype ? strtok_r(NULL, " ", &sp) : NULL;
		char *super = source ? strtok_r(NULL, " ", &sp) : NULL;
		if (!f[4] || !super)
			continue;
		bool v2 = strcmp(fstype, "cgroup2") == 0;
		if (!v2 && strcmp(fstype, "cgroup") != 0)
			continue;
		unsigned ctl = v2 ? 0 : v1_controllers(super, v1_any);
		if (!v2 && !ctl)
			continue; /* name=systemd, devices, ...: not ours */
		/* The same hierarchy mounted twice: keep the first. */
		bool dup = false;
		for (size_t i = 0; i < info->nh; i++)
			if (v2 ? info->h[i].v2 : (info->h[i].ctl & ctl) != 0)
				dup = true;
		if (dup || info->nh == CGROUP_MAX_HIER)
			continue;
		struct cgroup_hier *h = &info->h[info->nh];
		h->mount = unescape(f[4]);
		h->mount_root = unescape(f[3]);
		h->ctl = ctl;
		h->v2 = v2;
		if (v2)
			info->v2 = (int)info->nh;
		info->nh++;
	}
	return 0;
}

static int parse_self(struct cgroup_info *info, struct kerr *e)
{
	_cleanup_free_ char *buf = NULL;
	if (file_read_all(AT_FDCWD, "/proc/self/cgroup", 1 << 20, &buf, NULL, e) < 0)
		return -1;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *ctls = c1 + 1, *path = c2 + 1;
		bool any = false;
		unsigned ctl = *ctls ? v1_controllers(ctls, &any) : 0;
		for (size_t i = 0; i < info->nh; i++) {
			struct cgroup_hier *h = &info->h[i];
			bool match =
			    h->v2 ? (strcmp(line, "0") == 0 && !*ctls) : (ctl & h->ctl) != 0;
			if (match && !h->self)
				h->self = xstrdup(path);
		}
	}
	for (size_t i = 0; i < info->nh; i++)
		if (!info->h[i].self)
			info->h[i].self = xstrdup("/");
	return 0;
}

int cgroup_detect(struct cgroup_info *info, struct kerr *e)
{
	memset(info, 0, sizeof *info);
	info->v2 = -1;
	/* Root of a child user namespace has no say over the host's
	 * hierarchies: only a delegated v2 subtree, as any user. */
	info->root = userns_real_root();
	bool v1_any = false;
	if (parse_mountinfo(info, &v1_any, e) < 0 || parse_self(info, e) < 0) {
		cgroup_info_free(info);
		return -1;
	}
	if (info->v2 >= 0 && v1_any)
		info->layout = CGROUP_HYBRID;
	else if (info->v2 >= 0)
		info->layout = CGROUP_V2;
	else if (v1_any)
		info->layout = CGROUP_V1;
	else
		info->layout = CGROUP_NONE;
	if (info->v2 >= 0) {
		struct cgroup_hier *h = &info->h[info->v2];
		_cleanup_free_ char *c = NULL;
		if (cg_read(h->mount, "cgroup.controllers", &c, NULL) == 0)
			h->ctl = cgv2_parse_controllers(c);
		_cleanup_free_ char *self = hier_dir(h, h->self);
		_cleanup_free_ char *sc = NULL;
		if (cg_read(self, "cgroup.controllers", &sc, NULL) == 0)
			info->self_ctl = cgv2_parse_controllers(sc);
		/* Delegation = the directory (to mkdir) and cgroup.procs (to
		 * move processes) are writable by us. */
		_cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", self);
		info->self_writable = access(self, W_OK) == 0 && access(procs, W_OK) == 0;
	}
	return 0;
}

void cgroup_info_free(struct cgroup_info *info)
{
	for (size_t i = 0; i < info->nh; i++) {
		free(info->h[i].mount);
		free(info->h[i].mount_root);
		free(info->h[i].self);
	}
	info->nh = 0;
}

const char *cgroup_layout_name(enum cgroup_layout l)
{
	switch (l) {
	case CGROUP_V1:
		return "v1";
	case CGROUP_V2:
		return "v2";
	case CGROUP_HYBRID:
		return "hybrid";
	default:
		return "none";
	}
}

uint64_t cg_cpu_quota_us(uint64_t cpus_milli)
{
	uint64_t quota = cpus_milli * (CG_CPU_PERIOD_US / 1000);
	return quota < 1000 ? 1000 : quota;
}

static const char *delegate_hint =
    "ask the admin to delegate a cgroup v2 subtree to you with the memory, cpu and pids "
    "controllers enabled in its cgroup.subtree_control (Slurm's cgroup/v2 plugin does "
    "this for jobs)";

/* Controllers a new cgroup can use: (v2 ones, v1 ones). */
static void usable(const struct cgroup_info *info, unsigned *v2, unsigned *v1)
{
	*v2 = *v1 = 0;
	if (info->v2 >= 0) {
		if (info->root)
			*v2 = info->h[info->v2].ctl;
		else if (info->self_writable)
			*v2 = info->self_ctl;
	}
	if (info->root)
		for (size_t i = 0; i < info->nh; i++)
			if (!info->h[i].v2)
				*v1 |= info->h[i].ctl;
}

bool cgroup_describe(const struct cgroup_info *info, char **desc, char **hint)
{
	unsigned v2, v1;
	usable(info, &v2, &v1);
	unsigned all = v2 | v1;
	char where[256] = "";
	if (info->v2 >= 0)
		snprintf(where, sizeof where, ", v2 at %s", info->h[info->v2].mount);
	*hint = NULL;
	if (info->layout == CGROUP_NONE) {
		*desc = xstrdup("cgroups: none mounted");
		*hint = xstrdup("mount cgroup2 on /sys/fs/cgroup");
		return false;
	}
	bool ok = (all & (CG_MEMORY | CG_CPU | CG_PIDS)) == (CG_MEMORY | CG_CPU | CG_PIDS);
	const char *who = info->root		? "root"
			  : info->self_writable ? "delegated v2 subtree"
						: "no writable cgroup";
	*desc = xasprintf("cgroups: %s%s; %s; limits:%s%s%s%s", cgroup_layout_name(info->layout),
			  where, who, all & CG_MEMORY ? " memory" : "", all & CG_CPU ? " cpus" : "",
			  all & CG_PIDS ? " pids" : "", all ? "" : " none");
	if (!ok) {
		if (!info->root && !info->self_writable)
			*hint = xstrdup(delegate_hint);
		else
			*hint = xstrdup(
			    info->root ? "mount the missing controllers (cgroup v1 or v2)"
				       : "ask for memory, cpu and pids to be delegated (systemd: "
					 "Delegate=memory cpu pids)");
	}
	return ok;
}

/* ---- creation ----------------------------------------------------------- */

static struct cgroup *cg_new(void)
{
	struct cgroup *cg = xcalloc(1, sizeof *cg);
	cg->guard_fd = -1;
	return cg;
}

static void cg_free_dirs(struct cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++) {
		free(cg->d[i].path);
		free(cg->d[i].name);
	}
	cg->n = 0;
	free(cg->rel);
	free(cg->parent_rel);
	free(cg);
}

/* Normalize "a//b/" into "/a/b" (prefix, when not NULL, goes first). */
static char *join_rel(const char *prefix, const char *path)
{
	_cleanup_free_ char *raw = prefix ? xasprintf("%s/%s", prefix, path) : xstrdup(path);
	char *out = xmalloc(strlen(raw) + 2), *o = out;
	for (const char *p = raw; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		*o++ = '/';
		while (*p && *p != '/')
			*o++ = *p++;
	}
	if (o == out)
		*o++ = '/';
	*o = '\0';
	return out;
}

static bool bad_component(const char *rel)
{
	for (const char *p = rel; *p; p++)
		if (p[0] == '/' && p[1] == '.' &&
		    (p[2] == '/' || !p[2] || (p[2] == '.' && (p[3] == '/' || !p[3]))))
			return true;
	return false;
}

/* A new v1 cpuset starts with no CPUs and no memory nodes, and takes no
 * task until it has both: start from the parent's, as runc does. */
static int cpuset_inherit(const char *dir, struct kerr *e)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	_cleanup_free_ char *parent = xstrdup(dir);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *mine = NULL, *theirs = NULL;
		if (cg_read(dir, files[i], &mine, e) < 0)
			return -1;
		if (mine[strspn(mine, " \n")] != '\0')
			continue;
		if (cg_read(parent, files[i], &theirs, e) < 0)
			return -1;
		theirs[strcspn(theirs, "\n")] = '\0';
		if (*theirs && cg_write(dir, files[i], theirs, e) < 0)
			return -1;
	}
	return 0;
}

/* The base name of h's mount point: "memory", "cpu,cpuacct", "unified". */
static char *mount_name(const struct cgroup_hier *h)
{
	const char *slash = strrchr(h->mount, '/');
	return xstrdup(slash && slash[1] ? slash + 1 : h->mount);
}

/* mkdir -p rel under the hierarchy; on v2 enable `enable` in each
 * ancestor from start (the base the caller owns) down.  The leaf must
 * be new (a stale empty one is replaced). */
static int make_dirs(const struct cgroup_hier *h, const char *base_rel, const char *rel,
		     unsigned enable, struct kerr *e)
{
	_cleanup_free_ char *cur = hier_dir(h, base_rel);
	if (h->v2 && enable && cgv2_enable(cur, enable, e) < 0)
		return -1;
	const char *p = rel + strlen(base_rel);
	while (*p == '/')
		p++;
	while (*p) {
		size_t n = strcspn(p, "/");
		char *next = xasprintf("%s/%.*s", cur, (int)n, p);
		free(cur);
		cur = next;
		p += n;
		while (*p == '/')
			p++;
		bool leaf = !*p;
		if (mkdir(cur, 0755) < 0) {
			if (errno != EEXIST)
				return kerr_set(e, errno, "can't create cgroup %s", cur);
			if (leaf && (rmdir(cur) < 0 || mkdir(cur, 0755) < 0))
				return kerr_set(e, EEXIST, "can't create cgroup %s", cur);
		}
		if (!h->v2 && (h->ctl & CG_CPUSET) && cpuset_inherit(cur, e) < 0)
			return -1;
		if (!leaf && h->v2 && enable && cgv2_enable(cur, enable, e) < 0)
			return -1;
	}
	return 0;
}

static int rmdir_retry(const char *path)
{
	/* EBUSY right after the last task exited: the kernel frees the css
	 * asynchronously (v1 memory especially).  Give it a moment. */
	unsigned round = 0;
	for (int i = 0; i < 40; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		cg_backoff(&round);
	}
	return -1;
}

static int remove_dirs(struct cgroup *cg, struct kerr *e)
{
	int r = 0;
	for (size_t i = 0; i < cg->n; i++) {
		if (rmdir_retry(cg->d[i].path) < 0 && r == 0)
			r = kerr_set(e, errno, "can't remove cgroup %s", cg->d[i].path);
		if (cg->parent_rel) {
			/* The shared parent goes when the last container does; a
			 * concurrent krill may keep it (ENOTEMPTY/EBUSY: fine). */
			char *slash = strrchr(cg->d[i].path, '/');
			if (slash) {
				_cleanup_free_ char *parent =
				    xstrndup(cg->d[i].path, (size_t)(slash - cg->d[i].path));
				rmdir(parent);
			}
		}
	}
	return r;
}

int cgroup_create_in(const struct cgroup_info *info, const char *path, bool remove_parent,
		     const struct cgroup_limits *lim, struct cgroup **out, struct kerr *e)
{
	static const struct cgroup_limits none = {0};
	if (!lim)
		lim = &none;
	*out = NULL;
	unsigned need = (lim->memory ? CG_MEMORY : 0) | (lim->cpus_milli ? CG_CPU : 0) |
			(lim->pids ? CG_PIDS : 0);
	const char *first = cg_limit_name(lim->oci_names, need & CG_MEMORY ? CG_MEMORY
							  : need & CG_CPU  ? CG_CPU
							  : need & CG_PIDS ? CG_PIDS
									   : 0);
	unsigned v2, v1;
	usable(info, &v2, &v1);
	if (!info->root && !(info->v2 >= 0 && info->self_writable)) {
		kerr_set(e, 0, "%s: no writable cgroup", first);
		return kerr_hint(e, "%s", delegate_hint);
	}
	if (info->layout == CGROUP_NONE)
		return kerr_set(e, 0, "%s: no cgroup hierarchy is mounted", first);
	/* Each limit goes to v2 when v2 has the controller, else to v1. */
	unsigned on_v2 = need & v2, on_v1 = need & ~v2 & v1;
	unsigned missing = need & ~(on_v2 | on_v1);
	for (unsigned bit = 1; bit <= CG_PIDS; bit <<= 1) {
		if (!(missing & bit))
			continue;
		const char *ctl = bit == CG_MEMORY ? "memory" : bit == CG_CPU ? "cpu" : "pids";
		if (!info->root) {
			kerr_set(e, 0, "%s: the %s controller is not delegated to %s",
				 cg_limit_name(lim->oci_names, bit), ctl, info->h[info->v2].self);
			return kerr_hint(e, "ask for it to be delegated (systemd: Delegate=%s)",
					 ctl);
		}
		kerr_set(e, 0, "%s: the %s controller is not available on this host",
			 cg_limit_name(lim->oci_names, bit), ctl);
		return kerr_hint(e, "mount it (cgroup v1) or enable it in the cgroup v2 hierarchy");
	}

	struct cgroup *cg = cg_new();
	cg->owned = true;
	cg->oci_names = lim->oci_names;
	/* As root, everything is relative to the hierarchy roots.  Otherwise
	 * the cgroup must lie under our own delegated v2 cgroup (base), where
	 * a relative path starts. */
	const char *base = info->root ? "/" : info->h[info->v2].self;
	cg->rel = path[0] == '/' || info->root ? join_rel(NULL, path) : join_rel(base, path);
	size_t bl = strlen(base);
	bool under =
	    strcmp(base, "/") == 0 || (strncmp(cg->rel, base, bl) == 0 && cg->rel[bl] == '/');
	if (strcmp(cg->rel, "/") == 0 || strcmp(cg->rel, base) == 0 || bad_component(cg->rel) ||
	    !under) {
		kerr_set(e, EINVAL, "invalid cgroup path %s%s%s", path, under ? "" : ": not under ",
			 under ? "" : base);
		cg_free_dirs(cg);
		return -1;
	}
	if (remove_parent)
		cg->parent_rel = xstrdup(cg->rel); /* marker; the parent is computed per dir */

	for (size_t i = 0; i < info->nh; i++) {
		const struct cgroup_hier *h = &info->h[i];
		if (h->v2 ? !(info->root || info->self_writable)
			  : !(info->root && (h->ctl & (CG_ALL | lim->extra |
						       (lim->all_v1 ? CG_OCI_EXTRA : 0)))))
			continue;
		/* OCI's extra controllers on v2: only on a pure v2 host (a
		 * hybrid host's unified root is the host's to configure). */
		unsigned en = h->v2 ? on_v2 | (info->layout == CGROUP_V2 ? lim->extra & h->ctl : 0)
				    : 0;
		/* A concurrent krill may rmdir the shared parent between our
		 * mkdirs (ENOENT): start over a few times. */
		int r = -1;
		for (int attempt = 0; attempt < 3 && r < 0; attempt++) {
			r = make_dirs(h, base, cg->rel, en, e);
			if (r < 0 && (!e || e->errnum != ENOENT))
				break;
		}
		if (r < 0) {
			cgroup_destroy(cg, NULL);
			cg_free_dirs(cg);
			return -1;
		}
		struct cgroup_dir *d = &cg->d[cg->n++];
		d->path = hier_dir(h, cg->rel);
		d->name = mount_name(h);
		d->v2 = h->v2;
		d->ctl = h->v2 ? (en | (h->ctl & CG_CPUACCT)) : h->ctl;
		unsigned mine = h->v2 ? on_v2 : (on_v1 & h->ctl);
		if (mine) {
			d->limits = true;
			struct cgroup_limits l = *lim;
			if (!(mine & CG_MEMORY))
				l.memory = 0;
			if (!(mine & CG_CPU))
				l.cpus_milli = 0;
			if (!(mine & CG_PIDS))
				l.pids = 0;
			int lr = h->v2 ? cgv2_set_limits(d, &l, e) : cgv1_set_limits(d, &l, e);
			if (lr < 0) {
				unsigned bit = mine & CG_MEMORY ? CG_MEMORY
					       : mine & CG_CPU	? CG_CPU
								: CG_PIDS;
				if (e) {
					char tmp[sizeof e->msg];
					snprintf(tmp, sizeof tmp, "%s: %.960s",
						 cg_limit_name(lim->oci_names, bit), e->msg);
					memcpy(e->msg, tmp, sizeof e->msg);
				}
				cgroup_destroy(cg, NULL);
				cg_free_dirs(cg);
				return -1;
			}
		}
	}
	if (cg->n == 0) {
		cg_free_dirs(cg);
		return kerr_set(e, 0, "%s: no usable cgroup hierarchy", first);
	}
	klog(KLOG_VERBOSE, "created cgroup %s (%s)", cg->rel, cgroup_layout_name(info->layout));
	*out = cg;
	return 0;
}

int cgroup_create(const char *parent, const char *name, const struct cgroup_limits *lim,
		  struct cgroup **out, struct kerr *e)
{
	if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return kerr_set(e, EINVAL, "invalid cgroup name '%s'", name ? name : "");
	struct cgroup_info info;
	if (cgroup_detect(&info, e) < 0)
		return -1;
	/* Relative: under the hierarchy roots as root, under our own
	 * delegated cgroup otherwise. */
	_cleanup_free_ char *abs = xasprintf("%s/%s", parent && *parent ? parent : "krill", name);
	while (abs[0] == '/')
		memmove(abs, abs + 1, strlen(abs));
	int r = cgroup_create_in(&info, abs, true, lim, out, e);
	cgroup_info_free(&info);
	return r;
}

int cgroup_create_path(const char *path, const struct cgroup_limits *lim, struct cgroup **out,
		       struct kerr *e)
{
	if (!path || !*path)
		return kerr_set(e, EINVAL, "empty cgroup path");
	struct cgroup_info info;
	if (cgroup_detect(&info, e) < 0)
		return -1;
	int r = cgroup_create_in(&info, path, false, lim, out, e);
	cgroup_info_free(&info);
	return r;
}

int cgroup_open_existing_in(const struct cgroup_info *info, const char *path, struct cgroup **out,
			    struct kerr *e)
{
	*out = NULL;
	if (!path || path[0] != '/' || bad_component(path))
		return kerr_set(e, EINVAL, "invalid cgroup path '%s'", path ? path : "");
	struct cgroup *cg = cg_new();
	cg->rel = join_rel(NULL, path);
	for (size_t i = 0; i < info->nh; i++) {
		const struct cgroup_hier *h = &info->h[i];
		if (!h->v2 && !(h->ctl & (CG_ALL | CG_OCI_EXTRA)))
			continue;
		char *dir = hier_dir(h, cg->rel);
		struct stat st;
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			free(dir);
			continue;
		}
		struct cgroup_dir *d = &cg->d[cg->n++];
		d->path = dir;
		d->name = mount_name(h);
		d->v2 = h->v2;
		if (h->v2) {
			_cleanup_free_ char *c = NULL;
			d->ctl = cg_read(dir, "cgroup.controllers", &c, NULL) == 0
				     ? cgv2_parse_controllers(c)
				     : 0;
		} else {
			d->ctl = h->ctl;
		}
	}
	if (cg->n == 0) {
		kerr_set(e, ENOENT, "cgroup %s", cg->rel);
		cg_free_dirs(cg);
		return -1;
	}
	*out = cg;
	return 0;
}

int cgroup_open_existing(const char *path, struct cgroup **out, struct kerr *e)
{
	struct cgroup_info info;
	if (cgroup_detect(&info, e) < 0)
		return -1;
	int r = cgroup_open_existing_in(&info, path, out, e);
	cgroup_info_free(&info);
	return r;
}

void cgroup_set_remove_parent(struct cgroup *cg)
{
	if (!cg->parent_rel)
		cg->parent_rel = xstrdup(cg->rel);
}

const char *cgroup_path(const struct cgroup *cg)
{
	return cg->rel;
}

const char *cgroup_dir_v2(const struct cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->d[i].v2)
			return cg->d[i].path;
	return NULL;
}

const char *cgroup_dir_v1(const struct cgroup *cg, unsigned controller)
{
	for (size_t i = 0; i < cg->n; i++)
		if (!cg->d[i].v2 && (cg->d[i].ctl & controller))
			return cg->d[i].path;
	return NULL;
}

size_t cgroup_dirs(const struct cgroup *cg, const char **dirs, const char **names, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < cg->n && n < max; i++, n++) {
		dirs[n] = cg->d[i].path;
		names[n] = cg->d[i].name;
	}
	return n;
}

/* ---- operations --------------------------------------------------------- */

int cgroup_enter(struct cgroup *cg, pid_t pid, struct kerr *e)
{
	char v[32];
	snprintf(v, sizeof v, "%d", (int)pid);
	for (size_t i = 0; i < cg->n; i++) {
		_cleanup_free_ char *p = xasprintf("%s/cgroup.procs", cg->d[i].path);
		if (file_write_str(p, v, NULL) < 0)
			return kerr_set(e, errno, "can't move pid %d into cgroup %s",
					(int)(pid ? pid : getpid()), cg->d[i].path);
	}
	return 0;
}

char *cgroup_of_pid(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
	_cleanup_free_ char *buf = NULL;
	if (file_read_all(AT_FDCWD, path, 65536, &buf, NULL, NULL) < 0)
		return NULL;
	char *v1 = NULL, *save;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *ctl = strchr(l, ':'), *rel = ctl ? strchr(ctl + 1, ':') : NULL;
		if (!rel || rel[1] != '/')
			continue;
		*rel = '\0';
		if (!strcmp(l, "0") && !strcmp(ctl, ":")) {
			free(v1);
			return xstrdup(rel + 1);
		}
		if (!v1 && (strstr(ctl, "pids") || strstr(ctl, "memory")))
			v1 = xstrdup(rel + 1);
	}
	return v1;
}

int cgroup_procs_open(const struct cgroup *cg, int *fds, size_t max, struct kerr *e)
{
	size_t n = 0;
	for (size_t i = 0; i < cg->n && n < max; i++) {
		_cleanup_free_ char *p = xasprintf("%s/cgroup.procs", cg->d[i].path);
		int fd = open(p, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			int err = errno;
			while (n)
				close(fds[--n]);
			return kerr_set(e, err, "can't open %s", p);
		}
		fds[n++] = fd;
	}
	return (int)n;
}

int cgroup_enter_fds(int *fds, size_t n, struct kerr *e)
{
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		/* "0" is the writing process, in v1 and v2 alike. */
		if (rc == 0 && write(fds[i], "0", 1) != 1)
			rc = kerr_set(e, errno, "can't enter the container's cgroup");
		close(fds[i]);
	}
	return rc;
}

/* The directory that freezes: v2 cgroup.freeze, else the v1 freezer. */
static const struct cgroup_dir *freezer_dir(const struct cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->d[i].v2 && cgv2_can_freeze(&cg->d[i]))
			return &cg->d[i];
	for (size_t i = 0; i < cg->n; i++)
		if (!cg->d[i].v2 && (cg->d[i].ctl & CG_FREEZER))
			return &cg->d[i];
	return NULL;
}

int cgroup_freeze(struct cgroup *cg, bool frozen, struct kerr *e)
{
	const struct cgroup_dir *d = freezer_dir(cg);
	if (!d) {
		kerr_set(e, 0,
			 "can't %s cgroup %s: no freezer (cgroup v2 cgroup.freeze or v1 freezer)",
			 frozen ? "freeze" : "thaw", cg->rel);
		return kerr_hint(e, "cgroup v2 freezing needs Linux 5.2");
	}
	klog(KLOG_DEBUG, "cgroup: %s %s", frozen ? "freezing" : "thawing", d->path);
	return d->v2 ? cgv2_freeze(d, frozen, e) : cgv1_freeze(d, frozen, e);
}

/* Pids in the cgroup, over every directory (a process that failed to
 * enter one hierarchy still shows in the others). */
static int read_pids(struct cgroup *cg, pid_t **pids, size_t *n, struct kerr *e)
{
	*pids = NULL;
	*n = 0;
	size_t cap = 0;
	for (size_t i = 0; i < cg->n; i++) {
		_cleanup_free_ char *s = NULL;
		if (cg_read(cg->d[i].path, "cgroup.procs", &s, e) < 0) {
			if (e && e->errnum == ENOENT)
				continue;
			free(*pids);
			*pids = NULL;
			return -1;
		}
		for (char *p = s; *p;) {
			char *end;
			long v = strtol(p, &end, 10);
			if (end == p)
				break;
			bool seen = false;
			for (size_t k = 0; k < *n; k++)
				seen |= (*pids)[k] == (pid_t)v;
			if (!seen && v > 0) {
				if (*n == cap) {
					cap = cap ? cap * 2 : 32;
					*pids = xrealloc(*pids, cap * sizeof **pids);
				}
				(*pids)[(*n)++] = (pid_t)v;
			}
			p = end;
			while (*p == '\n')
				p++;
		}
	}
	return 0;
}

int cgroup_nprocs(struct cgroup *cg, struct kerr *e)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n;
	if (read_pids(cg, &pids, &n, e) < 0)
		return -1;
	return (int)n;
}

int cgroup_kill_all(struct cgroup *cg, int sig, struct kerr *e)
{
	if (sig == SIGKILL) {
		for (size_t i = 0; i < cg->n; i++) {
			if (!cg->d[i].v2)
				continue;
			int r = cgv2_kill(&cg->d[i], e);
			if (r < 0)
				return -1;
			if (r > 0) {
				/* cgroup.kill covers this hierarchy; a process that
				 * is only in the v1 ones (enter failed half way) is
				 * caught by the loop below. */
				_cleanup_free_ pid_t *pids = NULL;
				size_t n;
				if (read_pids(cg, &pids, &n, NULL) == 0)
					for (size_t k = 0; k < n; k++)
						kill(pids[k], SIGKILL);
				return 0;
			}
		}
	}
	/* Freeze, so that nothing forks between reading cgroup.procs and
	 * signalling; then thaw, unless it was frozen already (OCI pause: a
	 * paused container stays paused, and handles the signal on resume). */
	const struct cgroup_dir *fd = freezer_dir(cg);
	int was = fd ? (fd->v2 ? cgv2_is_frozen(fd) : cgv1_is_frozen(fd)) : -1;
	bool froze = false;
	if (fd && was == 0 && cgroup_freeze(cg, true, NULL) == 0)
		froze = true;
	int r = 0;
	/* Without a freezer, repeat until no new pid shows up. */
	for (int round = 0; round < (fd ? 1 : 10); round++) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n;
		if (read_pids(cg, &pids, &n, e) < 0) {
			r = -1;
			break;
		}
		if (n == 0)
			break;
		for (size_t k = 0; k < n; k++)
			if (kill(pids[k], sig) < 0 && errno != ESRCH && r == 0)
				r = kerr_set(e, errno, "can't signal pid %d in cgroup %s",
					     (int)pids[k], cg->rel);
		if (sig != SIGKILL)
			break;
	}
	if (froze && cgroup_freeze(cg, false, r == 0 ? e : NULL) < 0)
		r = -1;
	return r;
}

int cgroup_oom_kills(struct cgroup *cg, uint64_t *count)
{
	for (size_t i = 0; i < cg->n; i++) {
		const struct cgroup_dir *d = &cg->d[i];
		if (d->ctl & CG_MEMORY) {
			int r = d->v2 ? cgv2_oom_kills(d, count) : cgv1_oom_kills(d, count);
			if (r == 0)
				return 0;
		}
	}
	return -1;
}

int cgroup_destroy(struct cgroup *cg, struct kerr *e)
{
	if (!cg || cg->destroyed)
		return 0;
	int r = 0;
	if (cgroup_nprocs(cg, NULL) > 0) {
		if (cgroup_kill_all(cg, SIGKILL, NULL) < 0)
			klog(KLOG_DEBUG, "cgroup: kill in %s failed", cg->rel);
		unsigned round = 0;
		for (int i = 0; i < 100 && cgroup_nprocs(cg, NULL) > 0; i++) /* ~3 s */
			cg_backoff(&round);
	}
	r = remove_dirs(cg, e);
	if (r == 0) {
		cg->destroyed = true;
		klog(KLOG_DEBUG, "cgroup: removed %s", cg->rel);
	}
	if (cg->guard_fd >= 0) {
		/* One byte = "done": the guard exits without touching anything. */
		if (r == 0 && write(cg->guard_fd, "d", 1) < 0)
			klog(KLOG_DEBUG, "cgroup: can't notify the guard: %m");
		close(cg->guard_fd);
		cg->guard_fd = -1;
	}
	return r;
}

void cgroup_free(struct cgroup *cg)
{
	if (!cg)
		return;
	if (cg->owned && !cg->destroyed)
		cgroup_destroy(cg, NULL);
	if (cg->guard_fd >= 0)
		close(cg->guard_fd);
	cg_free_dirs(cg);
}

/* ---- the guard ---------------------------------------------------------- */

static void guard_main(struct cgroup *cg, int pipe_fd, int pidfd, int ready_fd)
{
	setsid();
	/* Hold nothing that keeps a mount busy, and get out of the way of a
	 * terminal's ^C (setsid) and of `pgrep -x krill`. */
	if (chdir("/") < 0)
		_exit(1);
	prctl(PR_SET_NAME, "krill-cg-guard", 0, 0, 0);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	int keep[3] = {pipe_fd, pidfd, ready_fd};
	for (int fd = 0; fd < 3; fd++)
		if (fd != keep[0] && fd != keep[1] && fd != keep[2] && nul >= 0)
			dup2(nul, fd);
	/* Close everything else (keep[] are >= 3: see cgroup_guard_start). */
	fds_close_except(keep, 3);
	pid_t self = getpid();
	if (write(ready_fd, &self, sizeof self) != sizeof self)
		_exit(1);
	close(ready_fd);

	if (guard_wait_release(pipe_fd, pidfd))
		_exit(0); /* krill removed the cgroup itself */
	/* krill is gone (the container may still hold the pipe). */
	cg->guard_fd = -1;
	cgroup_destroy(cg, NULL);
	_exit(0);
}

int cgroup_guard_start(struct cgroup *cg, struct kerr *e)
{
	if (cg->guard_pid)
		return 0;
	int p[2], ready[2];
	/* >= 3 so the guard can put /dev/null on 0-2 without losing them. */
	if (pipe2(p, O_CLOEXEC) < 0)
		return kerr_set(e, errno, "can't start the cgroup guard: pipe");
	if (pipe2(ready, O_CLOEXEC) < 0) {
		int err = errno;
		close(p[0]);
		close(p[1]);
		return kerr_set(e, err, "can't start the cgroup guard: pipe");
	}
	/* A pidfd of this process tells the guard we died even when a child
	 * that has not exec'd yet still holds the pipe's write end. */
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	int fds[] = {p[0], p[1], ready[0], ready[1], pidfd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (fds[i] >= 0 && fds[i] < 3) {
			int n = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
			close(fds[i]);
			fds[i] = n;
		}
	}
	p[0] = fds[0], p[1] = fds[1], ready[0] = fds[2], ready[1] = fds[3], pidfd = fds[4];
	/* Double fork: the guard is nobody's child here, so a caller's
	 * waitpid(-1) loop never reaps it by surprise. */
	pid_t mid = fork();
	if (mid < 0) {
		int err = errno;
		close(p[0]), close(p[1]), close(ready[0]), close(ready[1]);
		if (pidfd >= 0)
			close(pidfd);
		return kerr_set(e, err, "can't start the cgroup guard: fork");
	}
	if (mid == 0) {
		close(p[1]);
		close(ready[0]);
		pid_t g = fork();
		if (g == 0)
			guard_main(cg, p[0], pidfd, ready[1]);
		_exit(g < 0 ? 1 : 0);
	}
	close(p[0]);
	close(ready[1]);
	if (pidfd >= 0)
		close(pidfd);
	int st;
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
		;
	pid_t g = 0;
	ssize_t r;
	do
		r = read(ready[0], &g, sizeof g);
	while (r < 0 && errno == EINTR);
	close(ready[0]);
	if (r != sizeof g) {
		close(p[1]);
		return kerr_set(e, ECHILD, "can't start the cgroup guard");
	}
	cg->guard_fd = p[1];
	cg->guard_pid = g;
	klog(KLOG_DEBUG, "cgroup: guard %d watches %s", (int)g, cg->rel);
	return 0;
}

void cgroup_guard_release(struct cgroup *cg)
{
	if (cg->guard_fd < 0)
		return;
	/* The same "done" byte: the guard exits and leaves the cgroup. */
	if (write(cg->guard_fd, "d", 1) < 0)
		klog(KLOG_DEBUG, "cgroup: can't release the guard: %m");
	close(cg->guard_fd);
	cg->guard_fd = -1;
}

pid_t cgroup_guard_pid(const struct cgroup *cg)
{
	return cg->guard_pid;
}
