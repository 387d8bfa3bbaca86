#!/usr/bin/env bats
# krill run: symlinks in the image resolve from the image root (as in a
# chroot), at every default bind; host paths resolve on the host; image
# metadata and the system directories can't stall krill or redirect a
# mount onto the host (issue 10 item 1, issue 9 items 8, 9, 15, 16).
load helper

setup() {
	setup_scratch
	mkdir "$SCRATCH/a"
	echo a > "$SCRATCH/a/which"
	echo site > "$SCRATCH/site.conf"
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

DEFAULTS="/etc/hosts /etc/resolv.conf /etc/machine-id /etc/site.conf"

# An image whose default-bind destinations are all links of one KIND:
# abs, rel, dangling, dir, outside.  Prints its path.
link_image() { # KIND
	local img=$SCRATCH/img-$1 f base
	cp -a "$TINY" "$img"
	rm -f "$img/etc/hosts" "$img/etc/resolv.conf" "$img/etc/machine-id"
	for f in $DEFAULTS; do
		base=${f##*/}
		case $1 in
		abs) echo image > "$img/etc/$base.real"; ln -s "/etc/$base.real" "$img$f" ;;
		rel) echo image > "$img/etc/$base.real"; ln -s "$base.real" "$img$f" ;;
		# systemd's /etc/resolv.conf -> /run/systemd/resolve/stub-resolv.conf
		dangling) ln -s "/run/systemd/resolve/$base" "$img$f" ;;
		dir) mkdir "$img/etc/$base.d"; ln -s "/etc/$base.d" "$img$f" ;;
		# climbs above the root: stays at the image's root
		outside) echo image > "$img/etc/$base.real"
			ln -s "../../../../../../../etc/$base.real" "$img$f" ;;
		esac
	done
	# A directory bind (as /var/spool/slurmd is on a Slurm node), from the
	# site config.
	f=/var/spool/site
	mkdir -p "$img/var/spool"
	case $1 in
	abs) mkdir "$img$f.real"; ln -s "$f.real" "$img$f" ;;
	rel) mkdir "$img$f.real"; ln -s "site.real" "$img$f" ;;
	dangling) ln -s /run/slurm/spool "$img$f" ;;
	dir) mkdir "$img/opt/site.d"; ln -s /opt/site.d "$img$f" ;;
	outside) mkdir "$img$f.real"; ln -s "../../../../../var/spool/site.real" "$img$f" ;;
	esac
	echo "$img"
}

site_config() {
	printf '[run]\nbinds = ?%s:/etc/site.conf, ?%s:/var/spool/site\n' "$SCRATCH/site.conf" \
		"$SCRATCH/a" > "$SCRATCH/krill.conf"
	export KRILL_CONFIG=$SCRATCH/krill.conf
}

# What every default destination shows in the container, one per line.
show_defaults() { # IMAGE [KRILL OPTIONS...]
	local img=$1
	shift
	run "$KRILL" run -v "$@" "$img" -- sh -c \
		'for f in /etc/hosts /etc/resolv.conf /etc/machine-id /etc/site.conf; do
			if [ -f "$f" ]; then echo "$f: $(md5sum < "$f" | cut -c1-8)"; else echo "$f: none"; fi
		done
		echo "/var/spool/site: $(cat /var/spool/site/which 2>/dev/null || echo none)"'
}

host_sum() { echo "$1: $(md5sum < "$2" | cut -c1-8)"; }

expect_host_files() {
	assert_status 0
	assert_line "$(host_sum /etc/hosts /etc/hosts)"
	assert_line "$(host_sum /etc/resolv.conf /etc/resolv.conf)"
	[ -e /etc/machine-id ] && assert_line "$(host_sum /etc/machine-id /etc/machine-id)"
	assert_line "$(host_sum /etc/site.conf "$SCRATCH/site.conf")"
	assert_line "/var/spool/site: a"
}

each_image_type() { # KIND: sets IMAGES_OF_KIND to the directory and SquashFS images
	local dir
	dir=$(link_image "$1")
	mksquashfs "$dir" "$dir.sqfs" -quiet -noappend -all-root >/dev/null
	IMAGES_OF_KIND="$dir $dir.sqfs"
}

