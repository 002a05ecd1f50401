//! Scalar text in YAML: go-yaml v3's choice of style and its writers.
//!
//! sops prints decrypted values through go-yaml v3, so a value rendered "canonically" here must
//! come out byte for byte as yaml.v3 writes it (plain when it re-reads as the same string,
//! double quotes when it would re-read as another type, `|` blocks for multi-line text, its
//! escapes). Values ksec re-renders in the style they were written in use the same writers.

use base64::Engine;
use std::borrow::Cow;

use super::resolve;
use crate::timestamp::Timestamp;
use crate::tree::Value;

/// Where a scalar is written.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Inside a flow collection.
    pub in_flow: bool,
    /// Indentation of block scalar content lines.
    pub block_indent: usize,
    /// The indentation indicator written when content starts with a space or break.
    pub indent_indicator: usize,
    pub newline: &'a str,
    /// Keep every character YAML 1.2 can print as is (astral-plane text such as emoji), instead
    /// of go-yaml's narrower set. Used when re-rendering text in the style it was written in.
    pub faithful: bool,
}

/// The styles a string can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// yaml.v3's analysis of a string (`yaml_emitter_analyze_scalar`).
#[derive(Debug, PartialEq)]
struct Analysis {
    multiline: bool,
    flow_plain_allowed: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// Renders a value as yaml.v3 encodes it (sops's decrypted output).
pub fn canonical(value: &Value, ctx: &Context<'_>) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => resolve::format_float(*f),
        Value::Time(t) => time_text(t),
        Value::Str(s) => canonical_str(s, ctx),
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => canonical_str(s, ctx),
            Err(_) => format!(
                "!!binary {}",
                base64::engine::general_purpose::STANDARD.encode(b.as_slice())
            ),
        },
    }
}

fn time_text(t: &Timestamp) -> String {
    t.to_rfc3339_nano()
}

/// Bytes of a sops ciphertext: base64 and the `ENC[…,data:…]` punctuation.
const CIPHERTEXT_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b',' | b':' | b'[' | b']' | b'_');
        b += 1;
    }
    table
};

/// Whether `s` is a sops ciphertext as sops and ksec write them. Those are most of the strings
/// an encrypted file holds, and yaml.v3 writes them plain in block context (no space, `#`,
/// quote or line break; flow indicators only inside, and no `:` at the end): the general
/// analysis reaches the same answer at twenty times the cost.
fn is_ciphertext(s: &str) -> bool {
    const PREFIX: &str = "ENC[AES256_GCM,data:";
    if !(s.starts_with(PREFIX) && s.ends_with(']')) {
        return false;
    }
    // The data field is most of a large value's ciphertext: checked as base64 first.
    let fields = &s.as_bytes()[PREFIX.len()..];
    let data_end = memchr::memchr(b',', fields).unwrap_or(fields.len());
    let (data, rest) = fields.split_at(data_end);
    (is_long_base64(data) || only(data, &CIPHERTEXT_BYTES)) && only(rest, &CIPHERTEXT_BYTES)
}

/// Whether every byte of `bytes` is in `table`.
fn only(bytes: &[u8], table: &[bool; 256]) -> bool {
    super::every_byte(bytes, |b| table[b as usize])
}

/// Whether `bytes` is long standard base64, checked with the CPU's vector instructions (then
/// every byte is a letter, a digit, `+`, `/` or `=`). Short texts are left to [`only`].
fn is_long_base64(bytes: &[u8]) -> bool {
    const LONG: usize = 256;
    bytes.len() >= LONG && base64_simd::STANDARD.check(bytes).is_ok()
}

/// yaml.v3's `stringv` style choice followed by the emitter's checks.
pub(crate) fn canonical_str(s: &str, ctx: &Context<'_>) -> String {
    canonical_str_cow(s, ctx).into_owned()
}

