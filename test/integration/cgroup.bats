#!/usr/bin/env bats
# cgroup.bats: cgroup limits for an unprivileged caller.  Without a
# writable (delegated) cgroup v2 subtree, --memory and friends must fail
# with a clear error and a hint, not be ignored.

load helper

# True when our own v2 cgroup is writable (systemd/Slurm delegation).
have_delegation() {
	local rel mp
	rel=$(sed -n 's/^0:://p' /proc/self/cgroup)
	mp=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
	[ -n "$mp" ] && [ -n "$rel" ] && [ -w "$mp$rel" ] && [ -w "$mp$rel/cgroup.procs" ]
}

@test "cgroup: --memory without a writable cgroup: clear error, exit 125" {
	is_root && skip "runs unprivileged"
	have_delegation && skip "this user has a delegated cgroup v2 subtree"
	run "$KRILL" run --memory=32m "$TINY" -- true
	assert_status 125
	assert_line "krill: error: --memory: no writable cgroup"
	assert_contains "krill: hint:"
	assert_contains "delegate a cgroup v2 subtree"
}

@test "cgroup: --pids-limit and --cpus without a writable cgroup name their option" {
	is_root && skip "runs unprivileged"
	have_delegation && skip "this user has a delegated cgroup v2 subtree"
	run "$KRILL" run --pids-limit=20 "$TINY" -- true
	assert_status 125
	assert_line "krill: error: --pids-limit: no writable cgroup"
	run "$KRILL" run --cpus=0.5 "$TINY" -- true
	assert_status 125
	assert_line "krill: error: --cpus: no writable cgroup"
}

@test "cgroup: no limits, no cgroup needed" {
	is_root && skip "runs unprivileged"
	run "$KRILL" run "$TINY" -- true
	assert_status 0
}
