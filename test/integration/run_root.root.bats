#!/usr/bin/env bats
# krill run as root: no user namespace, --uid/--gid switch IDs; a setuid
# install refuses to run (SPEC §5, §12).
load helper

USER_NAME=${KRILL_TEST_USER:-krilltest}

setup() {
	is_root || skip "needs root"
	setup_scratch
	chmod 0755 "$SCRATCH"
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

@test "root: a directory image runs without a user namespace, in a new mount namespace" {
	run "$KRILL" run "$TINY" -- readlink /proc/self/ns/user
	assert_status 0
	assert_output "$(readlink /proc/self/ns/user)"
	run "$KRILL" run "$TINY" -- readlink /proc/self/ns/mnt
	assert_status 0
	[ "$output" != "$(readlink /proc/self/ns/mnt)" ] || fail "mount namespace is the host's"
	run "$KRILL" run "$TINY" -- sh -c 'id -u; id -g; cat /proc/self/uid_map'
	assert_output "0
0
         0          0 4294967295"
}

@test "root: --uid/--gid switch to that user, without supplementary groups" {
	run "$KRILL" run --uid=1000 --gid=1000 "$TINY" -- sh -c 'id -u; id -g; id -G; grep NoNewPrivs /proc/self/status'
	assert_status 0
	assert_output "1000
1000
1000
NoNewPrivs:	1"
	run "$KRILL" run --uid=1000 "$TINY" -- sh -c 'id -u; id -g'
	assert_output "1000
0"
}

@test "root: the IDs can't be raised back" {
	run "$KRILL" run --uid=1000 --gid=1000 "$TINY" -- sh -c 'grep -E "^(Cap(Eff|Prm)|Uid|Gid):" /proc/self/status'
	assert_status 0
	assert_line "Uid:	1000	1000	1000	1000"
	assert_line "Gid:	1000	1000	1000	1000"
	assert_line "CapPrm:	0000000000000000"
	assert_line "CapEff:	0000000000000000"
}

@test "root: the image is read-only, and -W gives an overlay" {
	run "$KRILL" run "$TINY" -- touch /x
	assert_status 1
	assert_output "touch: /x: Read-only file system"
	run "$KRILL" run -W "$TINY" -- sh -c 'echo y > /y && cat /y'
	assert_status 0
	assert_output "y"
	[ ! -e "$TINY/y" ]
}

@test "root: /etc/passwd inside names root and the chosen user" {
	local name
	name=$(getent passwd 1000 | cut -d: -f1)
	run "$KRILL" run --uid=1000 --gid=1000 "$TINY" -- id -un
	assert_status 0
	assert_output "${name:-krilluser1000}"
}

@test "root: no mount reaches the host" {
	local before after
	before=$(wc -l < /proc/self/mountinfo)
	run "$KRILL" run -W -b "$SCRATCH:/mnt" "$TINY" -- true
	assert_status 0
	after=$(wc -l < /proc/self/mountinfo)
	[ "$before" = "$after" ] || fail "mounts before: $before, after: $after"
}

# A copy of krill with a setuid or setgid bit, run by the test user.
setid_copy() { # MODE
	local dir
	for dir in "$SCRATCH" /var/tmp; do
		findmnt -no OPTIONS -T "$dir" | grep -qw nosuid && continue
		SETID_DIR=$(mktemp -d "$dir/krill-setuid.XXXXXX")
		chmod 0755 "$SETID_DIR"
		cp "$KRILL" "$SETID_DIR/krill"
		chown root:root "$SETID_DIR/krill"
		chmod "$1" "$SETID_DIR/krill"
		return 0
	done
	skip "no filesystem without nosuid to test on"
}

@test "root: a setuid-installed krill refuses to run" {
	id "$USER_NAME" >/dev/null 2>&1 || skip "no test user $USER_NAME"
	setid_copy 4755
	run runuser -u "$USER_NAME" -- "$SETID_DIR/krill" run "$TINY" -- true
	rm -rf "$SETID_DIR"
	assert_status 125
	assert_output "krill: error: krill is installed setuid or setgid: refusing to run
krill: hint: krill needs no privileges; remove the bit with chmod u-s,g-s"
}

@test "root: a setgid-installed krill refuses to run" {
	id "$USER_NAME" >/dev/null 2>&1 || skip "no test user $USER_NAME"
	setid_copy 2755
	run runuser -u "$USER_NAME" -- "$SETID_DIR/krill" version
	rm -rf "$SETID_DIR"
	assert_status 125
	assert_line "krill: error: krill is installed setuid or setgid: refusing to run"
}
