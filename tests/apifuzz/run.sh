#!/usr/bin/env bash
# API fuzzing against the OpenAPI document (issue 7): schemathesis generates requests for every
# operation in docs/api/openapi.json (the document the server serves at /api/v1/openapi.json,
# compiled in with include_str!) and checks that no response is a 5xx and that every response
# matches the document (status code, and body schema for that status).
#
# Runs: without credentials, as an advisor, as a reporter (CaseToken), as an organisation's
# admin and as the operator. The logout operations of each signed-in run go last, in a run of their
# own, so that they do not end the session that the other operations are fuzzed with.
#
#   bash tests/apifuzz/run.sh
#
# Environment: MELDPUNT_BIN, MELDPUNT_TESTKIT (default target/debug/…), APIFUZZ_EXAMPLES (per
# operation, default 50), APIFUZZ_SEED (default 7), APIFUZZ_OUT (default target/apifuzz).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${MELDPUNT_BIN:-$root/target/debug/meldpunt}"
TESTKIT="${MELDPUNT_TESTKIT:-$root/target/debug/meldpunt-testkit}"
EXAMPLES="${APIFUZZ_EXAMPLES:-50}"
SEED="${APIFUZZ_SEED:-7}"
OUT="${APIFUZZ_OUT:-$root/target/apifuzz}"
SCHEMATHESIS_VERSION=4.32.5
VENV="$root/target/apifuzz-venv"
SCHEMA="$root/docs/api/openapi.json"

for b in "$BIN" "$TESTKIT"; do
  [[ -x "$b" ]] || { echo "missing $b (cargo build -p meldpunt -p meldpunt-tests)" >&2; exit 1; }
done

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
PY="$VENV/bin/python"
ST="$VENV/bin/schemathesis"

# The server reads every MELDPUNT_* variable as a setting: start from none of them.
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^MELDPUNT_' || true)

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export MELDPUNT_DATABASE="$work/meldpunt.db"
export MELDPUNT_STATIC_DIR="$root/client-wasm/www"
export MELDPUNT_POW__M_KIB=64 MELDPUNT_POW__DIFFICULTY=2
export MELDPUNT_LOG=warn
# Rate limits high enough that the fuzzer reaches the handlers instead of collecting 429s.
for class in PUBLIC CREATE CASE CASE_GUESS LOGIN ADVISOR; do
  export "MELDPUNT_RATE_LIMIT__${class}__BURST=100000"
  export "MELDPUNT_RATE_LIMIT__${class}__PER_MINUTE=100000"
  export "MELDPUNT_RATE_LIMIT__${class}__GLOBAL_PER_MINUTE=1000000"
done

port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$port"

start_server() {
  "$BIN" serve --listen "127.0.0.1:$port" >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -fsS "$URL/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$work/server.log" >&2
  echo "the server did not start" >&2
  exit 1
}
stop_server() {
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

# --- seed data ------------------------------------------------------------------------------
OPPASS="apifuzz operator passphrase"
ORGPASS="apifuzz org admin passphrase"
"$BIN" admin org create --slug acme --name "Acme BV" >/dev/null
"$BIN" admin org set --slug acme --intro-nl "Welkom" --intro-en "Welcome" --languages nl,en >/dev/null
"$BIN" admin operator create --username beheer --passphrase-fd 3 3<<<"$OPPASS" >/dev/null
adv_invite="$("$BIN" admin advisor invite --org acme | tail -n1)"
"$BIN" admin advisor invite --branch >/dev/null
orgadmin_invite="$("$BIN" admin org-admin invite --org acme 2>/dev/null | tail -n1)"

start_server
advisor="$("$TESTKIT" register --server "$URL" --invite "$adv_invite" --name "Fuzz Adviseur" --keyring "$work/adv.mpk")"
advisor_id="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$advisor")"
echo "a report to fuzz" >"$work/att.txt"
"$TESTKIT" report --server "$URL" --org acme --advisors "$advisor_id" --story "Fuzzing" --attachment "$work/att.txt" >/dev/null
curl -fsS -X POST "$URL/api/v1/admin/accept-invite" -H 'Content-Type: application/json' \
  -d "{\"invite\":\"$orgadmin_invite\",\"username\":\"orgbeheer\",\"passphrase\":\"$ORGPASS\"}" >/dev/null
