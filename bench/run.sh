#!/usr/bin/env bash
# Tierwise against its peers, in one run, from a clean clone:
#
#   bench/run.sh                 # 1,000,000 clients
#   N=100000 bench/run.sh        # a quick run
#
# Builds the release binary, generates a book of N clients (seed 42, as of
# 2025-06-30), then times each step with /usr/bin/time (wall seconds, peak
# resident memory):
#   import    tierwise import (SQLite)           vs  sqlite3 .import of the same files
#   classify  tierwise classify                  vs  DuckDB: bench/duckdb/classify.sql
#   export    tierwise export classifications    vs  DuckDB: COPY of its result to CSV
# (DuckDB's load of the CSV files, bench/duckdb/load.sql, is timed too.)
# Then bench/compare.py compares both classifications cell by cell, and one
# table is printed. Exit status: non-zero when a step fails or any cell differs.
#
# Environment:
#   N=1000000            clients
#   WORK=/tmp/tierwise-bench   work directory (data, databases, logs, Python venv)
#   KEEP=1               keep the data and databases (removed by default; the venv and logs stay)
#   CARGO_TARGET_DIR     honoured by the build and to find the binary
#   BENCH_PYTHON         a Python that already has duckdb (else a venv in $WORK/venv
#                        gets bench/requirements.txt)
#   DUCKDB_THREADS       DuckDB threads (default: every core)
#   TIERWISE_BENCH_PG_URL  postgres://… to also run the PostgreSQL section (see below)
set -euo pipefail

N=${N:-1000000}
WORK=${WORK:-/tmp/tierwise-bench}
AS_OF=2025-06-30
SEED=42
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/tierwise
DATA=$WORK/data
TIME=/usr/bin/time

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

[ -x "$TIME" ] || die "$TIME is missing (apt-get install time)"
mkdir -p "$WORK/logs"

# ------------------------------------------------------------------ tools
if ! command -v sqlite3 >/dev/null; then
  say "installing sqlite3"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq sqlite3 >/dev/null
fi

if [ -n "${BENCH_PYTHON:-}" ]; then
  PY=$BENCH_PYTHON
else
  PY=$WORK/venv/bin/python
  want=$(grep -E '^duckdb==' "$REPO/bench/requirements.txt" | cut -d= -f3)
  have=$("$PY" -c 'import duckdb; print(duckdb.__version__)' 2>/dev/null || true)
  if [ "$have" != "$want" ]; then
    say "Python venv with duckdb $want ($WORK/venv)"
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install -q --disable-pip-version-check -r "$REPO/bench/requirements.txt"
  fi
fi
DUCKDB_VERSION=$("$PY" -c 'import duckdb; print(duckdb.__version__)')

# ------------------------------------------------------------------ build
say "cargo build --release (target: $TARGET)"
(cd "$REPO" && cargo build --release --quiet)
[ -x "$BIN" ] || die "$BIN was not built"

# ------------------------------------------------------------------ measuring
# measure STEP CMD…: runs CMD with its output in $WORK/logs/STEP.log and
# records "seconds peak_kb" in $WORK/logs/STEP.time.
declare -A SECS KB
measure() {
  local step=$1; shift
  printf '%-28s' "$step" >&2
  if ! "$TIME" -f '%e %M' -o "$WORK/logs/$step.time" "$@" >"$WORK/logs/$step.log" 2>&1; then
    echo " FAILED" >&2
    tail -n 30 "$WORK/logs/$step.log" >&2
    die "step $step failed (log: $WORK/logs/$step.log)"
  fi
  local s k
  read -r s k < <(tail -n 1 "$WORK/logs/$step.time")
  SECS[$step]=$s KB[$step]=$k
  printf '%8.2f s %8d MB\n' "${SECS[$step]}" $(( ${KB[$step]} / 1024 )) >&2
}

