#!/bin/sh
#SBATCH --job-name=krill-spank
#SBATCH --nodes=3
#SBATCH --ntasks-per-node=4
#SBATCH --time=00:05:00
# The SPANK plugin (krill-spank(8)): `srun --krill-image=IMG` runs every
# task in a container, one per node per step, that all tasks of the node
# share.  No krill command in the script; the plugin must be enabled in
# plugstack.conf (see plugstack.conf here).
#
#   IMG=/path/to/tiny.sqfs sbatch examples/spank/containers.sh
#
# Output: one line per node, the number of tasks that ran in each of its
# containers, then the summary:
#   node 0: 4 tasks in mnt:[4026532481]
#   node 1: 4 tasks in mnt:[4026532486]
#   node 2: 4 tasks in mnt:[4026532490]
#   containers: 3
set -eu
IMG=${IMG:-$HOME/img/tiny.sqfs}

out=$(mktemp "${TMPDIR:-/tmp}/krill-spank.XXXXXX")
trap 'rm -f "$out"' EXIT
srun --krill-image="$IMG" sh -c 'echo "$SLURM_NODEID $(readlink /proc/self/ns/mnt)"' > "$out"
sort "$out" | uniq -c | awk '{ printf "node %s: %s tasks in %s\n", $2, $1, $3 }'
echo "containers: $(cut -d' ' -f2 "$out" | sort -u | wc -l)"
