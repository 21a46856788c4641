//! The suitability check (适当性匹配, PRODUCT.md 5): may this client buy this
//! product, for this amount, through this channel, now — the verdict
//! (match / warn / prohibited / reassess), the reasons and the obligations.
//!
//! This crate owns the steps of the check, their reason and obligation codes
//! and the zh/en messages. It is pure and synchronous: it is handed the
//! client's stored records, the catalogue, the product and the time, and must
//! never read a database, a file or the clock, nor depend on a classification
//! run having happened (it classifies the client itself, as of the check).
//!
//! # What a check reads
//! The book restricted with [`ClientBook::as_known_before`]`(at)`:
//! assessments and transactions strictly before `at`, holding snapshots dated
//! on or before `at`'s date. A material-change date after `at`'s date is not
//! known yet either and is ignored. The client is classified on that book as of
//! `at`'s date (PRODUCT.md 3 and 3.1: investor category and qualification with
//! aum from the newest snapshot, assessment status — the expiry date itself is
//! expired, stale on a later material change —, age). The product is its
//! current record.
//!
//! # Steps
//! The first step that decides sets the verdict; the reasons of every step that
//! applies are still reported, in step order.
//! 1. prohibited: `not_on_sale` (closed), `below_minimum` (amount < minimum),
//!    `requires_qualified_investor` / `requires_private_fund_qualified` /
//!    `requires_professional` (investor requirement unmet; `professional` means
//!    investor category `professional`).
//! 2. packs with `professional_investor_matches` (cn-csrc, Art 8): a
//!    professional investor matches. Steps 3–5 then do not apply at all: they
//!    report no reasons, even when step 1 prohibited.
//! 3. reassess: `assessment_missing`, `assessment_expired`, `material_change`
//!    (at most one of the three: the assessment status of PRODUCT.md 3);
//!    packs with `first_purchase_requires_branch_assessment` (cn-bank):
//!    `first_purchase_needs_branch_assessment` when the product's line is not
//!    deposit, the client has never bought an investment product (no `buy`
//!    transaction of a wealth or insurance product — credit products are not
//!    purchases of investment products — and no wealth or insurance holding
//!    with value > 0 in any known snapshot) and an assessment exists that was
//!    not taken at a branch (without an assessment, `assessment_missing` alone
//!    is reported).
//! 4. prohibited `lowest_category`: the newest assessment carries the
//!    lowest-category flag and the product is above R1.
//! 5. mismatches, computed whenever an assessment exists (also when an
//!    earlier step decided: they are then reported as reasons only):
//!    `risk_exceeds_tolerance` (product rank above the client's level rank),
//!    `horizon_exceeds` (client horizon known and not 0 = unlimited, product
//!    horizon not 0 = on demand, product horizon longer), `variety_not_accepted`
//!    (client varieties known, product variety — explicit or the category
//!    default — known and not among them). Policy `risk_prohibits` (cn-bank):
//!    risk → prohibited, horizon/variety only → warn. Policy `by_initiator`
//!    (cn-csrc): any mismatch initiated by the advisor → prohibited with the
//!    added reason `advisor_initiated_mismatch` (Art 22), by the client → warn
//!    (Art 19).
//! 6. otherwise match.
//!
//! # Obligations
//! Only when the verdict is match or warn (prohibited and reassess are not
//! sales: no obligations), in this order: `risk_disclosure` (investor category
//! not professional), `special_risk_warning` and `client_confirmation` (warn),
//! `dual_recording` (cn-bank `non_deposit_sales_at_branch`: at a branch and the
//! product's line is not deposit; cn-csrc `warns_at_branch`: warn at a
//! branch), `electronic_trace` (warn online), `enhanced_care` (product level in
//! the pack's `enhanced_care_levels` — R4/R5 in cn-csrc, Art 20 — to an
//! investor who is not professional), `elderly_special_care` (age at the
//! check date ≥ the pack's `elderly_age`, 65).

mod messages;

pub use messages::{obligation_text, reason_title, OBLIGATION_CODES, REASON_CODES};

use chrono::NaiveDate;
use messages::Finding;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tierwise_classify::{AssessmentStatus, Catalog, ClientBook, Engine};
use tierwise_domain::{
    BusinessLine, Channel, InitiatedBy, InvestorRequirement, Lang, LocalDateTime, Product, ProductCategory,
    ProductRisk, ProductStatus, RiskLevel, TxnKind, Variety,
};
use tierwise_rules::{DualRecording, MismatchPolicy};