@test "links: default binds onto absolute, relative and climbing links land inside the image" {
	site_config
	local kind img
	for kind in abs rel outside; do
		each_image_type $kind
		for img in $IMAGES_OF_KIND; do
			show_defaults "$img"
			expect_host_files
		done
	done
	# The image's own files were only covered, never written.
	[ "$(cat "$SCRATCH/img-abs/etc/hosts.real")" = image ]
}

@test "links: dangling links at default binds get their target in the underlay (or -W overlay)" {
	site_config
	local img
	each_image_type dangling
	for img in $IMAGES_OF_KIND; do
		show_defaults "$img"
		expect_host_files
		assert_line "krill: making 5 missing mount points in a tmpfs under the image"
		show_defaults "$img" -W
		expect_host_files
	done
	[ ! -e "$SCRATCH/img-dangling/run/systemd" ]
	# With -w, krill writes nothing into the image for a default bind.
	show_defaults "$SCRATCH/img-dangling" -w
	assert_status 0
	assert_line "krill: not binding /etc/hosts: its symlink's target is missing and can't be made"
	assert_line "/etc/hosts: none"
	# (The site bind is the site's to make, with -w in the image.)
	[ "$(ls "$SCRATCH/img-dangling/run/systemd/resolve")" = site.conf ]
}

@test "links: a default bind onto a link to a directory is skipped with a -v note" {
	site_config
	local img f
	each_image_type dir
	for img in $IMAGES_OF_KIND; do
		show_defaults "$img"
		assert_status 0
		for f in $DEFAULTS; do
			assert_line "krill: not binding $f: it is a directory in the image"
			assert_line "$f: none"
		done
		# A directory bind onto a link to a directory is what it should be.
		assert_line "/var/spool/site: a"
	done
}

@test "links: a dangling link into the host's /dev isn't followed onto the host" {
	local img
	img=$(link_image abs)
	ln -sf /dev/shm/krill-$$-resolv.conf "$img/etc/resolv.conf"
	show_defaults "$img"
	assert_status 0
	assert_line "krill: not binding /etc/resolv.conf: its symlink's target is missing and can't be made"
	[ ! -e "/dev/shm/krill-$$-resolv.conf" ]
}

# ---- system directories that are links (issue 9 items 15, 16) -------------

@test "links: an image with /dev -> tmp never gets the host's /tmp as /dev" {
	local img
	img=$SCRATCH/img
	cp -a "$TINY" "$img"
	rmdir "$img/dev"
	ln -s tmp "$img/dev"
	mkdir "$SCRATCH/hosttmp"
	run env TMPDIR="$SCRATCH/hosttmp" "$KRILL" run "$img" -- sh -c 'echo x > /dev/null'
	assert_status 125
	assert_output "krill: error: /tmp: destination /tmp resolves to the mount made for /dev (symlink)"
	[ -z "$(ls -A "$SCRATCH/hosttmp")" ] || fail "written on the host: $(ls -A "$SCRATCH/hosttmp")"
	# /tmp -> dev and /proc -> sys likewise.
	rm "$img/dev"
	mkdir "$img/dev"
	rmdir "$img/tmp"
	ln -s dev "$img/tmp"
	run env TMPDIR="$SCRATCH/hosttmp" "$KRILL" run "$img" -- true
	assert_status 125
	assert_output "krill: error: /tmp: destination /tmp resolves to the mount made for /dev (symlink)"
	rm "$img/tmp"
	mkdir "$img/tmp"
	rmdir "$img/proc"
	ln -s sys "$img/proc"
	run "$KRILL" run "$img" -- true
	assert_status 125
	assert_output "krill: error: /proc: destination /proc resolves to the mount made for /sys (symlink)"
	# --private-tmp's tmpfs follows the same rule.
	rm "$img/proc"
	mkdir "$img/proc"
	rmdir "$img/dev"
	ln -s tmp "$img/dev"
	run "$KRILL" run --private-tmp "$img" -- true
	assert_status 125
	assert_output "krill: error: a private /tmp: destination /tmp resolves to the mount made for /dev (symlink)"
}

@test "links: system directories that are links inside the image resolve there" {
	local img
	img=$SCRATCH/img
	cp -a "$TINY" "$img"
	mkdir -p "$img/usr/sys" "$img/var/tmp"
	rmdir "$img/sys" "$img/tmp"
	ln -s /usr/sys "$img/sys"
	ln -s var/tmp "$img/tmp"
	run "$KRILL" run -b "$SCRATCH/a:/mnt" "$img" -- sh -c 'ls -d /sys/kernel; cat /mnt/which; [ -d /tmp/. ]'
	assert_status 0
	assert_output "/sys/kernel
a"
}

