//! Explanations: for each dimension, the inputs used and the rule that
//! decided. Stored compactly (rule references, not rule text) and rendered
//! against the pack version that produced them.

use serde::{Deserialize, Serialize};
use tierwise_domain::Lang;
use tierwise_rules::{DimensionRules, Pack, RuleDim, RULE_DIMS};

/// One input a rule read: its name and value (None = absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    pub name: std::borrow::Cow<'static, str>,
    pub value: Option<String>,
}

impl Input {
    pub fn new(name: impl Into<std::borrow::Cow<'static, str>>, value: Option<String>) -> Input {
        Input { name: name.into(), value }
    }
}

/// Which rule decided a dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleRef {
    /// the i-th ordered rule of the dimension (or the i-th segment)
    Rule(usize),
    /// none of the rules held: the dimension's default (or empty)
    Default,
    /// the condition of a true/false dimension
    Condition,
    /// a fixed definition of PRODUCT.md 3, by code
    Definition(String),
}

/// How one dimension was decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplanationLine {
    #[serde(rename = "dim")]
    pub dimension: String,
    pub rule: RuleRef,
    #[serde(rename = "in")]
    pub inputs: Vec<Input>,
}

impl ExplanationLine {
    pub(crate) fn def(dimension: &str, code: &str, inputs: Vec<Input>) -> ExplanationLine {
        ExplanationLine { dimension: dimension.to_string(), rule: RuleRef::Definition(code.to_string()), inputs }
    }
    pub(crate) fn rule(dimension: &str, rule: RuleRef, inputs: Vec<Input>) -> ExplanationLine {
        ExplanationLine { dimension: dimension.to_string(), rule, inputs }
    }
}

/// The explanation of one classification, kept in its compact stored form:
///
/// ```text
/// {"v":2,"f":[…every fact in `Fact::ALL` order…],"r":[…one rule reference per
///  rule dimension, then the segment…],"x":[…inputs of the fixed definitions,
///  in `INPUTS` order…]}
/// ```
///
/// (Version 1, written before, kept the definition inputs as an object by
/// name: `"x":{"snapshot":…}`; both are read.)
///
/// Facts are exact decimals as strings, enum values as strings, booleans, or
/// null (absent). A rule reference is the index of the rule that held,
/// `"d"` (none held: the default) or `"t"`/`"f"` (a true/false dimension).
/// The inputs of each dimension — the fields its rules read — and the rule
/// text are recovered with the pack version that produced the result
/// ([`Explanation::lines`]), so nothing is stored twice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Explanation {
    json: String,
}

/// Writes a compact explanation; used by the engine on the hot path.
pub(crate) struct ExplanationWriter {
    out: String,
    first: bool,
    /// the next definition input's place in `INPUTS`
    input: usize,
}

/// The inputs of the fixed definitions, in the order of the stored `x` array.
pub(crate) const INPUTS: [&str; 12] = [
    "snapshot",
    "holdings_counted",
    "credit_rows_excluded",
    "assessed_at",
    "questionnaire",
    "channel",
    "score",
    "validity_months",
    "expiry",
    "days_to_expiry",
    "material_change_at",
    "product",
];

