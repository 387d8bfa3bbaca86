#!/usr/bin/env bats
# krill-oci create and start killed at random points (issue 13), as root:
# with cgroups.  After each kill, nothing may remain but a state directory
# whose status is "creating", and the next `list` collects that.
load faults_oci

setup() {
	oci_setup
	IDP=flt$$x$BATS_TEST_NUMBER
	set_args '["sleep","4261"]'
}
teardown() {
	local id
	for id in $(ls "$ROOT" 2>/dev/null); do oci delete --force "$id" >/dev/null 2>&1 || true; done
	teardown_scratch
}

@test "faults: krill-oci create killed, 50 times: no cgroup, process or mount; list shows no ghost" {
	local i pid
	for i in $(seq 50); do
		# krill-oci itself in the background (not a function's subshell),
		# so the kill reaches it
		"$KRILL_OCI" --root "$ROOT" create --bundle "$B" "$IDP.$i" \
			</dev/null >>"$SCRATCH/ct.out" 2>&1 3>&- &
		pid=$!
		rdelay 60
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		# A create that finished before the kill is a container: delete it.
		[ "$(oci_status "$IDP.$i" 2>/dev/null)" = created ] && oci delete --force "$IDP.$i"
		oci_after_fault
	done
	run oci list -q
	assert_status 0
	[ -z "$(oci_dirs)" ] || echo "state dirs: $(oci_dirs)" >>"$SCRATCH/leaks"
	assert_no_leaks "krill-oci create killed"
}

@test "faults: krill-oci start killed, 50 times: delete --force leaves nothing" {
	local i pid
	for i in $(seq 50); do
		oci_bg create --bundle "$B" "$IDP.$i" 3>&-
		"$KRILL_OCI" --root "$ROOT" start "$IDP.$i" </dev/null >>"$SCRATCH/ct.out" 2>&1 3>&- &
		pid=$!
		rdelay 20
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		oci delete --force "$IDP.$i"
		FAULTS=$((FAULTS + 1))
		local l; l=$(oci_settle)
		[ -z "$(oci_dirs)" ] || l+="state dirs: $(oci_dirs)"
		[ -z "$l" ] || printf 'fault %s:\n%s\n' "$FAULTS" "$l" >>"$SCRATCH/leaks"
	done
	assert_no_leaks "krill-oci start killed"
}

@test "faults: a hook started with stdin closed still reads the state on its stdin" {
	cat >"$SCRATCH/hook" <<HOOK
#!/bin/sh
cat > $SCRATCH/hook.in
HOOK
	chmod +x "$SCRATCH/hook"
	jq_config --arg h "$SCRATCH/hook" '.hooks.prestart=[{"path":$h}]'
	"$KRILL_OCI" --root "$ROOT" create --bundle "$B" "$IDP" <&- >/dev/null 2>&1 3>&-
	jq -e ".id == \"$IDP\"" "$SCRATCH/hook.in" || fail "the hook read: $(cat "$SCRATCH/hook.in")"
}

@test "faults: net sysctls are refused when the container joins the host's network namespace" {
	jq_config --arg p "/proc/$$/ns/net" '.linux.namespaces |= (map(select(.type != "network")) + [{"type":"network","path":$p}]) | .linux.sysctl={"net.ipv4.ip_forward":"1"}'
	local before; before=$(cat /proc/sys/net/ipv4/ip_forward)
	run oci create --bundle "$B" "$IDP"
	assert_status 1
	assert_output "krill-oci: error: linux.sysctl.net.ipv4.ip_forward: the container joins the host's net namespace (/proc/$$/ns/net): refused, it would change the host"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$before" ]
	[ -z "$(oci_dirs)" ] || fail "state left: $(oci_dirs)"
}
