#!/usr/bin/env bats
# krill-oci against the runtime spec, as root: noNewPrivileges, resources
# applied or refused by field, inherited namespaces, mount options as data,
# tmpcopyup/rro/copy-symlink, the container's cgroup view, poststop hooks.

load oci_helper
bats_require_minimum_version 1.5.0

setup() { oci_setup; }
teardown() { oci_teardown; }

@test "oci conform: process.noNewPrivileges is followed: false leaves it unset, true sets it" {
	set_args '["sh","-c","grep NoNewPrivs /proc/self/status"]'
	jq_config '.process.noNewPrivileges = false'
	run oci run --bundle "$B" nnp0
	assert_status 0
	assert_output "NoNewPrivs:	0"
	jq_config '.process.noNewPrivileges = true'
	run oci run --bundle "$B" nnp1
	assert_status 0
	assert_output "NoNewPrivs:	1"
	# Without no_new_privs a seccomp filter is loaded while CAP_SYS_ADMIN
	# is still there (as runc does), and still applies.
	jq_config '.process.noNewPrivileges = false | .process.capabilities = {} |
		.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		  syscalls: [{names: ["mkdir","mkdirat"], action: "SCMP_ACT_ERRNO"}]}'
	set_args '["sh","-c","grep NoNewPrivs /proc/self/status; mkdir /tmp/x"]'
	run oci run --bundle "$B" nnp2
	assert_status 1
	assert_line "NoNewPrivs:	0"
	assert_contains "Operation not permitted"
	assert_oci_clean
}

@test "oci conform: cpu shares, exact quota/period, cpuset and memory reservation/swap reach the cgroup" {
	jq_config '.linux.resources = {cpu: {shares: 512, quota: 20000, period: 50000, cpus: "0", mems: "0"},
		memory: {limit: 67108864, swap: 134217728, reservation: 1048576}}'
	set_args '["sleep","60"]'
	oci_bg create --bundle "$B" res1
	g=/sys/fs/cgroup
	[ "$(cat $g/cpu/krill/res1/cpu.shares)" = 512 ]
	[ "$(cat $g/cpu/krill/res1/cpu.cfs_period_us)" = 50000 ]
	[ "$(cat $g/cpu/krill/res1/cpu.cfs_quota_us)" = 20000 ]
	[ "$(cat $g/cpuset/krill/res1/cpuset.cpus)" = 0 ]
	[ "$(cat $g/cpuset/krill/res1/cpuset.mems)" = 0 ]
	[ "$(cat $g/memory/krill/res1/memory.soft_limit_in_bytes)" = 1048576 ]
	if [ -e $g/memory/krill/res1/memory.memsw.limit_in_bytes ]; then
		[ "$(cat $g/memory/krill/res1/memory.memsw.limit_in_bytes)" = 134217728 ]
	fi
	pid=$(oci state res1 | jq -r .pid)
	grep -qx "$pid" $g/cpuset/krill/res1/cgroup.procs
	oci delete --force res1
	[ ! -e $g/cpuset/krill/res1 ]
	assert_oci_clean
}

@test "oci conform: device cgroup rules apply in order, and the defaults stay usable" {
	[ -e /sys/fs/cgroup/devices/devices.allow ] || skip "no v1 devices controller on this host"
	jq_config '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] |
		.process.capabilities.permitted += ["CAP_MKNOD"] |
		.linux.resources.devices = [{allow: false, access: "rwm"},
		{allow: true, type: "c", major: 10, minor: 229, access: "m"}]'
	set_args '["sh","-c","cat /sys/fs/cgroup/devices/devices.list; head -c3 /dev/zero | wc -c;
		mknod /tmp/fuse c 10 229 && echo made; cat /tmp/fuse; mknod /tmp/loop b 7 0 || echo nomknod"]'
	run oci run --bundle "$B" dev1
	assert_line "c 10:229 m"
	assert_line "c 1:5 rwm"
	assert_line "c 136:* rwm"
	assert_line "3"
	assert_line "made"
	assert_line "cat: can't open '/tmp/fuse': Operation not permitted"
	assert_line "mknod: /tmp/loop: Operation not permitted"
	assert_line "nomknod"
	! grep -q '^a \*:\* rwm' <<<"$output"
	assert_oci_clean
}

