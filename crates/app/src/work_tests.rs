//! The application's monitoring work on the hand-worked fixture book
//! (crates/cli/tests/fixtures/book, classified as of 2025-06-30): events,
//! desk actions, assignment, and webhook delivery against a local receiver.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::access::Role;
use crate::desk::ProductInput;
use crate::Config;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use tierwise_store::{AuditQuery, NoticeQuery};

const AS_OF: &str = "2025-06-30";

struct Fixture {
    _dir: tempfile::TempDir,
    app: App,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&Config {
        db_url: format!("sqlite://{}", dir.path().join("t.db").display()),
        pack: "cn-bank".into(),
        packs_dir: None,
        questionnaires_dir: None,
        time_zone: "Asia/Shanghai".into(),
    })
    .unwrap();
    app.store.migrate().unwrap();
    let book = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/tests/fixtures/book");
    assert!(app.import(&book, &mut |_, _| {}).unwrap().committed);
    let d: NaiveDate = AS_OF.parse().unwrap();
    app.classify(d, &|_| {}).unwrap();
    app.monitor(d, &|_| {}).unwrap();
    Fixture { _dir: dir, app }
}

fn actor(role: Role, advisor: Option<&str>, branch: Option<&str>) -> Actor {
    Actor {
        user_id: 1,
        username: format!("{}-user", role.as_str()),
        display_name: "测试".into(),
        role,
        advisor_id: advisor.map(Into::into),
        branch_id: branch.map(Into::into),
        can_view_pii: true,
    }
}

fn open_alerts(app: &App, client: &str, kind: &str) -> Vec<AlertView> {
    let compliance = actor(Role::Compliance, None, None);
    let f = WorkFilter { client_id: Some(client.into()), kind: Some(kind.into()), ..Default::default() };
    app.alerts(&compliance, &f, Lang::En).unwrap()
}

fn audit_actions(app: &App, prefix: &str) -> Vec<String> {
    let compliance = actor(Role::Compliance, None, None);
    let q = AuditQuery { action: Some(prefix.into()), limit: 500, ..Default::default() };
    app.audit_log(&compliance, &q).unwrap().into_iter().map(|e| e.action).collect()
}

fn txn(id: &str, client: &str, kind: &str, amount: &str) -> TxnInput {
    TxnInput {
        txn_id: id.into(),
        client_id: client.into(),
        product_id: None,
        ts: "2025-07-01T09:00:00".into(),
        kind: kind.into(),
        amount: amount.into(),
        channel: Some("mobile".into()),
    }
}

/// PRODUCT.md 6 / issue: a single outflow ≥ 500,000 raises its alert in the
/// feed's own call; the feed is idempotent by txn_id; a bad row names its
/// place and stores nothing.
#[test]
fn the_transaction_feed_raises_a_large_outflow_at_once_and_is_idempotent() {
    let f = fixture();
    let ops = actor(Role::Operations, None, None);
    let before = f.app.store.counts().unwrap().transactions;
    let batch = [
        txn("F1", "C001", "withdraw", "600000"),
        txn("F2", "C001", "deposit", "900000"),
        txn("F3", "C003", "withdraw", "499999.99"),
    ];
    let out = f.app.feed_transactions(&ops, &batch).unwrap();
    assert_eq!((out.stored, out.alerts.len()), (3, 1));
    let alerts = open_alerts(&f.app, "C001", "large_outflow");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].advisor_id.as_deref(), Some("A2"), "assigned to the client's advisor");
    assert_eq!(alerts[0].evidence["amount"], "600000");
    assert_eq!(alerts[0].evidence["txn_id"], "F1");
    assert_eq!(f.app.store.counts().unwrap().transactions, before + 3);

    let again = f.app.feed_transactions(&ops, &batch).unwrap();
    assert!(again.alerts.is_empty(), "a re-sent batch raises nothing new");
    assert_eq!(f.app.store.counts().unwrap().transactions, before + 3, "re-sent txn_ids update their rows");

    let bad = [txn("F4", "C001", "withdraw", "700000"), txn("F5", "C001", "withdraw", "1,000")];
    match f.app.feed_transactions(&ops, &bad) {
        Err(AppError::Invalid { field, .. }) => assert_eq!(field, "transactions[1].amount"),
        other => panic!("{other:?}"),
    }
    match f.app.feed_transactions(&ops, &[txn("F6", "NOPE", "withdraw", "1")]) {
        Err(AppError::Invalid { field, .. }) => assert_eq!(field, "transactions[0].client_id"),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.app.store.counts().unwrap().transactions, before + 3, "nothing of a bad batch is stored");
    let advisor = actor(Role::Advisor, Some("A2"), None);
    assert!(matches!(f.app.feed_transactions(&advisor, &batch), Err(AppError::Forbidden)));
}

