/* check.c: `krill check [--json]`.  Each probe runs the real operation
 * (in a throwaway child, for anything that needs a namespace), because
 * sysctls and config files don't tell the whole story (AppArmor, LSMs,
 * container runtimes around us). */
#include "check.h"
#include "cdi.h"
#include "cgroup.h"
#include "config.h"
#include "err.h"
#include "join.h"
#include "log.h"
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/seccomp.h>

struct probe {
	const char *name;
	bool ok;
	bool required; /* `krill run` can't work without it */
	char detail[600];
	char hint[512];
};

/* Run fn in a child that first enters a user+mount namespace (as root in
 * it); its exit status is the errno of the failure, 0 for success. */
static int in_userns_child(int (*fn)(void))
{
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		struct kerr e;
		if (geteuid() != 0 && userns_unshare(0, 0, CLONE_NEWNS, &e) < 0)
			_exit(e.errnum ? e.errnum : EPERM);
		if (geteuid() == 0 && unshare(CLONE_NEWNS) < 0)
			_exit(errno);
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(errno);
		_exit(fn());
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return EIO;
	return WEXITSTATUS(st);
}

static int try_nothing(void) { return 0; }

static int try_tmpfs_xattr(void)
{
	if (mount("krill", "/tmp", "tmpfs", 0, "size=64k") < 0)
		return errno;
	if (setxattr("/tmp", "user.krill", "1", 1, 0) < 0)
		return errno;
	return 0;
}

static int try_overlay(void)
{
	if (mount("krill", "/tmp", "tmpfs", 0, "size=64k") < 0)
		return errno;
	if (mkdir("/tmp/l", 0755) || mkdir("/tmp/u", 0755) || mkdir("/tmp/w", 0755) ||
	    mkdir("/tmp/m", 0755))
		return errno;
	const char *o = "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w,userxattr";
	if (mount("overlay", "/tmp/m", "overlay", 0, o) < 0)
		return errno;
	return 0;
}

static void probe_userns(struct probe *p)
{
	p->name = "user namespaces";
	p->required = true;
	int err = in_userns_child(try_nothing);
	p->ok = err == 0;
	if (p->ok) {
		snprintf(p->detail, sizeof p->detail, "unprivileged user namespaces work");
		return;
	}
	char why[256], hint[512];
	userns_diagnose(why, sizeof why, hint, sizeof hint);
	snprintf(p->detail, sizeof p->detail, "can't create one: %s%s%s", strerror(err),
	         why[0] ? ": " : "", why);
	snprintf(p->hint, sizeof p->hint, "%s", hint[0] ? hint :
	         "ask the admin to enable unprivileged user namespaces");
}

static void probe_fuse(struct probe *p)
{
	p->name = "/dev/fuse";
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	p->ok = fd >= 0;
	if (fd >= 0) {
		close(fd);
		snprintf(p->detail, sizeof p->detail, "readable and writable: SquashFS images work");
		return;
	}
	snprintf(p->detail, sizeof p->detail, "can't open: %s (SquashFS images need it)",
	         strerror(errno));
	snprintf(p->hint, sizeof p->hint, errno == ENOENT
	         ? "ask the admin to load the fuse module (modprobe fuse)"
	         : "ask the admin to make /dev/fuse mode 0666, as Debian's udev rules do");
}

static void probe_ns_feature(struct probe *p, const char *name, int (*fn)(void),
                             const char *okmsg, const char *hint)
{
	p->name = name;
	int err = in_userns_child(fn);
	p->ok = err == 0;
	if (p->ok)
		snprintf(p->detail, sizeof p->detail, "%s", okmsg);
	else {
		snprintf(p->detail, sizeof p->detail, "not available: %s", strerror(err));
		snprintf(p->hint, sizeof p->hint, "%s", hint);
	}
}

static void probe_seccomp(struct probe *p)
{
	p->name = "seccomp";
	p->ok = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 &&
	        access("/proc/sys/kernel/seccomp/actions_avail", R_OK) == 0;
	snprintf(p->detail, sizeof p->detail, p->ok ? "filters available (--seccomp works)"
	                                            : "not available in this kernel");
	if (!p->ok)
		snprintf(p->hint, sizeof p->hint, "a kernel with CONFIG_SECCOMP_FILTER is needed");
}

static int try_namespaces(void)
{
	return unshare(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) < 0 ? errno : 0;
}

