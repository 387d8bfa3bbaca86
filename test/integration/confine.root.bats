#!/usr/bin/env bats
# Issue 9, as root: krill exec and --join-pid keep the container's uid,
# capabilities, seccomp filter, no_new_privs and cgroup; the record
# directory and records planted by a second user are refused.
load helper
bats_require_minimum_version 1.5.0

USER1=${KRILL_TEST_USER:-krilltest}
USER2=${USER1}2

setup_file() {
	is_root || return 0
	id "$USER2" >/dev/null 2>&1 || useradd -M -s /bin/sh "$USER2"
}
teardown_file() {
	is_root || return 0
	userdel "$USER2" 2>/dev/null || true
	rm -rf "/tmp/krill-$U2ID"
}

setup() {
	is_root || skip "needs root"
	setup_scratch
	chmod 0777 "$SCRATCH"
	unset XDG_RUNTIME_DIR
	U1ID=$(id -u "$USER1")
	U2ID=$(id -u "$USER2")
	D1=/tmp/krill-$U1ID
	D2=/tmp/krill-$U2ID
	BGS=()
}
teardown() {
	local p
	for p in "${BGS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	# Put the test user's own runtime directory back, if a test moved it.
	if [ -e "$D1.aside-$$" ]; then rm -rf "$D1"; mv "$D1.aside-$$" "$D1"; fi
	rm -rf "$D2"
	teardown_scratch
	assert_no_leftovers
}

as() { # USER CMD...: run as USER, without a runtime dir of ours
	local u=$1
	shift
	runuser -u "$u" -- env -u XDG_RUNTIME_DIR "$@"
}

wait_record() { # FILE
	for _ in $(seq 50); do [ -e "$1" ] && return 0; sleep 0.1; done
	fail "no record $1"
}

status_of() { # the fields the tests compare, from /proc/self/status
	echo '{ id; grep -E "^(Uid|Gid|Groups|CapBnd|CapEff|CapPrm|NoNewPrivs|Seccomp):" /proc/self/status; }'
}

@test "confine (root): exec and --join-pid get the first process's uid, caps, seccomp, nnp and cgroup" {
	local prof=$STAGE/test/fixtures/seccomp/mkdir-eperm.json opts
	opts=(-u 1005 --cap-drop=ALL --seccomp-profile="$prof" --pids-limit=50)
	"$KRILL" run "${opts[@]}" --name="x$$" -b "$SCRATCH:/mnt" "$TINY" -- \
		sh -c "$(status_of) > /mnt/main; exec sleep 30" &
	BGS+=($!)
	wait_record "/tmp/krill-0/x$$.json"
	for _ in $(seq 50); do [ -s "$SCRATCH/main" ] && break; sleep 0.1; done
	main=$(pgrep -f '^sleep 30$' -n)
	grep -q '^Seccomp:	2' "$SCRATCH/main" || fail "the first process has no filter: $(cat "$SCRATCH/main")"
	grep -q '^CapEff:	0000000000000000' "$SCRATCH/main" || fail "first process: $(cat "$SCRATCH/main")"

	run "$KRILL" exec "x$$" -- sh -c "$(status_of)"
	assert_status 0
	[ "$output" = "$(cat "$SCRATCH/main")" ] || fail "exec: <$output> vs main <$(cat "$SCRATCH/main")>"
	run "$KRILL" exec "x$$" -- mkdir /mnt/d
	assert_status 1
	assert_contains "Operation not permitted"
	[ ! -e "$SCRATCH/d" ] || fail "mkdir worked in krill exec"
	run "$KRILL" run --join-pid="$main" "$TINY" -- sh -c "$(status_of)"
	assert_status 0
	[ "$output" = "$(cat "$SCRATCH/main")" ] || fail "--join-pid: <$output> vs main <$(cat "$SCRATCH/main")>"

	# The cgroup, seen from the host: the exec'd process is in the
	# container's (pids limit and all), and sees it as its root.
	"$KRILL" exec "x$$" -- sh -c 'cat /proc/self/cgroup > /mnt/cg; exec sleep 29' &
	BGS+=($!)
	local e=""
	for _ in $(seq 50); do e=$(pgrep -f '^sleep 29$' -n) && break; sleep 0.1; done
	[ -n "$e" ] || fail "exec'd sleep not found"
	[ "$(cat /proc/$e/cgroup)" = "$(cat /proc/$main/cgroup)" ] ||
		fail "cgroups differ: exec <$(cat /proc/$e/cgroup)> main <$(cat /proc/$main/cgroup)>"
	grep -q 'krill/x'$$ /proc/$e/cgroup || fail "not in the container's cgroup: $(cat /proc/$e/cgroup)"
	grep -q '^0::/$' "$SCRATCH/cg" || fail "cgroup namespace: $(cat "$SCRATCH/cg")"
}