/// CSRC Art 21: re-rating a product tells every holder; a holder now below
/// the product's level also raises an alert for the advisor.
#[test]
fn csrc_art_21_a_re_rating_tells_every_holder_and_alerts_those_below() {
    let f = fixture();
    let ops = actor(Role::Operations, None, None);
    let input = |risk: &str, category: &str| ProductInput {
        name: Some("稳健债基".into()),
        category: category.into(),
        variety: None,
        risk_level: risk.into(),
        horizon_months: "12".into(),
        min_investment: "1000".into(),
        investor_requirement: "none".into(),
        annual_fee_rate: "0.005".into(),
        status: "on_sale".into(),
        currency: None,
    };
    // P-BOND is held by C001 (C3): R2 → R4 puts it above her level
    f.app.save_product(&ops, "P-BOND", &input("R4", "bond_fund")).unwrap();
    let a = open_alerts(&f.app, "C001", "product_rerated");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].evidence["client_risk_level"], "C3");
    let n =
        f.app.store.notices(&NoticeQuery { client_id: Some("C001".into()), limit: 50, ..Default::default() }).unwrap();
    assert!(n.iter().any(|n| n.kind == "product_rerated" && n.episode == "P-BOND:R2>R4"), "{n:?}");
    // P-EQ is held by C003 (C5): R4 → R5 is told, but C5 bears it
    f.app.save_product(&ops, "P-EQ", &input("R5", "equity_fund")).unwrap();
    assert!(open_alerts(&f.app, "C003", "product_rerated").is_empty());
    let n =
        f.app.store.notices(&NoticeQuery { client_id: Some("C003".into()), limit: 50, ..Default::default() }).unwrap();
    assert!(n.iter().any(|n| n.kind == "product_rerated"));
    // saving it again unchanged tells nobody twice
    let before = f.app.store.notice_counts().unwrap();
    f.app.save_product(&ops, "P-EQ", &input("R5", "equity_fund")).unwrap();
    assert_eq!(f.app.store.notice_counts().unwrap(), before);
}

/// Completing a follow-up logs the contact, schedules the next one from the
/// plan, clears the overdue alert and sends a one-time survey.
#[test]
fn completing_a_followup_schedules_the_next_and_sends_a_survey() {
    let f = fixture();
    let pb = actor(Role::Advisor, Some("A1"), None);
    // E01 (hnw, never contacted) has an overdue follow-up
    let tasks = f
        .app
        .tasks(
            &pb,
            &WorkFilter { client_id: Some("E01".into()), kind: Some("followup".into()), ..Default::default() },
            Lang::Zh,
        )
        .unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(open_alerts(&f.app, "E01", "followup_overdue").len(), 1);
    // another advisor cannot see or complete it
    let other = actor(Role::Advisor, Some("A2"), None);
    let input = CompleteTask { channel: "visit".into(), topic: None, outcome: Some("年度检视完成".into()) };
    assert!(matches!(f.app.complete_task(&other, tasks[0].task_id, &input, Lang::Zh), Err(AppError::NotFound(_))));

    let done = f.app.complete_task(&pb, tasks[0].task_id, &input, Lang::Zh).unwrap();
    assert_eq!(done.task.status, "done");
    assert_eq!(done.task.outcome.as_deref(), Some("年度检视完成"));
    assert_eq!(done.next_due, Some((f.app.today() + Duration::days(30)).to_string()), "hnw: every 30 days");
    assert!(open_alerts(&f.app, "E01", "followup_overdue").is_empty(), "the contact clears the overdue alert");
    assert_eq!(f.app.store.client_interactions("E01", 5).unwrap()[0].outcome.as_deref(), Some("年度检视完成"));
    assert!(matches!(
        f.app.complete_task(&pb, tasks[0].task_id, &input, Lang::Zh),
        Err(AppError::Store(tierwise_store::StoreError::Conflict(_)))
    ));

    let path = done.survey_path.unwrap();
    let token = path.trim_start_matches("/s/");
    assert!(!f.app.open_survey(token).unwrap().expires_at.is_empty());
    assert!(matches!(f.app.answer_survey(token, "11", None), Err(AppError::Invalid { .. })));
    f.app.answer_survey(token, "9", Some("很专业")).unwrap();
    assert!(matches!(f.app.answer_survey(token, "10", None), Err(AppError::LinkInvalid)), "once");
    assert!(matches!(f.app.open_survey(token), Err(AppError::LinkInvalid)));
    let nps = f.app.nps(&pb).unwrap();
    assert_eq!((nps.overall, nps.answers), (Some(100), 1));
    assert_eq!(nps.by_segment, vec![("hnw-preserve".to_string(), Some(100), 1)]);
    let kpis = f.app.kpis(&pb, 90).unwrap();
    assert_eq!(kpis.len(), 1, "an advisor sees their own KPIs");
    assert_eq!((kpis[0].nps, kpis[0].clients), (Some(100), 2));
    assert_eq!(audit_actions(&f.app, "survey."), ["survey.answer", "survey.create"]);
    assert_eq!(audit_actions(&f.app, "task."), ["task.complete"]);
}

