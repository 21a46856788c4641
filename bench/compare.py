#!/usr/bin/env python3
"""Tierwise against DuckDB: the classification of PRODUCT.md 3, computed by
bench/duckdb/classify.sql, compared cell by cell with `tierwise export
classifications`.

    python3 bench/compare.py all --data DIR --ours EXPORT.csv [--as-of 2025-06-30]

runs every step in one process and prints their times. The steps also run
one at a time (bench/run.sh times each process with /usr/bin/time):

    compare.py load     --data DIR         [--db FILE]   CSV files -> DuckDB tables (load.sql)
    compare.py classify --as-of DATE       [--db FILE]   classify.sql -> table duck_classifications
    compare.py export   --out FILE         [--db FILE]   that table -> CSV (export columns)
    compare.py compare  --ours FILE --theirs FILE        cell by cell; exit 1 on any mismatch

Numbers (aum, value, value_decile) are compared as decimals, booleans as
true/false, everything else as text. Needs `pip install -r bench/requirements.txt`.
"""

import argparse
import csv
import os
import sys
import time
import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
SQL_DIR = HERE / "duckdb"
DEFAULT_PACK = HERE.parent / "packs" / "cn-bank.toml"

COLUMNS = [
    "client_id", "aum", "asset_tier", "risk_level", "risk_lowest", "assessment_status",
    "risk_preference", "goal", "experience", "lifecycle", "depth", "investor_category",
    "qualified_investor", "private_fund_qualified", "churn_risk", "value", "value_decile",
    "behaviour_risk", "segment", "rule_pack", "rule_version", "as_of",
]
NUMERIC = {"aum", "value", "value_decile"}
BOOLEAN = {"risk_lowest", "qualified_investor", "private_fund_qualified"}

# The cn-bank values classify.sql is written with; the pack must still say so.
EXPECTED_PACK = {
    ("assessment", "validity_months"): 12,
    ("assessment", "expiring_within_days"): 30,
    ("windows", "churn_days"): 90,
    ("windows", "activity_days"): 365,
    ("params", "wealth_min"): 500_000,
    ("params", "hnw_min"): 10_000_000,
    ("params", "potential_min"): 200_000,
}
EXPECTED_SEGMENTS = [
    "hnw-growth", "hnw-preserve", "wealth-growth", "wealth-retiree", "wealth-balanced",
    "mass-potential", "mass-engaged", "mass-basic",
]


def fail(msg):
    print(f"compare.py: {msg}", file=sys.stderr)
    sys.exit(2)


def read_pack(path):
    """The pack's id and version, after checking that classify.sql's constants are still the pack's."""
    with open(path, "rb") as f:
        pack = tomllib.load(f)
    if pack.get("id") != "cn-bank":
        fail(f"{path}: classify.sql implements the cn-bank pack, this is {pack.get('id')!r}")
    for (section, key), want in EXPECTED_PACK.items():
        got = pack.get(section, {}).get(key)
        if got != want:
            fail(f"{path}: [{section}] {key} = {got!r}, but classify.sql is written for {want!r}; update it")
    segments = [s.get("id") for s in pack.get("segments", [])]
    if segments != EXPECTED_SEGMENTS:
        fail(f"{path}: segments {segments} differ from the ones classify.sql is written for")
    return pack["id"], str(pack["version"])


def sql_text(s):
    """A SQL string literal."""
    return "'" + str(s).replace("'", "''") + "'"


def connect(db, threads=None):
    con = duckdb.connect(str(db))
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def timed(label, fn):
    t = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - t
    print(f"duckdb {label}: {secs:.2f} s", flush=True)
    return out, secs


# ------------------------------------------------------------------ steps

