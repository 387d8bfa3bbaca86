/* cdi_spec.c: the CDI spec parser (see cdi_spec.h).
 *
 * Two steps: the document becomes a small tree of nodes (from libyaml's
 * events, which remember their line and column; or from jansson's tree for
 * JSON, whose positions libyaml supplies only when there is an error to
 * place), then one walk over the tree checks every field and fills the
 * structs.
 * Field rules follow the CNCF SPEC.md and its schema; the version rules
 * follow specs-go (a field may only be used from the version that added
 * it). */
#include "cdi_spec.h"
#include "json_doc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 32
#define MAX_NODES 500000

/* ---- the node tree --------------------------------------------------------- */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ykind kind;
	int line, col;      /* 1-based */
	bool plain;         /* an unquoted scalar (a JSON number, true, false, null) */
	bool real;          /* a JSON number with a fraction or exponent */
	char *text;         /* scalar */
	size_t len;
	struct ynode **kid; /* sequence items; a mapping's keys and values alternate */
	size_t n;
};

static void ynode_free(struct ynode *y)
{
	if (!y)
		return;
	for (size_t i = 0; i < y->n; i++)
		ynode_free(y->kid[i]);
	free(y->kid);
	free(y->text);
	free(y);
}

struct reader {
	yaml_parser_t p;
	const char *file;
	size_t nodes;
	struct kerr *e;
};

static int read_fail(struct reader *r, const yaml_mark_t *m, const char *why)
{
	return kerr_set(r->e, 0, "%s:%zu:%zu: invalid YAML: %s", r->file, m->line + 1,
	                m->column + 1, why);
}

static int next_event(struct reader *r, yaml_event_t *ev)
{
	if (yaml_parser_parse(&r->p, ev))
		return 0;
	const yaml_mark_t *m = r->p.problem_mark.line || r->p.problem_mark.column
	                               ? &r->p.problem_mark : &r->p.context_mark;
	char why[256];
	snprintf(why, sizeof why, "%s%s%s", r->p.problem ? r->p.problem : "syntax error",
	         r->p.context ? " " : "", r->p.context ? r->p.context : "");
	return read_fail(r, m, why);
}

/* The node that ev starts (ev is consumed).  NULL on error. */
static struct ynode *read_node(struct reader *r, yaml_event_t *ev, int depth)
{
	const yaml_mark_t start = ev->start_mark;
	if (ev->type == YAML_ALIAS_EVENT) {
		yaml_event_delete(ev);
		read_fail(r, &start, "aliases are not allowed in a CDI spec");
		return NULL;
	}
	const yaml_char_t *anchor = ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.anchor
	                            : ev->type == YAML_SEQUENCE_START_EVENT
	                                    ? ev->data.sequence_start.anchor
	                                    : ev->type == YAML_MAPPING_START_EVENT
	                                              ? ev->data.mapping_start.anchor : NULL;
	if (anchor) {
		yaml_event_delete(ev);
		read_fail(r, &start, "anchors are not allowed in a CDI spec");
		return NULL;
	}
	if (depth > MAX_DEPTH || ++r->nodes > MAX_NODES) {
		yaml_event_delete(ev);
		read_fail(r, &start, depth > MAX_DEPTH ? "nested too deeply" : "too many values");
		return NULL;
	}
	struct ynode *y = xcalloc(1, sizeof *y);
	y->line = (int)start.line + 1;
	y->col = (int)start.column + 1;
	if (ev->type == YAML_SCALAR_EVENT) {
		y->kind = Y_SCALAR;
		y->len = ev->data.scalar.length;
		y->text = xmalloc(y->len + 1); /* may hold NUL bytes ("\0" escapes) */
		memcpy(y->text, ev->data.scalar.value, y->len);
		y->text[y->len] = '\0';
		y->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		yaml_event_delete(ev);
		return y;
	}
	yaml_event_type_t end;
	if (ev->type == YAML_SEQUENCE_START_EVENT) {
		y->kind = Y_SEQ;
		end = YAML_SEQUENCE_END_EVENT;
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		y->kind = Y_MAP;
		end = YAML_MAPPING_END_EVENT;
	} else {
		yaml_event_delete(ev);
		read_fail(r, &start, "unexpected event");
		ynode_free(y);
		return NULL;
	}
	yaml_event_delete(ev);
	size_t cap = 0;
	for (;;) {
		yaml_event_t kev;
		if (next_event(r, &kev) < 0)
			goto fail;
		if (kev.type == end) {
			yaml_event_delete(&kev);
			return y;
		}
		struct ynode *k = read_node(r, &kev, depth + 1);
		if (!k)
			goto fail;
		if (y->n == cap) {
			cap = cap ? 2 * cap : 8;
			y->kid = xrealloc(y->kid, cap * sizeof *y->kid);
		}
		y->kid[y->n++] = k;
	}
fail:
	ynode_free(y);
	return NULL;
}

