//! The per-client classification of PRODUCT.md 3.

use crate::book::{txn_line, AssessmentRow, BookWindow, Catalog, ClientBook};
use crate::explain::{Explanation, ExplanationWriter, RuleRef};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use std::collections::HashMap;
use tierwise_domain::{add_months_clamped, age_at, BusinessLine, ClientKind, Goal, ProductRisk, RiskLevel, TxnKind};
use tierwise_rules::expr::Value;
use tierwise_rules::{DimensionRules, Fact, Pack, RuleDim, RULE_DIMS};

/// 评估状态: the first of these that holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AssessmentStatus {
    Missing,
    Expired,
    Stale,
    Expiring,
    Valid,
}

impl AssessmentStatus {
    pub const ALL: [AssessmentStatus; 5] = [
        AssessmentStatus::Missing,
        AssessmentStatus::Expired,
        AssessmentStatus::Stale,
        AssessmentStatus::Expiring,
        AssessmentStatus::Valid,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            AssessmentStatus::Missing => "missing",
            AssessmentStatus::Expired => "expired",
            AssessmentStatus::Stale => "stale",
            AssessmentStatus::Expiring => "expiring",
            AssessmentStatus::Valid => "valid",
        }
    }
    pub fn parse(s: &str) -> Option<AssessmentStatus> {
        AssessmentStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The status on `d` of an assessment taken on `assessed` that expires on
    /// `expiry` (PRODUCT.md 3: expired, stale, expiring, valid — the first
    /// that holds). A material change counts only when it is after the
    /// assessment and known on `d`.
    pub fn of(
        assessed: NaiveDate,
        expiry: NaiveDate,
        material_change: Option<NaiveDate>,
        d: NaiveDate,
        expiring_within_days: u32,
    ) -> AssessmentStatus {
        if d >= expiry {
            AssessmentStatus::Expired
        } else if material_change.is_some_and(|m| m > assessed && m <= d) {
            AssessmentStatus::Stale
        } else if (expiry - d).num_days() <= i64::from(expiring_within_days) {
            AssessmentStatus::Expiring
        } else {
            AssessmentStatus::Valid
        }
    }
}

/// Every dimension of one client as of one date, with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub client_id: String,
    pub as_of: NaiveDate,
    pub aum: Decimal,
    pub asset_tier: String,
    pub risk_level: Option<RiskLevel>,
    pub risk_lowest: bool,
    pub assessment_status: AssessmentStatus,
    pub risk_preference: String,
    /// growth / balanced / preservation / unknown
    pub goal: &'static str,
    pub experience: String,
    /// empty for institutions (and persons without a birth date)
    pub lifecycle: String,
    pub depth: String,
    pub investor_category: String,
    pub qualified_investor: bool,
    pub private_fund_qualified: bool,
    pub churn_risk: String,
    pub value: Decimal,
    /// 1–10, assigned across the run (0 until then)
    pub value_decile: u8,
    pub behaviour_risk: Option<ProductRisk>,
    pub segment: String,
    pub explanation: Explanation,
    /// the assessment the risk dimensions come from, and its expiry
    pub assessment: Option<AssessmentRef>,
    /// age in full years at the date (persons with a birth date)
    pub age: Option<i32>,
}

/// Which assessment counted, for the suitability check and the explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentRef {
    pub index: usize,
    pub expiry: NaiveDate,
}

/// A compiled pack ready to classify clients.
pub struct Engine<'p> {
    pack: &'p Pack,
    /// questionnaire id → validity months, where the questionnaire sets its own
    validity: HashMap<String, u32>,
    goal_values: [u16; 4],
}

fn num(d: Decimal) -> Value {
    Value::Num(d)
}

