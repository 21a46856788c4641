//! Rows ↔ domain values for SQLite.

use crate::db;
use chrono::{NaiveDate, NaiveDateTime};
use rusqlite::types::ToSql;
use rusqlite::Row;
use rust_decimal::Decimal;
use std::str::FromStr;
use tierwise_classify::Classification;
use tierwise_domain::*;
use tierwise_store::{StoreError, StoreResult};

pub(crate) fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {v:?}"))
}

pub(crate) fn dec(s: &str) -> StoreResult<Decimal> {
    Decimal::from_str(s).map_err(|_| corrupt("decimal", s))
}
/// A stored decimal read from its bytes: plain digits with at most one
/// point (what `money::decimal_text` writes) are read by hand; anything
/// else (a sign, more than 28 digits) by `Decimal::from_str`, so both give
/// the same value.
pub(crate) fn dec_bytes(b: &[u8]) -> StoreResult<Decimal> {
    let mut mantissa: i128 = 0;
    let (mut digits, mut scale, mut point) = (0u32, 0u32, false);
    let mut plain = !b.is_empty();
    for &c in b {
        match c {
            b'0'..=b'9' if digits < 28 => {
                mantissa = mantissa * 10 + i128::from(c - b'0');
                digits += 1;
                scale += u32::from(point);
            }
            b'.' if !point => point = true,
            _ => {
                plain = false;
                break;
            }
        }
    }
    if plain && digits > 0 && b.last() != Some(&b'.') {
        if let Ok(d) = Decimal::try_from_i128_with_scale(mantissa, scale) {
            return Ok(d);
        }
    }
    let s = std::str::from_utf8(b).map_err(|_| corrupt("decimal", &String::from_utf8_lossy(b)))?;
    dec(s)
}
pub(crate) fn opt_dec(s: Option<String>) -> StoreResult<Option<Decimal>> {
    s.map(|v| dec(&v)).transpose()
}
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

/// `YYYY-MM-DD` as stored (a fixed layout: parsed by hand, it is on the hot path).
pub(crate) fn date(s: &str) -> StoreResult<NaiveDate> {
    date_bytes(s.as_bytes())
}
/// [`date`] of stored bytes.
pub(crate) fn date_bytes(b: &[u8]) -> StoreResult<NaiveDate> {
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let (Some(y), Some(m), Some(d)) = (digits(&b[..4]), digits(&b[5..7]), digits(&b[8..10])) {
            if let Some(v) = NaiveDate::from_ymd_opt(y as i32, m, d) {
                return Ok(v);
            }
        }
    }
    Err(corrupt("date", &String::from_utf8_lossy(b)))
}
pub(crate) fn opt_date(s: Option<String>) -> StoreResult<Option<NaiveDate>> {
    s.map(|v| date(&v)).transpose()
}
/// `YYYY-MM-DDTHH:MM:SS[.f]` as stored.
pub(crate) fn ts(s: &str) -> StoreResult<NaiveDateTime> {
    ts_bytes(s.as_bytes())
}
/// [`ts`] of stored bytes.
pub(crate) fn ts_bytes(b: &[u8]) -> StoreResult<NaiveDateTime> {
    if b.len() == 19 && b[10] == b'T' && b[13] == b':' && b[16] == b':' {
        if let (Ok(d), Some(h), Some(mi), Some(se)) =
            (date_bytes(&b[..10]), digits(&b[11..13]), digits(&b[14..16]), digits(&b[17..19]))
        {
            if let Some(t) = d.and_hms_opt(h, mi, se) {
                return Ok(t);
            }
        }
    }
    let s = std::str::from_utf8(b).map_err(|_| corrupt("timestamp", &String::from_utf8_lossy(b)))?;
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| corrupt("timestamp", s))
}
/// A stored enum value from its bytes.
pub(crate) fn en_bytes<T>(parse: fn(&[u8]) -> Option<T>, what: &str, b: &[u8]) -> StoreResult<T> {
    parse(b).ok_or_else(|| corrupt(what, &String::from_utf8_lossy(b)))
}
pub(crate) fn en<T>(parse: fn(&str) -> Result<T, ParseError>, s: &str) -> StoreResult<T> {
    parse(s).map_err(|e| StoreError::Corrupt(e.0))
}
pub(crate) fn opt_en<T>(parse: fn(&str) -> Result<T, ParseError>, s: Option<String>) -> StoreResult<Option<T>> {
    s.map(|v| en(parse, &v)).transpose()
}

