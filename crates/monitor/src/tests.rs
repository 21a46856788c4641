//! Table-driven tests of PRODUCT.md 6 (each alert and task rule with its
//! boundary cases) on the shipped cn-bank pack, the assignment properties,
//! and NPS.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]
use crate::assign::{propose, qualifies, AdvisorSlot, Placement, Requirement, Why};
use crate::nps::NpsCounts;
use crate::*;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;
use tierwise_domain::{parse_date, AdvisorTitle, ProductRisk, RiskLevel, TxnKind};
use tierwise_rules::Pack;

fn d(s: &str) -> NaiveDate {
    parse_date(s).unwrap()
}
fn pack() -> Pack {
    tierwise_rules::load("cn-bank", None).unwrap().0
}
const D: &str = "2025-06-30";

fn base() -> ClientFacts {
    ClientFacts {
        client_id: "C1".into(),
        advisor_id: Some("A1".into()),
        branch_id: Some("B1".into()),
        run_id: 7,
        asset_tier: "mass".into(),
        segment: "mass-basic".into(),
        churn_risk: "low".into(),
        ..Default::default()
    }
}

fn find(pack: &Pack, f: &ClientFacts) -> Findings {
    let mut out = Findings::default();
    Monitor::new(pack, HashMap::new(), d(D)).client(f, &mut out);
    out
}

fn alert_kinds(f: &Findings) -> Vec<&'static str> {
    f.alerts.iter().map(|a| a.kind.as_str()).collect()
}
fn task_kinds(f: &Findings) -> Vec<&'static str> {
    f.tasks.iter().map(|t| t.kind.as_str()).collect()
}

/// PRODUCT.md 3/6: expiry = assessed + 12 months (cn-bank); expired on the
/// expiry date itself; expiring when expiry − D ≤ 30 days; a material change
/// after the assessment makes it stale (before "expiring" in the order).
#[test]
fn product_6_assessment_expiring_expired_and_material_change() {
    let p = pack();
    // (assessed on, material change, expected alert, episode, task due)
    let cases: &[(&str, Option<&str>, Option<&str>, &str, &str)] = &[
        ("2024-06-30", None, Some("assessment_expired"), "2025-06-30", "2025-06-30"), // expiry == D: expired
        ("2024-06-29", None, Some("assessment_expired"), "2025-06-29", "2025-06-29"),
        ("2024-07-01", None, Some("assessment_expiring"), "2025-07-01", "2025-07-01"), // 1 day left
        ("2024-07-30", None, Some("assessment_expiring"), "2025-07-30", "2025-07-30"), // exactly 30 days
        ("2024-07-31", None, None, "", ""),                                            // 31 days: valid
        ("2025-01-10", Some("2025-06-01"), Some("material_change"), "2025-06-01", "2025-07-01"),
        ("2025-01-10", Some("2025-01-10"), None, "", ""), // same day as the assessment: not after it
        ("2025-01-10", Some("2025-07-01"), None, "", ""), // after D: not yet known
        ("2024-07-15", Some("2025-06-01"), Some("material_change"), "2025-06-01", "2025-07-01"), // stale before expiring
        ("2024-06-15", Some("2025-06-01"), Some("assessment_expired"), "2025-06-15", "2025-06-15"), // expired before stale
    ];
    for (assessed, change, want, episode, due) in cases {
        let f = ClientFacts {
            assessed_on: Some(d(assessed)),
            material_change_at: change.map(d),
            risk_level: Some(RiskLevel::C3),
            ..base()
        };
        let out = find(&p, &f);
        let got: Vec<_> = out
            .alerts
            .iter()
            .filter(|a| a.kind.as_str().starts_with("assessment") || a.kind == AlertKind::MaterialChange)
            .collect();
        match want {
            None => {
                assert!(got.is_empty(), "{assessed} {change:?}: {got:?}");
                assert!(out.tasks.iter().all(|t| t.kind != TaskKind::Reassessment));
                assert!(out.notices.is_empty());
            }
            Some(k) => {
                assert_eq!(got.len(), 1, "{assessed} {change:?}");
                assert_eq!(got[0].kind.as_str(), *k, "{assessed} {change:?}");
                assert_eq!(got[0].episode, *episode);
                assert!(got[0].evidence["rule"].is_string());
                let task = out.tasks.iter().find(|t| t.kind == TaskKind::Reassessment).unwrap();
                assert_eq!(task.due, d(due), "{assessed} {change:?}");
                assert_eq!(out.notices[0].kind, NoticeKind::ReassessmentDue);
                assert_eq!(task.episode, out.notices[0].episode, "task and notice share the expiry episode");
            }
        }
    }
}

