#!/usr/bin/env bats
# As root: every option combination of the other root tests gives the same
# container with tiny.sqfs (a kernel loop mount; with a supervisor for
# --pid, cgroup limits, --name and --join) as with the tiny directory.
# Issue 10 item 3: --pid, --memory, --cpus or --pids-limit with a SquashFS
# image failed with "not mounted with FUSE: Invalid argument".
load helper
load squash_options

setup() {
	setup_scratch
	mkdir -p "$SCRATCH/mnt"
	echo shared >"$SCRATCH/mnt/f"
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

@test "squash options (root): --pid, --memory, --cpus, --pids-limit, alone and together (issue 10 item 3)" {
	for o in "" --pid --memory=64m --cpus=0.5 --pids-limit=20 \
		"--pid --memory=64m --cpus=0.5 --pids-limit=50" \
		"--uid=1000 --gid=1000 --pid --memory=64m --pids-limit=50"; do
		works_for_both "$o"
	done
}

@test "squash options (root): identities, capabilities, --userns" {
	for o in "--uid=1000 --gid=1000" "--uid=1000" "--uid=0 --gid=0" --userns "--userns --pid" \
		--cap-drop=ALL "--cap-drop=ALL --cap-add=CHOWN" "--uid=1000 --cap-add=NET_BIND_SERVICE" \
		"--cap-drop=ALL --pid --memory=64m"; do
		works_for_both "$o"
	done
}

@test "squash options (root): namespaces, overlay, binds, seccomp, --name, --join" {
	for o in --net=none --ipc --hostname=box1 "--pid --net=none --hostname=grp --ipc" \
		-W "-W -b $SCRATCH/mnt:/mnt" "-b $SCRATCH/mnt:/mnt" "-W -b $SCRATCH/mnt:/newdir" -t --home \
		--seccomp "--name=sqr-$$" "--name=sqr-$$ --pid --pids-limit=50" \
		"--join-ct=1 --join-tag=sqr$$" "--join-ct=1 --join-tag=sqr$$ --pid --memory=64m"; do
		works_for_both "$o"
	done
}

@test "squash options (root): the limits hold with a SquashFS image (OOM kill, fork loop)" {
	run timeout 60 "$KRILL" run --memory=32m "$TINY_SQFS" -- dd if=/dev/zero of=/dev/null bs=200M count=1
	assert_status 137
	run timeout 60 "$KRILL" run --pid --pids-limit=20 "$TINY_SQFS" -- \
		sh -c 'i=0; while [ $i -lt 40 ]; do sleep 1 >/dev/null 2>&1 & i=$((i+1)); echo $i; done'
	[ "$status" -ne 0 ] || fail "the fork loop went to 40: $output"
	assert_contains "can't fork"
	last=$(printf '%s\n' "$output" | grep -E '^[0-9]+$' | tail -1)
	[ -n "$last" ] && [ "$last" -lt 20 ] || fail "forked $last times: $output"
}
