#!/bin/sh
#SBATCH --job-name=krill-gpu
#SBATCH --ntasks=1
#SBATCH --gres=gpu:1
#SBATCH --time=00:05:00
# A GPU job: the container gets the node's GPUs through CDI.
#
#   sbatch examples/gpu/job.sh
#   DEVICE=example.com/accel=all CDI_DIRS=/path/to/specs sbatch examples/gpu/job.sh
#
# DEVICE is the CDI device (default nvidia.com/gpu=all: every GPU of the
# node's spec, which `krill cdi generate --nvidia` or nvidia-ctk writes to
# /etc/cdi).  A site can instead request it for every run with
# `[cdi] devices = nvidia.com/gpu=all` in krill.conf (examples/gpu/krill.conf).
# CDI_DIRS overrides where the specs are.  With the example spec
# examples/gpu/accel.yaml in CDI_DIRS and DEVICE=example.com/accel=all,
# the expected output is:
#   /dev/accel0 character special file 1:5
#   ACCEL_DRIVER=example-1.0
#   ACCEL_VISIBLE_DEVICES=0
set -eu
KRILL=${KRILL:-krill}
IMG=${IMG:-$HOME/img/tiny.sqfs}
DEVICE=${DEVICE:-nvidia.com/gpu=all}

"$KRILL" run --device="$DEVICE" ${CDI_DIRS:+--cdi-dirs="$CDI_DIRS"} "$IMG" -- sh -c '
	for d in /dev/nvidia[0-9]* /dev/accel[0-9]*; do
		[ -e "$d" ] && stat -c "%n %F %t:%T" "$d"
	done
	env | grep -E "^(NVIDIA|ACCEL)_" | sort
	if command -v nvidia-smi >/dev/null; then nvidia-smi -L; fi'
