//! Reading a definition: TOML text → checked [`Questionnaire`], collecting every
//! problem with its place rather than stopping at the first.
//!
//! The file is first parsed as a plain TOML table (syntax errors carry their
//! line), then walked by hand so that every unknown key, wrong type and
//! missing text is reported, not only the first one serde would meet.

use tierwise_domain::{Goal, I18nText, RiskLevel, Variety};
use toml::{Table, Value};

use crate::{Aggregate, Band, DefinitionError, Question, QuestionKind, QuestionOption, Questionnaire};

const TOP_KEYS: &[&str] = &["id", "title", "validity_months", "bands", "questions"];
const BAND_KEYS: &[&str] = &["level", "min", "max"];
const QUESTION_KEYS: &[&str] = &["id", "text", "kind", "aggregate", "options"];
const OPTION_KEYS: &[&str] = &["id", "text", "score", "lowest", "horizon_months", "varieties", "goal"];
const TEXT_KEYS: &[&str] = &["zh", "en"];

/// Scores beyond this magnitude are rejected, which keeps every sum far from
/// overflow.
const MAX_ABS_SCORE: i64 = 1_000_000;
/// 50 years; 0 means unlimited.
const MAX_HORIZON_MONTHS: i64 = 600;
const VALIDITY_MONTHS: std::ops::RangeInclusive<i64> = 1..=120;

pub(crate) fn parse(text: &str, source: &str) -> Result<Questionnaire, Vec<DefinitionError>> {
    // Editors on Windows may save a byte-order mark; it is not TOML.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut c = Checker { source, errors: Vec::new(), contributions: Vec::new() };
    let table = match toml::from_str::<Table>(text) {
        Ok(t) => t,
        Err(e) => {
            let (place, message) = match e.span() {
                Some(span) => {
                    let before = text.get(..span.start).unwrap_or(text);
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    (format!("line {line}"), format!("{} (column {column})", one_line(e.message())))
                }
                None => (String::new(), one_line(e.message())),
            };
            c.err(place, message);
            return Err(c.errors);
        }
    };
    let q = c.questionnaire(&table);
    match q {
        Some(q) if c.errors.is_empty() => Ok(q),
        _ => Err(c.errors),
    }
}

/// Inclusive (min, max).
type ScoreRange = (i64, i64);

struct Checker<'a> {
    source: &'a str,
    errors: Vec<DefinitionError>,
    /// Per question, its (min, max) contribution to the score, when its kind,
    /// aggregate and option scores could be read (other errors in the
    /// question do not matter): the coverage check runs if all are known.
    contributions: Vec<Option<(i64, i64)>>,
}

fn at(place: &str, key: &str) -> String {
    if place.is_empty() {
        key.to_string()
    } else {
        format!("{place}.{key}")
    }
}

/// Letters, digits, `_`, `-` and `.`: safe inside `q1=A;q2=B,C`.
fn is_valid_id(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
}

