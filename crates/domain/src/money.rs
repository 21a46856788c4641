//! Money: decimal, never binary floating point.

use crate::ParseError;
pub use rust_decimal::Decimal;

/// An amount of money (CNY unless a currency says otherwise).
pub type Money = Decimal;

/// Parses a non-negative decimal written plainly (`1234.56`): digits with an
/// optional fraction, no sign, no thousands separators, no currency symbol,
/// no exponent.
pub fn parse_money(s: &str) -> Result<Money, ParseError> {
    let bad = || {
        ParseError::new(format!(
            "{s:?} is not a plain non-negative decimal (write it like 1234.56: no sign, separators or currency)"
        ))
    };
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
    }
    s.parse::<Decimal>().map_err(|_| ParseError::new(format!("{s:?} is out of the decimal range")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_parse_exactly() {
        assert_eq!(parse_money("1234.56").unwrap().to_string(), "1234.56");
        assert_eq!(parse_money("0").unwrap(), Decimal::ZERO);
        assert_eq!(parse_money("0.0035").unwrap().to_string(), "0.0035");
    }

    #[test]
    fn separators_signs_and_symbols_are_rejected() {
        for s in ["1,234.56", "-1", "+1", "¥100", "1e5", "", ".5", "5.", "1 000", "NaN"] {
            assert!(parse_money(s).is_err(), "{s} should be rejected");
        }
    }
}