static void probe_capabilities(struct probe *p)
{
	p->name = "capabilities";
	p->ok = true; /* informational: nothing else depends on it */
	if (geteuid() == 0)
		snprintf(p->detail, sizeof p->detail, "root: --cap-add/--cap-drop set the "
		         "container's capability sets (default: Docker's set)");
	else
		snprintf(p->detail, sizeof p->detail, "not root: --cap-add/--cap-drop are refused; "
		         "the container's root has every capability in its own user namespace only");
}

static void probe_cgroup(struct probe *p)
{
	p->name = "cgroups";
	struct kerr e;
	struct cgroup_info info;
	if (cgroup_detect(&info, &e) < 0) {
		p->ok = false;
		kerr_str(&e, p->detail, sizeof p->detail);
		return;
	}
	char *desc = NULL, *hint = NULL;
	p->ok = cgroup_describe(&info, &desc, &hint);
	const char *d = desc ? desc : "";
	if (strncmp(d, "cgroups: ", 9) == 0)
		d += 9;
	snprintf(p->detail, sizeof p->detail, "%s", d);
	snprintf(p->hint, sizeof p->hint, "%s", hint ? hint : "");
	free(desc);
	free(hint);
	cgroup_info_free(&info);
}

static void probe_newuidmap(struct probe *p)
{
	p->name = "newuidmap";
	p->ok = access("/usr/bin/newuidmap", X_OK) == 0;
	struct passwd *pw = getpwuid(getuid());
	bool subuid = false;
	FILE *f = fopen("/etc/subuid", "re");
	if (f && pw) {
		char line[256];
		size_t n = strlen(pw->pw_name);
		while (fgets(line, sizeof line, f))
			if (strncmp(line, pw->pw_name, n) == 0 && line[n] == ':')
				subuid = true;
	}
	if (f)
		fclose(f);
	snprintf(p->detail, sizeof p->detail, "%s; %s in /etc/subuid (not needed: krill uses a "
	         "single-ID map)", p->ok ? "installed" : "not installed",
	         subuid ? "an entry" : "no entry");
	p->ok = true; /* informational */
}

static void probe_kernel(struct probe *p)
{
	p->name = "kernel";
	struct utsname u;
	uname(&u);
	int major = 0, minor = 0;
	sscanf(u.release, "%d.%d", &major, &minor);
	p->ok = major > 4 || (major == 4 && minor >= 18);
	snprintf(p->detail, sizeof p->detail, "%s %s", u.sysname, u.release);
	if (!p->ok)
		snprintf(p->hint, sizeof p->hint, "FUSE in user namespaces needs Linux 4.18 or newer");
}

/* GPUs, and whether a CDI spec covers them (--device=nvidia.com/gpu=...). */
static void probe_gpu(struct probe *p)
{
	p->name = "gpu";
	p->ok = true; /* informational: only GPU jobs need it */
	size_t gpus, covered;
	_cleanup_free_ char *file = NULL;
	struct kerr e = {0};
	cdi_gpu_coverage(CDI_DEFAULT_DIRS, &gpus, &covered, &file, &e);
	if (gpus == 0) {
		snprintf(p->detail, sizeof p->detail, "no NVIDIA GPU (no /dev/nvidia0)");
		return;
	}
	if (covered == gpus) {
		snprintf(p->detail, sizeof p->detail, "%zu NVIDIA GPU%s, CDI spec %s", gpus,
		         gpus > 1 ? "s" : "", file);
		return;
	}
	p->ok = false;
	char why[sizeof e.msg + 8];
	snprintf(p->detail, sizeof p->detail, "%zu NVIDIA GPU%s, %zu in a CDI spec in %s%s%s", gpus,
	         gpus > 1 ? "s" : "", covered, CDI_DEFAULT_DIRS, e.msg[0] ? ": " : "",
	         e.msg[0] ? kerr_str(&e, why, sizeof why) : "");
	snprintf(p->hint, sizeof p->hint, "as root: krill cdi generate --nvidia --output "
	         "/etc/cdi/nvidia.yaml (or nvidia-ctk cdi generate)");
}

/* The same files `krill run` reads (config_load): a config that stops
 * every run must stop the check too. */
static void probe_config(struct probe *p, struct kerr *e)
{
	p->name = "config";
	p->required = true;
	struct krill_config cfg;
	config_init(&cfg);
	p->ok = config_load(&cfg, e) == 0;
	config_free(&cfg);
	if (p->ok) {
		snprintf(p->detail, sizeof p->detail, "the config files krill run reads are valid");
		return;
	}
	kerr_str(e, p->detail, sizeof p->detail);
	snprintf(p->hint, sizeof p->hint, "%s", e->hint[0] ? e->hint :
	         "fix the line named; krill run refuses to start until then");
}

