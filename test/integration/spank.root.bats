#!/usr/bin/env bats
# The SPANK plugin (krill-spank.so, issue 17) on a real multi-node cluster:
# one slurmctld and three slurmd "nodes", each in a network+UTS namespace of
# its own (test/harness/slurm-multi.sh), jobs submitted by the unprivileged
# test user from the cluster's login namespace.
load helper
bats_require_minimum_version 1.5.0

USER_=${KRILL_TEST_USER:-krilltest}
# Names of our own, apart from any other cluster the harness runs here.
export KRILL_SLURM_DIR=${KRILL_SPANK_DIR:-/tmp/krill-spank-check}
export KRILL_SLURM_NS=${KRILL_SPANK_NS:-kspk}
export KRILL_SLURM_SUBNET=${KRILL_SPANK_SUBNET:-10.213.9}
HARNESS=$STAGE/test/harness/slurm-multi.sh
PLUGIN=$STAGE/krill-spank.so

setup_file() {
	is_root || return 0
	command -v slurmd >/dev/null && [ -e "$PLUGIN" ] || return 0
	KRILL_SLURM_PLUGSTACK="required $PLUGIN krill=$STAGE/krill" "$HARNESS" start >&3 2>&1 || true
}
teardown_file() {
	is_root || return 0
	"$HARNESS" stop >/dev/null 2>&1 || true
}

setup() {
	is_root || skip "skipped: the Slurm harness needs root"
	command -v slurmd >/dev/null || skip "skipped: slurm-wlm is not installed"
	[ -e "$PLUGIN" ] || skip "skipped: krill-spank.so was not built (no libslurm-dev)"
	[ -e "$KRILL_SLURM_DIR/slurm.conf" ] || skip "skipped: the multi-node cluster did not start"
	setup_scratch
	chown "$USER_" "$SCRATCH"
}
teardown() {
	teardown_scratch
}

# A command as the test user, in the cluster's login namespace.
as_user() {
	"$HARNESS" exec runuser -u "$USER_" -- env PATH="$PATH" KRILL_CONFIG= \
		HOME="$(getent passwd "$USER_" | cut -d: -f6)" "$@"
}

# Nothing of the user's may remain on any node (they share the host's PID
# namespace): no process, hence no mount namespace and no FUSE mount; no
# /dev/shm object (on any node's) or krill temp file.
user_leftovers() {
	local out="" p
	p=$(pgrep -u "$USER_" -a 2>/dev/null | grep -v ' \[srun\]' || true)
	[ -n "$p" ] && out+="processes: $p; "
	for n in $("$HARNESS" pids); do # each node has its own /dev/shm
		ls -l "/proc/$n/root/dev/shm" 2>/dev/null | grep -q " $USER_ .*krill" &&
			out+="shm on the node of slurmd $n: $(ls "/proc/$n/root/dev/shm"); "
	done
	find /tmp -maxdepth 1 -user "$USER_" -name 'krill.*' 2>/dev/null | grep -q . && out+="tmp files; "
	echo -n "$out"
}
assert_user_clean() {
	local l
	for _ in $(seq 25); do
		l=$(user_leftovers)
		[ -z "$l" ] && return 0
		sleep 0.2
	done
	fail "left behind: $l"
}

@test "spank: srun -N3 -n12 --krill-image: one container per node, 4 tasks in each" {
	run as_user srun -N3 -n12 --ntasks-per-node=4 --krill-image="$TINY_SQFS" \
		sh -c 'echo "$SLURM_NODEID $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/user)"'
	assert_status 0
	[ "${#lines[@]}" = 12 ] || fail "$output"
	# Exactly 3 distinct containers, 4 tasks each, one per node id.
	[ "$(cut -d' ' -f2 <<<"$output" | sort -u | wc -l)" = 3 ] || fail "$output"
	[ "$(cut -d' ' -f1,2 <<<"$output" | sort -u | wc -l)" = 3 ] || fail "$output"
	for n in 0 1 2; do
		[ "$(grep -c "^$n " <<<"$output")" = 4 ] || fail "node $n: $output"
	done
	host=$(readlink /proc/self/ns/mnt)
	! grep -q "$host" <<<"$output" || fail "a task ran in the host's mount namespace: $output"
	assert_user_clean
}

