//! Canonical SOPS byte forms of scalar values, and parsing them back.
//!
//! sops encrypts and hashes Go's text for each value (`strconv.Itoa`, `FormatFloat(v,'f',-1,64)`,
//! `True`/`False`, `time.MarshalText`), and parses decrypted text with Go's lenient parsers.
//! Everything here reproduces Go's output exactly; the MAC depends on it.

use zeroize::Zeroizing;

use crate::timestamp::Timestamp;
use crate::tree::Value;

/// The `type:` of an encrypted value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Str,
    Int,
    Float,
    Bool,
    Time,
    Comment,
}

/// What a decrypted plaintext turned into.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Value(Value),
    Comment(String),
}

impl ValueType {
    /// The name written after `type:`.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Str => "str",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::Bool => "bool",
            ValueType::Time => "time",
            ValueType::Comment => "comment",
        }
    }

    /// Reads a `type:` name; `None` for names sops rejects or that crash it (`bytes`).
    pub fn from_name(name: &str) -> Option<ValueType> {
        match name {
            "str" => Some(ValueType::Str),
            "int" => Some(ValueType::Int),
            "float" => Some(ValueType::Float),
            "bool" => Some(ValueType::Bool),
            "time" => Some(ValueType::Time),
            "comment" => Some(ValueType::Comment),
            _ => None,
        }
    }

    /// The type sops writes for a value; `None` for null.
    pub fn of(value: &Value) -> Option<ValueType> {
        match value {
            Value::Null => None,
            Value::Bool(_) => Some(ValueType::Bool),
            Value::Int(_) => Some(ValueType::Int),
            Value::Float(_) => Some(ValueType::Float),
            Value::Str(_) | Value::Bytes(_) => Some(ValueType::Str),
            Value::Time(_) => Some(ValueType::Time),
        }
    }
}

/// Appends the canonical bytes of a value (sops `ToBytes`, also the GCM plaintext) to `out`.
/// Null appends nothing.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => {}
        Value::Bool(true) => out.extend_from_slice(b"True"),
        Value::Bool(false) => out.extend_from_slice(b"False"),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => out.extend_from_slice(format_float_f(*f).as_bytes()),
        Value::Str(s) => out.extend_from_slice(s.as_bytes()),
        Value::Time(t) => out.extend_from_slice(t.to_rfc3339_nano().as_bytes()),
        Value::Bytes(b) => out.extend_from_slice(b),
    }
}

/// Text as a string value when it is UTF-8, else as raw bytes (Go strings hold any bytes).
/// The buffer moves into the value; nothing is copied.
pub fn string_or_bytes(mut bytes: Zeroizing<Vec<u8>>) -> Value {
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(s) => Value::Str(Zeroizing::new(s)),
        Err(e) => Value::Bytes(Zeroizing::new(e.into_bytes())),
    }
}

/// Parses a decrypted plaintext of the given type, leniently as Go does.
pub fn parse_plaintext(ty: ValueType, bytes: &[u8]) -> Result<Decoded, String> {
    let value = match ty {
        ValueType::Str => match String::from_utf8(bytes.to_vec()) {
            Ok(s) => Value::Str(Zeroizing::new(s)),
            Err(e) => Value::Bytes(Zeroizing::new(e.into_bytes())),
        },
        ValueType::Comment => return Ok(Decoded::Comment(utf8(ty, bytes)?.to_string())),
        ValueType::Int => Value::Int(go_parse_int(utf8(ty, bytes)?, 10).map_err(|e| e.describe("int"))?),
        ValueType::Float => Value::Float(go_parse_float(utf8(ty, bytes)?).map_err(|e| e.describe("float"))?),
        ValueType::Bool => {
            Value::Bool(go_parse_bool(utf8(ty, bytes)?).ok_or("the decrypted value is not a valid bool")?)
        }
        ValueType::Time => Value::Time(
            Timestamp::parse_rfc3339(utf8(ty, bytes)?).ok_or("the decrypted value is not a valid RFC 3339 time")?,
        ),
    };
    Ok(Decoded::Value(value))
}

/// The plaintext as text; every type but `str` is ASCII in Go's eyes.
fn utf8(ty: ValueType, bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|_| format!("the decrypted {} value is not valid UTF-8", ty.name()))
}

