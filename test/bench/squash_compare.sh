#!/bin/sh
# squash_compare.sh: tree-read benchmark of lib/squash.c (through
# squash_mount_driver) against the squashfuse_ll binary and the kernel's
# squashfs on a loop device.  Run as root (it drops the page cache).
# For each reader, two fresh mounts after `echo 3 > drop_caches`:
#   meta:  tar cf /dev/null      (GNU tar then skips file contents: names,
#                                 lookups, stat only; the issue's figure)
#   data:  tar cf - | cat        (reads every byte)
# each run twice in the same mount: cold, then warm.
#   usage: squash_compare.sh [DRIVER] [THREADS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
drv=${1:-$here/../../build/squash_mount_driver}
threads=${2:-0}
img=$("$here/squash_tree.sh")
mnt=$(mktemp -d /tmp/krill-cmp.XXXXXX)
trap 'umount -l "$mnt" 2>/dev/null || true; rmdir "$mnt"' EXIT

meta='tar cf /dev/null -C "$MNT" .'
data='tar cf - -C "$MNT" . | cat >/dev/null'
# Prints "COLD WARM" seconds for command $1 with $MNT set.
twice='t0=$(date +%s.%N); eval "$CMD"; t1=$(date +%s.%N); eval "$CMD"; t2=$(date +%s.%N)
       echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc)"'
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }

row() { printf '%-22s %-5s cold %6.2f s  warm %6.2f s  %s\n' "$1" "$2" $3 $4 "${5:-}"; }

for kind in meta data; do
	eval "cmd=\$$kind"
	# krill (lib/squash.c)
	drop
	out=$(CMD=$cmd "$drv" "$img" "$threads" "$twice" 2>"$mnt.err")
	row "krill lib/squash.c" $kind $out "$(grep -o 'peak RSS [0-9]* KiB' "$mnt.err")"
	rm -f "$mnt.err"
	# squashfuse_ll binary
	if command -v squashfuse_ll >/dev/null; then
		drop
		squashfuse_ll "$img" "$mnt"
		pid=$(pgrep -n -x squashfuse_ll || true)
		out=$(MNT=$mnt CMD=$cmd sh -c "$twice")
		rss=$(grep VmHWM /proc/$pid/status 2>/dev/null | awk '{print $2}')
		fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt"
		row "squashfuse_ll binary" $kind $out "peak RSS ${rss:-?} KiB"
	fi
	# kernel squashfs
	drop
	if mount -o loop,ro -t squashfs "$img" "$mnt" 2>/dev/null; then
		out=$(MNT=$mnt CMD=$cmd sh -c "$twice")
		umount "$mnt"
		row "kernel squashfs" $kind $out
	fi
done
