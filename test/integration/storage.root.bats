#!/usr/bin/env bats
# Images run by name: another user can't plant them (issue 9 item 2).  A
# second test user plants a storage directory or an image where the test
# user's `krill run NAME` looks; krill must refuse it, naming the owner or
# the mode.  Root is needed to have two users; krill itself runs as the
# unprivileged test user.
load helper
bats_require_minimum_version 1.5.0

U=${KRILL_TEST_USER:-krilltest}
U2=${U}2

setup_file() {
	is_root || return 0
	id "$U" >/dev/null 2>&1 || useradd -m -s /bin/bash "$U"
	if ! id "$U2" >/dev/null 2>&1; then
		useradd -M -s /usr/sbin/nologin "$U2"
		touch "$BATS_FILE_TMPDIR/made-u2"
	fi
}
teardown_file() {
	is_root || return 0
	[ -e "$BATS_FILE_TMPDIR/made-u2" ] && userdel "$U2"
	return 0
}

setup() {
	is_root || skip "needs root (two users)"
	setup_scratch
	chmod 0755 "$SCRATCH"
	STORE=/var/tmp/$U.krill
	MADE_STORE=""
	UID1=$(id -u "$U")
	UID2=$(id -u "$U2")
}
teardown() {
	[ -n "${MADE_STORE:-}" ] && rm -rf "$STORE"
	teardown_scratch
}

as_user() { # run krill as the test user, without a config file
	run runuser -u "$U" -- env -u CH_IMAGE_STORAGE KRILL_CONFIG= USER="$U" "$KRILL" "$@"
}

# The test user's default storage, /var/tmp/U.krill, as the issue's attack.
need_free_store() {
	[ -e "$STORE" ] && skip "skipped: $STORE already exists (not ours to change)"
	MADE_STORE=1
}

@test "storage: a directory another user planted at /var/tmp/USER.krill is refused" {
	need_free_store
	runuser -u "$U2" -- mkdir -m 0755 "$STORE"
	runuser -u "$U2" -- cp "$TINY_SQFS" "$STORE/trojan.sqfs"
	as_user run trojan -- true
	assert_status 125
	assert_line "krill: error: $STORE: owned by uid $UID2, not by you (uid $UID1) or root"
	assert_contains "krill: hint: another user may have planted it"
	# The same through a symlink to a directory of theirs.
	mkdir -m 0755 "$SCRATCH/theirs" && chown "$U2" "$SCRATCH/theirs"
	runuser -u "$U2" -- cp "$TINY_SQFS" "$SCRATCH/theirs/trojan.sqfs"
	ln -s "$SCRATCH/theirs" "$SCRATCH/link"
	as_user run -s "$SCRATCH/link" trojan -- true
	assert_status 125
	assert_line "krill: error: $SCRATCH/link: owned by uid $UID2, not by you (uid $UID1) or root"
}

@test "storage: a storage directory others can write to is refused" {
	need_free_store
	runuser -u "$U" -- mkdir -m 0755 "$STORE"
	runuser -u "$U" -- cp "$TINY_SQFS" "$STORE/tiny.sqfs"
	as_user run tiny -- cat /etc/os-release
	assert_status 0
	assert_contains 'NAME="krill tiny"'
	chmod 0777 "$STORE"
	runuser -u "$U2" -- cp "$TINY_SQFS" "$STORE/planted.sqfs"
	as_user run planted -- true
	assert_status 125
	assert_line "krill: error: $STORE: writable by its group and others (mode 0777)"
	assert_line "krill: hint: another user could plant images in it or change them; check it, then \`chmod go-w $STORE\`"
	chmod 0775 "$STORE"
	as_user run tiny -- true
	assert_status 125
	assert_line "krill: error: $STORE: writable by its group (mode 0775)"
}

@test "storage: an image owned by another user, or writable by others, is refused" {
	d=$SCRATCH/store
	mkdir -m 0755 "$d" && chown "$U" "$d"
	cp "$TINY_SQFS" "$d/theirs.sqfs" && chown "$U2" "$d/theirs.sqfs"
	as_user run -s "$d" theirs -- true
	assert_status 125
	assert_line "krill: error: $d/theirs.sqfs: owned by uid $UID2, not by you (uid $UID1) or root"
	cp -a "$TINY" "$d/theirdir" && chown "$U2" "$d/theirdir"
	as_user run -s "$d" theirdir -- true
	assert_status 125
	assert_line "krill: error: $d/theirdir: owned by uid $UID2, not by you (uid $UID1) or root"
	cp "$TINY_SQFS" "$d/open.sqfs" && chown "$U" "$d/open.sqfs" && chmod 0666 "$d/open.sqfs"
	as_user run -s "$d" open -- true
	assert_status 125
	assert_line "krill: error: $d/open.sqfs: writable by its group and others (mode 0666)"
	# Root's and the user's own images are fine.
	cp "$TINY_SQFS" "$d/roots.sqfs" && chmod 0644 "$d/roots.sqfs"
	as_user run -s "$d" roots -- cat /etc/os-release
	assert_status 0
	assert_contains 'NAME="krill tiny"'
	cp "$TINY_SQFS" "$d/mine.sqfs" && chown "$U" "$d/mine.sqfs"
	as_user run -s "$d" mine -- id -u
	assert_status 0
	assert_output "$UID1"
}

@test "storage: Charliecloud storage is held to the same rule (DIR/img and DIR/img/NAME)" {
	d=$SCRATCH/ch
	mkdir -p -m 0755 "$d/img"
	cp -a "$TINY" "$d/img/library%tiny+1"
	chown -R "$U" "$d"
	as_user run -s "$d" library/tiny:1 -- cat /etc/os-release
	assert_status 0
	assert_contains 'NAME="krill tiny"'
	chown "$U2" "$d/img"
	as_user run -s "$d" library/tiny:1 -- true
	assert_status 125
	assert_line "krill: error: $d/img: owned by uid $UID2, not by you (uid $UID1) or root"
	chown "$U" "$d/img"
	chown "$U2" "$d/img/library%tiny+1"
	run runuser -u "$U" -- env KRILL_CONFIG= CH_IMAGE_STORAGE="$d" "$KRILL" run library/tiny:1 -- true
	assert_status 125
	assert_line "krill: error: $d/img/library%tiny+1: owned by uid $UID2, not by you (uid $UID1) or root"
}
