#!/bin/sh
# The container's environment: an env file (examples/run/app.env: quotes,
# $PATH expansion, comments), one --set-env assignment, and --unset-env
# with a glob that removes host variables.
#
#   KRILL=/path/to/krill IMG=/path/to/tiny.sqfs examples/run/env.sh
#
# Expected output (the script starts krill with PATH=/usr/bin:/bin and two
# APP_SECRET_* variables, which --unset-env removes):
#   APP_GREETING=hello $USER
#   APP_LIBS=/opt/app/lib:/usr/lib
#   APP_MODE=test
#   APP_NAME=demo app
#   APP_NOTE=x # not a comment
#   KRILL_RUNNING=1
#   PATH=/opt/app/bin:/usr/bin:/bin
# and then krill's error for a bad line, with status 125:
#   krill: error: $WORK/bad.env:2: invalid character ' ' in variable name
#   status 125
set -eu
KRILL=${KRILL:-krill}
IMG=${IMG:-$HOME/img/tiny.sqfs}
ENV_FILE=${ENV_FILE:-$(dirname "$0")/app.env}

env PATH=/usr/bin:/bin APP_SECRET_TOKEN=abc APP_SECRET_KEY=def \
	"$KRILL" run --set-env="$ENV_FILE" --set-env=APP_MODE=test --unset-env='APP_SECRET_*' \
	"$IMG" -- sh -c 'env | grep -E "^(APP_|PATH=|KRILL_RUNNING=)" | sort'

work=$(mktemp -d "${TMPDIR:-/tmp}/krill-env.XXXXXX")
trap 'rm -rf "$work"' EXIT
printf 'GOOD=1\nBAD NAME=2\n' > "$work/bad.env"
status=0
"$KRILL" run --set-env="$work/bad.env" "$IMG" -- true 2> "$work/err" || status=$?
sed "s|$work|\$WORK|" "$work/err"
echo "status $status"