static struct ynode *read_doc(const char *buf, size_t len, const char *file, struct kerr *e)
{
	struct reader r = {.file = file, .e = e};
	if (!yaml_parser_initialize(&r.p)) {
		kerr_set(e, ENOMEM, "%s: can't start the YAML parser", file);
		return NULL;
	}
	yaml_parser_set_input_string(&r.p, (const unsigned char *)buf, len);
	struct ynode *root = NULL;
	yaml_event_t ev;
	int state = 0; /* 0: before the document, 1: in it, 2: after it */
	for (;;) {
		if (next_event(&r, &ev) < 0)
			goto fail;
		yaml_event_type_t t = ev.type;
		if (t == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if (t == YAML_DOCUMENT_START_EVENT) {
			yaml_mark_t m = ev.start_mark;
			yaml_event_delete(&ev);
			if (state++ > 0) {
				read_fail(&r, &m, "more than one document");
				goto fail;
			}
			continue;
		}
		root = read_node(&r, &ev, 0);
		if (!root)
			goto fail;
	}
	yaml_parser_delete(&r.p);
	if (!root) {
		kerr_set(e, 0, "%s:1:1: empty spec", file);
		return NULL;
	}
	return root;
fail:
	ynode_free(root);
	yaml_parser_delete(&r.p);
	return NULL;
}

/* ---- checking --------------------------------------------------------------- */

/* Versions as major * 1000 + minor; the patch level never adds fields. */
#define V(maj, min) ((maj) * 1000 + (min))

struct ctx {
	const char *file;
	bool json;
	char path[768];
	struct kerr *e;
	int need;                /* the version the fields used need */
	char need_what[64];      /* the field that needs it */
	int need_line, need_col;
	char need_path[768];
};

static int fail(struct ctx *c, const struct ynode *y, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, const struct ynode *y, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	char at[64] = "";
	if (y->line) /* 0: a JSON value libyaml couldn't place (see cdi_spec_parse) */
		snprintf(at, sizeof at, ":%d:%d", y->line, y->col);
	if (c->path[0])
		return kerr_set(c->e, 0, "%s%s: %s: %s", c->file, at, c->path, why);
	return kerr_set(c->e, 0, "%s%s: %s", c->file, at, why);
}

static char *where(struct ctx *c, const struct ynode *y)
{
	if (!y->line)
		return xasprintf("%s: %s", c->file, c->path);
	return xasprintf("%s:%d:%d: %s", c->file, y->line, y->col, c->path);
}

/* Extend the path with ".key" or "[i]"; returns the old length. */
static size_t push(struct ctx *c, const char *key, long idx)
{
	size_t old = strlen(c->path);
	if (key)
		snprintf(c->path + old, sizeof c->path - old, "%s%s", old ? "." : "", key);
	else
		snprintf(c->path + old, sizeof c->path - old, "[%ld]", idx);
	return old;
}

static void pop(struct ctx *c, size_t old)
{
	c->path[old] = '\0';
}

static void needs(struct ctx *c, const struct ynode *y, int version, const char *what)
{
	if (version <= c->need)
		return;
	c->need = version;
	snprintf(c->need_what, sizeof c->need_what, "%s", what);
	snprintf(c->need_path, sizeof c->need_path, "%s", c->path);
	c->need_line = y->line;
	c->need_col = y->col;
}

static bool is_null(const struct ynode *y)
{
	return y->kind == Y_SCALAR && y->plain &&
	       (y->len == 0 || strcmp(y->text, "null") == 0 || strcmp(y->text, "~") == 0 ||
	        strcmp(y->text, "Null") == 0 || strcmp(y->text, "NULL") == 0);
}

static int want_kind(struct ctx *c, const struct ynode *y, enum ykind k)
{
	static const char *names[] = {"a string", "a list", "an object"};
	if (y->kind != k)
		return fail(c, y, "expected %s", names[k]);
	return 0;
}

/* A string: any scalar in YAML but null; a quoted one in JSON. */
static int get_str(struct ctx *c, const struct ynode *y, char **out)
{
	if (y->kind != Y_SCALAR || is_null(y) || (c->json && y->plain))
		return fail(c, y, "expected a string");
	if (memchr(y->text, '\0', y->len))
		return fail(c, y, "contains a NUL byte");
	free(*out);
	*out = xstrdup(y->text);
	return 0;
}

static int get_int(struct ctx *c, const struct ynode *y, int64_t min, int64_t max, int64_t *out)
{
	const char *s = y->text;
	if (y->kind == Y_SCALAR && y->plain && !y->real && *s) {
		const char *p = s + (*s == '-');
		bool digits = *p != '\0';
		for (; *p; p++)
			digits &= isdigit((unsigned char)*p) != 0;
		errno = 0;
		char *end;
		long long v = digits ? strtoll(s, &end, 10) : 0;
		if (digits && errno == 0 && v >= min && v <= max) {
			*out = v;
			return 0;
		}
	}
	return fail(c, y, "expected an integer from %" PRId64 " to %" PRId64, min, max);
}

static int get_bool(struct ctx *c, const struct ynode *y, bool *out)
{
	if (y->kind == Y_SCALAR && y->plain && (!strcmp(y->text, "true") || !strcmp(y->text, "false"))) {
		*out = y->text[0] == 't';
		return 0;
	}
	return fail(c, y, "expected true or false");
}

/* A list of strings; each one checked by check (may be NULL). */
static int get_strv(struct ctx *c, const struct ynode *y, struct strv *out,
                    int (*check)(struct ctx *, const struct ynode *, const char *))
{
	if (is_null(y))
		return 0;
	if (want_kind(c, y, Y_SEQ) < 0)
		return -1;
	for (size_t i = 0; i < y->n; i++) {
		size_t old = push(c, NULL, (long)i);
		char *s = NULL;
		if (get_str(c, y->kid[i], &s) < 0 || (check && check(c, y->kid[i], s) < 0)) {
			free(s);
			return -1;
		}
		strv_push_owned(out, s);
		pop(c, old);
	}
	return 0;
}

/* Walk a mapping: for each key, call field(c, key, value, arg).  Keys are
 * strings, each at most once. */
typedef int field_fn(struct ctx *c, const char *key, const struct ynode *val, void *arg);

static int walk_map(struct ctx *c, const struct ynode *y, field_fn *field, void *arg)
{
	if (want_kind(c, y, Y_MAP) < 0)
		return -1;
	for (size_t i = 0; i + 1 < y->n; i += 2) {
		const struct ynode *k = y->kid[i];
		if (k->kind != Y_SCALAR || memchr(k->text, '\0', k->len))
			return fail(c, k, "expected a field name");
		for (size_t j = 0; j < i; j += 2)
			if (strcmp(y->kid[j]->text, k->text) == 0)
				return fail(c, k, "field '%s' given twice", k->text);
		size_t old = push(c, k->text, 0);
		int r = field(c, k->text, y->kid[i + 1], arg);
		if (r == 1)
			return fail(c, k, "unknown field");
		if (r < 0)
			return -1;
		pop(c, old);
	}
	return 0;
}

static const struct ynode *map_get(const struct ynode *y, const char *key)
{
	for (size_t i = 0; i + 1 < y->n; i += 2)
		if (y->kid[i]->kind == Y_SCALAR && strcmp(y->kid[i]->text, key) == 0)
			return y->kid[i + 1];
	return NULL;
}

static int require(struct ctx *c, const struct ynode *obj, const char *const *keys)
{
	for (; *keys; keys++)
		if (!map_get(obj, *keys))
			return fail(c, obj, "missing required field '%s'", *keys);
	return 0;
}

/* An absolute path with no `..` component: it names a place in the
 * container (or on the host), and must not climb out of either. */
static int check_path(struct ctx *c, const struct ynode *y, const char *s)
{
	if (s[0] != '/')
		return fail(c, y, "'%s' is not an absolute path", s);
	if (strlen(s) >= 4096)
		return fail(c, y, "path longer than 4095 bytes");
	for (const char *p = s; *p;) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return fail(c, y, "'%s' contains a '..' component", s);
		p += n;
	}
	return 0;
}

