/* cdi_spec.h: one CDI (Container Device Interface) spec file, parsed and
 * checked against the CNCF spec, cdiVersion 0.3.0 through 1.1.x.
 *
 * The parser is pure: a buffer in, a struct out, no I/O.  JSON (a file
 * name ending in .json) is read strictly by jansson (json_doc.c), YAML by
 * libyaml's event parser, which gives every value a line and column; a
 * bad JSON spec is re-read by libyaml to place the error.  Every error has
 * the one shape
 *     FILE:LINE:COL: PATH: WHAT
 * e.g. `nvidia.yaml:12:7: devices[0].containerEdits.deviceNodes[1].major:
 * expected an integer from 0 to 4095`.  Unknown fields are errors, as the
 * spec says; so are anchors and aliases (no CDI writer needs them, and
 * they let a small file expand without bound). */
#ifndef KRILL_CDI_SPEC_H
#define KRILL_CDI_SPEC_H

#include "err.h"
#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest spec file read. */
#define CDI_SPEC_MAX (4u << 20)

struct cdi_node {              /* containerEdits.deviceNodes[] */
	char *path;            /* in the container: absolute, no `..` */
	char *host_path;       /* on the host; NULL = path */
	char type;             /* 'c', 'b', 'u' (char, unbuffered) or 'p'; 0 = not given */
	bool has_major, has_minor, has_mode, has_uid, has_gid;
	uint32_t major, minor; /* checked: major < 4096, minor < 2^20 */
	uint32_t mode;         /* fileMode, permission bits only */
	char *permissions;     /* cgroup access: a subset of "rwm"; NULL = not given */
	uint32_t uid, gid;
	char *where;           /* "FILE:LINE:COL: PATH" of this entry, for errors at run time */
};

struct cdi_mount {             /* containerEdits.mounts[] */
	char *host_path, *container_path;
	char *type;            /* NULL = not given */
	struct strv options;   /* each one of the known OCI mount options */
	char *where;
};

struct cdi_hook {              /* containerEdits.hooks[] */
	char *name;            /* createContainer, startContainer, createRuntime, ... */
	char *path;            /* absolute */
	struct strv args, env;
	unsigned timeout;      /* seconds; 0 = not given */
	char *where;
};

struct cdi_edits {
	struct strv env;       /* NAME=VALUE */
	struct cdi_node *nodes;
	size_t nnodes;
	struct cdi_mount *mounts;
	size_t nmounts;
	struct cdi_hook *hooks;
	size_t nhooks;
	uint32_t *gids;        /* additionalGids, zeros dropped as the spec says */
	size_t ngids;
	char *intel_rdt;       /* where intelRdt is, when given (krill can't apply it) */
	char *net_devices;     /* where netDevices is, when given and not empty */
};

struct cdi_device {
	char *name;
	struct cdi_edits edits;
	char *where;
};

struct cdi_spec {
	char *file;            /* as given to the parser */
	char *version;         /* cdiVersion as written */
	char *kind;            /* vendor.com/class */
	struct cdi_edits edits; /* spec-level: applied once when any device of it is used */
	struct cdi_device *devices;
	size_t ndevices;
};

/* Parse one spec.  filename names the file in errors and picks the format
 * (".json": JSON, otherwise YAML).  On error out is empty. */
int cdi_spec_parse(const char *buf, size_t len, const char *filename, struct cdi_spec *out,
                   struct kerr *e);
void cdi_spec_free(struct cdi_spec *s);
void cdi_edits_free(struct cdi_edits *ed);

/* The kind (vendor.com/class) checks the parser makes, for --device names:
 * 0 if valid. */
int cdi_kind_check(const char *kind, const char **why);
int cdi_device_name_check(const char *name, const char **why);

#endif
