/* krill: command-line front end.  Parses arguments into a struct container
 * and dispatches; every mechanism lives in lib/.  Only this file prints
 * errors and chooses exit statuses. */
#include "bind_spec.h"
#include "cgroup.h"
#include "check.h"
#include "config.h"
#include "container.h"
#include "env.h"
#include "features.h"
#include "image.h"
#include "imgref.h"
#include "import_exec.h"
#include "join_params.h"
#include "launch.h"
#include "log.h"
#include "attach.h"
#include "oci.h"
#include "record.h"
#include "run.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static const char usage_run[] =
	"Usage: krill run [OPTIONS] IMAGE [--] [CMD [ARG...]]\n"
	"\n"
	"Run CMD in IMAGE (a directory or a SquashFS file) in new user and mount\n"
	"namespaces.  Options may come before or after IMAGE.\n"
	"\n"
	"  -b, --bind=SRC[:DST[:ro]]  bind host SRC at DST (repeatable)\n"
	"  -c, --cd=DIR               start in DIR (default /)\n"
	"  -u, --uid=UID              user ID inside (default: yours)\n"
	"  -g, --gid=GID              group ID inside (default: yours)\n"
	"      --home                 bind $HOME at /home/$USER (implies -W)\n"
	"  -t, --private-tmp          a new tmpfs at /tmp\n"
	"  -w, --write                mount a directory image read-write\n"
	"  -W, --write-fake[=SIZE]    writable tmpfs overlay, discarded at exit\n"
	"      --no-passwd            keep the image's /etc/passwd and /etc/group\n"
	"  -j, --join                 join peer krill processes into one container\n"
	"      --join-ct=N            peer group size (implies --join)\n"
	"      --join-tag=TAG         peer group name (implies --join)\n"
	"      --join-pid=PID         join the container PID runs in\n"
	"  -m, --mount=DIR            where to mount a SquashFS image\n"
	"  -s, --storage=DIR          storage directory for images run by name\n"
	"      --set-env[=FILE|VAR=VAL]  set variables (no argument: the image's file)\n"
	"      --set-env0[=FILE]      the same, NUL-separated\n"
	"      --unset-env=GLOB       unset variables matching GLOB\n"
	"      --env-no-expand        don't expand $VAR in --set-env values\n"
	"      --env-clean            start from an almost empty environment\n"
	"      --env-keep=GLOB        with --env-clean, keep these too\n"
	"      --seccomp              fake root: privileged syscalls succeed, no effect\n"
	"      --seccomp-profile=FILE apply an OCI/Docker seccomp profile\n"
	"      --name=NAME            name the container for krill exec / krill ps\n"
	"      --pid                  new PID namespace with a minimal init\n"
	"      --net=host|none        none: new network namespace with lo only\n"
	"      --hostname=NAME        new UTS namespace with this hostname\n"
	"      --ipc                  new IPC namespace\n"
	"      --userns               a user namespace even when run as root\n"
	"      --memory=SIZE          cgroup memory limit (k, m, g suffixes)\n"
	"      --cpus=N               cgroup CPU limit, e.g. 0.5\n"
	"      --pids-limit=N         cgroup process limit\n"
	"      --cap-add=CAP, --cap-drop=CAP  capability changes (root)\n"
	"      --feature=FEAT         exit 0 if FEAT is available, 1 if not\n"
	"  -v, --verbose              more output (repeatable)\n"
	"  -q, --quiet                less output (repeatable)\n"
	"  -V, --version              print the version\n"
	"  -h, --help                 print this help\n";

