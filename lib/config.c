/* config.c: krill.conf: reading the site and user files, the pure parser
 * (inih does the INI syntax, this file every key and value), and copying
 * the result into struct container.  See config.h and krill.conf(5). */
#include "config.h"
#include "bind_spec.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CONFIG_MAX_SIZE (1 << 20)

void config_init(struct krill_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->write_fake_size = xstrdup("12%");
	cfg->join_timeout = 30;
	cfg->cgroup_parent = xstrdup("krill");
	cfg->syslog = true;
	cfg->uid = geteuid();
}

static void binds_free(struct bind *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(b[i].src);
		free(b[i].dst);
	}
	free(b);
}

void config_free(struct krill_config *cfg)
{
	free(cfg->storage);
	binds_free(cfg->binds, cfg->nbinds);
	free(cfg->write_fake_size);
	strv_free(&cfg->env_keep);
	free(cfg->cgroup_parent);
	free(cfg->oci_root);
	free(cfg->import_cache);
	free(cfg->import_compression);
	strv_free(&cfg->import_insecure);
	free(cfg->user);
	memset(cfg, 0, sizeof *cfg);
}

/* ---- parsing ------------------------------------------------------------ */

struct parse_state {
	const char *p, *end; /* input not yet handed to inih */
	int lineno;	     /* of the line inih holds */
	const char *filename;
	struct krill_config *cfg;
	struct kerr *e;
	int err_line; /* line of the first error we reported; 0 = none */
};

