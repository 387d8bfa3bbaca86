#!/usr/bin/env bats
# CDI devices as root (issue 15): binds without a user namespace, mknod from
# a spec's numbers, additionalGids; `krill cdi generate --nvidia` over a
# fake driver tree (device nodes made with mknod, fake libraries in an
# ld.so cache, a fake nvidia-smi), run as root and as the test user; and
# the real-GPU check, which skips without one.
load helper
load cdi_helper

USER_NAME=${KRILL_TEST_USER:-krilltest}

setup_file() {
	is_root || return 0
	export VENDOR_DIR
	VENDOR_DIR=$(mktemp -d /tmp/krill-cdi-root.XXXXXX)
	chmod 0755 "$VENDOR_DIR"
	make_vendor "$VENDOR_DIR"
	cp -a "$TINY" "$VENDOR_DIR/tiny"
	make_fake_nvidia "$VENDOR_DIR/nv"
	chmod -R a+rX "$VENDOR_DIR"
}
teardown_file() {
	[ -n "${VENDOR_DIR:-}" ] && rm -rf "$VENDOR_DIR"
	return 0
}
setup() {
	is_root || skip "needs root"
	setup_scratch
	chmod 0755 "$SCRATCH"
	VENDOR=$VENDOR_DIR
	IMG=$VENDOR_DIR/tiny
	mkdir "$SCRATCH/mnt"
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

# A driver tree as the NVIDIA installer leaves it, under ROOT: GPU nodes
# (harmless devices: zero and full), control nodes, a capability node, two
# driver libraries with soname links in the tree's ld.so cache, nvidia-smi.
make_fake_nvidia() { # ROOT
	local r=$1 lib=$1/usr/lib/x86_64-linux-gnu
	mkdir -p "$r/dev/nvidia-caps" "$lib" "$r/usr/bin" "$r/etc" "$r/lib/firmware/nvidia/535.1"
	mknod "$r/dev/nvidia0" c 1 5
	mknod "$r/dev/nvidia1" c 1 7
	mknod "$r/dev/nvidiactl" c 1 3
	mknod "$r/dev/nvidia-uvm" c 1 3
	mknod "$r/dev/nvidia-caps/nvidia-cap1" c 1 3
	echo 'int cuInit(unsigned f) { return (int)f; }' > "$r/cuda.c"
	cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$lib/libcuda.so.535.1" "$r/cuda.c"
	cc -shared -fPIC -Wl,-soname,libnvidia-ml.so.1 -o "$lib/libnvidia-ml.so.535.1" "$r/cuda.c"
	ln -s libcuda.so.535.1 "$lib/libcuda.so.1"
	ln -s libnvidia-ml.so.535.1 "$lib/libnvidia-ml.so.1"
	printf '#!/bin/sh\necho "GPU 0: Fake GPU (UUID: GPU-f0)"\necho "GPU 1: Fake GPU (UUID: GPU-f1)"\n' \
		> "$r/usr/bin/nvidia-smi"
	chmod 0755 "$r/usr/bin/nvidia-smi"
	echo "$lib" > "$r/etc/ld.so.conf"
	ldconfig -X -C "$r/etc/ld.so.cache" -f "$r/etc/ld.so.conf"
}

@test "cdi root: devices are bound without a user namespace" {
	run "$KRILL" run --cdi-dirs="$VENDOR/yaml" -W -b "$SCRATCH/mnt:/mnt" \
		--device=krill.test/gpu=all "$IMG" -- sh -c "readlink /proc/self/ns/user; $SHOW_DEVICES"
	assert_status 0
	assert_output "$(readlink /proc/self/ns/user)
/dev/kgpu0 character special file 1:5
/dev/kgpu1 character special file 1:7
KGPU0=yes
KGPU1=yes
KGPU_DRIVER=1.2.3
KRILL_IMAGE=from-cdi
created"
}

@test "cdi root: a node without a host path is made with mknod, with the spec's mode and owner" {
	mkdir "$SCRATCH/specs"
	printf 'cdiVersion: 0.7.0\nkind: krill.test/mk\ndevices:\n  - name: d\n    containerEdits:\n      deviceNodes: [{path: /dev/kmk/node, type: c, major: 1, minor: 7, fileMode: 416, uid: 123, gid: 45}]\n      additionalGids: [44, 0, 46]\n' \
		> "$SCRATCH/specs/mk.yaml"
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/mk=d -u 1000 -g 1000 "$IMG" -- \
		sh -c 'stat -c "%n %F %t:%T %a %u:%g" /dev/kmk/node; grep ^Groups: /proc/self/status'
	assert_status 0
	assert_output "/dev/kmk/node character special file 1:7 640 123:45
Groups:	44 46 "
	# Unprivileged, the same spec can't be applied: there is no host node.
	run runuser -u "$USER_NAME" -- "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/mk=d "$IMG" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/specs/mk.yaml:6:21: devices[0].containerEdits.deviceNodes[0]: host device node /dev/kmk/node doesn't exist
krill: hint: unprivileged, krill binds the host's node; it can't create one (is the driver loaded?)"
}

@test "cdi root: unprivileged, additionalGids are noted, not applied" {
	mkdir "$SCRATCH/specs"
	printf 'cdiVersion: 0.7.0\nkind: krill.test/g\ndevices:\n  - name: d\n    containerEdits: {additionalGids: [44]}\n' > "$SCRATCH/specs/g.yaml"
	run runuser -u "$USER_NAME" -- "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/g=d "$IMG" -- \
		grep -c '^Groups:.*44' /proc/self/status
	assert_status 1
	assert_output "krill: CDI additionalGids are not applied: unprivileged, the container has a single-ID map, and the kernel denies setgroups in it
0"
}

@test "cdi generate --nvidia: a spec from a fake driver tree, in YAML and JSON, that validates" {
	local nv=$VENDOR/nv
	run "$KRILL" cdi generate --nvidia --root "$nv" --output "$SCRATCH/nvidia.yaml"
	assert_status 0
	assert_output "krill: wrote $SCRATCH/nvidia.yaml"
	run "$KRILL" cdi generate --nvidia --root "$nv" --format json
	assert_status 0
	echo "$output" > "$SCRATCH/nvidia.json"
	mkdir "$SCRATCH/y" "$SCRATCH/j"
	mv "$SCRATCH/nvidia.yaml" "$SCRATCH/y/"
	mv "$SCRATCH/nvidia.json" "$SCRATCH/j/"
	run "$KRILL" cdi list --cdi-dirs="$SCRATCH/y"
	assert_status 0
	assert_output "nvidia.com/gpu=0	$SCRATCH/y/nvidia.yaml
nvidia.com/gpu=1	$SCRATCH/y/nvidia.yaml
nvidia.com/gpu=all	$SCRATCH/y/nvidia.yaml"
	run "$KRILL" cdi list --cdi-dirs="$SCRATCH/j"
	assert_status 0
	assert_line "nvidia.com/gpu=all	$SCRATCH/j/nvidia.json"
	run grep -c "hostPath: $nv/" "$SCRATCH/y/nvidia.yaml"
	assert_output 11 # 2 GPUs (twice: alone and in all), 3 control nodes, 2 libraries, nvidia-smi, firmware
	run "$KRILL" cdi generate --nvidia --root "$SCRATCH/empty"
	assert_status 125
	assert_output "krill: error: $SCRATCH/empty/dev: No such file or directory"
}

@test "cdi generate --nvidia: running with the spec shows the nodes, libraries and nvidia-smi (root and unprivileged)" {
	[ -r "$MPI_SQFS" ] || skip "skipped: no debian-mpi image (images/build.sh debian-mpi)"
	mkdir "$SCRATCH/cdi"
	"$KRILL" cdi generate --nvidia --root "$VENDOR/nv" --output "$SCRATCH/cdi/nvidia.yaml" 2>/dev/null
	local show='for d in /dev/nvidia*; do [ -c "$d" ] && stat -c "%n %t:%T" "$d"; done
		ldconfig -p | grep -oE "lib(cuda|nvidia-ml)\.so\.1 .*"; nvidia-smi -L; echo $NVIDIA_VISIBLE_DEVICES'
	local want="/dev/nvidia-uvm 1:3
/dev/nvidia0 1:5
/dev/nvidia1 1:7
/dev/nvidiactl 1:3
libnvidia-ml.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1
libcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1
GPU 0: Fake GPU (UUID: GPU-f0)
GPU 1: Fake GPU (UUID: GPU-f1)
void"
	run "$KRILL" run --cdi-dirs="$SCRATCH/cdi" --device=nvidia.com/gpu=all -W "$MPI_SQFS" -- sh -c "$show"
	assert_status 0
	assert_output "$want"
	run runuser -u "$USER_NAME" -- "$KRILL" run --cdi-dirs="$SCRATCH/cdi" --device=nvidia.com/gpu=all \
		-W "$MPI_SQFS" -- sh -c "$show"
	assert_status 0
	assert_output "$want"
	run runuser -u "$USER_NAME" -- "$KRILL" run --cdi-dirs="$SCRATCH/cdi" --device=nvidia.com/gpu=1 \
		-W "$MPI_SQFS" -- sh -c 'ls /dev | grep "^nvidia[0-9]"'
	assert_output "nvidia1"
}

@test "cdi: a real GPU, when there is one (test/gpu/run.sh)" {
	[ -e /dev/nvidiactl ] || skip "skipped: no NVIDIA GPU (no /dev/nvidiactl)"
	run "$KRILL_TOP/test/gpu/run.sh"
	assert_status 0
	assert_contains " 0 failed"
}

@test "cdi root: hooks (programs of the image) run with the container root's capabilities, not krill's" {
	mkdir "$SCRATCH/specs"
	printf 'cdiVersion: 0.6.0\nkind: krill.test/caps\ndevices:\n  - name: d\n    containerEdits:\n      hooks: [{hookName: createContainer, path: /bin/sh, args: [sh, -c, "grep -E \\"^(CapBnd|CapEff|NoNewPrivs)\\" /proc/self/status > /mnt/hook"]}]\n' \
		> "$SCRATCH/specs/c.yaml"
	run "$KRILL" run --cdi-dirs="$SCRATCH/specs" --device=krill.test/caps=d -b "$SCRATCH/mnt:/mnt" "$IMG" -- \
		grep -E '^(CapBnd|CapEff|NoNewPrivs)' /proc/self/status
	assert_status 0
	[ "$output" = "$(cat "$SCRATCH/mnt/hook")" ] || fail "hook: $(cat "$SCRATCH/mnt/hook"), command: $output"
	[ "$(grep CapBnd "$SCRATCH/mnt/hook")" != "$(grep CapBnd /proc/self/status)" ] || fail "the hook had every capability"
}