/// A new assessment at the desk clears the expiry alert and completes the
/// reassessment task at once (not at the next sweep).
#[test]
fn a_new_assessment_clears_the_expiry_alert_at_once() {
    let f = fixture();
    let rm = actor(Role::Advisor, Some("A2"), None);
    let alert = open_alerts(&f.app, "C001", "assessment_expiring");
    assert_eq!(alert.len(), 1);
    let answers = "q1=D;q2=E;q3=D;q4=D;q5=D;q6=D;q7=E;q8=D;q9=D;q10=D;q11=D;q12=D;q13=C;q14=A;q15=B";
    f.app.submit_assessment(&rm, "C001", None, answers).unwrap();
    assert!(open_alerts(&f.app, "C001", "assessment_expiring").is_empty());
    let closed = f.app.alert(&rm, alert[0].alert_id, Lang::En).unwrap();
    assert_eq!((closed.status.as_str(), closed.outcome.as_deref()), ("closed", Some("cleared")));
    let f2 = WorkFilter {
        client_id: Some("C001".into()),
        kind: Some("reassessment".into()),
        status: Some("all".into()),
        ..Default::default()
    };
    let t = f.app.tasks(&rm, &f2, Lang::En).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].status.as_str(), t[0].outcome.as_deref()), ("done", Some("reassessed")));
}

/// Acknowledge, then close with an outcome; each step audited; a repeat is a conflict.
#[test]
fn alerts_are_acknowledged_and_closed_with_an_outcome() {
    let f = fixture();
    let rm = actor(Role::Advisor, Some("A2"), None);
    let a = &open_alerts(&f.app, "C001", "churn_high")[0];
    let acked = f.app.act_on_alert(&rm, a.alert_id, &AlertAction::Acknowledge, Lang::Zh).unwrap();
    assert_eq!(acked.status, "acknowledged");
    let repeat = f.app.act_on_alert(&rm, a.alert_id, &AlertAction::Acknowledge, Lang::Zh);
    assert!(matches!(repeat, Err(AppError::Store(tierwise_store::StoreError::Conflict(_)))));
    let empty = AlertAction::Close { outcome: "  ".into() };
    assert!(matches!(f.app.act_on_alert(&rm, a.alert_id, &empty, Lang::Zh), Err(AppError::Invalid { .. })));
    let close = AlertAction::Close { outcome: "已电话沟通，客户资金用于购房".into() };
    let closed = f.app.act_on_alert(&rm, a.alert_id, &close, Lang::Zh).unwrap();
    assert_eq!((closed.status.as_str(), closed.closed_by.as_deref()), ("closed", Some("advisor-user")));
    // someone else's alert is not found; compliance may read but not act
    let pb = actor(Role::Advisor, Some("A1"), None);
    assert!(matches!(f.app.alert(&pb, a.alert_id, Lang::Zh), Err(AppError::NotFound(_))));
    let compliance = actor(Role::Compliance, None, None);
    assert!(f.app.alert(&compliance, a.alert_id, Lang::Zh).is_ok());
    assert!(matches!(f.app.act_on_alert(&compliance, a.alert_id, &close, Lang::Zh), Err(AppError::Forbidden)));
    assert_eq!(audit_actions(&f.app, "alert."), ["alert.close", "alert.acknowledge"]);
    // the next sweep keeps it closed (same episode)
    f.app.monitor(AS_OF.parse().unwrap(), &|_| {}).unwrap();
    assert!(open_alerts(&f.app, "C001", "churn_high").is_empty());
}

