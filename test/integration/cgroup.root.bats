#!/usr/bin/env bats
# cgroup.root.bats: --memory, --cpus, --pids-limit through the CLI, as root,
# and "no cgroup remains" after every kind of exit (issue 5, cgroups).
# Limits are looked up in whichever hierarchy holds the controller, so the
# same tests run on v1, v2 and hybrid hosts; a limit whose controller is
# absent is skipped with the reason.

load helper

setup() {
	is_root || skip "needs root"
	setup_scratch
	BG=""
}

teardown() {
	[ -n "${BG:-}" ] && kill -9 "$BG" 2>/dev/null
	kill_sleepers
	teardown_scratch
}

# Container processes are `sleep 9871` or have $0 = sh-9871 (nothing else
# uses these), so that a krill that fails to clean up can't leave the suite
# hanging or burning a CPU.
sleepers() { pgrep -f '^sleep 9871$|sh-9871$' || true; }
kill_sleepers() {
	local p
	for p in $(sleepers); do kill -9 "$p" 2>/dev/null; done
	return 0
}

# Mount point of the hierarchy holding controller $1 (v1), else the v2 mount
# when its root cgroup offers it, else nothing.
cg_mount() { # CONTROLLER
	local mp fstype opts
	while read -r _ _ _ _ mp _ rest; do
		fstype=${rest#*- }; fstype=${fstype%% *}
		opts=${rest##* }
		if [ "$fstype" = cgroup ] && [[ ",$opts," == *",$1,"* ]]; then
			echo "$mp"; return 0
		fi
	done </proc/self/mountinfo
	while read -r _ _ _ _ mp _ rest; do
		fstype=${rest#*- }; fstype=${fstype%% *}
		if [ "$fstype" = cgroup2 ] && grep -qw "$1" "$mp/cgroup.controllers" 2>/dev/null; then
			echo "$mp"; return 0
		fi
	done </proc/self/mountinfo
	return 1
}

need_controller() { # CONTROLLER OPTION
	cg_mount "$1" >/dev/null || skip "$2: no $1 controller on this host"
}

# Every krill cgroup directory left on the host (parents included).
krill_cgroups() {
	local d
	for d in /sys/fs/cgroup/krill /sys/fs/cgroup/*/krill; do
		[ -d "$d" ] && echo "$d"
	done
	return 0
}

assert_no_cgroup() {
	local l
	for _ in $(seq 1 25); do
		l=$(krill_cgroups)
		[ -z "$l" ] && return 0
		sleep 0.2
	done
	fail "cgroups left behind: $(find $l -type d)"
}

# The container's cgroup directory under hierarchy mount $1, once it holds a
# process (krill started in the background).
wait_cgroup() { # MOUNT
	local d
	for _ in $(seq 1 50); do
		for d in "$1"/krill/*/; do
			# cgroupfs files report size 0: read them.
			[ -n "$(cat "$d/cgroup.procs" 2>/dev/null)" ] && { echo "${d%/}"; return 0; }
		done
		sleep 0.1
	done
	return 1
}

# CPU time used by cgroup directory $1, in nanoseconds.
cg_usage_ns() { # DIR
	if [ -r "$1/cpuacct.usage" ]; then
		cat "$1/cpuacct.usage"
	else
		awk '$1 == "usage_usec" { printf "%d\n", $2 * 1000 }' "$1/cpu.stat"
	fi
}

@test "cgroup: --memory=32m and a 200 MB allocation: OOM-killed, exit 137" {
	need_controller memory --memory
	run timeout 60 "$KRILL" run --memory=32m "$TINY" -- dd if=/dev/zero of=/dev/null bs=200M count=1
	assert_status 137
	# krill reads the OOM event from the cgroup before removing it.
	[[ "${output,,}" == *oom* || "${output,,}" == *"out of memory"* ]] ||
		fail "no OOM report in: $output"
	assert_no_cgroup
}

@test "cgroup: --memory=32m leaves a small command alone" {
	need_controller memory --memory
	run timeout 60 "$KRILL" run --memory=32m "$TINY" -- dd if=/dev/zero of=/dev/null bs=4M count=1
	assert_status 0
	assert_no_cgroup
}

@test "cgroup: --memory sets the limit in the container's cgroup" {
	need_controller memory --memory
	mp=$(cg_mount memory)
	"$KRILL" run --memory=48m "$TINY" -- sleep 9871 >/dev/null 2>&1 &
	BG=$!
	d=$(wait_cgroup "$mp") || fail "no cgroup under $mp/krill"
	if [ -r "$d/memory.limit_in_bytes" ]; then
		[ "$(cat "$d/memory.limit_in_bytes")" = $((48 << 20)) ]
	else
		[ "$(cat "$d/memory.max")" = $((48 << 20)) ]
	fi
	kill -TERM "$BG"; wait "$BG" || true; BG=""
	assert_no_cgroup
}

@test "cgroup: --pids-limit=20 stops a fork loop short of 20" {
	need_controller pids --pids-limit
	run timeout 60 "$KRILL" run --pids-limit=20 "$TINY" -- \
		sh -c 'i=0; while [ $i -lt 40 ]; do sleep 1 >/dev/null 2>&1 & i=$((i+1)); echo $i; done'
	[ "$status" -ne 0 ] || fail "the fork loop went to 40: $output"
	assert_contains "can't fork"
	last=$(printf '%s\n' "$output" | grep -E '^[0-9]+$' | tail -1)
	[ -n "$last" ] && [ "$last" -lt 20 ] || fail "forked $last times: $output"
	# krill waited for the orphaned sleeps (they are the container too)
	# and removed the cgroup after them.
	assert_no_cgroup
	[ -z "$(sleepers)" ] || fail "orphaned container processes survived: $(sleepers)"
}

@test "cgroup: --cpus=0.5 holds a busy loop to 50% +-15% over 2 s" {
	need_controller cpu --cpus
	mp=$(cg_mount cpuacct || cg_mount cpu)
	"$KRILL" run --cpus=0.5 "$TINY" -- sh -c 'while :; do :; done' sh-9871 >/dev/null 2>&1 &
	BG=$!
	d=$(wait_cgroup "$mp") || fail "no cgroup under $mp/krill"
	sleep 0.3 # let the throttling settle
	u0=$(cg_usage_ns "$d"); t0=$(date +%s%N)
	sleep 2
	u1=$(cg_usage_ns "$d"); t1=$(date +%s%N)
	kill -TERM "$BG"; wait "$BG" || true; BG=""
	pct=$(( (u1 - u0) * 100 / (t1 - t0) ))
	echo "# cpu: ${pct}%" >&3
	[ "$pct" -ge 35 ] && [ "$pct" -le 65 ] || fail "busy loop used ${pct}% of a CPU under --cpus=0.5"
	assert_no_cgroup
}

@test "cgroup: bad limit values are refused (exit 125)" {
	for opt in --memory=0 --memory=12x --memory=-1 --cpus=0 --cpus=-1 --cpus=abc --pids-limit=0 --pids-limit=x; do
		run "$KRILL" run "$opt" "$TINY" -- true
		[ "$status" -eq 125 ] || fail "$opt: expected 125, got $status: $output"
		assert_contains "krill: error: ${opt%%=*}"
	done
	assert_no_cgroup
}

@test "cgroup: none remains after a normal exit, an error exit or a killed command" {
	run "$KRILL" run --memory=64m --pids-limit=50 "$TINY" -- true
	assert_status 0
	assert_no_cgroup
	run "$KRILL" run --memory=64m "$TINY" -- sh -c 'exit 5'
	assert_status 5
	assert_no_cgroup
	run "$KRILL" run --memory=64m "$TINY" -- sh -c 'kill -9 $$'
	assert_status 137
	assert_no_cgroup
}

@test "cgroup: none remains after SIGKILL of krill, and the container dies with it" {
	need_controller memory --memory
	mp=$(cg_mount memory)
	"$KRILL" run --memory=64m "$TINY" -- sleep 9871 >/dev/null 2>&1 &
	BG=$!
	d=$(wait_cgroup "$mp") || fail "no cgroup under $mp/krill"
	pids=$(cat "$d/cgroup.procs")
	kill -9 "$BG"; wait "$BG" 2>/dev/null || true; BG=""
	assert_no_cgroup
	for p in $pids; do
		for _ in $(seq 1 10); do [ -e "/proc/$p" ] || break; sleep 0.2; done
		[ ! -e "/proc/$p" ] || [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] ||
			fail "container process $p survived SIGKILL of krill"
	done
}

@test "cgroup: freeze and kill on v2 (unified hierarchy)" {
	# The v2 code paths run on whatever v2 hierarchy this host has (on a
	# hybrid host: /sys/fs/cgroup/unified); unit tests cover them in
	# detail, this checks that krill's cgroup really is there.
	v2=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
	[ -n "$v2" ] || skip "no cgroup v2 hierarchy on this host"
	"$KRILL" run --pids-limit=50 "$TINY" -- sleep 9871 >/dev/null 2>&1 &
	BG=$!
	d=$(wait_cgroup "$v2") || fail "no cgroup under $v2/krill"
	[ -e "$d/cgroup.freeze" ] || skip "no cgroup.freeze (Linux < 5.2)"
	echo 1 >"$d/cgroup.freeze"
	for _ in $(seq 1 20); do grep -q 'frozen 1' "$d/cgroup.events" && break; sleep 0.1; done
	grep -q 'frozen 1' "$d/cgroup.events"
	echo 0 >"$d/cgroup.freeze"
	kill -TERM "$BG"; wait "$BG" || true; BG=""
	assert_no_cgroup
}