/// Go `strconv.FormatFloat(v, 'f', -1, 64)`.
pub fn format_float_f(v: f64) -> String {
    if let Some(special) = non_finite(v) {
        return special.to_string();
    }
    let digits = ShortestDigits::of(v);
    let mut out = String::with_capacity(24);
    digits.write_fixed(&mut out);
    out
}

/// A value as sops's `ValToString` writes it where only text fits (the environment of
/// `exec-env`, dotenv files): floats in Go's `%G` style with `.0` added where they would read
/// as integers, times in RFC 3339, null as empty.
pub fn go_text(value: &Value) -> Vec<u8> {
    match value {
        Value::Null => Vec::new(),
        Value::Bool(b) => b.to_string().into_bytes(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::Float(f) if !f.is_finite() => format_float_g(*f).into_bytes(),
        Value::Float(f) => {
            let text = format_float_g(*f).replace('e', "E");
            if text.contains(['.', 'E']) {
                text.into_bytes()
            } else {
                format!("{text}.0").into_bytes()
            }
        }
        Value::Str(s) => s.as_bytes().to_vec(),
        Value::Time(t) => crate::timestamp::format_rfc3339_seconds(t).into_bytes(),
        Value::Bytes(b) => b.to_vec(),
    }
}

/// Go `strconv.FormatFloat(v, 'g', -1, 64)`.
pub fn format_float_g(v: f64) -> String {
    if let Some(special) = non_finite(v) {
        return special.to_string();
    }
    let digits = ShortestDigits::of(v);
    let mut out = String::with_capacity(24);
    // In shortest mode Go compares the decimal exponent with a fixed precision of 6,
    // whatever the number of digits (so 1000000 is `1e+06` but 123456.7 stays fixed).
    let exp = digits.point - 1;
    if !(-4..6).contains(&exp) {
        digits.write_exponent(&mut out);
    } else {
        digits.write_fixed(&mut out);
    }
    out
}

/// Go `encoding/json` number text; `None` for NaN and infinities (Go refuses them).
pub fn format_float_json(v: f64) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    let digits = ShortestDigits::of(v);
    let mut out = String::with_capacity(24);
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        digits.write_exponent(&mut out);
        // Go shortens a one-digit negative exponent: `e-07` becomes `e-7` (but `e+21` stays).
        let b = out.as_bytes();
        let n = b.len();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            out.remove(n - 2);
        }
    } else {
        digits.write_fixed(&mut out);
    }
    Some(out)
}

/// Go's spelling of NaN and the infinities in `FormatFloat`.
fn non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("+Inf")
    } else if v == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

/// The shortest round-trip decimal digits of a finite float, as Go's `decimalSlice`:
/// the value is `0.DIGITS × 10^point`, without leading or trailing zeros (no digits for zero).
struct ShortestDigits {
    negative: bool,
    digits: [u8; 24],
    len: usize,
    point: i32,
}

impl ShortestDigits {
    /// Reads ryu's shortest output (same digits as Go's Ryū, ties to even) back into digits
    /// and a decimal exponent; ryu's own layout (`1e21`, `1.5e-7`, `0.1`) is not Go's.
    fn of(v: f64) -> ShortestDigits {
        let mut buffer = ryu::Buffer::new();
        let text = buffer.format_finite(v).as_bytes();
        let negative = text.first() == Some(&b'-');
        let unsigned = if negative { &text[1..] } else { text };
        let (mantissa, exponent) = match unsigned.iter().position(|&c| c == b'e' || c == b'E') {
            Some(at) => (&unsigned[..at], parse_small_exponent(&unsigned[at + 1..])),
            None => (unsigned, 0),
        };
        let mut out = ShortestDigits {
            negative,
            digits: [0; 24],
            len: 0,
            point: 0,
        };
        let mut integer_digits = 0i32;
        let mut seen_dot = false;
        for &c in mantissa {
            if c == b'.' {
                seen_dot = true;
                continue;
            }
            if !seen_dot {
                integer_digits += 1;
            }
            if c == b'0' && out.len == 0 {
                // A leading zero moves the point instead of being a digit.
                out.point -= 1;
                continue;
            }
            if out.len < out.digits.len() {
                out.digits[out.len] = c;
                out.len += 1;
            }
        }
        while out.len > 0 && out.digits[out.len - 1] == b'0' {
            out.len -= 1;
        }
        if out.len == 0 {
            out.point = 0;
        } else {
            out.point += integer_digits + exponent;
        }
        out
    }