pub(crate) const UPSERT_ADVISOR: &str =
    "INSERT INTO advisors (advisor_id, name, title, experience_years, capacity, branch_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (advisor_id) DO UPDATE SET name = excluded.name, title = excluded.title,
    experience_years = excluded.experience_years, capacity = excluded.capacity, branch_id = excluded.branch_id";

pub(crate) fn advisor_params(r: &Advisor) -> Vec<Box<dyn ToSql>> {
    vec![
        Box::new(r.advisor_id.clone()),
        Box::new(r.name.clone()),
        Box::new(r.title.map(|t| t.as_str())),
        Box::new(r.experience_years),
        Box::new(r.capacity),
        Box::new(r.branch_id.clone()),
    ]
}

pub(crate) const PRODUCT_COLS: &str = "product_id, name, category, variety, risk_level, horizon_months, min_investment, investor_requirement, annual_fee_rate, status, currency";

pub(crate) const UPSERT_PRODUCT: &str = "INSERT INTO products (product_id, name, category, variety, risk_level, horizon_months, min_investment, investor_requirement, annual_fee_rate, status, currency)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
    ON CONFLICT (product_id) DO UPDATE SET name = excluded.name, category = excluded.category, variety = excluded.variety,
    risk_level = excluded.risk_level, horizon_months = excluded.horizon_months, min_investment = excluded.min_investment,
    investor_requirement = excluded.investor_requirement, annual_fee_rate = excluded.annual_fee_rate,
    status = excluded.status, currency = excluded.currency";

pub(crate) fn product_params(r: &Product) -> Vec<Box<dyn ToSql>> {
    vec![
        Box::new(r.product_id.clone()),
        Box::new(r.name.clone()),
        Box::new(r.category.as_str()),
        Box::new(r.variety.map(|v| v.as_str())),
        Box::new(r.risk_level.as_str()),
        Box::new(r.horizon_months),
        Box::new(r.min_investment.to_string()),
        Box::new(r.investor_requirement.as_str()),
        Box::new(r.annual_fee_rate.to_string()),
        Box::new(r.status.as_str()),
        Box::new(r.currency.clone()),
    ]
}

pub(crate) fn product_from(r: &Row) -> StoreResult<Product> {
    let g = |i: usize| -> StoreResult<String> { r.get::<_, String>(i).map_err(db) };
    Ok(Product {
        product_id: g(0)?,
        name: r.get(1).map_err(db)?,
        category: en(ProductCategory::parse, &g(2)?)?,
        variety: opt_en(Variety::parse, r.get(3).map_err(db)?)?,
        risk_level: en(ProductRisk::parse, &g(4)?)?,
        horizon_months: r.get(5).map_err(db)?,
        min_investment: dec(&g(6)?)?,
        investor_requirement: en(InvestorRequirement::parse, &g(7)?)?,
        annual_fee_rate: dec(&g(8)?)?,
        status: en(ProductStatus::parse, &g(9)?)?,
        currency: g(10)?,
    })
}

pub(crate) const CLIENT_COLS: &str = "client_id, kind, name, gender, birth_date, id_number, phone, email, occupation, city, branch_id, advisor_id, onboarded_at, household_id, annual_income, declared_financial_assets, declared_liabilities, net_assets, licensed_financial_institution, experience_years, payroll_employer_id, professional_status, material_change_at";

