/* oci.c: the OCI runtime command line (`krill oci ...`, `krill-oci ...`):
 * global options, one small function per command, and the error/log
 * output.  The lifecycle itself is in oci_create.c, the state directory in
 * oci_state.c. */
#include "oci.h"
#include "caps.h"
#include "cgroup.h"
#include "launch.h"
#include "log.h"
#include "oci_create.h"
#include "nsjoin.h"
#include "oci_state.h"
#include "supervise.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"Usage: krill-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] ...\n"
	"\n"
	"An OCI runtime (runtime-spec 1.x), driven by container engines.\n"
	"\n"
	"Global options:\n"
	"  --root DIR               state directory (default /run/krill/oci, or\n"
	"                           $XDG_RUNTIME_DIR/krill/oci without root)\n"
	"  --log FILE               also write errors (and --debug output) to FILE\n"
	"  --log-format text|json   format of --log\n"
	"  --debug                  log every step and every ignored config field\n"
	"  --systemd-cgroup         accepted; systemd cgroups are not supported\n"
	"\n"
	"Commands:\n"
	"  create [--bundle DIR] [--pid-file F] [--console-socket PATH] [--no-new-keyring] ID\n"
	"  start ID\n"
	"  state ID\n"
	"  kill [--all] ID [SIGNAL]\n"
	"  delete [--force] ID\n"
	"  run [--bundle DIR] [--pid-file F] [--console-socket PATH] [--detach] ID\n"
	"  exec [--process FILE] [--tty] [--cwd DIR] [--env K=V]... [--detach]\n"
	"       [--pid-file F] [--console-socket PATH] ID [CMD...]\n"
	"  list [--format table|json]\n"
	"  ps [--format table|json] ID\n"
	"  pause ID, resume ID\n"
	"  spec [--rootless] [--bundle DIR]\n"
	"  features\n";

struct g {
	const char *root_opt;
	char *root;
	FILE *log;
	bool log_json;
	bool systemd_cgroup;
};

static void log_error(struct g *g, const struct kerr *e)
{
	kerr_print(e);
	if (!g->log)
		return;
	char buf[sizeof e->msg + 128];
	kerr_str(e, buf, sizeof buf);
	if (g->log_json) {
		char ts[64];
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_t *o = json_pack("{s:s, s:s, s:s}", "level", "error", "msg", buf, "time", ts);
		char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fprintf(g->log, "%s\n", line);
		free(line);
		json_decref(o);
	} else {
		fprintf(g->log, "%s: error: %s\n", klog_prog, buf);
	}
	fflush(g->log);
}

/* Every command ends here on failure: print, log, status 1 (the status
 * engines expect from a runtime; 125 is krill run's). */
static int fail(struct g *g, const struct kerr *e)
{
	log_error(g, e);
	return 1;
}

