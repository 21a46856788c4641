//! The `tierwise` binary end to end on PostgreSQL: the key stories of
//! `cli.rs` (import → classify → export of the hand-worked fixture book, a
//! second run's migrations, an import error storing nothing, the check's
//! JSON, explain) against a fresh schema of the database named by
//! `TIERWISE_TEST_PG_URL`. Without it (or without `psql`, which creates and
//! drops the schemas) each test says it was skipped and passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

#[test]
fn postgres_import_classify_export_match_the_hand_worked_book_and_a_second_run_migrates() {
    let Some(env) = Env::postgres("tw_cli") else { return };
    env.import_fixture();
    let out = env.ok(&["classify", "--as-of", AS_OF]);
    assert!(out.contains("classification run #1") && out.contains("5 clients"), "{out}");
    let (_, rows) = env.export();
    // the same hand-worked values as on SQLite
    assert_hand_worked(&rows);

    // C002's deposits grow past the wealth threshold: run #2 records the move
    let dir = env.book("more");
    edit(&dir, "holdings.csv", |t| t.replace("C002,P-DEP,150000.00", "C002,P-DEP,650000.00"));
    env.ok(&["import", dir.to_str().unwrap()]);
    let out = env.ok(&["classify", "--as-of", AS_OF]);
    assert!(out.contains("classification run #2"), "{out}");
    assert!(out.contains("clients who changed tier: 1"), "{out}");
    assert_eq!(env.export().1["C002"]["asset_tier"], "wealth");

    let out = env.ok(&["explain", "C001"]);
    assert!(out.contains("Asset tier = Wealth ← aum >= wealth_min (wealth_min = 500000) ‹aum = 650000›"), "{out}");
}

#[test]
fn postgres_an_import_error_stores_nothing() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("clients.csv", "1958-03-12", "1958-02-30", "clients.csv:2: birth_date"),
        ("holdings.csv", "C004,P-DEP,30000.00", "C004,P-NOPE,30000.00", "holdings.csv:9: product_id"),
        ("transactions.csv", "deposit,20000", "deposit,-20000", "transactions.csv:4: amount"),
    ];
    for (file, from, to, want) in cases {
        let Some(env) = Env::postgres("tw_cli") else { return };
        let dir = env.book("bad");
        edit(&dir, "clients.csv", |t| format!("{t}C999,person,新客户,,,,,,,,,,,,,,,,,,,,\n"));
        edit(&dir, file, |t| t.replacen(from, to, 1));
        let o = env.run(&["import", dir.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{want}: import should fail");
        assert!(err.contains(want) && err.contains("nothing was stored"), "expected {want:?} in:\n{err}");
        let out = env.ok(&["classify", "--as-of", AS_OF]);
        assert!(out.contains(" 0 clients"), "{want}: {out}");
    }
}

#[test]
fn postgres_check_json_follows_the_contract() {
    let Some(env) = Env::postgres("tw_cli") else { return };
    env.import_fixture();
    let check = |pack: &str, client: &str, product: &str, extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "--pack",
            pack,
            "check",
            "--client",
            client,
            "--product",
            product,
            "--at",
            "2025-06-30T10:00:00",
            "--json",
        ];
        args.extend_from_slice(extra);
        serde_json::from_str(&env.ok(&args)).unwrap()
    };
    let codes = |v: &serde_json::Value, key: &str| -> Vec<String> {
        v[key].as_array().unwrap().iter().map(|x| x.get("code").unwrap_or(x).as_str().unwrap().to_string()).collect()
    };
    let v = check("cn-bank", "C001", "P-EQ", &[]);
    assert_eq!(v["verdict"], "prohibited");
    assert_eq!(codes(&v, "reasons"), ["risk_exceeds_tolerance"]);
    assert_eq!(v.as_object().unwrap().len(), 5, "{v}");
    let v = check("cn-bank", "C001", "P-BOND", &["--channel", "branch"]);
    assert_eq!(v["verdict"], "match");
    assert_eq!(codes(&v, "obligations"), ["risk_disclosure", "dual_recording", "elderly_special_care"]);
    assert_eq!(check("cn-bank", "C002", "P-BOND", &[])["verdict"], "reassess");
    assert_eq!(
        codes(&check("cn-bank", "C004", "P-BOND", &[]), "reasons"),
        ["material_change", "first_purchase_needs_branch_assessment"]
    );
    assert_eq!(check("cn-csrc", "C003", "P-PF", &[])["verdict"], "match");
    let o = env.run(&["check", "--client", "NOPE", "--product", "P-EQ"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("NOPE"));
}
