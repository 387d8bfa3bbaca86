/* cdi_cmd.c: `krill cdi list` and `krill cdi generate` (krill-cdi(1)). */
#include "cdi.h"
#include "config.h"
#include "launch.h"
#include "log.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
	"Usage: krill cdi list [--cdi-dirs=DIR[:DIR...]]\n"
	"       krill cdi generate --nvidia [--root=PREFIX] [--output=FILE] [--format=json|yaml]\n"
	"\n"
	"  list       print the devices the CDI specs define, with their files\n"
	"  generate   write a CDI spec for the NVIDIA driver found on this host\n"
	"             (for sites without nvidia-container-toolkit)\n";

static int fail(const struct kerr *e)
{
	kerr_print(e);
	return EXIT_KRILL;
}

static int usage_error(const char *what)
{
	struct kerr e;
	kerr_set(&e, 0, "%s", what);
	kerr_hint(&e, "see `krill cdi --help`");
	return fail(&e);
}

static int cdi_list(const char *dirs, bool explicit)
{
	struct cdi_registry r;
	struct kerr e = {0};
	if (cdi_registry_load(dirs, explicit, &r, &e) < 0)
		return fail(&e);
	for (size_t i = 0; i < r.n; i++)
		for (size_t k = 0; k < r.specs[i].ndevices; k++)
			printf("%s=%s\t%s\n", r.specs[i].kind, r.specs[i].devices[k].name,
			       r.specs[i].file);
	if (r.n == 0)
		klog(KLOG_INFO, "no CDI specs in %s", dirs);
	cdi_registry_free(&r);
	return 0;
}

int cdi_main(int argc, char **argv)
{
	enum { O_DIRS = 256, O_NVIDIA, O_ROOT, O_OUTPUT, O_FORMAT };
	static const struct option opts[] = {
		{"cdi-dirs", required_argument, NULL, O_DIRS},
		{"nvidia", no_argument, NULL, O_NVIDIA},
		{"root", required_argument, NULL, O_ROOT},
		{"output", required_argument, NULL, O_OUTPUT},
		{"format", required_argument, NULL, O_FORMAT},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_KRILL : 0;
	}
	const char *verb = argv[1];
	bool list = !strcmp(verb, "list"), generate = !strcmp(verb, "generate");
	if (!list && !generate) {
		char msg[256];
		snprintf(msg, sizeof msg, "cdi %s: unknown command (list, generate)", verb);
		return usage_error(msg);
	}
	struct krill_config cfg;
	config_init(&cfg);
	struct kerr e = {0};
	if (config_load(&cfg, &e) < 0) {
		config_free(&cfg);
		return fail(&e);
	}
	_cleanup_free_ char *dirs = xstrdup(cfg.cdi_dirs ? cfg.cdi_dirs : CDI_DEFAULT_DIRS);
	bool explicit = cfg.cdi_dirs != NULL, nvidia = false;
	config_free(&cfg);
	struct cdi_generate_opts g = {.root = "/", .yaml = true};
	const char *format = NULL;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc - 1, argv + 1, "+:vh", opts, NULL)) != -1) {
		const char *why;
		switch (opt) {
		case O_DIRS:
			if (cdi_dirs_check(optarg, &why) < 0) {
				kerr_set(&e, 0, "--cdi-dirs=%s: %s", optarg, why);
				return fail(&e);
			}
			free(dirs);
			dirs = xstrdup(optarg);
			explicit = true;
			break;
		case O_NVIDIA:
			nvidia = true;
			break;
		case O_ROOT:
			if (optarg[0] != '/') {
				kerr_set(&e, 0, "--root=%s: expected an absolute path", optarg);
				return fail(&e);
			}
			g.root = optarg;
			break;
		case O_OUTPUT:
			g.output = optarg;
			break;
		case O_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "yaml")) {
				kerr_set(&e, 0, "--format=%s: expected json or yaml", optarg);
				return fail(&e);
			}
			format = optarg;
			break;
		case 'v':
			klog_verbosity++;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default: {
			char msg[256];
			snprintf(msg, sizeof msg, "cdi %s: %s: %s", verb, argv[optind],
			         opt == ':' ? "missing argument" : "unknown option");
			return usage_error(msg);
		}
		}
	}
	if (optind + 1 < argc) {
		char msg[256];
		snprintf(msg, sizeof msg, "cdi %s: unexpected argument '%s'", verb, argv[optind + 1]);
		return usage_error(msg);
	}
	if (list)
		return cdi_list(dirs, explicit);
	if (!nvidia)
		return usage_error("cdi generate: say which driver: --nvidia");
	if (format)
		g.yaml = !strcmp(format, "yaml");
	else if (g.output && strlen(g.output) > 5 && !strcmp(g.output + strlen(g.output) - 5, ".json"))
		g.yaml = false;
	if (cdi_generate_nvidia(&g, &e) < 0)
		return fail(&e);
	return 0;
}
