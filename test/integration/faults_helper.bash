# Shared by faults*.bats: random kills and a count of every kind of object
# krill could leave behind.  Counts are of this user's own objects (other
# tests may run at the same time as other users).
load helper

# A random delay of 0-29 ms (or 0..$1-1 ms).
rdelay() { sleep "$(printf '0.%03d' $((RANDOM % ${1:-30})))"; }

# Processes of ours that are krill's (by comm, zombies excluded: init
# reaps those) or whose command line contains MARKER.
leaked_procs() { # [MARKER]
	local uid pid comm stat args
	uid=$(id -u)
	ps -u "$uid" -o pid=,stat=,comm=,args= 2>/dev/null | while read -r pid stat comm args; do
		[[ $stat == Z* ]] && continue
		case "$comm" in
		krill|krill-oci|krill-supervis*|krill-init|krill-join-grd|krill-cg-guard)
			echo "$pid:$comm" ;;
		*) [ -n "${1:-}" ] && [[ $args == *"$1"* ]] && echo "$pid:$args" ;;
		esac
	done
}

# krill mounts (FUSE image, staging tmpfs, overlay) in any process's mount
# table, the host's included.
leaked_mounts() {
	local f
	for f in /proc/self/mountinfo $(pgrep -u "$(id -u)" | sed 's|.*|/proc/&/mountinfo|'); do
		grep -H ' - fuse\.krill \| - tmpfs krill \| - overlay overlay ' "$f" 2>/dev/null || true
	done
}

leaked_shm() { ls /dev/shm 2>/dev/null | grep "^\(sem\.\)\?krill-$(id -u)-" || true; }
leaked_tmp() { ls -d /tmp/krill.* "${TMPDIR:-/tmp}"/krill.* 2>/dev/null | sort -u || true; }

# Every leak, one per line ("KIND: what"); empty when nothing is left.
# Extra kinds (state dirs, cgroups) come from LEAK_EXTRA, a function name.
leaks() { # [MARKER]
	local l
	leaked_shm | sed 's/^/shm: /'
	leaked_procs "${1:-}" | sed 's/^/process: /'
	leaked_mounts | sed 's/^/mount: /'
	leaked_tmp | sed 's/^/tmp: /'
	[ -n "${LEAK_EXTRA:-}" ] && "$LEAK_EXTRA" || true
}

# Wait up to ~3 s for every leak to go; print what is left.
settle_leaks() { # [MARKER]
	local l
	for _ in $(seq 30); do
		l=$(leaks "${1:-}")
		[ -z "$l" ] && return 0
		sleep 0.1
	done
	echo "$l"
}

# Record the leaks of one fault (if any) in $SCRATCH/leaks, and count it.
FAULTS=0
after_fault() { # [MARKER]
	local l
	FAULTS=$((FAULTS + 1))
	l=$(settle_leaks "${1:-}")
	[ -z "$l" ] || printf 'fault %s:\n%s\n' "$FAULTS" "$l" >>"$SCRATCH/leaks"
}

# Fail unless no fault left anything; print the tally either way (the
# report quotes these lines: "faults: N, leaks: 0").
assert_no_leaks() { # WHAT
	local n=0
	[ -s "$SCRATCH/leaks" ] && n=$(grep -vc '^fault ' "$SCRATCH/leaks")
	echo "# $1: $FAULTS faults, $n leaks" >&3
	[ "$n" = 0 ] || fail "leaks: $(head -40 "$SCRATCH/leaks")"
}
