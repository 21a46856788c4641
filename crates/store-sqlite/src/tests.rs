//! SQLite runs the storage conformance suite, plus what only SQLite has.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use tierwise_store::DeskStore;

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    (dir, s)
}

#[test]
fn conformance_suite() {
    let mut dirs = Vec::new();
    tierwise_store::conformance::run_all(&mut || {
        let (d, s) = store();
        dirs.push(d);
        s
    });
}

#[test]
fn desk_conformance_suite() {
    let mut dirs = Vec::new();
    tierwise_store::conformance::desk::run_all(&mut || {
        let (d, s) = store();
        dirs.push(d);
        s
    });
}

/// A store with a few chained events, and a connection without the
/// append-only triggers (what someone with the file could do).
fn tampered_store() -> (tempfile::TempDir, SqliteStore, Connection) {
    let (d, s) = store();
    for i in 0..5 {
        s.audit("tester", "test.event", &format!("e{i}"), "{}").unwrap();
    }
    assert_eq!(tierwise_store::verify_audit(&s).unwrap().broken, None);
    let c = s.connect().unwrap().into_inner();
    c.execute_batch("DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;").unwrap();
    (d, s, c)
}

#[test]
fn an_edited_audit_event_breaks_the_chain() {
    let (_d, s, c) = tampered_store();
    c.execute("UPDATE audit_events SET payload = '{\"x\":1}' WHERE seq = 3", []).unwrap();
    let v = tierwise_store::verify_audit(&s).unwrap();
    assert_eq!(v.broken.as_ref().map(|b| b.0), Some(3), "{v:?}");
    assert!(v.broken.unwrap().1.contains("changed"));
}

#[test]
fn an_edited_event_with_a_recomputed_hash_breaks_the_next_link() {
    let (_d, s, c) = tampered_store();
    let (prev, at): (String, String) = c
        .query_row("SELECT prev_hash, at FROM audit_events WHERE seq = 2", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    let h = tierwise_store::audit_hash(&prev, 2, &at, "mallory", "test.event", "e1", "{}");
    c.execute("UPDATE audit_events SET actor = 'mallory', hash = ?1 WHERE seq = 2", [h]).unwrap();
    let v = tierwise_store::verify_audit(&s).unwrap();
    assert_eq!(v.broken.map(|b| b.0), Some(3));
}

#[test]
fn a_deleted_audit_event_breaks_the_chain() {
    let (_d, s, c) = tampered_store();
    c.execute("DELETE FROM audit_events WHERE seq = 2", []).unwrap();
    let v = tierwise_store::verify_audit(&s).unwrap();
    assert_eq!(v.broken.as_ref().map(|b| b.0), Some(2), "{v:?}");
    assert!(v.broken.unwrap().1.contains("missing"));
}

#[test]
fn a_deleted_newest_event_is_found_by_the_head() {
    let (_d, s, c) = tampered_store();
    c.execute("DELETE FROM audit_events WHERE seq = 5", []).unwrap();
    let v = tierwise_store::verify_audit(&s).unwrap();
    assert_eq!(v.events, 4);
    assert_eq!(v.broken.as_ref().map(|b| b.0), Some(5), "{v:?}");
    // and the head cannot simply be moved back
    assert!(c.execute("UPDATE audit_head SET seq = 4", []).is_err());
    assert!(c.execute("DELETE FROM audit_head", []).is_err());
}

#[test]
fn a_version_1_database_is_chained_by_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(MIGRATIONS[0].sql).unwrap();
        c.execute_batch("PRAGMA user_version = 1; BEGIN").unwrap();
        for i in 0..25_000 {
            c.execute(
                "INSERT INTO audit_events (at, actor, action, subject, payload) VALUES (?1, 'cli', 'import.committed', ?2, '{}')",
                params![format!("2025-06-30T10:00:{:02}.000+08:00", i % 60), format!("dir{i}")],
            )
            .unwrap();
        }
        c.execute(
            "INSERT INTO suitability_checks (client_id, product_id, at, verdict, rule_pack, rule_version, payload, recorded_at)
             VALUES ('C1', 'P1', '2025-06-30T10:00:00', 'match', 'cn-bank', '2025.1', '{}', 'x')",
            [],
        )
        .unwrap();
        c.execute_batch("COMMIT").unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    let v = tierwise_store::verify_audit(&s).unwrap();
    assert_eq!((v.events, v.broken), (25_000, None));
    assert_eq!(s.audit_head().unwrap().unwrap(), (25_000, v.head.clone()));
    assert_eq!(s.check(1).unwrap().unwrap().actor, "cli", "checks of version 1 were the CLI's");
    // still append-only, and new events chain on
    let c = s.connect().unwrap();
    assert!(c.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 1", []).is_err());
    assert_eq!(s.audit("tester", "test.event", "x", "{}").unwrap(), 25_001);
    assert_eq!(tierwise_store::verify_audit(&s).unwrap().broken, None);
}

#[test]
fn the_audit_trail_refuses_updates_and_deletes() {
    let (_d, s) = store();
    s.audit("tester", "test.event", "x", "{}").unwrap();
    let c = s.connect().unwrap();
    assert!(c.execute("UPDATE audit_events SET actor = 'mallory'", []).is_err());
    assert!(c.execute("DELETE FROM audit_events", []).is_err());
    let n: i64 = c.query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn a_new_database_has_16_kib_pages_and_an_existing_one_keeps_its_own() {
    let (_dir, s) = store();
    let c = s.connect().unwrap();
    assert_eq!(c.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0)).unwrap(), 16384);
    // a database made elsewhere with 4 KiB pages (SQLite's default) opens as it is
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    Connection::open(&path).unwrap().execute_batch("PRAGMA page_size = 4096; CREATE TABLE t (x)").unwrap();
    let old = SqliteStore::open(&path).unwrap();
    let c = old.connect().unwrap();
    assert_eq!(c.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0)).unwrap(), 4096);
}