/// A questionnaire's own validity overrides the pack's (PRODUCT.md 4).
#[test]
fn product_4_questionnaire_validity_overrides_the_pack() {
    let p = pack();
    let f = ClientFacts { assessed_on: Some(d("2023-07-15")), questionnaire_id: Some("q24".into()), ..base() };
    let mut out = Findings::default();
    Monitor::new(&p, HashMap::from([("q24".to_string(), 24)]), d(D)).client(&f, &mut out);
    assert_eq!(alert_kinds(&out), vec!["assessment_expiring"]);
    assert_eq!(out.alerts[0].episode, "2025-07-15");
}

/// Holdings above tolerance: behaviour risk Rn above risk level Cm.
#[test]
fn product_6_holdings_above_tolerance() {
    let p = pack();
    let cases = [
        (Some(ProductRisk::R4), Some(RiskLevel::C3), Some("R4>C3")),
        (Some(ProductRisk::R3), Some(RiskLevel::C3), None), // equal: within tolerance
        (Some(ProductRisk::R2), Some(RiskLevel::C3), None),
        (Some(ProductRisk::R5), None, None), // never assessed: the missing assessment is the finding
        (None, Some(RiskLevel::C1), None),
        (Some(ProductRisk::R2), Some(RiskLevel::C1), Some("R2>C1")),
    ];
    for (br, rl, want) in cases {
        let out = find(&p, &ClientFacts { behaviour_risk: br, risk_level: rl, ..base() });
        let got = out.alerts.iter().find(|a| a.kind == AlertKind::AboveTolerance).map(|a| a.episode.as_str());
        assert_eq!(got, want, "{br:?} {rl:?}");
    }
}

/// Churn risk high → alert and a retention task due in 7 days; medium, low → nothing.
#[test]
fn product_6_churn_high_gives_a_retention_task() {
    let p = pack();
    for (churn, want) in [("high", true), ("medium", false), ("low", false)] {
        let out = find(&p, &ClientFacts { churn_risk: churn.into(), ..base() });
        assert_eq!(out.alerts.iter().any(|a| a.kind == AlertKind::ChurnHigh), want, "{churn}");
        let task = out.tasks.iter().find(|t| t.kind == TaskKind::Retention);
        assert_eq!(task.is_some(), want, "{churn}");
        if let Some(t) = task {
            assert_eq!(t.due, d("2025-07-07"));
            assert_eq!(t.episode, "2025-06");
        }
    }
}

