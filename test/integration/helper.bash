# Shared by every bats file.  Loaded with `load helper`.
#
# KRILL_STAGE is the staging directory test/run-tests made (world-readable);
# when a bats file is run by hand it falls back to the checkout.
STAGE=${KRILL_STAGE:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
KRILL=$STAGE/krill
KRILL_OCI=$STAGE/krill-oci
IMAGES=$STAGE/images
[ -d "$IMAGES/tiny" ] || IMAGES=$STAGE/images/build
TINY=$IMAGES/tiny
TINY_SQFS=$IMAGES/tiny.sqfs
export KRILL_CONFIG=      # tests run without the site config unless they set one
export LC_ALL=C

# Scratch space for one test, removed by teardown_scratch.
setup_scratch() {
	SCRATCH=$(mktemp -d "${BATS_TMPDIR:-/tmp}/krill-t.XXXXXX")
}
teardown_scratch() {
	[ -n "${SCRATCH:-}" ] && rm -rf "$SCRATCH"
}

# Fail with a readable message.
fail() {
	echo "$*" >&2
	return 1
}

assert_status() { # EXPECTED
	[ "$status" -eq "$1" ] || fail "expected status $1, got $status; output: $output"
}
assert_output() { # EXPECTED
	[ "$output" = "$1" ] || fail "expected output <$1>, got <$output>"
}
assert_line() { # EXPECTED: some line of $output equals it
	local l
	for l in "${lines[@]}"; do [ "$l" = "$1" ] && return 0; done
	fail "no line <$1> in output: $output"
}
assert_contains() { # SUBSTRING
	[[ "$output" == *"$1"* ]] || fail "<$1> not in output: $output"
}

# Our own krill processes named NAME: those of this staging directory
# (other checkouts' tests may run at the same time, as the same user).
krill_pids() { # NAME
	local p
	for p in $(pgrep -u "$(id -u)" -x "$1"); do
		[[ $(readlink "/proc/$p/exe" 2>/dev/null) == "$STAGE"/* ]] && echo "$p"
	done
	return 0
}

# Nothing of krill's may remain: processes of this user, FUSE mounts visible
# to us, /dev/shm objects, temp files.
krill_leftovers() {
	local out=""
	local p
	p=$(krill_pids krill)
	[ -n "$p" ] && out+="processes: $p; "
	grep -q ' - fuse\.krill ' /proc/self/mountinfo &&
		out+="fuse mount: $(grep ' - fuse\.krill ' /proc/self/mountinfo); "
	grep -q ' - tmpfs krill ' /proc/self/mountinfo && out+="staging tmpfs mount; "
	# only ours (krill-UID-TAG): other users' tests run at the same time
	local shm
	shm=$(ls /dev/shm 2>/dev/null | grep "^\(sem\.\)\?krill-$(id -u)-" || true)
	[ -n "$shm" ] && out+="shm: $shm; "
	ls -d /tmp/krill.* 2>/dev/null | grep -q . && out+="tmp: $(ls -d /tmp/krill.*); "
	echo -n "$out"
}
assert_no_leftovers() {
	local l
	# Give exiting processes a moment to be reaped.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		l=$(krill_leftovers)
		[ -z "$l" ] && return 0
		sleep 0.2
	done
	fail "left behind: $l"
}

is_root() { [ "$(id -u)" = 0 ]; }

# Run "$@" with every file descriptor above 2 closed (bats keeps 3 and more
# open, and they would be inherited), the way `run` does: sets status and
# output (stdout and stderr together).
run_closed_fds() {
	run bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null; exec "$@"' bash "$@"
}
