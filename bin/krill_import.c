/* krill-import: the front end of `krill import` and `krill cache` (krill
 * execs it, so that krill run's own binary stays free of libcurl and
 * libarchive, whose loading would slow every container start).  Parses
 * arguments, installs the interrupt handler, prints errors and picks the
 * exit status; the mechanisms are in lib/import.c and lib/cache.c. */
#include "cache.h"
#include "config.h"
#include "import.h"
#include "launch.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const char usage_import[] =
	"Usage: krill import [OPTIONS] SOURCE [DEST]\n"
	"\n"
	"Import an image into a SquashFS file (default STORAGE/NAME+TAG.sqfs).\n"
	"SOURCE is one of:\n"
	"  docker://[REGISTRY[:PORT]/]NAME[:TAG|@sha256:DIGEST]\n"
	"  oci:DIR[:REF]  oci-archive:FILE  docker-archive:FILE\n"
	"  podman://IMAGE  dockerd://IMAGE  tar:FILE  dir:DIR\n"
	"\n"
	"      --dir                  write an unpacked directory instead of .sqfs\n"
	"      --arch=ARCH, --variant=V, --os=OS\n"
	"                             the platform to pick from an index (default: the host's)\n"
	"      --comp=ALGO[:LEVEL]    zstd (default zstd:3), lz4, gzip, xz or lzo\n"
	"      --creds=USER[:PASS]    registry credentials (asks for PASS on a terminal)\n"
	"      --tls-ca=FILE          CA certificates for the registry\n"
	"  -s, --storage=DIR          where a default DEST goes\n"
	"      --cache=DIR            the cache (default $XDG_CACHE_HOME/krill)\n"
	"      --threads=N            mksquashfs threads (default: all CPUs)\n"
	"      --prune                remove what no imported image uses from the cache\n"
	"  -q, --quiet, -v, --verbose\n"
	"  -h, --help\n";

static const char usage_cache[] =
	"Usage: krill cache [--prune] [--verify] [--cache=DIR]\n"
	"\n"
	"Report the import cache; --prune removes blobs no imported image uses,\n"
	"--verify rehashes every blob.\n";

enum {
	OPT_DIR = 256,
	OPT_ARCH,
	OPT_VARIANT,
	OPT_OS,
	OPT_COMP,
	OPT_CREDS,
	OPT_TLS_CA,
	OPT_CACHE,
	OPT_THREADS,
	OPT_PRUNE,
	OPT_VERIFY,
	OPT_PRINT,
	OPT_FOR_RUN,
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: waits return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static int fail(const struct kerr *e)
{
	if (interrupted) {
		fprintf(stderr, "krill: error: interrupted\n");
		return 128 + interrupted;
	}
	kerr_print(e);
	return EXIT_KRILL;
}

static int usage_error(const char *msg, const char *arg)
{
	struct kerr e;
	kerr_set(&e, 0, "%s%s%s", msg, arg ? ": " : "", arg ? arg : "");
	kerr_hint(&e, "see `krill import --help`");
	return fail(&e);
}

/* USER[:PASS]; without PASS, ask on the terminal with echo off. */
static char *creds_complete(const char *arg, struct kerr *e)
{
	if (strchr(arg, ':'))
		return xstrdup(arg);
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty < 0) {
		kerr_set(e, 0, "--creds=%s: no password, and no terminal to ask for one", arg);
		kerr_hint(e, "--creds=USER:PASS");
		return NULL;
	}
	struct termios old, noecho;
	bool restore = tcgetattr(tty, &old) == 0;
	noecho = old;
	noecho.c_lflag &= ~(ECHO | ECHONL);
	if (restore)
		tcsetattr(tty, TCSAFLUSH, &noecho);
	dprintf(tty, "Password for %s: ", arg);
	char pass[1024];
	ssize_t n = read(tty, pass, sizeof pass - 1);
	if (restore)
		tcsetattr(tty, TCSAFLUSH, &old);
	dprintf(tty, "\n");
	close(tty);
	if (n <= 0) {
		kerr_set(e, 0, "--creds=%s: no password given", arg);
		return NULL;
	}
	pass[n] = '\0';
	pass[strcspn(pass, "\r\n")] = '\0';
	char *out = xasprintf("%s:%s", arg, pass);
	explicit_bzero(pass, sizeof pass);
	return out;
}

