#!/usr/bin/env bats
# The examples in examples/run and examples/join, run as they are written
# (KRILL and IMG from the environment), with their real output asserted.
load helper

setup() {
	setup_scratch
	EX=$STAGE/examples
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

# Run an example script as a user would: sh SCRIPT, with KRILL and IMG.
example() { # IMG SCRIPT [VAR=VALUE...]
	local img=$1 script=$2
	shift 2
	run env KRILL="$KRILL" IMG="$img" "$@" sh "$EX/$script"
}

@test "examples/run/hello.sh: os-release and id, SquashFS and directory image" {
	for img in "$TINY_SQFS" "$TINY"; do
		example "$img" run/hello.sh
		assert_status 0
		assert_output "NAME=\"krill tiny\"
PRETTY_NAME=\"krill tiny (busybox)\"
ID=krill-tiny
VERSION_ID=1
uid=$(id -u)($(id -un)) gid=$(id -g)($(id -gn)) groups=$(id -g)($(id -gn))
KRILL_RUNNING=1"
	done
}

@test "examples/run/binds.sh: read-write and read-only binds, missing destinations in the underlay, -W" {
	example "$TINY_SQFS" run/binds.sh TMPDIR="$SCRATCH"
	assert_status 0
	assert_output "in: input data
ro: refused
image: Read-only file system
mounts: /data ro /results rw
host sees: result written inside
with -W: /results rw, /new writable"
	# Nothing was created on the host beyond the script's own (removed) files.
	[ -z "$(ls -A "$SCRATCH")" ] || fail "left in TMPDIR: $(ls -A "$SCRATCH")"
}

@test "examples/run/env.sh: env file with quotes, expansion, comments; --unset-env; a bad line" {
	example "$TINY_SQFS" run/env.sh
	assert_status 0
	assert_output 'APP_GREETING=hello $USER
APP_LIBS=/opt/app/lib:/usr/lib
APP_MODE=test
APP_NAME=demo app
APP_NOTE=x # not a comment
KRILL_RUNNING=1
PATH=/opt/app/bin:/usr/bin:/bin
krill: error: $WORK/bad.env:2: invalid character '"' '"' in variable name
status 125'
}

@test "examples/run/app.env is accepted on its own, line for line" {
	run "$KRILL" run --set-env="$EX/run/app.env" "$TINY" -- sh -c 'echo "$APP_NAME|$APP_GREETING|$APP_NOTE"'
	assert_status 0
	assert_output 'demo app|hello $USER|x # not a comment'
}

@test "examples/join/peers.sh: N peers share one container; ps and exec on a named one" {
	for n in 2 5; do
		example "$TINY_SQFS" join/peers.sh N=$n TMPDIR="$SCRATCH"
		assert_status 0
		local peers=("${lines[@]:0:$n}")
		# N identical lines, and not the host's namespaces.
		[ "$(printf '%s\n' "${peers[@]}" | sort -u | wc -l)" = 1 ] || fail "peers differ: $output"
		[[ "${peers[0]}" =~ ^peer:\ user:\[[0-9]+\]\ mnt:\[[0-9]+\]$ ]] || fail "peer line: ${peers[0]}"
		[[ "${peers[0]}" != *"$(readlink /proc/self/ns/user)"* ]] || fail "the host's user namespace: ${peers[0]}"
		[[ "${peers[0]}" != *"$(readlink /proc/self/ns/mnt)"* ]] || fail "the host's mount namespace: ${peers[0]}"
		[ "${#lines[@]}" = $((n + 5)) ] || fail "expected $((n + 5)) lines: $output"
		[ "${lines[$n]}" = "containers: 1" ] || fail "line $n: ${lines[$n]}"
		[[ "${lines[$((n + 1))]}" =~ ^ps:\ peers-[0-9]+\ 1\ $TINY_SQFS$ ]] || fail "ps line: ${lines[$((n + 1))]}"
		[ "${lines[$((n + 2))]}" = "exec: same mount namespace: yes" ] || fail "$output"
		[ "${lines[$((n + 3))]}" = "exec: cwd /tmp, KRILL_RUNNING=1, marker=from the container" ] || fail "$output"
		[ "${lines[$((n + 4))]}" = "after exit: not listed" ] || fail "$output"
		[ -z "$(ls /dev/shm | grep "krill-$(id -u)-" || true)" ] || fail "/dev/shm: $(ls /dev/shm)"
	done
}

# --set-env FILE is a host path, read before the container exists: it works
# even where the container can't see it (its /tmp is $SCRATCH here).
@test "examples/run/env.sh with TMPDIR elsewhere (--set-env reads host files)" {
	example "$TINY_SQFS" run/env.sh TMPDIR="$SCRATCH"
	assert_status 0
	assert_line "APP_NAME=demo app"
}

@test "examples/README.md names every example directory" {
	for d in "$EX"/*/; do
		d=${d%/}
		grep -q "^## ${d##*/}\b" "$EX/README.md" || fail "examples/README.md lacks ${d##*/}"
	done
}

@test "examples/import/pull-and-run.sh: import, run, and a free re-import" {
	load import_helper
	command -v umoci >/dev/null && [ -x "$KRILL_IMPORT" ] || skip "skipped: umoci or krill-import missing"
	make_tiny_layout "$SCRATCH/layout"
	example "$TINY_SQFS" import/pull-and-run.sh SRC="oci:$SCRATCH/layout:t" STORE="$SCRATCH/store" \
		XDG_CACHE_HOME="$SCRATCH/xdg"
	assert_status 0
	assert_output "cwd: /srv
NAME=\"krill tiny\"
krill: \$STORE/layout+t.sqfs is up to date
images: listed"
}
