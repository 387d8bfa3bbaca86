#!/usr/bin/env bats
# krill import from a real registry (issue 14): Debian's docker-registry on
# 127.0.0.1, started here with images pushed by skopeo from OCI layouts
# this file builds; round trips, metadata, whiteouts against umoci's
# unpack, platforms, the cache, integrity, faults and concurrency.
load helper
load import_helper
bats_require_minimum_version 1.5.0

setup_file() {
	import_tools_or_skip
	R=$BATS_FILE_TMPDIR/reg
	registry_start "$R" "$REG_PORT"
	L=$BATS_FILE_TMPDIR/layouts
	mkdir -p "$L"
	make_tiny_layout "$L/tiny"
	python3 "$MKOCI" layers "$L/layers"
	python3 "$MKOCI" multiarch "$L/multi"
	python3 "$MKOCI" many "$L/many" 20000
	python3 "$MKOCI" big "$L/big" 48
	push "$L/tiny:t" test/tiny:1
	push "$L/tiny:t" test/tiny2:1
	push "$L/tiny:t" test/tamper:1
	push "$L/layers:t" test/layers:1
	push "$L/layers:t" test/conc:1
	push "$L/multi:t" test/multi:1
	push "$L/many:t" test/many:1
	push "$L/big:t" test/big:1
	printf '[import]\ninsecure-registries = 127.0.0.1:%s\n' "$REG_PORT" >"$BATS_FILE_TMPDIR/krill.conf"
}

teardown_file() {
	registry_stop "$BATS_FILE_TMPDIR/reg"
}

setup() {
	import_tools_or_skip
	setup_scratch
	R=$BATS_FILE_TMPDIR/reg
	L=$BATS_FILE_TMPDIR/layouts
	export KRILL_CONFIG=$BATS_FILE_TMPDIR/krill.conf
	C=$SCRATCH/cache
	REG=docker://127.0.0.1:$REG_PORT
}
teardown() {
	teardown_scratch
	assert_no_import_leftovers
}

@test "import: docker:// round trip; the default DEST is STORAGE/NAME+TAG.sqfs" {
	run "$KRILL" import --cache "$C" -s "$SCRATCH/store" "$REG/test/tiny:1"
	assert_status 0
	assert_line "krill: wrote $SCRATCH/store/test+tiny+1.sqfs"
	[ "$(head -c4 "$SCRATCH/store/test+tiny+1.sqfs")" = hsqs ]
	run "$KRILL" run "$SCRATCH/store/test+tiny+1.sqfs" -- cat /etc/os-release
	assert_status 0
	[ "$output" = "$("$KRILL" run "$TINY_SQFS" -- cat /etc/os-release)" ]
	# by name, from the storage directory
	run "$KRILL" run -s "$SCRATCH/store" test+tiny+1 -- cat /.krill/cwd
	assert_output /srv
	# nothing left in the cache's scratch space
	[ -z "$(ls -A "$C/tmp")" ] || fail "cache tmp: $(ls -A "$C/tmp")"
}

@test "import: Env, Entrypoint+Cmd and WorkingDir reach the container; an explicit CMD replaces them" {
	"$KRILL" import -q --cache "$C" "$REG/test/tiny:1" "$SCRATCH/t.sqfs"
	run "$KRILL" run "$SCRATCH/t.sqfs"
	assert_status 0
	assert_output from-image
	run "$KRILL" run "$SCRATCH/t.sqfs" -- sh -c 'echo "$GREETING $PATH"; pwd'
	assert_output "hello /usr/bin:/bin
/srv"
	run "$KRILL" run -c / "$SCRATCH/t.sqfs" -- pwd
	assert_output /
	run "$KRILL" run "$SCRATCH/t.sqfs" -- cat /.krill/config.json
	assert_contains '"Entrypoint":["/bin/echo"]'
}

