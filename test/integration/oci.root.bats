#!/usr/bin/env bats
# krill-oci as root: lifecycle, namespaces by path, cgroup limits, pause,
# terminals, devices, capabilities; podman as a real client.

load oci_helper
bats_require_minimum_version 1.5.0

setup() { oci_setup; }
teardown() {
	[ -n "${NETNS:-}" ] && ip netns delete "$NETNS" 2>/dev/null
	[ -n "${RECV:-}" ] && kill "$RECV" 2>/dev/null
	oci_teardown
}

@test "oci root: lifecycle with state at each step, cgroup created and removed" {
	set_args '["sh","-c","echo hi > /marker; exec sleep 60"]'
	oci_bg create --bundle "$B" rlife
	[ "$(oci_status rlife)" = created ]
	[ ! -e "$B/rootfs/marker" ]
	[ -d /sys/fs/cgroup/pids/krill/rlife ]
	oci start rlife
	wait_file "$B/rootfs/marker"
	[ "$(oci_status rlife)" = running ]
	pid=$(oci state rlife | jq -r .pid)
	grep -qx "$pid" /sys/fs/cgroup/pids/krill/rlife/cgroup.procs
	oci kill rlife KILL
	wait_status rlife stopped
	oci delete rlife
	[ ! -e "$ROOT/rlife" ]
	[ ! -e /sys/fs/cgroup/pids/krill/rlife ]
	assert_oci_clean
}

@test "oci root: joining a network namespace by path (ip netns add)" {
	NETNS=krilltest$$
	ip netns add "$NETNS"
	want=$(stat -L -c %i "/var/run/netns/$NETNS")
	jq_config --arg p "/var/run/netns/$NETNS" \
		'.linux.namespaces |= map(if .type == "network" then .path = $p else . end)'
	set_args '["sh","-c","stat -L -c %i /proc/self/ns/net"]'
	run oci run --bundle "$B" netp
	assert_status 0
	assert_output "$want"
	assert_oci_clean
}

@test "oci root: a namespace path of the wrong type is refused" {
	jq_config --arg p "/proc/$$/ns/uts" \
		'.linux.namespaces |= map(if .type == "network" then .path = $p else . end)'
	run oci run --bundle "$B" wrongns
	assert_status 1
	assert_output "krill-oci: error: linux.namespaces: /proc/$$/ns/uts is a uts namespace, not a network namespace"
	assert_oci_clean
}

@test "oci root: memory limit: the OOM killer ends the process, status 137" {
	jq_config '.linux.resources.memory = {limit: 33554432}'
	set_args '["sh","-c","x=$(head -c 200000000 /dev/zero | tr \"\\\\0\" a); echo survived"]'
	run oci run --bundle "$B" oom
	assert_status 137
	[[ "$output" != *survived* ]]
	assert_oci_clean
}

@test "oci root: pids limit" {
	jq_config '.linux.resources.pids = {limit: 8}'
	set_args '["sh","-c","for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 2 & done 2>&1; wait"]'
	run oci run --bundle "$B" pids
	assert_contains "can't fork"
	assert_oci_clean
}

@test "oci root: seccomp profile denying mkdir" {
	jq_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
	  syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
	set_args '["sh","-c","mkdir /tmp/d 2>&1; echo rc=$?; touch /tmp/f && echo touched"]'
	run oci run --bundle "$B" rsc
	assert_status 0
	assert_line "mkdir: can't create directory '/tmp/d': Operation not permitted"
	assert_line "rc=1"
	assert_line "touched"
}

# 1 when the container's cgroup is frozen: v2 cgroup.events (where the
# freezer lives on a v2 or hybrid host) or the v1 freezer.
frozen() {
	local v2
	v2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
	if [ -e "$v2/krill/$1/cgroup.events" ]; then
		awk '$1 == "frozen" {print $2}' "$v2/krill/$1/cgroup.events"
	else
		[ "$(cat "/sys/fs/cgroup/freezer/krill/$1/freezer.state")" = FROZEN ] && echo 1 || echo 0
	fi
}

