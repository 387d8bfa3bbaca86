/* err.h: the one error style of krill.
 *
 * Every fallible function in lib/ returns an int (< 0 on failure) or a
 * pointer (NULL on failure) and takes a `struct kerr *` last.  The function
 * that sees the failure fills it with kerr_set(), naming the object (a path,
 * a pid, an option) and the cause.  Callers either pass it up unchanged or
 * add nothing; only bin/ prints it (kerr_print) and picks the exit status.
 *
 * Printed form, one line, plus an optional hint line:
 *     krill: error: WHAT: WHY
 *     krill: hint: HINT
 * WHY is strerror(errnum) when errnum != 0; otherwise msg carries it. */
#ifndef KRILL_ERR_H
#define KRILL_ERR_H

#include <stdarg.h>
#include <stddef.h>

struct kerr {
	int errnum;     /* errno of the cause, or 0 when msg says it all */
	char msg[1024]; /* "WHAT" or "WHAT: WHY" */
	char hint[512]; /* empty when no fix is known */
};

/* Fill e (msg formatted, hint cleared).  Always returns -1, so that
 * `return kerr_set(e, errno, "can't open %s", path);` reads naturally.
 * e may be NULL (the error is then dropped). */
int kerr_set(struct kerr *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Attach a hint to an error already set.  Always returns -1. */
int kerr_hint(struct kerr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Format "WHAT: WHY" into buf. */
const char *kerr_str(const struct kerr *e, char *buf, size_t len);

/* Print to stderr in the form above, with the given program prefix. */
void kerr_print(const struct kerr *e);

#endif
