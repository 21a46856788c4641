//! The desk's conformance suite: what every backend's [`DeskStore`] must do
//! the same way — staff, sessions, one-time links, the client list and 360,
//! run counts and reclassification, checks and sales, and the hash-chained
//! audit trail. Expected results are computed in Rust from the same book and
//! the same engine, so the suite does not depend on the pack's thresholds.
//!
//! Each function takes a fresh, empty, migrated store; [`run_all`] runs them all.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use tierwise_classify::{Catalog, Classification, Engine};
use tierwise_domain::*;

// ------------------------------------------------------------------ fixtures

pub(crate) fn entry(actor: &str, action: &str, subject: &str) -> AuditEntry {
    AuditEntry::new(actor, action, subject, format!("{{\"subject\":\"{subject}\"}}"))
}

pub(crate) fn pack() -> tierwise_rules::Pack {
    tierwise_rules::load("cn-bank", None).unwrap().0
}

pub(crate) fn as_of() -> NaiveDate {
    parse_date("2025-06-30").unwrap()
}

pub(crate) fn at(date: &str, h: u32, m: u32) -> LocalDateTime {
    parse_date(date).unwrap().and_hms_opt(h, m, 0).unwrap()
}

pub(crate) fn product(id: &str, category: ProductCategory, risk: ProductRisk, fee: &str) -> Product {
    Product {
        product_id: id.into(),
        name: Some(format!("产品{id}")),
        category,
        variety: None,
        risk_level: risk,
        horizon_months: 0,
        min_investment: Decimal::ONE,
        investor_requirement: InvestorRequirement::None,
        annual_fee_rate: fee.parse().unwrap(),
        status: ProductStatus::OnSale,
        currency: "CNY".into(),
    }
}

pub(crate) fn assessment(client_id: &str, level: RiskLevel, assessed_at: LocalDateTime) -> Assessment {
    Assessment {
        client_id: client_id.into(),
        questionnaire_id: "Q-2025".into(),
        assessed_at,
        channel: Channel::Branch,
        answers: Some(format!("{{\"q1\":\"a\",\"level\":\"{}\"}}", level.as_str())),
        result: AssessmentResult {
            level,
            lowest: false,
            score: Some(42),
            horizon_months: Some(36),
            varieties: Some(vec![Variety::FixedIncome, Variety::Equity]),
            goal: Some(Goal::Growth),
        },
    }
}

const BOOK: usize = 60;
const NAMES: [&str; 5] = ["王芳", "王伟", "李娜", "张伟", "刘洋"];

pub(crate) fn client_id(i: usize) -> String {
    format!("D{i:03}")
}

/// Client `i` of the generated book (1 ≤ i ≤ 60, and 61, 62 added after the runs).
pub(crate) fn book_client(i: usize) -> Client {
    let advisor = (!i.is_multiple_of(20)).then(|| format!("A{}", i % 3 + 1));
    let branch = if advisor.is_none() || i % 3 == 2 { "B2" } else { "B1" };
    Client {
        client_id: client_id(i),
        name: (!i.is_multiple_of(17)).then(|| format!("{}{i}", NAMES[i % 5])),
        phone: Some(format!("1390000{i:04}")),
        birth_date: match i % 4 {
            0 => Some(parse_date("1950-01-01").unwrap()),
            1 => Some(parse_date("1990-05-05").unwrap()),
            3 => Some(parse_date("1975-03-03").unwrap()),
            _ => None,
        },
        branch_id: Some(branch.into()),
        advisor_id: advisor,
        ..Default::default()
    }
}

fn book_holdings(i: usize) -> Vec<Holding> {
    let (product, amount) = match i % 6 {
        0 => ("P1", "100"),
        1 => ("P1", "300000"),
        2 => ("P1", "600000.25"),
        3 => ("P1", "20000000"),
        4 => ("P5", "50000"),
        _ => return Vec::new(),
    };
    vec![Holding {
        client_id: client_id(i),
        product_id: product.into(),
        market_value: amount.parse().unwrap(),
        as_of: as_of(),
    }]
}

fn book_assessments(i: usize) -> Vec<Assessment> {
    let id = client_id(i);
    match i % 5 {
        1 => vec![assessment(&id, RiskLevel::C2, at("2025-01-10", 10, 0))],
        2 => vec![assessment(&id, RiskLevel::C4, at("2024-12-01", 9, 30))],
        3 => vec![assessment(&id, RiskLevel::C3, at("2023-01-01", 15, 0))],
        4 => vec![assessment(&id, RiskLevel::C5, at("2025-06-20", 11, 0))],
        _ => Vec::new(),
    }
}

/// Imports clients `ids` (with their holdings and assessments) and the products.
pub(crate) fn import_clients(s: &dyn Store, ids: std::ops::RangeInclusive<usize>) {
    let ok = s
        .import(&mut |sink| {
            sink.put_products(&[
                product("P1", ProductCategory::BondFund, ProductRisk::R2, "0.005"),
                product("P5", ProductCategory::EquityFund, ProductRisk::R5, "0.015"),
            ])?;
            let clients: Vec<Client> = ids.clone().map(book_client).collect();
            sink.put_clients(&clients)?;
            let holdings: Vec<Holding> = ids.clone().flat_map(book_holdings).collect();
            sink.put_holdings(&holdings)?;
            let assessments: Vec<Assessment> = ids.clone().flat_map(book_assessments).collect();
            sink.put_assessments(&assessments)?;
            Ok(true)
        })
        .unwrap();
    assert!(ok);
}

pub(crate) fn seed_book(s: &dyn Store) {
    import_clients(s, 1..=BOOK);
}

/// A classification run over the whole stored book: the results as written
/// (deciles filled in) with each client's previous values.
pub(crate) struct Run {
    pub(crate) info: RunInfo,
    pub(crate) rows: Vec<(Classification, Option<(String, String)>)>,
}

pub(crate) fn classify_and_store(s: &dyn Store) -> Run {
    let pack = pack();
    let cat = Catalog::new(s.products().unwrap());
    let engine = Engine::new(&pack, Default::default());
    let mut rows = Vec::new();
    s.scan_books(&cat, 7, None, &mut |chunk| {
        for c in chunk {
            rows.push((engine.classify(&c.book, &cat, as_of()), c.previous));
        }
        Ok(())
    })
    .unwrap();
    rows.sort_by(|a, b| a.0.client_id.cmp(&b.0.client_id));
    let mut w = s.begin_run(as_of(), &pack.id, &pack.version, &pack.source_text).unwrap();
    w.write(&rows).unwrap();
    let deciles: Vec<(String, u8)> =
        rows.iter().enumerate().map(|(i, (c, _))| (c.client_id.clone(), (i % 10 + 1) as u8)).collect();
    for (c, d) in rows.iter_mut().map(|(c, _)| c).zip(&deciles) {
        c.value_decile = d.1;
    }
    let info = w.finish(&deciles, rows.len() as i64).unwrap();
    Run { info, rows }
}

fn scan_run_map(s: &dyn Store, run_id: i64) -> BTreeMap<String, StoredClassification> {
    let mut out = BTreeMap::new();
    s.scan_run(run_id, &mut |r| {
        out.insert(r.client_id.clone(), r.clone());
        Ok(())
    })
    .unwrap();
    out
}

