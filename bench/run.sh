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
#   monitor   tierwise monitor (alerts, tasks, notices from the run)  vs  our own classify
#             (issue 5's bar: a sweep within the time of one classification run)
# (`classify --skip-monitor` is timed, so that it does the work DuckDB does;
# `monitor` is its own row.)
# (DuckDB's load of the CSV files, bench/duckdb/load.sql, is timed too.)
# When a PostgreSQL server is there (see TIERWISE_BENCH_PG_URL below), the
# same steps run on it too, in a fresh schema the script creates and drops:
#   import    tierwise import (PostgreSQL)       vs  psql \copy of the same files into
#                                                    plain tables (same columns and types, no keys)
#   classify  tierwise classify (PostgreSQL)     vs  DuckDB, as above
#   export    tierwise export (PostgreSQL)       vs  DuckDB, as above
# Then bench/compare.py compares each of our exports with DuckDB's cell by
# cell, and one table is printed. Exit status: non-zero when a step fails or
# any cell differs.
#
# Environment:
#   N=1000000            clients
#   WORK=/tmp/tierwise-bench   work directory (data, databases, logs, Python venv)
#   KEEP=1               keep the data and databases (removed by default; the venv and logs stay)
#   CARGO_TARGET_DIR     honoured by the build and to find the binary
#   BENCH_PYTHON         a Python that already has duckdb (else a venv in $WORK/venv
#                        gets bench/requirements.txt)
#   DUCKDB_THREADS       DuckDB threads (default: every core)
#   TIERWISE_BENCH_PG_URL  the PostgreSQL database of the PostgreSQL steps, e.g.
#                        postgres://postgres@127.0.0.1:5432/test (the role needs CREATE on it);
#                        default: that URL when a server answers there (pg_isready)
#   PG=0                 skip the PostgreSQL steps
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

# PostgreSQL: TIERWISE_BENCH_PG_URL, else the default URL when a server answers
PG_URL=
PG_SCHEMA=tw_bench_$$
PG_DEFAULT_URL=postgres://postgres@127.0.0.1:5432/test
COPY_STEP='psql \copy'
redact() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#'; }
if [ "${PG:-}" = 0 ]; then
  say "PostgreSQL steps: skipped (PG=0)"
elif [ -n "${TIERWISE_BENCH_PG_URL:-}" ]; then
  PG_URL=$TIERWISE_BENCH_PG_URL
  if ! command -v psql >/dev/null; then
    say "installing postgresql-client (psql)"
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq postgresql-client >/dev/null
  fi
  psql "$PG_URL" -X -q -A -t -c 'SELECT 1' >/dev/null \
    || die "TIERWISE_BENCH_PG_URL: cannot connect to $(redact <<<"$PG_URL") (or PG=0 to skip PostgreSQL)"
elif command -v pg_isready >/dev/null && command -v psql >/dev/null && pg_isready -q -d "$PG_DEFAULT_URL"; then
  PG_URL=$PG_DEFAULT_URL
else
  say "PostgreSQL steps: skipped (no server at $PG_DEFAULT_URL; set TIERWISE_BENCH_PG_URL)"
fi

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
measure "tierwise classify" "$BIN" classify --as-of "$AS_OF" --skip-monitor
measure "tierwise export" "$BIN" export classifications --out "$WORK/ours.csv"
measure "tierwise monitor" "$BIN" monitor --as-of "$AS_OF"
measure "tierwise monitor again" "$BIN" monitor --as-of "$AS_OF"

DUCK=(--db "$WORK/duck.db"); [ -n "${DUCKDB_THREADS:-}" ] && DUCK+=(--threads "$DUCKDB_THREADS")
measure "duckdb load" "$PY" "$REPO/bench/compare.py" load "${DUCK[@]}" --data "$DATA"
measure "duckdb classify" "$PY" "$REPO/bench/compare.py" classify "${DUCK[@]}" --as-of "$AS_OF"
measure "duckdb export" "$PY" "$REPO/bench/compare.py" export "${DUCK[@]}" --out "$WORK/duckdb.csv"