impl ExplanationWriter {
    pub(crate) fn new() -> ExplanationWriter {
        let mut out = String::with_capacity(480);
        out.push_str("{\"v\":2,\"f\":[");
        ExplanationWriter { out, first: true, input: 0 }
    }
    fn sep(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }
    /// One fact value, in `Fact::ALL` order.
    pub(crate) fn fact(&mut self, v: &crate::engine::Shown<'_>) {
        self.sep();
        match v {
            crate::engine::Shown::Absent => self.out.push_str("null"),
            crate::engine::Shown::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            crate::engine::Shown::Num(n) => {
                self.out.push('"');
                tierwise_domain::money::push_decimal(&mut self.out, n);
                self.out.push('"');
            }
            crate::engine::Shown::Text(s) => push_str(&mut self.out, s),
        }
    }
    /// Ends the facts and starts the rule references.
    pub(crate) fn rules(&mut self) {
        self.out.push_str("],\"r\":[");
        self.first = true;
    }
    pub(crate) fn rule(&mut self, r: &RuleRef) {
        use std::fmt::Write;
        self.sep();
        match r {
            RuleRef::Rule(i) => {
                let _ = write!(self.out, "{i}");
            }
            RuleRef::Default => self.out.push_str("\"d\""),
            RuleRef::Condition => self.out.push_str("\"c\""),
            RuleRef::Definition(code) => push_str(&mut self.out, code),
        }
    }
    pub(crate) fn flag(&mut self, b: bool) {
        self.sep();
        self.out.push_str(if b { "\"t\"" } else { "\"f\"" });
    }
    /// Ends the rule references and starts the definition inputs.
    pub(crate) fn inputs(&mut self) {
        self.out.push_str("],\"x\":[");
        self.first = true;
        self.input = 0;
    }
    /// The next definition input, in `INPUTS` order (`name` is checked in
    /// debug builds).
    pub(crate) fn input(&mut self, name: &str, value: Option<&dyn std::fmt::Display>) {
        use std::fmt::Write;
        debug_assert_eq!(INPUTS.get(self.input).copied(), Some(name), "definition inputs out of order");
        self.input += 1;
        self.sep();
        match value {
            Some(v) => {
                let _ = write!(self.out, "\"{v}\"");
            }
            None => self.out.push_str("null"),
        }
    }
    pub(crate) fn finish(mut self) -> Explanation {
        self.out.push_str("]}");
        Explanation { json: self.out }
    }
}

/// The fixed-definition dimensions: (dimension, definition code, inputs in `x`).
const DEFINITIONS: &[(&str, &str, &[&str])] = &[
    ("aum", "newest_snapshot", &["snapshot", "holdings_counted", "credit_rows_excluded"]),
    ("risk_level", "newest_assessment", &["assessed_at", "questionnaire", "channel", "score"]),
    ("risk_lowest", "newest_assessment", &["assessed_at"]),
    (
        "assessment_status",
        "assessment_status",
        &["assessed_at", "validity_months", "expiry", "days_to_expiry", "material_change_at"],
    ),
    ("goal", "newest_assessment", &["assessed_at"]),
    ("value", "fee_income", &["snapshot", "holdings_counted"]),
    ("behaviour_risk", "highest_product_risk", &["product"]),
];

impl Explanation {
    /// The stored form.
    pub fn as_json(&self) -> &str {
        &self.json
    }
    /// The stored form, owned.
    pub fn to_json(&self) -> String {
        self.json.clone()
    }

    /// Reads a stored explanation (checks that it is one).
    pub fn from_json(text: &str) -> Result<Explanation, serde_json::Error> {
        use serde::de::Error;
        let v: serde_json::Value = serde_json::from_str(text)?;
        let inputs_ok = match v.get("v").and_then(|x| x.as_u64()) {
            Some(1) => v.get("x").is_some_and(|x| x.is_object()),
            Some(2) => v.get("x").and_then(|x| x.as_array()).is_some_and(|x| x.len() == INPUTS.len()),
            _ => false,
        };
        let ok = inputs_ok && v.get("f").is_some_and(|x| x.is_array()) && v.get("r").is_some_and(|x| x.is_array());
        if !ok {
            return Err(serde_json::Error::custom("not a version-1 or version-2 explanation"));
        }
        Ok(Explanation { json: text.to_string() })
    }