@test "oci root: pause freezes the processes, resume thaws them" {
	set_args '["sh","-c","i=0; while :; do i=$((i+1)); echo $i > /tick; sleep 0.05; done"]'
	oci_bg run -d --bundle "$B" pz
	wait_file "$B/rootfs/tick"
	oci pause pz
	[ "$(oci_status pz)" = paused ]
	[ "$(frozen pz)" = 1 ]
	a=$(cat "$B/rootfs/tick")
	sleep 0.3
	[ "$(cat "$B/rootfs/tick")" = "$a" ] || fail "tick changed while paused"
	run oci pause pz
	assert_status 1
	assert_output "krill-oci: error: container pz is paused, not running"
	run oci delete pz
	assert_status 1
	oci resume pz
	[ "$(oci_status pz)" = running ]
	[ "$(frozen pz)" = 0 ]
	sleep 0.3
	[ "$(cat "$B/rootfs/tick")" != "$a" ] || fail "tick did not move after resume"
	run oci ps --format json pz
	[ "$(echo "$output" | jq length)" -ge 1 ]
	oci delete --force pz
	assert_oci_clean
}

start_receiver() { # SOCKET OUT
	python3 "$BATS_TEST_DIRNAME/../helpers/console_recv.py" "$1" "$2" &
	RECV=$!
	wait_file "$1.ready"
}

@test "oci root: process.terminal sends the pty master to the console socket" {
	jq_config '.process.terminal = true'
	set_args '["sh","-c","tty; echo done"]'
	start_receiver "$SCRATCH/console.sock" "$SCRATCH/console.out"
	run oci run --console-socket "$SCRATCH/console.sock" --bundle "$B" tty1
	assert_status 0
	wait "$RECV"
	RECV=
	run cat "$SCRATCH/console.out"
	assert_line "/dev/pts/0"
	assert_line $'/dev/pts/0\r'
	assert_line $'done\r'
	run oci run --bundle "$B" tty2
	assert_status 1
	assert_output "krill-oci: error: process.terminal is true: --console-socket is required"
}

@test "oci root: exec --tty with a console socket" {
	set_args '["sleep","60"]'
	oci_bg run -d --bundle "$B" ext
	start_receiver "$SCRATCH/c.sock" "$SCRATCH/c.out"
	run oci exec --tty --console-socket "$SCRATCH/c.sock" ext sh -c 'tty; echo $TERM; exit 3'
	assert_status 3
	wait "$RECV"
	RECV=
	run cat "$SCRATCH/c.out"
	assert_line $'/dev/pts/0\r'
	assert_line $'xterm\r'
	oci delete --force ext
}

@test "oci root: devices are created with mknod, capabilities follow the config" {
	jq_config '.linux.devices = [{path: "/dev/kmsg2", type: "c", major: 1, minor: 11, fileMode: 384, uid: 0, gid: 0}]
	  | .process.capabilities = {bounding: ["CAP_CHOWN","CAP_KILL"], effective: ["CAP_KILL"],
	      permitted: ["CAP_CHOWN","CAP_KILL"], inheritable: [], ambient: []}
	  | .process.user = {uid: 1000, gid: 1000, additionalGids: [44], umask: 63}
	  | .process.rlimits = [{type: "RLIMIT_NOFILE", soft: 123, hard: 456}]
	  | .process.oomScoreAdj = 500'
	set_args '["sh","-c","stat -c \"%t:%T %a %F\" /dev/kmsg2 /dev/null; grep -E \"^Cap(Bnd|Eff)\" /proc/self/status; id; ulimit -n; cat /proc/self/oom_score_adj; umask"]'
	run oci run --bundle "$B" dev
	assert_status 0
	assert_line "1:b 600 character special file"
	assert_line "1:3 666 character special file"
	assert_line $'CapBnd:\t0000000000000021'
	assert_line $'CapEff:\t0000000000000000'
	assert_line "uid=1000 gid=1000 groups=44"
	assert_line "123"
	assert_line "500"
	assert_line "0077"
}

@test "oci root: sysctl, maskedPaths, readonlyPaths and a read-only root" {
	jq_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"} | .root.readonly = true'
	set_args '["sh","-c","cat /proc/sys/net/ipv4/ip_forward; cat /proc/kcore | wc -c; touch /x 2>&1; echo 1 > /proc/sys/kernel/domainname 2>&1; true"]'
	run oci run --bundle "$B" sys
	assert_status 0
	assert_line "1"
	assert_line "0"
	assert_line "touch: /x: Read-only file system"
	assert_contains "Read-only file system"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ] || [ "$(ip netns identify 2>/dev/null)" = "" ]
}