/// [`canonical_str`], borrowing `s` when that is its rendering (most values: base64, words,
/// ciphertext) and analyzing it once otherwise.
pub(crate) fn canonical_str_cow<'s>(s: &'s str, ctx: &Context<'_>) -> Cow<'s, str> {
    if is_written_as_is(s, ctx) {
        return Cow::Borrowed(s);
    }
    let text = analyzed_str(s, ctx);
    if text == s { Cow::Borrowed(s) } else { Cow::Owned(text) }
}

/// Whether [`canonical_str`] gives `s` back unchanged, without copying `s` when that is known
/// at a glance (a 10 MiB value was copied only to be compared and dropped).
pub(crate) fn is_canonical_str(s: &str, ctx: &Context<'_>) -> bool {
    matches!(canonical_str_cow(s, ctx), Cow::Borrowed(_))
}

/// The quick cases of [`canonical_str`]: ciphertext, and base64 and identifiers, the bulk of a
/// Secret's values. yaml.v3 writes those plain unless they read as another type, and `analyze`
/// would find nothing in them to object to (a 10 MiB value took 460M instructions through it).
fn is_written_as_is(s: &str, ctx: &Context<'_>) -> bool {
    (!ctx.in_flow && is_ciphertext(s)) || (is_plain_word(s) && resolve::encoder_may_write_plain(s))
}

/// Bytes of a plain word: base64 and identifier characters, none of them an indicator, a space,
/// a break or a comment start anywhere in a plain scalar.
const PLAIN_WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'.' | b'_' | b'-');
        b += 1;
    }
    table
};

/// Whether `s` starts with a base64 character (a letter, a digit, `+` or `/`) and holds only
/// [`PLAIN_WORD_BYTES`]: text in which no YAML reader or writer sees an indicator, a space, a
/// break, a comment or a document marker.
fn is_plain_word(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes
        .first()
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        && (is_long_base64(bytes) || only(bytes, &PLAIN_WORD_BYTES))
}

/// [`canonical_str`] by the emitter's full analysis.
fn analyzed_str(s: &str, ctx: &Context<'_>) -> String {
    // go-yaml treats NEL, LS and PS as line breaks; YAML 1.2 readers do not, so a block would
    // not read back. Double quotes escape them.
    if s.contains(['\u{85}', '\u{2028}', '\u{2029}']) {
        return double_quoted(s, ctx.faithful);
    }
    let wanted = if s.contains('\n') {
        if ctx.in_flow {
            Style::DoubleQuoted
        } else {
            Style::Literal
        }
    } else if resolve::encoder_may_write_plain(s) {
        Style::Plain
    } else {
        Style::DoubleQuoted
    };
    write(s, wanted, ctx)
}

/// The longest key, in bytes, yaml.v3 writes as a simple `key: value`
/// (`yaml_emitter_check_simple_key`).
const SIMPLE_KEY_MAX_LEN: usize = 128;

/// Whether yaml.v3 writes this key as a simple `key:`; otherwise it writes the explicit form
/// `? key` / `: value` (keys over 128 bytes, or spanning lines).
pub fn key_is_simple(s: &str) -> bool {
    s.len() <= SIMPLE_KEY_MAX_LEN && !analyze(s, false).multiline
}

/// Renders the key of yaml.v3's explicit form `? key` (a block scalar when it spans lines).
pub fn explicit_key(s: &str, ctx: &Context<'_>) -> String {
    canonical_str(s, ctx)
}

/// Renders a simple mapping key as yaml.v3 does (never a block, never multi-line).
pub fn key(s: &str) -> String {
    let ctx = Context {
        in_flow: false,
        block_indent: 0,
        indent_indicator: 2,
        newline: "\n",
        faithful: false,
    };
    let a = analyze(s, ctx.faithful);
    // A plain `<<` is a merge key to yaml.v3 readers: sops fails on `<<: value` (and on the
    // `!!merge <<` it writes itself), so ksec quotes it.
    let mut style = if resolve::encoder_may_write_plain(s) && !s.contains('\n') && s != "<<" {
        Style::Plain
    } else {
        Style::DoubleQuoted
    };
    if a.multiline {
        style = Style::DoubleQuoted;
    }
    if style == Style::Plain && (!a.block_plain_allowed || s.is_empty()) {
        style = Style::SingleQuoted;
    }
    if style == Style::SingleQuoted && !a.single_quoted_allowed {
        style = Style::DoubleQuoted;
    }
    emit(s, style, &ctx)
}

