//! The work conformance suite: what every backend's [`WorkStore`] must do
//! the same way — alerts and tasks deduplicated by key with one open per
//! subject, their lifecycle with audit events, the outbox, surveys, the
//! monitor's scan of the book, holders of a product, reassignment and the
//! workbench figures.
//!
//! Each function takes a fresh, empty, migrated store; [`run_all`] runs them all.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::desk::{all_audit, as_of, assert_chain_intact, at, book_client, classify_and_store, entry, seed_book};
use crate::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tierwise_domain::*;

const NOW: &str = "2025-06-30T09:00:00";

fn alert(kind: &str, severity: &str, subject: &str, episode: &str, advisor: Option<&str>, branch: &str) -> NewAlert {
    NewAlert {
        kind: kind.into(),
        severity: severity.into(),
        subject: subject.into(),
        client_id: Some(subject.into()),
        advisor_id: advisor.map(Into::into),
        branch_id: Some(branch.into()),
        episode: episode.into(),
        evidence: format!("{{\"rule\":\"{kind}\",\"episode\":\"{episode}\"}}"),
        source: "monitor".into(),
    }
}

fn task(kind: &str, client: &str, episode: &str, due: &str, advisor: Option<&str>, branch: &str) -> NewTask {
    NewTask {
        kind: kind.into(),
        client_id: client.into(),
        advisor_id: advisor.map(Into::into),
        branch_id: Some(branch.into()),
        episode: episode.into(),
        due: parse_date(due).unwrap(),
        evidence: "{}".into(),
        source: "monitor".into(),
    }
}

fn batch() -> WorkBatch {
    WorkBatch { at: NOW.into(), by: "monitor".into(), ..Default::default() }
}

fn open_alerts(s: &dyn WorkStore, scope: ClientScope) -> Vec<Alert> {
    s.alerts(&AlertQuery { scope, status: Some("open".into()), limit: 1000, ..Default::default() }).unwrap()
}

fn advisor(id: &str, branch: &str, title: AdvisorTitle, capacity: u32) -> Advisor {
    Advisor {
        advisor_id: id.into(),
        name: Some(format!("顾问{id}")),
        title: Some(title),
        experience_years: Some(6),
        capacity: Some(capacity),
        branch_id: Some(branch.into()),
    }
}

fn seed_advisors(s: &dyn Store) {
    assert!(s
        .import(&mut |sink| {
            sink.put_advisors(&[
                advisor("A1", "B1", AdvisorTitle::SeniorAdvisor, 200),
                advisor("A2", "B1", AdvisorTitle::Advisor, 100),
                advisor("A3", "B2", AdvisorTitle::PrivateBanker, 30),
            ])?;
            Ok(true)
        })
        .unwrap());
}

// ------------------------------------------------------------------ alerts

/// One alert per (kind, subject, episode), one open per (kind, subject);
/// inserting again stores nothing and is no error; a closed episode is not
/// reopened, a new episode after closing is.
pub fn alerts_are_deduplicated<S: Database>(s: &S) {
    let mut b = batch();
    b.alerts = vec![
        alert("churn_high", "high", "C1", "2025-06", Some("A1"), "B1"),
        alert("churn_high", "high", "C1", "2025-06", Some("A1"), "B1"), // same key in one batch
        alert("churn_high", "high", "C1", "2025-07", Some("A1"), "B1"), // second open one of the kind
        alert("above_tolerance", "high", "C1", "R4>C3", Some("A1"), "B1"),
        alert("large_outflow", "high", "C2", "T1", None, "B2"),
    ];
    let got = s.apply_work(&b).unwrap();
    assert_eq!(got.alerts.len(), 3, "{got:?}");
    let again = s.apply_work(&b).unwrap();
    assert!(again.alerts.is_empty(), "running the same detection twice creates nothing new");
    assert_eq!(open_alerts(s, ClientScope::All).len(), 3);

    let keys = s.open_alert_keys(&["churn_high"], None).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].subject.as_str(), keys[0].episode.as_str()), ("C1", "2025-06"));
    assert_eq!(s.open_alert_keys(&[], Some(("C2", "C2"))).unwrap().len(), 1);
    assert_eq!(s.open_alert_keys(&[], Some(("C1", "C2"))).unwrap().len(), 3, "a range of subjects, both ends in");
    assert_eq!(s.open_alert_keys(&[], Some(("C10", "C19"))).unwrap().len(), 0, "byte order: C2 > C19");
    assert_eq!(s.open_alert_keys(&["above_tolerance"], Some(("C0", "C1"))).unwrap().len(), 1);
    assert_eq!(s.open_alert_keys(&[], None).unwrap().len(), 3);

    // close it (system): the same episode is not reopened; a new one is
    let mut close = batch();
    close.close_alerts = vec![(keys[0].alert_id, "cleared".into())];
    assert_eq!(s.apply_work(&close).unwrap().closed_alerts, 1);
    assert_eq!(s.apply_work(&close).unwrap().closed_alerts, 0, "closing a closed alert changes nothing");
    let mut same = batch();
    same.alerts = vec![alert("churn_high", "high", "C1", "2025-06", Some("A1"), "B1")];
    assert!(s.apply_work(&same).unwrap().alerts.is_empty());
    let mut next = batch();
    next.alerts = vec![alert("churn_high", "high", "C1", "2025-07", Some("A1"), "B1")];
    assert_eq!(s.apply_work(&next).unwrap().alerts.len(), 1);

    let closed = s.alert(keys[0].alert_id).unwrap().unwrap();
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.outcome.as_deref(), Some("cleared"));
    assert_eq!(closed.closed_by.as_deref(), Some("monitor"));
    assert_eq!(closed.evidence, "{\"rule\":\"churn_high\",\"episode\":\"2025-06\"}");
    assert_eq!(closed.created_at, NOW);
    assert!(s.alert(999_999).unwrap().is_none());
}

