/* env.c: --set-env syntax (a pure parser) and the final environment of the
 * container (see env.h; the rules for users are in doc/env.md). */
#include "env.h"
#include "env_index.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const clean_keep[] = {"TERM", "HOME", "USER", "LOGNAME", "LANG", "LC_*", "TZ"};

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char *p;
	size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = b->cap * 2 > b->n + n + 1 ? b->cap * 2 : b->n + n + 1;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static bool is_name_start(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static bool is_ident(char ch)
{
	return is_name_start(ch) || (ch >= '0' && ch <= '9');
}

/* The value of the first (or, if last, the final) "NAME=" among n strings;
 * n = SIZE_MAX means up to a NULL. */
static const char *lookup(char *const *v, size_t n, const char *name, size_t len, bool last)
{
	const char *found = NULL;
	for (size_t i = 0; v && i < n && v[i]; i++) {
		if (!strncmp(v[i], name, len) && v[i][len] == '=') {
			found = v[i] + len + 1;
			if (!last)
				break;
		}
	}
	return found;
}

const char *env_get(char *const *env, const char *name)
{
	return lookup(env, SIZE_MAX, name, strlen(name), false);
}

/* Where `$NAME` is looked up: assignments parsed so far from this buffer
 * (new, then the caller's old ones), then the current environment.  Each
 * has an index, so expanding N items costs O(N), not O(N * variables): the
 * one for new grows with it, the others are built at the first lookup. */
struct scope {
	const struct strv *new, *old;
	char *const *cur_env;
	struct env_index inew, iold, icur;
	bool old_indexed, cur_indexed;
};

static void scope_free(struct scope *sc)
{
	env_index_free(&sc->inew);
	env_index_free(&sc->iold);
	env_index_free(&sc->icur);
}

static const char *scope_get(struct scope *sc, const char *name, size_t len)
{
	size_t i = env_index_find(&sc->inew, sc->new->v, name, len);
	if (i != ENV_INDEX_NONE)
		return sc->new->v[i] + len + 1;
	if (!sc->old_indexed) {
		env_index_build(&sc->iold, sc->old->v, sc->old->n, true);
		sc->old_indexed = true;
	}
	i = env_index_find(&sc->iold, sc->old->v, name, len);
	if (i != ENV_INDEX_NONE)
		return sc->old->v[i] + len + 1;
	if (!sc->cur_indexed) {
		env_index_build(&sc->icur, sc->cur_env, SIZE_MAX, false);
		sc->cur_indexed = true;
	}
	i = env_index_find(&sc->icur, sc->cur_env, name, len);
	return i != ENV_INDEX_NONE ? sc->cur_env[i] + len + 1 : NULL;
}

/* Expand the `$NAME` items of a `:`-separated value.  An item that expands
 * to nothing is dropped with its colon, so that `$UNSET:/x` never leaves an
 * empty PATH item (which would mean the current directory). */
static void expand_value(struct buf *out, const char *val, size_t len, struct scope *sc)
{
	const char *end = val + len;
	size_t kept = 0;
	for (const char *item = val;;) {
		const char *colon = memchr(item, ':', end - item);
		const char *iend = colon ? colon : end;
		const char *text = item;
		size_t tlen = iend - item;
		bool is_var = tlen >= 2 && item[0] == '$' && is_name_start(item[1]);
		for (size_t i = 2; is_var && i < tlen; i++)
			is_var = is_ident(item[i]);
		if (is_var) {
			text = scope_get(sc, item + 1, tlen - 1);
			tlen = text ? strlen(text) : 0;
		}
		if (!is_var || tlen > 0) {
			if (kept++)
				buf_add(out, ":", 1);
			buf_add(out, text, tlen);
		}
		if (!colon)
			break;
		item = colon + 1;
	}
}

/* Describe a byte for an error message. */
static const char *byte_str(char ch, char *s, size_t n)
{
	if (ch >= ' ' && ch < 0x7f && ch != '\'')
		snprintf(s, n, "'%c'", ch);
	else
		snprintf(s, n, "0x%02x", (unsigned char)ch);
	return s;
}

/* Parse one record into sc->new.  Returns 1 if it is blank or a comment
 * (when allow_skip), 0 with an assignment pushed, or -1 with why filled. */
static int parse_one(const char *s, size_t n, bool allow_skip, bool strip_cr, bool expand,
		     struct scope *sc, struct strv *got, char *why, size_t whylen)
{
	char bs[8];
	const char *end = s + n;
	if (strip_cr && end > s && end[-1] == '\r')
		end--;
	if (allow_skip) {
		while (s < end && is_space(*s))
			s++;
		if (s == end || *s == '#')
			return 1;
	}
	const char *eq = memchr(s, '=', end - s);
	if (!eq) {
		snprintf(why, whylen, "no '=' in %s", allow_skip ? "line" : "assignment");
		return -1;
	}
	if (eq == s) {
		snprintf(why, whylen, "empty variable name");
		return -1;
	}
	if (!is_name_start(*s)) {
		snprintf(why, whylen, "variable name can't start with %s",
			 byte_str(*s, bs, sizeof bs));
		return -1;
	}
	/* Beyond the POSIX [A-Za-z0-9_], accept printable ASCII other than
	 * quoting characters: `env -0` output on Lmod clusters holds names such
	 * as BASH_FUNC_module%%. */
	for (const char *p = s + 1; p < eq; p++) {
		if (*p <= ' ' || *p >= 0x7f || strchr("'\"$`\\", *p)) {
			snprintf(why, whylen, "invalid character %s in variable name",
				 byte_str(*p, bs, sizeof bs));
			return -1;
		}
	}
	const char *val = eq + 1;
	size_t vlen = end - val;
	bool literal = !expand;
	if (vlen >= 2 && (val[0] == '\'' || val[0] == '"') && val[vlen - 1] == val[0]) {
		literal = literal || val[0] == '\'';
		val++;
		vlen -= 2;
	}
	struct buf b = {0};
	buf_add(&b, s, eq - s + 1);
	if (literal)
		buf_add(&b, val, vlen);
	else
		expand_value(&b, val, vlen, sc);
	strv_push_owned(got, b.p);
	env_index_set(&sc->inew, got->v, got->n - 1);
	return 0;
}

/* Move the strings of from to the end of to. */
static void strv_move(struct strv *to, struct strv *from)
{
	for (size_t i = 0; i < from->n; i++)
		strv_push_owned(to, from->v[i]);
	free(from->v);
	*from = (struct strv){0};
}

int env_parse(const char *buf, size_t len, char delim, const char *filename, char *const *cur_env,
	      bool expand, struct strv *out, struct kerr *e)
{
	struct strv got = {0};
	struct scope sc = {.new = &got, .old = out, .cur_env = cur_env};
	const char *p = buf, *end = buf + len;
	for (size_t line = 1; p < end; line++) {
		const char *q = memchr(p, delim, end - p);
		if (!q)
			q = end;
		char why[128];
		int r;
		if (delim != '\0' && memchr(p, '\0', q - p)) {
			snprintf(why, sizeof why, "NUL byte in line");
			r = -1;
		} else {
			r = parse_one(p, q - p, true, delim == '\n', expand, &sc, &got, why,
				      sizeof why);
		}
		if (r < 0) {
			scope_free(&sc);
			strv_free(&got);
			return kerr_set(e, 0, "%s:%zu: %s", filename, line, why);
		}
		p = q + 1;
	}
	scope_free(&sc);
	strv_move(out, &got);
	return 0;
}

int env_parse_assignment(const char *arg, char *const *cur_env, bool expand, struct strv *out,
			 struct kerr *e)
{
	char why[128];
	struct strv got = {0};
	struct scope sc = {.new = &got, .old = out, .cur_env = cur_env};
	int r = parse_one(arg, strlen(arg), false, false, expand, &sc, &got, why, sizeof why);
	scope_free(&sc);
	if (r < 0)
		return kerr_set(e, 0, "--set-env=%s: %s", arg, why);
	strv_move(out, &got);
	return 0;
}

/* Open path beneath the image root, never escaping it: an image is not
 * trusted, and a symlink such as /.krill/environment -> /etc/shadow must
 * not make a privileged krill read the host's file.  Returns an fd, or -1
 * with errno set. */
static int image_open(int root_fd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = flags | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = syscall(SYS_openat2, root_fd, path, &how, sizeof how);
	if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
		return fd;
	/* Before Linux 5.6 (or under a seccomp filter that hides openat2):
	 * walk the components and refuse symlinks altogether. */
	_cleanup_free_ char *copy = xstrdup(path);
	int dir = root_fd;
	char *save, *comp = strtok_r(copy, "/", &save);
	while (comp) {
		char *next = strtok_r(NULL, "/", &save);
		int f = next ? O_PATH | O_DIRECTORY : flags;
		fd = openat(dir, comp, f | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		if (dir != root_fd)
			close(dir);
		errno = err;
		if (fd < 0 || !next)
			return fd;
		dir = fd;
		comp = next;
	}
	errno = ENOENT;
	return -1;
}

/* Read an image file; 1 if it is missing, 0 if read, -1 on error. */
static int image_read(int root_fd, const char *path, char **buf, size_t *len, struct kerr *e)
{
	_cleanup_close_ int fd = image_open(root_fd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0)
		return kerr_set(e, errno, "can't open /%s in the image", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return kerr_set(e, errno, "can't stat /%s in the image", path);
	if (!S_ISREG(st.st_mode))
		return kerr_set(e, 0, "/%s in the image: not a regular file", path);
	size_t cap = 4096, n = 0;
	_cleanup_free_ char *b = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > ENV_FILE_MAX)
				return kerr_set(e, EFBIG, "can't read /%s in the image", path);
			cap *= 2;
			b = xrealloc(b, cap);
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return kerr_set(e, errno, "can't read /%s in the image", path);
		if (r == 0)
			break;
		n += r;
	}
	*buf = b;
	b = NULL;
	*len = n;
	return 0;
}

static bool image_has_dir(int root_fd, const char *path)
{
	_cleanup_close_ int fd = image_open(root_fd, path, O_PATH | O_DIRECTORY);
	return fd >= 0;
}

/* The environment being built, with its index by name. */
struct envb {
	struct strv v;
	struct env_index ix;
};

/* Set "NAME=VALUE" (taking it), replacing any entry of that name. */
static void env_put(struct envb *env, char *entry)
{
	size_t i = env_index_find(&env->ix, env->v.v, entry, strchr(entry, '=') - entry);
	if (i != ENV_INDEX_NONE) {
		free(env->v.v[i]);
		env->v.v[i] = entry;
		return;
	}
	strv_push_owned(&env->v, entry);
	env_index_set(&env->ix, env->v.v, env->v.n - 1);
}

static void env_set(struct envb *env, const char *name, const char *value)
{
	env_put(env, xasprintf("%s=%s", name, value));
}

static bool name_matches(const char *entry, const char *glob)
{
	_cleanup_free_ char *name = xstrndup(entry, strcspn(entry, "="));
	return fnmatch(glob, name, FNM_EXTMATCH) == 0;
}

static void env_unset(struct envb *env, const char *glob)
{
	struct strv *v = &env->v;
	size_t j = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (name_matches(v->v[i], glob))
			free(v->v[i]);
		else
			v->v[j++] = v->v[i];
	}
	if (j == v->n)
		return;
	v->n = j;
	v->v[j] = NULL;
	env_index_build(&env->ix, v->v, v->n, true); /* positions moved */
}

