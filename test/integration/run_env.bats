#!/usr/bin/env bats
# krill run: the container's environment (SPEC §8).
load helper

setup() { setup_scratch; }
teardown() {
	teardown_scratch
	assert_no_leftovers
}

# The environment inside, one NAME=VALUE per line (busybox env).
krill_env() { # [OPTIONS...]
	run "$KRILL" run "$@" "$TINY" -- env
}
# Fail unless no line of $output starts with NAME=.
refute_var() {
	local l
	for l in "${lines[@]}"; do
		[[ $l == "$1="* ]] && fail "$1 is set: $l"
	done
	return 0
}
refute_line() { # LINE: no line of $output equals it
	local l
	for l in "${lines[@]}"; do
		[ "$l" = "$1" ] && fail "unexpected line <$1> in: $output"
	done
	return 0
}

# ---- the file syntax: one table ---------------------------------------------

@test "env: the --set-env file syntax" {
	# Each row: a line of the file, then the NAME=VALUE expected inside
	# (or - when the line sets nothing).
	local table=(
		'# a comment'                   -
		'   # an indented comment'      -
		''                              -
		'   '                           -
		'A=plain'                       'A=plain'
		"B='single \$A quoted'"         'B=single $A quoted'
		'C="double quoted"'             'C=double quoted'
		'D=$A'                          'D=plain'
		'E=x:$A:y'                      'E=x:plain:y'
		'F=pre$A'                       'F=pre$A'
		'G=$A/bin'                      'G=$A/bin'
		'H=${A}'                        'H=${A}'
		'I=:a::'                        'I=:a::'
		'J=a:$KRILL_T_UNSET:b'          'J=a:b'
		'K=$KRILL_T_UNSET'              'K='
		"L='\$A'"                       'L=$A'
		'M="$A:x"'                      'M=plain:x'
		'N=  spaced  '                  'N=  spaced  '
		'O=a=b'                         'O=a=b'
		'P='                            'P='
		'Q="unmatched'                  'Q="unmatched'
		'R=$KRILL_T_HOST:z'             'R=from host:z'
		'S=1 # not a comment'           'S=1 # not a comment'
		'  T=leading blanks'            'T=leading blanks'
		'A=again'                       'A=again'
		'U=$A'                          'U=again'
		'BASH_FUNC_mod%%=() { x; }'     'BASH_FUNC_mod%%=() { x; }'
	)
	local i
	: > "$SCRATCH/env"
	for ((i = 0; i < ${#table[@]}; i += 2)); do
		printf '%s\n' "${table[i]}" >> "$SCRATCH/env"
	done
	KRILL_T_HOST='from host' krill_env --set-env="$SCRATCH/env"
	assert_status 0
	for ((i = 1; i < ${#table[@]}; i += 2)); do
		[ "${table[i]}" = - ] && continue
		[[ ${table[i]} == A=* ]] && continue # A is set twice
		assert_line "${table[i]}"
	done
	assert_line "A=again"
	refute_line "A=plain"
}

@test "env: --env-no-expand keeps \$VAR items as written" {
	printf '%s\n' 'A=plain' 'D=$A' 'E=x:$A:y' > "$SCRATCH/env"
	krill_env --env-no-expand --set-env="$SCRATCH/env"
	assert_status 0
	assert_line 'D=$A'
	assert_line 'E=x:$A:y'
}

@test "env: CRLF line ends and --set-env0" {
	printf 'A=dos\r\nB=x\r\n' > "$SCRATCH/env"
	run "$KRILL" run --set-env="$SCRATCH/env" "$TINY" -- sh -c 'printf "[%s][%s]" "$A" "$B"'
	assert_status 0
	assert_output "[dos][x]"
	printf 'A=one\nline two\0B=#x\0' > "$SCRATCH/env0"
	run "$KRILL" run --set-env0="$SCRATCH/env0" "$TINY" -- sh -c 'printf "[%s][%s]" "$A" "$B"'
	assert_status 0
	assert_output "[one
line two][#x]"
}

@test "env: a bad line names the file and the line" {
	local bad=(
		'noequals'          "no '=' in line"
		'=x'                'empty variable name'
		'1A=x'              "variable name can't start with '1'"
		'A B=x'             "invalid character ' ' in variable name"
	)
	local i
	for ((i = 0; i < ${#bad[@]}; i += 2)); do
		printf '# ok\nOK=1\n\n%s\nAFTER=1\n' "${bad[i]}" > "$SCRATCH/env"
		run "$KRILL" run --set-env="$SCRATCH/env" "$TINY" -- true
		assert_status 125
		assert_output "krill: error: $SCRATCH/env:4: ${bad[i + 1]}"
	done
}

@test "env: a bad --set-env assignment, a missing file, an empty --unset-env" {
	run "$KRILL" run --set-env='A B=1' "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --set-env=A B=1: invalid character ' ' in variable name"
	run "$KRILL" run --set-env="$SCRATCH/none" "$TINY" -- true
	assert_status 125
	assert_output "krill: error: can't open $SCRATCH/none: No such file or directory"
	run "$KRILL" run --unset-env= "$TINY" -- true
	assert_status 125
	assert_output "krill: error: --unset-env=: empty pattern"
}

# ---- order ------------------------------------------------------------------

@test "env: --set-env and --unset-env apply in command-line order" {
	krill_env --set-env=X=1 --unset-env=X --set-env=Y=2
	assert_status 0
	refute_var X
	assert_line "Y=2"
	krill_env --unset-env='Y*' --set-env=YA=3 --set-env=Z=1 --set-env=Z=2
	assert_line "YA=3"
	assert_line "Z=2"
	printf 'A=file\nB=file\n' > "$SCRATCH/env"
	krill_env --set-env=A=before --set-env="$SCRATCH/env" --unset-env=B --set-env=C='$A'
	assert_line "A=file"
	refute_var B
	assert_line "C=file"
	# A value may be a path; a file name may hold '='.
	printf 'FROM_FILE=yes\n' > "$SCRATCH/a=b"
	krill_env --set-env=V=/x/y --set-env="$SCRATCH/a=b"
	assert_line "V=/x/y"
	assert_line "FROM_FILE=yes"
	KRILL_T_1=a KRILL_T_2=b krill_env --unset-env='KRILL_T_*'
	refute_var KRILL_T_1
	refute_var KRILL_T_2
}

@test "env: the host environment passes through; the image's file applies over it" {
	KRILL_T_HOST=h KRILL_IMAGE=host krill_env
	assert_status 0
	assert_line "KRILL_T_HOST=h"
	assert_line "KRILL_IMAGE=tiny"
	KRILL_IMAGE=host krill_env --set-env=KRILL_IMAGE=mine
	assert_line "KRILL_IMAGE=mine"
}

@test "env: /ch/environment is read when the image has no /.krill" {
	cp -a "$TINY" "$SCRATCH/img"
	rm -rf "$SCRATCH/img/.krill"
	mkdir "$SCRATCH/img/ch"
	echo 'CH_VAR=charlie' > "$SCRATCH/img/ch/environment"
	run "$KRILL" run "$SCRATCH/img" -- env
	assert_status 0
	assert_line "CH_VAR=charlie"
	refute_var KRILL_IMAGE
}

@test "env: a bad line in the image's file names it" {
	cp -a "$TINY" "$SCRATCH/img"
	printf 'A=1\nbad line\n' > "$SCRATCH/img/.krill/environment"
	run "$KRILL" run "$SCRATCH/img" -- true
	assert_status 125
	assert_line "krill: error: /.krill/environment:2: no '=' in line"
}

@test "env: --env-clean keeps only the listed variables, and --env-keep" {
	TERM=xterm TZ=UTC KRILL_T_DROP=1 KRILL_T_KEEP=1 krill_env --env-clean
	assert_status 0
	assert_line "TERM=xterm"
	assert_line "TZ=UTC"
	assert_line "LC_ALL=C"
	refute_var KRILL_T_DROP
	refute_var KRILL_T_KEEP
	TERM=xterm KRILL_T_DROP=1 KRILL_T_KEEP=1 krill_env --env-clean --env-keep='KRILL_T_K*'
	assert_line "KRILL_T_KEEP=1"
	refute_var KRILL_T_DROP
	# Nothing but the kept names, the image's file and krill's rules.
	local names
	names=$(env -i TERM=xterm X=1 "$KRILL" run --env-clean "$TINY" -- env | cut -d= -f1 | sort | tr '\n' ' ')
	[ "$names" = "CH_RUNNING HOME KRILL_IMAGE KRILL_RUNNING PATH TERM " ] || fail "names: $names"
}

# ---- HOME, PATH, TMPDIR, KRILL_RUNNING --------------------------------------

@test "env: HOME is /root when the image has it, else /; /home/\$USER with --home" {
	HOME=/somewhere krill_env
	assert_status 0
	assert_line "HOME=/root"
	cp -a "$TINY" "$SCRATCH/img"
	rmdir "$SCRATCH/img/root"
	run "$KRILL" run "$SCRATCH/img" -- sh -c 'echo $HOME'
	assert_output "/"
	[ -d "$HOME" ] && [ -r "$HOME" ] || skip "HOME=$HOME is not a readable directory"
	run "$KRILL" run --home "$TINY" -- sh -c 'echo $HOME'
	assert_status 0
	assert_output "/home/$(id -un)"
	# USER unset: the caller's name comes from before the namespace (where
	# the caller is uid 0), so HOME, the bind and the passwd entry agree.
	me=$(id -un)
	run env -u USER "$KRILL" run --home "$TINY" -- sh -c 'echo $HOME; grep "^$0:" /etc/passwd | cut -d: -f6; ls -d /home/*' "$me"
	assert_status 0
	assert_output "/home/$me
/home/$me
/home/$me"
	run "$KRILL" run --set-env=HOME=/x "$TINY" -- sh -c 'echo $HOME'
	assert_output "/x"
}

@test "env: PATH gets /bin appended when it lacks it" {
	PATH=/usr/bin:/sbin run "$KRILL" run "$TINY" -- sh -c 'echo $PATH'
	assert_status 0
	assert_output "/usr/bin:/sbin:/bin"
	PATH=/bin:/usr/bin run "$KRILL" run "$TINY" -- sh -c 'echo $PATH'
	assert_output "/bin:/usr/bin"
	run env -u PATH "$KRILL" run "$TINY" -- /bin/sh -c 'echo $PATH'
	assert_output "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

@test "env: TMPDIR is unset" {
	TMPDIR=$SCRATCH krill_env
	assert_status 0
	refute_var TMPDIR
	TMPDIR=$SCRATCH krill_env --set-env=TMPDIR=/tmp/mine
	assert_line "TMPDIR=/tmp/mine"
}

@test "env: KRILL_RUNNING=1 and CH_RUNNING, which the options can't remove" {
	krill_env
	assert_line "KRILL_RUNNING=1"
	assert_line "CH_RUNNING=Weird Al Yankovic"
	krill_env --unset-env=KRILL_RUNNING --set-env=KRILL_RUNNING=0
	assert_line "KRILL_RUNNING=1"
	# ch-run's variable too, with ch-run's value, for scripts that test it
	krill_env --unset-env=CH_RUNNING --set-env=CH_RUNNING=0
	assert_line "CH_RUNNING=Weird Al Yankovic"
	refute_line "KRILL_RUNNING=0"
	krill_env --unset-env='*'
	assert_status 0
	assert_output "KRILL_RUNNING=1
CH_RUNNING=Weird Al Yankovic"
}
