/* cdi_generate.c: `krill cdi generate --nvidia`: a CDI spec for the NVIDIA
 * driver of this host, for sites without nvidia-container-toolkit (it
 * isn't in Debian).  What it covers (doc/cdi.md):
 *   - device nodes /dev/nvidia[0-9]* (one CDI device each, named by the
 *     number, plus "all"), and nvidiactl, nvidia-uvm, nvidia-uvm-tools,
 *     nvidia-modeset and the nodes in /dev/nvidia-caps for every device;
 *   - the driver's user-space libraries, found through the host's ld.so
 *     cache (`ldconfig -p`), bound read-only, with their soname links made
 *     by a create-symlinks hook;
 *   - nvidia-smi and the other driver tools, the persistenced socket, the
 *     GSP firmware;
 *   - an update-ldcache hook, so the container's ld.so.cache finds them.
 * Everything is looked up under --root (default /), so the tests run it
 * over a fake driver tree.  The spec is built as a jansson tree and written
 * as JSON, or as YAML through libyaml's emitter. */
#include "cdi.h"
#include "log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml.h>

/* Libraries of the driver (libnvidia-container's list, by prefix). */
static const char *const driver_libs[] = {
	"libcuda.so", "libcudadebugger.so", "libnvidia-ml.so", "libnvidia-ptxjitcompiler.so",
	"libnvidia-nvvm.so", "libnvidia-opencl.so", "libnvidia-cfg.so", "libnvidia-allocator.so",
	"libnvidia-gpucomp.so", "libnvidia-pkcs11.so", "libnvidia-pkcs11-openssl3.so",
	"libnvcuvid.so", "libnvidia-encode.so", "libnvidia-opticalflow.so", "libnvidia-fbc.so",
	"libnvidia-ngx.so", "libnvoptix.so", "libnvidia-rtcore.so", "libnvidia-glcore.so",
	"libnvidia-tls.so", "libnvidia-glsi.so", "libnvidia-eglcore.so", "libnvidia-glvkspirv.so",
	"libGLX_nvidia.so", "libEGL_nvidia.so", "libGLESv2_nvidia.so", "libGLESv1_CM_nvidia.so",
	"libnvidia-egl-wayland.so", "libnvidia-egl-gbm.so",
};

static const char *const driver_tools[] = {
	"nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control",
	"nvidia-cuda-mps-server",
};

struct gen {
	const char *root;   /* "" for / */
	json_t *spec_nodes, *mounts, *hooks, *devices, *all_nodes;
	struct strv seen;   /* container paths already mounted */
	struct strv folders, links;
};

static char *host_of(const struct gen *g, const char *path)
{
	return xasprintf("%s%s", g->root, path);
}

static json_t *node_json(const struct gen *g, const char *path, const struct stat *st)
{
	_cleanup_free_ char *host = host_of(g, path);
	return json_pack("{s:s, s:s, s:s, s:I, s:I}", "path", path, "hostPath", host, "type",
	                 S_ISBLK(st->st_mode) ? "b" : "c", "major", (json_int_t)major(st->st_rdev),
	                 "minor", (json_int_t)minor(st->st_rdev));
}

/* A char device under ROOT/dev, or false. */
static bool dev_node(const struct gen *g, const char *path, struct stat *st)
{
	_cleanup_free_ char *host = host_of(g, path);
	return lstat(host, st) == 0 && (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode));
}

static void add_mount(struct gen *g, const char *host, const char *ctr)
{
	for (size_t i = 0; i < g->seen.n; i++)
		if (!strcmp(g->seen.v[i], ctr))
			return;
	strv_push(&g->seen, ctr);
	json_array_append_new(g->mounts, json_pack("{s:s, s:s, s:[s,s,s,s]}", "hostPath", host,
	                                           "containerPath", ctr, "options", "ro", "nosuid",
	                                           "nodev", "bind"));
}

static int cmp_gpu(const void *a, const void *b)
{
	return atoi(*(char *const *)a + 6) - atoi(*(char *const *)b + 6);
}