static bool clean_keeps(const struct container *c, const char *entry)
{
	for (size_t i = 0; i < ARRAY_SIZE(clean_keep); i++)
		if (name_matches(entry, clean_keep[i]))
			return true;
	for (size_t i = 0; i < c->env_keep.n; i++)
		if (name_matches(entry, c->env_keep.v[i]))
			return true;
	return false;
}

static int apply_buf(struct envb *env, const char *buf, size_t len, char delim,
		     const char *filename, bool expand, struct kerr *e)
{
	struct strv got = {0};
	if (env_parse(buf, len, delim, filename, env->v.v, expand, &got, e) < 0)
		return -1;
	for (size_t i = 0; i < got.n; i++)
		env_put(env, got.v[i]);
	free(got.v);
	return 0;
}

/* The image's environment file: /.krill/environment, or Charliecloud's
 * /ch/environment when the image has no /.krill. */
static int apply_image_file(const struct container *c, int root_fd, char delim, struct envb *env,
			    struct kerr *e)
{
	const char *path =
	    image_has_dir(root_fd, ".krill") ? ".krill/environment" : "ch/environment";
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = image_read(root_fd, path, &buf, &len, e);
	if (r < 0)
		return -1;
	if (r > 0) {
		klog(KLOG_VERBOSE, "the image has no /%s", path);
		return 0;
	}
	klog(KLOG_VERBOSE, "setting the image's environment from /%s", path);
	_cleanup_free_ char *name = xasprintf("/%s", path);
	if (apply_buf(env, buf, len, delim, name, !c->env_no_expand, e) < 0) {
		if (c->image)
			kerr_hint(e, "%s is inside the image %s", name, c->image);
		return -1;
	}
	return 0;
}

