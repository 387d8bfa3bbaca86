/* join_params.h: the size and name of a --join peer group (SPEC §7).
 * Pure functions over strings and an environment vector. */
#ifndef KRILL_JOIN_PARAMS_H
#define KRILL_JOIN_PARAMS_H

#include "err.h"

#include <stdbool.h>

/* Expand a Slurm task list such as "2(x3),1" and return the count at
 * index node (SLURM_NODEID).  Errors name the variable and the problem. */
int join_slurm_tasks(const char *list, unsigned long node, unsigned long *count,
                     struct kerr *e);

/* A count that is all digits and within min..max; errors say "no digits",
 * "trailing characters '...'" or "out of range (min-max)" after WHAT=S. */
int join_parse_count(const char *what, const char *s, unsigned long min, unsigned long max,
                     unsigned long *out, struct kerr *e);

/* Group size: ct if non-zero, else the first launcher variable set, in
 * SPEC order.  *source says where it came from ("--join-ct", a variable
 * name).  Values are validated: digits only, 1..65536. */
int join_size(unsigned long ct, char *const *env, unsigned long *size, const char **source,
              struct kerr *e);

/* Group tag: tag if given, else the job id of the launcher whose variable
 * join_size() reads (the first of OMPI_COMM_WORLD_LOCAL_SIZE -> Open MPI's
 * PMIX_NAMESPACE or OMPI_MCA_ess_base_jobid; PMIX_LOCAL_SIZE ->
 * PMIX_NAMESPACE; MPI_LOCALNRANKS -> the parent PID, Hydra's proxy;
 * SLURM_STEP_TASKS_PER_NODE -> SLURM_JOB_ID.SLURM_STEP_ID), also when
 * --join-ct gave the size; a launcher without its id set, the parent PID.
 * With no launcher variable at all: SLURM_JOB_ID.SLURM_STEP_ID, else
 * PMIX_NAMESPACE / OMPI_MCA_ess_base_jobid, else the parent PID.  So the
 * size and the tag describe the same processes, and two mpiruns in one
 * Slurm step get two groups.  Returns a malloc'd string; *source as
 * above. */
char *join_tag(const char *tag, char *const *env, long ppid, const char **source);

#endif