/// `CLIENT_COLS` with the columns a classification run never reads as NULL
/// (name, gender, id_number, phone, email, occupation, city, onboarded_at,
/// household_id): PII and free text stay in the database, unread.
pub(crate) const CLIENT_COLS_FOR_BATCH: &str = "client_id, kind, NULL, NULL, birth_date, NULL, NULL, NULL, NULL, NULL, branch_id, advisor_id, NULL, NULL, annual_income, declared_financial_assets, declared_liabilities, net_assets, licensed_financial_institution, experience_years, payroll_employer_id, professional_status, material_change_at";

pub(crate) const CLIENT_HEAD: &str = "INSERT INTO clients (client_id, kind, name, gender, birth_date, id_number, phone, email, occupation, city, branch_id, advisor_id, onboarded_at, household_id, annual_income, declared_financial_assets, declared_liabilities, net_assets, licensed_financial_institution, experience_years, payroll_employer_id, professional_status, material_change_at)";
pub(crate) const CLIENT_COLUMNS: usize = 23;
pub(crate) const CLIENT_CONFLICT: &str = "ON CONFLICT (client_id) DO UPDATE SET kind = excluded.kind, name = excluded.name, gender = excluded.gender,
    birth_date = excluded.birth_date, id_number = excluded.id_number, phone = excluded.phone, email = excluded.email,
    occupation = excluded.occupation, city = excluded.city, branch_id = excluded.branch_id, advisor_id = excluded.advisor_id,
    onboarded_at = excluded.onboarded_at, household_id = excluded.household_id, annual_income = excluded.annual_income,
    declared_financial_assets = excluded.declared_financial_assets, declared_liabilities = excluded.declared_liabilities,
    net_assets = excluded.net_assets, licensed_financial_institution = excluded.licensed_financial_institution,
    experience_years = excluded.experience_years, payroll_employer_id = excluded.payroll_employer_id,
    professional_status = excluded.professional_status, material_change_at = excluded.material_change_at";

/// A bound value: text borrowed from the row, anything else owned.
pub(crate) type Bound<'a> = rusqlite::types::ToSqlOutput<'a>;

pub(crate) fn bound_text(s: &str) -> Bound<'_> {
    Bound::Borrowed(rusqlite::types::ValueRef::Text(s.as_bytes()))
}
pub(crate) fn bound_opt_text(s: Option<&str>) -> Bound<'_> {
    s.map_or(Bound::Owned(rusqlite::types::Value::Null), bound_text)
}
pub(crate) fn bound_owned(s: Option<String>) -> Bound<'static> {
    Bound::Owned(s.map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Text))
}
pub(crate) fn bound_int(i: Option<i64>) -> Bound<'static> {
    Bound::Owned(i.map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Integer))
}

/// The values of one client, in `CLIENT_HEAD` order.
pub(crate) fn client_values<'a>(r: &'a Client, out: &mut Vec<Bound<'a>>) {
    let money = |m: &Option<Decimal>| bound_owned(m.as_ref().map(money::decimal_text));
    let day = |d: &Option<NaiveDate>| bound_owned(d.map(|x| x.to_string()));
    out.extend([
        bound_text(&r.client_id),
        bound_text(r.kind().as_str()),
        bound_opt_text(r.name.as_deref()),
        bound_opt_text(r.gender.map(|g| g.as_str())),
        day(&r.birth_date),
        bound_opt_text(r.id_number.as_deref()),
        bound_opt_text(r.phone.as_deref()),
        bound_opt_text(r.email.as_deref()),
        bound_opt_text(r.occupation.as_deref()),
        bound_opt_text(r.city.as_deref()),
        bound_opt_text(r.branch_id.as_deref()),
        bound_opt_text(r.advisor_id.as_deref()),
        day(&r.onboarded_at),
        bound_opt_text(r.household_id.as_deref()),
        money(&r.annual_income),
        money(&r.declared_financial_assets),
        money(&r.declared_liabilities),
        money(&r.net_assets),
        bound_int(r.licensed_financial_institution.map(i64::from)),
        bound_int(r.experience_years.map(i64::from)),
        bound_opt_text(r.payroll_employer_id.as_deref()),
        bound_text(r.professional_status().as_str()),
        day(&r.material_change_at),
    ]);
}

