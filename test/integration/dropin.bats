#!/usr/bin/env bats
# krill as a drop-in for ch-run in job scripts (issue 10 item 7): ch-run's
# --no-home and --feature names, CH_RUNNING, and images by name from
# Charliecloud storage (DIR/img/NAME, ':' -> '+', '/' -> '%').  Where the
# installed ch-run (charliecloud-runtime) can run the same command, its
# answer is compared with krill's.
load helper
bats_require_minimum_version 1.5.0

setup() {
	setup_scratch
	export USER=${USER:-$(id -un)}
	unset CH_IMAGE_STORAGE
	MADE_CH_DEFAULT=""
}
teardown() {
	[ -n "$MADE_CH_DEFAULT" ] && rm -rf "/var/tmp/$USER.ch"
	teardown_scratch
	assert_no_leftovers
}

# A Charliecloud storage directory with the tiny image as library/tiny:1.
ch_storage() { # DIR
	mkdir -p -m 0755 "$1/img"
	cp -a "$TINY" "$1/img/library%tiny+1"
}

@test "dropin: --no-home is accepted and \$HOME stays unbound, as in ch-run" {
	run "$KRILL" run -v --no-home "$TINY" -- sh -c 'echo $HOME; ls -A /home'
	assert_status 0
	assert_line "krill: --no-home: \$HOME isn't bound unless --home is given"
	assert_line "/root"
	! grep -qx "$USER" <<<"$output" || fail "home bound: $output"
	run "$KRILL" run --no-home "$TINY" -- true
	assert_status 0
	assert_output ""
}

@test "dropin: --feature takes ch-run's names, and answers as krill check does" {
	run "$KRILL" run --feature=extglob
	assert_status 0
	check=$("$KRILL" check --json)
	probe() { # NAME -> 0 if krill check says ok
		python3 -c 'import json,sys; d=json.load(sys.stdin)
sys.exit(0 if [c for c in d["checks"] if c["name"]==sys.argv[1]][0]["ok"] else 1)' "$1" <<<"$check"
	}
	for pair in "squash:/dev/fuse" "overlayfs:overlayfs" "tmpfs-xattrs:tmpfs xattrs" \
		"seccomp:seccomp"; do
		feat=${pair%%:*}
		want=0
		probe "${pair#*:}" || want=1
		run "$KRILL" run --feature="$feat"
		[ "$status" = "$want" ] || fail "--feature=$feat: $status, krill check says $want"
		assert_output ""
	done
	run "$KRILL" run --feature=squash
	squash=$status
	run "$KRILL" run --feature=squashfuse
	[ "$status" = "$squash" ] || fail "squash ($squash) and squashfuse ($status) differ"
	run "$KRILL" run --feature=no-such-feature
	assert_status 1
}

@test "dropin: CH_RUNNING has ch-run's value" {
	run "$KRILL" run "$TINY" -- sh -c 'echo "$CH_RUNNING|$KRILL_RUNNING"'
	assert_status 0
	assert_output "Weird Al Yankovic|1"
	command -v ch-run >/dev/null || skip "skipped: ch-run (charliecloud-runtime) is not installed"
	run ch-run "$TINY" -- sh -c 'echo "$CH_RUNNING"'
	assert_output "Weird Al Yankovic"
}

@test "dropin: -s DIR NAME runs DIR/img/NAME with ch-image's naming, as ch-run does" {
	ch_storage "$SCRATCH/ch"
	run "$KRILL" run -s "$SCRATCH/ch" library/tiny:1 -- cat /etc/os-release
	assert_status 0
	assert_line 'NAME="krill tiny"'
	if command -v ch-run >/dev/null; then
		run ch-run -s "$SCRATCH/ch" library/tiny:1 -- cat /etc/os-release
		assert_line 'NAME="krill tiny"'
	fi
	# -s names that directory alone; a name that isn't there says where it looked.
	run "$KRILL" run -s "$SCRATCH/ch" library/tiny:2 -- true
	assert_status 125
	assert_output "krill: error: library/tiny:2: no such image in the current directory or in $SCRATCH/ch"
	# --write on ch-image's own copy is refused, as by ch-run; -W is fine.
	run "$KRILL" run -w -s "$SCRATCH/ch" library/tiny:1 -- true
	assert_status 125
	assert_line "krill: error: --write: $SCRATCH/ch/img/library%tiny+1 is in Charliecloud storage, which ch-image manages"
	run "$KRILL" run -W -s "$SCRATCH/ch" library/tiny:1 -- sh -c 'echo x > /new && cat /new'
	assert_status 0
	assert_output "x"
	[ ! -e "$SCRATCH/ch/img/library%tiny+1/new" ]
}

@test "dropin: \$CH_IMAGE_STORAGE is searched after krill's own storage" {
	ch_storage "$SCRATCH/ch"
	run env CH_IMAGE_STORAGE="$SCRATCH/ch" KRILL_STORAGE="$SCRATCH/krill" \
		"$KRILL" run -v library/tiny:1 -- true
	assert_status 0
	assert_line "krill: image library/tiny:1 is $SCRATCH/ch/img/library%tiny+1 (Charliecloud storage)"
	# A krill storage image of the same name wins.
	mkdir -m 0755 "$SCRATCH/krill"
	cp -a "$TINY" "$SCRATCH/krill/mine"
	echo krill >"$SCRATCH/krill/mine/which"
	mkdir -p "$SCRATCH/ch/img/mine"
	cp -a "$TINY/." "$SCRATCH/ch/img/mine/"
	echo ch >"$SCRATCH/ch/img/mine/which"
	run env CH_IMAGE_STORAGE="$SCRATCH/ch" KRILL_STORAGE="$SCRATCH/krill" \
		"$KRILL" run mine -- cat /which
	assert_output "krill"
	run env CH_IMAGE_STORAGE="$SCRATCH/ch" KRILL_STORAGE="$SCRATCH/nowhere" \
		"$KRILL" run mine -- cat /which
	assert_output "ch"
	run env CH_IMAGE_STORAGE="$SCRATCH/ch" KRILL_STORAGE="$SCRATCH/krill" \
		"$KRILL" run nothing -- true
	assert_status 125
	assert_output "krill: error: nothing: no such image in the current directory or in $SCRATCH/krill or $SCRATCH/ch"
}

@test "dropin: without \$CH_IMAGE_STORAGE, ch-image's default /var/tmp/\$USER.ch is searched" {
	[ -e "/var/tmp/$USER.ch" ] && skip "skipped: /var/tmp/$USER.ch exists (not ours to change)"
	MADE_CH_DEFAULT=1
	ch_storage "/var/tmp/$USER.ch"
	run env KRILL_STORAGE="$SCRATCH/krill" "$KRILL" run library/tiny:1 -- cat /etc/os-release
	assert_status 0
	assert_line 'NAME="krill tiny"'
}
