#!/usr/bin/env bats
# krill run: escapes from the container fail, even as the container's root
# (SPEC §5), and the process starts with no_new_privs and no krill fds.
load helper

# A static probe for the syscalls busybox has no applet for.  It is bound
# into the container at /mnt, and prints one line: WHAT: ok | WHAT: strerror.
setup_file() {
	PROBE_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/krill-probe.XXXXXX")
	chmod 0755 "$PROBE_DIR"
	cat > "$PROBE_DIR/probe.c" <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int report(const char *what, int r)
{
	printf("%s: %s\n", what, r < 0 ? strerror(errno) : "ok");
	return r < 0;
}

static int failed(const char *what, int r)
{
	if (r < 0)
		printf("%s: %s\n", what, strerror(errno));
	return r < 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *what = argv[1];
	if (!strcmp(what, "setgroups")) {
		gid_t g = getgid();
		return report(what, setgroups(1, &g));
	}
	if (!strcmp(what, "setgroups-empty"))
		return report(what, setgroups(0, NULL));
	if (!strcmp(what, "remount-rw"))
		return report(what, mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL));
	if (!strcmp(what, "umount-passwd"))
		return report(what, umount2("/etc/passwd", MNT_DETACH));
	if (!strcmp(what, "chroot-escape") && argc == 3) {
		/* The classic: chroot into a subdirectory without entering it,
		 * climb out with .., and chroot to where we ended up. */
		struct stat before, after;
		if (failed("stat /", stat("/", &before)))
			return 1;
		mkdir(argv[2], 0755);
		if (failed("chroot", chroot(argv[2])))
			return 1;
		for (int i = 0; i < 64; i++)
			if (chdir("..") < 0)
				break;
		if (failed("chroot .", chroot(".")) || failed("stat /", stat("/", &after)))
			return 1;
		printf("root after escape: %s\n",
		       before.st_dev == after.st_dev && before.st_ino == after.st_ino
		           ? "the container's" : "ANOTHER");
		return 0;
	}
	return 2;
}
EOF
	cc -static -O1 -o "$PROBE_DIR/probe" "$PROBE_DIR/probe.c" ||
		cc -O1 -o "$PROBE_DIR/probe" "$PROBE_DIR/probe.c"
	chmod -R a+rX "$PROBE_DIR"
	export PROBE_DIR
}
teardown_file() {
	[ -n "${PROBE_DIR:-}" ] && rm -rf "$PROBE_DIR"
}

setup() {
	setup_scratch
	[ -x "$PROBE_DIR/probe" ] || skip "no C compiler for the probe"
	file "$PROBE_DIR/probe" 2>/dev/null | grep -q 'statically linked' ||
		ldd "$PROBE_DIR/probe" 2>&1 | grep -q 'not a dynamic' || skip "no static libc for the probe"
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

probe() { # [KRILL OPTIONS...] -- PROBE ARGS...
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	run "$KRILL" run -b "$PROBE_DIR:/mnt:ro" "${opts[@]}" "$TINY" -- /mnt/probe "$@"
}

@test "escape: a chroot escape lands in the container's root, not the host's" {
	probe --uid=0 -W -- chroot-escape /esc
	assert_status 0
	assert_output "root after escape: the container's"
	# Without the container's root, chroot isn't even allowed.
	is_root && return 0
	probe -- chroot-escape "$SCRATCH/esc"
	assert_status 1
	assert_output "chroot: Operation not permitted"
}

@test "escape: mknod of a character device fails" {
	run "$KRILL" run "$TINY" -- mknod "$SCRATCH/null" c 1 3
	assert_status 1
	assert_output "mknod: $SCRATCH/null: Operation not permitted"
	run "$KRILL" run --uid=0 -W "$TINY" -- mknod /null c 1 3
	assert_status 1
	assert_output "mknod: /null: Operation not permitted"
	[ ! -e "$SCRATCH/null" ]
}

@test "escape: remounting the root read-write fails" {
	probe --uid=0 -- remount-rw
	assert_status 1
	assert_output "remount-rw: Operation not permitted"
	run "$KRILL" run --uid=0 "$TINY" -- sh -c 'mount -o remount,rw /; touch /x'
	assert_status 1
	assert_line "touch: /x: Read-only file system"
}

@test "escape: unmounting a bind to uncover what lies beneath fails" {
	probe --uid=0 -- umount-passwd
	assert_status 1
	assert_output "umount-passwd: Invalid argument"
}

@test "escape: binding a port below 1024 on the host network fails" {
	local start
	start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)
	[ "$start" -gt 1023 ] || skip "net.ipv4.ip_unprivileged_port_start=$start lets anyone bind 1023"
	is_root && skip "root may bind low ports"
	run timeout 10 "$KRILL" run "$TINY" -- nc -l -p 1023
	assert_status 1
	assert_output "nc: bind: Permission denied"
	run timeout 10 "$KRILL" run --uid=0 "$TINY" -- nc -l -p 1023
	assert_status 1
	assert_output "nc: bind: Permission denied"
}

