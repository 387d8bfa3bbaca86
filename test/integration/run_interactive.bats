#!/usr/bin/env bats
# krill run: a shell in a pty (tmux): prompt, Ctrl-C, job control, exit status.
load helper

setup() {
	command -v tmux >/dev/null || skip "tmux is not installed"
	setup_scratch
	TMUX_SOCK=$SCRATCH/tmux.sock
}
teardown() {
	tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	teardown_scratch
	assert_no_leftovers
}

tm() { tmux -S "$TMUX_SOCK" "$@"; }
screen() { tm capture-pane -p -t krill 2>/dev/null; }

# Wait until the pane shows TEXT COUNT times (default 1), for up to 10 s.
wait_for() { # TEXT [COUNT]
	local i n
	for i in $(seq 100); do
		n=$(screen | grep -cF -- "$1" || true)
		[ "$n" -ge "${2:-1}" ] && return 0
		sleep 0.1
	done
	fail "waited for <$1> x${2:-1}; the screen: $(screen)"
}

# Start krill running an interactive shell in a tmux pane; its exit status
# goes to $SCRATCH/status.
start_shell() { # [KRILL OPTIONS...]
	local cmd
	cmd=$(printf '%q ' "$KRILL" run "$@" "$TINY" -- sh)
	tm new-session -d -s krill -x 100 -y 30 \
		"env -u TMUX PS1='krill-prompt> ' $cmd; echo \$? > $SCRATCH/status; sleep 30"
	wait_for "krill-prompt>"
}

wait_status() {
	local i
	for i in $(seq 100); do
		[ -s "$SCRATCH/status" ] && return 0
		sleep 0.1
	done
	fail "krill didn't exit; the screen: $(screen)"
}

@test "interactive: the shell shows its prompt and runs commands" {
	start_shell
	tm send-keys -t krill 'echo $((6 * 7)) $(id -u)' Enter
	wait_for "42 $(id -u)"
	tm send-keys -t krill 'tty' Enter
	wait_for "/dev/pts/"
}

@test "interactive: Ctrl-C interrupts sleep without killing the shell; exit 3 gives 3" {
	start_shell
	tm send-keys -t krill 'sleep 100' Enter
	# Wait until sleep runs, then interrupt it.
	local i
	for i in $(seq 100); do
		pgrep -u "$(id -u)" -f '^sleep 100$' >/dev/null && break
		sleep 0.1
	done
	pgrep -u "$(id -u)" -f '^sleep 100$' >/dev/null || fail "sleep didn't start: $(screen)"
	tm send-keys -t krill C-c
	wait_for "krill-prompt>" 2
	for i in $(seq 50); do
		pgrep -u "$(id -u)" -f '^sleep 100$' >/dev/null || break
		sleep 0.1
	done
	! pgrep -u "$(id -u)" -f '^sleep 100$' >/dev/null || fail "sleep survived Ctrl-C"
	tm send-keys -t krill 'echo still-$((1 + 1))' Enter
	wait_for "still-2"
	[ ! -e "$SCRATCH/status" ] || fail "krill exited: $(cat "$SCRATCH/status")"
	tm send-keys -t krill 'exit 3' Enter
	wait_status
	[ "$(cat "$SCRATCH/status")" = 3 ] || fail "status $(cat "$SCRATCH/status")"
}

@test "interactive: job control: a background job, fg, Ctrl-Z, bg" {
	start_shell
	tm send-keys -t krill 'sleep 101 &' Enter
	tm send-keys -t krill 'jobs' Enter
	wait_for "[1]+  Running"
	tm send-keys -t krill 'fg' Enter
	sleep 0.3
	tm send-keys -t krill C-z
	wait_for "Stopped"
	tm send-keys -t krill 'bg; kill %1; wait %1; echo done-$?' Enter
	wait_for "done-143"
	tm send-keys -t krill 'exit' Enter
	wait_status
	[ "$(cat "$SCRATCH/status")" = 0 ]
	! pgrep -u "$(id -u)" -f '^sleep 101$' >/dev/null || fail "sleep 101 survived"
}

@test "interactive: Ctrl-D ends the shell with status 0" {
	start_shell
	tm send-keys -t krill 'true' Enter
	wait_for "krill-prompt>" 2
	tm send-keys -t krill C-d
	wait_status
	[ "$(cat "$SCRATCH/status")" = 0 ] || fail "status $(cat "$SCRATCH/status")"
}
