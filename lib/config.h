/* config.h: krill.conf, the site and per-user defaults (see krill.conf(5)).
 *
 * config.c owns reading the files, the pure INI parser behind them (inih),
 * checking every key's value, and copying the result into a fresh struct
 * container.  Nothing else reads krill.conf.
 *
 * Order of use in bin/:
 *     config_init(&cfg);  config_load(&cfg, &e);
 *     container_init(&c); config_apply(&cfg, &c);   then the command line
 * so that the command line overrides the config simply by being applied last. */
#ifndef KRILL_CONFIG_H
#define KRILL_CONFIG_H

#include "container.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CONFIG_SITE_PATH "/etc/krill/krill.conf"

struct krill_config {
	/* [run] */
	char *storage;	    /* %u and %U already expanded; NULL = not set (see config_load) */
	struct bind *binds; /* `binds`, in file order; replaced as a whole by a later file */
	size_t nbinds;
	bool private_tmp;
	char *write_fake_size; /* tmpfs size=: "N%" or "N[kmg]"; built-in "12%" */
	struct strv env_keep;  /* globs; replaced as a whole by a later file */
	/* [join] */
	unsigned join_timeout; /* seconds; built-in 30 */
	/* [squash] */
	int squash_threads; /* 0 = built-in: online CPUs capped at 16 */
	/* [cgroup] */
	char *cgroup_parent; /* relative to the cgroup root, normalized; built-in "krill" */
	/* [oci] */
	char *oci_root; /* absolute; NULL = built-in (/run/krill, or $XDG_RUNTIME_DIR/krill) */
	/* [log] */
	bool syslog; /* built-in true */
	/* [import] (krill-import(1)) */
	char *import_cache;          /* absolute; NULL = $XDG_CACHE_HOME/krill */
	char *import_compression;    /* checked by krill import; NULL = zstd */
	struct strv import_insecure; /* registries reached over plain HTTP */

	/* Inputs of the %u / %U expansion in `storage`.  config_init sets uid
	 * to the EUID and user to NULL; config_load looks the name up.  With
	 * user NULL, %u expands to the uid. */
	uid_t uid;
	char *user;

	/* Which config_parse call set each list last: repeated lines of one
	 * file add up, a later file replaces. */
	unsigned gen, binds_gen, env_keep_gen;
};

/* Built-in defaults. */
void config_init(struct krill_config *cfg);
void config_free(struct krill_config *cfg);

/* Parse one file's text and merge it onto cfg: every key it sets replaces
 * what cfg held.  No I/O, no globals.  filename is only used in messages:
 * `FILE:LINE: unknown key 'foo' in [run]`.  On error cfg holds a partial
 * merge and must still be freed. */
int config_parse(const char *buf, size_t len, const char *filename, struct krill_config *cfg,
		 struct kerr *e);

/* Read the config files onto cfg (after config_init):
 *   KRILL_CONFIG set and empty  -> no file at all;
 *   KRILL_CONFIG=FILE           -> only FILE, which must exist;
 *   otherwise                   -> /etc/krill/krill.conf, then
 *                                  ${XDG_CONFIG_HOME:-$HOME/.config}/krill/krill.conf,
 *                                  either may be missing.
 * Then KRILL_STORAGE (when non-empty) overrides `storage`, and a storage
 * still unset gets the built-in /var/tmp/USER.krill. */
int config_load(struct krill_config *cfg, struct kerr *e);

/* config_load with another site file; for the tests. */
int config_load_from(const char *site_path, struct krill_config *cfg, struct kerr *e);

/* Copy the config's defaults into a container fresh from container_init(),
 * before the command line is applied: storage, private_tmp,
 * write_fake_size, env_keep, join_timeout, squash_threads, cgroup_parent,
 * and the config's binds, put before any bind c already has (site binds are
 * mounted before user binds).  Fields c already holds are freed first. */
void config_apply(const struct krill_config *cfg, struct container *c);

#endif
