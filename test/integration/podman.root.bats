#!/usr/bin/env bats
# podman (a real engine, with conmon) drives krill-oci; every scenario runs
# with runc too, in the same run, and the two must give the same results.
#
# Host configuration, not krill's: root here may lack CAP_SYS_RESOURCE, so
# podman's default rlimits would fail for every runtime; the containers.conf
# below (CONTAINERS_CONF) sets default_ulimits = [].  Storage is private to
# this file, and every container has --network none (no host networking).
load helper
bats_require_minimum_version 1.5.0

IMG=krill-podman-tiny

setup_file() {
	command -v podman >/dev/null || skip "podman is not installed"
	command -v runc >/dev/null || skip "runc is not installed (needed for the comparison)"
	PM=$(mktemp -d /tmp/krill-podman.XXXXXX)
	export PM
	printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
		>"$PM/containers.conf"
	export CONTAINERS_CONF=$PM/containers.conf
	# The tiny image, with a file in /tmp for --read-only's tmpcopyup.
	mkdir "$PM/rootfs"
	cp -a "$TINY/." "$PM/rootfs/"
	mkdir -p "$PM/rootfs/tmp"
	echo seeded >"$PM/rootfs/tmp/seed"
	tar -C "$PM/rootfs" -cf "$PM/tiny.tar" .
	pm import -q "$PM/tiny.tar" "$IMG" >/dev/null
}

teardown_file() {
	[ -n "${PM:-}" ] || return 0
	pm rm -af -t 0 >/dev/null 2>&1 || true
	pm system reset -f >/dev/null 2>&1 || true
	findmnt -rn -o TARGET | grep "^$PM/" | sort -r | xargs -r umount -l 2>/dev/null || true
	rm -rf "$PM"
}

setup() {
	setup_scratch
	TMUX_SOCK=$SCRATCH/tmux.sock
}
teardown() {
	tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	teardown_scratch
}

pm() { podman --root "$PM/storage" --runroot "$PM/run" --tmpdir "$PM/tmp" "$@"; }
# pmr RUNTIME ARGS...: podman with that runtime
pmr() { local rt=$1; shift; pm --runtime "$rt" "$@"; }
RUNTIMES() { echo runc "$KRILL_OCI"; }

# Run "$@" for each runtime (RT is set), capturing "status|output" per
# runtime; fail unless krill-oci's equals runc's.  Leaves $output/$status
# of krill-oci's run, and $RUNC_OUT with runc's.
same_as_runc() {
	local rt res=() want=()
	[[ $1 == -* ]] && want=("$1") && shift
	for rt in $(RUNTIMES); do
		RT=$rt
		run "${want[@]}" "$@"
		res+=("$status|$output")
	done
	RUNC_OUT=${res[0]}
	[ "${res[0]}" = "${res[1]}" ] || fail "runc: <${res[0]}>  krill-oci: <${res[1]}>"
}

in_pty() { # CMD...: run in a pty (script), exit status of CMD
	script -qec "$(printf '%q ' "$@")" /dev/null </dev/null >/dev/null
}

@test "podman: run --rm: output and exit status" {
	t() { pmr "$RT" run --rm --network none "$IMG" sh -c 'echo hi; echo err >&2; exit 7'; }
	same_as_runc t
	assert_status 7
	assert_line "hi"
	assert_line "err"
	t2() { pmr "$RT" run --rm --network none "$IMG" nonexistent-cmd >/dev/null 2>&1; }
	same_as_runc -127 t2
	assert_status 127
}