@test "escape: reading /proc/kcore (or /proc/kmsg) fails" {
	local f tried=0
	for f in /proc/kcore /proc/kmsg; do
		[ -e "$f" ] || continue
		tried=1
		run "$KRILL" run --uid=0 "$TINY" -- cat "$f"
		assert_status 1
		assert_output "cat: can't open '$f': Permission denied"
	done
	[ "$tried" = 1 ] || skip "the host has neither /proc/kcore nor /proc/kmsg"
}

@test "escape: with --uid 0, a root-owned host file bound in can't be written" {
	is_root && skip "root owns the file"
	[ "$(stat -c %u:%a /etc/passwd)" = 0:644 ] || skip "/etc/passwd isn't root's 0644"
	# ': >>' opens for writing without changing anything.
	run "$KRILL" run --uid=0 -b /etc/passwd:/etc/hostname "$TINY" -- sh -c ': >> /etc/hostname'
	assert_status 1
	assert_output "sh: can't create /etc/hostname: Permission denied"
	run "$KRILL" run --uid=0 -b /etc/passwd:/etc/hostname "$TINY" -- chmod 666 /etc/hostname
	assert_status 1
	assert_output "chmod: /etc/hostname: Operation not permitted"
	[ "$(stat -c %u:%a /etc/passwd)" = 0:644 ]
}

@test "escape: with --uid 0, setgroups fails" {
	probe --uid=0 -- setgroups
	assert_status 1
	assert_output "setgroups: Operation not permitted"
	probe --uid=0 -- setgroups-empty
	assert_status 1
	assert_output "setgroups-empty: Operation not permitted"
}

@test "escape: with --uid 0, another user's host process can't be signalled" {
	local owner
	owner=$(stat -c %u /proc/1)
	[ "$owner" != "$(id -u)" ] || skip "PID 1 is ours"
	run "$KRILL" run --uid=0 "$TINY" -- kill -0 1
	assert_status 1
	assert_output "kill: can't kill pid 1: Operation not permitted"
}

@test "security: no_new_privs is set" {
	run "$KRILL" run "$TINY" -- grep NoNewPrivs /proc/self/status
	assert_status 0
	assert_output "NoNewPrivs:	1"
	run "$KRILL" run --uid=0 "$TINY" -- grep NoNewPrivs /proc/self/status
	assert_output "NoNewPrivs:	1"
}

@test "security: no krill fd is open in the container" {
	# ls has its own directory fd (3) open while it lists.
	run_closed_fds "$KRILL" run "$TINY" -- ls /proc/self/fd
	assert_status 0
	assert_output "0
1
2
3"
	run_closed_fds "$KRILL" run -W -b "$SCRATCH:/mnt" "$TINY" -- ls /proc/self/fd
	assert_status 0
	assert_output "0
1
2
3"
}

@test "security: an fd the caller passes stays open" {
	run_closed_fds bash -c 'exec 7</dev/null; exec "$@"' bash "$KRILL" run "$TINY" -- ls /proc/self/fd
	assert_status 0
	assert_output "0
1
2
3
7"
}
