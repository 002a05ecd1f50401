//! Why bytes could not be read as a format, or a tree written in one. Messages name the file
//! and where in it, never a value (a line of dotenv may be a secret).

use super::Format;

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
    /// the document).
    #[error("{file}: {}", at_line(*.line, .reason))]
    Unsupported {
        file: String,
        line: Option<usize>,
        reason: String,
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

/// A reason with the position where each parser has always put it, so messages stay as users
/// (and their scripts) know them: after the reason for YAML's scanner, before it for the others.
fn located(format: Format, line: Option<usize>, column: Option<usize>, reason: &str) -> String {
    match (line, column) {
        (Some(line), Some(column)) if format == Format::Yaml => format!("{reason} at line {line} column {column}"),
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
