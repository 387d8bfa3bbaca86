/* log.c: leveled messages to stderr (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

int klog_verbosity = KLOG_INFO;
const char *klog_prog = "krill";

void klog(int level, const char *fmt, ...)
{
	if (!klog_enabled(level))
		return;
	/* One write per line, so lines of concurrent peers don't interleave. */
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(buf, sizeof buf, "%s: %s", klog_prog,
	                 level == KLOG_WARN ? "warning: " : "");
	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof buf)
		vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", buf);
}
