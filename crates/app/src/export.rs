//! `export classifications`: one CSV row per client, columns exactly as
//! PRODUCT.md 7.1 lists them.

use crate::AppResult;
use std::io::Write;
use tierwise_store::{Store, StoreError};

pub const EXPORT_HEADER: &str = "client_id,aum,asset_tier,risk_level,risk_lowest,assessment_status,risk_preference,goal,experience,lifecycle,depth,investor_category,qualified_investor,private_fund_qualified,churn_risk,value,value_decile,behaviour_risk,segment,rule_pack,rule_version,as_of";

/// Quotes a field if CSV needs it.
fn field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

pub(crate) fn write_csv(store: &dyn Store, run_id: i64, out: &mut dyn Write) -> AppResult<u64> {
    let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
    writeln!(w, "{EXPORT_HEADER}")?;
    let mut n = 0u64;
    let io = |e: std::io::Error| StoreError::Aborted(format!("cannot write the export: {e}"));
    store.scan_run(run_id, &mut |r| {
        n += 1;
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            field(&r.client_id),
            r.aum,
            r.asset_tier,
            r.risk_level,
            r.risk_lowest,
            r.assessment_status,
            r.risk_preference,
            r.goal,
            r.experience,
            r.lifecycle,
            r.depth,
            r.investor_category,
            r.qualified_investor,
            r.private_fund_qualified,
            r.churn_risk,
            r.value.normalize(),
            r.value_decile,
            r.behaviour_risk,
            field(&r.segment),
            field(&r.rule_pack),
            field(&r.rule_version),
            r.as_of
        )
        .map_err(io)
    })?;
    w.flush()?;
    Ok(n)
}
