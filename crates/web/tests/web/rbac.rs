//! The RBAC matrix: every API route for every role. No advisor reaches
//! another advisor's client (or their alerts and tasks), no team lead
//! another branch's, and no role without the PII permission ever receives
//! a raw ID number, phone or email.

use crate::support::*;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Ok,
    Forbidden,
    Hidden,
    /// allowed, though an earlier user may already have taken the step (2xx or 409)
    Allowed,
}
use Expect::*;

/// (method, path, body, expectation per user in `USERS` order:
/// adv_a2, adv_a1, adv_masked, lead_b01, lead_b02, compliance, compliance_masked, ops, admin)
/// `alert` and `task` are C001's (advisor A2, branch B01); the task is not a
/// follow-up, which the interaction logged above completes.
fn routes(answers: &str, alert: i64, task: i64) -> Vec<(&'static str, String, serde_json::Value, [Expect; 9])> {
    let all = [Ok; 9];
    let client_readers = [Ok, Ok, Ok, Ok, Ok, Ok, Ok, Forbidden, Forbidden];
    // the day's work is theirs who serve clients (compliance reads the alert list)
    let servers = [Ok, Ok, Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden];
    // C001 is advisor A2's client in branch B01
    let c001_readers = [Ok, Hidden, Ok, Ok, Hidden, Ok, Ok, Forbidden, Forbidden];
    let c001_servers = [Ok, Hidden, Ok, Ok, Hidden, Forbidden, Forbidden, Forbidden, Forbidden];
    let compliance = [Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Ok, Ok, Forbidden, Forbidden];
    let ops = [Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Ok, Forbidden];
    let admin = [Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Ok];
    let leads = [Forbidden, Forbidden, Forbidden, Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden];
    // the first server takes the step; the next ones in its scope find it taken (409)
    let c001_steps = [Ok, Hidden, Allowed, Allowed, Hidden, Forbidden, Forbidden, Forbidden, Forbidden];
    let feed = json!({"transactions": [{"txn_id": "RBAC-1", "client_id": "X01", "ts": "2025-07-01T09:00:00", "kind": "deposit", "amount": "100"}]});
    let product = json!({"name": "稳健债基", "category": "bond_fund", "risk_level": "R2", "horizon_months": "12",
        "min_investment": "1000", "investor_requirement": "none", "annual_fee_rate": "0.005", "status": "on_sale"});
    vec![
        ("GET", "/api/v1/me".into(), json!(null), all),
        ("GET", "/api/v1/dashboard".into(), json!(null), all),
        ("GET", "/api/v1/clients".into(), json!(null), client_readers),
        ("GET", "/api/v1/clients?q=13800000003".into(), json!(null), client_readers),
        ("GET", "/api/v1/clients/export".into(), json!(null), client_readers),
        ("GET", "/api/v1/clients/C001".into(), json!(null), c001_readers),
        ("GET", "/api/v1/questionnaires".into(), json!(null), all),
        ("GET", "/api/v1/products".into(), json!(null), all),
        ("GET", "/api/v1/compliance".into(), json!(null), compliance),
        ("GET", "/api/v1/audit".into(), json!(null), compliance),
        ("GET", "/api/v1/rules".into(), json!(null), ops),
        ("GET", "/api/v1/users".into(), json!(null), admin),
        ("POST", "/api/v1/questionnaires/score".into(), json!({"answers": answers}), all),
        ("POST", "/api/v1/clients/C001/interactions".into(), json!({"channel": "call", "topic": "t"}), c001_servers),
        ("POST", "/api/v1/clients/C001/questionnaire-links".into(), json!({}), c001_servers),
        ("POST", "/api/v1/checks".into(), json!({"client_id": "C001", "product_id": "P-BOND"}), c001_servers),
        ("PUT", "/api/v1/products/P-BOND".into(), product, ops),
        ("POST", "/api/v1/audit/verify".into(), json!(null), compliance),
        ("POST", "/api/v1/rules/simulate".into(), json!({"pack": "cn-csrc"}), ops),
        ("GET", "/api/v1/alerts".into(), json!(null), client_readers),
        ("GET", format!("/api/v1/alerts/{alert}"), json!(null), c001_readers),
        ("GET", "/api/v1/tasks".into(), json!(null), client_readers),
        ("GET", "/api/v1/tasks?client_id=C001&status=all".into(), json!(null), client_readers),
        ("GET", "/api/v1/workbench".into(), json!(null), servers),
        ("GET", "/api/v1/team".into(), json!(null), leads),
        ("GET", "/api/v1/kpis?days=30".into(), json!(null), client_readers),
        ("GET", "/api/v1/nps".into(), json!(null), all),
        ("GET", "/api/v1/assignments".into(), json!(null), leads),
        ("GET", "/api/v1/clients/C001/notices".into(), json!(null), c001_readers),
        ("POST", format!("/api/v1/alerts/{alert}/acknowledge"), json!(null), c001_steps),
        ("POST", format!("/api/v1/alerts/{alert}/close"), json!({"outcome": "done"}), c001_steps),
        ("POST", format!("/api/v1/tasks/{task}/complete"), json!({"channel": "call"}), c001_steps),
        ("POST", "/api/v1/assignments/apply".into(), json!({"client_ids": []}), leads),
        ("POST", "/api/v1/events/transactions".into(), feed, ops),
    ]
}

