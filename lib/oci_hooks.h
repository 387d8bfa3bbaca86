/* oci_hooks.h: running OCI hooks.
 *
 * Each hook is run with exactly its own args and env, the state JSON on
 * its stdin, and its stdout and stderr joined to the runtime's stderr.  A
 * hook that exits non-zero, dies, or outlives its timeout (it is then
 * killed) fails the operation.  Where a hook runs (the runtime's
 * namespaces or the container's) depends only on which process calls
 * this: create and start call it for prestart, createRuntime, poststart,
 * delete for poststop; the container's init for createContainer and
 * startContainer. */
#ifndef KRILL_OCI_HOOKS_H
#define KRILL_OCI_HOOKS_H

#include "oci_config.h"

int oci_hooks_run(const struct oci_hook_list *l, enum oci_hook_kind kind, const char *state,
                  struct kerr *e);

#endif