static size_t run_probes(struct probe *p, struct kerr *config_err)
{
	size_t n = 0;
	probe_config(&p[n++], config_err);
	probe_userns(&p[n++]);
	probe_fuse(&p[n++]);
	probe_ns_feature(&p[n++], "overlayfs", try_overlay,
	                 "unprivileged overlayfs works (-W)",
	                 "-W needs Linux 5.11+ for overlayfs in a user namespace");
	probe_ns_feature(&p[n++], "tmpfs xattrs", try_tmpfs_xattr,
	                 "tmpfs takes user xattrs (full -W overlay semantics)",
	                 "Linux 6.6+ gives tmpfs user xattrs; older kernels limit -W renames");
	probe_ns_feature(&p[n++], "namespaces", try_namespaces,
	                 "--pid, --net=none, --hostname and --ipc work",
	                 "the kernel or a security module refuses PID/network/UTS/IPC namespaces "
	                 "in a user namespace");
	probe_seccomp(&p[n++]);
	probe_cgroup(&p[n++]);
	probe_capabilities(&p[n++]);
	probe_newuidmap(&p[n++]);
	probe_kernel(&p[n++]);
	probe_gpu(&p[n++]);
	return n;
}

bool check_feature_works(const char *feat)
{
	struct probe p = {0};
	if (strcmp(feat, "squashfuse") == 0) {
		if (geteuid() == 0)
			return true;
		probe_fuse(&p);
	} else if (strcmp(feat, "seccomp") == 0) {
		probe_seccomp(&p);
	} else if (strcmp(feat, "overlayfs") == 0) {
		probe_ns_feature(&p, "overlayfs", try_overlay, "", "");
	} else if (strcmp(feat, "tmpfs-xattrs") == 0) {
		probe_ns_feature(&p, "tmpfs xattrs", try_tmpfs_xattr, "", "");
	} else if (strcmp(feat, "cgroup") == 0) {
		probe_cgroup(&p);
	} else {
		probe_userns(&p);
	}
	return p.ok;
}

/* Names in /dev/shm of the caller's that no krill can use any more: left
 * by a kill of every process of a group at once (see doc/join.md). */
static void print_stale(const char *name, void *arg)
{
	(void)arg;
	printf("%-4s %-16s stale /dev/shm/%s: rm -f /dev/shm/%s\n", "warn", "stale objects",
	       name, name);
}

int check_main(int argc, char **argv)
{
	bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "krill: error: %s: unknown argument\nkrill: hint: usage: krill check "
		        "[--json]\n", argv[argc - 1]);
		return 125;
	}
	struct probe p[16] = {{0}};
	struct kerr config_err = {0};
	size_t n = run_probes(p, &config_err);
	bool config_ok = p[0].ok; /* probe_config runs first */
	bool works = config_ok;  /* root needs no probe but this one */
	for (size_t i = 0; i < n; i++)
		if (p[i].required && !p[i].ok && geteuid() != 0)
			works = false;
	if (json) {
		json_t *o = json_object(), *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *x = json_pack("{s:s, s:b, s:s}", "name", p[i].name, "ok", p[i].ok,
			                      "detail", p[i].detail);
			if (p[i].hint[0])
				json_object_set_new(x, "hint", json_string(p[i].hint));
			json_array_append_new(arr, x);
		}
		json_object_set_new(o, "checks", arr);
		json_object_set_new(o, "run_works", json_boolean(works));
		char *s = json_dumps(o, JSON_INDENT(2));
		puts(s);
		free(s);
		json_decref(o);
	} else {
		for (size_t i = 0; i < n; i++) {
			printf("%-4s %-16s %s\n", p[i].ok ? "ok" : "FAIL", p[i].name, p[i].detail);
			if (p[i].hint[0])
				printf("     %-16s hint: %s\n", "", p[i].hint);
		}
		int stale = join_stale_scan(false, print_stale, NULL);
		if (stale)
			printf("     %-16s hint: nothing can use these; remove them with the "
			       "commands above\n", "");
		printf("%s\n", works ? "krill run works for this user"
		                     : "krill run can't work for this user: see the hints above");
	}
	if (!config_ok) {
		/* The same error line `krill run` would give, and its status. */
		fflush(stdout);
		kerr_print(&config_err);
		return 125;
	}
	return works ? 0 : 1;
}
