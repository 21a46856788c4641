//! The alert, task and notification rules of PRODUCT.md 6 for one date D.
//!
//! | finding | when (on D) | dedup episode |
//! | --- | --- | --- |
//! | alert `assessment_expired` + task `reassessment` + notice `reassessment_due` | D ≥ expiry of the newest assessment | its expiry date |
//! | alert `assessment_expiring` + the same task and notice | 0 < expiry − D ≤ `expiring_within_days` | its expiry date |
//! | alert `material_change` + the same task and notice | material change after the assessment, ≤ D | change date (task, notice: expiry) |
//! | alert `above_tolerance` | behaviour risk Rn above risk level Cm (n > m) | `Rn>Cm` |
//! | alert `churn_high` + task `retention` (due D+7) | churn risk high | the month of D |
//! | alert `tier_upgrade` + task `welcome_reassign` (D+7) + notice `reclassification` | the run's tier ranks above the previous run's | `from>to@run` |
//! | alert `tier_downgrade` + task `review` (D+14) + notice `reclassification` | ranks below | `from>to@run` |
//! | alert `turning_65` | the 65th birthday is within 30 days before or after D | the birthday |
//! | task `followup` | the segment's plan has a contact frequency f | due = last contact (else onboarding) + f; `first` (due D) when neither is known |
//! | alert `followup_overdue` | an open follow-up task is due before D | its due date |
//! | alert `advisor_over_capacity` | clients > capacity, or a segment's clients > its plan's maximum | the month of D |
//! | alert `large_outflow` | one withdraw/transfer_out ≥ the pack's `large_outflow` | the txn id |
//! | alert `product_rerated` + notice `product_rerated` | a product's risk level rises above a holder's level (every holder is told) | `product:level` |

use crate::kinds::{AlertKind, NoticeKind, TaskKind};
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use tierwise_classify::AssessmentStatus as Status;
use tierwise_domain::{add_months_clamped, nth_birthday, AdvisorTitle, Lang, ProductRisk, RiskLevel, TxnKind};
use tierwise_rules::Pack;

/// The default single-outflow threshold (需求预警) when a pack names none.
pub const DEFAULT_LARGE_OUTFLOW: i64 = 500_000;
/// A turning-65 alert is raised this many days before and after the birthday.
pub const TURNING_65_WINDOW_DAYS: i64 = 30;
pub const RETENTION_DUE_DAYS: i64 = 7;
pub const WELCOME_DUE_DAYS: i64 = 7;
pub const REVIEW_DUE_DAYS: i64 = 14;
/// A reported material change asks for a reassessment within this many days.
pub const MATERIAL_CHANGE_DUE_DAYS: i64 = 30;

/// What the monitor knows of one client on D: the client's row and dates,
/// and its result in the latest classification run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientFacts {
    pub client_id: String,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    /// persons only
    pub birth_date: Option<NaiveDate>,
    pub onboarded_at: Option<NaiveDate>,
    pub material_change_at: Option<NaiveDate>,
    /// the newest assessment taken on or before D
    pub assessed_on: Option<NaiveDate>,
    pub questionnaire_id: Option<String>,
    /// the newest interaction on or before D
    pub last_contact: Option<NaiveDate>,
    /// the run the values below come from
    pub run_id: i64,
    pub asset_tier: String,
    pub prev_asset_tier: Option<String>,
    pub segment: String,
    pub risk_level: Option<RiskLevel>,
    pub behaviour_risk: Option<ProductRisk>,
    pub churn_risk: String,
    pub aum: Decimal,
}

/// An advisor's book on D, for the capacity rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisorFacts {
    pub advisor_id: String,
    pub branch_id: Option<String>,
    pub capacity: Option<u32>,
    pub clients: u32,
    /// clients per segment
    pub per_segment: Vec<(String, u32)>,
}

/// One transaction, as a feed or an import delivers it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutflowFacts {
    pub txn_id: String,
    pub client_id: String,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub kind: TxnKind,
    pub amount: Decimal,
    /// local timestamp as stored
    pub ts: String,
}

