/* oci_exec.c: `krill-oci exec`: a new process in a running container.
 *
 * The process description starts from the container's own (the config.json
 * saved at create: env, cwd, user, capabilities, seccomp), replaced by
 * --process FILE or amended by --cwd, --env, --tty and the command.  The
 * runtime enters the container's cgroup, then its namespaces (nsjoin.c,
 * the container's user namespace first, which owns the others), forks
 * (a PID namespace takes effect for children) and the child becomes the
 * process, as the init does at start.  The forking process then exits, as
 * runc's does: the pid in --pid-file is the process, and its parent is a
 * subreaper (this krill-oci, or with --detach the engine's conmon). */
#include "cgroup.h"
#include "launch.h"
#include "log.h"
#include "nsjoin.h"
#include "oci_console.h"
#include "oci_create.h"
#include "seccomp_filter.h"
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void set_env(struct strv *env, const char *kv)
{
	size_t n = strcspn(kv, "=");
	for (size_t i = 0; i < env->n; i++)
		if (strncmp(env->v[i], kv, n) == 0 && env->v[i][n] == '=') {
			free(env->v[i]);
			env->v[i] = xstrdup(kv);
			return;
		}
	strv_push(env, kv);
}

static _Noreturn void exec_child(const struct oci_spec *s, struct cgroup *cg,
                                 struct ns_set *set, int csock, int pidpipe,
                                 bool setgroups_denied, const struct seccomp_bpf *bpf,
                                 unsigned preserve_fds)
{
	struct kerr e = {0};
	if (cg && cgroup_enter(cg, 0, &e) < 0)
		goto fail;
	if (ns_set_enter(set, &e) < 0)
		goto fail;
	ns_set_close(set);
	pid_t pid = fork();
	if (pid < 0) {
		kerr_set(&e, errno, "can't fork");
		goto fail;
	}
	if (pid > 0) {
		/* The middle process: pass on the pid and go, as runc's does.
		 * The process is then the child of the nearest subreaper: this
		 * krill-oci without --detach, else the engine's (conmon), which
		 * can reap the pid it finds in --pid-file. */
		if (write(pidpipe, &pid, sizeof pid) < 0)
			_exit(EXIT_KRILL);
		_exit(0);
	}
	close(pidpipe);
	if (csock >= 0) {
		if (oci_console_setup(csock, &e) < 0)
			goto fail;
		close(csock);
	}
	if (chdir(s->c.cwd) < 0) {
		kerr_set(&e, errno, "process.cwd: can't enter %s", s->c.cwd);
		goto fail;
	}
	for (size_t i = 0; i < s->nrlimits; i++) {
		struct rlimit rl = {s->rlimits[i].soft, s->rlimits[i].hard};
		if (setrlimit(s->rlimits[i].resource, &rl) < 0) {
			kerr_set(&e, errno, "process.rlimits[%zu] (%s): can't set it", i,
			         oci_rlimit_name(s->rlimits[i].resource));
			goto fail;
		}
	}
	char *exe = oci_resolve_exe(s, &e);
	if (!exe) {
		kerr_print(&e);
		_exit(EXIT_NOT_FOUND);
	}
	int code = oci_become_process(s, exe, setgroups_denied, bpf, preserve_fds, &e);
	kerr_print(&e);
	_exit(code);
fail:
	kerr_print(&e);
	_exit(EXIT_KRILL);
}

