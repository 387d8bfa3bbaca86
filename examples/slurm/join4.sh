#!/bin/sh
#SBATCH --job-name=krill-join4
#SBATCH --ntasks=4
#SBATCH --nodes=1
#SBATCH --time=00:05:00
# Four ranks on one node join one container (krill run --join): every rank
# prints its user and mount namespace, and the job ends with the number of
# distinct containers, which must be 1.
#
#   KRILL=/path/to/krill IMG=/path/to/tiny.sqfs sbatch examples/slurm/join4.sh
#
# Output, one line per rank, then the summary:
#   rank 2: user:[4026532179] mnt:[4026532180]
#   ...
#   containers: 1
# The group size (4) and tag (job.step) come from Slurm's environment
# (SLURM_STEP_TASKS_PER_NODE, SLURM_JOB_ID, SLURM_STEP_ID), not the command line.
set -eu
KRILL=${KRILL:-krill}
IMG=${IMG:-$HOME/img/tiny.sqfs}

out=$(mktemp "${TMPDIR:-/tmp}/krill-join4.XXXXXX")
trap 'rm -f "$out"' EXIT
srun -n4 "$KRILL" run --join "$IMG" -- \
	sh -c 'echo "rank $SLURM_PROCID: $(readlink /proc/self/ns/user) $(readlink /proc/self/ns/mnt)"' > "$out"
sort "$out"
echo "containers: $(cut -d' ' -f3,4 "$out" | sort -u | wc -l)"
