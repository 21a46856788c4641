//! Table-driven tests of PRODUCT.md 5, named after the article or rule they
//! prove, run on the shipped packs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]
use super::*;
use std::collections::HashMap;
use tierwise_classify::{AssessmentRow, HoldingRow, TxnRow};
use tierwise_domain::*;
use tierwise_rules::Pack;

fn d(s: &str) -> NaiveDate {
    parse_date(s).unwrap()
}
fn t(s: &str) -> LocalDateTime {
    parse_timestamp(s, chrono_tz::Asia::Shanghai).unwrap()
}
fn m(s: &str) -> Decimal {
    s.parse().unwrap()
}
fn pack(name: &str) -> Pack {
    tierwise_rules::load(name, None).unwrap().0
}

const BANK: &str = "cn-bank";
const CSRC: &str = "cn-csrc";
/// the time of the checks unless a case says otherwise
const AT: &str = "2025-06-30T10:00:00";

fn product(id: &str, category: ProductCategory, risk: ProductRisk, f: impl FnOnce(&mut Product)) -> Product {
    let mut p = Product {
        product_id: id.into(),
        name: None,
        category,
        variety: None,
        risk_level: risk,
        horizon_months: 0,
        min_investment: m("1000"),
        investor_requirement: InvestorRequirement::None,
        annual_fee_rate: m("0.01"),
        status: ProductStatus::OnSale,
        currency: "CNY".into(),
    };
    f(&mut p);
    p
}

fn catalog() -> Catalog {
    use ProductCategory as C;
    use ProductRisk::*;
    Catalog::new(vec![
        product("DEP", C::Deposit, R1, |_| {}),
        product("SDEP", C::StructuredDeposit, R2, |_| {}),
        product("BOND", C::BondFund, R2, |_| {}),
        product("WFI12", C::WealthFixedIncome, R2, |p| p.horizon_months = 12),
        product("WFI24", C::WealthFixedIncome, R2, |p| p.horizon_months = 24),
        product("MIX", C::MixedFund, R3, |_| {}),
        product("EQ", C::EquityFund, R4, |p| p.horizon_months = 36),
        product("FUT", C::Futures, R5, |_| {}),
        product("INS", C::Insurance, R2, |_| {}),
        product("LOAN", C::Loan, R1, |_| {}),
        product("TRUST", C::Trust, R3, |p| {
            p.min_investment = m("1000000");
            p.investor_requirement = InvestorRequirement::Qualified;
        }),
        product("PF", C::PrivateFund, R3, |p| {
            p.min_investment = m("1000000");
            p.investor_requirement = InvestorRequirement::PrivateFund;
        }),
        product("SN", C::StructuredNote, R3, |p| p.investor_requirement = InvestorRequirement::Professional),
        product("QEQ", C::BondFund, R2, |p| p.variety = Some(Variety::Equity)),
        product("OLD", C::BondFund, R2, |p| p.status = ProductStatus::Closed),
        product("OLDEQ", C::EquityFund, R4, |p| {
            p.status = ProductStatus::Closed;
            p.horizon_months = 36;
            p.min_investment = m("10000");
        }),
    ])
}

struct B {
    book: ClientBook,
    cat: Catalog,
}

/// A person aged 45 at `AT`, with no records.
fn client() -> B {
    let client = Client { client_id: "C1".into(), birth_date: Some(d("1980-06-15")), ..Default::default() };
    B { book: ClientBook { client, ..Default::default() }, cat: catalog() }
}

/// An ordinary client assessed C3 at a branch in January who already holds a bond fund.
fn ready() -> B {
    client().assess(RiskLevel::C3, "2025-01-10T10:00:00", Channel::Branch).hold("BOND", "100000", "2025-03-31")
}

fn professional() -> B {
    client().client(|c| c.professional_status = Some(ProfessionalStatus::Approved))
}

impl B {
    fn assess(self, level: RiskLevel, at: &str, channel: Channel) -> B {
        self.assess_with(level, at, channel, |_| {})
    }
    fn assess_with(mut self, level: RiskLevel, at: &str, channel: Channel, f: impl FnOnce(&mut AssessmentResult)) -> B {
        let mut result = AssessmentResult {
            level,
            lowest: false,
            score: None,
            horizon_months: None,
            varieties: None,
            goal: Some(Goal::Balanced),
        };
        f(&mut result);
        self.book.assessments.push(AssessmentRow {
            questionnaire_id: "cn-default-2025".into(),
            assessed_at: t(at),
            channel,
            result,
        });
        self
    }
    fn hold(mut self, pid: &str, mv: &str, as_of: &str) -> B {
        let product = self.cat.index_of(pid).unwrap();
        self.book.holdings.push(HoldingRow { product, market_value: m(mv), as_of: d(as_of) });
        self
    }
    fn buy(mut self, pid: &str, ts: &str) -> B {
        let product = Some(self.cat.index_of(pid).unwrap());
        self.book.transactions.push(TxnRow { ts: t(ts), kind: TxnKind::Buy, amount: m("1000"), product });
        self
    }
    fn client(mut self, f: impl FnOnce(&mut Client)) -> B {
        f(&mut self.book.client);
        self
    }
    fn request(&self, pid: &str) -> CheckRequest {
        let p = self.cat.by_id(pid).unwrap();
        CheckRequest {
            client_id: self.book.client.client_id.clone(),
            product_id: pid.into(),
            amount: p.min_investment,
            initiated_by: InitiatedBy::Client,
            channel: Channel::Online,
            at: t(AT),
        }
    }
    fn run(&self, pack_name: &str, req: &CheckRequest, lang: Lang) -> CheckOutcome {
        let p = pack(pack_name);
        let engine = Engine::new(&p, HashMap::new());
        let product = self.cat.by_id(&req.product_id).unwrap();
        check(&engine, &self.book, &self.cat, product, req, lang)
    }
    /// A check with the `check` command's defaults: the product minimum,
    /// initiated by the client, online, at `AT`; messages in English.
    fn check(&self, pack_name: &str, pid: &str) -> CheckOutcome {
        self.check_with(pack_name, pid, |_| {})
    }
    fn check_with(&self, pack_name: &str, pid: &str, f: impl FnOnce(&mut CheckRequest)) -> CheckOutcome {
        let mut req = self.request(pid);
        f(&mut req);
        self.run(pack_name, &req, Lang::En)
    }
}

