#!/bin/bash
# `make bench`: krill's benchmarks, printed as Markdown and written to
# test/bench/results.md.  Never part of `make check`.
#
# Every krill figure is a median over repeated runs and is quoted as a ratio
# against a peer measured in the same run (absolute times on shared machines
# are noise).  Sections:
#   a. Startup of /bin/true on the tiny image, unprivileged: krill (directory
#      and .sqfs) vs bwrap, ch-run (directory and .sqfs), and the floor
#      `unshare -U -m -r`.                                       (hyperfine)
#   b. Privileged startup, as root: plain, each of --pid --net=none
#      --hostname --ipc --seccomp alone and all together (the per-option
#      cost), and `krill run --pid --net=none --memory=64m` vs `runc run`.
#   c. SquashFS tree read (~50,000 files, ~800 MB): cold (page cache dropped)
#      and warm (second read in the same mount), metadata (`ls -lR`) and data
#      (`busybox tar cf /dev/null`, which reads every byte), for krill
#      (unprivileged, FUSE), the squashfuse_ll binary, a kernel loop mount and
#      ch-run; plus peak RSS of krill and of squashfuse_ll.
#   d. Join scaling: N = 1, 8, 32, 128 peers running /bin/true on tiny.sqfs,
#      krill --join-ct=N vs N independent krill runs vs ch-run --join; wall
#      time until all are done, failures, and /dev/shm objects left behind.
#   e. OCI: krill-oci vs runc, `run` and create+start+delete, as root.
#   f. Slurm step launch on the 3-node cluster of test/harness/slurm-multi.sh
#      (root): `srun -N3 -n12 /bin/true` plain, with the SPANK plugin
#      (--krill-image=tiny.sqfs), and with `krill run --join`.
#   g. krill import of debian-mpi from a loopback registry vs skopeo + umoci
#      + mksquashfs; warm re-import; startup from each image; peak RSS
#      (test/bench/import.sh).
#
# Run as root for everything (sections b, c-cold/kernel and e need root;
# the unprivileged rows then run as $KRILL_TEST_USER, default krilltest,
# created if missing).  As a normal user, root-only rows say "n/a (needs
# root)".  A krill option that is not implemented yet gives
# "n/a (not implemented: ...)" in its row; the script carries on.
#
# Environment: BENCH_RUNS (hyperfine runs, default 100), BENCH_TREE_REPS
# (tree-read repetitions, default 3), BENCH_JOIN_REPS (default 5),
# BENCH_SECTIONS (default "a b c d e f g"), KRILL (default ./krill).
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
krill_src=${KRILL:-$top/krill}
runs=${BENCH_RUNS:-100}
tree_reps=${BENCH_TREE_REPS:-3}
join_reps=${BENCH_JOIN_REPS:-5}
sections=${BENCH_SECTIONS:-a b c d e f g}
results=$top/test/bench/results.md
work=$top/test/bench/work

die() {
	echo "bench: error: $*" >&2
	exit 1
}
note() {
	echo "bench: $*" >&2
}

[ -x "$krill_src" ] || die "$krill_src is missing (run: make)"
command -v hyperfine >/dev/null || die "hyperfine not found (hint: apt-get install hyperfine)"
images/build.sh tiny >&2 || die "images/build.sh tiny failed"

