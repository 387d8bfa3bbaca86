/* import_meta.c: see import_meta.h. */
#include "import_meta.h"
#include "log.h"
#include "rmtree.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *import_meta_environment(const struct strv *env, size_t *skipped)
{
	size_t cap = 1;
	for (size_t i = 0; i < env->n; i++)
		cap += strlen(env->v[i]) + 4;
	char *out = xcalloc(cap, 1);
	size_t n = 0;
	*skipped = 0;
	for (size_t i = 0; i < env->n; i++) {
		const char *s = env->v[i], *eq = strchr(s, '=');
		/* The name must be one krill's env parser accepts, and a value
		 * can't hold the line separator. */
		bool ok = eq && eq > s && !strchr(s, '\n') && !strchr(s, '\r');
		ok = ok && (*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'));
		for (const char *p = s; ok && p < eq; p++)
			ok = (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f && !strchr("'\"$`\\", *p);
		if (!ok) {
			(*skipped)++;
			continue;
		}
		/* VAR='VALUE': a quoted value is taken literally (env.md). */
		n += sprintf(out + n, "%.*s'%s'\n", (int)(eq - s + 1), s, eq + 1);
	}
	return out;
}

static int write_file(int dfd, const char *name, const char *buf, size_t len, struct kerr *e)
{
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT && rmtree_at(dfd, name, e) < 0)
		return -1;
	_cleanup_close_ int fd =
	    openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return kerr_set(e, errno, "can't create /.krill/%s", name);
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kerr_set(e, errno, "can't write /.krill/%s", name);
		buf += n;
		len -= n;
	}
	return 0;
}

static bool args_fit(const struct strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		if (!v->v[i][0] || strchr(v->v[i], '\n'))
			return false;
	return true;
}

int import_meta_write(int root_fd, const struct image_config *cfg, const char *raw,
                      size_t raw_len, struct kerr *e)
{
	struct stat st;
	if (fstatat(root_fd, ".krill", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
	    unlinkat(root_fd, ".krill", 0) < 0)
		return kerr_set(e, errno, "can't replace the image's /.krill");
	if (mkdirat(root_fd, ".krill", 0755) < 0 && errno != EEXIST)
		return kerr_set(e, errno, "can't create /.krill");
	_cleanup_close_ int dfd = openat(root_fd, ".krill", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return kerr_set(e, errno, "can't open /.krill");
	if (fchmod(dfd, 0755) < 0)
		return kerr_set(e, errno, "can't chmod /.krill");
	if (raw && write_file(dfd, "config.json", raw, raw_len, e) < 0)
		return -1;
	if (!cfg)
		return 0;

	size_t skipped;
	_cleanup_free_ char *env = import_meta_environment(&cfg->env, &skipped);
	if (skipped)
		klog(KLOG_WARN, "left %zu variables of the image's Env out of /.krill/environment "
		     "(a name krill can't set, or a newline in the value)", skipped);
	if (cfg->env.n && write_file(dfd, "environment", env, strlen(env), e) < 0)
		return -1;

	/* The default command is Entrypoint followed by Cmd, as docker runs
	 * it with no arguments.  An explicit CMD to krill run replaces both
	 * (krill-import(1)). */
	struct strv cmd = {0};
	for (size_t i = 0; i < cfg->entrypoint.n; i++)
		strv_push(&cmd, cfg->entrypoint.v[i]);
	for (size_t i = 0; i < cfg->cmd.n; i++)
		strv_push(&cmd, cfg->cmd.v[i]);
	int r = 0;
	if (cmd.n && !args_fit(&cmd)) {
		klog(KLOG_WARN, "the image's Entrypoint/Cmd has an empty argument or one with a "
		     "newline, which /.krill/cmd can't hold: it is left out");
	} else if (cmd.n) {
		size_t len = 0;
		for (size_t i = 0; i < cmd.n; i++)
			len += strlen(cmd.v[i]) + 1;
		_cleanup_free_ char *text = xcalloc(len + 1, 1);
		for (size_t i = 0; i < cmd.n; i++) {
			strcat(text, cmd.v[i]);
			strcat(text, "\n");
		}
		r = write_file(dfd, "cmd", text, len, e);
	}
	strv_free(&cmd);
	if (r < 0)
		return -1;
	if (cfg->workdir) {
		if (strchr(cfg->workdir, '\n')) {
			klog(KLOG_WARN, "the image's WorkingDir has a newline: it is left out");
		} else {
			_cleanup_free_ char *text = xasprintf("%s\n", cfg->workdir);
			if (write_file(dfd, "cwd", text, strlen(text), e) < 0)
				return -1;
		}
	}
	return 0;
}