fn by_advisor(r: &mut CheckRequest) {
    r.initiated_by = InitiatedBy::Advisor;
}
fn at_branch(r: &mut CheckRequest) {
    r.channel = Channel::Branch;
}
fn keep(_: &mut CheckRequest) {}

#[track_caller]
fn expect(o: &CheckOutcome, verdict: Verdict, codes: &[&str], case: &str) {
    assert_eq!((o.verdict, o.reason_codes()), (verdict, codes.to_vec()), "{case}: {:#?}", o.reasons);
    for r in &o.reasons {
        assert!(!r.message.is_empty(), "{case}: {} has no message", r.code);
    }
}

// ------------------------------------------------------------------ step 1

#[test]
fn step1_requirements_and_minimum() {
    use Verdict::*;
    // 资管新规 Art 5: experience ≥ 2 years and income ≥ 400,000 (not professional: < 500,000)
    let qualified = || {
        ready().client(|c| {
            c.experience_years = Some(3);
            c.annual_income = Some(m("400000"));
        })
    };
    // 私募办法 Art 12: financial assets ≥ 3,000,000
    let pf_qualified = || ready().client(|c| c.declared_financial_assets = Some(m("3000000")));
    let cases: Vec<(&str, B, &str, fn(&mut CheckRequest), Verdict, &[&str])> = vec![
        ("closed product", ready(), "OLD", keep, Prohibited, &["not_on_sale"]),
        ("at the minimum", qualified(), "TRUST", keep, Match, &[]),
        (
            "a cent below the minimum",
            qualified(),
            "TRUST",
            |r| r.amount = m("999999.99"),
            Prohibited,
            &["below_minimum"],
        ),
        ("above the minimum", qualified(), "TRUST", |r| r.amount = m("2000000"), Match, &[]),
        (
            "qualified product, client not qualified",
            ready(),
            "TRUST",
            keep,
            Prohibited,
            &["requires_qualified_investor"],
        ),
        ("private fund, client not qualified", ready(), "PF", keep, Prohibited, &["requires_private_fund_qualified"]),
        ("private fund, client qualified", pf_qualified(), "PF", keep, Match, &[]),
        (
            "private fund qualification is not 资管 qualification",
            pf_qualified(),
            "TRUST",
            keep,
            Prohibited,
            &["requires_qualified_investor"],
        ),
        ("professional product, ordinary client", ready(), "SN", keep, Prohibited, &["requires_professional"]),
        (
            "professional product, professional client",
            ready().client(|c| c.professional_status = Some(ProfessionalStatus::Approved)),
            "SN",
            keep,
            Match,
            &[],
        ),
        (
            "closed and below the minimum; the mismatch is still reported",
            ready(),
            "OLDEQ",
            |r| r.amount = m("1"),
            Prohibited,
            &["not_on_sale", "below_minimum", "risk_exceeds_tolerance"],
        ),
        // step 1 decides before the missing assessment, which is still reported
        ("closed, never assessed", client(), "OLD", keep, Prohibited, &["not_on_sale", "assessment_missing"]),
    ];
    for (case, b, pid, f, verdict, codes) in cases {
        for pk in [BANK, CSRC] {
            let o = b.check_with(pk, pid, f);
            expect(&o, verdict, codes, &format!("{pk}: {case}"));
            if verdict == Prohibited {
                assert_eq!(o.facts.decided_at_step, 1, "{pk}: {case}");
                assert!(o.obligations.is_empty(), "{pk}: {case}");
            }
        }
    }
}

// ------------------------------------------------------------------ step 2

#[test]
fn csrc_art8_professional_investor_matches_without_assessment() {
    use Verdict::*;
    let expired_lowest = || {
        professional().assess_with(RiskLevel::C1, "2020-01-01T10:00:00", Channel::Online, |r| {
            r.lowest = true;
            r.horizon_months = Some(1);
            r.varieties = Some(vec![Variety::FixedIncome]);
        })
    };
    let cases: Vec<(&str, B, &str, &str, fn(&mut CheckRequest), Verdict, &[&str])> = vec![
        ("never assessed, R5", professional(), CSRC, "FUT", by_advisor, Match, &[]),
        // steps 3–5 do not apply at all: no reasons from them
        ("expired lowest-category assessment", expired_lowest(), CSRC, "EQ", by_advisor, Match, &[]),
        ("step 1 still applies", professional(), CSRC, "OLD", keep, Prohibited, &["not_on_sale"]),
        (
            "licensed institution",
            client().client(|c| {
                c.kind = Some(ClientKind::Institution);
                c.birth_date = None;
                c.licensed_financial_institution = Some(true);
            }),
            CSRC,
            "FUT",
            keep,
            Match,
            &[],
        ),
        // an opted-out client (Art 11) is ordinary: the assessment is needed
        (
            "opted out",
            client().client(|c| {
                c.professional_status = Some(ProfessionalStatus::OptedOut);
                c.licensed_financial_institution = Some(true);
                c.kind = Some(ClientKind::Institution);
            }),
            CSRC,
            "FUT",
            keep,
            Reassess,
            &["assessment_missing"],
        ),
        // the bank regime has no such exemption
        ("cn-bank has no exemption", professional(), BANK, "FUT", keep, Reassess, &["assessment_missing"]),
        (
            "cn-bank: expired lowest-category",
            expired_lowest(),
            BANK,
            "BOND",
            keep,
            Reassess,
            &[
                "assessment_expired",
                "first_purchase_needs_branch_assessment",
                "lowest_category",
                "risk_exceeds_tolerance",
            ],
        ),
    ];
    for (case, b, pk, pid, f, verdict, codes) in cases {
        let o = b.check_with(pk, pid, f);
        expect(&o, verdict, codes, &format!("{pk}: {case}"));
    }
    let o = professional().check(CSRC, "FUT");
    assert_eq!(o.facts.decided_at_step, 2);
    assert_eq!(o.facts.investor_category, "professional");
    // no risk disclosure or enhanced care for a professional investor
    assert!(o.obligations.is_empty(), "{:?}", o.obligations);
}

