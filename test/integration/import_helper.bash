# Shared by the import*.bats files: a real registry (Debian's
# docker-registry) on 127.0.0.1, started and stopped by the test file, and
# OCI layouts built by test/helpers/mkoci.py or umoci, pushed with skopeo.
KRILL_IMPORT=$STAGE/krill-import
MKOCI=$STAGE/test/helpers/mkoci.py
REG_PORT=${KRILL_IMPORT_PORT:-15000}

import_tools_or_skip() {
	local t
	for t in docker-registry skopeo umoci python3 mksquashfs; do
		command -v "$t" >/dev/null || skip "skipped: $t is not installed"
	done
	[ -x "$KRILL_IMPORT" ] || skip "skipped: krill-import was not built"
}

# registry_start DIR PORT [EXTRA-YAML]: a registry storing in DIR/data,
# logging requests to DIR/log; sets REG_PID.
registry_start() {
	local dir=$1 port=$2 extra=${3:-}
	mkdir -p "$dir/data"
	cat >"$dir/config.yml" <<-YAML
	version: 0.1
	log:
	  level: error
	  accesslog:
	    disabled: false
	storage:
	  filesystem:
	    rootdirectory: $dir/data
	  delete:
	    enabled: true
	http:
	  addr: 127.0.0.1:$port
	$extra
	YAML
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		fail "127.0.0.1:$port is already in use"
	fi
	docker-registry serve "$dir/config.yml" >>"$dir/log" 2>&1 &
	REG_PID=$!
	echo "$REG_PID" >"$dir/pid"
	local i
	for i in $(seq 50); do
		kill -0 "$REG_PID" 2>/dev/null || break
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	cat "$dir/log" >&2
	fail "the registry on 127.0.0.1:$port did not start"
}

registry_stop() { # DIR
	local pid
	pid=$(cat "$1/pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$1/pid"
}

# push LAYOUT:REF NAME:TAG [skopeo options]
push() {
	local src=$1 dst=$2
	shift 2
	# skopeo (and krill) read logins from here: none, unless a test writes one
	[ -e "$BATS_FILE_TMPDIR/auth.json" ] || echo '{}' >"$BATS_FILE_TMPDIR/auth.json"
	REGISTRY_AUTH_FILE=$BATS_FILE_TMPDIR/auth.json skopeo copy -q --all --dest-tls-verify=false "$@" "oci:$src" "docker://127.0.0.1:$REG_PORT/$dst" >/dev/null
}

# How many requests krill (its user agent) made for a repository's blobs
# (GET), or for anything of the repository, by the registry's access log.
blob_gets() { # DIR REPO
	grep "\"GET /v2/$2/blobs/sha256:" "$1/log" | grep -c '"krill/' || true
}
repo_requests() { # DIR REPO
	grep "\"[A-Z]* /v2/$2/" "$1/log" | grep -c '"krill/' || true
}

# A tree listing to compare unpacks: type, mode, link target, size and
# content hash per path (directories' sizes and times left out).
tree_listing() { # DIR
	(cd "$1" && find . -path ./.krill -prune -o -path ./dev -prune -o -path ./proc -prune -o -path ./sys -prune -o -print0 | sort -z |
		while IFS= read -r -d '' p; do
			if [ -L "$p" ]; then echo "$p link $(readlink "$p")"
			elif [ -d "$p" ]; then echo "$p dir $(stat -c %a "$p")"
			else echo "$p file $(stat -c '%a %h' "$p") $(md5sum <"$p" | cut -c1-32)"; fi
		done)
}

# The tiny image as an OCI layout with a config: Env, Entrypoint, Cmd,
# WorkingDir (umoci, rootless).
make_tiny_layout() { # LAYOUT
	local l=$1 b
	b=$(mktemp -d "${BATS_FILE_TMPDIR:-/tmp}/bundle.XXXXXX")
	rmdir "$b"
	umoci init --layout "$l"
	umoci new --image "$l:t"
	umoci unpack --rootless --image "$l:t" "$b" >/dev/null 2>&1
	cp -a "$TINY/." "$b/rootfs/"
	umoci repack --image "$l:t" "$b" >/dev/null 2>&1
	umoci config --image "$l:t" --config.env GREETING=hello --config.env 'PATH=/usr/bin:/bin' \
		--config.workingdir /srv --config.entrypoint /bin/echo --config.cmd from-image
	chmod -R u+rwX "$b"
	rm -rf "$b"
}

# Nothing of this user's imports may remain: krill-import processes, or
# krill objects of our uid in /dev/shm (other users' tests run meanwhile).
assert_no_import_leftovers() {
	local p
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		p=$(pgrep -u "$(id -u)" -x krill-import || true)
		[ -z "$p" ] && ! ls /dev/shm 2>/dev/null | grep -q "krill-$(id -u)-" && return 0
		sleep 0.2
	done
	fail "left behind: processes: $p; shm: $(ls /dev/shm | grep "krill-$(id -u)-")"
}
