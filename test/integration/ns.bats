#!/usr/bin/env bats
# The namespaces beyond user and mount (issue 5), unprivileged: --pid,
# --net=none, --hostname, --ipc, and their combination with --join.
load helper
bats_require_minimum_version 1.5.0

setup() { setup_scratch; }
teardown() {
	[ -n "${LISTENER:-}" ] && kill "$LISTENER" 2>/dev/null
	[ -n "${SHMID:-}" ] && ipcrm -m "$SHMID" 2>/dev/null
	teardown_scratch
	assert_no_leftovers
}

@test "pid: krill's init is PID 1, the command runs under it" {
	run "$KRILL" run --pid "$TINY" -- sh -c 'echo $$; cat /proc/1/comm; [ -e /proc/'$$' ] || echo no-host-pids'
	assert_status 0
	# PID 1 must be the init (to reap and to receive signals): the command is 2.
	assert_output "2
krill-init
no-host-pids"
	[ "$(readlink /proc/self/ns/pid)" != "$(run_out "$KRILL" run --pid "$TINY" -- readlink /proc/self/ns/pid)" ]
}

run_out() { "$@" 2>&1; }

@test "pid: a double-forked zombie is reaped" {
	# The subshell exits at once, so its background sleep is orphaned and
	# re-parented to PID 1; after it exits, only the init can reap it.
	run "$KRILL" run --pid "$TINY" -- sh -c '(sleep 0.2 &) ; sleep 1; cat /proc/[0-9]*/stat'
	assert_status 0
	! grep -q ') Z ' <<<"$output" || fail "zombie: $output"
	grep -q '^1 (krill-init) ' <<<"$output" || fail "$output"
}

@test "pid: SIGTERM to krill reaches the command; exit statuses" {
	"$KRILL" run --pid "$TINY" -- sh -c 'trap "exit 9" TERM; sleep 5 & wait' &
	k=$!
	sleep 0.5
	kill -TERM "$k"
	st=0
	wait "$k" || st=$?
	[ "$st" = 9 ] || fail "the trap did not run: status $st"
	run "$KRILL" run --pid "$TINY" -- sh -c 'exit 5'
	assert_status 5
	"$KRILL" run --pid "$TINY" -- sleep 5 &
	k=$!
	sleep 0.5
	kill -TERM "$k"
	st=0
	wait "$k" || st=$?
	[ "$st" = 143 ] || fail "status $st"
	pkill -u "$(id -u)" -x sleep || true
}

@test "net=none: only lo, and it is up; a host listener can't be reached" {
	busybox nc -l -p 39871 >/dev/null 2>&1 &
	LISTENER=$!
	sleep 0.2
	run "$KRILL" run --net=none "$TINY" -- sh -c 'ls /sys/class/net; ip link show lo | head -1'
	assert_status 0
	[ "${lines[0]}" = lo ] && [ "${#lines[@]}" = 2 ] || fail "$output"
	[[ "${lines[1]}" == *"<LOOPBACK,UP,LOWER_UP>"* ]] || fail "$output"
	run "$KRILL" run --net=none "$TINY" -- sh -c 'echo x | nc -w 1 127.0.0.1 39871'
	[ "$status" -ne 0 ] || fail "connected to the host from --net=none"
	run "$KRILL" run "$TINY" -- sh -c 'echo x | nc -w 1 127.0.0.1 39871'
	assert_status 0
}

@test "hostname and ipc: a name of its own; IPC objects stay inside" {
	run "$KRILL" run --hostname=box1 "$TINY" -- hostname
	assert_output box1
	[ "$(hostname)" != box1 ]
	SHMID=$(ipcmk -M 4096 | grep -o '[0-9]*$')
	run "$KRILL" run "$TINY" -- cat /proc/sysvipc/shm
	assert_contains " $SHMID "
	run "$KRILL" run --ipc "$TINY" -- sh -c 'cat /proc/sysvipc/shm | wc -l'
	assert_output 1
}

@test "all together, and with --join: peers share every namespace" {
	for i in 1 2 3; do
		"$KRILL" run --join-ct=3 --join-tag="ns$$" --pid --net=none --hostname=grp --ipc "$TINY" -- \
			sh -c 'hostname; for n in pid_for_children net uts ipc user mnt; do stat -L -c %i /proc/self/ns/$n; done' \
			>"$SCRATCH/out.$i" &
	done
	wait
	[ "$(head -1 "$SCRATCH/out.1")" = grp ]
	cmp "$SCRATCH/out.1" "$SCRATCH/out.2" && cmp "$SCRATCH/out.1" "$SCRATCH/out.3" ||
		fail "peers differ: $(paste "$SCRATCH"/out.*)"
	[ "$(sed -n 3p "$SCRATCH/out.1")" != "$(stat -L -c %i /proc/self/ns/net)" ]
}

@test "pid: with a SquashFS image too (the FUSE server's threads live outside the PID namespace)" {
	run "$KRILL" run --pid "$TINY_SQFS" -- sh -c 'echo $$; cat /proc/1/comm; cat /etc/os-release | head -1'
	assert_status 0
	assert_output '2
krill-init
NAME="krill tiny"'
}

@test "pid: krill exec of a named --pid container gets the command's cwd and environment" {
	"$KRILL" run --pid --name="pn$$" --set-env=FOO=bar "$TINY" -- sh -c 'cd /etc; sleep 2' &
	k=$!
	for _ in $(seq 30); do "$KRILL" ps | grep -q "pn$$" && break; sleep 0.1; done
	sleep 0.3
	run "$KRILL" exec "pn$$" -- sh -c 'pwd; echo FOO=$FOO'
	wait "$k"
	assert_status 0
	assert_output "/etc
FOO=bar"
}
