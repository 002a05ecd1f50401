//! One error type for the whole crate. Every variant maps to the exit code sops uses for the
//! same failure (research: sops `cmd/sops/codes`), so scripts written for sops keep working.
//!
//! Messages name the file and the key path, never a secret value, and most carry a hint
//! saying what to do next.

use std::path::PathBuf;

/// Exit codes shared with sops.
pub mod exit {
    pub const GENERIC: i32 = 1;
    pub const COULD_NOT_READ_INPUT: i32 = 2;
    pub const COULD_NOT_WRITE_OUTPUT: i32 = 3;
    pub const ERROR_DUMPING_TREE: i32 = 4;
    pub const INVALID_SET_FORMAT: i32 = 7;
    pub const CONFLICTING_PARAMETERS: i32 = 8;
    pub const ERROR_ENCRYPTING_MAC: i32 = 21;
    pub const ERROR_ENCRYPTING_TREE: i32 = 23;
    pub const ERROR_DECRYPTING_TREE: i32 = 25;
    /// ksec's own: a Kubernetes Secret the API server would refuse.
    pub const INVALID_SECRET: i32 = 30;
    /// ksec's own: encrypting would leave a Secret value in clear (fail closed).
    pub const PLAINTEXT_IN_SECRET: i32 = 31;
    /// ksec's own: the encryption rule matches no value at all.
    pub const RULE_MATCHES_NOTHING: i32 = 32;
    /// ksec's own: `ksec check` found problems.
    pub const CHECK_FAILED: i32 = 33;
    pub const MAC_MISMATCH: i32 = 51;
    pub const INVALID_TREE_PATH: i32 = 91;
    pub const NEED_AT_LEAST_ONE_DOCUMENT: i32 = 92;
    pub const NO_FILE_SPECIFIED: i32 = 100;
    pub const NO_EDITOR_FOUND: i32 = 201;
    pub const FILE_NOT_MODIFIED: i32 = 200;
    pub const DUPLICATE_DECRYPTION_KEY_TYPE: i32 = 112;
    pub const COULD_NOT_RETRIEVE_KEY: i32 = 128;
    pub const FILE_ALREADY_ENCRYPTED: i32 = 203;
}

