#!/bin/sh
#SBATCH --job-name=krill-two-mpiruns
#SBATCH --ntasks=4
#SBATCH --nodes=1
#SBATCH --time=00:05:00
# Two MPI jobs side by side in one batch step: two `mpirun -np 2 krill run
# --join`, started together.  Each mpirun's two ranks share one container,
# and the two mpiruns get two containers, although both inherit the same
# SLURM_JOB_ID and SLURM_STEP_ID: the group's size and its tag both come
# from mpirun's own variables (OMPI_COMM_WORLD_LOCAL_SIZE, PMIX_NAMESPACE).
# The ranks start staggered (A0, B0, A1, B1), which is the order that
# mixed the two jobs when the tag came from Slurm.
#
#   KRILL=/path/to/krill IMG=/path/to/tiny.sqfs sbatch examples/slurm/two-mpiruns.sh
#
# Output, one line per rank (job, rank, user namespace), then the summary:
#   A 0 user:[4026532179]
#   A 1 user:[4026532179]
#   B 0 user:[4026532185]
#   B 1 user:[4026532185]
#   containers: A 1, B 1, shared 0
set -eu
KRILL=${KRILL:-krill}
IMG=${IMG:-$HOME/img/tiny.sqfs}

out=$(mktemp "${TMPDIR:-/tmp}/krill-two.XXXXXX")
trap 'rm -f "$out" "$out".*' EXIT
for job in A B; do
	[ $job = A ] && delay=0 || delay=0.5
	# Rank r of job A starts at r seconds, of job B at r + 0.5 seconds.
	mpirun -np 2 --oversubscribe sh -c 'sleep "$(( OMPI_COMM_WORLD_RANK ))"; sleep "$1"
		exec "$2" run --join "$3" -- sh -c "echo $4 \$OMPI_COMM_WORLD_RANK \$(readlink /proc/self/ns/user)"' \
		sh "$delay" "$KRILL" "$IMG" "$job" > "$out.$job" &
done
wait
sort "$out.A" "$out.B" | tee "$out"
a=$(grep '^A ' "$out" | cut -d' ' -f3 | sort -u)
b=$(grep '^B ' "$out" | cut -d' ' -f3 | sort -u)
shared=$(printf '%s\n%s\n' "$a" "$b" | sort | uniq -d | wc -l)
echo "containers: A $(echo "$a" | wc -l), B $(echo "$b" | wc -l), shared $shared"