# --------------------------------------------------------------- staging
# The unprivileged user may not reach the checkout: stage a world-readable
# copy of krill and the tiny image.
is_root=0
[ "$(id -u)" = 0 ] && is_root=1
S=$(mktemp -d /tmp/krill-bench.XXXXXX)
mnt_list=()
cleanup() {
	local m
	for m in "${mnt_list[@]+"${mnt_list[@]}"}"; do
		umount -l "$m" 2>/dev/null || fusermount3 -u "$m" 2>/dev/null || true
	done
	rm -rf "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 0755 "$S"
cp "$krill_src" "$S/krill"
ln -s krill "$S/krill-oci"
cp -a images/build/tiny "$S/tiny"
cp images/build/tiny.sqfs "$S/tiny.sqfs"
mkdir -m 0777 "$S/out"
K=$S/krill

if [ "$is_root" = 1 ]; then
	user=${KRILL_TEST_USER:-krilltest}
	id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user" || die "can't create $user"
	[ -c /dev/fuse ] && chmod 0666 /dev/fuse
	uhome=$(getent passwd "$user" | cut -d: -f6)
	as_user() {
		runuser -u "$user" -- env HOME="$uhome" USER="$user" LOGNAME="$user" \
			PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin TMPDIR=/tmp "$@"
	}
else
	user=$(id -un)
	as_user() { "$@"; }
fi
as_root() {
	"$@"
}

# --------------------------------------------------------------- report
report=$S/report.md
md() {
	printf '%s\n' "$*" >> "$report"
}
ms() { # SECONDS -> "1.23 ms"
	awk -v s="$1" 'BEGIN { printf "%.2f ms", s * 1000 }'
}
ratio() { # A B -> "0.81"
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}
verdict() { # RATIO TARGET -> "yes"/"NO"
	awk -v r="$1" -v t="$2" 'BEGIN { if (r == "n/a") print "n/a"; else if (r + 0 <= t + 0) print "yes"; else print "**NO**" }'
}

# --------------------------------------------------------------- hyperfine groups
# bench_group WHO NAME CMD [NAME CMD]...: probe each command once (as WHO:
# user or root); the ones that work are measured together in one hyperfine
# run.  Medians land in MED[NAME] (seconds); failures in WHY[NAME].
declare -A MED WHY
bench_group() {
	local who=$1
	shift
	local -a args=()
	local name cmd err
	while [ $# -ge 2 ]; do
		name=$1 cmd=$2
		shift 2
		MED[$name]=""
		WHY[$name]=""
		if ! err=$(as_$who sh -c "$cmd" 2>&1 </dev/null); then
			WHY[$name]=$(why_not "$cmd" "$err")
			note "$name: ${WHY[$name]}"
			continue
		fi
		args+=(-n "$name" "$cmd")
	done
	[ ${#args[@]} -gt 0 ] || return 0
	local csv=$S/out/hf.$$.$RANDOM.csv
	note "hyperfine ($who): $(printf '%s ' "${args[@]}" | awk '{ for (i = 2; i <= NF; i++) if ($(i-1) == "-n") printf "%s ", $i }')"
	if ! as_$who hyperfine -N --runs "$runs" --warmup 5 --style none --export-csv "$csv" "${args[@]}" >/dev/null 2>"$S/out/hf.err"; then
		note "hyperfine failed: $(tail -n 3 "$S/out/hf.err")"
		return 0
	fi
	while IFS=, read -r name _mean _sd med _rest; do
		[ "$name" = command ] && continue
		MED[$name]=$med
	done < "$csv"
}

# Why did a probe fail?  krill's unknown-option errors become "not implemented".
why_not() { # CMD OUTPUT
	local first
	first=$(printf '%s\n' "$2" | grep -m1 . | cut -c1-100)
	if printf '%s' "$2" | grep -qiE 'unknown option|unrecognized option|invalid option|not implemented|not supported|unknown command'; then
		echo "n/a (not implemented: $first)"
	else
		echo "n/a (failed: ${first:-no output})"
	fi
}

cell() { # NAME -> median or the reason it is missing
	if [ -n "${MED[$1]:-}" ]; then ms "${MED[$1]}"; else echo "${WHY[$1]:-n/a}"; fi
}
ratio_row() { # LABEL A B TARGET
	local r="n/a"
	[ -n "${MED[$2]:-}" ] && [ -n "${MED[$3]:-}" ] && r=$(ratio "${MED[$2]}" "${MED[$3]}")
	md "| $1 | $r | ≤ $4 | $(verdict "$r" "$4") |"
}

md "# krill benchmarks"
md ""
md "$(date -u "+%Y-%m-%d %H:%M UTC"), kernel $(uname -r), $(nproc) CPUs, $("$K" --version 2>/dev/null | head -n1 || echo "krill ?"), unprivileged user: $user."
md "Medians of $runs runs (hyperfine) unless noted."

# =============================================================== a. startup
section_a() {
	note "== a. startup, unprivileged"
	local bw="bwrap --unshare-user --unshare-pid --ro-bind $S/tiny / --dev /dev --proc /proc /bin/true"
	bench_group user \
		krill-dir "$K run $S/tiny -- /bin/true" \
		krill-sqfs "$K run $S/tiny.sqfs -- /bin/true" \
		bwrap "$bw" \
		ch-run-dir "ch-run $S/tiny -- /bin/true" \
		ch-run-sqfs "ch-run $S/tiny.sqfs -- /bin/true" \
		floor "unshare -U -m -r /bin/true"
	md ""
	md "## a. Startup: \`/bin/true\` on the tiny image, unprivileged"
	md ""
	md "| runner | median |"
	md "|---|---|"
	md "| krill, directory | $(cell krill-dir) |"
	md "| krill, .sqfs | $(cell krill-sqfs) |"
	md "| \`bwrap --unshare-user --unshare-pid\` | $(cell bwrap) |"
	md "| ch-run, directory | $(cell ch-run-dir) |"
	md "| ch-run, .sqfs | $(cell ch-run-sqfs) |"
	md "| floor: \`unshare -U -m -r\` | $(cell floor) |"
	md ""
	md "| ratio | value | target | met |"
	md "|---|---|---|---|"
	ratio_row "krill dir / bwrap" krill-dir bwrap 1.0
	ratio_row "krill dir / ch-run dir" krill-dir ch-run-dir 0.8
	ratio_row "krill sqfs / krill dir" krill-sqfs krill-dir 1.5
	ratio_row "krill sqfs / ch-run sqfs" krill-sqfs ch-run-sqfs 0.25
}

# =============================================================== b. privileged startup
make_bundle() { # DIR: an OCI bundle running /bin/true in a copy of tiny
	local b=$1
	[ -f "$b/config.json" ] && return 0
	mkdir -p "$b"
	cp -a "$S/tiny" "$b/rootfs"
	(cd "$b" && runc spec) || return 1
	# runc's template: a terminal and `sh`; make it /bin/true without a tty.
	sed -i -e 's/"terminal": true/"terminal": false/' \
		-e 's/^\(\s*\)"sh"$/\1"\/bin\/true"/' "$b/config.json"
	grep -q '"/bin/true"' "$b/config.json" || { note "can't edit runc's config.json template"; return 1; }
}

section_b() {
	md ""
	md "## b. Privileged startup (root), tiny directory image"
	md ""
	if [ "$is_root" = 0 ]; then
		md "n/a (needs root)"
		return
	fi
	note "== b. privileged startup"
	local img=$S/tiny
	local bundle_ok=0
	command -v runc >/dev/null && make_bundle "$S/bundle" && bundle_ok=1
	local -a g=(
		plain "$K run $img -- /bin/true"
		pid "$K run --pid $img -- /bin/true"
		net "$K run --net=none $img -- /bin/true"
		uts "$K run --hostname=x $img -- /bin/true"
		ipc "$K run --ipc $img -- /bin/true"
		seccomp "$K run --seccomp $img -- /bin/true"
		all "$K run --pid --net=none --hostname=x --ipc --seccomp $img -- /bin/true"
		krill-limits "$K run --pid --net=none --memory=64m $img -- /bin/true"
	)
	[ "$bundle_ok" = 1 ] && g+=(runc "runc --root $S/runc-root run --bundle $S/bundle krill-bench-b")
	bench_group root "${g[@]}"
	[ "$bundle_ok" = 1 ] || { MED[runc]=""; WHY[runc]="n/a (runc or its bundle unavailable)"; }
	md "| krill run options | median | added to plain | target |"
	md "|---|---|---|---|"
	local n label tgt d
	for n in plain pid net uts ipc seccomp all; do
		case $n in
		plain) label="(none)" tgt="" ;;
		pid) label="--pid" tgt="≤ 0.3 ms" ;;
		net) label="--net=none" tgt="≤ 0.3 ms" ;;
		uts) label="--hostname=x" tgt="≤ 0.3 ms" ;;
		ipc) label="--ipc" tgt="≤ 0.3 ms" ;;
		seccomp) label="--seccomp" tgt="≤ 0.5 ms" ;;
		all) label="--pid --net=none --hostname=x --ipc --seccomp" tgt="" ;;
		esac
		d=""
		if [ -n "${MED[$n]:-}" ] && [ -n "${MED[plain]:-}" ] && [ "$n" != plain ]; then
			d=$(awk -v a="${MED[$n]}" -v b="${MED[plain]}" 'BEGIN { printf "%+.2f ms", (a - b) * 1000 }')
		fi
		md "| \`$label\` | $(cell $n) | $d | $tgt |"
	done
	md ""
	md "| runtime | median |"
	md "|---|---|"
	md "| \`krill run --pid --net=none --memory=64m\` | $(cell krill-limits) |"
	md "| \`runc run\` (/bin/true) | $(cell runc) |"
	md ""
	md "| ratio | value | target | met |"
	md "|---|---|---|---|"
	ratio_row "krill (--pid --net=none --memory) / runc run" krill-limits runc 0.25
}

