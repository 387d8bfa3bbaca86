#!/usr/bin/env bats
# --join (issue 4): peers share one container; sizes and tags from the
# launcher's environment; faults leave nothing behind; exec, ps, --join-pid.
load helper
bats_require_minimum_version 1.5.0

setup() {
	setup_scratch
	assert_no_shm
	TAG=t$$.$BATS_TEST_NUMBER
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

assert_no_shm() {
	local l
	l=$(ls /dev/shm | grep "krill-$(id -u)-" || true)
	[ -z "$l" ] || fail "/dev/shm holds: $l"
}

# N peers of one group, each printing its user and mount namespace inodes.
peers() { # N IMAGE [OPTIONS...]
	local n=$1 img=$2 i
	shift 2
	for i in $(seq "$n"); do
		"$KRILL" run -v --join-ct="$n" --join-tag="$TAG" "$@" "$img" -- \
			sh -c 'echo "ns $(stat -L -c %i /proc/self/ns/user) $(stat -L -c %i /proc/self/ns/mnt)"' \
			>"$SCRATCH/out.$i" 2>"$SCRATCH/err.$i" &
	done
	wait
}

# A winner stalled in the middle of its setup: strace delays each of its
# pivot_root calls (into the staging tmpfs, into the image) by 1.5 s, so
# the container is ready only about 3 s after "join: winner" is logged.
# (A FIFO at /.krill/cmd did this once; krill now refuses one, issue 9.)
slow_image() {
	command -v strace >/dev/null || skip "no strace to slow the winner down"
	cp -a "$TINY" "$SCRATCH/img"
	SLOW="strace -f -qq -o /dev/null --seccomp-bpf -e trace=pivot_root -e inject=pivot_root:delay_enter=1500ms"
}

check_peers() { # N
	local n=$1
	[ "$(cat "$SCRATCH"/out.* | sort -u | wc -l)" = 1 ] || fail "namespaces differ: $(cat "$SCRATCH"/out.*)"
	[ "$(cat "$SCRATCH"/out.* | wc -l)" = "$n" ] || fail "only $(cat "$SCRATCH"/out.* | wc -l) of $n ran"
	[ "$(cat "$SCRATCH"/err.* | grep -c 'join: winner')" = 1 ] || fail "winners: $(cat "$SCRATCH"/err.*)"
	[ "$(cat "$SCRATCH"/err.* | grep -c 'join: peer .* joining the container')" = $((n - 1)) ] ||
		fail "joiners: $(cat "$SCRATCH"/err.*)"
	# one container, and not the host's namespaces
	[ "$(awk '{print $2}' "$SCRATCH/out.1")" != "$(stat -L -c %i /proc/self/ns/user)" ]
	assert_no_shm
}

@test "join: 2, 3 and 16 peers share one user and mount namespace" {
	for n in 2 3 16; do
		rm -f "$SCRATCH"/out.* "$SCRATCH"/err.*
		TAG=t$$.$n
		peers "$n" "$TINY"
		check_peers "$n"
	done
}

@test "join: 4 peers of a SquashFS image share one container" {
	peers 4 "$TINY_SQFS"
	check_peers 4
}

@test "join: 32 late joiners running /bin/true, 10 rounds, directory and SquashFS" {
	for img in "$TINY" "$TINY_SQFS"; do
		for round in $(seq 10); do
			pids=""
			for i in $(seq 32); do
				"$KRILL" run --join-ct=32 --join-tag="late.$$.$round" "$img" -- /bin/true &
				pids="$pids $!"
			done
			for p in $pids; do wait "$p" || fail "a peer failed in round $round ($img)"; done
			assert_no_shm
		done
	done
}

@test "join: the group size comes from each launcher variable" {
	for v in OMPI_COMM_WORLD_LOCAL_SIZE PMIX_LOCAL_SIZE MPI_LOCALNRANKS SLURM_STEP_TASKS_PER_NODE; do
		run env "$v=1" "$KRILL" run -v --join --join-tag="$TAG.$v" "$TINY" -- true
		assert_status 0
		assert_line "krill: join: group of 1 (from $v), tag $TAG.$v (from --join-tag)"
	done
	printf '[join]\ntimeout = 1\n' >"$SCRATCH/c"
	want=(2 2 2 1)
	for node in 0 1 2 3; do
		# Only this one peer comes: the group is left to time out (1 s).
		run env SLURM_STEP_TASKS_PER_NODE='2(x3),1' SLURM_NODEID=$node KRILL_CONFIG="$SCRATCH/c" \
			"$KRILL" run -v --join --join-tag="$TAG.n$node" "$TINY" -- true
		assert_line "krill: join: group of ${want[$node]} (from SLURM_STEP_TASKS_PER_NODE), tag $TAG.n$node (from --join-tag)"
	done
}

@test "join: bad sizes and tags are refused with exit 125" {
	run env OMPI_COMM_WORLD_LOCAL_SIZE=abc "$KRILL" run --join "$TINY" -- true
	assert_status 125
	assert_output "krill: error: OMPI_COMM_WORLD_LOCAL_SIZE=abc: no digits"
	run env PMIX_LOCAL_SIZE=4x "$KRILL" run --join "$TINY" -- true
	assert_status 125
	assert_output "krill: error: PMIX_LOCAL_SIZE=4x: trailing characters 'x'"
	run "$KRILL" run --join-ct=0 "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --join-ct=0: out of range (1-65536)"
	run "$KRILL" run --join-ct=7z "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --join-ct=7z: trailing characters 'z'"
	run "$KRILL" run --join-tag= "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --join-tag=: empty tag"
	run env -u OMPI_COMM_WORLD_LOCAL_SIZE -u PMIX_LOCAL_SIZE -u MPI_LOCALNRANKS -u SLURM_STEP_TASKS_PER_NODE \
		"$KRILL" run --join "$TINY" -- true
	assert_status 125
	assert_line "krill: hint: give it with --join-ct=N"
}

@test "join: two Slurm jobs on one node get two containers" {
	# Each command lingers, so both containers exist at once (a namespace
	# inode can be reused once its namespace is gone).
	for job in 101 102; do
		for rank in 1 2; do
			env SLURM_JOB_ID=$job SLURM_STEP_ID=0 SLURM_STEP_TASKS_PER_NODE=2 \
				"$KRILL" run --join "$TINY" -- sh -c 'stat -L -c %i /proc/self/ns/mnt; sleep 1' >"$SCRATCH/j$job.$rank" &
		done
	done
	wait
	[ "$(cat "$SCRATCH/j101.1")" = "$(cat "$SCRATCH/j101.2")" ]
	[ "$(cat "$SCRATCH/j102.1")" = "$(cat "$SCRATCH/j102.2")" ]
	[ "$(cat "$SCRATCH/j101.1")" != "$(cat "$SCRATCH/j102.1")" ]
}

@test "join: a peer with another image or other options is refused, naming it" {
	slow_image
	$SLOW "$KRILL" run --join-ct=2 --join-tag="$TAG" "$SCRATCH/img" -- true 2>"$SCRATCH/w.err" &
	w=$!
	sleep 0.5
	run "$KRILL" run --join-ct=2 --join-tag="$TAG" --uid=0 "$SCRATCH/img" -- true
	assert_status 125
	assert_output "krill: error: --join: this peer's uid (this peer: '0', the winner: '$(id -u)') differs from the winner's"
	run "$KRILL" run --join-ct=2 --join-tag="$TAG" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --join: this peer's image (this peer: '$TINY', the winner: '$SCRATCH/img') differs from the winner's"
	run "$KRILL" run --join-ct=2 --join-tag="$TAG" "$SCRATCH/img" -- true
	assert_status 0
	wait "$w"
}

@test "join: the winner killed during setup: peers exit 125 within 2 s" {
	slow_image
	# The winner is slowed down in its setup: not yet ready.
	$SLOW "$KRILL" run -v --join-ct=3 --join-tag="$TAG" "$SCRATCH/img" -- true 2>"$SCRATCH/w.err" &
	for _ in $(seq 50); do grep -q 'join: winner' "$SCRATCH/w.err" && break; sleep 0.1; done
	w=$(sed -n 's/.*join: winner (pid \([0-9]*\)).*/\1/p' "$SCRATCH/w.err")
	[ -n "$w" ] || fail "no winner: $(cat "$SCRATCH/w.err")"
	for i in 1 2; do
		"$KRILL" run --join-ct=3 --join-tag="$TAG" "$SCRATCH/img" -- true 2>"$SCRATCH/p.$i" &
	done
	sleep 0.5
	start=$(date +%s%N)
	kill -KILL "$w"
	for i in 1 2; do wait %$((i + 1)) && fail "peer $i succeeded" || true; done
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$elapsed" -lt 2000 ] || fail "peers took $elapsed ms"
	for i in 1 2; do
		grep -q "krill: error: --join: the winner (pid $w) died before the container was ready" "$SCRATCH/p.$i" ||
			fail "peer $i said: $(cat "$SCRATCH/p.$i")"
	done
	assert_no_shm
}

@test "join: a peer killed while waiting: the rest finish, nothing is left" {
	slow_image
	$SLOW "$KRILL" run --join-ct=3 --join-tag="$TAG" "$SCRATCH/img" -- true &
	w=$!
	sleep 0.3
	"$KRILL" run --join-ct=3 --join-tag="$TAG" "$SCRATCH/img" -- true &
	victim=$!
	"$KRILL" run --join-ct=3 --join-tag="$TAG" "$SCRATCH/img" -- sh -c 'echo survivor' >"$SCRATCH/out" &
	survivor=$!
	sleep 0.3
	kill -KILL "$victim"
	wait "$w"
	wait "$survivor"
	[ "$(cat "$SCRATCH/out")" = survivor ]
	assert_no_shm
}

@test "join: the timeout names how many peers arrived" {
	printf '[join]\ntimeout = 2\n' >"$SCRATCH/krill.conf"
	run env KRILL_CONFIG="$SCRATCH/krill.conf" "$KRILL" run --join-ct=3 --join-tag="$TAG" "$TINY" -- true
	assert_status 0
	assert_output "krill: warning: --join: timed out after 2 s: 1 of 3 peers arrived"
	assert_no_shm
}

@test "join: a segment others may write (made first in /dev/shm) is refused" {
	local shm=/dev/shm/krill-$(id -u)-$TAG
	touch "$shm"
	chmod 0644 "$shm"
	run "$KRILL" run --join-ct=2 --join-tag="$TAG" "$TINY" -- true
	rm -f "$shm" "/dev/shm/sem.krill-$(id -u)-$TAG"
	assert_status 125
	assert_contains "is not a private segment of yours"
}

@test "exec, ps, --join-pid: the same container, and ps forgets it after exit" {
	"$KRILL" run --name="web$$" -b "$SCRATCH:/mnt" "$TINY" -- sh -c 'echo inside > /mnt/x; cd /etc; exec sleep 3' &
	k=$!
	for _ in $(seq 30); do [ -e "$SCRATCH/x" ] && break; sleep 0.1; done
	run "$KRILL" ps
	assert_status 0
	[[ "$output" == *"web$$"*"$TINY"* ]] || fail "ps: $output"
	run "$KRILL" ps --json
	[[ "$output" == *"\"name\": \"web$$\""* ]] || fail "ps --json: $output"
	sleeper=$(pgrep -u "$(id -u)" -f '^sleep 3$' | head -1)
	want=$(stat -L -c %i /proc/$sleeper/ns/mnt)
	run "$KRILL" exec "web$$" -- sh -c 'stat -L -c %i /proc/self/ns/mnt; pwd; cat /mnt/x; echo $KRILL_RUNNING'
	assert_status 0
	assert_output "$want
/etc
inside
1"
	run "$KRILL" run --join-pid="$sleeper" "$TINY" -- sh -c 'stat -L -c %i /proc/self/ns/mnt; cat /mnt/x'
	assert_status 0
	assert_output "$want
inside"
	run "$KRILL" exec $$ -- true
	assert_status 125
	assert_output "krill: error: process $$ is not in a krill container (it shares our mount namespace)"
	wait "$k"
	run "$KRILL" ps
	[[ "$output" != *"web$$"* ]] || fail "ps still lists it: $output"
	run "$KRILL" exec "web$$" -- true
	assert_status 125
	assert_output "krill: error: web$$: no such container (see \`krill ps\`)"
}