static int find_nodes(struct gen *g, struct kerr *e)
{
	_cleanup_free_ char *devdir = host_of(g, "/dev");
	DIR *d = opendir(devdir);
	if (!d)
		return kerr_set(e, errno, "%s", devdir);
	struct strv gpus = {0};
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (!strncmp(n, "nvidia", 6) && n[6] && strspn(n + 6, "0123456789") == strlen(n + 6))
			strv_push(&gpus, n);
	}
	closedir(d);
	if (gpus.n)
		qsort(gpus.v, gpus.n, sizeof *gpus.v, cmp_gpu);
	for (size_t i = 0; i < gpus.n; i++) {
		_cleanup_free_ char *path = xasprintf("/dev/%s", gpus.v[i]);
		struct stat st;
		if (!dev_node(g, path, &st))
			continue;
		json_t *node = node_json(g, path, &st);
		json_array_append(g->all_nodes, node);
		json_array_append_new(g->devices,
		                      json_pack("{s:s, s:{s:[o]}}", "name", gpus.v[i] + 6,
		                                "containerEdits", "deviceNodes", node));
	}
	strv_free(&gpus);
	if (json_array_size(g->devices) == 0) {
		kerr_set(e, 0, "no NVIDIA GPU under %s (no %s/nvidia0 ...)", devdir, devdir);
		return kerr_hint(e, "is the driver loaded (nvidia-smi)? with --root, the tree needs "
		                    "dev/nvidia0 ...");
	}
	json_array_append_new(g->devices, json_pack("{s:s, s:{s:O}}", "name", "all",
	                                            "containerEdits", "deviceNodes", g->all_nodes));
	static const char *const control[] = {"/dev/nvidiactl", "/dev/nvidia-uvm",
	                                      "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"};
	for (size_t i = 0; i < ARRAY_SIZE(control); i++) {
		struct stat st;
		if (dev_node(g, control[i], &st))
			json_array_append_new(g->spec_nodes, node_json(g, control[i], &st));
	}
	_cleanup_free_ char *caps = host_of(g, "/dev/nvidia-caps");
	if ((d = opendir(caps))) {
		struct strv names = {0};
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				strv_push(&names, de->d_name);
		closedir(d);
		for (size_t i = 0; i < names.n; i++) {
			_cleanup_free_ char *path = xasprintf("/dev/nvidia-caps/%s", names.v[i]);
			struct stat st;
			if (dev_node(g, path, &st))
				json_array_append_new(g->spec_nodes, node_json(g, path, &st));
		}
		strv_free(&names);
	}
	return 0;
}

static bool is_driver_lib(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(driver_libs); i++)
		if (!strncmp(name, driver_libs[i], strlen(driver_libs[i])))
			return true;
	return false;
}

/* One `ldconfig -p` entry: NAME => PATH (a soname link, usually). */
static void add_lib(struct gen *g, const char *name, const char *path)
{
	size_t rl = strlen(g->root);
	/* A cache built with `ldconfig -r ROOT` lists paths inside ROOT; one
	 * built with -C/-f over ROOT's directories lists host paths. */
	bool host_path = rl && !strncmp(path, g->root, rl) && path[rl] == '/';
	_cleanup_free_ char *host = host_path ? xstrdup(path) : host_of(g, path);
	const char *ctr = host_path ? path + rl : path;
	char real[PATH_MAX];
	if (!realpath(host, real)) {
		klog(KLOG_WARN, "%s: in the ld.so cache but missing: skipped", host);
		return;
	}
	if (rl && (strncmp(real, g->root, rl) || real[rl] != '/')) {
		klog(KLOG_WARN, "%s: leads outside %s: skipped", host, g->root);
		return;
	}
	_cleanup_free_ char *dir = xstrdup(ctr);
	*strrchr(dir, '/') = '\0';
	const char *real_base = strrchr(real, '/') + 1;
	_cleanup_free_ char *ctr_real = xasprintf("%s/%s", dir, real_base);
	add_mount(g, real, ctr_real);
	if (strcmp(real_base, name)) {
		_cleanup_free_ char *link = xasprintf("%s::%s/%s", real_base, dir, name);
		bool dup = false;
		for (size_t i = 0; i < g->links.n; i++)
			dup |= !strcmp(g->links.v[i], link);
		if (!dup)
			strv_push(&g->links, link);
	}
	bool known = false;
	for (size_t i = 0; i < g->folders.n; i++)
		known |= !strcmp(g->folders.v[i], dir);
	if (!known)
		strv_push(&g->folders, dir);
}

