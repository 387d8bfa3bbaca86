#!/usr/bin/env bats
# krill run with limits: the container reads its own limits in
# /sys/fs/cgroup (v1/hybrid hosts: each hierarchy's directory is bound over
# the host's), so tools that size themselves from cgroup files see them.
load helper

setup() { setup_scratch; }
teardown() { teardown_scratch; }

@test "cgroup view: krill run --memory/--cpus shows the container's cgroup at each hierarchy" {
	[ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ] || skip "no v1 memory hierarchy (pure cgroup v2 host)"
	run "$KRILL" run --memory 64m --cpus 0.5 "$TINY" -- sh -c \
		'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us
		 ls /sys/fs/cgroup/memory | grep -c "^krill$"; true'
	assert_status 0
	[ "$output" = "67108864
50000
0" ] || fail "unexpected: $output"
	# Without limits: no cgroup of its own, the host's view as before.
	run "$KRILL" run "$TINY" -- cat /sys/fs/cgroup/memory/memory.limit_in_bytes
	assert_status 0
	[ "$output" = "$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" ]
}
