/* launch.c: the container's last steps (see launch.h). */
#include "launch.h"
#include "env.h"
#include "image.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int launch_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return EXIT_KRILL;
}

int launch_prepare(struct container *c, char *const *base_env, struct strv *env,
                   struct kerr *e)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return kerr_set(e, errno, "can't open the container's root");
	if (!c->argv && image_default_cmd(root, &c->argv, e) < 0)
		return -1;
	if (!c->argv) {
		c->argv = xcalloc(2, sizeof *c->argv);
		c->argv[0] = xstrdup("/bin/sh");
	}
	if (!c->cwd && image_default_cwd(root, &c->cwd, e) < 0)
		return -1;
	return env_build(c, root, base_env, env, e);
}

int launch_exec(const struct container *c, char *const *argv, char **envp,
                const struct security *sec, struct kerr *e)
{
	const char *cwd = c->cwd ? c->cwd : "/";
	if (chdir(cwd) < 0) {
		kerr_set(e, errno, "--cd=%s: can't enter directory in the container", cwd);
		return EXIT_KRILL;
	}
	/* Set before exec in every mode: nothing the container runs can gain
	 * privileges through setuid binaries or file capabilities. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		kerr_set(e, errno, "can't set no_new_privs");
		return EXIT_KRILL;
	}
	/* The command outlives a killed supervisor (with SquashFS it then sees
	 * ENOTCONN, not a hang); only setup dies with it. */
	prctl(PR_SET_PDEATHSIG, 0);
	klog(KLOG_VERBOSE, "executing %s", argv[0]);
	/* The seccomp filters come last: after them only execve runs (and
	 * write and exit_group if it fails), which seccomp_bpf_check_exec
	 * made sure a profile allows. */
	if (security_apply(c, sec, e) < 0)
		return EXIT_KRILL;
	/* execvp searches the PATH of the current environment, so switch to
	 * the container's environment first. */
	environ = envp;
	execvp(argv[0], argv);
	int err = errno;
	kerr_set(e, err, "can't execute %s", argv[0]);
	return err == ENOENT || err == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}
