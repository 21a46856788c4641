//! Monitoring and relationship work over the API: alerts acknowledged then
//! closed once, a task completed by logging the contact (the next
//! follow-up and a satisfaction survey follow), the survey answered once,
//! the transaction feed (idempotent; a large outflow alerts the client's
//! advisor), the team lead's view and reassignment, KPIs and NPS.

use crate::support::*;
use serde_json::{json, Value};

/// The id of the first row of `path` (a list) matching `pred`.
pub fn id_of(s: &Session, path: &str, key: &str, pred: impl Fn(&Value) -> bool) -> i64 {
    let list = s.json(path);
    let row = list.as_array().unwrap().iter().find(|r| pred(r)).unwrap_or_else(|| panic!("no match in {path}: {list}"));
    row[key].as_i64().unwrap()
}

/// C001's high-churn alert (A2's client, branch B01).
pub fn c001_alert(s: &Session) -> i64 {
    id_of(s, "/api/v1/alerts?client_id=C001&kind=churn_high", "alert_id", |_| true)
}

/// C001's open task of a kind (`followup`, `retention`, `reassessment`).
pub fn c001_task(s: &Session, kind: &str) -> i64 {
    id_of(s, &format!("/api/v1/tasks?client_id=C001&kind={kind}"), "task_id", |_| true)
}

/// C001's scheduled follow-up task.
pub fn c001_followup(s: &Session) -> i64 {
    c001_task(s, "followup")
}

fn code(r: reqwest::blocking::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

#[test]
fn an_alert_is_acknowledged_then_closed_and_each_step_happens_once() {
    let t = spawn_work_app("cn-bank");
    let a2 = t.login("adv_a2");
    let id = c001_alert(&a2);
    let (status, v) = code(a2.post(&format!("/api/v1/alerts/{id}/acknowledge"), json!(null)));
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["status"].as_str(), v["acknowledged_by"].as_str()), (Some("acknowledged"), Some("adv_a2")));
    let (status, v) = code(a2.post(&format!("/api/v1/alerts/{id}/acknowledge"), json!(null)));
    assert_eq!((status, v["code"].as_str()), (409, Some("conflict")), "{v}");
    // still open (acknowledged) in the default list
    assert!(a2.json("/api/v1/alerts").as_array().unwrap().iter().any(|a| a["alert_id"] == id));

    let (status, v) = code(a2.post(&format!("/api/v1/alerts/{id}/close"), json!({"outcome": "  "})));
    assert_eq!((status, v["field"].as_str()), (400, Some("outcome")), "{v}");
    let outcome = "已电话回访，客户暂无转出意向";
    let (status, v) = code(a2.post(&format!("/api/v1/alerts/{id}/close"), json!({"outcome": outcome})));
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["outcome"].as_str(), v["closed_by"].as_str()),
        (Some("closed"), Some(outcome), Some("adv_a2"))
    );
    assert_eq!(code(a2.post(&format!("/api/v1/alerts/{id}/close"), json!({"outcome": "again"}))).0, 409);
    assert_eq!(code(a2.post(&format!("/api/v1/alerts/{id}/acknowledge"), json!(null))).0, 409);
    assert!(!a2.json("/api/v1/alerts").as_array().unwrap().iter().any(|a| a["alert_id"] == id));
    assert!(a2.json("/api/v1/alerts?status=closed").as_array().unwrap().iter().any(|a| a["alert_id"] == id));
    assert_eq!(a2.json(&format!("/api/v1/alerts/{id}"))["status"], "closed");

    // another advisor, or another branch's team lead, is told nothing about it
    for other in ["adv_a1", "lead_b02"] {
        let s = t.login(other);
        assert_eq!(s.get(&format!("/api/v1/alerts/{id}")).status(), 404, "{other}");
        assert!(!s.json("/api/v1/alerts?status=all").as_array().unwrap().iter().any(|a| a["alert_id"] == id));
    }
    let audit = t.login("compliance").json("/api/v1/audit?action=alert.");
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["alert.close", "alert.acknowledge"], "{audit}");
}