static int fail(struct parse_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parse_state *st, const char *fmt, ...)
{
	if (st->err_line)
		return -1;
	char why[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	st->err_line = st->lineno;
	return kerr_set(st->e, 0, "%s:%d: %s", st->filename, st->lineno, why);
}

static const char *const sections[] = {"run", "join", "squash", "cgroup", "oci", "log", "import"};

/* The canonical name of section s[0..len), blanks around it ignored. */
static const char *section_find(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (strlen(sections[i]) == len && memcmp(sections[i], s, len) == 0)
			return sections[i];
	return NULL;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static int set_bool(struct parse_state *st, const char *key, const char *v, bool *out)
{
	if (parse_bool(v, out) < 0)
		return fail(st, "%s: expected true or false (or yes/no, 1/0), got '%s'", key, v);
	return 0;
}

static int set_private_tmp(struct parse_state *st, const char *key, const char *v)
{
	return set_bool(st, key, v, &st->cfg->private_tmp);
}

static int set_syslog(struct parse_state *st, const char *key, const char *v)
{
	return set_bool(st, key, v, &st->cfg->syslog);
}

static int parse_range(const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	if (parse_ulong(v, max, out) < 0 || *out < min)
		return -1;
	return 0;
}

static int set_timeout(struct parse_state *st, const char *key, const char *v)
{
	unsigned long n;
	if (parse_range(v, 1, 3600, &n) < 0)
		return fail(st, "%s: expected a number of seconds (1-3600), got '%s'", key, v);
	st->cfg->join_timeout = n;
	return 0;
}

static int set_threads(struct parse_state *st, const char *key, const char *v)
{
	unsigned long n;
	if (parse_range(v, 1, 64, &n) < 0)
		return fail(st, "%s: expected a number of threads (1-64), got '%s'", key, v);
	st->cfg->squash_threads = n;
	return 0;
}

/* The value becomes tmpfs's size= option, so accept only what it means the
 * same way: N% of RAM, or bytes with an optional k/m/g suffix.  0 is
 * refused because tmpfs reads it as "unlimited". */
static int write_fake_size_ok(const char *v)
{
	size_t len = strlen(v);
	if (len < 1 || len > 32)
		return 0;
	char last = v[len - 1];
	_cleanup_free_ char *num = xstrndup(v, len - 1);
	unsigned long n;
	if (last == '%')
		return parse_range(num, 1, 100, &n) == 0;
	unsigned shift = 0;
	switch (tolower((unsigned char)last)) {
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	default:
		free(num);
		num = xstrdup(v);
	}
	if (parse_range(num, 1, UINT64_MAX >> shift, &n) < 0)
		return 0;
	return 1;
}

static int set_write_fake_size(struct parse_state *st, const char *key, const char *v)
{
	if (!write_fake_size_ok(v))
		return fail(st,
			    "%s: expected a percentage of RAM (1%%-100%%) or a size such as 512m "
			    "or 4g, got '%s'",
			    key, v);
	free(st->cfg->write_fake_size);
	st->cfg->write_fake_size = xstrdup(v);
	return 0;
}

/* A growable string for the % expansion. */
struct buf {
	char *s;
	size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t len)
{
	if (b->n + len + 1 > b->cap) {
		b->cap = (b->n + len + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, len);
	b->n += len;
	b->s[b->n] = '\0';
}

static int set_storage(struct parse_state *st, const char *key, const char *v)
{
	if (v[0] != '/')
		return fail(st, "%s: expected an absolute path, got '%s'", key, v);
	struct buf b = {0};
	char uid[32];
	snprintf(uid, sizeof uid, "%lu", (unsigned long)st->cfg->uid);
	for (const char *p = v; *p; p++) {
		if (*p != '%') {
			buf_add(&b, p, 1);
			continue;
		}
		const char *with;
		switch (p[1]) {
		case 'u':
			with = st->cfg->user ? st->cfg->user : uid;
			break;
		case 'U':
			with = uid;
			break;
		case '%':
			with = "%";
			break;
		default:
			free(b.s);
			return fail(st,
				    "%s: unknown '%%%.1s' in '%s' (known: %%u user name, %%U uid, "
				    "%%%% a %%)",
				    key, p + 1, v);
		}
		buf_add(&b, with, strlen(with));
		p++;
	}
	free(st->cfg->storage);
	st->cfg->storage = b.s;
	return 0;
}

static int set_path(struct parse_state *st, const char *key, const char *v, bool absolute,
		    char **out)
{
	_cleanup_free_ char *p = NULL;
	if (*v && (v[0] == '/') == absolute) {
		p = absolute ? xstrdup(v) : xasprintf("/%s", v);
		if (path_normalize(p) < 0 || (!absolute && strcmp(p, "/") == 0))
			p[0] = '\0';
	}
	if (!p || !p[0])
		return fail(st, "%s: expected %s path without '..', got '%s'", key,
			    absolute ? "an absolute" : "a relative", v);
	free(*out);
	*out = xstrdup(absolute ? p : p + 1);
	return 0;
}

static int set_cgroup_parent(struct parse_state *st, const char *key, const char *v)
{
	return set_path(st, key, v, false, &st->cfg->cgroup_parent);
}

static int set_oci_root(struct parse_state *st, const char *key, const char *v)
{
	return set_path(st, key, v, true, &st->cfg->oci_root);
}

/* Split a comma-separated value into trimmed items; each is passed to
 * item(); an empty value is an empty list. */
static int split_list(struct parse_state *st, const char *key, const char *v,
		      int (*item)(struct parse_state *, const char *, const char *, void *),
		      void *ctx)
{
	if (!*v)
		return 0;
	const char *p = v;
	for (;;) {
		const char *comma = strchrnul(p, ',');
		const char *s = p, *t = comma;
		while (s < t && isspace((unsigned char)*s))
			s++;
		while (t > s && isspace((unsigned char)t[-1]))
			t--;
		if (s == t)
			return fail(st, "%s: empty item in '%s'", key, v);
		_cleanup_free_ char *one = xstrndup(s, t - s);
		if (item(st, key, one, ctx) < 0)
			return -1;
		if (!*comma)
			return 0;
		p = comma + 1;
	}
}

struct bind_list {
	struct bind *v;
	size_t n;
};

static int bind_item(struct parse_state *st, const char *key, const char *spec, void *ctx)
{
	struct bind_list *l = ctx;
	struct bind b;
	struct kerr e2;
	if (bind_spec_parse(spec, true, &b, &e2) < 0) {
		/* bind_spec speaks of the command line; here the key is the context. */
		const char *why = e2.msg;
		if (strncmp(why, "--bind=", 7) == 0)
			why += 7;
		return fail(st, "%s: %s", key, why);
	}
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = b;
	return 0;
}

static int set_binds(struct parse_state *st, const char *key, const char *v)
{
	struct krill_config *cfg = st->cfg;
	struct bind_list l = {0};
	if (split_list(st, key, v, bind_item, &l) < 0) {
		binds_free(l.v, l.n);
		return -1;
	}
	if (cfg->binds_gen != cfg->gen) {
		binds_free(cfg->binds, cfg->nbinds);
		cfg->binds = NULL;
		cfg->nbinds = 0;
		cfg->binds_gen = cfg->gen;
	}
	cfg->binds = xrealloc(cfg->binds, (cfg->nbinds + l.n) * sizeof *cfg->binds);
	if (l.n)
		memcpy(cfg->binds + cfg->nbinds, l.v, l.n * sizeof *l.v);
	cfg->nbinds += l.n;
	free(l.v);
	return 0;
}

static int glob_item(struct parse_state *st, const char *key, const char *glob, void *ctx)
{
	for (const char *p = glob; *p; p++)
		if (*p == '=' || isspace((unsigned char)*p))
			return fail(st, "%s: '%s' is not a glob of variable names", key, glob);
	strv_push(ctx, glob);
	return 0;
}

static int set_env_keep(struct parse_state *st, const char *key, const char *v)
{
	struct krill_config *cfg = st->cfg;
	struct strv l = {0};
	if (split_list(st, key, v, glob_item, &l) < 0) {
		strv_free(&l);
		return -1;
	}
	if (cfg->env_keep_gen != cfg->gen) {
		strv_free(&cfg->env_keep);
		cfg->env_keep_gen = cfg->gen;
	}
	for (size_t i = 0; i < l.n; i++)
		strv_push_owned(&cfg->env_keep, l.v[i]);
	free(l.v);
	return 0;
}

static int set_import_cache(struct parse_state *st, const char *key, const char *v)
{
	return set_path(st, key, v, true, &st->cfg->import_cache);
}

static int set_import_compression(struct parse_state *st, const char *key, const char *v)
{
	free(st->cfg->import_compression);
	st->cfg->import_compression = *v ? xstrdup(v) : NULL;
	return 0;
}

static int registry_item(struct parse_state *st, const char *key, const char *v, void *ctx)
{
	for (const char *p = v; *p; p++)
		if (*p == '/' || *p <= ' ' || *p >= 0x7f)
			return fail(st, "%s: '%s' is not a registry HOST[:PORT]", key, v);
	strv_push(ctx, v);
	return 0;
}

static int set_import_insecure(struct parse_state *st, const char *key, const char *v)
{
	struct strv l = {0};
	if (split_list(st, key, v, registry_item, &l) < 0) {
		strv_free(&l);
		return -1;
	}
	strv_free(&st->cfg->import_insecure);
	st->cfg->import_insecure = l;
	return 0;
}

static const struct key {
	const char *section, *name;
	int (*set)(struct parse_state *st, const char *key, const char *value);
} keys[] = {
    {"run", "storage", set_storage},	     {"run", "binds", set_binds},
    {"run", "private-tmp", set_private_tmp}, {"run", "write-fake-size", set_write_fake_size},
    {"run", "env-keep", set_env_keep},	     {"join", "timeout", set_timeout},
    {"squash", "threads", set_threads},	     {"cgroup", "parent", set_cgroup_parent},
    {"oci", "root", set_oci_root},	     {"log", "syslog", set_syslog},
    {"import", "cache", set_import_cache},   {"import", "compression", set_import_compression},
    {"import", "insecure-registries", set_import_insecure},
};

/* inih's handler: nonzero means success. */
static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	if (st->err_line)
		return 0;
	if (!*name)
		return fail(st, "missing key name before '='"), 0;
	if (!*section)
		return fail(st, "key '%s' is outside any section", name), 0;
	const char *sec = section_find(section, strlen(section));
	if (!sec) /* the reader has already refused it; kept for safety */
		return fail(st, "unknown section [%s]", section), 0;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].section == sec && strcmp(keys[i].name, name) == 0)
			return keys[i].set(st, name, value ? value : "") == 0;
	return fail(st, "unknown key '%s' in [%s]", name, sec), 0;
}

