//! SQLite runs the storage conformance suite, plus what only SQLite has.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

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
    s.scan_books(&cat, 1000, &mut |chunk| {
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