impl Checker<'_> {
    fn err(&mut self, place: impl Into<String>, message: impl Into<String>) {
        self.errors.push(DefinitionError {
            source: self.source.to_string(),
            place: place.into(),
            message: message.into(),
        });
    }

    fn unknown_keys(&mut self, t: &Table, place: &str, allowed: &[&str]) {
        for key in t.keys() {
            if !allowed.contains(&key.as_str()) {
                self.err(at(place, key), format!("unknown key `{key}` (allowed here: {})", allowed.join(", ")));
            }
        }
    }

    fn wrong_type(&mut self, place: String, expected: &str, v: &Value) {
        self.err(place, format!("expected {expected}, found {}", v.type_str()));
    }

    /// A required value; reports it missing.
    fn required<'t>(&mut self, t: &'t Table, place: &str, key: &str, what: &str) -> Option<&'t Value> {
        let v = t.get(key);
        if v.is_none() {
            self.err(at(place, key), format!("missing: {what} is required"));
        }
        v
    }

    fn string(&mut self, v: &Value, place: String) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            other => {
                self.wrong_type(place, "a string", other);
                None
            }
        }
    }

    fn integer(&mut self, v: &Value, place: String) -> Option<i64> {
        match v {
            Value::Integer(i) => Some(*i),
            other => {
                self.wrong_type(place, "an integer", other);
                None
            }
        }
    }

    fn id(&mut self, t: &Table, place: &str, what: &str) -> Option<String> {
        let v = self.required(t, place, "id", what)?;
        let s = self.string(v, at(place, "id"))?;
        if !is_valid_id(&s) {
            self.err(at(place, "id"), format!("{s:?} is not a valid id: use letters, digits, '_', '-' or '.'"));
            return None;
        }
        Some(s)
    }

    /// `{ zh = "…", en = "…" }`, both present and not blank.
    fn text(&mut self, t: &Table, place: &str, key: &str) -> Option<I18nText> {
        let place = at(place, key);
        let Some(v) = t.get(key) else {
            self.err(place, "missing: a text with zh and en is required");
            return None;
        };
        let Value::Table(tt) = v else {
            self.wrong_type(place, "a table { zh = \"…\", en = \"…\" }", v);
            return None;
        };
        self.unknown_keys(tt, &place, TEXT_KEYS);
        let mut one = |lang: &str| -> Option<String> {
            let p = at(&place, lang);
            let Some(v) = tt.get(lang) else {
                self.err(p, format!("missing {lang} text"));
                return None;
            };
            let s = self.string(v, p.clone())?;
            if s.trim().is_empty() {
                self.err(p, format!("{lang} text is empty"));
                return None;
            }
            Some(s)
        };
        let zh = one("zh");
        let en = one("en");
        Some(I18nText { zh: zh?, en: en? })
    }

    fn array_of_tables<'t>(&mut self, v: &'t Value, place: &str) -> Vec<(String, Option<&'t Table>)> {
        let Value::Array(items) = v else {
            self.wrong_type(place.to_string(), "an array of tables", v);
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let p = format!("{place}[{i}]");
                match item {
                    Value::Table(t) => (p, Some(t)),
                    other => {
                        self.wrong_type(p.clone(), "a table", other);
                        (p, None)
                    }
                }
            })
            .collect()
    }

    fn questionnaire(&mut self, t: &Table) -> Option<Questionnaire> {
        self.unknown_keys(t, "", TOP_KEYS);
        let id = self.id(t, "", "the questionnaire id");
        let title = self.text(t, "", "title");
        let validity_months = match t.get("validity_months") {
            None => Some(None),
            Some(v) => match self.integer(v, "validity_months".into()) {
                Some(m) if VALIDITY_MONTHS.contains(&m) => u32::try_from(m).ok().map(Some),
                Some(m) => {
                    self.err("validity_months", format!("{m} is out of range: 1 to 120 months"));
                    None
                }
                None => None,
            },
        };

        let questions = self.questions(t);
        let bands = self.bands(t);
        // The coverage check needs every band and every question's scores
        // readable (else it would report gaps that are only unreadable parts),
        // not an otherwise correct file.
        let contributions: Option<Vec<(i64, i64)>> = self.contributions.iter().copied().collect();
        let (band_ranges, bands) = bands;
        if let (Some(contributions), Some(band_ranges)) = (contributions, band_ranges) {
            if !contributions.is_empty() {
                let range = contributions
                    .iter()
                    .fold((0i64, 0i64), |(lo, hi), (a, b)| (lo.saturating_add(*a), hi.saturating_add(*b)));
                self.coverage(range, band_ranges);
            }
        }
        Some(Questionnaire {
            id: id?,
            title: title?,
            validity_months: validity_months?,
            bands: bands?,
            questions: questions?,
        })
    }

    /// All questions, or `None` if any has a problem.
    fn questions(&mut self, t: &Table) -> Option<Vec<Question>> {
        let v = self.required(t, "", "questions", "at least one [[questions]]")?;
        let items = self.array_of_tables(v, "questions");
        if items.is_empty() && matches!(v, Value::Array(_)) {
            self.err("questions", "at least one question is required");
        }
        let mut out = Vec::new();
        let mut ok = matches!(v, Value::Array(_)) && !items.is_empty();
        let mut seen: Vec<(String, String)> = Vec::new();
        for (place, table) in items {
            let Some(table) = table else {
                ok = false;
                self.contributions.push(None);
                continue;
            };
            if let Some(Value::String(id)) = table.get("id") {
                if let Some((_, first)) = seen.iter().find(|(seen_id, _)| seen_id == id) {
                    let msg = format!("duplicate question id {id} (first used at {first})");
                    self.err(at(&place, "id"), msg);
                    ok = false;
                } else {
                    seen.push((id.clone(), place.clone()));
                }
            }
            match self.question(table, &place) {
                Some(q) => out.push(q),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn question(&mut self, t: &Table, place: &str) -> Option<Question> {
        self.unknown_keys(t, place, QUESTION_KEYS);
        let id = self.id(t, place, "the question id");
        let text = self.text(t, place, "text");
        let kind = self.required(t, place, "kind", "kind (\"single\" or \"multi\")").and_then(|v| {
            let s = self.string(v, at(place, "kind"))?;
            QuestionKind::parse(&s).map_err(|e| self.err(at(place, "kind"), e.to_string())).ok()
        });
        let aggregate = match t.get("aggregate") {
            Some(v) => {
                let parsed = self.string(v, at(place, "aggregate")).and_then(|s| {
                    Aggregate::parse(&s).map_err(|e| self.err(at(place, "aggregate"), e.to_string())).ok()
                });
                match (kind, parsed) {
                    (Some(QuestionKind::Single), _) => {
                        self.err(
                            at(place, "aggregate"),
                            "aggregate is only for multi questions; remove it or use kind = \"multi\"",
                        );
                        None
                    }
                    (_, Some(a)) => Some(Some(a)),
                    _ => None,
                }
            }
            None if kind == Some(QuestionKind::Multi) => {
                self.err(at(place, "aggregate"), "missing: a multi question needs aggregate = \"sum\" or \"max\"");
                None
            }
            None => Some(None),
        };

        let options_place = at(place, "options");
        let mut options = Vec::new();
        let mut options_ok = true;
        let mut raw_scores: Option<Vec<(i64, bool)>> = None;
        match t.get("options") {
            None => {
                self.err(
                    options_place.clone(),
                    "missing: a question needs at least one option ([[questions.options]])",
                );
                options_ok = false;
            }
            Some(v) => {
                let items = self.array_of_tables(v, &options_place);
                raw_scores = items.iter().map(|(_, table)| table.and_then(raw_score)).collect();
                if items.is_empty() {
                    options_ok = false;
                    if matches!(v, Value::Array(_)) {
                        self.err(options_place.clone(), "a question needs at least one option");
                    }
                }
                let mut seen: Vec<(String, String)> = Vec::new();
                for (oplace, table) in items {
                    let Some(table) = table else {
                        options_ok = false;
                        continue;
                    };
                    if let Some(Value::String(id)) = table.get("id") {
                        if let Some((_, first)) = seen.iter().find(|(seen_id, _)| seen_id == id) {
                            let msg = format!("duplicate option id {id} in this question (first used at {first})");
                            self.err(at(&oplace, "id"), msg);
                            options_ok = false;
                        } else {
                            seen.push((id.clone(), oplace.clone()));
                        }
                    }
                    match self.option(table, &oplace) {
                        Some(o) => options.push(o),
                        None => options_ok = false,
                    }
                }
                if options_ok && options.iter().all(|o| o.lowest) {
                    self.err(options_place.clone(), "every option has lowest = true: at least one must not");
                    options_ok = false;
                }
            }
        }
        let aggregate_for_range = match kind {
            Some(QuestionKind::Single) => Some(None),
            Some(QuestionKind::Multi) => aggregate.flatten().map(Some),
            None => None,
        };
        let contribution = match (aggregate_for_range, raw_scores) {
            (Some(a), Some(scores)) => contribution(a, &scores),
            _ => None,
        };
        self.contributions.push(contribution);
        Some(Question {
            id: id?,
            text: text?,
            kind: kind?,
            aggregate: aggregate?,
            options: options_ok.then_some(options)?,
        })
    }

    fn option(&mut self, t: &Table, place: &str) -> Option<QuestionOption> {
        self.unknown_keys(t, place, OPTION_KEYS);
        let id = self.id(t, place, "the option id");
        let text = self.text(t, place, "text");
        let score = self.required(t, place, "score", "an integer score").and_then(|v| {
            let s = self.integer(v, at(place, "score"))?;
            if s.abs() > MAX_ABS_SCORE {
                self.err(at(place, "score"), format!("{s} is out of range: -{MAX_ABS_SCORE} to {MAX_ABS_SCORE}"));
                return None;
            }
            Some(s)
        });
        let lowest = match t.get("lowest") {
            None => Some(false),
            Some(Value::Boolean(b)) => Some(*b),
            Some(other) => {
                self.wrong_type(at(place, "lowest"), "true or false", other);
                None
            }
        };
        let horizon_months = match t.get("horizon_months") {
            None => Some(None),
            Some(v) => self.integer(v, at(place, "horizon_months")).and_then(|m| match u32::try_from(m) {
                Ok(h) if m <= MAX_HORIZON_MONTHS => Some(Some(h)),
                _ => {
                    self.err(
                        at(place, "horizon_months"),
                        format!("{m} is out of range: 0 (unlimited) to {MAX_HORIZON_MONTHS} months"),
                    );
                    None
                }
            }),
        };
        let varieties = match t.get("varieties") {
            None => Some(None),
            Some(v) => self.varieties(v, &at(place, "varieties")).map(Some),
        };
        let goal = match t.get("goal") {
            None => Some(None),
            Some(v) => self
                .string(v, at(place, "goal"))
                .and_then(|s| Goal::parse(&s).map_err(|e| self.err(at(place, "goal"), e.to_string())).ok())
                .map(Some),
        };
        Some(QuestionOption {
            id: id?,
            text: text?,
            score: score?,
            lowest: lowest?,
            horizon_months: horizon_months?,
            varieties: varieties?,
            goal: goal?,
        })
    }

    fn varieties(&mut self, v: &Value, place: &str) -> Option<Vec<Variety>> {
        let Value::Array(items) = v else {
            self.wrong_type(place.to_string(), "an array of varieties", v);
            return None;
        };
        if items.is_empty() {
            self.err(place, format!("empty: list at least one of {}", Variety::NAMES.join(", ")));
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let p = format!("{place}[{i}]");
            let Some(s) = self.string(item, p.clone()) else {
                ok = false;
                continue;
            };
            match Variety::parse(&s) {
                Ok(variety) if out.contains(&variety) => {
                    self.err(p, format!("{variety} is listed twice"));
                    ok = false;
                }
                Ok(variety) => out.push(variety),
                Err(e) => {
                    self.err(p, e.to_string());
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// The bands' score ranges, if every band has readable ones (for the
    /// coverage check), and the bands, if all is well with them.
    fn bands(&mut self, t: &Table) -> (Option<Vec<ScoreRange>>, Option<Vec<Band>>) {
        let Some(v) = self.required(t, "", "bands", "[[bands]] covering the reachable scores") else {
            return (None, None);
        };
        let items = self.array_of_tables(v, "bands");
        let mut ok = matches!(v, Value::Array(_));
        if items.is_empty() && ok {
            self.err("bands", "at least one band is required");
            ok = false;
        }
        let mut bands: Vec<(String, Band)> = Vec::new();
        let mut ranges: Option<Vec<ScoreRange>> = ok.then(Vec::new);
        for (place, table) in items {
            let Some(table) = table else {
                ok = false;
                ranges = None;
                continue;
            };
            self.unknown_keys(table, &place, BAND_KEYS);
            let level = self.required(table, &place, "level", "a level C1 to C5").and_then(|v| {
                let s = self.string(v, at(&place, "level"))?;
                RiskLevel::parse(&s).map_err(|e| self.err(at(&place, "level"), e.to_string())).ok()
            });
            let min = self
                .required(table, &place, "min", "the lowest score")
                .and_then(|v| self.integer(v, at(&place, "min")));
            let max = self
                .required(table, &place, "max", "the highest score")
                .and_then(|v| self.integer(v, at(&place, "max")));
            match (min, max) {
                (Some(min), Some(max)) if min <= max => ranges.iter_mut().for_each(|r| r.push((min, max))),
                _ => ranges = None,
            }
            match (level, min, max) {
                (_, Some(min), Some(max)) if min > max => {
                    self.err(place, format!("min {min} is greater than max {max}"));
                    ok = false;
                }
                (Some(level), Some(min), Some(max)) => bands.push((place, Band { level, min, max })),
                _ => ok = false,
            }
        }

        let describe = |place: &str, b: &Band| format!("{place} ({}, scores {} to {})", b.level, b.min, b.max);
        let own = |b: &Band| format!("{} (scores {} to {})", b.level, b.min, b.max);
        for (j, (pj, bj)) in bands.iter().enumerate() {
            for (pi, bi) in &bands[..j] {
                if bi.level == bj.level {
                    self.err(at(pj, "level"), format!("level {} is already used by {pi}", bj.level));
                    ok = false;
                }
                let (lo, hi) = (bi.min.max(bj.min), bi.max.min(bj.max));
                if lo <= hi {
                    let msg = format!("{} overlaps {} on scores {}", own(bj), describe(pi, bi), span(lo, hi));
                    self.err(pj.clone(), msg);
                    ok = false;
                }
            }
        }
        // Levels must ascend with score. Checked between neighbouring levels
        // only, which suffices once bands do not overlap.
        let mut by_level: Vec<&(String, Band)> = bands.iter().collect();
        by_level.sort_by_key(|(_, b)| b.level);
        for pair in by_level.windows(2) {
            if let [(pa, a), (pb, b)] = pair {
                if a.level != b.level && a.min > b.max {
                    let msg = format!("{} scores below {}: levels must ascend with score", own(b), describe(pa, a));
                    self.err(pb.clone(), msg);
                    ok = false;
                }
            }
        }
        (ranges, ok.then(|| bands.into_iter().map(|(_, b)| b).collect()))
    }

    /// Every score in the reachable range must fall in a band.
    fn coverage(&mut self, (lo, hi): (i64, i64), mut bands: Vec<(i64, i64)>) {
        bands.sort_unstable();
        // i128 so that max + 1 cannot overflow at i64::MAX.
        let (lo, hi) = (i128::from(lo), i128::from(hi));
        let mut next = lo;
        let mut gaps: Vec<(i128, i128)> = Vec::new();
        for (min, max) in bands {
            if next > hi {
                break;
            }
            let (min, max) = (i128::from(min), i128::from(max));
            if max < next {
                continue;
            }
            if min > next {
                gaps.push((next, (min - 1).min(hi)));
            }
            next = next.max(max + 1);
        }
        if next <= hi {
            gaps.push((next, hi));
        }
        for (a, b) in gaps {
            let what =
                if a == b { format!("reachable score {a} is") } else { format!("reachable scores {a} to {b} are") };
            self.err("bands", format!("{what} not covered by any band (reachable range {lo} to {hi})"));
        }
    }
}

/// The TOML parser's messages may run over several lines.
fn one_line(message: &str) -> String {
    message.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

fn span(lo: i64, hi: i64) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo} to {hi}")
    }
}

/// See the crate documentation, "Reachable range".
pub(crate) fn reachable_range(questions: &[Question]) -> (i64, i64) {
    let scores = |q: &Question| q.options.iter().map(|o| (o.score, o.lowest)).collect::<Vec<_>>();
    questions
        .iter()
        .filter_map(|q| contribution(q.aggregate, &scores(q)))
        .fold((0i64, 0i64), |(lo, hi), (a, b)| (lo.saturating_add(a), hi.saturating_add(b)))
}

/// An option's (score, lowest) if both are readable, whatever else is wrong.
fn raw_score(option: &Table) -> Option<(i64, bool)> {
    let score = option.get("score")?.as_integer().filter(|s| s.abs() <= MAX_ABS_SCORE)?;
    let lowest = match option.get("lowest") {
        None => false,
        Some(v) => v.as_bool()?,
    };
    Some((score, lowest))
}

/// The (min, max) one question adds to the score, from its options' (score,
/// lowest), leaving out lowest-category options; `None` if every option is
/// one. `aggregate` is `None` for `single`.
fn contribution(aggregate: Option<Aggregate>, options: &[(i64, bool)]) -> Option<(i64, i64)> {
    let scores = || options.iter().filter(|(_, lowest)| !lowest).map(|(score, _)| *score);
    let (min, max) = (scores().min()?, scores().max()?);
    Some(match aggregate {
        Some(Aggregate::Sum) => {
            let negative = scores().filter(|&s| s < 0).fold(0i64, i64::saturating_add);
            let positive = scores().filter(|&s| s > 0).fold(0i64, i64::saturating_add);
            (if min < 0 { negative } else { min }, if max > 0 { positive } else { max })
        }
        _ => (min, max),
    })
}