# =============================================================== c. tree read
# The image: test/bench/work/big.sqfs.  Built from test/bench/squash_tree.sh's
# image when that script exists (else from /usr/share and /usr/lib here), with
# a static busybox appended at /bin so that a container can read the tree.
big_image() {
	local big=$work/big.sqfs base tree
	mkdir -p "$work"
	if [ -f "$big" ] && [ "$(unsquashfs -l "$big" 2>/dev/null | grep -cE 'squashfs-root/(bin/reader.sh|dev|etc/passwd)$')" = 3 ]; then
		echo "$big"
		return
	fi
	if [ -x test/bench/squash_tree.sh ]; then
		base=$(test/bench/squash_tree.sh | tail -n1)
		[ -f "$base" ] || return 1
	else
		note "building a ~800 MB tree from /usr/share and /usr/lib (once)"
		tree=$work/big.tree
		rm -rf "$tree"
		mkdir -p "$tree"
		{
			find /usr/share -xdev -type f -readable -printf '%s %p\n' | sort -k2 | head -n 48000
			find /usr/lib -xdev -type f -readable -size -64M -printf '%s %p\n' | sort -rn
		} | awk -v cap=$((800 * 1024 * 1024)) '
			{ if (n < 48000) { print $2; t += $1; n++; next }
			  if (t < cap) { print $2; t += $1; n++ } }' > "$work/big.list"
		tar -C / --no-recursion -cf - -T "$work/big.list" 2>/dev/null | tar -C "$tree" -xf -
		base=$work/big.base.sqfs
		mksquashfs "$tree" "$base" -noappend -all-root -quiet -no-progress >/dev/null
		rm -rf "$tree" "$work/big.list"
	fi
	# Append the tiny image's skeleton (busybox and its applets in /bin, /etc,
	# mount points) and /bin/reader.sh to a copy of the tree image, so that a
	# container can start in it: mksquashfs appends by default.
	rm -rf "$work/bb"
	cp -a "$top/images/build/tiny" "$work/bb"
	rm -rf "$work/bb/usr" # the tree has its own /usr
	reader_text > "$work/bb/bin/reader.sh"
	chmod 0755 "$work/bb/bin/reader.sh"
	cp "$base" "$big.new"
	(cd "$work/bb" && mksquashfs $(ls -A) "$big.new" -all-root -quiet -no-progress >/dev/null) || return 1
	rm -rf "$work/bb"
	mv "$big.new" "$big"
	echo "$big"
}