fn user(username: &str) -> User {
    User {
        user_id: 0,
        username: username.into(),
        display_name: format!("{username} 的名字"),
        role: "advisor".into(),
        advisor_id: Some("A1".into()),
        branch_id: None,
        can_view_pii: false,
        active: true,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: "2025-06-30T08:00:00Z".into(),
    }
}

pub(crate) fn all_audit(s: &dyn DeskStore) -> Vec<AuditEvent> {
    let mut out = Vec::new();
    s.scan_audit(&mut |e| {
        out.push(e.clone());
        Ok(())
    })
    .unwrap();
    out
}

fn head_seq(s: &dyn DeskStore) -> i64 {
    s.audit_head().unwrap().map(|h| h.0).unwrap_or(0)
}

pub(crate) fn assert_chain_intact(s: &dyn DeskStore) -> i64 {
    let v = verify_audit(s).unwrap();
    assert_eq!(v.broken, None, "the audit chain is intact");
    let events = all_audit(s);
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>(), "seq is 1..n without gaps");
    assert_eq!(v.events, events.len() as i64);
    match events.last() {
        Some(last) => {
            assert_eq!(s.audit_head().unwrap(), Some((last.seq, last.hash.clone())));
            assert_eq!(v.head, last.hash);
        }
        None => assert_eq!(v.head, GENESIS_HASH),
    }
    v.events
}

fn is_conflict<T: std::fmt::Debug>(r: StoreResult<T>) -> bool {
    matches!(r, Err(StoreError::Conflict(_)))
}

// ------------------------------------------------------------------ staff

/// Users are created with fresh ids, found by id and name, updated (but for
/// username and created_at), and a taken username is a Conflict.
pub fn users<S: Database>(s: &S) {
    assert!(s.users().unwrap().is_empty());
    assert_eq!(s.user_by_name("alice").unwrap(), None);
    let alice = user("alice");
    let id = s.create_user(&alice, &entry("admin", "user.create", "user:alice")).unwrap();
    assert!(id > 0);
    let mut bob = user("bob");
    bob.role = "team_lead".into();
    bob.advisor_id = None;
    bob.branch_id = Some("B1".into());
    bob.can_view_pii = true;
    let bob_id = s.create_user(&bob, &entry("admin", "user.create", "user:bob")).unwrap();
    assert_ne!(id, bob_id);

    let stored = s.user(id).unwrap().unwrap();
    assert_eq!(stored, User { user_id: id, ..alice.clone() });
    assert_eq!(s.user_by_name("bob").unwrap().unwrap(), User { user_id: bob_id, ..bob.clone() });
    assert_eq!(s.user_by_name("Bob").unwrap(), None, "usernames match exactly");
    assert_eq!(s.user(id + bob_id + 100).unwrap(), None);
    let mut all = s.users().unwrap();
    all.sort_by_key(|u| u.user_id);
    assert_eq!(all.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);

    // a taken username
    let before = head_seq(s);
    let dup = s.create_user(&user("alice"), &entry("admin", "user.create", "user:alice"));
    assert!(is_conflict(dup), "a taken username is a Conflict");
    assert_eq!(s.users().unwrap().len(), 2);
    assert_eq!(head_seq(s), before, "a refused write appends no audit event");

    // update: every field but username and created_at
    let changed = User {
        user_id: id,
        username: "alice2".into(),
        display_name: "Alice Wang".into(),
        role: "compliance".into(),
        advisor_id: None,
        branch_id: Some("B2".into()),
        can_view_pii: true,
        active: false,
        password_hash: "$argon2id$v=19$new".into(),
        created_at: "2099-01-01T00:00:00Z".into(),
    };
    s.update_user(&changed, &entry("admin", "user.update", "user:alice")).unwrap();
    let got = s.user(id).unwrap().unwrap();
    assert_eq!(got, User { username: "alice".into(), created_at: alice.created_at.clone(), ..changed.clone() });
    assert_eq!(s.user(bob_id).unwrap().unwrap(), User { user_id: bob_id, ..bob });
    assert!(s
        .update_user(&User { user_id: id + bob_id + 100, ..changed }, &entry("admin", "user.update", "x"))
        .is_err());

    // each write carried its audit event
    let events = all_audit(s);
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.create", "user.create", "user.update"]);
    assert!(events.iter().all(|e| e.actor == "admin"));
    assert_eq!(events[1].subject, "user:bob");
    assert_chain_intact(s);
}

/// Sessions are stored, read, deleted, and removed once expired.
pub fn sessions<S: Database>(s: &S) {
    let uid = s.create_user(&user("carol"), &entry("admin", "user.create", "user:carol")).unwrap();
    let sess = |t: &str, exp: i64| Session {
        token_hash: t.into(),
        user_id: uid,
        csrf_token: format!("csrf-{t}"),
        created_at: 50,
        expires_at: exp,
    };
    for (t, exp) in [("t100", 100), ("t200", 200), ("t300", 300), ("t400", 400)] {
        s.create_session(&sess(t, exp)).unwrap();
    }
    assert_eq!(s.session("t300").unwrap(), Some(sess("t300", 300)));
    assert_eq!(s.session("nope").unwrap(), None);
    s.delete_session("t400").unwrap();
    assert_eq!(s.session("t400").unwrap(), None);
    s.delete_session("t400").unwrap();
    // expired at 200: expires_at <= 200
    assert_eq!(s.delete_expired_sessions(200).unwrap(), 2);
    assert_eq!(s.session("t100").unwrap(), None);
    assert_eq!(s.session("t200").unwrap(), None);
    assert_eq!(s.session("t300").unwrap(), Some(sess("t300", 300)));
    assert_eq!(s.delete_expired_sessions(200).unwrap(), 0);
}

// ------------------------------------------------------------------ links and the book

