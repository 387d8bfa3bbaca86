#!/usr/bin/env bats
# krill under a real Slurm mini-cluster (issue 4): munged + slurmctld +
# slurmd on localhost (test/harness/slurm.sh), jobs submitted with sbatch and
# srun by the unprivileged test user, from the scripts in examples/slurm.
load helper
bats_require_minimum_version 1.5.0

USER_=${KRILL_TEST_USER:-krilltest}
# A cluster of our own, apart from any other one the harness runs here.
export KRILL_SLURM_DIR=${KRILL_SLURM_DIR:-/tmp/krill-slurm-check}
export KRILL_SLURM_PORT=${KRILL_SLURM_PORT:-17817}
HARNESS=$STAGE/test/harness/slurm.sh
EX=$STAGE/examples/slurm

setup_file() {
	is_root || return 0
	command -v slurmctld >/dev/null || return 0
	"$HARNESS" start >&3 2>&1 || true
}
teardown_file() {
	is_root || return 0
	command -v slurmctld >/dev/null || return 0
	"$HARNESS" stop >/dev/null 2>&1 || true
}

setup() {
	is_root || skip "skipped: the Slurm harness needs root"
	command -v slurmctld >/dev/null || skip "skipped: slurm-wlm is not installed"
	"$HARNESS" status || skip "skipped: the private Slurm cluster did not start"
	eval "$("$HARNESS" env)"
	setup_scratch
	chown "$USER_" "$SCRATCH"
}
teardown() {
	teardown_scratch
}

# Run a command as the test user, with Slurm's and krill's variables.
as_user() {
	runuser -u "$USER_" -- env SLURM_CONF="$SLURM_CONF" KRILL="$KRILL" PATH="$PATH" \
		HOME="$(getent passwd "$USER_" | cut -d: -f6)" KRILL_CONFIG= "$@"
}

# sbatch --wait a script as the user; its output in $SCRATCH/NAME.out.
submit() { # NAME IMG SCRIPT
	as_user env IMG="$2" sbatch --wait -o "$SCRATCH/$1.out" "$3"
}

@test "slurm: single.sh: one rank runs the image" {
	run submit single "$TINY_SQFS" "$EX/single.sh"
	assert_status 0
	grep -q 'NAME="krill tiny"' "$SCRATCH/single.out" || fail "$(cat "$SCRATCH/single.out")"
}

@test "slurm: join4.sh: srun -n4 krill run --join gives 4 ranks in 1 container" {
	run submit join4 "$TINY_SQFS" "$EX/join4.sh"
	assert_status 0
	[ "$(grep -c '^rank ' "$SCRATCH/join4.out")" = 4 ] || fail "$(cat "$SCRATCH/join4.out")"
	grep -qx 'containers: 1' "$SCRATCH/join4.out" || fail "$(cat "$SCRATCH/join4.out")"
	[ -z "$(ls /dev/shm | grep "krill-$(id -u "$USER_")-")" ] # this user's: other checkouts test at the same time
}

@test "slurm: two concurrent jobs on one node get two containers" {
	as_user env IMG="$TINY_SQFS" sbatch --wait -o "$SCRATCH/a.out" "$EX/join4.sh" &
	as_user env IMG="$TINY_SQFS" sbatch --wait -o "$SCRATCH/b.out" "$EX/join4.sh" &
	wait
	grep -qx 'containers: 1' "$SCRATCH/a.out" && grep -qx 'containers: 1' "$SCRATCH/b.out" ||
		fail "$(cat "$SCRATCH/a.out" "$SCRATCH/b.out")"
	a=$(grep '^rank 0' "$SCRATCH/a.out" | cut -d' ' -f3-4)
	b=$(grep '^rank 0' "$SCRATCH/b.out" | cut -d' ' -f3-4)
	[ -n "$a" ] && [ "$a" != "$b" ] || fail "one container for two jobs: $a / $b"
}