@test "spank: tasks see the image, its environment, --krill-workdir and --krill-mounts" {
	echo hello-from-host > "$SCRATCH/hello"
	run as_user srun -N1 -n2 --krill-image="$TINY_SQFS" --krill-workdir=/etc \
		--krill-mounts="$SCRATCH:/mnt:ro" \
		sh -c 'echo "$(head -1 /etc/os-release) $(pwd) $KRILL_IMAGE $(cat /mnt/hello)"; touch /mnt/x'
	[ "${#lines[@]}" -ge 2 ] || fail "$output"
	assert_contains 'NAME="krill tiny" /etc tiny hello-from-host'
	[ "$(grep -c 'NAME="krill tiny" /etc tiny hello-from-host' <<<"$output")" = 2 ] || fail "$output"
	# :ro holds
	assert_contains "Read-only file system"
	[ ! -e "$SCRATCH/x" ]
	assert_user_clean
}

@test "spank: KRILL_SPANK_IMAGE in the environment works like --krill-image" {
	run as_user env KRILL_SPANK_IMAGE="$TINY" srun -N2 -n2 cat /etc/os-release
	assert_status 0
	[ "$(grep -c 'NAME="krill tiny"' <<<"$output")" = 2 ] || fail "$output"
	assert_user_clean
}

@test "spank: tasks get no_new_privs and the container's user namespace maps the user" {
	run as_user srun -N1 -n1 --krill-image="$TINY_SQFS" sh -c \
		'grep NoNewPrivs /proc/self/status; id -u; cat /proc/self/uid_map'
	assert_status 0
	assert_line "NoNewPrivs:	1"
	assert_line "$(id -u "$USER_")"
}

@test "spank: a missing image fails the step within 1 s, with krill's error line" {
	t0=$(date +%s%N)
	run as_user srun -N3 -n3 --krill-image=/nonexistent/img.sqfs true
	t1=$(date +%s%N)
	[ "$status" -ne 0 ] || fail "srun succeeded: $output"
	assert_contains "krill: error: /nonexistent/img.sqfs: can't open image: No such file or directory"
	# Once per node, not once per task.
	[ "$(grep -c "krill: error: /nonexistent" <<<"$output")" = 3 ] || fail "$output"
	[ $(((t1 - t0) / 1000000)) -lt 1000 ] || fail "took $(((t1 - t0) / 1000000)) ms"
	assert_user_clean
}

@test "spank: a bad option value gives one error per node and fails the step" {
	run as_user srun -N1 -n2 --krill-image="$TINY_SQFS" --krill-mounts=relative:/mnt true
	[ "$status" -ne 0 ] || fail "srun succeeded: $output"
	assert_contains "krill: error: "
	assert_user_clean
}

