//! The rule-pack file format and its validation into a compiled [`Pack`].
//!
//! A pack file is TOML (see `packs/cn-bank.toml` and docs/rule-packs.md).
//! Validation collects every error with its place (file, line, key path and,
//! for conditions, the column inside the condition) instead of stopping at the
//! first, so operations can fix a pack in one pass.

use crate::expr::{compile, Expr, FieldType, Schema};
use crate::fields::{Fact, RuleDim, RULE_DIMS};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use tierwise_domain::{AdvisorTitle, I18nText, ProductRisk};
use toml::Spanned;

/// One problem found in a pack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError {
    pub source: String,
    /// 1-based line in the file, when known
    pub line: Option<usize>,
    /// key path, e.g. `dimensions.asset_tier.rules[1].when`
    pub place: String,
    pub message: String,
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}: {}", self.source, l, self.place, self.message),
            None => write!(f, "{}: {}: {}", self.source, self.place, self.message),
        }
    }
}

impl std::error::Error for PackError {}

/// The errors of one pack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackErrors(pub Vec<PackError>);

impl fmt::Display for PackErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PackErrors {}

// ------------------------------------------------------------------ raw file

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    id: String,
    version: String,
    name: I18nText,
    description: Option<I18nText>,
    assessment: RawAssessment,
    windows: Option<RawWindows>,
    #[serde(default)]
    params: BTreeMap<String, Spanned<toml::Value>>,
    dimensions: BTreeMap<String, Spanned<RawDimension>>,
    segments: Vec<Spanned<RawSegment>>,
    suitability: RawSuitability,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssessment {
    validity_months: u32,
    expiring_within_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindows {
    churn_days: Option<u32>,
    activity_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDimension {
    name: I18nText,
    values: Option<Vec<RawValue>>,
    rules: Option<Vec<RawRule>>,
    default: Option<String>,
    when: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValue {
    id: String,
    zh: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    value: String,
    when: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegment {
    id: String,
    name: I18nText,
    when: Spanned<String>,
    plan: ServicePlan,
}

/// A segment's service plan (服务方案).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePlan {
    pub service_model: ServiceModel,
    pub advisor_title: AdvisorTitle,
    #[serde(default)]
    pub advisor_min_years: u32,
    /// an advisor's maximum number of clients of this segment
    pub max_clients_per_advisor: Option<u32>,
    /// contact frequency in days; none = no scheduled contact
    pub contact_every_days: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceModel {
    PrivateBankerTeam,
    DedicatedAdvisor,
    Digital,
}

/// How a mismatch (step 5 of PRODUCT.md 5) is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MismatchPolicy {
    /// cn-bank: risk above tolerance → prohibited; horizon/variety only → warn
    RiskProhibits,
    /// cn-csrc: initiated by the advisor → prohibited (Art 22); by the client → warn (Art 19)
    ByInitiator,
}

/// When 双录 (audio-video recording) is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DualRecording {
    NonDepositSalesAtBranch,
    WarnsAtBranch,
}

/// The suitability regime switches of a pack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SuitabilityRules {
    pub regime: String,
    pub professional_investor_matches: bool,
    pub first_purchase_requires_branch_assessment: bool,
    pub mismatch_policy: MismatchPolicy,
    pub dual_recording: DualRecording,
    #[serde(default)]
    pub enhanced_care_levels: Vec<ProductRisk>,
    pub elderly_age: u32,
}

type RawSuitability = SuitabilityRules;

// ------------------------------------------------------------ compiled pack

/// One ordered rule of a categorical dimension.
#[derive(Debug, Clone)]
pub struct Rule {
    pub value: u16,
    pub when: Expr,
}

/// How a rule-decided dimension is computed.
#[derive(Debug, Clone)]
pub enum DimensionRules {
    /// ordered rules, first match wins; `default` when none holds (None: empty)
    Categorical { rules: Vec<Rule>, default: Option<u16> },
    /// a condition: true or false
    Boolean { when: Expr },
}

/// A dimension's display name and value names.
#[derive(Debug, Clone)]
pub struct DimensionInfo {
    pub name: I18nText,
    /// (value id, name)
    pub values: Vec<(String, I18nText)>,
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub id: String,
    pub name: I18nText,
    pub when: Expr,
    pub plan: ServicePlan,
}

/// A validated, compiled rule pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub id: String,
    pub version: String,
    pub name: I18nText,
    pub description: Option<I18nText>,
    pub validity_months: u32,
    pub expiring_within_days: u32,
    pub churn_days: u32,
    pub activity_days: u32,
    pub params: BTreeMap<String, Decimal>,
    /// every field rules may read: facts, then the rule dimensions in order
    pub schema: Schema,
    pub dimensions: BTreeMap<String, DimensionInfo>,
    /// indexed by `RuleDim as usize`
    pub rules: Vec<DimensionRules>,
    pub segments: Vec<Segment>,
    pub suitability: SuitabilityRules,
    /// the file as read, kept with results so a run can be replayed
    pub source_text: String,
}