/// Tier migration: upgrade → welcome-and-reassign (D+7), downgrade →
/// review (D+14), both notify the client; no previous run or the same tier → nothing.
#[test]
fn product_6_tier_migration_upgrade_and_downgrade() {
    let p = pack();
    let cases = [
        (Some("wealth"), "hnw", Some(("tier_upgrade", "welcome_reassign", "2025-07-07"))),
        (Some("mass"), "wealth", Some(("tier_upgrade", "welcome_reassign", "2025-07-07"))),
        (Some("mass"), "hnw", Some(("tier_upgrade", "welcome_reassign", "2025-07-07"))),
        (Some("hnw"), "wealth", Some(("tier_downgrade", "review", "2025-07-14"))),
        (Some("wealth"), "mass", Some(("tier_downgrade", "review", "2025-07-14"))),
        (Some("wealth"), "wealth", None),
        (None, "hnw", None),
    ];
    for (prev, tier, want) in cases {
        let out = find(
            &p,
            &ClientFacts {
                prev_asset_tier: prev.map(Into::into),
                asset_tier: tier.into(),
                segment: "mass-basic".into(),
                ..base()
            },
        );
        let alert = out.alerts.iter().find(|a| matches!(a.kind, AlertKind::TierUpgrade | AlertKind::TierDowngrade));
        match want {
            None => {
                assert!(alert.is_none(), "{prev:?} → {tier}");
                assert!(out.notices.is_empty());
            }
            Some((a, t, due)) => {
                let alert = alert.unwrap();
                assert_eq!(alert.kind.as_str(), a);
                assert_eq!(alert.episode, format!("{}>{tier}@7", prev.unwrap()));
                let task = out.tasks.iter().find(|x| x.kind.as_str() == t).unwrap();
                assert_eq!(task.due, d(due));
                let n = &out.notices[0];
                assert_eq!(n.kind, NoticeKind::Reclassification);
                assert!(n.payload["body"]["zh"].as_str().unwrap().contains("调整为"));
            }
        }
    }
}

/// Turning 65: within 30 days before or after the 65th birthday (29 February → 28 February).
#[test]
fn product_6_client_turning_65() {
    let p = pack();
    let cases = [
        ("1960-06-30", Some("2025-06-30")), // today
        ("1960-07-30", Some("2025-07-30")), // in 30 days
        ("1960-07-31", None),               // in 31 days
        ("1960-05-31", Some("2025-05-31")), // 30 days ago
        ("1960-05-30", None),               // 31 days ago
        ("1955-06-30", None),               // 70
        ("1960-02-29", None),               // 2025-02-28: long past
    ];
    for (birth, want) in cases {
        let out = find(&p, &ClientFacts { birth_date: Some(d(birth)), ..base() });
        let got = out.alerts.iter().find(|a| a.kind == AlertKind::Turning65).map(|a| a.episode.clone());
        assert_eq!(got.as_deref(), want, "{birth}");
    }
    let mut out = Findings::default();
    let f = ClientFacts { birth_date: Some(d("1960-02-29")), ..base() };
    Monitor::new(&p, HashMap::new(), d("2025-03-01")).client(&f, &mut out);
    assert_eq!(out.alerts[0].episode, "2025-02-28");
}

/// Follow-up plans per segment: hnw every 30 days, wealth 90, mass-potential
/// 180, others none; due after the last contact, else onboarding, else now.
#[test]
fn product_3_service_plan_followup_tasks() {
    let p = pack();
    let cases: &[(&str, Option<&str>, Option<&str>, Option<(&str, &str)>)] = &[
        ("hnw-growth", Some("2025-06-10"), Some("2020-01-01"), Some(("after:2025-06-10", "2025-07-10"))),
        ("hnw-preserve", None, Some("2025-06-01"), Some(("after:2025-06-01", "2025-07-01"))),
        ("wealth-balanced", Some("2025-04-01"), None, Some(("after:2025-04-01", "2025-06-30"))),
        ("mass-potential", Some("2025-01-01"), None, Some(("after:2025-01-01", "2025-06-30"))),
        ("wealth-growth", None, None, Some(("first", D))),
        ("mass-engaged", Some("2025-01-01"), None, None),
        ("mass-basic", None, None, None),
    ];
    for (segment, contact, onboarded, want) in cases {
        let f = ClientFacts {
            segment: segment.to_string(),
            last_contact: contact.map(d),
            onboarded_at: onboarded.map(d),
            ..base()
        };
        let out = find(&p, &f);
        let got = out.tasks.iter().find(|t| t.kind == TaskKind::Followup).map(|t| (t.episode.clone(), t.due));
        assert_eq!(got, want.map(|(e, due)| (e.to_string(), d(due))), "{segment}");
    }
}

