//! The fields a rule may read: the facts computed for a client as of the
//! evaluation date, then the rule-decided dimensions in evaluation order.
//! A rule may read the facts and the dimensions decided before its own.

use crate::expr::FieldType;

macro_rules! facts {
    ($($var:ident = $name:literal : $ty:expr, $doc:literal;)+) => {
        /// A fact about a client as of the evaluation date.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(usize)]
        pub enum Fact { $(#[doc = $doc] $var),+ }
        impl Fact {
            pub const ALL: &'static [Fact] = &[$(Fact::$var),+];
            pub const COUNT: usize = Fact::ALL.len();
            pub fn name(self) -> &'static str { match self { $(Fact::$var => $name),+ } }
            pub fn doc(self) -> &'static str { match self { $(Fact::$var => $doc),+ } }
            pub fn field_type(self) -> FieldType {
                match self { $(Fact::$var => $ty),+ }
            }
        }
    };
}

fn e(values: &[&str], ordered: bool) -> FieldType {
    FieldType::Enum { values: values.iter().map(|s| s.to_string()).collect(), ordered }
}

/// The value lists of enum facts, in their order.
pub const KINDS: &[&str] = &["person", "institution"];
pub const PROFESSIONAL_STATUSES: &[&str] = &["derive", "approved", "opted_out"];
pub const RISK_LEVELS: &[&str] = &["C1", "C2", "C3", "C4", "C5"];
pub const PRODUCT_RISKS: &[&str] = &["R1", "R2", "R3", "R4", "R5"];
pub const ASSESSMENT_STATUSES: &[&str] = &["missing", "expired", "stale", "expiring", "valid"];
pub const GOALS: &[&str] = &["growth", "balanced", "preservation", "unknown"];

facts! {
    Kind = "kind": e(KINDS, false), "person or institution";
    Aum = "aum": FieldType::Num, "assets under management: Σ market value of the newest snapshot ≤ D, credit excluded";
    Age = "age": FieldType::Num, "age in full years at D (absent for institutions and unknown birth dates)";
    AnnualIncome = "annual_income": FieldType::Num, "3-year average annual income (absent = 0)";
    DeclaredFinancialAssets = "declared_financial_assets": FieldType::Num, "declared total financial assets (absent = 0)";
    DeclaredLiabilities = "declared_liabilities": FieldType::Num, "declared liabilities (absent = 0)";
    NetAssets = "net_assets": FieldType::Num, "an institution's net assets (absent = 0)";
    FinancialAssets = "financial_assets": FieldType::Num, "max(declared financial assets, aum)";
    FinancialNetAssets = "financial_net_assets": FieldType::Num, "financial_assets − declared liabilities";
    LicensedFinancialInstitution = "licensed_financial_institution": FieldType::Bool, "a licensed financial institution";
    ExperienceYears = "experience_years": FieldType::Num, "years of investment experience (absent = 0)";
    ProfessionalStatus = "professional_status": e(PROFESSIONAL_STATUSES, false), "derive, approved (Art 11 conversion) or opted_out";
    HasPayrollEmployer = "has_payroll_employer": FieldType::Bool, "a payroll employer (代发工资) is set";
    Trades12m = "trades_12m": FieldType::Num, "count of buy/sell/redeem in the activity window";
    LinesUsed = "lines_used": FieldType::Num, "business lines used (held with value > 0 or transacted in the activity window)";
    UsesDepositLine = "uses_deposit_line": FieldType::Bool, "the deposit line is used";
    UsesWealthLine = "uses_wealth_line": FieldType::Bool, "the wealth line is used";
    UsesInsuranceLine = "uses_insurance_line": FieldType::Bool, "the insurance line is used";
    UsesCreditLine = "uses_credit_line": FieldType::Bool, "the credit line is used";
    Inflow = "inflow": FieldType::Num, "Σ deposit + transfer_in over the churn window";
    Outflow = "outflow": FieldType::Num, "Σ withdraw + transfer_out over the churn window";
    NetOutflow = "net_outflow": FieldType::Num, "outflow − inflow";
    ChurnBase = "churn_base": FieldType::Num, "aum + net_outflow";
    ChurnRatio = "churn_ratio": FieldType::Num, "net_outflow / churn_base (absent when churn_base ≤ 0)";
    Value = "value": FieldType::Num, "Σ market value × annual fee rate over counted holdings";
    RiskLevel = "risk_level": e(RISK_LEVELS, true), "C1–C5 of the newest assessment ≤ D (absent if never assessed)";
    RiskLowest = "risk_lowest": FieldType::Bool, "the lowest-category flag of that assessment";
    AssessmentStatus = "assessment_status": e(ASSESSMENT_STATUSES, false), "missing, expired, stale, expiring or valid";
    Goal = "goal": e(GOALS, false), "the investment goal of the newest assessment";
    BehaviourRisk = "behaviour_risk": e(PRODUCT_RISKS, true), "the highest product risk held or bought (absent if none)";
}

/// The dimensions decided by a pack's ordered rules, in evaluation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum RuleDim {
    AssetTier,
    RiskPreference,
    Experience,
    Lifecycle,
    Depth,
    InvestorCategory,
    QualifiedInvestor,
    PrivateFundQualified,
    ChurnRisk,
}

pub const RULE_DIMS: [RuleDim; 9] = [
    RuleDim::AssetTier,
    RuleDim::RiskPreference,
    RuleDim::Experience,
    RuleDim::Lifecycle,
    RuleDim::Depth,
    RuleDim::InvestorCategory,
    RuleDim::QualifiedInvestor,
    RuleDim::PrivateFundQualified,
    RuleDim::ChurnRisk,
];

impl RuleDim {
    pub fn name(self) -> &'static str {
        match self {
            RuleDim::AssetTier => "asset_tier",
            RuleDim::RiskPreference => "risk_preference",
            RuleDim::Experience => "experience",
            RuleDim::Lifecycle => "lifecycle",
            RuleDim::Depth => "depth",
            RuleDim::InvestorCategory => "investor_category",
            RuleDim::QualifiedInvestor => "qualified_investor",
            RuleDim::PrivateFundQualified => "private_fund_qualified",
            RuleDim::ChurnRisk => "churn_risk",
        }
    }
    /// true/false dimensions take one condition instead of values and rules
    pub fn boolean(self) -> bool {
        matches!(self, RuleDim::QualifiedInvestor | RuleDim::PrivateFundQualified)
    }
    /// its index in a pack's schema
    pub fn field_index(self) -> usize {
        Fact::COUNT + self as usize
    }
}

/// The name of a pack schema field by index (facts, then rule dimensions),
/// as a `'static` string.
pub fn field_name(index: usize) -> Option<&'static str> {
    match Fact::ALL.get(index) {
        Some(f) => Some(f.name()),
        None => RULE_DIMS.get(index - Fact::COUNT).map(|d| d.name()),
    }
}
