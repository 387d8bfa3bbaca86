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

@test "binds: a missing destination on a read-only image is an error with a hint" {
	run "$KRILL" run -b "$SCRATCH/a:/nonexistent/dir" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/nonexistent/dir: destination /nonexistent/dir doesn't exist in the image
krill: hint: create it in the image, or use -W to create it in a writable overlay"
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

@test "binds: a symlink destination that points outside (absolute) is refused" {
	copy_tiny
	ln -s /etc "$IMG/mnt/abs"
	run "$KRILL" run -b "$SCRATCH/a:/mnt/abs" "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/mnt/abs: destination /mnt/abs leads outside the image (symlink)"
	# The same through a symlinked parent.
	run "$KRILL" run -b "$SCRATCH/a:/mnt/abs/krill" "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/mnt/abs/krill: destination /mnt/abs/krill leads outside the image (symlink)"
}

@test "binds: a symlink destination that climbs out with ../.. is refused" {
	copy_tiny
	ln -s ../../.. "$IMG/mnt/up"
	ln -s ../../../../../etc "$IMG/mnt/upetc"
	run "$KRILL" run -b "$SCRATCH/a:/mnt/up/etc" "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/mnt/up/etc: destination /mnt/up/etc leads outside the image (symlink)"
	run "$KRILL" run -b "$SCRATCH/a:/mnt/upetc" "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/mnt/upetc: destination /mnt/upetc leads outside the image (symlink)"
}

@test "binds: symlink destinations are refused on the fallback without openat2" {
	copy_tiny
	ln -s /etc "$IMG/mnt/abs"
	ln -s ../../.. "$IMG/mnt/up"
	KRILL_NO_OPENAT2=1 run "$KRILL" run -b "$SCRATCH/a:/mnt/abs" "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/mnt/abs: destination /mnt/abs leads outside the image (symlink)"
	KRILL_NO_OPENAT2=1 run "$KRILL" run -b "$SCRATCH/a:/mnt/up/etc" "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/mnt/up/etc: destination /mnt/up/etc leads outside the image (symlink)"
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

@test "binds: a missing destination under an outside symlink isn't created with -W" {
	copy_tiny
	ln -s /etc "$IMG/mnt/abs"
	run "$KRILL" run -W -b "$SCRATCH/a:/mnt/abs/new" "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/a:/mnt/abs/new: destination /mnt/abs/new leads outside the image (symlink)"
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
	ln -s "$SCRATCH/a" "$IMG/mnt/abs"
	run "$KRILL" run -W -b "$SCRATCH/b:/mnt/abs" "$IMG" -- true
	assert_status 125
	# Had krill followed the link, b would now cover a (in its namespace),
	# and with -W it might have created files there.
	[ "$(ls "$SCRATCH/a")" = which ]
}

@test "binds: a symlink in the image into an earlier bind can't make krill write to the host" {
	cp -a "$TINY" "$SCRATCH/img"
	ln -s tmp "$SCRATCH/img/scratch"
	mkdir "$SCRATCH/src" "$SCRATCH/hosttmp"
	run env TMPDIR="$SCRATCH/hosttmp" "$KRILL" run -w -b "$SCRATCH/src:/scratch/x" "$SCRATCH/img" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/src:/scratch/x: destination /scratch/x leads outside the image (symlink)"
	[ -z "$(ls -A "$SCRATCH/hosttmp")" ] || fail "created on the host: $(ls -A "$SCRATCH/hosttmp")"
}
