#!/bin/bash
# make packages-check: build the Debian package (dpkg-buildpackage) and the
# RPM (rpmbuild --nodeps, from Debian's rpm package) from a copy of this
# tree, unpack each into a temporary root (dpkg -x, rpm2cpio: never onto
# this host), check that they ship what they must, and run the packaged
# krill.  Prints TAP; exits non-zero if a check failed.
#
# Not part of `make check`: the two builds take about two minutes on a
# 2-core machine (each compiles krill and its unit tests again).
#
# IMG: an image for the packaged krill to run (default images/build/tiny).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
version=$(cat "$top/VERSION")
img=${IMG:-$top/images/build/tiny}
work=$(mktemp -d /tmp/krill-pkg.XXXXXX)
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { # TEST WHY [LOG]
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $1"
	echo "# $2"
	[ -n "${3:-}" ] && [ -r "$3" ] && tail -n 30 "$3" | sed 's/^/# /'
	return 0
}
skip() { n=$((n + 1)); echo "ok $n $1 # skip skipped: $2"; }

# The source: the files git tracks, as they are in the working tree.
src=$work/krill-$version
mkdir "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -xf - -C "$src"
else
	tar -C "$top" --exclude=./build --exclude=./images/build --exclude=./krill \
		--exclude=./krill-oci -cf - . | tar -xf - -C "$src"
fi
tar -C "$work" -czf "$work/krill-$version.tar.gz" "krill-$version"

# check_root NAME ROOT DOCDIR: the files a package must install, then the
# packaged binary itself.
check_root() {
	local name=$1 root=$2 doc=$3 missing="" f
	# Man pages and docs may be compressed (Debian's dh) or not (Debian's rpm).
	for f in usr/bin/krill usr/bin/krill-oci usr/share/man/man1/krill.1 \
		usr/share/man/man1/krill-run.1 usr/share/man/man1/krill-oci.1 \
		usr/share/man/man5/krill.conf.5 "$doc/README.md" "$doc/examples/site/krill.conf" \
		"$doc/examples/run/hello.sh" "$doc/examples/join/peers.sh" \
		"$doc/examples/slurm/join4.sh" "$doc/examples/mpi/ring.c" \
		"$doc/examples/oci/make-bundle.sh" "$doc/examples/spank/plugstack.conf"; do
		[ -e "$root/$f" ] || [ -e "$root/$f.gz" ] || missing="$missing $f"
	done
	if [ -z "$missing" ]; then ok "$name ships the binary, the krill-oci link, 4 man pages and every example"
	else not_ok "$name ships the binary, the krill-oci link, 4 man pages and every example" "missing:$missing"
	fi
	local mode
	mode=$(stat -c %a "$root/usr/bin/krill" 2>/dev/null)
	if [ "$mode" = 755 ]; then ok "$name: krill is mode 0755 (no setuid or setgid bit)"
	else not_ok "$name: krill is mode 0755 (no setuid or setgid bit)" "mode: ${mode:-none}"
	fi
	local out
	out=$("$root/usr/bin/krill" version 2>&1)
	if [ "$(head -n1 <<<"$out")" = "krill $version" ]; then ok "$name: the packaged krill runs (krill version)"
	else not_ok "$name: the packaged krill runs (krill version)" "got: $out"
	fi
	out=$("$root/usr/bin/krill-oci" --version 2>&1)
	if [[ "$out" == *"$version"* ]]; then ok "$name: the packaged krill-oci link runs"
	else not_ok "$name: the packaged krill-oci link runs" "got: $out"
	fi
	if [ ! -d "$img" ]; then
		skip "$name: the packaged krill runs a container" "no image at $img"
		return
	fi
	local runner=()
	[ "$(id -u)" = 0 ] && id "${KRILL_TEST_USER:-krilltest}" >/dev/null 2>&1 &&
		runner=(runuser -u "${KRILL_TEST_USER:-krilltest}" --)
	chmod -R a+rX "$root"
	out=$(cd / && "${runner[@]}" env KRILL_CONFIG= "$root/usr/bin/krill" run "$img" -- cat /etc/os-release 2>&1)
	if grep -q '^NAME=' <<<"$out"; then ok "$name: the packaged krill runs a container${runner:+ as ${KRILL_TEST_USER:-krilltest}}"
	else not_ok "$name: the packaged krill runs a container" "got: $out"
	fi
}

# ---- Debian -------------------------------------------------------------------
if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
	skip "deb: dpkg-buildpackage builds the package" "dpkg-dev or debhelper is not installed"
else
	cp -r "$src/packaging/debian" "$src/debian"
	if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/deb.log" 2>&1 &&
		deb=$(ls "$work"/krill_"$version"-*_*.deb 2>/dev/null | head -n1) && [ -n "$deb" ]; then
		ok "deb: dpkg-buildpackage builds ${deb##*/} (unit tests included)"
		mkdir "$work/debroot"
		dpkg -x "$deb" "$work/debroot"
		check_root deb "$work/debroot" usr/share/doc/krill
	else
		not_ok "deb: dpkg-buildpackage builds the package" "dpkg-buildpackage failed" "$work/deb.log"
	fi
fi

# ---- RPM ------------------------------------------------------------------------
if ! command -v rpmbuild >/dev/null || ! command -v rpm2cpio >/dev/null || ! command -v cpio >/dev/null; then
	skip "rpm: rpmbuild builds the package" "rpm or cpio is not installed"
else
	mkdir -p "$work/rpm/SOURCES"
	cp "$work/krill-$version.tar.gz" "$work/rpm/SOURCES/"
	# --nodeps: the BuildRequires name Fedora's packages, which dpkg
	# doesn't know; the Debian -dev packages provide the same files.
	if rpmbuild --nodeps -bb --define "_topdir $work/rpm" --define "debug_package %{nil}" \
		"$src/packaging/rpm/krill.spec" >"$work/rpm.log" 2>&1 &&
		rpm=$(ls "$work"/rpm/RPMS/*/krill-"$version"-*.rpm 2>/dev/null | head -n1) && [ -n "$rpm" ]; then
		ok "rpm: rpmbuild --nodeps builds ${rpm##*/}"
		mkdir "$work/rpmroot"
		(cd "$work/rpmroot" && rpm2cpio "$rpm" | cpio -idm --quiet)
		check_root rpm "$work/rpmroot" usr/share/doc/krill
	else
		not_ok "rpm: rpmbuild --nodeps builds the package" "rpmbuild failed" "$work/rpm.log"
	fi
fi

echo "1..$n"
[ "$failed" = 0 ]
