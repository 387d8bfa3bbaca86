#!/bin/sh
# `make demo`: run the tiny SquashFS image as an unprivileged user and show
# what the container sees: /etc/os-release, id, and its mount table.
#
# `make demo` has already built ./krill and images/build/tiny.sqfs.  When the
# caller is root, the demo runs as the test user (KRILL_TEST_USER, default
# krilltest, created if missing) and /dev/fuse is made 0666 as udev does on a
# normal host.  Because that user may not be able to reach the checkout (e.g.
# under /root), krill and tiny.sqfs are copied into a world-readable
# temporary directory first, which is removed afterwards.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
krill=$top/krill
image=$top/images/build/tiny.sqfs

die() {
	echo "demo: error: $*" >&2
	exit 1
}

[ -x "$krill" ] || die "$krill is missing (run: make)"
[ -f "$image" ] || die "$image is missing (run: make images)"

stage=$(mktemp -d /tmp/krill-demo.XXXXXX)
trap 'rm -rf "$stage"' EXIT INT TERM
chmod 0755 "$stage"
cp "$krill" "$stage/krill"
cp "$image" "$stage/tiny.sqfs"
chmod 0755 "$stage/krill"
chmod 0644 "$stage/tiny.sqfs"

if [ "$(id -u)" = 0 ]; then
	user=${KRILL_TEST_USER:-krilltest}
	if ! id "$user" >/dev/null 2>&1; then
		echo "demo: creating the unprivileged user $user"
		useradd -m -s /bin/bash "$user" || die "can't create user $user"
	fi
	[ -c /dev/fuse ] && chmod 0666 /dev/fuse
	home=$(getent passwd "$user" | cut -d: -f6)
	as_user() {
		runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" \
			PATH=/usr/local/bin:/usr/bin:/bin TERM="${TERM:-dumb}" "$@"
	}
else
	user=$(id -un)
	as_user() {
		"$@"
	}
fi

echo "== krill run $stage/tiny.sqfs, as user $user (uid $(id -u "$user"))"
echo
rc=0
as_user "$stage/krill" run "$stage/tiny.sqfs" -- sh -c '
	echo "-- /etc/os-release"; cat /etc/os-release; echo
	echo "-- id"; id; echo
	echo "-- mount"; mount' || rc=$?
echo
if [ "$rc" = 0 ]; then
	echo "== the container exited with status 0"
else
	echo "== krill exited with status $rc" >&2
	echo "demo: hint: \`$krill check\` tells what this host allows" >&2
fi
exit "$rc"