@test "oci conform: blockIO throttles are written; fields the host can't honour name themselves" {
	dev=$(stat -c '%d' "$B")
	maj=$(( (dev >> 8) & 0xfff )) min=$(( (dev & 0xff) | ((dev >> 12) & 0xfff00) ))
	# A partition's throttle is refused by the kernel; use its whole disk.
	if [ -e "/sys/dev/block/$maj:$min/partition" ]; then
		d=$(basename "$(readlink -f "/sys/dev/block/$maj:$min/..")")
		IFS=: read -r maj min < "/sys/class/block/$d/dev"
	fi
	[ -e "/sys/dev/block/$maj:$min" ] || skip "the bundle is not on a block device"
	jq_config --argjson ma "$maj" --argjson mi "$min" \
		'.linux.resources.blockIO = {throttleReadBpsDevice: [{major: $ma, minor: $mi, rate: 1048576}],
		  throttleWriteIOPSDevice: [{major: $ma, minor: $mi, rate: 100}]}'
	set_args '["sleep","60"]'
	oci_bg create --bundle "$B" blk1
	grep -qx "$maj:$min 1048576" /sys/fs/cgroup/blkio/krill/blk1/blkio.throttle.read_bps_device
	grep -qx "$maj:$min 100" /sys/fs/cgroup/blkio/krill/blk1/blkio.throttle.write_iops_device
	oci delete --force blk1
	if ! grep -qw hugetlb /proc/self/mountinfo; then
		jq_config '.linux.resources = {hugepageLimits: [{pageSize: "2MB", limit: 2097152}]}'
		run oci run --bundle "$B" huge1
		assert_status 1
		assert_line "krill-oci: error: linux.resources.hugepageLimits: no hugetlb controller on this host"
	fi
	if ! grep -qw net_cls /proc/self/mountinfo; then
		jq_config '.linux.resources = {network: {classID: 1048577}}'
		run oci run --bundle "$B" net1
		assert_status 1
		assert_line "krill-oci: error: linux.resources.network.classID: no net_cls controller on this host"
	fi
	if ! grep -qw net_prio /proc/self/mountinfo; then
		jq_config '.linux.resources = {network: {priorities: [{name: "lo", priority: 5}]}}'
		run oci run --bundle "$B" net2
		assert_status 1
		assert_line "krill-oci: error: linux.resources.network.priorities: no net_prio controller on this host"
	fi
	assert_oci_clean
}

@test "oci conform: no linux.namespaces: the runtime's are inherited (and a private mount table)" {
	jq_config 'del(.linux.namespaces) | .hostname = null | .linux.sysctl = null |
		.linux.maskedPaths = [] | .linux.readonlyPaths = []'
	set_args '["sh","-c","for n in pid net ipc uts cgroup user mnt; do stat -L -c \"$n %i\" /proc/self/ns/$n; done"]'
	run oci run --bundle "$B" nons
	assert_status 0
	for n in pid net ipc uts cgroup user; do
		assert_line "$n $(stat -L -c %i /proc/self/ns/$n)"
	done
	! grep -qx "mnt $(stat -L -c %i /proc/self/ns/mnt)" <<<"$output"
	jq_config '.linux.namespaces = []'
	run oci run --bundle "$B" nons2
	assert_status 0
	assert_line "net $(stat -L -c %i /proc/self/ns/net)"
	assert_oci_clean
}

@test "oci conform: unknown mount options are filesystem data, also on a bind" {
	mkdir "$SCRATCH/src"
	echo data > "$SCRATCH/src/f"
	jq_config --arg s "$SCRATCH/src" '.mounts += [
		{destination: "/b", type: "bind", source: $s, options: ["rbind","ro","mode=755","size=1k"]},
		{destination: "/t", type: "tmpfs", source: "tmpfs", options: ["nosuid","mode=710","size=64k"]}]'
	set_args '["sh","-c","cat /b/f; stat -c %a /t; grep \" /t \" /proc/self/mounts; touch /b/x || echo ro"]'
	run oci run --bundle "$B" mdata
	assert_status 0
	assert_line "data"
	assert_line "710"
	assert_contains "size=64k"
	assert_line "ro"
	assert_oci_clean
}

