//! Money amounts as pretix stores them: decimals with exactly two places.

use std::fmt;

/// A decimal amount with two places, kept as its canonical text (`"145.50"`, `"-3.00"`),
/// which is what Python's `str(Decimal)` gives for pretix's `DecimalField(decimal_places=2)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal2(String);

impl Decimal2 {
    /// Parses `"145.5"`, `"145.50"`, `"-0.5"`, `"12"`; at most two decimal places,
    /// no exponent. Returns `None` for anything else.
    pub fn parse(text: &str) -> Option<Decimal2> {
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, text.get(1..)?),
            Some(b'+') => (false, text.get(1..)?),
            _ => (false, text),
        };
        let (int, frac) = match rest.split_once('.') {
            Some((i, f)) => (i, f),
            None => (rest, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if frac.len() > 2 {
            return None;
        }
        let int = int.trim_start_matches('0');
        let mut s = String::with_capacity(int.len() + 4);
        if negative {
            s.push('-');
        }
        s.push_str(if int.is_empty() { "0" } else { int });
        s.push('.');
        s.push_str(frac);
        for _ in frac.len()..2 {
            s.push('0');
        }
        Some(Decimal2(s))
    }

    /// The canonical text with two places.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Decimal2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> Option<String> {
        Decimal2::parse(s).map(|d| d.as_str().to_string())
    }

    #[test]
    fn amounts_are_rendered_with_two_places() {
        assert_eq!(canon("145.50").as_deref(), Some("145.50"));
        assert_eq!(canon("145.5").as_deref(), Some("145.50"));
        assert_eq!(canon("46").as_deref(), Some("46.00"));
        assert_eq!(canon("0.00").as_deref(), Some("0.00"));
        assert_eq!(canon("-.5").as_deref(), Some("-0.50"));
        assert_eq!(canon("007.10").as_deref(), Some("7.10"));
    }

    #[test]
    fn non_decimals_and_extra_places_are_rejected() {
        for bad in ["", ".", "abc", "1e3", "1.234", "1,50", "--1", " 1"] {
            assert_eq!(canon(bad), None, "{bad:?}");
        }
    }
}