# The reader, a busybox sh script: reader.sh KIND DIR -> "COLD WARM" seconds.
# It goes into big.sqfs as /bin/reader.sh (for krill and ch-run) and into the
# staging directory (for the host-side readers); both use busybox, so every
# reader runs the same code.
reader_text() {
	cat <<-'EOF'
		#!/bin/sh
		# reader.sh KIND DIR (krill bench, rev 1): read the tree twice, print
		# both times in seconds.  meta: ls -lR; data: tar, every byte.
		kind=$1 dir=$2
		bb=busybox
		[ -x /bin/busybox ] && bb=/bin/busybox
		up() { read -r u _ < /proc/uptime; echo "$u"; }
		once() {
			case $kind in
			meta) $bb ls -lR "$dir" > /dev/null 2>&1 ;;
			data) $bb tar cf /dev/null -C "$dir" . 2>/dev/null ;;
			esac
		}
		t0=$(up); once; t1=$(up); once; t2=$(up)
		echo "$t0 $t1 $t2" | $bb awk '{ printf "%.2f %.2f\n", $2 - $1, $3 - $2 }'
	EOF
}

drop_caches() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
}

median() { # numbers on stdin -> the median
	sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# tree_read READER KIND: run READER's measurement tree_reps times; sets
# COLD WARM (medians, seconds) and RSS (KiB, the max seen) or WHYT.
tree_read() {
	local reader=$1 kind=$2 i out c="" w="" r=""
	COLD="" WARM="" RSS="" WHYT=""
	for i in $(seq "$tree_reps"); do
		[ "$is_root" = 1 ] && drop_caches
		if ! out=$("read_$reader" "$kind" 2>"$S/out/tree.err"); then
			WHYT=$(why_not "" "$(cat "$S/out/tree.err")")
			return
		fi
		set -- $out
		[ $# -ge 2 ] || { WHYT="n/a (failed: $(head -c 100 "$S/out/tree.err"))"; return; }
		c="$c $1" w="$w $2"
		[ -n "${3:-}" ] && r="$r $3"
	done
	COLD=$(echo $c | tr ' ' '\n' | median)
	WARM=$(echo $w | tr ' ' '\n' | median)
	[ -n "$r" ] && RSS=$(echo $r | tr ' ' '\n' | sort -n | tail -n1)
	return 0
}

read_krill() { # KIND: as the user, krill's own FUSE server; peak RSS via GNU time
	local kind=$1
	if [ -x /usr/bin/time ]; then
		as_user /usr/bin/time -f 'RSS %M' -o "$S/out/time.$kind" \
			"$K" run "$S/big.sqfs" -- /bin/sh /bin/reader.sh "$kind" /usr 2>&1 >"$S/out/k.$kind" \
			|| { cat "$S/out/k.$kind"; return 1; }
		echo "$(cat "$S/out/k.$kind") $(awk '/^RSS/ { print $2 }' "$S/out/time.$kind")"
	else
		as_user "$K" run "$S/big.sqfs" -- /bin/sh /bin/reader.sh "$kind" /usr
	fi
}
read_chrun() {
	as_user ch-run "$S/big.sqfs" -- /bin/sh /bin/reader.sh "$1" /usr
}
read_squashfuse() { # as the user; peak RSS = VmHWM of squashfuse_ll
	local m=$S/mnt.sf rc=0 out="" pid="" hwm=""
	mkdir -p "$m"
	chmod 0777 "$m"
	# Its output goes to a file: an open pipe would hold up the caller's $(...).
	as_user squashfuse_ll -f "$S/big.sqfs" "$m" >"$S/out/sf.log" 2>&1 &
	mnt_list+=("$m")
	# Root can't stat another user's FUSE mount: look at the mount table.
	for _ in $(seq 50); do
		grep -q " $m fuse" /proc/self/mounts && break
		sleep 0.1
	done
	pid=$(pgrep -n -x -u "$(id -u "$user")" squashfuse_ll || true)
	if ! grep -q " $m fuse" /proc/self/mounts; then
		[ -n "$pid" ] && kill "$pid"
		wait 2>/dev/null || true
		echo "squashfuse_ll did not mount: $(head -c 200 "$S/out/sf.log")" >&2
		return 1
	fi
	out=$(as_user "$S/reader.sh" "$1" "$m/usr") || rc=$?
	[ -n "$pid" ] && hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	as_user fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	wait 2>/dev/null || true
	echo "$out $hwm"
	return $rc
}
read_kernel() {
	local m=$S/mnt.k rc=0
	[ "$is_root" = 1 ] || { echo "needs root" >&2; return 1; }
	mkdir -p "$m"
	mount -t squashfs -o loop,ro "$S/big.sqfs" "$m" || return 1
	mnt_list+=("$m")
	"$S/reader.sh" "$1" "$m/usr" || rc=$?
	umount -d "$m"
	return $rc
}

section_c() {
	md ""
	md "## c. SquashFS tree read"
	md ""
	note "== c. tree read"
	local big
	if ! big=$(big_image); then
		md "n/a (could not build the benchmark image)"
		return
	fi
	# Stage it where the unprivileged user can read it (a link is enough
	# when the path is reachable; copy otherwise).
	if as_user test -r "$big"; then ln -s "$big" "$S/big.sqfs"; else cp "$big" "$S/big.sqfs"; fi
	reader_text > "$S/reader.sh"
	chmod 0755 "$S/reader.sh"
	local files mb
	files=$(unsquashfs -s "$big" 2>/dev/null | awk '/Number of inodes/ { print $4 }')
	mb=$(du -m "$big" | cut -f1)
	md "Image: \`${big#$top/}\`, $files inodes, $mb MB compressed. Medians of $tree_reps reads;"
	md "cold = right after \`echo 3 > /proc/sys/vm/drop_caches\`$([ "$is_root" = 1 ] || echo ' (**not dropped: not root**)'), warm = a second read in the same mount."
	md "meta = \`busybox ls -lR\`, data = \`busybox tar cf /dev/null\` (reads every byte)."
	md ""
	md "| reader | meta cold | meta warm | data cold | data warm | peak RSS |"
	md "|---|---|---|---|---|---|"
	local reader label kind
	declare -gA TC TW
	for reader in kernel squashfuse krill chrun; do
		case $reader in
		kernel) label="kernel squashfs (loop, root)" ;;
		squashfuse) label="squashfuse_ll binary" ;;
		krill) label="krill (FUSE, unprivileged)" ;;
		chrun) label="ch-run on the .sqfs" ;;
		esac
		local row="| $label" rss=""
		for kind in meta data; do
			note "$label, $kind"
			tree_read "$reader" "$kind"
			if [ -n "$WHYT" ]; then
				row="$row | $WHYT | –"
			else
				row="$row | $COLD s | $WARM s"
				TC[$reader.$kind]=$COLD TW[$reader.$kind]=$WARM
				[ -n "$RSS" ] && rss=$(awk -v k="$RSS" 'BEGIN { printf "%.1f MiB", k / 1024 }')
			fi
		done
		md "$row | ${rss:-} |"
	done
	md ""
	md "| ratio (data) | value | target | met |"
	md "|---|---|---|---|"
	local r
	r=$(tr_ratio TW krill.data kernel.data); md "| krill warm / kernel warm | $r | ≤ 2.0 | $(verdict "$r" 2.0) |"
	r=$(tr_ratio TW krill.data squashfuse.data); md "| krill warm / squashfuse_ll warm | $r | ≤ 0.6 | $(verdict "$r" 0.6) |"
	r=$(tr_ratio TC krill.data kernel.data); md "| krill cold / kernel cold | $r | ≤ 2.5 | $(verdict "$r" 2.5) |"
	md ""
	md "krill's peak RSS is GNU time's maximum over krill (the FUSE server) and its descendants (target: server ≤ 64 MiB)."
}
tr_ratio() { # ARRAY A B
	local -n arr=$1
	if [ -n "${arr[$2]:-}" ] && [ -n "${arr[$3]:-}" ]; then ratio "${arr[$2]}" "${arr[$3]}"; else echo n/a; fi
}

