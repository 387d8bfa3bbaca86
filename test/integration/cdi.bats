#!/usr/bin/env bats
# CDI devices unprivileged (issue 15): --device, --cdi-dirs, [cdi] in
# krill.conf; the synthetic vendor krill.test/gpu (cdi_helper.bash) in
# YAML and JSON, directory and SquashFS images, --join; every error case.
load helper
load cdi_helper
bats_require_minimum_version 1.5.0

setup_file() {
	export VENDOR_DIR
	VENDOR_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/krill-cdi.XXXXXX")
	make_vendor "$VENDOR_DIR"
	# Our own copy: -W can then create mount points in root-owned places
	# of the image (a root-owned image's /usr isn't ours even in the overlay).
	cp -a "$TINY" "$VENDOR_DIR/tiny"
}
teardown_file() {
	rm -rf "$VENDOR_DIR"
}
setup() {
	setup_scratch
	VENDOR=$VENDOR_DIR
	IMG=$VENDOR_DIR/tiny
	mkdir "$SCRATCH/mnt"
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

kgpu() { # IMAGE-OPTIONS... -- run SHOW_DEVICES with the YAML spec dir
	"$KRILL" run --cdi-dirs="$VENDOR/yaml" -W -b "$SCRATCH/mnt:/mnt" "$@" -- sh -c "$SHOW_DEVICES"
}

@test "cdi: --device=VENDOR/CLASS=NAME selects one device, with the spec's env and hook" {
	run kgpu --device=krill.test/gpu=gpu1 "$IMG"
	assert_status 0
	assert_output "/dev/kgpu1 character special file 1:7
KGPU1=yes
KGPU_DRIVER=1.2.3
KRILL_IMAGE=from-cdi
created"
}

@test "cdi: =all selects every device of the kind" {
	run kgpu --device=krill.test/gpu=all "$IMG"
	assert_status 0
	assert_output "/dev/kgpu0 character special file 1:5
/dev/kgpu1 character special file 1:7
KGPU0=yes
KGPU1=yes
KGPU_DRIVER=1.2.3
KRILL_IMAGE=from-cdi
created"
}

@test "cdi: the nodes are the host's devices: /dev/kgpu0 reads zeros, /dev/kgpu1 is full" {
	run "$KRILL" run --cdi-dirs="$VENDOR/yaml" -W --device=krill.test/gpu=all "$IMG" -- \
		sh -c 'head -c 4 /dev/kgpu0 | od -An -tx1; echo x > /dev/kgpu1'
	assert_status 1
	assert_line " 00 00 00 00"
	assert_contains "No space left on device"
}

@test "cdi: JSON and YAML specs give identical results" {
	run kgpu --device=krill.test/gpu=all "$IMG"
	assert_status 0
	local yaml=$output
	run "$KRILL" run --cdi-dirs="$VENDOR/json" -W -b "$SCRATCH/mnt:/mnt" \
		--device=krill.test/gpu=all "$IMG" -- sh -c "$SHOW_DEVICES"
	assert_status 0
	assert_output "$yaml"
}

@test "cdi: env order: the image's, then the spec's, then --set-env" {
	run "$KRILL" run --cdi-dirs="$VENDOR/yaml" -W --device=krill.test/gpu=gpu0 \
		--set-env=KGPU_DRIVER=mine "$IMG" -- sh -c 'echo $KRILL_IMAGE $KGPU_DRIVER'
	assert_status 0
	assert_output "from-cdi mine"
	run "$KRILL" run -W "$IMG" -- sh -c 'echo $KRILL_IMAGE'
	assert_output "tiny"
}

@test "cdi: mounts are in the container's mount table, read-only, and the host's /dev is kept" {
	run "$KRILL" run --cdi-dirs="$VENDOR/yaml" -W --device=krill.test/gpu=gpu1 "$IMG" -- \
		sh -c 'grep -E " /usr/(lib/kgpu|local/bin)/" /proc/self/mountinfo | cut -d" " -f5,6 | cut -d, -f1
		       readlink /usr/lib/kgpu/libkgpu.so.1; test -c /dev/null && test -d /dev/pts && echo devs'
	assert_status 0
	assert_output "/usr/lib/kgpu/libkgpu.so.1.2.3 ro
/usr/local/bin/kgpu-test ro
libkgpu.so.1.2.3
devs"
}

@test "cdi: the library is in the container's ld.so.cache and a program linked to it runs (SquashFS image)" {
	[ -r "$MPI_SQFS" ] || skip "skipped: no debian-mpi image (images/build.sh debian-mpi needs root)"
	run "$KRILL" run --cdi-dirs="$VENDOR/yaml" -W --device=krill.test/gpu=all "$MPI_SQFS" -- \
		sh -c 'ldconfig -p | grep -o "libkgpu.so.1 .*"; kgpu-test'
	assert_status 0
	assert_output "libkgpu.so.1 (libc6,x86-64) => /usr/lib/kgpu/libkgpu.so.1
kgpu answer 42"
}

@test "cdi: a SquashFS image gets the devices too" {
	run kgpu --device=krill.test/gpu=gpu0 "$TINY_SQFS"
	assert_status 0
	assert_line "/dev/kgpu0 character special file 1:5"
	assert_line "created"
}

@test "cdi: a missing mount destination in a read-only image is made in the underlay" {
	# The library mounts get their mount points in the underlay; what
	# then stops this spec on a read-only image is its hook that writes
	# into the image, not the mounts.
	run "$KRILL" run --cdi-dirs="$VENDOR/yaml" --device=krill.test/gpu=gpu0 "$IMG" -- true
	assert_status 125
	[[ "$output" != *"doesn't exist in the image"* ]] || fail "$output"
	assert_contains "sh: can't create /mnt/kgpu-marker: Read-only file system"
	assert_contains "krill: error: createContainer hook /bin/sh: exited with status 1"
}

@test "cdi: --device=/dev/PATH passes a host device as is" {
	run "$KRILL" run --device=/dev/full "$IMG" -- stat -c '%F %t:%T' /dev/full
	assert_status 0
	assert_output "character special file 1:7"
	run "$KRILL" run --device=/dev/krill-nonexistent "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --device=/dev/krill-nonexistent: host device node /dev/krill-nonexistent doesn't exist
krill: hint: unprivileged, krill binds the host's node; it can't create one (is the driver loaded?)"
	run "$KRILL" run --device=/etc/passwd "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --device=/etc/passwd: host path /etc/passwd is not a device node"
}

@test "cdi: [cdi] dirs and devices in krill.conf apply to every run" {
	printf '[cdi]\ndirs = %s\ndevices = krill.test/gpu=gpu0\n' "$VENDOR/json" > "$SCRATCH/krill.conf"
	KRILL_CONFIG=$SCRATCH/krill.conf run kgpu "$IMG"
	assert_status 0
	assert_line "/dev/kgpu0 character special file 1:5"
	KRILL_CONFIG=$SCRATCH/krill.conf run kgpu --device=krill.test/gpu=gpu1 "$IMG"
	assert_line "/dev/kgpu0 character special file 1:5"
	assert_line "/dev/kgpu1 character special file 1:7"
	printf '[cdi]\ndevices = nvidia.com\n' > "$SCRATCH/bad.conf"
	KRILL_CONFIG=$SCRATCH/bad.conf run "$KRILL" run "$IMG" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/bad.conf:2: devices: 'nvidia.com': expected VENDOR/CLASS=NAME (e.g. nvidia.com/gpu=all) or a /dev path"
	printf '[cdi]\ndirs = etc/cdi\n' > "$SCRATCH/bad.conf"
	KRILL_CONFIG=$SCRATCH/bad.conf run "$KRILL" run "$IMG" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/bad.conf:2: dirs: each directory must be an absolute path, got 'etc/cdi'"
}

@test "cdi: krill cdi list prints every device with its file" {
	run "$KRILL" cdi list --cdi-dirs="$VENDOR/yaml:$VENDOR/json"
	assert_status 0
	assert_output "krill.test/gpu=gpu0	$VENDOR/yaml/gpu.yaml
krill.test/gpu=gpu1	$VENDOR/yaml/gpu.yaml
krill.test/gpu=gpu0	$VENDOR/json/gpu.json
krill.test/gpu=gpu1	$VENDOR/json/gpu.json"
}

@test "cdi: --join peers see the devices; a peer asking for others gets the mismatch error" {
	local tag=cdi$$ i
	for i in 1 2; do
		"$KRILL" run --join-ct=2 --join-tag=$tag --cdi-dirs="$VENDOR/yaml" -W \
			--device=krill.test/gpu=gpu1 "$IMG" -- \
			sh -c 'stat -c "%n %t:%T" /dev/kgpu1; echo $KGPU1' >"$SCRATCH/out.$i" 2>&1 &
	done
	wait
	run cat "$SCRATCH/out.1" "$SCRATCH/out.2"
	assert_output "/dev/kgpu1 1:7
yes
/dev/kgpu1 1:7
yes"
	tag=cdi$$b
	"$KRILL" run --join-ct=2 --join-tag=$tag --cdi-dirs="$VENDOR/yaml" -W \
		--device=krill.test/gpu=gpu1 "$IMG" -- sleep 1 &
	sleep 0.3
	run "$KRILL" run --join-ct=2 --join-tag=$tag --cdi-dirs="$VENDOR/yaml" -W \
		--device=krill.test/gpu=gpu0 "$IMG" -- true
	assert_status 125
	assert_contains "device (this peer: 'krill.test/gpu=gpu0', the winner: 'krill.test/gpu=gpu1')"
	wait
}

# ---- errors -----------------------------------------------------------------

@test "cdi: an unknown device lists the known ones" {
	run "$KRILL" run --cdi-dirs="$VENDOR/yaml" --device=krill.test/gpu=gpu7 "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --device=krill.test/gpu=gpu7: unknown CDI device 'gpu7'; krill.test/gpu has: gpu0, gpu1"
	run "$KRILL" run --cdi-dirs="$VENDOR/yaml" --device=other.test/gpu=gpu0 "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --device=other.test/gpu=gpu0: no CDI spec defines kind other.test/gpu (searched $VENDOR/yaml)
krill: hint: \`krill cdi list\` shows the devices the specs define"
}

@test "cdi: bad --device and --cdi-dirs arguments" {
	run "$KRILL" run --device=gpu0 "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --device=gpu0: expected VENDOR/CLASS=NAME (e.g. nvidia.com/gpu=all) or a /dev path"
	run "$KRILL" run --device=vendor/gpu=a/b "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --device=vendor/gpu=a/b: a device name has only letters, digits, '-', '_' and '.'"
	run "$KRILL" run --cdi-dirs=relative "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --cdi-dirs=relative: each directory must be an absolute path"
}

@test "cdi: a missing cdi dir" {
	run "$KRILL" run --cdi-dirs="$SCRATCH/none" --device=krill.test/gpu=gpu0 "$IMG" -- true
	assert_status 125
	assert_output "krill: error: CDI directory $SCRATCH/none: No such file or directory
krill: hint: check --cdi-dirs or [cdi] dirs in krill.conf"
}

@test "cdi: a malformed spec names the file, line and column" {
	mkdir "$SCRATCH/specs"
	printf 'cdiVersion: 0.6.0\nkind: krill.test/gpu\ndevices:\n  - name: gpu0\n    containerEdits:\n      deviceNodes:\n        - path: /dev/kgpu0\n          major: many\n' > "$SCRATCH/specs/bad.yaml"
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/gpu=gpu0 "$IMG" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/specs/bad.yaml:8:18: devices[0].containerEdits.deviceNodes[0].major: expected an integer from 0 to 4095"
	printf '{"cdiVersion": "0.6.0",\n "kind": "krill.test/gpu",\n "devices": [}\n' > "$SCRATCH/specs/bad.yaml"
	mv "$SCRATCH/specs/bad.yaml" "$SCRATCH/specs/bad.json"
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/gpu=gpu0 "$IMG" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/specs/bad.json:3:14: invalid JSON: unexpected token near '}'"
	printf 'cdiVersion: 0.6.0\nkind: krill.test/gpu\ndevices: [{name: g, containerEdits: {}, color: red}]\n' > "$SCRATCH/specs/bad.json"
	mv "$SCRATCH/specs/bad.json" "$SCRATCH/specs/bad.yml"
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/gpu=g "$IMG" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/specs/bad.yml:3:41: devices[0].color: unknown field"
}

@test "cdi: two specs defining the same device are a conflict naming both files" {
	mkdir "$SCRATCH/specs"
	cp "$VENDOR/yaml/gpu.yaml" "$SCRATCH/specs/a.yaml"
	cp "$VENDOR/json/gpu.json" "$SCRATCH/specs/b.json"
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/gpu=gpu1 "$IMG" -- true
	assert_status 125
	assert_output "krill: error: --device=krill.test/gpu=gpu1: CDI device krill.test/gpu=gpu0 is defined in both $SCRATCH/specs/a.yaml and $SCRATCH/specs/b.json"
}

@test "cdi: hostile specs: a node that isn't what the spec says, unsupported edits, untrusted files" {
	mkdir "$SCRATCH/specs"
	spec() { printf 'cdiVersion: 0.7.0\nkind: krill.test/bad\ndevices:\n  - name: d\n    containerEdits:\n%s\n' "$1" > "$SCRATCH/specs/bad.yaml"; }
	spec '      deviceNodes: [{path: /dev/kbad, hostPath: /dev/zero, major: 1, minor: 9}]'
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/bad=d "$IMG" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/specs/bad.yaml:6:21: devices[0].containerEdits.deviceNodes[0]: /dev/zero is char 1:5 on the host, the spec says 1:9"
	spec '      deviceNodes: [{path: /dev/kbad, hostPath: /dev/zero, type: b}]'
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/bad=d "$IMG" -- true
	assert_output "krill: error: $SCRATCH/specs/bad.yaml:6:21: devices[0].containerEdits.deviceNodes[0]: /dev/zero is a char device on the host, the spec says block"
	spec '      intelRdt: {closID: x}'
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/bad=d "$IMG" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/specs/bad.yaml:6:17: devices[0].containerEdits.intelRdt: krill doesn't support Intel RDT (resctrl) settings"
	spec '      hooks: [{hookName: createRuntime, path: /bin/true}]'
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/bad=d "$IMG" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/specs/bad.yaml:6:15: devices[0].containerEdits.hooks[0]: krill run runs createContainer and startContainer hooks, not createRuntime hooks (they need an OCI runtime: use krill-oci)"
	spec '      mounts: [{hostPath: /etc, containerPath: /mnt/../../etc}]'
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/bad=d "$IMG" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/specs/bad.yaml:6:48: devices[0].containerEdits.mounts[0].containerPath: '/mnt/../../etc' contains a '..' component"
	spec '      env: [A=1]'
	chmod o+w "$SCRATCH/specs/bad.yaml"
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/bad=d "$IMG" -- true
	assert_status 125
	assert_output "krill: error: CDI spec $SCRATCH/specs/bad.yaml: writable by any user"
}

@test "cdi: a failing createContainer hook fails the run with 125" {
	mkdir "$SCRATCH/specs"
	printf 'cdiVersion: 0.6.0\nkind: krill.test/hook\ndevices:\n  - name: d\n    containerEdits:\n      hooks: [{hookName: createContainer, path: /bin/sh, args: [sh, -c, "exit 3"]}]\n' > "$SCRATCH/specs/h.yaml"
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/hook=d "$IMG" -- echo ran
	assert_status 125
	assert_output "krill: error: createContainer hook /bin/sh: exited with status 3"
}

@test "cdi: SIGKILL during a createContainer hook leaves nothing behind, the hook included" {
	mkdir "$SCRATCH/specs"
	printf 'cdiVersion: 0.6.0\nkind: krill.test/slow\ndevices:\n  - name: d\n    containerEdits:\n      hooks: [{hookName: createContainer, path: /bin/sleep, args: [sleep, "31.5"]}]\n' > "$SCRATCH/specs/s.yaml"
	"$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/slow=d "$IMG" -- true &
	local pid=$! i
	for i in $(seq 50); do pgrep -u "$(id -u)" -f 'sleep 31.5' >/dev/null && break; sleep 0.1; done
	pgrep -u "$(id -u)" -f 'sleep 31.5' >/dev/null || fail "the hook never started"
	kill -9 $pid
	wait $pid || true
	for i in $(seq 20); do pgrep -u "$(id -u)" -f 'sleep 31.5' >/dev/null || break; sleep 0.1; done
	run pgrep -u "$(id -u)" -f 'sleep 31.5'
	assert_status 1
}
