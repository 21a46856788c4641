//! What the CLI test binaries share: a working folder with a database —
//! a SQLite file, or a fresh schema of the PostgreSQL database named by
//! `TIERWISE_TEST_PG_URL`, dropped at the end — and the `tierwise` binary
//! run against it; the hand-worked fixture book.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The evaluation date of the fixture book's hand-worked values.
pub const AS_OF: &str = "2025-06-30";

/// The hand-worked fixture book.
pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/book")
}

/// The fixture book's export as of [`AS_OF`], worked out by hand from
/// PRODUCT.md 3: (client, column, expected value).
pub const HAND_WORKED: &[(&str, &str, &str)] = &[
    ("C001", "aum", "650000.00"),
    ("C001", "asset_tier", "wealth"),
    ("C001", "risk_level", "C3"),
    ("C001", "assessment_status", "expiring"),
    ("C001", "risk_preference", "balanced"),
    ("C001", "goal", "balanced"),
    ("C001", "experience", "intermediate"),
    ("C001", "lifecycle", "retired"),
    ("C001", "depth", "comprehensive"),
    ("C001", "investor_category", "ordinary"),
    ("C001", "qualified_investor", "false"),
    ("C001", "churn_risk", "high"),
    ("C001", "value_decile", "2"),
    ("C001", "behaviour_risk", "R2"),
    ("C001", "segment", "wealth-retiree"),
    ("C002", "aum", "150000.00"),
    ("C002", "asset_tier", "mass"),
    ("C002", "risk_level", ""),
    ("C002", "assessment_status", "missing"),
    ("C002", "risk_preference", "unknown"),
    ("C002", "goal", "unknown"),
    ("C002", "lifecycle", "starter"),
    ("C002", "depth", "ecosystem"),
    ("C002", "churn_risk", "low"),
    ("C002", "behaviour_risk", "R1"),
    ("C002", "segment", "mass-engaged"),
    ("C003", "asset_tier", "hnw"),
    ("C003", "risk_level", "C5"),
    ("C003", "risk_preference", "aggressive"),
    ("C003", "goal", "growth"),
    ("C003", "assessment_status", "valid"),
    ("C003", "lifecycle", "mature"),
    ("C003", "investor_category", "professional"),
    ("C003", "qualified_investor", "true"),
    ("C003", "private_fund_qualified", "true"),
    ("C003", "value_decile", "1"),
    ("C003", "behaviour_risk", "R5"),
    ("C003", "segment", "hnw-growth"),
    ("C004", "aum", "30000.00"),
    ("C004", "assessment_status", "stale"),
    ("C004", "risk_preference", "conservative"),
    ("C004", "churn_risk", "medium"),
    ("C004", "value_decile", "4"),
    ("C004", "segment", "mass-basic"),
    ("E01", "asset_tier", "hnw"),
    ("E01", "lifecycle", ""),
    ("E01", "investor_category", "professional"),
    ("E01", "qualified_investor", "true"),
    ("E01", "segment", "hnw-preserve"),
    ("E01", "rule_pack", "cn-bank"),
    ("E01", "as_of", AS_OF),
    ("C001", "risk_lowest", "false"),
];

/// Asserts every hand-worked value of the fixture book in an export.
pub fn assert_hand_worked(rows: &HashMap<String, HashMap<String, String>>) {
    assert_eq!(rows.len(), 5);
    for (client, col, want) in HAND_WORKED {
        assert_eq!(rows[*client][*col], *want, "{client}.{col}");
    }
    let value: rust_decimal::Decimal = rows["C003"]["value"].parse().unwrap();
    assert_eq!(value, "195000".parse().unwrap());
}

/// Rewrites one file of a book.
pub fn edit(dir: &Path, file: &str, f: impl FnOnce(String) -> String) {
    let p = dir.join(file);
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, f(text)).unwrap();
}

