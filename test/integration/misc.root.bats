#!/usr/bin/env bats
# As root: SquashFS through the kernel (loop device, none left attached),
# --userns, and krill check.
load helper
bats_require_minimum_version 1.5.0

setup() {
	is_root || skip "needs root"
	setup_scratch
}
teardown() { teardown_scratch; }

loops() { losetup -a 2>/dev/null | grep -c "$(basename "$TINY_SQFS")" || true; }

@test "root: a SquashFS image is mounted by the kernel, and its loop device goes away" {
	before=$(loops)
	run "$KRILL" run "$TINY_SQFS" -- sh -c 'grep " / " /proc/self/mountinfo; cat /etc/os-release'
	assert_status 0
	assert_contains " - squashfs /dev/loop"
	assert_contains 'NAME="krill tiny"'
	for _ in $(seq 20); do [ "$(loops)" = "$before" ] && break; sleep 0.1; done
	[ "$(loops)" = "$before" ] || fail "loop devices left: $(losetup -a)"
	# killed mid-run: the mount namespace dies, and the loop device with it
	"$KRILL" run "$TINY_SQFS" -- sleep 30 &
	k=$!
	sleep 0.5
	kill -KILL "$k"
	pkill -KILL -f '^sleep 30$' || true
	wait "$k" || true
	for _ in $(seq 30); do [ "$(loops)" = "$before" ] && break; sleep 0.1; done
	[ "$(loops)" = "$before" ] || fail "loop devices left after SIGKILL: $(losetup -a)"
}

@test "root: --userns gives a user namespace; without it there is none" {
	run "$KRILL" run "$TINY" -- readlink /proc/self/ns/user
	assert_output "$(readlink /proc/self/ns/user)"
	run "$KRILL" run --userns "$TINY" -- sh -c 'readlink /proc/self/ns/user; id -u; cat /proc/self/uid_map'
	assert_status 0
	[ "${lines[0]}" != "$(readlink /proc/self/ns/user)" ]
	[ "${lines[1]}" = 0 ]
}

@test "root: krill check says root may use capabilities and cgroups" {
	run "$KRILL" check
	assert_status 0
	assert_contains "root: --cap-add/--cap-drop"
}