/// Follow-up overdue: due strictly before D.
#[test]
fn product_6_followup_overdue() {
    let p = pack();
    let m = Monitor::new(&p, HashMap::new(), d(D));
    assert!(m.followup_overdue("C1", Some("A1"), Some("B1"), d("2025-06-30")).is_none(), "due today is not overdue");
    let a = m.followup_overdue("C1", Some("A1"), Some("B1"), d("2025-06-29")).unwrap();
    assert_eq!((a.kind, a.episode.as_str()), (AlertKind::FollowupOverdue, "2025-06-29"));
    assert_eq!(a.evidence["days_overdue"], 1);
    assert!(m.followup_overdue("C1", None, None, d("2025-07-01")).is_none());
}

/// A single outflow ≥ 500,000 (cn-bank's large_outflow) is 需求预警; inflows never.
#[test]
fn product_6_large_outflow_threshold() {
    let p = pack();
    let m = Monitor::new(&p, HashMap::new(), d(D));
    let t = |kind, amount: &str| OutflowFacts {
        txn_id: "T1".into(),
        client_id: "C1".into(),
        advisor_id: None,
        branch_id: Some("B1".into()),
        kind,
        amount: amount.parse::<Decimal>().unwrap(),
        ts: "2025-06-30T10:00:00".into(),
    };
    assert!(m.outflow(&t(TxnKind::Withdraw, "500000")).is_some(), "the threshold itself counts");
    assert!(m.outflow(&t(TxnKind::TransferOut, "500000.01")).is_some());
    assert!(m.outflow(&t(TxnKind::Withdraw, "499999.99")).is_none());
    assert!(m.outflow(&t(TxnKind::Deposit, "9000000")).is_none());
    assert!(m.outflow(&t(TxnKind::Redeem, "9000000")).is_none());
    let a = m.outflow(&t(TxnKind::Withdraw, "800000")).unwrap();
    assert_eq!((a.episode.as_str(), a.advisor_id.as_deref()), ("T1", None), "no advisor: the team lead's");
    assert_eq!(a.evidence["large_outflow"], "500000");
}

/// Advisor over capacity: total clients above capacity, or a segment above
/// its plan's maximum (a private banker serves at most 30 hnw clients).
#[test]
fn product_3_advisor_over_capacity() {
    let p = pack();
    let m = Monitor::new(&p, HashMap::new(), d(D));
    let a = |clients, cap, seg: Vec<(&str, u32)>| AdvisorFacts {
        advisor_id: "A1".into(),
        branch_id: Some("B1".into()),
        capacity: cap,
        clients,
        per_segment: seg.into_iter().map(|(s, n)| (s.to_string(), n)).collect(),
    };
    assert!(m.advisor(&a(150, Some(150), vec![])).is_none(), "at capacity is not over");
    assert!(m.advisor(&a(151, Some(150), vec![])).is_some());
    assert!(m.advisor(&a(500, None, vec![])).is_none(), "no capacity stated");
    assert!(m.advisor(&a(30, Some(150), vec![("hnw-growth", 30)])).is_none());
    let over = m.advisor(&a(31, Some(150), vec![("hnw-growth", 31)])).unwrap();
    assert_eq!(over.evidence["over"][0]["max_clients_per_advisor"], 30);
    assert_eq!(over.advisor_id, None, "assigned to the branch's team lead");
    assert!(m.advisor(&a(600, Some(1000), vec![("mass-basic", 600)])).is_none(), "digital segments have no maximum");
}