/// Runs `sql` with psql on `url`: its unaligned output, or None on failure.
pub fn psql(url: &str, sql: &str) -> Option<String> {
    let o =
        Command::new("psql").args([url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]).output().ok()?;
    o.status.success().then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// A working folder and its database.
pub struct Env {
    pub dir: tempfile::TempDir,
    /// (server URL, schema) on PostgreSQL
    pub pg: Option<(String, String)>,
}

impl Env {
    /// A SQLite database file in a fresh folder.
    pub fn sqlite() -> Env {
        Env { dir: tempfile::tempdir().unwrap(), pg: None }
    }

    /// A fresh schema named `{prefix}_{pid}_{n}` on `TIERWISE_TEST_PG_URL`;
    /// None (the test says it is skipped) without that URL or psql.
    pub fn postgres(prefix: &str) -> Option<Env> {
        let url = match std::env::var("TIERWISE_TEST_PG_URL") {
            Ok(u) if !u.is_empty() => u,
            _ => {
                eprintln!("skipped: TIERWISE_TEST_PG_URL not set");
                return None;
            }
        };
        static N: AtomicUsize = AtomicUsize::new(0);
        let schema = format!("{prefix}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        if psql(&url, &format!("CREATE SCHEMA {schema}")).is_none() {
            eprintln!("skipped: psql could not create a schema in {url}");
            return None;
        }
        Some(Env { dir: tempfile::tempdir().unwrap(), pg: Some((url, schema)) })
    }

    /// The SQLite file (SQLite only).
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("t.db")
    }

    /// The database URL (on PostgreSQL with this test's schema as `search_path`).
    pub fn db(&self) -> String {
        match &self.pg {
            None => format!("sqlite://{}", self.db_path().display()),
            Some((url, schema)) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}options=-csearch_path%3D{schema}")
            }
        }
    }

    /// `tierwise ARGS` against this database, in English, with the default pack.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tierwise"));
        c.args(args)
            .env("TIERWISE_DB", self.db())
            .env("TIERWISE_LANG", "en")
            .env_remove("TIERWISE_PACK")
            .current_dir(self.dir.path());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs and asserts success; the standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// A copy of the fixture book that a test may change.
    pub fn book(&self, name: &str) -> PathBuf {
        let dst = self.dir.path().join(name);
        std::fs::create_dir_all(&dst).unwrap();
        for e in std::fs::read_dir(fixture()).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, dst.join(p.file_name().unwrap())).unwrap();
        }
        dst
    }

    /// A generated book of `clients` clients as of [`AS_OF`].
    pub fn generated(&self, clients: &str) -> PathBuf {
        let dir = self.dir.path().join(format!("book{clients}"));
        self.ok(&["generate", "--clients", clients, "--out", dir.to_str().unwrap(), "--as-of", AS_OF]);
        dir
    }

    pub fn import_fixture(&self) {
        let out = self.ok(&["import", fixture().to_str().unwrap()]);
        assert!(out.contains("import committed"), "{out}");
    }

    /// The export: its header, and each row by client id and column.
    pub fn export(&self) -> (String, HashMap<String, HashMap<String, String>>) {
        let csv = self.ok(&["export", "classifications"]);
        let mut lines = csv.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        let rows = lines
            .map(|l| {
                let row: HashMap<String, String> = header.iter().cloned().zip(l.split(',').map(String::from)).collect();
                (row["client_id"].clone(), row)
            })
            .collect();
        (header.join(","), rows)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some((url, schema)) = &self.pg {
            psql(url, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// Runs `args` until it stops at the failpoint `name` (see
/// `tierwise_store::failpoint`), then kills it (SIGKILL). False when it
/// ended without reaching it.
pub fn kill_at(env: &Env, args: &[&str], name: &str) -> bool {
    use std::io::BufRead;
    let mut child = env
        .cmd(args)
        .env("TIERWISE_FAILPOINT", name)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let reached = std::io::BufReader::new(stderr).lines().map_while(Result::ok).any(|l| l.starts_with("failpoint "));
    if reached {
        child.kill().unwrap();
    }
    child.wait().unwrap();
    reached
}