/// A link is used once: the assessment is stored with it; a used, expired
/// or unknown link stores nothing (no audit event either).
pub fn links_and_assessments<S: Database>(s: &S) {
    seed_book(s);
    let link = |h: &str, client: &str, exp: i64| OneTimeLink {
        token_hash: h.into(),
        purpose: "questionnaire".into(),
        client_id: client.into(),
        questionnaire_id: "Q-2025".into(),
        created_by: "alice".into(),
        created_at: 1_000,
        expires_at: exp,
        used_at: None,
    };
    s.create_link(&link("h1", "D005", 2_000), &entry("alice", "link.create", "client:D005")).unwrap();
    s.create_link(&link("h2", "D010", 1_500), &entry("alice", "link.create", "client:D010")).unwrap();
    assert_eq!(s.link("h1").unwrap(), Some(link("h1", "D005", 2_000)));
    assert_eq!(s.link("zz").unwrap(), None);

    let before = s.client_assessments("D005").unwrap();
    let a1 = assessment("D005", RiskLevel::C3, at("2025-07-01", 9, 15));
    assert!(s.record_assessment(&a1, Some("h1"), 1_800, &entry("client", "assessment.link", "client:D005")).unwrap());
    assert_eq!(s.link("h1").unwrap().unwrap().used_at, Some(1_800));
    let got = s.client_assessments("D005").unwrap();
    assert_eq!(got.len(), before.len() + 1);
    assert_eq!(got[0], a1, "newest first, answers included");

    let seq = head_seq(s);
    // second use
    let a2 = assessment("D005", RiskLevel::C5, at("2025-07-02", 9, 15));
    assert!(!s.record_assessment(&a2, Some("h1"), 1_900, &entry("client", "assessment.link", "client:D005")).unwrap());
    assert_eq!(s.link("h1").unwrap().unwrap().used_at, Some(1_800), "the first use stays recorded");
    // expired (expires_at <= now)
    let a3 = assessment("D010", RiskLevel::C5, at("2025-07-02", 10, 0));
    assert!(!s.record_assessment(&a3, Some("h2"), 1_500, &entry("client", "assessment.link", "client:D010")).unwrap());
    assert_eq!(s.link("h2").unwrap().unwrap().used_at, None);
    // unknown
    assert!(!s.record_assessment(&a3, Some("zz"), 1_000, &entry("client", "assessment.link", "client:D010")).unwrap());
    assert_eq!(s.client_assessments("D005").unwrap(), got, "nothing stored");
    assert!(s.client_assessments("D010").unwrap().iter().all(|a| a.assessed_at != a3.assessed_at));
    assert_eq!(head_seq(s), seq, "no audit event for a refused link");

    // without a link: stored, and re-recording the same (client, assessed_at) updates it
    let mut a4 = assessment("D010", RiskLevel::C1, at("2025-07-03", 8, 0));
    assert!(s.record_assessment(&a4, None, 0, &entry("bob", "assessment.record", "client:D010")).unwrap());
    a4.result.level = RiskLevel::C2;
    a4.answers = Some("{\"q1\":\"b\"}".into());
    assert!(s.record_assessment(&a4, None, 0, &entry("bob", "assessment.record", "client:D010")).unwrap());
    let d10 = s.client_assessments("D010").unwrap();
    assert_eq!(d10[0], a4);
    assert_eq!(d10.iter().filter(|a| a.assessed_at == a4.assessed_at).count(), 1);
    let mut sorted = d10.clone();
    sorted.sort_by_key(|a| std::cmp::Reverse(a.assessed_at));
    assert_eq!(d10, sorted);
    assert!(s.client_assessments("nobody").unwrap().is_empty());

    let actions: Vec<String> = all_audit(s).into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["link.create", "link.create", "assessment.link", "assessment.record", "assessment.record"]);
    assert_chain_intact(s);
}

/// Interactions are added (upsert by client, time, channel) and read newest first.
pub fn interactions<S: Database>(s: &S) {
    seed_book(s);
    let i = |h: u32, ch: InteractionChannel, topic: &str| Interaction {
        client_id: "D003".into(),
        advisor_id: Some("A1".into()),
        at: at("2025-06-10", h, 0),
        channel: ch,
        topic: Some(topic.into()),
        outcome: None,
    };
    s.add_interaction(&i(9, InteractionChannel::Call, "a"), &entry("alice", "interaction.add", "client:D003")).unwrap();
    s.add_interaction(&i(11, InteractionChannel::Visit, "b"), &entry("alice", "interaction.add", "client:D003"))
        .unwrap();
    s.add_interaction(&i(10, InteractionChannel::Email, "c"), &entry("alice", "interaction.add", "client:D003"))
        .unwrap();
    let mut other = i(12, InteractionChannel::Call, "other");
    other.client_id = "D004".into();
    s.add_interaction(&other, &entry("alice", "interaction.add", "client:D004")).unwrap();
    let got = s.client_interactions("D003", 10).unwrap();
    let topics: Vec<&str> = got.iter().map(|x| x.topic.as_deref().unwrap()).collect();
    assert_eq!(topics, ["b", "c", "a"], "newest first");
    assert_eq!(got[0], i(11, InteractionChannel::Visit, "b"));
    assert_eq!(s.client_interactions("D003", 2).unwrap().len(), 2);
    // same key: updated
    let mut again = i(9, InteractionChannel::Call, "a2");
    again.outcome = Some("回访完成".into());
    s.add_interaction(&again, &entry("alice", "interaction.add", "client:D003")).unwrap();
    let got = s.client_interactions("D003", 10).unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2], again);
    assert_eq!(all_audit(s).len(), 5);
    assert_chain_intact(s);
}

/// put_product inserts and then updates by id.
pub fn products<S: Database>(s: &S) {
    let mut p = product("PX", ProductCategory::MixedFund, ProductRisk::R3, "0.012");
    s.put_product(&p, &entry("ops", "product.put", "product:PX")).unwrap();
    assert_eq!(s.products().unwrap(), vec![p.clone()]);
    p.name = Some("新名字".into());
    p.risk_level = ProductRisk::R4;
    p.status = ProductStatus::Closed;
    p.annual_fee_rate = "0.0125".parse().unwrap();
    s.put_product(&p, &entry("ops", "product.put", "product:PX")).unwrap();
    let got = s.products().unwrap();
    assert_eq!(got, vec![p]);
    assert_eq!(got[0].annual_fee_rate.to_string(), "0.0125");
    let events = all_audit(s);
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.actor == "ops" && e.subject == "product:PX"));
}

// ------------------------------------------------------------------ the client list

/// The in-memory model of the book and one run, against which queries are checked.
struct Model {
    clients: Vec<Client>,
    run: HashMap<String, Classification>,
}

impl Model {
    fn in_scope(c: &Client, scope: &ClientScope) -> bool {
        match scope {
            ClientScope::All => true,
            ClientScope::Advisor(a) => c.advisor_id.as_deref() == Some(a.as_str()),
            ClientScope::Branch(b) => c.branch_id.as_deref() == Some(b.as_str()),
            ClientScope::Nobody => false,
        }
    }

    fn expected(&self, q: &ClientQuery, run_present: bool) -> Vec<String> {
        let class_filter = q.asset_tier.is_some()
            || q.segment.is_some()
            || q.risk_level.is_some()
            || q.lifecycle.is_some()
            || q.assessment_status.is_some()
            || q.churn_risk.is_some()
            || q.above_tolerance;
        let eq = |f: &Option<String>, v: &str| f.as_deref().is_none_or(|f| f == v);
        let mut out: Vec<String> = self
            .clients
            .iter()
            .filter(|c| Self::in_scope(c, &q.scope))
            .filter(|c| q.advisor_id.is_none() || c.advisor_id == q.advisor_id)
            .filter(|c| q.branch_id.is_none() || c.branch_id == q.branch_id)
            .filter(|c| match &q.search {
                None => true,
                Some(s) => {
                    &c.client_id == s
                        || c.phone.as_deref() == Some(s.as_str())
                        || c.name.as_deref().is_some_and(|n| n.starts_with(s.as_str()))
                }
            })
            .filter(|c| q.after.as_ref().is_none_or(|a| c.client_id.as_str() > a.as_str()))
            .filter(|c| {
                if !class_filter {
                    return true;
                }
                let Some(k) = self.run.get(&c.client_id).filter(|_| run_present) else { return false };
                eq(&q.asset_tier, &k.asset_tier)
                    && eq(&q.segment, &k.segment)
                    && eq(&q.risk_level, k.risk_level.map(|l| l.as_str()).unwrap_or(""))
                    && eq(&q.lifecycle, &k.lifecycle)
                    && eq(&q.assessment_status, k.assessment_status.as_str())
                    && eq(&q.churn_risk, &k.churn_risk)
                    && (!q.above_tolerance || above(k))
            })
            .map(|c| c.client_id.clone())
            .collect();
        out.sort();
        let limit = match q.limit {
            0 => 50,
            n => n.min(1000) as usize,
        };
        out.truncate(limit);
        out
    }
}