# ------------------------------------------------------------------ PostgreSQL
# BEGIN PostgreSQL section — runs when PG_URL was chosen above
# (TIERWISE_BENCH_PG_URL, or the default URL when a server answers; PG=0 skips it).
# Two fresh schemas, dropped on exit (KEEP=1 keeps them): $PG_SCHEMA for
# tierwise, ${PG_SCHEMA}_copy for the psql \copy peer.
if [ -n "$PG_URL" ]; then
  pgq() { psql "$PG_URL" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
  case $PG_URL in
    *\?*) PG_DB="$PG_URL&options=-csearch_path%3D$PG_SCHEMA" ;;
    *) PG_DB="$PG_URL?options=-csearch_path%3D$PG_SCHEMA" ;;
  esac
  pg_drop() {
    if [ "${KEEP:-}" != 1 ]; then
      pgq -c "DROP SCHEMA IF EXISTS $PG_SCHEMA CASCADE" -c "DROP SCHEMA IF EXISTS ${PG_SCHEMA}_copy CASCADE" \
        >/dev/null 2>&1 || true
    fi
  }
  trap 'pg_drop; cleanup' EXIT
  pgq -c "CREATE SCHEMA $PG_SCHEMA" -c "CREATE SCHEMA ${PG_SCHEMA}_copy" >/dev/null \
    || die "cannot create schema $PG_SCHEMA in $(redact <<<"$PG_URL")"
  PG_VERSION=$(pgq -c 'SHOW server_version' | cut -d' ' -f1)
  # each step starts after a checkpoint where the role may ask for one
  # (superuser or pg_checkpoint), so no step pays for the previous one's writes
  checkpoint() { pgq -c CHECKPOINT >/dev/null 2>&1 || true; }
  say "PostgreSQL $PG_VERSION at $(redact <<<"$PG_URL"), schema $PG_SCHEMA"

  checkpoint
  measure "tierwise import pg" env TIERWISE_DB="$PG_DB" "$BIN" import "$DATA"

  # the peer: the same seven files into tables with the files' columns, of
  # the types of ours (CREATE TABLE AS … WITH NO DATA: no key, no index, no
  # constraint), in one transaction as our import is
  : >"$WORK/logs/psql-copy.sql"
  PG_COUNT=0
  for t in advisors products clients holdings transactions assessments interactions; do
    cols=$(head -n 1 "$DATA/$t.csv" | tr -d '\r')
    pgq -c "CREATE TABLE ${PG_SCHEMA}_copy.$t AS SELECT $cols FROM $PG_SCHEMA.$t WITH NO DATA" >/dev/null
    printf "\\\\copy %s_copy.%s (%s) FROM '%s' WITH (FORMAT csv, HEADER true)\n" \
      "$PG_SCHEMA" "$t" "$cols" "$DATA/$t.csv" >>"$WORK/logs/psql-copy.sql"
    PG_COUNT="$PG_COUNT + (SELECT count(*) FROM ${PG_SCHEMA}_copy.$t)"
  done
  checkpoint
  measure "$COPY_STEP" psql "$PG_URL" -X -q -v ON_ERROR_STOP=1 --single-transaction -f "$WORK/logs/psql-copy.sql"
  copied=$(pgq -c "SELECT $PG_COUNT")
  [ "$copied" = "$ROWS" ] || die "psql \\copy stored $copied rows; the files hold $ROWS"

  checkpoint
  measure "tierwise classify pg" env TIERWISE_DB="$PG_DB" "$BIN" classify --as-of "$AS_OF" --skip-monitor
  measure "tierwise export pg" env TIERWISE_DB="$PG_DB" "$BIN" export classifications --out "$WORK/ours-pg.csv"
  measure "tierwise monitor pg" env TIERWISE_DB="$PG_DB" "$BIN" monitor --as-of "$AS_OF"
fi
# END PostgreSQL section

# ------------------------------------------------------------------ compare
say "bench/compare.py compare (our export vs DuckDB's, cell by cell)"
set +e
"$PY" "$REPO/bench/compare.py" compare --ours "$WORK/ours.csv" --theirs "$WORK/duckdb.csv" | tee "$WORK/logs/compare.log"
CMP=${PIPESTATUS[0]}
CMP_PG=0
if [ -n "$PG_URL" ]; then
  say "bench/compare.py compare (our PostgreSQL export vs DuckDB's, cell by cell)"
  "$PY" "$REPO/bench/compare.py" compare --ours "$WORK/ours-pg.csv" --theirs "$WORK/duckdb.csv" \
    | tee "$WORK/logs/compare-pg.log"
  CMP_PG=${PIPESTATUS[0]}