static const char usage_main[] =
	"Usage: krill COMMAND [ARGS]\n"
	"\n"
	"  run [OPTIONS] IMAGE [--] CMD...   run CMD in IMAGE\n"
	"  exec [OPTIONS] PID|NAME [--] CMD  run CMD in a running container\n"
	"  import [OPTIONS] SOURCE [DEST]    import docker://, oci:, archives... as .sqfs\n"
	"  cache [--prune] [--verify]        the import cache\n"
	"  ps [--json]                       list your running containers\n"
	"  check [--json]                    what this host allows, and hints\n"
	"  version                           version and compiled-in features\n"
	"  oci ...                           OCI runtime (also as krill-oci)\n"
	"\n"
	"See krill(1), krill-run(1) and krill-import(1).\n";

enum {
	OPT_HOME = 256, OPT_NO_PASSWD, OPT_JOIN_CT, OPT_JOIN_TAG, OPT_JOIN_PID, OPT_SET_ENV,
	OPT_SET_ENV0, OPT_UNSET_ENV, OPT_ENV_NO_EXPAND, OPT_ENV_CLEAN, OPT_ENV_KEEP, OPT_SECCOMP,
	OPT_SECCOMP_PROFILE, OPT_NAME, OPT_PID, OPT_NET, OPT_HOSTNAME, OPT_IPC, OPT_USERNS,
	OPT_MEMORY, OPT_CPUS, OPT_PIDS_LIMIT, OPT_CAP_ADD, OPT_CAP_DROP, OPT_DEVICE, OPT_CDI_DIRS,
	OPT_FEATURE, OPT_HOLD_FD,
};

static const struct option run_options[] = {
	{"bind", required_argument, NULL, 'b'},
	{"cd", required_argument, NULL, 'c'},
	{"uid", required_argument, NULL, 'u'},
	{"gid", required_argument, NULL, 'g'},
	{"home", no_argument, NULL, OPT_HOME},
	{"private-tmp", no_argument, NULL, 't'},
	{"write", no_argument, NULL, 'w'},
	{"write-fake", optional_argument, NULL, 'W'},
	{"no-passwd", no_argument, NULL, OPT_NO_PASSWD},
	{"join", no_argument, NULL, 'j'},
	{"join-ct", required_argument, NULL, OPT_JOIN_CT},
	{"join-tag", required_argument, NULL, OPT_JOIN_TAG},
	{"join-pid", required_argument, NULL, OPT_JOIN_PID},
	{"mount", required_argument, NULL, 'm'},
	{"storage", required_argument, NULL, 's'},
	{"set-env", optional_argument, NULL, OPT_SET_ENV},
	{"set-env0", optional_argument, NULL, OPT_SET_ENV0},
	{"unset-env", required_argument, NULL, OPT_UNSET_ENV},
	{"env-no-expand", no_argument, NULL, OPT_ENV_NO_EXPAND},
	{"env-clean", no_argument, NULL, OPT_ENV_CLEAN},
	{"env-keep", required_argument, NULL, OPT_ENV_KEEP},
	{"seccomp", no_argument, NULL, OPT_SECCOMP},
	{"seccomp-profile", required_argument, NULL, OPT_SECCOMP_PROFILE},
	{"name", required_argument, NULL, OPT_NAME},
	{"pid", no_argument, NULL, OPT_PID},
	{"net", required_argument, NULL, OPT_NET},
	{"hostname", required_argument, NULL, OPT_HOSTNAME},
	{"ipc", no_argument, NULL, OPT_IPC},
	{"userns", no_argument, NULL, OPT_USERNS},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"pids-limit", required_argument, NULL, OPT_PIDS_LIMIT},
	{"cap-add", required_argument, NULL, OPT_CAP_ADD},
	{"cap-drop", required_argument, NULL, OPT_CAP_DROP},
	{"device", required_argument, NULL, OPT_DEVICE},
	{"cdi-dirs", required_argument, NULL, OPT_CDI_DIRS},
	{"feature", required_argument, NULL, OPT_FEATURE},
	/* Internal: the SPANK plugin's interface (hold.h, krill-spank(8)). */
	{"hold-fd", required_argument, NULL, OPT_HOLD_FD},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"version", no_argument, NULL, 'V'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