/// CSRC Art 21: a re-rating is told to every holder; a holder now below the
/// product's level (or never assessed) raises an alert when the level rose.
#[test]
fn csrc_art_21_product_rerated_notifies_every_holder() {
    let p = pack();
    let m = Monitor::new(&p, HashMap::new(), d(D));
    let h = |l: Option<RiskLevel>| HolderFacts {
        client_id: "C1".into(),
        advisor_id: Some("A1".into()),
        branch_id: None,
        risk_level: l,
        market_value: Decimal::from(1000),
    };
    let cases = [
        (ProductRisk::R3, ProductRisk::R4, Some(RiskLevel::C3), true, true),
        (ProductRisk::R3, ProductRisk::R4, Some(RiskLevel::C4), true, false),
        (ProductRisk::R3, ProductRisk::R4, Some(RiskLevel::C5), true, false),
        (ProductRisk::R3, ProductRisk::R4, None, true, true),
        (ProductRisk::R4, ProductRisk::R3, Some(RiskLevel::C1), true, false), // lowered: told, no alert
        (ProductRisk::R3, ProductRisk::R3, Some(RiskLevel::C1), false, false),
    ];
    for (old, new, level, notice, alert) in cases {
        let mut out = Findings::default();
        m.rerated("P1", Some("稳健一号"), old, new, &h(level), &mut out);
        assert_eq!(!out.notices.is_empty(), notice, "{old:?}→{new:?} {level:?}");
        assert_eq!(!out.alerts.is_empty(), alert, "{old:?}→{new:?} {level:?}");
        if alert {
            assert_eq!(out.alerts[0].episode, format!("P1:{}>{}", old.as_str(), new.as_str()));
        }
    }
}

/// The same facts give the same findings (the store keeps one per key).
#[test]
fn detection_is_deterministic() {
    let p = pack();
    let f = ClientFacts {
        assessed_on: Some(d("2024-06-01")),
        behaviour_risk: Some(ProductRisk::R5),
        risk_level: Some(RiskLevel::C2),
        churn_risk: "high".into(),
        prev_asset_tier: Some("wealth".into()),
        asset_tier: "hnw".into(),
        segment: "hnw-growth".into(),
        ..base()
    };
    assert_eq!(find(&p, &f), find(&p, &f));
    assert_eq!(alert_kinds(&find(&p, &f)), vec!["assessment_expired", "above_tolerance", "churn_high", "tier_upgrade"]);
    assert_eq!(task_kinds(&find(&p, &f)), vec!["reassessment", "retention", "welcome_reassign", "followup"]);
}

#[test]
fn every_code_parses_back() {
    for k in AlertKind::ALL {
        assert_eq!(AlertKind::parse(k.as_str()), Some(*k));
        assert!(!k.name(tierwise_domain::Lang::Zh).is_empty());
    }
    for k in TaskKind::ALL {
        assert_eq!(TaskKind::parse(k.as_str()), Some(*k));
    }
    for k in NoticeKind::ALL {
        assert_eq!(NoticeKind::parse(k.as_str()), Some(*k));
    }
}

// ---------------------------------------------------------------- NPS

#[test]
fn nps_is_promoters_minus_detractors_in_percent() {
    let cases: &[(&[u8], Option<i32>)] = &[
        (&[], None),
        (&[10, 9, 8, 7, 6, 0], Some(0)),
        (&[10, 10, 10], Some(100)),
        (&[0, 6], Some(-100)),
        (&[9, 8, 8], Some(33)),
        (&[9, 9, 6], Some(33)),
        (&[9, 6, 6], Some(-33)),
        (&[9, 7, 7, 7, 7, 7, 7, 7], Some(13)), // 12.5 rounds away from zero
        (&[6, 7, 7, 7, 7, 7, 7, 7], Some(-13)),
    ];
    for (scores, want) in cases {
        let mut c = NpsCounts::default();
        scores.iter().for_each(|s| c.add(*s));
        assert_eq!(c.score(), *want, "{scores:?}");
    }
}

// ---------------------------------------------------------------- assignment

fn slot(id: &str, branch: &str, title: AdvisorTitle, years: u32, cap: Option<u32>) -> AdvisorSlot {
    AdvisorSlot { advisor_id: id.into(), branch_id: Some(branch.into()), title, years, capacity: cap }
}

