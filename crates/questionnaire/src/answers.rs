//! The answer-set format of PRODUCT.md 7.3 (`q1=A;q2=B,C;…`) and the errors an
//! answer set can have, whether it is malformed or does not fit the questionnaire.

use std::fmt;

/// An answer set: for each answered question, in the order given, the chosen
/// option ids in the order given. [`parse_answers`] builds one from the text
/// format; [`crate::Questionnaire::score`] checks it against a definition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answers(pub Vec<(String, Vec<String>)>);

impl fmt::Display for Answers {
    /// Writes the answers back in the import format: `q1=A;q2=B,C`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (question, options)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{question}={}", options.join(","))?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Answers {
    type Err = AnswerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_answers(s)
    }
}

/// Why an answer set cannot be scored. Each message names the question (and
/// option) concerned; [`AnswerError::code`] gives a stable code for the UI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The text is not in the form `q1=A;q2=B,C`.
    #[error("answer {item:?}: {message}")]
    Syntax { item: String, message: String },
    #[error("question {question} is answered twice")]
    DuplicateQuestion { question: String },
    #[error("question {question}: option {option} is chosen twice")]
    DuplicateOption { question: String, option: String },
    #[error("question {question}: no option chosen")]
    NoOption { question: String },
    #[error("unknown question {question}")]
    UnknownQuestion { question: String },
    #[error("question {question}: option {option} does not exist (options: {})", .options.join(", "))]
    UnknownOption { question: String, option: String, options: Vec<String> },
    /// A single-choice question was given several options.
    #[error("question {question} takes one option, got {got}")]
    TooManyOptions { question: String, got: usize },
    /// Every question must be answered; lists the unanswered ones in
    /// questionnaire order.
    #[error("{}", unanswered_message(.questions))]
    NotAnswered { questions: Vec<String> },
    /// Cannot happen with a validated questionnaire (its bands cover every
    /// reachable score); kept so that scoring never panics.
    #[error("score {score} is not in any band of the questionnaire")]
    NoBand { score: i64 },
}

impl AnswerError {
    /// A stable code, for translation and for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            AnswerError::Syntax { .. } => "answers.syntax",
            AnswerError::DuplicateQuestion { .. } => "answers.duplicate_question",
            AnswerError::DuplicateOption { .. } => "answers.duplicate_option",
            AnswerError::NoOption { .. } => "answers.no_option",
            AnswerError::UnknownQuestion { .. } => "answers.unknown_question",
            AnswerError::UnknownOption { .. } => "answers.unknown_option",
            AnswerError::TooManyOptions { .. } => "answers.too_many_options",
            AnswerError::NotAnswered { .. } => "answers.not_answered",
            AnswerError::NoBand { .. } => "answers.no_band",
        }
    }
}

fn unanswered_message(questions: &[String]) -> String {
    match questions {
        [one] => format!("question {one} is not answered"),
        many => format!("questions {} are not answered", many.join(", ")),
    }
}

/// Parses `q1=A;q2=B,C;…` into an ordered list of (question id, option ids).
///
/// Whitespace around items, ids and options is tolerated; empty items (a
/// trailing `;`, or `;;`) are ignored. Errors: an item without `=` or with
/// more than one, an empty question id, an empty option (`q2=B,,C`), no option
/// at all (`q2=`), a question named twice, an option named twice within one
/// question. Whether the ids exist is checked when scoring.
pub fn parse_answers(s: &str) -> Result<Answers, AnswerError> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for item in s.split(';') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let syntax = |message: &str| AnswerError::Syntax { item: item.to_string(), message: message.to_string() };
        let Some((question, options)) = item.split_once('=') else {
            return Err(syntax("expected question=option, e.g. q1=A or q2=B,C"));
        };
        if options.contains('=') {
            return Err(syntax("more than one '=' in one answer; separate answers with ';'"));
        }
        let question = question.trim();
        if question.is_empty() {
            return Err(syntax("missing question id before '='"));
        }
        if options.trim().is_empty() {
            return Err(AnswerError::NoOption { question: question.to_string() });
        }
        if out.iter().any(|(q, _)| q == question) {
            return Err(AnswerError::DuplicateQuestion { question: question.to_string() });
        }
        let mut chosen: Vec<String> = Vec::new();
        for option in options.split(',') {
            let option = option.trim();
            if option.is_empty() {
                return Err(syntax("empty option id; separate options with a single ','"));
            }
            if chosen.iter().any(|o| o == option) {
                return Err(AnswerError::DuplicateOption {
                    question: question.to_string(),
                    option: option.to_string(),
                });
            }
            chosen.push(option.to_string());
        }
        out.push((question.to_string(), chosen));
    }
    Ok(Answers(out))
}