/// A team lead applies the proposals of their branch: audited per client,
/// and the receiving advisor is told.
#[test]
fn assignment_is_applied_audited_and_notified() {
    let f = fixture();
    let lead = actor(Role::TeamLead, None, Some("B01"));
    let team = f.app.team(&lead).unwrap();
    assert_eq!(team.advisors.len(), 2);
    let a1 = team.advisors.iter().find(|a| a.advisor_id == "A1").unwrap();
    assert_eq!((a1.clients, a1.capacity, a1.load_pct), (2, Some(30), Some(6)));
    assert_eq!(team.proposals.len(), 1);
    assert_eq!((team.proposals[0].client_id.as_str(), team.proposals[0].to.as_str()), ("C004", "A2"));
    let rm = actor(Role::Advisor, Some("A2"), None);
    assert!(matches!(f.app.assign(Some(&rm), true, None), Err(AppError::Forbidden)));
    let other_branch = actor(Role::TeamLead, None, Some("B99"));
    assert!(f.app.assign(Some(&other_branch), false, None).unwrap().proposals.is_empty());

    let v = f.app.assign(Some(&lead), true, None).unwrap();
    assert_eq!(v.applied, 1);
    assert_eq!(f.app.store.client("C004").unwrap().unwrap().advisor_id.as_deref(), Some("A2"));
    let told = open_alerts(&f.app, "C004", "client_assigned");
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].advisor_id.as_deref(), Some("A2"));
    // C004's open material-change alert now belongs to A2
    assert_eq!(open_alerts(&f.app, "C004", "material_change")[0].advisor_id.as_deref(), Some("A2"));
    assert_eq!(audit_actions(&f.app, "assignment."), ["assignment.apply"]);
    assert!(f.app.assign(Some(&lead), true, None).unwrap().proposals.is_empty());
}

// ---------------------------------------------------------------- webhook

/// A local receiver: answers `fail_first` requests with 503, then 200; keeps
/// every (headers, body) it received.
/// Each request's headers (lower-case names) and body.
type Requests = Arc<Mutex<Vec<(Vec<(String, String)>, String)>>>;

struct Receiver {
    url: String,
    got: Requests,
}

fn receiver(fail_first: usize) -> Receiver {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/tierwise", listener.local_addr().unwrap());
    let got: Requests = Arc::default();
    let seen = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap(); // request line
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':') {
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                }
            }
            let len: usize = headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            let n = {
                let mut g = seen.lock().unwrap();
                g.push((headers, String::from_utf8(body).unwrap()));
                g.len()
            };
            let status = if n <= fail_first { "503 Service Unavailable" } else { "200 OK" };
            let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    Receiver { url, got }
}

fn hook(url: &str, max_attempts: i64, backoff_seconds: i64) -> Webhook {
    Webhook {
        url: url.into(),
        secret: "s3cret-shared".into(),
        max_attempts,
        backoff_seconds,
        timeout: std::time::Duration::from_secs(5),
    }
}

/// Issue 5.6: POST JSON signed with HMAC-SHA256, retried with backoff after
/// failures, delivered once the receiver answers 2xx; each notice's state
/// is visible per client.
#[test]
fn webhook_delivery_is_signed_retried_and_delivered() {
    let f = fixture();
    let r = receiver(2);
    // the fixture's sweep queued two reassessment notices (C001, C004)
    let first = f.app.deliver_notices(&hook(&r.url, 8, 0), 100).unwrap();
    assert_eq!(first, DeliveryReport { delivered: 0, retried: 2, dead: 0 });
    let pending =
        f.app.store.notices(&NoticeQuery { status: Some("pending".into()), limit: 10, ..Default::default() }).unwrap();
    assert!(pending.iter().all(|n| n.attempts == 1 && n.last_error.as_deref() == Some("HTTP 503")), "{pending:?}");
    let second = f.app.deliver_notices(&hook(&r.url, 8, 0), 100).unwrap();
    assert_eq!(second, DeliveryReport { delivered: 2, retried: 0, dead: 0 });
    assert_eq!(f.app.deliver_notices(&hook(&r.url, 8, 0), 100).unwrap(), DeliveryReport::default(), "delivered once");

    let got = r.got.lock().unwrap();
    assert_eq!(got.len(), 4);
    for (headers, body) in got.iter() {
        let h = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
        let ts: i64 = h("x-tierwise-timestamp").parse().unwrap();
        assert_eq!(
            h("x-tierwise-signature"),
            webhook_signature("s3cret-shared", ts, body),
            "the receiver can verify it"
        );
        assert_ne!(h("x-tierwise-signature"), webhook_signature("other", ts, body));
        assert_eq!(h("content-type"), "application/json");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["kind"], "reassessment_due");
    }
    let rm = actor(Role::Advisor, Some("A2"), None);
    let c001 = f.app.client_notices(&rm, "C001", Lang::Zh).unwrap();
    assert_eq!((c001[0].status.as_str(), c001[0].attempts), ("delivered", 2));
    assert!(c001[0].delivered_at.is_some());
    assert!(matches!(f.app.client_notices(&rm, "C003", Lang::Zh), Err(AppError::NotFound(_))), "not A2's client");
}

