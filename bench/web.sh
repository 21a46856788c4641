#!/usr/bin/env bash
# The web application under load, on 127.0.0.1 only, bounded in time:
#
#   bench/web.sh                 # 1,000,000 clients in the database
#   N=100000 bench/web.sh        # a quick run
#
# Builds the release binary, generates a book of N clients, imports and
# classifies it into a SQLite database (kept in $WORK between runs: KEEP=1
# is the default here, the book takes a while at 1M), starts `tierwise serve`
# with the demo logins, and measures with wrk (Debian's package; its Lua
# `done` hook reports the 95th percentile):
#   p95 latency of the client list page, the client 360 page and the check
#     page, for an advisor (their book) and for compliance (the whole book),
#     random clients per request;
#   requests/s of POST /api/v1/checks against GET /hello (hello world on the
#     same server stack), in the same run.
# Prints one table. Environment: N, WORK=/tmp/tierwise-web-bench, DURATION=10s,
# CONNECTIONS=8, THREADS=2, PORT=18080, CARGO_TARGET_DIR.
set -euo pipefail

N=${N:-1000000}
WORK=${WORK:-/tmp/tierwise-web-bench}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/tierwise
DB=$WORK/web-$N.db
BASE=http://127.0.0.1:$PORT
say() { printf '\n== %s\n' "$*" >&2; }

command -v wrk >/dev/null || { say "installing wrk"; apt-get install -y -qq wrk >/dev/null; }
mkdir -p "$WORK"
say "building"
(cd "$REPO" && cargo build --release -q -p tierwise)

if [ ! -s "$DB" ]; then
  say "generating, importing and classifying $N clients (once; kept in $DB)"
  rm -rf "$WORK/data"
  "$BIN" generate --clients "$N" --out "$WORK/data" --as-of 2025-06-30 >/dev/null
  "$BIN" --db "sqlite://$DB" import "$WORK/data" >/dev/null
  # the run stores its alerts, tasks and client notices too (the monitoring sweep)
  "$BIN" --db "sqlite://$DB" classify --as-of 2025-06-30 >/dev/null
  rm -rf "$WORK/data"
fi

say "serving"
"$BIN" --db "sqlite://$DB" serve --demo --addr "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done

login() { # user → "cookie csrf"
  local body hdr
  hdr=$(mktemp)
  body=$(curl -sf -D "$hdr" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"tierwise-demo-1\"}" "$BASE/api/v1/login")
  local cookie csrf
  cookie=$(grep -i '^set-cookie:' "$hdr" | sed -E 's/^[^:]*: *([^;]*).*/\1/' | tr -d '\r')
  csrf=$(printf '%s' "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
  rm -f "$hdr"
  echo "$cookie $csrf"
}

read -r ADV_COOKIE ADV_CSRF < <(login advisor)
read -r COMP_COOKIE COMP_CSRF < <(login compliance)
read -r LEAD_COOKIE LEAD_CSRF < <(login lead)

# client ids: the advisor's book, and a sample of the whole book
curl -sf -H "cookie: $ADV_COOKIE" "$BASE/api/v1/clients/export" | tail -n +2 | cut -d, -f1 >"$WORK/adv_ids.txt"
curl -sf -H "cookie: $COMP_COOKIE" "$BASE/api/v1/clients?limit=200" \
  | python3 -c 'import json,sys; [print(r["client_id"]) for r in json.load(sys.stdin)["rows"]]' >"$WORK/all_ids.txt"
ADV_ID=$(head -1 "$WORK/adv_ids.txt")
PRODUCT=$(curl -sf -H "cookie: $ADV_COOKIE" "$BASE/api/v1/products" | python3 -c 'import json,sys; print([p["product_id"] for p in json.load(sys.stdin) if p["status"]=="on_sale"][0])')

run_wrk() { # name script url [cookie csrf ids]
  local name=$1 script=$2 url=$3
  COOKIE=${4:-} CSRF=${5:-} IDS=${6:-} PRODUCT=$PRODUCT CLIENT=$ADV_ID \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$REPO/bench/web/$script" "$url" 2>&1 \
    | tee "$WORK/wrk-$name.log" | grep '^RESULT' | sed "s/^RESULT/$name/"
}

say "measuring ($DURATION each, $CONNECTIONS connections)"
{
  printf '%-28s %10s %10s %10s %10s\n' "what" "req/s" "p50 ms" "p95 ms" "p99 ms"
  run_wrk hello plain.lua "$BASE/hello"
  run_wrk api_checks check.lua "$BASE/api/v1/checks" "$ADV_COOKIE" "$ADV_CSRF"
  run_wrk list_advisor page.lua "$BASE/clients" "$ADV_COOKIE" "" ""
  run_wrk list_compliance page.lua "$BASE/clients?asset_tier=hnw" "$COMP_COOKIE" "" ""
  run_wrk list_no_match page.lua "$BASE/clients?asset_tier=hnw&branch_id=NONE" "$COMP_COOKIE" "" ""
  run_wrk c360_advisor page.lua "$BASE/clients/__ID__" "$ADV_COOKIE" "" "$WORK/adv_ids.txt"
  run_wrk c360_compliance page.lua "$BASE/clients/__ID__" "$COMP_COOKIE" "" "$WORK/all_ids.txt"
  run_wrk check_page page.lua "$BASE/clients/__ID__/check" "$ADV_COOKIE" "" "$WORK/adv_ids.txt"
  # monitoring and relationship work (issue 5): the workbench pages
  run_wrk my_day_advisor page.lua "$BASE/work" "$ADV_COOKIE" "" ""
  run_wrk my_day_lead page.lua "$BASE/work" "$LEAD_COOKIE" "" ""
  run_wrk team_lead page.lua "$BASE/team" "$LEAD_COOKIE" "" ""
  run_wrk kpis_lead page.lua "$BASE/kpis" "$LEAD_COOKIE" "" ""
  run_wrk kpis_compliance page.lua "$BASE/kpis" "$COMP_COOKIE" "" ""
  run_wrk dashboard_lead page.lua "$BASE/" "$LEAD_COOKIE" "" ""
  run_wrk api_workbench page.lua "$BASE/api/v1/workbench" "$ADV_COOKIE" "" ""
} | column -t
echo "clients in the database: $N"
