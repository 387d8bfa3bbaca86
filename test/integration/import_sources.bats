#!/usr/bin/env bats
# krill import from local sources (issue 14): OCI layouts and archives,
# docker-archive (made by skopeo), rootfs tarballs and directories, local
# engines; hostile layers; and krill run's hints for images that need an
# import first.
load helper
load import_helper
bats_require_minimum_version 1.5.0

setup_file() {
	import_tools_or_skip
	L=$BATS_FILE_TMPDIR/layouts
	mkdir -p "$L"
	make_tiny_layout "$L/tiny"
	echo '{}' >"$BATS_FILE_TMPDIR/auth.json"
	export REGISTRY_AUTH_FILE=$BATS_FILE_TMPDIR/auth.json
	skopeo copy -q "oci:$L/tiny:t" "oci-archive:$L/tiny-oci.tar"
	skopeo copy -q "oci:$L/tiny:t" "docker-archive:$L/tiny-docker.tar:test/tiny:1"
	tar -C "$TINY" -czf "$L/rootfs.tar.gz" .
}

setup() {
	import_tools_or_skip
	setup_scratch
	L=$BATS_FILE_TMPDIR/layouts
	C=$SCRATCH/cache
}
teardown() {
	teardown_scratch
	assert_no_import_leftovers
}

# The image's files and metadata, as krill run shows them.
check_tiny() { # IMAGE [with-metadata]
	run "$KRILL" run "$1" -- cat /etc/os-release
	assert_status 0
	assert_contains 'PRETTY_NAME="krill tiny (busybox)"'
	if [ -n "${2:-}" ]; then
		run "$KRILL" run "$1"
		assert_output from-image
		run "$KRILL" run "$1" -- sh -c 'echo $GREETING; pwd'
		assert_output "hello
/srv"
	fi
}

@test "import sources: oci:DIR:REF, oci-archive:, docker-archive:" {
	"$KRILL" import -q --cache "$C" "oci:$L/tiny:t" "$SCRATCH/a.sqfs"
	check_tiny "$SCRATCH/a.sqfs" meta
	"$KRILL" import -q --cache "$C" "oci-archive:$L/tiny-oci.tar" "$SCRATCH/b.sqfs"
	check_tiny "$SCRATCH/b.sqfs" meta
	"$KRILL" import -q --cache "$C" "docker-archive:$L/tiny-docker.tar" "$SCRATCH/c.sqfs"
	check_tiny "$SCRATCH/c.sqfs" meta
	# the same image three ways: the same files
	[ "$(unsquashfs -lln "$SCRATCH/a.sqfs" | awk '{print $1, $2, $3, $6}' | md5sum)" = \
	  "$(unsquashfs -lln "$SCRATCH/c.sqfs" | awk '{print $1, $2, $3, $6}' | md5sum)" ]
	[ -z "$(ls -A "$C/tmp")" ] || fail "cache tmp: $(ls -A "$C/tmp")"
	run "$KRILL" import -q --cache "$C" "oci:$L/tiny:nope" "$SCRATCH/d.sqfs"
	assert_status 125
	assert_output "krill: error: $L/tiny/index.json: no image named 'nope'
krill: hint: the names are: t; write oci:DIR:NAME"
}

@test "import sources: tar:FILE and dir:DIR; --dir writes a tree" {
	"$KRILL" import -q --cache "$C" "tar:$L/rootfs.tar.gz" "$SCRATCH/t.sqfs"
	check_tiny "$SCRATCH/t.sqfs"
	"$KRILL" import -q --cache "$C" "dir:$TINY" "$SCRATCH/d.sqfs"
	check_tiny "$SCRATCH/d.sqfs"
	"$KRILL" import -q --cache "$C" --dir "oci:$L/tiny:t" "$SCRATCH/tree"
	check_tiny "$SCRATCH/tree" meta
	# a second --dir import replaces the tree
	echo stale >"$SCRATCH/tree/stale"
	"$KRILL" import -q --cache "$C" --dir "tar:$L/rootfs.tar.gz" "$SCRATCH/tree"
	[ ! -e "$SCRATCH/tree/stale" ]
	[ -z "$(ls -A "$SCRATCH" | grep krill-)" ]
}