#[test]
fn urls_name_sqlite_files() {
    assert_eq!(SqliteStore::path_from_url("sqlite://tierwise.db").unwrap(), PathBuf::from("tierwise.db"));
    assert_eq!(SqliteStore::path_from_url("sqlite:///tmp/x.db").unwrap(), PathBuf::from("/tmp/x.db"));
    assert!(SqliteStore::path_from_url("postgres://x").is_err());
}

#[test]
fn a_newer_schema_is_refused() {
    let (d, s) = store();
    s.connect().unwrap().execute_batch("PRAGMA user_version = 99").unwrap();
    let e = SqliteStore::open(&d.path().join("t.db")).unwrap_err();
    assert!(matches!(e, StoreError::SchemaTooNew { found: 99, .. }), "{e}");
}

#[test]
fn a_large_book_is_read_in_parallel_ranges_each_client_once() {
    use tierwise_domain::Client;
    let (_d, s) = store();
    let ids: Vec<String> = (0..25_000).map(|i| format!("C{i:06}")).collect();
    s.import(&mut |sink| {
        let rows: Vec<Client> = ids.iter().map(|id| Client { client_id: id.clone(), ..Default::default() }).collect();
        sink.put_clients(&rows)?;
        Ok(true)
    })
    .unwrap();
    let cat = tierwise_classify::Catalog::new(Vec::new());
    let mut seen = Vec::new();
    let mut chunks = 0;
    s.scan_books(&cat, 1000, None, &mut |chunk| {
        chunks += 1;
        let got: Vec<String> = chunk.iter().map(|c| c.book.client.client_id.clone()).collect();
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(got, sorted, "a chunk is in id order");
        seen.extend(got);
        Ok(())
    })
    .unwrap();
    assert!(chunks >= 25);
    seen.sort();
    assert_eq!(seen, ids, "every client exactly once");
}