#[test]
fn completing_a_task_logs_the_contact_schedules_the_next_and_sends_a_survey_answered_once() {
    let t = spawn_work_app("cn-bank");
    let a2 = t.login("adv_a2");
    let id = c001_followup(&a2);
    assert_eq!(
        t.login("adv_a1").post(&format!("/api/v1/tasks/{id}/complete"), json!({"channel": "call"})).status(),
        404
    );
    let (status, v) = code(a2.post(&format!("/api/v1/tasks/{id}/complete"), json!({"channel": "fax"})));
    assert_eq!((status, v["field"].as_str()), (400, Some("channel")));
    let (status, done) = code(a2.post(
        &format!("/api/v1/tasks/{id}/complete"),
        json!({"channel": "visit", "outcome": "客户满意，计划追加定投"}),
    ));
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["task"]["status"], "done");
    assert_eq!(done["task"]["completed_by"], "adv_a2");
    // wealth-retiree: every 90 days from today
    let next = (t.app.today() + chrono::Duration::days(90)).to_string();
    assert_eq!(done["next_due"], next.as_str(), "{done}");
    let path = done["survey_path"].as_str().unwrap().to_string();
    assert!(path.starts_with("/s/") && path.len() > 40, "{path}");
    assert_eq!(code(a2.post(&format!("/api/v1/tasks/{id}/complete"), json!({"channel": "call"}))).0, 409);

    // the contact is the client's newest interaction; the next follow-up is open
    let c = a2.json("/api/v1/clients/C001");
    let i = &c["interactions"][0];
    assert_eq!(
        (i["channel"].as_str(), i["outcome"].as_str(), i["advisor_id"].as_str()),
        (Some("visit"), Some("客户满意，计划追加定投"), Some("A2")),
        "{c}"
    );
    let open = a2.json("/api/v1/tasks?client_id=C001&kind=followup");
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
    assert_eq!(open[0]["due"], next.as_str());
    let history = a2.json("/api/v1/tasks?client_id=C001&status=done");
    assert!(history.as_array().unwrap().iter().any(|x| x["task_id"] == id));
    // the survey went to the outbox
    let notices = a2.json("/api/v1/clients/C001/notices");
    let survey = notices.as_array().unwrap().iter().find(|n| n["kind"] == "survey").expect("a survey notice");
    assert_eq!(survey["payload"]["data"]["path"], path.as_str());
    assert_eq!(survey["status"], "pending");
    assert_eq!(t.login("adv_a1").get("/api/v1/clients/C001/notices").status(), 404);

    // the client answers once, without an account
    let token = path.trim_start_matches("/s/");
    let public = t.anonymous();
    let url = format!("{}/api/v1/public/survey/{token}", t.base);
    let v: Value = public.get(&url).send().unwrap().json().unwrap();
    assert!(
        v["expires_at"].is_string() && v.get("client_id").is_none(),
        "the link tells nothing about the client: {v}"
    );
    let (status, v) = code(public.post(&url).json(&json!({"nps": "11"})).send().unwrap());
    assert_eq!((status, v["field"].as_str()), (400, Some("nps")), "{v}");
    let (status, v) = code(public.post(&url).json(&json!({"nps": "9", "comment": "服务很周到"})).send().unwrap());
    assert_eq!(status, 200, "{v}");
    let (status, v) = code(public.post(&url).json(&json!({"nps": 10})).send().unwrap());
    assert_eq!((status, v["code"].as_str()), (410, Some("link_invalid")), "a survey is answered once");
    assert_eq!(public.get(&url).send().unwrap().status(), 410);
    assert_eq!(public.get(format!("{}/api/v1/public/survey/nope", t.base)).send().unwrap().status(), 410);

    // it feeds NPS and the KPIs
    let nps = a2.json("/api/v1/nps");
    assert_eq!((nps["overall"].as_i64(), nps["answers"].as_i64()), (Some(100), Some(1)), "{nps}");
    assert_eq!(nps["by_advisor"][0], json!(["A2", 100, 1]));
    let kpis = a2.json("/api/v1/kpis");
    assert_eq!((kpis[0]["advisor_id"].as_str(), kpis[0]["nps"].as_i64()), (Some("A2"), Some(100)), "{kpis}");
    assert_eq!(t.login("lead_b02").json("/api/v1/nps")["answers"], 0, "another branch's answers are not counted");
}

