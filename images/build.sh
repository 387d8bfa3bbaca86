#!/bin/sh
# Build krill's test and demo images into images/build/.
#
#   images/build.sh NAME...      NAME is tiny or debian-mpi
#   images/build.sh --force NAME...   rebuild even when the inputs are unchanged
#
# tiny        images/build/tiny/ and tiny.sqfs: a busybox-static root with
#             applet links, /etc/passwd+group (root, nobody), /etc/os-release
#             ("krill tiny"), placeholder /etc/hosts and /etc/resolv.conf (so
#             the optional binds apply), /.krill/environment, and /bin/not-exec
#             (mode 0644, for the exit-126 test).  Takes about a second.
# debian-mpi  images/build/debian-mpi/ and debian-mpi.sqfs: debootstrap of
#             Debian 12 (minbase) from the mirror named in this machine's apt
#             sources, plus Open MPI's runtime, plus /opt/ring (examples/mpi/
#             ring.c compiled on the host with mpicc: host and image are both
#             Debian 12 with Open MPI 4.1, so no compiler goes into the image).
#             Needs root.  debootstrap takes a few minutes the first time; the
#             log is images/build/debian-mpi.log.
#
# Every image is rebuilt only when its inputs changed: a stamp file
# images/build/NAME.stamp holds a hash of them.  For debian-mpi the debootstrap
# part has its own stamp (debian-mpi.base.stamp), so a change to ring.c only
# recompiles and re-squashes.  Concurrent calls serialize on a lock.
#
# Environment: KRILL_MIRROR=URL overrides the Debian mirror;
#              KRILL_IMAGES_OUT=DIR overrides images/build.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${KRILL_IMAGES_OUT:-$top/images/build}
force=0

die() {
	echo "images: error: $*" >&2
	exit 1
}
log() {
	echo "images: $*"
}

hash_of() { # TEXT on stdin -> short hash
	sha256sum | cut -c1-32
}

stamp_ok() { # NAME HASH [FILE...]: is the stamp current and every FILE present?
	_n=$1 _h=$2
	shift 2
	[ "$force" = 0 ] || return 1
	[ -f "$out/$_n.stamp" ] && [ "$(cat "$out/$_n.stamp")" = "$_h" ] || return 1
	for _f in "$@"; do
		[ -e "$_f" ] || return 1
	done
	return 0
}

squash() { # DIR FILE: make FILE from DIR atomically
	rm -f "$2.new"
	mksquashfs "$1" "$2.new" -noappend -all-root -no-progress -quiet >/dev/null \
		|| die "mksquashfs $1 failed"
	chmod 0644 "$2.new"
	mv -f "$2.new" "$2"
}

# ---------------------------------------------------------------- tiny
build_tiny() {
	bb=$(command -v busybox 2>/dev/null || true)
	[ -f /bin/busybox ] && bb=/bin/busybox
	[ -n "$bb" ] || die "busybox not found (hint: apt-get install busybox-static)"
	# Only a static busybox runs inside an image with no libc.
	if ! file_is_static "$bb"; then
		die "$bb is not statically linked (hint: apt-get install busybox-static)"
	fi
	h=$( { sed -n '/^build_tiny()/,/^}/p' "$0"; sha256sum "$bb"; } | hash_of)
	if stamp_ok tiny "$h" "$out/tiny/bin/busybox" "$out/tiny.sqfs"; then
		log "tiny is up to date"
		return 0
	fi
	log "building tiny from $bb"
	t=$out/tiny.new
	rm -rf "$t"
	mkdir -p "$t"
	(
		cd "$t"
		mkdir -p bin sbin usr/bin usr/sbin etc dev proc sys tmp home root mnt \
			opt run var/tmp .krill
		chmod 1777 tmp var/tmp
		chmod 0755 root # HOME may be /root for a non-root container user
		cp "$bb" bin/busybox
		chmod 0755 bin/busybox
		for a in $("$bb" --list); do
			case "$a" in busybox | '[[') ;; *) ln -s busybox "bin/$a" ;; esac
		done
		ln -s busybox 'bin/[['
		ln -s ../../bin/busybox usr/bin/env # for "#!/usr/bin/env sh" scripts
		printf '#!/bin/sh\necho this file is not executable\n' > bin/not-exec
		chmod 0644 bin/not-exec
		cat > etc/passwd <<-'EOF'
			root:x:0:0:root:/root:/bin/sh
			nobody:x:65534:65534:nobody:/nonexistent:/bin/false
		EOF
		cat > etc/group <<-'EOF'
			root:x:0:
			nogroup:x:65534:
		EOF
		cat > etc/os-release <<-'EOF'
			NAME="krill tiny"
			PRETTY_NAME="krill tiny (busybox)"
			ID=krill-tiny
			VERSION_ID=1
		EOF
		# Placeholders: krill binds the host's files over these.
		printf '127.0.0.1 localhost\n' > etc/hosts
		: > etc/resolv.conf
		printf 'tiny\n' > etc/hostname
		cat > .krill/environment <<-'EOF'
			# Environment of the tiny image, in krill's --set-env syntax.
			KRILL_IMAGE=tiny
		EOF
	)
	rm -rf "$out/tiny"
	mv "$t" "$out/tiny"
	squash "$out/tiny" "$out/tiny.sqfs"
	echo "$h" > "$out/tiny.stamp"
	log "tiny: $out/tiny ($(du -sh "$out/tiny" | cut -f1)), $out/tiny.sqfs ($(du -h "$out/tiny.sqfs" | cut -f1))"
}