@test "podman: exec exit codes, with and without -it" {
	for rt in $(RUNTIMES); do
		pmr "$rt" run -d --network none --name "ex-${rt##*/}" "$IMG" sleep 60 >/dev/null
	done
	t() {
		local c=ex-${RT##*/} r=""
		pmr "$RT" exec "$c" sh -c 'exit 0'; r+=" $?"
		pmr "$RT" exec "$c" sh -c 'exit 5'; r+=" $?"
		pmr "$RT" exec "$c" sh -c 'kill -9 $$'; r+=" $?"
		in_pty podman --root "$PM/storage" --runroot "$PM/run" --tmpdir "$PM/tmp" \
			--runtime "$RT" exec -it "$c" sh -c 'tty >/dev/null && exit 6'; r+=" $?"
		echo "$r"
	}
	same_as_runc t
	assert_output " 0 5 137 6"
	for rt in $(RUNTIMES); do pm rm -f -t 0 "ex-${rt##*/}" >/dev/null; done
}

@test "podman: -d with logs, top, ps, stop, wait, restart, kill" {
	t() {
		local c=life-${RT##*/} r
		pmr "$RT" run -d --network none --name "$c" "$IMG" \
			sh -c 'echo started; trap "echo got-term; exit 3" TERM; while :; do sleep 0.1; done' >/dev/null
		for _ in $(seq 50); do pm logs "$c" | grep -q started && break; sleep 0.1; done
		pm logs "$c"
		pm top "$c" args | grep -c 'trap'
		pm ps --format '{{.Names}}' | grep -cx "$c"
		pm stop -t 10 "$c" >/dev/null
		pm wait "$c"
		pm logs "$c" | tail -1
		pm restart "$c" >/dev/null
		pm inspect -f '{{.State.Status}}' "$c"
		pm kill -s KILL "$c" >/dev/null
		pm wait "$c"
		pm rm "$c" >/dev/null
	}
	same_as_runc t
	assert_status 0
	[ "$output" = "started
1
1
3
got-term
running
137" ] || fail "unexpected: $output"
}

counter() { # UPPERDIR: the value in tmp/n (rewritten by the loop: retry an empty read)
	local v
	for _ in $(seq 20); do
		v=$(cat "$1/tmp/n" 2>/dev/null)
		[ -n "$v" ] && break
		sleep 0.01
	done
	echo "${v:-0}"
}

@test "podman: pause and unpause freeze and thaw the container" {
	t() {
		local c=pz-${RT##*/} a b
		pmr "$RT" run -d --network none --name "$c" "$IMG" \
			sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done' >/dev/null
		sleep 0.3
		pm pause "$c" >/dev/null
		pm inspect -f '{{.State.Status}}' "$c"
		# The counter, read from the container's upper layer while frozen.
		up=$(pm inspect -f '{{.GraphDriver.Data.UpperDir}}' "$c")
		a=$(counter "$up")
		sleep 0.3
		b=$(counter "$up")
		[ "$a" = "$b" ] && echo frozen
		pm unpause "$c" >/dev/null
		sleep 0.3
		[ "$(counter "$up")" -gt "$b" ] && echo thawed
		pm inspect -f '{{.State.Status}}' "$c"
		pm rm -f -t 0 "$c" >/dev/null
	}
	same_as_runc t
	assert_status 0
	[ "$output" = "paused
frozen
thawed
running" ] || fail "unexpected: $output"
}

@test "podman: --read-only (tmpcopyup), -v SRC:DST:ro, --user, --cap-drop ALL" {
	mkdir "$SCRATCH/vol"
	echo vol >"$SCRATCH/vol/f"
	t() {
		pmr "$RT" run --rm --network none --read-only "$IMG" \
			sh -c 'touch /x 2>&1; cat /tmp/seed; touch /tmp/y && echo tmp-writable'
		pmr "$RT" run --rm --network none -v "$SCRATCH/vol:/v:ro" "$IMG" sh -c 'cat /v/f; touch /v/g 2>&1'
		pmr "$RT" run --rm --network none --user 1000:1001 "$IMG" id
		pmr "$RT" run --rm --network none --cap-drop ALL "$IMG" grep -E 'CapEff|CapBnd' /proc/self/status
	}
	same_as_runc t
	assert_line "touch: /x: Read-only file system"
	assert_line "seeded"
	assert_line "tmp-writable"
	assert_line "vol"
	assert_line "touch: /v/g: Read-only file system"
	assert_line "uid=1000(1000) gid=1001(1001) groups=1001(1001)"
	assert_line "CapEff:	0000000000000000"
	assert_line "CapBnd:	0000000000000000"
}

@test "podman: --memory 64m: the limit is visible inside, and the OOM killer gives 137" {
	[ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ] || [ -e /sys/fs/cgroup/cgroup.controllers ] ||
		skip "no memory controller"
	t() {
		pmr "$RT" run --rm --network none --memory 64m "$IMG" sh -c \
			'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max
			 x=$(head -c 300000000 /dev/zero | tr "\0" a); echo survived'
	}
	same_as_runc t
	assert_status 137
	assert_output "67108864"
}

@test "podman: run -it in a terminal: tty, Ctrl-C, exit status" {
	command -v tmux >/dev/null || skip "tmux is not installed"
	for rt in $(RUNTIMES); do
		rm -f "$SCRATCH/status"
		local cmd
		cmd=$(printf '%q ' podman --root "$PM/storage" --runroot "$PM/run" --tmpdir "$PM/tmp" \
			--runtime "$rt" run -it --rm --network none -e PS1='pm-prompt> ' "$IMG" sh)
		tmux -S "$TMUX_SOCK" new-session -d -s pm -x 100 -y 30 \
			"env -u TMUX CONTAINERS_CONF=$CONTAINERS_CONF $cmd; echo \$? > $SCRATCH/status; sleep 30"
		pane_wait "pm-prompt>"
		tmux -S "$TMUX_SOCK" send-keys -t pm 'tty' Enter
		pane_wait "/dev/pts/0"
		tmux -S "$TMUX_SOCK" send-keys -t pm 'sleep 100' Enter
		sleep 0.5
		tmux -S "$TMUX_SOCK" send-keys -t pm C-c
		tmux -S "$TMUX_SOCK" send-keys -t pm 'echo after-$((40 + 2))' Enter
		pane_wait "after-42"
		tmux -S "$TMUX_SOCK" send-keys -t pm 'exit 3' Enter
		for _ in $(seq 100); do [ -s "$SCRATCH/status" ] && break; sleep 0.1; done
		[ "$(cat "$SCRATCH/status" 2>/dev/null)" = 3 ] ||
			fail "$rt: status $(cat "$SCRATCH/status" 2>/dev/null); screen: $(pane)"
		tmux -S "$TMUX_SOCK" kill-server
	done
}

pane() { tmux -S "$TMUX_SOCK" capture-pane -p -t pm 2>/dev/null; }
pane_wait() { # TEXT
	for _ in $(seq 100); do
		pane | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	fail "waited for <$1>; the screen: $(pane)"
}

@test "podman rootless: as the test user (root of podman's user namespace), same as runc" {
	local user=$KRILL_TEST_USER
	[ -n "$user" ] && id "$user" >/dev/null 2>&1 || skip "no unprivileged test user"
	grep -q "^$user:" /etc/subuid && grep -q "^$user:" /etc/subgid ||
		skip "no /etc/subuid and /etc/subgid entries for $user"
	command -v newuidmap >/dev/null || skip "newuidmap is not installed (Debian uidmap)"
	RL=$(mktemp -d /tmp/krill-podman-rl.XXXXXX)
	mkdir -m 0700 "$RL/xdg"
	cp "$PM/tiny.tar" "$PM/containers.conf" "$RL/"
	cat >"$RL/t.sh" <<-'EOS'
	export XDG_RUNTIME_DIR=$RL/xdg HOME=$RL CONTAINERS_CONF=$RL/containers.conf
	p() { podman --root "$RL/storage" --runroot "$RL/xdg/run" --cgroup-manager cgroupfs "$@"; }
	p images -q | grep -q . || p import -q "$RL/tiny.tar" rl-tiny >/dev/null
	p --runtime "$1" run --rm --network none rl-tiny sh -c 'id -u; wc -l < /proc/self/uid_map'
	p --runtime "$1" run --rm --network none --user 1000:1000 --read-only rl-tiny \
		sh -c 'id; touch /x 2>&1; cat /tmp/seed; touch /tmp/y && echo tmp-ok; test -c /dev/null && echo dev-ok'
	p --runtime "$1" run -d --network none --name rl rl-tiny sleep 60 >/dev/null
	p exec rl sh -c 'exit 5'; echo "exec $?"
	p stop -t 0 rl >/dev/null; p wait rl; p rm rl >/dev/null
	EOS
	chown -R "$user" "$RL"
	local rt out=()
	for rt in $(RUNTIMES); do
		# (podman's own warnings, e.g. "/ is not a shared mount", left out)
		out+=("$(cd / && runuser -u "$user" -- env RL="$RL" PATH="$PATH" bash "$RL/t.sh" "$rt" 2>&1 |
			grep -v 'level=warning')")
	done
	local pause
	pause=$(cat "$RL/xdg/libpod/tmp/pause.pid" 2>/dev/null || true)
	runuser -u "$user" -- env XDG_RUNTIME_DIR="$RL/xdg" HOME="$RL" CONTAINERS_CONF="$RL/containers.conf" \
		podman --root "$RL/storage" --runroot "$RL/xdg/run" system reset -f >/dev/null 2>&1 || true
	[ -n "$pause" ] && kill "$pause" 2>/dev/null || true
	rm -rf "$RL"
	[ "${out[0]}" = "${out[1]}" ] || fail "runc: <${out[0]}>  krill-oci: <${out[1]}>"
	run printf '%s\n' "${out[1]}"
	assert_line "0"
	assert_line "2"
	assert_line "uid=1000(1000) gid=1000(1000) groups=1000(1000)"
	assert_line "touch: /x: Read-only file system"
	assert_line "seeded"
	assert_line "tmp-ok"
	assert_line "dev-ok"
	assert_line "exec 5"
	assert_line "137"
}