// ------------------------------------------------------------------ step 3

#[test]
fn assessment_expiry_date_itself_requires_reassessment() {
    use Verdict::*;
    // (pack, assessed at, checked at, verdict, reasons)
    let cases: &[(&str, &str, &str, Verdict, &[&str])] = &[
        (BANK, "2024-06-30T09:00:00", "2025-06-30T08:00:00", Reassess, &["assessment_expired"]),
        (BANK, "2024-06-30T09:00:00", "2025-06-29T23:59:59", Match, &[]),
        // 12 months from 29 February is 28 February
        (BANK, "2024-02-29T09:00:00", "2025-02-28T00:00:01", Reassess, &["assessment_expired"]),
        (BANK, "2024-02-29T09:00:00", "2025-02-27T23:59:59", Match, &[]),
        // cn-csrc: 24 months
        (CSRC, "2023-06-30T09:00:00", "2025-06-30T08:00:00", Reassess, &["assessment_expired"]),
        (CSRC, "2023-06-30T09:00:00", "2025-06-29T23:59:59", Match, &[]),
        (CSRC, "2024-06-30T09:00:00", "2025-06-30T08:00:00", Match, &[]),
        // expiring is still valid
        (BANK, "2024-07-15T09:00:00", "2025-06-30T08:00:00", Match, &[]),
    ];
    for (pk, assessed, at, verdict, codes) in cases {
        let b = client().assess(RiskLevel::C3, assessed, Channel::Branch).hold("BOND", "1000", "2023-01-01");
        let o = b.check_with(pk, "MIX", |r| r.at = t(at));
        expect(&o, *verdict, codes, &format!("{pk}: assessed {assessed}, checked {at}"));
        if *verdict == Reassess {
            assert!(o.obligations.is_empty());
        }
    }
    let b = client().assess(RiskLevel::C3, "2024-06-30T09:00:00", Channel::Branch).hold("BOND", "1", "2024-01-01");
    let o = b.check(BANK, "MIX");
    assert_eq!(
        o.reasons[0].message,
        "the risk assessment of 2024-06-30 expired on 2025-06-30: the client must be reassessed"
    );
    let o = b.run(BANK, &b.request("MIX"), Lang::Zh);
    assert!(o.reasons[0].message.contains("评估已于 2025-06-30 到期"), "{}", o.reasons[0].message);
    assert_eq!(o.facts.assessment_status, "expired");
    assert_eq!(o.facts.assessment.as_ref().unwrap().expiry, d("2025-06-30"));
}

#[test]
fn assessment_missing_requires_assessment() {
    for pk in [BANK, CSRC] {
        for pid in ["DEP", "MIX", "FUT"] {
            let o = client().check(pk, pid);
            expect(&o, Verdict::Reassess, &["assessment_missing"], &format!("{pk} {pid}"));
            assert_eq!(o.facts.decided_at_step, 3);
            assert!(o.obligations.is_empty());
        }
    }
}

#[test]
fn material_change_requires_reassessment() {
    use Verdict::*;
    // (material change date, verdict, reasons)
    let cases: &[(&str, Verdict, &[&str])] = &[
        ("2025-05-01", Reassess, &["material_change"]),
        ("2025-06-30", Reassess, &["material_change"]),
        // on the assessment's own date: not after it
        ("2025-01-10", Match, &[]),
        ("2024-12-31", Match, &[]),
        // not known yet at the check
        ("2025-07-01", Match, &[]),
    ];
    for (changed, verdict, codes) in cases {
        let b = ready().client(|c| c.material_change_at = Some(d(changed)));
        for pk in [BANK, CSRC] {
            expect(&b.check(pk, "MIX"), *verdict, codes, &format!("{pk}: changed {changed}"));
        }
    }
    let b = ready().client(|c| c.material_change_at = Some(d("2025-05-01")));
    let o = b.run(BANK, &b.request("MIX"), Lang::Zh);
    assert_eq!(o.reasons[0].message, "客户于 2025-05-01 发生重大变化，晚于 2025-01-10 的风险承受能力评估，须重新评估");
    // expired wins over stale: one assessment reason
    let b = client()
        .assess(RiskLevel::C3, "2024-01-10T10:00:00", Channel::Branch)
        .hold("BOND", "1", "2024-01-01")
        .client(|c| c.material_change_at = Some(d("2025-05-01")));
    expect(&b.check(BANK, "MIX"), Reassess, &["assessment_expired"], "expired and changed");
}