/// Acknowledge then close, each with its audit event; a closed alert takes
/// no action. Queries follow the assignment scope, most urgent first.
pub fn alert_lifecycle_and_scope<S: Database>(s: &S) {
    let mut b = batch();
    b.alerts = vec![
        alert("turning_65", "low", "C1", "2025-07-01", Some("A1"), "B1"),
        alert("large_outflow", "high", "C1", "T9", Some("A1"), "B1"),
        alert("assessment_expiring", "medium", "C2", "2025-07-10", Some("A2"), "B1"),
        alert("large_outflow", "high", "C3", "T3", None, "B2"),
    ];
    b.alerts.push(NewAlert {
        kind: "advisor_over_capacity".into(),
        severity: "medium".into(),
        subject: "A3".into(),
        client_id: None,
        advisor_id: None,
        branch_id: Some("B2".into()),
        episode: "2025-06".into(),
        evidence: "{}".into(),
        source: "monitor".into(),
    });
    b.audit = vec![entry("monitor", "monitor.sweep", "book")];
    let ids = s.apply_work(&b).unwrap().alerts;
    assert_eq!(ids.len(), 5);
    let a1: Vec<(String, String)> =
        open_alerts(s, ClientScope::Advisor("A1".into())).into_iter().map(|a| (a.kind, a.severity)).collect();
    assert_eq!(
        a1,
        [("large_outflow".to_string(), "high".to_string()), ("turning_65".into(), "low".into())],
        "an advisor sees the alerts assigned to them, high first"
    );
    let b2: Vec<String> = open_alerts(s, ClientScope::Branch("B2".into())).into_iter().map(|a| a.subject).collect();
    assert_eq!(b2.len(), 2, "a team lead sees the branch's unassigned and advisor alerts: {b2:?}");
    assert!(open_alerts(s, ClientScope::Nobody).is_empty());
    let q = AlertQuery { kind: Some("large_outflow".into()), limit: 10, ..Default::default() };
    assert_eq!(s.alerts(&q).unwrap().len(), 2);
    let q = AlertQuery { client_id: Some("C1".into()), severity: Some("low".into()), limit: 10, ..Default::default() };
    assert_eq!(s.alerts(&q).unwrap().len(), 1);
    let q = AlertQuery { limit: 2, offset: 2, ..Default::default() };
    assert_eq!(s.alerts(&q).unwrap().len(), 2, "paged");

    let (_, by_severity) = s.day_counts(&ClientScope::Advisor("A1".into()), as_of()).unwrap();
    assert_eq!(by_severity, [("high".to_string(), 1), ("low".to_string(), 1)], "most urgent first");
    assert_eq!(
        s.day_counts(&ClientScope::Branch("B2".into()), as_of()).unwrap().1,
        [("high".to_string(), 1), ("medium".to_string(), 1)]
    );
    assert_eq!(s.day_counts(&ClientScope::Nobody, as_of()).unwrap(), (0, vec![]));
    let load: BTreeMap<Option<String>, i64> = s.alert_load(&ClientScope::All).unwrap().into_iter().collect();
    assert_eq!(load, BTreeMap::from([(Some("A1".to_string()), 2), (Some("A2".into()), 1), (None, 2)]));
    assert_eq!(s.alert_load(&ClientScope::Branch("B2".into())).unwrap(), vec![(None, 2)]);
    assert!(s.alert_load(&ClientScope::Nobody).unwrap().is_empty());
    let counts: BTreeMap<(String, String), i64> = s
        .alert_counts(&ClientScope::Branch("B1".into()))
        .unwrap()
        .into_iter()
        .map(|(k, sev, n)| ((k, sev), n))
        .collect();
    assert_eq!(counts.values().sum::<i64>(), 3);
    assert_eq!(counts[&("large_outflow".to_string(), "high".to_string())], 1);

    let id = ids[1];
    let ack = AlertAction::Acknowledge;
    assert!(s.act_on_alert(id, &ack, "rm1", "2025-06-30T10:00:00", &entry("rm1", "alert.acknowledge", "C1")).unwrap());
    assert!(
        !s.act_on_alert(id, &ack, "rm1", "2025-06-30T10:01:00", &entry("rm1", "alert.acknowledge", "C1")).unwrap(),
        "an acknowledged alert is not acknowledged again"
    );
    let a = s.alert(id).unwrap().unwrap();
    assert_eq!((a.status.as_str(), a.acknowledged_by.as_deref()), ("acknowledged", Some("rm1")));
    assert_eq!(open_alerts(s, ClientScope::Advisor("A1".into())).len(), 2, "acknowledged is still open");
    let close = AlertAction::Close { outcome: "客户确认为购房支出".into() };
    assert!(s.act_on_alert(id, &close, "rm1", "2025-06-30T11:00:00", &entry("rm1", "alert.close", "C1")).unwrap());
    assert!(!s.act_on_alert(id, &close, "rm1", "2025-06-30T11:00:00", &entry("rm1", "alert.close", "C1")).unwrap());
    assert!(!s.act_on_alert(id, &ack, "rm1", "2025-06-30T11:00:00", &entry("rm1", "alert.acknowledge", "C1")).unwrap());
    let a = s.alert(id).unwrap().unwrap();
    assert_eq!(a.status, "closed");
    assert_eq!(a.outcome.as_deref(), Some("客户确认为购房支出"));
    assert_eq!(a.closed_at.as_deref(), Some("2025-06-30T11:00:00"));
    let q = AlertQuery { status: Some("closed".into()), limit: 10, ..Default::default() };
    assert_eq!(s.alerts(&q).unwrap().len(), 1);
    // each person's step and the batch's audit are in the chain, refused steps are not
    let actions: Vec<String> = all_audit(s).into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["monitor.sweep", "alert.acknowledge", "alert.close"]);
    assert_chain_intact(s);
}

