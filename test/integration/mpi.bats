#!/usr/bin/env bats
# Open MPI jobs under krill (issue 4): the ring program in debian-mpi.sqfs,
# 4 ranks under mpirun; and the reason --join exists: with it, vader's CMA
# single-copy path works; without it, Open MPI falls back (or, with CMA
# forced, fails).
load helper
bats_require_minimum_version 1.5.0

MPI_SQFS=$IMAGES/debian-mpi.sqfs

setup() {
	[ -r "$MPI_SQFS" ] || skip "skipped: no debian-mpi image (images/build.sh debian-mpi needs root and a Debian mirror)"
	command -v mpirun >/dev/null || skip "skipped: mpirun (openmpi-bin) is not installed"
	setup_scratch
}
teardown() {
	# Open MPI's own segments, which an aborted job (forced CMA) leaves.
	find /dev/shm -maxdepth 1 -user "$(id -u)" -name 'vader_segment.*' -delete 2>/dev/null || true
	teardown_scratch
	assert_no_leftovers
}

@test "mpi: 4 ranks with --join: one container, CMA single-copy" {
	run mpirun -np 4 --oversubscribe "$KRILL" run --join "$MPI_SQFS" -- /opt/ring
	assert_status 0
	[ "$(grep -c 'ring ok' <<<"$output")" = 4 ] || fail "$output"
	[ "$(grep -o 'userns=[^ ]*' <<<"$output" | sort -u | wc -l)" = 1 ] || fail "several user namespaces: $output"
	[ "$(grep -c 'single_copy=cma' <<<"$output")" = 4 ] || fail "no CMA: $output"
	! grep -q "userns=$(readlink /proc/self/ns/user)" <<<"$output"
}

@test "mpi: without --join, ranks sit in 4 user namespaces and CMA is not used" {
	run mpirun -np 4 --oversubscribe "$KRILL" run "$MPI_SQFS" -- /opt/ring
	assert_status 0
	[ "$(grep -c 'ring ok' <<<"$output")" = 4 ] || fail "$output"
	[ "$(grep -o 'userns=[^ ]*' <<<"$output" | sort -u | wc -l)" = 4 ] || fail "$output"
	[ "$(grep -c 'single_copy=emulated' <<<"$output")" = 4 ] || fail "expected the emulated fallback: $output"
}

@test "mpi: CMA forced without --join fails; with --join it works" {
	export OMPI_MCA_btl_vader_single_copy_mechanism=cma
	run mpirun -np 4 --oversubscribe "$KRILL" run "$MPI_SQFS" -- /opt/ring -t 20
	[ "$status" -ne 0 ] || fail "CMA across user namespaces worked: $output"
	# The help tag or its text (Open MPI sometimes fails to aggregate the tag)
	[[ "$output" =~ different[-\ ]user[-\ ]namespace ]] || fail "no user-namespace error: $output"
	run mpirun -np 4 --oversubscribe "$KRILL" run --join "$MPI_SQFS" -- /opt/ring -t 20
	assert_status 0
	[ "$(grep -c 'single_copy=cma' <<<"$output")" = 4 ] || fail "$output"
}
