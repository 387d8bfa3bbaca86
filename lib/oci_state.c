/* oci_state.c: see oci_state.h. */
#include "oci_state.h"
#include "cgroup.h"
#include "log.h"
#include "userns.h"
#include "nsjoin.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int mkdir_private(const char *dir, struct kerr *e)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return kerr_set(e, errno, "can't create state directory %s", dir);
	return 0;
}

char *oci_state_root(const char *opt_root, struct kerr *e)
{
	if (opt_root) {
		if (opt_root[0] != '/')
			return kerr_set(e, 0, "--root=%s: not an absolute path", opt_root), NULL;
		if (mkdir_private(opt_root, e) < 0)
			return NULL;
		return xstrdup(opt_root);
	}
	_cleanup_free_ char *base = NULL;
	/* Root of a child user namespace (rootless podman) can't write /run:
	 * it takes $XDG_RUNTIME_DIR, as other users do. */
	if (userns_real_root()) {
		base = xstrdup("/run/krill");
	} else {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		_cleanup_free_ char *run_user = xasprintf("/run/user/%u", getuid());
		struct stat st;
		if (xdg && xdg[0] == '/')
			base = xasprintf("%s/krill", xdg);
		else if (stat(run_user, &st) == 0 && st.st_uid == getuid())
			base = xasprintf("%s/krill", run_user);
		else {
			kerr_set(e, 0, "no state directory: $XDG_RUNTIME_DIR is not set");
			kerr_hint(e, "set XDG_RUNTIME_DIR, or give --root DIR");
			return NULL;
		}
	}
	if (mkdir_private(base, e) < 0)
		return NULL;
	char *root = xasprintf("%s/oci", base);
	if (mkdir_private(root, e) < 0) {
		free(root);
		return NULL;
	}
	struct stat st;
	if (lstat(root, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		kerr_set(e, 0, "state directory %s is not a directory of yours", root);
		free(root);
		return NULL;
	}
	return root;
}

/* A create that was killed: whatever it made goes.  fd is the directory,
 * locked by us, so its creator is gone (it holds the lock until create is
 * over).  Kills the init (by the cgroup, or by pid + start time), removes
 * the cgroup in every hierarchy and the directory. */
static void collect(const char *root, const char *name, int fd)
{
	struct oci_state st;
	if (oci_state_read(fd, &st, NULL) == 0) {
		struct cgroup *cg = NULL;
		if (st.cgroup && cgroup_open_existing(st.cgroup, &cg, NULL) == 0) {
			cgroup_kill_all(cg, SIGKILL, NULL);
			cgroup_destroy(cg, NULL);
			cgroup_free(cg);
		}
		if (proc_alive(st.pid, st.pid_start))
			kill(st.pid, SIGKILL);
		oci_state_free(&st);
	}
	oci_state_remove(root, name, NULL);
	klog(KLOG_DEBUG, "collected %s/%s, left by a create that was killed", root, name);
}

/* If ROOT/NAME is what a killed create left, collect it.  Returns true
 * when it did (the name is then gone). */
static bool collect_if_abandoned(const char *root, const char *name, bool tmp)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s", root, name);
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != geteuid())
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return false; /* its create is still running (or another command) */
	if (!tmp) {
		struct oci_state s;
		if (oci_state_read(fd, &s, NULL) < 0)
			return false; /* damaged: delete --force removes it */
		bool creating = strcmp(s.status, "creating") == 0;
		oci_state_free(&s);
		if (!creating)
			return false;
	}
	collect(root, name, fd);
	return true;
}

#define TMP_PREFIX ".creating-"

void oci_state_sweep(const char *root)
{
	DIR *d = opendir(root);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
			collect_if_abandoned(root, de->d_name, true);
	closedir(d);
}

int oci_state_create(const char *root, const char *id, char **tmp_name, struct kerr *e)
{
	*tmp_name = NULL;
	_cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return kerr_set(e, errno, "can't open state directory %s", root);
	oci_state_sweep(root);
	struct stat st;
	if (fstatat(rfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0 && !collect_if_abandoned(root, id, false))
		return kerr_set(e, 0, "container %s already exists", id);
	/* Made under a name no command looks at, locked, filled, and renamed
	 * to ID only then (oci_state_publish): a create killed at any point
	 * leaves either nothing under ID, or a directory whose lock is free
	 * and whose status is "creating", which every command collects. */
	char *tmp = xasprintf(TMP_PREFIX "%s-%d", id, (int)getpid());
	if (mkdirat(rfd, tmp, 0700) < 0) {
		int err = errno;
		free(tmp);
		return kerr_set(e, err, "can't create %s/%s", root, id);
	}
	int fd = openat(rfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		unlinkat(rfd, tmp, AT_REMOVEDIR);
		free(tmp);
		return kerr_set(e, err, "can't open %s/%s", root, id);
	}
	*tmp_name = tmp;
	return fd;
}

int oci_state_publish(const char *root, const char *tmp_name, const char *id, struct kerr *e)
{
	_cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return kerr_set(e, errno, "can't open state directory %s", root);
	if (renameat2(rfd, tmp_name, rfd, id, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST)
			return kerr_set(e, 0, "container %s already exists", id);
		return kerr_set(e, errno, "can't create %s/%s", root, id);
	}
	return 0;
}

int oci_state_open(const char *root, const char *id, struct kerr *e)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s", root, id);
	if (id[0] != '.')
		collect_if_abandoned(root, id, false);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return kerr_set(e, 0, "container %s does not exist", id);
		return kerr_set(e, errno, "can't open %s", dir);
	}
	return fd;
}

