#!/bin/sh
# Install the Debian packages that building, testing and benchmarking need.
# As root this runs apt-get; otherwise it prints the one line to run.
# KRILL_DEPS=build limits the set to what `make` alone needs.
set -eu

build="gcc make pkg-config libsquashfuse-dev libfuse3-dev fuse3 libseccomp-dev
       libinih-dev libjansson-dev libcmocka-dev clang libclang-rt-14-dev
       zlib1g-dev liblzma-dev liblzo2-dev liblz4-dev libzstd-dev libslurm-dev
       libcurl4-openssl-dev libarchive-dev libssl-dev"
test="bats busybox-static squashfs-tools attr tmux util-linux iproute2 procps psmisc time bc python3
      debootstrap slurm-wlm munge openmpi-bin libopenmpi-dev man-db
      docker-registry skopeo umoci apache2-utils openssl
      podman runc uidmap slirp4netns fuse-overlayfs jq strace"
bench="hyperfine bubblewrap charliecloud-runtime squashfuse runc"

case "${KRILL_DEPS:-all}" in
	build) want="$build" ;;
	*) want="$build $test $bench" ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' \
		|| missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
		apt-get update -q >/dev/null 2>&1
		apt-get install -y -q --no-install-recommends $missing
	}
else
	echo "deps: missing packages:$missing"
	echo "deps: run: sudo apt-get install -y$missing"
	exit 1
fi