@test "import: whiteouts, opaque dirs, hard links and symlinks match umoci unpack" {
	umoci unpack --rootless --image "$L/layers:t" "$SCRATCH/ref" >/dev/null 2>&1
	# krill makes owner-unreadable modes readable (krill-import(1))
	[ "$(stat -c %a "$SCRATCH/ref/rootfs/secret")" = 0 ]
	chmod 0400 "$SCRATCH/ref/rootfs/secret"
	tree_listing "$SCRATCH/ref/rootfs" >"$SCRATCH/want"
	run "$KRILL" import -q --cache "$C" --dir "$REG/test/layers:1" "$SCRATCH/dir"
	assert_status 0
	tree_listing "$SCRATCH/dir" | grep -v '^\./work' >"$SCRATCH/got-dir"
	diff -u "$SCRATCH/want" "$SCRATCH/got-dir"
	run "$KRILL" import -q --cache "$C" "$REG/test/layers:1" "$SCRATCH/l.sqfs"
	assert_status 0
	unsquashfs -q -n -d "$SCRATCH/unsq" "$SCRATCH/l.sqfs" >/dev/null 2>&1 || true
	# unsquashfs drops setuid bits when not root: compare that one from -lln
	tree_listing "$SCRATCH/unsq" | grep -v '^\./work' | sed 's|^\./suid file 755 |./suid file 4755 |' >"$SCRATCH/got-sqfs"
	diff -u "$SCRATCH/want" "$SCRATCH/got-sqfs"
	unsquashfs -lln "$SCRATCH/l.sqfs" | grep -q '^-rwsr-xr-x 0/0 .* squashfs-root/suid$'
	unsquashfs -lln "$SCRATCH/l.sqfs" | grep -q '^drwxr-xr-x 0/0 .* squashfs-root$'
	# spot checks that name the cases
	grep -qx './opq/upper file 644 1 .*' "$SCRATCH/want" || grep -q '^./opq/upper file' "$SCRATCH/want"
	! grep -q 'opq/lower\|opq/sub\|etc/deleted' "$SCRATCH/got-sqfs"
	grep -q '^./abs-link link /etc/kept$' "$SCRATCH/got-sqfs"
	grep -q '^./data-link2 file 644 3 ' "$SCRATCH/got-sqfs"
	grep -q '^./suid file 4755 ' "$SCRATCH/got-dir"
	[ "$(stat -c %i "$SCRATCH/dir/data")" = "$(stat -c %i "$SCRATCH/dir/data-link2")" ]
	# the metadata of this image, through krill run
	run "$KRILL" run "$SCRATCH/l.sqfs"
	assert_output "entry:three
/work/dir"
	run "$KRILL" run "$SCRATCH/l.sqfs" -- sh -c 'echo "$QUOTED"; cat /abs-link'
	assert_output "it's \$HOME
kept"
}

@test "import: a device node is skipped with one warning that counts it" {
	is_root && skip "skipped: root creates device nodes"
	run "$KRILL" import --cache "$C" --dir "$REG/test/layers:1" "$SCRATCH/dir"
	assert_status 0
	assert_line "krill: warning: skipped 1 device nodes: they can't be created unprivileged (krill run binds the host's /dev)"
	[ ! -e "$SCRATCH/dir/dev/null" ]
}

@test "import: a multi-arch index gives amd64; --arch arm64 the other; a missing platform is named" {
	[ "$(uname -m)" = x86_64 ] || skip "skipped: the host is not amd64"
	run "$KRILL" import -q --cache "$C" --dir "$REG/test/multi:1" "$SCRATCH/a"
	assert_status 0
	[ "$(cat "$SCRATCH/a/arch")" = amd64 ]
	run "$KRILL" import -q --cache "$C" --arch arm64 --dir "$REG/test/multi:1" "$SCRATCH/b"
	assert_status 0
	[ "$(cat "$SCRATCH/b/arch")" = arm64 ]
	grep -qx "ARCH='arm64'" "$SCRATCH/b/.krill/environment"
	run "$KRILL" import -q --cache "$C" --arch s390x "$REG/test/multi:1" "$SCRATCH/c.sqfs"
	assert_status 125
	assert_output "krill: error: $REG/test/multi:1: no image for linux/s390x
krill: hint: the index has: linux/amd64, linux/arm64/v8; pick one with --arch and --variant"
	[ ! -e "$SCRATCH/c.sqfs" ]
}