static const char run_shortopts[] = "+:b:c:u:g:twW::jm:s:vqVh";

static int fail(const struct kerr *e)
{
	kerr_print(e);
	return EXIT_KRILL;
}

/* "--OPTION=ARG: WHY" */
static int bad(const char *opt, const char *arg, const char *why)
{
	struct kerr e;
	kerr_set(&e, 0, "%s=%s: %s", opt, arg, why);
	return fail(&e);
}

static int parse_id(const char *opt, const char *arg, unsigned *out)
{
	unsigned long v;
	if (parse_ulong(arg, 4294967294UL, &v) < 0)
		return bad(opt, arg, "expected a number (0-4294967294)");
	*out = (unsigned)v;
	return 0;
}

static void add_env_op(struct container *c, enum env_op_kind kind, const char *arg)
{
	c->env_ops = xrealloc(c->env_ops, (c->nenv_ops + 1) * sizeof *c->env_ops);
	c->env_ops[c->nenv_ops++] = (struct env_op){.kind = kind, .arg = xstrdup(arg ? arg : "")};
}

static void add_bind(struct container *c, const struct bind *b)
{
	c->binds = xrealloc(c->binds, (c->nbinds + 1) * sizeof *c->binds);
	c->binds[c->nbinds++] = *b;
}

