//! Plain-scalar typing as go-yaml v3 does it (sops decodes YAML with it).
//!
//! yaml.v3 looks at the first byte of a plain scalar to decide what it may be, then tries, in
//! order: a table of exact words (`true`, `~`, `.inf`, …), a timestamp, a Go base-0 integer
//! (`0x1F`, `0o17`, `017`, `1_000`), an unsigned integer, and a YAML-style float. Whatever
//! survives is a string. The same resolution decides whether its encoder may write a string
//! plain. Every quirk here is yaml.v3's (`08` is the float 8, `0b-1` is the int -1), because
//! the MAC hashes the typed value.

use crate::go_base64;
use crate::scalar::{format_float_g, go_parse_float, go_parse_int, go_parse_uint};
use crate::timestamp::{Layout, Timestamp, parse_layout};
use crate::tree::Value;

/// Why a plain scalar cannot be represented the way sops would need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsupported {
    /// An integer in [2^63, 2^64): yaml.v3 decodes it as uint64, which sops 3.11 cannot store.
    Uint64,
}

/// What yaml.v3's `resolve` found; `Str` means the text itself.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Time(Timestamp),
    Str,
}

impl Resolved {
    /// yaml.v3's short tag for the kind, as its error messages name it.
    fn tag(self) -> &'static str {
        match self {
            Resolved::Null => "!!null",
            Resolved::Bool(_) => "!!bool",
            Resolved::Int(_) | Resolved::Uint(_) => "!!int",
            Resolved::Float(_) => "!!float",
            Resolved::Time(_) => "!!timestamp",
            Resolved::Str => "!!str",
        }
    }

    fn into_value(self, text: &str) -> Result<Value, Unsupported> {
        Ok(match self {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::Int(i),
            Resolved::Uint(_) => return Err(Unsupported::Uint64),
            Resolved::Float(f) => Value::Float(f),
            Resolved::Time(t) => Value::Time(t),
            Resolved::Str => Value::str(text),
        })
    }
}

/// The namespace of the YAML core schema's tags (`!!str` is `tag:yaml.org,2002:str`).
pub const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// Why a scalar tagged `tag` (the full tag), written as `text` and read as `value`, cannot be
/// kept: sops drops tags outside the core schema and keeps the bare text, and stores a
/// `!!binary` scalar's decoded text, so such a file would not decrypt to what was written.
/// `None` for the tags whose value round-trips: the core schema's, `!!merge` on `<<` (which
/// sops writes), and `!!binary` of bytes that are not text (go-yaml writes those back as
/// `!!binary`, and so does ksec).
pub fn unsupported_tag(tag: &str, text: &str, value: &Value) -> Option<String> {
    match short_tag(tag).as_str() {
        "" | "!!str" | "!!int" | "!!bool" | "!!float" | "!!null" | "!!timestamp" => None,
        "!!merge" if text == "<<" => None,
        "!!binary" if matches!(value, Value::Bytes(_)) => None,
        "!!binary" => Some(
            "!!binary text is not supported: sops stores the decoded text and drops the tag, so the file would not \
             decrypt to what was written (write the decoded text, or remove the tag to keep the base64 text)"
                .to_string(),
        ),
        _ => Some(dropped_tag_reason(tag)),
    }
}

/// Why a tag sops drops is refused.
pub fn dropped_tag_reason(tag: &str) -> String {
    format!(
        "the tag {} is not supported: sops drops it and keeps the bare value, so the file would not decrypt to what \
         was written (remove the tag)",
        short_tag(tag)
    )
}

/// Types an untagged plain scalar.
pub fn resolve_plain(text: &str) -> Result<Value, Unsupported> {
    resolve(text, true).into_value(text)
}

/// Whether an untagged plain scalar types as a string (without making the value).
pub fn plain_is_string(text: &str) -> bool {
    matches!(resolve(text, true), Resolved::Str)
}

