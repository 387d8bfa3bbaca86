/* seccomp_filter.c: the fake-root filter and profile compilation with libseccomp
 * (see seccomp_filter.h).  libseccomp writes the BPF; krill only chooses rules. */
#include "seccomp_filter.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

static int add_compat_arches(scmp_filter_ctx ctx, struct kerr *e)
{
	uint32_t native = seccomp_arch_native(), compat[2] = {0, 0};
	if (native == SCMP_ARCH_X86_64) {
		compat[0] = SCMP_ARCH_X86;
		compat[1] = SCMP_ARCH_X32;
	} else if (native == SCMP_ARCH_AARCH64) {
		compat[0] = SCMP_ARCH_ARM;
	}
	for (size_t i = 0; i < ARRAY_SIZE(compat) && compat[i]; i++) {
		int rc = seccomp_arch_add(ctx, compat[i]);
		if (rc < 0 && rc != -EEXIST)
			return kerr_set(e, -rc, "seccomp: can't add a compat architecture");
	}
	return 0;
}

static scmp_filter_ctx new_ctx(uint32_t def, struct kerr *e)
{
	scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx) {
		kerr_set(e, ENOMEM, "seccomp: can't create a filter");
		return NULL;
	}
	/* Without this libseccomp reports every kernel failure as ECANCELED. */
	seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	return ctx;
}

static const char *const fakeroot_calls[] = {
	"chown", "fchown", "fchownat", "lchown", "chown32", "fchown32", "lchown32",
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid",
	"setfsgid", "setuid32", "setgid32", "setreuid32", "setregid32", "setresuid32",
	"setresgid32", "setfsuid32", "setfsgid32", "setgroups", "setgroups32", "capset",
	"kexec_load",
};

int seccomp_fakeroot_build(scmp_filter_ctx *out, struct kerr *e)
{
	scmp_filter_ctx ctx = new_ctx(SCMP_ACT_ALLOW, e);
	if (!ctx || add_compat_arches(ctx, e) < 0)
		goto fail;
	int rc;
	const uint32_t fake = SCMP_ACT_ERRNO(0); /* "fails" with errno 0: returns 0 */
	for (size_t i = 0; i < ARRAY_SIZE(fakeroot_calls); i++) {
		int nr = seccomp_syscall_resolve_name(fakeroot_calls[i]);
		if ((rc = seccomp_rule_add(ctx, fake, nr, 0)) < 0) {
			kerr_set(e, -rc, "seccomp: can't add a rule for %s", fakeroot_calls[i]);
			goto fail;
		}
	}
	/* Only device nodes need privilege; fifos and sockets must still be made. */
	static const struct {
		const char *name;
		unsigned mode_arg;
	} mk[] = {{"mknod", 1}, {"mknodat", 2}};
	static const mode_t types[] = {S_IFCHR, S_IFBLK};
	for (size_t i = 0; i < ARRAY_SIZE(mk); i++)
		for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
			struct scmp_arg_cmp cmp = {mk[i].mode_arg, SCMP_CMP_MASKED_EQ, S_IFMT,
			                           types[t]};
			int nr = seccomp_syscall_resolve_name(mk[i].name);
			if ((rc = seccomp_rule_add_array(ctx, fake, nr, 1, &cmp)) < 0) {
				kerr_set(e, -rc, "seccomp: can't add a rule for %s", mk[i].name);
				goto fail;
			}
		}
	*out = ctx;
	return 0;
fail:
	if (ctx)
		seccomp_release(ctx);
	return -1;
}

int seccomp_ctx_load(scmp_filter_ctx ctx, struct kerr *e)
{
	int rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		kerr_set(e, -rc, "can't load the seccomp filter");
		if (rc == -EACCES || rc == -EPERM)
			kerr_hint(e, "the kernel needs no_new_privs or CAP_SYS_ADMIN to load a filter");
		return -1;
	}
	return 0;
}

int seccomp_fakeroot_load(struct kerr *e)
{
	scmp_filter_ctx ctx;
	if (seccomp_fakeroot_build(&ctx, e) < 0)
		return -1;
	klog(KLOG_VERBOSE, "loading the fake-root seccomp filter");
	return seccomp_ctx_load(ctx, e);
}

/* ---- profiles ---------------------------------------------------------- */

/* Names a profile's includes/excludes.arches may use for the native arch:
 * Docker's are Go's GOARCH values. */
static const struct {
	uint32_t arch;
	const char *names[3];
} arch_names[] = {
	{SCMP_ARCH_X86_64, {"amd64", "x86_64"}},
	{SCMP_ARCH_X86, {"386", "x86", "i386"}},
	{SCMP_ARCH_X32, {"x32"}},
	{SCMP_ARCH_AARCH64, {"arm64", "aarch64"}},
	{SCMP_ARCH_ARM, {"arm"}},
	{SCMP_ARCH_PPC64LE, {"ppc64le"}},
	{SCMP_ARCH_PPC64, {"ppc64"}},
	{SCMP_ARCH_S390X, {"s390x"}},
	{SCMP_ARCH_S390, {"s390"}},
	{SCMP_ARCH_RISCV64, {"riscv64"}},
	{SCMP_ARCH_MIPS64, {"mips64"}},
	{SCMP_ARCH_MIPSEL64, {"mips64le"}},
	{SCMP_ARCH_MIPS, {"mips"}},
	{SCMP_ARCH_MIPSEL, {"mipsle"}},
};

