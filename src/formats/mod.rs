//! Stores: bytes ⇄ [`Tree`], one module per format. Formats know nothing of crypto.

pub mod binary;
pub mod dotenv;
mod error;
mod flat;
pub mod ini;
pub mod json;
pub mod limits;
pub mod styles;
pub mod yaml;

use std::path::Path;

use zeroize::Zeroizing;

use crate::tree::{Parsed, State, Tree};
pub use error::FormatError;

/// A file format ksec reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    /// `KEY=VALUE` lines (`.env`).
    Dotenv,
    /// Sections of `key = value` lines (`.ini`).
    Ini,
    /// Any file, encrypted whole as one value.
    Binary,
}

impl Format {
    /// Parses an `--input-type`/`--output-type` value.
    pub fn from_name(name: &str) -> Result<Format, FormatError> {
        match name {
            "yaml" => Ok(Format::Yaml),
            "json" => Ok(Format::Json),
            "dotenv" => Ok(Format::Dotenv),
            "ini" => Ok(Format::Ini),
            "binary" => Ok(Format::Binary),
            other => Err(FormatError::UnknownFormat {
                name: other.to_string(),
            }),
        }
    }

    /// The format sops picks from a file name (a case-sensitive extension match). `None` for
    /// any other name: sops then takes the binary store, ksec looks at the content first.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            Some(Format::Yaml)
        } else if name.ends_with(".json") {
            Some(Format::Json)
        } else if name.ends_with(".env") {
            Some(Format::Dotenv)
        } else if name.ends_with(".ini") {
            Some(Format::Ini)
        } else {
            None
        }
    }

    /// The format as `--input-type` names it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Binary => "binary",
        }
    }

    /// The format as messages about its syntax name it.
    pub fn label(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
            Format::Dotenv => "dotenv",
            Format::Ini => "INI",
            Format::Binary => "binary",
        }
    }
}

/// Parses input whose format is unknown (stdin, or a name sops would not recognise): JSON when
/// it is a JSON object (`kubectl … -o json`; a sops binary-store envelope is recognised as
/// such), YAML when it parses as YAML. Structured input is never treated as an opaque blob,
/// which is how sops ends up encrypting a manifest whole; only content that does not look
/// like YAML or JSON at all (a PEM key, a keystore, plain text) is taken as a binary file.
pub fn parse_guessing(input: &[u8], file: &str) -> Result<(Format, Tree<Parsed>), FormatError> {
    let first = input.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{')
        && let Ok(tree) = json::parse(input, file)
    {
        let format = if binary::is_envelope(&tree) {
            Format::Binary
        } else {
            Format::Json
        };
        return Ok((format, tree));
    }
    match parse(Format::Yaml, input, file) {
        Ok(tree) => Ok((Format::Yaml, tree)),
        // Refused for the work it would cause, not for its syntax: never taken as a blob.
        Err(error) if error.is_limit() => Err(error),
        Err(_) if !looks_structured(input) => Ok((Format::Binary, binary::wrap(input))),
        Err(error) => Err(error),
    }
}

/// Whether text that failed to parse was meant as YAML or JSON: it opens a collection or a
/// document, or a line starts like a mapping key (`name:`) or a list item (`- x`). Such input
/// gets the parse error rather than being encrypted whole.
fn looks_structured(input: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(input) else {
        return false;
    };
    let trimmed = text.trim_start();
    let first_line = trimmed.lines().next().unwrap_or_default();
    if trimmed.is_empty()
        || trimmed.starts_with(['{', '[', '%'])
        || first_line == "---"
        || first_line.starts_with("--- ")
    {
        return true;
    }
    text.lines().any(|line| {
        let key_line = line.split_once(':').is_some_and(|(key, rest)| {
            !key.is_empty()
                && !key.starts_with([' ', '\t', '#', '-'])
                && !key.contains(char::is_whitespace)
                && (rest.is_empty() || rest.starts_with([' ', '\t']))
        });
        key_line || line.starts_with("- ") || line == "-"
    })
}

/// The one document of a tree written in a format that holds one (every format but YAML).
fn single_document<S>(tree: &Tree<S>, format: Format) -> Result<&crate::tree::Document, FormatError> {
    match tree.documents.as_slice() {
        [document] => Ok(document),
        documents => Err(FormatError::Unwritable {
            format,
            reason: format!(
                "{} holds one document per file; this input has {}",
                format.label(),
                documents.len()
            ),
        }),
    }
}

/// How output is laid out.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutputOptions {
    pub yaml: yaml::EmitOptions,
    pub json_indent: json::JsonIndent,
    /// Indent of the JSON envelope of binary files (`stores.json_binary.indent`).
    pub json_binary_indent: json::JsonIndent,
}