#[test]
fn every_route_for_every_role() {
    let t = spawn_work_app("cn-bank");
    let sessions: Vec<Session> = USERS.iter().map(|u| t.login(u.0)).collect();
    let (alert, task) = (crate::work::c001_alert(&sessions[0]), crate::work::c001_task(&sessions[0], "retention"));
    for (method, path, body, expect) in routes(&cautious_answers(&t.app), alert, task) {
        for (i, s) in sessions.iter().enumerate() {
            let user = USERS[i].0;
            let r = if method == "GET" { s.get(&path) } else { s.send(method, &path, body.clone()) };
            let status = r.status().as_u16();
            let text = r.text().unwrap();
            let want = expect[i];
            let ok = match want {
                Ok => (200..300).contains(&status),
                Forbidden => status == 403,
                Hidden => status == 404,
                Allowed => (200..300).contains(&status) || status == 409,
            };
            assert!(ok, "{method} {path} as {user}: got {status}, want {want:?}: {text}");
            if !USERS[i].4 {
                for raw in RAW_PII {
                    assert!(!text.contains(raw), "{method} {path} as {user} leaked {raw}");
                }
            }
            if want == Hidden {
                assert!(!text.contains("王芳"), "{method} {path} as {user} revealed the client");
            }
        }
    }
}

