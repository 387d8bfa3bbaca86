/* caps.c: capability names, option arithmetic, and applying the sets with
 * raw capget/capset/prctl (no libcap: the kernel interface is four calls). */
#include "caps.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N(c) [CAP_##c] = "CAP_" #c
static const char *const cap_names[] = {
    N(CHOWN),
    N(DAC_OVERRIDE),
    N(DAC_READ_SEARCH),
    N(FOWNER),
    N(FSETID),
    N(KILL),
    N(SETGID),
    N(SETUID),
    N(SETPCAP),
    N(LINUX_IMMUTABLE),
    N(NET_BIND_SERVICE),
    N(NET_BROADCAST),
    N(NET_ADMIN),
    N(NET_RAW),
    N(IPC_LOCK),
    N(IPC_OWNER),
    N(SYS_MODULE),
    N(SYS_RAWIO),
    N(SYS_CHROOT),
    N(SYS_PTRACE),
    N(SYS_PACCT),
    N(SYS_ADMIN),
    N(SYS_BOOT),
    N(SYS_NICE),
    N(SYS_RESOURCE),
    N(SYS_TIME),
    N(SYS_TTY_CONFIG),
    N(MKNOD),
    N(LEASE),
    N(AUDIT_WRITE),
    N(AUDIT_CONTROL),
    N(SETFCAP),
    N(MAC_OVERRIDE),
    N(MAC_ADMIN),
    N(SYSLOG),
    N(WAKE_ALARM),
    N(BLOCK_SUSPEND),
    N(AUDIT_READ),
    N(PERFMON),
    N(BPF),
    N(CHECKPOINT_RESTORE),
};
#undef N

const uint64_t caps_default =
    CAPS_BIT(CAP_CHOWN) | CAPS_BIT(CAP_DAC_OVERRIDE) | CAPS_BIT(CAP_FSETID) | CAPS_BIT(CAP_FOWNER) |
    CAPS_BIT(CAP_MKNOD) | CAPS_BIT(CAP_NET_RAW) | CAPS_BIT(CAP_SETGID) | CAPS_BIT(CAP_SETUID) |
    CAPS_BIT(CAP_SETFCAP) | CAPS_BIT(CAP_SETPCAP) | CAPS_BIT(CAP_NET_BIND_SERVICE) |
    CAPS_BIT(CAP_SYS_CHROOT) | CAPS_BIT(CAP_KILL) | CAPS_BIT(CAP_AUDIT_WRITE);

const uint64_t caps_all = (CAPS_BIT(ARRAY_SIZE(cap_names) - 1) << 1) - 1;

const char *caps_name(int cap)
{
	if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
		return NULL;
	return cap_names[cap];
}

int caps_parse_name(const char *name, int *cap, struct kerr *e)
{
	const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (strcasecmp(bare, cap_names[i] + 4) == 0) {
			*cap = (int)i;
			return 0;
		}
	return kerr_set(e, 0, "unknown capability '%s'", name);
}

static bool is_all(const char *name)
{
	return strcasecmp(name, "ALL") == 0 || strcasecmp(name, "CAP_ALL") == 0;
}

static bool strv_has_all(const struct strv *s)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (is_all(s->v[i]))
			return true;
	return false;
}

static int mask_of(const struct strv *s, const char *opt, uint64_t *mask, struct kerr *e)
{
	*mask = 0;
	for (size_t i = 0; s && i < s->n; i++) {
		int cap;
		if (is_all(s->v[i]))
			continue;
		if (caps_parse_name(s->v[i], &cap, NULL) < 0) {
			kerr_set(e, 0, "%s=%s: unknown capability", opt, s->v[i]);
			return kerr_hint(e, "names are those of capabilities(7), with or without "
					    "CAP_, or ALL");
		}
		*mask |= CAPS_BIT(cap);
	}
	return 0;
}

int caps_from_options(const struct strv *add, const struct strv *drop, struct capsets *out,
		      struct kerr *e)
{
	uint64_t addm, dropm, set = caps_default;
	if (mask_of(add, "--cap-add", &addm, e) < 0 || mask_of(drop, "--cap-drop", &dropm, e) < 0)
		return -1;
	if (strv_has_all(add))
		set = caps_all;
	else if (strv_has_all(drop))
		set = 0;
	set = (set & ~dropm) | addm;
	*out = (struct capsets){
	    .bounding = set, .effective = set, .permitted = set, .inheritable = set, .ambient = 0};
	return 0;
}

