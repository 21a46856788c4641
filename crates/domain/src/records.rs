//! The records of PRODUCT.md 2.1. Absent values are `None`; money is `Money`.

use crate::enums::*;
use crate::{LocalDate, LocalDateTime, Money};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Client {
    pub client_id: String,
    pub kind: Option<ClientKind>,
    pub name: Option<String>,
    pub gender: Option<Gender>,
    pub birth_date: Option<LocalDate>,
    /// PII
    pub id_number: Option<String>,
    /// PII
    pub phone: Option<String>,
    /// PII
    pub email: Option<String>,
    pub occupation: Option<String>,
    pub city: Option<String>,
    pub branch_id: Option<String>,
    pub advisor_id: Option<String>,
    pub onboarded_at: Option<LocalDate>,
    pub household_id: Option<String>,
    /// 3-year average annual income
    pub annual_income: Option<Money>,
    /// across all institutions
    pub declared_financial_assets: Option<Money>,
    pub declared_liabilities: Option<Money>,
    /// institutions only
    pub net_assets: Option<Money>,
    pub licensed_financial_institution: Option<bool>,
    pub experience_years: Option<u32>,
    /// 代发工资: the corporate client paying this client's salary through us
    pub payroll_employer_id: Option<String>,
    pub professional_status: Option<ProfessionalStatus>,
    pub material_change_at: Option<LocalDate>,
}

impl Client {
    pub fn kind(&self) -> ClientKind {
        self.kind.unwrap_or(ClientKind::Person)
    }
    pub fn professional_status(&self) -> ProfessionalStatus {
        self.professional_status.unwrap_or(ProfessionalStatus::Derive)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisor {
    pub advisor_id: String,
    pub name: Option<String>,
    pub title: Option<AdvisorTitle>,
    pub experience_years: Option<u32>,
    pub capacity: Option<u32>,
    pub branch_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub product_id: String,
    pub name: Option<String>,
    pub category: ProductCategory,
    /// explicit variety; `variety()` applies the category default
    pub variety: Option<Variety>,
    pub risk_level: ProductRisk,
    /// 0 = on demand
    pub horizon_months: u32,
    pub min_investment: Money,
    pub investor_requirement: InvestorRequirement,
    pub annual_fee_rate: Money,
    pub status: ProductStatus,
    pub currency: String,
}

impl Product {
    pub fn line(&self) -> BusinessLine {
        self.category.line()
    }
    pub fn variety(&self) -> Option<Variety> {
        self.variety.or(self.category.default_variety())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holding {
    pub client_id: String,
    pub product_id: String,
    pub market_value: Money,
    pub as_of: LocalDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    pub txn_id: String,
    pub client_id: String,
    pub product_id: Option<String>,
    /// local time
    pub ts: LocalDateTime,
    pub kind: TxnKind,
    pub amount: Money,
    pub channel: Option<String>,
}

/// The result of a risk questionnaire (scored here or imported pre-scored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentResult {
    pub level: RiskLevel,
    /// C1 最低类别
    pub lowest: bool,
    /// the score, when scored by a questionnaire here
    pub score: Option<i64>,
    /// investment horizon in months; 0 = unlimited; None = unknown
    pub horizon_months: Option<u32>,
    /// accepted varieties; None = unknown
    pub varieties: Option<Vec<Variety>>,
    pub goal: Option<Goal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub client_id: String,
    pub questionnaire_id: String,
    /// local time
    pub assessed_at: LocalDateTime,
    pub channel: Channel,
    /// `q1=A;q2=B,C` as given, when scored from answers
    pub answers: Option<String>,
    pub result: AssessmentResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub client_id: String,
    pub advisor_id: Option<String>,
    pub at: LocalDateTime,
    pub channel: InteractionChannel,
    pub topic: Option<String>,
    pub outcome: Option<String>,
}

/// Formats accepted varieties as stored and imported: `fixed_income|equity`.
pub fn format_varieties(v: &[Variety]) -> String {
    v.iter().map(|x| x.as_str()).collect::<Vec<_>>().join("|")
}

/// Parses `fixed_income|equity` (duplicates are removed, order kept).
pub fn parse_varieties(s: &str) -> Result<Vec<Variety>, crate::ParseError> {
    let mut out = Vec::new();
    for part in s.split('|') {
        let v = Variety::parse(part.trim())?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}
