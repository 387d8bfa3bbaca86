/* seccomp_profile.h: a pure parser for OCI/Docker seccomp JSON profiles
 * (`--seccomp-profile=FILE`, OCI `linux.seccomp`).
 *
 * The result keeps libseccomp values (actions, arch tokens, operators) but
 * resolves nothing that depends on the running process: includes/excludes
 * (caps, arches, minKernel) are kept and judged by seccomp_profile_load. */
#ifndef KRILL_SECCOMP_PROFILE_H
#define KRILL_SECCOMP_PROFILE_H

#include "util.h"

#include <jansson.h>
#include <seccomp.h>
#include <stdint.h>

struct seccomp_arg {
	unsigned index; /* 0..5 */
	uint64_t value, value_two;
	enum scmp_compare op;
};

struct seccomp_rule {
	struct strv names; /* every name is known to libseccomp */
	uint32_t action;   /* SCMP_ACT_*, errno/trace data included */
	struct seccomp_arg *args;
	size_t nargs;
	uint64_t caps_include;	    /* applies only if every one of these is held */
	uint64_t caps_exclude;	    /* skipped if any one of these is held */
	struct strv arches_include; /* Go/Docker names ("amd64") or libseccomp's ("x86_64") */
	struct strv arches_exclude;
	unsigned min_kernel[2]; /* {major, minor}; {0, 0} = no minimum */
	int line;		/* of the rule in the file, for load errors */
};

struct seccomp_archmap {
	uint32_t arch;
	uint32_t *subs;
	size_t nsubs;
};

struct seccomp_profile {
	char *filename;
	uint32_t default_action;
	uint32_t *arches; /* "architectures", added besides the native one */
	size_t narches;
	struct seccomp_archmap *archmap; /* Docker's "archMap"; only the native entry is used */
	size_t narchmap;
	bool flag_tsync, flag_log, flag_spec_allow; /* "flags": SECCOMP_FILTER_FLAG_* */
	struct seccomp_rule *rules;
	size_t nrules;
};

/* Parse buf (len bytes, no NUL needed) into a new *out.  filename is used
 * only in messages, which give the file and the line, and the syscall when
 * there is one:
 *     prof.json:12: syscall 'mkdr': unknown system call
 *     prof.json:3:17: invalid JSON: '}' expected near '"x"'
 * A name libseccomp knows on no architecture is an error; one it knows but
 * that doesn't exist on some architecture is fine (Docker's profile names
 * e.g. socketcall and arm_fadvise64_64).  Unknown keys are ignored, as
 * runc does; known keys krill can't honour (SCMP_ACT_NOTIFY, listenerPath,
 * unknown flags) are errors. */
int seccomp_profile_parse(const char *buf, size_t len, const char *filename,
			  struct seccomp_profile **out, struct kerr *e);

/* The same, for a profile already decoded by a bigger document's parser (OCI
 * linux.seccomp): obj is the profile object, buf/len the whole document's
 * text (for lines), prefix the keys leading to obj ({"linux", "seccomp"}),
 * which messages then show: `config.json:40: linux.seccomp.flags: ...`. */
int seccomp_profile_from_json(json_t *obj, const char *buf, size_t len, const char *filename,
			      const char *const *prefix, size_t nprefix,
			      struct seccomp_profile **out, struct kerr *e);

void seccomp_profile_free(struct seccomp_profile *p);

#endif