#[test]
fn bank_first_purchase_needs_branch_assessment() {
    use Verdict::*;
    let online = || client().assess(RiskLevel::C3, "2025-01-10T10:00:00", Channel::Online);
    let cases: Vec<(&str, B, &str, &str, Verdict, &[&str])> = vec![
        (
            "first purchase, assessed online",
            online(),
            BANK,
            "BOND",
            Reassess,
            &["first_purchase_needs_branch_assessment"],
        ),
        ("first purchase of insurance", online(), BANK, "INS", Reassess, &["first_purchase_needs_branch_assessment"]),
        (
            "first purchase, assessed at a branch",
            client().assess(RiskLevel::C3, "2025-01-10T10:00:00", Channel::Branch),
            BANK,
            "BOND",
            Match,
            &[],
        ),
        // the newest assessment counts: an older one at a branch does not help
        (
            "newest online, older at a branch",
            client().assess(RiskLevel::C3, "2024-12-01T10:00:00", Channel::Branch).assess(
                RiskLevel::C3,
                "2025-01-10T10:00:00",
                Channel::Online,
            ),
            BANK,
            "BOND",
            Reassess,
            &["first_purchase_needs_branch_assessment"],
        ),
        ("deposit line is not an investment purchase", online(), BANK, "DEP", Match, &[]),
        ("structured deposit is deposit line", online(), BANK, "SDEP", Match, &[]),
        ("bought a wealth product before", online().buy("MIX", "2025-02-01T10:00:00"), BANK, "BOND", Match, &[]),
        ("bought insurance before", online().buy("INS", "2025-02-01T10:00:00"), BANK, "BOND", Match, &[]),
        ("held a wealth product before", online().hold("BOND", "1", "2024-12-31"), BANK, "MIX", Match, &[]),
        (
            "an old snapshot counts too",
            online().hold("BOND", "1", "2024-06-30").hold("DEP", "5", "2025-03-31"),
            BANK,
            "MIX",
            Match,
            &[],
        ),
        (
            "a holding worth 0 is not held",
            online().hold("BOND", "0", "2024-12-31"),
            BANK,
            "MIX",
            Reassess,
            &["first_purchase_needs_branch_assessment"],
        ),
        (
            "deposits only",
            online().buy("DEP", "2025-02-01T10:00:00").hold("DEP", "100", "2025-03-31"),
            BANK,
            "BOND",
            Reassess,
            &["first_purchase_needs_branch_assessment"],
        ),
        // decision: a loan is not a purchase of an investment product
        (
            "a loan is not a purchase",
            online().buy("LOAN", "2025-02-01T10:00:00").hold("LOAN", "1000", "2025-03-31"),
            BANK,
            "BOND",
            Reassess,
            &["first_purchase_needs_branch_assessment"],
        ),
        (
            "a purchase after the check does not count",
            online().buy("MIX", "2025-06-30T10:00:01"),
            BANK,
            "BOND",
            Reassess,
            &["first_purchase_needs_branch_assessment"],
        ),
        (
            "a purchase at the very time of the check does not count",
            online().buy("MIX", AT),
            BANK,
            "BOND",
            Reassess,
            &["first_purchase_needs_branch_assessment"],
        ),
        // mismatches are still reported
        (
            "first purchase and risk above tolerance",
            online(),
            BANK,
            "EQ",
            Reassess,
            &["first_purchase_needs_branch_assessment", "risk_exceeds_tolerance"],
        ),
        ("cn-csrc has no such rule", online(), CSRC, "BOND", Match, &[]),
    ];
    for (case, b, pk, pid, verdict, codes) in cases {
        expect(&b.check(pk, pid), verdict, codes, &format!("{pk}: {case}"));
    }
    let o = online().check(BANK, "BOND");
    assert_eq!(o.facts.prior_investment_product, None);
    assert_eq!(
        o.reasons[0].message,
        "first purchase of a non-deposit product: the risk assessment must be taken at a branch (the latest, of 2025-01-10, was taken online)"
    );
    assert_eq!(
        online().hold("MIX", "1", "2025-01-01").check(BANK, "BOND").facts.prior_investment_product.as_deref(),
        Some("MIX")
    );
}

// ------------------------------------------------------------------ step 4

#[test]
fn lowest_category_client_only_r1() {
    use Verdict::*;
    let lowest = || {
        client().assess_with(RiskLevel::C1, "2025-01-10T10:00:00", Channel::Branch, |r| r.lowest = true).hold(
            "BOND",
            "1",
            "2025-03-31",
        )
    };
    let cases: Vec<(&str, &str, fn(&mut CheckRequest), Verdict, &[&str])> = vec![
        (BANK, "DEP", keep, Match, &[]),
        (CSRC, "DEP", keep, Match, &[]),
        (BANK, "BOND", keep, Prohibited, &["lowest_category", "risk_exceeds_tolerance"]),
        // step 4 decides before the client-initiated warn of Art 19
        (CSRC, "BOND", keep, Prohibited, &["lowest_category", "risk_exceeds_tolerance"]),
        (
            CSRC,
            "FUT",
            by_advisor,
            Prohibited,
            &["lowest_category", "risk_exceeds_tolerance", "advisor_initiated_mismatch"],
        ),
    ];
    for (pk, pid, f, verdict, codes) in cases {
        let o = lowest().check_with(pk, pid, f);
        expect(&o, verdict, codes, &format!("{pk} {pid}"));
        if verdict == Prohibited {
            assert_eq!(o.facts.decided_at_step, 4);
        }
    }
    // a C1 client without the flag buying R2 is an ordinary mismatch
    let plain_c1 =
        client().assess(RiskLevel::C1, "2025-01-10T10:00:00", Channel::Branch).hold("BOND", "1", "2025-03-31");
    expect(&plain_c1.check(CSRC, "BOND"), Warn, &["risk_exceeds_tolerance"], "C1 without the flag");
    let o = lowest().check(BANK, "MIX");
    assert_eq!(
        o.reasons[0].message,
        "the client is in the lowest risk category and may buy only R1 products; this product is R3"
    );
}

// ------------------------------------------------------------------ step 5