fn ids(v: &serde_json::Value) -> Vec<String> {
    v["rows"].as_array().unwrap().iter().map(|r| r["client_id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn lists_searches_and_exports_keep_to_the_scope() {
    let t = spawn_app("cn-bank");
    let a2 = t.login("adv_a2");
    assert_eq!(ids(&a2.json("/api/v1/clients")), ["C001", "C002"]);
    assert!(ids(&a2.json("/api/v1/clients?q=C003")).is_empty());
    assert!(ids(&a2.json("/api/v1/clients?q=13800000003")).is_empty());
    assert_eq!(ids(&a2.json("/api/v1/clients?q=13800000002")), ["C002"]);
    assert!(ids(&a2.json("/api/v1/clients?advisor_id=A1")).is_empty());
    let csv = a2.get("/api/v1/clients/export").text().unwrap();
    assert!(
        csv.contains("\nC001,") && csv.contains("\nC002,") && !csv.contains("C003") && !csv.contains("X01"),
        "{csv}"
    );

    let a1 = t.login("adv_a1");
    assert_eq!(ids(&a1.json("/api/v1/clients")), ["C003", "E01"]);
    assert_eq!(a1.post("/api/v1/checks", json!({"client_id": "C001", "product_id": "P-BOND"})).status(), 404);

    let lead1 = t.login("lead_b01");
    assert_eq!(ids(&lead1.json("/api/v1/clients")), ["C001", "C002", "C003", "C004", "E01"]);
    let lead2 = t.login("lead_b02");
    assert_eq!(ids(&lead2.json("/api/v1/clients")), ["X01"]);
    assert_eq!(lead2.get("/api/v1/clients/C001").status(), 404);

    let comp = t.login("compliance_masked");
    let all = comp.json("/api/v1/clients?limit=2");
    assert_eq!(ids(&all), ["C001", "C002"]);
    let next = all["next"].as_str().unwrap().to_string();
    assert_eq!(ids(&comp.json(&format!("/api/v1/clients?limit=2&after={next}"))), ["C003", "C004"]);
    assert_eq!(ids(&comp.json("/api/v1/clients?limit=2&after=C004")), ["E01", "X01"]);
    assert!(comp.json("/api/v1/clients?limit=2&after=C004")["next"].is_null());
}

#[test]
fn pii_is_masked_without_the_permission_and_each_unmasked_read_is_audited() {
    let t = spawn_app("cn-bank");
    let masked = t.login("adv_masked").json("/api/v1/clients/C001");
    assert_eq!(masked["profile"]["id_number"], "3101**********1234");
    assert_eq!(masked["profile"]["phone"], "138****0001");
    assert_eq!(masked["profile"]["email"], "w***@example.com");
    assert_eq!(masked["profile"]["pii_visible"], false);

    let open = t.login("adv_a2").json("/api/v1/clients/C001");
    assert_eq!(open["profile"]["id_number"], "310101195803121234");
    assert_eq!(open["profile"]["pii_visible"], true);
    let audit = t.login("compliance").json("/api/v1/audit?action=pii.read");
    let events = audit.as_array().unwrap();
    assert_eq!(events.len(), 1, "{audit}");
    assert_eq!(events[0]["actor"], "adv_a2");
    assert_eq!(events[0]["subject"], "client:C001");
}

/// The UI's pages, the same way: (path, expectation per user in `USERS` order).
fn pages() -> Vec<(&'static str, [Expect; 9])> {
    let all = [Ok; 9];
    let client_readers = [Ok, Ok, Ok, Ok, Ok, Ok, Ok, Forbidden, Forbidden];
    // the day's work is theirs who serve clients (compliance reads the alert list)
    let servers = [Ok, Ok, Ok, Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden];
    let c001_readers = [Ok, Hidden, Ok, Ok, Hidden, Ok, Ok, Forbidden, Forbidden];
    let c001_servers = [Ok, Hidden, Ok, Ok, Hidden, Forbidden, Forbidden, Forbidden, Forbidden];
    let compliance = [Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Ok, Ok, Forbidden, Forbidden];
    let ops = [Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Ok, Forbidden];
    let admin = [Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Ok];
    let leads = [Forbidden, Forbidden, Forbidden, Ok, Ok, Forbidden, Forbidden, Forbidden, Forbidden];
    vec![
        ("/", all),
        ("/work", servers),
        ("/team", leads),
        ("/kpis", client_readers),
        ("/kpis?days=365", client_readers),
        ("/clients", client_readers),
        ("/clients?q=13800000001", client_readers),
        ("/clients/export.csv", client_readers),
        ("/clients/C001", c001_readers),
        ("/clients/C001/questionnaire", c001_servers),
        ("/clients/C001/check", c001_servers),
        ("/products", all),
        ("/products/P-BOND/edit", ops),
        ("/compliance", compliance),
        ("/compliance/audit", compliance),
        ("/rules", ops),
        ("/admin/users", admin),
    ]
}

#[test]
fn every_page_for_every_role() {
    let t = spawn_work_app("cn-bank");
    let sessions: Vec<Session> = USERS.iter().map(|u| t.login(u.0)).collect();
    for (path, expect) in pages() {
        for (i, s) in sessions.iter().enumerate() {
            let user = USERS[i].0;
            let r = s.get(path);
            let status = r.status().as_u16();
            let text = r.text().unwrap();
            let want = expect[i];
            let ok = match want {
                Ok => status == 200,
                Forbidden => status == 403,
                Hidden => status == 404,
                Allowed => status == 200 || status == 409,
            };
            assert!(ok, "GET {path} as {user}: got {status}, want {want:?}");
            if !USERS[i].4 {
                // (what the user typed into the search box comes back to them in it)
                for raw in RAW_PII.iter().filter(|r| !path.contains(*r)) {
                    assert!(!text.contains(raw), "GET {path} as {user} leaked {raw}");
                }
            }
            if want != Ok {
                assert!(!text.contains("王芳"), "GET {path} as {user} revealed the client");
            }
        }
    }
}
