/* record.c: see record.h. */
#include "record.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Largest record read: two filters of BPF_MAXINSNS in hex, and the rest. */
#define RECORD_MAX (2 * BPF_MAXINSNS * 16 + 65536)

static const char *const fd_keys[NS_COUNT] = {
	[NS_USER_OUTER] = "user_outer", [NS_NET] = "net", [NS_UTS] = "uts", [NS_IPC] = "ipc",
	[NS_PID] = "pid", [NS_USER] = "user", [NS_MNT] = "mnt",
};

const char *record_name_invalid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > RECORD_NAME_MAX)
		return "expected 1-64 characters";
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      (name[0] >= '0' && name[0] <= '9')))
		return "a name starts with a letter or a digit";
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
		return "a name holds only letters, digits, '_', '.' and '-'";
	if (strspn(name, "0123456789") == n)
		return "a name of digits only would be taken for a pid";
	return NULL;
}

static char *dir_path(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	return xdg && xdg[0] == '/' ? xasprintf("%s/krill", xdg)
	                            : xasprintf("/tmp/krill-%u", (unsigned)getuid());
}

int record_dir_open(struct kerr *e)
{
	_cleanup_free_ char *dir = dir_path();
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return kerr_set(e, errno, "can't create runtime directory %s", dir);
	/* Someone else may have made it (or a symlink) first: judge what we
	 * opened, not the path. */
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		kerr_set(e, 0, "runtime directory %s is not a directory (a symlink?)", dir);
		return kerr_hint(e, "someone may have made it to catch krill's records: remove it, "
		                    "or set XDG_RUNTIME_DIR to a private directory");
	}
	struct stat st;
	if (fd < 0 && errno == EACCES && lstat(dir, &st) == 0 && st.st_uid != getuid()) {
		/* Only to name the owner: what we can't open, we don't use. */
		kerr_set(e, 0, "runtime directory %s belongs to uid %u, not to you (uid %u)", dir,
		         (unsigned)st.st_uid, (unsigned)getuid());
		return kerr_hint(e, "another user made it first: have it removed (by its owner or "
		                    "root), or set XDG_RUNTIME_DIR to a private directory of yours");
	}
	if (fd < 0)
		return kerr_set(e, errno, "can't open runtime directory %s", dir);
	if (fstat(fd, &st) < 0) {
		kerr_set(e, errno, "can't stat runtime directory %s", dir);
		close(fd);
		return -1;
	}
	if (st.st_uid != getuid()) {
		kerr_set(e, 0, "runtime directory %s belongs to uid %u, not to you (uid %u)", dir,
		         (unsigned)st.st_uid, (unsigned)getuid());
		kerr_hint(e, "another user made it first: have it removed (by its owner or root), "
		             "or set XDG_RUNTIME_DIR to a private directory of yours");
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		kerr_set(e, 0, "runtime directory %s is open to other users (mode %04o)", dir,
		         (unsigned)(st.st_mode & 07777));
		kerr_hint(e, "chmod 700 %s, after checking that no one planted records in it", dir);
		close(fd);
		return -1;
	}
	return fd;
}

static void hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static json_t *confinement_json(const struct record *r)
{
	const struct capsets *c = &r->sec.caps;
	json_t *filters = json_array();
	for (int i = 0; i < r->sec.nfilters; i++) {
		const struct seccomp_bpf *b = &r->sec.filters[i];
		size_t n = (size_t)b->len * sizeof(struct sock_filter);
		_cleanup_free_ char *hex = xmalloc(2 * n + 1);
		hex_encode(b->insns, n, hex);
		json_array_append_new(filters, json_pack("{s:I, s:s}", "flags", (json_int_t)b->flags,
		                                         "bpf", hex));
	}
	return json_pack("{s:b, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:o, s:o}", "privileged",
	                 r->sec.privileged, "uid", (json_int_t)r->uid, "gid", (json_int_t)r->gid,
	                 "caps", "bounding", (json_int_t)c->bounding, "effective",
	                 (json_int_t)c->effective, "permitted", (json_int_t)c->permitted,
	                 "inheritable", (json_int_t)c->inheritable, "ambient",
	                 (json_int_t)c->ambient, "cgroup",
	                 r->cgroup ? json_string(r->cgroup) : json_null(), "seccomp", filters);
}

