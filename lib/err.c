/* err.c: filling and printing struct kerr (see err.h). */
#include "err.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int kerr_set(struct kerr *e, int errnum, const char *fmt, ...)
{
	if (!e)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	e->errnum = errnum;
	e->hint[0] = '\0';
	return -1;
}

int kerr_hint(struct kerr *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof e->hint, fmt, ap);
	va_end(ap);
	return -1;
}

const char *kerr_str(const struct kerr *e, char *buf, size_t len)
{
	if (e->errnum)
		snprintf(buf, len, "%s: %s", e->msg, strerror(e->errnum));
	else
		snprintf(buf, len, "%s", e->msg);
	return buf;
}

void kerr_print(const struct kerr *e)
{
	char buf[sizeof e->msg + 128];
	fprintf(stderr, "%s: error: %s\n", klog_prog, kerr_str(e, buf, sizeof buf));
	if (e->hint[0])
		fprintf(stderr, "%s: hint: %s\n", klog_prog, e->hint);
}