static bool arch_listed(const struct strv *list, uint32_t arch)
{
	for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++) {
		if (arch_names[i].arch != arch)
			continue;
		for (size_t k = 0; k < list->n; k++)
			for (size_t n = 0; n < ARRAY_SIZE(arch_names[i].names); n++)
				if (arch_names[i].names[n] &&
				    strcmp(list->v[k], arch_names[i].names[n]) == 0)
					return true;
	}
	return false;
}

static void kernel_version(unsigned v[2])
{
	struct utsname u;
	v[0] = v[1] = 0;
	if (uname(&u) == 0)
		sscanf(u.release, "%u.%u", &v[0], &v[1]);
}

static bool rule_applies(const struct seccomp_rule *r, uint64_t caps, uint32_t native,
                         const unsigned kver[2])
{
	if ((caps & r->caps_include) != r->caps_include || (caps & r->caps_exclude))
		return false;
	if (r->arches_include.n && !arch_listed(&r->arches_include, native))
		return false;
	if (r->arches_exclude.n && arch_listed(&r->arches_exclude, native))
		return false;
	if (kver[0] < r->min_kernel[0] ||
	    (kver[0] == r->min_kernel[0] && kver[1] < r->min_kernel[1]))
		return false;
	return true;
}

static int add_rule(scmp_filter_ctx ctx, const struct seccomp_rule *r, int nr)
{
	struct scmp_arg_cmp cmp[6];
	bool distinct = r->nargs <= 6;
	unsigned seen = 0;
	for (size_t i = 0; distinct && i < r->nargs; i++) {
		distinct = !(seen & (1u << r->args[i].index));
		seen |= 1u << r->args[i].index;
	}
	for (size_t i = 0; i < r->nargs; i++) {
		const struct seccomp_arg *a = &r->args[i];
		/* OCI's MASKED_EQ is (arg & value) == valueTwo: libseccomp's mask first. */
		cmp[distinct ? i : 0] = (struct scmp_arg_cmp){a->index, a->op, a->value, a->value_two};
		if (!distinct) {
			int rc = seccomp_rule_add_array(ctx, r->action, nr, 1, cmp);
			if (rc < 0)
				return rc;
		}
	}
	if (distinct)
		return seccomp_rule_add_array(ctx, r->action, nr, (unsigned)r->nargs, cmp);
	/* Conditions on the same argument can't be ANDed in one libseccomp rule;
	 * like runc, krill makes them alternatives (one rule each). */
	return 0;
}

int seccomp_profile_build(const struct seccomp_profile *p, uint64_t caps, scmp_filter_ctx *out,
                          struct kerr *e)
{
	scmp_filter_ctx ctx = new_ctx(p->default_action, e);
	if (!ctx)
		return -1;
	int rc = 0;
	uint32_t native = seccomp_arch_native();
	for (size_t i = 0; i < p->narches && rc >= 0; i++)
		if ((rc = seccomp_arch_add(ctx, p->arches[i])) == -EEXIST)
			rc = 0;
	for (size_t i = 0; i < p->narchmap && rc >= 0; i++) {
		if (p->archmap[i].arch != native)
			continue;
		for (size_t k = 0; k < p->archmap[i].nsubs && rc >= 0; k++)
			if ((rc = seccomp_arch_add(ctx, p->archmap[i].subs[k])) == -EEXIST)
				rc = 0;
	}
	if (rc < 0) {
		kerr_set(e, -rc, "%s: can't add an architecture to the seccomp filter", p->filename);
		goto fail;
	}
	if ((p->flag_tsync && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0) ||
	    (p->flag_log && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1)) < 0) ||
	    (p->flag_spec_allow && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1)) < 0)) {
		kerr_set(e, -rc, "%s: can't set a seccomp filter flag", p->filename);
		goto fail;
	}

	unsigned kver[2];
	kernel_version(kver);
	for (size_t i = 0; i < p->nrules; i++) {
		const struct seccomp_rule *r = &p->rules[i];
		if (r->action == p->default_action || !rule_applies(r, caps, native, kver))
			continue;
		for (size_t k = 0; k < r->names.n; k++) {
			int nr = seccomp_syscall_resolve_name(r->names.v[k]);
			if (nr == __NR_SCMP_ERROR)
				continue; /* the parser let it through: can't happen */
			if ((rc = add_rule(ctx, r, nr)) < 0) {
				kerr_set(e, -rc, "%s:%d: syscall '%s': can't add the rule",
				         p->filename, r->line, r->names.v[k]);
				goto fail;
			}
		}
	}
	*out = ctx;
	return 0;
fail:
	seccomp_release(ctx);
	return -1;
}

int seccomp_profile_load(const struct seccomp_profile *p, uint64_t caps, struct kerr *e)
{
	scmp_filter_ctx ctx;
	if (seccomp_profile_build(p, caps, &ctx, e) < 0)
		return -1;
	klog(KLOG_VERBOSE, "loading seccomp profile %s", p->filename);
	return seccomp_ctx_load(ctx, e);
}
