/* cdi.c: the CDI registry (spec files in the CDI directories) and the
 * resolution of --device names into a plan for `krill run` (see cdi.h).
 *
 * Everything here runs on the host side before any namespace exists, so
 * every error leaves nothing behind.  The spec files are hostile input:
 * cdi_spec.c checks their syntax and fields; this file checks what can
 * only be checked against the host (the nodes exist and are what the spec
 * says) and what krill can't do (intelRdt, netDevices, runtime hooks). */
#include "cdi.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* ---- the registry ------------------------------------------------------- */

static bool spec_name(const char *n)
{
	size_t l = strlen(n);
	return n[0] != '.' && ((l > 5 && !strcmp(n + l - 5, ".json")) ||
	                       (l > 5 && !strcmp(n + l - 5, ".yaml")) ||
	                       (l > 4 && !strcmp(n + l - 4, ".yml")));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_file(int dfd, const char *dir, const char *name, struct cdi_registry *r,
                     struct kerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return kerr_set(e, errno, "CDI spec %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return kerr_set(e, errno, "CDI spec %s", path);
	if (!S_ISREG(st.st_mode))
		return kerr_set(e, 0, "CDI spec %s: not a regular file", path);
	/* A spec says what is bound into the container and what runs in it:
	 * only root or the caller may have written it. */
	if (st.st_uid != 0 && st.st_uid != getuid())
		return kerr_set(e, 0, "CDI spec %s: owned by uid %u, neither root nor you", path,
		                (unsigned)st.st_uid);
	if (st.st_mode & S_IWOTH)
		return kerr_set(e, 0, "CDI spec %s: writable by any user", path);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (fd_read_all(fd, path, CDI_SPEC_MAX, &buf, &len, e) < 0)
		return -1;
	struct cdi_spec s;
	if (cdi_spec_parse(buf, len, path, &s, e) < 0)
		return -1;
	r->specs = xrealloc(r->specs, (r->n + 1) * sizeof *r->specs);
	r->specs[r->n++] = s;
	return 0;
}

static int load_dir(const char *dir, bool explicit, struct cdi_registry *r, struct kerr *e)
{
	if (dir[0] != '/')
		return kerr_set(e, 0, "CDI directory %s: not an absolute path", dir);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT && !explicit)
			return 0;
		kerr_set(e, errno, "CDI directory %s", dir);
		if (errno == ENOENT)
			kerr_hint(e, "check --cdi-dirs or [cdi] dirs in krill.conf");
		return -1;
	}
	int dup = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d) {
		if (dup >= 0)
			close(dup);
		return kerr_set(e, errno, "CDI directory %s", dir);
	}
	struct strv names = {0};
	struct dirent *de;
	while ((de = readdir(d)))
		if (spec_name(de->d_name))
			strv_push(&names, de->d_name);
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof *names.v, cmp_str);
	int rc = 0;
	for (size_t i = 0; i < names.n && rc == 0; i++)
		rc = load_file(dfd, dir, names.v[i], r, e);
	strv_free(&names);
	return rc;
}

int cdi_registry_load(const char *dirs, bool explicit, struct cdi_registry *r, struct kerr *e)
{
	memset(r, 0, sizeof *r);
	r->dirs = xstrdup(dirs);
	_cleanup_free_ char *copy = xstrdup(dirs);
	char *save = NULL;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
		if (load_dir(d, explicit, r, e) < 0) {
			cdi_registry_free(r);
			return -1;
		}
	return 0;
}

void cdi_registry_free(struct cdi_registry *r)
{
	for (size_t i = 0; i < r->n; i++)
		cdi_spec_free(&r->specs[i]);
	free(r->specs);
	free(r->dirs);
	memset(r, 0, sizeof *r);
}

/* ---- resolving names ---------------------------------------------------- */

struct pick {
	const struct cdi_spec *spec;
	const struct cdi_device *dev; /* NULL: the spec-level edits */
};

struct picks {
	struct pick *v;
	size_t n;
};

static void pick_add(struct picks *p, const struct cdi_spec *s, const struct cdi_device *d)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].spec == s && p->v[i].dev == d)
			return;
	p->v = xrealloc(p->v, (p->n + 1) * sizeof *p->v);
	p->v[p->n++] = (struct pick){s, d};
}

