#!/usr/bin/env bats
# krill import from a registry with TLS (a CA this file makes) and basic
# auth (htpasswd): the token-less basic flow, login files, and the errors
# for a wrong password and a missing CA (issue 14).
load helper
load import_helper
bats_require_minimum_version 1.5.0

setup_file() {
	import_tools_or_skip
	command -v openssl >/dev/null || skip "skipped: openssl is not installed"
	command -v htpasswd >/dev/null || skip "skipped: htpasswd (apache2-utils) is not installed"
	T=$BATS_FILE_TMPDIR
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=krill-test-ca \
		-keyout "$T/ca.key" -out "$T/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$T/srv.key" -out "$T/srv.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >"$T/san"
	openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
		-extfile "$T/san" -out "$T/srv.crt" 2>/dev/null
	htpasswd -Bbn alice s3cret >"$T/htpasswd"
	TLS_PORT=$((REG_PORT + 1))
	registry_start "$T/reg" "$TLS_PORT" "$(printf '  tls:\n    certificate: %s\n    key: %s\nauth:\n  htpasswd:\n    realm: krill-test\n    path: %s' \
		"$T/srv.crt" "$T/srv.key" "$T/htpasswd")"
	L=$T/layouts
	mkdir -p "$L"
	make_tiny_layout "$L/tiny"
	echo '{}' >"$T/auth.json"
	REGISTRY_AUTH_FILE=$T/auth.json skopeo copy -q --dest-cert-dir "$T/certs-none" --dest-tls-verify=false \
		--dest-creds alice:s3cret "oci:$L/tiny:t" "docker://127.0.0.1:$TLS_PORT/test/tiny:1"
}

teardown_file() {
	registry_stop "$BATS_FILE_TMPDIR/reg"
}

setup() {
	import_tools_or_skip
	setup_scratch
	T=$BATS_FILE_TMPDIR
	C=$SCRATCH/cache
	SRC=docker://127.0.0.1:$((REG_PORT + 1))/test/tiny:1
}
teardown() {
	teardown_scratch
	assert_no_import_leftovers
}

@test "import tls: --tls-ca and --creds reach a TLS registry with basic auth" {
	run "$KRILL" import -q --cache "$C" --tls-ca "$T/ca.crt" --creds alice:s3cret "$SRC" "$SCRATCH/t.sqfs"
	assert_status 0
	run "$KRILL" run "$SCRATCH/t.sqfs"
	assert_output from-image
}

@test "import tls: the login file podman writes is used" {
	mkdir -p "$SCRATCH/run/containers"
	printf '{"auths": {"127.0.0.1:%s": {"auth": "%s"}}}\n' "$((REG_PORT + 1))" \
		"$(printf alice:s3cret | base64)" >"$SCRATCH/run/containers/auth.json"
	XDG_RUNTIME_DIR=$SCRATCH/run run "$KRILL" import -q --cache "$C" --tls-ca "$T/ca.crt" "$SRC" "$SCRATCH/t.sqfs"
	assert_status 0
	[ -e "$SCRATCH/t.sqfs" ]
}

@test "import tls: a wrong password is one clear line" {
	run "$KRILL" import -q --cache "$C" --tls-ca "$T/ca.crt" --creds alice:wrong "$SRC" "$SCRATCH/t.sqfs"
	assert_status 125
	assert_output "krill: error: docker://127.0.0.1:$((REG_PORT + 1))/test/tiny:1: authentication failed (HTTP 401)
krill: hint: check the user name and password (--creds, podman login, docker login)"
	[ ! -e "$SCRATCH/t.sqfs" ]
	# and the secret is nowhere in what krill wrote
	! grep -rq wrong "$C" 2>/dev/null
}

@test "import tls: no credentials, and a missing CA, each give one line and a hint" {
	run "$KRILL" import -q --cache "$C" --tls-ca "$T/ca.crt" "$SRC" "$SCRATCH/t.sqfs"
	assert_status 125
	assert_output "krill: error: docker://127.0.0.1:$((REG_PORT + 1))/test/tiny: the registry wants a user name and password (HTTP 401)
krill: hint: log in with --creds USER, podman login or docker login"
	run "$KRILL" import -q --cache "$C" --creds alice:s3cret "$SRC" "$SCRATCH/t.sqfs"
	assert_status 125
	[[ "${lines[0]}" == "krill: error: docker://127.0.0.1:$((REG_PORT + 1))/test/tiny:1: SSL certificate problem: "* ]] ||
		fail "got: $output"
	assert_line "krill: hint: give the registry's CA certificate with --tls-ca FILE"
	[ "${#lines[@]}" = 2 ]
}
