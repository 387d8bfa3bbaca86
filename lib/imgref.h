/* imgref.h: what an import SOURCE names (pure parsers, no I/O).
 *
 *   docker://[REGISTRY[:PORT]/]NAME[:TAG][@sha256:HEX]   a registry image
 *   oci:DIR[:REF]        an OCI image layout, REF its ref.name annotation
 *   oci-archive:FILE     the same, as a tar file
 *   docker-archive:FILE  `docker save` / `podman save` output
 *   podman://IMAGE, dockerd://IMAGE   exported with the engine's own CLI
 *   tar:FILE             a root-filesystem tarball (any compression)
 *   dir:DIR              a root-filesystem directory
 *
 * Registry names are normalized as docker does: docker.io is the default
 * registry and library/ the default namespace of one-component names. */
#ifndef KRILL_IMGREF_H
#define KRILL_IMGREF_H

#include "err.h"

#include <stdbool.h>

#define IMGREF_DEFAULT_REGISTRY "docker.io"

struct imgref {
	char *registry; /* "docker.io", "127.0.0.1:15000", "ghcr.io" */
	char *repo;     /* "library/debian" */
	char *tag;      /* "latest" when neither tag nor digest is given; NULL with a digest only */
	char *digest;   /* "sha256:HEX" or NULL */
};

enum imgsrc_kind {
	IMGSRC_DOCKER,
	IMGSRC_OCI,
	IMGSRC_OCI_ARCHIVE,
	IMGSRC_DOCKER_ARCHIVE,
	IMGSRC_PODMAN,
	IMGSRC_DOCKERD,
	IMGSRC_TAR,
	IMGSRC_DIR,
};

struct imgsrc {
	enum imgsrc_kind kind;
	char *path;        /* oci, archives, tar, dir: the local path */
	char *ref;         /* oci: REF or NULL; podman/dockerd: the engine's image name */
	struct imgref reg; /* docker: the registry reference */
};

/* Parse a registry reference (without "docker://").  Errors name the part
 * that is wrong. */
int imgref_parse(const char *s, struct imgref *r, struct kerr *e);
void imgref_free(struct imgref *r);

/* The host to talk to: registry-1.docker.io for docker.io, else registry. */
const char *imgref_endpoint(const struct imgref *r);

/* True when s starts with one of the transport prefixes above. */
bool imgsrc_is_source(const char *s);

/* Parse a SOURCE with its transport prefix. */
int imgsrc_parse(const char *s, struct imgsrc *src, struct kerr *e);
void imgsrc_free(struct imgsrc *src);

/* The image's default file name without ".sqfs", enroot style: the
 * repository path without the registry and library/, '/' and ':' turned
 * into '+', then "+TAG" ("debian+bookworm", "hpc+lammps+2024").  Only
 * [A-Za-z0-9._+-] remain.  Newly allocated. */
char *imgsrc_default_name(const struct imgsrc *src);

/* The transport prefix of a kind ("docker://", "oci:", ...). */
const char *imgsrc_kind_prefix(enum imgsrc_kind kind);

/* "sha256:" followed by exactly 64 lowercase hex digits. */
bool digest_is_valid(const char *d);

/* For `krill run PATH`: fd (open on PATH) is an image in a form that must
 * be imported first (an OCI layout directory, a tar archive, compressed
 * or not): -1 with an error and a hint naming the `krill import` command.
 * 0 otherwise. */
int imgsrc_refuse_unimported(int fd, const char *path, bool is_dir, struct kerr *e);

#endif
