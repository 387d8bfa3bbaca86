/* security.c: see security.h. */
#include "security.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int security_prepare(const struct container *c, bool privileged, struct security *s,
                     struct kerr *e)
{
	memset(s, 0, sizeof *s);
	s->privileged = privileged;
	if (!privileged && (c->cap_add.n || c->cap_drop.n)) {
		kerr_set(e, 0, "--cap-%s: capability changes need krill to run as root without "
		               "--userns", c->cap_add.n ? "add" : "drop");
		return kerr_hint(e, "unprivileged, the container's root already holds every "
		                    "capability inside its own user namespace and none outside");
	}
	if (privileged && caps_from_options(&c->cap_add, &c->cap_drop, &s->caps, e) < 0)
		return -1;
	if (!c->seccomp_profile && !c->seccomp_fakeroot)
		return 0;
	uint64_t caps = privileged ? s->caps.bounding : caps_default;
	const char *cache = seccomp_cache_dir();
	/* The fake-root filter first: the profile, loaded last, may deny
	 * seccomp(2) itself, and is checked to allow what follows it. */
	if (c->seccomp_fakeroot) {
		if (seccomp_prepare_fakeroot(cache, &s->filters[s->nfilters], e) < 0)
			return -1;
		s->nfilters++;
	}
	if (c->seccomp_profile) {
		_cleanup_free_ char *buf = NULL;
		size_t len;
		if (file_read_all(AT_FDCWD, c->seccomp_profile, 1 << 24, &buf, &len, e) < 0) {
			char msg[sizeof e->msg];
			snprintf(msg, sizeof msg, "--seccomp-profile=%s", c->seccomp_profile);
			return kerr_set(e, e->errnum, "%s", msg);
		}
		if (seccomp_prepare_profile(buf, len, c->seccomp_profile, caps, cache,
		                            &s->filters[s->nfilters], e) < 0)
			return -1;
		s->nfilters++;
	}
	return 0;
}

int security_apply(const struct container *c, const struct security *s, struct kerr *e)
{
	if (!s)
		return 0;
	if (s->privileged) {
		klog(KLOG_VERBOSE, "capabilities: bounding set %#llx, uid %u, gid %u",
		     (unsigned long long)s->caps.bounding, c->uid, c->gid);
		if (caps_apply_for_uid(&s->caps, c->uid, c->gid, NULL, 0, e) < 0)
			return -1;
	}
	/* Last, after the uid switch: the fake-root filter turns setuid and
	 * capset into no-ops. */
	for (int i = 0; i < s->nfilters; i++) {
		klog(KLOG_VERBOSE, "loading seccomp filter %d of %d", i + 1, s->nfilters);
		if (seccomp_bpf_load(&s->filters[i], e) < 0)
			return -1;
	}
	return 0;
}

void security_free(struct security *s)
{
	for (int i = 0; i < s->nfilters; i++)
		seccomp_bpf_free(&s->filters[i]);
	s->nfilters = 0;
}