@test "oci conform: tmpcopyup, rro and copy-symlink" {
	mkdir -p "$B/rootfs/seed/sub" "$SCRATCH/src/inner"
	echo one > "$B/rootfs/seed/a"
	echo two > "$B/rootfs/seed/sub/b"
	ln -s a "$B/rootfs/seed/link"
	chmod 0750 "$B/rootfs/seed"
	chown 12:34 "$B/rootfs/seed/a"
	mount -t tmpfs tmpfs "$SCRATCH/src/inner"
	ln -s /usr/share/zoneinfo/UTC "$SCRATCH/localtime"
	jq_config --arg s "$SCRATCH/src" --arg l "$SCRATCH/localtime" '.mounts += [
		{destination: "/seed", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup","nosuid"]},
		{destination: "/r", type: "bind", source: $s, options: ["rbind","rro"]},
		{destination: "/etc/localtime", type: "bind", source: $l, options: ["rbind","copy-symlink"]}]'
	set_args '["sh","-c","cat /seed/a /seed/sub/b; readlink /seed/link; stat -c \"%a %u:%g\" /seed /seed/a;
		grep \" /seed \" /proc/self/mounts | cut -d\" \" -f3; echo new > /seed/n && echo writable;
		touch /r/inner/x || echo rro; readlink /etc/localtime"]'
	run oci run --bundle "$B" copyup
	umount "$SCRATCH/src/inner"
	assert_status 0
	assert_line "one"
	assert_line "two"
	assert_line "a"
	assert_line "750 0:0"
	assert_line "644 12:34"
	assert_line "tmpfs"
	assert_line "writable"
	assert_line "touch: /r/inner/x: Read-only file system"
	assert_line "/usr/share/zoneinfo/UTC"
	[ ! -e "$B/rootfs/seed/n" ]
	assert_oci_clean
}

@test "oci conform: the cgroup mount shows the container's own cgroups, with its limits" {
	[ -d /sys/fs/cgroup/memory ] || skip "no v1 memory hierarchy (pure cgroup v2 host)"
	jq_config '.linux.resources.memory = {limit: 67108864} | .linux.resources.cpu = {quota: 50000, period: 100000}'
	set_args '["sh","-c","cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us;
		ls /sys/fs/cgroup/memory | grep -c krill; echo x > /sys/fs/cgroup/memory/memory.limit_in_bytes || echo ro"]'
	run oci run --bundle "$B" cgview
	assert_status 0
	assert_line "67108864"
	assert_line "50000"
	assert_line "0"
	assert_contains "Read-only file system"
	assert_oci_clean
}

@test "oci conform: a failing poststop hook warns, and the next ones still run" {
	cat > "$SCRATCH/hook" <<-EOF
	#!/bin/sh
	echo "\$1" >> $SCRATCH/hooks.log
	[ "\$1" != second ]
	EOF
	chmod +x "$SCRATCH/hook"
	jq_config --arg h "$SCRATCH/hook" '.hooks.poststop = [
		{path: $h, args: ["hook","first"]}, {path: $h, args: ["hook","second"]},
		{path: $h, args: ["hook","third"]}]'
	run oci run --bundle "$B" pstop
	assert_status 0
	assert_output "krill-oci: warning: poststop hook $SCRATCH/hook: exited with status 1"
	[ "$(cat "$SCRATCH/hooks.log")" = "first
second
third" ]
	assert_oci_clean
}

@test "oci conform: an rlimit that can't be set names its type" {
	# Raising a hard limit takes CAP_SYS_RESOURCE.
	eff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
	(( (0x$eff >> 24) & 1 )) && skip "root has CAP_SYS_RESOURCE here: every rlimit can be set"
	hard=$(ulimit -Hn)
	jq_config --argjson h "$((hard + 1))" '.process.rlimits = [{type: "RLIMIT_CORE", soft: 0, hard: 0},
		{type: "RLIMIT_NOFILE", soft: $h, hard: $h}]'
	run oci run --bundle "$B" rlim
	assert_status 1
	assert_output "krill-oci: error: process.rlimits[1] (RLIMIT_NOFILE): can't set it: Operation not permitted"
	assert_oci_clean
}
