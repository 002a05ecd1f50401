//! Why a change to a decrypted file could not be made.

use crate::formats::{Format, FormatError};
use crate::kube::{Finding, KubeError};
use crate::sops_file::FileError;
use crate::tree::path::InvalidTreePath;

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{path}: no key or index {component} in the file")]
    PathNotFound { path: String, component: String },

    #[error(
        "the top-level sops key holds the file's metadata, not values; change keys with rotate, updatekeys or groups"
    )]
    MetadataPath,

    /// A `set` value that is not one (sops's "invalid set format", exit 7).
    #[error("invalid value: {0}")]
    InvalidValue(ValueProblem),

    /// A `set` or `unset` path that is not one: for these sops says "invalid set format" too.
    #[error("invalid value: invalid path {:?}: {}", .0.path, .0.problem)]
    InvalidPath(InvalidTreePath),

    /// `set` values under a Secret's `data` that are not base64 of text: most likely the
    /// clear text itself, which Kubernetes would decode to junk.
    #[error("{file}: a value set under data is not base64 of text:\n{}", indented(.findings))]
    ClearTextInData { file: String, findings: Vec<Finding> },

    /// `set --base64` under a Secret's `stringData`, which holds clear text.
    #[error("{path}: stringData holds clear text, so --base64 would store its base64 text there")]
    Base64InStringData { path: String },

    /// A resolved merge view that still holds a conflict marker, at the line the editor shows.
    #[error("{file} still has a conflict marker at line {line}")]
    UnresolvedConflict { file: String, line: usize },

    #[error("{file}: the key groups or the encryption rule changed differently on both sides of the merge")]
    MergeMetadata { file: String },

    /// A side of a merge whose view is not text, so it cannot be merged line by line.
    #[error(
        "cannot write {} output: the {side} side is not UTF-8 text and cannot be merged line by line",
        .format.name()
    )]
    SideNotText { format: Format, side: &'static str },

    #[error(transparent)]
    File(#[from] FileError),

    #[error(transparent)]
    Format(#[from] FormatError),

    #[error(transparent)]
    Kube(#[from] KubeError),
}

/// What is wrong with a `set` value.
#[derive(Debug, thiserror::Error)]
pub enum ValueProblem {
    #[error("the value is not valid JSON")]
    NotJson,
    #[error("the value has the key {0:?} twice")]
    DuplicateKey(String),
    /// The file `--value-file` named holds bytes that are not text.
    #[error("{0} is not UTF-8 text")]
    FileNotText(String),
    #[error("the value on stdin is not UTF-8 text")]
    StdinNotText,
}

fn indented(findings: &[Finding]) -> String {
    findings.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n")
}
