/* krill_spank.c: the Slurm SPANK plugin, `srun --krill-image=IMG CMD`.
 *
 * One container per node per job step, entered by every task of that node
 * (krill-spank(8)):
 *
 *   srun/sbatch (local, allocator)   options; sbatch exports them to the
 *                                    job's environment as KRILL_SPANK_*
 *   slurmstepd, user_init            once per node: fork, drop to the job's
 *                                    user, exec `krill run --hold-fd=3 IMG`;
 *                                    read its report (hold.h): the holder's
 *                                    pid, cwd and environment; a failure
 *                                    is the step's error, at once
 *   slurmstepd, task_init            in each task, just before slurmstepd
 *                                    executes it: setns into the holder's
 *                                    namespaces, chdir, no_new_privs
 *   slurmstepd, exit                 close the socket: the holder exits,
 *                                    its supervisor unmounts and cleans up
 *
 * Why one `krill` process per node and not the container built inside
 * slurmstepd: the FUSE server and supervisor must outlive every task and
 * must not share slurmstepd's threads, fds, signal mask or root
 * privileges; a fresh exec as the user gives exactly the `krill run` that
 * the user would get by hand, with the same image lookup, config and
 * checks.  No krill binary runs per task: tasks enter in-process.
 *
 * If slurmstepd is killed, the socket closes and the container goes with
 * it; scancel's signals reach the holder and supervisor, which are in the
 * step's process tracking like the tasks. */
#include "hold.h"
#include "nsjoin.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <slurm/slurm.h>
#include <slurm/spank.h>

SPANK_PLUGIN(krill, 1);

#ifndef KRILL_SPANK_BIN
#define KRILL_SPANK_BIN "/usr/local/bin/krill"
#endif

/* Options, from srun/sbatch/salloc or KRILL_SPANK_* in the job's env. */
enum opt_id { O_IMAGE, O_MOUNTS, O_WORKDIR, O_WRITABLE, O_HOME, O_ENV_CLEAN, O_DEVICE, O_COUNT };

static const struct {
	const char *name, *env, *arginfo, *usage;
	bool has_arg;
} opt_desc[O_COUNT] = {
	[O_IMAGE] = {"krill-image", "KRILL_SPANK_IMAGE", "IMAGE",
	             "[krill] run each task in a container of IMAGE (a path or a "
	             "name in the image storage); one container per node", true},
	[O_MOUNTS] = {"krill-mounts", "KRILL_SPANK_MOUNTS", "SRC[:DST[:ro]],...",
	              "[krill] bind-mount host paths into the container", true},
	[O_WORKDIR] = {"krill-workdir", "KRILL_SPANK_WORKDIR", "DIR",
	               "[krill] working directory inside the container", true},
	[O_WRITABLE] = {"krill-writable", "KRILL_SPANK_WRITABLE", NULL,
	                "[krill] a writable tmpfs over the image (krill run -W)", false},
	[O_HOME] = {"krill-home", "KRILL_SPANK_HOME", NULL,
	            "[krill] bind your home directory (krill run --home)", false},
	[O_ENV_CLEAN] = {"krill-env-clean", "KRILL_SPANK_ENV_CLEAN", NULL,
	                 "[krill] start from an empty environment (krill run --env-clean)",
	                 false},
	[O_DEVICE] = {"krill-device", "KRILL_SPANK_DEVICE", "NAME[,NAME...]",
	              "[krill] CDI devices or host device paths (krill run --device)", true},
};

static char *opt_val[O_COUNT];   /* NULL = not given; "1" for flags */

/* plugstack.conf keys. */
static char *conf_krill;         /* krill=PATH */
static char *conf_storage;       /* storage=DIR */
static bool conf_batch;          /* batch=yes: the batch step runs in the container too */

/* The node's container, from user_init (inherited by the forked tasks). */
static pid_t krill_pid = -1;     /* the `krill run` we started */
static long holder_pid = -1;     /* the process whose namespaces tasks enter */
static unsigned long long holder_start;
static int hold_sock = -1;
static char *holder_cwd;
/* Why the container couldn't be made: reported by the tasks, because a
 * failed user_init makes srun exit 0 (Slurm 22.05) where a failed
 * task_init makes every task, and so the step, fail. */