/// Reads a client from columns starting at `o` in `CLIENT_COLS` order.
/// A text column's bytes as stored, without a UTF-8 check (None: NULL).
pub(crate) fn raw<'r>(r: &'r Row, i: usize) -> StoreResult<Option<&'r [u8]>> {
    let v = r.get_ref(i).map_err(db)?;
    v.as_bytes_or_null()
        .map_err(|_| StoreError::Corrupt(format!("column {i}: {:?} where text is stored", v.data_type())))
}

/// A client from its columns (`CLIENT_COLS` or `CLIENT_COLS_FOR_BATCH`) at
/// `o`: the values parsed from the stored bytes, only text kept as text
/// allocated (a run reads a million of these).
pub(crate) fn client_from_at(r: &Row, o: usize) -> StoreResult<Client> {
    let s = |i: usize| -> StoreResult<Option<String>> { r.get::<_, Option<String>>(o + i).map_err(db) };
    let b = |i: usize| raw(r, o + i);
    let money = |i: usize| -> StoreResult<Option<Decimal>> { b(i)?.map(dec_bytes).transpose() };
    let day = |i: usize| -> StoreResult<Option<NaiveDate>> { b(i)?.map(date_bytes).transpose() };
    Ok(Client {
        client_id: r.get(o).map_err(db)?,
        kind: b(1)?.map(|v| en_bytes(ClientKind::parse_bytes, "client kind", v)).transpose()?,
        name: s(2)?,
        gender: b(3)?.map(|v| en_bytes(Gender::parse_bytes, "gender", v)).transpose()?,
        birth_date: day(4)?,
        id_number: s(5)?,
        phone: s(6)?,
        email: s(7)?,
        occupation: s(8)?,
        city: s(9)?,
        branch_id: s(10)?,
        advisor_id: s(11)?,
        onboarded_at: day(12)?,
        household_id: s(13)?,
        annual_income: money(14)?,
        declared_financial_assets: money(15)?,
        declared_liabilities: money(16)?,
        net_assets: money(17)?,
        licensed_financial_institution: r.get(o + 18).map_err(db)?,
        experience_years: r.get(o + 19).map_err(db)?,
        payroll_employer_id: s(20)?,
        professional_status: b(21)?
            .map(|v| en_bytes(ProfessionalStatus::parse_bytes, "professional status", v))
            .transpose()?,
        material_change_at: day(22)?,
    })
}

pub(crate) fn client_from(r: &Row) -> StoreResult<Client> {
    client_from_at(r, 0)
}

pub(crate) const HOLDING_HEAD: &str = "INSERT INTO holdings (client_id, as_of, product_id, market_value)";
pub(crate) const HOLDING_CONFLICT: &str =
    "ON CONFLICT (client_id, as_of, product_id) DO UPDATE SET market_value = excluded.market_value";

pub(crate) const TXN_HEAD: &str = "INSERT INTO transactions (client_id, txn_id, product_id, ts, kind, amount, channel)";
/// txn_id is unique: a txn_id re-imported (under any client) updates that row.
pub(crate) const TXN_CONFLICT: &str = "ON CONFLICT (txn_id) DO UPDATE SET client_id = excluded.client_id, product_id = excluded.product_id, ts = excluded.ts,
    kind = excluded.kind, amount = excluded.amount, channel = excluded.channel";

pub(crate) const ASSESSMENT_HEAD: &str = "INSERT INTO assessments (client_id, assessed_at, questionnaire_id, channel, answers, score, risk_level, lowest, horizon_months, varieties, goal)";
pub(crate) const ASSESSMENT_COLUMNS: usize = 11;
pub(crate) const ASSESSMENT_CONFLICT: &str = "ON CONFLICT (client_id, assessed_at) DO UPDATE SET questionnaire_id = excluded.questionnaire_id, channel = excluded.channel,
    answers = excluded.answers, score = excluded.score, risk_level = excluded.risk_level, lowest = excluded.lowest,
    horizon_months = excluded.horizon_months, varieties = excluded.varieties, goal = excluded.goal";