fi
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
echo "$N clients, $ROWS rows in 7 files, as of $AS_OF (seed $SEED); $(nproc) cores; duckdb $DUCKDB_VERSION; $(sqlite3 --version | cut -d' ' -f1-2 | sed 's/^/sqlite /')${PG_URL:+; postgresql $PG_VERSION}"
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
row "tierwise monitor" "tierwise classify"
row "tierwise monitor again" "tierwise classify"
if [ -n "$PG_URL" ]; then
  row "tierwise import pg" "$COPY_STEP"
  row "$COPY_STEP"
  row "tierwise classify pg" "duckdb classify"
  row "tierwise export pg" "duckdb export"
  row "tierwise monitor pg" "tierwise classify pg"
fi
echo
awk -v r="$ROWS" -v a="${SECS[tierwise import]}" -v b="${SECS[sqlite3 .import]}" 'BEGIN {
  printf "import: %.0f rows/s ours, %.0f rows/s sqlite3 .import: %.2f× its rate (bar: ≥ 0.50×)\n", r / a, r / b, b / a }'
awk -v a="${SECS[tierwise classify]}" -v b="${SECS[duckdb classify]}" -v kb="${KB[tierwise classify]}" 'BEGIN {
  printf "classify: %.2f× DuckDB'"'"'s time (bar: ≤ 1.00×); peak %.0f MB (bar: < 1024 MB)\n", a / b, kb / 1024 }'
if [ -n "$PG_URL" ]; then
  awk -v r="$ROWS" -v a="${SECS[tierwise import pg]}" -v b="${SECS[$COPY_STEP]}" 'BEGIN {
    printf "import pg: %.0f rows/s ours, %.0f rows/s psql \\copy: %.2f× its rate (bar: ≥ 0.50×)\n", r / a, r / b, b / a }'
  awk -v a="${SECS[tierwise classify pg]}" -v b="${SECS[duckdb classify]}" -v kb="${KB[tierwise classify pg]}" 'BEGIN {
    printf "classify pg: %.2f× DuckDB'"'"'s time (bar: ≤ 1.00×); peak %.0f MB (bar: < 1024 MB)\n", a / b, kb / 1024 }'
fi
awk -v a="${SECS[tierwise monitor]}" -v b="${SECS[tierwise classify]}" -v kb="${KB[tierwise monitor]}" 'BEGIN {
  printf "monitor: %.2f× our classify'"'"'s time (bar: ≤ 1.00×); peak %.0f MB\n", a / b, kb / 1024 }'
inproc() { sed -n "s/^duckdb $1: \([0-9.]*\) s$/\1/p" "$WORK/logs/duckdb $1.log"; }
echo "duckdb in-process (without Python's start): load $(inproc load) s, classify $(inproc classify) s, export $(inproc export) s"
if [ "$CMP" = 0 ]; then
  echo "compare: every cell of our export agrees with DuckDB's"
else
  echo "compare: MISMATCH (see above, and $WORK/logs/compare.log)"
fi
if [ -z "$PG_URL" ]; then
  echo "postgresql: not run (PG=0, or no server answered; set TIERWISE_BENCH_PG_URL)"
elif [ "$CMP_PG" = 0 ]; then
  echo "compare pg: every cell of our PostgreSQL export agrees with DuckDB's"
else
  echo "compare pg: MISMATCH (see above, and $WORK/logs/compare-pg.log)"
fi
if [ "${KEEP:-}" = 1 ]; then
  echo "kept: $WORK (data, tierwise.db, sqlite-import.db, duck.db, ours.csv, duckdb.csv${PG_URL:+, ours-pg.csv})"
  [ -z "$PG_URL" ] || echo "kept: schemas $PG_SCHEMA and ${PG_SCHEMA}_copy in $(redact <<<"$PG_URL")"
fi
[ "$CMP" = 0 ] || exit "$CMP"
exit "$CMP_PG"
