/* seccomp_profile.c: OCI/Docker seccomp JSON -> struct seccomp_profile.
 *
 * jansson validates and decodes; it keeps no positions for values, so for
 * errors found after decoding (an unknown action, a misspelt syscall) a small
 * scanner walks the already-validated text along the JSON path of the bad
 * value to find its line. */
#include "seccomp_profile.h"
#include "json_doc.h"
#include "caps.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- locating a JSON path in the text ------------------------------------ */

struct jstep {
	const char *key; /* NULL: idx is an array index */
	size_t idx;
};

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static const char *skip_str(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return end;
}

static const char *skip_val(const char *p, const char *end)
{
	if (p >= end)
		return end;
	if (*p == '"')
		return skip_str(p, end);
	if (*p == '{' || *p == '[') {
		int depth = 0;
		while (p < end) {
			if (*p == '"') {
				p = skip_str(p, end);
				continue;
			}
			if (*p == '{' || *p == '[')
				depth++;
			else if ((*p == '}' || *p == ']') && --depth == 0)
				return p + 1;
			p++;
		}
		return end;
	}
	while (p < end && !strchr(",]} \t\r\n", *p))
		p++;
	return p;
}

/* The start of the deepest value of path that exists in the text. */
static const char *locate(const char *p, const char *end, const struct jstep *path, size_t n)
{
	p = skip_ws(p, end);
	for (size_t i = 0; i < n && p < end; i++) {
		const char *q = p + 1, *found = NULL;
		if (path[i].key && *p == '{') {
			size_t klen = strlen(path[i].key);
			while ((q = skip_ws(q, end)) < end && *q == '"') {
				const char *k = q + 1;
				q = skip_str(q, end);
				bool match = (size_t)(q - k) == klen + 1 &&
					     memcmp(k, path[i].key, klen) == 0;
				q = skip_ws(q, end);
				if (q >= end || *q != ':')
					break;
				q = skip_ws(q + 1, end);
				if (match) {
					found = q;
					break;
				}
				q = skip_ws(skip_val(q, end), end);
				if (q >= end || *q != ',')
					break;
				q++;
			}
		} else if (!path[i].key && *p == '[') {
			for (size_t k = 0; (q = skip_ws(q, end)) < end && *q != ']'; k++) {
				if (k == path[i].idx) {
					found = q;
					break;
				}
				q = skip_ws(skip_val(q, end), end);
				if (q >= end || *q != ',')
					break;
				q++;
			}
		}
		if (!found)
			break;
		p = found;
	}
	return p;
}

/* ---- parse context and errors --------------------------------------------- */

#define MAX_DEPTH 16

struct pctx {
	const char *buf;
	size_t len;
	const char *file;
	struct kerr *e;
	struct jstep path[MAX_DEPTH];
	size_t depth;
	size_t rule_depth; /* path depth of the current syscalls[] entry, 0 = none */
	const char *label; /* first name of the current rule */
};

static void push_key(struct pctx *c, const char *key)
{
	if (c->depth < MAX_DEPTH)
		c->path[c->depth] = (struct jstep){.key = key};
	c->depth++;
}

static void push_idx(struct pctx *c, size_t idx)
{
	if (c->depth < MAX_DEPTH)
		c->path[c->depth] = (struct jstep){.key = NULL, .idx = idx};
	c->depth++;
}

static void pop(struct pctx *c)
{
	c->depth--;
}

static int line_of(const struct pctx *c)
{
	size_t n = c->depth < MAX_DEPTH ? c->depth : MAX_DEPTH;
	const char *p = locate(c->buf, c->buf + c->len, c->path, n);
	int line = 1;
	for (const char *q = c->buf; q < p; q++)
		line += *q == '\n';
	return line;
}