#[test]
fn bank_wealth_rules_risk_above_tolerance_is_prohibited() {
    use Verdict::*;
    let cases: &[(RiskLevel, &str, Verdict, &[&str])] = &[
        (RiskLevel::C3, "MIX", Match, &[]),
        (RiskLevel::C3, "EQ", Prohibited, &["risk_exceeds_tolerance"]),
        (RiskLevel::C4, "EQ", Match, &[]),
        (RiskLevel::C4, "FUT", Prohibited, &["risk_exceeds_tolerance"]),
        (RiskLevel::C5, "FUT", Match, &[]),
        (RiskLevel::C2, "BOND", Match, &[]),
        (RiskLevel::C2, "MIX", Prohibited, &["risk_exceeds_tolerance"]),
    ];
    for (level, pid, verdict, codes) in cases {
        let b = client().assess(*level, "2025-01-10T10:00:00", Channel::Branch).hold("BOND", "1", "2025-03-31");
        // whoever initiates it
        for f in [keep as fn(&mut CheckRequest), by_advisor] {
            let o = b.check_with(BANK, pid, f);
            expect(&o, *verdict, codes, &format!("{level} {pid}"));
            assert!(!o.has_reason("advisor_initiated_mismatch"));
        }
    }
    let b = ready();
    assert_eq!(b.check(BANK, "EQ").reasons[0].message, "product risk R4 is above the client's risk tolerance C3");
    assert_eq!(b.run(BANK, &b.request("EQ"), Lang::Zh).reasons[0].message, "产品风险等级 R4 高于客户风险承受能力 C3");
}

#[test]
fn bank_wealth_rules_horizon_or_variety_only_warns() {
    use Verdict::*;
    let with = |horizon: Option<u32>, varieties: Option<Vec<Variety>>| {
        client()
            .assess_with(RiskLevel::C3, "2025-01-10T10:00:00", Channel::Branch, |r| {
                r.horizon_months = horizon;
                r.varieties = varieties;
            })
            .hold("BOND", "1", "2025-03-31")
    };
    let fixed = || Some(vec![Variety::FixedIncome]);
    let cases: Vec<(&str, B, &str, Verdict, &[&str])> = vec![
        ("horizon equal", with(Some(12), None), "WFI12", Match, &[]),
        ("horizon above", with(Some(12), None), "WFI24", Warn, &["horizon_exceeds"]),
        ("client horizon 0 = unlimited", with(Some(0), None), "WFI24", Match, &[]),
        ("client horizon unknown", with(None, None), "WFI24", Match, &[]),
        ("product on demand", with(Some(1), None), "BOND", Match, &[]),
        ("variety accepted", with(None, fixed()), "WFI12", Match, &[]),
        ("variety not accepted", with(None, fixed()), "MIX", Warn, &["variety_not_accepted"]),
        (
            "the category default variety applies",
            with(None, Some(vec![Variety::Equity])),
            "WFI12",
            Warn,
            &["variety_not_accepted"],
        ),
        ("an explicit variety overrides the default", with(None, fixed()), "QEQ", Warn, &["variety_not_accepted"]),
        ("an explicit variety accepted", with(None, Some(vec![Variety::Equity])), "QEQ", Match, &[]),
        ("no variety accepted", with(None, Some(vec![])), "BOND", Warn, &["variety_not_accepted"]),
        ("varieties unknown", with(None, None), "MIX", Match, &[]),
        (
            "horizon and variety",
            with(Some(12), fixed()),
            "EQ",
            Prohibited,
            &["risk_exceeds_tolerance", "horizon_exceeds", "variety_not_accepted"],
        ),
        ("horizon only", with(Some(6), fixed()), "WFI12", Warn, &["horizon_exceeds"]),
        (
            "both without risk",
            with(Some(6), Some(vec![Variety::Equity])),
            "WFI12",
            Warn,
            &["horizon_exceeds", "variety_not_accepted"],
        ),
    ];
    for (case, b, pid, verdict, codes) in cases {
        for f in [keep as fn(&mut CheckRequest), by_advisor] {
            expect(&b.check_with(BANK, pid, f), verdict, codes, case);
        }
    }
    // credit products have no variety: never a variety mismatch
    let o = with(None, fixed()).check(BANK, "LOAN");
    assert!(!o.has_reason("variety_not_accepted"), "{:?}", o.reasons);
    let b = with(Some(12), fixed());
    assert_eq!(
        b.check(BANK, "WFI24").reasons[0].message,
        "the product's horizon of 24 months exceeds the client's investment horizon of 12 months"
    );
    assert_eq!(
        b.run(BANK, &b.request("MIX"), Lang::Zh).reasons[0].message,
        "产品投资品种（权益类）不在客户可接受的品种（固定收益类）之内"
    );
}

#[test]
fn csrc_art19_client_initiated_mismatch_warns() {
    let horizon = || {
        client().assess_with(RiskLevel::C3, "2025-01-10T10:00:00", Channel::Branch, |r| {
            r.horizon_months = Some(12);
            r.varieties = Some(vec![Variety::FixedIncome, Variety::Equity]);
        })
    };
    let cases: Vec<(B, &str, &[&str])> = vec![
        (ready(), "EQ", &["risk_exceeds_tolerance"]),
        (ready(), "FUT", &["risk_exceeds_tolerance"]),
        (horizon(), "WFI24", &["horizon_exceeds"]),
        (horizon(), "FUT", &["risk_exceeds_tolerance", "variety_not_accepted"]),
    ];
    for (b, pid, codes) in cases {
        let o = b.check(CSRC, pid);
        expect(&o, Verdict::Warn, codes, pid);
        assert_eq!(o.facts.decided_at_step, 5);
        assert!(
            o.obligations.contains(&"special_risk_warning") && o.obligations.contains(&"client_confirmation"),
            "{:?}",
            o.obligations
        );
    }
}