static int find_libs(struct gen *g, struct kerr *e)
{
	_cleanup_free_ char *cache = host_of(g, "/etc/ld.so.cache");
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return kerr_set(e, errno, "can't create a pipe");
	pid_t pid = fork();
	if (pid < 0)
		return kerr_set(e, errno, "can't fork ldconfig");
	if (pid == 0) {
		dup2(out[1], 1);
		const char *ldconfig = access("/sbin/ldconfig", X_OK) == 0 ? "/sbin/ldconfig"
		                                                          : "/usr/sbin/ldconfig";
		execl(ldconfig, "ldconfig", "-p", "-C", cache, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	FILE *f = fdopen(out[0], "r");
	char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		/* "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1" */
		char name[256], flags[128], path[PATH_MAX];
		if (sscanf(line, " %255s (%127[^)]) => %4095s", name, flags, path) != 3)
			continue;
		/* 64-bit entries carry the ABI after a comma: (libc6,x86-64). */
		if (!strchr(flags, ',') || !is_driver_lib(name) || path[0] != '/')
			continue;
		add_lib(g, name, path);
	}
	free(line);
	if (f)
		fclose(f);
	else
		close(out[0]);
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return kerr_set(e, 0, "ldconfig -p -C %s failed: can't read the ld.so cache", cache);
	if (g->seen.n == 0)
		klog(KLOG_WARN, "no NVIDIA driver libraries in %s", cache);
	return 0;
}

static void find_files(struct gen *g)
{
	static const char *const bindirs[] = {"/usr/bin", "/bin"};
	for (size_t i = 0; i < ARRAY_SIZE(driver_tools); i++)
		for (size_t k = 0; k < ARRAY_SIZE(bindirs); k++) {
			_cleanup_free_ char *ctr = xasprintf("%s/%s", bindirs[k], driver_tools[i]);
			_cleanup_free_ char *host = host_of(g, ctr);
			struct stat st;
			if (stat(host, &st) == 0 && S_ISREG(st.st_mode)) {
				_cleanup_free_ char *at = xasprintf("/usr/bin/%s", driver_tools[i]);
				add_mount(g, host, at);
				break;
			}
		}
	static const char *const sockets[] = {"/run/nvidia-persistenced/socket"};
	for (size_t i = 0; i < ARRAY_SIZE(sockets); i++) {
		_cleanup_free_ char *host = host_of(g, sockets[i]);
		struct stat st;
		if (stat(host, &st) == 0 && S_ISSOCK(st.st_mode))
			add_mount(g, host, sockets[i]);
	}
	_cleanup_free_ char *fw = host_of(g, "/lib/firmware/nvidia");
	DIR *d = opendir(fw);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *ctr = xasprintf("/lib/firmware/nvidia/%s", de->d_name);
		_cleanup_free_ char *host = host_of(g, ctr);
		struct stat st;
		if (stat(host, &st) == 0 && S_ISDIR(st.st_mode))
			add_mount(g, host, ctr);
	}
	if (d)
		closedir(d);
}

static void add_hooks(struct gen *g)
{
	json_t *args = json_pack("[s,s]", "nvidia-cdi-hook", "create-symlinks");
	for (size_t i = 0; i < g->links.n; i++) {
		json_array_append_new(args, json_string("--link"));
		json_array_append_new(args, json_string(g->links.v[i]));
	}
	if (g->links.n)
		json_array_append_new(g->hooks, json_pack("{s:s, s:s, s:o}", "hookName",
		                                          "createContainer", "path",
		                                          "/usr/bin/nvidia-cdi-hook", "args", args));
	else
		json_decref(args);
	if (!g->folders.n)
		return;
	args = json_pack("[s,s]", "nvidia-cdi-hook", "update-ldcache");
	for (size_t i = 0; i < g->folders.n; i++) {
		json_array_append_new(args, json_string("--folder"));
		json_array_append_new(args, json_string(g->folders.v[i]));
	}
	json_array_append_new(g->hooks, json_pack("{s:s, s:s, s:o}", "hookName", "createContainer",
	                                          "path", "/usr/bin/nvidia-cdi-hook", "args", args));
}

/* ---- writing ------------------------------------------------------------ */

/* A string a YAML reader would take for something else gets quotes. */
static bool needs_quotes(const char *s)
{
	static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "null",
	                                    "~", "y", "n"};
	if (!*s || strspn(s, "0123456789.+-eE") == strlen(s) || strchr(":#{}[],&*!|>'\"%@`", s[0]) ||
	    strstr(s, ": ") || strstr(s, " #") || isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[strlen(s) - 1]))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcasecmp(s, words[i]))
			return true;
	return false;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	return yaml_emitter_emit(em, ev) ? 0 : -1;
}

static int emit_scalar(yaml_emitter_t *em, const char *s, bool quote)
{
	yaml_event_t ev;
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), !quote, quote,
	                             quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE);
	return emit(em, &ev);
}

