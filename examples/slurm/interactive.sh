#!/bin/sh
#SBATCH --job-name=krill-interactive
#SBATCH --ntasks=1
#SBATCH --time=00:05:00
# An interactive shell in a container on a compute node.  Run it from a
# terminal on the login node (not through sbatch):
#
#   KRILL=/path/to/krill IMG=/path/to/tiny.sqfs examples/slurm/interactive.sh
#
# which is just
#
#   srun --pty -n1 krill run IMG -- sh
#
# The prompt, Ctrl-C (it interrupts the command in the container, not the
# shell), job control (Ctrl-Z, fg) and `exit N` behave as in a normal shell;
# srun returns the shell's exit status.  SHELL_CMD picks another shell
# (e.g. SHELL_CMD=bash for images that have it).
#
# Without a terminal on stdin (e.g. submitted with sbatch) there is nothing
# to interact with: the script says so and runs `sh -c 'echo ...'` in the
# container instead, so the job still shows that the container starts.
set -eu
KRILL=${KRILL:-krill}
IMG=${IMG:-$HOME/img/tiny.sqfs}
SHELL_CMD=${SHELL_CMD:-sh}

if [ -t 0 ]; then
	exec srun --pty -n1 "$KRILL" run "$IMG" -- "$SHELL_CMD"
fi
echo "interactive.sh: stdin is not a terminal; running a non-interactive shell instead"
srun -n1 "$KRILL" run "$IMG" -- sh -c 'echo "container shell ok: $(id -un)"'