/// A holder of a product, for a re-rating.
#[derive(Debug, Clone, PartialEq)]
pub struct HolderFacts {
    pub client_id: String,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    /// the newest assessment's level, None when never assessed
    pub risk_level: Option<RiskLevel>,
    pub market_value: Decimal,
}

/// An alert to open (unless one with its key exists).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSpec {
    pub kind: AlertKind,
    /// the client id, or the advisor id of an advisor alert
    pub subject: String,
    pub client_id: Option<String>,
    /// whom it is assigned to: the client's advisor; None = the branch's team lead
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub episode: String,
    /// the numbers compared and `rule`, the rule that fired
    pub evidence: Value,
}

/// A task to open (unless one with its key exists).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSpec {
    pub kind: TaskKind,
    pub client_id: String,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub episode: String,
    pub due: NaiveDate,
    pub evidence: Value,
}

/// Something the client must be told (a row of the outbox).
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeSpec {
    pub kind: NoticeKind,
    pub client_id: String,
    pub episode: String,
    /// `{"kind","client_id","title":{zh,en},"body":{zh,en},"data":{…}}`
    pub payload: Value,
}

/// Everything found for a set of clients.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    pub alerts: Vec<AlertSpec>,
    pub tasks: Vec<TaskSpec>,
    pub notices: Vec<NoticeSpec>,
}

impl Findings {
    pub fn extend(&mut self, other: Findings) {
        self.alerts.extend(other.alerts);
        self.tasks.extend(other.tasks);
        self.notices.extend(other.notices);
    }
}

/// The rules of one pack on one date.
pub struct Monitor<'p> {
    pack: &'p Pack,
    /// questionnaire id → validity months, where the questionnaire sets its own
    validity: HashMap<String, u32>,
    d: NaiveDate,
    large_outflow: Decimal,
}