/// Every dimension name a pack must name (PRODUCT.md 3).
pub const ALL_DIMENSIONS: &[&str] = &[
    "aum",
    "asset_tier",
    "risk_level",
    "risk_lowest",
    "assessment_status",
    "risk_preference",
    "goal",
    "experience",
    "lifecycle",
    "depth",
    "investor_category",
    "qualified_investor",
    "private_fund_qualified",
    "churn_risk",
    "value",
    "value_decile",
    "behaviour_risk",
    "segment",
];

/// Values a fixed-definition dimension must name, when it names values.
const FIXED_VALUES: &[(&str, &[&str])] = &[
    ("assessment_status", &["missing", "expired", "stale", "expiring", "valid"]),
    ("goal", &["growth", "balanced", "preservation", "unknown"]),
];

/// Values the code relies on for rule dimensions (e.g. `risk_preference`
/// feeds the export and the dashboards): a pack may rename them in zh/en but
/// must keep these ids when it defines the dimension by rules.
fn required_values(dim: RuleDim) -> &'static [&'static str] {
    match dim {
        RuleDim::InvestorCategory => &["ordinary", "professional"],
        _ => &[],
    }
}

struct Ctx<'a> {
    source: &'a str,
    text: &'a str,
    errors: Vec<PackError>,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text.get(..offset).map(|s| s.matches('\n').count() + 1).unwrap_or(1)
    }
    fn err(&mut self, offset: Option<usize>, place: impl Into<String>, message: impl Into<String>) {
        let line = offset.map(|o| self.line_of(o));
        self.errors.push(PackError {
            source: self.source.to_string(),
            line,
            place: place.into(),
            message: message.into(),
        });
    }
}

impl Pack {
    /// Parses and validates a pack file. `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Pack, PackErrors> {
        let mut cx = Ctx { source, text, errors: Vec::new() };
        let raw: RawPack = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let offset = e.span().map(|s| s.start);
                cx.err(offset, "file", e.message().to_string());
                return Err(PackErrors(cx.errors));
            }
        };
        let pack = build(&mut cx, raw, text);
        match pack {
            Some(p) if cx.errors.is_empty() => Ok(p),
            _ => Err(PackErrors(cx.errors)),
        }
    }

    /// The compiled rules of one rule dimension.
    pub fn rules_of(&self, dim: RuleDim) -> &DimensionRules {
        &self.rules[dim as usize]
    }

    /// The value id of a rule dimension's value index.
    pub fn value_id(&self, dim: RuleDim, index: u16) -> &str {
        match self.schema.ty(Fact::COUNT + dim as usize) {
            FieldType::Enum { values, .. } => values.get(index as usize).map(String::as_str).unwrap_or(""),
            _ => "",
        }
    }

    /// The display name of a dimension in a language, or the key itself.
    pub fn dimension_name(&self, key: &str, lang: tierwise_domain::Lang) -> String {
        self.dimensions.get(key).map(|d| d.name.get(lang).to_string()).unwrap_or_else(|| key.to_string())
    }

    /// The display name of a dimension's value, or the value itself.
    pub fn value_name(&self, key: &str, value: &str, lang: tierwise_domain::Lang) -> String {
        self.dimensions
            .get(key)
            .and_then(|d| d.values.iter().find(|(id, _)| id == value))
            .map(|(_, n)| n.get(lang).to_string())
            .unwrap_or_else(|| value.to_string())
    }

    pub fn segment(&self, id: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id == id)
    }
}