// ------------------------------------------------------------------ tasks

/// Tasks: deduplicated like alerts; completed once with the interaction
/// that did it; finished by a batch; due-date order, scope and load.
pub fn tasks_lifecycle<S: Database>(s: &S) {
    seed_book(s);
    let mut b = batch();
    b.tasks = vec![
        task("followup", "D003", "after:2025-03-01", "2025-05-30", Some("A1"), "B1"),
        task("followup", "D003", "after:2025-04-01", "2025-06-30", Some("A1"), "B1"), // second open followup
        task("retention", "D003", "2025-06", "2025-07-07", Some("A1"), "B1"),
        task("reassessment", "D006", "2025-07-10", "2025-07-10", Some("A1"), "B1"),
        task("followup", "D020", "first", "2025-06-30", None, "B2"),
    ];
    let ids = s.apply_work(&b).unwrap().tasks;
    assert_eq!(ids.len(), 4);
    assert!(s.apply_work(&b).unwrap().tasks.is_empty(), "idempotent");

    let q = TaskQuery {
        scope: ClientScope::Advisor("A1".into()),
        status: Some("open".into()),
        limit: 50,
        ..Default::default()
    };
    let mine: Vec<(String, NaiveDate)> = s.tasks(&q).unwrap().into_iter().map(|t| (t.kind, t.due)).collect();
    assert_eq!(
        mine,
        [
            ("followup".to_string(), parse_date("2025-05-30").unwrap()),
            ("retention".into(), parse_date("2025-07-07").unwrap()),
            ("reassessment".into(), parse_date("2025-07-10").unwrap()),
        ],
        "earliest due first"
    );
    let q = TaskQuery { due_until: Some(as_of()), limit: 50, ..Default::default() };
    assert_eq!(s.tasks(&q).unwrap().len(), 2, "due on or before D");
    let q = TaskQuery { due_from: Some(as_of()), due_until: Some(as_of()), limit: 50, ..Default::default() };
    let today: Vec<String> = s.tasks(&q).unwrap().into_iter().map(|t| t.client_id).collect();
    assert_eq!(today, ["D020"], "due on D exactly");
    let q = TaskQuery { due_from: Some(parse_date("2025-07-01").unwrap()), limit: 50, ..Default::default() };
    assert_eq!(s.tasks(&q).unwrap().len(), 2, "due on or after a date");
    let keys = s.open_task_keys(&["followup"], None).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(s.open_task_keys(&[], Some(("D003", "D003"))).unwrap().len(), 2);
    assert_eq!(s.open_task_keys(&[], Some(("D001", "D019"))).unwrap().len(), 3);
    assert_eq!(s.open_task_keys(&["followup"], Some(("D004", "D999"))).unwrap().len(), 1);

    let load: BTreeMap<Option<String>, (i64, i64)> = s
        .task_load(&ClientScope::All, as_of())
        .unwrap()
        .into_iter()
        .map(|l| (l.advisor_id, (l.open, l.overdue)))
        .collect();
    assert_eq!(load[&Some("A1".to_string())], (3, 1), "one of A1's is due before D");
    assert_eq!(load[&None], (1, 0));
    assert_eq!(s.task_load(&ClientScope::Branch("B2".into()), as_of()).unwrap().len(), 1);
    assert_eq!(s.day_counts(&ClientScope::Advisor("A1".into()), as_of()).unwrap().0, 1, "one overdue");
    assert_eq!(s.day_counts(&ClientScope::All, parse_date("2025-07-08").unwrap()).unwrap().0, 3);

    // completed by logging an interaction, in one transaction
    let followup = ids[0];
    let contact = Interaction {
        client_id: "D003".into(),
        advisor_id: Some("A1".into()),
        at: at("2025-06-30", 10, 0),
        channel: InteractionChannel::Call,
        topic: Some("季度回访".into()),
        outcome: Some("满意".into()),
    };
    let e = entry("rm1", "task.complete", "D003");
    assert!(s.complete_task(followup, "rm1", "2025-06-30T10:00:00", "contacted", Some(&contact), &e).unwrap());
    assert!(!s.complete_task(followup, "rm1", "2025-06-30T10:05:00", "again", None, &e).unwrap());
    let t = s.task(followup).unwrap().unwrap();
    assert_eq!((t.status.as_str(), t.outcome.as_deref()), ("done", Some("contacted")));
    assert_eq!(t.client_name.as_deref(), Some("张伟3"), "read with the client's name");
    assert!(s.tasks(&TaskQuery { limit: 10, ..Default::default() }).unwrap().iter().all(|t| t.client_name.is_some()));
    assert_eq!(t.completed_by.as_deref(), Some("rm1"));
    assert_eq!(s.client_interactions("D003", 5).unwrap(), vec![contact]);

    // the next follow-up may open now that the first is done
    let mut next = batch();
    next.tasks = vec![task("followup", "D003", "after:2025-06-30", "2025-07-30", Some("A1"), "B1")];
    assert_eq!(s.apply_work(&next).unwrap().tasks.len(), 1);

    // finished by a batch: only open ones
    let mut fin = batch();
    fin.finish_tasks =
        vec![(ids[1], "cancelled".into(), "condition_cleared".into()), (followup, "cancelled".into(), "x".into())];
    assert_eq!(s.apply_work(&fin).unwrap().finished_tasks, 1);
    assert_eq!(s.task(ids[1]).unwrap().unwrap().status, "cancelled");
    assert_eq!(s.task(followup).unwrap().unwrap().status, "done", "a done task stays done");
    assert!(s.task(0).unwrap().is_none());
    assert_chain_intact(s);
}

