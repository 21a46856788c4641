//! Crash safety on PostgreSQL: the two stories of `crash.rs` against a fresh
//! schema of the database named by `TIERWISE_TEST_PG_URL`. A `tierwise`
//! process killed with SIGKILL in the middle of an import or a
//! classification run leaves the old state in full, and a re-run completes.
//!
//! The kill is sent once the write is visibly under way, not after a fixed
//! delay: another session (psql) sees the process hold a write lock on a
//! table of the test's schema, and the schema's tables and indexes grown on
//! disk by uncommitted rows. After the kill the test waits until the server
//! has ended the dead client's transaction (no other session holds a lock in
//! the schema), then counts with psql, independent of the program under
//! test. Without `TIERWISE_TEST_PG_URL` (or without `psql`) each test says it
//! was skipped and passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// One number from a query, read by psql in this test's schema.
fn count(env: &Env, sql: &str) -> i64 {
    let out = psql(&env.db(), sql).unwrap_or_else(|| panic!("psql failed: {sql}"));
    out.parse().unwrap_or_else(|_| panic!("{sql}: not a number: {out:?}"))
}

/// Bytes on disk of the schema's tables and indexes, and how many other
/// client sessions (not autovacuum) hold a lock on one of them
/// (`writing`: a write lock).
fn activity(env: &Env, writing: bool) -> (i64, i64) {
    let (url, schema) = env.pg.as_ref().expect("a PostgreSQL env");
    let mode = if writing { "AND l.mode = 'RowExclusiveLock'" } else { "" };
    let sql = format!(
        "SELECT (SELECT coalesce(sum(pg_relation_size(c.oid)), 0)::bigint FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'i'))
             || ' ' ||
                (SELECT count(DISTINCT l.pid) FROM pg_locks l
                 JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_stat_activity a ON a.pid = l.pid AND a.backend_type = 'client backend'
                 WHERE n.nspname = '{schema}' AND l.granted AND l.pid <> pg_backend_pid() {mode})"
    );
    let out = psql(url, &sql).expect("psql: pg_locks / pg_relation_size");
    let (a, b) = out.split_once(' ').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

/// Starts `args`, waits until it writes in this schema and the schema
/// has grown by `bytes`, kills it (SIGKILL), and waits until the server
/// has rolled its transaction back. Returns false when the command
/// finished before it could be killed.
fn kill_during(env: &Env, args: &[&str], bytes: i64) -> bool {
    let (before, _) = activity(env, false);
    let started = Instant::now();
    let mut child = env.cmd(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let (size, writers) = activity(env, true);
        if writers > 0 && size >= before + bytes {
            eprintln!("{args:?}: killed after {:.1?}, {} bytes written", started.elapsed(), size - before);
            break;
        }
        assert!(Instant::now() < deadline, "{args:?}: no write under way after 300 s ({size} bytes, {writers})");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    wait_for_rollback(env, args);
    true
}

/// Waits until the server has noticed a killed client's closed connection
/// and ended its transaction (no session holds a lock in the schema).
fn wait_for_rollback(env: &Env, args: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while activity(env, false).1 > 0 {
        assert!(Instant::now() < deadline, "{args:?}: the killed session still holds locks after 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Rows of `file` whose client_id column sorts after `after` (the columns
/// before it hold no commas in a generated book).
fn rows_after(dir: &Path, file: &str, after: &str) -> i64 {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let mut lines = text.lines();
    let col = lines.next().unwrap().split(',').position(|c| c == "client_id").unwrap();
    lines.filter(|l| l.split(',').nth(col).is_some_and(|id| id > after)).count() as i64
}

#[test]
fn postgres_an_import_killed_midway_leaves_the_old_state_and_a_rerun_completes() {
    let Some(env) = Env::postgres("tw_crash") else { return };
    let small = env.generated("200");
    env.ok(&["import", small.to_str().unwrap()]);
    assert_eq!(count(&env, "SELECT count(*) FROM clients"), 200);
    let holdings = count(&env, "SELECT count(*) FROM holdings");
    let big = env.generated("20000");
    let killed = kill_during(&env, &["import", big.to_str().unwrap()], 4 << 20);
    assert!(killed, "the import finished before it could be killed: make the book larger");
    // the old state, in full: the first book and nothing of the second
    assert_eq!(count(&env, "SELECT count(*) FROM clients"), 200);
    assert_eq!(count(&env, "SELECT count(*) FROM holdings"), holdings);
    assert_eq!(count(&env, "SELECT count(*) FROM holdings WHERE client_id > 'C0000200'"), 0);
    assert_eq!(count(&env, "SELECT count(*) FROM transactions WHERE client_id > 'C0000200'"), 0);
    assert_eq!(count(&env, "SELECT count(*) FROM audit_events WHERE action LIKE 'import%'"), 1);
    // a re-run completes: the new state, in full
    env.ok(&["import", big.to_str().unwrap()]);
    assert_eq!(count(&env, "SELECT count(*) FROM clients"), 20000);
    for (table, file) in [("holdings", "holdings.csv"), ("transactions", "transactions.csv")] {
        assert_eq!(
            count(&env, &format!("SELECT count(*) FROM {table} WHERE client_id > 'C0000200'")),
            rows_after(&big, file, "C0000200"),
            "{table}"
        );
    }
}

#[test]
fn postgres_a_run_killed_midway_leaves_the_old_runs_and_a_rerun_completes() {
    let Some(env) = Env::postgres("tw_crash") else { return };
    let data = env.generated("20000");
    env.ok(&["import", data.to_str().unwrap()]);
    env.ok(&["classify", "--as-of", AS_OF]);
    let rows = count(&env, "SELECT count(*) FROM classifications");
    assert_eq!(rows, 20000);
    let killed = kill_during(&env, &["classify", "--as-of", AS_OF], 2 << 20);
    assert!(killed, "the run finished before it could be killed: make the book larger");
    // the old runs, in full, and nothing of the killed one
    assert_eq!(count(&env, "SELECT count(*) FROM classification_runs"), 1);
    assert_eq!(count(&env, "SELECT count(*) FROM classification_runs WHERE finished_at IS NULL"), 0);
    assert_eq!(count(&env, "SELECT count(*) FROM classifications"), rows);
    assert_eq!(count(&env, "SELECT count(*) FROM explanations"), rows);
    assert_eq!(count(&env, "SELECT count(*) FROM value_deciles"), rows);
    // a re-run completes and takes the next number
    let out = env.ok(&["classify", "--as-of", AS_OF]);
    assert!(out.contains("run #2"), "{out}");
    assert_eq!(count(&env, "SELECT count(*) FROM classifications WHERE run_id = 2"), rows);
    assert_eq!(count(&env, "SELECT count(*) FROM explanations WHERE run_id = 2"), rows);
    assert_eq!(count(&env, "SELECT count(*) FROM value_deciles WHERE run_id = 2"), rows);
}

#[test]
fn postgres_a_partition_killed_midway_leaves_none_of_its_rows_and_a_rerun_completes() {
    let Some(env) = Env::postgres("tw_crash_part") else { return };
    let data = env.generated("20000");
    env.ok(&["import", data.to_str().unwrap()]);
    env.ok(&["classify", "--as-of", AS_OF]);
    let ordinary = env.ok(&["export", "classifications"]);
    let rows = count(&env, "SELECT count(*) FROM classifications");
    // a partition of 10,000 clients sends its rows in one COPY at its end:
    // stopped with all of them sent, before its commit
    let args = ["classify", "--as-of", AS_OF, "--partition", "1/2"];
    let killed = kill_at(&env, &args, "partition.commit");
    assert!(killed, "the partition ended without reaching its commit");
    wait_for_rollback(&env, &args);
    // none of the killed partition's rows; readers still see the old run only
    assert_eq!(count(&env, "SELECT count(*) FROM classifications"), rows);
    assert_eq!(count(&env, "SELECT count(*) FROM explanations"), rows);
    assert_eq!(env.ok(&["export", "classifications"]), ordinary);
    for p in ["2/2", "1/2"] {
        env.ok(&["classify", "--as-of", AS_OF, "--partition", p]);
    }
    env.ok(&["classify", "--finish-partitions"]);
    assert_eq!(count(&env, "SELECT count(*) FROM classifications"), 2 * rows);
    assert_eq!(env.ok(&["export", "classifications"]), ordinary);
}