/// Writes a string in the wanted style, falling back as yaml.v3's emitter does when the style
/// cannot represent it (`yaml_emitter_select_scalar_style`).
pub fn write(s: &str, wanted: Style, ctx: &Context<'_>) -> String {
    let a = analyze(s, ctx.faithful);
    let mut style = wanted;
    if style == Style::Plain {
        let allowed = if ctx.in_flow {
            a.flow_plain_allowed
        } else {
            a.block_plain_allowed
        };
        if !allowed || (s.is_empty() && ctx.in_flow) {
            style = Style::SingleQuoted;
        }
    }
    if style == Style::SingleQuoted && (!a.single_quoted_allowed || a.multiline) {
        // Multi-line single quotes fold lines; ksec writes those in double quotes instead.
        style = Style::DoubleQuoted;
    }
    if matches!(style, Style::Literal | Style::Folded) && (!a.block_allowed || ctx.in_flow) {
        style = Style::DoubleQuoted;
    }
    emit(s, style, ctx)
}

fn emit(s: &str, style: Style, ctx: &Context<'_>) -> String {
    match style {
        Style::Plain => s.to_string(),
        Style::SingleQuoted => format!("'{}'", s.replace('\'', "''")),
        Style::DoubleQuoted => double_quoted(s, ctx.faithful),
        Style::Literal => literal(s, ctx),
        Style::Folded => folded(s, ctx),
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// yaml.v3's `is_printable` (astral-plane characters are not printable to it).
fn is_printable(c: char, faithful: bool) -> bool {
    if faithful && (c as u32) >= 0x10000 {
        return true;
    }
    matches!(c, '\n' | '\x20'..='\x7e' | '\u{a0}'..='\u{d7ff}')
        || (('\u{e000}'..='\u{fffd}').contains(&c) && c != '\u{feff}')
}

/// Characters that never change a plain scalar's meaning (base64, tokens, hostnames).
fn is_inert(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'.' | b'_')
}

/// Flow indicators that make plain text impossible inside a flow collection but are harmless
/// in block context when they neither start the text nor (for `:`) end it.
fn is_flow_indicator(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}' | b'?' | b':')
}

fn analyze(s: &str, faithful: bool) -> Analysis {
    // Fast paths for the common cases, which the general scan below agrees with. Base64 `data`
    // values and identifiers allow every style. sops ciphertexts (`ENC[AES256_GCM,data:…]`)
    // hold flow indicators but no space, no `#` and no `:` at the end, so only flow plain is
    // ruled out.
    let bytes = s.as_bytes();
    if let (Some(&first), Some(&last)) = (bytes.first(), bytes.last())
        && is_inert(first)
        && !s.starts_with("...")
    {
        let mut flow = false;
        let simple = bytes.iter().all(|&b| {
            let indicator = is_flow_indicator(b);
            flow |= indicator;
            indicator || is_inert(b)
        });
        if simple && last != b':' {
            return Analysis {
                multiline: false,
                flow_plain_allowed: !flow,
                block_plain_allowed: true,
                single_quoted_allowed: true,
                block_allowed: true,
            };
        }
    }
    analyze_scan(s, faithful)
}

