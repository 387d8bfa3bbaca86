/* bind_spec.c: a pure parser for bind specifications (see bind_spec.h). */
#include "bind_spec.h"

#include <stdlib.h>
#include <string.h>

int path_normalize(char *path)
{
	char *out = path;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t len = end - p;
		if (len == 0)
			break;
		if (len == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		*out++ = '/';
		memmove(out, p, len);
		out += len;
		p = end;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
	return 0;
}

int bind_spec_parse(const char *spec, bool allow_optional, struct bind *out, struct kerr *e)
{
	memset(out, 0, sizeof *out);
	const char *s = spec;
	if (allow_optional && *s == '?') {
		out->optional = true;
		s++;
	}
	const char *c1 = strchr(s, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	size_t srclen = c1 ? (size_t)(c1 - s) : strlen(s);
	if (srclen == 0)
		return kerr_set(e, 0, "--bind=%s: no source", spec);
	if (s[0] != '/')
		return kerr_set(e, 0, "--bind=%s: source must be an absolute path", spec);
	if (c2 && strcmp(c2 + 1, "ro") != 0)
		return kerr_set(e, 0, "--bind=%s: unknown flag '%s' (only 'ro' is known)", spec, c2 + 1);
	char *dst;
	if (!c1)
		dst = xstrndup(s, srclen);
	else
		dst = c2 ? xstrndup(c1 + 1, c2 - c1 - 1) : xstrdup(c1 + 1);
	const char *why = NULL;
	if (!*dst)
		why = "empty destination";
	else if (dst[0] != '/')
		why = "destination must be an absolute path";
	else if (path_normalize(dst) < 0)
		why = "destination may not contain '..'";
	else if (strcmp(dst, "/") == 0)
		why = "destination may not be /";
	if (why) {
		free(dst);
		return kerr_set(e, 0, "--bind=%s: %s", spec, why);
	}
	out->src = xstrndup(s, srclen);
	out->dst = dst;
	out->ro = c2 != NULL;
	return 0;
}