int env_load_host_files(struct container *c, struct kerr *e)
{
	for (size_t i = 0; i < c->nenv_ops; i++) {
		struct env_op *op = &c->env_ops[i];
		if ((op->kind != ENV_OP_SET_FILE && op->kind != ENV_OP_SET_FILE0) || !*op->arg ||
		    op->text)
			continue;
		if (file_read_all(AT_FDCWD, op->arg, ENV_FILE_MAX, &op->text, &op->len, e) < 0)
			return -1;
	}
	return 0;
}

static int apply_host_file(const struct container *c, const struct env_op *op, char delim,
			   struct envb *env, struct kerr *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = op->len;
	klog(KLOG_VERBOSE, "setting environment from %s", op->arg);
	if (!op->text && file_read_all(AT_FDCWD, op->arg, ENV_FILE_MAX, &buf, &len, e) < 0)
		return -1;
	return apply_buf(env, op->text ? op->text : buf, len, delim, op->arg, !c->env_no_expand, e);
}

static int set_home(const struct container *c, int root_fd, char *const *host_env, struct envb *env,
		    struct kerr *e)
{
	if (!c->home) {
		env_set(env, "HOME", image_has_dir(root_fd, "root") ? "/root" : "/");
		return 0;
	}
	const char *user = env_get(host_env, "USER");
	if (!user || !*user) {
		struct passwd *pw = getpwuid(getuid());
		if (!pw) {
			kerr_set(e, 0, "--home: can't find the user name of uid %u",
				 (unsigned)getuid());
			return kerr_hint(e, "set $USER");
		}
		user = pw->pw_name;
	}
	_cleanup_free_ char *home = xasprintf("/home/%s", user);
	env_set(env, "HOME", home);
	return 0;
}