impl<'p> Engine<'p> {
    /// `questionnaire_validity`: validity months of questionnaires that set
    /// their own (PRODUCT.md 4); every other assessment uses the pack's.
    pub fn new(pack: &'p Pack, questionnaire_validity: HashMap<String, u32>) -> Engine<'p> {
        let gi = |v: &str| pack.schema.enum_index(Fact::Goal as usize, v).unwrap_or(0);
        Engine {
            pack,
            validity: questionnaire_validity,
            goal_values: [gi("growth"), gi("balanced"), gi("preservation"), gi("unknown")],
        }
    }

    pub fn pack(&self) -> &Pack {
        self.pack
    }

    /// The expiry date of an assessment under this pack.
    pub fn expiry(&self, a: &AssessmentRow) -> NaiveDate {
        let months = self.validity.get(&a.questionnaire_id).copied().unwrap_or(self.pack.validity_months);
        add_months_clamped(a.assessed_at.date(), months)
    }

    /// What of a book a classification as of `d` reads (the rest may be
    /// left unread): the transactions of the longer of the pack's activity
    /// and churn windows, the holdings up to `d`.
    pub fn window(&self, d: NaiveDate) -> BookWindow {
        let days = self.pack.activity_days.max(self.pack.churn_days).max(1);
        BookWindow { as_of: d, transactions_from: d - Duration::days(i64::from(days) - 1) }
    }

    /// Classifies one client as of `d`. The value decile is left 0: it is
    /// relative to the run (see [`crate::ntile_deciles`]).
    pub fn classify(&self, book: &ClientBook, catalog: &Catalog, d: NaiveDate) -> Classification {
        let pack = self.pack;
        let c = &book.client;
        let mut row = vec![Value::Absent; pack.schema.len()];
        let zero = Decimal::ZERO;

        // ---- holdings: the newest snapshot dated ≤ D
        let snapshot = book.snapshot_date(d);
        let (mut aum, mut value) = (zero, zero);
        let (mut counted, mut credit_rows) = (0u32, 0u32);
        let mut lines = [false; 4];
        let raise = |risk: ProductRisk, pid: &str, b: &mut Option<(ProductRisk, String)>| {
            if b.as_ref().is_none_or(|(r, _)| risk > *r) {
                *b = Some((risk, pid.to_string()));
            }
        };
        let mut behaviour: Option<(ProductRisk, String)> = None;
        if let Some(s) = snapshot {
            for h in book.holdings.iter().filter(|h| h.as_of == s) {
                let Some(p) = catalog.get(h.product) else { continue };
                let line = p.line();
                if line == BusinessLine::Credit {
                    credit_rows += 1;
                } else {
                    aum += h.market_value;
                    value += h.market_value * p.annual_fee_rate;
                    counted += 1;
                }
                if h.market_value > zero {
                    lines[line as usize] = true;
                    raise(p.risk_level, &p.product_id, &mut behaviour);
                }
            }
        }

        // ---- transactions: windows by local date, nothing after D
        let activity_from = d - Duration::days(i64::from(pack.activity_days) - 1);
        let churn_from = d - Duration::days(i64::from(pack.churn_days) - 1);
        let (mut trades, mut inflow, mut outflow) = (0u32, zero, zero);
        for t in &book.transactions {
            let day = t.ts.date();
            if day > d || day < activity_from.min(churn_from) {
                continue;
            }
            if day >= activity_from {
                if matches!(t.kind, TxnKind::Buy | TxnKind::Sell | TxnKind::Redeem) {
                    trades += 1;
                }
                if let Some(line) = txn_line(t, catalog) {
                    lines[line as usize] = true;
                }
                if t.kind == TxnKind::Buy {
                    if let Some(p) = t.product.and_then(|i| catalog.get(i)) {
                        raise(p.risk_level, &p.product_id, &mut behaviour);
                    }
                }
            }
            if day >= churn_from {
                match t.kind {
                    TxnKind::Deposit | TxnKind::TransferIn => inflow += t.amount,
                    TxnKind::Withdraw | TxnKind::TransferOut => outflow += t.amount,
                    _ => {}
                }
            }
        }
        let net = outflow - inflow;
        let base = aum + net;
        let ratio = if base > zero { Some(net / base) } else { None };

        // ---- assessment
        let newest = book
            .assessments
            .iter()
            .enumerate()
            .filter(|(_, a)| a.assessed_at.date() <= d)
            .max_by_key(|(_, a)| a.assessed_at);
        let (status, assessment) = match newest {
            None => (AssessmentStatus::Missing, None),
            Some((i, a)) => {
                let expiry = self.expiry(a);
                let st = AssessmentStatus::of(
                    a.assessed_at.date(),
                    expiry,
                    c.material_change_at,
                    d,
                    pack.expiring_within_days,
                );
                (st, Some((i, a, expiry)))
            }
        };
        let risk_level = assessment.map(|(_, a, _)| a.result.level);
        let risk_lowest = assessment.is_some_and(|(_, a, _)| a.result.lowest);
        let goal = match assessment.and_then(|(_, a, _)| a.result.goal) {
            Some(Goal::Growth) => 0,
            Some(Goal::Balanced) => 1,
            Some(Goal::Preservation) => 2,
            None => 3,
        };

        // ---- person facts
        let kind = c.kind();
        let age = match kind {
            ClientKind::Person => c.birth_date.map(|b| age_at(b, d)),
            ClientKind::Institution => None,
        };
        let or0 = |m: Option<Decimal>| m.unwrap_or(zero);
        let declared = or0(c.declared_financial_assets);
        let financial_assets = declared.max(aum);
        let liabilities = or0(c.declared_liabilities);
        let experience_years = Decimal::from(c.experience_years.unwrap_or(0));
        let lines_used = lines.iter().filter(|u| **u).count();

        // ---- the evaluation row
        let schema = &pack.schema;
        let ei = |f: Fact, v: &str| schema.enum_index(f as usize, v).map(Value::Enum).unwrap_or(Value::Absent);
        row[Fact::Kind as usize] = ei(Fact::Kind, kind.as_str());
        row[Fact::Aum as usize] = num(aum);
        row[Fact::Age as usize] = age.map(|a| num(Decimal::from(a))).unwrap_or(Value::Absent);
        row[Fact::AnnualIncome as usize] = num(or0(c.annual_income));
        row[Fact::DeclaredFinancialAssets as usize] = num(declared);
        row[Fact::DeclaredLiabilities as usize] = num(liabilities);
        row[Fact::NetAssets as usize] = num(or0(c.net_assets));
        row[Fact::FinancialAssets as usize] = num(financial_assets);
        row[Fact::FinancialNetAssets as usize] = num(financial_assets - liabilities);
        row[Fact::LicensedFinancialInstitution as usize] =
            Value::Bool(c.licensed_financial_institution.unwrap_or(false));
        row[Fact::ExperienceYears as usize] = num(experience_years);
        row[Fact::ProfessionalStatus as usize] = ei(Fact::ProfessionalStatus, c.professional_status().as_str());
        row[Fact::HasPayrollEmployer as usize] = Value::Bool(c.payroll_employer_id.is_some());
        row[Fact::Trades12m as usize] = num(Decimal::from(trades));
        row[Fact::LinesUsed as usize] = num(Decimal::from(lines_used as u32));
        row[Fact::UsesDepositLine as usize] = Value::Bool(lines[BusinessLine::Deposit as usize]);
        row[Fact::UsesWealthLine as usize] = Value::Bool(lines[BusinessLine::Wealth as usize]);
        row[Fact::UsesInsuranceLine as usize] = Value::Bool(lines[BusinessLine::Insurance as usize]);
        row[Fact::UsesCreditLine as usize] = Value::Bool(lines[BusinessLine::Credit as usize]);
        row[Fact::Inflow as usize] = num(inflow);
        row[Fact::Outflow as usize] = num(outflow);
        row[Fact::NetOutflow as usize] = num(net);
        row[Fact::ChurnBase as usize] = num(base);
        row[Fact::ChurnRatio as usize] = ratio.map(num).unwrap_or(Value::Absent);
        row[Fact::Value as usize] = num(value);
        row[Fact::RiskLevel as usize] = risk_level.map(|l| Value::Enum(l as u16)).unwrap_or(Value::Absent);
        row[Fact::RiskLowest as usize] = Value::Bool(risk_lowest);
        row[Fact::AssessmentStatus as usize] = Value::Enum(status as u16);
        row[Fact::Goal as usize] = Value::Enum(self.goal_values[goal]);
        row[Fact::BehaviourRisk as usize] =
            behaviour.as_ref().map(|(r, _)| Value::Enum(*r as u16)).unwrap_or(Value::Absent);

        // ---- rule dimensions, in order
        let mut decided: [Option<u16>; 9] = [None; 9];
        let mut flags = [false; 9];
        let mut refs: [RuleRef; 9] = std::array::from_fn(|_| RuleRef::Default);
        for dim in RULE_DIMS {
            let fi = dim.field_index();
            match pack.rules_of(dim) {
                DimensionRules::Boolean { when } => {
                    let v = when.eval(&row);
                    flags[dim as usize] = v;
                    row[fi] = Value::Bool(v);
                    refs[dim as usize] = RuleRef::Condition;
                }
                DimensionRules::Categorical { rules, default } => {
                    let mut hit = None;
                    for (i, r) in rules.iter().enumerate() {
                        if r.when.eval(&row) {
                            hit = Some((i, r.value));
                            break;
                        }
                    }
                    let (rref, v) = match hit {
                        Some((i, v)) => (RuleRef::Rule(i), Some(v)),
                        None => (RuleRef::Default, *default),
                    };
                    decided[dim as usize] = v;
                    row[fi] = v.map(Value::Enum).unwrap_or(Value::Absent);
                    refs[dim as usize] = rref;
                }
            }
        }
        let value_of =
            |dim: RuleDim| decided[dim as usize].map(|i| pack.value_id(dim, i).to_string()).unwrap_or_default();

        // ---- segment: first match wins
        let mut segment = String::new();
        let mut segment_rule = None;
        for (i, s) in pack.segments.iter().enumerate() {
            if s.when.eval(&row) {
                segment = s.id.clone();
                segment_rule = Some(i);
                break;
            }
        }

        // ---- the explanation: facts, rule references, definition inputs
        let mut ex = ExplanationWriter::new();
        for v in &row[..Fact::COUNT] {
            ex.fact(v);
        }
        ex.rules();
        for dim in RULE_DIMS {
            match refs[dim as usize] {
                RuleRef::Condition => ex.flag(flags[dim as usize]),
                ref r => ex.rule(r),
            }
        }
        if let Some(i) = segment_rule {
            ex.rule(&RuleRef::Rule(i));
        }
        ex.inputs();
        let assessed = assessment.map(|(_, a, _)| a);
        let expiry = assessment.map(|(_, _, e)| e);
        let validity =
            assessed.map(|a| self.validity.get(&a.questionnaire_id).copied().unwrap_or(pack.validity_months));
        let material_change = c.material_change_at.filter(|m| *m <= d);
        ex.input_date("snapshot", snapshot);
        ex.input_int("holdings_counted", Some(i64::from(counted)));
        ex.input_int("credit_rows_excluded", Some(i64::from(credit_rows)));
        ex.input_timestamp("assessed_at", assessed.map(|a| a.assessed_at));
        ex.input_text("questionnaire", assessed.map(|a| a.questionnaire_id.as_str()));
        ex.input_text("channel", assessed.map(|a| a.channel.as_str()));
        ex.input_int("score", assessed.and_then(|a| a.result.score));
        ex.input_int("validity_months", validity.map(i64::from));
        ex.input_date("expiry", expiry);
        ex.input_int("days_to_expiry", expiry.map(|e| (e - d).num_days()));
        ex.input_date("material_change_at", material_change);
        ex.input_text("product", behaviour.as_ref().map(|(_, p)| p.as_str()));
        let ex = ex.finish();

        Classification {
            client_id: c.client_id.clone(),
            as_of: d,
            aum,
            asset_tier: value_of(RuleDim::AssetTier),
            risk_level,
            risk_lowest,
            assessment_status: status,
            risk_preference: value_of(RuleDim::RiskPreference),
            goal: ["growth", "balanced", "preservation", "unknown"][goal],
            experience: value_of(RuleDim::Experience),
            lifecycle: value_of(RuleDim::Lifecycle),
            depth: value_of(RuleDim::Depth),
            investor_category: value_of(RuleDim::InvestorCategory),
            qualified_investor: flags[RuleDim::QualifiedInvestor as usize],
            private_fund_qualified: flags[RuleDim::PrivateFundQualified as usize],
            churn_risk: value_of(RuleDim::ChurnRisk),
            value,
            value_decile: 0,
            behaviour_risk: behaviour.map(|(r, _)| r),
            segment,
            explanation: ex,
            assessment: assessment.map(|(i, _, e)| AssessmentRef { index: i, expiry: e }),
            age,
        }
    }
}