@test "spank: sbatch --krill-image: every step in a container of its own, the batch script on the host" {
	cat > "$SCRATCH/job.sh" <<-EOF
		#!/bin/sh
		#SBATCH -N3 --ntasks-per-node=2
		#SBATCH --krill-image=$TINY_SQFS
		echo "batch \$(readlink /proc/self/ns/mnt) \${KRILL_IMAGE:-none}"
		srun sh -c 'echo "step1 \$SLURM_NODEID \$(readlink /proc/self/ns/mnt) \$KRILL_IMAGE"'
		srun sh -c 'echo "step2 \$SLURM_NODEID \$(readlink /proc/self/ns/mnt) \$KRILL_IMAGE"'
	EOF
	chmod 0755 "$SCRATCH/job.sh"
	run as_user sbatch --wait -o "$SCRATCH/job.out" "$SCRATCH/job.sh"
	assert_status 0
	out=$(cat "$SCRATCH/job.out")
	[ "$(grep -c '^step1 .* tiny$' <<<"$out")" = 6 ] || fail "$out"
	[ "$(grep -c '^step2 .* tiny$' <<<"$out")" = 6 ] || fail "$out"
	[ "$(grep '^step1' <<<"$out" | cut -d' ' -f3 | sort -u | wc -l)" = 3 ] || fail "$out"
	[ "$(grep '^step2' <<<"$out" | cut -d' ' -f3 | sort -u | wc -l)" = 3 ] || fail "$out"
	# The batch script itself runs outside (plugstack batch=no): not in
	# any step's container, and without the image's environment.
	batch=$(grep '^batch ' <<<"$out" | cut -d' ' -f2,3)
	[ "${batch#* }" = none ] || fail "$out"
	! grep -q "^step. . ${batch% *} " <<<"$out" || fail "$out"
	assert_user_clean
}

@test "spank: scancel mid-step leaves nothing on any node" {
	as_user srun -N3 -n6 --ntasks-per-node=2 --krill-image="$TINY_SQFS" \
		sh -c 'echo up; sleep 60' > "$SCRATCH/out" 2>&1 &
	for _ in $(seq 100); do
		[ "$(grep -c '^up' "$SCRATCH/out")" = 6 ] && break
		sleep 0.1
	done
	[ "$(grep -c '^up' "$SCRATCH/out")" = 6 ] || fail "$(cat "$SCRATCH/out")"
	[ "$(pgrep -u "$USER_" -x krill | wc -l)" -ge 3 ] || fail "no node containers: $(pgrep -u "$USER_" -a)"
	"$HARNESS" exec scancel -u "$USER_"
	wait || true
	assert_user_clean
}

@test "spank: a task SIGKILLed on one node ends the step and leaves nothing" {
	run as_user srun -N3 -n3 --krill-image="$TINY_SQFS" \
		sh -c 'if [ "$SLURM_NODEID" = 1 ]; then kill -9 $$; fi; sleep 3; echo survived'
	[ "$status" -ne 0 ] || fail "srun succeeded: $output"
	assert_user_clean
}

@test "spank: srun --mpi=pmix across 3 nodes: the MPI ring, shared memory within a node" {
	[ -r "$IMAGES/debian-mpi.sqfs" ] || skip "skipped: no debian-mpi image"
	run as_user srun -N3 -n6 --ntasks-per-node=2 --mpi=pmix \
		--krill-image="$IMAGES/debian-mpi.sqfs" /opt/ring
	assert_status 0
	[ "$(grep -c 'ring ok' <<<"$output")" = 6 ] || fail "$output"
	# One container (user namespace) per node, and CMA between its ranks.
	[ "$(grep -o 'userns=[^ ]*' <<<"$output" | sort -u | wc -l)" = 3 ] || fail "$output"
	[ "$(grep -o 'host=[^ ]*' <<<"$output" | sort -u | wc -l)" = 3 ] || fail "$output"
	assert_user_clean
}

@test "spank: srun krill run --join across nodes makes per-node groups" {
	run as_user srun -N3 -n6 --ntasks-per-node=2 "$KRILL" run --join "$TINY_SQFS" -- \
		sh -c 'echo "$SLURM_NODEID $(readlink /proc/self/ns/mnt)"'
	assert_status 0
	[ "${#lines[@]}" = 6 ] || fail "$output"
	[ "$(cut -d' ' -f2 <<<"$output" | sort -u | wc -l)" = 3 ] || fail "$output"
	[ "$(sort -u <<<"$output" | wc -l)" = 3 ] || fail "$output"
	assert_user_clean
}

