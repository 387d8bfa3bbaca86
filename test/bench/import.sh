# Section g of test/bench/run.sh (sourced): krill import of the debian-mpi
# image from a loopback registry (Debian's docker-registry on
# 127.0.0.1:15005), one run each, as ratios:
#   cold import (empty cache) vs `skopeo copy docker://… oci:DIR &&
#   umoci unpack --rootless && mksquashfs` (mksquashfs defaults: gzip);
#   warm re-import (same digest); startup of /bin/true from each .sqfs;
#   peak RSS of the import (krill-import and its largest child, mksquashfs).
# Charliecloud's ch-image pull + ch-convert is measured when installed.
section_g() {
	local tree=$top/images/build/debian-mpi
	md ""
	md "## g. krill import of debian-mpi from a loopback registry"
	md ""
	for t in docker-registry skopeo umoci mksquashfs hyperfine; do
		command -v "$t" >/dev/null || { md "n/a ($t is not installed)"; return 0; }
	done
	[ -d "$tree" ] || { md "n/a (no images/build/debian-mpi: make images-check as root)"; return 0; }
	local g=$work/import
	mkdir -p "$g"
	local port=15005 reg=127.0.0.1:15005
	echo '{}' >"$g/auth.json"
	# (for skopeo only: docker-registry reads REGISTRY_* as its own config)
	local auth="REGISTRY_AUTH_FILE=$g/auth.json"
	if [ ! -e "$g/layout.stamp" ]; then
		note "g: building the debian-mpi OCI layout (once)"
		rm -rf "$g/layout" "$g/bundle"
		umoci init --layout "$g/layout"
		umoci new --image "$g/layout:t"
		umoci unpack --rootless --image "$g/layout:t" "$g/bundle" >/dev/null 2>&1
		cp -a "$tree/." "$g/bundle/rootfs/"
		umoci repack --image "$g/layout:t" "$g/bundle" >/dev/null 2>&1
		chmod -R u+rwX "$g/bundle"; rm -rf "$g/bundle"
		touch "$g/layout.stamp"
	fi
	rm -rf "$g/reg"
	mkdir -p "$g/reg"
	printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
		"$g/reg/data" "$reg" >"$g/reg/config.yml"
	docker-registry serve "$g/reg/config.yml" >"$g/reg/log" 2>&1 &
	local rpid=$! i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	env "$auth" skopeo copy -q --dest-tls-verify=false "oci:$g/layout:t" "docker://$reg/bench/mpi:1"
	printf '[import]\ninsecure-registries = %s\n' "$reg" >"$g/krill.conf"

	rm -rf "$g/cache" "$g/k.sqfs"
	sync
	local t0 t1 cold pipe warm
	t0=$(date +%s.%N)
	KRILL_CONFIG=$g/krill.conf /usr/bin/time -f '%M' -o "$g/rss" "$krill_src" import -q \
		--cache "$g/cache" "docker://$reg/bench/mpi:1" "$g/k.sqfs"
	t1=$(date +%s.%N)
	cold=$(echo "$t1 - $t0" | bc)
	rm -rf "$g/oci" "$g/unpack" "$g/p.sqfs"
	sync
	t0=$(date +%s.%N)
	env "$auth" skopeo copy -q --src-tls-verify=false "docker://$reg/bench/mpi:1" "oci:$g/oci:t" &&
		umoci unpack --rootless --image "$g/oci:t" "$g/unpack" >/dev/null 2>&1 &&
		mksquashfs "$g/unpack/rootfs" "$g/p.sqfs" -noappend -quiet -no-progress >/dev/null
	t1=$(date +%s.%N)
	pipe=$(echo "$t1 - $t0" | bc)
	t0=$(date +%s.%N)
	KRILL_CONFIG=$g/krill.conf "$krill_src" import -q --cache "$g/cache" "docker://$reg/bench/mpi:1" "$g/k.sqfs"
	t1=$(date +%s.%N)
	warm=$(echo "$t1 - $t0" | bc)
	kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null || true
	local chrow="| ch-image pull + ch-convert | n/a (charliecloud-builders not installed) | | |"
	hyperfine -N -w 3 -r 30 --export-json "$g/start.json" \
		"$krill_src run $g/k.sqfs -- /bin/true" "$krill_src run $g/p.sqfs -- /bin/true" >/dev/null 2>&1 || true
	local sk sp
	sk=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$g/start.json" 2>/dev/null || echo 0)
	sp=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][1]["median"])' "$g/start.json" 2>/dev/null || echo 0)
	md "One run each ($(du -sh "$tree" | cut -f1) tree; $(nproc) CPUs; run as $(id -un))."
	md ""
	md "| what | time | ratio | target |"
	md "|---|---|---|---|"
	md "| skopeo copy + umoci unpack --rootless + mksquashfs (gzip) | ${pipe} s | 1.00 | |"
	md "| krill import, cold (empty cache) | ${cold} s | $(ratio "$cold" "$pipe") | ≤ 0.6 |"
	md "$chrow"
	md "| krill import, warm (same digest) | ${warm} s | | ≤ 0.1 s |"
	md "| startup /bin/true, krill-imported .sqfs (zstd:3) | $(ms "$sk") | $(ratio "$sk" "$sp") | ≤ 0.6 |"
	md "| startup /bin/true, mksquashfs default .sqfs (gzip) | $(ms "$sp") | 1.00 | |"
	md "| peak RSS of krill import (largest of it and mksquashfs) | $(( $(cat "$g/rss") / 1024 )) MiB | | ≤ 128 MiB |"
	md ""
	md "Sizes: krill $(du -m "$g/k.sqfs" | cut -f1) MiB, pipeline $(du -m "$g/p.sqfs" | cut -f1) MiB."
	rm -rf "$g/oci" "$g/unpack" "$g/reg"
}