static int check_env(struct ctx *c, const struct ynode *y, const char *s)
{
	const char *eq = strchr(s, '=');
	bool ok = eq && eq != s && (isalpha((unsigned char)s[0]) || s[0] == '_');
	for (const char *p = s; ok && p < eq; p++)
		ok = isgraph((unsigned char)*p);
	if (!ok)
		return fail(c, y, "'%s' is not NAME=VALUE", s);
	return 0;
}

static int check_mount_option(struct ctx *c, const struct ynode *y, const char *s)
{
	static const char *const known[] = {
		"ro", "rw", "bind", "rbind", "nosuid", "suid", "nodev", "dev", "noexec", "exec",
		"private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable",
		"runbindable", "relatime", "norelatime", "noatime", "atime", "nodiratime",
		"diratime", "strictatime", "nostrictatime", "sync", "async", "defaults", NULL};
	for (const char *const *k = known; *k; k++)
		if (strcmp(*k, s) == 0)
			return 0;
	return fail(c, y, "unknown mount option '%s'", s);
}

/* ---- the fields ---------------------------------------------------------- */

static int node_field(struct ctx *c, const char *key, const struct ynode *v, void *arg)
{
	struct cdi_node *n = arg;
	int64_t x;
	if (!strcmp(key, "path"))
		return get_str(c, v, &n->path) < 0 ? -1 : check_path(c, v, n->path);
	if (!strcmp(key, "hostPath")) {
		needs(c, v, V(0, 5), "hostPath");
		return get_str(c, v, &n->host_path) < 0 ? -1 : check_path(c, v, n->host_path);
	}
	if (!strcmp(key, "type")) {
		_cleanup_free_ char *t = NULL;
		if (get_str(c, v, &t) < 0)
			return -1;
		if (strlen(t) != 1 || !strchr("cbup", t[0]))
			return fail(c, v, "'%s' is not a device type (c, b, u or p)", t);
		n->type = t[0];
		return 0;
	}
	if (!strcmp(key, "major") || !strcmp(key, "minor")) {
		bool major = key[1] == 'a';
		if (get_int(c, v, 0, major ? 4095 : 1048575, &x) < 0)
			return -1;
		*(major ? &n->major : &n->minor) = (uint32_t)x;
		*(major ? &n->has_major : &n->has_minor) = true;
		return 0;
	}
	if (!strcmp(key, "fileMode")) {
		if (get_int(c, v, 0, 0777, &x) < 0)
			return -1;
		n->mode = (uint32_t)x;
		n->has_mode = true;
		return 0;
	}
	if (!strcmp(key, "permissions")) {
		if (get_str(c, v, &n->permissions) < 0)
			return -1;
		const char *p = n->permissions;
		bool ok = strlen(p) <= 3;
		for (size_t i = 0; ok && p[i]; i++)
			ok = strchr("rwm", p[i]) && !strchr(p + i + 1, p[i]);
		if (!ok)
			return fail(c, v, "'%s' is not a subset of 'rwm'", p);
		return 0;
	}
	if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
		bool uid = key[0] == 'u';
		if (get_int(c, v, 0, 4294967295LL, &x) < 0)
			return -1;
		*(uid ? &n->uid : &n->gid) = (uint32_t)x;
		*(uid ? &n->has_uid : &n->has_gid) = true;
		return 0;
	}
	return 1;
}

