//! Crash safety: a `tierwise` process killed with SIGKILL in the middle of an
//! import or a classification run leaves the database in its old state, in
//! full, and a re-run completes. The kill is sent once the write transaction
//! is visibly under way (the WAL file has grown), or at a failpoint just
//! before a commit whose window is too short to hit by watching (a
//! partition's rows, held in the page cache until its commit writes them) —
//! never after a fixed delay.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `args`, waits until the WAL holds at least `bytes` more, kills it
/// (SIGKILL). Returns false when the command finished before it could be killed.
fn kill_during(env: &Env, args: &[&str], bytes: u64) -> bool {
    let wal = PathBuf::from(format!("{}-wal", env.db_path().display()));
    let before = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let mut child = env.cmd(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let now = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        if now >= before + bytes || Instant::now() > deadline {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A count read straight from the database file with the sqlite3 command
/// (installed by .ci/run), independent of the program under test.
fn count(env: &Env, sql: &str) -> i64 {
    sqlite_count(&env.db_path(), sql).unwrap()
}

fn sqlite_count(db: &Path, sql: &str) -> Option<i64> {
    let out = Command::new("sqlite3").arg(db).arg(sql).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Whether the sqlite3 command the checks read with is installed (else the
/// test says it is skipped).
fn have_sqlite3() -> bool {
    let have = Command::new("sqlite3").arg("-version").output().is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("skipped: the sqlite3 command is not installed");
    }
    have
}

/// A fresh SQLite database with a generated book of 20,000 clients imported,
/// and the book's folder; None (skipped) without the sqlite3 command.
fn imported_book() -> Option<(Env, PathBuf)> {
    if !have_sqlite3() {
        return None;
    }
    let env = Env::sqlite();
    let data = env.generated("20000");
    env.ok(&["import", data.to_str().unwrap()]);
    Some((env, data))
}

#[test]
fn an_import_killed_midway_leaves_the_old_state_and_a_rerun_completes() {
    if !have_sqlite3() {
        return;
    }
    let env = Env::sqlite();
    let small = env.generated("200");
    env.ok(&["import", small.to_str().unwrap()]);
    assert_eq!(count(&env, "SELECT count(*) FROM clients"), 200);
    let big = env.generated("20000");
    let killed = kill_during(&env, &["import", big.to_str().unwrap()], 4 << 20);
    assert!(killed, "the import finished before it could be killed: make the book larger");
    // the old state, in full: the first book and nothing of the second
    assert_eq!(count(&env, "SELECT count(*) FROM clients"), 200);
    assert_eq!(count(&env, "SELECT count(*) FROM holdings WHERE client_id > 'C0000200'"), 0);
    env.ok(&["import", big.to_str().unwrap()]);
    assert_eq!(count(&env, "SELECT count(*) FROM clients"), 20000);
}

#[test]
fn a_run_killed_midway_leaves_the_old_runs_and_a_rerun_completes() {
    let Some((env, _data)) = imported_book() else { return };
    env.ok(&["classify", "--as-of", "2025-06-30"]);
    let rows = count(&env, "SELECT count(*) FROM classifications");
    let killed = kill_during(&env, &["classify", "--as-of", "2025-06-30"], 2 << 20);
    assert!(killed, "the run finished before it could be killed: make the book larger");
    assert_eq!(count(&env, "SELECT count(*) FROM classification_runs"), 1);
    assert_eq!(count(&env, "SELECT count(*) FROM classifications"), rows);
    assert_eq!(count(&env, "SELECT count(*) FROM explanations"), rows);
    let out = env.ok(&["classify", "--as-of", "2025-06-30"]);
    assert!(out.contains("run #2"), "{out}");
    assert_eq!(count(&env, "SELECT count(*) FROM classifications"), 2 * rows);
}

#[test]
fn a_partition_killed_midway_leaves_none_of_its_rows_and_a_rerun_completes() {
    let Some((env, _data)) = imported_book() else { return };
    env.ok(&["classify", "--as-of", "2025-06-30"]);
    let ordinary = env.ok(&["export", "classifications"]);
    let rows = count(&env, "SELECT count(*) FROM classifications");
    // a partition's rows stay in SQLite's page cache until its commit writes
    // them: stopped with all of them written, before the commit
    let killed = kill_at(&env, &["classify", "--as-of", "2025-06-30", "--partition", "1/2"], "partition.commit");
    assert!(killed, "the partition ended without reaching its commit");
    // the killed partition's rows are gone whole; readers still see the old run only
    assert_eq!(count(&env, "SELECT count(*) FROM classifications"), rows);
    assert_eq!(count(&env, "SELECT count(*) FROM explanations"), rows);
    assert_eq!(env.ok(&["export", "classifications"]), ordinary);
    for p in ["2/2", "1/2"] {
        env.ok(&["classify", "--as-of", "2025-06-30", "--partition", p]);
    }
    env.ok(&["classify", "--finish-partitions"]);
    assert_eq!(count(&env, "SELECT count(*) FROM classifications"), 2 * rows);
    assert_eq!(env.ok(&["export", "classifications"]), ordinary);
}

/// Issue 4: the finishing step of a partitioned run killed midway leaves the
/// run invisible and still open; finishing it again makes it whole.
#[test]
fn a_finishing_step_killed_midway_leaves_the_run_invisible_and_a_rerun_finishes_it() {
    let Some((env, _data)) = imported_book() else { return };
    env.ok(&["classify", "--as-of", "2025-06-30", "--skip-monitor"]);
    let ordinary = env.ok(&["export", "classifications"]);
    for p in ["1/2", "2/2"] {
        env.ok(&["classify", "--as-of", "2025-06-30", "--partition", p]);
    }
    // its window (the last commit) is too short to hit by watching the WAL
    let killed = kill_at(&env, &["classify", "--finish-partitions", "--skip-monitor"], "run.commit");
    assert!(killed, "the finishing step ended without reaching its last commit");
    // killed with all its rows written, before they commit: the old state
    // in full, never a visible run without its deciles
    assert_eq!(count(&env, "SELECT count(*) FROM classification_runs WHERE finished_at <> ''"), 1);
    assert_eq!(count(&env, "SELECT count(*) FROM value_deciles WHERE run_id = 2"), 0);
    assert_eq!(env.ok(&["export", "classifications"]), ordinary, "readers still see the first run only");
    let out = env.ok(&["classify", "--finish-partitions", "--skip-monitor"]);
    assert!(out.contains("classification run #2") && out.contains("20000 clients"), "{out}");
    assert_eq!(count(&env, "SELECT count(*) FROM value_deciles WHERE run_id = 2"), 20000);
    assert_eq!(env.ok(&["export", "classifications"]), ordinary);
}

/// A monitoring sweep killed midway leaves whole chunks (or nothing), and
/// running it again reaches exactly what an uninterrupted sweep stores.
#[test]
fn a_sweep_killed_midway_is_completed_by_a_rerun() {
    let Some((reference, data)) = imported_book() else { return };
    reference.ok(&["classify", "--as-of", "2025-06-30", "--skip-monitor"]);
    reference.ok(&["monitor", "--as-of", "2025-06-30"]);
    let tables = ["alerts", "tasks", "notices"];
    let want: Vec<i64> = tables.iter().map(|t| count(&reference, &format!("SELECT count(*) FROM {t}"))).collect();
    assert!(want.iter().all(|n| *n > 1000), "{want:?}");

    let env = Env::sqlite();
    env.ok(&["import", data.to_str().unwrap()]);
    env.ok(&["classify", "--as-of", "2025-06-30", "--skip-monitor"]);
    let killed = kill_during(&env, &["monitor", "--as-of", "2025-06-30"], 1 << 20);
    assert!(killed, "the sweep ended before it could be killed: make the book larger");
    let partial: Vec<i64> = tables.iter().map(|t| count(&env, &format!("SELECT count(*) FROM {t}"))).collect();
    assert!(partial.iter().zip(&want).all(|(p, w)| p < w), "{partial:?} vs {want:?}");
    let out = env.ok(&["monitor", "--as-of", "2025-06-30"]);
    assert!(out.contains("monitoring done"), "{out}");
    let got: Vec<i64> = tables.iter().map(|t| count(&env, &format!("SELECT count(*) FROM {t}"))).collect();
    assert_eq!(got, want);
    let again = env.ok(&["monitor", "--as-of", "2025-06-30"]);
    assert!(again.contains("alerts opened 0 · cleared 0 · tasks opened 0"), "{again}");
    assert!(env.ok(&["audit", "verify"]).contains("audit trail intact"));
}
