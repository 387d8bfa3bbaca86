#!/bin/sh
# make-bundle.sh ROOTFS BUNDLE [CMD...]: an OCI bundle for krill-oci from a
# root filesystem directory (e.g. images/build/tiny).  Without root the
# bundle is rootless (krill-oci spec --rootless).  CMD defaults to a greeting.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 ROOTFS BUNDLE [CMD...]" >&2; exit 2; }
rootfs=$1 bundle=$2
shift 2
KRILL_OCI=${KRILL_OCI:-krill-oci}
mkdir -p "$bundle/rootfs"
cp -a "$rootfs/." "$bundle/rootfs/"
rm -f "$bundle/config.json"
if [ "$(id -u)" = 0 ]; then "$KRILL_OCI" spec --bundle "$bundle"
else "$KRILL_OCI" spec --rootless --bundle "$bundle"; fi
[ $# -gt 0 ] || set -- sh -c 'echo "hello from $(hostname), uid $(id -u)"'
args=$(for a in "$@"; do printf '%s' "$a" | jq -Rs .; done | jq -cs .)
jq --argjson a "$args" '.process.args = $a | .process.terminal = false | .root.readonly = false' \
	"$bundle/config.json" > "$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
echo "$bundle: ready; run it with: $KRILL_OCI run --bundle $bundle NAME"
