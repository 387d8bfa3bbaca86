#!/usr/bin/env bats
# krill-oci as an unprivileged user (a rootless bundle): lifecycle with the
# state at each step, hook order, error messages, exec, spec, features.

load oci_helper
bats_require_minimum_version 1.5.0

setup() { oci_setup; }
teardown() { oci_teardown; }

@test "oci: lifecycle create/start/kill/delete with state at each step" {
	set_args '["sh","-c","echo hi > /marker; exec sleep 60"]'
	oci_bg create --bundle "$B" life
	[ "$(oci_status life)" = created ]
	[ ! -e "$B/rootfs/marker" ] || fail "marker exists before start"
	pid=$(oci state life | jq -r .pid)
	[ "$(oci state life | jq -r .bundle)" = "$B" ]
	[ -d "/proc/$pid" ]
	[ -S "$ROOT/life/start.sock" ]
	run oci start life
	assert_status 0
	wait_file "$B/rootfs/marker"
	[ "$(cat "$B/rootfs/marker")" = hi ]
	[ "$(oci_status life)" = running ]
	run oci kill life KILL
	assert_status 0
	wait_status life stopped
	[ "$(oci state life | jq -r .pid)" = 0 ]
	run oci delete life
	assert_status 0
	[ ! -e "$ROOT/life" ]
	run oci state life
	assert_status 1
	assert_output "krill-oci: error: container life does not exist"
	assert_oci_clean
}

@test "oci: the container is in its own user namespace, mapped to the caller" {
	is_root && skip "a rootless bundle's test; root bundles have no user namespace"
	set_args '["sh","-c","cat /proc/self/uid_map > /map; id -u > /uid; hostname > /host"]'
	run oci run --bundle "$B" ns1
	assert_status 0
	[ "$(awk '{print $1, $2, $3}' "$B/rootfs/map")" = "0 $(id -u) 1" ]
	[ "$(cat "$B/rootfs/uid")" = 0 ]
	[ "$(cat "$B/rootfs/host")" = krill ]
	assert_oci_clean
}

@test "oci: run returns the process's exit status and deletes the container" {
	set_args '["sh","-c","exit 7"]'
	run oci run --bundle "$B" st7
	assert_status 7
	[ ! -e "$ROOT/st7" ]
}

@test "oci: fds inherited from the caller reach the process only with --preserve-fds" {
	set_args '["sh","-c","ls /proc/self/fd > /fds"]'
	oci run --bundle "$B" fdleak 7</etc/hostname </dev/null >/dev/null 2>&1
	run cat "$B/rootfs/fds"
	if grep -qx 7 <<<"$output"; then fail "fd 7 leaked into the container"; fi
	oci run --bundle "$B" --preserve-fds 5 fdkeep 7</etc/hostname </dev/null >/dev/null 2>&1
	run cat "$B/rootfs/fds"
	assert_line 7
}

@test "oci: hooks run in spec order, each with the state on stdin" {
	log=$B/rootfs/hooks.log
	cat > "$SCRATCH/hook" <<'H'
#!/bin/sh
echo "$1 $(sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')" >> "$2"
H
	cp "$SCRATCH/hook" "$B/rootfs/hook"
	chmod +x "$SCRATCH/hook" "$B/rootfs/hook"
	h=$SCRATCH/hook
	jq_config --arg h "$h" --arg log "$log" '.hooks = {
	  prestart: [{path: $h, args: ["hook", "prestart", $log]}],
	  createRuntime: [{path: $h, args: ["hook", "createRuntime", $log]}],
	  createContainer: [{path: $h, args: ["hook", "createContainer", $log]}],
	  startContainer: [{path: "/hook", args: ["hook", "startContainer", "/hooks.log"]}],
	  poststart: [{path: $h, args: ["hook", "poststart", $log], timeout: 5}],
	  poststop: [{path: $h, args: ["hook", "poststop", $log]}]}'
	set_args '["sh","-c","sleep 0.5; echo process >> /hooks.log"]'
	oci_bg create --bundle "$B" hk
	[ "$(cat "$log")" = "$(printf 'prestart creating\ncreateRuntime creating\ncreateContainer creating')" ]
	oci start hk
	wait_status hk stopped
	oci delete hk
	run cat "$log"
	assert_output "$(printf '%s\n' 'prestart creating' 'createRuntime creating' \
		'createContainer creating' 'startContainer created' 'poststart running' \
		'process' 'poststop stopped')"
	assert_oci_clean
}

@test "oci: a failing createRuntime hook fails create and leaves nothing" {
	printf '#!/bin/sh\nexit 3\n' > "$SCRATCH/bad"
	chmod +x "$SCRATCH/bad"
	jq_config --arg h "$SCRATCH/bad" '.hooks = {createRuntime: [{path: $h}]}'
	set_args '["sleep","60"]'
	run oci create --bundle "$B" badhook
	assert_status 1
	assert_output "krill-oci: error: createRuntime hook $SCRATCH/bad: exited with status 3"
	[ ! -e "$ROOT/badhook" ]
	run pgrep -u "$(id -u)" -f 'sleep 60'
	assert_status 1
	assert_oci_clean
}