def step_load(db, data, threads=None):
    data = Path(data).resolve()
    for name in ("clients", "advisors", "products", "holdings", "transactions", "assessments", "interactions"):
        if not (data / f"{name}.csv").is_file():
            fail(f"{data}/{name}.csv: missing (load.sql reads all seven files)")
    if os.path.exists(db):
        os.remove(db)
    if os.path.exists(f"{db}.wal"):
        os.remove(f"{db}.wal")
    con = connect(db, threads)

    def run():
        con.execute("SET VARIABLE data_dir = ?", [str(data)])
        con.execute((SQL_DIR / "load.sql").read_text())
        con.execute("CHECKPOINT")

    _, secs = timed("load", run)
    rows = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
               for t in ("clients", "advisors", "products", "holdings", "transactions", "assessments", "interactions"))
    unscored = con.execute("SELECT count(*) FROM assessments WHERE risk_level IS NULL").fetchone()[0]
    con.close()
    print(f"duckdb load: {rows} rows", flush=True)
    if unscored:
        fail(f"{unscored} assessments carry only answers; classify.sql reads pre-scored results only")
    return secs


def step_classify(db, as_of, pack, threads=None):
    _, version = read_pack(pack)
    con = connect(db, threads)

    def run():
        con.execute((SQL_DIR / "classify.sql").read_text())
        con.execute(
            "CREATE OR REPLACE TABLE duck_classifications AS "
            "SELECT * FROM tierwise_classify(CAST(? AS DATE), ?)",
            [as_of, version],
        )
        con.execute("CHECKPOINT")

    _, secs = timed("classify", run)
    n = con.execute("SELECT count(*) FROM duck_classifications").fetchone()[0]
    con.close()
    print(f"duckdb classify: {n} clients as of {as_of}", flush=True)
    return secs


def step_export(db, out, threads=None):
    con = connect(db, threads)
    out = str(Path(out).resolve())

    def run():
        con.execute(
            f"COPY (SELECT {', '.join(COLUMNS)} FROM duck_classifications ORDER BY client_id) "
            f"TO {sql_text(out)} (FORMAT csv, HEADER true)"
        )

    _, secs = timed("export", run)
    con.close()
    return secs


def canon_sql(col, alias):
    """Text that is equal only when the values are (numbers without trailing zeros)."""
    x = f"coalesce({alias}.{col}, '')"
    if col in NUMERIC:
        return f"(CASE WHEN {x} LIKE '%.%' THEN rtrim(rtrim({x}, '0'), '.') ELSE {x} END)"
    if col in BOOLEAN:
        return f"lower({x})"
    return x


def as_decimal(s):
    try:
        return Decimal(s) if s != "" else None
    except InvalidOperation:
        return None


def same(col, a, b):
    if col in NUMERIC:
        da, db_ = as_decimal(a), as_decimal(b)
        if da is not None and db_ is not None:
            return da == db_
        return a == b
    if col in BOOLEAN:
        return a.lower() == b.lower()
    return a == b