/// One sale to check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRequest {
    pub client_id: String,
    pub product_id: String,
    pub amount: Decimal,
    /// 客户主动 (client) or 机构推荐 (advisor)
    pub initiated_by: InitiatedBy,
    /// where the sale is made
    pub channel: Channel,
    /// local time of the check
    pub at: LocalDateTime,
}

/// 匹配结论.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// may be sold
    Match,
    /// may be sold only after the special written risk warning and the client's recorded confirmation
    Warn,
    /// must not be sold
    Prohibited,
    /// the client must (re)take the questionnaire first
    Reassess,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [Verdict::Match, Verdict::Warn, Verdict::Prohibited, Verdict::Reassess];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Match => "match",
            Verdict::Warn => "warn",
            Verdict::Prohibited => "prohibited",
            Verdict::Reassess => "reassess",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The name shown to people.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Verdict::Match, Lang::Zh) => "匹配",
            (Verdict::Warn, Lang::Zh) => "警示后可售",
            (Verdict::Prohibited, Lang::Zh) => "禁止销售",
            (Verdict::Reassess, Lang::Zh) => "须重新评估",
            (Verdict::Match, Lang::En) => "suitable",
            (Verdict::Warn, Lang::En) => "sale only after a warning",
            (Verdict::Prohibited, Lang::En) => "sale prohibited",
            (Verdict::Reassess, Lang::En) => "reassess first",
        }
    }

    /// Whether the product may be sold (after the obligations are met).
    pub fn is_sale(self) -> bool {
        matches!(self, Verdict::Match | Verdict::Warn)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why: a stable code and a message for people, specific to the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub message: String,
}

/// The newest assessment the check read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentFacts {
    pub questionnaire_id: String,
    pub assessed_at: LocalDateTime,
    pub channel: Channel,
    pub level: RiskLevel,
    pub lowest: bool,
    pub horizon_months: Option<u32>,
    pub varieties: Option<Vec<Variety>>,
    pub expiry: NaiveDate,
}

/// The product record the check read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductFacts {
    pub product_id: String,
    pub category: ProductCategory,
    pub line: BusinessLine,
    /// explicit or the category default; none for credit products
    pub variety: Option<Variety>,
    pub risk_level: ProductRisk,
    pub horizon_months: u32,
    pub min_investment: Decimal,
    pub investor_requirement: InvestorRequirement,
    pub status: ProductStatus,
}

/// What the decision read, for the audit trail: with the request, enough to
/// replay the check and see why it came out as it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckFacts {
    /// the pack's suitability regime (`cn-bank`, `cn-csrc`)
    pub regime: String,
    /// the check's local date: the classification date
    pub as_of: NaiveDate,
    pub investor_category: String,
    pub qualified_investor: bool,
    pub private_fund_qualified: bool,
    pub aum: Decimal,
    /// age in full years at the check date (persons with a birth date)
    pub age: Option<i32>,
    /// the material-change date known at the check (none if dated after it)
    pub material_change_at: Option<NaiveDate>,
    /// missing / expired / stale / expiring / valid
    pub assessment_status: String,
    pub assessment: Option<AssessmentFacts>,
    /// a wealth or insurance product the client bought or held before the
    /// check (the first found), or none: the cn-bank first-purchase rule
    pub prior_investment_product: Option<String>,
    pub product: ProductFacts,
    /// the step (1–6) that set the verdict
    pub decided_at_step: u8,
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckOutcome {
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    pub obligations: Vec<&'static str>,
    pub rule_pack: String,
    pub rule_version: String,
    /// what the decision read, for the audit trail (see [`CheckOutcome::audit_json`])
    #[serde(skip)]
    pub facts: CheckFacts,
}

impl CheckOutcome {
    /// `{"verdict":…,"reasons":[{"code":…,"message":…}],"obligations":[…],"rule_pack":…,"rule_version":…}`
    /// (PRODUCT.md 7.1, `check --json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The audit record of the check: `{"request":…,"facts":…,"outcome":…}`,
    /// where `outcome` has the shape of [`CheckOutcome::to_json`].
    pub fn audit_json(&self, req: &CheckRequest) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("request".into(), serde_json::to_value(req).unwrap_or(serde_json::Value::Null));
        m.insert("facts".into(), serde_json::to_value(&self.facts).unwrap_or(serde_json::Value::Null));
        m.insert("outcome".into(), serde_json::to_value(self).unwrap_or(serde_json::Value::Null));
        serde_json::Value::Object(m)
    }

    /// The reason codes, in order.
    pub fn reason_codes(&self) -> Vec<&'static str> {
        self.reasons.iter().map(|r| r.code).collect()
    }

    pub fn has_reason(&self, code: &str) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }
}

