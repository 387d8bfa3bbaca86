#!/bin/sh
# Host directories in a container: one read-write, one read-only, and a
# destination that the image lacks: krill makes the mount point in a tmpfs
# of its own under the image (the "underlay"), and the image stays
# read-only; with -W it goes into a throwaway overlay instead.
#
#   KRILL=/path/to/krill IMG=/path/to/tiny.sqfs examples/run/binds.sh
#
# Expected output:
#   in: input data
#   ro: refused
#   image: Read-only file system
#   mounts: /data ro /results rw
#   host sees: result written inside
#   with -W: /results rw, /new writable
set -eu
KRILL=${KRILL:-krill}
IMG=${IMG:-$HOME/img/tiny.sqfs}

work=$(mktemp -d "${TMPDIR:-/tmp}/krill-binds.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/in" "$work/out"
echo "input data" > "$work/in/data.txt"

# /data and /results don't exist in the image: their mount points are made
# in krill's underlay, never in the image or on the host.
"$KRILL" run -b "$work/in:/data:ro" -b "$work/out:/results" "$IMG" -- sh -c '
	echo "in: $(cat /data/data.txt)"
	if touch /data/new 2>/dev/null; then echo "ro: writable?!"; else echo "ro: refused"; fi
	echo "image: $(touch /new 2>&1 | sed "s/.*: //")"
	echo "result written inside" > /results/result.txt
	echo "mounts: $(awk "\$2 == \"/data\" || \$2 == \"/results\" { split(\$4, o, \",\"); printf \"%s %s \", \$2, o[1] }" /proc/self/mounts)"
' | sed 's/ *$//'
echo "host sees: $(cat "$work/out/result.txt")"

# With -W, the whole image is writable, in a tmpfs overlay that vanishes.
"$KRILL" run -W -b "$work/out:/results" "$IMG" -- sh -c '
	touch /new && echo "with -W: /results $(awk "\$2 == \"/results\" { split(\$4, o, \",\"); print o[1] }" /proc/self/mounts), /new writable"'
