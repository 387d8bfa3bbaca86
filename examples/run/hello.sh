#!/bin/sh
# Run a SquashFS image as an ordinary user and show who and where we are.
#
#   KRILL=/path/to/krill IMG=/path/to/tiny.sqfs examples/run/hello.sh
#
# Expected output with the tiny image (images/build.sh tiny), run by a user
# with uid 1001:
#   NAME="krill tiny"
#   PRETTY_NAME="krill tiny (busybox)"
#   ID=krill-tiny
#   VERSION_ID=1
#   uid=1001(krilltest) gid=1001(krilltest) groups=1001(krilltest)
#   KRILL_RUNNING=1
# The names in `id` come from the synthesized /etc/passwd and /etc/group,
# which krill builds from the host's user database.
set -eu
KRILL=${KRILL:-krill}
IMG=${IMG:-$HOME/img/tiny.sqfs}

"$KRILL" run "$IMG" -- sh -c 'cat /etc/os-release; id; echo "KRILL_RUNNING=$KRILL_RUNNING"'