static char *setup_error;

static int opt_cb(int val, const char *optarg, int remote)
{
	if (val < 0 || val >= O_COUNT)
		return -1;
	free(opt_val[val]);
	opt_val[val] = strdup(opt_desc[val].has_arg ? (optarg ? optarg : "") : "1");
	/* sbatch/salloc: the job's steps inherit the option through the
	 * environment their srun propagates. */
	if (!remote && spank_context() == S_CTX_ALLOCATOR)
		setenv(opt_desc[val].env, opt_val[val], 1);
	return 0;
}

static int parse_conf(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "krill=", 6) == 0 && a[6] == '/') {
			conf_krill = strdup(a + 6);
		} else if (strncmp(a, "storage=", 8) == 0 && a[8] == '/') {
			conf_storage = strdup(a + 8);
		} else if (strcmp(a, "batch=yes") == 0 || strcmp(a, "batch=no") == 0) {
			conf_batch = a[6] == 'y';
		} else {
			slurm_error("krill: error: plugstack.conf: %s: unknown key or bad value "
			            "(known: krill=/PATH storage=/DIR batch=yes|no)", a);
			return -1;
		}
	}
	return 0;
}

int slurm_spank_init(spank_t sp, int argc, char **argv)
{
	if (parse_conf(argc, argv) < 0)
		return -1;
	for (int i = 0; i < O_COUNT; i++) {
		struct spank_option o = {
			.name = (char *)opt_desc[i].name,
			.arginfo = (char *)opt_desc[i].arginfo,
			.usage = (char *)opt_desc[i].usage,
			.has_arg = opt_desc[i].has_arg,
			.val = i,
			.cb = opt_cb,
		};
		if (spank_option_register(sp, &o) != ESPANK_SUCCESS) {
			slurm_error("krill: error: can't register --%s", opt_desc[i].name);
			return -1;
		}
	}
	return 0;
}

/* An option given on the command line wins over the job's environment. */
static void opts_from_env(spank_t sp)
{
	char buf[PATH_MAX * 4];
	for (int i = 0; i < O_COUNT; i++) {
		if (opt_val[i])
			continue;
		if (spank_getenv(sp, opt_desc[i].env, buf, sizeof buf) != ESPANK_SUCCESS)
			continue;
		if (!opt_desc[i].has_arg && (strcmp(buf, "") == 0 || strcmp(buf, "0") == 0))
			continue;
		opt_val[i] = strdup(buf);
	}
}

struct argv_build {
	char *v[256];
	int n;
	bool overflow;
};

/* One argument: prefix followed by val (may be NULL). */
static void arg_add(struct argv_build *a, const char *prefix, const char *val)
{
	if (a->n >= (int)(sizeof a->v / sizeof a->v[0]) - 1) {
		a->overflow = true;
		return;
	}
	char *s;
	if (asprintf(&s, "%s%s", prefix, val ? val : "") < 0) {
		a->overflow = true;
		return;
	}
	a->v[a->n++] = s;
}

/* Each item of a comma-separated list as its own `PREFIX ITEM`. */
static void arg_add_list(struct argv_build *a, const char *prefix, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (*t)
			arg_add(a, prefix, t);
	free(copy);
}

/* Slurm's own configuration, as slurmstepd has loaded it (libslurmfull;
 * weak, so the plugin also loads where it is missing). */
extern slurm_conf_t *slurm_conf_lock(void) __attribute__((weak));
extern void slurm_conf_unlock(void) __attribute__((weak));

