/* json_doc.h: loading a JSON document (config.json, a seccomp profile)
 * with errors that name the file, line and column. */
#ifndef KRILL_JSON_DOC_H
#define KRILL_JSON_DOC_H

#include "err.h"

#include <jansson.h>

/* Parse buf (len bytes, not NUL-terminated) strictly: duplicate keys and
 * NUL bytes are errors ("FILE:LINE[:COL]: invalid JSON: WHY"). */
json_t *json_doc_load(const char *buf, size_t len, const char *filename, struct kerr *e);

#endif