@test "links: a missing /dev, /proc, /sys or /tmp is made in the underlay, or with -W" {
	local img
	img=$SCRATCH/img
	cp -a "$TINY" "$img"
	rmdir "$img/dev" "$img/proc" "$img/sys" "$img/tmp"
	run "$KRILL" run "$img" -- sh -c 'echo x > /dev/null && ls -d /proc/self /sys/kernel /tmp'
	assert_status 0
	assert_output "/proc/self
/sys/kernel
/tmp"
	# The hint of old said -W, and -W failed: it works now.
	run "$KRILL" run -W "$img" -- sh -c 'echo x > /dev/null && ls -d /proc/self'
	assert_status 0
	assert_output "/proc/self"
	[ ! -e "$img/dev" ]
}

# ---- host paths through symlinks (issue 9 item 8) ---------------------------

@test "links: a host bind source, TMPDIR and HOME through a symlink bind the target" {
	ln -s "$SCRATCH/a" "$SCRATCH/l"
	ln -s a "$SCRATCH/rel"
	run "$KRILL" run -b "$SCRATCH/l:/mnt" -b "$SCRATCH/rel:/opt" "$TINY" -- cat /mnt/which /opt/which
	assert_status 0
	assert_output "a
a"
	run env TMPDIR="$SCRATCH/l" "$KRILL" run "$TINY" -- cat /tmp/which
	assert_status 0
	assert_output "a"
	run env HOME="$SCRATCH/l" USER=someone "$KRILL" run --home "$TINY" -- cat /home/someone/which
	assert_status 0
	assert_output "a"
	# A link in the middle of the path, and a missing target (the error
	# names the path as given).
	mkdir "$SCRATCH/a/sub"
	echo sub > "$SCRATCH/a/sub/which"
	run "$KRILL" run -b "$SCRATCH/l/sub:/mnt" "$TINY" -- cat /mnt/which
	assert_output "sub"
	ln -s "$SCRATCH/none" "$SCRATCH/dangling"
	run "$KRILL" run -b "$SCRATCH/dangling:/mnt" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --bind=$SCRATCH/dangling:/mnt: can't use source $SCRATCH/dangling: No such file or directory"
}

# ---- image metadata (issue 9 item 9) ----------------------------------------

@test "links: a FIFO, device or link at /.krill/cmd, cwd or environment is refused, not waited on" {
	local img f
	img=$SCRATCH/img
	cp -a "$TINY" "$img"
	for f in cmd cwd environment; do
		rm -f "$img/.krill/environment.keep"
		[ -e "$img/.krill/environment" ] && mv "$img/.krill/environment" "$img/.krill/environment.keep"
		mkfifo "$img/.krill/$f"
		if [ $f = cmd ]; then
			run timeout 10 "$KRILL" run "$img"
		else
			run timeout 10 "$KRILL" run "$img" -- true
		fi
		assert_status 125
		assert_output "krill: error: /.krill/$f in the image: not a regular file"
		rm "$img/.krill/$f"
		[ -e "$img/.krill/environment.keep" ] && mv "$img/.krill/environment.keep" "$img/.krill/environment"
	done
	# A symlink, even inside the image, isn't followed for cmd and cwd.
	echo /bin/true > "$img/cmd"
	ln -s /cmd "$img/.krill/cmd"
	run timeout 10 "$KRILL" run "$img"
	assert_status 125
	assert_output "krill: error: /.krill/cmd in the image: not a regular file"
	rm "$img/.krill/cmd"
	# Too big.
	head -c 70000 /dev/zero | tr '\0' x > "$img/.krill/cmd"
	run timeout 10 "$KRILL" run "$img"
	assert_status 125
	assert_output "krill: error: /.krill/cmd in the image: larger than 65536 bytes"
	# And the FIFO in a SquashFS image, where the FUSE server serves it.
	rm "$img/.krill/cmd"
	mkfifo "$img/.krill/cwd"
	mksquashfs "$img" "$SCRATCH/img.sqfs" -quiet -noappend -all-root >/dev/null
	run timeout 10 "$KRILL" run "$SCRATCH/img.sqfs" -- true
	assert_status 125
	assert_output "krill: error: /.krill/cwd in the image: not a regular file"
}
