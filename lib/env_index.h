/* env_index.h: finding a "NAME=VALUE" entry of an environment vector by
 * NAME in constant time.
 *
 * The environment is a plain vector (it becomes execve's envp), but
 * building it replaces, deduplicates and expands by name.  A linear scan
 * per step made that quadratic: 80,000 host variables took 7 s.  The index
 * is an open-addressing hash table of positions in the vector; it never
 * owns or copies the strings.  Pure: no I/O, no globals. */
#ifndef KRILL_ENV_INDEX_H
#define KRILL_ENV_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#define ENV_INDEX_NONE ((size_t)-1)

struct env_index {
	size_t *slot; /* position + 1 in the vector; 0 = empty */
	size_t cap;   /* a power of two, or 0 */
	size_t used;
};

void env_index_free(struct env_index *x);

/* The position in v of the entry named name[0..len), or ENV_INDEX_NONE. */
size_t env_index_find(const struct env_index *x, char *const *v, const char *name, size_t len);

/* Index v[i] under its name (the text before '='), replacing the position
 * an earlier entry of that name had. */
void env_index_set(struct env_index *x, char *const *v, size_t i);

/* Forget everything and index v[0..n) (n = SIZE_MAX: up to a NULL).  When
 * a name occurs more than once, last_wins picks the last entry, else the
 * first (as getenv(3) does). */
void env_index_build(struct env_index *x, char *const *v, size_t n, bool last_wins);

#endif
