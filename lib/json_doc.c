/* json_doc.c: see json_doc.h. */
#include "json_doc.h"

#include <string.h>

json_t *json_doc_load(const char *buf, size_t len, const char *filename, struct kerr *e)
{
	/* jansson reads past a NUL byte where our line scanners would stop. */
	const char *nul = memchr(buf, '\0', len);
	if (nul) {
		int line = 1;
		for (const char *q = buf; q < nul; q++)
			line += *q == '\n';
		kerr_set(e, 0, "%s:%d: invalid JSON: NUL byte", filename, line);
		return NULL;
	}
	json_error_t je;
	json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		kerr_set(e, 0, "%s:%d:%d: invalid JSON: %s", filename, je.line, je.column, je.text);
	return doc;
}
