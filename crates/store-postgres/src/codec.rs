//! Rows ↔ domain values for PostgreSQL: the column lists and types of every
//! table the store writes with COPY, each record's COPY row, and the readers.

use crate::copy::{CopyRows, EncodeError};
use crate::db;
use chrono::{DateTime, Local, Utc};
use postgres::types::{FromSql, ToSql, Type};
use postgres::Row;
use tierwise_classify::Classification;
use tierwise_domain::*;
use tierwise_store::{StoreError, StoreResult};

pub(crate) fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {v:?}"))
}

/// Column `i` of `r`, with the cause kept when its type does not match.
pub(crate) fn get<'a, T: FromSql<'a>>(r: &'a Row, i: usize) -> StoreResult<T> {
    r.try_get(i).map_err(db)
}

pub(crate) fn en<T>(parse: fn(&str) -> Result<T, ParseError>, s: &str) -> StoreResult<T> {
    parse(s).map_err(|e| StoreError::Corrupt(e.0))
}
pub(crate) fn opt_en<T>(parse: fn(&str) -> Result<T, ParseError>, s: Option<&str>) -> StoreResult<Option<T>> {
    s.map(|v| en(parse, v)).transpose()
}

/// A count stored as BIGINT read back into the domain's u32.
pub(crate) fn count(v: Option<i64>) -> StoreResult<Option<u32>> {
    v.map(|n| u32::try_from(n).map_err(|_| corrupt("count", &n.to_string()))).transpose()
}

/// An instant the program stamped, shown as the SQLite backend shows it:
/// local time with its offset, to the millisecond.
pub(crate) fn stamp(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// A table written through a staging copy: its columns (in COPY order, with
/// their PostgreSQL types), its key, and the key a batch is deduplicated by
/// (the last row of a batch wins, as when rows are upserted one by one).
pub(crate) struct Table {
    pub name: &'static str,
    pub cols: &'static [(&'static str, Type)],
    pub key: &'static [&'static str],
    pub dedupe: &'static [&'static str],
}

impl Table {
    pub fn col_list(&self) -> String {
        self.cols.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
    }
    pub fn types(&self) -> Vec<Type> {
        self.cols.iter().map(|c| c.1.clone()).collect()
    }
    pub fn stage(&self) -> String {
        format!("tw_stage_{}", self.name)
    }
    /// Upserts the staged rows into the table.
    pub fn upsert_sql(&self) -> String {
        let cols = self.col_list();
        let dedupe = self.dedupe.join(", ");
        format!(
            "INSERT INTO {name} ({cols}) SELECT DISTINCT ON ({dedupe}) {cols} FROM {stage} ORDER BY {dedupe}, seq DESC
             {conflict}",
            name = self.name,
            stage = self.stage(),
            conflict = self.on_conflict(),
        )
    }