int record_write(int dirfd, const struct record *r, struct kerr *e)
{
	json_t *fds = json_object();
	for (int i = 0; i < NS_COUNT; i++)
		if (r->fds[i] >= 0)
			json_object_set_new(fds, fd_keys[i], json_integer(r->fds[i]));
	json_t *o = json_pack("{s:s, s:i, s:I, s:i, s:s, s:I, s:i, s:o, s:o}", "name", r->name,
	                      "pid", r->pid, "pid_start", (json_int_t)r->pid_start, "main_pid",
	                      r->main_pid, "image", r->image, "started", (json_int_t)r->started,
	                      "peers", r->peers, "fds", fds, "confinement", confinement_json(r));
	_cleanup_free_ char *tmp = xasprintf(".%s.tmp", r->name);
	_cleanup_free_ char *path = xasprintf("%s.json", r->name);
	_cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	_cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	                                O_CLOEXEC, 0600);
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

static int parse_filter(json_t *f, struct seccomp_bpf *b)
{
	const char *hex = NULL;
	json_int_t flags = 0;
	if (json_unpack(f, "{s:I, s:s}", "flags", &flags, "bpf", &hex) < 0 || flags < 0 ||
	    flags > 0xffff)
		return -1;
	size_t n = strlen(hex), insn = 2 * sizeof(struct sock_filter);
	if (n == 0 || n % insn || n / insn > BPF_MAXINSNS)
		return -1;
	unsigned char *p = xmalloc(n / 2);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(p);
			return -1;
		}
		p[i] = (unsigned char)(hi << 4 | lo);
	}
	b->insns = p;
	b->len = (unsigned short)(n / insn);
	b->flags = (unsigned)flags;
	return 0;
}

static int parse_confinement(json_t *o, struct record *r)
{
	int privileged = 0;
	json_int_t uid, gid, caps[5];
	json_t *cgroup = NULL, *filters = NULL;
	if (json_unpack(o, "{s:b, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:o, s:o}", "privileged",
	                &privileged, "uid", &uid, "gid", &gid, "caps", "bounding", &caps[0],
	                "effective", &caps[1], "permitted", &caps[2], "inheritable", &caps[3],
	                "ambient", &caps[4], "cgroup", &cgroup, "seccomp", &filters) < 0)
		return -1;
	if (uid < 0 || uid > 0xfffffffe || gid < 0 || gid > 0xfffffffe)
		return -1;
	for (int i = 0; i < 5; i++)
		if (caps[i] < 0 || ((uint64_t)caps[i] & ~caps_all))
			return -1;
	r->uid = (uid_t)uid;
	r->gid = (gid_t)gid;
	r->sec.privileged = privileged;
	r->sec.caps = (struct capsets){(uint64_t)caps[0], (uint64_t)caps[1], (uint64_t)caps[2],
	                               (uint64_t)caps[3], (uint64_t)caps[4]};
	if (json_is_string(cgroup))
		r->cgroup = xstrdup(json_string_value(cgroup));
	else if (!json_is_null(cgroup))
		return -1;
	if (!json_is_array(filters) || json_array_size(filters) > ARRAY_SIZE(r->sec.filters))
		return -1;
	for (size_t i = 0; i < json_array_size(filters); i++) {
		if (parse_filter(json_array_get(filters, i), &r->sec.filters[i]) < 0)
			return -1;
		r->sec.nfilters++;
	}
	return 0;
}

/* Parse the record file `file` in dirfd: a regular file of ours, read
 * without following a symlink. */
static int record_parse(int dirfd, const char *file, struct record *r, struct kerr *e)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < NS_COUNT; i++)
		r->fds[i] = -1;
	_cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == EACCES)
		return kerr_set(e, 0, "record %s: not a regular file of yours", file);
	if (fd < 0)
		return kerr_set(e, errno, "can't open the record %s", file);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid())
		return kerr_set(e, 0, "record %s: not a regular file of yours", file);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (fd_read_all(fd, file, RECORD_MAX, &buf, &len, e) < 0)
		return -1;
	json_error_t je;
	json_t *o = json_loadb(buf, len, 0, &je);
	if (!o)
		return kerr_set(e, 0, "record %s: %s", file, je.text);
	const char *name = NULL, *image = NULL;
	json_int_t pid = 0, start = 0, main_pid = 0, started = 0, peers = 0;
	json_t *fds = NULL, *conf = NULL;
	if (json_unpack_ex(o, &je, 0, "{s:s, s:I, s:I, s:I, s:s, s:I, s:I, s:o, s:o}", "name", &name,
	                   "pid", &pid, "pid_start", &start, "main_pid", &main_pid, "image",
	                   &image, "started", &started, "peers", &peers, "fds", &fds, "confinement",
	                   &conf) < 0) {
		json_decref(o);
		return kerr_set(e, 0, "record %s: %s", file, je.text);
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
	int rc = parse_confinement(conf, r);
	json_decref(o);
	if (rc < 0) {
		record_free(r);
		return kerr_set(e, 0, "record %s: invalid confinement", file);
	}
	return 0;
}

