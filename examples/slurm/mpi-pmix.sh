#!/bin/sh
#SBATCH --job-name=krill-mpi
#SBATCH --ntasks=4
#SBATCH --nodes=1
#SBATCH --time=00:05:00
# An MPI job launched by Slurm through PMIx, four ranks in one container.
# /opt/ring (examples/mpi/ring.c, built into the debian-mpi image by
# images/build.sh) passes 1 MiB messages around the ranks through Open MPI's
# shared-memory transport; because the ranks share one user namespace
# (--join), its CMA single-copy path works.
#
#   KRILL=/path/to/krill IMG=/path/to/debian-mpi.sqfs sbatch examples/slurm/mpi-pmix.sh
#
# Output, one line per rank:
#   rank 0 of 4: ring ok bytes=1048576 iters=4 userns=user:[...] mntns=mnt:[...] host=NODE single_copy=cma
# RING_ARGS passes options to ring (e.g. "-s 65536 -n 10").
set -eu
KRILL=${KRILL:-krill}
IMG=${IMG:-$HOME/img/debian-mpi.sqfs}

srun --mpi=pmix -n4 "$KRILL" run --join "$IMG" -- /opt/ring ${RING_ARGS:-}