static int mount_field(struct ctx *c, const char *key, const struct ynode *v, void *arg)
{
	struct cdi_mount *m = arg;
	if (!strcmp(key, "hostPath"))
		return get_str(c, v, &m->host_path) < 0 ? -1 : check_path(c, v, m->host_path);
	if (!strcmp(key, "containerPath")) {
		if (get_str(c, v, &m->container_path) < 0 || check_path(c, v, m->container_path) < 0)
			return -1;
		if (strspn(m->container_path, "/") == strlen(m->container_path))
			return fail(c, v, "can't mount over the container's root");
		return 0;
	}
	if (!strcmp(key, "type")) {
		needs(c, v, V(0, 4), "mounts[].type");
		return get_str(c, v, &m->type);
	}
	if (!strcmp(key, "options"))
		return get_strv(c, v, &m->options, check_mount_option);
	return 1;
}

static int hook_field(struct ctx *c, const char *key, const struct ynode *v, void *arg)
{
	struct cdi_hook *h = arg;
	if (!strcmp(key, "hookName")) {
		static const char *const names[] = {"prestart", "createRuntime", "createContainer",
		                                    "startContainer", "poststart", "poststop", NULL};
		if (get_str(c, v, &h->name) < 0)
			return -1;
		for (const char *const *n = names; *n; n++)
			if (!strcmp(*n, h->name))
				return 0;
		return fail(c, v, "'%s' is not a hook name (createContainer, startContainer, ...)",
		            h->name);
	}
	if (!strcmp(key, "path"))
		return get_str(c, v, &h->path) < 0 ? -1 : check_path(c, v, h->path);
	if (!strcmp(key, "args"))
		return get_strv(c, v, &h->args, NULL);
	if (!strcmp(key, "env"))
		return get_strv(c, v, &h->env, check_env);
	if (!strcmp(key, "timeout")) {
		int64_t x;
		if (get_int(c, v, 1, 86400, &x) < 0)
			return -1;
		h->timeout = (unsigned)x;
		return 0;
	}
	return 1;
}

