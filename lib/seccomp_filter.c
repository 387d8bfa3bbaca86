/* seccomp_filter.c: the fake-root filter and profile compilation with libseccomp
 * (see seccomp_filter.h).  libseccomp writes the BPF; krill only chooses rules. */
#include "seccomp_filter.h"
#include "log.h"
#include "seccomp_sim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

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
    "chown",	   "fchown",	  "fchownat",	 "lchown",     "chown32",    "fchown32",
    "lchown32",	   "setuid",	  "setgid",	 "setreuid",   "setregid",   "setresuid",
    "setresgid",   "setfsuid",	  "setfsgid",	 "setuid32",   "setgid32",   "setreuid32",
    "setregid32",  "setresuid32", "setresgid32", "setfsuid32", "setfsgid32", "setgroups",
    "setgroups32", "capset",	  "kexec_load",
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
			kerr_hint(
			    e, "the kernel needs no_new_privs or CAP_SYS_ADMIN to load a filter");
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
		cmp[distinct ? i : 0] =
		    (struct scmp_arg_cmp){a->index, a->op, a->value, a->value_two};
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
		kerr_set(e, -rc, "%s: can't add an architecture to the seccomp filter",
			 p->filename);
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

/* ---- BPF export, load and cache ---------------------------------------- */

int seccomp_bpf_from_ctx(scmp_filter_ctx ctx, unsigned flags, struct seccomp_bpf *out,
			 struct kerr *e)
{
	memset(out, 0, sizeof *out);
	_cleanup_close_ int fd = memfd_create("krill-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		seccomp_release(ctx);
		return kerr_set(e, errno, "memfd_create");
	}
	int rc = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (rc < 0)
		return kerr_set(e, -rc, "seccomp: can't export the filter");
	off_t size = lseek(fd, 0, SEEK_END);
	size_t n = size > 0 ? (size_t)size / sizeof(struct sock_filter) : 0;
	if (n == 0 || n > BPF_MAXINSNS)
		return kerr_set(e, E2BIG, "seccomp: the filter has %zu instructions", n);
	out->insns = xmalloc(n * sizeof(struct sock_filter));
	if (pread(fd, out->insns, n * sizeof(struct sock_filter), 0) !=
	    (ssize_t)(n * sizeof(struct sock_filter))) {
		seccomp_bpf_free(out);
		return kerr_set(e, EIO, "seccomp: can't read the exported filter back");
	}
	out->len = (unsigned short)n;
	out->flags = flags;
	return 0;
}

int seccomp_bpf_load_privileged(const struct seccomp_bpf *b, struct kerr *e)
{
	struct sock_fprog prog = {.len = b->len, .filter = b->insns};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, b->flags, &prog) < 0)
		return kerr_set(e, errno, "can't load the seccomp filter");
	return 0;
}

int seccomp_bpf_load(const struct seccomp_bpf *b, struct kerr *e)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return kerr_set(e, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	return seccomp_bpf_load_privileged(b, e);
}

void seccomp_bpf_free(struct seccomp_bpf *b)
{
	free(b->insns);
	b->insns = NULL;
	b->len = 0;
}

const char *seccomp_cache_dir(void)
{
	static char dir[PATH_MAX];
	const char *base = geteuid() == 0 ? "/run" : getenv("XDG_RUNTIME_DIR");
	if (!base || base[0] != '/')
		return NULL;
	snprintf(dir, sizeof dir, "%s/krill", base);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return NULL;
	snprintf(dir, sizeof dir, "%s/krill/seccomp", base);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return NULL;
	return dir;
}

struct key {
	char *buf;
	size_t len;
};

static void key_add(struct key *k, const void *p, size_t n)
{
	k->buf = xrealloc(k->buf, k->len + n);
	memcpy(k->buf + k->len, p, n);
	k->len += n;
}

static struct key make_key(const char *kind, uint64_t caps, const char *text, size_t len)
{
	struct key k = {NULL, 0};
	struct utsname u;
	memset(&u, 0, sizeof u);
	uname(&u);
	const struct scmp_version *v = seccomp_version();
	char head[512];
	int n = snprintf(head, sizeof head, "krill-seccomp 1\n%s\n%s %s\n%u.%u.%u\n%u\n%016llx\n",
			 kind, u.release, u.machine, v->major, v->minor, v->micro,
			 seccomp_arch_native(), (unsigned long long)caps);
	key_add(&k, head, (size_t)n);
	key_add(&k, text, len);
	return k;
}

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	while (n--) {
		h ^= (unsigned char)*p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Entry: u64 key length, key, u32 flags, u32 count, instructions. */
struct entry_head {
	uint32_t flags, len;
};

static bool trusted(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && st.st_uid == geteuid() && !(st.st_mode & 022);
}

static bool cache_get(const char *dir, const struct key *k, struct seccomp_bpf *out)
{
	char name[32];
	snprintf(name, sizeof name, "%016llx.bpf", (unsigned long long)fnv1a(k->buf, k->len));
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !trusted(dfd))
		return false;
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || !trusted(fd) || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	struct entry_head h;
	size_t len = (size_t)st.st_size, head = 8 + k->len + sizeof h;
	if (len < head || len > head + BPF_MAXINSNS * sizeof(struct sock_filter))
		return false;
	_cleanup_free_ char *buf = xmalloc(len);
	if (pread(fd, buf, len, 0) != (ssize_t)len)
		return false;
	uint64_t klen;
	memcpy(&klen, buf, 8);
	if (klen != k->len || memcmp(buf + 8, k->buf, klen) != 0)
		return false;
	memcpy(&h, buf + 8 + klen, sizeof h);
	size_t body = len - head;
	if (h.len == 0 || h.len > BPF_MAXINSNS || body != h.len * sizeof(struct sock_filter))
		return false;
	out->insns = xmalloc(body);
	memcpy(out->insns, buf + head, body);
	out->len = (unsigned short)h.len;
	out->flags = h.flags;
	return true;
}

