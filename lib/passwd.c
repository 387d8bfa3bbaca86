/* passwd.c: synthesized /etc/passwd and /etc/group, merged into the
 * image's own files (see passwd.h). */
#include "passwd.h"
#include "util.h"

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Keep the fields a passwd file can hold: no ':' or newline. */
static char *field(const char *s)
{
	char *r = xstrdup(s ? s : "");
	for (char *p = r; *p; p++)
		if (*p == ':' || *p == '\n')
			*p = '_';
	return r;
}

void passwd_build(uid_t uid, gid_t gid, const char *home, char **passwd, char **group)
{
	struct passwd *pw = getpwuid(uid);
	_cleanup_free_ char *uname = pw ? field(pw->pw_name) : xasprintf("krilluser%u", uid);
	_cleanup_free_ char *gecos = pw ? field(pw->pw_gecos) : xstrdup("krill container user");
	struct group *gr = getgrgid(gid);
	_cleanup_free_ char *gname = gr ? field(gr->gr_name) : xasprintf("krillgroup%u", gid);

	_cleanup_free_ char *upart = NULL;
	if (uid != 0 && uid != 65534)
		upart = xasprintf("%s:x:%u:%u:%s:%s:/bin/sh\n", uname, uid, gid, gecos, home);
	*passwd = xasprintf("root:x:0:0:root:/root:/bin/sh\n"
	                    "%s"
	                    "nobody:x:65534:65534:nobody:/:/bin/false\n",
	                    upart ? upart : "");
	_cleanup_free_ char *gpart = NULL;
	if (gid != 0 && gid != 65534)
		gpart = xasprintf("%s:x:%u:\n", gname, gid);
	*group = xasprintf("root:x:0:\n"
	                   "%s"
	                   "nogroup:x:65534:\n",
	                   gpart ? gpart : "");
}

/* ---- merging into the image's files --------------------------------------- */

/* Name (field 1) and ID (field 3) of a passwd or group line.  A line
 * without a numeric third field has no ID (has_id false). */
struct key {
	const char *name;
	size_t name_len;
	bool has_id;
	unsigned long id;
};

static bool line_key(const char *l, size_t n, struct key *k)
{
	const char *end = l + n;
	const char *c1 = memchr(l, ':', n);
	if (!c1)
		return false;
	*k = (struct key){.name = l, .name_len = c1 - l};
	const char *c2 = memchr(c1 + 1, ':', end - c1 - 1);
	if (!c2)
		return true;
	const char *id = c2 + 1, *c3 = memchr(id, ':', end - id);
	size_t id_len = (c3 ? c3 : end) - id;
	if (id_len == 0 || id_len > 10)
		return true;
	unsigned long v = 0;
	for (size_t i = 0; i < id_len; i++) {
		if (id[i] < '0' || id[i] > '9')
			return true;
		v = v * 10 + (unsigned long)(id[i] - '0');
	}
	k->has_id = true;
	k->id = v;
	return true;
}

static bool same_name(const struct key *a, const struct key *b)
{
	return a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0;
}

static bool same_id(const struct key *a, const struct key *b)
{
	return a->has_id && b->has_id && a->id == b->id;
}

/* The entries of root and nobody (IDs 0 and 65534) are defaults: the
 * image's own win.  Any other entry is the caller's identity, which wins
 * over an image entry of the same name or ID. */
static bool is_default(const struct key *k)
{
	return k->has_id && (k->id == 0 || k->id == 65534);
}

struct text {
	char *s;
	size_t n, cap;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->n + n + 2 > t->cap) {
		t->cap = (t->n + n + 2) * 2;
		t->s = xrealloc(t->s, t->cap);
	}
	memcpy(t->s + t->n, s, n);
	t->n += n;
	t->s[t->n++] = '\n';
	t->s[t->n] = '\0';
}

#define MAX_OURS 8

char *passwd_merge(const char *image, size_t len, const char *ours)
{
	struct key ok[MAX_OURS];
	const char *ol[MAX_OURS];
	size_t olen[MAX_OURS], nours = 0;
	bool seen[MAX_OURS] = {false};
	for (const char *p = ours; *p && nours < MAX_OURS;) {
		size_t n = strcspn(p, "\n");
		if (n && line_key(p, n, &ok[nours])) {
			ol[nours] = p;
			olen[nours++] = n;
		}
		p += n + (p[n] == '\n');
	}
	struct text t = {.s = xcalloc(1, 1), .cap = 1}; /* "" for an empty result */
	const char *p = image, *end = image + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *line = p;
		p += n + (nl != NULL);
		/* A NUL would cut the file short for every reader. */
		if (n == 0 || memchr(line, '\0', n))
			continue;
		struct key k;
		bool keep = true;
		if (line_key(line, n, &k)) {
			for (size_t i = 0; i < nours; i++) {
				if (!same_name(&k, &ok[i]) && !same_id(&k, &ok[i]))
					continue;
				if (is_default(&ok[i]))
					seen[i] = true; /* the image's entry stays */
				else
					keep = false;   /* the caller's replaces it */
			}
		}
		if (keep)
			text_add(&t, line, n);
	}
	for (size_t i = 0; i < nours; i++)
		if (!seen[i])
			text_add(&t, ol[i], olen[i]);
	return t.s;
}