/// A notice is not retried before its backoff, and is dead after the last attempt.
#[test]
fn webhook_backoff_waits_and_dead_letters_after_max_attempts() {
    let f = fixture();
    let r = receiver(usize::MAX);
    let fast = hook(&r.url, 3, 0);
    assert_eq!(f.app.deliver_notices(&fast, 100).unwrap().retried, 2);
    assert_eq!(f.app.deliver_notices(&fast, 100).unwrap().retried, 2);
    assert_eq!(f.app.deliver_notices(&fast, 100).unwrap(), DeliveryReport { delivered: 0, retried: 0, dead: 2 });
    assert_eq!(f.app.deliver_notices(&fast, 100).unwrap(), DeliveryReport::default(), "dead letters are not retried");
    assert_eq!(r.got.lock().unwrap().len(), 6, "three attempts each");
    // on another book: after a failure the next attempt waits for the backoff
    let g = fixture();
    let slow = hook(&r.url, 3, 3600);
    assert_eq!(g.app.deliver_notices(&slow, 100).unwrap().retried, 2);
    assert_eq!(g.app.deliver_notices(&slow, 100).unwrap(), DeliveryReport::default(), "not due for an hour");
    let waiting = g.app.store.notices(&NoticeQuery { limit: 10, ..Default::default() }).unwrap();
    assert!(waiting.iter().all(|n| n.status == "pending" && n.next_attempt_at > unix_now() + 3500), "{waiting:?}");
    let counts: BTreeMap<String, i64> = f.app.notice_counts().unwrap().into_iter().collect();
    assert_eq!(counts.get("dead"), Some(&2));
    assert_eq!(backoff(30, 1), 30);
    assert_eq!(backoff(30, 2), 60);
    assert_eq!(backoff(30, 4), 240);
    assert_eq!(backoff(30, 40), 6 * 3600, "at most 6 hours");
}

/// A change of client data by a small import (a reported material change)
/// raises its alert at once, not at the next sweep.
#[test]
fn a_small_client_import_re_runs_the_clients_detections() {
    let f = fixture();
    let today = f.app.today();
    // C003 was assessed a month ago: valid today
    let mut a = f.app.store.client_assessments("C003").unwrap().remove(0);
    a.assessed_at = (today - Duration::days(30)).and_hms_opt(10, 0, 0).unwrap();
    let audit = tierwise_store::AuditEntry::new("test", "assessment.record", "client:C003", "{}");
    assert!(f.app.store.record_assessment(&a, None, 0, &audit).unwrap());
    f.app.monitor_client("C003", "test").unwrap();
    assert!(open_alerts(&f.app, "C003", "material_change").is_empty());

    // the core system reports a material change today
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("clients.csv"),
        format!("client_id,name,branch_id,advisor_id,material_change_at\nC003,陈静,B01,A1,{today}\n"),
    )
    .unwrap();
    assert!(f.app.import(dir.path(), &mut |_, _| {}).unwrap().committed);
    let got = open_alerts(&f.app, "C003", "material_change");
    assert_eq!(got.len(), 1, "raised by the import itself");
    assert_eq!((got[0].episode.as_str(), got[0].advisor_id.as_deref()), (today.to_string().as_str(), Some("A1")));
    let f2 = WorkFilter { client_id: Some("C003".into()), kind: Some("reassessment".into()), ..Default::default() };
    let pb = actor(Role::Advisor, Some("A1"), None);
    assert_eq!(f.app.tasks(&pb, &f2, Lang::Zh).unwrap().len(), 1, "and the reassessment task");
}
