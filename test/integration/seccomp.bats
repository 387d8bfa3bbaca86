#!/usr/bin/env bats
# krill run --seccomp (fake root) and --seccomp-profile=FILE (SPEC §3, §9).
# Runs unprivileged: a filter needs only no_new_privs.
load helper

FIX=$STAGE/test/fixtures/seccomp

setup() {
	setup_scratch
	touch "$SCRATCH/f"
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

# A profile in $SCRATCH/prof.json from stdin.
profile() { cat > "$SCRATCH/prof.json"; }

@test "seccomp: without --seccomp, chown to root fails (control)" {
	is_root && skip "root may chown"
	run "$KRILL" run -b "$SCRATCH:/mnt" "$TINY" -- chown 0:0 /mnt/f
	[ "$status" -ne 0 ] || fail "chown succeeded without the filter"
}

@test "seccomp: --seccomp makes chown 0:0 succeed without effect" {
	local before
	before=$(stat -c %u:%g "$SCRATCH/f")
	run "$KRILL" run --seccomp -b "$SCRATCH:/mnt" "$TINY" -- sh -c 'chown 0:0 /mnt/f && chgrp 0 /mnt/f && echo ok'
	assert_status 0
	assert_output ok
	[ "$(stat -c %u:%g "$SCRATCH/f")" = "$before" ] || fail "owner changed: $(stat -c %u:%g "$SCRATCH/f")"
}

@test "seccomp: --seccomp makes mknod of a device succeed without creating it" {
	run "$KRILL" run --seccomp -b "$SCRATCH:/mnt" "$TINY" -- sh -c 'mknod /mnt/null c 1 3 && mknod /mnt/loop b 7 0 && echo ok'
	assert_status 0
	assert_output ok
	[ ! -e "$SCRATCH/null" ] && [ ! -e "$SCRATCH/loop" ] || fail "a device node was created"
}

@test "seccomp: --seccomp still makes fifos for real" {
	run "$KRILL" run --seccomp -b "$SCRATCH:/mnt" "$TINY" -- mknod /mnt/fifo p
	assert_status 0
	[ -p "$SCRATCH/fifo" ] || fail "no fifo"
}

@test "seccomp: a profile denying mkdir with errnoRet 1 gives Operation not permitted" {
	run "$KRILL" run --seccomp-profile="$FIX/mkdir-eperm.json" -b "$SCRATCH:/mnt" "$TINY" -- mkdir /mnt/d
	[ "$status" -ne 0 ] || fail "mkdir succeeded"
	assert_contains "Operation not permitted"
	[ ! -e "$SCRATCH/d" ] || fail "directory created"
}

@test "seccomp: Docker's default profile loads and a shell runs under it" {
	run "$KRILL" run --seccomp-profile="$FIX/docker-default.json" "$TINY" -- sh -c 'echo hi; ls / >/dev/null && echo listed'
	assert_status 0
	assert_line hi
	assert_line listed
}

@test "seccomp: --seccomp and --seccomp-profile together" {
	run "$KRILL" run --seccomp --seccomp-profile="$FIX/mkdir-eperm.json" -b "$SCRATCH:/mnt" "$TINY" -- sh -c 'chown 0:0 /mnt/f && echo chowned; mkdir /mnt/d'
	assert_line chowned
	assert_contains "Operation not permitted"
}

@test "seccomp: malformed JSON -> 125 with file:line:column" {
	printf '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n}\n' | profile
	run "$KRILL" run --seccomp-profile="$SCRATCH/prof.json" "$TINY" -- true
	assert_status 125
	assert_line "krill: error: $SCRATCH/prof.json:3:1: invalid JSON: string or '}' expected near '}'"
}

@test "seccomp: unknown action -> 125 with file:line and syscall" {
	printf '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [\n    {"names": ["mkdir"],\n     "action": "SCMP_ACT_DENY"}\n  ]\n}\n' | profile
	run "$KRILL" run --seccomp-profile="$SCRATCH/prof.json" "$TINY" -- true
	assert_status 125
	assert_line "krill: error: $SCRATCH/prof.json:5: syscall 'mkdir': unknown action 'SCMP_ACT_DENY'"
}

@test "seccomp: unknown system call name -> 125 with file:line and syscall" {
	printf '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [\n    {"names": ["mkdr"], "action": "SCMP_ACT_ERRNO"}\n  ]\n}\n' | profile
	run "$KRILL" run --seccomp-profile="$SCRATCH/prof.json" "$TINY" -- true
	assert_status 125
	assert_line "krill: error: $SCRATCH/prof.json:4: syscall 'mkdr': unknown system call"
}

@test "seccomp: bad operator -> 125 with file:line and syscall" {
	printf '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [\n    {"names": ["socket"], "action": "SCMP_ACT_ERRNO",\n     "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}\n  ]\n}\n' | profile
	run "$KRILL" run --seccomp-profile="$SCRATCH/prof.json" "$TINY" -- true
	assert_status 125
	assert_line "krill: error: $SCRATCH/prof.json:5: syscall 'socket': unknown operator 'SCMP_CMP_ABOUT'"
}

@test "seccomp: a missing profile file -> 125" {
	run "$KRILL" run --seccomp-profile="$SCRATCH/none.json" "$TINY" -- true
	assert_status 125
	assert_contains "$SCRATCH/none.json"
	assert_contains "No such file or directory"
}

@test "seccomp: a profile denying everything -> 125 with one error line, not SIGSEGV (issue 9)" {
	printf '{"defaultAction": "SCMP_ACT_ERRNO"}\n' >"$SCRATCH/deny.json"
	run "$KRILL" run --seccomp-profile="$SCRATCH/deny.json" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/deny.json: the profile denies execve, which krill must call after loading it
krill: hint: a profile must allow execve, write, exit and exit_group (Docker's default profile does)"
	# A profile that kills exit_group: krill could not even end.
	printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["exit_group"], "action": "SCMP_ACT_KILL_PROCESS"}]}\n' >"$SCRATCH/noexit.json"
	run "$KRILL" run --seccomp --seccomp-profile="$SCRATCH/noexit.json" "$TINY" -- true
	assert_status 125
	assert_line "krill: error: $SCRATCH/noexit.json: the profile denies exit_group, which krill must call after loading it"
}