file_is_static() { # FILE: no PT_INTERP program header (ELF64 little-endian)
	# The ELF header's e_phoff/e_phnum locate the program headers; PT_INTERP
	# is type 3.  Done with od so that `file` is not a dependency.
	_f=$1
	[ "$(od -An -c -N4 "$_f" | tr -d ' ')" = '177ELF' ] || return 1
	_phoff=$(od -An -tu8 -j32 -N8 "$_f" | tr -d ' ')
	_phsz=$(od -An -tu2 -j54 -N2 "$_f" | tr -d ' ')
	_phnum=$(od -An -tu2 -j56 -N2 "$_f" | tr -d ' ')
	_i=0
	while [ "$_i" -lt "$_phnum" ]; do
		_ty=$(od -An -tu4 -j$((_phoff + _i * _phsz)) -N4 "$_f" | tr -d ' ')
		[ "$_ty" = 3 ] && return 1
		_i=$((_i + 1))
	done
	return 0
}

# ---------------------------------------------------------------- debian-mpi
SUITE=bookworm
# Open MPI's runtime only: ring is compiled on the host.  Bump BASE_REV to
# force a new debootstrap when the recipe changes.
PACKAGES=openmpi-bin,libopenmpi3
BASE_REV=1

debian_mirror() { # print the Debian mirror for $SUITE from the apt sources
	if [ -n "${KRILL_MIRROR:-}" ]; then
		echo "$KRILL_MIRROR"
		return
	fi
	# deb822 .sources files: a stanza with Types: deb, Suites containing $SUITE.
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$SUITE" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "" && enabled != "no") {
					split(uris, u, " "); print u[1]; found = 1; exit
				}
				types = suites = uris = enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			tolower($1) == "types:"   { $1 = ""; types = $0 }
			tolower($1) == "uris:"    { $1 = ""; sub(/^ +/, ""); uris = $0 }
			tolower($1) == "suites:"  { $1 = ""; sub(/^ +/, ""); suites = $0 }
			tolower($1) == "enabled:" { enabled = tolower($2) }
			END { if (!found) flush() }
		' "$f"
	done | head -n1 | grep . && return
	# One-line format: deb [opts] URI SUITE COMPONENTS...
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -e 's/\[[^]]*\]//' "$f" | awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }'
	done | head -n1 | grep . && return
	return 1
}

