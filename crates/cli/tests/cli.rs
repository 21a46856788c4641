//! The `tierwise` binary end to end, over temporary SQLite databases: import
//! (and every class of import error), classify, export, check, questionnaire
//! and rules commands, generate. Expected values are worked out by hand from
//! the fixture book in `tests/fixtures/book` as of 2025-06-30.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

#[test]
fn import_classify_export_match_the_hand_worked_book() {
    let env = Env::sqlite();
    env.import_fixture();
    let out = env.ok(&["classify", "--as-of", AS_OF]);
    assert!(out.contains("classification run #1"), "{out}");
    let (header, rows) = env.export();
    assert_eq!(
        header,
        "client_id,aum,asset_tier,risk_level,risk_lowest,assessment_status,risk_preference,goal,experience,lifecycle,depth,investor_category,qualified_investor,private_fund_qualified,churn_risk,value,value_decile,behaviour_risk,segment,rule_pack,rule_version,as_of"
    );
    assert_hand_worked(&rows);
}

#[test]
fn a_second_run_records_migrations_and_keeps_history() {
    let env = Env::sqlite();
    env.import_fixture();
    env.ok(&["classify", "--as-of", AS_OF]);
    let dir = env.book("more");
    // C002's deposits grow past the wealth threshold
    edit(&dir, "holdings.csv", |t| t.replace("C002,P-DEP,150000.00", "C002,P-DEP,650000.00"));
    env.ok(&["import", dir.to_str().unwrap()]);
    let out = env.ok(&["classify", "--as-of", AS_OF]);
    assert!(out.contains("classification run #2"), "{out}");
    assert!(out.contains("clients who changed tier: 1"), "{out}");
    let (_, rows) = env.export();
    assert_eq!(rows["C002"]["asset_tier"], "wealth");
}

#[test]
fn check_json_follows_the_contract_and_each_regime() {
    let env = Env::sqlite();
    env.import_fixture();
    let at = "2025-06-30T10:00:00";
    let check = |pack: &str, client: &str, product: &str, extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["--pack", pack, "check", "--client", client, "--product", product, "--at", at, "--json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&env.ok(&args)).unwrap()
    };
    let codes = |v: &serde_json::Value, key: &str| -> Vec<String> {
        v[key].as_array().unwrap().iter().map(|x| x.get("code").unwrap_or(x).as_str().unwrap().to_string()).collect()
    };
    let v = check("cn-bank", "C001", "P-EQ", &[]);
    assert_eq!(v["verdict"], "prohibited");
    assert_eq!(codes(&v, "reasons"), ["risk_exceeds_tolerance"]);
    assert_eq!(v["rule_pack"], "cn-bank");
    assert!(v["reasons"][0]["message"].as_str().unwrap().contains("R4"));
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys.len(), 5, "{keys:?}");

    let v = check("cn-bank", "C001", "P-BOND", &["--channel", "branch"]);
    assert_eq!(v["verdict"], "match");
    assert_eq!(codes(&v, "obligations"), ["risk_disclosure", "dual_recording", "elderly_special_care"]);

    let v = check("cn-csrc", "C001", "P-EQ", &["--initiated-by", "advisor"]);
    assert_eq!(v["verdict"], "prohibited");
    assert_eq!(codes(&v, "reasons"), ["risk_exceeds_tolerance", "advisor_initiated_mismatch"]);
    let v = check("cn-csrc", "C001", "P-EQ", &["--initiated-by", "client"]);
    assert_eq!(v["verdict"], "warn");
    assert_eq!(
        codes(&v, "obligations"),
        [
            "risk_disclosure",
            "special_risk_warning",
            "client_confirmation",
            "electronic_trace",
            "enhanced_care",
            "elderly_special_care"
        ]
    );
    assert_eq!(check("cn-bank", "C002", "P-BOND", &[])["verdict"], "reassess");
    // stale, and never bought an investment product with an online assessment: both reported
    assert_eq!(
        codes(&check("cn-bank", "C004", "P-BOND", &[]), "reasons"),
        ["material_change", "first_purchase_needs_branch_assessment"]
    );
    assert_eq!(check("cn-csrc", "C003", "P-PF", &[])["verdict"], "match");
    assert_eq!(codes(&check("cn-bank", "C003", "P-OLD", &[]), "reasons"), ["not_on_sale"]);
    // an unknown client is an error, not a verdict
    let o = env.run(&["check", "--client", "NOPE", "--product", "P-EQ"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("NOPE"));
}