fn plan_of(p: &Pack) -> impl Fn(&str) -> Option<Requirement> + '_ {
    |seg| {
        p.segment(seg).map(|s| Requirement {
            title: s.plan.advisor_title,
            min_years: s.plan.advisor_min_years,
            max_per_advisor: s.plan.max_clients_per_advisor,
        })
    }
}

#[test]
fn assignment_follows_the_service_plan_and_balances_load() {
    let p = pack();
    let advisors = vec![
        slot("PB1", "B1", AdvisorTitle::PrivateBanker, 10, Some(2)),
        slot("PB2", "B1", AdvisorTitle::PrivateBanker, 3, Some(5)), // too junior for hnw (5 years)
        slot("AD1", "B1", AdvisorTitle::Advisor, 4, Some(10)),
        slot("AD2", "B1", AdvisorTitle::Advisor, 4, Some(10)),
        slot("AD9", "B2", AdvisorTitle::Advisor, 4, Some(10)),
    ];
    let c = |id: &str, seg: &str, cur: Option<&str>| Placement {
        client_id: id.into(),
        branch_id: Some("B1".into()),
        segment: seg.into(),
        current: cur.map(Into::into),
    };
    let clients = vec![
        c("H1", "hnw-growth", None),
        c("H2", "hnw-preserve", Some("AD1")), // an advisor may not serve hnw
        c("H3", "hnw-growth", None),          // PB1 is full after H1, H2; PB2 too junior
        c("W1", "wealth-balanced", None),
        c("W2", "wealth-balanced", Some("AD9")), // other branch
        c("W3", "wealth-balanced", Some("AD2")), // fits: stays
        c("M1", "mass-basic", Some("GONE")),
    ];
    let plan = propose(&advisors, &clients, &plan_of(&p));
    let moves: Vec<(&str, &str, Why)> =
        plan.proposals.iter().map(|m| (m.client_id.as_str(), m.to.as_str(), m.why)).collect();
    assert_eq!(
        moves,
        vec![
            ("H1", "PB1", Why::Unassigned),
            ("H2", "PB1", Why::TitleBelowPlan),
            ("M1", "AD2", Why::UnknownAdvisor), // AD1 2/10, AD2 1/10 by then
            ("W1", "AD1", Why::Unassigned),     // AD1 0/10 after H2 left, AD2 1/10
            ("W2", "AD1", Why::OtherBranch),    // 1/10 each: the lower id
        ]
    );
    assert_eq!(plan.unplaced.len(), 1);
    assert_eq!(plan.unplaced[0].client_id, "H3");
    assert_eq!(plan.loads["PB1"], (0, 2));
    assert_eq!(plan.loads["AD1"], (1, 2), "H2 left AD1, W1 and W2 joined");
    assert_eq!(plan.loads["AD2"], (1, 2));
    assert_eq!(plan.loads["PB2"], (0, 0), "a private banker is the last resort for mass and wealth");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const TITLES: [AdvisorTitle; 4] =
        [AdvisorTitle::Assistant, AdvisorTitle::Advisor, AdvisorTitle::SeniorAdvisor, AdvisorTitle::PrivateBanker];
    const SEGMENTS: [&str; 8] = [
        "hnw-growth",
        "hnw-preserve",
        "wealth-growth",
        "wealth-retiree",
        "wealth-balanced",
        "mass-potential",
        "mass-engaged",
        "mass-basic",
    ];

    fn advisor() -> impl Strategy<Value = AdvisorSlot> {
        (0usize..4, 0u32..12, prop::option::of(0u32..6), 0u8..3).prop_map(|(t, years, cap, b)| AdvisorSlot {
            advisor_id: String::new(),
            branch_id: Some(format!("B{b}")),
            title: TITLES[t],
            years,
            capacity: cap,
        })
    }

    fn client() -> impl Strategy<Value = (Option<u8>, usize, Option<usize>)> {
        (prop::option::of(0u8..3), 0usize..8, prop::option::of(0usize..12))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// Capacity (total and per segment) is never exceeded by a move;
        /// every move is to an eligible advisor; and the plan is maximal:
        /// no client left without a fitting advisor could still be placed.
        #[test]
        fn assignment_never_exceeds_capacity_and_places_every_assignable_client(
            mut advisors in prop::collection::vec(advisor(), 0..10),
            raw in prop::collection::vec(client(), 0..60),
        ) {
            let p = pack();
            for (i, a) in advisors.iter_mut().enumerate() {
                a.advisor_id = format!("A{i:02}");
            }
            let clients: Vec<Placement> = raw.iter().enumerate().map(|(i, (b, s, cur))| Placement {
                client_id: format!("C{i:03}"),
                branch_id: b.map(|b| format!("B{b}")),
                segment: SEGMENTS[*s].to_string(),
                // an index past the advisors names an unknown advisor
                current: cur.map(|c| if c < advisors.len() { format!("A{c:02}") } else { "GONE".into() }),
            }).collect();
            let req = plan_of(&p);
            let plan = propose(&advisors, &clients, &req);

            // final assignment
            let mut now: HashMap<String, Option<String>> =
                clients.iter().map(|c| (c.client_id.clone(), c.current.clone())).collect();
            for m in &plan.proposals {
                now.insert(m.client_id.clone(), Some(m.to.clone()));
            }
            let count = |map: &HashMap<String, Option<String>>, a: &str, seg: Option<&str>| {
                clients.iter().filter(|c| map[&c.client_id].as_deref() == Some(a)
                    && seg.is_none_or(|s| s == c.segment)).count() as u32
            };
            let before: HashMap<String, Option<String>> =
                clients.iter().map(|c| (c.client_id.clone(), c.current.clone())).collect();
            for a in &advisors {
                let received = plan.proposals.iter().any(|m| m.to == a.advisor_id);
                let (b, n) = (count(&before, &a.advisor_id, None), count(&now, &a.advisor_id, None));
                prop_assert_eq!(plan.loads[&a.advisor_id], (b, n));
                if let (true, Some(cap)) = (received, a.capacity) {
                    prop_assert!(n <= cap, "{} over capacity: {} > {}", a.advisor_id, n, cap);
                }
                for seg in SEGMENTS {
                    let got_seg = plan.proposals.iter().any(|m| m.to == a.advisor_id && m.segment == seg);
                    let max = req(seg).and_then(|r| r.max_per_advisor);
                    if let (true, Some(max)) = (got_seg, max) {
                        prop_assert!(count(&now, &a.advisor_id, Some(seg)) <= max);
                    }
                }
            }
            for m in &plan.proposals {
                let c = clients.iter().find(|c| c.client_id == m.client_id).unwrap();
                let a = advisors.iter().find(|a| a.advisor_id == m.to).unwrap();
                prop_assert!(qualifies(a, c.branch_id.as_deref(), &req(&c.segment).unwrap()));
            }
            // maximal: an unplaced client has no eligible advisor with room
            for u in &plan.unplaced {
                let c = clients.iter().find(|c| c.client_id == u.client_id).unwrap();
                let r = req(&c.segment).unwrap();
                for a in &advisors {
                    if Some(&a.advisor_id) == c.current.as_ref() || !qualifies(a, c.branch_id.as_deref(), &r) {
                        continue;
                    }
                    let total_room = a.capacity.is_none_or(|cap| count(&now, &a.advisor_id, None) < cap);
                    let seg_room = r.max_per_advisor.is_none_or(|m| count(&now, &a.advisor_id, Some(&c.segment)) < m);
                    prop_assert!(!(total_room && seg_room), "{} could still go to {}", c.client_id, a.advisor_id);
                }
            }
        }
    }
}