static bool record_alive(const struct record *r)
{
	return proc_alive(r->pid, r->pid_start);
}

int record_read(const char *name, struct record *r, struct kerr *e)
{
	const char *why = record_name_invalid(name);
	if (why)
		return kerr_set(e, 0, "%s: invalid container name: %s", name, why);
	_cleanup_close_ int dirfd = record_dir_open(e);
	if (dirfd < 0)
		return -1;
	_cleanup_free_ char *file = xasprintf("%s.json", name);
	if (faccessat(dirfd, file, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return kerr_set(e, 0, "%s: no such container (see `krill ps`)", name);
	if (record_parse(dirfd, file, r, e) < 0)
		return -1;
	if (!record_alive(r)) {
		unlinkat(dirfd, file, 0);
		record_free(r);
		return kerr_set(e, 0, "%s: the container has ended", name);
	}
	return 0;
}

/* Calls fn for each live record (removing stale ones) until it returns
 * nonzero; fn takes ownership of the record when it returns 1. */
static int record_each(int dirfd, int (*fn)(struct record *, void *), void *arg)
{
	int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		struct record r;
		if (record_parse(dirfd, de->d_name, &r, NULL) < 0)
			continue;
		if (!record_alive(&r)) {
			klog(KLOG_VERBOSE, "removing the record of ended container %s", r.name);
			unlinkat(dirfd, de->d_name, 0);
			record_free(&r);
			continue;
		}
		rc = fn(&r, arg);
		if (rc != 1)
			record_free(&r);
	}
	closedir(d);
	return rc;
}

struct find_mnt {
	dev_t dev;
	ino_t ino;
	struct record *out;
};

static int match_mnt(struct record *r, void *arg)
{
	struct find_mnt *f = arg;
	if (r->fds[NS_MNT] < 0)
		return 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", r->pid, r->fds[NS_MNT]);
	struct stat st;
	if (stat(path, &st) < 0 || st.st_dev != f->dev || st.st_ino != f->ino)
		return 0;
	*f->out = *r;
	return 1;
}

int record_find_mnt(dev_t dev, ino_t ino, struct record *r, struct kerr *e)
{
	_cleanup_close_ int dirfd = record_dir_open(e);
	if (dirfd < 0)
		return -1;
	struct find_mnt f = {dev, ino, r};
	int rc = record_each(dirfd, match_mnt, &f);
	if (rc < 0)
		return kerr_set(e, errno, "can't read the runtime directory");
	return rc == 1 ? 0 : 1;
}

void record_free(struct record *r)
{
	free(r->name);
	free(r->image);
	free(r->cgroup);
	security_free(&r->sec);
	r->name = r->image = r->cgroup = NULL;
}

struct ps {
	bool json;
	json_t *arr;
};

static int ps_one(struct record *r, void *arg)
{
	struct ps *ps = arg;
	char when[32];
	time_t t = (time_t)r->started;
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
	if (ps->json)
		json_array_append_new(ps->arr, json_pack("{s:s, s:i, s:s, s:s, s:i}", "name", r->name,
		                                         "pid", r->main_pid, "image", r->image,
		                                         "started", when, "peers", r->peers));
	else
		printf("%-20s %-8d %-6u %-20s %s\n", r->name, r->main_pid, r->peers, when, r->image);
	return 0;
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
	_cleanup_close_ int dirfd = record_dir_open(&e);
	if (dirfd < 0) {
		kerr_print(&e);
		return 125;
	}
	struct ps ps = {json, json_array()};
	if (!json)
		printf("%-20s %-8s %-6s %-20s %s\n", "NAME", "PID", "PEERS", "STARTED", "IMAGE");
	if (record_each(dirfd, ps_one, &ps) < 0) {
		json_decref(ps.arr);
		kerr_set(&e, errno, "can't read the runtime directory");
		kerr_print(&e);
		return 125;
	}
	if (json) {
		char *s = json_dumps(ps.arr, JSON_INDENT(2));
		puts(s);
		free(s);
	}
	json_decref(ps.arr);
	return 0;
}
