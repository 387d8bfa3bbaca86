#!/usr/bin/env bats
# krill check, version and --feature; the config files through the CLI.
load helper
bats_require_minimum_version 1.5.0

setup() { setup_scratch; }
teardown() {
	teardown_scratch
	assert_no_leftovers
}

@test "check: every probe reported; exit 0 where krill run works" {
	run "$KRILL" check
	assert_status 0
	for probe in "user namespaces" /dev/fuse overlayfs "tmpfs xattrs" namespaces seccomp cgroups \
		capabilities newuidmap kernel gpu; do
		grep -Eq "^(ok|FAIL) +$probe " <<<"$output" || fail "no $probe line: $output"
	done
	assert_line "krill run works for this user"
	run "$KRILL" check --json
	assert_status 0
	[[ "$output" == *'"run_works": true'* ]] || fail "$output"
	[[ "$output" == *'"name": "kernel"'* ]] || fail "$output"
	run "$KRILL" check --bogus
	assert_status 125
	assert_line "krill: error: --bogus: unknown argument"
}

@test "check: a broken config file fails the check as it fails every run (125)" {
	printf '[run]\nprivate-tmp = maybe\n' >"$SCRATCH/bad.conf"
	run env KRILL_CONFIG="$SCRATCH/bad.conf" "$KRILL" run "$TINY" -- true
	assert_status 125
	err="krill: error: $SCRATCH/bad.conf:2: private-tmp: expected true or false (or yes/no, 1/0), got 'maybe'"
	assert_line "$err"
	run env KRILL_CONFIG="$SCRATCH/bad.conf" "$KRILL" check
	assert_status 125
	assert_line "$err"
	assert_line "FAIL config           ${err#krill: error: }"
	assert_line "krill run can't work for this user: see the hints above"
	run env KRILL_CONFIG="$SCRATCH/bad.conf" "$KRILL" check --json
	assert_status 125
	assert_contains '"run_works": false'
	# A missing KRILL_CONFIG file is as fatal to check as to run.
	run env KRILL_CONFIG="$SCRATCH/none.conf" "$KRILL" check
	assert_status 125
	assert_line "krill: error: can't open $SCRATCH/none.conf: No such file or directory"
	run env KRILL_CONFIG= "$KRILL" check
	assert_status 0
	assert_line "ok   config           the config files krill run reads are valid"
}

@test "version and --feature" {
	run "$KRILL" version
	assert_status 0
	[[ "${lines[0]}" == "krill "[0-9]* ]] || fail "$output"
	[[ "${lines[1]}" == *"+squashfuse"*"+seccomp"*"+oci"* ]] || fail "$output"
	run "$KRILL" --version
	assert_status 0
	run "$KRILL" run --feature=seccomp "$TINY"
	assert_status 0
	run "$KRILL" run --feature=no-such-thing "$TINY"
	assert_status 1
}

@test "config: KRILL_CONFIG overrides; a bad key names the file and line" {
	printf '[run]\nprivate-tmp = true\n' >"$SCRATCH/ok.conf"
	touch "$SCRATCH/host-marker"
	run env KRILL_CONFIG="$SCRATCH/ok.conf" TMPDIR="$SCRATCH" "$KRILL" run "$TINY" -- ls -A /tmp
	assert_status 0
	assert_output ""
	run env KRILL_CONFIG= TMPDIR="$SCRATCH" "$KRILL" run "$TINY" -- ls -A /tmp
	assert_line host-marker
	printf '[run]\n# fine\nbogus = 1\n' >"$SCRATCH/bad.conf"
	run env KRILL_CONFIG="$SCRATCH/bad.conf" "$KRILL" run "$TINY" -- true
	assert_status 125
	assert_output "krill: error: $SCRATCH/bad.conf:3: unknown key 'bogus' in [run]"
	run env KRILL_CONFIG="$SCRATCH/missing.conf" "$KRILL" run "$TINY" -- true
	assert_status 125
	assert_contains "$SCRATCH/missing.conf"
}

@test "config: site binds from the user file, the command line wins on the same option" {
	mkdir -p "$HOME/.config/krill" "$SCRATCH/site"
	echo from-site >"$SCRATCH/site/f"
	cp -a "$HOME/.config/krill" "$SCRATCH/saved" 2>/dev/null || true
	printf '[run]\nbinds = %s:/mnt:ro\n' "$SCRATCH/site" >"$HOME/.config/krill/krill.conf"
	run env -u KRILL_CONFIG "$KRILL" run "$TINY" -- sh -c 'cat /mnt/f; touch /mnt/x 2>&1 | grep -c Read-only'
	rm -f "$HOME/.config/krill/krill.conf"
	assert_status 0
	assert_output "from-site
1"
}
