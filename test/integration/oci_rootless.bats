#!/usr/bin/env bats
# krill-oci without root: multi-ID user namespace maps through newuidmap and
# newgidmap (the ranges of /etc/subuid and /etc/subgid), as runc's rootless
# mode; noNewPrivileges followed as as root.
load oci_helper
bats_require_minimum_version 1.5.0

setup() {
	is_root && skip "runs as the unprivileged test user"
	oci_setup
	export XDG_RUNTIME_DIR=$SCRATCH/xdg
	mkdir -m 0700 "$XDG_RUNTIME_DIR"
}
teardown() { oci_teardown; }

@test "oci rootless: multi-ID uidMappings/gidMappings through newuidmap/newgidmap" {
	command -v newuidmap >/dev/null || skip "newuidmap is not installed (Debian uidmap)"
	local me sub
	me=$(id -un)
	sub=$(awk -F: -v u="$me" '$1 == u { print $2; exit }' /etc/subuid)
	subg=$(awk -F: -v u="$me" '$1 == u { print $2; exit }' /etc/subgid)
	[ -n "$sub" ] && [ -n "$subg" ] || skip "no /etc/subuid and /etc/subgid entries for $me"
	jq_config --argjson u "$(id -u)" --argjson g "$(id -g)" --argjson s "$sub" --argjson sg "$subg" '
		.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}, {containerID: 1, hostID: $s, size: 1000}] |
		.linux.gidMappings = [{containerID: 0, hostID: $g, size: 1}, {containerID: 1, hostID: $sg, size: 1000}] |
		.process.user = {uid: 0, gid: 0, additionalGids: [5]} | .root.readonly = false |
		.process.capabilities.bounding += ["CAP_CHOWN"] | .process.capabilities.effective += ["CAP_CHOWN"] |
		.process.capabilities.permitted += ["CAP_CHOWN"]'
	set_args '["sh","-c","cat /proc/self/uid_map /proc/self/gid_map | tr -s \" \"; id -G; touch /tmp/f; chown 5:7 /tmp/f; stat -c %u:%g /tmp/f"]'
	run oci run --bundle "$B" maps
	assert_status 0
	assert_line " 0 $(id -u) 1"
	assert_line " 1 $sub 1000"
	assert_line " 1 $subg 1000"
	assert_line "0 5"
	assert_line "5:7"
	# The file belongs to the mapped IDs on the host.
	[ "$(stat -c %u:%g "$B/rootfs/tmp/f")" = "$((sub + 4)):$((subg + 6))" ]
	assert_oci_clean
}

@test "oci rootless: a range the caller doesn't own names the field" {
	command -v newuidmap >/dev/null || skip "newuidmap is not installed (Debian uidmap)"
	jq_config --argjson u "$(id -u)" '
		.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}, {containerID: 1, hostID: 1, size: 10}]'
	run oci run --bundle "$B" badmap
	assert_status 1
	assert_line "krill-oci: error: linux.uidMappings: newuidmap failed (status 1)"
	assert_oci_clean
}

@test "oci rootless: noNewPrivileges false leaves it unset" {
	set_args '["sh","-c","grep NoNewPrivs /proc/self/status"]'
	jq_config '.process.noNewPrivileges = false'
	run oci run --bundle "$B" nnp
	assert_status 0
	assert_output "NoNewPrivs:	0"
	assert_oci_clean
}