build_debian_mpi() {
	[ "$(id -u)" = 0 ] || die "debian-mpi needs root (debootstrap); run: sudo images/build.sh debian-mpi"
	command -v debootstrap >/dev/null || die "debootstrap not found (hint: apt-get install debootstrap)"
	command -v mpicc >/dev/null || die "mpicc not found (hint: apt-get install libopenmpi-dev)"
	src=$top/examples/mpi/ring.c
	[ -f "$src" ] || die "$src is missing"
	img=$out/debian-mpi

	# 1. The Debian base with Open MPI, from debootstrap (minutes; cached).
	bh=$(echo "$SUITE $PACKAGES $BASE_REV $(dpkg --print-architecture)" | hash_of)
	if stamp_ok debian-mpi.base "$bh" "$img/usr/bin/orted"; then
		log "debian-mpi: base is up to date"
	else
		mirror=$(debian_mirror) \
			|| die "no Debian $SUITE mirror in /etc/apt/sources.list{,.d/*.sources,.d/*.list} (hint: set KRILL_MIRROR=http://deb.debian.org/debian)"
		log "debian-mpi: checking mirror $mirror"
		if ! wget -q -T 15 -t 2 -O /dev/null "$mirror/dists/$SUITE/Release"; then
			die "mirror $mirror is unreachable ($mirror/dists/$SUITE/Release); set KRILL_MIRROR to a reachable Debian mirror"
		fi
		log "debian-mpi: debootstrap $SUITE from $mirror (a few minutes; log: $out/debian-mpi.log)"
		rm -rf "$img.new" "$out/debian-mpi.base.stamp"
		start=$(date +%s)
		# Show debootstrap's own progress lines, keep everything in the log.
		rc=0
		{ debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$img.new" "$mirror" 2>&1 || echo "debootstrap-exit $?"; } \
			| tee "$out/debian-mpi.log" | grep --line-buffered -E '^(I: (Retrieving|Validating|Checking|Extracting|Installing|Configuring|Base system)|E:|W:|debootstrap-exit)' \
			| grep --line-buffered -vE '^I: (Retrieving|Validating|Extracting|Configuring) [a-z]' || true
		if grep -q '^debootstrap-exit' "$out/debian-mpi.log" || [ ! -x "$img.new/usr/bin/orted" ]; then
			echo "images: debootstrap failed; last lines of $out/debian-mpi.log:" >&2
			tail -n 15 "$out/debian-mpi.log" >&2
			[ -f "$img.new/debootstrap/debootstrap.log" ] && tail -n 15 "$img.new/debootstrap/debootstrap.log" >&2
			rm -rf "$img.new"
			die "debootstrap of debian-mpi failed"
		fi
		# Trim what a container never needs.
		rm -rf "$img.new"/var/cache/apt/archives/*.deb "$img.new"/var/lib/apt/lists/* \
			"$img.new"/usr/share/doc/* "$img.new"/usr/share/man/* "$img.new"/usr/share/info/*
		# Mount points for krill's optional binds.
		mkdir -p "$img.new/var/spool/slurmd" "$img.new/opt" "$img.new/.krill"
		[ -e "$img.new/etc/hosts" ] || printf '127.0.0.1 localhost\n' > "$img.new/etc/hosts"
		[ -e "$img.new/etc/resolv.conf" ] || : > "$img.new/etc/resolv.conf"
		cat > "$img.new/.krill/environment" <<-'EOF'
			# Environment of the debian-mpi image, in krill's --set-env syntax.
			KRILL_IMAGE=debian-mpi
		EOF
		rm -rf "$img"
		mv "$img.new" "$img"
		echo "$bh" > "$out/debian-mpi.base.stamp"
		rm -f "$out/debian-mpi.stamp"
		log "debian-mpi: base built in $(($(date +%s) - start)) s"
	fi

	# 2. /opt/ring and the SquashFS file.
	h=$( { echo "$bh"; cat "$src"; mpicc --showme; sed -n '/^build_debian_mpi()/,/^}/p' "$0"; } | hash_of)
	if stamp_ok debian-mpi "$h" "$img/opt/ring" "$out/debian-mpi.sqfs"; then
		log "debian-mpi is up to date"
		return 0
	fi
	log "debian-mpi: compiling ring with the host's mpicc"
	mpicc -O2 -Wall -o "$img/opt/ring" "$src" || die "mpicc $src failed"
	chmod 0755 "$img/opt/ring"
	log "debian-mpi: making debian-mpi.sqfs"
	squash "$img" "$out/debian-mpi.sqfs"
	echo "$h" > "$out/debian-mpi.stamp"
	log "debian-mpi: $img ($(du -sh "$img" | cut -f1)), $out/debian-mpi.sqfs ($(du -h "$out/debian-mpi.sqfs" | cut -f1))"
}

# ---------------------------------------------------------------- main
[ $# -gt 0 ] || die "usage: images/build.sh [--force] tiny|debian-mpi..."
command -v mksquashfs >/dev/null || die "mksquashfs not found (hint: apt-get install squashfs-tools)"
mkdir -p "$out"
# One build at a time; a second caller waits and then finds the stamp current.
exec 9>"$out/.lock"
flock 9
for name in "$@"; do
	case "$name" in
	--force) force=1 ;;
	tiny) build_tiny ;;
	debian-mpi) build_debian_mpi ;;
	*) die "unknown image '$name' (known: tiny, debian-mpi)" ;;
	esac
done