/// The first step that decides sets the verdict.
struct Decision(Option<(Verdict, u8)>);

impl Decision {
    fn decide(&mut self, v: Verdict, step: u8) {
        if self.0.is_none() {
            self.0 = Some((v, step));
        }
    }
}

/// Checks one sale (PRODUCT.md 5; the steps are in the crate documentation).
///
/// `book` is everything stored about the client (the check restricts it to what
/// was known before `req.at`), `catalog` the products its records refer to,
/// `product` the product's current record.
pub fn check(
    engine: &Engine,
    book: &ClientBook,
    catalog: &Catalog,
    product: &Product,
    req: &CheckRequest,
    lang: Lang,
) -> CheckOutcome {
    let pack = engine.pack();
    let rules = &pack.suitability;
    let day = req.at.date();
    let mut known = book.as_known_before(req.at);
    if known.client.material_change_at.is_some_and(|m| m > day) {
        known.client.material_change_at = None;
    }
    let cls = engine.classify(&known, catalog, day);
    let assessment = cls.assessment.as_ref().and_then(|r| known.assessments.get(r.index).map(|a| (a, r.expiry)));
    let professional = cls.investor_category == "professional";
    let prior = prior_investment_product(&known, catalog);

    let mut found: Vec<Finding> = Vec::new();
    let mut decision = Decision(None);
    let pid = || product.product_id.clone();

    // 1. the product and the investor requirement
    let before = found.len();
    if product.status == ProductStatus::Closed {
        found.push(Finding::NotOnSale { product: pid() });
    }
    if req.amount < product.min_investment {
        found.push(Finding::BelowMinimum { amount: req.amount, minimum: product.min_investment });
    }
    match product.investor_requirement {
        InvestorRequirement::None => {}
        InvestorRequirement::Qualified if !cls.qualified_investor => {
            found.push(Finding::RequiresQualifiedInvestor { product: pid() })
        }
        InvestorRequirement::PrivateFund if !cls.private_fund_qualified => {
            found.push(Finding::RequiresPrivateFundQualified { product: pid() })
        }
        InvestorRequirement::Professional if !professional => {
            found.push(Finding::RequiresProfessional { product: pid() })
        }
        _ => {}
    }
    if found.len() > before {
        decision.decide(Verdict::Prohibited, 1);
    }

    // 2. cn-csrc Art 8: a professional investor matches; steps 3–5 do not apply
    if rules.professional_investor_matches && professional {
        decision.decide(Verdict::Match, 2);
    } else {
        // 3. the assessment
        let before = found.len();
        match (assessment, cls.assessment_status) {
            (None, _) => found.push(Finding::AssessmentMissing),
            (Some((a, expiry)), AssessmentStatus::Expired) => {
                found.push(Finding::AssessmentExpired { assessed: a.assessed_at.date(), expiry })
            }
            (Some((a, _)), AssessmentStatus::Stale) => found.push(Finding::MaterialChange {
                changed: known.client.material_change_at.unwrap_or(day),
                assessed: a.assessed_at.date(),
            }),
            _ => {}
        }
        if rules.first_purchase_requires_branch_assessment && product.line() != BusinessLine::Deposit && prior.is_none()
        {
            if let Some((a, _)) = assessment.filter(|(a, _)| a.channel != Channel::Branch) {
                found.push(Finding::FirstPurchaseNeedsBranchAssessment {
                    assessed: a.assessed_at.date(),
                    channel: a.channel,
                });
            }
        }
        if found.len() > before {
            decision.decide(Verdict::Reassess, 3);
        }

        if let Some((a, _)) = assessment {
            let r = &a.result;
            // 4. the lowest category may buy R1 only
            if r.lowest && product.risk_level > ProductRisk::R1 {
                found.push(Finding::LowestCategory { product_risk: product.risk_level });
                decision.decide(Verdict::Prohibited, 4);
            }

            // 5. mismatches
            let risk = product.risk_level.rank() > r.level.rank();
            if risk {
                found.push(Finding::RiskExceedsTolerance { product_risk: product.risk_level, client_level: r.level });
            }
            let mut other = false;
            if let Some(client_months) = r.horizon_months.filter(|h| *h != 0) {
                if product.horizon_months != 0 && product.horizon_months > client_months {
                    found.push(Finding::HorizonExceeds { product_months: product.horizon_months, client_months });
                    other = true;
                }
            }
            if let (Some(accepted), Some(variety)) = (&r.varieties, product.variety()) {
                if !accepted.contains(&variety) {
                    found.push(Finding::VarietyNotAccepted { variety, accepted: accepted.clone() });
                    other = true;
                }
            }
            if risk || other {
                match (rules.mismatch_policy, req.initiated_by) {
                    (MismatchPolicy::RiskProhibits, _) => {
                        decision.decide(if risk { Verdict::Prohibited } else { Verdict::Warn }, 5)
                    }
                    (MismatchPolicy::ByInitiator, InitiatedBy::Advisor) => {
                        found.push(Finding::AdvisorInitiatedMismatch);
                        decision.decide(Verdict::Prohibited, 5);
                    }
                    (MismatchPolicy::ByInitiator, InitiatedBy::Client) => decision.decide(Verdict::Warn, 5),
                }
            }
        }
    }

    // 6. otherwise match
    decision.decide(Verdict::Match, 6);
    let (verdict, step) = decision.0.unwrap_or((Verdict::Match, 6));

    // obligations: only for a sale
    let mut obligations = Vec::new();
    if verdict.is_sale() {
        let warn = verdict == Verdict::Warn;
        let ordinary = !professional;
        if ordinary {
            obligations.push("risk_disclosure");
        }
        if warn {
            obligations.push("special_risk_warning");
            obligations.push("client_confirmation");
        }
        let at_branch = req.channel == Channel::Branch;
        let dual = match rules.dual_recording {
            DualRecording::NonDepositSalesAtBranch => at_branch && product.line() != BusinessLine::Deposit,
            DualRecording::WarnsAtBranch => at_branch && warn,
        };
        if dual {
            obligations.push("dual_recording");
        }
        if warn && req.channel == Channel::Online {
            obligations.push("electronic_trace");
        }
        if ordinary && rules.enhanced_care_levels.contains(&product.risk_level) {
            obligations.push("enhanced_care");
        }
        if cls.age.is_some_and(|a| i64::from(a) >= i64::from(rules.elderly_age)) {
            obligations.push("elderly_special_care");
        }
    }

    let facts = CheckFacts {
        regime: rules.regime.clone(),
        as_of: day,
        investor_category: cls.investor_category.clone(),
        qualified_investor: cls.qualified_investor,
        private_fund_qualified: cls.private_fund_qualified,
        aum: cls.aum,
        age: cls.age,
        material_change_at: known.client.material_change_at,
        assessment_status: cls.assessment_status.as_str().to_string(),
        assessment: assessment.map(|(a, expiry)| AssessmentFacts {
            questionnaire_id: a.questionnaire_id.clone(),
            assessed_at: a.assessed_at,
            channel: a.channel,
            level: a.result.level,
            lowest: a.result.lowest,
            horizon_months: a.result.horizon_months,
            varieties: a.result.varieties.clone(),
            expiry,
        }),
        prior_investment_product: prior,
        product: ProductFacts {
            product_id: product.product_id.clone(),
            category: product.category,
            line: product.line(),
            variety: product.variety(),
            risk_level: product.risk_level,
            horizon_months: product.horizon_months,
            min_investment: product.min_investment,
            investor_requirement: product.investor_requirement,
            status: product.status,
        },
        decided_at_step: step,
    };

    CheckOutcome {
        verdict,
        reasons: found.iter().map(|f| Reason { code: f.code(), message: f.message(lang) }).collect(),
        obligations,
        rule_pack: pack.id.clone(),
        rule_version: pack.version.clone(),
        facts,
    }
}

/// An investment product (wealth or insurance line) the client bought (a `buy`
/// transaction) or held with value > 0 in any snapshot of `known`: the first
/// found, by id. Deposits are not investment products, nor are credit products
/// (a loan is not a purchase).
fn prior_investment_product(known: &ClientBook, catalog: &Catalog) -> Option<String> {
    let investment =
        |i: u32| catalog.get(i).filter(|p| matches!(p.line(), BusinessLine::Wealth | BusinessLine::Insurance));
    known
        .transactions
        .iter()
        .filter(|t| t.kind == TxnKind::Buy)
        .filter_map(|t| t.product)
        .find_map(investment)
        .or_else(|| {
            known.holdings.iter().filter(|h| h.market_value > Decimal::ZERO).find_map(|h| investment(h.product))
        })
        .map(|p| p.product_id.clone())
}

#[cfg(test)]
mod tests;
