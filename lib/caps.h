/* caps.h: Linux capability names, the --cap-add/--cap-drop arithmetic, and
 * applying the five capability sets to the calling process.
 *
 * Sets are bit masks: bit N is capability N (CAP_CHOWN = bit 0). */
#ifndef KRILL_CAPS_H
#define KRILL_CAPS_H

#include "util.h"

#include <stdint.h>
#include <sys/types.h>

#define CAPS_BIT(cap) (UINT64_C(1) << (cap))

/* Docker's default set, which is also krill's default as root: CHOWN,
 * DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP,
 * SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE. */
extern const uint64_t caps_default;
/* Every capability krill knows by name (0 .. CAP_CHECKPOINT_RESTORE). */
extern const uint64_t caps_all;

struct capsets {
	uint64_t bounding, effective, permitted, inheritable, ambient;
};

/* "CAP_SYS_ADMIN", "sys_admin", "Sys_Admin" -> 21.  "ALL" is not a name:
 * callers that accept it check for it first.  Error: unknown capability 'X'. */
int caps_parse_name(const char *name, int *cap, struct kerr *e);

/* "CAP_CHOWN" for 0; NULL for a number krill has no name for. */
const char *caps_name(int cap);

/* The runtime's sets for `krill run` as root: start from caps_default (from
 * every cap if add holds ALL, from none if drop holds ALL), remove the caps
 * in drop, then add the caps in add, so that `--cap-drop=ALL --cap-add=X`
 * yields X and an explicit add wins over a drop of the same cap.  Bounding,
 * effective, permitted and inheritable get the result; ambient is empty.
 * Errors name the option: `--cap-add=FOO: unknown capability`. */
int caps_from_options(const struct strv *add, const struct strv *drop, struct capsets *out,
		      struct kerr *e);

/* The highest capability number the running kernel knows
 * (/proc/sys/kernel/cap_last_cap, else probed with PR_CAPBSET_READ). */
int caps_last_cap(void);

/* Make the calling process hold exactly *s (bits above the kernel's last cap
 * are ignored): drop every bounding cap not in s->bounding, capset()
 * effective/permitted/inheritable, clear the ambient set and raise
 * s->ambient.  Call it as uid 0 (or with CAP_SETPCAP), after every step that
 * needs privilege (mounts, cgroups) and before loading seccomp.  Fails,
 * naming the cap, when s asks for a cap this process doesn't hold. */
int caps_apply(const struct capsets *s, struct kerr *e);

/* caps_apply plus the switch to uid/gid/groups, in the order that keeps the
 * requested permitted set across setresuid (PR_SET_KEEPCAPS), as runc does.
 * A non-root uid then holds permitted/effective only until execve: without
 * file capabilities or an ambient set the kernel clears them at exec, which
 * is Docker's "a non-root user gets no effective caps".  Pass ngroups = 0 to
 * drop every supplementary group. */
int caps_apply_for_uid(const struct capsets *s, uid_t uid, gid_t gid, const gid_t *groups,
		       size_t ngroups, struct kerr *e);

#endif
