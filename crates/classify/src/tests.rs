//! Table-driven tests of PRODUCT.md 3, one group per dimension, with the
//! boundary of every threshold.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::*;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;
use tierwise_domain::*;
use tierwise_rules::Pack;

fn d(s: &str) -> NaiveDate {
    parse_date(s).unwrap()
}
fn t(s: &str) -> LocalDateTime {
    parse_timestamp(s, chrono_tz_shanghai()).unwrap()
}
fn chrono_tz_shanghai() -> chrono_tz::Tz {
    chrono_tz::Asia::Shanghai
}
fn m(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn pack(name: &str) -> Pack {
    tierwise_rules::load(name, None).unwrap().0
}

fn product(id: &str, cat: ProductCategory, risk: ProductRisk, fee: &str) -> Product {
    Product {
        product_id: id.into(),
        name: None,
        category: cat,
        variety: None,
        risk_level: risk,
        horizon_months: 0,
        min_investment: Decimal::ZERO,
        investor_requirement: InvestorRequirement::None,
        annual_fee_rate: m(fee),
        status: ProductStatus::OnSale,
        currency: "CNY".into(),
    }
}

fn catalog() -> Catalog {
    Catalog::new(vec![
        product("DEP", ProductCategory::Deposit, ProductRisk::R1, "0"),
        product("BOND", ProductCategory::BondFund, ProductRisk::R2, "0.005"),
        product("EQ", ProductCategory::EquityFund, ProductRisk::R4, "0.015"),
        product("LOAN", ProductCategory::Loan, ProductRisk::R1, "0.04"),
        product("INS", ProductCategory::Insurance, ProductRisk::R2, "0.01"),
        product("FUT", ProductCategory::Futures, ProductRisk::R5, "0.002"),
    ])
}

struct B {
    book: ClientBook,
    cat: Catalog,
}

fn person() -> B {
    let client = Client { client_id: "C1".into(), birth_date: Some(d("1980-06-15")), ..Default::default() };
    B { book: ClientBook { client, ..Default::default() }, cat: catalog() }
}

impl B {
    fn hold(mut self, pid: &str, mv: &str, as_of: &str) -> B {
        let product = self.cat.index_of(pid).unwrap();
        self.book.holdings.push(HoldingRow { product, market_value: m(mv), as_of: d(as_of) });
        self
    }
    fn txn(mut self, kind: TxnKind, amount: &str, ts: &str, pid: Option<&str>) -> B {
        let product = pid.map(|p| self.cat.index_of(p).unwrap());
        self.book.transactions.push(TxnRow { ts: t(ts), kind, amount: m(amount), product });
        self
    }
    fn assess(mut self, level: RiskLevel, at: &str) -> B {
        self.book.assessments.push(AssessmentRow {
            questionnaire_id: "cn-default-2025".into(),
            assessed_at: t(at),
            channel: Channel::Branch,
            result: AssessmentResult {
                level,
                lowest: false,
                score: None,
                horizon_months: None,
                varieties: None,
                goal: Some(Goal::Growth),
            },
        });
        self
    }
    fn client(mut self, f: impl FnOnce(&mut Client)) -> B {
        f(&mut self.book.client);
        self
    }
    fn at(&self, pack_name: &str, on: &str) -> Classification {
        let p = pack(pack_name);
        Engine::new(&p, HashMap::new()).classify(&self.book, &self.cat, d(on))
    }
    fn bank(&self, on: &str) -> Classification {
        self.at("cn-bank", on)
    }
}

const D: &str = "2025-06-30";

#[test]
fn aum_sums_the_newest_snapshot_on_or_before_d_credit_excluded() {
    let cases: &[(B, &str)] = &[
        (person(), "0"),
        (person().hold("DEP", "100", "2025-03-31").hold("BOND", "50", "2025-03-31"), "150"),
        // only the newest snapshot counts, not the sum of all
        (person().hold("DEP", "100", "2025-03-31").hold("DEP", "70", "2025-06-30"), "70"),
        // a snapshot dated after D is ignored
        (person().hold("DEP", "100", "2025-03-31").hold("DEP", "999", "2025-07-01"), "100"),
        // credit products are liabilities, never AUM
        (person().hold("DEP", "100", "2025-06-30").hold("LOAN", "5000", "2025-06-30"), "100"),
        // a newest snapshot holding only a loan gives 0
        (person().hold("DEP", "100", "2025-03-31").hold("LOAN", "5000", "2025-06-30"), "0"),
    ];
    for (i, (b, aum)) in cases.iter().enumerate() {
        assert_eq!(b.bank(D).aum, m(aum), "case {i}");
    }
}

#[test]
fn asset_tier_thresholds_are_inclusive_lower_bounds() {
    for (aum, tier) in
        [("499999.99", "mass"), ("500000", "wealth"), ("9999999.99", "wealth"), ("10000000", "hnw"), ("0", "mass")]
    {
        let b = person().hold("DEP", aum, D);
        assert_eq!(b.bank(D).asset_tier, tier, "aum {aum}");
    }
}

#[test]
fn assessment_status_expiry_date_itself_is_expired() {
    // (assessed, evaluation date, pack, status)
    let cases = [
        ("2024-06-30T10:00:00", "2025-06-30", "cn-bank", AssessmentStatus::Expired),
        ("2024-06-30T10:00:00", "2025-06-29", "cn-bank", AssessmentStatus::Expiring),
        ("2024-02-29T10:00:00", "2025-02-28", "cn-bank", AssessmentStatus::Expired),
        ("2024-02-29T10:00:00", "2025-02-27", "cn-bank", AssessmentStatus::Expiring),
        // expiring when expiry − D ≤ 30 days
        ("2024-07-30T10:00:00", "2025-06-30", "cn-bank", AssessmentStatus::Expiring),
        ("2024-07-31T10:00:00", "2025-06-30", "cn-bank", AssessmentStatus::Valid),
        // cn-csrc keeps an assessment 24 months
        ("2024-06-30T10:00:00", "2025-06-30", "cn-csrc", AssessmentStatus::Valid),
        ("2023-06-30T10:00:00", "2025-06-30", "cn-csrc", AssessmentStatus::Expired),
        // an assessment after D does not count
        ("2025-07-01T09:00:00", "2025-06-30", "cn-bank", AssessmentStatus::Missing),
    ];
    for (at, on, p, want) in cases {
        let c = person().assess(RiskLevel::C3, at).at(p, on);
        assert_eq!(c.assessment_status, want, "{at} on {on} under {p}");
    }
    assert_eq!(person().bank(D).assessment_status, AssessmentStatus::Missing);
}

#[test]
fn material_change_after_the_assessment_makes_it_stale_unless_expired() {
    let cases = [
        ("2025-01-11", AssessmentStatus::Stale),
        ("2025-01-10", AssessmentStatus::Valid),
        ("2024-12-01", AssessmentStatus::Valid),
    ];
    for (mc, want) in cases {
        let c = person()
            .assess(RiskLevel::C3, "2025-01-10T10:00:00")
            .client(|c| c.material_change_at = Some(d(mc)))
            .bank(D);
        assert_eq!(c.assessment_status, want, "material change {mc}");
    }
    // a material change dated after D is not known on D
    let c = person()
        .assess(RiskLevel::C3, "2025-01-10T10:00:00")
        .client(|c| c.material_change_at = Some(d("2025-07-01")))
        .bank(D);
    assert_eq!(c.assessment_status, AssessmentStatus::Valid);
    // expired wins over stale
    let c = person()
        .assess(RiskLevel::C3, "2024-01-10T10:00:00")
        .client(|c| c.material_change_at = Some(d("2024-05-01")))
        .bank(D);
    assert_eq!(c.assessment_status, AssessmentStatus::Expired);
}

#[test]
fn risk_level_and_preference_come_from_the_newest_assessment() {
    for (lvl, pref) in [
        (RiskLevel::C1, "conservative"),
        (RiskLevel::C2, "conservative"),
        (RiskLevel::C3, "balanced"),
        (RiskLevel::C4, "aggressive"),
        (RiskLevel::C5, "aggressive"),
    ] {
        let c = person().assess(RiskLevel::C1, "2024-01-01T09:00:00").assess(lvl, "2025-05-01T09:00:00").bank(D);
        assert_eq!(c.risk_level, Some(lvl));
        assert_eq!(c.risk_preference, pref);
        assert_eq!(c.goal, "growth");
    }
    let c = person().bank(D);
    assert_eq!((c.risk_level, c.risk_preference.as_str(), c.goal, c.risk_lowest), (None, "unknown", "unknown", false));
}

#[test]
fn experience_counts_trades_in_the_last_365_days() {
    let trades = |b: B, n: usize, day: &str| {
        (0..n).fold(b, |b, _| b.txn(TxnKind::Buy, "10", &format!("{day}T10:00:00"), Some("BOND")))
    };
    let cases = [
        (5, 24, "2025-06-01", "expert"),
        (5, 23, "2025-06-01", "intermediate"),
        (4, 24, "2025-06-01", "intermediate"),
        (2, 0, "2025-06-01", "intermediate"),
        (1, 6, "2025-06-01", "intermediate"),
        (1, 5, "2025-06-01", "novice"),
        // D−364 is inside the window, D−365 outside
        (1, 6, "2024-07-01", "intermediate"),
        (1, 6, "2024-06-30", "novice"),
        // after D never counts
        (1, 6, "2025-07-01", "novice"),
    ];
    for (years, n, day, want) in cases {
        let b = trades(person().client(|c| c.experience_years = Some(years)), n, day);
        assert_eq!(b.bank(D).experience, want, "{years}y {n} trades on {day}");
    }
}

#[test]
fn lifecycle_by_age_in_full_years() {
    let cases = [
        ("1995-07-01", "starter"), // 29
        ("1995-06-30", "growth"),  // 30 today
        ("1980-07-01", "growth"),  // 44
        ("1980-06-30", "mature"),  // 45
        ("1965-07-01", "mature"),  // 59
        ("1965-06-30", "retired"), // 60
    ];
    for (birth, want) in cases {
        assert_eq!(person().client(|c| c.birth_date = Some(d(birth))).bank(D).lifecycle, want, "born {birth}");
    }
    // a 29 February birthday is reached on 28 February in common years
    let b = person().client(|c| c.birth_date = Some(d("1996-02-29")));
    assert_eq!(b.bank("2026-02-27").lifecycle, "starter");
    assert_eq!(b.bank("2026-02-28").lifecycle, "growth");
    let inst = person().client(|c| c.kind = Some(ClientKind::Institution));
    assert_eq!(inst.bank(D).lifecycle, "");
}

#[test]
fn depth_counts_business_lines_used() {
    let cases = [
        (person().hold("DEP", "100", D), "basic"),
        (person().hold("DEP", "100", D).hold("BOND", "100", D), "comprehensive"),
        (
            person().hold("DEP", "100", D).hold("BOND", "100", D).client(|c| c.payroll_employer_id = Some("E1".into())),
            "ecosystem",
        ),
        // a zero-value holding does not use its line
        (person().hold("DEP", "100", D).hold("BOND", "0", D), "basic"),
        // a cash transaction uses the deposit line
        (person().hold("BOND", "100", D).txn(TxnKind::Deposit, "5", "2025-01-01T10:00:00", None), "comprehensive"),
        // a loan is the credit line
        (person().hold("DEP", "100", D).hold("LOAN", "100", D), "comprehensive"),
        // a transaction older than 365 days does not count
        (person().hold("BOND", "100", D).txn(TxnKind::Deposit, "5", "2024-06-30T10:00:00", None), "basic"),
        // payroll without two lines stays basic
        (person().hold("DEP", "100", D).client(|c| c.payroll_employer_id = Some("E1".into())), "basic"),
    ];
    for (i, (b, want)) in cases.iter().enumerate() {
        assert_eq!(b.bank(D).depth, *want, "case {i}");
    }
}

#[test]
fn csrc_art8_professional_investor_criteria() {
    let p = |f: fn(&mut Client)| person().client(f);
    let cases: Vec<(B, &str)> = vec![
        (p(|c| c.professional_status = Some(ProfessionalStatus::Approved)), "professional"),
        (
            p(|c| {
                c.professional_status = Some(ProfessionalStatus::OptedOut);
                c.kind = Some(ClientKind::Institution);
                c.licensed_financial_institution = Some(true);
            }),
            "ordinary",
        ),
        (
            p(|c| {
                c.kind = Some(ClientKind::Institution);
                c.licensed_financial_institution = Some(true);
            }),
            "professional",
        ),
        (
            p(|c| {
                c.kind = Some(ClientKind::Institution);
                c.net_assets = Some(m("20000000"));
                c.declared_financial_assets = Some(m("10000000"));
                c.experience_years = Some(2);
            }),
            "professional",
        ),
        (
            p(|c| {
                c.kind = Some(ClientKind::Institution);
                c.net_assets = Some(m("19999999.99"));
                c.declared_financial_assets = Some(m("10000000"));
                c.experience_years = Some(2);
            }),
            "ordinary",
        ),
        (
            p(|c| {
                c.declared_financial_assets = Some(m("5000000"));
                c.experience_years = Some(2);
            }),
            "professional",
        ),
        (
            p(|c| {
                c.annual_income = Some(m("500000"));
                c.experience_years = Some(2);
            }),
            "professional",
        ),
        (
            p(|c| {
                c.annual_income = Some(m("500000"));
                c.experience_years = Some(1);
            }),
            "ordinary",
        ),
        (
            p(|c| {
                c.declared_financial_assets = Some(m("4999999.99"));
                c.experience_years = Some(10);
            }),
            "ordinary",
        ),
        // financial assets are max(declared, aum)
        (p(|c| c.experience_years = Some(3)).hold("BOND", "5000000", D), "professional"),
    ];
    for (i, (b, want)) in cases.iter().enumerate() {
        assert_eq!(b.bank(D).investor_category, *want, "case {i}");
    }
}

#[test]
fn asset_management_rules_art5_qualified_investor() {
    let cases: Vec<(B, bool)> = vec![
        (
            person().client(|c| {
                c.experience_years = Some(2);
                c.declared_financial_assets = Some(m("3500000"));
                c.declared_liabilities = Some(m("500000"));
            }),
            true,
        ),
        (
            person().client(|c| {
                c.experience_years = Some(2);
                c.declared_financial_assets = Some(m("3500000"));
                c.declared_liabilities = Some(m("500000.01"));
            }),
            false,
        ),
        (
            person().client(|c| {
                c.experience_years = Some(2);
                c.annual_income = Some(m("400000"));
            }),
            true,
        ),
        (
            person().client(|c| {
                c.experience_years = Some(1);
                c.annual_income = Some(m("400000"));
            }),
            false,
        ),
        (
            person().client(|c| {
                c.experience_years = Some(2);
                c.declared_financial_assets = Some(m("5000000"));
                c.declared_liabilities = Some(m("4000000"));
            }),
            true,
        ),
        (
            person().client(|c| {
                c.kind = Some(ClientKind::Institution);
                c.net_assets = Some(m("10000000"));
            }),
            true,
        ),
        (
            person().client(|c| {
                c.kind = Some(ClientKind::Institution);
                c.net_assets = Some(m("9999999"));
            }),
            false,
        ),
    ];
    for (i, (b, want)) in cases.iter().enumerate() {
        assert_eq!(b.bank(D).qualified_investor, *want, "case {i}");
    }
}

#[test]
fn private_fund_measures_art12_qualified_investor() {
    let cases: Vec<(B, bool)> = vec![
        (person().client(|c| c.declared_financial_assets = Some(m("3000000"))), true),
        (person().client(|c| c.declared_financial_assets = Some(m("2999999.99"))), false),
        (person().client(|c| c.annual_income = Some(m("500000"))), true),
        (person().hold("BOND", "3000000", D), true),
        (
            person().client(|c| {
                c.kind = Some(ClientKind::Institution);
                c.net_assets = Some(m("10000000"));
            }),
            true,
        ),
        (
            person().client(|c| {
                c.kind = Some(ClientKind::Institution);
                c.annual_income = Some(m("900000"));
            }),
            false,
        ),
    ];
    for (i, (b, want)) in cases.iter().enumerate() {
        assert_eq!(b.bank(D).private_fund_qualified, *want, "case {i}");
    }
}

#[test]
fn churn_risk_from_net_outflow_over_90_days() {
    let out = |b: B, amt: &str, ts: &str| b.txn(TxnKind::Withdraw, amt, ts, None);
    let cases = [
        // aum 70, net 30 → base 100, ratio 0.30: high
        (out(person().hold("DEP", "70", D), "30", "2025-06-01T10:00:00"), "high"),
        // ratio 0.29 … medium
        (out(person().hold("DEP", "71", D), "29", "2025-06-01T10:00:00"), "medium"),
        (out(person().hold("DEP", "90", D), "10", "2025-06-01T10:00:00"), "medium"),
        (out(person().hold("DEP", "91", D), "9", "2025-06-01T10:00:00"), "low"),
        // D−89 is inside the window, D−90 outside
        (out(person().hold("DEP", "70", D), "30", "2025-04-02T00:00:00"), "high"),
        (out(person().hold("DEP", "70", D), "30", "2025-04-01T23:59:59"), "low"),
        // base ≤ 0: low
        (out(person(), "30", "2025-06-01T10:00:00"), "high"),
        (person().txn(TxnKind::TransferIn, "30", "2025-06-01T10:00:00", None), "low"),
        // inflows offset outflows
        (
            out(person().hold("DEP", "70", D), "30", "2025-06-01T10:00:00").txn(
                TxnKind::Deposit,
                "30",
                "2025-06-02T10:00:00",
                None,
            ),
            "low",
        ),
        // buys and sells are not flows
        (person().hold("DEP", "70", D).txn(TxnKind::Sell, "30", "2025-06-01T10:00:00", Some("BOND")), "low"),
    ];
    for (i, (b, want)) in cases.iter().enumerate() {
        assert_eq!(b.bank(D).churn_risk, *want, "case {i}");
    }
}

#[test]
fn value_and_behaviour_risk() {
    let c = person().hold("BOND", "1000", D).hold("EQ", "2000", D).hold("LOAN", "100000", D).bank(D);
    assert_eq!(c.value, m("35")); // 1000×0.005 + 2000×0.015; the loan is not counted
    assert_eq!(c.behaviour_risk, Some(ProductRisk::R4));
    // bought in the last 365 days counts even if no longer held
    let c = person().hold("DEP", "10", D).txn(TxnKind::Buy, "5", "2025-01-01T10:00:00", Some("FUT")).bank(D);
    assert_eq!(c.behaviour_risk, Some(ProductRisk::R5));
    // a sale is not a purchase; a zero-value holding is not held
    let c = person().hold("EQ", "0", D).txn(TxnKind::Sell, "5", "2025-01-01T10:00:00", Some("FUT")).bank(D);
    assert_eq!(c.behaviour_risk, None);
}

#[test]
fn segments_first_match_wins() {
    let young = |b: B| b.client(|c| c.birth_date = Some(d("1995-01-01")));
    let old = |b: B| b.client(|c| c.birth_date = Some(d("1950-01-01")));
    let cases = [
        (person().hold("BOND", "10000000", D).assess(RiskLevel::C4, "2025-05-01T10:00:00"), "hnw-growth"),
        (person().hold("BOND", "10000000", D).assess(RiskLevel::C3, "2025-05-01T10:00:00"), "hnw-preserve"),
        (old(person().hold("BOND", "600000", D).assess(RiskLevel::C5, "2025-05-01T10:00:00")), "wealth-growth"),
        (old(person().hold("BOND", "600000", D)), "wealth-retiree"),
        (young(person().hold("BOND", "600000", D)), "wealth-balanced"),
        (person().hold("DEP", "200000", D), "mass-potential"),
        (person().hold("DEP", "199998", D).hold("BOND", "1", D), "mass-engaged"),
        (person().hold("DEP", "199999", D), "mass-basic"),
    ];
    for (b, want) in cases {
        let c = b.bank(D);
        assert_eq!(c.segment, want);
        let line = c.explanation.line(&pack("cn-bank"), "segment").unwrap();
        assert!(matches!(line.rule, RuleRef::Rule(_)));
    }
}

#[test]
fn explanation_names_the_deciding_rule_and_its_inputs() {
    let p = pack("cn-bank");
    let c = person().hold("DEP", "600000", D).bank(D);
    let l = c.explanation.line(&p, "asset_tier").unwrap();
    assert_eq!(l.inputs[0].name, "aum");
    assert_eq!(l.inputs[0].value.as_deref(), Some("600000"));
    let text = render_explanation(
        &p,
        &c.explanation,
        &|k| if k == "asset_tier" { c.asset_tier.clone() } else { String::new() },
        Lang::En,
    );
    let tier = text.iter().find(|l| l.starts_with("Asset tier")).unwrap();
    assert!(tier.contains("aum >= wealth_min (wealth_min = 500000)"), "{tier}");
    assert!(tier.contains("aum = 600000"), "{tier}");
    let back = Explanation::from_stored(c.explanation.stored()).unwrap();
    assert_eq!(back, c.explanation);
}

/// Explanations stored by earlier versions as JSON (v1: the definition
/// inputs as an object by name; v2: an array in a fixed order) read back to
/// the same lines as today's binary v3.
#[test]
fn explanations_stored_as_json_by_versions_1_and_2_read_as_version_3() {
    let p = pack("cn-bank");
    let c = person().hold("DEP", "600000", D).assess(RiskLevel::C3, "2025-02-12T14:20:56").bank(D);
    assert_eq!(c.explanation.stored()[0], 3, "stored as version 3");
    let v3 = c.explanation.to_json_value();
    assert_eq!(v3["v"], 3);
    let x = v3["x"].as_array().unwrap().clone();
    assert_eq!(x.len(), 12);
    assert_eq!(x[3], "2025-02-12 14:20:56", "the timestamp as v2 showed it");
    let mut v2 = v3.clone();
    v2["v"] = 2.into();
    let old2 = Explanation::from_stored(v2.to_string().as_bytes()).unwrap();
    assert_eq!(old2.lines(&p), c.explanation.lines(&p));
    let mut v1 = v2.clone();
    v1["v"] = 1.into();
    let names = crate::explain::INPUTS.iter().map(|n| n.to_string());
    v1["x"] = serde_json::Value::Object(names.zip(x).collect());
    let old1 = Explanation::from_stored(v1.to_string().as_bytes()).unwrap();
    assert_eq!(old1.lines(&p), c.explanation.lines(&p));
    let status = c.explanation.line(&p, "assessment_status").unwrap();
    let expiry = status.inputs.iter().find(|i| i.name == "expiry").unwrap();
    assert_eq!(expiry.value.as_deref(), Some("2026-02-12"));
    let tier = c.explanation.line(&p, "asset_tier").unwrap();
    assert_eq!(tier.inputs[0].value.as_deref(), Some("600000"));
    // neither JSON version's shape is taken for the other
    let mut wrong = v2.clone();
    wrong["v"] = 1.into();
    assert!(Explanation::from_stored(wrong.to_string().as_bytes()).is_err());
    let mut short = v2;
    short["x"] = serde_json::json!(["2025-06-30"]);
    assert!(Explanation::from_stored(short.to_string().as_bytes()).is_err());
}

/// Every prefix of a stored explanation, and one with a byte too many, is
/// refused with an error rather than read as something else.
#[test]
fn a_damaged_binary_explanation_is_refused() {
    let c = person().hold("DEP", "600000", D).assess(RiskLevel::C3, "2025-02-12T14:20:56").bank(D);
    let b = c.explanation.stored();
    assert!(b.len() < 200, "compact: {} bytes", b.len());
    for n in 0..b.len() {
        assert!(Explanation::from_stored(&b[..n]).is_err(), "a prefix of {n} bytes");
    }
    let mut longer = b.to_vec();
    longer.push(0);
    assert!(Explanation::from_stored(&longer).is_err());
    let mut bad_tag = b.to_vec();
    bad_tag[2] = 9; // the first fact's tag
    assert!(Explanation::from_stored(&bad_tag).is_err());
    assert!(Explanation::from_stored(b"not json").is_err());
}

/// Decimals of every scale and sign, large and negative integers, and
/// timestamps with fractions survive the binary form exactly.
#[test]
fn the_binary_form_keeps_every_value_exactly() {
    let p = pack("cn-bank");
    for (value, at) in [
        ("0.01", "2025-02-12T14:20:56"),
        ("79228162514264337593543950", "1970-01-01T00:00:00"),
        ("123456.789012345678", "2025-06-29T23:59:59.123456789"),
    ] {
        let c = person().hold("DEP", value, D).assess(RiskLevel::C3, at).bank(D);
        let v = c.explanation.to_json_value();
        let tier = c.explanation.line(&p, "asset_tier").unwrap();
        assert_eq!(v["f"][1], serde_json::Value::String(value.parse::<rust_decimal::Decimal>().unwrap().to_string()));
        assert!(tier.inputs[0].value.is_some());
        let t = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S%.f").unwrap();
        assert_eq!(v["x"][3], serde_json::Value::String(t.to_string()), "{at}");
        // churn ratio, net outflow: negative and long decimals
        assert_eq!(Explanation::from_stored(c.explanation.stored()).unwrap(), c.explanation);
    }
}

#[test]
fn questionnaire_validity_overrides_the_pack() {
    let p = pack("cn-bank");
    let b = person().assess(RiskLevel::C3, "2024-06-30T10:00:00");
    let e = Engine::new(&p, HashMap::from([("cn-default-2025".to_string(), 24)]));
    assert_eq!(e.classify(&b.book, &b.cat, d(D)).assessment_status, AssessmentStatus::Valid);
}
