#!/bin/sh
# A check on a machine with a real NVIDIA GPU (issue 15), needing nothing but
# the driver: generate a CDI spec (nvidia-ctk when present, else krill's own
# generator), run `nvidia-smi -L` through --device=nvidia.com/gpu=all in the
# unprivileged code path, and compare with the host.  Ends with one line:
# "N passed, N failed".  Without a GPU: "skipped: no NVIDIA GPU".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
krill=${KRILL:-$top/krill}
if [ ! -e /dev/nvidiactl ]; then
	echo "skipped: no NVIDIA GPU (no /dev/nvidiactl)"
	exit 0
fi
pass=0 fail=0
check() { # NAME CMD...
	name=$1
	shift
	if "$@"; then pass=$((pass + 1)); echo "ok: $name"
	else fail=$((fail + 1)); echo "FAILED: $name"; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"
if command -v nvidia-ctk >/dev/null; then
	check "nvidia-ctk cdi generate" nvidia-ctk cdi generate --output="$tmp/nvidia.yaml" -q
else
	check "krill cdi generate --nvidia" "$krill" cdi generate --nvidia --output "$tmp/nvidia.yaml"
fi
# nvidia-smi needs glibc: the Debian image when it was built, else tiny.
img=$top/images/build/debian-mpi.sqfs
if [ ! -r "$img" ]; then
	img=$top/images/build/tiny
	[ -d "$img" ] || "$top/images/build.sh" tiny >/dev/null
fi
# As root, --userns takes the unprivileged path (a user namespace).
userns=""
[ "$(id -u)" = 0 ] && userns=--userns
run() { "$krill" run $userns -W --cdi-dirs="$tmp" --device=nvidia.com/gpu=all "$img" -- "$@"; }

host_gpus=$(ls /dev | grep -c '^nvidia[0-9][0-9]*$')
check "the container sees /dev/nvidiactl and $host_gpus GPU nodes" \
	sh -c "[ \"\$($krill run $userns -W --cdi-dirs=$tmp --device=nvidia.com/gpu=all $img -- ls /dev | grep -c '^nvidia[0-9][0-9]*\$')\" = $host_gpus ]"
check "libcuda.so.1 is visible inside" \
	run sh -c 'ls /usr/lib/*/libcuda.so.1 /usr/lib64/libcuda.so.1 2>/dev/null | grep -q .'
if [ "${img%.sqfs}" != "$img" ] && command -v nvidia-smi >/dev/null; then
	want=$(nvidia-smi -L | grep -c '^GPU ')
	got=$(run nvidia-smi -L 2>"$tmp/err" | grep -c '^GPU ')
	check "nvidia-smi -L inside lists $want GPUs (got $got)" [ "$got" = "$want" ]
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