/* Checks on a section header that inih doesn't make: it never reports an
 * empty unknown section, and ignores text after the `]`. */
static int check_section(struct parse_state *st, const char *line, size_t len)
{
	const char *rb = memchr(line, ']', len);
	if (!rb)
		return 0; /* inih reports it as malformed */
	if (!section_find(line + 1, rb - line - 1))
		return fail(st, "unknown section [%.*s]", (int)(rb - line - 1), line + 1);
	const char *p = rb + 1, *end = line + len;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p < end && *p != ';' && *p != '#')
		return fail(st, "unexpected text after [%.*s]", (int)(rb - line - 1), line + 1);
	return 0;
}

/* inih's fgets-like reader: hands over one line per call, so inih's line
 * numbers are ours.  Returning NULL ends the parse, which is how the first
 * error stops it. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	if (st->err_line || st->p >= st->end)
		return NULL;
	const char *line = st->p;
	const char *nl = memchr(line, '\n', st->end - line);
	size_t len = nl ? (size_t)(nl - line) : (size_t)(st->end - line);
	st->p = line + len + (nl != NULL);
	st->lineno++;
	if (memchr(line, '\0', len)) {
		fail(st, "NUL byte in line");
		return NULL;
	}
	if (st->lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3, len -= 3;
	/* Leading blanks would make inih read the line as the continuation
	 * of the previous value; krill.conf has no multi-line values. */
	while (len && isspace((unsigned char)*line))
		line++, len--;
	/* inih would cut a longer line and parse the rest as a new line. */
	if (num < 3 || len > (size_t)num - 2) {
		fail(st, "line too long (more than %d characters)", num - 2);
		return NULL;
	}
	if (len && line[0] == '[' && check_section(st, line, len) < 0)
		return NULL;
	memcpy(str, line, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

int config_parse(const char *buf, size_t len, const char *filename, struct krill_config *cfg,
		 struct kerr *e)
{
	struct parse_state st = {
	    .p = buf,
	    .end = buf + len,
	    .filename = filename,
	    .cfg = cfg,
	    .e = e,
	};
	cfg->gen++;
	int r = ini_parse_stream(read_line, &st, on_pair, &st);
	if (r < 0)
		return kerr_set(e, ENOMEM, "%s: can't parse", filename);
	if (r > 0 && (!st.err_line || r < st.err_line)) {
		/* A syntax error inih found and went on past. */
		const char *p = buf, *end = buf + len;
		for (int i = 1; i < r && p < end; i++) {
			const char *nl = memchr(p, '\n', end - p);
			p = nl ? nl + 1 : end;
		}
		const char *nl = memchr(p, '\n', end - p);
		const char *t = nl ? nl : end;
		while (p < t && isspace((unsigned char)*p))
			p++;
		while (t > p && isspace((unsigned char)t[-1]))
			t--;
		return kerr_set(e, 0,
				"%s:%d: can't parse '%.*s': expected KEY = VALUE or [SECTION]",
				filename, r, (int)(t - p > 80 ? 80 : t - p), p);
	}
	return st.err_line ? -1 : 0;
}

/* ---- loading ------------------------------------------------------------ */

/* Parse path onto cfg; a missing file is fine unless must_exist. */
static int load_file(const char *path, bool must_exist, struct krill_config *cfg, struct kerr *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct kerr e2;
	if (file_read_all(AT_FDCWD, path, CONFIG_MAX_SIZE, &buf, &len, &e2) < 0) {
		if (!must_exist && (e2.errnum == ENOENT || e2.errnum == ENOTDIR)) {
			klog(KLOG_DEBUG, "no config file %s", path);
			return 0;
		}
		if (e)
			*e = e2;
		if (must_exist)
			kerr_hint(e, "KRILL_CONFIG names this file; set KRILL_CONFIG= (empty) for "
				     "no config file");
		return -1;
	}
	klog(KLOG_VERBOSE, "reading config file %s", path);
	return config_parse(buf, len, path, cfg, e);
}

static char *user_name(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);
	if (pw && pw->pw_name && *pw->pw_name)
		return xstrdup(pw->pw_name);
	const char *env = getenv("USER");
	return env && *env ? xstrdup(env) : NULL;
}

