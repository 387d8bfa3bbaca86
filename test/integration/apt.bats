#!/usr/bin/env bats
# Package installs inside an image (issue 10 item 9): a real apt-get
# install into a writable copy of the debian-mpi image with -w --seccomp
# -u 0, as the unprivileged test user, from the mirror this machine's apt
# sources name.  It needs the image's own users and groups (the merged
# /etc/passwd and /etc/group: openssh-client's postinst looks up _ssh) and
# apt's download sandbox turned off (the fake-root filter can't switch to
# _apt).
load helper
bats_require_minimum_version 1.5.0

MPI_SQFS=$IMAGES/debian-mpi.sqfs

# The first mirror URI of this machine's apt sources (deb822 or one-line).
host_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk '$1 == "URIs:" { print $2; exit }' "$f"
	done | head -n1 | grep . && return 0
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' |
		head -n1 | grep .
}

setup() {
	[ -r "$MPI_SQFS" ] || skip "skipped: no debian-mpi image (images/build.sh debian-mpi needs root and a Debian mirror)"
	command -v unsquashfs >/dev/null || skip "skipped: unsquashfs (squashfs-tools) is not installed"
	command -v curl >/dev/null || skip "skipped: curl is not installed"
	MIRROR=$(host_mirror) || skip "skipped: this machine's apt sources name no mirror"
	setup_scratch
	unsquashfs -q -d "$SCRATCH/img" "$MPI_SQFS" >/dev/null 2>&1 || true
	[ -x "$SCRATCH/img/usr/bin/apt-get" ] || skip "skipped: unsquashfs failed"
	SUITE=$(. "$SCRATCH/img/etc/os-release" && echo "$VERSION_CODENAME")
	curl -sfI --max-time 15 "$MIRROR/dists/$SUITE/Release" >/dev/null ||
		skip "skipped: the mirror $MIRROR (from this machine's apt sources) is unreachable"
	echo "deb $MIRROR $SUITE main" >"$SCRATCH/img/etc/apt/sources.list"
	rm -f "$SCRATCH/img/etc/apt/sources.list.d/"*
}
teardown() {
	teardown_scratch
	assert_no_leftovers
}

@test "apt: apt-get install in a -w image with --seccomp -u 0, as an ordinary user" {
	[ ! -e "$SCRATCH/img/etc/apt/apt.conf.d/no-sandbox" ]
	run "$KRILL" run -w --seccomp -u 0 "$SCRATCH/img" -- sh -c '
		apt-get -q update >/dev/null || exit 10
		apt-get install -y -q --no-install-recommends hello >/dev/null || exit 11
		apt-get install -y -q --reinstall openssh-client >/dev/null || exit 12
		hello; getent group _ssh staff | cut -d: -f1'
	assert_status 0
	assert_line "krill: --seccomp: apt's _apt sandbox can't work under the fake-root filter: turned off with /etc/apt/apt.conf.d/no-sandbox (APT::Sandbox::User \"root\"), which stays in the image"
	assert_line "Hello, world!"
	assert_line "_ssh"
	assert_line "staff"
	# The package is in the image, and so is the snippet (as ch-image writes it).
	[ -x "$SCRATCH/img/usr/bin/hello" ] || fail "hello isn't in the image"
	grep -qx 'APT::Sandbox::User "root";' "$SCRATCH/img/etc/apt/apt.conf.d/no-sandbox"
	# Next time the snippet is there: no note.
	run "$KRILL" run -w --seccomp -u 0 "$SCRATCH/img" -- hello
	assert_status 0
	assert_output "Hello, world!"
	# With -W nothing reaches the image, the snippet included.
	rm "$SCRATCH/img/etc/apt/apt.conf.d/no-sandbox"
	run "$KRILL" run -W --seccomp -u 0 "$SCRATCH/img" -- sh -c \
		'apt-get install -y -q --no-install-recommends sl >/dev/null && ls /usr/games/sl'
	assert_status 0
	assert_line "krill: --seccomp: apt's _apt sandbox can't work under the fake-root filter: turned off with /etc/apt/apt.conf.d/no-sandbox (APT::Sandbox::User \"root\") in the -W layer"
	assert_line "/usr/games/sl"
	[ ! -e "$SCRATCH/img/usr/games/sl" ] && [ ! -e "$SCRATCH/img/etc/apt/apt.conf.d/no-sandbox" ]
}
