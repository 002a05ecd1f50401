//! Points in time as sops reads and writes them: Go's `time.Time` with its UTC offset, parsed
//! with Go's `time.Parse` rules (RFC 3339 and the layouts yaml.v3 tries) and formatted as Go's
//! `MarshalText` (nanoseconds) and `time.RFC3339` (seconds, the MAC's AAD) format them.
//!
//! Below both `tree` (a `time` value) and `metadata` (`lastmodified`), so neither needs the other.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// A point in time with its UTC offset, as sops's `time` type (Go `time.Time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// Parses RFC 3339 as Go's `time.Time.UnmarshalText` does.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        // Go tries a strict fast path first and then falls back to `time.Parse(RFC3339)`,
        // which accepts a superset (one-digit hours, `,` before the fraction, zone offsets up
        // to 24:60), so the fallback's rules are the whole story.
        parse_layout(Layout::Rfc3339, text)
    }

    /// Go's `time.Time.MarshalText`: RFC 3339 with nanoseconds, trailing zeros trimmed, `Z` for
    /// a zero offset.
    pub fn to_rfc3339_nano(&self) -> String {
        let t = self.0;
        let mut out = String::with_capacity(35);
        push_padded(&mut out, i64::from(t.year()), 4);
        out.push('-');
        push_padded(&mut out, i64::from(u8::from(t.month())), 2);
        out.push('-');
        push_padded(&mut out, i64::from(t.day()), 2);
        out.push('T');
        push_padded(&mut out, i64::from(t.hour()), 2);
        out.push(':');
        push_padded(&mut out, i64::from(t.minute()), 2);
        out.push(':');
        push_padded(&mut out, i64::from(t.second()), 2);
        let nanos = t.nanosecond();
        if nanos != 0 {
            let digits = format!("{nanos:09}");
            out.push('.');
            out.push_str(digits.trim_end_matches('0'));
        }
        let offset = t.offset().whole_seconds();
        if offset == 0 {
            out.push('Z');
            return out;
        }
        // Go drops the seconds of an offset (integer division toward zero).
        let mut minutes = offset / 60;
        if minutes < 0 {
            out.push('-');
            minutes = -minutes;
        } else {
            out.push('+');
        }
        push_padded(&mut out, i64::from(minutes / 60), 2);
        out.push(':');
        push_padded(&mut out, i64::from(minutes % 60), 2);
        out
    }
}

/// Go's `appendInt(b, x, width)`: a sign, then the magnitude zero-padded to `width`.
fn push_padded(out: &mut String, value: i64, width: usize) {
    if value < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", value.unsigned_abs()));
}

/// Go `time.RFC3339` formatting: seconds precision, `Z` for UTC, else `±hh:mm`.
pub fn format_rfc3339_seconds(t: &Timestamp) -> String {
    let dt = t.0;
    let offset = dt.offset();
    let zone = if offset.is_utc() {
        "Z".to_string()
    } else {
        let total = offset.whole_seconds();
        let sign = if total < 0 { '-' } else { '+' };
        let abs = total.abs();
        format!("{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// `lastmodified` for a file written now.
pub fn now_last_modified() -> String {
    let now = time::OffsetDateTime::now_utc();
    format_rfc3339_seconds(&Timestamp(now))
}

/// The Go `time.Parse` layouts ksec needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `2006-01-02T15:04:05Z07:00` (`time.RFC3339`).
    Rfc3339,
    /// `2006-1-2T15:4:5.999999999Z07:00` (yaml.v3).
    YamlUpperT,
    /// `2006-1-2t15:4:5.999999999Z07:00` (yaml.v3).
    YamlLowerT,
    /// `2006-1-2 15:4:5.999999999` (yaml.v3; UTC).
    YamlSpace,
    /// `2006-1-2` (yaml.v3; midnight UTC).
    YamlDate,
}

/// One element of a Go layout. `fixed` means exactly two digits (`01`), else one or two (`1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Literal(u8),
    LongYear,
    Month { fixed: bool },
    Day { fixed: bool },
    Hour,
    Minute { fixed: bool },
    Second { fixed: bool },
    FracSecond9,
    ColonZone,
}

impl Layout {
    fn chunks(self) -> &'static [Chunk] {
        use Chunk::*;
        const RFC3339: &[Chunk] = &[
            LongYear,
            Literal(b'-'),
            Month { fixed: true },
            Literal(b'-'),
            Day { fixed: true },
            Literal(b'T'),
            Hour,
            Literal(b':'),
            Minute { fixed: true },
            Literal(b':'),
            Second { fixed: true },
            ColonZone,
        ];
        const YAML_UPPER_T: &[Chunk] = &[
            LongYear,
            Literal(b'-'),
            Month { fixed: false },
            Literal(b'-'),
            Day { fixed: false },
            Literal(b'T'),
            Hour,
            Literal(b':'),
            Minute { fixed: false },
            Literal(b':'),
            Second { fixed: false },
            FracSecond9,
            ColonZone,
        ];
        const YAML_LOWER_T: &[Chunk] = &[
            LongYear,
            Literal(b'-'),
            Month { fixed: false },
            Literal(b'-'),
            Day { fixed: false },
            Literal(b't'),
            Hour,
            Literal(b':'),
            Minute { fixed: false },
            Literal(b':'),
            Second { fixed: false },
            FracSecond9,
            ColonZone,
        ];
        const YAML_SPACE: &[Chunk] = &[
            LongYear,
            Literal(b'-'),
            Month { fixed: false },
            Literal(b'-'),
            Day { fixed: false },
            Literal(b' '),
            Hour,
            Literal(b':'),
            Minute { fixed: false },
            Literal(b':'),
            Second { fixed: false },
            FracSecond9,
        ];
        const YAML_DATE: &[Chunk] = &[
            LongYear,
            Literal(b'-'),
            Month { fixed: false },
            Literal(b'-'),
            Day { fixed: false },
        ];
        match self {
            Layout::Rfc3339 => RFC3339,
            Layout::YamlUpperT => YAML_UPPER_T,
            Layout::YamlLowerT => YAML_LOWER_T,
            Layout::YamlSpace => YAML_SPACE,
            Layout::YamlDate => YAML_DATE,
        }
    }
}