@test "import: a re-import of the same digest downloads no blob and leaves DEST alone" {
	"$KRILL" import -q --cache "$C" "$REG/test/tiny2:1" "$SCRATCH/t.sqfs"
	before=$(stat -c '%i %Y' "$SCRATCH/t.sqfs")
	gets=$(blob_gets "$R" test/tiny2)
	[ "$gets" = 2 ] || fail "first import: $gets blob GETs"
	run "$KRILL" import --cache "$C" "$REG/test/tiny2:1" "$SCRATCH/t.sqfs"
	assert_status 0
	assert_contains "krill: $SCRATCH/t.sqfs is up to date (sha256:"
	[ "$(blob_gets "$R" test/tiny2)" = "$gets" ]
	[ "$(stat -c '%i %Y' "$SCRATCH/t.sqfs")" = "$before" ]
	# another DEST: blobs come from the cache, the image is built again
	run "$KRILL" import --cache "$C" "$REG/test/tiny2:1" "$SCRATCH/u.sqfs"
	assert_status 0
	[ "$(blob_gets "$R" test/tiny2)" = "$gets" ]
	[ "$(unsquashfs -lln "$SCRATCH/u.sqfs" | wc -l)" = "$(unsquashfs -lln "$SCRATCH/t.sqfs" | wc -l)" ]
}

@test "import: 8 concurrent imports of one image: all succeed, each blob is fetched once" {
	for i in 1 2 3 4 5 6 7 8; do
		"$KRILL" import -q --cache "$C" "$REG/test/conc:1" "$SCRATCH/c.sqfs" >"$SCRATCH/out.$i" 2>&1 &
		pids+=" $!"
	done
	for p in $pids; do wait "$p" || fail "an import failed: $(cat "$SCRATCH"/out.*)"; done
	# 3 layers and the config, each once (the cache also has the manifest)
	[ "$(blob_gets "$R" test/conc)" = 4 ] || fail "$(grep test/conc/blobs "$R/log")"
	for d in $(grep '"krill/' "$R/log" | grep -o 'test/conc/blobs/sha256:[0-9a-f]*' | sort | uniq -d); do
		fail "fetched twice: $d"
	done
	run "$KRILL" cache --cache "$C" --verify
	assert_status 0
	assert_line "verified: 5 blobs match their digests"
	assert_line "images: 1 (stale records: 0)"
	"$KRILL" run "$SCRATCH/c.sqfs" -- cat /opq/third | grep -qx 'from layer 3'
}

@test "import: a tampered blob is an error naming it; nothing corrupt is cached; a fixed registry resumes" {
	"$KRILL" import -q --cache "$SCRATCH/probe" --dir "$REG/test/tamper:1" "$SCRATCH/probe-dir"
	# the blobs of this image, as the registry served them
	blobs=$(grep '"krill/' "$R/log" | grep -o 'test/tamper/blobs/sha256:[0-9a-f]*' | sed 's|.*sha256:||' | sort -u)
	[ "$(echo "$blobs" | wc -l)" = 2 ] || fail "blobs: $blobs"
	layer=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]+"/index.json")); m=json.load(open(sys.argv[1]+"/blobs/sha256/"+i["manifests"][0]["digest"][7:])); print(m["layers"][-1]["digest"])' "$L/tiny")
	data=$R/data/docker/registry/v2/blobs/sha256/${layer:7:2}/${layer:7}/data
	[ -f "$data" ] || fail "no blob file $data"
	cp "$data" "$SCRATCH/orig"
	printf 'XXXX' | dd of="$data" bs=1 seek=100 conv=notrunc 2>/dev/null
	run "$KRILL" import -q --cache "$C" "$REG/test/tamper:1" "$SCRATCH/t.sqfs"
	cp "$SCRATCH/orig" "$data"
	assert_status 125
	[[ "${lines[0]}" == "krill: error: $REG/test/tamper: blob $layer: content doesn't match its digest (got sha256:"* ]] ||
		fail "got: $output"
	[ "${#lines[@]}" = 1 ]
	[ ! -e "$SCRATCH/t.sqfs" ]
	[ ! -e "$C/blobs/sha256/${layer:7}" ]
	[ -z "$(ls -A "$C/tmp")" ]
	# the registry is fixed: exactly what the cache lacks is fetched
	have=0
	for b in $blobs; do [ -e "$C/blobs/sha256/$b" ] && have=$((have + 1)); done
	gets=$(blob_gets "$R" test/tamper)
	run "$KRILL" import -q --cache "$C" "$REG/test/tamper:1" "$SCRATCH/t.sqfs"
	assert_status 0
	[ $(( $(blob_gets "$R" test/tamper) - gets )) = $(( 2 - have )) ] ||
		fail "fetched $(( $(blob_gets "$R" test/tamper) - gets )) blobs, the cache lacked $(( 2 - have ))"
	"$KRILL" run "$SCRATCH/t.sqfs" -- cat /etc/os-release | grep -q 'krill tiny'
}