#[test]
fn csrc_art22_advisor_initiated_mismatch_is_prohibited() {
    use Verdict::*;
    let horizon =
        || client().assess_with(RiskLevel::C3, "2025-01-10T10:00:00", Channel::Branch, |r| r.horizon_months = Some(12));
    let cases: Vec<(B, &str, Verdict, &[&str])> = vec![
        (ready(), "EQ", Prohibited, &["risk_exceeds_tolerance", "advisor_initiated_mismatch"]),
        // horizon or variety alone is enough under Art 22
        (horizon(), "WFI24", Prohibited, &["horizon_exceeds", "advisor_initiated_mismatch"]),
        // recommending a matching product is fine
        (ready(), "MIX", Match, &[]),
        (horizon(), "WFI12", Match, &[]),
    ];
    for (b, pid, verdict, codes) in cases {
        for channel in [Channel::Online, Channel::Branch] {
            let o = b.check_with(CSRC, pid, |r| {
                by_advisor(r);
                r.channel = channel;
            });
            expect(&o, verdict, codes, &format!("{pid} {channel}"));
            if verdict == Prohibited {
                assert!(o.obligations.is_empty());
            }
        }
    }
    let b = ready();
    let mut req = b.request("EQ");
    req.initiated_by = InitiatedBy::Advisor;
    let o = b.run(CSRC, &req, Lang::Zh);
    assert!(o.reasons[1].message.contains("第二十二条"), "{}", o.reasons[1].message);
}

#[test]
fn csrc_art20_enhanced_care_for_r4_r5_to_ordinary_investors() {
    let c5 = || client().assess(RiskLevel::C5, "2025-01-10T10:00:00", Channel::Branch).hold("BOND", "1", "2025-03-31");
    let cases: Vec<(&str, B, &str, &str, bool)> = vec![
        (CSRC, c5(), "EQ", "R4 to ordinary", true),
        (CSRC, c5(), "FUT", "R5 to ordinary", true),
        (CSRC, c5(), "MIX", "R3 to ordinary", false),
        // R4 above C3 by the client's own request: warn, still enhanced care
        (CSRC, ready(), "EQ", "R4 warn to ordinary", true),
        (CSRC, professional(), "FUT", "R5 to professional", false),
        (BANK, c5(), "FUT", "cn-bank has no Art 20 obligation", false),
    ];
    for (pk, b, pid, case, care) in cases {
        let o = b.check(pk, pid);
        assert!(o.verdict.is_sale(), "{case}: {:?}", o.verdict);
        assert_eq!(o.obligations.contains(&"enhanced_care"), care, "{case}: {:?}", o.obligations);
    }
}

// ------------------------------------------------------------- all steps

#[test]
fn reasons_from_all_applicable_steps_are_reported() {
    use Verdict::*;
    // expired, lowest category, short horizon, fixed income only, assessed online, never bought
    let worst = || {
        client().assess_with(RiskLevel::C1, "2023-01-10T10:00:00", Channel::Online, |r| {
            r.lowest = true;
            r.horizon_months = Some(12);
            r.varieties = Some(vec![Variety::FixedIncome]);
        })
    };
    let c2 = || client().assess(RiskLevel::C2, "2025-01-10T10:00:00", Channel::Branch).hold("BOND", "1", "2025-03-31");
    let cases: Vec<(&str, B, &str, &str, fn(&mut CheckRequest), Verdict, u8, &[&str])> = vec![
        (
            "cn-bank: every step",
            worst(),
            BANK,
            "OLDEQ",
            |r| r.amount = m("1"),
            Prohibited,
            1,
            &[
                "not_on_sale",
                "below_minimum",
                "assessment_expired",
                "first_purchase_needs_branch_assessment",
                "lowest_category",
                "risk_exceeds_tolerance",
                "horizon_exceeds",
                "variety_not_accepted",
            ],
        ),
        (
            "cn-csrc: every step, by the advisor",
            worst(),
            CSRC,
            "OLDEQ",
            |r| {
                r.amount = m("1");
                by_advisor(r);
            },
            Prohibited,
            1,
            &[
                "not_on_sale",
                "below_minimum",
                "assessment_expired",
                "lowest_category",
                "risk_exceeds_tolerance",
                "horizon_exceeds",
                "variety_not_accepted",
                "advisor_initiated_mismatch",
            ],
        ),
        (
            "cn-bank: reassess before mismatch",
            worst(),
            BANK,
            "EQ",
            keep,
            Reassess,
            3,
            &[
                "assessment_expired",
                "first_purchase_needs_branch_assessment",
                "lowest_category",
                "risk_exceeds_tolerance",
                "horizon_exceeds",
                "variety_not_accepted",
            ],
        ),
        (
            "cn-csrc: reassess before mismatch",
            worst(),
            CSRC,
            "EQ",
            by_advisor,
            Reassess,
            3,
            &[
                "assessment_expired",
                "lowest_category",
                "risk_exceeds_tolerance",
                "horizon_exceeds",
                "variety_not_accepted",
                "advisor_initiated_mismatch",
            ],
        ),
        (
            "cn-bank: mismatch reported with a missing requirement",
            c2(),
            BANK,
            "PF",
            keep,
            Prohibited,
            1,
            &["requires_private_fund_qualified", "risk_exceeds_tolerance"],
        ),
    ];
    for (case, b, pk, pid, f, verdict, step, codes) in cases {
        let o = b.check_with(pk, pid, f);
        expect(&o, verdict, codes, case);
        assert_eq!(o.facts.decided_at_step, step, "{case}");
        assert!(o.obligations.is_empty(), "{case}");
    }
}