fn above(k: &Classification) -> bool {
    matches!((k.behaviour_risk, k.risk_level), (Some(b), Some(r)) if b.rank() > r.rank())
}

fn ids(rows: &[ClientRow]) -> Vec<String> {
    rows.iter().map(|r| r.client_id.clone()).collect()
}

/// Every page of a query, walking the keyset.
fn all_pages<S: Database>(s: &S, q: &ClientQuery, page: u32) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut q = ClientQuery { limit: page, after: None, ..q.clone() };
    loop {
        let rows = s.list_clients(&q).unwrap();
        assert!(rows.len() <= page as usize);
        let got = ids(&rows);
        if let (Some(last), Some(first)) = (out.last(), got.first()) {
            assert!(first > last, "pages do not overlap");
        }
        out.extend(got);
        if rows.len() < page as usize {
            return out;
        }
        q.after = out.last().cloned();
    }
}

/// Scope, every filter, search, keyset pages and a missing run.
pub fn list_clients<S: Database>(s: &S) {
    seed_book(s);
    let run = classify_and_store(s);
    // two clients arrive after the run: listed, without a result
    import_clients(s, 61..=62);
    let model = Model {
        clients: (1..=62).map(book_client).collect(),
        run: run.rows.iter().map(|(c, _)| (c.client_id.clone(), c.clone())).collect(),
    };
    // the fixture must exercise the filters
    assert!(model.run.values().any(above), "some client holds more risk than tolerated");
    assert!(model.run.values().any(|k| k.asset_tier == "hnw"));
    assert!(model.run.values().any(|k| k.risk_level.is_none()));

    let rid = Some(run.info.run_id);
    let base = ClientQuery { run_id: rid, limit: 1000, ..Default::default() };
    let check = |q: ClientQuery| {
        let got = ids(&s.list_clients(&q).unwrap());
        assert_eq!(got, model.expected(&q, q.run_id.is_some()), "{q:?}");
        got
    };

    // all clients, in id order, with their results
    let all = check(base.clone());
    assert_eq!(all.len(), 62);
    let rows = s.list_clients(&base).unwrap();
    for r in &rows {
        let c = model.clients.iter().find(|c| c.client_id == r.client_id).unwrap();
        assert_eq!((&r.name, &r.branch_id, &r.advisor_id), (&c.name, &c.branch_id, &c.advisor_id));
        match model.run.get(&r.client_id) {
            Some(k) => {
                let want = ClientRow {
                    client_id: k.client_id.clone(),
                    name: c.name.clone(),
                    branch_id: c.branch_id.clone(),
                    advisor_id: c.advisor_id.clone(),
                    aum: Some(k.aum),
                    asset_tier: Some(k.asset_tier.clone()),
                    segment: Some(k.segment.clone()),
                    // as stored: empty when the client has no such value
                    risk_level: Some(k.risk_level.map(|l| l.as_str()).unwrap_or("").to_string()),
                    behaviour_risk: Some(k.behaviour_risk.map(|l| l.as_str()).unwrap_or("").to_string()),
                    lifecycle: Some(k.lifecycle.clone()),
                    assessment_status: Some(k.assessment_status.as_str().to_string()),
                    churn_risk: Some(k.churn_risk.clone()),
                };
                assert_eq!(r, &want);
            }
            None => {
                assert!(r.client_id == "D061" || r.client_id == "D062");
                assert_eq!(
                    (&r.aum, &r.asset_tier, &r.segment, &r.risk_level, &r.behaviour_risk),
                    (&None, &None, &None, &None, &None)
                );
                assert_eq!((&r.lifecycle, &r.assessment_status, &r.churn_risk), (&None, &None, &None));
            }
        }
    }
    let d2 = rows.iter().find(|r| r.client_id == "D002").unwrap();
    assert_eq!(d2.aum.unwrap().to_string(), "600000.25", "money is exact");

    // scope
    for scope in [
        ClientScope::Advisor("A1".into()),
        ClientScope::Advisor("A3".into()),
        ClientScope::Advisor("nobody".into()),
        ClientScope::Branch("B1".into()),
        ClientScope::Branch("B2".into()),
    ] {
        let got = check(ClientQuery { scope: scope.clone(), ..base.clone() });
        assert!(!got.is_empty() || scope == ClientScope::Advisor("nobody".into()));
    }
    assert!(check(ClientQuery { scope: ClientScope::Nobody, ..base.clone() }).is_empty());

    // every filter, alone and with a scope
    let mut values: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for k in model.run.values() {
        values.entry("asset_tier").or_default().push(k.asset_tier.clone());
        values.entry("segment").or_default().push(k.segment.clone());
        values.entry("lifecycle").or_default().push(k.lifecycle.clone());
        values.entry("assessment_status").or_default().push(k.assessment_status.as_str().into());
        values.entry("churn_risk").or_default().push(k.churn_risk.clone());
        if let Some(l) = k.risk_level {
            values.entry("risk_level").or_default().push(l.as_str().into());
        }
    }
    for v in values.values_mut() {
        v.sort();
        v.dedup();
    }
    assert!(values["asset_tier"].len() >= 3 && values["assessment_status"].len() >= 3);
    for (field, vs) in &values {
        for v in vs.iter().chain([&"no-such-value".to_string()]) {
            let mut q = base.clone();
            let slot = match *field {
                "asset_tier" => &mut q.asset_tier,
                "segment" => &mut q.segment,
                "lifecycle" => &mut q.lifecycle,
                "assessment_status" => &mut q.assessment_status,
                "churn_risk" => &mut q.churn_risk,
                _ => &mut q.risk_level,
            };
            *slot = Some(v.clone());
            check(q.clone());
            check(ClientQuery { scope: ClientScope::Advisor("A2".into()), ..q.clone() });
            check(ClientQuery { scope: ClientScope::Branch("B2".into()), ..q });
        }
    }
    for a in ["A1", "A2", "A3", "A9"] {
        check(ClientQuery { advisor_id: Some(a.into()), ..base.clone() });
        check(ClientQuery { advisor_id: Some(a.into()), scope: ClientScope::Branch("B1".into()), ..base.clone() });
    }
    for b in ["B1", "B2", "B9"] {
        check(ClientQuery { branch_id: Some(b.into()), ..base.clone() });
        check(ClientQuery { branch_id: Some(b.into()), scope: ClientScope::Advisor("A3".into()), ..base.clone() });
    }
    let above_ids = check(ClientQuery { above_tolerance: true, ..base.clone() });
    assert!(!above_ids.is_empty());
    check(ClientQuery { above_tolerance: true, scope: ClientScope::Branch("B1".into()), ..base.clone() });
    check(ClientQuery {
        asset_tier: Some("wealth".into()),
        assessment_status: Some("valid".into()),
        branch_id: Some("B1".into()),
        ..base.clone()
    });
    check(ClientQuery { asset_tier: Some("mass".into()), above_tolerance: true, ..base.clone() });

    // search: exact id, exact phone, name prefix
    assert_eq!(check(ClientQuery { search: Some("D007".into()), ..base.clone() }), ["D007"]);
    assert!(check(ClientQuery { search: Some("D00".into()), ..base.clone() }).is_empty(), "ids match exactly");
    assert_eq!(check(ClientQuery { search: Some("13900000012".into()), ..base.clone() }), ["D012"]);
    assert!(check(ClientQuery { search: Some("1390000".into()), ..base.clone() }).is_empty(), "phones match exactly");
    let wang = check(ClientQuery { search: Some("王".into()), ..base.clone() });
    assert!(wang.len() > 10);
    let wf1 = check(ClientQuery { search: Some("王芳1".into()), ..base.clone() });
    assert_eq!(wf1, ["D010", "D015"]);
    // the prefix's upper bound ("李娜2" for "李娜1") is not a match
    let ln1 = check(ClientQuery { search: Some("李娜1".into()), ..base.clone() });
    assert!(!ln1.contains(&"D002".to_string()) && ln1.contains(&"D012".to_string()));
    check(ClientQuery { search: Some("李娜".into()), ..base.clone() });
    check(ClientQuery { search: Some("李".into()), scope: ClientScope::Advisor("A1".into()), ..base.clone() });
    check(ClientQuery { search: Some("张".into()), asset_tier: Some("mass".into()), ..base.clone() });
    check(ClientQuery { search: Some("%".into()), ..base.clone() });
    check(ClientQuery { search: Some("_".into()), ..base.clone() });
    let out_of_scope = book_client(7).advisor_id.unwrap();
    let other = if out_of_scope == "A1" { "A2" } else { "A1" };
    assert!(check(ClientQuery {
        search: Some("D007".into()),
        scope: ClientScope::Advisor(other.into()),
        ..base.clone()
    })
    .is_empty());

    // keyset pages: every client once, in order
    for page in [1u32, 7, 10, 62, 100] {
        assert_eq!(all_pages(s, &base, page), all, "page size {page}");
    }
    let q = ClientQuery { scope: ClientScope::Branch("B1".into()), asset_tier: Some("mass".into()), ..base.clone() };
    assert_eq!(all_pages(s, &q, 3), model.expected(&q, true));
    check(ClientQuery { after: Some("D030".into()), ..base.clone() });
    check(ClientQuery { after: Some("D030".into()), limit: 5, ..base.clone() });
    check(ClientQuery { after: Some("D999".into()), ..base.clone() });
    // limit 0 means 50
    assert_eq!(check(ClientQuery { limit: 0, ..base.clone() }).len(), 50);

    // no run: classification columns absent, classification filters match nothing
    let none = ClientQuery { run_id: None, ..base.clone() };
    let rows = s.list_clients(&none).unwrap();
    assert_eq!(ids(&rows), all);
    assert!(rows.iter().all(|r| r.aum.is_none() && r.asset_tier.is_none() && r.segment.is_none()));
    assert!(s.list_clients(&ClientQuery { asset_tier: Some("mass".into()), ..none.clone() }).unwrap().is_empty());
    assert!(s.list_clients(&ClientQuery { above_tolerance: true, ..none.clone() }).unwrap().is_empty());
    assert_eq!(
        ids(&s.list_clients(&ClientQuery { advisor_id: Some("A1".into()), ..none.clone() }).unwrap()),
        model.expected(&ClientQuery { advisor_id: Some("A1".into()), ..none.clone() }, false)
    );
    // an unknown run is like no run for classification columns
    let unknown = ClientQuery { run_id: Some(run.info.run_id + 100), ..base.clone() };
    assert_eq!(ids(&s.list_clients(&unknown).unwrap()), all);
    assert!(s.list_clients(&ClientQuery { asset_tier: Some("mass".into()), ..unknown }).unwrap().is_empty());
}