static int rdt_field(struct ctx *c, const char *key, const struct ynode *v, void *arg)
{
	_cleanup_free_ char *s = NULL;
	struct strv l = {0};
	bool b;
	int r;
	if (!strcmp(key, "closID") || !strcmp(key, "l3CacheSchema") || !strcmp(key, "memBwSchema"))
		return get_str(c, v, &s);
	if (!strcmp(key, "schemata")) {
		needs(c, v, V(1, 1), "intelRdt.schemata");
		r = get_strv(c, v, &l, NULL);
		strv_free(&l);
		return r;
	}
	if (!strcmp(key, "enableMonitoring")) {
		needs(c, v, V(1, 1), "intelRdt.enableMonitoring");
		return get_bool(c, v, &b);
	}
	return 1;
}

static int netdev_field(struct ctx *c, const char *key, const struct ynode *v, void *arg)
{
	_cleanup_free_ char *s = NULL;
	if (!strcmp(key, "hostInterfaceName") || !strcmp(key, "name"))
		return get_str(c, v, &s);
	return 1;
}

/* A list of objects, each parsed by field into a fresh element. */
static int get_list(struct ctx *c, const struct ynode *y, void **arr, size_t *n, size_t size,
                    field_fn *field, const char *const *required, void (*set_where)(void *, char *))
{
	if (is_null(y))
		return 0;
	if (want_kind(c, y, Y_SEQ) < 0)
		return -1;
	for (size_t i = 0; i < y->n; i++) {
		*arr = xrealloc(*arr, (*n + 1) * size);
		void *el = (char *)*arr + *n * size;
		memset(el, 0, size);
		(*n)++;
		size_t old = push(c, NULL, (long)i);
		set_where(el, where(c, y->kid[i]));
		if (walk_map(c, y->kid[i], field, el) < 0 || require(c, y->kid[i], required) < 0)
			return -1;
		pop(c, old);
	}
	return 0;
}

static void node_where(void *el, char *w) { ((struct cdi_node *)el)->where = w; }
static void mount_where(void *el, char *w) { ((struct cdi_mount *)el)->where = w; }
static void hook_where(void *el, char *w) { ((struct cdi_hook *)el)->where = w; }

static int edits_field(struct ctx *c, const char *key, const struct ynode *v, void *arg)
{
	struct cdi_edits *ed = arg;
	if (!strcmp(key, "env"))
		return get_strv(c, v, &ed->env, check_env);
	if (!strcmp(key, "deviceNodes")) {
		static const char *const req[] = {"path", NULL};
		return get_list(c, v, (void **)&ed->nodes, &ed->nnodes, sizeof *ed->nodes, node_field,
		                req, node_where);
	}
	if (!strcmp(key, "mounts")) {
		static const char *const req[] = {"hostPath", "containerPath", NULL};
		return get_list(c, v, (void **)&ed->mounts, &ed->nmounts, sizeof *ed->mounts,
		                mount_field, req, mount_where);
	}
	if (!strcmp(key, "hooks")) {
		static const char *const req[] = {"hookName", "path", NULL};
		return get_list(c, v, (void **)&ed->hooks, &ed->nhooks, sizeof *ed->hooks, hook_field,
		                req, hook_where);
	}
	if (!strcmp(key, "additionalGids")) {
		needs(c, v, V(0, 7), "additionalGids");
		if (is_null(v))
			return 0;
		if (want_kind(c, v, Y_SEQ) < 0)
			return -1;
		for (size_t i = 0; i < v->n; i++) {
			size_t old = push(c, NULL, (long)i);
			int64_t g;
			if (get_int(c, v->kid[i], 0, 4294967295LL, &g) < 0)
				return -1;
			pop(c, old);
			if (g == 0)
				continue; /* "a value of 0 is ignored" */
			ed->gids = xrealloc(ed->gids, (ed->ngids + 1) * sizeof *ed->gids);
			ed->gids[ed->ngids++] = (uint32_t)g;
		}
		return 0;
	}
	if (!strcmp(key, "intelRdt")) {
		needs(c, v, V(0, 7), "intelRdt");
		if (is_null(v))
			return 0;
		if (walk_map(c, v, rdt_field, NULL) < 0)
			return -1;
		free(ed->intel_rdt);
		ed->intel_rdt = where(c, v);
		return 0;
	}
	if (!strcmp(key, "netDevices")) {
		needs(c, v, V(1, 1), "netDevices");
		if (is_null(v))
			return 0;
		if (want_kind(c, v, Y_SEQ) < 0)
			return -1;
		static const char *const req[] = {"hostInterfaceName", "name", NULL};
		for (size_t i = 0; i < v->n; i++) {
			size_t old = push(c, NULL, (long)i);
			if (walk_map(c, v->kid[i], netdev_field, NULL) < 0 ||
			    require(c, v->kid[i], req) < 0)
				return -1;
			pop(c, old);
		}
		if (v->n) {
			free(ed->net_devices);
			ed->net_devices = where(c, v);
		}
		return 0;
	}
	return 1;
}