/* Parse one option of `krill run`; returns 0, or an exit status. */
static int run_option(struct container *c, int opt, const char *arg, const char **feature)
{
	struct kerr e;
	unsigned long n;
	switch (opt) {
	case 'b': {
		struct bind b;
		if (bind_spec_parse(arg, false, &b, &e) < 0)
			return fail(&e);
		add_bind(c, &b);
		return 0;
	}
	case 'c':
		free(c->cwd);
		c->cwd = xstrdup(arg);
		if (arg[0] != '/')
			return bad("--cd", arg, "must be an absolute path");
		return 0;
	case 'u':
		return parse_id("--uid", arg, &c->uid);
	case 'g':
		return parse_id("--gid", arg, &c->gid);
	case OPT_HOME:
		c->home = c->write_fake = true;
		return 0;
	case 't':
		c->private_tmp = true;
		return 0;
	case 'w':
		c->write = true;
		return 0;
	case 'W':
		c->write_fake = true;
		if (arg) {
			if (!*arg || strpbrk(arg, ",="))
				return bad("--write-fake", arg, "expected a size like 2g or 50%");
			free(c->write_fake_size);
			c->write_fake_size = xstrdup(arg);
		}
		return 0;
	case OPT_NO_PASSWD:
		c->no_passwd = true;
		return 0;
	case 'j':
		c->join = true;
		return 0;
	case OPT_JOIN_CT:
		if (join_parse_count("--join-ct", arg, 1, 65536, &n, &e) < 0)
			return fail(&e);
		c->join = true;
		c->join_ct = n;
		return 0;
	case OPT_JOIN_TAG:
		if (!*arg)
			return bad("--join-tag", "", "empty tag");
		if (strlen(arg) > 128)
			return bad("--join-tag", arg, "longer than 128 characters");
		c->join = true;
		free(c->join_tag);
		c->join_tag = xstrdup(arg);
		return 0;
	case OPT_JOIN_PID:
		if (parse_ulong(arg, 4194304, &n) < 0 || n == 0)
			return bad("--join-pid", arg, "expected a process ID");
		c->join_pid = (pid_t)n;
		return 0;
	case 'm':
		free(c->mountpoint);
		c->mountpoint = xstrdup(arg);
		return 0;
	case 's':
		free(c->storage);
		c->storage = xstrdup(arg);
		return 0;
	case OPT_SET_ENV: {
		/* NAME=VALUE when there is an '=' and no '/' before it: the value
		 * may be a path (HOME=/x), and a file may be /dir/a=b. */
		const char *eq = arg ? strchr(arg, '=') : NULL;
		bool assignment = eq && !memchr(arg, '/', eq - arg);
		add_env_op(c, assignment ? ENV_OP_SET_VAR : ENV_OP_SET_FILE, arg);
		return 0;
	}
	case OPT_SET_ENV0:
		add_env_op(c, ENV_OP_SET_FILE0, arg);
		return 0;
	case OPT_UNSET_ENV:
		if (!*arg)
			return bad("--unset-env", "", "empty pattern");
		add_env_op(c, ENV_OP_UNSET, arg);
		return 0;
	case OPT_ENV_NO_EXPAND:
		c->env_no_expand = true;
		return 0;
	case OPT_ENV_CLEAN:
		c->env_clean = true;
		return 0;
	case OPT_ENV_KEEP:
		strv_push(&c->env_keep, arg);
		return 0;
	case OPT_SECCOMP:
		c->seccomp_fakeroot = true;
		return 0;
	case OPT_SECCOMP_PROFILE:
		free(c->seccomp_profile);
		c->seccomp_profile = xstrdup(arg);
		return 0;
	case OPT_NAME: {
		const char *why = record_name_invalid(arg);
		if (why)
			return bad("--name", arg, why);
		free(c->name);
		c->name = xstrdup(arg);
		return 0;
	}
	case OPT_PID:
		c->ns_pid = true;
		return 0;
	case OPT_HOLD_FD: {
		struct stat st;
		if (parse_ulong(arg, 1024, &n) < 0 || n < 3 || fstat((int)n, &st) < 0 ||
		    !S_ISSOCK(st.st_mode))
			return bad("--hold-fd", arg, "expected an open socket (fd 3-1024)");
		c->hold_fd = (int)n;
		return 0;
	}
	case OPT_NET:
		if (strcmp(arg, "host") == 0)
			c->net = NET_HOST;
		else if (strcmp(arg, "none") == 0)
			c->net = NET_NONE;
		else
			return bad("--net", arg, "expected 'host' or 'none'");
		return 0;
	case OPT_HOSTNAME:
		if (!*arg || strlen(arg) > 64)
			return bad("--hostname", arg, "expected 1-64 characters");
		free(c->hostname);
		c->hostname = xstrdup(arg);
		return 0;
	case OPT_IPC:
		c->ns_ipc = true;
		return 0;
	case OPT_USERNS:
		c->userns = true;
		return 0;
	case OPT_MEMORY:
		if (parse_size(arg, &c->memory) < 0 || c->memory == 0)
			return bad("--memory", arg, "expected a size like 512m or 2g");
		return 0;
	case OPT_CPUS:
		if (parse_cpus(arg, &c->cpus_milli) < 0)
			return bad("--cpus", arg, "expected a positive number like 0.5");
		return 0;
	case OPT_PIDS_LIMIT:
		if (parse_ulong(arg, 4194304, &n) < 0 || n == 0)
			return bad("--pids-limit", arg, "expected a positive number");
		c->pids_limit = n;
		return 0;
	case OPT_CAP_ADD:
		strv_push(&c->cap_add, arg);
		return 0;
	case OPT_CAP_DROP:
		strv_push(&c->cap_drop, arg);
		return 0;
	case OPT_DEVICE:
	case OPT_CDI_DIRS:
		return bad(opt == OPT_DEVICE ? "--device" : "--cdi-dirs", arg,
		           "CDI device injection is not implemented yet");
	case OPT_FEATURE:
		*feature = arg;
		return 0;
	case 'v':
		klog_verbosity++;
		return 0;
	case 'q':
		klog_verbosity--;
		return 0;
	case 'V':
		features_print_version(stdout);
		exit(0);
	case 'h':
		fputs(usage_run, stdout);
		exit(0);
	}
	return EXIT_KRILL;
}

/* getopt_long returned ':' (an argument is missing: the optstring starts
 * with ':') or '?' (an unknown option, or an argument given to an option
 * that takes none). */