/* SlurmdSpoolDir with %n and %h expanded for this node. */
static char *expand_node(const char *path, const char *node)
{
	size_t cap = strlen(path) + 16 * strlen(node) + 1, n = 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	for (const char *p = path; *p && n + strlen(node) + 2 < cap; p++) {
		if (p[0] == '%' && (p[1] == 'n' || p[1] == 'h')) {
			n += (size_t)snprintf(out + n, cap - n, "%s", node);
			p++;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return out;
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool is_dir(const char *path)
{
	struct stat st;
	return path && path[0] == '/' && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* What PMIx and munge clients in the container need from the host: the
 * node's slurmd spool directory (PMIx's server sockets), TmpFS (PMIx's
 * per-step client directory) and the munge socket's directory (PMIx's
 * munge security component, pyxis#139).  Each is bound at the same path,
 * if it exists. */
static void add_slurm_binds(spank_t sp, struct argv_build *a)
{
	char node[256] = "";
	if (spank_getenv(sp, "SLURMD_NODENAME", node, sizeof node) != ESPANK_SUCCESS)
		gethostname(node, sizeof node - 1);
	char *spool = NULL, *tmpfs = NULL, *munge = NULL;
	if (slurm_conf_lock && slurm_conf_unlock) {
		slurm_conf_t *conf = slurm_conf_lock();
		if (conf) {
			if (conf->slurmd_spooldir)
				spool = expand_node(conf->slurmd_spooldir, node);
			if (conf->tmp_fs)
				tmpfs = strdup(conf->tmp_fs);
			const char *s = conf->authinfo ? strstr(conf->authinfo, "socket=") : NULL;
			if (s)
				munge = strndup(s + 7, strcspn(s + 7, ","));
		}
		slurm_conf_unlock();
	}
	if (!munge)
		munge = strdup("/run/munge/munge.socket.2");
	char *slash = munge ? strrchr(munge, '/') : NULL;
	if (slash && slash != munge)
		*slash = '\0';
	const char *dirs[] = {spool, tmpfs, munge};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		/* krill binds the host's /tmp and /var/spool/slurmd anyway,
		 * and refuses a bind inside an earlier one. */
		if (!is_dir(dirs[i]) || path_under(dirs[i], "/tmp") ||
		    path_under(dirs[i], "/var/spool/slurmd"))
			continue;
		arg_add(a, "--bind=", dirs[i]);
	}
	free(spool);
	free(tmpfs);
	free(munge);
}

static void argv_free(struct argv_build *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

static int build_argv(spank_t sp, struct argv_build *a)
{
	a->n = 0;
	arg_add(a, "", conf_krill ? conf_krill : KRILL_SPANK_BIN);
	arg_add(a, "run", NULL);
	arg_add(a, "--hold-fd=3", NULL);
	if (conf_storage)
		arg_add(a, "--storage=", conf_storage);
	add_slurm_binds(sp, a);
	if (opt_val[O_MOUNTS])
		arg_add_list(a, "--bind=", opt_val[O_MOUNTS]);
	if (opt_val[O_DEVICE])
		arg_add_list(a, "--device=", opt_val[O_DEVICE]);
	if (opt_val[O_WORKDIR])
		arg_add(a, "--cd=", opt_val[O_WORKDIR]);
	if (opt_val[O_WRITABLE])
		arg_add(a, "--write-fake", NULL);
	if (opt_val[O_HOME])
		arg_add(a, "--home", NULL);
	if (opt_val[O_ENV_CLEAN])
		arg_add(a, "--env-clean", NULL);
	arg_add(a, "", opt_val[O_IMAGE]); /* not an option: user_init checked */
	a->v[a->n] = NULL;
	return a->overflow ? -1 : 0;
}

/* The forked child: become the job's user for good, then exec krill with
 * the job's environment.  slurmstepd has other threads, so the child of
 * fork uses only async-signal-safe calls (no malloc: argv and env were
 * built before the fork), except dprintf on the way out after a failed
 * exec. */
static void child_exec(uid_t uid, gid_t gid, gid_t *gids, int ngids, int sock, int errfd,
                       char **argv, char **env)
{
	/* user_init runs with the effective IDs dropped temporarily: regain
	 * root (the saved ID) to drop everything permanently. */
	if (geteuid() != 0 && seteuid(0) < 0 && geteuid() != uid)
		_exit(125);
	if (geteuid() == 0) {
		if (setgroups(ngids > 0 ? (size_t)ngids : 0, gids) < 0 ||
		    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
			_exit(125);
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid || setuid(0) == 0)
		_exit(125);
	int devnull = open("/dev/null", O_RDWR);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(errfd, 1) < 0 || dup2(errfd, 2) < 0 ||
	    dup2(sock, 3) < 0)
		_exit(125);
	close_range(4, ~0U, 0);
	const char *pwd = NULL;
	for (char **e = env; e && *e; e++)
		if (strncmp(*e, "PWD=", 4) == 0)
			pwd = *e + 4;
	/* If even "/" fails, the cwd stays as it was.  (Testing the result
	 * keeps glibc's warn_unused_result quiet under -D_FORTIFY_SOURCE,
	 * which the packages' hardening flags set.) */
	if ((!pwd || chdir(pwd) < 0) && chdir("/") < 0) {
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	execve(argv[0], argv, env);
	dprintf(2, "krill: error: can't execute %s: %s\n", argv[0], strerror(errno));
	dprintf(2, "krill: hint: set krill=/PATH/TO/krill in plugstack.conf\n");
	_exit(127);
}

static void setup_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void setup_failed(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!setup_error && vasprintf(&setup_error, fmt, ap) < 0)
		setup_error = NULL;
	va_end(ap);
}

/* krill's stderr becomes the step's error. */
static void errors_from(int errfd)
{
	char buf[8192];
	ssize_t n = pread(errfd, buf, sizeof buf - 1, 0);
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n <= 0) {
		setup_failed("krill: error: the container could not be started (no message)");
		return;
	}
	buf[n] = '\0';
	setup_failed("%s", buf);
}

static int read_report(int sock, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -1;
	for (;;) {
		if (n == cap) {
			if (cap >= HOLD_REPORT_MAX)
				break;
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		ssize_t r = read(sock, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		/* The report ends with an empty string: two NULs in a row
		 * (the magic line leaves no empty string before it). */
		if (n >= 2 && buf[n - 1] == '\0' && buf[n - 2] == '\0')
			break;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Make the job's environment the container's, for every task. */
static void apply_env(spank_t sp, char **env)
{
	char **job_env = NULL;
	if (spank_get_item(sp, S_JOB_ENV, &job_env) == ESPANK_SUCCESS && job_env) {
		size_t n = 0;
		while (job_env[n])
			n++;
		char **names = calloc(n + 1, sizeof *names);
		for (size_t i = 0; names && i < n; i++)
			names[i] = strndup(job_env[i], strcspn(job_env[i], "="));
		for (size_t i = 0; names && i < n; i++) {
			bool keep = false;
			size_t l = strlen(names[i]);
			for (char **v = env; *v && !keep; v++)
				keep = strncmp(*v, names[i], l) == 0 && (*v)[l] == '=';
			if (!keep)
				spank_unsetenv(sp, names[i]);
			free(names[i]);
		}
		free(names);
	}
	for (char **v = env; *v; v++) {
		char *eq = strchr(*v, '=');
		*eq = '\0';
		spank_setenv(sp, *v, eq + 1, 1);
		*eq = '=';
	}
}

static bool step_wants_container(spank_t sp)
{
	uint32_t step = 0;
	if (spank_get_item(sp, S_JOB_STEPID, &step) != ESPANK_SUCCESS)
		return false;
	if (step == SLURM_EXTERN_CONT || step == SLURM_INTERACTIVE_STEP)
		return false;
	if (step == SLURM_BATCH_SCRIPT)
		return conf_batch;
	return true;
}

int slurm_spank_user_init(spank_t sp, int argc, char **argv)
{
	if (!spank_remote(sp))
		return 0;
	opts_from_env(sp);
	if (!opt_val[O_IMAGE] || !step_wants_container(sp))
		return 0;
	if (!*opt_val[O_IMAGE] || opt_val[O_IMAGE][0] == '-') {
		setup_failed("krill: error: --krill-image=%s: expected an image path or name",
		             opt_val[O_IMAGE]);
		return 0;
	}
	uid_t uid;
	gid_t gid;
	gid_t *gids = NULL;
	int ngids = 0;
	char **env = NULL;
	if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_GID, &gid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ENV, &env) != ESPANK_SUCCESS) {
		setup_failed("krill: error: can't get the job's user and environment from Slurm");
		return 0;
	}
	if (spank_get_item(sp, S_JOB_SUPPLEMENTARY_GIDS, &gids, &ngids) != ESPANK_SUCCESS)
		ngids = 0;

	struct argv_build a = {0};
	if (build_argv(sp, &a) < 0) {
		argv_free(&a);
		setup_failed("krill: error: too many --krill-mounts or --krill-device items");
		return 0;
	}
	int sv[2];
	int errfd = memfd_create("krill-spank-stderr", MFD_CLOEXEC);
	if (errfd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		setup_failed("krill: error: can't create the container's socket: %s",
		             strerror(errno));
		if (errfd >= 0)
			close(errfd);
		argv_free(&a);
		return 0;
	}
	pid_t pid = fork();
	if (pid == 0)
		child_exec(uid, gid, gids, ngids, sv[1], errfd, a.v, env);
	argv_free(&a);
	close(sv[1]);
	if (pid < 0) {
		setup_failed("krill: error: can't fork: %s", strerror(errno));
		close(sv[0]);
		close(errfd);
		return 0;
	}

	char *buf = NULL;
	size_t len = 0;
	long hpid = 0;
	const char *cwd = NULL;
	char **cenv = NULL;
	struct kerr e = {0};
	if (read_report(sv[0], &buf, &len) < 0 || len == 0) {
		int status;
		waitpid(pid, &status, 0);
		errors_from(errfd);
		free(buf);
		close(sv[0]);
		close(errfd);
		return 0;
	}
	if (hold_report_parse(buf, len, &hpid, &cwd, &cenv, &e) < 0) {
		setup_failed("krill: error: %s", e.msg);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		free(buf);
		close(sv[0]);
		close(errfd);
		return 0;
	}
	close(errfd);
	krill_pid = pid;
	holder_pid = hpid;
	holder_start = proc_starttime((pid_t)hpid);
	holder_cwd = strdup(cwd);
	hold_sock = sv[0];
	apply_env(sp, cenv);
	free(cenv);
	free(buf);
	slurm_verbose("krill: container of %s ready (holder pid %ld)", opt_val[O_IMAGE], hpid);
	return 0;
}

int slurm_spank_task_init(spank_t sp, int argc, char **argv)
{
	if (setup_error) {
		int task = 0;
		if (spank_get_item(sp, S_TASK_ID, &task) == ESPANK_SUCCESS && task == 0) {
			char *save = NULL;
			for (char *l = strtok_r(setup_error, "\n", &save); l;
			     l = strtok_r(NULL, "\n", &save))
				slurm_error("%s", l);
		}
		return -1;
	}
	if (holder_pid < 0)
		return 0;
	if (hold_sock >= 0) {
		close(hold_sock); /* the task must not keep the container alive */
		hold_sock = -1;
	}
	if (!proc_alive((pid_t)holder_pid, holder_start)) {
		slurm_error("krill: error: the node's container (pid %ld) is gone", holder_pid);
		return -1;
	}
	struct ns_set set;
	struct kerr e = {0};
	if (ns_set_of_pid((pid_t)holder_pid, &set, &e) < 0 || ns_set_enter(&set, &e) < 0) {
		ns_set_close(&set);
		char msg[sizeof e.msg + 64];
		slurm_error("krill: error: %s", kerr_str(&e, msg, sizeof msg));
		return -1;
	}
	ns_set_close(&set);
	if (chdir(holder_cwd) < 0) {
		slurm_error("krill: error: --krill-workdir=%s: can't enter it in the container: %s",
		            holder_cwd, strerror(errno));
		return -1;
	}
	/* The same policy as every krill container (SPEC §5). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		slurm_error("krill: error: can't set no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int slurm_spank_exit(spank_t sp, int argc, char **argv)
{
	if (!spank_remote(sp) || krill_pid < 0)
		return 0;
	slurm_info("krill: releasing the container (krill pid %d)", (int)krill_pid);
	if (hold_sock >= 0)
		close(hold_sock); /* releases the holder; krill cleans up */
	hold_sock = -1;
	/* Give krill a moment to unmount and remove what it made, then make
	 * sure it is gone. */
	for (int i = 0; i < 200; i++) {
		if (waitpid(krill_pid, NULL, WNOHANG) == krill_pid) {
			krill_pid = -1;
			return 0;
		}
		struct timespec ts = {0, 25 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(krill_pid, SIGKILL);
	waitpid(krill_pid, NULL, 0);
	krill_pid = -1;
	return 0;
}