int config_load_from(const char *site_path, struct krill_config *cfg, struct kerr *e)
{
	if (!cfg->user)
		cfg->user = user_name(cfg->uid);
	const char *env = getenv("KRILL_CONFIG");
	if (env) {
		if (*env && load_file(env, true, cfg, e) < 0)
			return -1;
	} else {
		if (load_file(site_path, false, cfg, e) < 0)
			return -1;
		/* The XDG spec says to ignore a relative XDG_CONFIG_HOME. */
		const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
		_cleanup_free_ char *user_path = NULL;
		if (xdg && xdg[0] == '/')
			user_path = xasprintf("%s/krill/krill.conf", xdg);
		else if (home && home[0] == '/')
			user_path = xasprintf("%s/.config/krill/krill.conf", home);
		if (user_path && load_file(user_path, false, cfg, e) < 0)
			return -1;
	}
	const char *storage = getenv("KRILL_STORAGE");
	if (storage && *storage) {
		free(cfg->storage);
		cfg->storage = xstrdup(storage);
	}
	if (!cfg->storage) {
		if (cfg->user)
			cfg->storage = xasprintf("/var/tmp/%s.krill", cfg->user);
		else
			cfg->storage = xasprintf("/var/tmp/%lu.krill", (unsigned long)cfg->uid);
	}
	return 0;
}