static int getopt_error(int opt, char *const *argv, const char *hint)
{
	struct kerr e;
	const char *arg = argv[optind - 1];
	bool is_long = strncmp(arg, "--", 2) == 0;
	if (!is_long) /* -x, or a cluster such as -tx: name the letter */
		kerr_set(&e, 0, "-%c: %s", optopt,
		         opt == ':' ? "missing argument" : "unknown option");
	else if (opt == ':')
		kerr_set(&e, 0, "%s: missing argument", arg);
	else if (optopt && strchr(arg, '='))
		kerr_set(&e, 0, "%.*s: option takes no argument", (int)strcspn(arg, "="), arg);
	else
		kerr_set(&e, 0, "%.*s: unknown option", (int)strcspn(arg, "="), arg);
	kerr_hint(&e, "%s", hint);
	return fail(&e);
}

static void log_to_syslog(int argc, char **argv)
{
	size_t len = 0;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	_cleanup_free_ char *line = xcalloc(len + 1, 1);
	for (int i = 0; i < argc; i++) {
		strcat(line, argv[i]);
		if (i + 1 < argc)
			strcat(line, " ");
	}
	openlog("krill", LOG_PID, LOG_USER);
	syslog(LOG_INFO, "uid=%u: %s", getuid(), line);
	closelog();
}

static int cmd_run(int argc, char **argv)
{
	struct container c;
	container_init(&c);
	struct kerr e = {0};
	struct krill_config cfg;
	config_init(&cfg);
	if (config_load(&cfg, &e) < 0)
		return fail(&e);
	config_apply(&cfg, &c);

	const char *feature = NULL;
	optind = 1;
	opterr = 0;
	int opt;
	for (int pass = 0; pass < 2; pass++) {
		while ((opt = getopt_long(argc, argv, run_shortopts, run_options, NULL)) != -1) {
			if (opt == '?' || opt == ':')
				return getopt_error(opt, argv, "see `krill run --help`");
			int rc = run_option(&c, opt, optarg, &feature);
			if (rc)
				return rc;
		}
		/* The first non-option is IMAGE; options may follow it, and the
		 * next non-option (or `--`) starts the command. */
		if (pass == 0) {
			if (feature)
				break;
			if (optind >= argc || strcmp(argv[optind - 1], "--") == 0) {
				struct kerr me;
				kerr_set(&me, 0, "no image given");
				kerr_hint(&me, "usage: krill run [OPTIONS] IMAGE [--] CMD...");
				return fail(&me);
			}
			c.image = xstrdup(argv[optind++]);
			/* getopt_long restarts its scan at optind: make it see
			 * argv[optind] as the start of a fresh argument list. */
			argc -= optind - 1;
			argv += optind - 1;
			optind = 1;
		}
	}
	if (feature)
		return features_has(feature) ? 0 : 1;
	if (optind < argc) {
		int n = argc - optind;
		c.argv = xcalloc(n + 1, sizeof *c.argv);
		for (int i = 0; i < n; i++)
			c.argv[i] = xstrdup(argv[optind + i]);
	}
	if (cfg.syslog)
		log_to_syslog(argc, argv);
	config_free(&cfg);

	if (env_load_host_files(&c, &e) < 0)
		return fail(&e);
	int status;
	if (c.join_pid) {
		/* IMAGE is still required (ch-run compatible), but the running
		 * container's image is what the command sees. */
		char pid[32];
		snprintf(pid, sizeof pid, "%d", c.join_pid);
		status = attach_run(&c, pid, false, &e);
		if (e.msg[0] && status == EXIT_KRILL)
			kerr_print(&e);
		container_free(&c);
		return status;
	}
	if (imgsrc_is_source(c.image)) {
		/* krill run docker://... : import (or find) it first. */
		char *img = NULL;
		if (import_for_run(c.image, c.storage, klog_verbosity, &img, &status, &e) < 0)
			return e.msg[0] ? fail(&e) : status;
		free(c.image);
		c.image = img;
	}
	if (image_resolve(&c, &e) < 0)
		return fail(&e);
	status = run_container(&c, &e);
	if (e.msg[0])
		kerr_print(&e);
	container_free(&c);
	return status;
}