static int cache_main(int argc, char **argv, const struct krill_config *cfg, const char *cache_opt,
                      bool prune_only)
{
	static const struct option opts[] = {
		{"prune", no_argument, NULL, OPT_PRUNE},
		{"verify", no_argument, NULL, OPT_VERIFY},
		{"cache", required_argument, NULL, OPT_CACHE},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool prune = prune_only, verify = false;
	const char *dir = cache_opt;
	int opt;
	optind = 1;
	opterr = 0;
	while (!prune_only && (opt = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_PRUNE: prune = true; break;
		case OPT_VERIFY: verify = true; break;
		case OPT_CACHE: dir = optarg; break;
		case 'q': klog_verbosity--; break;
		case 'v': klog_verbosity++; break;
		case 'h': fputs(usage_cache, stdout); return 0;
		default: return usage_error("unknown or incomplete option", argv[optind - 1]);
		}
	}
	if (!prune_only && optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	struct kerr e = {0};
	_cleanup_free_ char *path = dir ? xstrdup(dir) : cfg->import_cache ? xstrdup(cfg->import_cache)
	                                                                   : cache_default_path(&e);
	if (!path)
		return fail(&e);
	struct cache c;
	if (cache_open(&c, path, prune, &e) < 0)
		return fail(&e);
	int r = cache_report(&c, prune, verify, &e);
	cache_close(&c);
	return r < 0 ? fail(&e) : 0;
}

static int import_main(int argc, char **argv, struct krill_config *cfg)
{
	static const struct option opts[] = {
		{"dir", no_argument, NULL, OPT_DIR},
		{"arch", required_argument, NULL, OPT_ARCH},
		{"variant", required_argument, NULL, OPT_VARIANT},
		{"os", required_argument, NULL, OPT_OS},
		{"comp", required_argument, NULL, OPT_COMP},
		{"creds", required_argument, NULL, OPT_CREDS},
		{"tls-ca", required_argument, NULL, OPT_TLS_CA},
		{"storage", required_argument, NULL, 's'},
		{"cache", required_argument, NULL, OPT_CACHE},
		{"threads", required_argument, NULL, OPT_THREADS},
		{"prune", no_argument, NULL, OPT_PRUNE},
		{"print-path", no_argument, NULL, OPT_PRINT},
		{"for-run", no_argument, NULL, OPT_FOR_RUN},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct import_opts o = {
		.storage = cfg->storage,
		.cache = cfg->import_cache,
		.comp = cfg->import_compression,
		.insecure = cfg->import_insecure.v,
		.cancel = &interrupted,
		.threads = cfg->squash_threads,
	};
	_cleanup_free_ char *creds = NULL;
	bool print = false, prune = false;
	struct kerr e = {0};
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "s:qvh", opts, NULL)) != -1) {
		unsigned long n;
		switch (opt) {
		case OPT_DIR: o.dir_out = true; break;
		case OPT_ARCH: o.arch = optarg; break;
		case OPT_VARIANT: o.variant = optarg; break;
		case OPT_OS: o.os = optarg; break;
		case OPT_COMP: o.comp = optarg; break;
		case OPT_CREDS:
			free(creds);
			if (!(creds = creds_complete(optarg, &e)))
				return fail(&e);
			/* Keep the secret out of /proc/PID/cmdline. */
			memset(optarg, 'x', strlen(optarg));
			o.creds = creds;
			break;
		case OPT_TLS_CA: o.tls_ca = optarg; break;
		case 's': o.storage = optarg; break;
		case OPT_CACHE: o.cache = optarg; break;
		case OPT_THREADS:
			if (parse_ulong(optarg, 1024, &n) < 0 || n == 0)
				return usage_error("--threads: expected a number from 1 to 1024", optarg);
			o.threads = (int)n;
			break;
		case OPT_PRUNE: prune = true; break;
		case OPT_PRINT: print = true; break;
		case OPT_FOR_RUN: o.for_run = true; break;
		case 'q': klog_verbosity--; break;
		case 'v': klog_verbosity++; break;
		case 'h': fputs(usage_import, stdout); return 0;
		default:
			return usage_error(opt == ':' ? "missing argument" : "unknown option",
			                   argv[optind - 1]);
		}
	}
	if (prune && optind == argc)
		return cache_main(argc, argv, cfg, o.cache, true);
	if (optind >= argc)
		return usage_error("no SOURCE given", NULL);
	o.source = argv[optind++];
	if (optind < argc)
		o.dest = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	catch_signals();
	char *dest = NULL;
	if (import_image(&o, &dest, &e) < 0)
		return fail(&e);
	if (print)
		printf("%s\n", dest);
	free(dest);
	if (prune)
		return cache_main(argc, argv, cfg, o.cache, true);
	return 0;
}

int main(int argc, char **argv)
{
	if (getuid() != geteuid() || getgid() != getegid()) {
		fputs("krill: error: krill-import is installed setuid or setgid: refusing to run\n", stderr);
		return EXIT_KRILL;
	}
	const char *cmd = argc > 1 ? argv[1] : "";
	struct krill_config cfg;
	config_init(&cfg);
	struct kerr e = {0};
	if (config_load(&cfg, &e) < 0)
		return fail(&e);
	int r;
	if (strcmp(cmd, "import") == 0)
		r = import_main(argc - 1, argv + 1, &cfg);
	else if (strcmp(cmd, "cache") == 0)
		r = cache_main(argc - 1, argv + 1, &cfg, NULL, false);
	else {
		fputs(usage_import, stderr);
		r = EXIT_KRILL;
	}
	config_free(&cfg);
	return r;
}