// ------------------------------------------------------------------ outbox

/// The outbox: one notice per (kind, client, episode), due at once,
/// updated per attempt, listed per client and counted by status.
pub fn outbox<S: Database>(s: &S) {
    let n = |kind: &str, client: &str, episode: &str| NewNotice {
        kind: kind.into(),
        client_id: client.into(),
        episode: episode.into(),
        payload: format!("{{\"kind\":\"{kind}\",\"client_id\":\"{client}\"}}"),
    };
    let mut b = batch();
    b.notices = vec![
        n("reassessment_due", "C1", "2025-07-10"),
        n("reassessment_due", "C1", "2025-07-10"),
        n("product_rerated", "C1", "P1:R3>R4"),
        n("product_rerated", "C2", "P1:R3>R4"),
    ];
    let ids = s.apply_work(&b).unwrap().notices;
    assert_eq!(ids.len(), 3);
    assert!(s.apply_work(&b).unwrap().notices.is_empty());
    let due = s.due_notices(0, 10).unwrap();
    assert_eq!(due.iter().map(|x| x.notice_id).collect::<Vec<_>>(), ids, "oldest first, due at once");
    assert_eq!(due[0].status, "pending");
    assert_eq!(due[0].attempts, 0);
    assert_eq!(due[0].payload, "{\"kind\":\"reassessment_due\",\"client_id\":\"C1\"}");
    assert_eq!(s.due_notices(0, 2).unwrap().len(), 2);

    s.update_notices(&[
        NoticeUpdate {
            notice_id: ids[0],
            status: "delivered".into(),
            attempts: 1,
            next_attempt_at: 0,
            last_error: None,
            delivered_at: Some("2025-06-30T09:01:00".into()),
        },
        NoticeUpdate {
            notice_id: ids[1],
            status: "pending".into(),
            attempts: 1,
            next_attempt_at: 1_000,
            last_error: Some("HTTP 503".into()),
            delivered_at: None,
        },
        NoticeUpdate {
            notice_id: ids[2],
            status: "dead".into(),
            attempts: 8,
            next_attempt_at: 0,
            last_error: Some("connection refused".into()),
            delivered_at: None,
        },
    ])
    .unwrap();
    assert!(s.due_notices(999, 10).unwrap().is_empty(), "the retry is not due yet");
    assert_eq!(s.due_notices(1_000, 10).unwrap().len(), 1);
    let c1 = s.notices(&NoticeQuery { client_id: Some("C1".into()), limit: 10, ..Default::default() }).unwrap();
    assert_eq!(c1.len(), 2);
    assert_eq!(c1[0].delivered_at.as_deref(), Some("2025-06-30T09:01:00"));
    assert_eq!(c1[1].last_error.as_deref(), Some("HTTP 503"));
    let dead = s.notices(&NoticeQuery { status: Some("dead".into()), limit: 10, ..Default::default() }).unwrap();
    assert_eq!(dead.len(), 1);
    let page = s.notices(&NoticeQuery { after: Some(ids[0]), limit: 1, ..Default::default() }).unwrap();
    assert_eq!(page.iter().map(|x| x.notice_id).collect::<Vec<_>>(), [ids[1]]);
    let counts: BTreeMap<String, i64> = s.notice_counts().unwrap().into_iter().collect();
    assert_eq!(counts, BTreeMap::from([("dead".into(), 1), ("delivered".into(), 1), ("pending".into(), 1)]));
}