/// An explicitly tagged scalar. `tag` is the full resolved tag, e.g. "tag:yaml.org,2002:str",
/// "tag:yaml.org,2002:binary", or a local tag like "!foo". Quoted scalars without a tag are
/// always strings (callers handle that).
pub fn resolve_tagged(tag: &str, text: &str) -> Result<Value, String> {
    let short = short_tag(tag);
    let wanted = match short.as_str() {
        "" => {
            return resolve_plain(text).map_err(|_| "an integer in [2^63, 2^64) is not supported by sops".to_string());
        }
        "!!str" => return Ok(Value::str(text)),
        "!!binary" => return decode_binary(text),
        "!!null" | "!!bool" | "!!int" | "!!float" | "!!timestamp" => short.as_str(),
        // yaml.v3 leaves every other tag's scalar (local tags, `!`, `!!merge`, …) a string.
        _ => return Ok(Value::str(text)),
    };
    let resolved = resolve(text, wanted == "!!timestamp");
    let fail = || format!("cannot decode {} as a {wanted}", resolved.tag());
    match (wanted, resolved) {
        (_, Resolved::Uint(_)) => Err(format!(
            "cannot decode an integer in [2^63, 2^64) as a {wanted} (sops cannot store it)"
        )),
        // yaml.v3 lets an integer stand for a float when the tag asks for one.
        ("!!float", Resolved::Int(i)) => Ok(Value::Float(i as f64)),
        _ if resolved.tag() == wanted => resolved.into_value(text).map_err(|_| fail()),
        _ => Err(fail()),
    }
}

/// Whether yaml.v3's encoder may write this string plain: `resolve("", s)` gives str AND it is
/// neither a base-60 float nor a YAML 1.1 bool word (y/Y/yes/Yes/YES/on/On/ON/n/N/no/No/NO/off/
/// Off/OFF). (Plain-scalar syntax restrictions like leading spaces or `: ` are checked
/// elsewhere.)
pub fn encoder_may_write_plain(s: &str) -> bool {
    resolve(s, true) == Resolved::Str && !is_base60_float(s) && !is_yaml11_bool(s)
}

/// yaml.v3's float text: Go FormatFloat(v,'g',-1,64) with +Inf→.inf, -Inf→-.inf, NaN→.nan.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        ".nan".to_string()
    } else if v == f64::INFINITY {
        ".inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-.inf".to_string()
    } else {
        format_float_g(v)
    }
}

/// yaml.v3's `shortTag`: `tag:yaml.org,2002:x` becomes `!!x`; other tags stay as written.
fn short_tag(tag: &str) -> String {
    match tag.strip_prefix(CORE_TAG_PREFIX) {
        Some(rest) => format!("!!{rest}"),
        None => tag.to_string(),
    }
}

/// yaml.v3's `resolve` for an untagged plain scalar (`timestamps` also for `!!timestamp`;
/// only a `!!timestamp` tag or no tag lets digits become a time).
fn resolve(text: &str, timestamps: bool) -> Resolved {
    let Some(&first) = text.as_bytes().first() else {
        return Resolved::Null;
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            resolve_word(text).unwrap_or(Resolved::Str)
        }
        b'.' => resolve_word(text)
            .or_else(|| go_parse_float(text).ok().map(Resolved::Float))
            .unwrap_or(Resolved::Str),
        b'+' | b'-' | b'0'..=b'9' => resolve_word(text).unwrap_or_else(|| resolve_number(text, timestamps)),
        // Anything else (including `<<`, whose merge entry yaml.v3 never reaches) is a string.
        _ => Resolved::Str,
    }
}