static int annotation_field(struct ctx *c, const char *key, const struct ynode *v, void *arg)
{
	_cleanup_free_ char *s = NULL;
	if (!*key)
		return fail(c, v, "empty annotation name");
	return get_str(c, v, &s);
}

static int get_annotations(struct ctx *c, const struct ynode *v)
{
	needs(c, v, V(0, 6), "annotations");
	return is_null(v) ? 0 : walk_map(c, v, annotation_field, NULL);
}

static int get_edits(struct ctx *c, const struct ynode *v, struct cdi_edits *ed)
{
	return is_null(v) ? 0 : walk_map(c, v, edits_field, ed);
}

int cdi_device_name_check(const char *name, const char **why)
{
	size_t n = strlen(name);
	*why = NULL;
	if (n == 0 || n > 253)
		*why = "a device name has 1 to 253 characters";
	else if (!isalnum((unsigned char)name[0]) || !isalnum((unsigned char)name[n - 1]))
		*why = "a device name begins and ends with a letter or digit";
	else if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n)
		*why = "a device name has only letters, digits, '-', '_' and '.'";
	return *why ? -1 : 0;
}

static int device_field(struct ctx *c, const char *key, const struct ynode *v, void *arg)
{
	struct cdi_device *d = arg;
	if (!strcmp(key, "name")) {
		const char *why;
		if (get_str(c, v, &d->name) < 0)
			return -1;
		if (cdi_device_name_check(d->name, &why) < 0)
			return fail(c, v, "'%s': %s", d->name, why);
		if (isdigit((unsigned char)d->name[0]))
			needs(c, v, V(0, 5), "a device name starting with a digit");
		return 0;
	}
	if (!strcmp(key, "annotations"))
		return get_annotations(c, v);
	if (!strcmp(key, "containerEdits"))
		return get_edits(c, v, &d->edits);
	return 1;
}

/* vendor.com/class: a DNS subdomain, a slash, and a name. */
int cdi_kind_check(const char *kind, const char **why)
{
	*why = NULL;
	const char *slash = strchr(kind, '/');
	if (!slash || strchr(slash + 1, '/'))
		return *why = "a kind is VENDOR/CLASS, e.g. nvidia.com/gpu", -1;
	size_t vlen = slash - kind, clen = strlen(slash + 1);
	if (vlen == 0 || vlen > 253)
		return *why = "the vendor has 1 to 253 characters", -1;
	for (const char *p = kind; p < slash;) {
		size_t n = strcspn(p, "./");
		if (n > (size_t)(slash - p))
			n = slash - p;
		if (n == 0 || n > 63 || !isalnum((unsigned char)p[0]) || !isalnum((unsigned char)p[n - 1]))
			return *why = "the vendor is a DNS name: labels of 1 to 63 letters, digits "
			              "and '-', separated by '.'", -1;
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)p[i]) && p[i] != '-')
				return *why = "the vendor is a DNS name: labels of 1 to 63 letters, "
				              "digits and '-', separated by '.'", -1;
		p += n;
		if (*p == '.')
			p++;
		else
			break;
	}
	const char *cl = slash + 1;
	if (clen == 0 || clen > 63 || !isalnum((unsigned char)cl[0]) ||
	    !isalnum((unsigned char)cl[clen - 1]) ||
	    strspn(cl, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != clen)
		return *why = "the class has 1 to 63 letters, digits, '-', '_' and '.', and "
		              "begins and ends with a letter or digit", -1;
	return 0;
}

