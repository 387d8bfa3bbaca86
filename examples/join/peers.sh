#!/bin/sh
# N krill processes join one container (--join-ct, --join-tag), as MPI ranks
# on one node do with --join; then a named container is listed with
# `krill ps` and entered with `krill exec`.
#
#   KRILL=/path/to/krill IMG=/path/to/tiny.sqfs N=4 examples/join/peers.sh
#
# Expected output (the inode numbers differ from host to host):
#   peer: user:[4026532254] mnt:[4026532255]      (N lines, all the same)
#   ...
#   containers: 1
#   ps: peers-12345 1 /path/to/tiny.sqfs          (name, peers, image)
#   exec: same mount namespace: yes
#   exec: cwd /tmp, KRILL_RUNNING=1, marker=from the container
#   after exit: not listed
# Under Slurm or mpirun, leave out --join-ct and --join-tag: the group size
# and tag then come from the launcher's environment (see krill-run(1)).
set -eu
KRILL=${KRILL:-krill}
IMG=${IMG:-$HOME/img/tiny.sqfs}
N=${N:-4}

work=$(mktemp -d "${TMPDIR:-/tmp}/krill-peers.XXXXXX")
trap 'rm -rf "$work"' EXIT

# N peers of one group; each prints its user and mount namespaces.
tag=peers.$$
i=0
while [ "$i" -lt "$N" ]; do
	"$KRILL" run --join-ct="$N" --join-tag="$tag" "$IMG" -- \
		sh -c 'echo "peer: $(readlink /proc/self/ns/user) $(readlink /proc/self/ns/mnt)"' \
		> "$work/peer.$i" &
	i=$((i + 1))
done
wait
cat "$work"/peer.*
echo "containers: $(cat "$work"/peer.* | sort -u | wc -l)"

# A named container: ps lists it, exec runs a second command inside it.
# $work is bound at /mnt so both commands can leave notes for the script.
name=peers-$$
"$KRILL" run --name="$name" -b "$work:/mnt" "$IMG" -- sh -c \
	'cd /tmp; export MARKER="from the container"
	 readlink /proc/self/ns/mnt > /mnt/ns; echo $$ > /mnt/pid; exec sleep 30' &
run=$!
i=0
until [ -s "$work/pid" ] && "$KRILL" ps | grep -q "^$name "; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "the container did not start" >&2; exit 1; }
	sleep 0.1
done
"$KRILL" ps | awk -v n="$name" '$1 == n { print "ps: " $1, $3, $NF }'
"$KRILL" exec "$name" -- sh -c '
	[ "$(readlink /proc/self/ns/mnt)" = "$(cat /mnt/ns)" ] && same=yes || same=no
	echo "exec: same mount namespace: $same"
	echo "exec: cwd $(pwd), KRILL_RUNNING=$KRILL_RUNNING, marker=$MARKER"
	kill "$(cat /mnt/pid)"'
wait "$run" || true
if "$KRILL" ps | grep -q "^$name "; then echo "after exit: still listed"; else echo "after exit: not listed"; fi