    fn digits(&self) -> &[u8] {
        &self.digits[..self.len]
    }

    /// Go `fmtF` with the shortest precision: no exponent, no trailing fractional zeros.
    fn write_fixed(&self, out: &mut String) {
        if self.negative {
            out.push('-');
        }
        let digits = self.digits();
        let point = self.point;
        if point > 0 {
            let whole = (point as usize).min(digits.len());
            push_ascii(out, &digits[..whole]);
            for _ in whole..point as usize {
                out.push('0');
            }
        } else {
            out.push('0');
        }
        if digits.len() as i32 > point {
            out.push('.');
            for _ in point..0 {
                out.push('0');
            }
            push_ascii(out, &digits[point.max(0) as usize..]);
        }
    }

    /// Go `fmtE` with the shortest precision: `d.ddde±XX`, at least two exponent digits.
    fn write_exponent(&self, out: &mut String) {
        if self.negative {
            out.push('-');
        }
        let digits = self.digits();
        match digits.split_first() {
            Some((first, rest)) => {
                out.push(char::from(*first));
                if !rest.is_empty() {
                    out.push('.');
                    push_ascii(out, rest);
                }
            }
            None => out.push('0'),
        }
        out.push('e');
        let exp = if digits.is_empty() { 0 } else { self.point - 1 };
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    }
}

fn push_ascii(out: &mut String, digits: &[u8]) {
    out.extend(digits.iter().map(|&c| char::from(c)));
}

/// Parses ryu's exponent (`-7`, `21`, `308`).
fn parse_small_exponent(text: &[u8]) -> i32 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let magnitude = digits.iter().fold(0i32, |acc, &c| acc * 10 + i32::from(c - b'0'));
    if negative { -magnitude } else { magnitude }
}

/// Why a Go `strconv` parse failed (`ErrSyntax` or `ErrRange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumError {
    Syntax,
    Range,
}

impl NumError {
    /// A message that names the type but never the plaintext.
    fn describe(self, type_name: &str) -> String {
        match self {
            NumError::Syntax => format!("the decrypted value is not a valid {type_name}"),
            NumError::Range => format!("the decrypted {type_name} value is out of range"),
        }
    }
}

/// Go `strconv.ParseUint(s, base, 64)` for base 0 (prefix `0b`/`0o`/`0x`/`0` picks the base,
/// `_` separators allowed) or an explicit base from 2 to 36.
pub(crate) fn go_parse_uint(s: &str, base: u32) -> Result<u64, NumError> {
    let all = s.as_bytes();
    if all.is_empty() {
        return Err(NumError::Syntax);
    }
    let base_zero = base == 0;
    let (base, digits) = if base_zero {
        if all[0] == b'0' {
            match all.get(1).map(|c| c | 0x20) {
                Some(b'b') if all.len() >= 3 => (2, &all[2..]),
                Some(b'o') if all.len() >= 3 => (8, &all[2..]),
                Some(b'x') if all.len() >= 3 => (16, &all[2..]),
                _ => (8, &all[1..]),
            }
        } else {
            (10, all)
        }
    } else {
        (base, all)
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        let lower = c | 0x20;
        let d = match c {
            b'_' if base_zero => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => u32::from(c - b'0'),
            _ if lower.is_ascii_lowercase() => u32::from(lower - b'a') + 10,
            _ => return Err(NumError::Syntax),
        };
        if d >= base {
            return Err(NumError::Syntax);
        }
        n = n
            .checked_mul(u64::from(base))
            .and_then(|n| n.checked_add(u64::from(d)))
            .ok_or(NumError::Range)?;
    }
    if underscores && !underscore_ok(s) {
        return Err(NumError::Syntax);
    }
    Ok(n)
}