/// Each class of bad input: (what to change, file, from, to, expected fragment of the report).
#[test]
fn every_import_error_names_file_line_column_and_reason_and_stores_nothing() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "unknown column",
            "advisors.csv",
            "branch_id\n",
            "branch_id,colour\n",
            "advisors.csv:1: unknown column \"colour\"",
        ),
        (
            "bad enum",
            "products.csv",
            "P-EQ,成长股票基金,equity_fund,,R4",
            "P-EQ,成长股票基金,equity_fund,,R9",
            "products.csv:4: risk_level",
        ),
        ("bad date", "clients.csv", "1958-03-12", "1958-02-30", "clients.csv:2: birth_date"),
        (
            "bad money",
            "holdings.csv",
            "C001,P-BOND,450000.00",
            "C001,P-BOND,\"450,000.00\"",
            "holdings.csv:3: market_value",
        ),
        ("negative money", "transactions.csv", "deposit,20000", "deposit,-20000", "transactions.csv:4: amount"),
        ("bad timestamp", "interactions.csv", "2025-06-10T15:00:00", "2025-06-10 25:00", "interactions.csv:2: at"),
        ("duplicate id", "clients.csv", "C004,person,刘洋", "C002,person,刘洋", "clients.csv:5: client_id"),
        (
            "unresolved reference",
            "holdings.csv",
            "C004,P-DEP,30000.00",
            "C004,P-NOPE,30000.00",
            "holdings.csv:9: product_id",
        ),
        ("unknown advisor", "clients.csv", "B01,A1,2015-03-03", "B01,A9,2015-03-03", "clients.csv:4: advisor_id"),
        (
            "answers disagree",
            "assessments.csv",
            "q13=C;q14=A;q15=B,,",
            "q13=C;q14=A;q15=B,C2,",
            "assessments.csv:3: risk_level",
        ),
        ("unknown option", "assessments.csv", "q13=C;", "q13=Z;", "assessments.csv:3: answers"),
        ("ragged row", "advisors.csv", "A2,张伟,advisor,3,300,B01", "A2,张伟,advisor,3,300", "advisors.csv:3"),
        ("missing required", "transactions.csv", "T005,C004", ",C004", "transactions.csv:6: txn_id"),
    ];
    for (what, file, from, to, want) in cases {
        let env = Env::sqlite();
        let dir = env.book("bad");
        // a new client that must not be stored when anything else is wrong
        edit(&dir, "clients.csv", |t| format!("{t}C999,person,新客户,,,,,,,,,,,,,,,,,,,,\n"));
        edit(&dir, file, |t| {
            assert!(t.contains(from), "{what}: fixture text {from:?} not in {file}");
            t.replacen(from, to, 1)
        });
        let o = env.run(&["import", dir.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{what}: import should fail");
        assert!(err.contains(want), "{what}: expected {want:?} in:\n{err}");
        assert!(err.contains("nothing was stored"), "{what}: {err}");
        // nothing was written: classifying finds no client at all
        let out = env.ok(&["classify", "--as-of", AS_OF]);
        assert!(out.contains(" 0 clients"), "{what}: {out}");
    }
}

#[test]
fn invalid_utf8_is_an_error_not_a_panic() {
    let env = Env::sqlite();
    let dir = env.book("bytes");
    std::fs::write(dir.join("advisors.csv"), b"advisor_id,name\nA1,\xff\xfe\n").unwrap();
    let o = env.run(&["import", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("advisors.csv:2"));
}

#[test]
fn reimporting_an_id_updates_it() {
    let env = Env::sqlite();
    env.import_fixture();
    let dir = env.book("again");
    edit(&dir, "assessments.csv", |t| {
        t.replace(
            "C004,2025-03-01T10:00:00,online,cn-default-2025,,C2",
            "C004,2025-03-01T10:00:00,online,cn-default-2025,,C4",
        )
    });
    env.ok(&["import", dir.to_str().unwrap()]);
    env.ok(&["classify", "--as-of", AS_OF]);
    let (_, rows) = env.export();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows["C004"]["risk_level"], "C4");
}

#[test]
fn questionnaire_commands() {
    let env = Env::sqlite();
    let q = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires/cn-default.toml");
    let q = q.to_str().unwrap();
    assert!(env.ok(&["questionnaire", "validate", q]).contains("valid"));
    let v: serde_json::Value = serde_json::from_str(&env.ok(&[
        "questionnaire",
        "score",
        q,
        "--answers",
        "q1=A;q2=A;q3=A;q4=A;q5=A;q6=A;q7=A;q8=A;q9=A;q10=A;q11=A;q12=A;q13=A;q14=B;q15=B",
        "--json",
    ]))
    .unwrap();
    assert_eq!(v["level"], "C1");
    assert_eq!(v["lowest"], true);
    assert_eq!(v["score"], 0);
    for key in ["score", "level", "lowest", "horizon_months", "varieties", "goal"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let o = env.run(&["questionnaire", "score", q, "--answers", "q1=A"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not answered"));
}

#[test]
fn rules_validate_show_and_simulate() {
    let env = Env::sqlite();
    assert!(env.ok(&["rules", "list"]).contains("cn-csrc"));
    assert!(env.ok(&["rules", "show", "cn-bank"]).contains("hnw-growth"));
    let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packs/cn-bank.toml");
    let text = std::fs::read_to_string(&pack).unwrap();
    let bad = env.dir.path().join("bad.toml");
    std::fs::write(&bad, text.replace("aum >= hnw_min", "aum >= hnw_mn")).unwrap();
    let o = env.run(&["rules", "validate", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("dimensions.asset_tier.rules[0].when") && err.contains("hnw_mn"), "{err}");

    env.import_fixture();
    env.ok(&["classify", "--as-of", AS_OF]);
    // a candidate that lowers the HNW line to 600,000 moves C001 (650,000) up
    let cand = env.dir.path().join("cand.toml");
    std::fs::write(
        &cand,
        text.replace("hnw_min = 10_000_000", "hnw_min = 600_000")
            .replace("version = \"2025.1\"", "version = \"2025.2-draft\""),
    )
    .unwrap();
    let out = env.ok(&["rules", "simulate", cand.to_str().unwrap(), "--as-of", AS_OF]);
    assert!(out.contains("clients who changed tier: 1"), "{out}");
    assert!(out.contains("nothing was stored"));
    let out = env.ok(&["classify", "--as-of", AS_OF]);
    assert!(out.contains("run #2"), "simulate must not store a run: {out}");
}

#[test]
fn generate_is_deterministic_and_imports_cleanly() {
    let env = Env::sqlite();
    let a = env.dir.path().join("a");
    let b = env.dir.path().join("b");
    for d in [&a, &b] {
        env.ok(&["generate", "--clients", "300", "--out", d.to_str().unwrap(), "--seed", "7", "--as-of", AS_OF]);
    }
    for f in [
        "clients.csv",
        "holdings.csv",
        "transactions.csv",
        "assessments.csv",
        "products.csv",
        "advisors.csv",
        "interactions.csv",
    ] {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
    env.ok(&["import", a.to_str().unwrap()]);
    let out = env.ok(&["classify", "--as-of", AS_OF]);
    assert!(out.contains("300 clients"), "{out}");
    let (_, rows) = env.export();
    assert_eq!(rows.len(), 300);
}

#[test]
fn explain_shows_every_dimension_with_its_rule_and_inputs() {
    let env = Env::sqlite();
    env.import_fixture();
    env.ok(&["classify", "--as-of", AS_OF]);
    let out = env.ok(&["explain", "C001"]);
    assert!(out.contains("Asset tier = Wealth ← aum >= wealth_min (wealth_min = 500000) ‹aum = 650000›"), "{out}");
    assert!(out.contains("Churn risk = High ← churn_ratio >= 0.30"), "{out}");
    assert!(out.contains("Segment = Wealth · retiree"), "{out}");
    let zh = env.ok(&["--lang", "zh", "explain", "C001"]);
    assert!(zh.contains("客户层级 = 财富"), "{zh}");
}

#[test]
fn serve_demo_fills_an_empty_database_and_answers() {
    use std::io::{BufRead, BufReader, Read, Write};
    let env = Env::sqlite();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tierwise"))
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
        .env("TIERWISE_DB", env.db())
        .env("TIERWISE_LANG", "en")
        .env("TIERWISE_DEMO_CLIENTS", "300")
        .current_dir(env.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the server stopped before printing its URL").unwrap();
        if let Some(i) = line.find("http://") {
            break line[i + 7..].trim_end_matches('/').to_string();
        }
    };
    // the demo logins, one per role, follow the URL
    let mut logins = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("API:") {
            break;
        }
        if let Some((_, rest)) = line.split_once("demo login: ") {
            logins.push(rest.split_whitespace().next().unwrap().to_string());
        }
    }
    let send = |method: &str, path: &str, headers: &str, body: &str| -> String {
        let mut s = std::net::TcpStream::connect(&url).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let health = send("GET", "/healthz", "", "");
    let page = send("GET", "/", "", "");
    let login = send("POST", "/api/v1/login", "", r#"{"username":"compliance","password":"tierwise-demo-1"}"#);
    let cookie = login
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: ").map(|c| c.split(';').next().unwrap().to_string()))
        .unwrap_or_default();
    let dashboard = send("GET", "/api/v1/dashboard?lang=en", &format!("Cookie: {cookie}\r\n"), "");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(logins, ["advisor", "lead", "compliance", "ops", "admin"]);
    assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok"), "{health}");
    assert!(page.starts_with("HTTP/1.1 303") && page.contains("location: /login"), "{page}");
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    assert!(dashboard.contains("\"clients\":300"), "{dashboard}");
    assert!(dashboard.contains("mass-basic") || dashboard.contains("mass-engaged"), "{dashboard}");
}

#[test]
fn users_are_added_and_the_audit_chain_verifies_until_a_row_is_edited() {
    let env = Env::sqlite();
    env.import_fixture();
    let out = env.ok(&[
        "--lang",
        "en",
        "user",
        "add",
        "amy",
        "--role",
        "advisor",
        "--advisor",
        "A2",
        "--password",
        "Amy-password-1",
    ]);
    assert!(out.contains("added user amy"), "{out}");
    // a taken username and a weak password are refused
    assert!(!env.run(&["user", "add", "amy", "--role", "admin", "--password", "Amy-password-1"]).status.success());
    assert!(!env.run(&["user", "add", "bob", "--role", "admin", "--password", "short"]).status.success());
    assert!(!env.run(&["user", "add", "bob", "--role", "boss", "--password", "Bob-password-1"]).status.success());
    let out = env.ok(&["--lang", "en", "audit", "verify"]);
    assert!(out.starts_with("audit trail intact"), "{out}");
    let db = env.db_path();
    let sql = |s: &str| {
        let o = std::process::Command::new("sqlite3").arg(&db).arg(s).output();
        o.map(|o| o.status.success()).unwrap_or(false)
    };
    if !sql("SELECT 1") {
        eprintln!("skipped the tamper half: no sqlite3 command");
        return;
    }
    assert!(sql("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor = 'mallory' WHERE seq = 1;"));
    let o = env.run(&["--lang", "en", "audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("BROKEN at event: #1"), "{text}");
}

/// `classify --partition 1/2`, `2/2` and `--finish-partitions` store a run
/// whose export equals an unpartitioned run's, visible only once finished.
fn a_partitioned_run_exports_what_an_ordinary_one_does(env: &Env) {
    let book = env.generated("300");
    env.ok(&["import", book.to_str().unwrap()]);
    env.ok(&["classify", "--as-of", AS_OF]);
    let ordinary = env.ok(&["export", "classifications"]);
    assert_eq!(ordinary.lines().count(), 301);

    let out = env.ok(&["classify", "--as-of", AS_OF, "--partition", "1/2"]);
    assert!(out.contains("partition 1/2 of run #2 done"), "{out}");
    // not visible, and not finishable, yet; no other run meanwhile
    assert_eq!(env.ok(&["export", "classifications"]), ordinary);
    let o = env.run(&["classify", "--finish-partitions"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("partition 2 of 2 of run #2 is not done"), "{o:?}");
    let o = env.run(&["classify", "--as-of", AS_OF]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("partitioned run #2"), "{o:?}");

    env.ok(&["classify", "--as-of", AS_OF, "--partition", "2/2"]);
    let out = env.ok(&["classify", "--as-of", AS_OF, "--partition", "1/2"]);
    assert!(out.contains("is already done"), "{out}");
    assert_eq!(env.ok(&["export", "classifications"]), ordinary);
    let out = env.ok(&["classify", "--finish-partitions"]);
    assert!(out.contains("classification run #2") && out.contains("300 clients"), "{out}");
    assert_eq!(env.ok(&["export", "classifications"]), ordinary);
    // and the next ordinary run takes its number after it
    let out = env.ok(&["classify", "--as-of", AS_OF]);
    assert!(out.contains("classification run #3"), "{out}");
    assert_eq!(env.ok(&["export", "classifications"]), ordinary);
}

#[test]
fn a_partitioned_run_exports_what_an_ordinary_one_does_on_sqlite() {
    a_partitioned_run_exports_what_an_ordinary_one_does(&Env::sqlite());
}

#[test]
fn a_partitioned_run_exports_what_an_ordinary_one_does_on_postgres() {
    let Some(env) = Env::postgres("cli_partition") else { return };
    a_partitioned_run_exports_what_an_ordinary_one_does(&env);
}

#[test]
fn a_bad_partition_is_refused() {
    let env = Env::sqlite();
    env.import_fixture();
    for bad in ["0/2", "3/2", "2", "a/b"] {
        let o = env.run(&["classify", "--as-of", AS_OF, "--partition", bad]);
        assert!(!o.status.success(), "{bad}");
    }
    let out = env.ok(&["classify", "--abandon-partitions"]);
    assert!(out.contains("no partitioned run is open"), "{out}");
}

#[test]
fn any_number_of_partitions_gives_the_ordinary_export() {
    // one partition, an odd number, and more partitions than clients (some empty)
    let env = Env::sqlite();
    let book = env.generated("300");
    env.ok(&["import", book.to_str().unwrap()]);
    env.ok(&["classify", "--as-of", AS_OF]);
    let ordinary = env.ok(&["export", "classifications"]);
    for n in [1usize, 7, 400] {
        // a partition's order does not matter: run them backwards
        for i in (1..=n).rev() {
            env.ok(&["classify", "--as-of", AS_OF, "--partition", &format!("{i}/{n}")]);
        }
        env.ok(&["classify", "--finish-partitions"]);
        assert_eq!(env.ok(&["export", "classifications"]), ordinary, "N = {n}");
    }
}

/// `monitor` on the hand-worked book (PRODUCT.md 6): what it opens, that a
/// second run opens nothing, what a later date clears and opens; `assign`
/// places the unassigned client by service plan; the outbox exports.
fn monitor_and_assign_on_the_fixture_book(env: &Env) {
    env.import_fixture();
    let run = env.ok(&["classify", "--as-of", AS_OF, "--skip-monitor"]);
    assert!(!run.contains("monitoring done"), "{run}");
    let out = env.ok(&["monitor", "--as-of", AS_OF]);
    // C001 expiring + high churn, C004 stale, E01 never contacted (hnw plan: every 30 days)
    assert!(
        out.contains("alerts opened 4 · cleared 0 · tasks opened 6 · tasks finished 0 · client notices queued 2"),
        "{out}"
    );
    for kind in ["assessment_expiring", "churn_high", "material_change", "followup_overdue"] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(kind) && l.trim_end().ends_with(" 1")), "{kind}: {out}");
    }
    let again = env.ok(&["monitor", "--as-of", AS_OF]);
    assert!(
        again.contains("alerts opened 0 · cleared 0 · tasks opened 0 · tasks finished 0 · client notices queued 0"),
        "{again}"
    );

    // three weeks on: C001's assessment expired (2025-07-15), C003's follow-up (due 2025-07-12) is overdue;
    // churn stays open across the month; the reassessment task is the same episode
    let later = env.ok(&["monitor", "--as-of", "2025-07-20"]);
    assert!(
        later.contains("alerts opened 2 · cleared 1 · tasks opened 0 · tasks finished 0 · client notices queued 0"),
        "{later}"
    );
    assert!(
        later.lines().any(|l| l.trim_start().starts_with("assessment_expired") && l.trim_end().ends_with(" 1")),
        "{later}"
    );
    assert!(!later.contains("assessment_expiring"), "{later}");

    let proposals = env.ok(&["assign"]);
    assert!(
        proposals.lines().any(|l| l.starts_with("C004") && l.contains("A2") && l.contains("unassigned")),
        "{proposals}"
    );
    assert!(proposals.contains("proposals 1 · left unplaced (no eligible advisor with room) 0"), "{proposals}");
    let applied = env.ok(&["assign", "--apply"]);
    assert!(applied.contains("clients reassigned: 1"), "{applied}");
    assert!(env.ok(&["assign"]).contains("proposals 0"));

    // a run stores its alerts too (PRODUCT.md 7.1): as of 2025-07-20 C004's outflows
    // (10,000 + 20,000 on an AUM of 30,000) make its churn risk high
    let run = env.ok(&["classify", "--as-of", "2025-07-20"]);
    assert!(run.contains("monitoring done"), "{run}");
    assert!(run.contains("alerts opened 1 · cleared 0 · tasks opened 1 · tasks finished 0"), "{run}");
    assert!(run.lines().any(|l| l.trim_start().starts_with("churn_high") && l.trim_end().ends_with(" 2")), "{run}");

    let csv = env.ok(&["notifications", "export", "--status", "pending"]);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows.iter().any(|r| r.contains(",reassessment_due,C001,")), "{csv}");
    assert!(env.ok(&["audit", "verify"]).contains("audit trail intact"));
}

#[test]
fn monitor_and_assign_on_the_fixture_book_on_sqlite() {
    monitor_and_assign_on_the_fixture_book(&Env::sqlite());
}

#[test]
fn monitor_and_assign_on_the_fixture_book_on_postgres() {
    let Some(env) = Env::postgres("cli_monitor") else { return };
    monitor_and_assign_on_the_fixture_book(&env);
}