/// client_in_scope follows the same scope rules and is false for unknown clients.
pub fn client_in_scope<S: Database>(s: &S) {
    seed_book(s);
    for i in 1..=BOOK {
        let c = book_client(i);
        for scope in [
            ClientScope::All,
            ClientScope::Nobody,
            ClientScope::Advisor("A1".into()),
            ClientScope::Advisor("A2".into()),
            ClientScope::Branch("B1".into()),
            ClientScope::Branch("B2".into()),
        ] {
            assert_eq!(s.client_in_scope(&c.client_id, &scope).unwrap(), Model::in_scope(&c, &scope), "{i} {scope:?}");
        }
    }
    assert!(!s.client_in_scope("nobody", &ClientScope::All).unwrap());
    assert!(!s.client_in_scope("nobody", &ClientScope::Advisor("A1".into())).unwrap());
}

// ------------------------------------------------------------------ runs at the desk

/// A client's result in every run, newest first, with each run's info.
pub fn client_history<S: Database>(s: &S) {
    seed_book(s);
    assert!(s.client_history("D002").unwrap().is_empty());
    let r1 = classify_and_store(s);
    let r2 = classify_and_store(s);
    import_clients(s, 61..=61);
    let h = s.client_history("D002").unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].0, r2.info);
    assert_eq!(h[1].0, r1.info);
    assert_eq!(h[0].1, scan_run_map(s, r2.info.run_id)["D002"]);
    assert_eq!(h[1].1, scan_run_map(s, r1.info.run_id)["D002"]);
    assert_eq!(h[1].1.previous_asset_tier, None);
    assert_eq!(h[0].1.previous_asset_tier.as_deref(), Some(h[1].1.asset_tier.as_str()));
    assert_eq!(h[0].1.previous_segment.as_deref(), Some(h[1].1.segment.as_str()));
    let d = r2.rows.iter().find(|(c, _)| c.client_id == "D002").unwrap().0.value_decile;
    assert_eq!(h[0].1.value_decile, d);
    assert!(s.client_history("D061").unwrap().is_empty());
    assert!(s.client_history("nobody").unwrap().is_empty());
}

type CountKey = (Option<String>, Option<String>, String, String, Option<String>, Option<String>);

fn expected_counts(clients: &[Client], rows: &[(Classification, Option<(String, String)>)]) -> Vec<RunCount> {
    let mut m: BTreeMap<CountKey, i64> = BTreeMap::new();
    for (k, prev) in rows {
        let c = clients.iter().find(|c| c.client_id == k.client_id).unwrap();
        let key = (
            c.branch_id.clone(),
            c.advisor_id.clone(),
            k.asset_tier.clone(),
            k.segment.clone(),
            prev.as_ref().map(|p| p.0.clone()),
            prev.as_ref().map(|p| p.1.clone()),
        );
        *m.entry(key).or_default() += 1;
    }
    m.into_iter()
        .map(|((b, a, t, sg, pt, ps), n)| RunCount {
            branch_id: b,
            advisor_id: a,
            asset_tier: t,
            segment: sg,
            prev_asset_tier: pt,
            prev_segment: ps,
            clients: n,
        })
        .collect()
}

fn sorted_counts(mut v: Vec<RunCount>) -> Vec<RunCount> {
    v.sort_by(|a, b| {
        (&a.branch_id, &a.advisor_id, &a.asset_tier, &a.segment, &a.prev_asset_tier, &a.prev_segment).cmp(&(
            &b.branch_id,
            &b.advisor_id,
            &b.asset_tier,
            &b.segment,
            &b.prev_asset_tier,
            &b.prev_segment,
        ))
    });
    v
}