admin_login() {
  curl -fsS -X POST "$URL/api/v1/admin/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"passphrase\":\"$2\"}" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
operator_token="$(admin_login beheer "$OPPASS")"
orgadmin_token="$(admin_login orgbeheer "$ORGPASS")"
stop_server

# The advisor's login is a signature by the identity key in the (encrypted) keyring, and the
# reporter's case token is derived from a seed inside the testkit: rather than reimplement
# either here, the fixture writes a known advisor session and a known case token into the
# database while the server is stopped (hashed exactly as the server stores them).
read -r advisor_token case_token < <("$PY" - "$MELDPUNT_DATABASE" "$advisor_id" <<'EOF'
import base64, hashlib, os, sqlite3, sys, time
db, advisor_id = sys.argv[1], sys.argv[2]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
unb64 = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
con = sqlite3.connect(db)
session, case = os.urandom(32), os.urandom(32)
con.execute("INSERT INTO sessions (token_hash, advisor_id, expires_at) VALUES (?, ?, ?)",
            (hashlib.sha256(session).digest(), unb64(advisor_id), int(time.time()) + 86400))
n = con.execute("UPDATE cases SET token_hash = ?",
                (hashlib.sha256(b"meldpunt/v1/case-token-hash" + case).digest(),)).rowcount
assert n == 1, n
con.commit()
print(b64(session), b64(case))
EOF
)
start_server
for check in "Bearer $operator_token:/api/v1/admin/me" "Bearer $orgadmin_token:/api/v1/admin/me" \
             "Bearer $advisor_token:/api/v1/advisor/me" "CaseToken $case_token:/api/v1/case"; do
  curl -fsS -o /dev/null -H "Authorization: ${check%%:*}" "$URL${check#*:}" \
    || { echo "fixture credential does not work: ${check#*:}" >&2; exit 1; }
done

# --- fuzz -----------------------------------------------------------------------------------
mkdir -p "$OUT"
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
# Operations that end or lock the fuzzer's own session are fuzzed last, each signed-in run
# without them: the logouts, and PUT /api/v1/admin/instance (which can switch on `require_totp`,
# after which every admin session without TOTP gets 403 `totp_setup_required`).
LAST='^/api/v1/((advisor|admin)/logout|admin/instance)$'
total=0
failed=0
fuzz() { # name, extra schemathesis arguments…
  local name="$1"; shift
  local har="$OUT/$name.har"
  echo "== $name"
  if ! "$ST" run "$SCHEMA" --url "$URL" --checks "$CHECKS" --seed "$SEED" --max-examples "$EXAMPLES" \
      --phases examples,coverage,fuzzing --workers 2 --suppress-health-check all \
      --continue-on-failure --no-color --report har --report-har-path "$har" "$@" >"$OUT/$name.log" 2>&1; then
    failed=1
    echo "   FAILED, see $OUT/$name.log"
  fi
  local n
  n="$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["log"]["entries"]))' "$har" 2>/dev/null || echo 0)"
  total=$((total + n))
  echo "   requests: $n"
  grep -A1 '^Test cases:' "$OUT/$name.log" | tail -n1 | sed 's/^ */   test cases: /' || true
  sed -n '/^Failures:/,/^$/p' "$OUT/$name.log" | sed 's/^/   /' || true
}

# The admins' runs come after the advisor's and the reporter's: they suspend organisations and
# advisors (the fuzzer finds their ids in the admin API's own answers), which would turn the
# advisor's and the reporter's credentials into 401/410 for the rest of the fuzzing.
fuzz noauth
fuzz advisor -H "Authorization: Bearer $advisor_token" --exclude-path-regex "$LAST"
fuzz reporter -H "Authorization: CaseToken $case_token"
fuzz advisor-last -H "Authorization: Bearer $advisor_token" --include-path-regex "$LAST"
fuzz orgadmin -H "Authorization: Bearer $orgadmin_token" --exclude-path-regex "$LAST"
fuzz operator -H "Authorization: Bearer $operator_token" --exclude-path-regex "$LAST"
fuzz orgadmin-last -H "Authorization: Bearer $orgadmin_token" --include-path-regex "$LAST"
fuzz operator-last -H "Authorization: Bearer $operator_token" --include-path-regex "$LAST"

if grep -qiE 'panicked|thread .* panicked' "$work/server.log"; then
  echo "the server panicked:" >&2; grep -iE -A3 'panicked' "$work/server.log" >&2; failed=1
fi
echo "apifuzz: $total requests in total, schemathesis $SCHEMATHESIS_VERSION, seed $SEED, $EXAMPLES examples per operation"
if [[ "$failed" != 0 ]]; then echo "apifuzz: FAILED" >&2; exit 1; fi
echo "apifuzz: no 5xx, every response matches docs/api/openapi.json"