/* cdiVersion: MAJOR.MINOR.PATCH, one of the released 0.3 - 1.1. */
static int parse_version(const char *s, int *out)
{
	unsigned maj, min, patch;
	int n = 0;
	if (sscanf(s, "%3u.%3u.%3u%n", &maj, &min, &patch, &n) != 3 || s[n] ||
	    !isdigit((unsigned char)s[0]))
		return -1;
	if (!((maj == 0 && min >= 3 && min <= 8) || (maj == 1 && min <= 1)))
		return -1;
	*out = V((int)maj, (int)min);
	return 0;
}

struct top {
	struct cdi_spec *s;
	const struct ynode *version_node;
};

static int spec_field(struct ctx *c, const char *key, const struct ynode *v, void *arg)
{
	struct top *t = arg;
	struct cdi_spec *s = t->s;
	if (!strcmp(key, "cdiVersion")) {
		t->version_node = v;
		return get_str(c, v, &s->version);
	}
	if (!strcmp(key, "kind")) {
		const char *why;
		if (get_str(c, v, &s->kind) < 0)
			return -1;
		if (cdi_kind_check(s->kind, &why) < 0)
			return fail(c, v, "'%s': %s", s->kind, why);
		if (strchr(strchr(s->kind, '/'), '.'))
			needs(c, v, V(0, 6), "a '.' in the kind's class");
		return 0;
	}
	if (!strcmp(key, "annotations"))
		return get_annotations(c, v);
	if (!strcmp(key, "containerEdits"))
		return get_edits(c, v, &s->edits);
	if (!strcmp(key, "devices")) {
		if (want_kind(c, v, Y_SEQ) < 0)
			return -1;
		if (v->n == 0)
			return fail(c, v, "a spec must define at least one device");
		static const char *const req[] = {"name", "containerEdits", NULL};
		s->devices = xcalloc(v->n, sizeof *s->devices);
		for (size_t i = 0; i < v->n; i++) {
			struct cdi_device *d = &s->devices[s->ndevices++];
			size_t old = push(c, NULL, (long)i);
			d->where = where(c, v->kid[i]);
			if (walk_map(c, v->kid[i], device_field, d) < 0 || require(c, v->kid[i], req) < 0)
				return -1;
			for (size_t j = 0; j < i; j++)
				if (!strcmp(s->devices[j].name, d->name))
					return fail(c, map_get(v->kid[i], "name"),
					            "device '%s' is defined twice (also at %s)", d->name,
					            s->devices[j].where);
			pop(c, old);
		}
		return 0;
	}
	return 1;
}

/* A JSON document as a node tree, values exactly as jansson read them
 * (libyaml would refuse some valid JSON, such as surrogate pairs), but
 * without positions. */
static struct ynode *from_json(json_t *j)
{
	struct ynode *y = xcalloc(1, sizeof *y);
	if (json_is_object(j)) {
		y->kind = Y_MAP;
		y->kid = xcalloc(2 * json_object_size(j) + 1, sizeof *y->kid);
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			struct ynode *key = xcalloc(1, sizeof *key);
			key->kind = Y_SCALAR;
			key->len = strlen(k);
			key->text = xstrdup(k);
			y->kid[y->n++] = key;
			y->kid[y->n++] = from_json(v);
		}
		return y;
	}
	if (json_is_array(j)) {
		y->kind = Y_SEQ;
		y->kid = xcalloc(json_array_size(j) + 1, sizeof *y->kid);
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			y->kid[y->n++] = from_json(v);
		return y;
	}
	y->kind = Y_SCALAR;
	if (json_is_string(j)) {
		y->len = json_string_length(j);
		y->text = xmalloc(y->len + 1);
		memcpy(y->text, json_string_value(j), y->len + 1);
		return y;
	}
	y->plain = true;
	if (json_is_integer(j))
		y->text = xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(j));
	else if (json_is_real(j))
		y->text = xasprintf("%.17g", json_real_value(j)), y->real = true;
	else
		y->text = xstrdup(json_is_true(j) ? "true" : json_is_false(j) ? "false" : "null");
	y->len = strlen(y->text);
	return y;
}

/* Copy the positions of libyaml's reading of the same document onto the
 * JSON tree; false if the shapes differ. */
static bool copy_positions(struct ynode *to, const struct ynode *from)
{
	if (to->kind != from->kind || to->n != from->n)
		return false;
	to->line = from->line;
	to->col = from->col;
	for (size_t i = 0; i < to->n; i++)
		if (!copy_positions(to->kid[i], from->kid[i]))
			return false;
	return true;
}