@test "confine (root): a /tmp/krill-UID made first by another user gives one error line and a hint" {
	[ -e "$D1" ] && mv "$D1" "$D1.aside-$$"
	install -d -o "$USER2" -m 0700 "$D1"
	local msg="krill: error: runtime directory $D1 belongs to uid $U2ID, not to you (uid $U1ID)
krill: hint: another user made it first: have it removed (by its owner or root), or set XDG_RUNTIME_DIR to a private directory of yours"
	run as "$USER1" "$KRILL" run --name="p$$" "$TINY" -- true
	assert_status 125
	assert_output "$msg"
	run as "$USER1" "$KRILL" ps
	assert_status 125
	assert_output "$msg"
	run as "$USER1" "$KRILL" exec "p$$" -- true
	assert_status 125
	assert_output "$msg"
	# A symlink to another user's directory.
	rmdir "$D1"
	install -d -o "$USER2" -m 0700 "$SCRATCH/theirs"
	ln -s "$SCRATCH/theirs" "$D1"
	run as "$USER1" "$KRILL" ps
	assert_status 125
	assert_line "krill: error: runtime directory $D1 is not a directory (a symlink?)"
	rm -f "$D1"
}

@test "confine (root): krill exec of another user's container or record is refused" {
	as "$USER2" "$KRILL" run --name="o$$" "$TINY" -- sleep 30 &
	BGS+=($!)
	wait_record "$D2/o$$.json"
	# By path: names can't leave the caller's directory.
	run as "$USER1" "$KRILL" exec "../krill-$U2ID/o$$" -- true
	assert_status 125
	assert_output "krill: error: ../krill-$U2ID/o$$: invalid container name: a name starts with a letter or a digit"
	# Their record planted in our directory.
	as "$USER1" "$KRILL" ps >/dev/null
	cp -p "$D2/o$$.json" "$D1/o$$.json"
	run as "$USER1" "$KRILL" exec "o$$" -- true
	assert_status 125
	assert_output "krill: error: record o$$.json: not a regular file of yours"
	# ... even when it is ours: its supervisor is not.
	chown "$USER1" "$D1/o$$.json"
	sup=$(sed 's/.*"pid":\([0-9]*\),.*/\1/' "$D1/o$$.json")
	run as "$USER1" "$KRILL" exec "o$$" -- true
	assert_status 125
	assert_output "krill: error: o$$: the record names a supervisor (pid $sup) that isn't yours"
	rm -f "$D1/o$$.json"
	kill "$sup" # the second user's container, which this test started
}

@test "confine (root): a --join peer's command is in the winner's cgroup; other capabilities are refused" {
	local tag=cj$$ i
	for i in 1 2; do
		"$KRILL" run --join-ct=2 --join-tag="$tag" --pids-limit=50 --cap-drop=ALL "$TINY" -- \
			sh -c 'grep "^CapEff:" /proc/self/status; exec sleep 3' >"$SCRATCH/out.$i" 2>&1 &
		BGS+=($!)
	done
	local p=()
	for _ in $(seq 50); do
		mapfile -t p < <(pgrep -f '^sleep 3$')
		[ "${#p[@]}" -ge 2 ] && break
		sleep 0.1
	done
	[ "${#p[@]}" = 2 ] || fail "expected 2 commands, found ${#p[@]}: $(cat "$SCRATCH"/out.*)"
	[ "$(cat /proc/${p[0]}/cgroup)" = "$(cat /proc/${p[1]}/cgroup)" ] ||
		fail "peers in different cgroups: <$(cat /proc/${p[0]}/cgroup)> <$(cat /proc/${p[1]}/cgroup)>"
	grep -q 'krill/run-' /proc/${p[0]}/cgroup || fail "not in a krill cgroup: $(cat /proc/${p[0]}/cgroup)"
	[ "$(stat -L -c %i /proc/${p[0]}/ns/cgroup)" != "$(stat -L -c %i /proc/self/ns/cgroup)" ] &&
		[ "$(stat -L -c %i /proc/${p[1]}/ns/cgroup)" != "$(stat -L -c %i /proc/self/ns/cgroup)" ] ||
		fail "a peer has the host's cgroup namespace"
	wait "${BGS[@]}"
	BGS=()
	[ "$(cat "$SCRATCH"/out.* | sort -u)" = "CapEff:	0000000000000000" ] || fail "caps: $(cat "$SCRATCH"/out.*)"
	# A peer asking for more capabilities than the winner's is refused
	# (and the winner, left alone, gives up after the short timeout).
	tag=ck$$
	printf '[join]\ntimeout = 2\n' >"$SCRATCH/krill.conf"
	export KRILL_CONFIG=$SCRATCH/krill.conf
	"$KRILL" run --join-ct=2 --join-tag="$tag" --cap-drop=ALL "$TINY" -- sleep 1 &
	BGS+=($!)
	sleep 0.3
	run "$KRILL" run --join-ct=2 --join-tag="$tag" --cap-drop=ALL --cap-add=SYS_ADMIN "$TINY" -- true
	assert_status 125
	assert_contains "cap-add (this peer: 'SYS_ADMIN', the winner: '')"
	wait "${BGS[@]}" || true
	BGS=()
}
