#!/usr/bin/env bats
# Capabilities as root without --userns: the default set, --cap-add,
# --cap-drop, ALL, and a non-root --uid (SPEC §5, §9).
load helper

DEFAULT=00000000a80425fb # Docker's default set

setup() {
	is_root || skip "capabilities are applied only when krill runs as root"
	setup_scratch
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

# The value of a /proc/self/status field inside the container: cap FIELD [OPTIONS...]
cap() {
	local field=$1
	shift
	run "$KRILL" run "$@" "$TINY" -- grep "^$field:" /proc/self/status
	assert_status 0
	echo "${output##*[[:space:]]}"
}

@test "caps: the default set in bounding, effective, permitted, inheritable; ambient empty" {
	[ "$(cap CapBnd)" = $DEFAULT ] || fail "CapBnd $(cap CapBnd)"
	[ "$(cap CapEff)" = $DEFAULT ] || fail "CapEff $(cap CapEff)"
	[ "$(cap CapPrm)" = $DEFAULT ] || fail "CapPrm $(cap CapPrm)"
	[ "$(cap CapInh)" = $DEFAULT ] || fail "CapInh $(cap CapInh)"
	[ "$(cap CapAmb)" = 0000000000000000 ] || fail "CapAmb $(cap CapAmb)"
}

@test "caps: --cap-drop=ALL leaves nothing" {
	local f
	for f in CapBnd CapEff CapPrm CapInh CapAmb; do
		[ "$(cap $f --cap-drop=ALL)" = 0000000000000000 ] || fail "$f $(cap $f --cap-drop=ALL)"
	done
}

@test "caps: --cap-add=SYS_ADMIN adds bit 21" {
	[ "$(cap CapEff --cap-add=SYS_ADMIN)" = 00000000a82425fb ] || fail "$(cap CapEff --cap-add=SYS_ADMIN)"
	[ "$(cap CapBnd --cap-add=cap_sys_admin)" = 00000000a82425fb ] || fail "lower case"
}

@test "caps: --cap-drop=ALL --cap-add=CHOWN leaves only CHOWN" {
	[ "$(cap CapEff --cap-drop=ALL --cap-add=CAP_CHOWN)" = 0000000000000001 ] || fail "$(cap CapEff --cap-drop=ALL --cap-add=CAP_CHOWN)"
}

@test "caps: --cap-drop=NET_RAW removes bit 13" {
	[ "$(cap CapEff --cap-drop=NET_RAW)" = 00000000a80405fb ] || fail "$(cap CapEff --cap-drop=NET_RAW)"
}

@test "caps: a non-root --uid keeps the bounding set but no effective caps" {
	[ "$(cap CapBnd --uid=1000)" = $DEFAULT ] || fail "CapBnd"
	[ "$(cap CapEff --uid=1000)" = 0000000000000000 ] || fail "CapEff"
	[ "$(cap CapPrm --uid=1000)" = 0000000000000000 ] || fail "CapPrm"
}

@test "caps: an unknown capability -> 125" {
	run "$KRILL" run --cap-add=SYS_FLY "$TINY" -- true
	assert_status 125
	assert_line "krill: error: --cap-add=SYS_FLY: unknown capability"
	run "$KRILL" run --cap-drop=bogus "$TINY" -- true
	assert_status 125
	assert_line "krill: error: --cap-drop=bogus: unknown capability"
}

@test "caps: Docker's default profile allows what SYS_ADMIN allows only with --cap-add=SYS_ADMIN" {
	run "$KRILL" run --seccomp-profile="$STAGE/test/fixtures/seccomp/docker-default.json" "$TINY" -- unshare -U true
	[ "$status" -ne 0 ] || fail "unshare allowed without SYS_ADMIN"
	run "$KRILL" run --cap-add=SYS_ADMIN --seccomp-profile="$STAGE/test/fixtures/seccomp/docker-default.json" "$TINY" -- unshare -U true
	assert_status 0
}