@test "import: the registry SIGKILLed mid-download: one clean error; restarted, only missing blobs are fetched" {
	"$KRILL" import -q --cache "$C" "$REG/test/big:1" "$SCRATCH/b.sqfs" >"$SCRATCH/out" 2>&1 &
	pid=$!
	# the download is in an unnamed file (O_TMPFILE) in the cache's tmp/
	killed=
	for _ in $(seq 500); do
		if ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "$C/tmp/#"; then
			kill -KILL "$(cat "$R/pid")"
			killed=1
			break
		fi
		sleep 0.01
	done
	st=0
	wait "$pid" || st=$?
	registry_start "$R" "$REG_PORT"
	[ -n "$killed" ] || skip "skipped: the download finished before it could be interrupted"
	[ "$st" = 125 ] || fail "status $st: $(cat "$SCRATCH/out")"
	[ "$(wc -l <"$SCRATCH/out")" = 1 ] || fail "$(cat "$SCRATCH/out")"
	grep -q "^krill: error: $REG/test/big: blob sha256:" "$SCRATCH/out" || fail "$(cat "$SCRATCH/out")"
	[ ! -e "$SCRATCH/b.sqfs" ]
	[ -z "$(ls -A "$C/tmp")" ]
	run "$KRILL" cache --cache "$C" --verify
	assert_status 0
	blobs=$(grep '"krill/' "$R/log" | grep -o 'test/big/blobs/sha256:[0-9a-f]*' | sed 's|.*sha256:||' | sort -u)
	have=0
	for b in $blobs; do [ -e "$C/blobs/sha256/$b" ] && have=$((have + 1)); done
	gets=$(blob_gets "$R" test/big)
	run "$KRILL" import -q --cache "$C" "$REG/test/big:1" "$SCRATCH/b.sqfs"
	assert_status 0
	# config + 1 layer; what the first try completed is not fetched again
	[ $(( $(blob_gets "$R" test/big) - gets )) = $(( 2 - have )) ] ||
		fail "fetched $(( $(blob_gets "$R" test/big) - gets )), the cache lacked $(( 2 - have ))"
}

@test "import: SIGINT mid-import exits 130 and leaves nothing but complete blobs" {
	"$KRILL" import --cache "$C" "$REG/test/many:1" "$SCRATCH/m.sqfs" >"$SCRATCH/out" 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		ls "$C/tmp" 2>/dev/null | grep -q '^rootfs-' && break
		sleep 0.02
	done
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" = 130 ] || fail "status $st: $(cat "$SCRATCH/out")"
	grep -qx 'krill: error: interrupted' "$SCRATCH/out" || fail "$(cat "$SCRATCH/out")"
	[ ! -e "$SCRATCH/m.sqfs" ]
	[ -z "$(ls -A "$SCRATCH" | grep -v '^cache$\|^out$')" ] || fail "left: $(ls -A "$SCRATCH")"
	[ -z "$(ls -A "$C/tmp")" ] || fail "cache tmp: $(ls -A "$C/tmp")"
	run "$KRILL" cache --cache "$C" --verify
	assert_status 0
	assert_contains "match their digests"
}

@test "import: a full disk gives one clean error and leaves no partial file" {
	unshare -rm true 2>/dev/null || skip "skipped: no unprivileged user+mount namespaces"
	run unshare -rm sh -c 'mount -t tmpfs -o size=400k krill-full "$1" && cd "$1" &&
		"$2" import -q --cache "$1/cache" "$3" "$1/t.sqfs"; echo "rc=$?"; ls -A "$1" "$1/cache/tmp" "$1/cache/blobs/sha256"' \
		sh "$SCRATCH" "$KRILL" "$REG/test/tiny:1"
	assert_contains "No space left on device"
	assert_line "rc=125"
	[[ "${lines[0]}" == "krill: error: "* ]]
	! grep -q 't.sqfs' <<<"$output"
}

