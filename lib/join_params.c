/* join_params.c: see join_params.h. */
#include "join_params.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *getenv_in(char *const *env, const char *name)
{
	size_t n = strlen(name);
	for (char *const *p = env; p && *p; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

int join_parse_count(const char *what, const char *s, unsigned long min, unsigned long max,
                  unsigned long *out, struct kerr *e)
{
	if (!*s || s[0] < '0' || s[0] > '9')
		return kerr_set(e, 0, "%s=%s: no digits", what, s);
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end)
		return kerr_set(e, 0, "%s=%s: trailing characters '%s'", what, s, end);
	if (errno || v < min || v > max)
		return kerr_set(e, 0, "%s=%s: out of range (%lu-%lu)", what, s, min, max);
	*out = v;
	return 0;
}

int join_slurm_tasks(const char *list, unsigned long node, unsigned long *count,
                     struct kerr *e)
{
	const char *what = "SLURM_STEP_TASKS_PER_NODE";
	unsigned long index = 0;
	const char *p = list;
	if (!*p)
		return kerr_set(e, 0, "%s is empty", what);
	while (*p) {
		char *end;
		if (*p < '0' || *p > '9')
			return kerr_set(e, 0, "%s=%s: expected a number at '%s'", what, list, p);
		errno = 0;
		unsigned long tasks = strtoul(p, &end, 10);
		unsigned long repeat = 1;
		if (errno || tasks == 0 || tasks > 65536)
			return kerr_set(e, 0, "%s=%s: task count out of range (1-65536)", what, list);
		p = end;
		if (strncmp(p, "(x", 2) == 0) {
			p += 2;
			if (*p < '0' || *p > '9')
				return kerr_set(e, 0, "%s=%s: expected a repeat count at '%s'", what, list, p);
			repeat = strtoul(p, &end, 10);
			if (*end != ')' || repeat == 0 || repeat > 1000000)
				return kerr_set(e, 0, "%s=%s: bad repeat '(x%.*s'", what, list,
				                (int)(end - p), p);
			p = end + 1;
		}
		if (*p && *p != ',')
			return kerr_set(e, 0, "%s=%s: trailing characters '%s'", what, list, p);
		if (node < index + repeat) {
			*count = tasks;
			return 0;
		}
		index += repeat;
		if (*p == ',')
			p++;
	}
	return kerr_set(e, 0, "%s=%s: no entry for node %lu (SLURM_NODEID)", what, list, node);
}

/* The launchers krill knows, in the order their size variables are
 * tried.  A launcher's own job id names the group, so that the size and
 * the tag always describe the same set of processes: two mpiruns inside
 * one Slurm step share the Slurm variables but not their own ids. */
static const struct launcher {
	const char *name;
	const char *size_var;
	const char *id_vars[2]; /* first one set wins; none: the parent PID */
	bool slurm;             /* the id is SLURM_JOB_ID.SLURM_STEP_ID */
} launchers[] = {
	{"Open MPI's mpirun", "OMPI_COMM_WORLD_LOCAL_SIZE",
	 {"PMIX_NAMESPACE", "OMPI_MCA_ess_base_jobid"}, false},
	{"PMIx", "PMIX_LOCAL_SIZE", {"PMIX_NAMESPACE", NULL}, false},
	/* Hydra sets no job id; its proxy is the parent of one mpiexec's ranks. */
	{"MPICH's Hydra", "MPI_LOCALNRANKS", {NULL, NULL}, false},
	{"Slurm", "SLURM_STEP_TASKS_PER_NODE", {NULL, NULL}, true},
};

/* The launcher whose size variable is set first, or NULL. */
static const struct launcher *launcher_of(char *const *env)
{
	for (size_t i = 0; i < ARRAY_SIZE(launchers); i++)
		if (getenv_in(env, launchers[i].size_var))
			return &launchers[i];
	return NULL;
}

int join_size(unsigned long ct, char *const *env, unsigned long *size, const char **source,
              struct kerr *e)
{
	if (ct) {
		*size = ct;
		*source = "--join-ct";
		return 0;
	}
	const struct launcher *l = launcher_of(env);
	if (l && l->slurm) {
		const char *nodeid = getenv_in(env, "SLURM_NODEID");
		unsigned long node = 0;
		if (nodeid && join_parse_count("SLURM_NODEID", nodeid, 0, 1000000, &node, e) < 0)
			return -1;
		*source = l->size_var;
		return join_slurm_tasks(getenv_in(env, l->size_var), node, size, e);
	}
	if (l) {
		*source = l->size_var;
		return join_parse_count(l->size_var, getenv_in(env, l->size_var), 1, 65536, size, e);
	}
	kerr_set(e, 0, "--join: can't tell the number of peers: none of "
	               "OMPI_COMM_WORLD_LOCAL_SIZE, PMIX_LOCAL_SIZE, MPI_LOCALNRANKS or "
	               "SLURM_STEP_TASKS_PER_NODE is set");
	return kerr_hint(e, "give it with --join-ct=N");
}

/* SLURM_JOB_ID.SLURM_STEP_ID, or NULL without a job id. */
static char *slurm_tag(char *const *env)
{
	const char *job = getenv_in(env, "SLURM_JOB_ID");
	if (!job || !*job)
		return NULL;
	const char *step = getenv_in(env, "SLURM_STEP_ID");
	return xasprintf("%s.%s", job, step && *step ? step : "0");
}

char *join_tag(const char *tag, char *const *env, long ppid, const char **source)
{
	if (tag) {
		*source = "--join-tag";
		return xstrdup(tag);
	}
	const struct launcher *l = launcher_of(env);
	if (l) {
		char *t = l->slurm ? slurm_tag(env) : NULL;
		if (t) {
			*source = "SLURM_JOB_ID.SLURM_STEP_ID";
			return t;
		}
		for (size_t i = 0; i < ARRAY_SIZE(l->id_vars) && l->id_vars[i]; i++) {
			const char *v = getenv_in(env, l->id_vars[i]);
			if (v && *v) {
				*source = l->id_vars[i];
				return xstrdup(v);
			}
		}
		*source = "the parent PID";
		return xasprintf("ppid%ld", ppid);
	}
	/* No launcher variables: --join-ct gave the size.  A Slurm job (a
	 * batch script starting peers itself), else an MPI job id, else the
	 * parent, in that order. */
	char *t = slurm_tag(env);
	if (t) {
		*source = "SLURM_JOB_ID.SLURM_STEP_ID";
		return t;
	}
	static const char *const vars[] = {"PMIX_NAMESPACE", "OMPI_MCA_ess_base_jobid"};
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = getenv_in(env, vars[i]);
		if (v && *v) {
			*source = vars[i];
			return xstrdup(v);
		}
	}
	*source = "the parent PID";
	return xasprintf("ppid%ld", ppid);
}
