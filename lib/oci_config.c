/* oci_config.c: config.json -> struct oci_spec (see oci_config.h).
 *
 * One function per JSON object of the runtime spec, each walking its keys
 * with a context that knows the JSON path, so every message names the
 * offending field the way a user would write it. */
#include "oci_config.h"
#include "json_doc.h"
#include "log.h"

#include <ctype.h>
#include <inttypes.h>
#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

const char *const oci_hook_names[OCI_HOOK_COUNT] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

struct ctx {
	const char *file, *bundle;
	struct kerr *e;
	oci_unknown_fn unknown;
	void *arg;
	char path[512];
	size_t plen;
};

static size_t push_key(struct ctx *c, const char *key)
{
	size_t old = c->plen;
	int n = snprintf(c->path + c->plen, sizeof c->path - c->plen, "%s%s",
	                 c->plen ? "." : "", key);
	if (n > 0 && c->plen + (size_t)n < sizeof c->path)
		c->plen += (size_t)n;
	return old;
}

static size_t push_idx(struct ctx *c, size_t i)
{
	size_t old = c->plen;
	int n = snprintf(c->path + c->plen, sizeof c->path - c->plen, "[%zu]", i);
	if (n > 0 && c->plen + (size_t)n < sizeof c->path)
		c->plen += (size_t)n;
	return old;
}

static void pop(struct ctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static int perr(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct ctx *c, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (!c->plen)
		return kerr_set(c->e, 0, "%s: %s", c->file, why);
	return kerr_set(c->e, 0, "%s: %s: %s", c->file, c->path, why);
}

static int expect(struct ctx *c, const char *what) { return perr(c, "expected %s", what); }

/* Report the keys of obj that are not in known[] (NULL-terminated). */
static void check_keys(struct ctx *c, json_t *obj, const char *const *known)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool k = false;
		for (const char *const *p = known; *p && !k; p++)
			k = strcmp(*p, key) == 0;
		if (!k && c->unknown) {
			size_t old = push_key(c, key);
			c->unknown(c->path, c->arg);
			pop(c, old);
		}
	}
}

/* ---- typed getters: each pushes the key for its own messages ----------- */

static int get_obj(struct ctx *c, json_t *parent, const char *key, json_t **out)
{
	*out = json_object_get(parent, key);
	if (!*out || json_is_null(*out)) {
		*out = NULL;
		return 0;
	}
	if (!json_is_object(*out)) {
		size_t old = push_key(c, key);
		expect(c, "object");
		pop(c, old);
		return -1;
	}
	return 0;
}

static int get_arr(struct ctx *c, json_t *parent, const char *key, json_t **out)
{
	*out = json_object_get(parent, key);
	if (!*out || json_is_null(*out)) {
		*out = NULL;
		return 0;
	}
	if (!json_is_array(*out)) {
		size_t old = push_key(c, key);
		expect(c, "array");
		pop(c, old);
		return -1;
	}
	return 0;
}

/* *out stays as it was when the key is absent. */
static int get_str(struct ctx *c, json_t *parent, const char *key, const char **out)
{
	json_t *v = json_object_get(parent, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		size_t old = push_key(c, key);
		expect(c, "string");
		pop(c, old);
		return -1;
	}
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v)) {
		size_t old = push_key(c, key);
		perr(c, "NUL byte in string");
		pop(c, old);
		return -1;
	}
	return 0;
}

static int get_bool(struct ctx *c, json_t *parent, const char *key, bool *out)
{
	json_t *v = json_object_get(parent, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		size_t old = push_key(c, key);
		expect(c, "boolean");
		pop(c, old);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* An integer in [min, max]; *present tells whether it was there. */
static int get_int(struct ctx *c, json_t *parent, const char *key, long long min, long long max,
                   long long *out, bool *present)
{
	json_t *v = json_object_get(parent, key);
	if (present)
		*present = false;
	if (!v || json_is_null(v))
		return 0;
	size_t old = push_key(c, key);
	int r = 0;
	if (!json_is_integer(v))
		r = expect(c, "integer");
	else if (json_integer_value(v) < min || json_integer_value(v) > max)
		r = perr(c, "%lld is out of range [%lld, %lld]", (long long)json_integer_value(v),
		         min, max);
	pop(c, old);
	if (r < 0)
		return -1;
	*out = json_integer_value(v);
	if (present)
		*present = true;
	return 0;
}

/* An array of strings, appended to out. */
static int get_strv(struct ctx *c, json_t *parent, const char *key, struct strv *out)
{
	json_t *a;
	if (get_arr(c, parent, key, &a) < 0)
		return -1;
	if (!a)
		return 0;
	size_t old = push_key(c, key), i;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
			push_idx(c, i);
			expect(c, "string");
			pop(c, old);
			return -1;
		}
		strv_push(out, json_string_value(v));
	}
	pop(c, old);
	return 0;
}

static bool abs_path(const char *p) { return p && p[0] == '/'; }

static char *join_bundle(struct ctx *c, const char *p)
{
	if (p[0] == '/')
		return xstrdup(p);
	return xasprintf("%s/%s", c->bundle, p);
}

/* ---- process ----------------------------------------------------------- */

static int parse_caps(struct ctx *c, json_t *obj, struct capsets *caps)
{
	static const char *const known[] = {"bounding", "effective", "permitted", "inheritable",
	                                    "ambient", NULL};
	check_keys(c, obj, known);
	uint64_t *sets[] = {&caps->bounding, &caps->effective, &caps->permitted,
	                    &caps->inheritable, &caps->ambient};
	for (size_t k = 0; k < ARRAY_SIZE(sets); k++) {
		struct strv names = {0};
		if (get_strv(c, obj, known[k], &names) < 0) {
			strv_free(&names);
			return -1;
		}
		size_t old = push_key(c, known[k]);
		for (size_t i = 0; i < names.n; i++) {
			int cap;
			struct kerr ce;
			if (caps_parse_name(names.v[i], &cap, &ce) < 0) {
				push_idx(c, i);
				perr(c, "unknown capability '%s'", names.v[i]);
				strv_free(&names);
				return -1;
			}
			*sets[k] |= CAPS_BIT(cap);
		}
		pop(c, old);
		strv_free(&names);
	}
	return 0;
}