/// Go `strconv.ParseInt(s, base, 64)`: an optional sign, then [`go_parse_uint`].
pub(crate) fn go_parse_int(s: &str, base: u32) -> Result<i64, NumError> {
    let (negative, magnitude) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let magnitude = go_parse_uint(magnitude, base)?;
    const CUTOFF: u64 = 1 << 63;
    if (!negative && magnitude >= CUTOFF) || (negative && magnitude > CUTOFF) {
        return Err(NumError::Range);
    }
    let n = magnitude as i64; // CUTOFF itself wraps to i64::MIN, which is right when negative
    Ok(if negative { n.wrapping_neg() } else { n })
}

/// Go `strconv.ParseFloat(s, 64)` for decimal text (digits with `_` separators, `.`, an
/// exponent) and `inf`/`infinity`/`nan` in any case. Hexadecimal floats (`0x1p-2`) are
/// rejected; sops never writes them. Overflow is a range error; underflow rounds to zero.
pub(crate) fn go_parse_float(s: &str) -> Result<f64, NumError> {
    if let Some(v) = special_float(s) {
        return Ok(v);
    }
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if i + 2 < b.len() && b[i] == b'0' && b[i + 1] | 0x20 == b'x' {
        return Err(NumError::Syntax);
    }
    let mut underscores = false;
    let mut seen_dot = false;
    let mut seen_digits = false;
    while i < b.len() {
        match b[i] {
            b'_' => underscores = true,
            b'.' if !seen_dot => seen_dot = true,
            b'0'..=b'9' => seen_digits = true,
            _ => break,
        }
        i += 1;
    }
    if !seen_digits {
        return Err(NumError::Syntax);
    }
    if i < b.len() && b[i] | 0x20 == b'e' {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return Err(NumError::Syntax);
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            underscores |= b[i] == b'_';
            i += 1;
        }
    }
    if i != b.len() || (underscores && !underscore_ok(s)) {
        return Err(NumError::Syntax);
    }
    let cleaned: String = s.chars().filter(|&c| c != '_').collect();
    // The syntax is checked above; Rust's parser is correctly rounded like Go's.
    let v: f64 = cleaned.parse().map_err(|_| NumError::Syntax)?;
    if v.is_infinite() { Err(NumError::Range) } else { Ok(v) }
}

/// Go's `special`: `[+-]inf`, `[+-]infinity` or `nan`, ignoring case, as the whole text.
fn special_float(s: &str) -> Option<f64> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1.0, &s[1..]),
        b'-' => (-1.0, &s[1..]),
        _ => {
            if s.eq_ignore_ascii_case("nan") {
                return Some(f64::NAN);
            }
            (1.0, s)
        }
    };
    if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
        Some(sign * f64::INFINITY)
    } else {
        None
    }
}

