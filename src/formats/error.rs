//! Why bytes could not be read as a format, or a tree written in one. Messages name the file
//! and where in it, never a value (a line of dotenv may be a secret).

use super::Format;
use super::limits::AliasLimit;

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// An `--input-type` or `--output-type` value ksec does not know.
    #[error("unknown format {name:?}: ksec reads and writes yaml, json, dotenv, ini and binary")]
    UnknownFormat { name: String },

    /// Bytes that are not UTF-8 where the format is text.
    #[error("cannot parse {file} as {}: invalid UTF-8 at byte {valid_up_to}", .format.label())]
    NotText {
        file: String,
        format: Format,
        valid_up_to: usize,
    },

    /// Text that breaks the format's syntax, at a line (and column) when the parser knows it.
    #[error("cannot parse {file} as {}: {}", .format.label(), located(*.format, *.line, *.column, .reason))]
    Syntax {
        file: String,
        format: Format,
        line: Option<usize>,
        column: Option<usize>,
        reason: String,
    },

    /// Valid syntax that holds something a sops file cannot (a YAML alias as a key, a list as
    /// the document, a tag sops would drop).
    #[error("{file}: {}", at_place(*.line, *.column, .reason))]
    Unsupported {
        file: String,
        line: Option<usize>,
        column: Option<usize>,
        reason: String,
    },

    /// Mappings and lists nested deeper than ksec reads ([`MAX_DEPTH`](super::limits::MAX_DEPTH)).
    #[error(
        "cannot read {file}: {}",
        at_place(*.line, *.column, &format!("{} nested deeper than {limit} levels (ksec's limit)", .format.label()))
    )]
    TooDeep {
        file: String,
        format: Format,
        line: Option<usize>,
        column: Option<usize>,
        limit: usize,
    },

    /// Anchors and aliases that would expand beyond what any real file needs.
    #[error("cannot read {file}: excessive aliasing at line {line}, column {column}: {limit}")]
    ExcessiveAliasing {
        file: String,
        line: usize,
        column: usize,
        limit: AliasLimit,
    },

    #[error("{file} has no documents")]
    NoDocuments { file: String },

    /// JSON allows a repeated key; sops's reader fails on this file too.
    #[error("{file}: invalid sops metadata: the top-level key `sops` appears more than once")]
    RepeatedMetadataKey { file: String },

    /// A `sops_…` entry of a dotenv or INI file that does not fit the metadata's shape.
    #[error("{file}: invalid sops metadata: sops_{key}: {reason}")]
    MetadataEntry { file: String, key: String, reason: String },

    /// A tree the format cannot hold, or that would not read back the same.
    #[error("cannot write {} output: {reason}", .format.label())]
    Unwritable { format: Format, reason: String },
}

impl FormatError {
    /// Whether the input was refused for the work it would cause, not for what it says: such
    /// input is refused the same way (exit 2) by every command, encrypted or not.
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            FormatError::TooDeep { .. } | FormatError::ExcessiveAliasing { .. }
        )
    }
}

/// A reason with the position where each parser has always put it, so messages stay as users
/// (and their scripts) know them: after the reason for YAML's scanner, before it for the others.
fn located(format: Format, line: Option<usize>, column: Option<usize>, reason: &str) -> String {
    match (line, column) {
        (Some(line), Some(column)) if format == Format::Yaml => format!("{reason} at line {line} column {column}"),
        (Some(line), Some(column)) => format!("line {line}, column {column}: {reason}"),
        (line, _) => at_line(line, reason),
    }
}

fn at_place(line: Option<usize>, column: Option<usize>, reason: &str) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("line {line}, column {column}: {reason}"),
        (line, _) => at_line(line, reason),
    }
}

fn at_line(line: Option<usize>, reason: &str) -> String {
    match line {
        Some(line) => format!("line {line}: {reason}"),
        None => reason.to_string(),
    }
}