fn check_text(cx: &mut Ctx, offset: Option<usize>, place: &str, t: &I18nText) {
    if t.zh.trim().is_empty() {
        cx.err(offset, format!("{place}.zh"), "the Chinese text is missing or empty");
    }
    if t.en.trim().is_empty() {
        cx.err(offset, format!("{place}.en"), "the English text is missing or empty");
    }
}

fn param_value(v: &toml::Value) -> Result<Decimal, String> {
    match v {
        toml::Value::Integer(i) => Ok(Decimal::from(*i)),
        toml::Value::String(s) => {
            s.replace('_', "").parse::<Decimal>().map_err(|_| format!("{s:?} is not a decimal number"))
        }
        toml::Value::Float(f) => Err(format!(
            "{f} is a binary floating-point number; write a decimal as a string, e.g. \"{f}\", so it stays exact"
        )),
        other => Err(format!("expected a number, found {}", other.type_str())),
    }
}

fn build(cx: &mut Ctx, raw: RawPack, text: &str) -> Option<Pack> {
    if raw.id.trim().is_empty() || !raw.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        cx.err(None, "id", format!("{:?} is not a pack id (letters, digits, - and _)", raw.id));
    }
    if raw.version.trim().is_empty() {
        cx.err(None, "version", "the version is empty");
    }
    check_text(cx, None, "name", &raw.name);
    if let Some(d) = &raw.description {
        check_text(cx, None, "description", d);
    }
    if !(1..=120).contains(&raw.assessment.validity_months) {
        cx.err(None, "assessment.validity_months", "must be between 1 and 120 months");
    }
    let windows = raw.windows.unwrap_or(RawWindows { churn_days: None, activity_days: None });
    let churn_days = windows.churn_days.unwrap_or(90);
    let activity_days = windows.activity_days.unwrap_or(365);
    for (k, v) in [("windows.churn_days", churn_days), ("windows.activity_days", activity_days)] {
        if !(1..=3660).contains(&v) {
            cx.err(None, k, "must be between 1 and 3660 days");
        }
    }

    // schema: facts, then rule dimensions in evaluation order
    let mut schema = Schema::new();
    for f in Fact::ALL {
        schema.field(f.name(), f.field_type());
    }

    let mut params = BTreeMap::new();
    for (name, v) in &raw.params {
        let off = Some(v.span().start);
        if schema.index_of(name).is_some() || RULE_DIMS.iter().any(|d| d.name() == name) {
            cx.err(off, format!("params.{name}"), "a parameter may not have the name of a field");
            continue;
        }
        match param_value(v.get_ref()) {
            Ok(d) => {
                params.insert(name.clone(), d);
            }
            Err(m) => cx.err(off, format!("params.{name}"), m),
        }
    }

    // names of every dimension
    let mut dimensions = BTreeMap::new();
    for key in raw.dimensions.keys() {
        if !ALL_DIMENSIONS.contains(&key.as_str()) {
            let off = raw.dimensions.get(key).map(|d| d.span().start);
            cx.err(
                off,
                format!("dimensions.{key}"),
                format!("unknown dimension; the dimensions are {}", ALL_DIMENSIONS.join(", ")),
            );
        }
    }
    for key in ALL_DIMENSIONS {
        let Some(d) = raw.dimensions.get(*key) else {
            cx.err(None, format!("dimensions.{key}"), "missing: every dimension needs its zh and en name");
            continue;
        };
        let off = Some(d.span().start);
        let d = d.get_ref();
        check_text(cx, off, &format!("dimensions.{key}.name"), &d.name);
        let mut values = Vec::new();
        for (i, v) in d.values.iter().flatten().enumerate() {
            let place = format!("dimensions.{key}.values[{i}]");
            if v.id.trim().is_empty() {
                cx.err(off, format!("{place}.id"), "the value id is empty");
            }
            if values.iter().any(|(id, _): &(String, I18nText)| *id == v.id) {
                cx.err(off, format!("{place}.id"), format!("duplicate value {:?}", v.id));
            }
            let t = I18nText::new(v.zh.clone(), v.en.clone());
            check_text(cx, off, &place, &t);
            values.push((v.id.clone(), t));
        }
        if let Some((_, fixed)) = FIXED_VALUES.iter().find(|(k, _)| k == key) {
            if !values.is_empty() {
                for need in *fixed {
                    if !values.iter().any(|(id, _)| id == need) {
                        cx.err(off, format!("dimensions.{key}.values"), format!("value {need:?} must be named"));
                    }
                }
                for (id, _) in &values {
                    if !fixed.contains(&id.as_str()) {
                        cx.err(
                            off,
                            format!("dimensions.{key}.values"),
                            format!("{id:?} is not a value of {key} (values: {})", fixed.join(", ")),
                        );
                    }
                }
            }
        }
        let is_rule_dim = RULE_DIMS.iter().any(|r| r.name() == *key);
        if !is_rule_dim && (d.rules.is_some() || d.when.is_some() || d.default.is_some()) {
            cx.err(
                off,
                format!("dimensions.{key}"),
                "this dimension has a fixed definition (PRODUCT.md 3): only name and values may be given",
            );
        }
        dimensions.insert(key.to_string(), DimensionInfo { name: d.name.clone(), values });
    }

    // rule dimensions: their value sets join the schema before any rule is compiled,
    // so that a later dimension's rules may read an earlier one
    for dim in RULE_DIMS {
        let ty = match dim.boolean() {
            true => FieldType::Bool,
            false => {
                let values = dimensions
                    .get(dim.name())
                    .map(|d| d.values.iter().map(|(id, _)| id.clone()).collect())
                    .unwrap_or_default();
                FieldType::Enum { values, ordered: false }
            }
        };
        schema.field(dim.name(), ty);
    }

    let mut rules = Vec::new();
    for dim in RULE_DIMS {
        let key = dim.name();
        let Some(d) = raw.dimensions.get(key) else {
            rules.push(DimensionRules::Boolean { when: compile("false", &schema, &params).ok()? });
            continue;
        };
        let off = Some(d.span().start);
        let d = d.get_ref();
        let own_index = Fact::COUNT + dim as usize;
        let compile_rule = |cx: &mut Ctx, src: &Spanned<String>, place: String| -> Option<Expr> {
            // the condition text starts one character after the opening quote
            let start = src.span().start;
            match compile(src.get_ref(), &schema, &params) {
                Ok(e) => {
                    if let Some(&f) = e.fields().iter().find(|&&f| f >= own_index) {
                        cx.err(Some(start), place, format!(
                            "reads {}, which is decided at or after {key}; a rule may read facts and the dimensions before it ({})",
                            schema.name(f),
                            RULE_DIMS.iter().take_while(|d| **d != dim).map(|d| d.name()).collect::<Vec<_>>().join(", ")
                        ));
                        return None;
                    }
                    Some(e)
                }
                Err(e) => {
                    cx.err(Some(start), place, format!("condition {:?}: {e}", src.get_ref()));
                    None
                }
            }
        };
        if dim.boolean() {
            if d.rules.is_some() || d.default.is_some() || d.values.is_some() {
                cx.err(
                    off,
                    format!("dimensions.{key}"),
                    "a true/false dimension takes one `when` condition, not values or rules",
                );
            }
            let Some(w) = &d.when else {
                cx.err(off, format!("dimensions.{key}.when"), "missing: the condition under which it is true");
                continue;
            };
            if let Some(e) = compile_rule(cx, w, format!("dimensions.{key}.when")) {
                rules.push(DimensionRules::Boolean { when: e });
            }
            continue;
        }
        if d.when.is_some() {
            cx.err(
                off,
                format!("dimensions.{key}.when"),
                "a dimension with values takes ordered `rules`, not one `when`",
            );
        }
        let info = dimensions.get(key);
        let values: Vec<String> = info.map(|i| i.values.iter().map(|(id, _)| id.clone()).collect()).unwrap_or_default();
        if values.is_empty() {
            cx.err(off, format!("dimensions.{key}.values"), "missing: the values this dimension may take");
        }
        for need in required_values(dim) {
            if !values.iter().any(|v| v == need) {
                cx.err(off, format!("dimensions.{key}.values"), format!("value {need:?} must be defined"));
            }
        }
        let idx = |v: &str| values.iter().position(|x| x == v).map(|p| p as u16);
        let mut compiled = Vec::new();
        for (i, r) in d.rules.iter().flatten().enumerate() {
            let place = format!("dimensions.{key}.rules[{i}]");
            let Some(vi) = idx(&r.value) else {
                cx.err(
                    Some(r.when.span().start),
                    format!("{place}.value"),
                    format!("{:?} is not one of the values ({})", r.value, values.join(", ")),
                );
                continue;
            };
            if let Some(e) = compile_rule(cx, &r.when, format!("{place}.when")) {
                compiled.push(Rule { value: vi, when: e });
            }
        }
        let default = match &d.default {
            None => None,
            Some(v) => match idx(v) {
                Some(i) => Some(i),
                None => {
                    cx.err(
                        off,
                        format!("dimensions.{key}.default"),
                        format!("{v:?} is not one of the values ({})", values.join(", ")),
                    );
                    None
                }
            },
        };
        if d.rules.as_ref().is_none_or(|r| r.is_empty()) && default.is_none() {
            cx.err(
                off,
                format!("dimensions.{key}.rules"),
                "no rules and no default: the dimension would always be empty",
            );
        }
        rules.push(DimensionRules::Categorical { rules: compiled, default });
    }

    // segments: first match wins; the last must catch everything
    let mut segments = Vec::new();
    if raw.segments.is_empty() {
        cx.err(None, "segments", "at least one segment is needed");
    }
    for (i, s) in raw.segments.iter().enumerate() {
        let off = Some(s.span().start);
        let place = format!("segments[{i}]");
        let s = s.get_ref();
        if s.id.trim().is_empty() {
            cx.err(off, format!("{place}.id"), "the segment id is empty");
        }
        if segments.iter().any(|x: &Segment| x.id == s.id) {
            cx.err(off, format!("{place}.id"), format!("duplicate segment id {:?}", s.id));
        }
        check_text(cx, off, &format!("{place}.name"), &s.name);
        if s.plan.max_clients_per_advisor == Some(0) {
            cx.err(off, format!("{place}.plan.max_clients_per_advisor"), "must be at least 1 when given");
        }
        if s.plan.contact_every_days == Some(0) {
            cx.err(
                off,
                format!("{place}.plan.contact_every_days"),
                "must be at least 1 when given (leave it out for no scheduled contact)",
            );
        }
        match compile(s.when.get_ref(), &schema, &params) {
            Ok(e) => segments.push(Segment { id: s.id.clone(), name: s.name.clone(), when: e, plan: s.plan.clone() }),
            Err(e) => cx.err(
                Some(s.when.span().start),
                format!("{place}.when"),
                format!("condition {:?}: {e}", s.when.get_ref()),
            ),
        }
    }
    if let Some(last) = raw.segments.last() {
        if last.get_ref().when.get_ref().trim() != "true" {
            cx.err(
                Some(last.span().start),
                format!("segments[{}].when", raw.segments.len() - 1),
                "the last segment must be `true` so that every client is placed",
            );
        }
    }

    if raw.suitability.elderly_age == 0 || raw.suitability.elderly_age > 120 {
        cx.err(None, "suitability.elderly_age", "must be between 1 and 120");
    }

    if !cx.errors.is_empty() {
        return None;
    }
    Some(Pack {
        id: raw.id,
        version: raw.version,
        name: raw.name,
        description: raw.description,
        validity_months: raw.assessment.validity_months,
        expiring_within_days: raw.assessment.expiring_within_days.unwrap_or(30),
        churn_days,
        activity_days,
        params,
        schema,
        dimensions,
        rules,
        segments,
        suitability: raw.suitability,
        source_text: text.to_string(),
    })
}
