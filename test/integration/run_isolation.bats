#!/usr/bin/env bats
# krill run: namespaces, IDs, passwd and the mount table (SPEC §5, §6).
load helper

setup() { setup_scratch; }
teardown() {
	teardown_scratch
	assert_no_leftovers
}

@test "isolation: the user and mount namespaces differ from the host's" {
	local ns
	for ns in user mnt; do
		run "$KRILL" run "$TINY" -- readlink /proc/self/ns/$ns
		assert_status 0
		[[ $output == $ns:\[* ]] || fail "bad ns link: $output"
		[ "$output" != "$(readlink /proc/self/ns/$ns)" ] || fail "$ns namespace is the host's: $output"
	done
}

@test "isolation: without options, the other namespaces are the host's" {
	local ns
	for ns in net pid ipc uts cgroup; do
		[ -e /proc/self/ns/$ns ] || continue
		run "$KRILL" run "$TINY" -- readlink /proc/self/ns/$ns
		assert_status 0
		assert_output "$(readlink /proc/self/ns/$ns)"
	done
}

@test "isolation: two nested user namespaces, one ID mapped, setgroups denied" {
	is_root && skip "root runs without a user namespace"
	run "$KRILL" run "$TINY" -- cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups
	assert_status 0
	# The inner namespace maps the container's IDs to the outer
	# namespace's root (0), not to the caller's host IDs: two levels.
	local words
	words=$(echo $output)
	[ "$words" = "$(id -u) 0 1 $(id -g) 0 1 deny" ] || fail "maps: $output"
	run "$KRILL" run --uid=0 --gid=0 "$TINY" -- cat /proc/self/uid_map /proc/self/gid_map
	words=$(echo $output)
	[ "$words" = "0 0 1 0 0 1" ] || fail "maps: $output"
}

@test "isolation: id -u/-g for all 9 combinations of --uid and --gid" {
	local me my_group u g want_u want_g uopt gopt
	me=$(id -u)
	my_group=$(id -g)
	for u in caller 0 65534; do
		for g in caller 0 65534; do
			uopt=() gopt=()
			want_u=$me want_g=$my_group
			[ "$u" != caller ] && uopt=(--uid="$u") && want_u=$u
			[ "$g" != caller ] && gopt=(--gid="$g") && want_g=$g
			run "$KRILL" run "${uopt[@]}" "${gopt[@]}" "$TINY" -- sh -c 'id -u; id -g; id -G'
			assert_status 0
			[ "$output" = "$want_u"$'\n'"$want_g"$'\n'"$want_g" ] ||
				fail "--uid=$u --gid=$g: expected $want_u/$want_g, got: $output"
		done
	done
}

@test "isolation: /etc/passwd and /etc/group name the caller" {
	local user group
	user=$(id -un)
	group=$(id -gn)
	run "$KRILL" run "$TINY" -- sh -c 'id -un; id -gn; cat /etc/passwd /etc/group'
	assert_status 0
	assert_line "$user"
	assert_line "$group"
	# The image's own root and nobody entries stay (merged, not replaced).
	assert_line "root:x:0:0:root:/root:/bin/sh"
	assert_line "nobody:x:65534:65534:nobody:/nonexistent:/bin/false"
	assert_line "root:x:0:"
	assert_line "nogroup:x:65534:"
	is_root && return 0 # root is the caller: the root line is the caller's
	grep -q "^$user:x:$(id -u):$(id -g):.*:/:/bin/sh\$" <<<"$output" ||
		fail "no passwd entry for $user: $output"
	assert_line "$group:x:$(id -g):"
}

@test "isolation: an unknown UID and GID get dummy entries" {
	local uid=12345 gid=54321
	while getent passwd $uid >/dev/null; do uid=$((uid + 1)); done
	while getent group $gid >/dev/null; do gid=$((gid + 1)); done
	run "$KRILL" run --uid=$uid --gid=$gid "$TINY" -- sh -c 'id -un; id -gn; cat /etc/passwd /etc/group'
	assert_status 0
	assert_output "krilluser$uid
krillgroup$gid
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
krilluser$uid:x:$uid:$gid:krill container user:/:/bin/sh
root:x:0:
nogroup:x:65534:
krillgroup$gid:x:$gid:"
}

@test "isolation: the caller's entries are merged into the image's passwd and group" {
	cp -a "$TINY" "$SCRATCH/img"
	me=$(id -un) uid=$(id -u) gid=$(id -g) grp=$(id -gn)
	is_root && skip "skipped: the caller is root, whose entries are the image's"
	# System entries packages need, and entries that clash with the caller.
	cat >>"$SCRATCH/img/etc/passwd" <<-EOF
		_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
		builder:x:$uid:$gid::/home/builder:/bin/sh
		$me:x:4242:4242::/home/other:/bin/sh
	EOF
	printf 'staff:x:50:\nbuilders:x:%s:\n' "$gid" >>"$SCRATCH/img/etc/group"
	for img in "$SCRATCH/img" sqfs; do
		if [ "$img" = sqfs ]; then
			mksquashfs "$SCRATCH/img" "$SCRATCH/img.sqfs" -all-root -noappend -quiet >/dev/null
			img=$SCRATCH/img.sqfs
		fi
		run "$KRILL" run "$img" -- sh -c 'cat /etc/passwd; echo --; cat /etc/group; echo --; id'
		assert_status 0
		assert_output "root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
$(grep "^$me:x:$uid:$gid:" <<<"$output")
--
root:x:0:
nogroup:x:65534:
staff:x:50:
$grp:x:$gid:
--
uid=$uid($me) gid=$gid($grp) groups=$gid($grp)"
		grep -q "^$me:x:$uid:$gid:.*:/:/bin/sh\$" <<<"$output" || fail "$output"
	done
	# A postinst's `chown root:staff` works under --seccomp with the merge.
	run "$KRILL" run -W --seccomp -u 0 "$SCRATCH/img" -- sh -c 'touch /x && chown root:staff /x && chown _apt /x && echo ok'
	assert_status 0
	assert_output "ok"
}

@test "isolation: --uid of a host user gets that user's name" {
	run "$KRILL" run --uid=0 "$TINY" -- id -un
	assert_status 0
	assert_output "root"
	run "$KRILL" run --uid=65534 --gid=65534 "$TINY" -- sh -c 'id -un; id -gn'
	assert_output "nobody
nogroup"
}

@test "isolation: --no-passwd keeps the image's files" {
	run "$KRILL" run --no-passwd "$TINY" -- cat /etc/passwd /etc/group
	assert_status 0
	assert_output "$(cat "$TINY/etc/passwd" "$TINY/etc/group")"
	run "$KRILL" run --no-passwd "$TINY" -- grep -c ' /etc/passwd ' /proc/self/mountinfo
	assert_output "0"
}

@test "isolation: the mount table inside is the image plus the default binds" {
	run "$KRILL" run "$TINY" -- cat /proc/self/mountinfo
	assert_status 0
	# Mount points, without the submounts of the recursive /dev, /sys,
	# /proc and /tmp binds.
	local points
	points=$(awk '{ print $5 }' <<<"$output" | grep -v '^/\(dev\|sys\|proc\|tmp\)/' | sort | tr '\n' ' ')
	[ "$points" = "/ /dev /etc/group /etc/hosts /etc/passwd /etc/resolv.conf /proc /sys /tmp " ] ||
		fail "mount points: $points"
	# The root is the image, read-only.
	local root
	root=$(awk '$5 == "/" { print $4, substr($6, 1, 3) }' <<<"$output")
	[[ $root == */tiny\ ro, ]] || fail "root mount: $root"
	# Synthesized files are read-only.
	awk '$5 == "/etc/passwd" || $5 == "/etc/group" { print substr($6, 1, 3) }' <<<"$output" |
		sort -u | grep -qx 'ro,' || fail "passwd/group aren't read-only: $output"
}

@test "isolation: the image is read-only; -W makes a throwaway overlay" {
	run "$KRILL" run "$TINY" -- touch /new
	assert_status 1
	assert_output "touch: /new: Read-only file system"
	run "$KRILL" run -W "$TINY" -- sh -c 'echo x > /new && mkdir /newdir && cat /new && ls -d /newdir'
	assert_status 0
	assert_output "x
/newdir"
	[ ! -e "$TINY/new" ] && [ ! -e "$TINY/newdir" ]
	run "$KRILL" run -W "$TINY" -- awk '$5 == "/" { for (i = 7; $i != "-"; i++); print $(i + 1) }' /proc/self/mountinfo
	assert_output "overlay"
}

@test "isolation: -w writes to a directory image" {
	cp -a "$TINY" "$SCRATCH/img"
	run "$KRILL" run -w "$SCRATCH/img" -- sh -c 'echo kept > /kept'
	assert_status 0
	[ "$(cat "$SCRATCH/img/kept")" = kept ]
}

@test "isolation: /tmp is the host's \$TMPDIR; -t makes it private" {
	echo seen > "$SCRATCH/marker"
	run "$KRILL" run "$TINY" -- cat "$SCRATCH/marker"
	assert_status 0
	assert_output "seen"
	mkdir "$SCRATCH/tmpdir"
	echo other > "$SCRATCH/tmpdir/m2"
	TMPDIR=$SCRATCH/tmpdir run "$KRILL" run "$TINY" -- cat /tmp/m2
	assert_status 0
	assert_output "other"
	run "$KRILL" run -t "$TINY" -- sh -c 'ls -A /tmp; touch /tmp/x && echo writable; awk "\$5 == \"/tmp\" { for (i = 7; \$i != \"-\"; i++); print \$(i + 1) }" /proc/self/mountinfo'
	assert_status 0
	assert_output "writable
tmpfs"
}

@test "isolation: --home binds \$HOME at /home/\$USER" {
	[ -d "$HOME" ] && [ -r "$HOME" ] || skip "HOME=$HOME is not a readable directory"
	local user
	user=$(id -un)
	run "$KRILL" run --home "$TINY" -- stat -c %i "/home/$user"
	assert_status 0
	assert_output "$(stat -c %i "$HOME")"
}

@test "isolation: the host's root is not reachable" {
	# The stage directory is on the host; the container sees only what is
	# bound (the host's /tmp is, so use a path outside it).
	run "$KRILL" run "$TINY" -- sh -c 'ls /oldroot 2>&1; ls /'
	assert_status 0
	assert_line "ls: /oldroot: No such file or directory"
	[[ $output != *"krill"* ]] || fail "the staging area is visible: $output"
	run "$KRILL" run "$TINY" -- stat -c %i /
	assert_output "$(stat -c %i "$TINY")"
}
