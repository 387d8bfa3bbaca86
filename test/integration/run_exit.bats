#!/usr/bin/env bats
# krill run: exit statuses and error messages (SPEC §12).
load helper
bats_require_minimum_version 1.5.0

setup() { setup_scratch; }
teardown() {
	teardown_scratch
	assert_no_leftovers
}

@test "exit: the command's own status is krill's" {
	run "$KRILL" run "$TINY" -- sh -c 'exit 7'
	assert_status 7
	assert_output ""
	run "$KRILL" run "$TINY" -- true
	assert_status 0
	run "$KRILL" run "$TINY" -- sh -c 'exit 124'
	assert_status 124
}

@test "exit: a command killed by SIGTERM gives 143" {
	run "$KRILL" run "$TINY" -- sh -c 'kill -TERM $$'
	assert_status 143
}

@test "exit: a command killed by SIGKILL gives 137" {
	run "$KRILL" run "$TINY" -- sh -c 'kill -KILL $$'
	assert_status 137
}

@test "exit: a missing command gives 127 and names it" {
	run -127 "$KRILL" run "$TINY" -- no-such-command
	assert_status 127
	assert_output "krill: error: can't execute no-such-command: No such file or directory"
	run -127 "$KRILL" run "$TINY" -- /no/such/path
	assert_status 127
	assert_output "krill: error: can't execute /no/such/path: No such file or directory"
}

@test "exit: a file that isn't executable gives 126" {
	run "$KRILL" run "$TINY" -- /bin/not-exec
	assert_status 126
	assert_output "krill: error: can't execute /bin/not-exec: Permission denied"
}

@test "exit: an unknown long option gives 125 and the exact message" {
	run "$KRILL" run --bogus "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bogus: unknown option
krill: hint: see \`krill run --help\`"
}

@test "exit: an unknown short option, a missing argument, an argument to a flag" {
	run "$KRILL" run -x "$TINY" -- true
	assert_status 125
	assert_line "krill: error: -x: unknown option"
	run "$KRILL" run "$TINY" --name
	assert_status 125
	assert_line "krill: error: --name: missing argument"
	run "$KRILL" run "$TINY" -b
	assert_status 125
	assert_line "krill: error: -b: missing argument"
	run "$KRILL" run --home=x "$TINY" -- true
	assert_status 125
	assert_line "krill: error: --home: option takes no argument"
}

@test "exit: a bad option value gives 125" {
	run "$KRILL" run --uid=abc "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --uid=abc: expected a number (0-4294967294)"
	run "$KRILL" run --cd=rel "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --cd=rel: must be an absolute path"
}

@test "exit: no image gives 125" {
	run "$KRILL" run
	assert_status 125
	assert_output "krill: error: no image given
krill: hint: usage: krill run [OPTIONS] IMAGE [--] CMD..."
}

@test "exit: a missing image gives 125 and the exact message" {
	run "$KRILL" run "$SCRATCH/nothing" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/nothing: can't open image: No such file or directory"
}

@test "exit: an image of unknown type gives 125 and its first bytes" {
	printf 'hello world' > "$SCRATCH/img"
	run "$KRILL" run "$SCRATCH/img" -- true
	assert_status 125
	assert_output "krill: error: $(realpath "$SCRATCH/img"): unknown image type (first bytes: 68 65 6c 6c)"
	printf 'ab' > "$SCRATCH/short"
	run "$KRILL" run "$SCRATCH/short" -- true
	assert_status 125
	assert_output "krill: error: $(realpath "$SCRATCH/short"): unknown image type (first bytes: 61 62)"
	: > "$SCRATCH/empty"
	run "$KRILL" run "$SCRATCH/empty" -- true
	assert_status 125
	assert_output "krill: error: $(realpath "$SCRATCH/empty"): unknown image type (first bytes: none, the file is empty)"
}

@test "exit: a bad --cd directory gives 125" {
	run "$KRILL" run --cd=/no/such/dir "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --cd=/no/such/dir: can't enter directory in the container: No such file or directory"
}

@test "exit: --cd starts the command there" {
	run "$KRILL" run --cd=/etc "$TINY" -- pwd
	assert_status 0
	assert_output "/etc"
	run "$KRILL" run "$TINY" -- pwd
	assert_output "/"
}

@test "exit: options after IMAGE, and -- before the command" {
	run "$KRILL" run "$TINY" --uid=0 id -u
	assert_status 0
	assert_output "0"
	run "$KRILL" run "$TINY" --uid=0 -- id -u
	assert_output "0"
	# After the command starts, options belong to the command.
	run "$KRILL" run "$TINY" -- echo --uid=0
	assert_output "--uid=0"
}

@test "exit: --feature answers 0 or 1" {
	run "$KRILL" run --feature=no-such-feature
	assert_status 1
	assert_output ""
}

@test "exit: unknown command of krill gives 125" {
	run "$KRILL" frobnicate
	assert_status 125
	assert_output "krill: error: frobnicate: unknown command
krill: hint: see \`krill --help\`"
}
