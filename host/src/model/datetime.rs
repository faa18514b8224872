//! Timezone-aware date-times as pretix's REST API writes them, rendered back the way
//! Python's `datetime.isoformat()` renders a UTC value.

use std::fmt;

/// A point in time, normalised to UTC, with microsecond precision.
///
/// Parsed from ISO 8601 (`2026-09-15T19:45:00.000120Z`, `…+02:00`); rendered by
/// [`DateTime::isoformat`] exactly like Python's `isoformat()` on an aware UTC value:
/// `2026-09-15T19:45:00.000120+00:00`, with the fraction only when it is non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    micros: u32,
}

/// Why a date-time could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTimeError(&'static str);

impl fmt::Display for DateTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let b = self.peek()?;
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(b - b'0');
            self.pos += 1;
        }
        Some(v)
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 (proleptic Gregorian), H. Hinnant's algorithm.
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    ((y + i64::from(m <= 2)) as i32, m, d)
}

impl DateTime {
    /// Builds a UTC date-time from its parts (`None` if any part is out of range).
    pub fn from_parts(
        year: i32,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        micros: u32,
    ) -> Option<DateTime> {
        let ok = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60
            && micros < 1_000_000;
        ok.then_some(DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micros,
        })
    }

    /// Parses an ISO 8601 date-time with a time zone (`Z`, `±HH:MM` or `±HHMM`) and
    /// converts it to UTC. A fraction of up to 9 digits is accepted and truncated to
    /// microseconds (Python keeps microseconds).
    pub fn parse(text: &str) -> Result<DateTime, DateTimeError> {
        const SHAPE: DateTimeError =
            DateTimeError("expected an ISO 8601 date-time such as 2026-09-15T19:45:00Z");
        let mut c = Cursor {
            bytes: text.as_bytes(),
            pos: 0,
        };
        let year = c.digits(4).ok_or(SHAPE)?;
        let month = (c.eat(b'-').then(|| c.digits(2)).flatten()).ok_or(SHAPE)?;
        let day = (c.eat(b'-').then(|| c.digits(2)).flatten()).ok_or(SHAPE)?;
        if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
            return Err(SHAPE);
        }
        let hour = c.digits(2).ok_or(SHAPE)?;
        let minute = (c.eat(b':').then(|| c.digits(2)).flatten()).ok_or(SHAPE)?;
        let second = if c.eat(b':') {
            c.digits(2).ok_or(SHAPE)?
        } else {
            0
        };
        let mut micros = 0u32;
        if c.eat(b'.') || c.eat(b',') {
            let mut n = 0;
            while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
                if n < 6 {
                    micros = micros * 10 + u32::from(b - b'0');
                }
                n += 1;
                c.pos += 1;
            }
            if n == 0 || n > 9 {
                return Err(SHAPE);
            }
            for _ in n..6 {
                micros *= 10;
            }
        }
        let offset_minutes: i64 = match c.peek() {
            Some(b'Z') | Some(b'z') => {
                c.pos += 1;
                0
            }
            Some(sign @ (b'+' | b'-')) => {
                c.pos += 1;
                let h = c.digits(2).ok_or(SHAPE)?;
                c.eat(b':');
                let m = c.digits(2).ok_or(SHAPE)?;
                if h > 23 || m > 59 {
                    return Err(SHAPE);
                }
                let total = i64::from(h * 60 + m);
                if sign == b'-' {
                    -total
                } else {
                    total
                }
            }
            _ => {
                return Err(DateTimeError(
                    "expected a date-time with a time zone (Z or ±HH:MM)",
                ))
            }
        };
        if c.pos != c.bytes.len() {
            return Err(SHAPE);
        }
        let to_u8 = |v: u32| u8::try_from(v).map_err(|_| SHAPE);
        let local = DateTime::from_parts(
            i32::try_from(year).map_err(|_| SHAPE)?,
            to_u8(month)?,
            to_u8(day)?,
            to_u8(hour)?,
            to_u8(minute)?,
            to_u8(second)?,
            micros,
        )
        .ok_or(DateTimeError("date-time out of range"))?;
        if offset_minutes == 0 {
            return Ok(local);
        }
        let minutes = days_from_civil(local.year, local.month, local.day) * 1440
            + i64::from(local.hour) * 60
            + i64::from(local.minute)
            - offset_minutes;
        let (y, mo, d) = civil_from_days(minutes.div_euclid(1440));
        let rem = minutes.rem_euclid(1440);
        DateTime::from_parts(
            y,
            mo,
            d,
            (rem / 60) as u8,
            (rem % 60) as u8,
            local.second,
            micros,
        )
        .ok_or(DateTimeError("date-time out of range"))
    }

    /// Python's `isoformat()` of this UTC value: `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`.
    pub fn isoformat(&self) -> String {
        fn digits(out: &mut [u8], mut v: u32) {
            for slot in out.iter_mut().rev() {
                *slot = b'0' + (v % 10) as u8;
                v /= 10;
            }
        }
        let mut buf = *b"0000-00-00T00:00:00.000000+00:00";
        let year = u32::try_from(self.year).unwrap_or(0);
        let fields: [(usize, usize, u32); 7] = [
            (0, 4, year),
            (5, 7, u32::from(self.month)),
            (8, 10, u32::from(self.day)),
            (11, 13, u32::from(self.hour)),
            (14, 16, u32::from(self.minute)),
            (17, 19, u32::from(self.second)),
            (20, 26, self.micros),
        ];
        for (from, to, v) in fields {
            if let Some(slot) = buf.get_mut(from..to) {
                digits(slot, v);
            }
        }
        let mut s = String::with_capacity(buf.len());
        let (date_time, tail) = buf.split_at(19);
        s.push_str(std::str::from_utf8(date_time).unwrap_or_default());
        if self.micros != 0 {
            s.push_str(std::str::from_utf8(tail.get(..7).unwrap_or_default()).unwrap_or_default());
        }
        s.push_str("+00:00");
        s
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.isoformat())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str) -> String {
        DateTime::parse(s)
            .map(|d| d.isoformat())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn utc_z_becomes_plus_zero_offset_without_zero_fraction() {
        assert_eq!(iso("2026-09-15T07:00:00Z"), "2026-09-15T07:00:00+00:00");
        assert_eq!(
            iso("2026-09-15T07:00:00.000000Z"),
            "2026-09-15T07:00:00+00:00"
        );
    }

    #[test]
    fn non_zero_fraction_is_rendered_with_six_digits() {
        assert_eq!(
            iso("2026-09-15T19:45:00.000120Z"),
            "2026-09-15T19:45:00.000120+00:00"
        );
        assert_eq!(
            iso("2026-10-01T08:30:00.25Z"),
            "2026-10-01T08:30:00.250000+00:00"
        );
    }

    #[test]
    fn offsets_are_converted_to_utc_across_day_and_year_boundaries() {
        assert_eq!(
            iso("2026-01-01T01:30:00+02:00"),
            "2025-12-31T23:30:00+00:00"
        );
        assert_eq!(iso("2024-02-28T23:00:00-0130"), "2024-02-29T00:30:00+00:00");
    }

    #[test]
    fn naive_and_malformed_date_times_are_rejected() {
        assert!(DateTime::parse("2026-09-15T07:00:00").is_err());
        assert!(DateTime::parse("2026-02-30T07:00:00Z").is_err());
        assert!(DateTime::parse("yesterday").is_err());
    }
}
