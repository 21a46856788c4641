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

/// Appends `d` as its `Display` writes it (every digit of its scale, a
/// leading `0.` below one, `-` when negative and not zero) — by hand for
/// mantissas that fit in a u64, which is every amount a bank stores; the
/// batch writes millions of them.
pub fn push_decimal(out: &mut String, d: &Decimal) {
    let m = d.mantissa();
    let Ok(abs) = u64::try_from(m.unsigned_abs()) else {
        use std::fmt::Write;
        let _ = write!(out, "{d}");
        return;
    };
    let scale = d.scale() as usize;
    let mut digits = [0u8; 20];
    let mut n = 0;
    let mut v = abs;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if d.is_sign_negative() {
        out.push('-');
    }
    if n <= scale {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - n));
        out.extend(digits[..n].iter().rev().map(|&b| b as char));
    } else {
        out.extend(digits[scale..n].iter().rev().map(|&b| b as char));
        if scale > 0 {
            out.push('.');
            out.extend(digits[..scale].iter().rev().map(|&b| b as char));
        }
    }
}

/// `d` as text, as its `Display` writes it (see [`push_decimal`]).
pub fn decimal_text(d: &Decimal) -> String {
    let mut s = String::with_capacity(24);
    push_decimal(&mut s, d);
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The hand-written text is `Display`'s, for every sign, scale and size.
    #[test]
    fn decimal_text_is_displays() {
        let mut cases: Vec<Decimal> = [
            "0",
            "0.00",
            "-0",
            "-0.00",
            "1",
            "-1",
            "0.5",
            "-0.5",
            "10",
            "100.00",
            "1234.56",
            "-167414.66",
            "0.0035",
            "0.000000001",
            "-0.0321269893605508291654684065",
            "18446744073709551615",
            "18446744073709551616",
            "-18446744073709551615.5",
            "79228162514264337593543950335",
            "-7.9228162514264337593543950335",
            "224885.34",
            "360500.00",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        cases.push(-Decimal::ZERO);
        cases.push(Decimal::new(0, 28));
        cases.push(-Decimal::new(0, 5));
        for m in [1i64, 9, 10, 99, 101, 123_456_789, i64::MAX, -42, i64::MIN + 1] {
            for scale in 0..=28 {
                cases.push(Decimal::new(m, scale));
            }
        }
        for d in cases {
            assert_eq!(decimal_text(&d), d.to_string(), "{d:?}");
        }
    }

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