/// Counts grouped by branch, advisor, tier, segment and previous values;
/// computed once (two first callers at once do not double them) and kept.
pub fn run_counts<S: Database>(s: &S) {
    seed_book(s);
    let r1 = classify_and_store(s);
    let r2 = classify_and_store(s);
    let clients: Vec<Client> = (1..=BOOK).map(book_client).collect();
    let want1 = expected_counts(&clients, &r1.rows);
    let want2 = expected_counts(&clients, &r2.rows);
    assert!(want2.iter().any(|c| c.prev_asset_tier.is_some()));
    assert!(want1.iter().all(|c| c.prev_asset_tier.is_none()));
    // two first calls at once
    let (a, b) = std::thread::scope(|sc| {
        let a = sc.spawn(|| s.run_counts(r2.info.run_id).unwrap());
        let b = sc.spawn(|| s.run_counts(r2.info.run_id).unwrap());
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(sorted_counts(a), want2);
    assert_eq!(sorted_counts(b), want2);
    assert_eq!(sorted_counts(s.run_counts(r2.info.run_id).unwrap()), want2, "kept, not recomputed twice");
    assert_eq!(sorted_counts(s.run_counts(r1.info.run_id).unwrap()), want1);
    assert_eq!(want2.iter().map(|c| c.clients).sum::<i64>(), BOOK as i64);
    assert!(s.run_counts(r2.info.run_id + 100).unwrap().is_empty());
}

/// A reclassification replaces the row (keeping its decile and previous
/// values) and its explanation, adjusts cached counts, and is audited.
pub fn reclassify<S: Database>(s: &S) {
    seed_book(s);
    let _r1 = classify_and_store(s);
    let mut r2 = classify_and_store(s);
    let run_id = r2.info.run_id;
    let clients: Vec<Client> = (1..=BOOK).map(book_client).collect();
    // counts computed before the change (the cache must follow it)
    assert_eq!(sorted_counts(s.run_counts(run_id).unwrap()), expected_counts(&clients, &r2.rows));

    // D020: wealth, no assessment, no advisor; alone in its count group
    let id = "D020";
    let before = scan_run_map(s, run_id)[id].clone();
    assert_eq!(before.asset_tier, "wealth");
    assert!(s
        .record_assessment(
            &assessment(id, RiskLevel::C5, at("2025-06-25", 9, 0)),
            None,
            0,
            &entry("bob", "assessment.record", id)
        )
        .unwrap());
    let pack = pack();
    let cat = Catalog::new(s.products().unwrap());
    let engine = Engine::new(&pack, Default::default());
    let book = s.client_book(id, &cat).unwrap().unwrap();
    let c = engine.classify(&book, &cat, as_of());
    assert_ne!(c.segment, before.segment, "the fixture changes the segment");
    assert_ne!(c.explanation.stored(), s.explanation(run_id, id).unwrap().unwrap());
    let seq = head_seq(s);
    s.reclassify(run_id, &c, &entry("bob", "classification.reclassify", id)).unwrap();

    let after = scan_run_map(s, run_id);
    let row = &after[id];
    assert_eq!(row.segment, c.segment);
    assert_eq!(row.risk_level, "C5");
    assert_eq!(row.assessment_status, c.assessment_status.as_str());
    assert_eq!(row.risk_preference, c.risk_preference);
    assert_eq!(row.value_decile, before.value_decile, "the decile is kept");
    assert_eq!(row.previous_asset_tier, before.previous_asset_tier, "previous values are kept");
    assert_eq!(row.previous_segment, before.previous_segment);
    assert_eq!(after.len(), BOOK);
    assert_eq!(s.explanation(run_id, id).unwrap().as_deref(), Some(c.explanation.stored()));
    assert_eq!(s.client_history(id).unwrap()[0].1, *row);
    // the others are untouched
    let others = classify_and_store_view(&r2);
    for (cid, want) in others {
        if cid != id {
            assert_eq!(after[&cid].segment, want);
        }
    }
    let ev = s.audit_events(&AuditQuery { limit: 1, ..Default::default() }).unwrap();
    assert_eq!(ev[0].seq, seq + 1);
    assert_eq!((ev[0].actor.as_str(), ev[0].action.as_str()), ("bob", "classification.reclassify"));

    // counts adjusted: old group −1 (and gone at 0), new group +1
    for (k, _) in r2.rows.iter_mut() {
        if k.client_id == id {
            *k = c.clone();
        }
    }
    let want = expected_counts(&clients, &r2.rows);
    assert_eq!(sorted_counts(s.run_counts(run_id).unwrap()), want);
    assert!(want.iter().all(|x| x.clients > 0));

    // a run whose counts were never computed: computed from the new row
    let r3 = classify_and_store(s);
    let c3 = {
        let mut c3 = r3.rows.iter().find(|(k, _)| k.client_id == "D021").unwrap().0.clone();
        c3.segment = "mass-basic".into();
        c3.asset_tier = "mass".into();
        c3
    };
    s.reclassify(r3.info.run_id, &c3, &entry("bob", "classification.reclassify", "D021")).unwrap();
    let mut rows3 = r3.rows.clone();
    for (k, _) in rows3.iter_mut() {
        if k.client_id == "D021" {
            *k = c3.clone();
        }
    }
    assert_eq!(sorted_counts(s.run_counts(r3.info.run_id).unwrap()), expected_counts(&clients, &rows3));
    assert!(s.reclassify(r3.info.run_id, &c3, &entry("bob", "classification.reclassify", "D021")).is_ok());
    assert_eq!(sorted_counts(s.run_counts(r3.info.run_id).unwrap()), expected_counts(&clients, &rows3));
    assert_chain_intact(s);
}

fn classify_and_store_view(r: &Run) -> Vec<(String, String)> {
    r.rows.iter().map(|(k, _)| (k.client_id.clone(), k.segment.clone())).collect()
}

// ------------------------------------------------------------------ checks and sales

fn check_record(i: usize) -> CheckRecord {
    let verdict = ["match", "warn", "prohibited"][i % 3];
    CheckRecord {
        client_id: client_id(i % 6 + 1),
        product_id: if i.is_multiple_of(2) { "P1".into() } else { "P5".into() },
        at: format!("2025-07-01T10:{i:02}:00"),
        verdict: verdict.into(),
        rule_pack: "cn-bank".into(),
        rule_version: "2025.1".into(),
        actor: if i.is_multiple_of(2) { "alice".into() } else { "bob".into() },
        payload: format!("{{\"i\":{i},\"verdict\":\"{verdict}\"}}"),
    }
}

fn sale(check_id: i64, client: &str, confirmed: bool) -> Sale {
    Sale {
        sale_id: 0,
        check_id,
        client_id: client.into(),
        product_id: "P5".into(),
        amount: "1234.50".parse().unwrap(),
        recorded_by: "alice".into(),
        recorded_at: "2025-07-01T11:00:00".into(),
        confirmation: confirmed.then(|| Confirmation {
            confirmed_by: "王芳1".into(),
            confirmed_at: "2025-07-01T10:59:00".into(),
            channel: "branch".into(),
            recording_ref: Some("SL-2025-0001".into()),
        }),
    }
}

/// Checks newest first with filters, scope, keyset and their sales; one sale per check.
pub fn checks_and_sales<S: Database>(s: &S) {
    seed_book(s);
    let mut recs = Vec::new();
    for i in 0..14 {
        let r = check_record(i);
        let id = s.record_check(&r).unwrap();
        recs.push((id, r));
    }
    let ids_desc: Vec<i64> = recs.iter().rev().map(|(id, _)| *id).collect();
    let row_of = |id: i64, r: &CheckRecord, sale: Option<Sale>| CheckRow {
        check_id: id,
        client_id: r.client_id.clone(),
        product_id: r.product_id.clone(),
        at: r.at.clone(),
        verdict: r.verdict.clone(),
        rule_pack: r.rule_pack.clone(),
        rule_version: r.rule_version.clone(),
        actor: r.actor.clone(),
        payload: r.payload.clone(),
        sale,
    };
    let (id1, r1) = recs[1].clone();
    assert_eq!(s.check(id1).unwrap(), Some(row_of(id1, &r1, None)));
    assert_eq!(s.check(ids_desc[0] + 100).unwrap(), None);

    // the check's actor is stored and is the audit event's actor
    let events = all_audit(s);
    assert_eq!(events.len(), 14);
    for ((id, r), e) in recs.iter().zip(&events) {
        assert_eq!((e.actor.as_str(), e.action.as_str()), (r.actor.as_str(), "suitability.check"));
        assert_eq!(e.subject, format!("check:{id}"));
        assert_eq!(e.payload, r.payload);
    }

    // sales: one per check
    let warn = recs.iter().find(|(_, r)| r.verdict == "warn").unwrap().clone();
    let matched = recs.iter().find(|(_, r)| r.verdict == "match").unwrap().clone();
    let sw = sale(warn.0, &warn.1.client_id, true);
    let sale_id = s.record_sale(&sw, &entry("alice", "sale.record", &format!("check:{}", warn.0))).unwrap();
    assert!(sale_id > 0);
    let seq = head_seq(s);
    assert!(is_conflict(s.record_sale(&sw, &entry("alice", "sale.record", "again"))), "one sale per check");
    assert_eq!(head_seq(s), seq, "a refused sale appends no audit event");
    let sm = sale(matched.0, &matched.1.client_id, false);
    let sale_id2 = s.record_sale(&sm, &entry("bob", "sale.record", &format!("check:{}", matched.0))).unwrap();
    assert_ne!(sale_id, sale_id2);
    let got = s.check(warn.0).unwrap().unwrap();
    assert_eq!(got, row_of(warn.0, &warn.1, Some(Sale { sale_id, ..sw.clone() })));
    assert_eq!(got.sale.unwrap().amount.to_string(), "1234.50", "money is exact");
    assert_eq!(s.check(matched.0).unwrap().unwrap().sale, Some(Sale { sale_id: sale_id2, ..sm }));

    // the list, newest first
    let q = |f: CheckQuery| s.checks(&f).unwrap().into_iter().map(|c| c.check_id).collect::<Vec<_>>();
    let all = s.checks(&CheckQuery { limit: 100, ..Default::default() }).unwrap();
    assert_eq!(all.iter().map(|c| c.check_id).collect::<Vec<_>>(), ids_desc);
    assert_eq!(all.iter().filter(|c| c.sale.is_some()).count(), 2);
    assert_eq!(all.iter().find(|c| c.check_id == warn.0).unwrap(), &s.check(warn.0).unwrap().unwrap());
    assert_eq!(q(CheckQuery::default()), ids_desc, "limit 0 means 50");
    let expect = |f: &dyn Fn(&CheckRecord) -> bool| -> Vec<i64> {
        recs.iter().rev().filter(|(_, r)| f(r)).map(|(id, _)| *id).collect()
    };
    assert_eq!(
        q(CheckQuery { verdict: Some("warn".into()), limit: 100, ..Default::default() }),
        expect(&|r| r.verdict == "warn")
    );
    assert_eq!(
        q(CheckQuery { client_id: Some("D002".into()), limit: 100, ..Default::default() }),
        expect(&|r| r.client_id == "D002")
    );
    assert_eq!(q(CheckQuery { confirmed_only: true, limit: 100, ..Default::default() }), [warn.0]);
    assert!(q(CheckQuery { confirmed_only: true, verdict: Some("match".into()), limit: 100, ..Default::default() })
        .is_empty());
    for scope in
        [ClientScope::Advisor("A1".into()), ClientScope::Advisor("A3".into()), ClientScope::Branch("B2".into())]
    {
        let want = expect(&|r| Model::in_scope(&book_client(r.client_id[1..].parse().unwrap()), &scope));
        assert!(!want.is_empty());
        assert_eq!(q(CheckQuery { scope: scope.clone(), limit: 100, ..Default::default() }), want, "{scope:?}");
    }
    assert!(q(CheckQuery { scope: ClientScope::Nobody, limit: 100, ..Default::default() }).is_empty());
    assert!(
        q(CheckQuery {
            scope: ClientScope::Advisor("A1".into()),
            client_id: Some("D002".into()),
            limit: 100,
            ..Default::default()
        })
        .is_empty(),
        "D002 is A3's"
    );
    // keyset pages
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = q(CheckQuery { before, limit: 4, ..Default::default() });
        pages.extend(page.iter().copied());
        if page.len() < 4 {
            break;
        }
        before = page.last().copied();
    }
    assert_eq!(pages, ids_desc);
    assert_eq!(q(CheckQuery { before: Some(ids_desc[3]), limit: 2, ..Default::default() }), ids_desc[4..6]);
    assert_chain_intact(s);
}

// ------------------------------------------------------------------ the audit trail

/// The audit list: newest first, filters (action as a prefix), time bounds, keyset.
pub fn audit_events<S: Database>(s: &S) {
    assert!(s.audit_events(&AuditQuery::default()).unwrap().is_empty());
    assert_eq!(s.audit_head().unwrap(), None);
    let actors = ["alice", "bob", "carol"];
    let actions = ["user.create", "user.update", "suitability.check", "suitabilityx.check", "a_b.c", "axb.c"];
    for i in 0..75usize {
        let subject = format!("subject:{}", i % 4);
        s.audit(actors[i % 3], actions[i % 6], &subject, &format!("{{\"i\":{i}}}")).unwrap();
    }
    let all = all_audit(s);
    assert_eq!(all.len(), 75);
    for e in &all {
        chrono::DateTime::parse_from_rfc3339(&e.at).unwrap_or_else(|_| panic!("RFC 3339: {}", e.at));
    }
    let model = |q: &AuditQuery| -> Vec<i64> {
        let mut v: Vec<i64> = all
            .iter()
            .rev()
            .filter(|e| q.actor.as_ref().is_none_or(|a| &e.actor == a))
            .filter(|e| q.action.as_ref().is_none_or(|a| e.action.starts_with(a.as_str())))
            .filter(|e| q.subject.as_ref().is_none_or(|a| &e.subject == a))
            .filter(|e| q.from.as_ref().is_none_or(|a| e.at.as_str() >= a.as_str()))
            .filter(|e| q.to.as_ref().is_none_or(|a| e.at.as_str() < a.as_str()))
            .filter(|e| q.before.is_none_or(|b| e.seq < b))
            .map(|e| e.seq)
            .collect();
        v.truncate(if q.limit == 0 { 50 } else { q.limit.min(1000) as usize });
        v
    };
    let check = |q: AuditQuery| {
        let got = s.audit_events(&q).unwrap();
        let seqs: Vec<i64> = got.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, model(&q), "{q:?}");
        for e in &got {
            assert_eq!(e, &all[(e.seq - 1) as usize]);
        }
        seqs
    };
    assert_eq!(check(AuditQuery::default()).len(), 50, "limit 0 means 50");
    assert_eq!(check(AuditQuery { limit: 2000, ..Default::default() }).len(), 75);
    check(AuditQuery { actor: Some("bob".into()), limit: 100, ..Default::default() });
    check(AuditQuery { actor: Some("bo".into()), limit: 100, ..Default::default() });
    let n = check(AuditQuery { action: Some("user.".into()), limit: 100, ..Default::default() }).len();
    assert_eq!(n, 26);
    assert_eq!(check(AuditQuery { action: Some("suitability.".into()), limit: 100, ..Default::default() }).len(), 13);
    assert_eq!(check(AuditQuery { action: Some("suitability".into()), limit: 100, ..Default::default() }).len(), 25);
    assert_eq!(
        check(AuditQuery { action: Some("a_b".into()), limit: 100, ..Default::default() }).len(),
        12,
        "_ is no wildcard"
    );
    assert_eq!(check(AuditQuery { action: Some("%".into()), limit: 100, ..Default::default() }).len(), 0);
    check(AuditQuery { subject: Some("subject:2".into()), limit: 100, ..Default::default() });
    check(AuditQuery { subject: Some("subject:".into()), limit: 100, ..Default::default() });
    check(AuditQuery {
        actor: Some("alice".into()),
        action: Some("user".into()),
        subject: Some("subject:0".into()),
        limit: 100,
        ..Default::default()
    });
    let (from, to) = (all[9].at.clone(), all[40].at.clone());
    check(AuditQuery { from: Some(from.clone()), limit: 100, ..Default::default() });
    check(AuditQuery { to: Some(to.clone()), limit: 100, ..Default::default() });
    check(AuditQuery { from: Some(from.clone()), to: Some(to.clone()), limit: 100, ..Default::default() });
    check(AuditQuery { from: Some("2000-01-01T00:00:00Z".into()), limit: 100, ..Default::default() });
    assert!(check(AuditQuery { to: Some("2000-01-01T00:00:00Z".into()), limit: 100, ..Default::default() }).is_empty());
    check(AuditQuery { before: Some(30), limit: 10, ..Default::default() });
    check(AuditQuery { before: Some(30), actor: Some("carol".into()), limit: 3, ..Default::default() });
    check(AuditQuery { before: Some(1), ..Default::default() });
    // keyset pages
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = check(AuditQuery { before, limit: 7, action: Some("user".into()), ..Default::default() });
        seen.extend(page.iter().copied());
        if page.len() < 7 {
            break;
        }
        before = page.last().copied();
    }
    assert_eq!(seen, model(&AuditQuery { action: Some("user".into()), limit: 1000, ..Default::default() }));
    assert_chain_intact(s);
}