/* One --device=VENDOR/CLASS=NAME: the spec-level edits of its spec, then
 * the device's.  =all is the device named "all" when a spec defines one
 * (as nvidia-ctk does), else every device of the kind. */
static int resolve_name(const struct cdi_registry *r, const char *arg, struct picks *out,
                        struct strv *names, struct kerr *e)
{
	const char *eq = strrchr(arg, '=');
	_cleanup_free_ char *kind = xstrndup(arg, eq - arg);
	const char *name = eq + 1, *why;
	if (cdi_kind_check(kind, &why) < 0)
		return kerr_set(e, 0, "--device=%s: %s", arg, why);
	if (cdi_device_name_check(name, &why) < 0)
		return kerr_set(e, 0, "--device=%s: %s", arg, why);
	const struct cdi_device *found = NULL;
	const struct cdi_spec *found_spec = NULL;
	bool kind_known = false, has_all = false;
	/* Every definition of a name of this kind, to find conflicts. */
	for (size_t i = 0; i < r->n; i++) {
		const struct cdi_spec *s = &r->specs[i];
		if (strcmp(s->kind, kind) != 0)
			continue;
		kind_known = true;
		for (size_t k = 0; k < s->ndevices; k++) {
			has_all |= !strcmp(s->devices[k].name, "all");
			for (size_t j = 0; j <= i; j++) {
				const struct cdi_spec *o = &r->specs[j];
				if (j == i || strcmp(o->kind, kind) != 0)
					continue;
				for (size_t m = 0; m < o->ndevices; m++)
					if (!strcmp(o->devices[m].name, s->devices[k].name))
						return kerr_set(e, 0, "--device=%s: CDI device %s=%s is defined in both %s and %s",
						                arg, kind, s->devices[k].name, o->file, s->file);
			}
			if (!strcmp(s->devices[k].name, name)) {
				found = &s->devices[k];
				found_spec = s;
			}
		}
	}
	if (!kind_known) {
		kerr_set(e, 0, "--device=%s: no CDI spec defines kind %s (searched %s)", arg, kind,
		         r->dirs);
		return kerr_hint(e, "`krill cdi list` shows the devices the specs define");
	}
	if (found) {
		pick_add(out, found_spec, NULL);
		pick_add(out, found_spec, found);
		strv_push(names, arg);
		return 0;
	}
	if (strcmp(name, "all") == 0 && !has_all) {
		for (size_t i = 0; i < r->n; i++) {
			const struct cdi_spec *s = &r->specs[i];
			if (strcmp(s->kind, kind) != 0)
				continue;
			pick_add(out, s, NULL);
			for (size_t k = 0; k < s->ndevices; k++) {
				pick_add(out, s, &s->devices[k]);
				strv_push_owned(names, xasprintf("%s=%s", kind, s->devices[k].name));
			}
		}
		return 0;
	}
	/* List what there is: the user probably mistyped. */
	size_t cap = 256, len = 0;
	_cleanup_free_ char *known = xcalloc(cap, 1);
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->specs[i].kind, kind) != 0)
			continue;
		for (size_t k = 0; k < r->specs[i].ndevices; k++) {
			const char *n = r->specs[i].devices[k].name;
			while (len + strlen(n) + 3 >= cap)
				known = xrealloc(known, cap *= 2);
			len += sprintf(known + len, "%s%s", len ? ", " : "", n);
		}
	}
	return kerr_set(e, 0, "--device=%s: unknown CDI device '%s'; %s has: %s", arg, name, kind,
	                known);
}

int cdi_device_arg_check(const char *arg, const char **why)
{
	*why = NULL;
	if (arg[0] == '/') {
		if (strstr(arg, "/../") || !strcmp(arg + strlen(arg) - 3 * (strlen(arg) >= 3), "/.."))
			*why = "the path contains '..'";
		return *why ? -1 : 0;
	}
	const char *eq = strrchr(arg, '=');
	if (!eq) {
		*why = "expected VENDOR/CLASS=NAME (e.g. nvidia.com/gpu=all) or a /dev path";
		return -1;
	}
	_cleanup_free_ char *kind = xstrndup(arg, eq - arg);
	if (cdi_kind_check(kind, why) < 0 || cdi_device_name_check(eq + 1, why) < 0)
		return -1;
	return 0;
}