/// Go `time.Parse(layout, text)` for the layouts above: out-of-range fields and impossible
/// dates fail, a missing zone means UTC, and fractional seconds beyond 9 digits are truncated.
pub(crate) fn parse_layout(layout: Layout, text: &str) -> Option<Timestamp> {
    let chunks = layout.chunks();
    let mut value = text.as_bytes();
    let (mut year, mut month, mut day) = (0i32, 1u8, 1u8);
    let (mut hour, mut minute, mut second, mut nanos) = (0u8, 0u8, 0u8, 0u32);
    let mut offset = 0i32;
    for (at, chunk) in chunks.iter().enumerate() {
        match *chunk {
            Chunk::Literal(b' ') => {
                // Go matches a layout space with a run of spaces (or the end of the text).
                if value.first().is_some_and(|&c| c != b' ') {
                    return None;
                }
                while value.first() == Some(&b' ') {
                    value = &value[1..];
                }
            }
            Chunk::Literal(c) => value = value.strip_prefix(&[c])?,
            Chunk::LongYear => {
                let (digits, rest) = value.split_at_checked(4)?;
                if !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                year = digits.iter().fold(0, |acc, &c| acc * 10 + i32::from(c - b'0'));
                value = rest;
            }
            Chunk::Month { fixed } => {
                month = take_number(&mut value, fixed)?;
                if !(1..=12).contains(&month) {
                    return None;
                }
            }
            Chunk::Day { fixed } => day = take_number(&mut value, fixed)?,
            Chunk::Hour => {
                hour = take_number(&mut value, false)?;
                if hour >= 24 {
                    return None;
                }
            }
            Chunk::Minute { fixed } => {
                minute = take_number(&mut value, fixed)?;
                if minute >= 60 {
                    return None;
                }
            }
            Chunk::Second { fixed } => {
                second = take_number(&mut value, fixed)?;
                if second >= 60 {
                    return None;
                }
                // A fraction the layout does not mention is still accepted after seconds.
                let layout_has_fraction =
                    chunks[at + 1..].iter().find(|c| !matches!(c, Chunk::Literal(_))) == Some(&Chunk::FracSecond9);
                if !layout_has_fraction && starts_fraction(value) {
                    nanos = take_fraction(&mut value);
                }
            }
            Chunk::FracSecond9 => {
                if starts_fraction(value) {
                    nanos = take_fraction(&mut value);
                }
            }
            Chunk::ColonZone => offset = take_zone(&mut value)?,
        }
    }
    if !value.is_empty() {
        return None;
    }
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let time = time::Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    let offset = UtcOffset::from_whole_seconds(offset).ok()?;
    Some(Timestamp(PrimitiveDateTime::new(date, time).assume_offset(offset)))
}

/// Go `getnum`: one or two digits (exactly two when `fixed`).
fn take_number(value: &mut &[u8], fixed: bool) -> Option<u8> {
    let first = *value.first().filter(|c| c.is_ascii_digit())?;
    match value.get(1).filter(|c| c.is_ascii_digit()) {
        Some(&second) => {
            *value = &value[2..];
            Some((first - b'0') * 10 + (second - b'0'))
        }
        None if fixed => None,
        None => {
            *value = &value[1..];
            Some(first - b'0')
        }
    }
}