#[test]
fn the_feed_is_idempotent_and_a_large_outflow_alerts_the_clients_advisor() {
    let t = spawn_work_app("cn-bank");
    let ops = t.login("ops");
    let batch = json!({"transactions": [
        {"txn_id": "F-1", "client_id": "C002", "ts": "2025-07-01T10:00:00", "kind": "withdraw", "amount": "600000", "channel": "branch"},
        {"txn_id": "F-2", "client_id": "C002", "ts": "2025-07-01T11:00:00", "kind": "deposit", "amount": "1000"},
        {"txn_id": "F-3", "client_id": "C003", "ts": "2025-07-01T12:00:00", "kind": "withdraw", "amount": "499999.99"}
    ]});
    let (status, v) = code(ops.post("/api/v1/events/transactions", batch.clone()));
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["stored"].as_i64(), v["alerts"].as_array().map(Vec::len)), (Some(3), Some(1)), "{v}");
    let (status, v) = code(ops.post("/api/v1/events/transactions", batch.clone()));
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["stored"].as_i64(), v["alerts"].as_array().map(Vec::len)),
        (Some(3), Some(0)),
        "a re-sent batch: {v}"
    );
    let db = rusqlite::Connection::open(&t.db).unwrap();
    let n: i64 = db.query_row("SELECT count(*) FROM transactions WHERE txn_id LIKE 'F-%'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 3, "one row per txn_id");

    let a2 = t.login("adv_a2");
    let outflows = a2.json("/api/v1/alerts?kind=large_outflow");
    let list = outflows.as_array().unwrap();
    assert_eq!(list.len(), 1, "{outflows}");
    let a = &list[0];
    assert_eq!(
        (a["client_id"].as_str(), a["advisor_id"].as_str(), a["severity"].as_str()),
        (Some("C002"), Some("A2"), Some("high"))
    );
    assert_eq!(
        (a["evidence"]["txn_id"].as_str(), a["evidence"]["amount"].as_str()),
        (Some("F-1"), Some("600000")),
        "{a}"
    );
    assert!(a["evidence"]["rule"].as_str().unwrap().contains("large_outflow"));
    assert!(t.login("adv_a1").json("/api/v1/alerts?kind=large_outflow").as_array().unwrap().is_empty());

    assert_eq!(a2.post("/api/v1/events/transactions", batch).status(), 403, "only operations feed transactions");
    let bad = json!({"transactions": [{"txn_id": "F-9", "client_id": "C002", "ts": "2025-07-01T10:00:00", "kind": "steal", "amount": "1"}]});
    let (status, v) = code(ops.post("/api/v1/events/transactions", bad));
    assert_eq!((status, v["field"].as_str()), (400, Some("transactions[0].kind")), "{v}");
    let (status, v) = code(ops.post("/api/v1/events/transactions", json!({"transactions": []})));
    assert_eq!((status, v["field"].as_str()), (400, Some("transactions")));
}

#[test]
fn a_team_lead_sees_the_branch_and_moves_a_client_by_service_plan() {
    let t = spawn_work_app("cn-bank");
    let lead = t.login("lead_b01");
    let team = lead.json("/api/v1/team");
    let advisors: Vec<&str> =
        team["advisors"].as_array().unwrap().iter().map(|a| a["advisor_id"].as_str().unwrap()).collect();
    assert_eq!(advisors, ["A1", "A2"], "{team}");
    assert_eq!(team["unassigned_open_tasks"], 1, "C004 has no advisor: {team}");
    let proposal = &team["proposals"][0];
    assert_eq!(
        (proposal["client_id"].as_str(), proposal["to"].as_str(), proposal["why"].as_str()),
        (Some("C004"), Some("A2"), Some("unassigned"))
    );
    assert_eq!(lead.json("/api/v1/assignments")["proposals"][0]["client_id"], "C004");
    let other = t.login("lead_b02").json("/api/v1/team");
    assert_eq!(other["advisors"][0]["advisor_id"], "A3");
    assert!(other["proposals"].as_array().unwrap().is_empty());
    assert_eq!(t.login("adv_a2").get("/api/v1/team").status(), 403);
    assert_eq!(t.login("adv_a2").get("/api/v1/clients/C004").status(), 404);

    let (status, v) = code(lead.post("/api/v1/assignments/apply", json!({"client_ids": ["C004"]})));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["applied"], 1);
    let a2 = t.login("adv_a2");
    assert_eq!(a2.json("/api/v1/clients/C004")["profile"]["advisor_id"], "A2", "the client moved");
    let assigned = a2.json("/api/v1/alerts?kind=client_assigned");
    assert_eq!(assigned[0]["client_id"], "C004", "the new advisor is told: {assigned}");
    assert_eq!(lead.post("/api/v1/assignments/apply", json!({})).json::<Value>().unwrap()["applied"], 0);
    let audit = t.login("compliance").json("/api/v1/audit?action=assignment.apply");
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit[0]["subject"], "client:C004");
}