int cdi_dirs_check(const char *dirs, const char **why)
{
	*why = NULL;
	if (!*dirs)
		*why = "expected DIR[:DIR...]";
	for (const char *p = dirs; *p && !*why;) {
		size_t n = strcspn(p, ":");
		if (n == 0 || p[0] != '/')
			*why = "each directory must be an absolute path";
		p += n + (p[n] == ':');
	}
	return *why ? -1 : 0;
}

/* ---- the plan --------------------------------------------------------- */

static bool under_dev(const char *path)
{
	return strncmp(path, "/dev/", 5) == 0 && path[5 + strspn(path + 5, "/")];
}

static bool same_path(const char *a, const char *b)
{
	/* Both checked absolute without `..`; compare with slashes squeezed. */
	for (;;) {
		while (a[0] == '/' && (a[1] == '/' || a[1] == '\0'))
			a++;
		while (b[0] == '/' && (b[1] == '/' || b[1] == '\0'))
			b++;
		if (*a != *b)
			return false;
		if (!*a)
			return true;
		a++, b++;
	}
}

static const char *type_name(mode_t m)
{
	return S_ISCHR(m) ? "char" : S_ISBLK(m) ? "block" : S_ISFIFO(m) ? "fifo" : "not a device";
}

static void add_bind(struct container *c, const char *src, const char *dst, bool ro)
{
	c->binds = xrealloc(c->binds, (c->nbinds + 1) * sizeof *c->binds);
	c->binds[c->nbinds++] = (struct bind){.src = xstrdup(src), .dst = xstrdup(dst), .ro = ro};
}

static int plan_node(struct container *c, struct cdi_plan *p, const struct cdi_node *n,
                     bool privileged, struct kerr *e)
{
	const char *host = n->host_path ? n->host_path : n->path;
	struct stat st;
	mode_t want = n->type == 'b' ? S_IFBLK : n->type == 'p' ? S_IFIFO : n->type ? S_IFCHR : 0;
	if (stat(host, &st) < 0) {
		if (errno != ENOENT)
			return kerr_set(e, errno, "%s: host device node %s", n->where, host);
		/* No host node: root may create it from the numbers. */
		if (!privileged || !n->has_major || !n->has_minor || !(want == S_IFCHR || want == S_IFBLK)) {
			kerr_set(e, 0, "%s: host device node %s doesn't exist", n->where, host);
			if (!privileged)
				kerr_hint(e, "unprivileged, krill binds the host's node; it can't "
				             "create one (is the driver loaded?)");
			return -1;
		}
		if (!under_dev(n->path))
			return kerr_set(e, 0, "%s: can create a device node only under /dev (%s)",
			                n->where, n->path);
		p->nodes = xrealloc(p->nodes, (p->nnodes + 1) * sizeof *p->nodes);
		p->nodes[p->nnodes++] = (struct cdi_plan_node){
			.path = xstrdup(n->path), .type = want, .rdev = makedev(n->major, n->minor),
			.mode = n->has_mode ? n->mode : 0666, .uid = n->has_uid ? n->uid : c->uid,
			.gid = n->has_gid ? n->gid : c->gid, .what = xstrdup(n->where)};
		p->own_dev = true;
		return 0;
	}
	mode_t fmt = st.st_mode & S_IFMT;
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISFIFO(st.st_mode))
		return kerr_set(e, 0, "%s: host path %s is not a device node", n->where, host);
	if (want && want != fmt)
		return kerr_set(e, 0, "%s: %s is a %s device on the host, the spec says %s",
		                n->where, host, type_name(fmt), type_name(want));
	if (!S_ISFIFO(st.st_mode) && ((n->has_major && major(st.st_rdev) != n->major) ||
	                              (n->has_minor && minor(st.st_rdev) != n->minor)))
		return kerr_set(e, 0, "%s: %s is %s %u:%u on the host, the spec says %u:%u", n->where,
		                host, type_name(fmt), major(st.st_rdev), minor(st.st_rdev),
		                n->has_major ? n->major : major(st.st_rdev),
		                n->has_minor ? n->minor : minor(st.st_rdev));
	if (!under_dev(n->path)) {
		add_bind(c, host, n->path, false); /* through the usual bind rules */
		return 0;
	}
	if (same_path(host, n->path))
		return 0; /* the host's /dev, bound whole, shows it */
	p->nodes = xrealloc(p->nodes, (p->nnodes + 1) * sizeof *p->nodes);
	p->nodes[p->nnodes++] = (struct cdi_plan_node){
		.path = xstrdup(n->path), .host_path = xstrdup(host), .type = fmt,
		.rdev = st.st_rdev, .what = xstrdup(n->where)};
	p->own_dev = true;
	return 0;
}

