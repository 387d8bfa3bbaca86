/* log.h: the one logging style of krill.
 *
 * klog(LEVEL, fmt, ...) writes "krill: MESSAGE" to stderr when LEVEL is at
 * or below the current verbosity.  The default verbosity is KLOG_INFO (0);
 * each -v adds one, each -q removes one.  Errors are not logged through
 * klog: they travel up in a struct kerr and bin/ prints them. */
#ifndef KRILL_LOG_H
#define KRILL_LOG_H

enum klog_level {
	KLOG_WARN = -1,   /* hidden by -qq */
	KLOG_INFO = 0,    /* hidden by -q */
	KLOG_VERBOSE = 1, /* -v: each setup step, in a user's words */
	KLOG_DEBUG = 2,   /* -vv: every mount and syscall that matters */
};

extern int klog_verbosity;
extern const char *klog_prog; /* "krill" or "krill-oci" */

void klog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define klog_enabled(level) ((level) <= klog_verbosity)

#endif