# =============================================================== d. join scaling
write_scaler() {
	cat > "$S/scale.sh" <<-'EOF'
		#!/bin/bash
		# scale.sh MODE N TAG: start N runners of /bin/true at once; print
		# "SECONDS FAILURES LEAKS" (LEAKS: the runner's new /dev/shm objects,
		# which are then removed so that the next round starts clean).
		mode=$1 n=$2 tag=$3 S=$(dirname "$0")
		# The runner's own /dev/shm names (krill: /krill-UID-..., ch-run:
		# /ch-run_...); anything else of this user's is not ours to count.
		case $mode in chrun) pat='*ch-run*' ;; *) pat='*krill-*' ;; esac
		shm() { find /dev/shm -maxdepth 1 -user "$(id -u)" -name "$pat" 2>/dev/null | sort; }
		before=$(shm)
		pids=()
		t0=$(date +%s.%N)
		for i in $(seq "$n"); do
			case $mode in
			join) "$S/krill" run --join-ct="$n" --join-tag="$tag" "$S/tiny.sqfs" -- /bin/true & ;;
			indep) "$S/krill" run "$S/tiny.sqfs" -- /bin/true & ;;
			chrun) ch-run --join-ct="$n" --join-tag="$tag" "$S/tiny.sqfs" -- /bin/true & ;;
			esac
			pids+=($!)
		done 2>/dev/null
		fail=0
		for p in "${pids[@]}"; do wait "$p" || fail=$((fail + 1)); done
		t1=$(date +%s.%N)
		sleep 0.2
		after=$(shm)
		leaks=$(comm -13 <(echo "$before") <(echo "$after") | grep -c . || true)
		# Clean what was leaked, so the next round starts clean.
		comm -13 <(echo "$before") <(echo "$after") | xargs -r rm -f
		echo "$t0 $t1 $fail $leaks" | awk '{ printf "%.3f %d %d\n", $2 - $1, $3, $4 }'
	EOF
	chmod 0755 "$S/scale.sh"
}