/// The values of one assessment, in `ASSESSMENT_HEAD` order.
pub(crate) fn assessment_values<'a>(r: &'a Assessment, out: &mut Vec<Bound<'a>>) {
    out.extend([
        bound_text(&r.client_id),
        bound_owned(Some(dates::format_timestamp(&r.assessed_at))),
        bound_text(&r.questionnaire_id),
        bound_text(r.channel.as_str()),
        bound_opt_text(r.answers.as_deref()),
        bound_int(r.result.score),
        bound_text(r.result.level.as_str()),
        bound_int(Some(i64::from(r.result.lowest))),
        bound_int(r.result.horizon_months.map(i64::from)),
        bound_owned(r.result.varieties.as_ref().map(|v| format_varieties(v))),
        bound_opt_text(r.result.goal.map(|g| g.as_str())),
    ]);
}

pub(crate) const INTERACTION_HEAD: &str =
    "INSERT INTO interactions (client_id, at, channel, advisor_id, topic, outcome)";
pub(crate) const INTERACTION_COLUMNS: usize = 6;
pub(crate) const INTERACTION_CONFLICT: &str = "ON CONFLICT (client_id, at, channel) DO UPDATE SET advisor_id = excluded.advisor_id, topic = excluded.topic, outcome = excluded.outcome";

/// The values of one interaction, in `INTERACTION_HEAD` order.
pub(crate) fn interaction_values<'a>(r: &'a Interaction, out: &mut Vec<Bound<'a>>) {
    out.extend([
        bound_text(&r.client_id),
        bound_owned(Some(dates::format_timestamp(&r.at))),
        bound_text(r.channel.as_str()),
        bound_opt_text(r.advisor_id.as_deref()),
        bound_opt_text(r.topic.as_deref()),
        bound_opt_text(r.outcome.as_deref()),
    ]);
}

/// Rows per multi-row INSERT of a run: one statement carries many rows,
/// which saves SQLite most of its per-statement work.
pub(crate) const RUN_BATCH: usize = 64;

/// `INSERT INTO table (cols…) VALUES (?,…),(?,…)…` for `rows` rows.
pub(crate) fn multi_insert(head: &str, columns: usize, rows: usize) -> String {
    let one = format!("({})", vec!["?"; columns].join(","));
    format!("{head} VALUES {}", vec![one; rows].join(","))
}

pub(crate) const CLASSIFICATION_HEAD: &str = "INSERT INTO classifications (run_id, client_id, aum, asset_tier, risk_level, risk_lowest, assessment_status, risk_preference, goal, experience, lifecycle, depth, investor_category, qualified_investor, private_fund_qualified, churn_risk, value, behaviour_risk, segment, prev_asset_tier, prev_segment)";
pub(crate) const CLASSIFICATION_COLUMNS: usize = 21;
pub(crate) const EXPLANATION_HEAD: &str = "INSERT INTO explanations (run_id, client_id, explanation)";
pub(crate) const DECILE_HEAD: &str = "INSERT INTO value_deciles (run_id, client_id, value_decile)";