/// yaml.v3's table of exact words.
fn resolve_word(text: &str) -> Option<Resolved> {
    Some(match text {
        "true" | "True" | "TRUE" => Resolved::Bool(true),
        "false" | "False" | "FALSE" => Resolved::Bool(false),
        "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// The digit-or-sign branch: timestamp, Go base-0 int, uint, YAML float, then yaml.v3's
/// retries of `0b`/`0o` bodies (which accept a sign after the prefix).
fn resolve_number(text: &str, timestamps: bool) -> Resolved {
    if timestamps && let Some(t) = parse_timestamp(text) {
        return Resolved::Time(t);
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    if let Ok(i) = go_parse_int(&plain, 0) {
        return Resolved::Int(i);
    }
    if let Ok(u) = go_parse_uint(&plain, 0) {
        return Resolved::Uint(u);
    }
    if is_yaml_style_float(&plain)
        && let Ok(f) = go_parse_float(&plain)
    {
        return Resolved::Float(f);
    }
    for (prefix, base) in [("0b", 2), ("0o", 8)] {
        if let Some(body) = plain.strip_prefix(prefix) {
            if let Ok(i) = go_parse_int(body, base) {
                return Resolved::Int(i);
            }
            if let Ok(u) = go_parse_uint(body, base) {
                return Resolved::Uint(u);
            }
        } else if let Some(body) = plain.strip_prefix('-').and_then(|p| p.strip_prefix(prefix))
            && let Ok(i) = go_parse_int(&format!("-{body}"), base)
        {
            return Resolved::Int(i);
        }
    }
    Resolved::Str
}

/// yaml.v3's `parseTimestamp`: four digits and `-`, then the first of its layouts that fits.
fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    [
        Layout::YamlUpperT,
        Layout::YamlLowerT,
        Layout::YamlSpace,
        Layout::YamlDate,
    ]
    .into_iter()
    .find_map(|layout| parse_layout(layout, text))
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let whole = digits(i);
    i += whole;
    if b.get(i) == Some(&b'.') {
        let fraction = digits(i + 1);
        if whole == 0 && fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    } else if whole == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exponent = digits(i);
        if exponent == 0 {
            return false;
        }
        i += exponent;
    }
    i == b.len()
}

/// yaml.v3's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`, e.g.
/// `1:20` (still quoted on output for YAML 1.1 readers).
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while b.get(i).is_some_and(|&c| c.is_ascii_digit() || c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        let Some(&first) = b.get(i + 1).filter(|c| c.is_ascii_digit()) else {
            return false;
        };
        i += 2;
        // Two digits only when the first is 0-5; a third digit cannot follow a group.
        if b.get(i).is_some_and(u8::is_ascii_digit) {
            if first > b'5' {
                return false;
            }
            i += 1;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|&c| c.is_ascii_digit() || c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// YAML 1.1 booleans that yaml.v3 reads as strings but quotes on output.
fn is_yaml11_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF"
    )
}

/// A `!!binary` value as yaml.v3 decodes it: Go's `base64.StdEncoding.DecodeString`.
fn decode_binary(text: &str) -> Result<Value, String> {
    let decoded = go_base64::decode(text).map_err(|_| "!!binary value contains invalid base64 data".to_string())?;
    Ok(match std::str::from_utf8(&decoded) {
        Ok(s) => Value::str(s),
        Err(_) => Value::Bytes(decoded),
    })
}

#[cfg(test)]
mod tests {
    use zeroize::Zeroizing;

    use super::*;

    fn time(text: &str) -> Value {
        Value::Time(Timestamp::parse_rfc3339(text).expect("a valid RFC 3339 time"))
    }

    fn rfc3339(value: &Value) -> String {
        match value {
            Value::Time(t) => t.to_rfc3339_nano(),
            other => panic!("not a time: {other:?}"),
        }
    }

    #[test]
    fn integers_use_go_base_zero_rules() {
        for (text, want) in [
            ("0", 0),
            ("-0", 0),
            ("42", 42),
            ("+5", 5),
            ("-17", -17),
            ("0x1F", 31),
            ("0X1f", 31),
            ("-0x10", -16),
            ("017", 15),
            ("-017", -15),
            ("0o17", 15),
            ("0O17", 15),
            ("-0o17", -15),
            ("0b101", 5),
            ("-0b101", -5),
            ("1_000", 1000),
            ("0x_FF_FF", 65535),
            ("1__0", 10),
            ("1_", 1),
            ("-_1", -1),
            ("00", 0),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
            // yaml.v3 retries the body after 0b/0o with a base, so a sign may follow the prefix.
            ("0b-101", -5),
            ("0o+17", 15),
        ] {
            assert_eq!(resolve_plain(text), Ok(Value::Int(want)), "{text}");
        }
    }

    #[test]
    fn uint64_range_is_unsupported() {
        for text in [
            "9223372036854775808",
            "18446744073709551615",
            "0xFFFFFFFFFFFFFFFF",
            "0o1777777777777777777777",
        ] {
            assert_eq!(resolve_plain(text), Err(Unsupported::Uint64), "{text}");
        }
    }

    #[test]
    fn floats_follow_yaml_v3() {
        for (text, want) in [
            ("08", 8.0),
            ("09", 9.0),
            ("1e3", 1000.0),
            ("1E3", 1000.0),
            ("1.5", 1.5),
            ("-1.5", -1.5),
            ("+1.", 1.0),
            (".5", 0.5),
            ("-.5", -0.5),
            ("1_0.5", 10.5),
            ("6.02e23", 6.02e23),
            ("1e-400", 0.0),
            ("99999999999999999999", 1e20),
            ("-9223372036854775809", -9223372036854775808.0),
            (".5_0", 0.5),
            (".5e3", 500.0),
            (".inf", f64::INFINITY),
            (".Inf", f64::INFINITY),
            ("+.INF", f64::INFINITY),
            ("-.inf", f64::NEG_INFINITY),
        ] {
            assert_eq!(resolve_plain(text), Ok(Value::Float(want)), "{text}");
        }
        for text in [".nan", ".NaN", ".NAN"] {
            assert!(
                matches!(resolve_plain(text), Ok(Value::Float(f)) if f.is_nan()),
                "{text}"
            );
        }
    }

    #[test]
    fn words_follow_yaml_v3() {
        for text in ["true", "True", "TRUE"] {
            assert_eq!(resolve_plain(text), Ok(Value::Bool(true)));
        }
        for text in ["false", "False", "FALSE"] {
            assert_eq!(resolve_plain(text), Ok(Value::Bool(false)));
        }
        for text in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(resolve_plain(text), Ok(Value::Null), "{text:?}");
        }
    }

    #[test]
    fn everything_else_is_a_string() {
        for text in [
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "tRUE",
            "nULL",
            ".iNf",
            "+.nan",
            "inf",
            "nan",
            "<<",
            "1:20",
            "12:30:45",
            "0x",
            "0b",
            "0xg",
            "1e400",
            ".5e400",
            "0xFFFFFFFFFFFFFFFFF",
            "1.2.3",
            "1e",
            "-",
            "+",
            ".",
            "_1",
            "1 2",
            "hello",
            "2024-13-01",
            "2024-02-30",
            "2024-01-01T10:00:00",
            "12e",
            "0x1p3",
            "--1",
            "0b--1",
            "Infinity",
            "2001-12-14 21:59:43.10 -5",
        ] {
            assert_eq!(resolve_plain(text), Ok(Value::str(text)), "{text:?}");
        }
    }

    #[test]
    fn timestamps_follow_yaml_v3() {
        for (text, want) in [
            ("2024-01-01", "2024-01-01T00:00:00Z"),
            ("2024-1-2", "2024-01-02T00:00:00Z"),
            ("2001-12-14 21:59:43.10", "2001-12-14T21:59:43.1Z"),
            ("2024-1-2T3:4:5Z", "2024-01-02T03:04:05Z"),
            ("2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43.1-05:00"),
            (
                "2001-12-14T21:59:43.123456789+05:30",
                "2001-12-14T21:59:43.123456789+05:30",
            ),
            ("2024-02-29", "2024-02-29T00:00:00Z"),
            ("2024-01-01T00:00:00,5Z", "2024-01-01T00:00:00.5Z"),
        ] {
            let value = resolve_plain(text).unwrap();
            assert_eq!(rfc3339(&value), want, "{text}");
        }
        assert_eq!(resolve_plain("2024-01-01"), Ok(time("2024-01-01T00:00:00Z")));
    }

    #[test]
    fn encoder_quotes_what_would_resolve_otherwise() {
        for s in [
            "",
            "yes",
            "Yes",
            "no",
            "y",
            "n",
            "Y",
            "N",
            "on",
            "OFF",
            "true",
            "False",
            "null",
            "~",
            "123",
            "0x1F",
            "1e3",
            "08",
            ".5",
            ".inf",
            "2024-01-01",
            "1:20",
            "-1:20:30.5",
            "9223372036854775808",
            "1_000",
        ] {
            assert!(!encoder_may_write_plain(s), "{s:?} must be quoted");
        }
        for s in [
            "hello",
            "<<",
            "yes please",
            "1e400",
            "1:2:3x",
            "1:60",
            "2024-01-01T10:00:00",
            "0x",
        ] {
            assert!(encoder_may_write_plain(s), "{s:?} may be plain");
        }
    }

    #[test]
    fn base60_floats() {
        for s in ["1:20", "+1:20", "-1_0:5:59", "190:20:30.15", "1:2.", "1:05"] {
            assert!(is_base60_float(s), "{s}");
        }
        for s in ["1:60", "1:", ":20", "1:2:3x", "1:200", "a1:20", "1", "1.5", "1:2.x"] {
            assert!(!is_base60_float(s), "{s}");
        }
    }

    #[test]
    fn yaml_style_float_pattern() {
        for s in ["1", "+1", "-1.", ".5", "1.5e3", "1E-3", "01.10"] {
            assert!(is_yaml_style_float(s), "{s}");
        }
        for s in ["", ".", "-", "e3", "1e", "1e+", ".e3", "1.5.", "0x1", "inf", "1_0"] {
            assert!(!is_yaml_style_float(s), "{s}");
        }
    }

    #[test]
    fn float_text_is_yaml_v3s() {
        for (v, want) in [
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-07"),
            (-0.0, "-0"),
            (1.0, "1"),
            (1000000.0, "1e+06"),
            (0.1, "0.1"),
            (f64::INFINITY, ".inf"),
            (f64::NEG_INFINITY, "-.inf"),
            (f64::NAN, ".nan"),
        ] {
            assert_eq!(format_float(v), want, "{v:?}");
        }
    }

    const STR: &str = "tag:yaml.org,2002:str";
    const INT: &str = "tag:yaml.org,2002:int";
    const FLOAT: &str = "tag:yaml.org,2002:float";
    const BOOL: &str = "tag:yaml.org,2002:bool";
    const NULL: &str = "tag:yaml.org,2002:null";
    const TIMESTAMP: &str = "tag:yaml.org,2002:timestamp";
    const BINARY: &str = "tag:yaml.org,2002:binary";

    #[test]
    fn tagged_scalars_resolve_to_their_tag() {
        assert_eq!(resolve_tagged(STR, "123"), Ok(Value::str("123")));
        assert_eq!(resolve_tagged(STR, "~"), Ok(Value::str("~")));
        assert_eq!(resolve_tagged("!!str", "true"), Ok(Value::str("true")));
        assert_eq!(resolve_tagged(INT, "0x1F"), Ok(Value::Int(31)));
        assert_eq!(resolve_tagged(FLOAT, "1.5"), Ok(Value::Float(1.5)));
        assert_eq!(resolve_tagged(FLOAT, "1_000"), Ok(Value::Float(1000.0)));
        assert_eq!(resolve_tagged(BOOL, "TRUE"), Ok(Value::Bool(true)));
        assert_eq!(resolve_tagged(NULL, ""), Ok(Value::Null));
        assert_eq!(resolve_tagged(NULL, "~"), Ok(Value::Null));
        assert_eq!(
            resolve_tagged(TIMESTAMP, "2024-01-01").map(|v| rfc3339(&v)),
            Ok("2024-01-01T00:00:00Z".to_string())
        );
        assert_eq!(resolve_tagged("", "12"), Ok(Value::Int(12)));
    }

    #[test]
    fn tagged_scalars_that_do_not_fit_their_tag_fail() {
        for (tag, text) in [
            (INT, "1.5"),
            (INT, "abc"),
            (INT, "2024-01-01"),
            (INT, "9223372036854775808"),
            (FLOAT, "9223372036854775808"),
            (FLOAT, "abc"),
            (BOOL, "yes"),
            (BOOL, ""),
            (NULL, "0"),
            (TIMESTAMP, "5"),
            (TIMESTAMP, "2024-01-01T10:00:00"),
            ("", "9223372036854775808"),
        ] {
            let err = resolve_tagged(tag, text).unwrap_err();
            assert!(
                err.starts_with("cannot decode") || err.contains("[2^63"),
                "{tag} {text}: {err}"
            );
        }
        assert_eq!(
            resolve_tagged(INT, "1.5"),
            Err("cannot decode !!float as a !!int".to_string())
        );
    }

    #[test]
    fn other_tags_keep_the_text() {
        for tag in [
            "!foo",
            "!",
            "tag:yaml.org,2002:merge",
            "tag:yaml.org,2002:map",
            "tag:example.com:x",
        ] {
            assert_eq!(resolve_tagged(tag, "123"), Ok(Value::str("123")), "{tag}");
        }
    }

    #[test]
    fn binary_is_decoded_like_go() {
        assert_eq!(resolve_tagged(BINARY, "aGVsbG8="), Ok(Value::str("hello")));
        assert_eq!(resolve_tagged(BINARY, "aGVs\nbG8=\n"), Ok(Value::str("hello")));
        assert_eq!(resolve_tagged(BINARY, "aGVs\r\nbG8="), Ok(Value::str("hello")));
        assert_eq!(resolve_tagged(BINARY, ""), Ok(Value::str("")));
        assert_eq!(
            resolve_tagged("!!binary", "/w=="),
            Ok(Value::Bytes(Zeroizing::new(vec![0xff])))
        );
        // Go's decoder is not strict about the unused bits of the last character.
        assert_eq!(resolve_tagged(BINARY, "YR=="), Ok(Value::str("a")));
        for text in ["aGVsbG8", "aGVs bG8=", "a", "aGVsbG8=x", "!!!!"] {
            assert!(resolve_tagged(BINARY, text).is_err(), "{text:?}");
        }
    }
}