# ---- mount points and device nodes only on the rootfs and the runtime's own
# mounts, never in a bind from the host (issue 9 item 5) ----------------------

# A host volume bound at /vol, and a link in the rootfs that leads into it.
oci_volume_link() { # LINK
	VOL=$SCRATCH/vol
	mkdir "$VOL"
	echo data > "$VOL/keep"
	mkdir "$B/rootfs/vol"
	jq_config --arg v "$VOL" '.mounts += [{destination: "/vol", type: "bind", source: $v, options: ["rbind"]}]'
	rm -rf "${B:?}/rootfs/$1"
	ln -s vol "$B/rootfs/$1"
}

assert_volume_untouched() {
	[ "$(ls -A "$VOL")" = keep ] || fail "written into the host volume: $(ls -la "$VOL")"
}

@test "oci root: rootfs dev -> vol: no device nodes in the host volume (layout a)" {
	oci_volume_link dev
	# Without a /dev tmpfs, the nodes would go straight into the volume.
	jq_config '.mounts |= map(select(.destination | startswith("/dev") | not))'
	run oci run --bundle "$B" lay-a
	assert_status 1
	assert_output "krill-oci: error: linux.devices (/dev/null): /dev leads into a bind mount from the host (symlink); device nodes are made only on the rootfs and the runtime's own mounts"
	assert_volume_untouched
	# The host's null, tty, ptmx would have been replaced: plant them.
	touch "$VOL/null" "$VOL/tty" "$VOL/ptmx"
	run oci run --bundle "$B" lay-a2
	assert_status 1
	[ -f "$VOL/null" ] && [ -f "$VOL/tty" ] && [ -f "$VOL/ptmx" ]
	rm "$VOL/null" "$VOL/tty" "$VOL/ptmx"
	# With the spec's /dev tmpfs the link leads to the tmpfs (mounted
	# first), and the volume's bind over it is the runtime's business;
	# still nothing is made in the volume.
	oci_setup
	oci_volume_link dev
	run oci run --bundle "$B" lay-a3
	assert_status 1
	assert_volume_untouched
	assert_oci_clean
}

@test "oci root: a linux.devices node through a link into a host volume is refused (layout b)" {
	oci_volume_link devlink
	jq_config '.linux.devices = [{path: "/devlink/rtk-sda", type: "b", major: 254, minor: 0, fileMode: 438}]'
	run oci run --bundle "$B" lay-b
	assert_status 1
	assert_output "krill-oci: error: linux.devices (/devlink/rtk-sda): /devlink leads into a bind mount from the host (symlink); device nodes are made only on the rootfs and the runtime's own mounts"
	assert_volume_untouched
	[ ! -e "$VOL/rtk-sda" ]
	assert_oci_clean
}

@test "oci root: a mount point through a link into a host volume isn't created (layout c)" {
	oci_volume_link x
	jq_config '.mounts += [{destination: "/x/newdir/deeper", type: "tmpfs", source: "tmpfs"}]'
	run oci run --bundle "$B" lay-c
	assert_status 1
	assert_output "krill-oci: error: mounts[8] (/x/newdir/deeper): destination /x/newdir/deeper leads into a bind mount from the host (symlink); nothing is created there"
	assert_volume_untouched
	# A mount point that exists in the volume may be mounted over (as runc
	# does), and mount points in the runtime's own tmpfs are made.
	mkdir "$VOL/there"
	jq_config '.mounts[8].destination = "/x/there" | .mounts += [{destination: "/dev/newdir/deeper", type: "tmpfs", source: "tmpfs"}]'
	set_args '["sh","-c","grep -c \" /vol/there \\| /dev/newdir/deeper \" /proc/self/mountinfo"]'
	run oci run --bundle "$B" lay-c2
	assert_status 0
	assert_output "2"
	[ "$(ls -A "$VOL")" = "keep
there" ] && [ -z "$(ls -A "$VOL/there")" ]
	assert_oci_clean
}
