//! Crash safety: a `tierwise` process killed with SIGKILL in the middle of an
//! import or a classification run leaves the database in its old state, in
//! full, and a re-run completes. The kill is sent once the write transaction
//! is visibly under way (the WAL file has grown), not after a fixed delay.
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

fn have_sqlite3() -> bool {
    Command::new("sqlite3").arg("-version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn an_import_killed_midway_leaves_the_old_state_and_a_rerun_completes() {
    if !have_sqlite3() {
        eprintln!("skipped: the sqlite3 command is not installed");
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
    if !have_sqlite3() {
        eprintln!("skipped: the sqlite3 command is not installed");
        return;
    }
    let env = Env::sqlite();
    let data = env.generated("20000");
    env.ok(&["import", data.to_str().unwrap()]);
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
    if !have_sqlite3() {
        eprintln!("skipped: the sqlite3 command is not installed");
        return;
    }
    let env = Env::sqlite();
    let data = env.generated("20000");
    env.ok(&["import", data.to_str().unwrap()]);
    env.ok(&["classify", "--as-of", "2025-06-30"]);
    let ordinary = env.ok(&["export", "classifications"]);
    let rows = count(&env, "SELECT count(*) FROM classifications");
    let killed = kill_during(&env, &["classify", "--as-of", "2025-06-30", "--partition", "1/2"], 2 << 20);
    assert!(killed, "the partition finished before it could be killed: make the book larger");
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