@test "oci: a hook past its timeout is killed and fails create" {
	printf '#!/bin/sh\nsleep 10\n' > "$SCRATCH/slow"
	chmod +x "$SCRATCH/slow"
	jq_config --arg h "$SCRATCH/slow" '.hooks = {prestart: [{path: $h, timeout: 1}]}'
	run oci create --bundle "$B" slow
	assert_status 1
	assert_output "krill-oci: error: prestart hook $SCRATCH/slow: timed out after 1 s"
	assert_oci_clean
}

@test "oci: the timeout holds for a hook that doesn't read a state larger than a pipe" {
	printf '#!/bin/sh\nexec sleep 10\n' > "$SCRATCH/deaf"
	chmod +x "$SCRATCH/deaf"
	big=$(head -c 100000 /dev/zero | tr '\0' x)
	jq_config --arg h "$SCRATCH/deaf" --arg big "$big" \
		'.hooks = {prestart: [{path: $h, timeout: 1}]} | .annotations = {big: $big}'
	start=$SECONDS
	run oci create --bundle "$B" deaf
	assert_status 1
	assert_output "krill-oci: error: prestart hook $SCRATCH/deaf: timed out after 1 s"
	[ $((SECONDS - start)) -lt 5 ] || fail "create took $((SECONDS - start)) s"
	assert_oci_clean
}

@test "oci: lifecycle errors: duplicate and invalid IDs, start twice, kill stopped, delete running" {
	set_args '["sleep","60"]'
	oci_bg create --bundle "$B" dup
	run oci create --bundle "$B" dup
	assert_status 1
	assert_output "krill-oci: error: container dup already exists"
	run oci create --bundle "$B" a/b
	assert_status 1
	assert_output "krill-oci: error: invalid container ID 'a/b': use letters, digits and _+-. (not first)"
	run oci create --bundle "$B" ""
	assert_status 1
	assert_output "krill-oci: error: invalid container ID '': use letters, digits and _+-. (not first)"
	run oci create --bundle "$B" ..
	assert_status 1
	oci start dup
	run oci start dup
	assert_status 1
	assert_output "krill-oci: error: container dup is running, not created: it can't be started"
	[ "$(oci_status dup)" = running ]
	run oci delete dup
	assert_status 1
	assert_line "krill-oci: error: container dup is running: it can't be deleted"
	[ "$(oci_status dup)" = running ]
	oci kill dup KILL
	wait_status dup stopped
	run oci kill dup TERM
	assert_status 1
	assert_output "krill-oci: error: container dup is stopped: it can't be signalled"
	oci delete dup
	# As runc: --force of a missing container is silent success (engines
	# call it after a failed create); without --force it is an error.
	run oci delete --force nosuch
	assert_status 0
	assert_output ""
	run oci delete nosuch
	assert_status 1
	assert_output "krill-oci: error: container nosuch does not exist"
	run oci frobnicate
	assert_status 1
	assert_output "krill-oci: error: unknown command 'frobnicate' (see krill-oci --help)"
	assert_oci_clean
}

@test "oci: delete --force kills a running container" {
	set_args '["sleep","60"]'
	oci_bg run -d --bundle "$B" forced
	[ "$(oci_status forced)" = running ]
	pid=$(oci state forced | jq -r .pid)
	run oci delete --force forced
	assert_status 0
	[ ! -e "$ROOT/forced" ]
	[ ! -d "/proc/$pid" ] || [ "$(awk '{print $3}' "/proc/$pid/stat")" = Z ]
}

@test "oci: delete --force of a create killed before its init existed signals nobody else" {
	# A create SIGKILLed before it recorded the init's pid leaves
	# "creating" with pid 0; kill(0, SIGKILL) would hit delete's own
	# process group.
	mkdir -p "$ROOT/ghost"
	printf '{"ociVersion":"1.0.2","id":"ghost","status":"creating","pid":0,"bundle":"%s","annotations":{},"krill":{"pidStart":0,"paused":false,"created":"","owner":%d}}' \
		"$B" "$(id -u)" > "$ROOT/ghost/state.json"
	setsid -w sh -c "'$KRILL_OCI' --root '$ROOT' delete --force ghost; echo survived > '$SCRATCH/alive'" || true
	[ -e "$SCRATCH/alive" ] || fail "delete --force killed its own process group"
	[ ! -e "$ROOT/ghost" ]
}

@test "oci: delete during create waits for create to finish" {
	printf '#!/bin/sh\ntouch %s/hook-started\nsleep 1\n' "$SCRATCH" > "$SCRATCH/slowhook"
	chmod +x "$SCRATCH/slowhook"
	jq_config --arg h "$SCRATCH/slowhook" '.hooks = {createRuntime: [{path: $h}]}'
	set_args '["sleep","60"]'
	( oci_bg create --bundle "$B" racy; echo $? > "$SCRATCH/create.rc" ) &
	wait_file "$SCRATCH/hook-started"
	run oci delete --force racy
	wait_file "$SCRATCH/create.rc"
	[ "$(cat "$SCRATCH/create.rc")" = 0 ] || fail "create was torn down under its feet: $(cat "$SCRATCH/ct.out")"
	assert_status 0
	[ ! -e "$ROOT/racy" ]
}

