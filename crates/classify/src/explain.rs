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

/// The explanation of one classification, kept in its compact stored form
/// (version 3, binary, ~165 bytes a client):
///
/// ```text
/// 0x03
/// n, then n facts in `Fact::ALL` order, each a tag and its value:
///    0 absent · 1 false · 2 true · 3 a decimal: scale (1 byte), mantissa
///    (zigzag LEB128) · 4 an enum: its index in the fact's value list (1 byte)
/// n, then n rule references, one per rule dimension then the segment,
///    each a LEB128: 0 none held (the default) · 1 true · 2 false ·
///    3 the condition · 4 + i the i-th rule
/// n, then n definition inputs in `INPUTS` order, each a tag and its value:
///    0 absent · 1 text (LEB128 length, UTF-8) · 2 a date (zigzag LEB128 days
///    since 1970-01-01) · 3 an integer (zigzag LEB128) · 4 a local timestamp
///    (zigzag LEB128 seconds since 1970-01-01 00:00, LEB128 nanoseconds)
/// ```
///
/// Earlier runs stored JSON, which is still read: version 2
/// `{"v":2,"f":[…facts…],"r":[…rule references…],"x":[…inputs…]}` (facts as
/// exact decimal strings, enum values, booleans or null; a reference the
/// rule's index, `"d"`, `"t"`/`"f"`), and version 1, the same with the
/// inputs as an object by name (`"x":{"snapshot":…}`).
///
/// The inputs of each dimension — the fields its rules read — and the rule
/// text are recovered with the pack version that produced the result
/// ([`Explanation::lines`]), so nothing is stored twice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Explanation {
    stored: Vec<u8>,
}

/// A stored explanation that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a stored explanation: {0}")]
pub struct ExplanationError(String);

/// The version byte of the binary form.
const BINARY_V3: u8 = 3;

/// Writes a compact explanation; used by the engine on the hot path.
pub(crate) struct ExplanationWriter {
    out: Vec<u8>,
    /// where the count of the current section is
    count_at: usize,
    /// the next definition input's place in `INPUTS`
    input: usize,
}

/// The inputs of the fixed definitions, in the order they are stored.
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

fn zigzag(v: i128) -> u128 {
    ((v << 1) ^ (v >> 127)) as u128
}

fn unzigzag(v: u128) -> i128 {
    ((v >> 1) as i128) ^ -((v & 1) as i128)
}

fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The days from 1970-01-01 to a date.
fn epoch_days(d: chrono::NaiveDate) -> i64 {
    i64::from(chrono::Datelike::num_days_from_ce(&d)) - 719_163
}