static int plan_mount(struct container *c, const struct cdi_mount *m, struct kerr *e)
{
	bool bind = false, ro = false;
	for (size_t i = 0; i < m->options.n; i++) {
		const char *o = m->options.v[i];
		bind |= !strcmp(o, "bind") || !strcmp(o, "rbind");
		if (!strcmp(o, "ro"))
			ro = true;
		else if (!strcmp(o, "rw"))
			ro = false;
	}
	const char *t = m->type;
	if (t && strcmp(t, "bind") && strcmp(t, "none") && !(bind && *t))
		return kerr_set(e, 0, "%s: krill mounts only binds, not type '%s'", m->where, t);
	/* Every bind is recursive, and a bind keeps the host mount's nosuid
	 * and nodev; no_new_privs makes setuid bits moot anyway. */
	add_bind(c, m->host_path, m->container_path, ro);
	return 0;
}

/* nvidia-cdi-hook (or `nvidia-ctk hook`) SUBCOMMAND ARGS...: what krill
 * does in its place.  The real program expects to run as real root in the
 * runtime's namespace with the OCI bundle at hand; its effects are simple
 * enough to do directly, as Charliecloud's CDI branch does. */
static int plan_nvidia_hook(struct cdi_plan_hook *ph, const struct cdi_hook *h, size_t sub,
                            struct kerr *e)
{
	const char *cmd = h->args.v[sub];
	if (!strcmp(cmd, "update-ldcache"))
		ph->op = CDI_HOOK_LDCACHE;
	else if (!strcmp(cmd, "create-symlinks"))
		ph->op = CDI_HOOK_SYMLINKS;
	else if (!strcmp(cmd, "chmod"))
		ph->op = CDI_HOOK_CHMOD;
	else if (!strcmp(cmd, "disable-device-node-modification") || !strcmp(cmd, "enable-cuda-compat"))
		ph->op = CDI_HOOK_NOOP;
	else
		return kerr_set(e, 0, "%s: krill doesn't know the %s command '%s'", h->where,
		                h->args.v[0], cmd);
	if (ph->op == CDI_HOOK_NOOP)
		return 0;
	bool have_mode = false;
	for (size_t i = sub + 1; i < h->args.n; i++) {
		const char *a = h->args.v[i], *val = NULL;
		static const char *const opts[] = {"--folder", "--link", "--mode", "--path"};
		int which = -1;
		for (int k = 0; k < 4; k++) {
			size_t l = strlen(opts[k]);
			if (!strncmp(a, opts[k], l) && (a[l] == '=' || a[l] == '\0')) {
				which = k;
				val = a[l] == '=' ? a + l + 1 : (i + 1 < h->args.n ? h->args.v[++i] : NULL);
			}
		}
		if (which < 0 || !val)
			return kerr_set(e, 0, "%s: %s %s: unexpected argument '%s'", h->where,
			                h->args.v[0], cmd, a);
		if (which == 2 && ph->op == CDI_HOOK_CHMOD) {
			unsigned long m;
			char *end;
			m = strtoul(val, &end, 8);
			if (*end || !*val || m > 07777)
				return kerr_set(e, 0, "%s: chmod --mode %s: not an octal mode", h->where, val);
			ph->mode = (unsigned)m;
			have_mode = true;
			continue;
		}
		bool ok = (which == 0 && ph->op == CDI_HOOK_LDCACHE) ||
		          (which == 1 && ph->op == CDI_HOOK_SYMLINKS) ||
		          (which == 3 && ph->op == CDI_HOOK_CHMOD);
		if (!ok)
			return kerr_set(e, 0, "%s: %s %s: unexpected argument '%s'", h->where,
			                h->args.v[0], cmd, a);
		/* The paths name places in the container: absolute, no `..`. */
		const char *check = val;
		if (which == 1) {
			const char *sep = strstr(val, "::");
			if (!sep || sep == val || !sep[2])
				return kerr_set(e, 0, "%s: create-symlinks --link %s: expected TARGET::LINK",
				                h->where, val);
			check = sep + 2;
		}
		if (check[0] != '/' || strstr(check, "/../") || !strcmp(check + strlen(check) - 3 * (strlen(check) >= 3), "/.."))
			return kerr_set(e, 0, "%s: %s: '%s' is not an absolute path without '..'",
			                h->where, cmd, check);
		strv_push(&ph->folders, val);
	}
	if (ph->op == CDI_HOOK_CHMOD && !have_mode)
		return kerr_set(e, 0, "%s: chmod: --mode is missing", h->where);
	return 0;
}

