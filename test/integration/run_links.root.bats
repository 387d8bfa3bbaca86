#!/usr/bin/env bats
# krill run as real root: the kernel's knobs in /proc and /sys are
# protected as runc and docker protect them (issue 9 item 4), and device
# nodes in a directory image don't open host devices (issue 9 item 14).
load helper

setup() {
	setup_scratch
	is_root || skip "needs root"
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

@test "root: /proc/sys and the other kernel knobs are read-only, even with --pid" {
	local before opts
	before=$(cat /proc/sys/kernel/core_pattern)
	# The issue's reproducer, but opening for writing without writing
	# (': >>'), so the host's core_pattern can't change even if it isn't
	# protected.
	for opts in "--cap-drop=ALL --pid" "--cap-drop=ALL" ""; do
		# shellcheck disable=SC2086
		run "$KRILL" run $opts "$TINY" -- sh -c ': >> /proc/sys/kernel/core_pattern'
		assert_status 1
		assert_output "sh: can't create /proc/sys/kernel/core_pattern: Read-only file system"
	done
	[ "$(cat /proc/sys/kernel/core_pattern)" = "$before" ]
	run "$KRILL" run --pid "$TINY" -- sh -c \
		'for p in /proc/sys /proc/sysrq-trigger /proc/irq /proc/bus /proc/fs; do
			[ -e $p ] || continue
			awk -v p=$p "\$5 == p { split(\$6, o, \",\"); print p, o[1] }" /proc/self/mountinfo
		done'
	assert_status 0
	assert_line "/proc/sys ro"
	local p
	for p in /proc/sysrq-trigger /proc/irq /proc/bus /proc/fs; do
		[ -e $p ] && assert_line "$p ro"
	done
	# Root is still root elsewhere: the container's own /tmp is writable.
	run "$KRILL" run "$TINY" -- sh -c ': >> /tmp/krill-root-probe.$$ && rm /tmp/krill-root-probe.$$'
	assert_status 0
}

@test "root: /proc/kcore, /proc/keys, /proc/timer_list, /sys/firmware... are masked" {
	run "$KRILL" run --pid "$TINY" -- sh -c \
		'for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats /proc/timer_stats; do
			[ -e $p ] && echo "$p: $(head -c 64 $p | wc -c)"
		done
		for d in /proc/acpi /proc/scsi /proc/asound /sys/firmware; do
			[ -e $d ] && echo "$d: $(ls -A $d | wc -l)"
		done'
	assert_status 0
	local p
	for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats /proc/timer_stats; do
		[ -e $p ] && assert_line "$p: 0"
	done
	for p in /proc/acpi /proc/scsi /proc/asound /sys/firmware; do
		[ -e $p ] && assert_line "$p: 0"
	done
	[ -n "$(ls -A /sys/firmware)" ] || skip "the host's /sys/firmware is empty: nothing to compare"
}

@test "root: with --userns the container's root isn't real root: no masks needed, and none added" {
	run "$KRILL" run --userns "$TINY" -- awk '$5 == "/proc/sys" { print "mounted" }' /proc/self/mountinfo
	assert_status 0
	assert_output ""
}

@test "root: a device node in a directory image doesn't open the host's device (nodev)" {
	cp -a "$TINY" "$SCRATCH/img"
	mknod -m 0666 "$SCRATCH/img/zero" c 1 5
	run "$KRILL" run "$SCRATCH/img" -- head -c 1 /zero
	assert_status 1
	assert_output "head: /zero: Permission denied"
	run "$KRILL" run -w "$SCRATCH/img" -- head -c 1 /zero
	assert_status 1
	assert_output "head: /zero: Permission denied"
	run "$KRILL" run "$SCRATCH/img" -- awk '$5 == "/" { print $6 }' /proc/self/mountinfo
	[[ $output == *nodev* ]] || fail "the image isn't mounted nodev: $output"
	# The container's /dev is the host's, with its devices.
	run "$KRILL" run "$SCRATCH/img" -- head -c 1 /dev/zero
	assert_status 0
}

@test "root: the Slurm default bind (/var/spool/slurmd) onto each kind of link" {
	# The host gets a /var/spool/slurmd only in a mount namespace of the
	# test's own (a tmpfs over /var/spool), so the real host is untouched.
	[ -d /var/spool ] || skip "the host has no /var/spool"
	local kind img
	for kind in abs rel dangling dir outside; do
		img=$SCRATCH/img-$kind
		cp -a "$TINY" "$img"
		mkdir -p "$img/var/spool"
		case $kind in
		abs) mkdir "$img/var/spool/slurmd.real"; ln -s /var/spool/slurmd.real "$img/var/spool/slurmd" ;;
		rel) mkdir "$img/var/spool/slurmd.real"; ln -s slurmd.real "$img/var/spool/slurmd" ;;
		dangling) ln -s /run/slurm/spool "$img/var/spool/slurmd" ;;
		dir) mkdir "$img/opt/spool"; ln -s /opt/spool "$img/var/spool/slurmd" ;;
		outside) mkdir "$img/var/spool/slurmd.real"
			ln -s ../../../../../../var/spool/slurmd.real "$img/var/spool/slurmd" ;;
		esac
		mksquashfs "$img" "$img.sqfs" -quiet -noappend -all-root >/dev/null
		for i in "$img" "$img.sqfs"; do
			run unshare -m sh -c 'mount --make-rprivate / && mount -t tmpfs krill-test /var/spool &&
				mkdir /var/spool/slurmd && echo spool > /var/spool/slurmd/which &&
				exec "$1" run "$2" -- cat /var/spool/slurmd/which' sh "$KRILL" "$i"
			assert_status 0
			assert_output "spool"
		done
	done
	[ ! -e /var/spool/slurmd/which ] || [ "$(cat /var/spool/slurmd/which)" != spool ]
}