/// `.` or `,` followed by a digit.
fn starts_fraction(value: &[u8]) -> bool {
    value.len() >= 2 && matches!(value[0], b'.' | b',') && value[1].is_ascii_digit()
}

/// Go `parseNanoseconds` over all the digits after the separator, truncated to nanoseconds.
fn take_fraction(value: &mut &[u8]) -> u32 {
    let count = value[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    let digits = &value[1..1 + count];
    let mut nanos = 0u32;
    for i in 0..9 {
        nanos = nanos * 10 + digits.get(i).map_or(0, |&c| u32::from(c - b'0'));
    }
    *value = &value[1 + count..];
    nanos
}

/// Go's `Z07:00`: `Z`, or `±hh:mm` with hours up to 24 and minutes up to 60 (sic).
fn take_zone(value: &mut &[u8]) -> Option<i32> {
    if value.first() == Some(&b'Z') {
        *value = &value[1..];
        return Some(0);
    }
    if value.len() < 6 || value[3] != b':' {
        return None;
    }
    let (mut hours, mut minutes) = (&value[1..3], &value[4..6]);
    let hours = i32::from(take_number(&mut hours, true)?);
    let minutes = i32::from(take_number(&mut minutes, true)?);
    if hours > 24 || minutes > 60 {
        return None;
    }
    let magnitude = (hours * 60 + minutes) * 60;
    let offset = match value[0] {
        b'+' => magnitude,
        b'-' => -magnitude,
        _ => return None,
    };
    *value = &value[6..];
    Some(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc3339(text: &str) -> Option<String> {
        Timestamp::parse_rfc3339(text).map(|t| t.to_rfc3339_nano())
    }

    #[test]
    fn time_round_trips_and_trims_fractions() {
        for text in [
            "2024-01-01T00:00:00Z",
            "2001-12-14T21:59:43.1-05:00",
            "2001-12-14T21:59:43.123456789+05:30",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2024-02-29T12:00:00+14:00",
        ] {
            assert_eq!(rfc3339(text).as_deref(), Some(text));
        }
        for (text, want) in [
            ("2001-12-14T21:59:43.100000000-05:00", "2001-12-14T21:59:43.1-05:00"),
            ("2001-12-14T21:59:43.000Z", "2001-12-14T21:59:43Z"),
            ("2001-12-14T21:59:43.120+00:00", "2001-12-14T21:59:43.12Z"),
            ("2001-12-14T21:59:43-00:00", "2001-12-14T21:59:43Z"),
            // Go's fallback parser: one-digit hour, `,` fraction, >9 digits truncated.
            ("2024-01-01T1:02:03Z", "2024-01-01T01:02:03Z"),
            ("2024-01-01T00:00:00,5Z", "2024-01-01T00:00:00.5Z"),
            ("2024-01-01T00:00:00.1234567899Z", "2024-01-01T00:00:00.123456789Z"),
            ("2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00+24:00"),
        ] {
            assert_eq!(rfc3339(text).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn time_rejects_what_go_rejects() {
        for text in [
            "2024-01-01t00:00:00Z",
            "2024-01-01T00:00:00z",
            "2024-01-01T00:00:00",
            "2024-01-01",
            "2024-1-01T00:00:00Z",
            "2024-01-1T00:00:00Z",
            "2024-01-01T00:0:00Z",
            "2024-01-01T00:00:0Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:60Z",
            "2024-01-01T00:00:00+25:00",
            "2024-01-01T00:00:00+0500",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00Z ",
            "24-01-01T00:00:00Z",
            "",
        ] {
            assert_eq!(rfc3339(text), None, "{text:?}");
        }
    }

    #[test]
    fn yaml_layouts_accept_short_fields() {
        for (layout, text, want) in [
            (Layout::YamlDate, "2024-1-2", "2024-01-02T00:00:00Z"),
            (Layout::YamlUpperT, "2024-1-2T3:4:5Z", "2024-01-02T03:04:05Z"),
            (
                Layout::YamlLowerT,
                "2024-1-2t3:4:5.5+01:00",
                "2024-01-02T03:04:05.5+01:00",
            ),
            (Layout::YamlSpace, "2001-12-14 21:59:43.10", "2001-12-14T21:59:43.1Z"),
            (Layout::YamlSpace, "2001-12-14   21:59:43", "2001-12-14T21:59:43Z"),
        ] {
            let got = parse_layout(layout, text).map(|t| t.to_rfc3339_nano());
            assert_eq!(got.as_deref(), Some(want), "{text}");
        }
        assert_eq!(parse_layout(Layout::YamlDate, "2024-2-30"), None);
        assert_eq!(parse_layout(Layout::YamlSpace, "2001-12-14 21:59:43 -5"), None);
    }
}