static const struct {
	const char *name;
	int res;
} rlimit_names[] = {
	{"RLIMIT_AS", RLIMIT_AS},         {"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},       {"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},   {"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},   {"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

const char *oci_rlimit_name(int resource)
{
	for (size_t k = 0; k < ARRAY_SIZE(rlimit_names); k++)
		if (rlimit_names[k].res == resource)
			return rlimit_names[k].name;
	return "?";
}

static int parse_rlimits(struct ctx *c, json_t *arr, struct oci_spec *s)
{
	size_t i;
	json_t *v;
	s->rlimits = xcalloc(json_array_size(arr) + 1, sizeof *s->rlimits);
	json_array_foreach(arr, i, v) {
		size_t old = push_idx(c, i);
		static const char *const known[] = {"type", "soft", "hard", NULL};
		if (!json_is_object(v))
			return expect(c, "object");
		check_keys(c, v, known);
		const char *type = NULL;
		long long soft = 0, hard = 0;
		bool has_soft, has_hard;
		if (get_str(c, v, "type", &type) < 0 ||
		    get_int(c, v, "soft", 0, INT64_MAX, &soft, &has_soft) < 0 ||
		    get_int(c, v, "hard", 0, INT64_MAX, &hard, &has_hard) < 0)
			return -1;
		if (!type)
			return perr(c, "type: missing");
		int res = -1;
		for (size_t k = 0; k < ARRAY_SIZE(rlimit_names); k++)
			if (strcmp(rlimit_names[k].name, type) == 0)
				res = rlimit_names[k].res;
		if (res < 0) {
			push_key(c, "type");
			return perr(c, "unknown resource '%s'", type);
		}
		if (!has_soft || !has_hard)
			return perr(c, "%s: missing", has_soft ? "hard" : "soft");
		if (soft > hard)
			return perr(c, "soft limit %lld is above the hard limit %lld", soft, hard);
		for (size_t k = 0; k < s->nrlimits; k++)
			if (s->rlimits[k].resource == res)
				return perr(c, "%s appears twice", type);
		s->rlimits[s->nrlimits++] = (struct oci_rlimit){
			.resource = res, .soft = (rlim_t)soft, .hard = (rlim_t)hard};
		pop(c, old);
	}
	return 0;
}

static int parse_user(struct ctx *c, json_t *u, struct oci_spec *s)
{
	static const char *const known[] = {"uid", "gid", "umask", "additionalGids", "username",
	                                    NULL};
	check_keys(c, u, known);
	long long uid = 0, gid = 0, um = 0;
	bool has_uid, has_gid;
	if (get_int(c, u, "uid", 0, UINT32_MAX - 1, &uid, &has_uid) < 0 ||
	    get_int(c, u, "gid", 0, UINT32_MAX - 1, &gid, &has_gid) < 0 ||
	    get_int(c, u, "umask", 0, 0777, &um, &s->has_umask) < 0)
		return -1;
	if (!has_uid || !has_gid)
		return perr(c, "%s: missing", has_uid ? "gid" : "uid");
	s->c.uid = (uid_t)uid;
	s->c.gid = (gid_t)gid;
	s->umask = (mode_t)um;
	json_t *a;
	if (get_arr(c, u, "additionalGids", &a) < 0)
		return -1;
	if (a) {
		size_t old = push_key(c, "additionalGids"), i;
		json_t *v;
		s->groups = xcalloc(json_array_size(a) + 1, sizeof *s->groups);
		json_array_foreach(a, i, v) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) >= UINT32_MAX) {
				push_idx(c, i);
				return expect(c, "group ID");
			}
			s->groups[s->ngroups++] = (gid_t)json_integer_value(v);
		}
		pop(c, old);
	}
	return 0;
}

static int parse_process(struct ctx *c, json_t *p, struct oci_spec *s)
{
	static const char *const known[] = {
		"args", "env", "cwd", "user", "terminal", "capabilities", "rlimits",
		"noNewPrivileges", "oomScoreAdj", "consoleSize", "apparmorProfile",
		"selinuxLabel", "ioPriority", "scheduler", "execCPUAffinity", "commandLine", NULL};
	check_keys(c, p, known);
	struct strv args = {0};
	if (get_strv(c, p, "args", &args) < 0) {
		strv_free(&args);
		return -1;
	}
	if (args.n == 0) {
		strv_free(&args);
		push_key(c, "args");
		return perr(c, "must name the command to run");
	}
	s->c.argv = args.v; /* NULL-terminated, owned */
	if (get_strv(c, p, "env", &s->env) < 0)
		return -1;
	for (size_t i = 0; i < s->env.n; i++)
		if (!strchr(s->env.v[i], '=') || s->env.v[i][0] == '=') {
			push_key(c, "env");
			push_idx(c, i);
			return perr(c, "'%s' is not VAR=VALUE", s->env.v[i]);
		}
	const char *cwd = "/";
	if (get_str(c, p, "cwd", &cwd) < 0)
		return -1;
	if (!abs_path(cwd)) {
		push_key(c, "cwd");
		return perr(c, "'%s' is not an absolute path", cwd);
	}
	s->c.cwd = xstrdup(cwd);
	json_t *o;
	if (get_obj(c, p, "user", &o) < 0)
		return -1;
	if (o) {
		size_t old = push_key(c, "user");
		if (parse_user(c, o, s) < 0)
			return -1;
		pop(c, old);
	}
	if (get_bool(c, p, "terminal", &s->terminal) < 0 ||
	    get_bool(c, p, "noNewPrivileges", &s->no_new_privs) < 0)
		return -1;
	long long adj = 0;
	if (get_int(c, p, "oomScoreAdj", -1000, 1000, &adj, &s->has_oom_score_adj) < 0)
		return -1;
	s->oom_score_adj = (int)adj;
	if (get_obj(c, p, "capabilities", &o) < 0)
		return -1;
	if (o) {
		size_t old = push_key(c, "capabilities");
		if (parse_caps(c, o, &s->caps) < 0)
			return -1;
		pop(c, old);
	}
	json_t *a;
	if (get_arr(c, p, "rlimits", &a) < 0)
		return -1;
	if (a) {
		size_t old = push_key(c, "rlimits");
		if (parse_rlimits(c, a, s) < 0)
			return -1;
		pop(c, old);
	}
	const char *label = NULL;
	if (get_str(c, p, "apparmorProfile", &label) < 0 || (label && *label)) {
		if (!label)
			return -1;
		push_key(c, "apparmorProfile");
		return perr(c, "AppArmor profiles are not supported by krill");
	}
	if (get_str(c, p, "selinuxLabel", &label) < 0 || (label && *label)) {
		if (!label)
			return -1;
		push_key(c, "selinuxLabel");
		return perr(c, "SELinux labels are not supported by krill");
	}
	return 0;
}