// ------------------------------------------------------------------ surveys

/// A survey is answered once, before it expires; answers group by advisor,
/// branch and segment.
pub fn surveys<S: Database>(s: &S) {
    let sv = |hash: &str, advisor: &str, segment: &str| Survey {
        token_hash: hash.into(),
        client_id: "C1".into(),
        advisor_id: Some(advisor.into()),
        branch_id: Some("B1".into()),
        segment: Some(segment.into()),
        task_id: Some(7),
        created_at: 100,
        expires_at: 200,
        answered_at: None,
        nps: None,
        comment: None,
    };
    for (h, a, seg) in
        [("h1", "A1", "hnw-growth"), ("h2", "A1", "hnw-growth"), ("h3", "A2", "wealth-balanced"), ("h4", "A2", "x")]
    {
        s.create_survey(&sv(h, a, seg), &entry("rm1", "survey.create", "C1")).unwrap();
    }
    assert_eq!(s.survey("h1").unwrap(), Some(sv("h1", "A1", "hnw-growth")));
    assert!(s.survey("nope").unwrap().is_none());
    let e = entry("client", "survey.answer", "C1");
    assert!(s.answer_survey("h1", 10, Some("很专业"), 150, &e).unwrap());
    assert!(!s.answer_survey("h1", 0, None, 151, &e).unwrap(), "once");
    assert!(!s.answer_survey("h2", 9, None, 200, &e).unwrap(), "expired at expires_at");
    assert!(s.answer_survey("h3", 3, None, 199, &e).unwrap());
    assert!(!s.answer_survey("nope", 3, None, 150, &e).unwrap());
    let got = s.survey("h1").unwrap().unwrap();
    assert_eq!((got.nps, got.comment.as_deref(), got.answered_at), (Some(10), Some("很专业"), Some(150)));
    let mut scores = s.survey_scores(&ClientScope::All).unwrap();
    scores.sort_by(|a, b| a.advisor_id.cmp(&b.advisor_id));
    assert_eq!(scores.len(), 2);
    assert_eq!((scores[0].advisor_id.as_deref(), scores[0].nps, scores[0].answers), (Some("A1"), 10, 1));
    assert_eq!(scores[1].segment.as_deref(), Some("wealth-balanced"));
    assert_eq!(s.survey_scores(&ClientScope::Advisor("A2".into())).unwrap().len(), 1);
    assert!(s.survey_scores(&ClientScope::Branch("B9".into())).unwrap().is_empty());
    assert_eq!(all_audit(s).len(), 6);
    assert_chain_intact(s);
}

