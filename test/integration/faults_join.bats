#!/usr/bin/env bats
# Fault injection for --join (issue 13): random SIGKILLs of winners and
# peers, at least 50 per case, each followed by a count of every kind of
# object krill could leave (/dev/shm names, processes, mounts, temp files).
# The count is taken after each fault, before the next run starts: the
# next winner would reclaim stale names and hide a leak.
load faults_helper

setup() {
	setup_scratch
	TAG=f$$.$BATS_TEST_NUMBER
	# The container commands: each looks up a new name in its image every
	# 20 ms (never cached) and ends once its FUSE server is gone, so a
	# process left behind is a hang.
	LOOP='n=0; while :; do n=$((n+1)); o=$(stat /probe$n 2>&1); case $o in *"No such file"*) ;; *) echo "ended: $o"; exit 0;; esac; sleep 0.02; done'
	MARK=probe\$n
}
teardown() {
	pkill -KILL -u "$(id -u)" -f 'probe\$n' 2>/dev/null || true
	pkill -KILL -u "$(id -u)" -f '^sleep 4251' 2>/dev/null || true
	teardown_scratch
}

@test "faults: the winner killed alone, 50 times: its name never stays" {
	local i pid
	for i in $(seq 50); do
		"$KRILL" run --join-ct=3 --join-tag="$TAG.$i" "$TINY_SQFS" -- sh -c "$LOOP" \
			</dev/null >/dev/null 2>&1 3>&- &
		pid=$!
		rdelay 40
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		after_fault "$MARK"
	done
	assert_no_leaks "winner killed alone"
}

@test "faults: the winner killed mid-setup with peers waiting, 50 times" {
	local i w p1 p2 t0 rc
	for i in $(seq 50); do
		"$KRILL" run --join-ct=3 --join-tag="$TAG.$i" "$TINY_SQFS" -- sh -c "$LOOP" \
			</dev/null >/dev/null 2>&1 3>&- &
		w=$!
		rdelay 10
		"$KRILL" run --join-ct=3 --join-tag="$TAG.$i" "$TINY_SQFS" -- true \
			</dev/null >"$SCRATCH/p1" 2>&1 3>&- &
		p1=$!
		"$KRILL" run --join-ct=3 --join-tag="$TAG.$i" "$TINY_SQFS" -- true \
			</dev/null >"$SCRATCH/p2" 2>&1 3>&- &
		p2=$!
		rdelay 30
		kill -KILL "$w" 2>/dev/null || true
		t0=$(date +%s%N)
		wait "$w" 2>/dev/null || true
		for p in $p1 $p2; do
			rc=0
			wait "$p" || rc=$?
			# Done before the kill, failed with one error line, or its
			# command lost its image (SIGBUS from a page of busybox).
			# (SIGBUS from a page of busybox, or 126: can't execute it).
			[ "$rc" = 0 ] || [ "$rc" = 125 ] || [ "$rc" = 126 ] || [ "$rc" = 135 ] || fail "peer exit $rc: $(cat "$SCRATCH"/p1 "$SCRATCH"/p2)"
		done
		for f in "$SCRATCH/p1" "$SCRATCH/p2"; do
			[ "$(grep -c . "$f")" -le 1 ] || fail "more than one line: $(cat "$f")"
			! grep -v '^krill: error: ' "$f" | grep -q . || fail "peer said: $(cat "$f")"
		done
		[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ] || fail "peers took over 3 s"
		after_fault "$MARK"
	done
	assert_no_leaks "winner killed with peers waiting"
}

@test "faults: a peer killed while waiting, 50 times: the rest finish" {
	local i w v s
	for i in $(seq 50); do
		"$KRILL" run --join-ct=3 --join-tag="$TAG.$i" "$TINY_SQFS" -- sleep 0.2 \
			</dev/null >/dev/null 2>"$SCRATCH/w" 3>&- &
		w=$!
		for _ in $(seq 200); do [ -e "/dev/shm/krill-$(id -u)-$TAG.$i" ] && break; sleep 0.005; done
		"$KRILL" run -v --join-ct=3 --join-tag="$TAG.$i" "$TINY_SQFS" -- sleep 0.2 \
			</dev/null >/dev/null 2>"$SCRATCH/v" 3>&- &
		v=$!
		"$KRILL" run --join-ct=3 --join-tag="$TAG.$i" "$TINY_SQFS" -- echo survivor \
			</dev/null >"$SCRATCH/out" 2>&1 3>&- &
		s=$!
		# Killed once it has arrived (else the group waits for a third
		# peer until its timeout): while it waits, enters or runs.
		for _ in $(seq 200); do grep -q 'join: \(peer\|winner\)' "$SCRATCH/v" && break; sleep 0.005; done
		rdelay 30
		kill -KILL "$v" 2>/dev/null || true
		wait "$v" 2>/dev/null || true
		wait "$w" || fail "winner failed: $(cat "$SCRATCH/w")"
		wait "$s" || fail "survivor failed: $(cat "$SCRATCH/out")"
		[ "$(cat "$SCRATCH/out")" = survivor ] || fail "survivor said: $(cat "$SCRATCH/out")"
		after_fault
	done
	assert_no_leaks "peer killed while waiting"
}