@test "spank: examples/spank/containers.sh prints what its header says" {
	cp "$STAGE/examples/spank/containers.sh" "$SCRATCH/"
	run as_user env IMG="$TINY_SQFS" sbatch --wait -o "$SCRATCH/ex.out" "$SCRATCH/containers.sh"
	assert_status 0
	out=$(cat "$SCRATCH/ex.out")
	grep -qx 'containers: 3' <<<"$out" || fail "$out"
	for n in 0 1 2; do
		grep -q "^node $n: 4 tasks in mnt:\[[0-9]*\]$" <<<"$out" || fail "$out"
	done
	assert_user_clean
}

@test "spank: slurmstepd SIGKILLed on a node: that node's container goes with it" {
	as_user srun -J stepkill -N3 -n3 --krill-image="$TINY_SQFS" \
		sh -c 'echo "up $SLURM_NODEID"; exec sleep 30' > "$SCRATCH/out" 2>&1 &
	for _ in $(seq 100); do
		[ "$(grep -c '^up' "$SCRATCH/out")" = 3 ] && break
		sleep 0.1
	done
	[ "$(grep -c '^up' "$SCRATCH/out")" = 3 ] || fail "$(cat "$SCRATCH/out")"
	# One node's holder ("krill"), its krill (which names itself
	# krill-supervise) and the step daemon that started that.
	holder=$(pgrep -u "$USER_" -x krill | head -n1)
	[ -n "$holder" ] || fail "no holder: $(ps -u "$USER_" -o pid,ppid,comm,args)"
	k=$(ps -o ppid= -p "$holder" | tr -d ' ')
	[ "$(ps -o comm= -p "$k")" = krill-supervise ] || fail "$(ps -u "$USER_" -o pid,ppid,comm,args)"
	stepd=$(ps -o ppid= -p "$k" | tr -d ' ')
	[ "$(ps -o comm= -p "$stepd")" = slurmstepd ] || fail "parent of krill $k: $(ps -o comm= -p "$stepd")"
	kill -KILL "$stepd"
	# Its socket closed: that krill and its holder exit.
	for _ in $(seq 50); do
		kill -0 "$k" 2>/dev/null || kill -0 "$holder" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$k" 2>/dev/null || fail "krill $k outlived its slurmstepd"
	! kill -0 "$holder" 2>/dev/null || fail "the holder $holder outlived its slurmstepd"
	# The orphaned task is Slurm's to kill, not krill's: end it and the step.
	pkill -KILL -u "$USER_" -x sleep || true
	"$HARNESS" exec scancel -u "$USER_" || true
	wait || true
	assert_user_clean
}

@test "spank: a requeued job leaves nothing of its killed step behind" {
	cat > "$SCRATCH/rq.sh" <<-EOF
		#!/bin/sh
		#SBATCH -N3 --ntasks-per-node=1 --requeue
		srun --krill-image=$TINY_SQFS sh -c 'echo "up \$SLURM_NODEID \${SLURM_RESTART_COUNT:-0}"; exec sleep 60'
	EOF
	chmod 0755 "$SCRATCH/rq.sh"
	job=$(as_user sbatch --parsable -o "$SCRATCH/rq.out" "$SCRATCH/rq.sh")
	for _ in $(seq 150); do
		[ "$(grep -c '^up . 0' "$SCRATCH/rq.out" 2>/dev/null)" = 3 ] && break
		sleep 0.1
	done
	[ "$(grep -c '^up . 0' "$SCRATCH/rq.out")" = 3 ] || fail "$(cat "$SCRATCH/rq.out")"
	"$HARNESS" exec scontrol requeue "$job"
	# Between the kill and the restart (BeginTime is pushed back), the
	# first run must have left nothing on any node.
	for _ in $(seq 50); do
		[ -z "$(user_leftovers)" ] && break
		sleep 0.2
	done
	l=$(user_leftovers)
	"$HARNESS" exec scancel "$job" || true
	[ -z "$l" ] || fail "left behind after requeue: $l"
	assert_user_clean
}