static int check_spec(struct ynode *root, const char *filename, bool json, struct cdi_spec *out,
                      struct kerr *e);

int cdi_spec_parse(const char *buf, size_t len, const char *filename, struct cdi_spec *out,
                   struct kerr *e)
{
	memset(out, 0, sizeof *out);
	size_t flen = strlen(filename);
	bool json = flen >= 5 && strcmp(filename + flen - 5, ".json") == 0;
	if (len > CDI_SPEC_MAX)
		return kerr_set(e, 0, "%s: larger than %u bytes", filename, CDI_SPEC_MAX);
	if (!json) {
		if (memchr(buf, '\0', len))
			return kerr_set(e, 0, "%s: invalid YAML: NUL byte", filename);
		struct ynode *root = read_doc(buf, len, filename, e);
		if (!root)
			return -1;
		int r = check_spec(root, filename, false, out, e);
		ynode_free(root);
		return r;
	}
	/* JSON: jansson reads it strictly and fast.  Only when the spec is
	 * bad does libyaml read it again, for the error's line and column. */
	json_t *doc = json_doc_load(buf, len, filename, e);
	if (!doc)
		return -1;
	struct ynode *root = from_json(doc);
	json_decref(doc);
	int r = check_spec(root, filename, true, out, e);
	if (r < 0) {
		struct kerr ignored;
		struct ynode *placed = read_doc(buf, len, filename, &ignored);
		if (placed && copy_positions(root, placed))
			r = check_spec(root, filename, true, out, e);
		ynode_free(placed);
	}
	ynode_free(root);
	return r;
}

static int check_spec(struct ynode *root, const char *filename, bool json, struct cdi_spec *out,
                      struct kerr *e)
{
	memset(out, 0, sizeof *out);
	struct ctx c = {.file = filename, .json = json, .e = e, .need = V(0, 3)};
	struct top t = {.s = out};
	out->file = xstrdup(filename);
	static const char *const req[] = {"cdiVersion", "kind", "devices", NULL};
	int version;
	int r = -1;
	if (walk_map(&c, root, spec_field, &t) < 0 || require(&c, root, req) < 0)
		goto out;
	if (parse_version(out->version, &version) < 0) {
		fail(&c, t.version_node, "cdiVersion: '%s' is not a supported version (0.3.0 to 1.1.x)",
		     out->version);
		goto out;
	}
	if (c.need > version) {
		struct ynode at = {.line = c.need_line, .col = c.need_col};
		snprintf(c.path, sizeof c.path, "%s", c.need_path);
		fail(&c, &at, "%s needs cdiVersion %d.%d.0 or later (the spec says %s)", c.need_what,
		     c.need / 1000, c.need % 1000, out->version);
		goto out;
	}
	r = 0;
out:
	if (r < 0)
		cdi_spec_free(out);
	return r;
}

void cdi_edits_free(struct cdi_edits *ed)
{
	strv_free(&ed->env);
	for (size_t i = 0; i < ed->nnodes; i++) {
		free(ed->nodes[i].path);
		free(ed->nodes[i].host_path);
		free(ed->nodes[i].permissions);
		free(ed->nodes[i].where);
	}
	free(ed->nodes);
	for (size_t i = 0; i < ed->nmounts; i++) {
		free(ed->mounts[i].host_path);
		free(ed->mounts[i].container_path);
		free(ed->mounts[i].type);
		strv_free(&ed->mounts[i].options);
		free(ed->mounts[i].where);
	}
	free(ed->mounts);
	for (size_t i = 0; i < ed->nhooks; i++) {
		free(ed->hooks[i].name);
		free(ed->hooks[i].path);
		strv_free(&ed->hooks[i].args);
		strv_free(&ed->hooks[i].env);
		free(ed->hooks[i].where);
	}
	free(ed->hooks);
	free(ed->gids);
	free(ed->intel_rdt);
	free(ed->net_devices);
	memset(ed, 0, sizeof *ed);
}

void cdi_spec_free(struct cdi_spec *s)
{
	free(s->file);
	free(s->version);
	free(s->kind);
	cdi_edits_free(&s->edits);
	for (size_t i = 0; i < s->ndevices; i++) {
		free(s->devices[i].name);
		free(s->devices[i].where);
		cdi_edits_free(&s->devices[i].edits);
	}
	free(s->devices);
	memset(s, 0, sizeof *s);
}
