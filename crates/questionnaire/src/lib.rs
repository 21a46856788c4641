//! Risk questionnaires (风险承受能力评估): the definition format of PRODUCT.md 4,
//! its validation, and the scoring of an answer set into an
//! [`AssessmentResult`].
//!
//! A questionnaire is data (a TOML file under `questionnaires/`), never code.
//! [`Questionnaire::parse`] reads and validates a definition, reporting every
//! problem at once, each with its place (`questions[3].options[1].text.en`,
//! `bands[2]`, `line 14`; indexes count from 0 as in the file's arrays).
//! A [`Questionnaire`] can only be obtained through validation, so scoring a
//! well-formed answer set always yields a level. This crate is pure: apart
//! from [`Questionnaire::load`] reading one file it does no I/O, and it never
//! panics, whatever the input.
//!
//! # Scoring
//! The score is the sum over questions; a `single` question contributes its
//! chosen option's score, a `multi` question the sum or the max (its
//! `aggregate`) of its chosen options' scores. The level is the band holding
//! the score. Choosing any option with `lowest = true` gives C1 with the
//! lowest-category flag and score 0; the other effects are still reported:
//! - `horizon_months`: the longest among chosen options that state one, 0
//!   (unlimited) counting as the longest;
//! - `varieties`: the union of the chosen options' lists, in the order
//!   fixed_income, equity, derivative, complex;
//! - `goal`: the last one stated, in question order (and within a question in
//!   option order).
//!
//! Each effect is `None` when no chosen option states it.
//!
//! # Reachable range
//! Options with `lowest = true` never reach a band, so they are left out. Per
//! question, over its other options: `single` and `multi`/`max` contribute
//! from the lowest to the highest option score; `multi`/`sum` (at least one
//! option chosen) from the sum of the negative scores (or, if none is
//! negative, the lowest score) to the sum of the positive scores (or, if none
//! is positive, the highest score). The reachable range is the sum of these
//! bounds, and every integer in it must lie in a band. That over-approximates
//! the scores actually reachable, never under-approximates them.

mod answers;
mod definition;

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use serde::Serialize;
use tierwise_domain::{AssessmentResult, Goal, I18nText, RiskLevel, Variety};

pub use answers::{parse_answers, AnswerError, Answers};

tierwise_domain::str_enum!(
    /// Single choice (exactly one option) or multiple choice (one or more).
    QuestionKind { Single = "single", Multi = "multi" }
);
tierwise_domain::str_enum!(
    /// How a `multi` question combines the scores of its chosen options.
    Aggregate { Sum = "sum", Max = "max" }
);

/// A parsed and validated questionnaire definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Questionnaire {
    id: String,
    title: I18nText,
    #[serde(skip_serializing_if = "Option::is_none")]
    validity_months: Option<u32>,
    bands: Vec<Band>,
    questions: Vec<Question>,
}

/// A score range (inclusive at both ends) and the level it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Band {
    pub level: RiskLevel,
    pub min: i64,
    pub max: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Question {
    pub id: String,
    pub text: I18nText,
    pub kind: QuestionKind,
    /// `Some` exactly for `multi` questions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
    pub options: Vec<QuestionOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionOption {
    pub id: String,
    pub text: I18nText,
    pub score: i64,
    /// Choosing it puts the client in the lowest category (最低类别).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lowest: bool,
    /// 0 = unlimited
    #[serde(skip_serializing_if = "Option::is_none")]
    pub horizon_months: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub varieties: Option<Vec<Variety>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goal: Option<Goal>,
}

/// One problem in a questionnaire definition.
///
/// `source` names the file, `place` the spot in it: a path such as
/// `questions[3].options[1].text.en` or `bands[2]` (indexes from 0), or
/// `line 14` for a TOML syntax error; it is empty when the file could not be
/// read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    pub source: String,
    pub place: String,
    pub message: String,
}

impl fmt::Display for DefinitionError {
    /// `{source}: {place}: {message}` (`{source}: {message}` without a place).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.place.is_empty() {
            write!(f, "{}: {}", self.source, self.message)
        } else {
            write!(f, "{}: {}: {}", self.source, self.place, self.message)
        }
    }
}

// Implemented by hand: thiserror would take the field named `source` for the
// error's cause.
impl std::error::Error for DefinitionError {}

impl Questionnaire {
    /// Parses and validates a TOML definition, collecting every problem.
    /// `source` names the file in messages.
    pub fn parse(toml_text: &str, source: &str) -> Result<Questionnaire, Vec<DefinitionError>> {
        definition::parse(toml_text, source)
    }

    /// Reads and validates a definition file; a file that cannot be read (or
    /// is not UTF-8) gives one error with an empty place.
    pub fn load(path: &Path) -> Result<Questionnaire, Vec<DefinitionError>> {
        let source = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &source),
            Err(e) => Err(vec![DefinitionError { source, place: String::new(), message: format!("cannot read: {e}") }]),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn title(&self) -> &I18nText {
        &self.title
    }

    /// How long an assessment stays valid; `None` = the rule pack decides.
    pub fn validity_months(&self) -> Option<u32> {
        self.validity_months
    }