    /// Every dimension with the rule that decided it and the inputs it read,
    /// recovered with the pack version that produced the result.
    pub fn lines(&self, pack: &Pack) -> Vec<ExplanationLine> {
        let v: serde_json::Value = serde_json::from_str(&self.json).unwrap_or_default();
        let empty = Vec::new();
        let facts = v.get("f").and_then(|x| x.as_array()).unwrap_or(&empty);
        let refs = v.get("r").and_then(|x| x.as_array()).unwrap_or(&empty);
        // a definition input by name: v2 keeps them in `INPUTS` order, v1 by name
        let x = v.get("x");
        let input = |k: &str| -> Option<&serde_json::Value> {
            match x? {
                serde_json::Value::Array(a) => a.get(INPUTS.iter().position(|i| *i == k)?),
                serde_json::Value::Object(m) => m.get(k),
                _ => None,
            }
        };
        let show = |j: &serde_json::Value| -> Option<String> {
            match j {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(shorten(s)),
                other => Some(other.to_string()),
            }
        };
        let mut lines = Vec::new();
        for (dim, code, keys) in DEFINITIONS {
            let inputs = keys.iter().map(|k| Input::new(*k, input(k).and_then(show))).collect();
            lines.push(ExplanationLine::def(dim, code, inputs));
        }
        // decided values of the rule dimensions, for inputs that read them
        let mut dim_values: Vec<Option<String>> = Vec::new();
        for (k, dim) in RULE_DIMS.iter().enumerate() {
            let r = refs.get(k);
            let (rule, read, value): (RuleRef, Vec<usize>, Option<String>) = match (pack.rules_of(*dim), r) {
                (DimensionRules::Boolean { when }, r) => {
                    let b = r.and_then(|r| r.as_str()) == Some("t");
                    (RuleRef::Condition, when.fields().to_vec(), Some(b.to_string()))
                }
                (DimensionRules::Categorical { rules, default }, r) => match r.and_then(|r| r.as_u64()) {
                    Some(i) => {
                        let i = i as usize;
                        let read = rules.iter().take(i + 1).flat_map(|r| r.when.fields().iter().copied()).collect();
                        let value = rules.get(i).map(|r| pack.value_id(*dim, r.value).to_string());
                        (RuleRef::Rule(i), read, value)
                    }
                    None => {
                        let read = rules.iter().flat_map(|r| r.when.fields().iter().copied()).collect();
                        (RuleRef::Default, read, default.map(|d| pack.value_id(*dim, d).to_string()))
                    }
                },
            };
            let inputs = field_inputs(read, facts, &dim_values, &show);
            dim_values.push(value);
            lines.push(ExplanationLine::rule(dim.name(), rule, inputs));
        }
        if let Some(i) = refs.get(RULE_DIMS.len()).and_then(|r| r.as_u64()) {
            let i = i as usize;
            let read = pack.segments.iter().take(i + 1).flat_map(|s| s.when.fields().iter().copied()).collect();
            lines.push(ExplanationLine::rule(
                "segment",
                RuleRef::Rule(i),
                field_inputs(read, facts, &dim_values, &show),
            ));
        }
        lines
    }

    /// How one dimension was decided.
    pub fn line(&self, pack: &Pack, dimension: &str) -> Option<ExplanationLine> {
        self.lines(pack).into_iter().find(|l| l.dimension == dimension)
    }
}

/// Inputs by schema field: facts from the stored facts, rule dimensions from
/// the values decided before.
fn field_inputs(
    mut read: Vec<usize>,
    facts: &[serde_json::Value],
    dims: &[Option<String>],
    show: &dyn Fn(&serde_json::Value) -> Option<String>,
) -> Vec<Input> {
    read.sort_unstable();
    read.dedup();
    read.into_iter()
        .filter_map(|f| {
            let name = tierwise_rules::fields::field_name(f)?;
            let value = if f < tierwise_rules::Fact::COUNT {
                facts.get(f).and_then(show)
            } else {
                dims.get(f - tierwise_rules::Fact::COUNT).cloned().flatten()
            };
            Some(Input::new(name, value))
        })
        .collect()
}

/// A stored exact decimal shown with at most six decimals (truncated, so a
/// ratio just under a threshold never shows as the threshold).
fn shorten(s: &str) -> String {
    match s.parse::<rust_decimal::Decimal>() {
        Ok(d) if d.scale() > 6 => {
            d.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::ToZero).normalize().to_string()
        }
        Ok(d) => d.normalize().to_string(),
        Err(_) => s.to_string(),
    }
}

/// Appends a JSON string literal.
fn push_str(out: &mut String, s: &str) {
    out.push('"');
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push_str(s);
    } else {
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
    }
    out.push('"');
}

