#!/usr/bin/env bats
# Unprivileged: every option combination of the other tests gives the same
# container with tiny.sqfs (in-process FUSE server) as with the tiny
# directory (issue 10 item 3).
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

@test "squash options: namespaces (--pid, --net, --hostname, --ipc, all together)" {
	is_root && skip "runs unprivileged"
	for o in "" --pid --net=none --hostname=box1 --ipc "--pid --net=none --hostname=grp --ipc"; do
		works_for_both "$o"
	done
}

@test "squash options: identities, passwd, home, cwd, environment" {
	is_root && skip "runs unprivileged"
	for o in "--uid=0 --gid=0" "--uid=1000 --gid=1000" "--uid=65534 --gid=65534" "-u 0" \
		--home --no-passwd "--cd=/etc" "--set-env=HOME=/x" "--unset-env=LANG" \
		--env-clean "--pid --uid=0 --gid=0 --home"; do
		works_for_both "$o"
	done
}

@test "squash options: writable overlay, binds, private /tmp" {
	is_root && skip "runs unprivileged"
	for o in -W "-b $SCRATCH/mnt:/mnt" "-W -b $SCRATCH/mnt:/newdir" "-t" "-W -t -b $SCRATCH/mnt:/mnt" \
		"--pid -W -b $SCRATCH/mnt:/mnt:ro"; do
		works_for_both "$o"
	done
}

@test "squash options: --seccomp, --seccomp-profile, --name, --join" {
	is_root && skip "runs unprivileged"
	for o in --seccomp "--seccomp-profile=$STAGE/test/fixtures/seccomp/docker-default.json" \
		"--name=sqo-$$" "--pid --name=sqo-$$" "--join-ct=1 --join-tag=sqo$$" \
		"--join-ct=1 --join-tag=sqo$$ --pid --net=none --seccomp"; do
		works_for_both "$o"
	done
}

@test "squash options: cgroup limits end the same way (a delegated subtree or a clear error)" {
	is_root && skip "runs unprivileged"
	for o in --memory=64m --cpus=0.5 --pids-limit=50 "--pid --memory=64m --cpus=0.5 --pids-limit=50"; do
		same_for_both "$o"
		[ "$LAST_STATUS" = 0 ] || [[ "$LAST_OUTPUT" == "krill: error: --"*": no writable cgroup"* ]] ||
			fail "[$o] status $LAST_STATUS: $LAST_OUTPUT"
	done
}
