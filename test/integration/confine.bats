#!/usr/bin/env bats
# Issue 9: every process that enters a container (krill exec, --join-pid)
# gets the confinement of its first process; the record directory and the
# records in it are checked before krill trusts them; names are validated.
load helper
bats_require_minimum_version 1.5.0

setup() {
	setup_scratch
	touch "$SCRATCH/f"
	unset XDG_RUNTIME_DIR
	RDIR=/tmp/krill-$(id -u)
}
teardown() {
	[ -n "${BG:-}" ] && { kill "$BG" 2>/dev/null; wait "$BG" 2>/dev/null; }
	teardown_scratch
	assert_no_leftovers
}

# Start a named container running `sleep 30` and wait for its record.
start_named() { # NAME OPTIONS...
	local name=$1
	shift
	"$KRILL" run --name="$name" "$@" -b "$SCRATCH:/mnt" "$TINY" -- sleep 30 &
	BG=$!
	for _ in $(seq 50); do [ -e "$RDIR/$name.json" ] && return 0; sleep 0.1; done
	fail "no record for $name"
}

@test "confine: krill exec and --join-pid keep --seccomp (fake root), as the first process has it" {
	start_named "sc$$" --seccomp
	run "$KRILL" exec "sc$$" -- sh -c 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; chown 0:0 /mnt/f && echo chown-ok'
	assert_status 0
	assert_output "NoNewPrivs:	1
Seccomp:	2
chown-ok"
	sleeper=$(pgrep -u "$(id -u)" -f '^sleep 30$' | head -1)
	run "$KRILL" run --join-pid="$sleeper" "$TINY" -- sh -c 'grep "^Seccomp:" /proc/self/status; chown 0:0 /mnt/f && echo chown-ok'
	assert_status 0
	assert_output "Seccomp:	2
chown-ok"
	# Control: without the filter, the same chown fails.
	run "$KRILL" run -b "$SCRATCH:/mnt" "$TINY" -- chown 0:0 /mnt/f
	[ "$status" -ne 0 ] || fail "chown succeeded without --seccomp"
}

@test "confine: krill exec keeps a --seccomp-profile" {
	start_named "sp$$" --seccomp-profile="$STAGE/test/fixtures/seccomp/mkdir-eperm.json"
	run "$KRILL" exec "sp$$" -- sh -c 'grep "^Seccomp:" /proc/self/status; mkdir /mnt/d'
	assert_line "Seccomp:	2"
	assert_contains "Operation not permitted"
	[ ! -e "$SCRATCH/d" ] || fail "mkdir worked in krill exec"
}

@test "confine: --join-pid into an unnamed container with a seccomp filter is refused" {
	"$KRILL" run --seccomp "$TINY" -- sleep 30 &
	BG=$!
	local p=""
	for _ in $(seq 50); do
		p=$(pgrep -u "$(id -u)" -f '^sleep 30$' | head -1)
		[ -n "$p" ] && grep -q '^Seccomp:.*2' /proc/$p/status && break
		sleep 0.1
	done
	run "$KRILL" run --join-pid="$p" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: process $p runs under a seccomp filter, which krill can copy only from a named container
krill: hint: start the container with --name=NAME and use \`krill exec NAME\`"
}

@test "confine: invalid container names are refused" {
	run "$KRILL" exec "../krill-0/x" -- true
	assert_status 125
	assert_output "krill: error: ../krill-0/x: invalid container name: a name starts with a letter or a digit"
	run "$KRILL" exec "a/b" -- true
	assert_status 125
	assert_output "krill: error: a/b: invalid container name: a name holds only letters, digits, '_', '.' and '-'"
	run "$KRILL" run --name=a/b "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --name=a/b: a name holds only letters, digits, '_', '.' and '-'"
	run "$KRILL" run --name=123 "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --name=123: a name of digits only would be taken for a pid"
	run "$KRILL" run --name="$(printf 'x%.0s' $(seq 65))" "$TINY" -- true
	assert_status 125
	assert_contains "expected 1-64 characters"
}

@test "confine: a record without a mount namespace is refused, not run on the host" {
	start_named "nm$$"
	# Rewrite the record (as its owner could) with no namespace fds.
	sed -i 's/"fds":{[^}]*}/"fds":{}/' "$RDIR/nm$$.json"
	grep -q '"fds":{}' "$RDIR/nm$$.json" || fail "record not rewritten: $(cat "$RDIR/nm$$.json")"
	run "$KRILL" exec "nm$$" -- sh -c 'echo ran; touch /tmp/host-'$$
	assert_status 125
	assert_output "krill: error: nm$$: the record has no mount namespace: refusing to run on the host"
	[ ! -e /tmp/host-$$ ] || { rm -f /tmp/host-$$; fail "ran on the host"; }
	# An fd that is not the namespace it claims to be.
	sed -i 's/"fds":{}/"fds":{"mnt":0}/' "$RDIR/nm$$.json"
	run "$KRILL" exec "nm$$" -- true
	assert_status 125
	assert_output "krill: error: nm$$: the record's fd 0 is not a namespace of the right type"
}

@test "confine: a runtime directory open to others, or a symlink, is refused" {
	# Leave our real directory alone: use a private XDG_RUNTIME_DIR.
	export XDG_RUNTIME_DIR=$SCRATCH/xdg
	mkdir -m 0700 "$XDG_RUNTIME_DIR"
	mkdir -m 0755 "$XDG_RUNTIME_DIR/krill"
	run "$KRILL" ps
	assert_status 125
	assert_output "krill: error: runtime directory $XDG_RUNTIME_DIR/krill is open to other users (mode 0755)
krill: hint: chmod 700 $XDG_RUNTIME_DIR/krill, after checking that no one planted records in it"
	run "$KRILL" run --name="m$$" "$TINY" -- true
	assert_status 125
	assert_line "krill: error: runtime directory $XDG_RUNTIME_DIR/krill is open to other users (mode 0755)"
	rmdir "$XDG_RUNTIME_DIR/krill"
	mkdir -m 0700 "$SCRATCH/elsewhere"
	ln -s "$SCRATCH/elsewhere" "$XDG_RUNTIME_DIR/krill"
	run "$KRILL" exec "m$$" -- true
	assert_status 125
	assert_output "krill: error: runtime directory $XDG_RUNTIME_DIR/krill is not a directory (a symlink?)
krill: hint: someone may have made it to catch krill's records: remove it, or set XDG_RUNTIME_DIR to a private directory"
}