/* /bin is appended because some distributions' default PATH has dropped it
 * (merged /usr), while an image without merged /usr needs it. */
static void fix_path(struct envb *env)
{
	size_t i = env_index_find(&env->ix, env->v.v, "PATH", 4);
	const char *path = i != ENV_INDEX_NONE ? env->v.v[i] + 5 : NULL;
	if (!path) {
		env_set(env, "PATH", DEFAULT_PATH);
		return;
	}
	if (!*path) {
		env_set(env, "PATH", "/bin");
		return;
	}
	for (const char *p = path;;) {
		size_t n = strcspn(p, ":");
		if ((n == 4 && !strncmp(p, "/bin", 4)) || (n == 5 && !strncmp(p, "/bin/", 5)))
			return;
		if (!p[n])
			break;
		p += n + 1;
	}
	env_put(env, xasprintf("PATH=%s:/bin", path));
}

int env_build(const struct container *c, int image_root_fd, char *const *host_env, struct strv *out,
	      struct kerr *e)
{
	struct envb env = {0};
	for (size_t i = 0; host_env && host_env[i]; i++) {
		const char *s = host_env[i], *eq = strchr(s, '=');
		if (!eq || eq == s ||
		    env_index_find(&env.ix, env.v.v, s, eq - s) != ENV_INDEX_NONE)
			continue; /* the first of a name wins, as getenv(3) sees it */
		if (c->env_clean && !clean_keeps(c, s))
			continue;
		strv_push(&env.v, s);
		env_index_set(&env.ix, env.v.v, env.v.n - 1);
	}
	if (apply_image_file(c, image_root_fd, '\n', &env, e) < 0)
		goto fail;

	/* As ch-run does, the fixups come before the user's --set-env and
	 * --unset-env, so that an explicit HOME, PATH or TMPDIR wins. */
	if (set_home(c, image_root_fd, host_env, &env, e) < 0)
		goto fail;
	fix_path(&env);
	env_unset(&env, "TMPDIR");

	for (size_t i = 0; i < c->nenv_ops; i++) {
		const struct env_op *op = &c->env_ops[i];
		char delim = op->kind == ENV_OP_SET_FILE0 ? '\0' : '\n';
		int r = 0;
		switch (op->kind) {
		case ENV_OP_SET_FILE:
		case ENV_OP_SET_FILE0:
			if (!*op->arg)
				r = apply_image_file(c, image_root_fd, delim, &env, e);
			else
				r = apply_host_file(c, op, delim, &env, e);
			break;
		case ENV_OP_SET_VAR: {
			struct strv got = {0};
			r = env_parse_assignment(op->arg, env.v.v, !c->env_no_expand, &got, e);
			if (r == 0)
				env_put(&env, got.v[0]);
			free(got.v);
			break;
		}
		case ENV_OP_UNSET:
			if (!*op->arg)
				r = kerr_set(e, 0, "--unset-env: the glob is empty");
			else
				env_unset(&env, op->arg);
			break;
		}
		if (r < 0)
			goto fail;
	}

	env_unset(&env, "KRILL_RUNNING");
	strv_push(&env.v, "KRILL_RUNNING=1");
	env_index_free(&env.ix);
	*out = env.v;
	return 0;
fail:
	env_index_free(&env.ix);
	strv_free(&env.v);
	return -1;
}
