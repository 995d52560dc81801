#!/usr/bin/env bash
# Property-based fuzz of `rounds serve` from docs/cds-hooks.openapi.yaml with schemathesis
# (PyPI): every endpoint, generated bodies, a fresh signed client token per call; passes when no
# response is a 5xx. Needs a built `rounds` (swift build) and python3; installs schemathesis,
# pyjwt and cryptography into a virtual environment under $TMPDIR.
#   bash benchmarks/cds-hooks/fuzz.sh [max-examples per operation, default 200]
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-200}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rounds-fuzz.XXXXXX")"
VENV="${ROUNDS_FUZZ_VENV:-${TMPDIR:-/tmp}/rounds-fuzz-venv}"
[ -x "$VENV/bin/schemathesis" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q schemathesis pyjwt cryptography; }

openssl ecparam -name secp384r1 -genkey -noout -out "$WORK/client.key"
openssl pkcs8 -topk8 -nocrypt -in "$WORK/client.key" -out "$WORK/client.pk8"
openssl ec -in "$WORK/client.key" -pubout -out "$WORK/client.pub.pem" 2>/dev/null
printf 'clients:\n  - iss: https://fuzz.test\n    name: Fuzzer\n    public_key: client.pub.pem\n' > "$WORK/clients.yaml"

ROUNDS="${ROUNDS:-.build/debug/rounds}"
export ROUNDS_NO_DEMO=1
"$ROUNDS" serve --port 0 --db "$WORK/rounds.sqlite" --clients "$WORK/clients.yaml" 2> "$WORK/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do grep -q "listening on" "$WORK/serve.log" && break; sleep 0.2; done
BASE="$(grep -o 'http://[0-9.]*:[0-9]*' "$WORK/serve.log" | head -1)"
[ -n "$BASE" ] || { cat "$WORK/serve.log"; exit 1; }
echo "fuzzing $BASE"

ROUNDS_FUZZ_KEY="$WORK/client.pk8" ROUNDS_FUZZ_BASE="$BASE" PYTHONPATH="benchmarks/cds-hooks" SCHEMATHESIS_HOOKS=fuzz_hooks \
  "$VENV/bin/schemathesis" run docs/cds-hooks.openapi.yaml --url "$BASE" --checks not_a_server_error --max-examples "$N"
"$ROUNDS" audit verify --db "$WORK/rounds.sqlite"