#[test]
fn obligations_per_regime() {
    let c3_12m = || {
        client()
            .assess_with(RiskLevel::C3, "2025-01-10T10:00:00", Channel::Branch, |r| r.horizon_months = Some(12))
            .hold("BOND", "1", "2025-03-31")
    };
    let born = |date: &'static str| ready().client(move |c| c.birth_date = Some(d(date)));
    // (case, pack, book, product, channel, expected verdict, obligations)
    let cases: Vec<(&str, &str, B, &str, Channel, Verdict, &[&str])> = vec![
        ("bank match online", BANK, ready(), "MIX", Channel::Online, Verdict::Match, &["risk_disclosure"]),
        (
            "bank match at a branch: 双录 of a non-deposit sale",
            BANK,
            ready(),
            "MIX",
            Channel::Branch,
            Verdict::Match,
            &["risk_disclosure", "dual_recording"],
        ),
        (
            "bank deposit at a branch: no 双录",
            BANK,
            ready(),
            "DEP",
            Channel::Branch,
            Verdict::Match,
            &["risk_disclosure"],
        ),
        (
            "bank warn at a branch",
            BANK,
            c3_12m(),
            "WFI24",
            Channel::Branch,
            Verdict::Warn,
            &["risk_disclosure", "special_risk_warning", "client_confirmation", "dual_recording"],
        ),
        (
            "bank warn online: electronic trace",
            BANK,
            c3_12m(),
            "WFI24",
            Channel::Online,
            Verdict::Warn,
            &["risk_disclosure", "special_risk_warning", "client_confirmation", "electronic_trace"],
        ),
        (
            "csrc match at a branch: no 双录",
            CSRC,
            ready(),
            "MIX",
            Channel::Branch,
            Verdict::Match,
            &["risk_disclosure"],
        ),
        (
            "csrc warn at a branch: 双录",
            CSRC,
            ready(),
            "EQ",
            Channel::Branch,
            Verdict::Warn,
            &["risk_disclosure", "special_risk_warning", "client_confirmation", "dual_recording", "enhanced_care"],
        ),
        (
            "csrc warn online",
            CSRC,
            ready(),
            "EQ",
            Channel::Online,
            Verdict::Warn,
            &["risk_disclosure", "special_risk_warning", "client_confirmation", "electronic_trace", "enhanced_care"],
        ),
        (
            "professional: no risk disclosure",
            BANK,
            ready().client(|c| c.professional_status = Some(ProfessionalStatus::Approved)),
            "MIX",
            Channel::Online,
            Verdict::Match,
            &[],
        ),
        (
            "aged 64 the day before the birthday",
            BANK,
            born("1960-07-01"),
            "MIX",
            Channel::Online,
            Verdict::Match,
            &["risk_disclosure"],
        ),
        (
            "aged 65 on the birthday",
            BANK,
            born("1960-06-30"),
            "MIX",
            Channel::Online,
            Verdict::Match,
            &["risk_disclosure", "elderly_special_care"],
        ),
        (
            "aged 65, csrc",
            CSRC,
            born("1960-06-30"),
            "MIX",
            Channel::Online,
            Verdict::Match,
            &["risk_disclosure", "elderly_special_care"],
        ),
        (
            "aged 90, warn at a branch",
            BANK,
            born("1935-01-01")
                .assess_with(RiskLevel::C3, "2025-02-01T10:00:00", Channel::Branch, |r| r.horizon_months = Some(12)),
            "WFI24",
            Channel::Branch,
            Verdict::Warn,
            &[
                "risk_disclosure",
                "special_risk_warning",
                "client_confirmation",
                "dual_recording",
                "elderly_special_care",
            ],
        ),
        (
            "prohibited: no sale, no obligations",
            BANK,
            born("1935-01-01"),
            "EQ",
            Channel::Branch,
            Verdict::Prohibited,
            &[],
        ),
        (
            "reassess: no sale, no obligations",
            CSRC,
            client().client(|c| c.birth_date = Some(d("1935-01-01"))),
            "FUT",
            Channel::Branch,
            Verdict::Reassess,
            &[],
        ),
    ];
    for (case, pk, b, pid, channel, verdict, obligations) in cases {
        let o = b.check_with(pk, pid, |r| r.channel = channel);
        assert_eq!((o.verdict, o.obligations.clone()), (verdict, obligations.to_vec()), "{case}: {:?}", o.reasons);
    }
}

#[test]
fn check_sees_only_records_before_its_time() {
    use Verdict::*;
    let qualified_later =
        |as_of: &'static str| ready().client(|c| c.experience_years = Some(3)).hold("BOND", "6000000", as_of);
    let cases: Vec<(&str, B, &str, Verdict, &[&str])> = vec![
        // an assessment taken after the check is ignored: the older C3 counts
        (
            "a later assessment is ignored",
            ready().assess(RiskLevel::C5, "2025-06-30T10:00:01", Channel::Branch),
            "EQ",
            Prohibited,
            &["risk_exceeds_tolerance"],
        ),
        (
            "an assessment at the very time is ignored",
            ready().assess(RiskLevel::C5, AT, Channel::Branch),
            "EQ",
            Prohibited,
            &["risk_exceeds_tolerance"],
        ),
        (
            "an assessment just before counts",
            ready().assess(RiskLevel::C5, "2025-06-30T09:59:59", Channel::Branch),
            "EQ",
            Match,
            &[],
        ),
        (
            "only a later assessment: missing",
            client().assess(RiskLevel::C5, "2025-07-01T09:00:00", Channel::Branch),
            "EQ",
            Reassess,
            &["assessment_missing"],
        ),
        // a holding snapshot dated after the check date is ignored (资管新规 Art 5 via aum)
        (
            "a later snapshot is ignored",
            qualified_later("2025-07-01"),
            "TRUST",
            Prohibited,
            &["requires_qualified_investor"],
        ),
        ("a snapshot of the check date counts", qualified_later("2025-06-30"), "TRUST", Match, &[]),
        // the newest snapshot on or before the date counts, not an older bigger one
        (
            "the newest snapshot counts",
            ready().client(|c| c.experience_years = Some(3)).hold("BOND", "6000000", "2025-01-31").hold(
                "BOND",
                "100",
                "2025-05-31",
            ),
            "TRUST",
            Prohibited,
            &["requires_qualified_investor"],
        ),
    ];
    for (case, b, pid, verdict, codes) in cases {
        expect(&b.check(BANK, pid), verdict, codes, case);
    }
    // the age is counted at the check's date
    let b = ready().client(|c| c.birth_date = Some(d("1960-07-01")));
    assert!(!b.check(BANK, "MIX").obligations.contains(&"elderly_special_care"));
    let o = b.check_with(BANK, "MIX", |r| r.at = t("2025-07-01T09:00:00"));
    assert!(o.obligations.contains(&"elderly_special_care"), "{:?}", o.obligations);
    assert_eq!(o.facts.age, Some(65));
}