/// The bytes of a file to parse, lent or handed over. A YAML tree keeps the text it was read
/// from (to write it back in place): handed over, the bytes become that text without a copy,
/// so a large file is not held twice.
pub enum InputBytes<'a> {
    Lent(&'a [u8]),
    Given(Zeroizing<Vec<u8>>),
}

impl<'a, T: AsRef<[u8]> + ?Sized> From<&'a T> for InputBytes<'a> {
    fn from(bytes: &'a T) -> Self {
        InputBytes::Lent(bytes.as_ref())
    }
}

impl From<Zeroizing<Vec<u8>>> for InputBytes<'static> {
    fn from(bytes: Zeroizing<Vec<u8>>) -> Self {
        InputBytes::Given(bytes)
    }
}

impl std::ops::Deref for InputBytes<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            InputBytes::Lent(bytes) => bytes,
            InputBytes::Given(bytes) => bytes,
        }
    }
}

/// Parses input of a known format.
pub fn parse<'a>(format: Format, input: impl Into<InputBytes<'a>>, file: &str) -> Result<Tree<Parsed>, FormatError> {
    let input = input.into();
    if format == Format::Yaml {
        return non_empty(yaml::parse(input, file)?, file);
    }
    parse_keeping_text(format, &input, file, true)
}

/// [`parse`] for a check that compares values (the self-check's read-back): the tree keeps no
/// copy of the text, so it cannot be written back in place, and an output about to be written
/// is not held twice.
pub fn parse_values(format: Format, input: &[u8], file: &str) -> Result<Tree<Parsed>, FormatError> {
    parse_keeping_text(format, input, file, false)
}

fn parse_keeping_text(format: Format, input: &[u8], file: &str, keep_text: bool) -> Result<Tree<Parsed>, FormatError> {
    let tree = match format {
        Format::Yaml if keep_text => yaml::parse(input, file)?,
        Format::Yaml => yaml::parse::parse_values(input, file)?,
        Format::Json => json::parse(input, file)?,
        Format::Dotenv => dotenv::parse(input, file)?,
        Format::Ini => ini::parse(input, file)?,
        Format::Binary => binary::parse(input, file)?,
    };
    non_empty(tree, file)
}

fn non_empty(tree: Tree<Parsed>, file: &str) -> Result<Tree<Parsed>, FormatError> {
    if tree.documents.is_empty() {
        return Err(FormatError::NoDocuments { file: file.to_string() });
    }
    Ok(tree)
}

/// Writes a tree. A tree parsed from another format loses its source layout first.
pub fn emit<S: State>(
    format: Format,
    tree: &mut Tree<S>,
    input_format: Format,
    options: OutputOptions,
) -> Result<Vec<u8>, FormatError> {
    if format != input_format {
        tree.forget_layout();
    }
    match format {
        Format::Yaml => yaml::emit(tree, options.yaml),
        Format::Json => json::emit(tree, options.json_indent),
        Format::Dotenv => dotenv::emit(tree),
        Format::Ini => ini::emit(tree),
        Format::Binary => binary::emit(tree, options.json_binary_indent),
    }
}

/// `text` with one byte changed to `byte` (`how` 0), `byte` inserted (1) or one removed (2),
/// at `at`: the damage the readers' property tests apply to generated documents.
#[cfg(test)]
pub(crate) fn damaged(text: impl Into<Vec<u8>>, at: proptest::sample::Index, byte: u8, how: u8) -> Vec<u8> {
    let mut bytes = text.into();
    if !bytes.is_empty() {
        let i = at.index(bytes.len());
        match how {
            0 => bytes[i] = byte,
            1 => bytes.insert(i, byte),
            _ => {
                bytes.remove(i);
            }
        }
    }
    bytes
}