@test "faults: a killed peer its parent never reaps (a zombie) doesn't hold the winner" {
	"$KRILL" run --join-ct=2 --join-tag="$TAG" "$TINY_SQFS" -- sleep 0.5 3>&- &
	local w=$!
	# the winner first, so that the killed one is a peer
	for _ in $(seq 200); do [ -e "/dev/shm/krill-$(id -u)-$TAG" ] && break; sleep 0.005; done
	# The peer's parent execs sleep, which never reaps: once killed, the
	# peer stays a zombie for 30 s.
	sh -c "\"$KRILL\" run --join-ct=2 --join-tag=\"$TAG\" \"$TINY_SQFS\" -- sleep 4251 & echo \$! >\"$SCRATCH/peer\"; exec sleep 30" 3>&- &
	local parent=$!
	for _ in $(seq 100); do pgrep -u "$(id -u)" -f '^sleep 4251' >/dev/null && break; sleep 0.05; done
	kill -KILL "$(cat "$SCRATCH/peer")"
	local t0; t0=$(date +%s%N)
	wait "$w"
	local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	grep -q '^State:.*Z' "/proc/$(cat "$SCRATCH/peer")/status" || fail "the peer is not a zombie"
	kill "$parent"
	pkill -u "$(id -u)" -f '^sleep 4251' || true
	[ "$ms" -lt 3000 ] || fail "the winner waited $ms ms for a zombie peer"
}

@test "faults: the FUSE server killed while containers run, 50 times: EIO, not a hang" {
	local i pid rc
	for i in $(seq 50); do
		"$KRILL" run "$TINY_SQFS" -- sh -c "echo started; $LOOP" \
			</dev/null >"$SCRATCH/out" 2>&1 3>&- &
		pid=$!
		for _ in $(seq 100); do grep -q started "$SCRATCH/out" && break; sleep 0.01; done
		rdelay 100
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null || true
		# The command ends by itself: its next exec from the image fails.
		for _ in $(seq 40); do grep -q ended "$SCRATCH/out" && break; sleep 0.05; done
		grep -q ended "$SCRATCH/out" || fail "the container hangs: $(cat "$SCRATCH/out")"
		after_fault "$MARK"
	done
	assert_no_leaks "FUSE server killed"
}

@test "faults: a peer group name planted by the same user, in four forms, gets one error line" {
	local shm=/dev/shm/krill-$(id -u)-$TAG
	# empty files are groups whose maker died before sizing them: reclaimed
	: >"$shm"; chmod 0600 "$shm"
	run "$KRILL" run --join-ct=2 --join-tag="$TAG" "$TINY" -- true
	[ "$status" = 0 ] || [ "$status" = 125 ]
	rm -f "$shm"
	# 32 bytes of 0xff; a header of 0xff; a size of another group
	for form in 32 8192; do
		head -c "$form" /dev/zero | tr '\0' '\377' >"$shm"; chmod 0600 "$shm"
		run timeout 10 "$KRILL" run --join-ct=2 --join-tag="$TAG" "$TINY" -- true
		assert_status 125
		[ "${#lines[@]}" = 1 ] || fail "not one line: $output"
		assert_output "krill: error: --join: /dev/shm/krill-$(id -u)-$TAG is not a krill peer group"
		rm -f "$shm"
	done
	# old semaphores (krill no longer uses them) change nothing
	head -c 32 /dev/zero >"/dev/shm/sem.krill-$(id -u)-$TAG"
	run timeout 10 "$KRILL" run --join-ct=1 --join-tag="$TAG" "$TINY" -- echo ok
	rm -f "/dev/shm/sem.krill-$(id -u)-$TAG"
	assert_status 0
	assert_output ok
}

@test "faults: krill check lists stale names of the caller's with the command to remove them" {
	local shm=/dev/shm/krill-$(id -u)-$TAG.stale
	: >"$shm"; chmod 0600 "$shm"
	run "$KRILL" check
	rm -f "$shm"
	assert_contains "stale"
	assert_contains "rm -f $shm"
	run "$KRILL" check
	[[ "$output" != *"$shm"* ]] || fail "still listed: $output"
}
