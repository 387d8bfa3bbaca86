#!/bin/sh
#SBATCH --job-name=krill-single
#SBATCH --ntasks=1
#SBATCH --time=00:05:00
# One rank in one container: print the image's /etc/os-release.
#
#   sbatch examples/slurm/single.sh
#   KRILL=/path/to/krill IMG=/path/to/tiny.sqfs sbatch examples/slurm/single.sh
#
# KRILL is the krill binary (default: krill on PATH), IMG the image, a
# directory or a SquashFS file (default: ~/img/tiny.sqfs).  sbatch passes
# the submitting environment through, so both can be set at submission.
set -eu
KRILL=${KRILL:-krill}
IMG=${IMG:-$HOME/img/tiny.sqfs}

echo "job $SLURM_JOB_ID on $(hostname -s): $KRILL run $IMG"
"$KRILL" run "$IMG" -- cat /etc/os-release