@test "import: errors: unknown tag, refused connection, bad reference, each one line" {
	run "$KRILL" import -q --cache "$C" "$REG/test/tiny:nope" "$SCRATCH/x.sqfs"
	assert_status 125
	assert_output "krill: error: $REG/test/tiny:nope: manifest unknown (HTTP 404)"
	run "$KRILL" import -q --cache "$C" docker://127.0.0.1:15009/test/tiny:1 "$SCRATCH/x.sqfs"
	assert_status 125
	[[ "${lines[0]}" == "krill: error: docker://127.0.0.1:15009/test/tiny:1: Failed to connect to 127.0.0.1 port 15009"* ]] ||
		fail "got: $output"
	run "$KRILL" import -q --cache "$C" docker://Test/UPPER:1 "$SCRATCH/x.sqfs"
	assert_status 125
	assert_line "krill: error: Test/UPPER:1: invalid name component 'UPPER'"
	run "$KRILL" import -q --cache "$C" "$REG/test/tiny:1" "$SCRATCH/x.sqfs" --comp brotli
	assert_status 125
	assert_line "krill: error: compression 'brotli': unknown"
	[ ! -e "$SCRATCH/x.sqfs" ]
}

@test "import: krill run docker:// imports, runs, and the second run makes no request" {
	run "$KRILL" run -s "$SCRATCH/store" "$REG/test/tiny:1" -- cat /etc/os-release
	assert_status 0
	assert_contains 'krill tiny'
	[ -e "$SCRATCH/store/test+tiny+1.sqfs" ]
	n=$(repo_requests "$R" test/tiny)
	run "$KRILL" run -s "$SCRATCH/store" "$REG/test/tiny:1"
	assert_status 0
	assert_output from-image
	[ "$(repo_requests "$R" test/tiny)" = "$n" ] || fail "the second run reached the registry"
	run "$KRILL" run -s "$SCRATCH/store" "$REG/test/tiny:nope" -- true
	assert_status 125
	assert_output "krill: error: $REG/test/tiny:nope: manifest unknown (HTTP 404)"
}

@test "import: a cache writable by others, or a symlink, is refused" {
	mkdir -p "$C" && chmod 0777 "$C"
	run "$KRILL" import -q --cache "$C" "$REG/test/tiny:1" "$SCRATCH/x.sqfs"
	assert_status 125
	assert_output "krill: error: $C: writable by group or others (mode 0777)
krill: hint: chmod go-w $C"
	chmod 0700 "$C"
	mkdir -p "$SCRATCH/elsewhere"
	ln -s "$SCRATCH/elsewhere" "$SCRATCH/link"
	run "$KRILL" import -q --cache "$SCRATCH/link" "$REG/test/tiny:1" "$SCRATCH/x.sqfs"
	assert_status 125
	assert_output "krill: error: $SCRATCH/link: is a symlink; refusing to follow it"
	[ -z "$(ls -A "$SCRATCH/elsewhere")" ]
	# a blob that others could have written is not used
	"$KRILL" import -q --cache "$C" "$REG/test/tiny:1" "$SCRATCH/ok.sqfs"
	b=$(ls -S "$C/blobs/sha256" | head -1)
	chmod g+w "$C/blobs/sha256/$b"
	run "$KRILL" import -q --cache "$C" "$REG/test/tiny:1" "$SCRATCH/other.sqfs"
	assert_status 125
	[[ "${lines[0]}" == "krill: error: "*"$C/blobs/sha256/$b: writable by group or others (mode 0620)" ]] ||
		fail "got: $output"
	[ ! -e "$SCRATCH/other.sqfs" ]
	chmod 0757 "$C/blobs"
	run "$KRILL" cache --cache "$C"
	assert_status 125
	assert_line "krill: error: $C/blobs: writable by group or others (mode 0757)"
}

@test "import: krill cache --prune removes the blobs no image uses" {
	"$KRILL" import -q --cache "$C" "$REG/test/tiny:1" "$SCRATCH/t.sqfs"
	"$KRILL" import -q --cache "$C" "$REG/test/multi:1" "$SCRATCH/m.sqfs"
	run "$KRILL" cache --cache "$C"
	assert_line "images: 2 (stale records: 0)"
	assert_line "blobs unused: 0 (0.0 MiB)"
	rm "$SCRATCH/m.sqfs"
	# what a killed import may leave: a partial blob, a scratch tree not yet named
	echo partial >"$C/blobs/sha256/.part-dead"
	mkdir -p "$C/tmp/.rootfs-dead/etc"
	run "$KRILL" cache --cache "$C" --prune
	assert_status 0
	assert_line "images: 1 (stale records: 1, removed)"
	assert_line "blobs in use: 3 (1.0 MiB)"
	[ "$(ls "$C/blobs/sha256" | wc -l)" = 3 ]
	[ -z "$(ls -A "$C/tmp")" ] && [ ! -e "$C/blobs/sha256/.part-dead" ]
	"$KRILL" run "$SCRATCH/t.sqfs" -- true
}
