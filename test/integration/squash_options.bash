# Shared by squash_options.bats and squash_options.root.bats: every option
# combination the other tests use with a directory image must give the
# same observable container with the SquashFS image of the same tree
# (issue 10 item 3).  Only the root filesystem's type may differ.

# What a container looks like from inside; namespaces print as "host" or
# "own" (new ones get new inode numbers every run).
PROBE='id -u; id -g; id -G; echo "HOME=$HOME PWD=$PWD USER=$USER"; hostname
for n in pid net ipc uts user mnt cgroup; do echo "$n=$(readlink /proc/self/ns/$n)"; done
grep -E "^(Seccomp|NoNewPrivs|CapInh|CapPrm|CapEff|CapBnd|CapAmb):" /proc/self/status
sort /proc/self/cgroup
for f in memory.max pids.max cpu.max memory/memory.limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us; do
	[ -r /sys/fs/cgroup/$f ] && echo "$f=$(cat /sys/fs/cgroup/$f)"; done
ls /sys/class/net; cat /proc/1/comm
grep -c . /etc/passwd; grep "^$(id -un 2>/dev/null):" /etc/passwd
ls /mnt /newdir 2>&1; (echo w >/probe-w && cat /probe-w) 2>&1
touch /tmp/probe-t && echo tmp-writable
env | grep -v -E "^(_|SHLVL|OLDPWD)=" | sort
cat /etc/os-release | head -1; md5sum /bin/busybox | cut -c1-32
echo probe-end'

host_ns() { # NAME: the host's namespace link
	readlink "/proc/self/ns/$1"
}

normalize() { # stdin: probe output; ns links become host/own
	local n sed_args=()
	for n in pid net ipc uts user mnt cgroup; do
		sed_args+=(-e "s|^$n=$(host_ns "$n")\$|$n=host|" -e "s|^$n=$n:\[[0-9]*\]\$|$n=own|")
	done
	sed "${sed_args[@]}"
}

# Run the probe with OPTIONS (one word-split string) on the directory and
# the SquashFS image; both must end the same way and print the same.
same_for_both() { # OPTIONS
	local dir_out sq_out dir_st sq_st
	# shellcheck disable=SC2086
	dir_out=$("$KRILL" run $1 "$TINY" -- sh -c "$PROBE" 2>&1) && dir_st=0 || dir_st=$?
	# shellcheck disable=SC2086
	sq_out=$("$KRILL" run $1 "$TINY_SQFS" -- sh -c "$PROBE" 2>&1) && sq_st=0 || sq_st=$?
	dir_out=$(normalize <<<"$dir_out")
	sq_out=$(normalize <<<"$sq_out")
	[ "$dir_st" = "$sq_st" ] || fail "[$1] status: directory $dir_st, SquashFS $sq_st
directory: $dir_out
SquashFS: $sq_out"
	[ "$dir_out" = "$sq_out" ] || fail "[$1] output differs:
$(diff <(echo "$dir_out") <(echo "$sq_out"))"
	LAST_STATUS=$dir_st
	LAST_OUTPUT=$dir_out
}

# same_for_both, and the run must have worked.
works_for_both() { # OPTIONS
	same_for_both "$1" || return 1
	[ "$LAST_STATUS" = 0 ] || fail "[$1] status $LAST_STATUS: $LAST_OUTPUT"
	[[ "$LAST_OUTPUT" == *probe-end* ]] || fail "[$1] probe didn't finish: $LAST_OUTPUT"
}