section_d() {
	md ""
	md "## d. Join scaling: N peers running \`/bin/true\` on tiny.sqfs, unprivileged"
	md ""
	note "== d. join scaling"
	write_scaler
	md "Wall time until all N have exited (median of $join_reps rounds); failures and leaked /dev/shm objects summed over the rounds."
	md ""
	md "| N | krill --join | fail | leaks | N independent krill | fail | ch-run --join | fail | leaks |"
	md "|---|---|---|---|---|---|---|---|---|"
	local n mode i out
	declare -A JT JF JL
	local probe_join probe_indep
	probe_join=$(as_user "$K" run --join-ct=1 --join-tag=krill-bench-probe "$S/tiny.sqfs" -- /bin/true 2>&1) && probe_join="" \
		|| probe_join=$(why_not "" "$probe_join")
	probe_indep=$(as_user "$K" run "$S/tiny.sqfs" -- /bin/true 2>&1) && probe_indep="" \
		|| probe_indep=$(why_not "" "$probe_indep")
	for n in 1 8 32 128; do
		for mode in join indep chrun; do
			local t=() f=0 l=0
			if { [ $mode = join ] && [ -n "$probe_join" ]; } || { [ $mode = indep ] && [ -n "$probe_indep" ]; }; then
				continue
			fi
			for i in $(seq "$join_reps"); do
				out=$(as_user "$S/scale.sh" "$mode" "$n" "bench-$mode-$n-$i-$$")
				set -- $out
				t+=("$1")
				f=$((f + $2))
				l=$((l + $3))
			done
			JT[$mode.$n]=$(printf '%s\n' "${t[@]}" | median)
			JF[$mode.$n]=$f
			JL[$mode.$n]=$l
			note "N=$n $mode: ${JT[$mode.$n]} s, $f failures, $l leaks"
		done
		md "| $n | $(jcell join "$probe_join") | ${JF[join.$n]:-} | ${JL[join.$n]:-} | $(jcell indep "$probe_indep") | ${JF[indep.$n]:-} | $(jcell chrun "") | ${JF[chrun.$n]:-} | ${JL[chrun.$n]:-} |"
	done
	md ""
	md "| target | value | met |"
	md "|---|---|---|"
	local v="n/a" r="n/a"
	[ -n "${JT[join.128]:-}" ] && v=${JT[join.128]}
	[ -n "${JT[join.128]:-}" ] && [ -n "${JT[indep.128]:-}" ] && r=$(ratio "${JT[join.128]}" "${JT[indep.128]}")
	md "| N=128 joined ≤ 1.0 s | $v s | $(verdict "$v" 1.0) |"
	md "| N=128 joined / 128 independent ≤ 0.2 | $r | $(verdict "$r" 0.2) |"
	md "| failures = 0, leaks = 0 (krill) | $(( ${JF[join.128]:-0} + ${JF[join.32]:-0} + ${JF[join.8]:-0} + ${JF[join.1]:-0} )) failures, $(( ${JL[join.128]:-0} + ${JL[join.32]:-0} + ${JL[join.8]:-0} + ${JL[join.1]:-0} )) leaks | |"
}
jcell() { # MODE WHY (uses n, JT from the caller)
	if [ -n "$2" ]; then echo "$2"; else echo "${JT[$1.$n]:-n/a} s"; fi
}