    /// Upserts one row, its values bound as `$1`, `$2` … in column order
    /// (the parameters a `*_params` function gives).
    pub fn upsert_one_sql(&self) -> String {
        let values = (1..=self.cols.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        format!("INSERT INTO {} ({}) VALUES ({values}) {}", self.name, self.col_list(), self.on_conflict())
    }

    /// `ON CONFLICT (key) DO UPDATE` every other column, where it changes.
    fn on_conflict(&self) -> String {
        let set = self
            .cols
            .iter()
            .filter(|c| !self.key.contains(&c.0))
            .map(|c| format!("{0} = excluded.{0}", c.0))
            .collect::<Vec<_>>()
            .join(", ");
        // A row that would not change is left alone (no new row version, no
        // index entries): a file delivered again rewrites only what changed.
        // NUMERIC compares as text, where 1.0 and 1.00 differ as stored.
        let side =
            |prefix: &str| {
                self.cols
                    .iter()
                    .filter(|c| !self.key.contains(&c.0))
                    .map(|c| {
                        if c.1 == Type::NUMERIC {
                            format!("{prefix}.{}::text", c.0)
                        } else {
                            format!("{prefix}.{}", c.0)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
        format!(
            "ON CONFLICT ({key}) DO UPDATE SET {set} WHERE ({old}) IS DISTINCT FROM ({new})",
            old = side(self.name),
            new = side("excluded"),
            key = self.key.join(", "),
        )
    }
}

/// A row's values in its table's column order, handed to `f` (a COPY row or
/// the parameters of a one-row upsert).
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

pub(crate) const ADVISORS: Table = Table {
    name: "advisors",
    cols: &[
        ("advisor_id", Type::TEXT),
        ("name", Type::TEXT),
        ("title", Type::TEXT),
        ("experience_years", Type::INT8),
        ("capacity", Type::INT8),
        ("branch_id", Type::TEXT),
    ],
    key: &["advisor_id"],
    dedupe: &["advisor_id"],
};

pub(crate) fn copy_advisor(w: &mut CopyRows, r: &Advisor) -> Result<(), EncodeError> {
    w.write(&[
        &r.advisor_id,
        &r.name,
        &r.title.map(|t| t.as_str()),
        &r.experience_years.map(i64::from),
        &r.capacity.map(i64::from),
        &r.branch_id,
    ])
}

pub(crate) const PRODUCTS: Table = Table {
    name: "products",
    cols: &[
        ("product_id", Type::TEXT),
        ("name", Type::TEXT),
        ("category", Type::TEXT),
        ("variety", Type::TEXT),
        ("risk_level", Type::TEXT),
        ("horizon_months", Type::INT8),
        ("min_investment", Type::NUMERIC),
        ("investor_requirement", Type::TEXT),
        ("annual_fee_rate", Type::NUMERIC),
        ("status", Type::TEXT),
        ("currency", Type::TEXT),
    ],
    key: &["product_id"],
    dedupe: &["product_id"],
};

pub(crate) fn copy_product(w: &mut CopyRows, r: &Product) -> Result<(), EncodeError> {
    product_params(r, |p| w.write(p))
}

/// A product's values in `PRODUCTS` column order.
pub(crate) fn product_params<T>(r: &Product, f: impl FnOnce(Params) -> T) -> T {
    f(&[
        &r.product_id,
        &r.name,
        &r.category.as_str(),
        &r.variety.map(|v| v.as_str()),
        &r.risk_level.as_str(),
        &i64::from(r.horizon_months),
        &r.min_investment,
        &r.investor_requirement.as_str(),
        &r.annual_fee_rate,
        &r.status.as_str(),
        &r.currency,
    ])
}

pub(crate) const PRODUCT_COLS: &str = "product_id, name, category, variety, risk_level, horizon_months, min_investment, investor_requirement, annual_fee_rate, status, currency";

pub(crate) fn product_from(r: &Row) -> StoreResult<Product> {
    Ok(Product {
        product_id: get(r, 0)?,
        name: get(r, 1)?,
        category: en(ProductCategory::parse, get(r, 2)?)?,
        variety: opt_en(Variety::parse, get(r, 3)?)?,
        risk_level: en(ProductRisk::parse, get(r, 4)?)?,
        horizon_months: count(Some(get(r, 5)?))?.unwrap_or_default(),
        min_investment: get(r, 6)?,
        investor_requirement: en(InvestorRequirement::parse, get(r, 7)?)?,
        annual_fee_rate: get(r, 8)?,
        status: en(ProductStatus::parse, get(r, 9)?)?,
        currency: get(r, 10)?,
    })
}

pub(crate) const CLIENTS: Table = Table {
    name: "clients",
    cols: &[
        ("client_id", Type::TEXT),
        ("kind", Type::TEXT),
        ("name", Type::TEXT),
        ("gender", Type::TEXT),
        ("birth_date", Type::DATE),
        ("id_number", Type::TEXT),
        ("phone", Type::TEXT),
        ("email", Type::TEXT),
        ("occupation", Type::TEXT),
        ("city", Type::TEXT),
        ("branch_id", Type::TEXT),
        ("advisor_id", Type::TEXT),
        ("onboarded_at", Type::DATE),
        ("household_id", Type::TEXT),
        ("annual_income", Type::NUMERIC),
        ("declared_financial_assets", Type::NUMERIC),
        ("declared_liabilities", Type::NUMERIC),
        ("net_assets", Type::NUMERIC),
        ("licensed_financial_institution", Type::BOOL),
        ("experience_years", Type::INT8),
        ("payroll_employer_id", Type::TEXT),
        ("professional_status", Type::TEXT),
        ("material_change_at", Type::DATE),
    ],
    key: &["client_id"],
    dedupe: &["client_id"],
};

pub(crate) const CLIENT_COLS: &str = "client_id, kind, name, gender, birth_date, id_number, phone, email, occupation, city, branch_id, advisor_id, onboarded_at, household_id, annual_income, declared_financial_assets, declared_liabilities, net_assets, licensed_financial_institution, experience_years, payroll_employer_id, professional_status, material_change_at";

/// The columns of `CLIENT_COLS` that a classification reads, NULL in place
/// of the others (name, gender, PII, occupation, city, onboarding date,
/// household): a run neither reads PII nor sends it over the wire.
pub(crate) const CLIENT_COLS_FOR_BATCH: &str = "client_id, kind, NULL::text, NULL::text, birth_date, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, branch_id, advisor_id, NULL::date, NULL::text, annual_income, declared_financial_assets, declared_liabilities, net_assets, licensed_financial_institution, experience_years, payroll_employer_id, professional_status, material_change_at";

pub(crate) fn copy_client(w: &mut CopyRows, r: &Client) -> Result<(), EncodeError> {
    w.write(&[
        &r.client_id,
        &r.kind().as_str(),
        &r.name,
        &r.gender.map(|g| g.as_str()),
        &r.birth_date,
        &r.id_number,
        &r.phone,
        &r.email,
        &r.occupation,
        &r.city,
        &r.branch_id,
        &r.advisor_id,
        &r.onboarded_at,
        &r.household_id,
        &r.annual_income,
        &r.declared_financial_assets,
        &r.declared_liabilities,
        &r.net_assets,
        &r.licensed_financial_institution,
        &r.experience_years.map(i64::from),
        &r.payroll_employer_id,
        &r.professional_status().as_str(),
        &r.material_change_at,
    ])
}

/// Reads a client from the columns of `CLIENT_COLS`.
pub(crate) fn client_from(r: &Row) -> StoreResult<Client> {
    Ok(Client {
        client_id: get(r, 0)?,
        kind: opt_en(ClientKind::parse, get(r, 1)?)?,
        name: get(r, 2)?,
        gender: opt_en(Gender::parse, get(r, 3)?)?,
        birth_date: get(r, 4)?,
        id_number: get(r, 5)?,
        phone: get(r, 6)?,
        email: get(r, 7)?,
        occupation: get(r, 8)?,
        city: get(r, 9)?,
        branch_id: get(r, 10)?,
        advisor_id: get(r, 11)?,
        onboarded_at: get(r, 12)?,
        household_id: get(r, 13)?,
        annual_income: get(r, 14)?,
        declared_financial_assets: get(r, 15)?,
        declared_liabilities: get(r, 16)?,
        net_assets: get(r, 17)?,
        licensed_financial_institution: get(r, 18)?,
        experience_years: count(get(r, 19)?)?,
        payroll_employer_id: get(r, 20)?,
        professional_status: opt_en(ProfessionalStatus::parse, get(r, 21)?)?,
        material_change_at: get(r, 22)?,
    })
}

pub(crate) const HOLDINGS: Table = Table {
    name: "holdings",
    cols: &[
        ("client_id", Type::TEXT),
        ("as_of", Type::DATE),
        ("product_id", Type::TEXT),
        ("market_value", Type::NUMERIC),
    ],
    key: &["client_id", "as_of", "product_id"],
    dedupe: &["client_id", "as_of", "product_id"],
};

pub(crate) fn copy_holding(w: &mut CopyRows, r: &Holding) -> Result<(), EncodeError> {
    w.write(&[&r.client_id, &r.as_of, &r.product_id, &r.market_value])
}

/// Deduplicated by txn_id alone: a txn_id names one transaction, whichever
/// client it is filed under.
pub(crate) const TRANSACTIONS: Table = Table {
    name: "transactions",
    cols: &[
        ("client_id", Type::TEXT),
        ("txn_id", Type::TEXT),
        ("product_id", Type::TEXT),
        ("ts", Type::TIMESTAMP),
        ("kind", Type::TEXT),
        ("amount", Type::NUMERIC),
        ("channel", Type::TEXT),
    ],
    key: &["client_id", "txn_id"],
    dedupe: &["txn_id"],
};

pub(crate) fn copy_transaction(w: &mut CopyRows, r: &Transaction) -> Result<(), EncodeError> {
    w.write(&[&r.client_id, &r.txn_id, &r.product_id, &r.ts, &r.kind.as_str(), &r.amount, &r.channel])
}

/// Deletes each (txn_id, client_id) pair's txn_id where it is stored under
/// another client: a txn_id re-imported under another client moves. The
/// pairs come as two arrays, so the planner probes the txn_id index per pair
/// (a join against the staging table would scan the whole table per batch).
pub(crate) const MOVE_TRANSACTIONS: &str = "DELETE FROM transactions t
    USING unnest($1::text[], $2::text[]) AS s (txn_id, client_id)
    WHERE t.txn_id = s.txn_id AND t.client_id <> s.client_id";

pub(crate) const ASSESSMENTS: Table = Table {
    name: "assessments",
    cols: &[
        ("client_id", Type::TEXT),
        ("assessed_at", Type::TIMESTAMP),
        ("questionnaire_id", Type::TEXT),
        ("channel", Type::TEXT),
        ("answers", Type::TEXT),
        ("score", Type::INT8),
        ("risk_level", Type::TEXT),
        ("lowest", Type::BOOL),
        ("horizon_months", Type::INT8),
        ("varieties", Type::TEXT),
        ("goal", Type::TEXT),
    ],
    key: &["client_id", "assessed_at"],
    dedupe: &["client_id", "assessed_at"],
};

pub(crate) fn copy_assessment(w: &mut CopyRows, r: &Assessment) -> Result<(), EncodeError> {
    assessment_params(r, |p| w.write(p))
}

/// An assessment's values in `ASSESSMENTS` column order.
pub(crate) fn assessment_params<T>(r: &Assessment, f: impl FnOnce(Params) -> T) -> T {
    f(&[
        &r.client_id,
        &r.assessed_at,
        &r.questionnaire_id,
        &r.channel.as_str(),
        &r.answers,
        &r.result.score,
        &r.result.level.as_str(),
        &r.result.lowest,
        &r.result.horizon_months.map(i64::from),
        &r.result.varieties.as_ref().map(|v| format_varieties(v)),
        &r.result.goal.map(|g| g.as_str()),
    ])
}

pub(crate) const INTERACTIONS: Table = Table {
    name: "interactions",
    cols: &[
        ("client_id", Type::TEXT),
        ("at", Type::TIMESTAMP),
        ("channel", Type::TEXT),
        ("advisor_id", Type::TEXT),
        ("topic", Type::TEXT),
        ("outcome", Type::TEXT),
    ],
    key: &["client_id", "at", "channel"],
    dedupe: &["client_id", "at", "channel"],
};

pub(crate) fn copy_interaction(w: &mut CopyRows, r: &Interaction) -> Result<(), EncodeError> {
    interaction_params(r, |p| w.write(p))
}

/// An interaction's values in `INTERACTIONS` column order.
pub(crate) fn interaction_params<T>(r: &Interaction, f: impl FnOnce(Params) -> T) -> T {
    f(&[&r.client_id, &r.at, &r.channel.as_str(), &r.advisor_id, &r.topic, &r.outcome])
}

/// The results of a run, written with COPY straight into the table.
pub(crate) const CLASSIFICATIONS: &[(&str, Type)] = &[
    ("run_id", Type::INT8),
    ("client_id", Type::TEXT),
    ("aum", Type::NUMERIC),
    ("asset_tier", Type::TEXT),
    ("risk_level", Type::TEXT),
    ("risk_lowest", Type::BOOL),
    ("assessment_status", Type::TEXT),
    ("risk_preference", Type::TEXT),
    ("goal", Type::TEXT),
    ("experience", Type::TEXT),
    ("lifecycle", Type::TEXT),
    ("depth", Type::TEXT),
    ("investor_category", Type::TEXT),
    ("qualified_investor", Type::BOOL),
    ("private_fund_qualified", Type::BOOL),
    ("churn_risk", Type::TEXT),
    ("value", Type::NUMERIC),
    ("behaviour_risk", Type::TEXT),
    ("segment", Type::TEXT),
    ("prev_asset_tier", Type::TEXT),
    ("prev_segment", Type::TEXT),
];

pub(crate) fn copy_classification(
    w: &mut CopyRows,
    run_id: i64,
    c: &Classification,
    prev: Option<&(String, String)>,
) -> Result<(), EncodeError> {
    classification_params(run_id, c, prev, |p| w.write(p))
}

/// A result's values in `CLASSIFICATIONS` column order.
pub(crate) fn classification_params<T>(
    run_id: i64,
    c: &Classification,
    prev: Option<&(String, String)>,
    f: impl FnOnce(Params) -> T,
) -> T {
    f(&[
        &run_id,
        &c.client_id,
        &c.aum,
        &c.asset_tier,
        &c.risk_level.map(|l| l.as_str()).unwrap_or(""),
        &c.risk_lowest,
        &c.assessment_status.as_str(),
        &c.risk_preference,
        &c.goal,
        &c.experience,
        &c.lifecycle,
        &c.depth,
        &c.investor_category,
        &c.qualified_investor,
        &c.private_fund_qualified,
        &c.churn_risk,
        &c.value,
        &c.behaviour_risk.map(|r| r.as_str()).unwrap_or(""),
        &c.segment,
        &prev.map(|p| p.0.as_str()),
        &prev.map(|p| p.1.as_str()),
    ])
}

/// `COPY table (columns) FROM STDIN (FORMAT binary)`.
pub(crate) fn copy_sql(table: &str, cols: &[(&str, Type)]) -> String {
    let list = cols.iter().map(|c| c.0).collect::<Vec<_>>().join(", ");
    format!("COPY {table} ({list}) FROM STDIN (FORMAT binary)")
}

/// The columns a distribution or migration may group by.
pub(crate) fn group_column(field: &str) -> StoreResult<&'static str> {
    match field {
        "asset_tier" => Ok("asset_tier"),
        "segment" => Ok("segment"),
        other => Err(StoreError::Aborted(format!("cannot group by {other:?}: use asset_tier or segment"))),
    }
}

/// A stored decile (SMALLINT) as the domain's u8.
pub(crate) fn decile(v: i16) -> StoreResult<u8> {
    u8::try_from(v).map_err(|_| corrupt("value_decile", &v.to_string()))
}