// ------------------------------------------------------------------ the book

/// The monitor's scan: every client of the run once, in id order, with the
/// client's row, the newest assessment and contact on or before D, and the
/// run's values.
pub fn monitor_scan<S: Database>(s: &S) {
    seed_book(s);
    seed_advisors(s);
    let contact = |client: &str, date: &str| Interaction {
        client_id: client.into(),
        advisor_id: Some("A1".into()),
        at: at(date, 10, 0),
        channel: InteractionChannel::Visit,
        topic: None,
        outcome: None,
    };
    for (c, d) in [("D003", "2025-06-10"), ("D003", "2025-05-01"), ("D003", "2025-07-05"), ("D004", "2025-07-01")] {
        s.add_interaction(&contact(c, d), &entry("rm1", "interaction.add", c)).unwrap();
    }
    let run = classify_and_store(s);
    let mut facts = Vec::new();
    let mut chunks = 0;
    s.monitor_scan(run.info.run_id, as_of(), None, 7, &mut |chunk| {
        assert!(!chunk.is_empty() && chunk.len() <= 7, "chunks of at most 7: {}", chunk.len());
        chunks += 1;
        facts.extend(chunk);
        Ok(())
    })
    .unwrap();
    assert_eq!(facts.len(), 60);
    assert!(chunks >= 9);
    let ids: Vec<&str> = facts.iter().map(|f| f.client_id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "client-id order");
    for (f, (c, _)) in facts.iter().zip(&run.rows) {
        let i: usize = f.client_id[1..].parse().unwrap();
        let want = book_client(i);
        assert_eq!(f.client_id, c.client_id);
        assert_eq!((&f.advisor_id, &f.branch_id, f.birth_date), (&want.advisor_id, &want.branch_id, want.birth_date));
        assert_eq!(f.run_id, run.info.run_id);
        assert_eq!((f.asset_tier.as_str(), f.segment.as_str()), (c.asset_tier.as_str(), c.segment.as_str()));
        assert_eq!((f.risk_level, f.behaviour_risk), (c.risk_level, c.behaviour_risk));
        assert_eq!((f.churn_risk.as_str(), f.aum), (c.churn_risk.as_str(), c.aum));
        assert_eq!(f.prev_asset_tier, None, "the first run has no previous values");
        let assessed = match i % 5 {
            1 => Some("2025-01-10"),
            2 => Some("2024-12-01"),
            3 => Some("2023-01-01"),
            4 => Some("2025-06-20"),
            _ => None,
        };
        assert_eq!(f.assessed_on, assessed.map(|d| parse_date(d).unwrap()), "{}", f.client_id);
        assert_eq!(f.questionnaire_id.is_some(), assessed.is_some());
    }
    let d003 = &facts[2];
    assert_eq!(d003.last_contact, Some(parse_date("2025-06-10").unwrap()), "the newest contact on or before D");
    assert_eq!(facts[3].last_contact, None, "a contact after D does not count");

    // one client; a later date sees the later contact; a second run gives previous values
    let mut one = Vec::new();
    s.monitor_scan(run.info.run_id, parse_date("2025-07-31").unwrap(), Some("D003"), 100, &mut |c| {
        one.extend(c);
        Ok(())
    })
    .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].last_contact, Some(parse_date("2025-07-05").unwrap()));
    let second = classify_and_store(s);
    let mut prev = None;
    s.monitor_scan(second.info.run_id, as_of(), Some("D003"), 100, &mut |c| {
        prev = c[0].prev_asset_tier.clone();
        Ok(())
    })
    .unwrap();
    assert_eq!(prev.as_deref(), Some(run.rows[2].0.asset_tier.as_str()));

    // placements for assignment: the run's clients with segment and advisor
    let all = s.placements(second.info.run_id, None).unwrap();
    assert_eq!(all.len(), 60);
    let d003 = all.iter().find(|p| p.client_id == "D003").unwrap();
    assert_eq!((d003.current.as_deref(), d003.branch_id.as_deref()), (Some("A1"), Some("B1")));
    assert_eq!(d003.segment, second.rows[2].0.segment);
    // B2's clients, and every client of B2's advisor A3 (whatever its branch)
    let b2 = s.placements(second.info.run_id, Some("B2")).unwrap();
    let want = (1..=60)
        .map(book_client)
        .filter(|c| c.branch_id.as_deref() == Some("B2") || c.advisor_id.as_deref() == Some("A3"))
        .count();
    assert_eq!(b2.len(), want);
    assert!(b2.iter().all(|p| p.branch_id.as_deref() == Some("B2") || p.current.as_deref() == Some("A3")));
    let ids: Vec<&str> = b2.iter().map(|p| p.client_id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);

    let mut advisors = s.advisors().unwrap();
    advisors.sort_by(|a, b| a.advisor_id.cmp(&b.advisor_id));
    assert_eq!(advisors[2], advisor("A3", "B2", AdvisorTitle::PrivateBanker, 30));
}

