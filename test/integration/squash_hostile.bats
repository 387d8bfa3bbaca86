#!/usr/bin/env bats
# Hostile SquashFS images (issues 9 and 10): corrupt superblocks fail at
# open with one error line and exit 125; corruption met later, inside the
# container, is EIO for the reader while the in-process FUSE server goes on
# serving.  Never a signal exit, never a hang.  The command is the host's
# static busybox bound at /busybox, so a corrupt image can't crash the command
# itself: any signal exit would be krill's.
load helper
bats_require_minimum_version 1.5.0

POKE=$STAGE/test/harness/sqfs_poke.py

setup() {
	setup_scratch
	command -v mksquashfs >/dev/null || skip "skipped: no mksquashfs"
	[ -x /bin/busybox ] || skip "skipped: no /bin/busybox (busybox-static)"
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

# A small image: mount points, an empty /busybox for the busybox bind, a
# directory of victims, and a file of 229 KB (one data block + fragment).
base_image() { # OUT [mksquashfs options]
	local out=$1 d=$SCRATCH/src
	shift
	rm -rf "$d"
	mkdir -p "$d"/{bin,etc,dev,proc,sys,tmp,mnt,victim}
	: >"$d/busybox"
	echo hello >"$d/etc/motd"
	for i in 1 2 3; do echo "content $i" >"$d/victim/victim-file-name-$i"; done
	seq 1 40000 >"$d/victim/data"
	ln -s victim-file-name-1 "$d/victim/link"
	# most of the inode and directory tables: so that flips mostly land
	# here, inside the container's walk, not on the mount points of setup
	for s in 1 2 3 4 5 6; do
		mkdir -p "$d/victim/sub$s"
		for i in $(seq 1 12); do echo "$s.$i" >"$d/victim/sub$s/file-$i"; done
		ln -s file-1 "$d/victim/sub$s/link"
	done
	# a 15 KB listing written after /victim's: an overflowing name copy
	# has bytes to copy (as in the issue, where RIP came from the image)
	mkdir "$d/zz-filler"
	for i in $(seq 1 300); do : >"$d/zz-filler/filler-entry-with-a-long-name-$i"; done
	mksquashfs "$d" "$out" -quiet -no-progress -all-root -noappend "$@" >/dev/null
}

krill_bb() { # IMAGE SCRIPT: run SCRIPT with the host's busybox sh, at most 60 s
	run timeout -s KILL 60 "$KRILL" run -b /bin/busybox:/busybox "$1" -- /busybox sh -c "$2"
}

# Status 0, or 125 with a krill error line; anything else (a signal, a
# timeout's 137) fails.
assert_clean_end() { # WHAT
	if [ "$status" -eq 125 ]; then
		[[ "$output" == *"krill: error: "* ]] || fail "$1: 125 without an error line: $output"
	elif [ "$status" -ne 0 ]; then
		fail "$1: status $status: $output"
	fi
}

@test "squash hostile: a directory entry's name size set to 5999 (issue 9): EIO, the server goes on" {
	img=$SCRATCH/i.sqfs
	base_image "$img" -noI -noD -noF -noX
	python3 "$POKE" name-size "$img" victim-file-name-2 5999
	# busybox ls takes a failing getdents for the end; a lookup past the
	# corrupt entry shows the EIO
	krill_bb "$img" '/busybox ls /victim >/dev/null; /busybox ls /victim/victim-file-name-3; echo "ls=$?"
		/busybox cat /victim/victim-file-name-1 /etc/motd'
	assert_status 0
	assert_contains "victim-file-name-3: Input/output error"
	assert_line "ls=1"
	assert_line "content 1"
	assert_line "hello"
}

@test "squash hostile: the same corruption in the root listing: 125 or EIO, never a signal" {
	img=$SCRATCH/i.sqfs
	base_image "$img" -noI -noD -noF -noX
	python3 "$POKE" name-size "$img" victim 5999
	krill_bb "$img" '/busybox ls /; /busybox ls /victim; echo "ls=$?"'
	assert_clean_end "root listing"
	if [ "$status" -eq 0 ]; then
		assert_contains "/victim: Input/output error"
		assert_line "ls=1"
		assert_line "etc"
	fi
}

@test "squash hostile: corrupt superblocks (issue 9 item 6, issue 10 item 2): 125 and one error line" {
	base_image "$SCRATCH/good.sqfs"
	# the reproducer of issue 10: an ordinary image, inode count 0x845fed
	mkdir -p "$SCRATCH/i"/{bin,etc,dev,proc,sys,tmp}
	cp /bin/busybox "$SCRATCH/i/bin/true"
	mksquashfs "$SCRATCH/i" "$SCRATCH/x.sqfs" -all-root -quiet -no-progress >/dev/null
	printf '\xED\x5F\x84\x00' | dd of="$SCRATCH/x.sqfs" bs=1 seek=4 conv=notrunc 2>/dev/null
	run "$KRILL" run "$SCRATCH/x.sqfs" -- true
	assert_status 125
	[ "${#lines[@]}" -eq 1 ] || fail "not one line: $output"
	[[ "${lines[0]}" == "krill: error: $SCRATCH/x.sqfs: can't open SquashFS: "* ]] || fail "got: $output"
	# offset:bytes (little-endian), one corruption per image
	for edit in 4:ffffffff 12:00100000 22:1000 20:0900 26:0000 28:0300 30:0100 \
		32:ff1f000000000000 32:0000ffffffff0000 40:ffffffffffffff00 \
		48:ffffffffff000000 56:ffffffffffffff7f 64:0000000000000000 \
		72:ffffffffffff0000 80:ffffffffff000000 88:ffffffffff000000; do
		img=$SCRATCH/sb-${edit%%:*}-${edit#*:}.sqfs
		cp "$SCRATCH/good.sqfs" "$img"
		python3 "$POKE" set "$img" "${edit%%:*}" "${edit#*:}"
		run "$KRILL" run "$img" -- /busybox true
		[ "$status" -eq 125 ] || fail "$edit: status $status: $output"
		[ "${#lines[@]}" -eq 1 ] || fail "$edit: not one line: $output"
		[[ "${lines[0]}" == "krill: error: $img: can't open SquashFS: "* ]] || fail "$edit: got: $output"
	done
}

@test "squash hostile: a corrupt data block is EIO for the reader; other files still read" {
	img=$SCRATCH/i.sqfs
	base_image "$img"
	read -r start _ < <(python3 "$POKE" region "$img" data)
	python3 "$POKE" set "$img" $((start + 200)) 00112233445566778899aabbccddeeff
	krill_bb "$img" '/busybox cat /victim/data >/dev/null; echo "cat=$?"; /busybox cat /etc/motd; /busybox readlink /victim/link'
	assert_status 0
	assert_contains "Input/output error"
	assert_line "cat=1"
	assert_line "hello"
	assert_line "victim-file-name-1"
}

@test "squash hostile: random byte flips in the inode and directory tables of 32 images: never a signal, never a hang" {
	base_image "$SCRATCH/raw.sqfs" -noI -noD -noF -noX
	base_image "$SCRATCH/gz.sqfs"
	walk='{ /busybox find /victim /etc /bin; /busybox ls -laR /victim
		/busybox find /victim -type f -exec /busybox cat {} +
		/busybox find /victim -type l -exec /busybox readlink {} +
		} 2>&1 >/dev/null | /busybox grep -m1 -e "I/O error" -e "Input/output error"
		echo walked'
	n=0 eio=0 refused=0
	# uncompressed tables: flips hit the fields; compressed: mostly the
	# compressed stream
	for spec in raw:dir:12 raw:inode:12 gz:dir:4 gz:inode:4; do
		IFS=: read -r base region count <<<"$spec"
		for seed in $(seq 1 "$count"); do
			img=$SCRATCH/flip-$base-$region-$seed.sqfs
			cp "$SCRATCH/$base.sqfs" "$img"
			python3 "$POKE" flip "$img" "$seed" 4 "$region"
			krill_bb "$img" "$walk"
			assert_clean_end "$base $region seed $seed"
			if [ "$status" -eq 0 ]; then
				assert_line walked
				[[ "$output" == *"I/O error"* || "$output" == *"Input/output error"* ]] &&
					eio=$((eio + 1))
			else
				refused=$((refused + 1))
			fi
			n=$((n + 1))
			rm -f "$img"
		done
	done
	echo "# $n images: $refused refused at open or setup (125), $eio met EIO inside" >&3
	[ "$n" -eq 32 ]
	# the walk met corruption inside the container, not only at setup
	[ "$eio" -ge 1 ] || fail "only $eio images met EIO inside the container"
}