fn definition_text(code: &str, lang: Lang) -> String {
    let (zh, en) = match code {
        "newest_snapshot" => (
            "评估日或之前最新一期持仓快照的市值合计（不含信贷类）",
            "Σ market value of the newest holdings snapshot dated on or before the evaluation date, credit line excluded",
        ),
        "newest_assessment" => ("评估日或之前最近一次风险承受能力评估", "the newest assessment taken on or before the evaluation date"),
        "assessment_status" => (
            "到期日 = 评估日 + 有效期（月末对齐）；评估日 ≥ 到期日为已过期；评估后发生重大信息变更为待重评；距到期不超过预警天数为即将到期",
            "expiry = assessed date + validity months (clamped to month end); expired when the date ≥ expiry; stale when a material change came after the assessment; expiring within the warning days",
        ),
        "fee_income" => ("计入持仓的市值 × 产品年费率之和", "Σ market value × annual fee rate over the counted holdings"),
        "highest_product_risk" => (
            "最新快照中市值 > 0 的产品及活动窗口内买入产品的最高风险等级",
            "the highest risk level of products held with value > 0 in the snapshot or bought in the activity window",
        ),
        other => (other, other),
    };
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

/// Pack parameters a condition mentions, with their values.
fn params_used(pack: &Pack, src: &str) -> String {
    let words: Vec<&str> = src.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
    let used: Vec<String> =
        pack.params.iter().filter(|(k, _)| words.contains(&k.as_str())).map(|(k, v)| format!("{k} = {v}")).collect();
    if used.is_empty() {
        String::new()
    } else {
        format!(" ({})", used.join(", "))
    }
}

/// The rule text a reference points at, in the pack that produced it.
pub fn rule_text(pack: &Pack, dimension: &str, rule: &RuleRef, lang: Lang) -> String {
    let dim = RULE_DIMS.iter().find(|d| d.name() == dimension).copied();
    match (rule, dim) {
        (RuleRef::Definition(code), _) => definition_text(code, lang),
        (RuleRef::Rule(i), None) if dimension == "segment" => match pack.segments.get(*i) {
            Some(s) => format!("{}{}", s.when.source(), params_used(pack, s.when.source())),
            None => format!("segment rule {i}"),
        },
        (RuleRef::Rule(i), Some(d)) => match pack.rules_of(d) {
            DimensionRules::Categorical { rules, .. } => match rules.get(*i) {
                Some(r) => format!("{}{}", r.when.source(), params_used(pack, r.when.source())),
                None => format!("rule {i}"),
            },
            DimensionRules::Boolean { when } => when.source().to_string(),
        },
        (RuleRef::Condition, Some(d)) => match pack.rules_of(d) {
            DimensionRules::Boolean { when } => format!("{}{}", when.source(), params_used(pack, when.source())),
            DimensionRules::Categorical { .. } => String::new(),
        },
        (RuleRef::Default, Some(d)) => default_text(d, lang),
        _ => String::new(),
    }
}

fn default_text(_d: RuleDim, lang: Lang) -> String {
    match lang {
        Lang::Zh => "以上规则均不满足，取默认值".to_string(),
        Lang::En => "none of the rules held: the default".to_string(),
    }
}

/// Renders an explanation as one line per dimension (definition inputs
/// that are pack constants, such as the validity months, come from the pack):
/// `客户层级 = 财富 ← aum >= wealth_min (wealth_min = 500000) ‹aum = 812345.5›`.
/// `values` gives each dimension's value as stored.
pub fn render_explanation(pack: &Pack, ex: &Explanation, values: &dyn Fn(&str) -> String, lang: Lang) -> Vec<String> {
    ex.lines(pack)
        .iter()
        .map(|l| {
            let v = values(&l.dimension);
            let shown = match (v.is_empty(), pack.segment(&v)) {
                (true, _) => "—".to_string(),
                (false, Some(s)) if l.dimension == "segment" => s.name.get(lang).to_string(),
                (false, _) => pack.value_name(&l.dimension, &v, lang),
            };
            let ins: Vec<String> =
                l.inputs.iter().map(|i| format!("{} = {}", i.name, i.value.as_deref().unwrap_or("—"))).collect();
            format!(
                "{} = {} ← {} ‹{}›",
                pack.dimension_name(&l.dimension, lang),
                shown,
                rule_text(pack, &l.dimension, &l.rule, lang),
                ins.join(", ")
            )
        })
        .collect()
}