static void cache_put(const char *dir, const struct key *k, const struct seccomp_bpf *b)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	snprintf(path, sizeof path, "%s/%016llx.bpf", dir,
		 (unsigned long long)fnv1a(k->buf, k->len));
	snprintf(tmp, sizeof tmp, "%s/.tmp.XXXXXX", dir);
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return;
	uint64_t klen = k->len;
	struct entry_head h = {b->flags, b->len};
	size_t body = b->len * sizeof(struct sock_filter);
	struct iovec iov[] = {{&klen, 8}, {k->buf, k->len}, {&h, sizeof h}, {b->insns, body}};
	ssize_t want = (ssize_t)(8 + k->len + sizeof h + body);
	if (writev(fd, iov, ARRAY_SIZE(iov)) != want || rename(tmp, path) < 0) {
		unlink(tmp);
		return;
	}
	klog(KLOG_DEBUG, "cached the seccomp filter in %s", path);
}

static unsigned profile_flags(const struct seccomp_profile *p)
{
	return (p->flag_tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0) |
	       (p->flag_log ? SECCOMP_FILTER_FLAG_LOG : 0) |
	       (p->flag_spec_allow ? SECCOMP_FILTER_FLAG_SPEC_ALLOW : 0);
}

int seccomp_bpf_check_exec(const struct seccomp_bpf *b, const char *filename, struct kerr *e)
{
	static const struct {
		const char *name;
		int nr;
	} needed[] = {
		{"execve", SYS_execve}, {"write", SYS_write},
		{"exit_group", SYS_exit_group}, {"exit", SYS_exit},
	};
	uint32_t arch = seccomp_arch_native(); /* SCMP_ARCH_* are AUDIT_ARCH_* values */
	for (size_t i = 0; i < ARRAY_SIZE(needed); i++) {
		uint32_t ret;
		if (!seccomp_sim_run(b->insns, b->len, arch, needed[i].nr, &ret))
			return 0; /* not ours to judge: the kernel checks the program */
		uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
		if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG)
			continue;
		kerr_set(e, 0, "%s: the profile denies %s, which krill must call after loading it",
		         filename, needed[i].name);
		return kerr_hint(e, "a profile must allow execve, write, exit and exit_group "
		                    "(Docker's default profile does)");
	}
	return 0;
}

int seccomp_prepare_profile(const char *buf, size_t len, const char *filename, uint64_t caps,
			    const char *cache_dir, struct seccomp_bpf *out, struct kerr *e)
{
	memset(out, 0, sizeof *out);
	struct key k = make_key("profile", caps, buf, len);
	int rc = 0;
	if (cache_dir && cache_get(cache_dir, &k, out)) {
		klog(KLOG_DEBUG, "seccomp profile %s: compiled filter from the cache", filename);
		goto done;
	}
	struct seccomp_profile *p;
	scmp_filter_ctx ctx;
	if ((rc = seccomp_profile_parse(buf, len, filename, &p, e)) < 0)
		goto done;
	rc = seccomp_profile_build(p, caps, &ctx, e);
	unsigned flags = profile_flags(p);
	seccomp_profile_free(p);
	if (rc < 0 || (rc = seccomp_bpf_from_ctx(ctx, flags, out, e)) < 0)
		goto done;
	if (cache_dir)
		cache_put(cache_dir, &k, out);
done:
	free(k.buf);
	if (rc == 0 && (rc = seccomp_bpf_check_exec(out, filename, e)) < 0)
		seccomp_bpf_free(out);
	return rc;
}

int seccomp_prepare_fakeroot(const char *cache_dir, struct seccomp_bpf *out, struct kerr *e)
{
	memset(out, 0, sizeof *out);
	struct key k = make_key("fakeroot", 0, "", 0);
	scmp_filter_ctx ctx;
	int rc = 0;
	if (cache_dir && cache_get(cache_dir, &k, out))
		goto done;
	if ((rc = seccomp_fakeroot_build(&ctx, e)) < 0 ||
	    (rc = seccomp_bpf_from_ctx(ctx, 0, out, e)) < 0)
		goto done;
	if (cache_dir)
		cache_put(cache_dir, &k, out);
done:
	free(k.buf);
	return rc;
}