static int plan_hook(struct cdi_plan *p, const struct cdi_hook *h, struct kerr *e)
{
	struct cdi_plan_hook ph = {.hook = h, .op = CDI_HOOK_EXEC};
	if (!strcmp(h->name, "createContainer"))
		ph.stage = CDI_HOOK_CREATE;
	else if (!strcmp(h->name, "startContainer"))
		ph.stage = CDI_HOOK_START;
	else
		return kerr_set(e, 0, "%s: krill run runs createContainer and startContainer hooks, "
		                "not %s hooks (they need an OCI runtime: use krill-oci)", h->where,
		                h->name);
	const char *base = strrchr(h->path, '/') + 1;
	if (!strcmp(base, "nvidia-cdi-hook") && h->args.n >= 2) {
		if (plan_nvidia_hook(&ph, h, 1, e) < 0)
			goto fail;
	} else if (!strcmp(base, "nvidia-ctk") && h->args.n >= 3 && !strcmp(h->args.v[1], "hook")) {
		if (plan_nvidia_hook(&ph, h, 2, e) < 0)
			goto fail;
	}
	p->hooks = xrealloc(p->hooks, (p->nhooks + 1) * sizeof *p->hooks);
	p->hooks[p->nhooks++] = ph;
	return 0;
fail:
	strv_free(&ph.folders);
	return -1;
}

static int plan_edits(struct container *c, struct cdi_plan *p, const struct cdi_edits *ed,
                      bool privileged, struct kerr *e)
{
	if (ed->intel_rdt)
		return kerr_set(e, 0, "%s: krill doesn't support Intel RDT (resctrl) settings", ed->intel_rdt);
	if (ed->net_devices)
		return kerr_set(e, 0, "%s: krill run doesn't move host network interfaces into "
		                "the container", ed->net_devices);
	for (size_t i = 0; i < ed->env.n; i++)
		strv_push(&p->env, ed->env.v[i]);
	for (size_t i = 0; i < ed->nnodes; i++)
		if (plan_node(c, p, &ed->nodes[i], privileged, e) < 0)
			return -1;
	for (size_t i = 0; i < ed->nmounts; i++)
		if (plan_mount(c, &ed->mounts[i], e) < 0)
			return -1;
	for (size_t i = 0; i < ed->nhooks; i++)
		if (plan_hook(p, &ed->hooks[i], e) < 0)
			return -1;
	for (size_t i = 0; i < ed->ngids; i++) {
		bool dup = false;
		for (size_t k = 0; k < p->ngids; k++)
			dup |= p->gids[k] == ed->gids[i];
		if (dup)
			continue;
		p->gids = xrealloc(p->gids, (p->ngids + 1) * sizeof *p->gids);
		p->gids[p->ngids++] = ed->gids[i];
	}
	return 0;
}

/* --device=/dev/X: a host node, as is. */
static int plan_host_device(struct container *c, struct cdi_plan *p, const char *path,
                            bool privileged, struct kerr *e)
{
	if (strstr(path, "/../") || !strcmp(path + strlen(path) - 3 * (strlen(path) >= 3), "/.."))
		return kerr_set(e, 0, "--device=%s: the path contains '..'", path);
	_cleanup_free_ char *where = xasprintf("--device=%s", path);
	struct cdi_node n = {.path = (char *)path, .where = where};
	if (plan_node(c, p, &n, privileged, e) < 0)
		return -1;
	strv_push(&p->devices, path);
	return 0;
}