int oci_exec(const char *root, const struct oci_exec_opts *o, struct kerr *e)
{
	if (!oci_id_valid(o->id))
		return kerr_set(e, 0, "invalid container ID '%s'", o->id);
	_cleanup_close_ int dirfd = oci_state_open(root, o->id, e);
	if (dirfd < 0)
		return -1;
	struct oci_state st;
	if (oci_state_read(dirfd, &st, e) < 0)
		return -1;
	int rc = -1, csock = -1, pp[2] = {-1, -1};
	struct oci_spec s;
	struct cgroup *cg = NULL;
	struct seccomp_bpf bpf = {0};
	struct ns_set set;
	ns_set_init(&set);
	bool have_spec = false;
	char *sg = NULL;
	const char *status = oci_state_status(&st);
	if (strcmp(status, "running") != 0) {
		kerr_set(e, 0, "container %s is %s, not running: can't exec in it", o->id, status);
		goto out;
	}
	if (oci_load_config(dirfd, "config.json", "config.json", st.bundle, &s, NULL, NULL, e) < 0)
		goto out;
	have_spec = true;
	if (o->process) {
		_cleanup_free_ char *buf = NULL;
		size_t len;
		if (file_read_all(AT_FDCWD, o->process, 16 << 20, &buf, &len, e) < 0 ||
		    oci_process_parse(buf, len, o->process, &s, e) < 0)
			goto out;
	} else {
		for (char **a = s.c.argv; *a; a++)
			free(*a);
		free(s.c.argv);
		size_t n = 0;
		while (o->argv[n])
			n++;
		s.c.argv = xcalloc(n + 1, sizeof *s.c.argv);
		for (size_t i = 0; i < n; i++)
			s.c.argv[i] = xstrdup(o->argv[i]);
		s.terminal = o->tty;
	}
	if (o->tty)
		s.terminal = true;
	if (o->cwd) {
		free(s.c.cwd);
		s.c.cwd = xstrdup(o->cwd);
	}
	for (size_t i = 0; i < o->env.n; i++)
		set_env(&s.env, o->env.v[i]);
	if (s.terminal) {
		if (!o->console_socket) {
			kerr_set(e, 0, "--tty needs --console-socket");
			goto out;
		}
		csock = oci_console_connect(o->console_socket, e);
		if (csock < 0)
			goto out;
	}
	if (s.seccomp_json &&
	    seccomp_prepare_profile(s.seccomp_json, strlen(s.seccomp_json), "config.json",
	                            s.caps.bounding, seccomp_cache_dir(), &bpf, e) < 0)
		goto out;
	if (st.cgroup && cgroup_open_existing(st.cgroup, &cg, NULL) < 0)
		cg = NULL;
	if (ns_set_of_pid(st.pid, &set, e) < 0)
		goto out;
	/* An OCI container's own user namespace owns its other namespaces:
	 * enter it first (nsjoin enters "outer" first). */
	if (set.fd[NS_USER] >= 0) {
		if (set.fd[NS_USER_OUTER] >= 0)
			close(set.fd[NS_USER_OUTER]);
		set.fd[NS_USER_OUTER] = set.fd[NS_USER];
		set.fd[NS_USER] = -1;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/setgroups", (int)st.pid);
	bool denied = file_read_all(AT_FDCWD, path, 64, &sg, NULL, NULL) == 0 &&
	              strncmp(sg, "deny", 4) == 0;
	if (pipe2(pp, O_CLOEXEC) < 0) {
		kerr_set(e, errno, "can't create a pipe");
		goto out;
	}
	sigset_t old;
	if (!o->detach && supervise_prepare(&old) < 0) {
		kerr_set(e, errno, "can't prepare to wait");
		goto out;
	}
	pid_t child = fork();
	if (child < 0) {
		kerr_set(e, errno, "can't fork");
		goto out;
	}
	if (child == 0) {
		close(pp[0]);
		exec_child(&s, cg, &set, csock, pp[1], denied, &bpf, o->preserve_fds);
	}
	close(pp[1]);
	pp[1] = -1;
	pid_t pid = 0;
	if (read(pp[0], &pid, sizeof pid) != sizeof pid)
		pid = 0;
	if (o->pid_file && pid > 0) {
		_cleanup_free_ char *tmp = xasprintf("%s.krill-tmp", o->pid_file);
		FILE *f = fopen(tmp, "we");
		if (!f || fprintf(f, "%d", (int)pid) < 0 || fclose(f) != 0 ||
		    rename(tmp, o->pid_file) < 0) {
			kerr_set(e, errno, "--pid-file=%s: can't write it", o->pid_file);
			goto out;
		}
	}
	if (o->detach) {
		/* Reaped before we go: the process is re-parented by then. */
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		rc = 0;
		goto out;
	}
	/* Our child (the middle) exits at once; the process itself, now our
	 * child too (we are a subreaper), gives the status. */
	rc = supervise_wait(pid > 0 ? pid : child, true, NULL, NULL);
out:
	free(sg);
	if (csock >= 0)
		close(csock);
	for (int i = 0; i < 2; i++)
		if (pp[i] >= 0)
			close(pp[i]);
	ns_set_close(&set);
	if (cg)
		cgroup_free(cg);
	seccomp_bpf_free(&bpf);
	if (have_spec)
		oci_spec_free(&s);
	oci_state_free(&st);
	return rc;
}