int config_load(struct krill_config *cfg, struct kerr *e)
{
	return config_load_from(CONFIG_SITE_PATH, cfg, e);
}

/* ---- into the container ---------------------------------------------------- */

static void replace_str(char **dst, const char *src)
{
	if (!src)
		return;
	free(*dst);
	*dst = xstrdup(src);
}

void config_apply(const struct krill_config *cfg, struct container *c)
{
	replace_str(&c->storage, cfg->storage);
	if (cfg->nbinds) {
		struct bind *b = xcalloc(cfg->nbinds + c->nbinds, sizeof *b);
		for (size_t i = 0; i < cfg->nbinds; i++) {
			b[i] = cfg->binds[i];
			b[i].src = xstrdup(cfg->binds[i].src);
			b[i].dst = xstrdup(cfg->binds[i].dst);
			b[i].site = true; /* mounted with the default binds (SPEC §6 step 3) */
		}
		if (c->nbinds)
			memcpy(b + cfg->nbinds, c->binds, c->nbinds * sizeof *b);
		free(c->binds);
		c->binds = b;
		c->nbinds += cfg->nbinds;
	}
	c->private_tmp = cfg->private_tmp;
	replace_str(&c->write_fake_size, cfg->write_fake_size);
	if (cfg->env_keep.n) {
		struct strv keep = {0};
		for (size_t i = 0; i < cfg->env_keep.n; i++)
			strv_push(&keep, cfg->env_keep.v[i]);
		for (size_t i = 0; i < c->env_keep.n; i++)
			strv_push(&keep, c->env_keep.v[i]);
		strv_free(&c->env_keep);
		c->env_keep = keep;
	}
	c->join_timeout = cfg->join_timeout;
	c->squash_threads = cfg->squash_threads;
	replace_str(&c->cgroup_parent, cfg->cgroup_parent);
}