# =============================================================== e. OCI
section_e() {
	md ""
	md "## e. OCI runtime: krill-oci vs runc (root, /bin/true in the tiny rootfs)"
	md ""
	if [ "$is_root" = 0 ]; then
		md "n/a (needs root)"
		return
	fi
	note "== e. OCI"
	command -v runc >/dev/null && make_bundle "$S/bundle" || { md "n/a (runc or its bundle unavailable)"; return; }
	local b=$S/bundle kr="$S/krill-oci --root $S/krill-oci-root" rr="runc --root $S/runc-root"
	bench_group root \
		oci-krill-run "$kr run --bundle $b krill-bench-e" \
		oci-runc-run "$rr run --bundle $b krill-bench-e" \
		oci-krill-csd "sh -c '$kr create --bundle $b kb-e2 && $kr start kb-e2 && $kr delete --force kb-e2'" \
		oci-runc-csd "sh -c '$rr create --bundle $b kb-e2 && $rr start kb-e2 && $rr delete --force kb-e2'"
	md "| operation | krill-oci | runc | ratio |"
	md "|---|---|---|---|"
	local r
	r=n/a; [ -n "${MED[oci-krill-run]}" ] && [ -n "${MED[oci-runc-run]}" ] && r=$(ratio "${MED[oci-krill-run]}" "${MED[oci-runc-run]}")
	md "| run | $(cell oci-krill-run) | $(cell oci-runc-run) | $r |"
	r=n/a; [ -n "${MED[oci-krill-csd]}" ] && [ -n "${MED[oci-runc-csd]}" ] && r=$(ratio "${MED[oci-krill-csd]}" "${MED[oci-runc-csd]}")
	md "| create + start + delete | $(cell oci-krill-csd) | $(cell oci-runc-csd) | $r |"
	section_e_podman
	md ""
	ratio_row "krill-oci / runc, create + start + delete" oci-krill-csd oci-runc-csd 0.3
	ratio_row "podman run --rm: krill-oci / runc" oci-podman-krill oci-podman-runc 0.7
}

