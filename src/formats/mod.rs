//! Stores: bytes ⇄ [`Tree`], one module per format. Formats know nothing of crypto.

pub mod json;
pub mod yaml;

use std::path::Path;

use crate::error::Error;
use crate::tree::{Parsed, State, Tree};

/// A file format ksec reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// Parses an `--input-type`/`--output-type` value.
    pub fn from_name(name: &str) -> Result<Format, Error> {
        match name {
            "yaml" => Ok(Format::Yaml),
            "json" => Ok(Format::Json),
            other => Err(Error::Usage(format!(
                "unknown format {other:?}: ksec reads and writes yaml and json (dotenv, ini and binary are not supported yet)"
            ))),
        }
    }

    /// The format sops picks from a file name (a case-sensitive extension match).
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            Some(Format::Yaml)
        } else if name.ends_with(".json") {
            Some(Format::Json)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
        }
    }
}

/// Parses input whose format is unknown (stdin without `--input-type`): JSON when it is a JSON
/// object (`kubectl … -o json`), YAML otherwise. Structured input is never treated as an
/// opaque blob, which is how sops ends up committing plaintext.
pub fn parse_guessing(input: &[u8], file: &str) -> Result<(Format, Tree<Parsed>), Error> {
    let first = input.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{')
        && let Ok(tree) = json::parse(input, file)
    {
        return Ok((Format::Json, tree));
    }
    Ok((Format::Yaml, parse(Format::Yaml, input, file)?))
}

/// How output is laid out.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutputOptions {
    pub yaml: yaml::EmitOptions,
    pub json_indent: json::JsonIndent,
}

/// Parses input of a known format.
pub fn parse(format: Format, input: &[u8], file: &str) -> Result<Tree<Parsed>, Error> {
    let tree = match format {
        Format::Yaml => yaml::parse(input, file)?,
        Format::Json => json::parse(input, file)?,
    };
    if tree.documents.is_empty() {
        return Err(Error::NoDocuments { file: file.to_string() });
    }
    Ok(tree)
}

/// Writes a tree. A tree parsed from another format loses its source layout first.
pub fn emit<S: State>(
    format: Format,
    tree: &mut Tree<S>,
    input_format: Format,
    options: OutputOptions,
) -> Result<Vec<u8>, Error> {
    if format != input_format {
        tree.forget_layout();
    }
    match format {
        Format::Yaml => yaml::emit(tree, options.yaml),
        Format::Json => json::emit(tree, options.json_indent),
    }
}
