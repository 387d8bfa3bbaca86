/* env_index.c: see env_index.h. */
#include "env_index.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: a name is short, and a multiplicative hash spreads it well
 * enough for linear probing at a load of at most one half. */
static size_t hash_name(const char *s, size_t len)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(1099511628211);
	}
	return (size_t)(h ^ (h >> 32));
}

static size_t name_len(const char *entry)
{
	const char *eq = strchr(entry, '=');
	return eq ? (size_t)(eq - entry) : strlen(entry);
}

static bool same_name(const char *entry, const char *name, size_t len)
{
	return strncmp(entry, name, len) == 0 && (entry[len] == '=' || entry[len] == '\0');
}

/* The slot holding name, or the empty slot where it would go. */
static size_t probe(const struct env_index *x, char *const *v, const char *name, size_t len)
{
	size_t mask = x->cap - 1;
	for (size_t k = hash_name(name, len) & mask;; k = (k + 1) & mask)
		if (!x->slot[k] || same_name(v[x->slot[k] - 1], name, len))
			return k;
}

void env_index_free(struct env_index *x)
{
	free(x->slot);
	*x = (struct env_index){0};
}

size_t env_index_find(const struct env_index *x, char *const *v, const char *name, size_t len)
{
	if (!x->cap)
		return ENV_INDEX_NONE;
	size_t k = probe(x, v, name, len);
	return x->slot[k] ? x->slot[k] - 1 : ENV_INDEX_NONE;
}

static void grow(struct env_index *x, char *const *v)
{
	size_t *old = x->slot, oldcap = x->cap;
	x->cap = oldcap ? oldcap * 2 : 64;
	x->slot = xcalloc(x->cap, sizeof *x->slot);
	for (size_t k = 0; k < oldcap; k++) {
		if (!old[k])
			continue;
		const char *e = v[old[k] - 1];
		x->slot[probe(x, v, e, name_len(e))] = old[k];
	}
	free(old);
}

void env_index_set(struct env_index *x, char *const *v, size_t i)
{
	if ((x->used + 1) * 2 > x->cap)
		grow(x, v);
	size_t k = probe(x, v, v[i], name_len(v[i]));
	if (!x->slot[k])
		x->used++;
	x->slot[k] = i + 1;
}

void env_index_build(struct env_index *x, char *const *v, size_t n, bool last_wins)
{
	if (x->cap)
		memset(x->slot, 0, x->cap * sizeof *x->slot);
	x->used = 0;
	for (size_t i = 0; v && i < n && v[i]; i++)
		if (last_wins || env_index_find(x, v, v[i], name_len(v[i])) == ENV_INDEX_NONE)
			env_index_set(x, v, i);
}
