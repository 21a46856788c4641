//! The import files of PRODUCT.md 7.3 and their columns, in the order the
//! generator writes them. The importer accepts any column order.

pub const ADVISORS: &[&str] = &["advisor_id", "name", "title", "experience_years", "capacity", "branch_id"];
pub const PRODUCTS: &[&str] = &[
    "product_id",
    "name",
    "category",
    "variety",
    "risk_level",
    "horizon_months",
    "min_investment",
    "investor_requirement",
    "annual_fee_rate",
    "status",
    "currency",
];
pub const CLIENTS: &[&str] = &[
    "client_id",
    "kind",
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "email",
    "occupation",
    "city",
    "branch_id",
    "advisor_id",
    "onboarded_at",
    "household_id",
    "annual_income",
    "declared_financial_assets",
    "declared_liabilities",
    "net_assets",
    "licensed_financial_institution",
    "experience_years",
    "payroll_employer_id",
    "professional_status",
    "material_change_at",
];
pub const HOLDINGS: &[&str] = &["client_id", "product_id", "market_value", "as_of"];
pub const TRANSACTIONS: &[&str] = &["txn_id", "client_id", "product_id", "ts", "kind", "amount", "channel"];
pub const ASSESSMENTS: &[&str] = &[
    "client_id",
    "assessed_at",
    "channel",
    "questionnaire_id",
    "answers",
    "risk_level",
    "lowest",
    "horizon_months",
    "varieties",
    "goal",
];
pub const INTERACTIONS: &[&str] = &["client_id", "advisor_id", "at", "channel", "topic", "outcome"];

/// Every file with its columns, in import order.
pub const FILES: [(&str, &[&str]); 7] = [
    ("advisors.csv", ADVISORS),
    ("products.csv", PRODUCTS),
    ("clients.csv", CLIENTS),
    ("holdings.csv", HOLDINGS),
    ("transactions.csv", TRANSACTIONS),
    ("assessments.csv", ASSESSMENTS),
    ("interactions.csv", INTERACTIONS),
];