/* ---- mounts ------------------------------------------------------------ */

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flags[] = {
	{"ro", false, MS_RDONLY},      {"rw", true, MS_RDONLY},
	{"nosuid", false, MS_NOSUID},  {"suid", true, MS_NOSUID},
	{"nodev", false, MS_NODEV},    {"dev", true, MS_NODEV},
	{"noexec", false, MS_NOEXEC},  {"exec", true, MS_NOEXEC},
	{"sync", false, MS_SYNCHRONOUS}, {"async", true, MS_SYNCHRONOUS},
	{"dirsync", false, MS_DIRSYNC}, {"mand", false, MS_MANDLOCK},
	{"nomand", true, MS_MANDLOCK}, {"noatime", false, MS_NOATIME},
	{"atime", true, MS_NOATIME},   {"nodiratime", false, MS_NODIRATIME},
	{"diratime", true, MS_NODIRATIME}, {"relatime", false, MS_RELATIME},
	{"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
	{"nostrictatime", true, MS_STRICTATIME}, {"defaults", true, 0},
};

static const struct {
	const char *name;
	unsigned long flag;
} propagations[] = {
	{"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
	{"slave", MS_SLAVE},     {"rslave", MS_SLAVE | MS_REC},
	{"shared", MS_SHARED},   {"rshared", MS_SHARED | MS_REC},
	{"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* crun's recursive options (runc 1.1 knows rro): applied with
 * mount_setattr(2) to the mount and everything under it. */
static const struct {
	const char *name;
	bool clear;
	uint64_t attr;
} recursive_attrs[] = {
	{"rro", false, MOUNT_ATTR_RDONLY},          {"rrw", true, MOUNT_ATTR_RDONLY},
	{"rnosuid", false, MOUNT_ATTR_NOSUID},      {"rsuid", true, MOUNT_ATTR_NOSUID},
	{"rnodev", false, MOUNT_ATTR_NODEV},        {"rdev", true, MOUNT_ATTR_NODEV},
	{"rnoexec", false, MOUNT_ATTR_NOEXEC},      {"rexec", true, MOUNT_ATTR_NOEXEC},
	{"rnodiratime", false, MOUNT_ATTR_NODIRATIME}, {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
	{"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW}, {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

static unsigned long propagation_flag(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(propagations); i++)
		if (strcmp(propagations[i].name, name) == 0)
			return propagations[i].flag;
	return 0;
}

static const char *const mount_types[] = {"bind", "none", "tmpfs", "proc", "sysfs", "devpts",
                                          "mqueue", "cgroup", "cgroup2", NULL};

static int parse_mount(struct ctx *c, json_t *m, struct oci_mount *out)
{
	static const char *const known[] = {"destination", "source", "type", "options",
	                                    "uidMappings", "gidMappings", NULL};
	if (!json_is_object(m))
		return expect(c, "object");
	check_keys(c, m, known);
	const char *dst = NULL, *src = NULL, *type = NULL;
	if (get_str(c, m, "destination", &dst) < 0 || get_str(c, m, "source", &src) < 0 ||
	    get_str(c, m, "type", &type) < 0)
		return -1;
	if (!dst)
		return perr(c, "destination: missing");
	if (!abs_path(dst)) {
		push_key(c, "destination");
		return perr(c, "'%s' is not an absolute path", dst);
	}
	if (json_object_get(m, "uidMappings") || json_object_get(m, "gidMappings"))
		return perr(c, "idmapped mounts are not supported by krill");
	struct strv opts = {0};
	if (get_strv(c, m, "options", &opts) < 0) {
		strv_free(&opts);
		return -1;
	}
	out->dst = xstrdup(dst);
	size_t dlen = 0;
	char *data = NULL;
	for (size_t i = 0; i < opts.n; i++) {
		const char *o = opts.v[i];
		bool done = false;
		if (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0) {
			out->bind = true;
			out->rec |= o[0] == 'r';
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(mount_flags) && !done; k++)
			if (strcmp(mount_flags[k].name, o) == 0) {
				if (mount_flags[k].clear)
					out->flags &= ~mount_flags[k].flag;
				else
					out->flags |= mount_flags[k].flag;
				done = true;
			}
		unsigned long prop = propagation_flag(o);
		if (prop) {
			out->propagation = prop;
			done = true;
		}
		for (size_t k = 0; k < ARRAY_SIZE(recursive_attrs) && !done; k++)
			if (strcmp(recursive_attrs[k].name, o) == 0) {
				if (recursive_attrs[k].clear) {
					out->rattr_clr |= recursive_attrs[k].attr;
					out->rattr_set &= ~recursive_attrs[k].attr;
				} else {
					out->rattr_set |= recursive_attrs[k].attr;
					out->rattr_clr &= ~recursive_attrs[k].attr;
				}
				done = true;
			}
		if (!done && strcmp(o, "tmpcopyup") == 0)
			out->tmpcopyup = done = true;
		else if (!done && strcmp(o, "copy-symlink") == 0)
			out->copy_symlink = done = true;
		else if (!done && (strcmp(o, "notmpcopyup") == 0 || strcmp(o, "nocopyup") == 0))
			done = true; /* the defaults */
		if (!done && (strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0)) {
			push_key(c, "options");
			push_idx(c, i);
			perr(c, "'%s': idmapped mounts are not implemented by krill", o);
			strv_free(&opts);
			free(data);
			return -1;
		}
		if (!done) {
			/* Not a flag: filesystem data, e.g. mode=755,size=65536k. */
			size_t n = strlen(o);
			data = xrealloc(data, dlen + n + 2);
			if (dlen)
				data[dlen++] = ',';
			memcpy(data + dlen, o, n + 1);
			dlen += n;
		}
	}
	strv_free(&opts);
	out->data = data;
	if (!type || strcmp(type, "none") == 0 || strcmp(type, "bind") == 0) {
		if (!out->bind) {
			push_key(c, "type");
			return perr(c, "%s mount without the bind or rbind option",
			            type ? type : "untyped");
		}
	}
	if (out->bind) {
		if (!src)
			return perr(c, "source: missing for a bind mount");
		out->type = xstrdup("bind");
		out->src = join_bundle(c, src);
		/* Options that are not flags are filesystem data (runtime-spec
		 * 1.1): mount(2) gets them, and ignores them for a bind. */
		if (out->tmpcopyup) {
			push_key(c, "options");
			return perr(c, "tmpcopyup applies to tmpfs mounts, not binds");
		}
		return 0;
	}
	bool ok = false;
	for (const char *const *t = mount_types; *t; t++)
		ok |= strcmp(*t, type) == 0;
	if (!ok) {
		push_key(c, "type");
		return perr(c, "'%s' is not supported by krill (bind, tmpfs, proc, sysfs, devpts, "
		               "mqueue, cgroup)", type);
	}
	if ((out->tmpcopyup && strcmp(type, "tmpfs") != 0) || out->copy_symlink) {
		push_key(c, "options");
		return perr(c, "%s applies to %s mounts, not %s", out->tmpcopyup ? "tmpcopyup"
		                                                             : "copy-symlink",
		            out->tmpcopyup ? "tmpfs" : "bind", type);
	}
	out->type = xstrdup(type);
	out->src = xstrdup(src ? src : type);
	return 0;
}

static int parse_mounts(struct ctx *c, json_t *arr, struct oci_spec *s)
{
	size_t i;
	json_t *m;
	s->mounts = xcalloc(json_array_size(arr) + 1, sizeof *s->mounts);
	json_array_foreach(arr, i, m) {
		size_t old = push_idx(c, i);
		int r = parse_mount(c, m, &s->mounts[s->nmounts]);
		s->nmounts++; /* freed with the rest even when half filled */
		if (r < 0)
			return -1;
		pop(c, old);
	}
	return 0;
}

/* ---- hooks ------------------------------------------------------------- */

static int parse_hooks(struct ctx *c, json_t *h, struct oci_spec *s)
{
	static const char *const known[] = {"prestart", "createRuntime", "createContainer",
	                                    "startContainer", "poststart", "poststop", NULL};
	check_keys(c, h, known);
	for (int k = 0; k < OCI_HOOK_COUNT; k++) {
		json_t *arr;
		if (get_arr(c, h, oci_hook_names[k], &arr) < 0)
			return -1;
		if (!arr)
			continue;
		size_t old = push_key(c, oci_hook_names[k]), i;
		json_t *v;
		struct oci_hook_list *l = &s->hooks[k];
		l->v = xcalloc(json_array_size(arr) + 1, sizeof *l->v);
		json_array_foreach(arr, i, v) {
			size_t o2 = push_idx(c, i);
			static const char *const hk[] = {"path", "args", "env", "timeout", NULL};
			if (!json_is_object(v))
				return expect(c, "object");
			check_keys(c, v, hk);
			struct oci_hook *hook = &l->v[l->n++];
			const char *path = NULL;
			long long t = 0;
			bool has_t;
			if (get_str(c, v, "path", &path) < 0 || get_strv(c, v, "args", &hook->args) < 0 ||
			    get_strv(c, v, "env", &hook->env) < 0 ||
			    get_int(c, v, "timeout", 1, INT32_MAX, &t, &has_t) < 0)
				return -1;
			if (!path)
				return perr(c, "path: missing");
			if (!abs_path(path)) {
				push_key(c, "path");
				return perr(c, "'%s' is not an absolute path", path);
			}
			hook->path = xstrdup(path);
			hook->timeout = (int)t;
			pop(c, o2);
		}
		pop(c, old);
	}
	return 0;
}

/* ---- linux ------------------------------------------------------------- */

static const struct {
	const char *name;
	int flag;
} ns_types[] = {
	{"pid", CLONE_NEWPID},   {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
	{"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
	{"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

static int parse_namespaces(struct ctx *c, json_t *arr, struct oci_spec *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		size_t old = push_idx(c, i);
		static const char *const known[] = {"type", "path", NULL};
		if (!json_is_object(v))
			return expect(c, "object");
		check_keys(c, v, known);
		const char *type = NULL, *path = NULL;
		if (get_str(c, v, "type", &type) < 0 || get_str(c, v, "path", &path) < 0)
			return -1;
		if (!type)
			return perr(c, "type: missing");
		int flag = 0;
		for (size_t k = 0; k < ARRAY_SIZE(ns_types); k++)
			if (strcmp(ns_types[k].name, type) == 0)
				flag = ns_types[k].flag;
		if (!flag) {
			push_key(c, "type");
			return perr(c, "unknown namespace type '%s'", type);
		}
		if (flag == CLONE_NEWTIME) {
			push_key(c, "type");
			return perr(c, "time namespaces are not supported by krill");
		}
		if ((s->ns_new | s->ns_join) & flag)
			return perr(c, "namespace '%s' appears twice", type);
		if (path && !abs_path(path)) {
			push_key(c, "path");
			return perr(c, "'%s' is not an absolute path", path);
		}
		if (path && *path) {
			s->ns_join |= flag;
		} else {
			s->ns_new |= flag;
			path = NULL;
		}
		s->ns[s->nns++] = (struct oci_ns){.flag = flag, .path = path ? xstrdup(path) : NULL};
		pop(c, old);
	}
	return 0;
}

static int parse_idmaps(struct ctx *c, json_t *arr, struct userns_map **out, size_t *n)
{
	size_t i;
	json_t *v;
	*out = xcalloc(json_array_size(arr) + 1, sizeof **out);
	json_array_foreach(arr, i, v) {
		size_t old = push_idx(c, i);
		static const char *const known[] = {"containerID", "hostID", "size", NULL};
		if (!json_is_object(v))
			return expect(c, "object");
		check_keys(c, v, known);
		long long ct = 0, host = 0, size = 0;
		bool a, b, d;
		if (get_int(c, v, "containerID", 0, UINT32_MAX - 1, &ct, &a) < 0 ||
		    get_int(c, v, "hostID", 0, UINT32_MAX - 1, &host, &b) < 0 ||
		    get_int(c, v, "size", 1, UINT32_MAX, &size, &d) < 0)
			return -1;
		if (!a || !b || !d)
			return perr(c, "%s: missing", !a ? "containerID" : !b ? "hostID" : "size");
		(*out)[(*n)++] = (struct userns_map){(uint32_t)ct, (uint32_t)host, (uint32_t)size};
		pop(c, old);
	}
	return 0;
}

static int parse_devices(struct ctx *c, json_t *arr, struct oci_spec *s)
{
	size_t i;
	json_t *v;
	s->devices = xcalloc(json_array_size(arr) + 1, sizeof *s->devices);
	json_array_foreach(arr, i, v) {
		size_t old = push_idx(c, i);
		static const char *const known[] = {"path", "type", "major", "minor", "fileMode",
		                                    "uid", "gid", NULL};
		if (!json_is_object(v))
			return expect(c, "object");
		check_keys(c, v, known);
		struct oci_device *d = &s->devices[s->ndevices++];
		const char *path = NULL, *type = NULL;
		long long major = 0, minor = 0, mode = 0666, uid = 0, gid = 0;
		bool has_major, has_minor, has_mode;
		if (get_str(c, v, "path", &path) < 0 || get_str(c, v, "type", &type) < 0 ||
		    get_int(c, v, "major", 0, UINT32_MAX, &major, &has_major) < 0 ||
		    get_int(c, v, "minor", 0, UINT32_MAX, &minor, &has_minor) < 0 ||
		    get_int(c, v, "fileMode", 0, 07777, &mode, &has_mode) < 0 ||
		    get_int(c, v, "uid", 0, UINT32_MAX - 1, &uid, &d->has_uid) < 0 ||
		    get_int(c, v, "gid", 0, UINT32_MAX - 1, &gid, &d->has_gid) < 0)
			return -1;
		if (!path || !abs_path(path)) {
			push_key(c, "path");
			return perr(c, path ? "'%s' is not an absolute path" : "%smissing",
			            path ? path : "");
		}
		if (!type || strlen(type) != 1 || !strchr("cbup", type[0])) {
			push_key(c, "type");
			return perr(c, "expected one of c, b, u, p");
		}
		d->path = xstrdup(path);
		d->type = type[0] == 'u' ? 'c' : type[0];
		if (d->type != 'p' && (!has_major || !has_minor))
			return perr(c, "%s: missing", has_major ? "minor" : "major");
		d->major = (unsigned)major;
		d->minor = (unsigned)minor;
		d->mode = (mode_t)mode;
		d->uid = (uid_t)uid;
		d->gid = (gid_t)gid;
		pop(c, old);
	}
	return 0;
}

/* A cpuset list ("0-3,5"): digits, commas and dashes only, so nothing else
 * reaches cpuset.cpus. */
static bool cpu_list_valid(const char *s)
{
	if (!*s || strlen(s) > 256)
		return false;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != ',' && *p != '-')
			return false;
	return true;
}

static int get_cpu_list(struct ctx *c, json_t *o, const char *key, char **out)
{
	const char *v = NULL;
	if (get_str(c, o, key, &v) < 0)
		return -1;
	if (!v || !*v)
		return 0;
	if (!cpu_list_valid(v)) {
		push_key(c, key);
		return perr(c, "'%s' is not a list such as 0-3,5", v);
	}
	*out = xstrdup(v);
	return 0;
}

static int parse_memory(struct ctx *c, json_t *o, struct oci_spec *s)
{
	static const char *const mk[] = {"limit", "swap", "reservation", "kernel", "kernelTCP",
	                                 "swappiness", "disableOOMKiller", "useHierarchy",
	                                 "checkBeforeUpdate", NULL};
	check_keys(c, o, mk);
	struct cgroup_res *r = &s->res;
	long long v;
	bool has;
	if (get_int(c, o, "limit", -1, INT64_MAX, &v, &has) < 0)
		return -1;
	if (has && v > 0) {
		s->c.memory = (uint64_t)v;
		r->memory = (uint64_t)v;
		s->has_resources = true;
	}
	/* 0 is "unset" for each, as runc reads them; -1 is "no limit". */
	if (get_int(c, o, "swap", -1, INT64_MAX, &r->swap, &r->has_swap) < 0 ||
	    get_int(c, o, "reservation", -1, INT64_MAX, &r->reservation, &r->has_reservation) < 0 ||
	    get_int(c, o, "kernelTCP", -1, INT64_MAX, &r->kernel_tcp, &r->has_kernel_tcp) < 0)
		return -1;
	r->has_swap &= r->swap != 0;
	r->has_reservation &= r->reservation != 0;
	r->has_kernel_tcp &= r->kernel_tcp != 0;
	if (r->has_swap && r->swap > 0 && r->memory && (uint64_t)r->swap < r->memory) {
		push_key(c, "swap");
		return perr(c, "%lld is below memory.limit %" PRIu64 " (swap counts memory + swap)",
		            r->swap, r->memory);
	}
	if (get_int(c, o, "kernel", -1, INT64_MAX, &v, &has) < 0)
		return -1;
	if (has && v > 0) {
		push_key(c, "kernel");
		return perr(c, "kernel memory limits are not supported (deprecated by the runtime "
		               "spec, and gone from Linux 6.1)");
	}
	/* -1: unset (docker's way of saying so). */
	long long sw;
	if (get_int(c, o, "swappiness", -1, 100, &sw, &has) < 0)
		return -1;
	r->has_swappiness = has && sw >= 0;
	r->swappiness = (uint64_t)(sw < 0 ? 0 : sw);
	if (get_bool(c, o, "disableOOMKiller", &r->disable_oom) < 0)
		return -1;
	s->has_resources |= r->has_swap || r->has_reservation || r->has_kernel_tcp ||
	                    r->has_swappiness || r->disable_oom;
	return 0;
}

static int parse_cpu(struct ctx *c, json_t *o, struct oci_spec *s)
{
	static const char *const ck[] = {"quota", "period", "shares", "cpus", "mems",
	                                 "realtimeRuntime", "realtimePeriod", "burst", "idle",
	                                 NULL};
	check_keys(c, o, ck);
	struct cgroup_res *r = &s->res;
	long long quota = 0, period = 100000, v;
	bool has_q, has_p, has;
	if (get_int(c, o, "quota", -1, INT64_MAX, &quota, &has_q) < 0 ||
	    get_int(c, o, "period", 0, 1000000, &period, &has_p) < 0)
		return -1;
	if (has_p && period == 0)
		has_p = false; /* unset */
	if (has_p && period < 1000) {
		push_key(c, "period");
		return perr(c, "%lld is below the kernel's minimum of 1000 microseconds", period);
	}
	if (!has_p)
		period = 100000;
	if (has_q && quota > 0) {
		/* A million CPUs at most, as --cpus: keeps quota * 1000 and the
		 * backends' milli * 100 from overflowing. */
		if ((uint64_t)quota / (uint64_t)period >= 1000000) {
			push_key(c, "quota");
			return perr(c, "%lld/%lld is more than a million CPUs", quota, period);
		}
		if (quota < 1000) {
			push_key(c, "quota");
			return perr(c, "%lld is below the kernel's minimum of 1000 microseconds",
			            quota);
		}
		s->c.cpus_milli = (uint64_t)quota * 1000 / (uint64_t)period;
		if (!s->c.cpus_milli)
			s->c.cpus_milli = 1;
	}
	/* The exact quota and period (cpus_milli above rounds them). */
	r->has_quota = has_q && quota != 0;
	r->quota = quota;
	r->has_period = has_p;
	r->period = (uint64_t)period;
	if (get_int(c, o, "shares", 0, 262144, &v, &has) < 0)
		return -1;
	if (has && v > 0) {
		if (v < 2) {
			push_key(c, "shares");
			return perr(c, "%lld is below the minimum of 2", v);
		}
		r->has_shares = true;
		r->shares = (uint64_t)v;
	}
	if (get_cpu_list(c, o, "cpus", &r->cpus) < 0 || get_cpu_list(c, o, "mems", &r->mems) < 0)
		return -1;
	if (get_int(c, o, "realtimeRuntime", -1, INT64_MAX, &r->rt_runtime, &r->has_rt_runtime) <
	            0 ||
	    get_int(c, o, "realtimePeriod", 0, INT64_MAX, &v, &r->has_rt_period) < 0)
		return -1;
	r->has_rt_runtime &= r->rt_runtime != 0;
	r->has_rt_period &= v != 0;
	r->rt_period = (uint64_t)v;
	if (get_int(c, o, "burst", 0, INT64_MAX, &v, &r->has_burst) < 0)
		return -1;
	r->burst = (uint64_t)v;
	r->has_burst &= v != 0;
	if (get_int(c, o, "idle", -1, 1, &r->idle, &r->has_idle) < 0)
		return -1;
	r->has_idle &= r->idle != 0;
	s->has_resources |= s->c.cpus_milli || r->has_quota || r->has_period || r->has_shares ||
	                    r->cpus || r->mems || r->has_rt_runtime || r->has_rt_period ||
	                    r->has_burst || r->has_idle;
	return 0;
}

static int parse_dev_rules(struct ctx *c, json_t *arr, struct cgroup_res *r)
{
	size_t i;
	json_t *v;
	r->dev = xcalloc(json_array_size(arr) + 16, sizeof *r->dev);
	json_array_foreach(arr, i, v) {
		size_t old = push_idx(c, i);
		static const char *const known[] = {"allow", "type", "major", "minor", "access",
		                                    NULL};
		if (!json_is_object(v))
			return expect(c, "object");
		check_keys(c, v, known);
		struct cgroup_dev_rule *d = &r->dev[r->ndev++];
		const char *type = "a", *access = "rwm";
		long long ma = CGROUP_ANY, mi = CGROUP_ANY;
		bool has_allow = false;
		json_t *al = json_object_get(v, "allow");
		has_allow = al && !json_is_null(al);
		if (get_bool(c, v, "allow", &d->allow) < 0 || get_str(c, v, "type", &type) < 0 ||
		    get_str(c, v, "access", &access) < 0 ||
		    get_int(c, v, "major", -1, UINT32_MAX, &ma, NULL) < 0 ||
		    get_int(c, v, "minor", -1, UINT32_MAX, &mi, NULL) < 0)
			return -1;
		if (!has_allow)
			return perr(c, "allow: missing");
		if (strlen(type) != 1 || !strchr("acb", type[0])) {
			push_key(c, "type");
			return perr(c, "'%s': expected a, c or b", type);
		}
		if (!*access)
			access = "rwm";
		if (strlen(access) > 3 || strspn(access, "rwm") != strlen(access)) {
			push_key(c, "access");
			return perr(c, "'%s': expected letters of rwm", access);
		}
		d->type = type[0];
		d->major = ma < 0 ? CGROUP_ANY : ma;
		d->minor = mi < 0 ? CGROUP_ANY : mi;
		snprintf(d->access, sizeof d->access, "%s", access);
		pop(c, old);
	}
	return 0;
}

/* A huge page size as the kernel names it: 64KB, 2MB, 1GB. */
static bool page_size_valid(const char *s)
{
	size_t n = strspn(s, "0123456789");
	return n > 0 && n < 8 && s[0] != '0' &&
	       (strcmp(s + n, "KB") == 0 || strcmp(s + n, "MB") == 0 || strcmp(s + n, "GB") == 0);
}

static bool ifname_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= 16 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-@", *p))
			return false;
	return true;
}

static int parse_blk_devs(struct ctx *c, json_t *o, const char *key, bool weights,
                          struct cgroup_blk_dev **out, size_t *n)
{
	json_t *a;
	if (get_arr(c, o, key, &a) < 0)
		return -1;
	if (!a)
		return 0;
	size_t old = push_key(c, key), i;
	json_t *v;
	*out = xcalloc(json_array_size(a) + 1, sizeof **out);
	json_array_foreach(a, i, v) {
		size_t o2 = push_idx(c, i);
		static const char *const kw[] = {"major", "minor", "weight", "leafWeight", NULL};
		static const char *const kt[] = {"major", "minor", "rate", NULL};
		if (!json_is_object(v))
			return expect(c, "object");
		check_keys(c, v, weights ? kw : kt);
		struct cgroup_blk_dev *d = &(*out)[(*n)++];
		long long ma = 0, mi = 0, val = 0, leaf = 0;
		bool has_ma, has_mi, has_val, has_leaf = false;
		if (get_int(c, v, "major", 0, UINT32_MAX, &ma, &has_ma) < 0 ||
		    get_int(c, v, "minor", 0, UINT32_MAX, &mi, &has_mi) < 0)
			return -1;
		if (!has_ma || !has_mi)
			return perr(c, "%s: missing", has_ma ? "minor" : "major");
		if (weights) {
			if (get_int(c, v, "weight", 10, 1000, &val, &has_val) < 0 ||
			    get_int(c, v, "leafWeight", 10, 1000, &leaf, &has_leaf) < 0)
				return -1;
			if (!has_val && !has_leaf)
				return perr(c, "weight: missing");
		} else {
			if (get_int(c, v, "rate", 0, INT64_MAX, &val, &has_val) < 0)
				return -1;
			if (!has_val)
				return perr(c, "rate: missing");
		}
		*d = (struct cgroup_blk_dev){.major = (unsigned)ma, .minor = (unsigned)mi,
		                             .value = (uint64_t)val, .has_leaf = has_leaf,
		                             .leaf = (uint64_t)leaf};
		pop(c, o2);
	}
	pop(c, old);
	return 0;
}

static int parse_blockio(struct ctx *c, json_t *o, struct oci_spec *s)
{
	static const char *const bk[] = {"weight", "leafWeight", "weightDevice",
	                                 "throttleReadBpsDevice", "throttleWriteBpsDevice",
	                                 "throttleReadIOPSDevice", "throttleWriteIOPSDevice", NULL};
	check_keys(c, o, bk);
	struct cgroup_res *r = &s->res;
	long long v;
	if (get_int(c, o, "weight", 0, 1000, &v, &r->has_blk_weight) < 0)
		return -1;
	r->has_blk_weight &= v != 0;
	r->blk_weight = (uint64_t)v;
	if (r->has_blk_weight && v < 10) {
		push_key(c, "weight");
		return perr(c, "%lld is out of range [10, 1000]", v);
	}
	if (get_int(c, o, "leafWeight", 0, 1000, &v, &r->has_blk_leaf) < 0)
		return -1;
	r->has_blk_leaf &= v != 0;
	r->blk_leaf = (uint64_t)v;
	if (r->has_blk_leaf && v < 10) {
		push_key(c, "leafWeight");
		return perr(c, "%lld is out of range [10, 1000]", v);
	}
	if (parse_blk_devs(c, o, "weightDevice", true, &r->blk_wdev, &r->nblk_wdev) < 0)
		return -1;
	for (int k = 0; k < CG_THROTTLE_COUNT; k++)
		if (parse_blk_devs(c, o, cgroup_throttle_fields[k], false, &r->throttle[k],
		                   &r->nthrottle[k]) < 0)
			return -1;
	return 0;
}

static int parse_hugepages(struct ctx *c, json_t *a, struct cgroup_res *r)
{
	size_t i;
	json_t *v;
	r->huge = xcalloc(json_array_size(a) + 1, sizeof *r->huge);
	json_array_foreach(a, i, v) {
		size_t old = push_idx(c, i);
		static const char *const known[] = {"pageSize", "limit", NULL};
		if (!json_is_object(v))
			return expect(c, "object");
		check_keys(c, v, known);
		const char *size = NULL;
		long long lim = 0;
		bool has;
		if (get_str(c, v, "pageSize", &size) < 0 ||
		    get_int(c, v, "limit", 0, INT64_MAX, &lim, &has) < 0)
			return -1;
		if (!size)
			return perr(c, "pageSize: missing");
		if (!page_size_valid(size)) {
			push_key(c, "pageSize");
			return perr(c, "'%s': expected a size such as 2MB or 1GB", size);
		}
		if (!has)
			return perr(c, "limit: missing");
		snprintf(r->huge[r->nhuge].size, sizeof r->huge[r->nhuge].size, "%s", size);
		r->huge[r->nhuge++].limit = (uint64_t)lim;
		pop(c, old);
	}
	return 0;
}

static int parse_network(struct ctx *c, json_t *o, struct cgroup_res *r)
{
	static const char *const nk[] = {"classID", "priorities", NULL};
	check_keys(c, o, nk);
	long long v;
	if (get_int(c, o, "classID", 0, UINT32_MAX, &v, &r->has_classid) < 0)
		return -1;
	r->classid = (uint32_t)v;
	json_t *a, *p;
	if (get_arr(c, o, "priorities", &a) < 0)
		return -1;
	if (!a)
		return 0;
	size_t old = push_key(c, "priorities"), i;
	r->prio = xcalloc(json_array_size(a) + 1, sizeof *r->prio);
	json_array_foreach(a, i, p) {
		size_t o2 = push_idx(c, i);
		static const char *const known[] = {"name", "priority", NULL};
		if (!json_is_object(p))
			return expect(c, "object");
		check_keys(c, p, known);
		const char *name = NULL;
		bool has;
		if (get_str(c, p, "name", &name) < 0 ||
		    get_int(c, p, "priority", 0, UINT32_MAX, &v, &has) < 0)
			return -1;
		if (!name || !has)
			return perr(c, "%s: missing", name ? "priority" : "name");
		if (!ifname_valid(name)) {
			push_key(c, "name");
			return perr(c, "'%s' is not an interface name", name);
		}
		snprintf(r->prio[r->nprio].name, sizeof r->prio[r->nprio].name, "%s", name);
		r->prio[r->nprio++].prio = (uint32_t)v;
		pop(c, o2);
	}
	pop(c, old);
	return 0;
}

static int parse_resources(struct ctx *c, json_t *r, struct oci_spec *s)
{
	static const char *const known[] = {"memory", "cpu", "pids", "devices", "blockIO",
	                                    "hugepageLimits", "network", "rdma", "unified", NULL};
	check_keys(c, r, known);
	json_t *o, *a;
	size_t old;
	if (get_obj(c, r, "memory", &o) < 0)
		return -1;
	if (o) {
		old = push_key(c, "memory");
		if (parse_memory(c, o, s) < 0)
			return -1;
		pop(c, old);
	}
	if (get_obj(c, r, "cpu", &o) < 0)
		return -1;
	if (o) {
		old = push_key(c, "cpu");
		if (parse_cpu(c, o, s) < 0)
			return -1;
		pop(c, old);
	}
	if (get_obj(c, r, "pids", &o) < 0)
		return -1;
	if (o) {
		old = push_key(c, "pids");
		static const char *const pk[] = {"limit", NULL};
		check_keys(c, o, pk);
		long long v;
		bool has;
		if (get_int(c, o, "limit", -1, INT64_MAX, &v, &has) < 0)
			return -1;
		if (has && v > 0) {
			s->c.pids_limit = (uint64_t)v;
			s->has_resources = true;
		}
		pop(c, old);
	}
	if (get_arr(c, r, "devices", &a) < 0)
		return -1;
	if (a && json_array_size(a)) {
		old = push_key(c, "devices");
		if (parse_dev_rules(c, a, &s->res) < 0)
			return -1;
		pop(c, old);
		s->has_resources = true;
	}
	if (get_obj(c, r, "blockIO", &o) < 0)
		return -1;
	if (o) {
		old = push_key(c, "blockIO");
		if (parse_blockio(c, o, s) < 0)
			return -1;
		pop(c, old);
	}
	if (get_arr(c, r, "hugepageLimits", &a) < 0)
		return -1;
	if (a && json_array_size(a)) {
		old = push_key(c, "hugepageLimits");
		if (parse_hugepages(c, a, &s->res) < 0)
			return -1;
		pop(c, old);
	}
	if (get_obj(c, r, "network", &o) < 0)
		return -1;
	if (o) {
		old = push_key(c, "network");
		if (parse_network(c, o, &s->res) < 0)
			return -1;
		pop(c, old);
	}
	for (const char *const *k = known + 7; *k; k++) {
		json_t *x = json_object_get(r, *k);
		if (x && json_is_object(x) && json_object_size(x)) {
			push_key(c, *k);
			return perr(c, "not supported by krill");
		}
	}
	s->has_resources |= cgroup_res_controllers(&s->res) != 0;
	return 0;
}

/* After the config's device rules, as runc does: the devices every
 * container gets (null, zero, full, random, urandom, tty, console, ptmx,
 * pts) and those linux.devices names stay usable. */
static void append_default_rules(struct oci_spec *s)
{
	static const struct {
		long long major, minor;
	} defaults[] = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2},
	                {136, CGROUP_ANY}};
	struct cgroup_res *r = &s->res;
	/* parse_dev_rules left room for the defaults. */
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		r->dev[r->ndev++] = (struct cgroup_dev_rule){.allow = true, .type = 'c',
		                                             .major = defaults[i].major,
		                                             .minor = defaults[i].minor,
		                                             .access = "rwm"};
	size_t want = r->ndev + s->ndevices;
	r->dev = xrealloc(r->dev, (want + 1) * sizeof *r->dev);
	for (size_t i = 0; i < s->ndevices; i++)
		if (s->devices[i].type != 'p')
			r->dev[r->ndev++] = (struct cgroup_dev_rule){
				.allow = true, .type = s->devices[i].type,
				.major = s->devices[i].major, .minor = s->devices[i].minor,
				.access = "rwm"};
}

/* The namespace a sysctl belongs to (as runc's list), 0 = the host's. */
static int sysctl_ns(const char *key)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
	                                  "kernel.sem", "kernel.shmall", "kernel.shmmax",
	                                  "kernel.shmmni", "kernel.shm_rmid_forced", NULL};
	for (const char *const *k = ipc; *k; k++)
		if (strcmp(key, *k) == 0)
			return CLONE_NEWIPC;
	if (strncmp(key, "fs.mqueue.", 10) == 0)
		return CLONE_NEWIPC;
	if (strncmp(key, "net.", 4) == 0)
		return CLONE_NEWNET;
	if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
		return CLONE_NEWUTS;
	return 0;
}

static int parse_linux(struct ctx *c, json_t *l, struct oci_spec *s)
{
	static const char *const known[] = {
		"namespaces", "uidMappings", "gidMappings", "devices", "resources", "cgroupsPath",
		"sysctl", "maskedPaths", "readonlyPaths", "seccomp", "rootfsPropagation",
		"mountLabel", "intelRdt", "personality", "timeOffsets", NULL};
	check_keys(c, l, known);
	json_t *a, *o;
	size_t old;
	if (get_arr(c, l, "namespaces", &a) < 0)
		return -1;
	if (a) {
		old = push_key(c, "namespaces");
		if (parse_namespaces(c, a, s) < 0)
			return -1;
		pop(c, old);
	}
	/* An unlisted namespace is the runtime's (runtime-spec config-linux).
	 * The mount namespace is the exception: krill never mounts in the
	 * runtime's, so the container gets a private copy of it (with the
	 * host's mounts, kept in sync as rslave) - see krill-oci(1). */
	if (!((s->ns_new | s->ns_join) & CLONE_NEWNS)) {
		s->ns_new |= CLONE_NEWNS;
		s->ns[s->nns++] = (struct oci_ns){.flag = CLONE_NEWNS};
	}
	if (get_arr(c, l, "uidMappings", &a) < 0)
		return -1;
	if (a) {
		old = push_key(c, "uidMappings");
		if (parse_idmaps(c, a, &s->uid_maps, &s->nuid_maps) < 0)
			return -1;
		pop(c, old);
	}
	if (get_arr(c, l, "gidMappings", &a) < 0)
		return -1;
	if (a) {
		old = push_key(c, "gidMappings");
		if (parse_idmaps(c, a, &s->gid_maps, &s->ngid_maps) < 0)
			return -1;
		pop(c, old);
	}
	if ((s->nuid_maps || s->ngid_maps) && !(s->ns_new & CLONE_NEWUSER))
		return perr(c, "uidMappings/gidMappings need a new user namespace");
	if ((s->ns_new & CLONE_NEWUSER) && (!s->nuid_maps || !s->ngid_maps)) {
		push_key(c, s->nuid_maps ? "gidMappings" : "uidMappings");
		return perr(c, "missing: a new user namespace needs both maps");
	}
	if (get_arr(c, l, "devices", &a) < 0)
		return -1;
	if (a) {
		old = push_key(c, "devices");
		if (parse_devices(c, a, s) < 0)
			return -1;
		pop(c, old);
	}
	if (get_obj(c, l, "resources", &o) < 0)
		return -1;
	if (o) {
		old = push_key(c, "resources");
		if (parse_resources(c, o, s) < 0)
			return -1;
		pop(c, old);
	}
	if (s->res.ndev)
		append_default_rules(s);
	const char *cg = NULL;
	if (get_str(c, l, "cgroupsPath", &cg) < 0)
		return -1;
	if (cg && *cg) {
		if (strstr(cg, "..") || strchr(cg, ':')) {
			push_key(c, "cgroupsPath");
			return perr(c, "'%s': '..' and systemd slice:prefix:name paths are not "
			               "supported", cg);
		}
		s->cgroups_path = xstrdup(cg);
	}
	if (get_obj(c, l, "sysctl", &o) < 0)
		return -1;
	if (o) {
		old = push_key(c, "sysctl");
		const char *key;
		json_t *v;
		s->sysctl = xcalloc(json_object_size(o) + 1, sizeof *s->sysctl);
		json_object_foreach(o, key, v) {
			if (!json_is_string(v)) {
				push_key(c, key);
				return expect(c, "string");
			}
			if (!*key || strstr(key, "..") || strchr(key, '/') || key[0] == '.') {
				push_key(c, key);
				return perr(c, "not a sysctl name");
			}
			if (!(sysctl_ns(key) & (s->ns_new | s->ns_join))) {
				push_key(c, key);
				return perr(c, "not in a namespace of the container's own: it would "
				               "change the host");
			}
			s->sysctl[s->nsysctl++] = (struct oci_sysctl){xstrdup(key),
			                                              xstrdup(json_string_value(v))};
		}
		pop(c, old);
	}
	if (get_strv(c, l, "maskedPaths", &s->masked) < 0 ||
	    get_strv(c, l, "readonlyPaths", &s->readonly) < 0)
		return -1;
	for (size_t i = 0; i < s->masked.n + s->readonly.n; i++) {
		bool m = i < s->masked.n;
		const char *p = m ? s->masked.v[i] : s->readonly.v[i - s->masked.n];
		if (!abs_path(p)) {
			push_key(c, m ? "maskedPaths" : "readonlyPaths");
			push_idx(c, m ? i : i - s->masked.n);
			return perr(c, "'%s' is not an absolute path", p);
		}
	}
	const char *prop = NULL;
	if (get_str(c, l, "rootfsPropagation", &prop) < 0)
		return -1;
	if (prop && *prop) {
		s->rootfs_propagation = propagation_flag(prop);
		if (!s->rootfs_propagation) {
			push_key(c, "rootfsPropagation");
			return perr(c, "unknown propagation '%s'", prop);
		}
	}
	const char *label = NULL;
	if (get_str(c, l, "mountLabel", &label) < 0)
		return -1;
	if (label && *label) {
		push_key(c, "mountLabel");
		return perr(c, "SELinux labels are not supported by krill");
	}
	for (const char *const *k = known + 12; *k; k++)
		if (json_object_get(l, *k)) {
			push_key(c, *k);
			return perr(c, "not supported by krill");
		}
	return 0;
}

/* ---- the whole document ----------------------------------------------- */

static int parse_root(struct ctx *c, json_t *top, const char *buf, size_t len,
                      struct oci_spec *s)
{
	static const char *const known[] = {"ociVersion", "process", "root", "hostname",
	                                    "domainname", "mounts", "hooks", "linux",
	                                    "annotations", NULL};
	if (!json_is_object(top))
		return expect(c, "object");
	check_keys(c, top, known);
	const char *ver = NULL;
	if (get_str(c, top, "ociVersion", &ver) < 0)
		return -1;
	if (!ver)
		return perr(c, "ociVersion: missing");
	if (strncmp(ver, "1.", 2) != 0 || !isdigit((unsigned char)ver[2])) {
		push_key(c, "ociVersion");
		return perr(c, "version '%s' is not supported (krill implements 1.x)", ver);
	}
	s->oci_version = xstrdup(ver);

	json_t *o, *a;
	size_t old;
	if (get_obj(c, top, "root", &o) < 0)
		return -1;
	if (!o)
		return perr(c, "root: missing");
	old = push_key(c, "root");
	static const char *const rk[] = {"path", "readonly", NULL};
	check_keys(c, o, rk);
	const char *rp = NULL;
	if (get_str(c, o, "path", &rp) < 0 || get_bool(c, o, "readonly", &s->root_readonly) < 0)
		return -1;
	if (!rp || !*rp)
		return perr(c, "path: missing");
	s->c.image = join_bundle(c, rp);
	pop(c, old);

	if (get_obj(c, top, "process", &o) < 0)
		return -1;
	if (!o)
		return perr(c, "process: missing (krill can't create a container without one)");
	old = push_key(c, "process");
	if (parse_process(c, o, s) < 0)
		return -1;
	pop(c, old);

	const char *hn = NULL, *dn = NULL;
	if (get_str(c, top, "hostname", &hn) < 0 || get_str(c, top, "domainname", &dn) < 0)
		return -1;
	if (dn && *dn) {
		push_key(c, "domainname");
		return perr(c, "not supported by krill");
	}
	if (hn && *hn)
		s->c.hostname = xstrdup(hn);

	if (get_arr(c, top, "mounts", &a) < 0)
		return -1;
	if (a) {
		old = push_key(c, "mounts");
		if (parse_mounts(c, a, s) < 0)
			return -1;
		pop(c, old);
	}
	if (get_obj(c, top, "hooks", &o) < 0)
		return -1;
	if (o) {
		old = push_key(c, "hooks");
		if (parse_hooks(c, o, s) < 0)
			return -1;
		pop(c, old);
	}
	if (get_obj(c, top, "linux", &o) < 0)
		return -1;
	if (!o)
		return perr(c, "linux: missing (krill runs Linux containers only)");
	old = push_key(c, "linux");
	if (parse_linux(c, o, s) < 0)
		return -1;
	json_t *sc;
	if (get_obj(c, o, "seccomp", &sc) < 0)
		return -1;
	if (sc) {
		static const char *const prefix[] = {"linux", "seccomp"};
		if (seccomp_profile_from_json(sc, buf, len, c->file, prefix, 2, &s->seccomp,
		                              c->e) < 0)
			return -1;
		s->seccomp_json = json_dumps(sc, JSON_COMPACT);
	}
	pop(c, old);

	if (s->c.hostname && !(s->ns_new & CLONE_NEWUTS) && !(s->ns_join & CLONE_NEWUTS)) {
		push_key(c, "hostname");
		return perr(c, "needs a UTS namespace (linux.namespaces)");
	}
	/* The shared description of the namespaces. */
	s->c.ns_pid = s->ns_new & CLONE_NEWPID;
	s->c.ns_ipc = s->ns_new & CLONE_NEWIPC;
	s->c.net = s->ns_new & CLONE_NEWNET ? NET_NONE : NET_HOST;
	s->c.userns = s->ns_new & CLONE_NEWUSER;
	if (!(s->ns_new & CLONE_NEWUTS)) {
		free(s->c.hostname); /* joined: the namespace's own name stays */
		s->c.hostname = NULL;
	}

	if (get_obj(c, top, "annotations", &o) < 0)
		return -1;
	if (o) {
		const char *key;
		json_t *v;
		json_object_foreach(o, key, v) {
			if (!json_is_string(v)) {
				push_key(c, "annotations");
				push_key(c, key);
				return expect(c, "string");
			}
		}
		s->annotations = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	} else {
		s->annotations = xstrdup("{}");
	}
	return 0;
}

int oci_config_parse(const char *buf, size_t len, const char *filename, const char *bundle,
                     oci_unknown_fn unknown, void *arg, struct oci_spec *out, struct kerr *e)
{
	memset(out, 0, sizeof *out);
	container_init(&out->c);
	out->c.uid = 0; /* process.user is required; root until it says otherwise */
	out->c.gid = 0;
	struct ctx c = {.file = filename, .bundle = bundle, .e = e, .unknown = unknown,
	                .arg = arg};
	json_t *top = json_doc_load(buf, len, filename, e);
	if (!top)
		return -1;
	int r = parse_root(&c, top, buf, len, out);
	json_decref(top);
	if (r < 0) {
		oci_spec_free(out);
		return -1;
	}
	return 0;
}

void oci_spec_free(struct oci_spec *s)
{
	free(s->oci_version);
	container_free(&s->c);
	strv_free(&s->env);
	free(s->groups);
	free(s->rlimits);
	for (size_t i = 0; i < s->nmounts; i++) {
		free(s->mounts[i].dst);
		free(s->mounts[i].src);
		free(s->mounts[i].type);
		free(s->mounts[i].data);
	}
	free(s->mounts);
	for (int k = 0; k < OCI_HOOK_COUNT; k++) {
		for (size_t i = 0; i < s->hooks[k].n; i++) {
			free(s->hooks[k].v[i].path);
			strv_free(&s->hooks[k].v[i].args);
			strv_free(&s->hooks[k].v[i].env);
		}
		free(s->hooks[k].v);
	}
	for (size_t i = 0; i < s->nns; i++)
		free(s->ns[i].path);
	free(s->uid_maps);
	free(s->gid_maps);
	for (size_t i = 0; i < s->ndevices; i++)
		free(s->devices[i].path);
	free(s->devices);
	free(s->cgroups_path);
	cgroup_res_free(&s->res);
	for (size_t i = 0; i < s->nsysctl; i++) {
		free(s->sysctl[i].key);
		free(s->sysctl[i].value);
	}
	free(s->sysctl);
	strv_free(&s->masked);
	strv_free(&s->readonly);
	if (s->seccomp)
		seccomp_profile_free(s->seccomp);
	free(s->seccomp_json);
	free(s->annotations);
	memset(s, 0, sizeof *s);
}

int oci_process_parse(const char *buf, size_t len, const char *filename, struct oci_spec *s,
                      struct kerr *e)
{
	struct ctx c = {.file = filename, .bundle = "/", .e = e};
	if (memchr(buf, '\0', len))
		return kerr_set(e, 0, "%s: invalid JSON: NUL byte", filename);
	json_error_t je;
	json_t *top = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!top)
		return kerr_set(e, 0, "%s:%d:%d: invalid JSON: %s", filename, je.line, je.column,
		                je.text);
	if (s->c.argv)
		for (char **a = s->c.argv; *a; a++)
			free(*a);
	free(s->c.argv);
	s->c.argv = NULL;
	free(s->c.cwd);
	s->c.cwd = NULL;
	strv_free(&s->env);
	free(s->groups);
	s->groups = NULL;
	s->ngroups = 0;
	free(s->rlimits);
	s->rlimits = NULL;
	s->nrlimits = 0;
	s->caps = (struct capsets){0};
	s->terminal = s->has_umask = s->has_oom_score_adj = false;
	s->c.uid = s->c.gid = 0;
	int r = json_is_object(top) ? parse_process(&c, top, s) : expect(&c, "object");
	json_decref(top);
	return r;
}

int oci_signal_parse(const char *s)
{
	if (!s || !*s)
		return -1;
	unsigned long n;
	if (isdigit((unsigned char)s[0]))
		return parse_ulong(s, 64, &n) == 0 && n > 0 ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int sig = 1; sig < NSIG; sig++) {
		const char *abbrev = sigabbrev_np(sig);
		if (abbrev && strcasecmp(abbrev, s) == 0)
			return sig;
	}
	return -1;
}

bool oci_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 1024 || id[0] == '.')
		return false;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_+-.", *p))
			return false;
	return true;
}