// ------------------------------------------------------------- output

#[test]
fn check_json_shape_is_exactly_as_specified() {
    let o = ready().check(BANK, "EQ");
    assert_eq!(
        o.to_json(),
        r#"{"verdict":"prohibited","reasons":[{"code":"risk_exceeds_tolerance","message":"product risk R4 is above the client's risk tolerance C3"}],"obligations":[],"rule_pack":"cn-bank","rule_version":"2025.1"}"#
    );
    let o = ready().check_with(CSRC, "EQ", at_branch);
    let v: serde_json::Value = serde_json::from_str(&o.to_json()).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 5);
    for k in ["verdict", "reasons", "obligations", "rule_pack", "rule_version"] {
        assert!(keys.contains(&k), "{k}");
    }
    assert_eq!(v["verdict"], "warn");
    assert_eq!(v["reasons"][0].as_object().unwrap().len(), 2);
    assert_eq!(
        v["obligations"],
        serde_json::json!([
            "risk_disclosure",
            "special_risk_warning",
            "client_confirmation",
            "dual_recording",
            "enhanced_care"
        ])
    );
    assert_eq!(v["rule_pack"], "cn-csrc");
    let o = ready().check(BANK, "MIX");
    assert_eq!(
        o.to_json(),
        r#"{"verdict":"match","reasons":[],"obligations":["risk_disclosure"],"rule_pack":"cn-bank","rule_version":"2025.1"}"#
    );
    for v in Verdict::ALL {
        assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{}\"", v.as_str()));
        assert_eq!(Verdict::parse(v.as_str()), Some(v));
    }
}

#[test]
fn audit_record_holds_request_facts_and_outcome_for_replay() {
    let b = ready().client(|c| c.material_change_at = Some(d("2025-08-01")));
    let mut req = b.request("EQ");
    req.initiated_by = InitiatedBy::Advisor;
    let o = b.run(CSRC, &req, Lang::Zh);
    let a = o.audit_json(&req);
    let mut keys: Vec<&String> = a.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["facts", "outcome", "request"]);
    assert_eq!(a["outcome"], serde_json::from_str::<serde_json::Value>(&o.to_json()).unwrap());
    assert_eq!(a["request"]["at"], "2025-06-30T10:00:00");
    assert_eq!(a["request"]["amount"], "1000");
    assert_eq!(a["request"]["initiated_by"], "advisor");
    assert_eq!(a["facts"]["regime"], "cn-csrc");
    assert_eq!(a["facts"]["as_of"], "2025-06-30");
    assert_eq!(a["facts"]["assessment"]["level"], "C3");
    assert_eq!(a["facts"]["assessment"]["channel"], "branch");
    assert_eq!(a["facts"]["assessment"]["expiry"], "2027-01-10");
    assert_eq!(a["facts"]["assessment_status"], "valid");
    // a change dated after the check was not known to it
    assert_eq!(a["facts"]["material_change_at"], serde_json::Value::Null);
    assert_eq!(a["facts"]["product"]["risk_level"], "R4");
    assert_eq!(a["facts"]["product"]["variety"], "equity");
    assert_eq!(a["facts"]["decided_at_step"], 5);
    // the request replays to the same outcome
    let back: CheckRequest = serde_json::from_value(a["request"].clone()).unwrap();
    assert_eq!(back, req);
    assert_eq!(b.run(CSRC, &back, Lang::Zh), o);
}

#[test]
fn every_code_has_zh_and_en_text() {
    // every reason code can be produced and has a specific message in both languages
    let mut seen = std::collections::BTreeSet::new();
    let worst = || {
        client().assess_with(RiskLevel::C1, "2023-01-10T10:00:00", Channel::Online, |r| {
            r.lowest = true;
            r.horizon_months = Some(12);
            r.varieties = Some(vec![Variety::FixedIncome]);
        })
    };
    let runs: Vec<(B, &str, &str, fn(&mut CheckRequest))> = vec![
        (worst(), BANK, "OLDEQ", |r| r.amount = m("1")),
        (worst(), CSRC, "EQ", by_advisor),
        (ready(), BANK, "TRUST", keep),
        (ready(), BANK, "PF", keep),
        (ready(), BANK, "SN", keep),
        (client(), BANK, "MIX", keep),
        (ready().client(|c| c.material_change_at = Some(d("2025-05-01"))), BANK, "MIX", keep),
    ];
    for (b, pk, pid, f) in runs {
        let mut req = b.request(pid);
        f(&mut req);
        let zh = b.run(pk, &req, Lang::Zh);
        let en = b.run(pk, &req, Lang::En);
        assert_eq!(zh.reason_codes(), en.reason_codes());
        for (z, e) in zh.reasons.iter().zip(&en.reasons) {
            assert!(z.message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{}: {}", z.code, z.message);
            assert!(e.message.is_ascii(), "{}: {}", e.code, e.message);
            assert_ne!(reason_title(z.code, Lang::Zh), "未知原因");
            seen.insert(z.code);
        }
    }
    assert_eq!(seen.len(), REASON_CODES.len(), "{seen:?}");
    assert!(seen.iter().all(|c| REASON_CODES.contains(c)));
    for code in OBLIGATION_CODES {
        assert_ne!(obligation_text(code, Lang::Zh), obligation_text("nope", Lang::Zh), "{code}");
        assert_ne!(obligation_text(code, Lang::En), obligation_text("nope", Lang::En), "{code}");
    }
    assert_eq!(Verdict::Warn.label(Lang::Zh), "警示后可售");
}