# podman run --rm IMG true, with each runtime (private storage, no network;
# default_ulimits = [] because root may lack CAP_SYS_RESOURCE here).
section_e_podman() {
	MED[oci-podman-krill]="" MED[oci-podman-runc]=""
	WHY[oci-podman-krill]="n/a (podman is not installed)" WHY[oci-podman-runc]=${WHY[oci-podman-krill]}
	command -v podman >/dev/null || return 0
	local pm=$S/podman
	mkdir -p "$pm"
	printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
		> "$pm/containers.conf"
	local p="env CONTAINERS_CONF=$pm/containers.conf podman --root $pm/storage --runroot $pm/run --tmpdir $pm/tmp"
	tar -C "$S/tiny" -cf "$pm/tiny.tar" . && $p import -q "$pm/tiny.tar" krill-bench-tiny >/dev/null ||
		{ WHY[oci-podman-krill]="n/a (podman import failed)"; WHY[oci-podman-runc]=${WHY[oci-podman-krill]}; return 0; }
	bench_group root \
		oci-podman-krill "$p --runtime $S/krill-oci run --rm --network none krill-bench-tiny true" \
		oci-podman-runc "$p --runtime $(command -v runc) run --rm --network none krill-bench-tiny true"
	md "| podman run --rm IMG true | $(cell oci-podman-krill) | $(cell oci-podman-runc) | $(ratio "${MED[oci-podman-krill]:-0}" "${MED[oci-podman-runc]:-0}") |"
	$p system reset -f >/dev/null 2>&1 || true
	findmnt -rn -o TARGET | grep "^$pm/" | sort -r | xargs -r umount -l 2>/dev/null || true
}

# --------------------------------------------------------------- f. SPANK
section_f() {
	md ""
	md "### f. Slurm step launch, 3 nodes, 12 tasks (\`srun -N3 -n12 ... /bin/true\`)"
	md ""
	if [ "$is_root" != 1 ] || [ ! -e build/krill-spank.so ] || ! command -v slurmd >/dev/null; then
		md "n/a (needs root, slurm-wlm and build/krill-spank.so)"
		return 0
	fi
	cp build/krill-spank.so "$S/krill-spank.so"
	chmod a+r "$S/krill-spank.so"
	local h=$top/test/harness/slurm-multi.sh
	export KRILL_SLURM_DIR=$S/slurm KRILL_SLURM_NS=kbench KRILL_SLURM_SUBNET=10.213.11
	if ! KRILL_SLURM_PLUGSTACK="required $S/krill-spank.so krill=$K" "$h" start >/dev/null 2>&1; then
		md "n/a (the multi-node cluster did not start)"
		return 0
	fi
	local frun=$((runs < 20 ? runs : 20))
	local csv=$S/out/f.csv
	note "hyperfine (user, $frun runs): srun plain / --krill-image / krill run --join"
	if ! "$h" exec runuser -u "$user" -- hyperfine -N --runs "$frun" --warmup 2 --style none \
		--export-csv "$csv" \
		-n srun "srun -N3 -n12 --ntasks-per-node=4 /bin/true" \
		-n spank "srun -N3 -n12 --ntasks-per-node=4 --krill-image=$S/tiny.sqfs /bin/true" \
		-n join "srun -N3 -n12 --ntasks-per-node=4 $K run --join $S/tiny.sqfs -- /bin/true" \
		>/dev/null 2>"$S/out/f.err"; then
		md "n/a (hyperfine failed: $(tail -n 1 "$S/out/f.err"))"
		"$h" stop >/dev/null 2>&1
		return 0
	fi
	"$h" stop >/dev/null 2>&1
	local srun spank join
	srun=$(awk -F, '$1 == "srun" { print $3 }' "$csv")
	spank=$(awk -F, '$1 == "spank" { print $3 }' "$csv")
	join=$(awk -F, '$1 == "join" { print $3 }' "$csv")
	md "Medians of $frun runs."
	md ""
	md "| command | median | ratio to plain srun | target |"
	md "|---|---|---|---|"
	md "| plain srun | $(ms "$srun") | 1.00 | |"
	md "| srun --krill-image (SPANK plugin) | $(ms "$spank") | $(ratio "$spank" "$srun") | ≤ 1.3 |"
	md "| srun krill run --join | $(ms "$join") | $(ratio "$join" "$srun") | |"
}

for s in $sections; do
	case $s in
	a | b | c | d | e | f) "section_$s" ;;
	g) . "$top/test/bench/import.sh" && section_g ;;
	*) die "unknown section '$s' (a b c d e f g)" ;;
	esac
done

cp "$report" "$results"
echo
cat "$report"
note "written to ${results#$top/}"