/// Go's `underscoreOK`: `_` only between digits, or between a base prefix and a digit.
fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    if matches!(b.first(), Some(b'+' | b'-')) {
        b = &b[1..];
    }
    // What came last: '^' start, '0' a digit or base prefix, '_' an underscore, '!' other.
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1] | 0x20 == b'x';
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || (hex && (c | 0x20).is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// Go `strconv.ParseBool`.
pub(crate) fn go_parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/sops-upstream/generated-by-sops-3.11.0"
    );

    /// Reads `key: float` lines of a vector's plain YAML (YAML 1.2 `.inf`/`.nan` spellings).
    fn plain_floats(name: &str) -> Vec<(String, f64)> {
        let text = std::fs::read_to_string(format!("{VECTORS}/{name}.plain.yaml"))
            .expect("the shared test vectors are present");
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let (key, raw) = line.split_once(": ").expect("`key: value` lines");
                let value = match raw.trim() {
                    ".inf" | "+.inf" => f64::INFINITY,
                    "-.inf" => f64::NEG_INFINITY,
                    ".nan" => f64::NAN,
                    other => other.parse().expect("a float literal"),
                };
                (key.to_string(), value)
            })
            .collect()
    }

    fn expected_lines(name: &str) -> Vec<String> {
        std::fs::read_to_string(format!("{VECTORS}/{name}.expected-go-plaintexts.txt"))
            .expect("the shared test vectors are present")
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn check_vector(name: &str, prefix: &str) {
        let floats = plain_floats(name);
        let expected = expected_lines(name);
        assert_eq!(floats.len(), expected.len(), "{name}: one expected line per value");
        for (i, ((key, value), want)) in floats.iter().zip(&expected).enumerate() {
            assert_eq!(key, &format!("{prefix}{i}"), "{name}: keys are in order");
            assert_eq!(&format_float_f(*value), want, "{name}: {key} = {value:?}");
        }
    }

    #[test]
    fn format_f_matches_go_on_special_vector() {
        check_vector("float-format-special", "v");
    }

    #[test]
    fn format_f_matches_go_on_random_vector() {
        check_vector("float-format-random", "r");
    }

    /// 223712169836953.625 is exactly representable and halfway between two 17-digit
    /// candidates: Go (like ryu) picks the even `…953.62`, Rust's `Display` gives `…953.63`.
    fn exact_tie() -> f64 {
        "223712169836953.625".parse().expect("a float literal")
    }

    #[test]
    fn format_f_cases() {
        for (v, want) in [
            (1.0, "1"),
            (6.02e23, "602000000000000000000000"),
            (1e-7, "0.0000001"),
            (-0.0, "-0"),
            (0.0, "0"),
            (exact_tie(), "223712169836953.62"),
            (1.5, "1.5"),
            (-1234.5, "-1234.5"),
            (0.001, "0.001"),
            (123456789.0, "123456789"),
            (1e21, "1000000000000000000000"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(format_float_f(v), want, "{v:?}");
        }
    }

    #[test]
    fn format_g_cases() {
        for (v, want) in [
            (1000000.0, "1e+06"),
            (100000.0, "100000"),
            (123456.7, "123456.7"),
            (12345678.0, "1.2345678e+07"),
            (1e21, "1e+21"),
            (6.02e23, "6.02e+23"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (2.75, "2.75"),
            (-2.5e-300, "-2.5e-300"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(format_float_g(v), want, "{v:?}");
        }
    }

    #[test]
    fn format_json_cases() {
        for (v, want) in [
            (1e21, Some("1e+21")),
            (1e20, Some("100000000000000000000")),
            (1e-7, Some("1e-7")),
            (1.5e-7, Some("1.5e-7")),
            (1e-6, Some("0.000001")),
            (1.5e-10, Some("1.5e-10")),
            (1e-100, Some("1e-100")),
            (0.0, Some("0")),
            (-0.0, Some("-0")),
            (10.0, Some("10")),
            (-3.25, Some("-3.25")),
            (f64::NAN, None),
            (f64::INFINITY, None),
            (f64::NEG_INFINITY, None),
        ] {
            assert_eq!(format_float_json(v).as_deref(), want, "{v:?}");
        }
    }

    #[test]
    fn floats_round_trip_through_plaintext() {
        let mut values: Vec<f64> = plain_floats("float-format-random")
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        values.extend([0.0, -0.0, 1.0, 0.1, 5e-324, 1.7976931348623157e308, exact_tie()]);
        for v in values {
            let text = format_float_f(v);
            let Decoded::Value(Value::Float(back)) = parse_plaintext(ValueType::Float, text.as_bytes()).unwrap() else {
                panic!("{text} parses as a float");
            };
            assert_eq!(back.to_bits(), v.to_bits(), "{text}");
        }
        for text in ["+Inf", "-Inf", "NaN"] {
            let decoded = parse_plaintext(ValueType::Float, text.as_bytes()).unwrap();
            let Decoded::Value(Value::Float(v)) = decoded else {
                panic!("a float")
            };
            assert_eq!(format_float_f(v), text);
        }
    }

    #[test]
    fn parse_float_is_as_lenient_as_go() {
        for (text, want) in [
            ("1", 1.0),
            ("+1.5", 1.5),
            ("-.5", -0.5),
            ("1.", 1.0),
            ("1e3", 1000.0),
            ("1E+3", 1000.0),
            ("2.5e-3", 0.0025),
            ("1_000.5", 1000.5),
            ("0.5_0", 0.5),
            ("1e-400", 0.0),
            ("007", 7.0),
            ("inf", f64::INFINITY),
            ("+Inf", f64::INFINITY),
            ("-INFINITY", f64::NEG_INFINITY),
            ("Infinity", f64::INFINITY),
        ] {
            assert_eq!(go_parse_float(text), Ok(want), "{text}");
        }
        assert!(go_parse_float("nAn").unwrap().is_nan());
        for text in [
            "", ".", "+", "e5", "1e", "1e+", "1.2.3", "1x", "_1", "1_", "1__0", "1_.5", "infin", "+nan", "-nan", " 1",
            "1 ", "0x1p-2", ".inf", "1,5",
        ] {
            assert_eq!(go_parse_float(text), Err(NumError::Syntax), "{text:?}");
        }
        // Go's own atof test cases for underscores and prefixes.
        assert_eq!(go_parse_float("1_23.50_0_0e+1_2"), Ok(1.235e14));
        for text in [
            "-_123.5e+12",
            "+_123.5e+12",
            "_123.5e+12",
            "1__23.5e+12",
            "123_.5e+12",
            "123._5e+12",
            "123.5_e+12",
            "123.5__0e+12",
            "123.5e_+12",
            "123.5e+_12",
            "123.5e-_12",
            "123.5e+1__2",
            "123.5e+12_",
            "1e100x",
            "nan(1)",
            "infx",
            "+.e1",
        ] {
            assert_eq!(go_parse_float(text), Err(NumError::Syntax), "{text:?}");
        }
        assert_eq!(go_parse_float("2.4703282292062327e-324"), Ok(0.0));
        assert_eq!(go_parse_float("2.4703282292062328e-324"), Ok(5e-324));
        assert_eq!(go_parse_float("1e400"), Err(NumError::Range));
        assert_eq!(go_parse_float("-1e400"), Err(NumError::Range));
    }

    #[test]
    fn atoi_is_as_lenient_as_go() {
        for (text, want) in [
            ("42", 42),
            ("+5", 5),
            ("-7", -7),
            ("007", 7),
            ("-0", 0),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ] {
            assert_eq!(
                parse_plaintext(ValueType::Int, text.as_bytes()),
                Ok(Decoded::Value(Value::Int(want))),
                "{text}"
            );
        }
        for text in ["", "+", "-", "1_000", "0x1F", "1.0", " 1", "1e3", "٣"] {
            assert!(parse_plaintext(ValueType::Int, text.as_bytes()).is_err(), "{text:?}");
        }
        assert_eq!(go_parse_int("9223372036854775808", 10), Err(NumError::Range));
        assert_eq!(go_parse_int("-9223372036854775809", 10), Err(NumError::Range));
    }

    #[test]
    fn parse_int_base_zero_reads_go_prefixes() {
        for (text, want) in [
            ("0x1F", 31),
            ("0X1f", 31),
            ("0o17", 15),
            ("017", 15),
            ("0b101", 5),
            ("-0b101", -5),
            ("+0x10", 16),
            ("0", 0),
            ("00", 0),
            ("1_000", 1000),
            ("0x_1F", 31),
        ] {
            assert_eq!(go_parse_int(text, 0), Ok(want), "{text}");
        }
        for text in ["08", "0x", "0b", "0b2", "1__0", "_1", "1_", "0xg"] {
            assert_eq!(go_parse_int(text, 0), Err(NumError::Syntax), "{text}");
        }
        assert_eq!(go_parse_uint("18446744073709551615", 0), Ok(u64::MAX));
        assert_eq!(go_parse_uint("18446744073709551616", 0), Err(NumError::Range));
        assert_eq!(go_parse_uint("-1", 0), Err(NumError::Syntax));
    }

    #[test]
    fn parse_bool_is_as_lenient_as_go() {
        for text in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(
                parse_plaintext(ValueType::Bool, text.as_bytes()),
                Ok(Decoded::Value(Value::Bool(true)))
            );
        }
        for text in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(
                parse_plaintext(ValueType::Bool, text.as_bytes()),
                Ok(Decoded::Value(Value::Bool(false)))
            );
        }
        for text in ["yes", "tRUE", "", "2", "on"] {
            assert!(parse_plaintext(ValueType::Bool, text.as_bytes()).is_err(), "{text:?}");
        }
    }

    #[test]
    fn value_type_names() {
        for ty in [
            ValueType::Str,
            ValueType::Int,
            ValueType::Float,
            ValueType::Bool,
            ValueType::Time,
            ValueType::Comment,
        ] {
            assert_eq!(ValueType::from_name(ty.name()), Some(ty));
        }
        assert_eq!(ValueType::Float.name(), "float");
        assert_eq!(ValueType::from_name("bytes"), None);
        assert_eq!(ValueType::from_name("STR"), None);
        assert_eq!(ValueType::of(&Value::Null), None);
        assert_eq!(
            ValueType::of(&Value::Bytes(Zeroizing::new(vec![0xff]))),
            Some(ValueType::Str)
        );
        assert_eq!(ValueType::of(&Value::str("x")), Some(ValueType::Str));
        assert_eq!(ValueType::of(&Value::Int(1)), Some(ValueType::Int));
        assert_eq!(ValueType::of(&Value::Float(1.0)), Some(ValueType::Float));
        assert_eq!(ValueType::of(&Value::Bool(true)), Some(ValueType::Bool));
        let t = Timestamp::parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
        assert_eq!(ValueType::of(&Value::Time(t)), Some(ValueType::Time));
    }

    fn canonical(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        write_canonical(value, &mut out);
        out
    }

    #[test]
    fn canonical_bytes_are_gos() {
        assert_eq!(canonical(&Value::str("héllo")), "héllo".as_bytes());
        assert_eq!(canonical(&Value::Bytes(Zeroizing::new(vec![0, 0xff]))), vec![0, 0xff]);
        assert_eq!(canonical(&Value::Int(-42)), b"-42");
        assert_eq!(canonical(&Value::Float(1.0)), b"1");
        assert_eq!(canonical(&Value::Float(-0.0)), b"-0");
        assert_eq!(canonical(&Value::Bool(true)), b"True");
        assert_eq!(canonical(&Value::Bool(false)), b"False");
        assert_eq!(canonical(&Value::Null), b"");
        let t = Timestamp::parse_rfc3339("2001-12-14T21:59:43.10-05:00").unwrap();
        assert_eq!(canonical(&Value::Time(t)), b"2001-12-14T21:59:43.1-05:00");
        let mut out = b"ab".to_vec();
        write_canonical(&Value::Int(7), &mut out);
        assert_eq!(out, b"ab7", "appends");
    }

    #[test]
    fn plaintexts_parse_back_to_their_canonical_bytes() {
        let t = Timestamp::parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
        for (ty, value) in [
            (ValueType::Str, Value::str("hello")),
            (ValueType::Int, Value::Int(i64::MIN)),
            (ValueType::Float, Value::Float(6.02e23)),
            (ValueType::Bool, Value::Bool(false)),
            (ValueType::Time, Value::Time(t)),
        ] {
            let bytes = canonical(&value);
            let Ok(Decoded::Value(back)) = parse_plaintext(ty, &bytes) else {
                panic!("{ty:?} parses back");
            };
            assert_eq!(canonical(&back), bytes);
        }
        assert_eq!(
            parse_plaintext(ValueType::Str, &[0xff, 0x00]),
            Ok(Decoded::Value(Value::Bytes(Zeroizing::new(vec![0xff, 0x00]))))
        );
        assert_eq!(
            parse_plaintext(ValueType::Comment, b" a comment"),
            Ok(Decoded::Comment(" a comment".to_string()))
        );
        // Non-canonical plaintexts parse; their canonical form differs (the MAC notices).
        let Ok(Decoded::Value(v)) = parse_plaintext(ValueType::Float, b"1.50") else {
            panic!()
        };
        assert_eq!(canonical(&v), b"1.5");
    }

    #[test]
    fn errors_never_contain_the_plaintext() {
        for (ty, secret) in [
            (ValueType::Int, "hunter2"),
            (ValueType::Int, "99999999999999999999"),
            (ValueType::Float, "hunter2"),
            (ValueType::Float, "1e999"),
            (ValueType::Bool, "hunter2"),
            (ValueType::Time, "hunter2"),
        ] {
            let err = parse_plaintext(ty, secret.as_bytes()).unwrap_err();
            assert!(!err.contains(secret), "{err}");
        }
        let err = parse_plaintext(ValueType::Int, &[0xff, b'1']).unwrap_err();
        assert!(err.contains("UTF-8"), "{err}");
    }
}