@test "import sources: a corrupt layer in a layout is an error naming its digest" {
	cp -a "$L/tiny" "$SCRATCH/bad"
	chmod -R u+w "$SCRATCH/bad"
	big=$(ls -S "$SCRATCH/bad/blobs/sha256" | head -1)
	printf 'XXXX' | dd of="$SCRATCH/bad/blobs/sha256/$big" bs=1 seek=200 conv=notrunc 2>/dev/null
	run "$KRILL" import -q --cache "$C" "oci:$SCRATCH/bad:t" "$SCRATCH/x.sqfs"
	assert_status 125
	[[ "$output" == "krill: error: layer 1/1 (sha256:${big:0:12}): "* ]] || fail "got: $output"
	[ ! -e "$SCRATCH/x.sqfs" ]
	[ -z "$(ls -A "$C/tmp")" ]
}

@test "import sources: a layer with ../ or a write through a symlink is refused; nothing escapes" {
	python3 "$MKOCI" dotdot "$SCRATCH/dotdot"
	run "$KRILL" import -q --cache "$C" "oci:$SCRATCH/dotdot:t" "$SCRATCH/x.sqfs"
	assert_status 125
	[[ "$output" == "krill: error: layer 1/1 (sha256:"*"): '../../etc/x': '..' in the name" ]] ||
		fail "got: $output"
	mkdir "$SCRATCH/outside"
	OUTSIDE=$SCRATCH/outside python3 "$MKOCI" symlink "$SCRATCH/sym"
	run "$KRILL" import -q --cache "$C" "oci:$SCRATCH/sym:t" "$SCRATCH/y.sqfs"
	assert_status 125
	[[ "$output" == "krill: error: layer 2/2 (sha256:"*"): /evil/x: refusing to write through the symlink /evil" ]] ||
		fail "got: $output"
	[ -z "$(ls -A "$SCRATCH/outside")" ]
	[ ! -e "$SCRATCH/x.sqfs" ] && [ ! -e "$SCRATCH/y.sqfs" ]
	[ -z "$(ls -A "$C/tmp")" ]
}

@test "import sources: podman:// and dockerd:// go through the engine's CLI, or say it is missing" {
	for src in podman dockerd; do
		prog=$src
		[ "$src" = dockerd ] && prog=docker
		run "$KRILL" import -q --cache "$C" "$src://localhost/krill-no-such-image" "$SCRATCH/x.sqfs"
		assert_status 125
		if command -v "$prog" >/dev/null; then
			[[ "${lines[0]}" == "krill: error: $src://localhost/krill-no-such-image: \`$prog save\` failed: "* ]] ||
				fail "got: $output"
		else
			assert_line "krill: error: $src://localhost/krill-no-such-image: $prog is not installed (not found in PATH)"
		fi
		[ ! -e "$SCRATCH/x.sqfs" ]
		[ -z "$(ls -A "$C/tmp")" ]
	done
}

@test "import sources: krill run on an OCI layout or an archive names the import command" {
	run "$KRILL" run "$L/tiny" -- true
	assert_status 125
	assert_output "krill: error: $L/tiny: is an OCI image layout, not a root filesystem
krill: hint: import it first: krill import oci:$L/tiny IMAGE.sqfs"
	run "$KRILL" run "$L/tiny-docker.tar" -- true
	assert_status 125
	assert_line "krill: error: $L/tiny-docker.tar: is a tar archive, not an image krill runs directly"
	run "$KRILL" run "$L/rootfs.tar.gz" -- true
	assert_status 125
	assert_line "krill: error: $L/rootfs.tar.gz: is gzip-compressed (a tarball?), not an image krill runs directly"
	# and krill run SOURCE imports it
	run "$KRILL" run -s "$SCRATCH/store" "oci:$L/tiny:t"
	assert_status 0
	assert_line from-image
	[ -e "$SCRATCH/store/tiny+t.sqfs" ]
}
