#!/usr/bin/env bats
# Load (issue 13): many concurrent runs of the SquashFS image by one user,
# and many concurrent join groups.  Each must succeed or fail with one
# clear resource message (exit 125); nothing may hang or be left.
# make check runs a scaled version (LOAD_RUNS=100, LOAD_GROUPS=16); the
# full one (300 runs, 64 groups of 4) is `LOAD_RUNS=300 LOAD_GROUPS=64
# TESTS=faults_load* test/run-tests`, which make soak also runs.
load faults_helper

setup() { setup_scratch; }
teardown() { teardown_scratch; }

# Every exit 0, or 125 with one krill error line naming a resource.
check_results() { # N
	local i ok=0 res=0 st
	for i in $(seq "$1"); do
		st=$(cat "$SCRATCH/st.$i")
		if [ "$st" = 0 ]; then
			ok=$((ok + 1))
		elif [ "$st" = 125 ] && [ "$(grep -c . "$SCRATCH/err.$i")" = 1 ] &&
			grep -q '^krill: error: .*\(Resource temporarily unavailable\|Too many\|No space\|Cannot allocate\|out of memory\)' "$SCRATCH/err.$i"; then
			res=$((res + 1))
		else
			fail "run $i: status $st: $(cat "$SCRATCH/err.$i")"
		fi
	done
	echo "# $1 runs: $ok succeeded, $res refused for resources" >&3
}

@test "load: ${LOAD_RUNS:-100} concurrent runs of a SquashFS image: all succeed or say which resource ran out" {
	local n=${LOAD_RUNS:-100} i
	for i in $(seq "$n"); do
		( timeout 120 "$KRILL" run "$TINY_SQFS" -- true </dev/null >/dev/null 2>"$SCRATCH/err.$i"
		  echo $? >"$SCRATCH/st.$i" ) 3>&- &
	done
	wait
	check_results "$n"
	[ -z "$(settle_leaks)" ] || fail "left: $(settle_leaks)"
}

@test "load: ${LOAD_GROUPS:-16} concurrent join groups of 4: one container each, nothing left" {
	local g=${LOAD_GROUPS:-16} i k=0
	for i in $(seq "$g"); do
		for _ in 1 2 3 4; do
			k=$((k + 1))
			( timeout 120 "$KRILL" run --join-ct=4 --join-tag="load$$.$i" "$TINY_SQFS" -- \
				sh -c 'stat -L -c %i /proc/self/ns/mnt' </dev/null >"$SCRATCH/out.$k" \
				2>"$SCRATCH/err.$k"; echo $? >"$SCRATCH/st.$k"; echo "$i" >"$SCRATCH/grp.$k" ) 3>&- &
		done
	done
	wait
	check_results "$k"
	# the four members of a group that all ran share one mount namespace
	for i in $(seq "$g"); do
		local ns
		ns=$(for j in $(seq "$k"); do [ "$(cat "$SCRATCH/grp.$j")" = "$i" ] && cat "$SCRATCH/out.$j"; done | sort -u | wc -l)
		[ "$ns" -le 1 ] || fail "group $i ran in $ns containers"
	done
	[ -z "$(settle_leaks)" ] || fail "left: $(settle_leaks)"
}
