#!/bin/sh
# Import an image once, run it from the storage directory, and see that a
# second import of the same digest costs nothing.
#
#   SRC=docker://debian:bookworm sh pull-and-run.sh
#
# SRC is any krill import SOURCE (docker://, oci:DIR:REF, oci-archive:,
# docker-archive:, podman://, dockerd://, tar:, dir:).  STORE is where the
# .sqfs goes (default: krill's storage directory).  Blobs are cached in
# $XDG_CACHE_HOME/krill (or ~/.cache/krill).
set -eu
KRILL=${KRILL:-krill}
SRC=${SRC:-docker://debian:bookworm}
STORE=${STORE:-/var/tmp/$(id -un).krill}

# 1. Fetch (verified, cached) and squash: STORE/NAME+TAG.sqfs
$KRILL import -q -s "$STORE" "$SRC"
# 2. Run it as the image would run: its Env, Entrypoint+Cmd, WorkingDir.
$KRILL run -s "$STORE" "$SRC" -- sh -c 'echo "cwd: $(pwd)"; head -1 /etc/os-release'
# 3. The same digest again: no download, no squash.
$KRILL import -s "$STORE" "$SRC" 2>&1 | sed 's/ (sha256:.*//; s|'"$STORE"'|$STORE|'
# 4. What the cache holds.
$KRILL cache | sed -n 's/^\(images\): .*/\1: listed/p'