@test "slurm: two-mpiruns.sh: two mpiruns in one batch step get a container each" {
	command -v mpirun >/dev/null || skip "skipped: mpirun (openmpi-bin) is not installed"
	run submit two "$TINY_SQFS" "$EX/two-mpiruns.sh"
	assert_status 0
	out=$(cat "$SCRATCH/two.out")
	[ "$(grep -c '^[AB] [01] user:' <<<"$out")" = 4 ] || fail "$out"
	grep -qx 'containers: A 1, B 1, shared 0' <<<"$out" || fail "$out"
	[ -z "$(ls /dev/shm | grep "krill-$(id -u "$USER_")-")" ] || fail "left: $(ls /dev/shm)"
}

@test "slurm: mpi-pmix.sh: Open MPI through srun --mpi=pmix, 4 ranks, CMA" {
	[ -r "$IMAGES/debian-mpi.sqfs" ] || skip "skipped: no debian-mpi image"
	run submit mpi "$IMAGES/debian-mpi.sqfs" "$EX/mpi-pmix.sh"
	assert_status 0
	out=$(cat "$SCRATCH/mpi.out")
	[ "$(grep -c 'ring ok' <<<"$out")" = 4 ] || fail "$out"
	[ "$(grep -o 'userns=[^ ]*' <<<"$out" | sort -u | wc -l)" = 1 ] || fail "$out"
	[ "$(grep -c 'single_copy=cma' <<<"$out")" = 4 ] || fail "$out"
}

@test "slurm: interactive.sh: srun --pty krill run IMG -- sh in tmux" {
	command -v tmux >/dev/null || skip "skipped: tmux is not installed"
	s=krill-srun-$$
	as_user tmux new-session -d -s "$s" -x 120 -y 30 \
		"env IMG=$TINY_SQFS sh $EX/interactive.sh; echo srun-exit=\$? > $SCRATCH/status; sleep 30"
	for _ in $(seq 100); do
		as_user tmux capture-pane -p -t "$s" | grep -q '[$#] *$' && break
		sleep 0.1
	done
	as_user tmux send-keys -t "$s" 'echo inside-$((6*7))' Enter
	for _ in $(seq 50); do
		as_user tmux capture-pane -p -t "$s" | grep -q '^inside-42' && break
		sleep 0.1
	done
	as_user tmux capture-pane -p -t "$s" | grep -q '^inside-42' ||
		fail "no command output: $(as_user tmux capture-pane -p -t "$s")"
	as_user tmux send-keys -t "$s" 'exit 3' Enter
	for _ in $(seq 100); do [ -s "$SCRATCH/status" ] && break; sleep 0.1; done
	as_user tmux kill-session -t "$s" 2>/dev/null || true
	[ "$(cat "$SCRATCH/status")" = srun-exit=3 ] || fail "status: $(cat "$SCRATCH/status" 2>&1)"
}

@test "slurm: scancel of a step running a joined container leaves nothing (issue 13)" {
	uid=$(id -u "$USER_")
	as_user srun -J joinkill -n3 "$KRILL" run --join "$TINY_SQFS" -- sh -c 'echo up; exec sleep 60' \
		> "$SCRATCH/out" 2>&1 &
	for _ in $(seq 100); do
		[ "$(grep -c '^up' "$SCRATCH/out")" = 3 ] && break
		sleep 0.1
	done
	[ "$(grep -c '^up' "$SCRATCH/out")" = 3 ] || fail "$(cat "$SCRATCH/out")"
	pgrep -u "$USER_" -x krill-supervise >/dev/null || fail "no join winner: $(pgrep -u "$USER_" -a)"
	scancel -u "$USER_"
	wait || true
	local left=""
	for _ in $(seq 50); do
		left="$(pgrep -u "$USER_" -a | grep -v ' \[srun\]' || true)$(ls /dev/shm | grep "krill-$uid-" || true)"
		[ -z "$left" ] && break
		sleep 0.2
	done
	[ -z "$left" ] || fail "left behind after scancel: $left"
}