static const char usage_exec[] =
	"Usage: krill exec [OPTIONS] PID|NAME [--] CMD [ARG...]\n"
	"\n"
	"Run CMD in a running container, with its namespaces, root, environment\n"
	"and working directory.\n"
	"\n"
	"  -c, --cd=DIR               start in DIR\n"
	"      --set-env[=FILE|VAR=VAL], --set-env0[=FILE], --unset-env=GLOB\n"
	"                             change the environment, as in krill run\n"
	"  -v, --verbose / -q, --quiet\n";

static int exec_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"cd", required_argument, NULL, 'c'},
		{"set-env", optional_argument, NULL, OPT_SET_ENV},
		{"set-env0", optional_argument, NULL, OPT_SET_ENV0},
		{"unset-env", required_argument, NULL, OPT_UNSET_ENV},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct container c;
	container_init(&c);
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "+:c:vqh", opts, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return getopt_error(opt, argv, "see `krill exec --help`");
		if (opt == 'h') {
			fputs(usage_exec, stdout);
			return 0;
		}
		int rc = run_option(&c, opt, optarg, NULL);
		if (rc)
			return rc;
	}
	if (optind >= argc) {
		struct kerr e;
		kerr_set(&e, 0, "no container given");
		kerr_hint(&e, "usage: krill exec [OPTIONS] PID|NAME [--] CMD...");
		return fail(&e);
	}
	const char *target = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind < argc) {
		int n = argc - optind;
		c.argv = xcalloc(n + 1, sizeof *c.argv);
		for (int i = 0; i < n; i++)
			c.argv[i] = xstrdup(argv[optind + i]);
	}
	struct kerr e = {0};
	if (env_load_host_files(&c, &e) < 0)
		return fail(&e);
	int status = attach_run(&c, target, true, &e);
	if (e.msg[0] && status >= EXIT_KRILL)
		kerr_print(&e);
	container_free(&c);
	return status;
}

/* krill is never installed setuid or setgid: refuse to run if it is, so
 * that no misconfigured install turns it into a privilege escalation. */
static void refuse_setuid(void)
{
	if (getuid() != geteuid() || getgid() != getegid()) {
		fputs("krill: error: krill is installed setuid or setgid: refusing to run\n"
		      "krill: hint: krill needs no privileges; remove the bit with chmod u-s,g-s\n",
		      stderr);
		exit(EXIT_KRILL);
	}
}

int main(int argc, char **argv)
{
	refuse_setuid();
	const char *prog = strrchr(argv[0], '/');
	prog = prog ? prog + 1 : argv[0];
	if (strcmp(prog, "krill-oci") == 0) {
		klog_prog = "krill-oci";
		return oci_main(argc, argv);
	}
	if (argc < 2) {
		fputs(usage_main, stderr);
		return EXIT_KRILL;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "exec") == 0)
		return exec_main(argc - 1, argv + 1);
	if (strcmp(cmd, "ps") == 0)
		return ps_main(argc - 1, argv + 1);
	if (strcmp(cmd, "import") == 0 || strcmp(cmd, "cache") == 0) {
		struct kerr ie;
		import_exec(argv + 1, &ie);
		return fail(&ie);
	}
	if (strcmp(cmd, "check") == 0)
		return check_main(argc - 1, argv + 1);
	if (strcmp(cmd, "oci") == 0) {
		klog_prog = "krill-oci";
		return oci_main(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0 ||
	    strcmp(cmd, "-V") == 0) {
		features_print_version(stdout);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	struct kerr e;
	kerr_set(&e, 0, "%s: unknown command", cmd);
	kerr_hint(&e, "see `krill --help`");
	return fail(&e);
}