impl ExplanationWriter {
    pub(crate) fn new() -> ExplanationWriter {
        let mut out = Vec::with_capacity(192);
        out.push(BINARY_V3);
        out.push(0);
        ExplanationWriter { out, count_at: 1, input: 0 }
    }
    /// One more item in the current section.
    fn item(&mut self) {
        if let Some(n) = self.out.get_mut(self.count_at) {
            *n = n.saturating_add(1);
        }
    }
    fn section(&mut self) {
        self.count_at = self.out.len();
        self.out.push(0);
    }
    /// One fact value, in `Fact::ALL` order.
    pub(crate) fn fact(&mut self, v: &tierwise_rules::expr::Value) {
        use tierwise_rules::expr::Value;
        self.item();
        match v {
            Value::Absent => self.out.push(0),
            Value::Bool(false) => self.out.push(1),
            Value::Bool(true) => self.out.push(2),
            Value::Num(n) => {
                self.out.push(3);
                self.out.push(n.scale() as u8);
                put_varint(&mut self.out, zigzag(n.mantissa()));
            }
            Value::Enum(i) => {
                self.out.push(4);
                self.out.push(u8::try_from(*i).unwrap_or(u8::MAX));
            }
        }
    }
    /// Ends the facts and starts the rule references.
    pub(crate) fn rules(&mut self) {
        self.section();
    }
    pub(crate) fn rule(&mut self, r: &RuleRef) {
        self.item();
        let code = match r {
            RuleRef::Rule(i) => 4 + *i as u128,
            RuleRef::Condition => 3,
            // a definition is never a rule dimension's reference: shown as the default
            RuleRef::Default | RuleRef::Definition(_) => 0,
        };
        put_varint(&mut self.out, code);
    }
    pub(crate) fn flag(&mut self, b: bool) {
        self.item();
        self.out.push(if b { 1 } else { 2 });
    }
    /// Ends the rule references and starts the definition inputs.
    pub(crate) fn inputs(&mut self) {
        self.section();
        self.input = 0;
    }
    /// The next definition input, in `INPUTS` order (`name` is checked in
    /// debug builds).
    fn next_input(&mut self, name: &str) {
        debug_assert_eq!(INPUTS.get(self.input).copied(), Some(name), "definition inputs out of order");
        self.input += 1;
        self.item();
    }
    /// The next definition input: `tag` and what `write` encodes, or the
    /// absent tag.
    fn tagged_input<T>(&mut self, name: &str, value: Option<T>, tag: u8, write: impl FnOnce(&mut Vec<u8>, T)) {
        self.next_input(name);
        match value {
            Some(v) => {
                self.out.push(tag);
                write(&mut self.out, v);
            }
            None => self.out.push(0),
        }
    }
    pub(crate) fn input_text(&mut self, name: &str, value: Option<&str>) {
        self.tagged_input(name, value, 1, |out, v| {
            put_varint(out, v.len() as u128);
            out.extend_from_slice(v.as_bytes());
        });
    }
    pub(crate) fn input_date(&mut self, name: &str, value: Option<chrono::NaiveDate>) {
        self.tagged_input(name, value, 2, |out, d| put_varint(out, zigzag(i128::from(epoch_days(d)))));
    }
    pub(crate) fn input_int(&mut self, name: &str, value: Option<i64>) {
        self.tagged_input(name, value, 3, |out, v| put_varint(out, zigzag(i128::from(v))));
    }
    pub(crate) fn input_timestamp(&mut self, name: &str, value: Option<chrono::NaiveDateTime>) {
        self.tagged_input(name, value, 4, |out, t| {
            let u = t.and_utc();
            put_varint(out, zigzag(i128::from(u.timestamp())));
            put_varint(out, u128::from(u.timestamp_subsec_nanos()));
        });
    }
    pub(crate) fn finish(self) -> Explanation {
        Explanation { stored: self.out }
    }
}

/// Reads the binary form.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, ExplanationError> {
        let v = *self.b.get(self.at).ok_or_else(|| ExplanationError(format!("ends at byte {}", self.at)))?;
        self.at += 1;
        Ok(v)
    }
    fn varint(&mut self) -> Result<u128, ExplanationError> {
        let mut v: u128 = 0;
        for shift in (0..128).step_by(7) {
            let b = self.byte()?;
            v |= u128::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ExplanationError(format!("a number too long at byte {}", self.at)))
    }
    fn signed(&mut self) -> Result<i128, ExplanationError> {
        self.varint().map(unzigzag)
    }
    fn bad(&self, what: &str) -> ExplanationError {
        ExplanationError(format!("{what} at byte {}", self.at.saturating_sub(1)))
    }
}