int caps_last_cap(void)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	unsigned long n;
	if (file_read_all(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 64, &buf, &len, NULL) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		if (parse_ulong(buf, 63, &n) == 0)
			return (int)n;
	}
	/* /proc may not be mounted yet: PR_CAPBSET_READ fails with EINVAL past
	 * the last cap the kernel knows. */
	int c = 0;
	while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0)
		c++;
	return c;
}

static int capget_all(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	return (int)syscall(SYS_capget, &h, d);
}

static uint64_t join32(uint32_t lo, uint32_t hi)
{
	return (uint64_t)hi << 32 | lo;
}

static int missing_cap(uint64_t want, uint64_t have, const char *set, struct kerr *e)
{
	for (int c = 0; c < 64; c++)
		if ((want & ~have) & CAPS_BIT(c)) {
			kerr_set(e, EPERM, "%s: can't put it in the %s set", caps_name(c), set);
			return kerr_hint(e, "krill itself does not hold it (see CapBnd/CapPrm in "
					    "/proc/self/status); drop it with --cap-drop");
		}
	return 0;
}

static int drop_bounding(uint64_t keep, uint64_t mask, struct kerr *e)
{
	int last = caps_last_cap();
	uint64_t bnd = 0;
	for (int c = 0; c <= last; c++) {
		int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
		if (r > 0)
			bnd |= CAPS_BIT(c);
	}
	if (missing_cap(keep & mask, bnd, "bounding", e) < 0)
		return -1;
	for (int c = 0; c <= last; c++)
		if ((bnd & CAPS_BIT(c)) && !(keep & CAPS_BIT(c)) &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return kerr_set(e, errno, "can't drop %s from the bounding set",
					caps_name(c) ? caps_name(c) : "a capability");
	return 0;
}

static int set_eff_perm_inh_amb(const struct capsets *s, uint64_t mask, struct kerr *e)
{
	struct __user_cap_data_struct d[2];
	if (capget_all(d) < 0)
		return kerr_set(e, errno, "capget");
	uint64_t perm = join32(d[0].permitted, d[1].permitted);
	if (missing_cap((s->permitted | s->effective) & mask, perm, "permitted", e) < 0)
		return -1;
	uint64_t sets[3] = {s->effective & mask, s->permitted & mask, s->inheritable & mask};
	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(sets[0] >> (32 * i));
		d[i].permitted = (uint32_t)(sets[1] >> (32 * i));
		d[i].inheritable = (uint32_t)(sets[2] >> (32 * i));
	}
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	if (syscall(SYS_capset, &h, d) < 0)
		return kerr_set(e, errno, "capset");
	/* Ambient caps survive execve of a non-setuid program; a cap can only be
	 * raised there when it is already permitted and inheritable. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return kerr_set(e, errno, "can't clear the ambient capability set");
	uint64_t amb = s->ambient & mask;
	if (missing_cap(amb, sets[1] & sets[2], "ambient (needs permitted and inheritable)", e) < 0)
		return -1;
	for (int c = 0; c < 64; c++)
		if ((amb & CAPS_BIT(c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return kerr_set(e, errno, "can't raise %s in the ambient set",
					caps_name(c));
	return 0;
}

static uint64_t kernel_mask(void)
{
	int last = caps_last_cap();
	return (last >= 63 ? UINT64_MAX : CAPS_BIT(last + 1) - 1) & caps_all;
}

int caps_apply(const struct capsets *s, struct kerr *e)
{
	uint64_t mask = kernel_mask();
	if (drop_bounding(s->bounding, mask, e) < 0)
		return -1;
	return set_eff_perm_inh_amb(s, mask, e);
}

int caps_apply_for_uid(const struct capsets *s, uid_t uid, gid_t gid, const gid_t *groups,
		       size_t ngroups, struct kerr *e)
{
	uint64_t mask = kernel_mask();
	if (drop_bounding(s->bounding, mask, e) < 0)
		return -1;
	if (setgroups(ngroups, groups) < 0)
		return kerr_set(e, errno, "can't set the supplementary groups");
	if (setresgid(gid, gid, gid) < 0)
		return kerr_set(e, errno, "can't switch to gid %u", (unsigned)gid);
	/* Leaving uid 0 clears permitted and effective unless KEEPCAPS is set;
	 * effective is cleared regardless, and capset below restores it. */
	if (uid != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return kerr_set(e, errno, "prctl(PR_SET_KEEPCAPS)");
	if (setresuid(uid, uid, uid) < 0)
		return kerr_set(e, errno, "can't switch to uid %u", (unsigned)uid);
	if (uid != 0 && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return kerr_set(e, errno, "prctl(PR_SET_KEEPCAPS)");
	return set_eff_perm_inh_amb(s, mask, e);
}