int cdi_prepare(struct container *c, bool privileged, struct kerr *e)
{
	if (!c->devices.n)
		return 0;
	struct cdi_plan *p = xcalloc(1, sizeof *p);
	c->cdi = p;
	bool need_specs = false;
	for (size_t i = 0; i < c->devices.n; i++)
		need_specs |= c->devices.v[i][0] != '/';
	if (need_specs && cdi_registry_load(c->cdi_dirs ? c->cdi_dirs : CDI_DEFAULT_DIRS,
	                                    c->cdi_dirs != NULL, &p->reg, e) < 0)
		return -1;
	struct picks picks = {0};
	int rc = -1;
	for (size_t i = 0; i < c->devices.n; i++) {
		const char *d = c->devices.v[i];
		if (d[0] == '/') {
			if (plan_host_device(c, p, d, privileged, e) < 0)
				goto out;
		} else if (!strchr(d, '=')) {
			kerr_set(e, 0, "--device=%s: expected VENDOR/CLASS=NAME or a /dev path", d);
			kerr_hint(e, "e.g. --device=nvidia.com/gpu=all or --device=/dev/fuse");
			goto out;
		} else if (resolve_name(&p->reg, d, &picks, &p->devices, e) < 0) {
			goto out;
		}
	}
	for (size_t i = 0; i < picks.n; i++) {
		const struct pick *pk = &picks.v[i];
		if (plan_edits(c, p, pk->dev ? &pk->dev->edits : &pk->spec->edits, privileged, e) < 0)
			goto out;
	}
	if (p->ngids && !privileged)
		klog(KLOG_INFO, "CDI additionalGids are not applied: unprivileged, the container has "
		     "a single-ID map, and the kernel denies setgroups in it");
	for (size_t i = 0; i < p->devices.n; i++)
		klog(KLOG_VERBOSE, "CDI device %s", p->devices.v[i]);
	rc = 0;
out:
	free(picks.v);
	return rc;
}

void cdi_plan_free(struct cdi_plan *p)
{
	if (!p)
		return;
	cdi_registry_free(&p->reg);
	strv_free(&p->devices);
	strv_free(&p->env);
	for (size_t i = 0; i < p->nnodes; i++) {
		free(p->nodes[i].path);
		free(p->nodes[i].host_path);
		free(p->nodes[i].what);
	}
	free(p->nodes);
	for (size_t i = 0; i < p->nhooks; i++)
		strv_free(&p->hooks[i].folders);
	free(p->hooks);
	free(p->gids);
	free(p);
}

/* ---- krill check ----------------------------------------------------------- */

static bool spec_names_node(const struct cdi_spec *s, const char *path)
{
	for (size_t k = 0; k < s->ndevices; k++)
		for (size_t i = 0; i < s->devices[k].edits.nnodes; i++)
			if (same_path(s->devices[k].edits.nodes[i].path, path))
				return true;
	return false;
}

void cdi_gpu_coverage(const char *dirs, size_t *gpus, size_t *covered, char **file,
                      struct kerr *e)
{
	*gpus = *covered = 0;
	*file = NULL;
	struct strv nodes = {0};
	DIR *d = opendir("/dev");
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, "nvidia", 6) && de->d_name[6] &&
		    strspn(de->d_name + 6, "0123456789") == strlen(de->d_name + 6))
			strv_push_owned(&nodes, xasprintf("/dev/%s", de->d_name));
	if (d)
		closedir(d);
	*gpus = nodes.n;
	struct cdi_registry r;
	if (nodes.n && cdi_registry_load(dirs, false, &r, e) == 0) {
		for (size_t g = 0; g < nodes.n; g++)
			for (size_t i = 0; i < r.n; i++)
				if (!strcmp(r.specs[i].kind, "nvidia.com/gpu") &&
				    spec_names_node(&r.specs[i], nodes.v[g])) {
					(*covered)++;
					if (!*file)
						*file = xstrdup(r.specs[i].file);
					break;
				}
		cdi_registry_free(&r);
	}
	strv_free(&nodes);
}