/// Everything that can go wrong in ksec.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Conflict(String),

    #[error("{0}")]
    Usage(String),

    #[error("{}: no such file", .path.display())]
    InputNotFound { path: PathBuf },

    #[error("cannot read {}: {source}", .path.display())]
    ReadInput { path: PathBuf, source: std::io::Error },

    #[error("cannot parse {file} as {format}: {message}")]
    Parse {
        file: String,
        format: &'static str,
        message: String,
    },

    /// A file to decrypt that does not read: sops exits 1 here (2 is for plaintext input).
    #[error("{0}")]
    UnreadableEncrypted(Box<Error>),

    #[error("{file}: {message}")]
    UnsupportedDocument { file: String, message: String },

    /// Content neither YAML nor JSON with no name or `--input-type` to type it by (stdin).
    #[error("cannot tell the input type of {file}: it is neither YAML nor JSON")]
    UnknownInputType { file: String },

    #[error("{file} has no documents")]
    NoDocuments { file: String },

    #[error("cannot write {}: {source}", .path.display())]
    WriteOutput { path: PathBuf, source: std::io::Error },

    #[error("cannot write {format} output: {message}")]
    Emit { format: &'static str, message: String },

    #[error("{}: {message}", .path.display())]
    Config { path: PathBuf, message: String },

    #[error("no creation rule in {} matches {file}", .config.display())]
    NoMatchingCreationRule { config: PathBuf, file: String },

    #[error("no recipients to encrypt {file} for")]
    NoRecipients {
        file: String,
        /// What would give the file a recipient, for the command that ran.
        hint: &'static str,
    },

    /// `rotate --rm-*` would empty these key groups (numbered from 0, as `groups delete` counts).
    #[error(
        "{file}: the removal would leave {} with no key; rotate never drops a group, since that \
         would change the Shamir split behind the user's back",
        key_groups_named(.groups)
    )]
    EmptyKeyGroup { file: String, groups: Vec<usize> },

    #[error("{file}: a Shamir threshold of {threshold} cannot be met by {groups} key groups")]
    ThresholdUnreachable {
        file: String,
        threshold: usize,
        groups: usize,
    },

    #[error("invalid {field}: {message}")]
    InvalidRule { field: String, message: String },

    #[error("invalid recipient {recipient:?}: {message}")]
    InvalidRecipient { recipient: String, message: String },

    #[error("{file} is already encrypted (it has a top-level `sops` key)")]
    AlreadyEncrypted { file: String },

    #[error("{file} is not encrypted: sops metadata not found")]
    MetadataNotFound { file: String },

    #[error("{file}: invalid sops metadata: {message}")]
    InvalidMetadata { file: String, message: String },

    #[error("{file}: cannot encrypt {key_path}: {message}")]
    EncryptValue {
        file: String,
        key_path: String,
        message: String,
    },

    #[error("{file}: cannot decrypt {key_path}: {message}")]
    DecryptValue {
        file: String,
        key_path: String,
        message: String,
    },

    /// The hashes are not shown: the MAC is an unkeyed hash of the values, and printing it
    /// (as sops does) would let anyone with the CI log test guesses of weak secrets offline.
    #[error("{file}: MAC mismatch: the file's values do not match its MAC")]
    MacMismatch { file: String },

    #[error("{file}: cannot decrypt the MAC: {message}")]
    MacUnreadable { file: String, message: String },

    #[error("{file}: cannot encrypt the MAC: {message}")]
    MacEncrypt { file: String, message: String },

    #[error("{file}: could not decrypt the data key\n{report}")]
    DataKeyUnavailable {
        file: String,
        report: String,
        /// What to set up, for the key types the file names.
        hint: String,
    },

    #[error("{file}: invalid Kubernetes Secret:\n{}", .findings.join("\n"))]
    InvalidSecret { file: String, findings: Vec<String> },

    #[error("{file}: refusing to write a Secret value in clear:\n{}", .findings.join("\n"))]
    PlaintextInSecret {
        file: String,
        findings: Vec<String>,
        /// What would seal the values found, which depends on where they are.
        hint: String,
    },

    #[error("{file}: the encryption rule ({rule}) matches no value, so nothing would be encrypted")]
    RuleMatchesNothing { file: String, rule: String },

    #[error("{count} problem(s) found")]
    CheckFailed { count: usize },

    #[error("{failed} of {total} files could not be updated (each is named above)")]
    SomeFilesFailed { failed: usize, total: usize },

    #[error("--decryption-order names {key_type} twice")]
    DuplicateDecryptionKeyType { key_type: String },

    #[error("cannot wrap the data key for {recipient}: {message}")]
    WrapDataKey { recipient: String, message: String },

    #[error("{source_name}: {message}")]
    Identity { source_name: String, message: String },

    #[error("invalid tree path {path:?}: {message}")]
    InvalidTreePath { path: String, message: String },

    #[error("{path}: no key or index {component} in the file")]
    PathNotFound { path: String, component: String },

    #[error("invalid value: {message}")]
    InvalidSetValue { message: String },

    #[error("{file}: the key groups or the encryption rule changed differently on both sides of the merge")]
    MergeMetadata { file: String },

    #[error("{file}: {message}")]
    Environment { file: String, message: String },

    #[error("interrupted; nothing was written")]
    Interrupted { code: i32 },

    #[error("{file} has not been modified")]
    FileNotModified { file: String },

    #[error("{file} still has a conflict marker at line {line}")]
    UnresolvedConflict { file: String, line: usize },

    #[error("cannot run the editor {editor:?}: {message}")]
    NoEditor { editor: String, message: String },

    #[error("the editor {editor:?} failed: {message}; the file was left as it was")]
    EditorFailed { editor: String, message: String },
}

