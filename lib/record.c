/* record.c: see record.h. */
#include "record.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const fd_keys[NS_COUNT] = {
	[NS_USER_OUTER] = "user_outer", [NS_NET] = "net", [NS_UTS] = "uts", [NS_IPC] = "ipc",
	[NS_PID] = "pid", [NS_USER] = "user", [NS_MNT] = "mnt",
};

char *record_dir(struct kerr *e)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char *dir = xdg && xdg[0] == '/' ? xasprintf("%s/krill", xdg)
	                                 : xasprintf("/tmp/krill-%u", getuid());
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		kerr_set(e, errno, "can't create runtime directory %s", dir);
		free(dir);
		return NULL;
	}
	/* In /tmp, someone else could have made it first: it must be ours. */
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077)) {
		kerr_set(e, 0, "runtime directory %s is not a private directory of yours", dir);
		free(dir);
		return NULL;
	}
	return dir;
}

int record_write(int dirfd, const struct record *r, struct kerr *e)
{
	json_t *fds = json_object();
	for (int i = 0; i < NS_COUNT; i++)
		if (r->fds[i] >= 0)
			json_object_set_new(fds, fd_keys[i], json_integer(r->fds[i]));
	json_t *o = json_pack("{s:s, s:i, s:I, s:i, s:s, s:I, s:i, s:o}", "name", r->name, "pid",
	                      r->pid, "pid_start", (json_int_t)r->pid_start, "main_pid",
	                      r->main_pid, "image", r->image, "started", (json_int_t)r->started,
	                      "peers", r->peers, "fds", fds);
	_cleanup_free_ char *tmp = xasprintf(".%s.tmp", r->name);
	_cleanup_free_ char *path = xasprintf("%s.json", r->name);
	_cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	_cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || renameat(dirfd, tmp, dirfd, path) < 0) {
		int err = errno;
		unlinkat(dirfd, tmp, 0);
		return kerr_set(e, err, "can't write the record of container %s", r->name);
	}
	return 0;
}

void record_remove_at(int dirfd, const char *name)
{
	_cleanup_free_ char *path = xasprintf("%s.json", name);
	unlinkat(dirfd, path, 0);
}

static int record_parse(const char *path, struct record *r, struct kerr *e)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < NS_COUNT; i++)
		r->fds[i] = -1;
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je);
	if (!o)
		return kerr_set(e, 0, "%s: %s", path, je.text);
	const char *name = NULL, *image = NULL;
	json_int_t pid = 0, start = 0, main_pid = 0, started = 0, peers = 0;
	json_t *fds = NULL;
	if (json_unpack_ex(o, &je, 0, "{s:s, s:I, s:I, s:I, s:s, s:I, s:I, s:o}", "name", &name,
	                   "pid", &pid, "pid_start", &start, "main_pid", &main_pid, "image",
	                   &image, "started", &started, "peers", &peers, "fds", &fds) < 0) {
		json_decref(o);
		return kerr_set(e, 0, "%s: %s", path, je.text);
	}
	r->name = xstrdup(name);
	r->image = xstrdup(image);
	r->pid = (pid_t)pid;
	r->pid_start = (unsigned long long)start;
	r->main_pid = (pid_t)main_pid;
	r->started = started;
	r->peers = (unsigned)peers;
	for (int i = 0; i < NS_COUNT; i++) {
		json_t *v = json_object_get(fds, fd_keys[i]);
		if (json_is_integer(v))
			r->fds[i] = (int)json_integer_value(v);
	}
	json_decref(o);
	return 0;
}

static bool record_alive(const struct record *r)
{
	return proc_alive(r->pid, r->pid_start);
}

int record_read(const char *name, struct record *r, struct kerr *e)
{
	_cleanup_free_ char *dir = record_dir(e);
	if (!dir)
		return -1;
	_cleanup_free_ char *path = xasprintf("%s/%s.json", dir, name);
	if (access(path, F_OK) < 0)
		return kerr_set(e, 0, "%s: no such container (see `krill ps`)", name);
	if (record_parse(path, r, e) < 0)
		return -1;
	if (!record_alive(r)) {
		unlink(path);
		record_free(r);
		return kerr_set(e, 0, "%s: the container has ended", name);
	}
	return 0;
}

void record_free(struct record *r)
{
	free(r->name);
	free(r->image);
	r->name = r->image = NULL;
}

int ps_main(int argc, char **argv)
{
	bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "krill: error: %s: unknown argument\nkrill: hint: usage: krill ps "
		                "[--json]\n", argv[argc - 1]);
		return 125;
	}
	struct kerr e;
	_cleanup_free_ char *dir = record_dir(&e);
	if (!dir) {
		kerr_print(&e);
		return 125;
	}
	DIR *d = opendir(dir);
	if (!d) {
		kerr_set(&e, errno, "can't read %s", dir);
		kerr_print(&e);
		return 125;
	}
	json_t *arr = json_array();
	if (!json)
		printf("%-20s %-8s %-6s %-20s %s\n", "NAME", "PID", "PEERS", "STARTED", "IMAGE");
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
		struct record r;
		if (record_parse(path, &r, &e) < 0)
			continue;
		if (!record_alive(&r)) {
			klog(KLOG_VERBOSE, "removing the record of ended container %s", r.name);
			unlink(path);
			record_free(&r);
			continue;
		}
		char when[32];
		time_t t = (time_t)r.started;
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
		if (json)
			json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:s, s:i}", "name", r.name,
			                                     "pid", r.main_pid, "image", r.image,
			                                     "started", when, "peers", r.peers));
		else
			printf("%-20s %-8d %-6u %-20s %s\n", r.name, r.main_pid, r.peers, when, r.image);
		record_free(&r);
	}
	closedir(d);
	if (json) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		puts(s);
		free(s);
	}
	json_decref(arr);
	return 0;
}