int oci_state_remove(const char *root, const char *id, struct kerr *e)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s", root, id);
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return kerr_set(e, errno, "can't open %s", dir);
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return kerr_set(e, errno, "can't remove %s", dir);
	return 0;
}

int oci_state_write(int dirfd, const struct oci_state *s, struct kerr *e)
{
	json_t *ann = json_loads(s->annotations ? s->annotations : "{}", 0, NULL);
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:{s:I, s:b, s:s*, s:s, s:i}}",
	                      "ociVersion", "1.0.2", "id", s->id, "status", s->status, "pid",
	                      (int)s->pid, "bundle", s->bundle, "annotations",
	                      ann ? ann : json_object(), "krill", "pidStart",
	                      (json_int_t)s->pid_start, "paused", s->paused, "cgroup", s->cgroup,
	                      "created", s->created ? s->created : "", "owner", (int)s->owner);
	if (!o)
		return kerr_set(e, 0, "can't build state.json");
	_cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	/* Temp file + rename: a reader sees the old state or the new one. */
	int fd = openat(dirfd, "state.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return kerr_set(e, errno, "can't write state.json");
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len) {
		int err = errno;
		close(fd);
		return kerr_set(e, err, "can't write state.json");
	}
	close(fd);
	if (renameat(dirfd, "state.json.tmp", dirfd, "state.json") < 0)
		return kerr_set(e, errno, "can't replace state.json");
	return 0;
}

int oci_state_read(int dirfd, struct oci_state *s, struct kerr *e)
{
	memset(s, 0, sizeof *s);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (file_read_all(dirfd, "state.json", 1 << 20, &buf, &len, e) < 0)
		return -1;
	json_error_t je;
	json_t *o = json_loadb(buf, len, 0, &je);
	const char *id = NULL, *status = NULL, *bundle = NULL, *cg = NULL, *created = NULL;
	int pid = 0, paused = 0, owner = 0;
	json_int_t start = 0;
	json_t *ann = NULL;
	if (!o || json_unpack_ex(o, &je, 0, "{s:s, s:s, s:i, s:s, s?o, s:{s:I, s:b, s?s, s:s, s:i}}",
	                         "id", &id, "status", &status, "pid", &pid, "bundle", &bundle,
	                         "annotations", &ann, "krill", "pidStart", &start, "paused",
	                         &paused, "cgroup", &cg, "created", &created, "owner",
	                         &owner) < 0) {
		if (o)
			json_decref(o);
		return kerr_set(e, 0, "state.json is damaged: %s", je.text);
	}
	s->id = xstrdup(id);
	s->status = xstrdup(status);
	s->bundle = xstrdup(bundle);
	s->annotations = ann ? json_dumps(ann, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("{}");
	s->pid = pid;
	s->pid_start = (unsigned long long)start;
	s->paused = paused;
	s->cgroup = cg ? xstrdup(cg) : NULL;
	s->created = xstrdup(created);
	s->owner = (uid_t)owner;
	json_decref(o);
	return 0;
}

void oci_state_free(struct oci_state *s)
{
	free(s->id);
	free(s->bundle);
	free(s->annotations);
	free(s->status);
	free(s->cgroup);
	free(s->created);
	memset(s, 0, sizeof *s);
}

const char *oci_state_status(const struct oci_state *s)
{
	if (strcmp(s->status, "creating") == 0)
		return s->pid == 0 || proc_alive(s->pid, s->pid_start) ? "creating" : "stopped";
	if (!proc_alive(s->pid, s->pid_start))
		return "stopped";
	if (s->paused)
		return "paused";
	return strcmp(s->status, "created") == 0 ? "created" : "running";
}

char *oci_state_json(const char *id, const char *status, pid_t pid, const char *bundle,
                     const char *annotations, bool pretty)
{
	json_t *ann = json_loads(annotations ? annotations : "{}", 0, NULL);
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:o}", "ociVersion", "1.0.2", "id", id,
	                      "status", status, "pid", strcmp(status, "stopped") ? (int)pid : 0,
	                      "bundle", bundle, "annotations", ann ? ann : json_object());
	char *text = json_dumps(o, pretty ? JSON_INDENT(2) | JSON_PRESERVE_ORDER
	                                  : JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}
