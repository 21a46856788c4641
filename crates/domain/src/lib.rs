//! Tierwise domain: the bank's records as plain Rust types, with no I/O.
//!
//! This crate owns the vocabulary every other crate speaks: identifiers, money
//! (`rust_decimal::Decimal`, never binary floating point), calendar rules
//! (month-end clamping, 29 February birthdays, local-date windows) and the
//! enumerations of PRODUCT.md 2. It must never know about SQL, HTTP, files or
//! the terminal.

pub mod dates;
pub mod enums;
pub mod import_format;
pub mod money;
pub mod records;

pub use dates::{add_months_clamped, age_at, nth_birthday, parse_date, parse_timestamp, LocalDate, LocalDateTime};
pub use enums::*;
pub use money::{parse_money, Money};
pub use records::*;

/// A value that failed to parse: the reason, in English, without the place
/// (the caller knows the file, line and column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(msg: impl Into<String>) -> Self {
        ParseError(msg.into())
    }
}

/// A text in the two languages every user-facing string has.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct I18nText {
    pub zh: String,
    pub en: String,
}

impl I18nText {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        I18nText { zh: zh.into(), en: en.into() }
    }
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// The user-interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Result<Lang, ParseError> {
        match s {
            "zh" | "zh-CN" => Ok(Lang::Zh),
            "en" => Ok(Lang::En),
            other => Err(ParseError::new(format!("unknown language {other:?}: expected zh or en"))),
        }
    }
}
