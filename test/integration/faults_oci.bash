# Shared by faults_oci*.bats: krill-oci create/start killed at random
# points; leaks counted by kind: state directories (temporary ones too),
# cgroups in every hierarchy, processes, mounts.
load faults_helper
load oci_helper

# Processes of this test: their command line names our state root or the
# container's marker command.
oci_procs() {
	local p
	for p in $(pgrep -u "$(id -u)" -f -- "$ROOT|sleep 426[0-9]" 2>/dev/null); do
		[ "$p" = "$$" ] && continue
		[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] && continue
		echo "$p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
}
# Cgroup directories of this test's containers, in every hierarchy.
oci_cgroups() { find /sys/fs/cgroup -maxdepth 4 -type d -name "$IDP*" 2>/dev/null || true; }
oci_dirs() { ls -A "$ROOT" 2>/dev/null || true; }
# Mounts of a container's rootfs in any process's table.
oci_mounts() {
	grep -H -- "$B/rootfs" /proc/[0-9]*/mountinfo 2>/dev/null | grep -v "^/proc/self/" || true
}

# Leaks that must be gone without any command (cgroups, processes,
# mounts): the cgroup guard and the init's own checks.
oci_leaks_now() {
	oci_cgroups | sed 's/^/cgroup: /'
	oci_procs | sed 's/^/process: /'
	oci_mounts | sed 's/^/mount: /'
}
oci_settle() {
	local l
	for _ in $(seq 30); do
		l=$(oci_leaks_now)
		[ -z "$l" ] && return 0
		sleep 0.1
	done
	echo "$l"
}
oci_after_fault() {
	local l
	FAULTS=$((FAULTS + 1))
	# what a create killed before its cgroup guard started left is
	# collected by the next command that looks (list, create, state)
	oci list -q >/dev/null 2>&1
	l=$(oci_settle)
	[ -z "$l" ] || printf 'fault %s:\n%s\n' "$FAULTS" "$l" >>"$SCRATCH/leaks"
}