/* "args[0].op", relative to the current rule when there is one. */
static void render_path(const struct pctx *c, char *out, size_t size)
{
	size_t n = c->depth < MAX_DEPTH ? c->depth : MAX_DEPTH, used = 0;
	out[0] = '\0';
	for (size_t i = c->label ? c->rule_depth : 0; i < n && used < size; i++) {
		int w;
		if (c->path[i].key)
			w = snprintf(out + used, size - used, "%s%s", used ? "." : "",
				     c->path[i].key);
		else
			w = snprintf(out + used, size - used, "[%zu]", c->path[i].idx);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* FILE:LINE: [syscall 'NAME': ]WHY, the line being that of the current path. */
static int perr(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct pctx *c, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (c->label)
		return kerr_set(c->e, 0, "%s:%d: syscall '%s': %s", c->file, line_of(c), c->label,
				why);
	return kerr_set(c->e, 0, "%s:%d: %s", c->file, line_of(c), why);
}

/* FILE:LINE: [syscall 'NAME': ]PATH: expected WHAT */
static int type_err(struct pctx *c, const char *what)
{
	char path[256];
	render_path(c, path, sizeof path);
	return perr(c, "%s: expected %s", path[0] ? path : "profile", what);
}

/* ---- values ---------------------------------------------------------------- */

static int get_string(struct pctx *c, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return type_err(c, "a string");
	*out = json_string_value(v);
	return 0;
}

static int get_uint(struct pctx *c, json_t *v, uint64_t max, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max) {
		char what[64];
		snprintf(what, sizeof what, "an integer from 0 to %llu", (unsigned long long)max);
		return type_err(c, what);
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Calls f(c, element, index, arg) for each element of an optional array. */
typedef int (*each_fn)(struct pctx *c, json_t *v, size_t i, void *arg);
static int each(struct pctx *c, json_t *arr, const char *what, each_fn f, void *arg)
{
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return type_err(c, what);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		push_idx(c, i);
		int r = f(c, v, i, arg);
		pop(c);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int parse_arch_name(struct pctx *c, json_t *v, uint32_t *out)
{
	const char *s = NULL;
	if (get_string(c, v, &s) < 0)
		return -1;
	char low[32];
	size_t n = 0;
	if (strncmp(s, "SCMP_ARCH_", 10) == 0)
		for (const char *p = s + 10; *p && n + 1 < sizeof low; p++)
			low[n++] = (char)tolower((unsigned char)*p);
	low[n] = '\0';
	*out = n ? seccomp_arch_resolve_name(low) : 0;
	if (*out == 0)
		return perr(c, "unknown architecture '%s'", s);
	return 0;
}

static int arch_elem(struct pctx *c, json_t *v, size_t i, void *arg)
{
	uint32_t **arr = arg;
	return parse_arch_name(c, v, &(*arr)[i]);
}

static int parse_arch_list(struct pctx *c, json_t *v, uint32_t **out, size_t *n)
{
	if (v && json_is_array(v))
		*out = xcalloc(json_array_size(v) + 1, sizeof **out);
	*n = v && json_is_array(v) ? json_array_size(v) : 0;
	return each(c, v, "an array of architecture names", arch_elem, out);
}

static int archmap_elem(struct pctx *c, json_t *v, size_t i, void *arg)
{
	struct seccomp_archmap *m = &((struct seccomp_archmap *)arg)[i];
	if (!json_is_object(v))
		return type_err(c, "an object");
	push_key(c, "architecture");
	json_t *a = json_object_get(v, "architecture");
	int r = a ? parse_arch_name(c, a, &m->arch) : perr(c, "archMap[%zu]: no architecture", i);
	pop(c);
	if (r < 0)
		return -1;
	push_key(c, "subArchitectures");
	r = parse_arch_list(c, json_object_get(v, "subArchitectures"), &m->subs, &m->nsubs);
	pop(c);
	return r;
}

static const struct {
	const char *name;
	uint32_t action; /* SCMP_ACT_ERRNO/TRACE: data added from errnoRet */
} actions[] = {
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
};

/* obj[key] is the action, obj[ret_key] its errnoRet. */
static int parse_action(struct pctx *c, json_t *obj, const char *key, const char *ret_key,
			uint32_t *out)
{
	const char *s = NULL;
	push_key(c, key);
	json_t *v = json_object_get(obj, key);
	if (!v) {
		pop(c);
		return perr(c, "no %s", key);
	}
	if (get_string(c, v, &s) < 0)
		return -1;
	size_t i = 0;
	while (i < ARRAY_SIZE(actions) && strcmp(actions[i].name, s) != 0)
		i++;
	if (i == ARRAY_SIZE(actions)) {
		if (strcmp(s, "SCMP_ACT_NOTIFY") == 0) {
			perr(c, "action %s is not supported", s);
			return kerr_hint(c->e, "krill has no seccomp agent to notify; "
					       "use SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
		}
		return perr(c, "unknown action '%s'", s);
	}
	pop(c);
	*out = actions[i].action;
	json_t *ret = json_object_get(obj, ret_key);
	if (!ret || json_is_null(ret)) {
		if (*out == SCMP_ACT_ERRNO(0))
			*out = SCMP_ACT_ERRNO(EPERM);
		return 0;
	}
	push_key(c, ret_key);
	bool is_errno = *out == SCMP_ACT_ERRNO(0), is_trace = *out == SCMP_ACT_TRACE(0);
	if (!is_errno && !is_trace)
		return perr(c, "%s is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE", ret_key);
	uint64_t n;
	/* The kernel returns at most MAX_ERRNO (4095) as an errno; TRACE passes
	 * 16 bits to the tracer. */
	if (get_uint(c, ret, is_errno ? 4095 : 0xffff, &n) < 0)
		return -1;
	pop(c);
	*out = is_errno ? SCMP_ACT_ERRNO((uint32_t)n) : SCMP_ACT_TRACE((uint32_t)n);
	return 0;
}

static const struct {
	const char *name;
	enum scmp_compare op;
} ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static int arg_elem(struct pctx *c, json_t *v, size_t i, void *arg)
{
	struct seccomp_arg *a = &((struct seccomp_arg *)arg)[i];
	if (!json_is_object(v))
		return type_err(c, "an object");
	uint64_t idx;
	json_t *f;
	push_key(c, "index");
	if (!(f = json_object_get(v, "index")))
		return pop(c), perr(c, "args[%zu]: no index", i);
	if (get_uint(c, f, 5, &idx) < 0)
		return -1;
	a->index = (unsigned)idx;
	pop(c);
	push_key(c, "value");
	if (!(f = json_object_get(v, "value")))
		return pop(c), perr(c, "args[%zu]: no value", i);
	if (get_uint(c, f, UINT64_MAX, &a->value) < 0)
		return -1;
	pop(c);
	push_key(c, "valueTwo");
	if ((f = json_object_get(v, "valueTwo")) && get_uint(c, f, UINT64_MAX, &a->value_two) < 0)
		return -1;
	pop(c);
	const char *s = NULL;
	push_key(c, "op");
	if (!(f = json_object_get(v, "op")))
		return pop(c), perr(c, "args[%zu]: no op", i);
	if (get_string(c, f, &s) < 0)
		return -1;
	size_t k = 0;
	while (k < ARRAY_SIZE(ops) && strcmp(ops[k].name, s) != 0)
		k++;
	if (k == ARRAY_SIZE(ops))
		return perr(c, "unknown operator '%s'", s);
	a->op = ops[k].op;
	pop(c);
	return 0;
}

static int name_elem(struct pctx *c, json_t *v, size_t i, void *arg)
{
	struct seccomp_rule *r = arg;
	const char *s = NULL;
	if (get_string(c, v, &s) < 0)
		return -1;
	if (!c->label)
		c->label = s;
	if (seccomp_syscall_resolve_name(s) == __NR_SCMP_ERROR) {
		const char *saved = c->label;
		c->label = s;
		perr(c, "unknown system call");
		c->label = saved;
		return kerr_hint(c->e,
				 "libseccomp %u.%u.%u knows no system call of that name on "
				 "any architecture",
				 seccomp_version()->major, seccomp_version()->minor,
				 seccomp_version()->micro);
	}
	strv_push(&r->names, s);
	return 0;
}

static int cap_elem(struct pctx *c, json_t *v, size_t i, void *arg)
{
	const char *s = NULL;
	int cap;
	if (get_string(c, v, &s) < 0)
		return -1;
	if (caps_parse_name(s, &cap, NULL) < 0)
		return perr(c, "unknown capability '%s'", s);
	*(uint64_t *)arg |= CAPS_BIT(cap);
	return 0;
}

static int str_elem(struct pctx *c, json_t *v, size_t i, void *arg)
{
	const char *s = NULL;
	if (get_string(c, v, &s) < 0)
		return -1;
	strv_push(arg, s);
	return 0;
}

/* includes / excludes: {caps, arches, minKernel} */
static int parse_filter(struct pctx *c, json_t *obj, const char *key, struct seccomp_rule *r)
{
	json_t *f = json_object_get(obj, key);
	if (!f || json_is_null(f))
		return 0;
	bool inc = strcmp(key, "includes") == 0;
	push_key(c, key);
	if (!json_is_object(f))
		return type_err(c, "an object");
	push_key(c, "caps");
	if (each(c, json_object_get(f, "caps"), "an array of capability names", cap_elem,
		 inc ? &r->caps_include : &r->caps_exclude) < 0)
		return -1;
	pop(c);
	push_key(c, "arches");
	if (each(c, json_object_get(f, "arches"), "an array of architecture names", str_elem,
		 inc ? &r->arches_include : &r->arches_exclude) < 0)
		return -1;
	pop(c);
	json_t *mk = json_object_get(f, "minKernel");
	if (mk && !json_is_null(mk)) {
		push_key(c, "minKernel");
		const char *s = NULL;
		if (get_string(c, mk, &s) < 0)
			return -1;
		if (!inc)
			return perr(c, "excludes.minKernel is not supported");
		unsigned maj, min;
		int used = 0;
		if (sscanf(s, "%u.%u%n", &maj, &min, &used) != 2 || (s[used] && s[used] != '.') ||
		    !isdigit((unsigned char)s[0]))
			return perr(c, "minKernel '%s': expected MAJOR.MINOR", s);
		r->min_kernel[0] = maj;
		r->min_kernel[1] = min;
		pop(c);
	}
	pop(c);
	return 0;
}

static int rule_elem(struct pctx *c, json_t *v, size_t i, void *arg)
{
	struct seccomp_profile *p = arg;
	struct seccomp_rule *r = &p->rules[i];
	p->nrules = i + 1;
	if (!json_is_object(v))
		return type_err(c, "an object");
	c->rule_depth = c->depth;
	c->label = NULL;

	json_t *one = json_object_get(v, "name"), *names = json_object_get(v, "names");
	if (one && !json_is_null(one)) {
		push_key(c, "name");
		if (name_elem(c, one, 0, r) < 0)
			return -1;
		pop(c);
	}
	push_key(c, "names");
	if (each(c, names, "an array of system call names", name_elem, r) < 0)
		return -1;
	pop(c);
	if ((!one || json_is_null(one)) && (!names || json_is_null(names)))
		return perr(c, "syscalls[%zu]: no names", i);

	if (parse_action(c, v, "action", "errnoRet", &r->action) < 0)
		return -1;

	json_t *args = json_object_get(v, "args");
	push_key(c, "args");
	if (args && json_is_array(args)) {
		r->nargs = json_array_size(args);
		r->args = xcalloc(r->nargs + 1, sizeof *r->args);
	}
	if (each(c, args, "an array of argument conditions", arg_elem, r->args) < 0)
		return -1;
	pop(c);
	if (parse_filter(c, v, "includes", r) < 0 || parse_filter(c, v, "excludes", r) < 0)
		return -1;
	c->label = NULL;
	return 0;
}

/* Each rule's line, in one pass over the syscalls array (a line_of per rule
 * would rescan the text from the start each time). */
static void rule_lines(struct pctx *c, struct seccomp_profile *p)
{
	const char *end = c->buf + c->len;
	const char *q = locate(c->buf, end, c->path, c->depth < MAX_DEPTH ? c->depth : MAX_DEPTH);
	const char *counted = c->buf;
	int line = line_of(c);
	for (size_t i = 0; i < p->nrules; i++)
		p->rules[i].line = line;
	line = 1;
	if (q >= end || *q != '[')
		return;
	q++;
	for (size_t i = 0; i < p->nrules && (q = skip_ws(q, end)) < end && *q != ']'; i++) {
		for (; counted < q; counted++)
			line += *counted == '\n';
		p->rules[i].line = line;
		q = skip_ws(skip_val(q, end), end);
		if (q >= end || *q != ',')
			break;
		q++;
	}
}

static int flag_elem(struct pctx *c, json_t *v, size_t i, void *arg)
{
	struct seccomp_profile *p = arg;
	const char *s = NULL;
	if (get_string(c, v, &s) < 0)
		return -1;
	if (strcmp(s, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
		p->flag_tsync = true;
	else if (strcmp(s, "SECCOMP_FILTER_FLAG_LOG") == 0)
		p->flag_log = true;
	else if (strcmp(s, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
		p->flag_spec_allow = true;
	else
		return perr(c, "flag '%s' is not supported", s);
	return 0;
}

static int parse_root(struct pctx *c, json_t *root, struct seccomp_profile *p)
{
	if (!json_is_object(root))
		return type_err(c, "a JSON object");
	if (parse_action(c, root, "defaultAction", "defaultErrnoRet", &p->default_action) < 0)
		return -1;

	json_t *arches = json_object_get(root, "architectures");
	json_t *archmap = json_object_get(root, "archMap");
	push_key(c, "architectures");
	if (parse_arch_list(c, arches, &p->arches, &p->narches) < 0)
		return -1;
	pop(c);
	push_key(c, "archMap");
	if (archmap && json_is_array(archmap)) {
		p->narchmap = json_array_size(archmap);
		p->archmap = xcalloc(p->narchmap + 1, sizeof *p->archmap);
	}
	if (each(c, archmap, "an array of objects", archmap_elem, p->archmap) < 0)
		return -1;
	if (p->narches && p->narchmap)
		return perr(c, "give architectures or archMap, not both");
	pop(c);

	push_key(c, "flags");
	if (each(c, json_object_get(root, "flags"), "an array of strings", flag_elem, p) < 0)
		return -1;
	pop(c);
	json_t *lp = json_object_get(root, "listenerPath");
	if (lp && !(json_is_string(lp) && !json_string_value(lp)[0]) && !json_is_null(lp)) {
		push_key(c, "listenerPath");
		return perr(c, "listenerPath is not supported (krill has no seccomp agent)");
	}

	json_t *sys = json_object_get(root, "syscalls");
	push_key(c, "syscalls");
	if (sys && json_is_array(sys))
		p->rules = xcalloc(json_array_size(sys) + 1, sizeof *p->rules);
	if (each(c, sys, "an array of objects", rule_elem, p) < 0)
		return -1;
	rule_lines(c, p);
	pop(c);
	return 0;
}

int seccomp_profile_from_json(json_t *obj, const char *buf, size_t len, const char *filename,
			      const char *const *prefix, size_t nprefix,
			      struct seccomp_profile **out, struct kerr *e)
{
	*out = NULL;
	struct pctx c = {.buf = buf, .len = len, .file = filename, .e = e};
	for (size_t i = 0; i < nprefix; i++)
		push_key(&c, prefix[i]);
	struct seccomp_profile *p = xcalloc(1, sizeof *p);
	p->filename = xstrdup(filename);
	if (parse_root(&c, obj, p) < 0) {
		seccomp_profile_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

int seccomp_profile_parse(const char *buf, size_t len, const char *filename,
			  struct seccomp_profile **out, struct kerr *e)
{
	*out = NULL;
	json_t *root = json_doc_load(buf, len, filename, e);
	if (!root)
		return -1;
	int r = seccomp_profile_from_json(root, buf, len, filename, NULL, 0, out, e);
	json_decref(root);
	return r;
}

void seccomp_profile_free(struct seccomp_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nrules; i++) {
		strv_free(&p->rules[i].names);
		strv_free(&p->rules[i].arches_include);
		strv_free(&p->rules[i].arches_exclude);
		free(p->rules[i].args);
	}
	free(p->rules);
	for (size_t i = 0; i < p->narchmap; i++)
		free(p->archmap[i].subs);
	free(p->archmap);
	free(p->arches);
	free(p->filename);
	free(p);
}
