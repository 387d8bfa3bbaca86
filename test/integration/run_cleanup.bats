#!/usr/bin/env bats
# krill run leaves nothing behind on the host: no mounts, processes or temp
# files, after a normal exit, a failure, or SIGKILL during setup (SPEC §6).
load helper

setup() { setup_scratch; }
teardown() {
	teardown_scratch
	assert_no_leftovers
}

# Mount lines of every process of ours that show krill's staging tmpfs or a
# container's synthesized passwd: only a leftover krill process would have one.
our_krill_mounts() {
	local f
	for f in $(pgrep -u "$(id -u)" | sed 's|.*|/proc/&/mountinfo|'); do
		grep -H ' - tmpfs krill ' "$f" 2>/dev/null || true
	done
}

# Processes of ours whose command line starts with "$1".
our_procs() { pgrep -u "$(id -u)" -f "^$1" || true; }

assert_nothing_left() { # MARKER (the container's command line)
	local i procs=""
	for i in $(seq 30); do
		procs=$(our_procs "$1")$(pgrep -u "$(id -u)" -f "^$KRILL " || true)
		[ -z "$procs" ] && break
		sleep 0.1
	done
	[ -z "$procs" ] || fail "processes left: $(ps -o pid,ppid,args -p "$(echo $procs | tr ' ' ,)")"
	[ -z "$(our_krill_mounts)" ] || fail "krill mounts left: $(our_krill_mounts)"
	! grep -q ' - tmpfs krill \| - overlay overlay ' /proc/self/mountinfo ||
		fail "a krill mount reached the host"
	! ls -d /tmp/krill.* "${TMPDIR:-/tmp}"/krill.* 2>/dev/null | grep -q . ||
		fail "temp files left: $(ls -d /tmp/krill.* 2>/dev/null)"
}

@test "cleanup: a run leaves the host's mount table as it was" {
	local before after
	before=$(wc -l < /proc/self/mountinfo)
	run "$KRILL" run -W -t -b "$SCRATCH:/mnt" "$TINY" -- sh -c 'echo x > /mnt/x; echo y > /y'
	assert_status 0
	after=$(wc -l < /proc/self/mountinfo)
	[ "$before" = "$after" ] || fail "mounts before: $before, after: $after"
	[ "$(cat "$SCRATCH/x")" = x ]
	assert_nothing_left "sh -c echo x"
}

@test "cleanup: a failed setup leaves nothing behind" {
	run "$KRILL" run -W -b "$SCRATCH/none:/mnt" "$TINY" -- true
	assert_status 125
	# Late in setup, after the underlay and several mounts.
	run "$KRILL" run -b "$SCRATCH:/nonexistent" -b "$SCRATCH:/nonexistent/x" "$TINY" -- true
	assert_status 125
	assert_nothing_left "true"
}

@test "cleanup: no temp file is created on the host" {
	# The synthesized passwd and the staging area live in a tmpfs of
	# krill's own mount namespace: the host's /tmp and \$TMPDIR stay as
	# they were.
	mkdir "$SCRATCH/tmpdir"
	local before after
	before=$(ls -A /tmp | sort)
	TMPDIR=$SCRATCH/tmpdir run "$KRILL" run -W "$TINY" -- cat /etc/passwd
	assert_status 0
	after=$(ls -A /tmp | sort)
	[ -z "$(ls -A "$SCRATCH/tmpdir")" ] || fail "in \$TMPDIR: $(ls -A "$SCRATCH/tmpdir")"
	# Other users of the host may create files in /tmp meanwhile: only
	# krill's names matter.
	! comm -13 <(echo "$before") <(echo "$after") | grep -i krill ||
		fail "new files in /tmp"
}

@test "cleanup: SIGKILL of krill during setup leaves nothing behind" {
	local i pid delays=(0 0 0.001 0.001 0.002 0.002 0.003 0.004 0.005 0.006 0.008 0.01 0.012 0.015 0.02 0.03 0.05)
	for i in "${delays[@]}" "${delays[@]}"; do
		"$KRILL" run -W "$TINY" -- sleep 4242 3>&- &
		pid=$!
		sleep "$i"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	assert_nothing_left "sleep 4242"
}

@test "cleanup: SIGKILL of krill during setup with a bind and a private /tmp" {
	local i pid
	for i in 0 0.001 0.002 0.003 0.005 0.008 0.01 0.02; do
		"$KRILL" run -t -b "$SCRATCH:/mnt" "$TINY" -- sleep 4245 3>&- &
		pid=$!
		sleep "$i"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	assert_nothing_left "sleep 4245"
}

@test "cleanup: SIGKILL of the supervisor (--pid) leaves nothing behind" {
	local i pid
	for i in 0 0.002 0.005 0.01 0.02 0.05 0.1 0.3; do
		"$KRILL" run --pid "$TINY" -- sleep 4243 3>&- &
		pid=$!
		sleep "$i"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	assert_nothing_left "sleep 4243"
}

@test "cleanup: SIGTERM to krill reaches the command and ends the run" {
	"$KRILL" run "$TINY" -- sleep 4244 3>&- &
	local pid=$! i
	for i in $(seq 50); do
		[ -n "$(our_procs 'sleep 4244')" ] && break
		sleep 0.1
	done
	kill -TERM "$pid"
	local st=0
	wait "$pid" || st=$?
	[ "$st" = 143 ] || fail "status $st"
	assert_nothing_left "sleep 4244"
}