def step_compare(ours, theirs, show=20):
    for label, path in (("ours", ours), ("duckdb", theirs)):
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), None)
        if header != COLUMNS:
            print(f"{label} ({path}): header differs from PRODUCT.md 7.1:\n  {header}\n  {COLUMNS}")
            return 1
    con = duckdb.connect()
    read = "read_csv({}, header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"')"
    con.execute(f"CREATE TEMP TABLE a AS SELECT * FROM {read.format(sql_text(ours))}")
    con.execute(f"CREATE TEMP TABLE b AS SELECT * FROM {read.format(sql_text(theirs))}")
    counts = {}
    for label, t in (("ours", "a"), ("duckdb", "b")):
        n, distinct = con.execute(f"SELECT count(*), count(DISTINCT client_id) FROM {t}").fetchone()
        counts[label] = n
        if n != distinct:
            print(f"{label}: {n - distinct} duplicate client ids")
            return 1
    cols = COLUMNS[1:]
    differs = " OR ".join(f"{canon_sql(c, 'a')} <> {canon_sql(c, 'b')}" for c in cols)
    select = ", ".join(f"coalesce(a.{c}, ''), coalesce(b.{c}, '')" for c in cols)
    cur = con.execute(
        f"SELECT coalesce(a.client_id, b.client_id), a.client_id IS NOT NULL, b.client_id IS NOT NULL, {select} "
        f"FROM a FULL OUTER JOIN b ON a.client_id = b.client_id "
        f"WHERE a.client_id IS NULL OR b.client_id IS NULL OR {differs} "
        f"ORDER BY 1"
    )
    per_column = {c: 0 for c in cols}
    only = {"ours": 0, "duckdb": 0}
    shown = []
    bad_rows = 0
    while True:
        batch = cur.fetchmany(10_000)
        if not batch:
            break
        for row in batch:
            cid, in_a, in_b = row[0], row[1], row[2]
            if not in_a or not in_b:
                only["ours" if in_a else "duckdb"] += 1
                if len(shown) < show:
                    shown.append((cid, "(row)", "present" if in_a else "absent", "present" if in_b else "absent"))
                bad_rows += 1
                continue
            row_bad = False
            for i, c in enumerate(cols):
                a, b = row[3 + 2 * i], row[4 + 2 * i]
                if not same(c, a, b):
                    per_column[c] += 1
                    row_bad = True
                    if len(shown) < show:
                        shown.append((cid, c, a, b))
            bad_rows += row_bad
    print(f"compared {counts['ours']} rows (ours) with {counts['duckdb']} rows (duckdb), "
          f"{len(cols)} columns each after client_id")
    if bad_rows == 0:
        print("no mismatch: every cell agrees")
        return 0
    print(f"MISMATCH: {bad_rows} clients differ")
    for label, n in only.items():
        if n:
            print(f"  clients only in {'our export' if label == 'ours' else 'duckdb'}: {n}")
    for c, n in per_column.items():
        if n:
            print(f"  {c:24} {n} cells")
    print(f"first {len(shown)}:")
    w = max(len(s[0]) for s in shown)
    print(f"  {'client'.ljust(w)}  {'column':24} {'ours':>24}  duckdb")
    for cid, c, a, b in shown:
        print(f"  {cid.ljust(w)}  {c:24} {a!s:>24}  {b}")
    return 1


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p, db=True):
        if db:
            p.add_argument("--db", default=os.environ.get("DUCKDB_FILE", "/tmp/tierwise-bench/duck.db"),
                           help="DuckDB database file (default $DUCKDB_FILE or /tmp/tierwise-bench/duck.db)")
            p.add_argument("--threads", type=int, help="DuckDB threads (default: every core)")

    p = sub.add_parser("load"); common(p); p.add_argument("--data", required=True)
    p = sub.add_parser("classify"); common(p)
    p.add_argument("--as-of", default="2025-06-30"); p.add_argument("--pack", default=str(DEFAULT_PACK))
    p = sub.add_parser("export"); common(p); p.add_argument("--out", required=True)
    p = sub.add_parser("compare"); common(p, db=False)
    p.add_argument("--ours", required=True); p.add_argument("--theirs", required=True)
    p.add_argument("--show", type=int, default=20)
    p = sub.add_parser("all"); common(p)
    p.add_argument("--data", required=True); p.add_argument("--ours", required=True)
    p.add_argument("--as-of", default="2025-06-30"); p.add_argument("--pack", default=str(DEFAULT_PACK))
    p.add_argument("--out", help="DuckDB's CSV (default: duckdb-export.csv beside --db)")
    p.add_argument("--show", type=int, default=20)
    args = ap.parse_args()

    if getattr(args, "db", None):
        Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    if args.cmd == "load":
        step_load(args.db, args.data, args.threads)
    elif args.cmd == "classify":
        step_classify(args.db, args.as_of, args.pack, args.threads)
    elif args.cmd == "export":
        step_export(args.db, args.out, args.threads)
    elif args.cmd == "compare":
        sys.exit(step_compare(args.ours, args.theirs, args.show))
    elif args.cmd == "all":
        out = args.out or str(Path(args.db).parent / "duckdb-export.csv")
        print(f"duckdb {duckdb.__version__}")
        load = step_load(args.db, args.data, args.threads)
        cls = step_classify(args.db, args.as_of, args.pack, args.threads)
        exp = step_export(args.db, out, args.threads)
        print(f"duckdb times: load {load:.2f} s, classify {cls:.2f} s, export {exp:.2f} s")
        sys.exit(step_compare(args.ours, out, args.show))


if __name__ == "__main__":
    main()