@test "oci: malformed config.json gives file, position and JSON path" {
	cd "$B"
	cp config.json good.json
	printf '{"ociVersion": "1.0.2",\n  "root": {"path": "rootfs"\n' > config.json
	run oci create bad1
	assert_status 1
	assert_output "krill-oci: error: config.json:3:0: invalid JSON: '}' expected near end of file"
	jq 'del(.root)' good.json > config.json
	run oci create bad2
	assert_output "krill-oci: error: config.json: root: missing"
	jq '.linux.resources = {memory: {limit: "lots"}}' good.json > config.json
	run oci create bad3
	assert_output "krill-oci: error: config.json: linux.resources.memory.limit: expected integer"
	jq '.process.args = "sh"' good.json > config.json
	run oci create bad4
	assert_output "krill-oci: error: config.json: process.args: expected array"
	jq '.ociVersion = "2.0.0"' good.json > config.json
	run oci create bad5
	assert_output "krill-oci: error: config.json: ociVersion: version '2.0.0' is not supported (krill implements 1.x)"
	jq '.mounts[0].type = "nfs"' good.json > config.json
	run oci create bad6
	assert_status 1
	assert_output "krill-oci: error: config.json: mounts[0].type: 'nfs' is not supported by krill (bind, tmpfs, proc, sysfs, devpts, mqueue, cgroup)"
	jq '.process.capabilities.bounding += ["CAP_FLY"]' good.json > config.json
	run oci create bad7
	assert_output "krill-oci: error: config.json: process.capabilities.bounding[3]: unknown capability 'CAP_FLY'"
	[ -z "$(ls -A "$ROOT")" ]
}

@test "oci: unknown fields are ignored, and named with --debug" {
	jq_config '.process.frobs = 1 | .linux.wibble = {}'
	run "$KRILL_OCI" --debug --root "$ROOT" run --bundle "$B" unk
	assert_status 0
	assert_line "krill-oci: $B/config.json: process.frobs: unknown field, ignored"
	assert_line "krill-oci: $B/config.json: linux.wibble: unknown field, ignored"
}

@test "oci: exec runs in the container's namespaces, with --env and --cwd" {
	set_args '["sleep","60"]'
	oci_bg run -d --bundle "$B" ex
	pid=$(oci state ex | jq -r .pid)
	run oci exec --env FOO=bar --cwd /etc ex sh -c 'echo $FOO $(pwd) $(readlink /proc/self/ns/mnt)'
	assert_status 0
	assert_output "bar /etc $(readlink /proc/$pid/ns/mnt)"
	run oci exec ex sh -c 'exit 5'
	assert_status 5
	run -127 oci exec ex nosuchcmd
	assert_status 127
	oci delete --force ex
	run oci exec ex true
	assert_status 1
	assert_output "krill-oci: error: container ex does not exist"
}

@test "oci: --log-format json writes errors to the log" {
	run "$KRILL_OCI" --root "$ROOT" --log "$SCRATCH/log" --log-format json state nope
	assert_status 1
	[ "$(jq -r .level "$SCRATCH/log")" = error ]
	[ "$(jq -r .msg "$SCRATCH/log")" = "container nope does not exist" ]
}

@test "oci: --systemd-cgroup is reported unsupported" {
	run "$KRILL_OCI" --root "$ROOT" --systemd-cgroup create --bundle "$B" sd
	assert_status 1
	assert_line "krill-oci: error: --systemd-cgroup: systemd cgroup management is not supported"
}

@test "oci: spec writes a valid config, features prints JSON" {
	mkdir "$SCRATCH/s"
	"$KRILL_OCI" spec --rootless --bundle "$SCRATCH/s"
	[ "$(jq -r '.linux.uidMappings[0].hostID' "$SCRATCH/s/config.json")" = "$(id -u)" ]
	run "$KRILL_OCI" spec --bundle "$SCRATCH/s"
	assert_status 1
	assert_output "krill-oci: error: $SCRATCH/s/config.json: already exists"
	run "$KRILL_OCI" features
	assert_status 0
	[ "$(echo "$output" | jq -r .ociVersionMax)" = 1.1.0 ]
	echo "$output" | jq -e '.hooks | index("createContainer")'
}

@test "oci: seccomp profile denying mkdir (rootless)" {
	jq_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
	  syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
	set_args '["sh","-c","mkdir /tmp/d 2>&1; echo rc=$?"]'
	run oci run --bundle "$B" sc
	assert_status 0
	assert_line "mkdir: can't create directory '/tmp/d': Operation not permitted"
	assert_line "rc=1"
}

@test "oci: the example bundle (examples/oci/make-bundle.sh) runs" {
	KRILL_OCI=$KRILL_OCI run "$STAGE/examples/oci/make-bundle.sh" "$TINY" "$SCRATCH/ex"
	assert_status 0
	run oci run --bundle "$SCRATCH/ex" example
	assert_status 0
	assert_output "hello from krill, uid 0"
	assert_oci_clean
}