/// The binary form read into the shape of version 2 (what [`Explanation::lines`] reads).
fn decode_v3(b: &[u8]) -> Result<serde_json::Value, ExplanationError> {
    use serde_json::Value as J;
    let mut r = Reader { b, at: 0 };
    if r.byte()? != BINARY_V3 {
        return Err(r.bad("not version 3"));
    }
    let n = r.byte()? as usize;
    let mut facts = Vec::with_capacity(n);
    for f in 0..n {
        facts.push(match r.byte()? {
            0 => J::Null,
            1 => J::Bool(false),
            2 => J::Bool(true),
            3 => {
                let scale = u32::from(r.byte()?);
                let m = r.signed()?;
                let d = rust_decimal::Decimal::try_from_i128_with_scale(m, scale).map_err(|_| r.bad("a decimal"))?;
                J::String(d.to_string())
            }
            4 => {
                let i = r.byte()? as usize;
                let values = match tierwise_rules::Fact::ALL.get(f).map(|x| x.field_type()) {
                    Some(tierwise_rules::expr::FieldType::Enum { values, .. }) => values,
                    _ => return Err(r.bad("an enum value of a fact that has none")),
                };
                J::String(values.get(i).cloned().ok_or_else(|| r.bad("an enum value"))?)
            }
            _ => return Err(r.bad("a fact tag")),
        });
    }
    let n = r.byte()? as usize;
    let mut refs = Vec::with_capacity(n);
    for _ in 0..n {
        refs.push(match r.varint()? {
            0 => J::String("d".into()),
            1 => J::String("t".into()),
            2 => J::String("f".into()),
            3 => J::String("c".into()),
            i => J::from((i - 4) as u64),
        });
    }
    let n = r.byte()? as usize;
    if n != INPUTS.len() {
        return Err(ExplanationError(format!("{n} definition inputs, not {}", INPUTS.len())));
    }
    let mut inputs = Vec::with_capacity(n);
    for _ in 0..n {
        inputs.push(match r.byte()? {
            0 => J::Null,
            1 => {
                let len = r.varint()? as usize;
                let end = r.at.checked_add(len).filter(|e| *e <= b.len()).ok_or_else(|| r.bad("a text"))?;
                let text = std::str::from_utf8(&b[r.at..end]).map_err(|_| r.bad("a text"))?;
                r.at = end;
                J::String(text.to_string())
            }
            2 => {
                let days = i64::try_from(r.signed()?).map_err(|_| r.bad("a date"))?;
                let d = chrono::NaiveDate::from_num_days_from_ce_opt(
                    i32::try_from(days + 719_163).map_err(|_| r.bad("a date"))?,
                )
                .ok_or_else(|| r.bad("a date"))?;
                J::String(d.to_string())
            }
            3 => J::String(r.signed()?.to_string()),
            4 => {
                let secs = i64::try_from(r.signed()?).map_err(|_| r.bad("a timestamp"))?;
                let nanos = u32::try_from(r.varint()?).map_err(|_| r.bad("a timestamp"))?;
                let t = chrono::DateTime::from_timestamp(secs, nanos).ok_or_else(|| r.bad("a timestamp"))?;
                J::String(t.naive_utc().to_string())
            }
            _ => return Err(r.bad("an input tag")),
        });
    }
    if r.at != b.len() {
        return Err(ExplanationError(format!("{} bytes after the end", b.len() - r.at)));
    }
    Ok(serde_json::json!({ "v": 3, "f": facts, "r": refs, "x": inputs }))
}

/// Checks that JSON text is a version-1 or version-2 explanation.
fn check_json(text: &str) -> Result<(), ExplanationError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| ExplanationError(e.to_string()))?;
    let inputs_ok = match v.get("v").and_then(|x| x.as_u64()) {
        Some(1) => v.get("x").is_some_and(|x| x.is_object()),
        Some(2) => v.get("x").and_then(|x| x.as_array()).is_some_and(|x| x.len() == INPUTS.len()),
        _ => false,
    };
    let ok = inputs_ok && v.get("f").is_some_and(|x| x.is_array()) && v.get("r").is_some_and(|x| x.is_array());
    if ok {
        Ok(())
    } else {
        Err(ExplanationError("not a version-1 or version-2 explanation".into()))
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
    /// The stored form (version 3: binary).
    pub fn stored(&self) -> &[u8] {
        &self.stored
    }

    /// Reads a stored explanation of any version (checks that it is one):
    /// version 3 (binary) or the JSON of versions 1 and 2.
    pub fn from_stored(bytes: &[u8]) -> Result<Explanation, ExplanationError> {
        match bytes.first() {
            Some(&BINARY_V3) => {
                decode_v3(bytes)?;
            }
            Some(b'{') => {
                let text = std::str::from_utf8(bytes).map_err(|e| ExplanationError(e.to_string()))?;
                check_json(text)?;
            }
            _ => return Err(ExplanationError("neither version 3 nor JSON".into())),
        }
        Ok(Explanation { stored: bytes.to_vec() })
    }

    /// The explanation as the JSON of version 2's shape (`"v"` says which
    /// version was stored): facts, rule references and definition inputs.
    pub fn to_json_value(&self) -> serde_json::Value {
        match self.stored.first() {
            Some(&BINARY_V3) => decode_v3(&self.stored).unwrap_or_default(),
            _ => serde_json::from_slice(&self.stored).unwrap_or_default(),
        }
    }

    /// Every dimension with the rule that decided it and the inputs it read,
    /// recovered with the pack version that produced the result.
    pub fn lines(&self, pack: &Pack) -> Vec<ExplanationLine> {
        let v = self.to_json_value();
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
