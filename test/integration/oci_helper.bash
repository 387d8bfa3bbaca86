# Shared by oci*.bats: bundles from the tiny image, state in a scratch root.
load helper

# oci_setup: scratch, a state root, and $B = a bundle with a copy of the
# tiny rootfs and `krill-oci spec` (--rootless when not root) whose process
# is replaced by ARGS (a JSON array).
oci_setup() {
	setup_scratch
	chmod 0755 "$SCRATCH"
	ROOT=$SCRATCH/state
	B=$SCRATCH/bundle
	mkdir -p "$B"
	mkdir "$B/rootfs"
	cp -a "$TINY/." "$B/rootfs/"
	if is_root; then
		(cd "$B" && "$KRILL_OCI" spec)
	else
		(cd "$B" && "$KRILL_OCI" spec --rootless)
	fi
	jq_config '.process.terminal=false | .root.readonly=false | .process.args=["sh","-c","true"]'
	# krill cgroups that exist already (other checkouts' tests): not ours.
	ls /sys/fs/cgroup/pids/krill 2>/dev/null > "$SCRATCH/cgroups.before" || true
}

oci() { "$KRILL_OCI" --root "$ROOT" "$@"; }

# create / run -d: the container keeps the stdio it is given, so never
# give it bats' output pipe (bats would wait for it to close).  Its output
# goes to $SCRATCH/ct.out.
oci_bg() { "$KRILL_OCI" --root "$ROOT" "$@" >>"$SCRATCH/ct.out" 2>&1 </dev/null; }

# jq_config [jq args...] FILTER: edit $B/config.json in place.
jq_config() {
	local f=${!#}
	jq "${@:1:$#-1}" "$f" "$B/config.json" > "$B/config.json.new" &&
		mv "$B/config.json.new" "$B/config.json"
}

set_args() { # JSON array
	jq_config ".process.args=$1"
}

# The status field of `state ID`.
oci_status() {
	oci state "$1" | jq -r .status
}

# Wait (up to ~2 s) for a file.
wait_file() {
	for _ in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.02; done
	fail "$1 did not appear"
}

wait_status() { # ID STATUS
	local s
	for _ in $(seq 100); do
		s=$(oci_status "$1")
		[ "$s" = "$2" ] && return 0
		sleep 0.02
	done
	fail "container $1: status $s, expected $2"
}

oci_teardown() {
	local id
	if [ -d "${ROOT:-/nonexistent}" ]; then
		for id in $(ls "$ROOT"); do oci delete --force "$id" >/dev/null 2>&1 || true; done
	fi
	teardown_scratch
}

# Nothing of krill-oci's left: no state directory, no process, no cgroup.
assert_oci_clean() {
	local left
	left=$(ls -A "$ROOT" 2>/dev/null || true)
	[ -z "$left" ] || fail "state left: $left"
	for _ in $(seq 50); do
		# Only this test's (its --root): other checkouts' tests run too.
		left=$(for p in $(pgrep -u "$(id -u)" -x krill-oci); do
			tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$ROOT" && echo "$p"
		done || true)
		[ -z "$left" ] && break
		sleep 0.02
	done
	[ -z "$left" ] || fail "krill-oci processes left: $(ps -o pid,stat,args -p "$(echo $left | tr ' ' ,)")"
	if is_root; then
		left=$(ls /sys/fs/cgroup/pids/krill 2>/dev/null | grep -v '^cgroup\|^notify\|^pids\|^tasks\|^release' |
			grep -vxF -f "$SCRATCH/cgroups.before" || true)
		[ -z "$left" ] || fail "cgroups left: $left"
	fi
}