/// Every kind of write appends to one chain: seq 1..n without gaps, each
/// event chained to the one before, the head at the newest — also when
/// several writers append at once.
pub fn the_audit_chain_holds_across_every_write<S: Database>(s: &S) {
    assert_eq!(assert_chain_intact(s), 0);
    let v = verify_audit(s).unwrap();
    assert_eq!((v.events, v.head.as_str(), v.broken), (0, GENESIS_HASH, None));

    // an import, audited as the application does
    seed_book(s);
    s.audit("cli", "import.committed", "/data/book", "{\"files\":3}").unwrap();
    // a run
    let run = classify_and_store(s);
    // staff, sessions (not audited), links, the book at the desk
    let uid = s.create_user(&user("alice"), &entry("admin", "user.create", "user:alice")).unwrap();
    s.update_user(
        &User { user_id: uid, display_name: "改名".into(), ..user("alice") },
        &entry("admin", "user.update", "user:alice"),
    )
    .unwrap();
    s.create_session(&Session {
        token_hash: "t".into(),
        user_id: uid,
        csrf_token: "c".into(),
        created_at: 1,
        expires_at: 2,
    })
    .unwrap();
    let link = OneTimeLink {
        token_hash: "h".into(),
        purpose: "questionnaire".into(),
        client_id: "D001".into(),
        questionnaire_id: "Q-2025".into(),
        created_by: "alice".into(),
        created_at: 10,
        expires_at: 100,
        used_at: None,
    };
    s.create_link(&link, &entry("alice", "link.create", "client:D001")).unwrap();
    let a = assessment("D001", RiskLevel::C4, at("2025-06-29", 9, 0));
    assert!(s.record_assessment(&a, Some("h"), 50, &entry("client", "assessment.link", "client:D001")).unwrap());
    s.add_interaction(
        &Interaction {
            client_id: "D001".into(),
            advisor_id: Some("A2".into()),
            at: at("2025-06-29", 10, 0),
            channel: InteractionChannel::Call,
            topic: Some("回访".into()),
            outcome: None,
        },
        &entry("alice", "interaction.add", "client:D001"),
    )
    .unwrap();
    s.put_product(
        &product("P9", ProductCategory::MoneyFund, ProductRisk::R1, "0.002"),
        &entry("ops", "product.put", "P9"),
    )
    .unwrap();
    let pack = pack();
    let cat = Catalog::new(s.products().unwrap());
    let c =
        Engine::new(&pack, Default::default()).classify(&s.client_book("D001", &cat).unwrap().unwrap(), &cat, as_of());
    s.reclassify(run.info.run_id, &c, &entry("alice", "classification.reclassify", "D001")).unwrap();
    let check_id = s.record_check(&check_record(1)).unwrap();
    s.record_sale(&sale(check_id, "D002", true), &entry("alice", "sale.record", "sale")).unwrap();
    // payloads with every kind of character
    s.audit("维护", "odd.payload", "主题\n\t\"'\\", "{\"note\":\"换行\\n引号\\\"\"}").unwrap();
    s.audit("", "", "", "").unwrap();

    let n = assert_chain_intact(s);
    let events = all_audit(s);
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "import.committed",
            "classification.run",
            "user.create",
            "user.update",
            "link.create",
            "assessment.link",
            "interaction.add",
            "product.put",
            "classification.reclassify",
            "suitability.check",
            "sale.record",
            "odd.payload",
            "",
        ]
    );
    assert_eq!(n, 13);
    assert_eq!(events[0].prev_hash, GENESIS_HASH);
    for w in events.windows(2) {
        assert_eq!(w[1].prev_hash, w[0].hash);
    }
    for e in &events {
        assert_eq!(e.hash, audit_hash(&e.prev_hash, e.seq, &e.at, &e.actor, &e.action, &e.subject, &e.payload));
    }
    assert_eq!(events[11].subject, "主题\n\t\"'\\");

    // writers at once: still one chain without gaps
    std::thread::scope(|sc| {
        for t in 0..4 {
            sc.spawn(move || {
                for i in 0..15 {
                    s.audit(&format!("w{t}"), "test.concurrent", &format!("{t}:{i}"), "{}").unwrap();
                }
            });
        }
    });
    assert_eq!(assert_chain_intact(s), n + 60);
}

/// Runs the whole desk suite, each part on a fresh store from `fresh`.
pub fn run_all<S: crate::Database>(fresh: &mut dyn FnMut() -> S) {
    users(&fresh());
    sessions(&fresh());
    links_and_assessments(&fresh());
    interactions(&fresh());
    products(&fresh());
    list_clients(&fresh());
    client_in_scope(&fresh());
    client_history(&fresh());
    run_counts(&fresh());
    reclassify(&fresh());
    checks_and_sales(&fresh());
    audit_events(&fresh());
    the_audit_chain_holds_across_every_write(&fresh());
}
