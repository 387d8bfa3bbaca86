/* manifest.h: OCI and Docker image manifests, indexes (manifest lists),
 * image configs and `docker save`'s manifest.json.  Pure parsers over
 * buffers: every field used later is checked here (media types, digests,
 * sizes, counts), so nothing from the document reaches a path or URL
 * unchecked. */
#ifndef KRILL_MANIFEST_H
#define KRILL_MANIFEST_H

#include "err.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

#define MANIFEST_MAX_SIZE (4u << 20) /* manifests, indexes and configs */
#define MANIFEST_MAX_LAYERS 512
#define INDEX_MAX_ENTRIES 1024

enum manifest_kind { MANIFEST_IMAGE, MANIFEST_INDEX };

enum layer_compression { LAYER_TAR, LAYER_GZIP, LAYER_ZSTD };

struct descriptor {
	char digest[72]; /* "sha256:HEX", checked */
	uint64_t size;
	enum layer_compression comp; /* layers only */
	char *os, *arch, *variant;   /* index entries only; NULL when absent */
	char *ref_name;              /* index entries: org.opencontainers.image.ref.name */
	bool is_index;               /* index entries: a nested index (OCI layouts) */
};

struct manifest {
	struct descriptor config;
	struct descriptor *layers;
	size_t nlayers;
};

struct image_index {
	struct descriptor *manifests; /* image manifests and nested indexes; others are dropped */
	size_t n;
};

struct image_config {
	char *os, *arch, *variant;
	struct strv env;        /* VAR=VALUE */
	struct strv entrypoint;
	struct strv cmd;
	char *workdir; /* NULL when absent or empty */
	char *user;    /* NULL when absent or empty */
	struct strv diff_ids;   /* rootfs.diff_ids, "sha256:HEX" each */
};

/* Which kind buf is: the HTTP Content-Type when given (may be NULL), else
 * its mediaType field.  Schema 1 and unknown types are refused. */
int manifest_kind(const char *content_type, const char *buf, size_t len,
                  enum manifest_kind *kind, struct kerr *e);

/* `what` names the document in errors ("docker://x:1 manifest"). */
int manifest_parse(const char *buf, size_t len, const char *what, struct manifest *m,
                   struct kerr *e);
void manifest_free(struct manifest *m);

int index_parse(const char *buf, size_t len, const char *what, struct image_index *ix,
                struct kerr *e);
void index_free(struct image_index *ix);

/* The image manifest entry for os/arch[/variant] (variant NULL: the first of that arch,
 * preferring v8 for arm64 and v7 for arm).  Returns its position, or -1
 * with an error listing the platforms the index has. */
int index_select(const struct image_index *ix, const char *os, const char *arch,
                 const char *variant, const char *what, struct kerr *e);

int image_config_parse(const char *buf, size_t len, const char *what, struct image_config *c,
                       struct kerr *e);
void image_config_free(struct image_config *c);

/* docker save's manifest.json: the first image's Config and Layers paths,
 * each checked to be a relative path without "..". */
struct docker_archive_manifest {
	char *config;
	struct strv layers;
};
int docker_archive_manifest_parse(const char *buf, size_t len, const char *what,
                                  struct docker_archive_manifest *m, struct kerr *e);
void docker_archive_manifest_free(struct docker_archive_manifest *m);

/* The host's platform in OCI terms ("amd64", "arm64", ...) and variant
 * (NULL, or "v7"/"v8"). */
const char *platform_host_arch(void);
const char *platform_host_variant(void);

#endif
