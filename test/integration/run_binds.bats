#!/usr/bin/env bats
# krill run -b SRC[:DST[:ro]]: every success and error case (SPEC §3, §6).
load helper

setup() {
	setup_scratch
	mkdir "$SCRATCH/a" "$SCRATCH/b"
	echo a > "$SCRATCH/a/which"
	echo b > "$SCRATCH/b/which"
	echo file > "$SCRATCH/file"
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

# A private copy of the tiny image that a test may change.
copy_tiny() {
	IMG=$SCRATCH/img
	cp -a "$TINY" "$IMG"
}

# ---- parse errors -------------------------------------------------------

@test "binds: no source" {
	run "$KRILL" run -b '' "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=: no source"
	run "$KRILL" run -b ':/mnt' "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=:/mnt: no source"
}

@test "binds: a relative source" {
	run "$KRILL" run -b 'a:/mnt' "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=a:/mnt: source must be an absolute path"
}

@test "binds: empty destination" {
	run "$KRILL" run -b "$SCRATCH/a:" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:: empty destination"
	run "$KRILL" run -b "$SCRATCH/a::ro" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a::ro: empty destination"
}

@test "binds: destination /" {
	run "$KRILL" run -b "$SCRATCH/a:/" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/: destination may not be /"
	run "$KRILL" run -b "$SCRATCH/a://./" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a://./: destination may not be /"
}

@test "binds: relative destination" {
	run "$KRILL" run -b "$SCRATCH/a:mnt" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:mnt: destination must be an absolute path"
}

@test "binds: .. in the destination" {
	run "$KRILL" run -b "$SCRATCH/a:/mnt/../../etc" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/mnt/../../etc: destination may not contain '..'"
}

@test "binds: an unknown flag" {
	run "$KRILL" run -b "$SCRATCH/a:/mnt:rw" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/mnt:rw: unknown flag 'rw' (only 'ro' is known)"
}

@test "binds: a missing source" {
	run "$KRILL" run -b "$SCRATCH/none:/mnt" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/none:/mnt: can't use source $SCRATCH/none: No such file or directory"
}

# ---- successes --------------------------------------------------------------

@test "binds: SRC:DST binds the host directory, read-write" {
	run "$KRILL" run -b "$SCRATCH/a:/mnt" "$TINY" -- sh -c 'cat /mnt/which; echo new > /mnt/new'
	assert_status 0
	assert_output "a"
	[ "$(cat "$SCRATCH/a/new")" = new ]
}

@test "binds: the bind is a mount at DST in the container's mount table" {
	run "$KRILL" run -b "$SCRATCH/a:/mnt" "$TINY" -- cat /proc/self/mountinfo
	assert_status 0
	local n
	n=$(awk '$5 == "/mnt"' <<<"$output" | wc -l)
	[ "$n" -eq 1 ] || fail "expected one mount at /mnt: $output"
	# Field 4 is the bound directory within its filesystem: a suffix of
	# the host path (all of it when the host's /tmp is on /).
	local root
	root=$(awk '$5 == "/mnt" { print $4 }' <<<"$output")
	[[ $root == /*/a && "$SCRATCH/a" == *"$root" ]] ||
		fail "the mount at /mnt is of $root, not $SCRATCH/a: $output"
}

@test "binds: SRC alone binds at the same path" {
	# /etc exists in the image, so no -W is needed.
	run "$KRILL" run -b /etc "$TINY" -- stat -c %i /etc
	assert_status 0
	assert_output "$(stat -c %i /etc)"
}

@test "binds: a file onto a file" {
	run "$KRILL" run -b "$SCRATCH/file:/etc/hostname" "$TINY" -- cat /etc/hostname
	assert_status 0
	assert_output "file"
}

@test "binds: a file onto a directory is refused" {
	run "$KRILL" run -b "$SCRATCH/file:/mnt" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/file:/mnt: can't bind a file onto a directory"
	run "$KRILL" run -b "$SCRATCH/a:/etc/hostname" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/etc/hostname: can't bind a directory onto a file"
}

@test "binds: two binds to one destination: the last wins" {
	run "$KRILL" run -b "$SCRATCH/a:/mnt" -b "$SCRATCH/b:/mnt" "$TINY" -- \
		sh -c 'cat /mnt/which; grep -c " /mnt " /proc/self/mountinfo'
	assert_status 0
	assert_output "b
1"
	# The same destination spelled differently is the same destination.
	run "$KRILL" run -b "$SCRATCH/b:/mnt" -b "$SCRATCH/a://mnt/." "$TINY" -- cat /mnt/which
	assert_status 0
	assert_output "a"
}

@test "binds: :ro makes writes fail with EROFS" {
	run "$KRILL" run -b "$SCRATCH/a:/mnt:ro" "$TINY" -- sh -c 'cat /mnt/which; echo x > /mnt/which'
	assert_status 1
	assert_output "a
sh: can't create /mnt/which: Read-only file system"
	[ "$(cat "$SCRATCH/a/which")" = a ]
	run "$KRILL" run -b "$SCRATCH/a:/mnt:ro" "$TINY" -- touch /mnt/new
	assert_status 1
	assert_output "touch: /mnt/new: Read-only file system"
	[ ! -e "$SCRATCH/a/new" ]
	run "$KRILL" run -b "$SCRATCH/a:/mnt:ro" "$TINY" -- awk '$5 == "/mnt" { print substr($6, 1, 3) }' /proc/self/mountinfo
	assert_output "ro,"
}

@test "binds: :ro applies to the mounts under SRC too" {
	# A bind of a tree with a submount: the submount is read-only too.
	run "$KRILL" run -b /dev:/mnt:ro "$TINY" -- sh -c 'grep " /mnt" /proc/self/mountinfo | awk "{ print substr(\$6, 1, 3) }" | sort -u'
	assert_status 0
	assert_output "ro,"
}

@test "binds: the image stays read-only around a bind" {
	run "$KRILL" run -b "$SCRATCH/a:/mnt" "$TINY" -- touch /newfile
	assert_status 1
	assert_output "touch: /newfile: Read-only file system"
}

# ---- destinations in the image ----------------------------------------------

@test "binds: a missing destination on a read-only image is made in the underlay" {
	# Before the underlay this was an error that asked for -W.
	run "$KRILL" run -v -b "$SCRATCH/a:/nonexistent/dir" -b "$SCRATCH/file:/new/file" "$TINY" -- \
		sh -c 'cat /nonexistent/dir/which /new/file; [ -f /new/file ]; touch /nonexistent/x /y'
	assert_status 1
	assert_line "krill: making 2 missing mount points in a tmpfs under the image"
	assert_line "a"
	assert_line "file"
	# The image stays read-only around the new mount points.
	assert_line "touch: /nonexistent/x: Read-only file system"
	assert_line "touch: /y: Read-only file system"
	[ ! -e "$TINY/nonexistent" ] && [ ! -e "$TINY/new" ]
	# The same for a SquashFS image, and for a `?` bind of the config.
	printf '[run]\nbinds = ?%s:/site/a, ?%s/none:/site/none\n' "$SCRATCH/a" "$SCRATCH" > "$SCRATCH/krill.conf"
	KRILL_CONFIG=$SCRATCH/krill.conf run "$KRILL" run -b "$SCRATCH/b:/made/b" "$TINY_SQFS" -- \
		cat /site/a/which /made/b/which
	assert_status 0
	assert_output "a
b"
}

@test "binds: a bind inside an earlier bind isn't made in the underlay" {
	run "$KRILL" run -b "$SCRATCH/a:/mnt" -b "$SCRATCH/b:/mnt/new" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/b:/mnt/new: destination /mnt/new is inside the earlier bind at /mnt"
	[ "$(ls "$SCRATCH/a")" = which ]
}

@test "binds: a missing destination is created with -W, and vanishes after" {
	run "$KRILL" run -W -b "$SCRATCH/a:/nonexistent/dir" "$TINY" -- cat /nonexistent/dir/which
	assert_status 0
	assert_output "a"
	[ ! -e "$TINY/nonexistent" ]
	# A file source gets a file mount point.
	run "$KRILL" run -W -b "$SCRATCH/file:/new/file" "$TINY" -- sh -c 'cat /new/file; [ -f /new/file ]'
	assert_status 0
	assert_output "file"
}

@test "binds: a missing destination is created in the image with -w" {
	copy_tiny
	run "$KRILL" run -w -b "$SCRATCH/a:/made/here" "$IMG" -- cat /made/here/which
	assert_status 0
	assert_output "a"
	[ -d "$IMG/made/here" ]
}

@test "binds: an absolute symlink destination resolves from the image root" {
	copy_tiny
	ln -s /opt "$IMG/mnt/abs"
	run "$KRILL" run -b "$SCRATCH/a:/mnt/abs" "$IMG" -- cat /opt/which
	assert_status 0
	assert_output "a"
	# Through a symlinked parent, and on the fallback without openat2.
	mkdir "$IMG/opt/sub"
	run "$KRILL" run -b "$SCRATCH/a:/mnt/abs/sub" "$IMG" -- cat /opt/sub/which
	assert_output "a"
	KRILL_NO_OPENAT2=1 run "$KRILL" run -b "$SCRATCH/a:/mnt/abs/sub" "$IMG" -- cat /opt/sub/which
	assert_output "a"
}

@test "binds: a symlink destination that climbs out with ../.. stays in the image" {
	copy_tiny
	ln -s ../../../../opt "$IMG/mnt/up"
	ln -s /srv/krill-outside "$IMG/mnt/host"  # a host path, missing in the image
	ln -s "$SCRATCH/b" "$IMG/mnt/tmp"         # a host path, inside the /tmp bind
	local fallback
	for fallback in "" 1; do
		KRILL_NO_OPENAT2=$fallback run "$KRILL" run -b "$SCRATCH/a:/mnt/up" "$IMG" -- cat /opt/which
		assert_status 0
		assert_output "a"
		KRILL_NO_OPENAT2=$fallback run "$KRILL" run -b "$SCRATCH/a:/mnt/host" "$IMG" -- \
			cat /srv/krill-outside/which
		assert_status 0
		assert_output "a"
		# The host's b exists in the /tmp bind: binding over it would
		# hide a host directory behind an image's link.
		KRILL_NO_OPENAT2=$fallback run "$KRILL" run -b "$SCRATCH/a:/mnt/tmp" "$IMG" -- true
		assert_status 125
		assert_output "krill: error: --bind=$SCRATCH/a:/mnt/tmp: destination /mnt/tmp resolves into an earlier bind"
	done
	[ ! -e /srv/krill-outside ]
	[ "$(ls "$SCRATCH/b")" = which ] && [ "$(cat "$SCRATCH/b/which")" = b ]
}

@test "binds: a symlink loop is reported as one" {
	copy_tiny
	ln -s loop2 "$IMG/mnt/loop1"
	ln -s loop1 "$IMG/mnt/loop2"
	local fallback
	for fallback in "" 1; do
		KRILL_NO_OPENAT2=$fallback run "$KRILL" run -b "$SCRATCH/a:/mnt/loop1" "$IMG" -- true
		assert_status 125
		assert_output "krill: error: --bind=$SCRATCH/a:/mnt/loop1: destination /mnt/loop1: symlink loop"
		KRILL_NO_OPENAT2=$fallback run "$KRILL" run -W -b "$SCRATCH/a:/mnt/loop1/x" "$IMG" -- true
		assert_status 125
		assert_output "krill: error: --bind=$SCRATCH/a:/mnt/loop1/x: destination /mnt/loop1/x: symlink loop"
	done
}

@test "binds: a symlink destination that stays inside the image is followed" {
	copy_tiny
	ln -s ../opt "$IMG/mnt/in"
	run "$KRILL" run -b "$SCRATCH/a:/mnt/in" "$IMG" -- cat /opt/which
	assert_status 0
	assert_output "a"
	KRILL_NO_OPENAT2=1 run "$KRILL" run -b "$SCRATCH/a:/mnt/in" "$IMG" -- cat /opt/which
	assert_status 0
	assert_output "a"
}

@test "binds: a missing destination under an absolute symlink is made in the image's view" {
	copy_tiny
	ln -s /srv/krill-outside "$IMG/mnt/abs"
	run "$KRILL" run -W -b "$SCRATCH/a:/mnt/abs/new" "$IMG" -- cat /srv/krill-outside/new/which
	assert_status 0
	assert_output "a"
	[ ! -e /srv/krill-outside ]
	[ ! -e "$IMG/srv" ]
}

# ---- refused destinations ---------------------------------------------------

@test "binds: a bind inside an earlier bind's subtree is refused" {
	run "$KRILL" run -b "$SCRATCH/a:/mnt" -b "$SCRATCH/b:/mnt/sub" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/b:/mnt/sub: destination /mnt/sub is inside the earlier bind at /mnt"
	# /tmp is bound by default before the user's binds.
	run "$KRILL" run -b "$SCRATCH/a:/tmp/x" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/tmp/x: destination /tmp/x is inside the earlier bind at /tmp"
}

@test "binds: a bind over /proc is refused" {
	run "$KRILL" run -b "$SCRATCH/a:/proc" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/proc: can't bind over /proc"
	run "$KRILL" run -b "$SCRATCH/file:/proc/sys/kernel/hostname" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/file:/proc/sys/kernel/hostname: can't bind over /proc"
}

@test "binds: a refused bind leaves the host's tree alone" {
	copy_tiny
	mkdir "$IMG/data"
	ln -s /data "$IMG/mnt/abs"
	for w in -W ""; do
		run "$KRILL" run $w -b "$SCRATCH/a:/data" -b "$SCRATCH/b:/mnt/abs/new" "$IMG" -- true
		assert_status 125
		assert_output "krill: error: --bind=$SCRATCH/b:/mnt/abs/new: destination /mnt/abs/new leads into a bind mount from the host (symlink); nothing is created there"
	done
	# Onto the earlier bind itself through another name, or onto a file
	# in it: refused as well.
	run "$KRILL" run -b "$SCRATCH/a:/data" -b "$SCRATCH/b:/mnt/abs" "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/b:/mnt/abs: destination /mnt/abs resolves to the mount made for /data (symlink)"
	run "$KRILL" run -b "$SCRATCH/a:/data" -b "$SCRATCH/file:/mnt/abs/which" "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/file:/mnt/abs/which: destination /mnt/abs/which resolves into an earlier bind"
	[ "$(ls "$SCRATCH/a")" = which ] || fail "created on the host: $(ls "$SCRATCH/a")"
}

@test "binds: a symlink in the image into an earlier bind can't make krill write to the host" {
	cp -a "$TINY" "$SCRATCH/img"
	ln -s tmp "$SCRATCH/img/scratch"
	mkdir "$SCRATCH/src" "$SCRATCH/hosttmp"
	run env TMPDIR="$SCRATCH/hosttmp" "$KRILL" run -w -b "$SCRATCH/src:/scratch/x" "$SCRATCH/img" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/src:/scratch/x: destination /scratch/x leads into a bind mount from the host (symlink); nothing is created there"
	# Read-only: the first pass would plan x in the underlay, but the
	# second finds it inside the /tmp bind.
	run env TMPDIR="$SCRATCH/hosttmp" "$KRILL" run -b "$SCRATCH/src:/scratch/x" "$SCRATCH/img" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/src:/scratch/x: destination /scratch/x leads into a bind mount from the host (symlink); nothing is created there"
	[ -z "$(ls -A "$SCRATCH/hosttmp")" ] || fail "created on the host: $(ls -A "$SCRATCH/hosttmp")"
}