#[test]
fn the_workbench_and_kpis_keep_to_the_scope() {
    let t = spawn_work_app("cn-bank");
    let a2 = t.login("adv_a2");
    let day = a2.json("/api/v1/workbench");
    let tasks: Vec<&Value> =
        ["overdue", "due_today", "upcoming"].iter().flat_map(|k| day[k].as_array().unwrap()).collect();
    assert!(!tasks.is_empty() && !day["alerts"].as_array().unwrap().is_empty(), "{day}");
    assert!(tasks.iter().all(|x| x["advisor_id"] == "A2"), "{day}");
    assert!(day["alerts"].as_array().unwrap().iter().all(|x| x["advisor_id"] == "A2"), "{day}");
    assert_eq!(day["today"], t.app.today().to_string().as_str());
    // the alerts come most severe first
    let severities: Vec<&str> =
        day["alerts"].as_array().unwrap().iter().map(|a| a["severity"].as_str().unwrap()).collect();
    assert_eq!(severities.first(), Some(&"high"), "{severities:?}");

    let lead = t.login("lead_b01").json("/api/v1/workbench");
    let clients: std::collections::BTreeSet<&str> =
        lead["overdue"].as_array().unwrap().iter().map(|x| x["client_id"].as_str().unwrap()).collect();
    assert!(clients.contains("C001") && clients.contains("C003") && clients.contains("C004"), "{clients:?}");

    let ids = |v: Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|k| k["advisor_id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(a2.json("/api/v1/kpis?days=30")), ["A2"]);
    assert_eq!(ids(t.login("lead_b01").json("/api/v1/kpis")), ["A1", "A2"]);
    assert_eq!(ids(t.login("compliance").json("/api/v1/kpis?days=365")), ["A1", "A2", "A3"]);
    let (status, v) = code(a2.get("/api/v1/kpis?days=many"));
    assert_eq!((status, v["field"].as_str()), (400, Some("query")), "{v}");
    let (status, v) = code(a2.get("/api/v1/tasks?due=perhaps"));
    assert_eq!((status, v["code"].as_str()), (400, Some("invalid")));
    for role in ["ops", "admin"] {
        assert_eq!(t.login(role).get("/api/v1/workbench").status(), 403, "{role}");
    }
}

#[test]
fn the_day_shows_todays_tasks_even_behind_two_hundred_overdue_ones() {
    let t = spawn_work_app("cn-bank");
    let today = t.app.today();
    let task = |kind: &str, client: &str, due: chrono::NaiveDate| tierwise_store::NewTask {
        kind: kind.into(),
        client_id: client.into(),
        advisor_id: Some("A2".into()),
        branch_id: Some("B01".into()),
        episode: format!("test:{due}"),
        due,
        evidence: "{}".into(),
        source: "test".into(),
    };
    let old = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let mut tasks: Vec<_> = (0..210).map(|i| task("review", &format!("Z{i:04}"), old)).collect();
    tasks.push(task("review", "C002", today));
    tasks.push(task("welcome_reassign", "C002", today + chrono::Duration::days(3)));
    let batch =
        tierwise_store::WorkBatch { at: "2026-01-01T00:00:00".into(), by: "test".into(), tasks, ..Default::default() };
    t.app.store.apply_work(&batch).unwrap();

    let a2 = t.login("adv_a2");
    let day = a2.json("/api/v1/workbench");
    assert_eq!(day["overdue"].as_array().unwrap().len(), 100, "the oldest 100 overdue");
    assert_eq!(day["overdue_total"], 213, "and how many there are");
    let due_today: Vec<&str> =
        day["due_today"].as_array().unwrap().iter().map(|x| x["client_id"].as_str().unwrap()).collect();
    assert_eq!(due_today, ["C002"], "{day}");
    let upcoming: Vec<&str> = day["upcoming"].as_array().unwrap().iter().map(|x| x["kind"].as_str().unwrap()).collect();
    assert_eq!(upcoming, ["welcome_reassign"]);

    let b = t.login("adv_a2");
    let page = b.get("/work").text().unwrap();
    // 210 + C001's three overdue tasks; 40 shown, the rest a click away
    assert!(
        page.contains("(213)") && page.contains("40 / 213") && page.contains("href=\"/work?all=1#overdue\""),
        "{page}"
    );
    assert!(page.contains("href=\"/clients/C002\""), "today's task is listed");
    let all = b.get("/work?all=1").text().unwrap();
    assert!(all.contains("100 / 213") && !all.contains("href=\"/work?all=1#overdue\""));
}