    pub fn questions(&self) -> &[Question] {
        &self.questions
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// The bands, in the order of the file.
    pub fn bands(&self) -> &[Band] {
        &self.bands
    }

    /// The band holding a score, if any.
    pub fn band_of(&self, score: i64) -> Option<&Band> {
        self.bands.iter().find(|b| b.min <= score && score <= b.max)
    }

    /// `(min, max)` score reachable without a lowest-category answer (see the
    /// crate documentation for the rule).
    pub fn reachable_range(&self) -> (i64, i64) {
        definition::reachable_range(&self.questions)
    }

    /// Scores an answer set. Every question must be answered, with exactly one
    /// option for a `single` question and at least one for a `multi`; answers
    /// naming an unknown question or option are rejected.
    pub fn score(&self, answers: &Answers) -> Result<AssessmentResult, AnswerError> {
        // chosen[i]: for question i, its chosen option indexes in option order.
        let mut chosen: Vec<Option<Vec<usize>>> = vec![None; self.questions.len()];
        for (qid, option_ids) in &answers.0 {
            let Some(qi) = self.questions.iter().position(|q| &q.id == qid) else {
                return Err(AnswerError::UnknownQuestion { question: qid.clone() });
            };
            let question = &self.questions[qi];
            if chosen[qi].is_some() {
                return Err(AnswerError::DuplicateQuestion { question: qid.clone() });
            }
            if option_ids.is_empty() {
                return Err(AnswerError::NoOption { question: qid.clone() });
            }
            if question.kind == QuestionKind::Single && option_ids.len() > 1 {
                return Err(AnswerError::TooManyOptions { question: qid.clone(), got: option_ids.len() });
            }
            let mut picked = Vec::with_capacity(option_ids.len());
            for oid in option_ids {
                let Some(oi) = question.options.iter().position(|o| &o.id == oid) else {
                    return Err(AnswerError::UnknownOption {
                        question: qid.clone(),
                        option: oid.clone(),
                        options: question.options.iter().map(|o| o.id.clone()).collect(),
                    });
                };
                if picked.contains(&oi) {
                    return Err(AnswerError::DuplicateOption { question: qid.clone(), option: oid.clone() });
                }
                picked.push(oi);
            }
            picked.sort_unstable();
            chosen[qi] = Some(picked);
        }
        let unanswered: Vec<String> =
            self.questions.iter().zip(&chosen).filter(|(_, c)| c.is_none()).map(|(q, _)| q.id.clone()).collect();
        if !unanswered.is_empty() {
            return Err(AnswerError::NotAnswered { questions: unanswered });
        }

        let mut score: i64 = 0;
        let mut lowest = false;
        let mut horizon: Option<u32> = None;
        let mut varieties: Option<Vec<Variety>> = None;
        let mut goal: Option<Goal> = None;
        for (question, picked) in self.questions.iter().zip(&chosen) {
            let options = picked.iter().flatten().filter_map(|&i| question.options.get(i));
            let mut contribution: Option<i64> = None;
            for option in options {
                contribution = Some(match (contribution, question.aggregate) {
                    (None, _) => option.score,
                    (Some(c), Some(Aggregate::Max)) => c.max(option.score),
                    (Some(c), _) => c.saturating_add(option.score),
                });
                lowest |= option.lowest;
                if let Some(h) = option.horizon_months {
                    horizon = Some(match horizon {
                        Some(old) if horizon_rank(old) >= horizon_rank(h) => old,
                        _ => h,
                    });
                }
                if let Some(vs) = &option.varieties {
                    let acc = varieties.get_or_insert_with(Vec::new);
                    for v in vs {
                        if !acc.contains(v) {
                            acc.push(*v);
                        }
                    }
                }
                if option.goal.is_some() {
                    goal = option.goal;
                }
            }
            score = score.saturating_add(contribution.unwrap_or(0));
        }
        if let Some(vs) = &mut varieties {
            vs.sort_unstable();
        }
        let level = if lowest {
            score = 0;
            RiskLevel::C1
        } else {
            match self.band_of(score) {
                Some(band) => band.level,
                None => return Err(AnswerError::NoBand { score }),
            }
        };
        Ok(AssessmentResult { level, lowest, score: Some(score), horizon_months: horizon, varieties, goal })
    }

    /// [`parse_answers`] then [`Questionnaire::score`].
    pub fn score_str(&self, answers: &str) -> Result<AssessmentResult, AnswerError> {
        self.score(&parse_answers(answers)?)
    }
}

/// Orders horizons so that 0 (unlimited) is the longest.
fn horizon_rank(months: u32) -> u64 {
    if months == 0 {
        u64::MAX
    } else {
        u64::from(months)
    }
}

/// The default questionnaire shipped with the product.
pub const DEFAULT_TOML: &str = include_str!("../../../questionnaires/cn-default.toml");

/// The name [`DEFAULT_TOML`] goes by in messages.
pub const DEFAULT_SOURCE: &str = "questionnaires/cn-default.toml";

/// Parses [`DEFAULT_TOML`]. A test proves it succeeds.
pub fn builtin() -> Result<Questionnaire, Vec<DefinitionError>> {
    Questionnaire::parse(DEFAULT_TOML, DEFAULT_SOURCE)
}

/// The default questionnaire, parsed once.
///
/// [`builtin`] is proven by a test to succeed; were it ever to fail, this
/// returns an empty questionnaire with id `invalid-builtin` that scores no
/// answer set (every scoring attempt is an error) rather than panicking.
pub fn builtin_default() -> Questionnaire {
    static DEFAULT: OnceLock<Questionnaire> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            builtin().unwrap_or_else(|_| Questionnaire {
                id: "invalid-builtin".to_string(),
                title: I18nText::new("内置问卷无效", "invalid built-in questionnaire"),
                validity_months: None,
                bands: Vec::new(),
                questions: Vec::new(),
            })
        })
        .clone()
}

#[cfg(test)]
mod tests;