/// Holders of a product: in their newest snapshot with value > 0, with their
/// newest assessment's level.
pub fn holders<S: Database>(s: &S) {
    seed_book(s);
    // D006 moves out of P1 in a newer snapshot; D012 holds P1 at 0 in a newer one
    assert!(s
        .import(&mut |sink| {
            sink.put_holdings(&[
                Holding {
                    client_id: "D006".into(),
                    product_id: "P5".into(),
                    market_value: "10".parse().unwrap(),
                    as_of: parse_date("2025-07-01").unwrap(),
                },
                Holding {
                    client_id: "D012".into(),
                    product_id: "P1".into(),
                    market_value: Decimal::ZERO,
                    as_of: parse_date("2025-07-01").unwrap(),
                },
            ])?;
            Ok(true)
        })
        .unwrap());
    let mut got = s.holders("P1").unwrap();
    got.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    // P1 is held by i % 6 in {0, 1, 2, 3}, D006 and D012 no longer
    let want: Vec<String> =
        (1..=60usize).filter(|i| i % 6 <= 3 && *i != 6 && *i != 12).map(super::desk::client_id).collect();
    assert_eq!(got.iter().map(|h| h.client_id.clone()).collect::<Vec<_>>(), want);
    let d001 = &got[0];
    assert_eq!((d001.risk_level, d001.advisor_id.as_deref()), (Some(RiskLevel::C2), Some("A2")));
    assert_eq!(d001.market_value, "300000".parse::<Decimal>().unwrap());
    let d015 = got.iter().find(|h| h.client_id == "D015").unwrap();
    assert_eq!(d015.risk_level, None, "never assessed");
    assert!(s.holders("P-NONE").unwrap().is_empty());
}

/// A batch stores transactions (idempotent by txn id), moves clients that
/// are still with `from` and their open alerts and tasks, atomically.
pub fn reassignment_and_transactions<S: Database>(s: &S) {
    seed_book(s);
    let mut b = batch();
    b.alerts = vec![alert("churn_high", "high", "D003", "2025-06", Some("A1"), "B1")];
    b.tasks = vec![task("retention", "D003", "2025-06", "2025-07-07", Some("A1"), "B1")];
    s.apply_work(&b).unwrap();

    let txn = |id: &str, client: &str, amount: &str| Transaction {
        txn_id: id.into(),
        client_id: client.into(),
        product_id: None,
        ts: at("2025-06-30", 9, 30),
        kind: TxnKind::Withdraw,
        amount: amount.parse().unwrap(),
        channel: Some("mobile".into()),
    };
    let before = s.counts().unwrap().transactions;
    let mut b = batch();
    b.transactions = vec![txn("FEED-1", "D003", "800000"), txn("FEED-2", "D004", "10")];
    b.reassign = vec![
        Reassignment { client_id: "D003".into(), from: Some("A1".into()), to: "A2".into() },
        Reassignment { client_id: "D004".into(), from: Some("A9".into()), to: "A3".into() }, // stale: D004 is A2's
        Reassignment { client_id: "D020".into(), from: None, to: "A3".into() },              // unassigned
    ];
    b.audit = vec![entry("lead", "assignment.apply", "D003"), entry("lead", "assignment.apply", "D020")];
    let got = s.apply_work(&b).unwrap();
    assert_eq!(got.reassigned, ["D003".to_string(), "D020".to_string()]);
    assert_eq!(s.counts().unwrap().transactions, before + 2);
    b.reassign.clear();
    b.audit.clear();
    b.transactions[0].amount = "900000".parse().unwrap();
    s.apply_work(&b).unwrap();
    assert_eq!(s.counts().unwrap().transactions, before + 2, "a re-sent txn_id updates its row");

    assert_eq!(s.client("D003").unwrap().unwrap().advisor_id.as_deref(), Some("A2"));
    assert_eq!(s.client("D004").unwrap().unwrap().advisor_id.as_deref(), Some("A2"), "stale proposal: unchanged");
    assert_eq!(s.client("D020").unwrap().unwrap().advisor_id.as_deref(), Some("A3"));
    let moved = open_alerts(s, ClientScope::Advisor("A2".into()));
    assert_eq!(moved.len(), 1, "the open alert follows the client");
    let q = TaskQuery { scope: ClientScope::Advisor("A2".into()), limit: 10, ..Default::default() };
    assert_eq!(s.tasks(&q).unwrap().len(), 1, "the open task follows the client");
    assert!(open_alerts(s, ClientScope::Advisor("A1".into())).is_empty());
    assert_chain_intact(s);
}