static int emit_json(yaml_emitter_t *em, json_t *j)
{
	yaml_event_t ev;
	if (json_is_object(j)) {
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		if (emit(em, &ev) < 0)
			return -1;
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v)
			if (emit_scalar(em, k, needs_quotes(k)) < 0 || emit_json(em, v) < 0)
				return -1;
		yaml_mapping_end_event_initialize(&ev);
		return emit(em, &ev);
	}
	if (json_is_array(j)) {
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		if (emit(em, &ev) < 0)
			return -1;
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			if (emit_json(em, v) < 0)
				return -1;
		yaml_sequence_end_event_initialize(&ev);
		return emit(em, &ev);
	}
	if (json_is_integer(j)) {
		char n[32];
		snprintf(n, sizeof n, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return emit_scalar(em, n, false);
	}
	const char *s = json_string_value(j);
	return emit_scalar(em, s, needs_quotes(s));
}

static int write_yaml(FILE *f, json_t *spec)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	if (!yaml_emitter_initialize(&em))
		return -1;
	yaml_emitter_set_output_file(&em, f);
	yaml_emitter_set_unicode(&em, 1);
	int rc = -1;
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (emit(&em, &ev) < 0)
		goto out;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0);
	if (emit(&em, &ev) < 0 || emit_json(&em, spec) < 0)
		goto out;
	yaml_document_end_event_initialize(&ev, 1);
	if (emit(&em, &ev) < 0)
		goto out;
	yaml_stream_end_event_initialize(&ev);
	rc = emit(&em, &ev);
out:
	yaml_emitter_delete(&em);
	return rc;
}

static int write_spec(const struct cdi_generate_opts *o, json_t *spec, struct kerr *e)
{
	_cleanup_free_ char *tmp = o->output ? xasprintf("%s.tmp-%d", o->output, getpid()) : NULL;
	FILE *f = stdout;
	if (tmp) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || !(f = fdopen(fd, "w"))) {
			if (fd >= 0)
				close(fd);
			return kerr_set(e, errno, "--output=%s", o->output);
		}
	}
	int rc = o->yaml ? write_yaml(f, spec)
	                 : json_dumpf(spec, f, JSON_INDENT(2)) == 0 && fputc('\n', f) != EOF ? 0 : -1;
	if (fflush(f) != 0)
		rc = -1;
	if (tmp) {
		if (fclose(f) != 0)
			rc = -1;
		if (rc == 0 && rename(tmp, o->output) < 0)
			rc = -1;
		if (rc < 0) {
			int err = errno;
			unlink(tmp);
			return kerr_set(e, err, "--output=%s: can't write the spec", o->output);
		}
		klog(KLOG_INFO, "wrote %s", o->output);
	} else if (rc < 0) {
		return kerr_set(e, errno, "can't write the spec");
	}
	return 0;
}

int cdi_generate_nvidia(const struct cdi_generate_opts *o, struct kerr *e)
{
	_cleanup_free_ char *root = xstrdup(o->root);
	size_t rl = strlen(root);
	while (rl && root[rl - 1] == '/')
		root[--rl] = '\0';
	struct gen g = {.root = root, .spec_nodes = json_array(), .mounts = json_array(),
	                .hooks = json_array(), .devices = json_array(), .all_nodes = json_array()};
	int rc = -1;
	json_t *spec = NULL;
	if (find_nodes(&g, e) < 0 || find_libs(&g, e) < 0)
		goto out;
	find_files(&g);
	add_hooks(&g);
	json_t *edits = json_pack("{s:[s]}", "env", "NVIDIA_VISIBLE_DEVICES=void");
	if (json_array_size(g.spec_nodes))
		json_object_set(edits, "deviceNodes", g.spec_nodes);
	if (json_array_size(g.mounts))
		json_object_set(edits, "mounts", g.mounts);
	if (json_array_size(g.hooks))
		json_object_set(edits, "hooks", g.hooks);
	spec = json_pack("{s:s, s:s, s:O, s:o}", "cdiVersion", "0.5.0", "kind", "nvidia.com/gpu",
	                 "devices", g.devices, "containerEdits", edits);
	rc = write_spec(o, spec, e);
out:
	json_decref(spec);
	json_decref(g.spec_nodes);
	json_decref(g.mounts);
	json_decref(g.hooks);
	json_decref(g.devices);
	json_decref(g.all_nodes);
	strv_free(&g.seen);
	strv_free(&g.folders);
	strv_free(&g.links);
	return rc;
}
