#!/bin/sh
# Host directories in a container: one read-write, one read-only, and a
# destination that the image lacks, created in a throwaway overlay (-W).
#
#   KRILL=/path/to/krill IMG=/path/to/tiny.sqfs examples/run/binds.sh
#
# Expected output:
#   without -W: krill: error: --bind=$WORK/out:/results: destination /results doesn't exist in the image
#   in: input data
#   ro: refused
#   mounts: /data ro /results rw
#   host sees: result written inside
# The first line is krill's error (status 125) for a missing destination in
# a read-only image; the rest comes from the run with -W.
set -eu
KRILL=${KRILL:-krill}
IMG=${IMG:-$HOME/img/tiny.sqfs}

work=$(mktemp -d "${TMPDIR:-/tmp}/krill-binds.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/in" "$work/out"
echo "input data" > "$work/in/data.txt"

# /results doesn't exist in the image, and the image is read-only: an error.
if err=$("$KRILL" run -b "$work/out:/results" "$IMG" -- true 2>&1); then
	echo "unexpected: the bind worked without -W" >&2
	exit 1
fi
echo "without -W: $(echo "$err" | head -1 | sed "s|$work|\$WORK|")"

# With -W, krill creates /results in the overlay (never on the host).
"$KRILL" run -W -b "$work/in:/data:ro" -b "$work/out:/results" "$IMG" -- sh -c '
	echo "in: $(cat /data/data.txt)"
	if touch /data/new 2>/dev/null; then echo "ro: writable?!"; else echo "ro: refused"; fi
	echo "result written inside" > /results/result.txt
	echo "mounts: $(awk "\$2 == \"/data\" || \$2 == \"/results\" { split(\$4, o, \",\"); printf \"%s %s \", \$2, o[1] }" /proc/self/mounts)"
' | sed 's/ *$//'
echo "host sees: $(cat "$work/out/result.txt")"