/// KPIs: follow-ups due in a period and done on time, checks by verdict
/// per advisor; books per advisor in a run, kept.
pub fn kpis<S: Database>(s: &S) {
    seed_book(s);
    let run = classify_and_store(s);
    let mut b = batch();
    b.tasks = vec![
        task("followup", "D003", "e1", "2025-06-10", Some("A1"), "B1"),
        task("followup", "D006", "e1", "2025-06-20", Some("A1"), "B1"),
        task("followup", "D009", "e1", "2025-05-20", Some("A1"), "B1"), // before the period
        task("followup", "D001", "e1", "2025-06-15", Some("A2"), "B1"),
        task("retention", "D012", "e1", "2025-06-15", Some("A1"), "B1"), // not a follow-up
    ];
    let ids = s.apply_work(&b).unwrap().tasks;
    let e = entry("rm1", "task.complete", "x");
    assert!(s.complete_task(ids[0], "rm1", "2025-06-09T10:00:00", "ok", None, &e).unwrap()); // on time
    assert!(s.complete_task(ids[1], "rm1", "2025-06-25T10:00:00", "ok", None, &e).unwrap()); // late
    for (client, verdict) in [("D003", "warn"), ("D003", "prohibited"), ("D006", "prohibited"), ("D001", "match")] {
        s.record_check(&CheckRecord {
            client_id: client.into(),
            product_id: "P1".into(),
            at: "2025-06-12T10:00:00".into(),
            verdict: verdict.into(),
            rule_pack: "cn-bank".into(),
            rule_version: "2025.1".into(),
            actor: "rm1".into(),
            payload: "{}".into(),
        })
        .unwrap();
    }
    let from = parse_date("2025-06-01").unwrap();
    let act: BTreeMap<String, AdvisorActivity> = s
        .advisor_activity(&ClientScope::All, from, as_of())
        .unwrap()
        .into_iter()
        .map(|a| (a.advisor_id.clone(), a))
        .collect();
    let a1 = &act["A1"];
    assert_eq!((a1.followups_due, a1.followups_on_time, a1.warns, a1.prohibited), (2, 1, 1, 2));
    let a2 = &act["A2"];
    assert_eq!((a2.followups_due, a2.followups_on_time, a2.warns, a2.prohibited), (1, 0, 0, 0));
    assert!(s
        .advisor_activity(&ClientScope::Advisor("A2".into()), from, as_of())
        .unwrap()
        .iter()
        .all(|a| a.advisor_id == "A2"));

    let books = s.advisor_books(run.info.run_id).unwrap();
    let mut want: BTreeMap<String, (i64, Decimal)> = BTreeMap::new();
    for (c, _) in &run.rows {
        let i: usize = c.client_id[1..].parse().unwrap();
        if let Some(a) = book_client(i).advisor_id {
            let e = want.entry(a).or_default();
            e.0 += 1;
            e.1 += c.aum;
        }
    }
    let got: BTreeMap<String, (i64, Decimal)> =
        books.iter().map(|b| (b.advisor_id.clone(), (b.clients, b.aum))).collect();
    assert_eq!(got, want);
    assert_eq!(s.advisor_books(run.info.run_id).unwrap(), books, "kept");
    let mut mv = batch();
    mv.reassign = vec![Reassignment { client_id: "D003".into(), from: Some("A1".into()), to: "A2".into() }];
    assert_eq!(s.apply_work(&mv).unwrap().reassigned.len(), 1);
    assert_eq!(s.advisor_books(run.info.run_id).unwrap(), books, "kept: a run's books do not move");
}

/// Runs the whole work suite, each part on a fresh store from `fresh`.
pub fn run_all<S: crate::Database>(fresh: &mut dyn FnMut() -> S) {
    alerts_are_deduplicated(&fresh());
    alert_lifecycle_and_scope(&fresh());
    tasks_lifecycle(&fresh());
    outbox(&fresh());
    surveys(&fresh());
    monitor_scan(&fresh());
    holders(&fresh());
    reassignment_and_transactions(&fresh());
    kpis(&fresh());
}