/// The general analysis, character by character.
fn analyze_scan(s: &str, faithful: bool) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain_allowed: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let (mut block_indicators, mut flow_indicators) = (false, false);
    if s.starts_with("---") || s.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let (mut line_breaks, mut special, mut tabs) = (false, false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) = (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let mut chars = s.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let followed_by_whitespace = next.is_none_or(|n| n == ' ' || n == '\t' || is_break(n));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '-' if followed_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '#' if preceded_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c, faithful) {
            special = true;
        }
        let last = next.is_none();
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = c == ' ' || c == '\t' || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain_allowed: true,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space || space_break || tabs || special {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_allowed = false;
    }
    if faithful {
        // Trailing spaces are content in a block scalar; go-yaml just avoids them.
        a.block_allowed = !special;
    }
    if line_breaks {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if flow_indicators {
        a.flow_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// yaml.v3's double-quoted writer (no line folding: sops's emitter has unlimited width).
pub fn double_quoted(s: &str, faithful: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    // yaml.v3 checks for a byte-order mark at the start of the value for every character.
    let bom = s.starts_with('\u{feff}');
    for c in s.chars() {
        if !is_printable(c, faithful) || bom || is_break(c) || c == '"' || c == '\\' {
            out.push('\\');
            match c {
                '\0' => out.push('0'),
                '\x07' => out.push('a'),
                '\x08' => out.push('b'),
                '\t' => out.push('t'),
                '\n' => out.push('n'),
                '\x0b' => out.push('v'),
                '\x0c' => out.push('f'),
                '\r' => out.push('r'),
                '\x1b' => out.push('e'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '\u{85}' => out.push('N'),
                '\u{a0}' => out.push('_'),
                '\u{2028}' => out.push('L'),
                '\u{2029}' => out.push('P'),
                c if (c as u32) <= 0xff => out.push_str(&format!("x{:02X}", c as u32)),
                c if (c as u32) <= 0xffff => out.push_str(&format!("u{:04X}", c as u32)),
                c => out.push_str(&format!("U{:08X}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// The block header's indentation and chomping indicators (`yaml_emitter_write_block_scalar_hints`).
fn block_hints(s: &str, ctx: &Context<'_>) -> String {
    let mut hints = String::new();
    if s.starts_with(' ') || s.starts_with(is_break) {
        hints.push_str(&ctx.indent_indicator.to_string());
    }
    let mut rev = s.chars().rev();
    match (rev.next(), rev.next()) {
        (None, _) => hints.push('-'),
        (Some(last), _) if !is_break(last) => hints.push('-'),
        (Some(_), None) => hints.push('+'),
        (Some(_), Some(prev)) if is_break(prev) => hints.push('+'),
        _ => {}
    }
    hints
}

/// A `|` block. The result ends at the end of the last content line, without its line break,
/// followed by the empty lines of a keep-chomped value.
fn literal(s: &str, ctx: &Context<'_>) -> String {
    let mut out = format!("|{}", block_hints(s, ctx));
    push_block_lines(&mut out, s, ctx);
    out
}

/// A `>` block as yaml.v3 writes it: a line break in the value becomes an empty line.
fn folded(s: &str, ctx: &Context<'_>) -> String {
    let mut out = format!(">{}", block_hints(s, ctx));
    let lines = content_lines(s);
    let indent = " ".repeat(ctx.block_indent);
    let mut previous_text = false;
    let mut leading_spaces = true;
    for line in lines {
        out.push_str(ctx.newline);
        if line.is_empty() {
            previous_text = false;
            continue;
        }
        let starts_blank = line.starts_with([' ', '\t']);
        if previous_text && !leading_spaces && !starts_blank {
            out.push_str(ctx.newline);
        }
        out.push_str(&indent);
        out.push_str(line);
        previous_text = true;
        leading_spaces = starts_blank;
    }
    push_keep_lines(&mut out, s, ctx);
    out
}

/// The lines of a block scalar's content, without the final line break and without the
/// trailing empty lines that keep-chomping carries (the emitter writes those as blank lines).
fn content_lines(s: &str) -> Vec<&str> {
    if !s.is_empty() && s.chars().all(|c| c == '\n') {
        // Only empty lines: a keep-chomped block with no content; the lines follow it.
        return Vec::new();
    }
    let body = s.strip_suffix('\n').unwrap_or(s);
    let body = body.trim_end_matches('\n');
    if body.is_empty() && !s.is_empty() {
        return vec![""];
    }
    body.split('\n').collect()
}

fn push_block_lines(out: &mut String, s: &str, ctx: &Context<'_>) {
    let indent = " ".repeat(ctx.block_indent);
    for line in content_lines(s) {
        out.push_str(ctx.newline);
        if !line.is_empty() {
            out.push_str(&indent);
            out.push_str(line);
        }
    }
    push_keep_lines(out, s, ctx);
}

/// The empty lines a keep-chomped value (`|+`) carries after its last content line.
fn push_keep_lines(out: &mut String, s: &str, ctx: &Context<'_>) {
    for _ in 0..trailing_blank_lines(s) {
        out.push_str(ctx.newline);
    }
}

/// How many line breaks end the value beyond the one that ends its last content line (blank
/// lines a keep-chomped block needs after its content).
pub fn trailing_blank_lines(s: &str) -> usize {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    if trailing == s.len() {
        // Nothing but line breaks: each is an empty line.
        return trailing;
    }
    trailing.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context {
            in_flow: false,
            block_indent: 4,
            indent_indicator: 4,
            newline: "\n",
            faithful: false,
        }
    }

    fn canon(s: &str) -> String {
        canonical(&Value::str(s), &ctx())
    }

    #[test]
    fn strings_that_would_change_type_are_double_quoted() {
        assert_eq!(canon("hello world"), "hello world");
        assert_eq!(canon("yes"), "\"yes\"");
        assert_eq!(canon("123"), "\"123\"");
        assert_eq!(canon("true"), "\"true\"");
        assert_eq!(canon("2024-01-01"), "\"2024-01-01\"");
        assert_eq!(canon(""), "\"\"");
        assert_eq!(canon("null"), "\"null\"");
    }

    #[test]
    fn strings_with_indicators_or_edge_spaces_are_single_quoted() {
        assert_eq!(canon(" lead"), "' lead'");
        assert_eq!(canon("a: b"), "'a: b'");
        assert_eq!(canon("- x"), "'- x'");
        assert_eq!(canon("#x"), "'#x'");
        assert_eq!(canon("it's"), "it's");
        assert_eq!(canon("@x'y"), "'@x''y'");
    }

    #[test]
    fn non_printable_and_astral_characters_are_escaped() {
        assert_eq!(canon("tab\there"), "\"tab\\there\"");
        assert_eq!(canon("😀"), "\"\\U0001F600\"");
        assert_eq!(canon("значение ✓"), "значение ✓");
        assert_eq!(canon("bell\x07"), "\"bell\\a\"");
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_with_chomping() {
        assert_eq!(canon("line one\nline two\n"), "|\n    line one\n    line two");
        assert_eq!(canon("a\nb"), "|-\n    a\n    b");
        assert_eq!(canon("a\n\n"), "|+\n    a\n");
        assert_eq!(canon(" lead\nx\n"), "|4\n     lead\n    x");
        assert_eq!(canon("a\n\nb\n"), "|\n    a\n\n    b");
        // Trailing spaces before a break rule out a block: double quotes instead.
        assert_eq!(canon("a \nb"), "\"a \\nb\"");
    }

    #[test]
    fn in_flow_context_indicators_force_quotes() {
        let flow = Context { in_flow: true, ..ctx() };
        assert_eq!(canonical(&Value::str("a,b"), &flow), "'a,b'");
        assert_eq!(canonical(&Value::str("a\nb"), &flow), "\"a\\nb\"");
        assert_eq!(canonical(&Value::str("plain"), &flow), "plain");
    }

    #[test]
    fn typed_values_use_go_text() {
        assert_eq!(canonical(&Value::Int(-7), &ctx()), "-7");
        assert_eq!(canonical(&Value::Bool(true), &ctx()), "true");
        assert_eq!(canonical(&Value::Null, &ctx()), "null");
        assert_eq!(canonical(&Value::Float(6.02e23), &ctx()), "6.02e+23");
        assert_eq!(canonical(&Value::Float(1.0), &ctx()), "1");
    }

    #[test]
    fn keys_quote_yaml11_words() {
        assert_eq!(key("n"), "\"n\"");
        assert_eq!(key("name"), "name");
        assert_eq!(key(""), "\"\"");
        assert_eq!(key("a: b"), "'a: b'");
        // Plain `<<` would be a merge key to the reader.
        assert_eq!(key("<<"), "\"<<\"");
    }

    #[test]
    fn long_or_multi_line_keys_are_not_simple() {
        assert!(key_is_simple(&"k".repeat(128)));
        assert!(!key_is_simple(&"k".repeat(129)));
        // 64 two-byte characters: the limit counts bytes, as yaml.v3 does.
        assert!(!key_is_simple(&"é".repeat(65)));
        assert!(!key_is_simple("a\nb"));
        assert!(!key_is_simple("a\u{2028}b"));
        assert_eq!(explicit_key("a\nb", &ctx()), "|-\n    a\n    b");
    }

    #[test]
    fn folded_writes_a_blank_line_per_line_break() {
        let c = ctx();
        assert_eq!(write("a\nb\n", Style::Folded, &c), ">\n    a\n\n    b");
        assert_eq!(write("one two", Style::Folded, &c), ">-\n    one two");
        assert_eq!(write("a\n  more\nb", Style::Folded, &c), ">-\n    a\n      more\n    b");
    }

    #[test]
    fn keep_chomping_counts_blank_lines() {
        assert_eq!(trailing_blank_lines("a\n"), 0);
        assert_eq!(trailing_blank_lines("a\n\n\n"), 2);
        assert_eq!(trailing_blank_lines("a"), 0);
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    #[test]
    fn the_fast_paths_agree_with_the_general_scan() {
        for s in [
            "ENC[AES256_GCM,data:TEImgYVFpA==,iv:o8fK2Anq1HQQ6ckARz2gI4oWW1gtSTBlA9SL40jIYnU=,tag:n2oYAShNSfodmIMEQ8yv2Q==,type:str]",
            "aGVsbG8=",
            "a,b",
            "a:b",
            "a:",
            "a[0]",
            "x{y}",
            "k?v",
            "name",
            "a.b_c/d+e=",
            "...x",
            "-a",
        ] {
            assert_eq!(analyze(s, false), analyze_scan(s, false), "{s}");
            assert_eq!(analyze(s, true), analyze_scan(s, true), "{s}");
        }
    }

    #[test]
    fn ciphertexts_are_written_plain_in_block_context_as_the_general_rules_decide() {
        let ctx = Context {
            in_flow: false,
            block_indent: 2,
            indent_indicator: 2,
            newline: "\n",
            faithful: false,
        };
        for s in [
            "ENC[AES256_GCM,data:TEImgYVFpA==,iv:o8fK2Anq1HQQ6ckARz2gI4oWW1gtSTBlA9SL40jIYnU=,tag:n2oYAShNSfodmIMEQ8yv2Q==,type:str]",
            "ENC[AES256_GCM,data:1yIJ,iv:nmN2U3LvZpBQ5Q9Ka6cTEeB+8TLoNxbLnhqAP/ibmsY=,tag:uBpWDn75Vtp5RWCxrhRr5Q==,type:int]",
        ] {
            assert!(is_ciphertext(s));
            let general = write(s, Style::Plain, &ctx);
            assert!(resolve::encoder_may_write_plain(s));
            assert_eq!(canonical_str(s, &ctx), general, "{s}");
            assert_eq!(general, s);
        }
        for s in [
            "ENC[AES256_GCM,data:a b]",
            "ENC[AES256_GCM,data:x]#",
            "ENC[AES256_GCM,data:x",
        ] {
            assert!(!is_ciphertext(s), "{s}");
        }
    }

    fn contexts() -> [Context<'static>; 2] {
        [true, false].map(|in_flow| Context {
            in_flow,
            block_indent: 2,
            indent_indicator: 2,
            newline: "\n",
            faithful: false,
        })
    }

    #[test]
    fn plain_words_that_read_as_another_type_still_get_the_full_analysis() {
        for s in [
            "true",
            "y",
            "Yes",
            "off",
            "NULL",
            "123",
            "0x1F",
            "0o17",
            "0b101",
            "1_000",
            "1e5",
            "1.5",
            "12:30",
            "2001-12-14",
            "2001-12-14t21.59.43.10-05",
            "0",
            "1-2",
            "9223372036854775808",
            "a",
            "Z9",
            "aGVsbG8=",
        ] {
            for ctx in contexts() {
                assert_eq!(
                    canonical_str(s, &ctx),
                    analyzed_str(s, &ctx),
                    "{s} (in flow: {})",
                    ctx.in_flow
                );
            }
        }
    }

    /// Long base64, as it is or with one byte changed to one that matters to YAML.
    fn long_base64() -> impl proptest::strategy::Strategy<Value = String> {
        use base64::Engine;
        use proptest::prelude::*;
        (
            proptest::collection::vec(any::<u8>(), 150..700),
            any::<bool>(),
            any::<prop::sample::Index>(),
            prop::sample::select(b" :#._-=[],\n\"+/A".to_vec()),
        )
            .prop_map(|(raw, damage, at, byte)| {
                let mut text = base64::engine::general_purpose::STANDARD.encode(raw).into_bytes();
                if damage {
                    let i = at.index(text.len());
                    text[i] = byte;
                }
                String::from_utf8(text).expect("ASCII")
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]
        /// The vector check of long base64 answers as the byte-by-byte one.
        #[test]
        fn long_values_are_classified_as_byte_by_byte(text in long_base64()) {
            let by_bytes = |s: &str, table: &[bool; 256]| s.bytes().all(|b| table[b as usize]);
            let first_ok = text.as_bytes().first().is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
            proptest::prop_assert_eq!(is_plain_word(&text), first_ok && by_bytes(&text, &PLAIN_WORD_BYTES));
            let ciphertext = format!("ENC[AES256_GCM,data:{text},iv:YWJj,tag:ZGVm,type:str]");
            proptest::prop_assert_eq!(is_ciphertext(&ciphertext), by_bytes(&ciphertext, &CIPHERTEXT_BYTES));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        #[test]
        fn the_plain_word_path_agrees_with_the_full_analysis(s in "[A-Za-z0-9+/=._ :#-]{0,24}") {
            for ctx in contexts() {
                proptest::prop_assert_eq!(canonical_str(&s, &ctx), analyzed_str(&s, &ctx));
                proptest::prop_assert_eq!(is_canonical_str(&s, &ctx), analyzed_str(&s, &ctx) == s);
                proptest::prop_assert_eq!(canonical_str_cow(&s, &ctx), analyzed_str(&s, &ctx));
            }
        }

        /// The borrowing rendering the emitter uses is the rendering, for any text (quotes,
        /// line breaks, indicators, non-ASCII), and borrows exactly when nothing changes.
        #[test]
        fn the_borrowing_rendering_is_the_rendering(s in "(?s).{0,40}") {
            for ctx in contexts() {
                let rendered = canonical_str_cow(&s, &ctx);
                proptest::prop_assert_eq!(&rendered, &canonical_str(&s, &ctx));
                proptest::prop_assert_eq!(matches!(rendered, Cow::Borrowed(_)), rendered == s);
            }
        }
    }
}