cleanup() {
  if [ "${KEEP:-}" != 1 ]; then
    rm -rf "$DATA" "$WORK"/*.db "$WORK"/*.db.wal "$WORK"/*.db-wal "$WORK"/*.db-shm "$WORK"/*.csv
  fi
}
trap cleanup EXIT

rm -rf "$DATA" "$WORK"/*.db "$WORK"/*.db.wal "$WORK"/*.db-wal "$WORK"/*.db-shm "$WORK"/*.csv
cd "$REPO"   # the repository's packs/ are the ones in use (compare.py reads packs/cn-bank.toml)
export TIERWISE_DB="sqlite://$WORK/tierwise.db" TIERWISE_LANG=en
unset TIERWISE_PACK

say "$N clients, as of $AS_OF, seed $SEED; work dir $WORK; duckdb $DUCKDB_VERSION; $(nproc) cores"
measure generate "$BIN" generate --clients "$N" --out "$DATA" --as-of "$AS_OF" --seed "$SEED"
ROWS=0
for f in "$DATA"/*.csv; do ROWS=$(( ROWS + $(wc -l <"$f") - 1 )); done

# import: ours (validated, one transaction, indexes, upserts) vs sqlite3 .import (none of that)
measure "tierwise import" "$BIN" import "$DATA"
cat >"$WORK/logs/sqlite-import.sql" <<EOF
.bail on
.mode csv
.import $DATA/advisors.csv advisors
.import $DATA/products.csv products
.import $DATA/clients.csv clients
.import $DATA/holdings.csv holdings
.import $DATA/transactions.csv transactions
.import $DATA/assessments.csv assessments
.import $DATA/interactions.csv interactions
EOF
measure "sqlite3 .import" sqlite3 -batch "$WORK/sqlite-import.db" ".read $WORK/logs/sqlite-import.sql"

# classify and export: ours (SQLite) vs DuckDB computing the same columns from its own tables
measure "tierwise classify" "$BIN" classify --as-of "$AS_OF"
measure "tierwise export" "$BIN" export classifications --out "$WORK/ours.csv"

DUCK=(--db "$WORK/duck.db"); [ -n "${DUCKDB_THREADS:-}" ] && DUCK+=(--threads "$DUCKDB_THREADS")
measure "duckdb load" "$PY" "$REPO/bench/compare.py" load "${DUCK[@]}" --data "$DATA"
measure "duckdb classify" "$PY" "$REPO/bench/compare.py" classify "${DUCK[@]}" --as-of "$AS_OF"
measure "duckdb export" "$PY" "$REPO/bench/compare.py" export "${DUCK[@]}" --out "$WORK/duckdb.csv"

# ------------------------------------------------------------------ PostgreSQL (to be written by the lead)
# BEGIN PostgreSQL section — runs only when TIERWISE_BENCH_PG_URL is set.
# To measure here: tierwise import / classify with TIERWISE_DB=$TIERWISE_BENCH_PG_URL,
# and psql \copy of the same files as the peer; add their steps to the table below.
if [ -n "${TIERWISE_BENCH_PG_URL:-}" ]; then
  say "PostgreSQL section: not written yet; skipped"
fi
# END PostgreSQL section

# ------------------------------------------------------------------ compare
say "bench/compare.py compare (our export vs DuckDB's, cell by cell)"
set +e
"$PY" "$REPO/bench/compare.py" compare --ours "$WORK/ours.csv" --theirs "$WORK/duckdb.csv" | tee "$WORK/logs/compare.log"
CMP=${PIPESTATUS[0]}
set -e

# ------------------------------------------------------------------ table
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "—" }'; }
row() {  # row STEP [PEER]
  local r=""
  [ -n "${2:-}" ] && r="$(ratio "${SECS[$1]}" "${SECS[$2]}") $2"
  local pad=$(( 26 - $(printf '%s' "$r" | wc -m) )); [ "$pad" -ge 0 ] || pad=0
  printf '| %-20s | %8.2f | %7d | %s%*s |\n' "$1" "${SECS[$1]}" $(( ${KB[$1]} / 1024 )) "$r" "$pad" ""
}
echo
echo "$N clients, $ROWS rows in 7 files, as of $AS_OF (seed $SEED); $(nproc) cores; duckdb $DUCKDB_VERSION; $(sqlite3 --version | cut -d' ' -f1-2 | sed 's/^/sqlite /')"
echo
printf '| %-20s | %8s | %7s | %-26s |\n' step seconds "peak MB" "ratio (ours/peer)"
printf '| %-20s | %8s | %7s | %-26s |\n' --- ---: ---: ---
row generate
row "tierwise import" "sqlite3 .import"
row "sqlite3 .import"
row "duckdb load"
row "tierwise classify" "duckdb classify"
row "duckdb classify"
row "tierwise export" "duckdb export"
row "duckdb export"
echo
awk -v r="$ROWS" -v a="${SECS[tierwise import]}" -v b="${SECS[sqlite3 .import]}" 'BEGIN {
  printf "import: %.0f rows/s ours, %.0f rows/s sqlite3 .import: %.2f× its rate (bar: ≥ 0.50×)\n", r / a, r / b, b / a }'
awk -v a="${SECS[tierwise classify]}" -v b="${SECS[duckdb classify]}" -v kb="${KB[tierwise classify]}" 'BEGIN {
  printf "classify: %.2f× DuckDB'"'"'s time (bar: ≤ 1.00×); peak %.0f MB (bar: < 1024 MB)\n", a / b, kb / 1024 }'
inproc() { sed -n "s/^duckdb $1: \([0-9.]*\) s$/\1/p" "$WORK/logs/duckdb $1.log"; }
echo "duckdb in-process (without Python's start): load $(inproc load) s, classify $(inproc classify) s, export $(inproc export) s"
if [ "$CMP" = 0 ]; then
  echo "compare: every cell of our export agrees with DuckDB's"
else
  echo "compare: MISMATCH (see above, and $WORK/logs/compare.log)"
fi
[ "${KEEP:-}" = 1 ] && echo "kept: $WORK (data, tierwise.db, sqlite-import.db, duck.db, ours.csv, duckdb.csv)"
exit "$CMP"