static int usage_error(struct g *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(struct g *g, const char *fmt, ...)
{
	struct kerr e;
	va_list ap;
	va_start(ap, fmt);
	char buf[sizeof e.msg];
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	kerr_set(&e, 0, "%s", buf);
	return fail(g, &e);
}

static int need_root(struct g *g, struct kerr *e)
{
	if (g->root)
		return 0;
	g->root = oci_state_root(g->root_opt, e);
	return g->root ? 0 : -1;
}

/* Parse the options of a command: table of long options with their
 * short letter (0 = long only); returns optind or -1. */
static int parse_opts(int argc, char **argv, const struct option *lo, const char *shorts,
                      bool stop_at_first, int (*each)(int c, const char *arg, void *ctx),
                      void *ctx)
{
	char spec[64];
	snprintf(spec, sizeof spec, "%s:%s", stop_at_first ? "+" : "", shorts);
	optind = 1;
	opterr = 1;
	int c;
	while ((c = getopt_long(argc, argv, spec, lo, NULL)) != -1) {
		if (c == '?' || c == ':')
			return -1;
		if (each(c, optarg, ctx) < 0)
			return -1;
	}
	return optind;
}

/* ---- create / run ------------------------------------------------------------ */

struct create_ctx {
	struct oci_create_opts o;
	bool detach;
};

enum { O_BUNDLE = 256, O_PIDFILE, O_CONSOLE, O_NOKEYRING, O_DETACH, O_FORCE, O_ALL, O_FORMAT,
       O_ROOTLESS, O_PROCESS, O_TTY, O_CWD, O_ENV, O_PRESERVE };

static int preserve_opt(const char *arg, unsigned *out)
{
	unsigned long n;
	if (parse_ulong(arg, 1 << 20, &n) < 0) {
		fprintf(stderr, "%s: error: --preserve-fds=%s: expected a number\n", klog_prog, arg);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

static int create_opt(int c, const char *arg, void *p)
{
	struct create_ctx *x = p;
	switch (c) {
	case 'b':
	case O_BUNDLE: x->o.bundle = arg; break;
	case O_PIDFILE: x->o.pid_file = arg; break;
	case O_CONSOLE: x->o.console_socket = arg; break;
	case O_NOKEYRING: break;
	case O_PRESERVE: return preserve_opt(arg, &x->o.preserve_fds);
	case 'd':
	case O_DETACH: x->detach = true; break;
	}
	return 0;
}

static const struct option create_lo[] = {
	{"bundle", required_argument, NULL, O_BUNDLE},
	{"pid-file", required_argument, NULL, O_PIDFILE},
	{"console-socket", required_argument, NULL, O_CONSOLE},
	{"no-new-keyring", no_argument, NULL, O_NOKEYRING},
	{"preserve-fds", required_argument, NULL, O_PRESERVE},
	{"detach", no_argument, NULL, O_DETACH},
	{0},
};

static int one_id(struct g *g, int argc, char **argv, int i, const char *cmd)
{
	if (i < 0)
		return -1;
	if (argc - i != 1) {
		struct kerr e;
		kerr_set(&e, 0, "%s: expected exactly one container ID", cmd);
		fail(g, &e);
		return -1;
	}
	return i;
}

static int cmd_create(struct g *g, int argc, char **argv, bool run)
{
	struct create_ctx x = {0};
	int i = one_id(g, argc, argv,
	               parse_opts(argc, argv, create_lo, run ? "b:d" : "b:", false, create_opt, &x),
	               run ? "run" : "create");
	if (i < 0)
		return 1;
	x.o.id = argv[i];
	struct kerr e = {0};
	if (g->systemd_cgroup) {
		kerr_set(&e, 0, "--systemd-cgroup: systemd cgroup management is not supported");
		kerr_hint(&e, "drop --systemd-cgroup (engines: set cgroup_manager = \"cgroupfs\")");
		return fail(g, &e);
	}
	if (need_root(g, &e) < 0)
		return fail(g, &e);
	pid_t pid;
	if (!run) {
		if (oci_create(g->root, &x.o, &pid, &e) < 0)
			return fail(g, &e);
		return 0;
	}
	/* run = create + start, then (without --detach) wait and delete. */
	sigset_t old;
	if (!x.detach && supervise_prepare(&old) < 0) {
		kerr_set(&e, errno, "can't prepare to wait for the container");
		return fail(g, &e);
	}
	x.o.for_run = !x.detach;
	if (oci_create(g->root, &x.o, &pid, &e) < 0)
		return fail(g, &e);
	if (oci_start(g->root, x.o.id, &e) < 0) {
		log_error(g, &e);
		oci_delete(g->root, x.o.id, true, &e);
		return 1;
	}
	if (x.detach)
		return 0;
	int status = supervise_wait(pid, true, NULL, NULL);
	if (oci_delete(g->root, x.o.id, true, &e) < 0)
		log_error(g, &e);
	return status;
}

/* ---- state / kill / delete / start ------------------------------------------------- */

static int noopt(int c, const char *arg, void *p) { return 0; }

static int read_state(struct g *g, const char *id, struct oci_state *st, struct kerr *e)
{
	if (need_root(g, e) < 0)
		return -1;
	if (!oci_id_valid(id))
		return kerr_set(e, 0, "invalid container ID '%s'", id);
	_cleanup_close_ int dirfd = oci_state_open(g->root, id, e);
	if (dirfd < 0)
		return -1;
	return oci_state_read(dirfd, st, e);
}

static int cmd_start(struct g *g, int argc, char **argv)
{
	static const struct option lo[] = {{0}};
	int i = one_id(g, argc, argv, parse_opts(argc, argv, lo, "", false, noopt, NULL), "start");
	if (i < 0)
		return 1;
	struct kerr e = {0};
	if (!oci_id_valid(argv[i]))
		return usage_error(g, "invalid container ID '%s'", argv[i]);
	if (need_root(g, &e) < 0 || oci_start(g->root, argv[i], &e) < 0)
		return fail(g, &e);
	return 0;
}

static int cmd_state(struct g *g, int argc, char **argv)
{
	static const struct option lo[] = {{0}};
	int i = one_id(g, argc, argv, parse_opts(argc, argv, lo, "", false, noopt, NULL), "state");
	if (i < 0)
		return 1;
	struct kerr e = {0};
	struct oci_state st;
	if (read_state(g, argv[i], &st, &e) < 0)
		return fail(g, &e);
	_cleanup_free_ char *j = oci_state_json(st.id, oci_state_status(&st), st.pid, st.bundle,
	                                        st.annotations, true);
	printf("%s\n", j);
	oci_state_free(&st);
	return 0;
}

/* For commands whose only option is a flag (kill --all, delete --force):
 * parse_opts hands over only the options the command declared. */
static int flag_opt(int c, const char *arg, void *p)
{
	*(bool *)p = true;
	return 0;
}

static int cmd_kill(struct g *g, int argc, char **argv)
{
	static const struct option lo[] = {{"all", no_argument, NULL, O_ALL}, {0}};
	bool all = false;
	int i = parse_opts(argc, argv, lo, "a", false, flag_opt, &all);
	if (i < 0)
		return 1;
	if (argc - i < 1 || argc - i > 2) {
		struct kerr e;
		kerr_set(&e, 0, "kill: expected ID [SIGNAL]");
		return fail(g, &e);
	}
	int sig = argc - i == 2 ? oci_signal_parse(argv[i + 1]) : SIGTERM;
	if (sig < 0)
		return usage_error(g, "kill: unknown signal '%s'", argv[i + 1]);
	struct kerr e = {0};
	struct oci_state st;
	if (read_state(g, argv[i], &st, &e) < 0)
		return fail(g, &e);
	const char *status = oci_state_status(&st);
	int rc = 0;
	if (strcmp(status, "stopped") == 0 || strcmp(status, "creating") == 0) {
		kerr_set(&e, 0, "container %s is %s: it can't be signalled", st.id, status);
		rc = fail(g, &e);
	} else if (all && st.cgroup) {
		struct cgroup *cg = NULL;
		if (cgroup_open_existing(st.cgroup, &cg, &e) < 0 ||
		    cgroup_kill_all(cg, sig, &e) < 0)
			rc = fail(g, &e);
		if (cg)
			cgroup_free(cg);
	} else if (kill(st.pid, sig) < 0) {
		kerr_set(&e, errno, "container %s: can't send signal %d to pid %d", st.id, sig,
		         (int)st.pid);
		rc = fail(g, &e);
	}
	oci_state_free(&st);
	return rc;
}

static int cmd_delete(struct g *g, int argc, char **argv)
{
	static const struct option lo[] = {{"force", no_argument, NULL, O_FORCE}, {0}};
	bool force = false;
	int i = one_id(g, argc, argv, parse_opts(argc, argv, lo, "f", false, flag_opt, &force),
	               "delete");
	if (i < 0)
		return 1;
	struct kerr e = {0};
	if (!oci_id_valid(argv[i]))
		return usage_error(g, "invalid container ID '%s'", argv[i]);
	if (need_root(g, &e) < 0 || oci_delete(g->root, argv[i], force, &e) < 0)
		return fail(g, &e);
	return 0;
}

/* ---- pause / resume / ps --------------------------------------------------------------- */

static int cmd_pause(struct g *g, int argc, char **argv, bool pause)
{
	static const struct option lo[] = {{0}};
	const char *cmd = pause ? "pause" : "resume";
	int i = one_id(g, argc, argv, parse_opts(argc, argv, lo, "", false, noopt, NULL), cmd);
	if (i < 0)
		return 1;
	struct kerr e = {0};
	if (need_root(g, &e) < 0)
		return fail(g, &e);
	if (!oci_id_valid(argv[i]))
		return usage_error(g, "invalid container ID '%s'", argv[i]);
	_cleanup_close_ int dirfd = oci_state_open(g->root, argv[i], &e);
	struct oci_state st;
	if (dirfd < 0 || flock(dirfd, LOCK_EX) < 0 || oci_state_read(dirfd, &st, &e) < 0)
		return fail(g, &e);
	const char *status = oci_state_status(&st);
	int rc = 1;
	struct cgroup *cg = NULL;
	if (strcmp(status, pause ? "running" : "paused") != 0) {
		kerr_set(&e, 0, "container %s is %s, not %s", st.id, status,
		         pause ? "running" : "paused");
	} else if (!st.cgroup) {
		kerr_set(&e, 0, "container %s has no cgroup: %s needs the freezer", st.id, cmd);
	} else if (cgroup_open_existing(st.cgroup, &cg, &e) == 0 &&
	           cgroup_freeze(cg, pause, &e) == 0) {
		st.paused = pause;
		if (oci_state_write(dirfd, &st, &e) == 0)
			rc = 0;
	}
	if (cg)
		cgroup_free(cg);
	if (rc)
		fail(g, &e);
	oci_state_free(&st);
	return rc;
}

static int format_opt(int c, const char *arg, void *p)
{
	if (c == 'f' || c == O_FORMAT) {
		if (strcmp(arg, "json") && strcmp(arg, "table")) {
			fprintf(stderr, "%s: error: --format=%s: expected table or json\n", klog_prog,
			        arg);
			return -1;
		}
		*(bool *)p = strcmp(arg, "json") == 0;
	}
	return 0;
}

/* Pids of the container: its cgroup's, else the init and its descendants. */
static void container_pids(const struct oci_state *st, pid_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct cgroup *cg = NULL;
	if (st->cgroup && cgroup_open_existing(st->cgroup, &cg, NULL) == 0) {
		const char *dir = cgroup_dir_v2(cg);
		if (!dir)
			dir = cgroup_dir_v1(cg, CG_PIDS);
		if (!dir)
			dir = cgroup_dir_v1(cg, CG_FREEZER);
		_cleanup_free_ char *path = dir ? xasprintf("%s/cgroup.procs", dir) : NULL;
		_cleanup_free_ char *buf = NULL;
		if (path && file_read_all(AT_FDCWD, path, 1 << 20, &buf, NULL, NULL) == 0) {
			for (char *p = buf; *p;) {
				char *end;
				long v = strtol(p, &end, 10);
				if (end == p)
					break;
				*out = xrealloc(*out, (*n + 1) * sizeof **out);
				(*out)[(*n)++] = (pid_t)v;
				p = end + (*end == '\n');
			}
		}
		cgroup_free(cg);
		if (*n)
			return;
	}
	if (!proc_alive(st->pid, st->pid_start))
		return;
	*out = xrealloc(*out, sizeof **out);
	(*out)[(*n)++] = st->pid;
	/* Descendants: repeat until no new child of a known pid shows up. */
	bool grew = true;
	while (grew) {
		grew = false;
		DIR *d = opendir("/proc");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			unsigned long pid;
			if (parse_ulong(de->d_name, 1UL << 22, &pid) < 0)
				continue;
			bool known = false;
			for (size_t i = 0; i < *n; i++)
				known |= (*out)[i] == (pid_t)pid;
			if (known)
				continue;
			char path[64];
			snprintf(path, sizeof path, "/proc/%lu/stat", pid);
			_cleanup_free_ char *buf = NULL;
			if (file_read_all(AT_FDCWD, path, 4096, &buf, NULL, NULL) < 0)
				continue;
			char *p = strrchr(buf, ')');
			int ppid = 0;
			if (!p || sscanf(p + 2, "%*c %d", &ppid) != 1)
				continue;
			for (size_t i = 0; i < *n; i++)
				if ((*out)[i] == ppid) {
					*out = xrealloc(*out, (*n + 1) * sizeof **out);
					(*out)[(*n)++] = (pid_t)pid;
					grew = true;
					break;
				}
		}
		if (d)
			closedir(d);
	}
}

static int cmd_ps(struct g *g, int argc, char **argv)
{
	static const struct option lo[] = {{"format", required_argument, NULL, O_FORMAT}, {0}};
	bool json = false;
	int i = one_id(g, argc, argv, parse_opts(argc, argv, lo, "f:", false, format_opt, &json),
	               "ps");
	if (i < 0)
		return 1;
	struct kerr e = {0};
	struct oci_state st;
	if (read_state(g, argv[i], &st, &e) < 0)
		return fail(g, &e);
	pid_t *pids;
	size_t n;
	container_pids(&st, &pids, &n);
	if (json) {
		json_t *a = json_array();
		for (size_t k = 0; k < n; k++)
			json_array_append_new(a, json_integer(pids[k]));
		char *t = json_dumps(a, JSON_COMPACT);
		printf("%s\n", t);
		free(t);
		json_decref(a);
	} else {
		printf("%-8s %s\n", "PID", "CMD");
		for (size_t k = 0; k < n; k++) {
			char path[64];
			snprintf(path, sizeof path, "/proc/%d/comm", (int)pids[k]);
			_cleanup_free_ char *comm = NULL;
			if (file_read_all(AT_FDCWD, path, 256, &comm, NULL, NULL) < 0)
				comm = xstrdup("?\n");
			printf("%-8d %s", (int)pids[k], comm);
		}
	}
	free(pids);
	oci_state_free(&st);
	return 0;
}

/* ---- list ---------------------------------------------------------------------------- */

static int cmd_list(struct g *g, int argc, char **argv)
{
	static const struct option lo[] = {{"format", required_argument, NULL, O_FORMAT},
	                                   {"quiet", no_argument, NULL, 'q'}, {0}};
	bool json = false;
	int i = parse_opts(argc, argv, lo, "f:q", false, format_opt, &json);
	if (i < 0)
		return 1;
	struct kerr e = {0};
	if (need_root(g, &e) < 0)
		return fail(g, &e);
	oci_state_sweep(g->root); /* what killed creates left */
	DIR *d = opendir(g->root);
	if (!d) {
		kerr_set(&e, errno, "can't list %s", g->root);
		return fail(g, &e);
	}
	struct strv ids = {0};
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && oci_id_valid(de->d_name))
			strv_push(&ids, de->d_name);
	closedir(d);
	qsort(ids.v, ids.n, sizeof *ids.v, (int (*)(const void *, const void *))strcmp);
	json_t *arr = json ? json_array() : NULL;
	if (!json)
		printf("%-20s %-8s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
	for (size_t k = 0; k < ids.n; k++) {
		struct oci_state st;
		_cleanup_close_ int dirfd = oci_state_open(g->root, ids.v[k], NULL);
		if (dirfd < 0 || oci_state_read(dirfd, &st, NULL) < 0)
			continue;
		const char *status = oci_state_status(&st);
		int pid = strcmp(status, "stopped") ? (int)st.pid : 0;
		struct passwd *pw = getpwuid(st.owner);
		_cleanup_free_ char *owner = pw ? xstrdup(pw->pw_name) : xasprintf("#%u", st.owner);
		if (json) {
			json_array_append_new(
				arr, json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "id", st.id, "pid", pid,
			                       "status", status, "bundle", st.bundle, "created",
			                       st.created, "owner", owner));
		} else {
			printf("%-20s %-8d %-10s %-40s %-31s %s\n", st.id, pid, status, st.bundle,
			       st.created, owner);
		}
		oci_state_free(&st);
	}
	if (json) {
		char *t = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", t);
		free(t);
		json_decref(arr);
	}
	strv_free(&ids);
	return 0;
}

/* ---- spec / features ------------------------------------------------------------------- */

struct spec_ctx {
	bool rootless;
	const char *bundle;
};

static int spec_opt(int c, const char *arg, void *p)
{
	struct spec_ctx *x = p;
	if (c == O_ROOTLESS)
		x->rootless = true;
	else if (c == 'b' || c == O_BUNDLE)
		x->bundle = arg;
	return 0;
}

static json_t *strs(const char *const *v)
{
	json_t *a = json_array();
	for (; *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *mnt(const char *dst, const char *type, const char *src, const char *const *opts)
{
	json_t *m = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type, "source", src);
	if (opts)
		json_object_set_new(m, "options", strs(opts));
	return m;
}

/* The default config.json: runc's, so that tools that edit it find what
 * they expect; --rootless as `runc spec --rootless` (single-ID maps of the
 * caller, no network or cgroup namespace, /sys bound from the host). */
static json_t *default_spec(bool rootless)
{
	static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
	                                   NULL};
	static const char *const env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
		NULL};
	static const char *const args[] = {"sh", NULL};
	json_t *process = json_pack(
		"{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:{s:o, s:o, s:o, s:o}, s:[{s:s, s:i, s:i}], s:b}",
		"terminal", 1, "user", "uid", 0, "gid", 0, "args", strs(args), "env", strs(env),
		"cwd", "/", "capabilities", "bounding", strs(caps), "effective", strs(caps),
		"permitted", strs(caps), "ambient", strs(caps), "rlimits", "type", "RLIMIT_NOFILE",
		"hard", 1024, "soft", 1024, "noNewPrivileges", 1);
	static const char *const o_dev[] = {"nosuid", "strictatime", "mode=755", "size=65536k",
	                                    NULL};
	static const char *const o_pts[] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666",
	                                    "mode=0620", "gid=5", NULL};
	static const char *const o_pts_rl[] = {"nosuid", "noexec", "newinstance",
	                                       "ptmxmode=0666", "mode=0620", NULL};
	static const char *const o_shm[] = {"nosuid", "noexec", "nodev", "mode=1777",
	                                    "size=65536k", NULL};
	static const char *const o_mq[] = {"nosuid", "noexec", "nodev", NULL};
	static const char *const o_sys[] = {"nosuid", "noexec", "nodev", "ro", NULL};
	static const char *const o_sys_rl[] = {"rbind", "nosuid", "noexec", "nodev", "ro", NULL};
	static const char *const o_cg[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
	json_t *mounts = json_array();
	json_array_append_new(mounts, mnt("/proc", "proc", "proc", NULL));
	json_array_append_new(mounts, mnt("/dev", "tmpfs", "tmpfs", o_dev));
	json_array_append_new(mounts, mnt("/dev/pts", "devpts", "devpts",
	                                  rootless ? o_pts_rl : o_pts));
	json_array_append_new(mounts, mnt("/dev/shm", "tmpfs", "shm", o_shm));
	json_array_append_new(mounts, mnt("/dev/mqueue", "mqueue", "mqueue", o_mq));
	if (rootless)
		json_array_append_new(mounts, mnt("/sys", "none", "/sys", o_sys_rl));
	else
		json_array_append_new(mounts, mnt("/sys", "sysfs", "sysfs", o_sys));
	json_array_append_new(mounts, mnt("/sys/fs/cgroup", "cgroup", "cgroup", o_cg));
	static const char *const masked[] = {
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
		"/proc/scsi", NULL};
	static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
	                                 "/proc/sysrq-trigger", NULL};
	json_t *ns = json_array();
	const char *types[] = {"pid", rootless ? NULL : "network", "ipc", "uts", "mount",
	                       rootless ? "user" : "cgroup"};
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (types[i])
			json_array_append_new(ns, json_pack("{s:s}", "type", types[i]));
	json_t *linux_ = json_pack("{s:o, s:o, s:o}", "namespaces", ns, "maskedPaths", strs(masked),
	                           "readonlyPaths", strs(ro));
	if (rootless) {
		json_object_set_new(linux_, "uidMappings",
		                    json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID",
		                              (int)getuid(), "size", 1));
		json_object_set_new(linux_, "gidMappings",
		                    json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID",
		                              (int)getgid(), "size", 1));
	} else {
		json_object_set_new(linux_, "resources",
		                    json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access",
		                              "rwm"));
	}
	return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.0.2",
	                 "process", process, "root", "path", "rootfs", "readonly", 1, "hostname",
	                 "krill", "mounts", mounts, "linux", linux_);
}