/// The values of one result row, in `CLASSIFICATION_HEAD` order.
pub(crate) fn classification_values<'a>(
    run_id: i64,
    c: &'a Classification,
    prev: Option<&'a (String, String)>,
    out: &mut Vec<rusqlite::types::ToSqlOutput<'a>>,
) {
    use rusqlite::types::{ToSqlOutput, Value, ValueRef};
    use tierwise_domain::money::decimal_text;
    let text = |s: &'a str| ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()));
    let int = |i: i64| ToSqlOutput::Owned(Value::Integer(i));
    let opt = |s: Option<&'a str>| match s {
        Some(s) => text(s),
        None => ToSqlOutput::Owned(Value::Null),
    };
    out.push(int(run_id));
    out.push(text(&c.client_id));
    out.push(ToSqlOutput::Owned(Value::Text(decimal_text(&c.aum))));
    out.push(text(&c.asset_tier));
    out.push(text(c.risk_level.map(|l| l.as_str()).unwrap_or("")));
    out.push(int(i64::from(c.risk_lowest)));
    out.push(text(c.assessment_status.as_str()));
    out.push(text(&c.risk_preference));
    out.push(text(c.goal));
    out.push(text(&c.experience));
    out.push(text(&c.lifecycle));
    out.push(text(&c.depth));
    out.push(text(&c.investor_category));
    out.push(int(i64::from(c.qualified_investor)));
    out.push(int(i64::from(c.private_fund_qualified)));
    out.push(text(&c.churn_risk));
    out.push(ToSqlOutput::Owned(Value::Text(decimal_text(&c.value))));
    out.push(text(c.behaviour_risk.map(|r| r.as_str()).unwrap_or("")));
    out.push(text(&c.segment));
    out.push(opt(prev.map(|p| p.0.as_str())));
    out.push(opt(prev.map(|p| p.1.as_str())));
}

/// The columns a distribution or migration may group by.
pub(crate) fn group_column(field: &str) -> StoreResult<&'static str> {
    match field {
        "asset_tier" => Ok("asset_tier"),
        "segment" => Ok("segment"),
        other => Err(StoreError::Aborted(format!("cannot group by {other:?}: use asset_tier or segment"))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The hand-written readers give exactly what the general parsers give
    /// (value and scale), and refuse what they refuse.
    #[test]
    fn stored_bytes_read_as_the_general_parsers_read_them() {
        let mut cases: Vec<String> = [
            "0",
            "0.00",
            "0.0035",
            "1",
            "10",
            "360500.00",
            "224885.34",
            "-167414.66",
            "-0",
            "-0.00",
            ".5",
            "0000123.4500",
            "79228162514264337593543950335",
            "7922816251426433759354395033.5",
            "0.0000000000000000000000000001",
            "12345678901234567890123456789",
            // refused by both, or read by the general parser alike
            "",
            ".",
            "1.2.3",
            "12a",
            "1e5",
            " 1",
            "1.",
            "¥5",
            "+1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let scale = (x % 7) as u32;
            cases.push(Decimal::new((x >> 20) as i64 % 10_000_000_000, scale).to_string());
        }
        for s in &cases {
            match (dec_bytes(s.as_bytes()), Decimal::from_str(s)) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{s}");
                    assert_eq!((a.scale(), a.is_sign_negative()), (b.scale(), b.is_sign_negative()), "{s}");
                    assert_eq!(a.to_string(), b.to_string(), "{s}");
                }
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{s}: {a:?} vs {b:?}"),
            }
        }
        assert!(dec_bytes(b"\xff1").is_err());
    }

    #[test]
    fn stored_dates_and_timestamps_read_from_bytes() {
        assert_eq!(date_bytes(b"2024-02-29").unwrap(), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        for bad in [&b"2023-02-29"[..], b"2024-2-29", b"2024-02-29x", b"", b"\xff\xff\xff\xff-02-01"] {
            assert!(date_bytes(bad).is_err(), "{bad:?}");
        }
        let t = ts_bytes(b"2025-02-12T14:20:56").unwrap();
        assert_eq!(t.to_string(), "2025-02-12 14:20:56");
        let f = ts_bytes(b"2025-02-12T14:20:56.125").unwrap();
        assert_eq!(f.to_string(), "2025-02-12 14:20:56.125");
        assert!(ts_bytes(b"2025-02-12 14:20").is_err());
        assert_eq!(en_bytes(TxnKind::parse_bytes, "kind", b"transfer_in").unwrap(), TxnKind::TransferIn);
        assert!(en_bytes(TxnKind::parse_bytes, "kind", b"Buy").is_err());
    }
}