fn month_of(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

fn texts(zh: String, en: String) -> Value {
    json!({ "zh": zh, "en": en })
}

impl<'p> Monitor<'p> {
    pub fn new(pack: &'p Pack, questionnaire_validity: HashMap<String, u32>, d: NaiveDate) -> Monitor<'p> {
        let large_outflow =
            pack.params.get("large_outflow").copied().unwrap_or_else(|| Decimal::from(DEFAULT_LARGE_OUTFLOW));
        Monitor { pack, validity: questionnaire_validity, d, large_outflow }
    }

    pub fn date(&self) -> NaiveDate {
        self.d
    }

    pub fn large_outflow(&self) -> Decimal {
        self.large_outflow
    }

    fn alert(&self, kind: AlertKind, f: &ClientFacts, episode: String, evidence: Value) -> AlertSpec {
        AlertSpec {
            kind,
            subject: f.client_id.clone(),
            client_id: Some(f.client_id.clone()),
            advisor_id: f.advisor_id.clone(),
            branch_id: f.branch_id.clone(),
            episode,
            evidence,
        }
    }

    fn task(&self, kind: TaskKind, f: &ClientFacts, episode: String, due: NaiveDate, evidence: Value) -> TaskSpec {
        TaskSpec {
            kind,
            client_id: f.client_id.clone(),
            advisor_id: f.advisor_id.clone(),
            branch_id: f.branch_id.clone(),
            episode,
            due,
            evidence,
        }
    }

    fn notice(&self, kind: NoticeKind, client_id: &str, episode: String, body: Value, data: Value) -> NoticeSpec {
        NoticeSpec {
            kind,
            client_id: client_id.to_string(),
            payload: json!({
                "kind": kind.as_str(),
                "client_id": client_id,
                "title": texts(kind.name(Lang::Zh).to_string(), kind.name(Lang::En).to_string()),
                "body": body,
                "data": data,
            }),
            episode,
        }
    }

    fn tier_rank(&self, tier: &str) -> Option<usize> {
        self.pack.dimensions.get("asset_tier")?.values.iter().position(|(id, _)| id == tier)
    }

    fn tier_name(&self, tier: &str, lang: Lang) -> String {
        self.pack.value_name("asset_tier", tier, lang)
    }

    /// Every alert, task and notice one client's situation calls for on D.
    pub fn client(&self, f: &ClientFacts, out: &mut Findings) {
        let d = self.d;
        self.assessment(f, out);

        // holdings above tolerance (持仓风险超出风险承受能力)
        if let (Some(br), Some(rl)) = (f.behaviour_risk, f.risk_level) {
            if br.rank() > rl.rank() {
                out.alerts.push(self.alert(
                    AlertKind::AboveTolerance,
                    f,
                    format!("{}>{}", br.as_str(), rl.as_str()),
                    json!({
                        "behaviour_risk": br.as_str(), "risk_level": rl.as_str(),
                        "rule": "behaviour_risk > risk_level",
                    }),
                ));
            }
        }

        // churn risk high → retention (挽留)
        if f.churn_risk == "high" {
            let episode = month_of(d);
            out.alerts.push(self.alert(
                AlertKind::ChurnHigh,
                f,
                episode.clone(),
                json!({ "churn_risk": "high", "aum": f.aum.to_string(), "rule": "churn_risk == 'high'" }),
            ));
            out.tasks.push(self.task(
                TaskKind::Retention,
                f,
                episode,
                d + Duration::days(RETENTION_DUE_DAYS),
                json!({ "rule": "churn_risk == 'high'" }),
            ));
        }

        // tier migration between the previous run and this one
        if let Some(prev) = f.prev_asset_tier.as_deref().filter(|p| *p != f.asset_tier) {
            if let (Some(from), Some(to)) = (self.tier_rank(prev), self.tier_rank(&f.asset_tier)) {
                let episode = format!("{prev}>{}@{}", f.asset_tier, f.run_id);
                let evidence = json!({
                    "previous_asset_tier": prev, "asset_tier": f.asset_tier, "aum": f.aum.to_string(),
                    "run_id": f.run_id,
                    "rule": if to > from { "asset_tier above previous_asset_tier" } else { "asset_tier below previous_asset_tier" },
                });
                let (alert, task, due) = if to > from {
                    (AlertKind::TierUpgrade, TaskKind::WelcomeReassign, WELCOME_DUE_DAYS)
                } else {
                    (AlertKind::TierDowngrade, TaskKind::Review, REVIEW_DUE_DAYS)
                };
                out.alerts.push(self.alert(alert, f, episode.clone(), evidence.clone()));
                out.tasks.push(self.task(task, f, episode.clone(), d + Duration::days(due), evidence));
                let body = texts(
                    format!(
                        "您的客户层级已由{}调整为{}。",
                        self.tier_name(prev, Lang::Zh),
                        self.tier_name(&f.asset_tier, Lang::Zh)
                    ),
                    format!(
                        "Your client tier changed from {} to {}.",
                        self.tier_name(prev, Lang::En),
                        self.tier_name(&f.asset_tier, Lang::En)
                    ),
                );
                out.notices.push(self.notice(
                    NoticeKind::Reclassification,
                    &f.client_id,
                    episode,
                    body,
                    json!({ "previous_asset_tier": prev, "asset_tier": f.asset_tier }),
                ));
            }
        }

        // turning 65 (elderly special care applies from the birthday)
        if let Some(birth) = f.birth_date {
            let b65 = nth_birthday(birth, 65);
            let days = (d - b65).num_days();
            if (-TURNING_65_WINDOW_DAYS..=TURNING_65_WINDOW_DAYS).contains(&days) {
                out.alerts.push(self.alert(
                    AlertKind::Turning65,
                    f,
                    b65.to_string(),
                    json!({
                        "birth_date": birth.to_string(), "birthday_65": b65.to_string(), "days_from_birthday": days,
                        "rule": "|D - 65th birthday| <= 30 days",
                    }),
                ));
            }
        }

        // scheduled follow-up from the segment's service plan (定期回访)
        let every = self.pack.segment(&f.segment).and_then(|s| s.plan.contact_every_days).filter(|n| *n > 0);
        if let Some(every) = every {
            let base = f.last_contact.or(f.onboarded_at);
            let (episode, due) = match base {
                Some(b) => (format!("after:{b}"), b + Duration::days(i64::from(every))),
                None => ("first".to_string(), d),
            };
            out.tasks.push(self.task(
                TaskKind::Followup,
                f,
                episode,
                due,
                json!({
                    "segment": f.segment, "contact_every_days": every,
                    "last_contact": f.last_contact.map(|x| x.to_string()),
                    "onboarded_at": f.onboarded_at.map(|x| x.to_string()),
                    "rule": "due = (last contact, else onboarding) + contact_every_days",
                }),
            ));
        }
    }

    /// Expiring, expired and stale assessments (PRODUCT.md 3's status on D).
    fn assessment(&self, f: &ClientFacts, out: &mut Findings) {
        let Some(assessed) = f.assessed_on else { return };
        let months = f
            .questionnaire_id
            .as_ref()
            .and_then(|q| self.validity.get(q))
            .copied()
            .unwrap_or(self.pack.validity_months);
        let expiry = add_months_clamped(assessed, months);
        let d = self.d;
        let status = Status::of(assessed, expiry, f.material_change_at, d, self.pack.expiring_within_days);
        let days_to_expiry = (expiry - d).num_days();
        let evidence = |rule: &str| {
            json!({
                "assessed_on": assessed.to_string(), "validity_months": months, "expiry": expiry.to_string(),
                "days_to_expiry": days_to_expiry,
                "material_change_at": f.material_change_at.map(|m| m.to_string()),
                "rule": rule,
            })
        };
        let (kind, episode, due, rule) = match status {
            Status::Expired => (AlertKind::AssessmentExpired, expiry.to_string(), expiry, "D >= expiry"),
            Status::Stale => {
                let changed = f.material_change_at.unwrap_or(d);
                let due = (changed + Duration::days(MATERIAL_CHANGE_DUE_DAYS)).min(expiry);
                (AlertKind::MaterialChange, changed.to_string(), due, "assessed_on < material_change_at <= D")
            }
            Status::Expiring => {
                (AlertKind::AssessmentExpiring, expiry.to_string(), expiry, "expiry - D <= expiring_within_days")
            }
            Status::Valid | Status::Missing => return,
        };
        out.alerts.push(self.alert(kind, f, episode, evidence(rule)));
        out.tasks.push(self.task(TaskKind::Reassessment, f, expiry.to_string(), due, evidence(rule)));
        out.notices.push(self.notice(
            NoticeKind::ReassessmentDue,
            &f.client_id,
            expiry.to_string(),
            texts(
                format!("您的风险承受能力评估有效期至{expiry}，请及时重新评估。"),
                format!("Your risk assessment is valid until {expiry}: please retake the questionnaire."),
            ),
            json!({ "assessed_on": assessed.to_string(), "expiry": expiry.to_string() }),
        ));
    }

    /// An open follow-up task due before D is overdue.
    pub fn followup_overdue(
        &self,
        client_id: &str,
        advisor_id: Option<&str>,
        branch_id: Option<&str>,
        due: NaiveDate,
    ) -> Option<AlertSpec> {
        if due >= self.d {
            return None;
        }
        Some(AlertSpec {
            kind: AlertKind::FollowupOverdue,
            subject: client_id.to_string(),
            client_id: Some(client_id.to_string()),
            advisor_id: advisor_id.map(str::to_string),
            branch_id: branch_id.map(str::to_string),
            episode: due.to_string(),
            evidence: json!({ "due": due.to_string(), "days_overdue": (self.d - due).num_days(), "rule": "due < D" }),
        })
    }

    /// An advisor with more clients than capacity, or more of one segment
    /// than the segment's plan allows (a private banker serves at most 30).
    pub fn advisor(&self, a: &AdvisorFacts) -> Option<AlertSpec> {
        let mut over: Vec<Value> = Vec::new();
        if let Some(cap) = a.capacity {
            if a.clients > cap {
                over.push(json!({ "what": "clients", "clients": a.clients, "capacity": cap }));
            }
        }
        for (segment, n) in &a.per_segment {
            let max = self.pack.segment(segment).and_then(|s| s.plan.max_clients_per_advisor);
            if let Some(max) = max {
                if *n > max {
                    over.push(
                        json!({ "what": "segment", "segment": segment, "clients": n, "max_clients_per_advisor": max }),
                    );
                }
            }
        }
        if over.is_empty() {
            return None;
        }
        Some(AlertSpec {
            kind: AlertKind::AdvisorOverCapacity,
            subject: a.advisor_id.clone(),
            client_id: None,
            advisor_id: None,
            branch_id: a.branch_id.clone(),
            episode: month_of(self.d),
            evidence: json!({
                "advisor_id": a.advisor_id, "over": over,
                "rule": "clients > capacity, or a segment's clients > its plan's max_clients_per_advisor",
            }),
        })
    }

    /// A single outflow at least the pack's `large_outflow` (需求预警).
    pub fn outflow(&self, t: &OutflowFacts) -> Option<AlertSpec> {
        if !matches!(t.kind, TxnKind::Withdraw | TxnKind::TransferOut) || t.amount < self.large_outflow {
            return None;
        }
        Some(AlertSpec {
            kind: AlertKind::LargeOutflow,
            subject: t.client_id.clone(),
            client_id: Some(t.client_id.clone()),
            advisor_id: t.advisor_id.clone(),
            branch_id: t.branch_id.clone(),
            episode: t.txn_id.clone(),
            evidence: json!({
                "txn_id": t.txn_id, "kind": t.kind.as_str(), "amount": t.amount.to_string(), "ts": t.ts,
                "large_outflow": self.large_outflow.to_string(),
                "rule": "kind in (withdraw, transfer_out) and amount >= large_outflow",
            }),
        })
    }

    /// A product's risk level changed from `old` to `new` (CSRC Art 21: the
    /// investor must be told). Every holder gets a notice; a holder whose
    /// level is now below the product's (or who was never assessed) also
    /// gets an alert for the advisor, when the level rose.
    pub fn rerated(
        &self,
        product_id: &str,
        product_name: Option<&str>,
        old: ProductRisk,
        new: ProductRisk,
        h: &HolderFacts,
        out: &mut Findings,
    ) {
        if old == new {
            return;
        }
        let episode = format!("{product_id}:{}>{}", old.as_str(), new.as_str());
        let name = product_name.unwrap_or(product_id);
        out.notices.push(self.notice(
            NoticeKind::ProductRerated,
            &h.client_id,
            episode.clone(),
            texts(
                format!("您持有的产品「{name}」风险等级已由{}调整为{}。", old.as_str(), new.as_str()),
                format!("The risk level of {name}, which you hold, changed from {} to {}.", old.as_str(), new.as_str()),
            ),
            json!({ "product_id": product_id, "old_risk_level": old.as_str(), "risk_level": new.as_str() }),
        ));
        let below = h.risk_level.is_none_or(|l| l.rank() < new.rank());
        if new.rank() > old.rank() && below {
            out.alerts.push(AlertSpec {
                kind: AlertKind::ProductRerated,
                subject: h.client_id.clone(),
                client_id: Some(h.client_id.clone()),
                advisor_id: h.advisor_id.clone(),
                branch_id: h.branch_id.clone(),
                episode,
                evidence: json!({
                    "product_id": product_id, "old_risk_level": old.as_str(), "risk_level": new.as_str(),
                    "client_risk_level": h.risk_level.map(|l| l.as_str()), "market_value": h.market_value.to_string(),
                    "rule": "product risk level raised above the holder's risk level",
                }),
            });
        }
    }
}

/// The title ladder: assistant < advisor < senior_advisor < private_banker.
pub fn title_rank(t: AdvisorTitle) -> u8 {
    match t {
        AdvisorTitle::Assistant => 0,
        AdvisorTitle::Advisor => 1,
        AdvisorTitle::SeniorAdvisor => 2,
        AdvisorTitle::PrivateBanker => 3,
    }
}
