#!/usr/bin/env bats
# SquashFS images run unprivileged through krill's in-process FUSE server
# (issue 3): contents, concurrency, lifetime, errors and faults.
load helper
bats_require_minimum_version 1.5.0

setup() { setup_scratch; }
teardown() {
	teardown_scratch
	assert_no_leftovers
}

@test "squash: id, passwd, binds and a FUSE root" {
	run "$KRILL" run "$TINY_SQFS" -- sh -c 'id -u; id -g; grep "^$(id -un):" /etc/passwd | cut -d: -f3'
	assert_status 0
	[ "${lines[0]}" = "$(id -u)" ] && [ "${lines[1]}" = "$(id -g)" ] && [ "${lines[2]}" = "$(id -u)" ]
	run "$KRILL" run "$TINY_SQFS" -- sh -c 'grep " / " /proc/self/mountinfo'
	assert_contains "fuse.krill"
	assert_contains " ro,"
	echo hello >"$SCRATCH/f"
	run "$KRILL" run -b "$SCRATCH:/mnt" "$TINY_SQFS" -- cat /mnt/f
	assert_status 0
	assert_output hello
}

@test "squash: -W writes go to the tmpfs; the image file is unchanged" {
	sum=$(md5sum <"$TINY_SQFS")
	run "$KRILL" run -W "$TINY_SQFS" -- sh -c 'echo new > /etc/hostname-new && cat /etc/hostname-new && mkdir /opt-new && rm /bin/true; ls /bin/true'
	assert_output "new
ls: /bin/true: No such file or directory"
	[ "$(md5sum <"$TINY_SQFS")" = "$sum" ]
	run "$KRILL" run "$TINY_SQFS" -- ls /bin/true
	assert_status 0
}

@test "squash: 8 concurrent runs of one image all succeed" {
	for i in 1 2 3 4 5 6 7 8; do
		"$KRILL" run "$TINY_SQFS" -- sh -c "cat /etc/os-release >/dev/null && echo ok-$i" >"$SCRATCH/out.$i" 2>&1 &
	done
	wait
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(cat "$SCRATCH/out.$i")" = "ok-$i" ] || fail "run $i: $(cat "$SCRATCH/out.$i")"
	done
}

@test "squash: a background process outlives the command; krill waits for it" {
	start=$(date +%s%N)
	run "$KRILL" run -b "$SCRATCH:/mnt" "$TINY_SQFS" -- \
		sh -c '(sleep 1; head -1 /etc/passwd > /mnt/late; sleep 1) >/dev/null 2>&1 & exit 0'
	end=$(date +%s%N)
	assert_status 0
	[ "$(cat "$SCRATCH/late")" = "root:x:0:0:root:/root:/bin/sh" ] || fail "late read: $(cat "$SCRATCH/late" 2>&1)"
	[ $(( (end - start) / 1000000 )) -ge 1900 ] || fail "krill exited after $(( (end - start) / 1000000 )) ms"
	! grep -q fuse.krill /proc/self/mountinfo
}

@test "squash: a corrupt image, a non-SquashFS file, a truncated one" {
	cp "$TINY_SQFS" "$SCRATCH/bad.sqfs"
	printf '\0\0\0\0' | dd of="$SCRATCH/bad.sqfs" bs=1 seek=4 conv=notrunc 2>/dev/null
	run "$KRILL" run "$SCRATCH/bad.sqfs" -- true
	assert_status 125
	[[ "${lines[0]}" == "krill: error: $SCRATCH/bad.sqfs: can't open SquashFS: "* ]] || fail "got: $output"
	head -c 100 "$TINY_SQFS" >"$SCRATCH/short.sqfs"
	run "$KRILL" run "$SCRATCH/short.sqfs" -- true
	assert_status 125
	[[ "${lines[0]}" == "krill: error: $SCRATCH/short.sqfs: can't open SquashFS: "* ]] || fail "got: $output"
	printf 'PK\3\4rest' >"$SCRATCH/zip"
	run "$KRILL" run "$SCRATCH/zip" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/zip: unknown image type (first bytes: 50 4b 03 04)"
}

@test "squash: -m must be a directory; -m works" {
	touch "$SCRATCH/file"
	run "$KRILL" run -m "$SCRATCH/file" "$TINY_SQFS" -- true
	assert_status 125
	assert_output "krill: error: --mount=$SCRATCH/file: not a directory"
	mkdir "$SCRATCH/mnt"
	run "$KRILL" run -m "$SCRATCH/mnt" "$TINY_SQFS" -- cat /etc/os-release
	assert_status 0
	# The mount lived only in krill's namespace.
	[ -z "$(ls -A "$SCRATCH/mnt")" ]
}

@test "squash: SIGKILL of the command: 137, nothing left" {
	run "$KRILL" run "$TINY_SQFS" -- sh -c 'kill -KILL $$'
	assert_status 137
}

@test "squash: SIGKILL of the FUSE server: a reader fails within 5 s" {
	"$KRILL" run "$TINY_SQFS" -- sh -c 'echo started > /tmp/krill-sq-started.$PPID; sleep 1; cat /bin/busybox >/dev/null; echo "read: $?"' \
		>"$SCRATCH/out" 2>&1 &
	k=$!
	for _ in $(seq 50); do ls /tmp/krill-sq-started.* >/dev/null 2>&1 && break; sleep 0.1; done
	rm -f /tmp/krill-sq-started.*
	start=$(date +%s)
	kill -KILL "$k"
	# the container's processes must not hang on the dead server
	for _ in $(seq 50); do pgrep -u "$(id -u)" -f 'sleep 1' >/dev/null || break; sleep 0.1; done
	sleep 1.5
	[ $(( $(date +%s) - start )) -le 5 ]
	! pgrep -u "$(id -u)" -x cat
	grep -q "read: [1-9]" "$SCRATCH/out" || grep -qi "not connected\|transport\|I/O error\|No such device" "$SCRATCH/out" ||
		fail "reader didn't fail: $(cat "$SCRATCH/out")"
}