static int cmd_spec(struct g *g, int argc, char **argv)
{
	static const struct option lo[] = {{"rootless", no_argument, NULL, O_ROOTLESS},
	                                   {"bundle", required_argument, NULL, O_BUNDLE}, {0}};
	struct spec_ctx x = {0};
	int i = parse_opts(argc, argv, lo, "b:", false, spec_opt, &x);
	if (i < 0)
		return 1;
	if (i != argc)
		return usage_error(g, "spec: unexpected argument '%s'", argv[i]);
	_cleanup_free_ char *path = xasprintf("%s/config.json", x.bundle ? x.bundle : ".");
	struct kerr e = {0};
	json_t *s = default_spec(x.rootless);
	char *text = json_dumps(s, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(s);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(text);
		kerr_set(&e, errno == EEXIST ? 0 : errno, "%s%s", path,
		         errno == EEXIST ? ": already exists" : "");
		return fail(g, &e);
	}
	size_t n = strlen(text);
	bool ok = write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
	close(fd);
	free(text);
	if (!ok) {
		kerr_set(&e, errno, "can't write %s", path);
		return fail(g, &e);
	}
	return 0;
}

static int cmd_features(struct g *g, int argc, char **argv)
{
	static const char *const hooks[] = {"prestart", "createRuntime", "createContainer",
	                                    "startContainer", "poststart", "poststop", NULL};
	static const char *const mopts[] = {
		"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "mand",
		"noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime",
		"nosuid", "private", "rbind", "relatime", "ro", "rprivate", "rshared", "rslave",
		"runbindable", "rw", "shared", "slave", "strictatime", "suid", "sync", "unbindable",
		NULL};
	static const char *const ns[] = {"cgroup", "ipc", "mount", "network", "pid", "user", "uts",
	                                 NULL};
	static const char *const actions[] = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
	                                      "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
	                                      "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
	                                      NULL};
	static const char *const ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
	                                  "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
	                                  "SCMP_CMP_NE", NULL};
	static const char *const archs[] = {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
	                                    "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL};
	json_t *capl = json_array();
	for (int c = 0; c <= caps_last_cap(); c++)
		if (caps_name(c))
			json_array_append_new(capl, json_string(caps_name(c)));
	json_t *f = json_pack(
		"{s:s, s:s, s:o, s:o, s:{s:o, s:o, s:{s:b, s:b, s:b}, s:{s:b, s:o, s:o, s:o}, "
		"s:{s:b}, s:{s:b}}, s:{s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", "1.1.0", "hooks", strs(hooks),
		"mountOptions", strs(mopts), "linux", "namespaces", strs(ns), "capabilities", capl,
		"cgroup", "v1", 1, "v2", 1, "systemd", 0, "seccomp", "enabled", 1, "actions",
		strs(actions), "operators", strs(ops), "archs", strs(archs), "apparmor", "enabled",
		0, "selinux", "enabled", 0, "annotations", "org.krill.version", KRILL_VERSION);
	char *t = json_dumps(f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", t);
	free(t);
	json_decref(f);
	return 0;
}

/* ---- exec ------------------------------------------------------------------------------ */

static int exec_opt(int c, const char *arg, void *p)
{
	struct oci_exec_opts *x = p;
	switch (c) {
	case 'p':
	case O_PROCESS: x->process = arg; break;
	case 't':
	case O_TTY: x->tty = true; break;
	case O_CWD: x->cwd = arg; break;
	case 'e':
	case O_ENV: strv_push(&x->env, arg); break;
	case 'd':
	case O_DETACH: x->detach = true; break;
	case O_PIDFILE: x->pid_file = arg; break;
	case O_CONSOLE: x->console_socket = arg; break;
	case O_PRESERVE: return preserve_opt(arg, &x->preserve_fds);
	}
	return 0;
}

static int cmd_exec(struct g *g, int argc, char **argv)
{
	static const struct option lo[] = {
		{"process", required_argument, NULL, O_PROCESS},
		{"tty", no_argument, NULL, O_TTY},
		{"cwd", required_argument, NULL, O_CWD},
		{"env", required_argument, NULL, O_ENV},
		{"detach", no_argument, NULL, O_DETACH},
		{"pid-file", required_argument, NULL, O_PIDFILE},
		{"console-socket", required_argument, NULL, O_CONSOLE},
		{"preserve-fds", required_argument, NULL, O_PRESERVE},
		{0}};
	struct oci_exec_opts x = {0};
	int i = parse_opts(argc, argv, lo, "p:te:d", true, exec_opt, &x);
	if (i < 0)
		return 1;
	if (i >= argc)
		return usage_error(g, "%s", "exec: expected a container ID");
	x.id = argv[i++];
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (!x.process && i >= argc)
		return usage_error(g, "%s", "exec: expected a command (or --process FILE)");
	if (x.process && i < argc)
		return usage_error(g, "%s", "exec: give either --process FILE or a command");
	x.argv = i < argc ? argv + i : NULL;
	struct kerr e = {0};
	int rc;
	if (need_root(g, &e) < 0 || (rc = oci_exec(g->root, &x, &e)) < 0) {
		strv_free(&x.env);
		return fail(g, &e);
	}
	strv_free(&x.env);
	return rc;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

int oci_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"root", required_argument, NULL, 'r'},
		{"log", required_argument, NULL, 'l'},
		{"log-format", required_argument, NULL, 'F'},
		{"debug", no_argument, NULL, 'D'},
		{"systemd-cgroup", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'v'},
		{"rootless", required_argument, NULL, 'R'}, /* runc's; krill decides by itself */
		{"criu", required_argument, NULL, 'C'},
		{0}};
	struct g g = {0};
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+hv", lo, NULL)) != -1) {
		switch (c) {
		case 'r': g.root_opt = optarg; break;
		case 'l':
			g.log = fopen(optarg, "ae");
			if (!g.log) {
				fprintf(stderr, "%s: error: --log=%s: %s\n", klog_prog, optarg,
				        strerror(errno));
				return 1;
			}
			break;
		case 'F':
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				fprintf(stderr, "%s: error: --log-format=%s: expected text or json\n",
				        klog_prog, optarg);
				return 1;
			}
			g.log_json = strcmp(optarg, "json") == 0;
			break;
		case 'D': klog_verbosity = KLOG_DEBUG; break;
		case 'S': g.systemd_cgroup = true; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'v': printf("krill-oci version %s\nspec: 1.1.0\n", KRILL_VERSION); return 0;
		case 'R': case 'C': break;
		default: fputs(usage, stderr); return 1;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return 1;
	}
	const char *cmd = argv[optind];
	int sub_argc = argc - optind;
	char **sub = argv + optind;
	int rc;
	if (strcmp(cmd, "create") == 0)
		rc = cmd_create(&g, sub_argc, sub, false);
	else if (strcmp(cmd, "run") == 0)
		rc = cmd_create(&g, sub_argc, sub, true);
	else if (strcmp(cmd, "start") == 0)
		rc = cmd_start(&g, sub_argc, sub);
	else if (strcmp(cmd, "state") == 0)
		rc = cmd_state(&g, sub_argc, sub);
	else if (strcmp(cmd, "kill") == 0)
		rc = cmd_kill(&g, sub_argc, sub);
	else if (strcmp(cmd, "delete") == 0)
		rc = cmd_delete(&g, sub_argc, sub);
	else if (strcmp(cmd, "exec") == 0)
		rc = cmd_exec(&g, sub_argc, sub);
	else if (strcmp(cmd, "list") == 0)
		rc = cmd_list(&g, sub_argc, sub);
	else if (strcmp(cmd, "ps") == 0)
		rc = cmd_ps(&g, sub_argc, sub);
	else if (strcmp(cmd, "pause") == 0)
		rc = cmd_pause(&g, sub_argc, sub, true);
	else if (strcmp(cmd, "resume") == 0)
		rc = cmd_pause(&g, sub_argc, sub, false);
	else if (strcmp(cmd, "spec") == 0)
		rc = cmd_spec(&g, sub_argc, sub);
	else if (strcmp(cmd, "features") == 0)
		rc = cmd_features(&g, sub_argc, sub);
	else if (strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		rc = 0;
	} else {
		rc = usage_error(&g, "unknown command '%s' (see krill-oci --help)", cmd);
	}
	free(g.root);
	if (g.log)
		fclose(g.log);
	fflush(stdout);
	return rc;
}