/// [`Error::NoRecipients`] hints, one per command that can run out of recipients.
pub mod no_recipients {
    pub const ENCRYPT: &str =
        "pass --age RECIPIENT (or --pgp), set SOPS_AGE_RECIPIENTS, or add a creation rule to .sops.yaml";
    pub const ROTATE: &str =
        "a file keeps at least one recipient: add one with --add-age or --add-pgp in the same command";
    pub const UPDATEKEYS: &str = "give the file's creation rule in .sops.yaml at least one key";
    pub const GROUPS: &str = "a file keeps at least one key group: add another with `ksec groups add` first";
}

impl Error {
    /// The process exit code, equal to sops's for the same failure.
    pub fn exit_code(&self) -> i32 {
        use Error::*;
        match self {
            Conflict(_) => exit::CONFLICTING_PARAMETERS,
            Usage(_) => exit::GENERIC,
            InputNotFound { .. } => exit::NO_FILE_SPECIFIED,
            ReadInput { .. } | Parse { .. } | UnsupportedDocument { .. } => exit::COULD_NOT_READ_INPUT,
            // Like a parse error: the edited text is not yet a file.
            UnresolvedConflict { .. } => exit::COULD_NOT_READ_INPUT,
            // The input cannot be read as anything: the code sops gives input it cannot parse.
            UnknownInputType { .. } => exit::COULD_NOT_READ_INPUT,
            NoDocuments { .. } => exit::NEED_AT_LEAST_ONE_DOCUMENT,
            UnreadableEncrypted(_) => exit::GENERIC,
            WriteOutput { .. } => exit::COULD_NOT_WRITE_OUTPUT,
            Emit { .. } => exit::ERROR_DUMPING_TREE,
            Config { .. } | NoMatchingCreationRule { .. } | NoRecipients { .. } => exit::GENERIC,
            ThresholdUnreachable { .. } | EmptyKeyGroup { .. } => exit::GENERIC,
            InvalidRule { .. } | InvalidRecipient { .. } | Identity { .. } => exit::GENERIC,
            AlreadyEncrypted { .. } => exit::FILE_ALREADY_ENCRYPTED,
            MetadataNotFound { .. } | InvalidMetadata { .. } => exit::GENERIC,
            EncryptValue { .. } => exit::ERROR_ENCRYPTING_TREE,
            // sops reports "Could not generate data key" as a plain error: exit 1.
            WrapDataKey { .. } => exit::GENERIC,
            DecryptValue { .. } => exit::ERROR_DECRYPTING_TREE,
            MacMismatch { .. } | MacUnreadable { .. } => exit::MAC_MISMATCH,
            MacEncrypt { .. } => exit::ERROR_ENCRYPTING_MAC,
            DataKeyUnavailable { .. } => exit::COULD_NOT_RETRIEVE_KEY,
            InvalidSecret { .. } => exit::INVALID_SECRET,
            DuplicateDecryptionKeyType { .. } => exit::DUPLICATE_DECRYPTION_KEY_TYPE,
            PlaintextInSecret { .. } => exit::PLAINTEXT_IN_SECRET,
            RuleMatchesNothing { .. } => exit::RULE_MATCHES_NOTHING,
            CheckFailed { .. } => exit::CHECK_FAILED,
            SomeFilesFailed { .. } => exit::GENERIC,
            InvalidTreePath { .. } => exit::INVALID_TREE_PATH,
            PathNotFound { .. } => exit::GENERIC,
            InvalidSetValue { .. } => exit::INVALID_SET_FORMAT,
            FileNotModified { .. } => exit::FILE_NOT_MODIFIED,
            MergeMetadata { .. } => exit::GENERIC,
            Interrupted { code } => *code,
            Environment { .. } => exit::GENERIC,
            NoEditor { .. } | EditorFailed { .. } => exit::NO_EDITOR_FOUND,
        }
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        use Error::*;
        Some(match self {
            InputNotFound { .. } => "check the path, or pass `-` to read stdin".into(),
            AlreadyEncrypted { .. } => "to re-encrypt it, decrypt it first (ksec decrypt -i FILE)".into(),
            MetadataNotFound { .. } => {
                "encrypt it with `ksec encrypt`, or pass --input-type if the format was guessed wrong".into()
            }
            MacMismatch { .. } => "the file was changed after it was encrypted; restore it from Git, \
                 or pass --ignore-mac if you trust its values as they are"
                .into(),
            MacUnreadable { .. } => {
                "the `lastmodified` or `mac` field was edited; restore it from Git, or pass --ignore-mac if you \
                 trust its values as they are"
                    .into()
            }
            NoRecipients { hint, .. } => (*hint).into(),
            EmptyKeyGroup { file, groups } => format!(
                "to drop a group, delete it first with `ksec groups delete -i -f {file} {}` (which checks the \
                 Shamir threshold), then rotate",
                groups.first().copied().unwrap_or_default()
            ),
            ThresholdUnreachable { groups, .. } => {
                format!("pass --shamir-secret-sharing-threshold N with N at most {groups}, or keep the group")
            }
            NoMatchingCreationRule { .. } => {
                "add a rule whose path_regex matches (.sops.yaml is read even when recipients are \
                 given, as sops reads it), or name another file with --config"
                    .into()
            }
            DataKeyUnavailable { hint, .. } => hint.clone(),
            DecryptValue { .. } => "the value or its key was edited after encryption, or the file is damaged".into(),
            Parse { .. } => "fix the syntax, or pass --input-type if the format was guessed wrong".into(),
            UnknownInputType { .. } => "pass --input-type binary to encrypt it whole, or --filename-override NAME \
                 to type it (and pick its creation rule) by name"
                .into(),
            UnreadableEncrypted(inner) => return inner.hint(),
            Conflict(_) => "see `ksec help` for which options go together".into(),
            Identity { .. } => "check the path or command in that variable".into(),
            InvalidSecret { .. } => "fix the manifest, or pass --no-validate to encrypt it as it is".into(),
            PlaintextInSecret { hint, .. } => hint.clone(),
            RuleMatchesNothing { .. } => "check the rule's key names (regexes are case-sensitive)".into(),
            InvalidTreePath { .. } => "write paths like '[\"data\"][\"password\"]' or '[\"items\"][0]'".into(),
            PathNotFound { .. } => {
                "check the key names (they are case-sensitive); `unset --idempotent` accepts a missing key".into()
            }
            InvalidSetValue { message } if message.starts_with("invalid path") => {
                "write paths like '[\"data\"][\"password\"]' or '[\"items\"][0]'".into()
            }
            InvalidSetValue { .. } => "values are JSON: quote strings, e.g. '\"s3cret\"'".into(),
            MergeMetadata { .. } => "take one side's file (git checkout --ours FILE), apply the other side's \
                 value changes with ksec edit, then ksec updatekeys or rotate"
                .into(),
            NoEditor { .. } => "set SOPS_EDITOR or EDITOR to an editor command".into(),
            UnresolvedConflict { .. } => "keep one version of each conflicting part and delete the \
                 <<<<<<<, |||||||, ======= and >>>>>>> lines"
                .into(),
            _ => return None,
        })
    }
}

/// `key group 1`, `key groups 1 and 2`, `key groups 0, 1 and 2`.
fn key_groups_named(groups: &[usize]) -> String {
    let numbers: Vec<String> = groups.iter().map(ToString::to_string).collect();
    match numbers.split_last() {
        Some((last, [])) => format!("key group {last}"),
        Some((last, rest)) => format!("key groups {} and {last}", rest.join(", ")),
        None => "no key group".into(),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
