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

/// The explanation of one classification.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Explanation {
    pub lines: Vec<ExplanationLine>,
}

impl Explanation {
    pub(crate) fn push(&mut self, l: ExplanationLine) {
        self.lines.push(l);
    }
    pub fn line(&self, dimension: &str) -> Option<&ExplanationLine> {
        self.lines.iter().find(|l| l.dimension == dimension)
    }

    /// Compact JSON, as stored: `{"asset_tier":[1,{"aum":"812345.5"}],
    /// "aum":["newest_snapshot",{…}],"lifecycle":["default",{"age":null}]}` —
    /// a rule index, `"default"`, `"condition"` or a definition code, then the
    /// inputs (null = absent). Written by hand: it is on the hot path of a run.
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(1024);
        s.push('{');
        for (i, l) in self.lines.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            push_str(&mut s, &l.dimension);
            s.push_str(":[");
            match &l.rule {
                RuleRef::Rule(n) => s.push_str(&n.to_string()),
                RuleRef::Default => s.push_str("\"default\""),
                RuleRef::Condition => s.push_str("\"condition\""),
                RuleRef::Definition(code) => push_str(&mut s, code),
            }
            s.push_str(",{");
            for (j, inp) in l.inputs.iter().enumerate() {
                if j > 0 {
                    s.push(',');
                }
                push_str(&mut s, &inp.name);
                s.push(':');
                match &inp.value {
                    Some(v) => push_str(&mut s, v),
                    None => s.push_str("null"),
                }
            }
            s.push_str("}]");
        }
        s.push('}');
        s
    }

    /// Reads what [`Explanation::to_json`] wrote.
    pub fn from_json(text: &str) -> Result<Explanation, serde_json::Error> {
        use serde::de::Error;
        let v: serde_json::Value = serde_json::from_str(text)?;
        let obj = v.as_object().ok_or_else(|| serde_json::Error::custom("an explanation is a JSON object"))?;
        let mut lines = Vec::with_capacity(obj.len());
        for (dim, entry) in obj {
            let (rule, inputs) = match entry.as_array().map(|a| a.as_slice()) {
                Some([r, serde_json::Value::Object(ins)]) => (r, ins),
                _ => return Err(serde_json::Error::custom(format!("bad explanation entry for {dim}"))),
            };
            let rule = match rule {
                serde_json::Value::Number(n) => RuleRef::Rule(n.as_u64().unwrap_or(0) as usize),
                serde_json::Value::String(s) if s == "default" => RuleRef::Default,
                serde_json::Value::String(s) if s == "condition" => RuleRef::Condition,
                serde_json::Value::String(s) => RuleRef::Definition(s.clone()),
                _ => return Err(serde_json::Error::custom(format!("bad rule for {dim}"))),
            };
            let inputs = inputs
                .iter()
                .map(|(k, v)| Input { name: k.clone().into(), value: v.as_str().map(str::to_string) })
                .collect();
            lines.push(ExplanationLine { dimension: dim.clone(), rule, inputs });
        }
        Ok(Explanation { lines })
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

/// Renders an explanation as one line per dimension:
/// `客户层级 = 财富 ← aum >= wealth_min (wealth_min = 500000) ‹aum = 812345.5›`.
/// `values` gives each dimension's value as stored.
pub fn render_explanation(pack: &Pack, ex: &Explanation, values: &dyn Fn(&str) -> String, lang: Lang) -> Vec<String> {
    ex.lines
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
