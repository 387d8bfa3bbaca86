#!/bin/bash
# make soak: SOAK_MINUTES (default 30) of mixed krill work with random
# SIGKILLs, run as an unprivileged user (KRILL_TEST_USER when root):
#   runs of the SquashFS image, join groups of 2-4, krill exec into named
#   containers, OCI lifecycles (create/start/kill/delete, rootless), and
#   one long-lived named container whose supervisor's RSS and fd count are
#   sampled every round.
# It ends with a count of every kind of object left behind (must be 0) and
# the first and last RSS/fd samples of the long-lived supervisor (must be
# flat).  Exit status 0 only if both hold.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
minutes=${SOAK_MINUTES:-30}
if [ "$(id -u)" = 0 ]; then
	user=${KRILL_TEST_USER:-krilltest}
	id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
	[ -c /dev/fuse ] && chmod 0666 /dev/fuse
	stage=$(mktemp -d /tmp/krill-soak.XXXXXX)
	chmod 0755 "$stage"
	cp -a "$top/krill" "$top/krill-oci" "$top/test" "$stage/"
	mkdir "$stage/images"
	cp -a "$top/images/build/tiny" "$top/images/build/tiny.sqfs" "$stage/images/"
	chmod -R a+rX "$stage"
	trap 'rm -rf "$stage"' EXIT
	runuser -u "$user" -- env SOAK_MINUTES="$minutes" SOAK_STAGE="$stage" \
		HOME="$(getent passwd "$user" | cut -d: -f6)" XDG_RUNTIME_DIR= \
		bash "$stage/test/soak/soak.sh"
	exit $?
fi
stage=${SOAK_STAGE:-$top}
K=$stage/krill
KO=$stage/krill-oci
img=$stage/images/tiny.sqfs
[ -e "$img" ] || img=$stage/images/build/tiny.sqfs
dimg=${img%.sqfs}
work=$(mktemp -d /tmp/krill-soakw.XXXXXX)
chmod 0755 "$work"
root=$work/oci
B=$work/bundle
mkdir -p "$B/rootfs" "$root"
cp -a "$dimg/." "$B/rootfs/"
(cd "$B" && "$KO" spec --rootless)
jq '.process.terminal=false | .root.readonly=false | .process.args=["sleep","4271"]' \
	"$B/config.json" >"$B/c.json" && mv "$B/c.json" "$B/config.json"
export KRILL_CONFIG=
uid=$(id -u)
rd() { sleep "$(printf '0.%03d' $((RANDOM % ${1:-50})))"; }
counts() { # kind counts of what is left
	local shm procs mounts tmp oci
	shm=$(ls /dev/shm | grep -c "^\(sem\.\)\?krill-$uid-")
	procs=$(ps -u "$uid" -o stat=,comm= | awk '$1 !~ /^Z/ && $2 ~ /^krill/' | wc -l)
	mounts=0
	for f in /proc/self/mountinfo $(pgrep -u "$uid" | sed 's|.*|/proc/&/mountinfo|'); do
		grep -q ' - fuse\.krill \| - tmpfs krill ' "$f" 2>/dev/null && mounts=$((mounts + 1))
	done
	tmp=$(ls -d /tmp/krill.* 2>/dev/null | wc -l)
	"$KO" --root "$root" list -q >/dev/null 2>&1
	oci=$(ls -A "$root" | wc -l)
	echo "shm=$shm processes=$procs mounts=$mounts tmp=$tmp oci_state=$oci"
}
sample() { # RSS kB and fd count of a pid
	echo "$(awk '/^VmRSS/ {print $2}' "/proc/$1/status") $(ls "/proc/$1/fd" | wc -l)"
}

# The long-lived supervisor: a named container, exec'd into every round.
"$K" run --name soaklong "$img" -- sleep 100000 </dev/null >/dev/null 2>&1 &
long=$!
sleep 1
first=$(sample "$long")
end=$(( $(date +%s) + minutes * 60 ))
rounds=0 kills=0 fails=0
while [ "$(date +%s)" -lt "$end" ]; do
	rounds=$((rounds + 1))
	pids=()
	# runs, some killed
	for i in 1 2 3; do
		"$K" run "$img" -- sh -c 'ls / >/dev/null; sleep 0.1' </dev/null >/dev/null 2>&1 &
		pids+=($!)
	done
	# a join group of 2-4, one member maybe killed
	n=$((2 + RANDOM % 3))
	for i in $(seq "$n"); do
		"$K" run --join-ct="$n" --join-tag="soak$rounds" "$img" -- sleep 0.2 </dev/null >/dev/null 2>&1 &
		pids+=($!)
	done
	# exec into the long-lived container
	"$K" exec soaklong -- true </dev/null >/dev/null 2>&1 || fails=$((fails + 1))
	# an OCI lifecycle, create or start maybe killed
	id=s$rounds
	"$KO" --root "$root" create --bundle "$B" "$id" </dev/null >/dev/null 2>&1 &
	cpid=$!
	if [ $((RANDOM % 3)) = 0 ]; then rd 40; kill -KILL "$cpid" 2>/dev/null && kills=$((kills + 1)); fi
	wait "$cpid" 2>/dev/null
	"$KO" --root "$root" start "$id" </dev/null >/dev/null 2>&1 &
	spid=$!
	if [ $((RANDOM % 3)) = 0 ]; then rd 20; kill -KILL "$spid" 2>/dev/null && kills=$((kills + 1)); fi
	wait "$spid" 2>/dev/null
	"$KO" --root "$root" kill "$id" KILL >/dev/null 2>&1
	"$KO" --root "$root" delete --force "$id" >/dev/null 2>&1
	# random kills among the runs and joins
	rd 60
	for p in "${pids[@]}"; do
		if [ $((RANDOM % 4)) = 0 ]; then kill -KILL "$p" 2>/dev/null && kills=$((kills + 1)); fi
	done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
done
last=$(sample "$long")
"$K" exec soaklong -- kill 1 >/dev/null 2>&1 || kill -TERM "$long"
wait "$long" 2>/dev/null
sleep 3
left=$(counts)
echo "soak: $minutes min, $rounds rounds, $kills kills, $fails failed execs"
echo "soak: long-lived supervisor RSS kB / fds: first $first, last $last"
echo "soak: left behind: $left"
rm -rf "$work"
ok=1
[ "$left" = "shm=0 processes=0 mounts=0 tmp=0 oci_state=0" ] || ok=0
read -r r0 f0 <<<"$first"; read -r r1 f1 <<<"$last"
[ "$f1" = "$f0" ] || ok=0
[ "$r1" -le $((r0 + 1024)) ] || ok=0 # flat: within 1 MB
[ "$ok" = 1 ] && echo "soak: ok" || { echo "soak: FAILED"; exit 1; }