/// Timings of the desk's reads on a real book (not run by default):
/// `TIERWISE_BENCH_DB=/path/to.db cargo test --release -p tierwise-store-sqlite -- --ignored --nocapture desk_timings`
/// on a database after `tierwise generate`, `import` and `classify`.
#[test]
#[ignore]
fn desk_timings() {
    use tierwise_store::{AuditQuery, CheckQuery, ClientQuery, ClientScope};
    let Ok(path) = std::env::var("TIERWISE_BENCH_DB") else { return };
    let s = SqliteStore::open(Path::new(&path)).unwrap();
    let run = s.latest_run().unwrap().map(|r| r.run_id);
    let c = s.connect().unwrap();
    let one = |sql: &str| -> Option<String> { c.query_row(sql, [], |r| r.get(0)).ok() };
    let advisor = one("SELECT advisor_id FROM clients WHERE advisor_id IS NOT NULL LIMIT 1").unwrap_or_default();
    let branch = one("SELECT branch_id FROM clients WHERE branch_id IS NOT NULL LIMIT 1").unwrap_or_default();
    let mid = one("SELECT client_id FROM clients ORDER BY client_id LIMIT 1 OFFSET (SELECT count(*) / 2 FROM clients)")
        .unwrap_or_default();
    let phone =
        one("SELECT phone FROM clients WHERE phone IS NOT NULL ORDER BY client_id DESC LIMIT 1").unwrap_or_default();
    let name =
        one("SELECT name FROM clients WHERE name IS NOT NULL ORDER BY client_id DESC LIMIT 1").unwrap_or_default();
    let surname: String = name.chars().take(1).collect();
    let base = ClientQuery { run_id: run, limit: 50, ..Default::default() };
    let time = |label: &str, f: &mut dyn FnMut() -> usize| {
        f(); // warm
        let mut rows = 0;
        let mut ms: Vec<f64> = (0..7)
            .map(|_| {
                let t = std::time::Instant::now();
                rows = f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        println!("{label:<58} {:>9.3} ms (median of 7)  {rows} rows", ms[3]);
    };
    let st = &s;
    let q = |f: ClientQuery| move || st.list_clients(&f).unwrap().len();
    time("list: all, first page", &mut q(base.clone()));
    time("list: all, page after the middle id", &mut q(ClientQuery { after: Some(mid.clone()), ..base.clone() }));
    time("list: all, 1000 rows", &mut q(ClientQuery { limit: 1000, ..base.clone() }));
    time("list: advisor scope", &mut q(ClientQuery { scope: ClientScope::Advisor(advisor.clone()), ..base.clone() }));
    time(
        "list: branch scope, after the middle id",
        &mut q(ClientQuery { scope: ClientScope::Branch(branch.clone()), after: Some(mid.clone()), ..base.clone() }),
    );
    time("list: tier hnw", &mut q(ClientQuery { asset_tier: Some("hnw".into()), ..base.clone() }));
    time("list: segment hnw-growth", &mut q(ClientQuery { segment: Some("hnw-growth".into()), ..base.clone() }));
    time("list: status expired", &mut q(ClientQuery { assessment_status: Some("expired".into()), ..base.clone() }));
    time("list: above tolerance", &mut q(ClientQuery { above_tolerance: true, ..base.clone() }));
    time(
        "list: a filter nothing matches (whole run walked)",
        &mut q(ClientQuery { asset_tier: Some("none".into()), ..base.clone() }),
    );
    time(
        "list: advisor scope + tier wealth",
        &mut q(ClientQuery {
            scope: ClientScope::Advisor(advisor.clone()),
            asset_tier: Some("wealth".into()),
            ..base.clone()
        }),
    );
    time(
        "list: branch scope + above tolerance",
        &mut q(ClientQuery { scope: ClientScope::Branch(branch.clone()), above_tolerance: true, ..base.clone() }),
    );
    time("list: search client id", &mut q(ClientQuery { search: Some(mid.clone()), ..base.clone() }));
    time("list: search phone", &mut q(ClientQuery { search: Some(phone.clone()), ..base.clone() }));
    time("list: search full name", &mut q(ClientQuery { search: Some(name.clone()), ..base.clone() }));
    time(
        &format!("list: search surname {surname:?}"),
        &mut q(ClientQuery { search: Some(surname.clone()), ..base.clone() }),
    );
    time(
        "list: search surname, advisor scope",
        &mut q(ClientQuery {
            search: Some(surname.clone()),
            scope: ClientScope::Advisor(advisor.clone()),
            ..base.clone()
        }),
    );
    time("list: no run", &mut q(ClientQuery { run_id: None, ..base.clone() }));
    time("list: every page of 1000 (whole book)", &mut || {
        let mut q = ClientQuery { limit: 1000, ..base.clone() };
        let mut n = 0;
        loop {
            let rows = s.list_clients(&q).unwrap();
            n += rows.len();
            if rows.len() < 1000 {
                return n;
            }
            q.after = rows.last().map(|r| r.client_id.clone());
        }
    });
    if let Some(run) = run {
        let t = std::time::Instant::now();
        let n = s.run_counts(run).unwrap().len();
        println!(
            "{:<58} {:>9.3} ms  {n} rows",
            "run_counts: first call (computes)",
            t.elapsed().as_secs_f64() * 1000.0
        );
        time("run_counts: kept", &mut || s.run_counts(run).unwrap().len());
    }
    time("client_history", &mut || s.client_history(&mid).unwrap().len());
    time("client_in_scope", &mut || {
        usize::from(s.client_in_scope(&mid, &ClientScope::Advisor(advisor.clone())).unwrap())
    });
    time("checks: newest", &mut || s.checks(&CheckQuery::default()).unwrap().len());
    time("checks: advisor scope", &mut || {
        s.checks(&CheckQuery { scope: ClientScope::Advisor(advisor.clone()), ..Default::default() }).unwrap().len()
    });
    time("audit: newest", &mut || s.audit_events(&AuditQuery::default()).unwrap().len());
    time("audit: action prefix", &mut || {
        s.audit_events(&AuditQuery { action: Some("import".into()), ..Default::default() }).unwrap().len()
    });
    let checked = one("SELECT client_id FROM suitability_checks ORDER BY check_id DESC LIMIT 1").unwrap_or_default();
    let cq = |f: CheckQuery| move || st.checks(&f).unwrap().len();
    time("checks: verdict warn", &mut cq(CheckQuery { verdict: Some("warn".into()), ..Default::default() }));
    time("checks: confirmed sales only", &mut cq(CheckQuery { confirmed_only: true, ..Default::default() }));
    time("checks: one client", &mut cq(CheckQuery { client_id: Some(checked), ..Default::default() }));
    time(
        "checks: branch scope, page 2",
        &mut cq(CheckQuery {
            scope: ClientScope::Branch(branch.clone()),
            before: one("SELECT max(check_id) - 500 FROM suitability_checks").and_then(|v| v.parse().ok()),
            ..Default::default()
        }),
    );
    let aq = |f: AuditQuery| move || st.audit_events(&f).unwrap().len();
    time("audit: actor", &mut aq(AuditQuery { actor: Some("u7".into()), ..Default::default() }));
    time("audit: subject", &mut aq(AuditQuery { subject: Some("check:4242".into()), ..Default::default() }));
    time("audit: action prefix 'sale.'", &mut aq(AuditQuery { action: Some("sale.".into()), ..Default::default() }));
    time(
        "audit: action prefix 's' (2 actions)",
        &mut aq(AuditQuery { action: Some("s".into()), ..Default::default() }),
    );
    time(
        "audit: actor + action prefix + before",
        &mut aq(AuditQuery {
            actor: Some("u10".into()),
            action: Some("user".into()),
            before: Some(200_000),
            ..Default::default()
        }),
    );
    let t = std::time::Instant::now();
    let v = tierwise_store::verify_audit(&s).unwrap();
    println!("{:<58} {:>9.3} ms  {} events", "verify_audit", t.elapsed().as_secs_f64() * 1000.0, v.events);
}

#[test]
fn work_conformance_suite() {
    let mut dirs = Vec::new();
    tierwise_store::conformance::work::run_all(&mut || {
        let (d, s) = store();
        dirs.push(d);
        s
    });
}

/// Migration 5 moves the explanations of runs stored before it (JSON in a
/// rowid table) into the WITHOUT ROWID table of binary explanations: every
/// row kept byte for byte, and still read as an explanation.
#[test]
fn explanations_stored_as_json_survive_the_move_to_binary() {
    let (dir, s) = store();
    let v2 = r#"{"v":2,"f":["person","600000.00"],"r":["d"],"x":["2025-06-30","1","0",null,null,null,null,null,null,null,null,"P1"]}"#;
    {
        // back to schema 4 as an earlier version left it
        let c = s.connect().unwrap();
        c.execute_batch(
            "DROP TABLE explanations;
             CREATE TABLE explanations (run_id INTEGER NOT NULL, client_id TEXT NOT NULL,
                 explanation TEXT NOT NULL, PRIMARY KEY (run_id, client_id));
             PRAGMA user_version = 4;",
        )
        .unwrap();
        c.execute("INSERT INTO explanations VALUES (1, 'C1', ?1), (1, 'C2', ?1)", [v2]).unwrap();
    }
    drop(s);
    let s = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    let c = s.connect().unwrap();
    let sql: String =
        c.query_row("SELECT sql FROM sqlite_schema WHERE name = 'explanations'", [], |r| r.get(0)).unwrap();
    assert!(sql.contains("WITHOUT ROWID") && sql.contains("BLOB"), "{sql}");
    let stored = s.explanation(1, "C2").unwrap().unwrap();
    assert_eq!(stored, v2.as_bytes());
    assert!(tierwise_classify::Explanation::from_stored(&stored).is_ok());
    let n: i64 = c.query_row("SELECT count(*) FROM explanations", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 2);
}
