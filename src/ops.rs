//! The operations the CLI offers, as library calls: bytes in, bytes out, nothing on disk.
//!
//! Every output is checked before it is returned: an encrypted file is parsed back and
//! decrypted with its data key, and a decrypted file is parsed back and compared with the
//! values that were decrypted. A bug in an emitter therefore fails loudly instead of writing a
//! file that sops (or ksec) cannot read.

use zeroize::Zeroizing;

use crate::edit::EditError;
use crate::formats::styles::{StyleMap, restore_file_styles, style_map};
use crate::formats::{self, Format, FormatError, InputBytes, OutputOptions};
use crate::io::IoError;
use crate::keys::{self, DataKey, Env, Identities, KeyError, RecipientGroup};
use crate::kube;
use crate::metadata::Metadata;
use crate::rules::{EncryptionRule, RuleError};
use crate::scalar;
use crate::sops_file::{self, EncryptedFile, FileError, MacPolicy, NewFile, OpenFile, PlainFile, SealOptions};
use crate::tree::path::TreePath;
use crate::tree::{Node, Plain, Tree, Value};

pub use crate::sops_file::Output;

/// Why an operation failed: its own refusals, and those of the areas it goes through.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("no recipients to encrypt {file} for")]
    NoRecipients { file: String },

    /// Content neither YAML nor JSON with no name or `--input-type` to type it by (stdin).
    #[error("cannot tell the input type of {file}: it is neither YAML nor JSON")]
    UnknownInputType { file: String },

    /// A top-level entry of a file that is not a Secret that cannot be an environment variable.
    #[error("{file}: {problem}: {key}")]
    UnusableVariable {
        file: String,
        key: String,
        problem: VariableProblem,
    },

    /// A decrypted output that does not re-read as the values decrypted: a ksec bug.
    #[error("cannot write {} output: {fault} (this is a ksec bug)", .format.name())]
    DecryptedOutput { format: Format, fault: PlainOutputFault },

    #[error(transparent)]
    Io(#[from] IoError),

    #[error(transparent)]
    Format(#[from] FormatError),

    #[error(transparent)]
    Rule(#[from] RuleError),

    #[error(transparent)]
    Key(#[from] KeyError),

    #[error(transparent)]
    File(#[from] FileError),

    #[error(transparent)]
    Edit(#[from] EditError),
}

/// Why an entry cannot be an environment variable.
#[derive(Debug, thiserror::Error)]
pub enum VariableProblem {
    #[error("cannot use a key that is empty or holds '=' as a variable name")]
    UnusableName,
    #[error("cannot put a list or mapping in the environment")]
    NotAValue,
}

/// How a decrypted output failed to re-read.
#[derive(Debug, thiserror::Error)]
pub enum PlainOutputFault {
    #[error("the decrypted output does not parse")]
    DoesNotParse,
    #[error("the decrypted output has a sops key")]
    HasMetadata,
    #[error("the decrypted output does not re-read as the decrypted values")]
    NotTheValues,
}

/// What to encrypt and for whom.
#[derive(Clone)]
pub struct EncryptOptions<'a> {
    /// The input's name in messages.
    pub file: &'a str,
    /// `None`: guess from the content (JSON object or YAML).
    pub input_format: Option<Format>,
    /// With `input_format` `None`: whether content that is neither YAML nor JSON is encrypted
    /// whole as a binary file (a file by name, as sops does with names it does not know) or
    /// refused (stdin, which has no name to tell its type by).
    pub binary_when_unknown: bool,
    /// `None`: same as the input.
    pub output_format: Option<Format>,
    /// With `output_format` `None`: the format the output file's name says, used when the
    /// input is YAML or JSON (a `kubectl get -o json` written to `db.enc.yaml` becomes YAML).
    pub output_format_by_name: Option<Format>,
    /// Leave out the fields the API server sets (`metadata.uid`, `resourceVersion`, …) of
    /// manifests taken from a live cluster; without it they are kept and named in a note.
    pub strip_server_fields: bool,
    pub recipients: Vec<RecipientGroup>,
    pub shamir_threshold: Option<usize>,
    /// Where `gpg` and its home are found, for OpenPGP recipients.
    pub env: &'a dyn Env,
    /// `None`: Kubernetes manifests get `encrypted_regex: ^(data|stringData)$`, anything else
    /// sops's default `_unencrypted` suffix.
    pub rule: Option<EncryptionRule>,
    pub mac_only_encrypted: bool,
    /// Check Secrets against what the Kubernetes API server accepts before encrypting.
    pub validate_secrets: bool,
    /// Refuse a rule under which no value at all is encrypted (almost always a mistyped rule).
    pub require_encrypted_values: bool,
    pub output: OutputOptions,
    /// The file's previous encrypted version and identities to open it: when they open it and
    /// the recipients and rule are the same, its data key is kept and unchanged values keep
    /// their exact ciphertext (and an unchanged file comes out byte-identical).
    pub previous: Option<Previous<'a>>,
}

impl EncryptOptions<'_> {
    /// Fails when there is no one to encrypt for; `edit` asks before the user starts typing.
    pub fn require_recipients(&self) -> Result<(), OpsError> {
        if self.recipients.iter().all(|g| g.is_empty()) {
            return Err(OpsError::NoRecipients {
                file: self.file.to_string(),
            });
        }
        Ok(())
    }
}

/// The previous version of a file being re-encrypted.
#[derive(Clone, Copy)]
pub struct Previous<'a> {
    pub bytes: &'a [u8],
    pub identities: &'a Identities,
}

/// What ksec keeps from a previous version it could open.
struct Reuse {
    /// The previous version, opened: its data key, metadata and the IVs of its values.
    file: OpenFile,
    /// How the previous version spelled each value against how its decryption shows it.
    styles: StyleMap,
}

/// Opens the previous version with the identities at hand; `None` when it cannot, when its
/// MAC does not match (a file that fails its own check is not one to build on), or when it
/// was written for other recipients or another rule (then everything is new).
fn reuse_previous(
    previous: Previous<'_>,
    format: Format,
    file: &str,
    recipients: &[RecipientGroup],
    rule: &EncryptionRule,
    mac_only_encrypted: bool,
) -> Option<Reuse> {
    let encrypted = EncryptedFile::parse(previous.bytes, format, file).ok()?;
    let meta = encrypted.metadata();
    let same_rule = match &meta.rule {
        Some(r) => r.field_name() == rule.field_name() && r.text() == rule.text(),
        // Only binary files record no rule.
        None => format == Format::Binary,
    };
    if !same_rule
        || meta.mac_only_encrypted != mac_only_encrypted
        || !keys::groups::same_recipients(recipients, &meta.key_groups)
    {
        return None;
    }
    let opened = encrypted.open(previous.identities, MacPolicy::Verify).ok()?;
    let mut shown = opened.plain().clone();
    let rendered = Zeroizing::new(formats::emit(format, &mut shown, format, OutputOptions::default()).ok()?);
    let styles = style_map(opened.plain(), &rendered, format);
    Some(Reuse { file: opened, styles })
}

/// What to decrypt and with which identities.
#[derive(Debug, Clone)]
pub struct DecryptOptions<'a> {
    pub file: &'a str,
    pub input_format: Option<Format>,
    pub output_format: Option<Format>,
    pub identities: &'a Identities,
    /// Whether the MAC is checked (`MacPolicy::Ignore` only for `--ignore-mac`).
    pub mac: MacPolicy,
    pub output: OutputOptions,
}

fn parse_input(
    input: InputBytes<'_>,
    file: &str,
    format: Option<Format>,
) -> Result<(Format, Tree<crate::tree::Parsed>), FormatError> {
    match format {
        Some(f) => Ok((f, formats::parse(f, input, file)?)),
        None => formats::parse_guessing(&input, file),
    }
}

/// Encrypts a plaintext file: a new data key, wrapped for every recipient; the selected values
/// encrypted under it; the MAC over all values.
pub fn encrypt<'a>(input: impl Into<InputBytes<'a>>, options: &EncryptOptions<'_>) -> Result<Output, OpsError> {
    let file = options.file;
    options.require_recipients()?;
    let (input_format, parsed) = parse_input(input.into(), file, options.input_format)?;
    let mut plain = parsed.into_plain(file).map_err(FileError::from)?;
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let output_format = match (options.output_format, options.output_format_by_name) {
        (Some(format), _) => format,
        (None, Some(named)) if named != input_format && matches!(input_format, Format::Yaml | Format::Json) => {
            notes.push(format!(
                "{file}: read as {}, written as {} as the output's name says (--output-type {} keeps {0})",
                input_format.name().to_uppercase(),
                named.name().to_uppercase(),
                input_format.name(),
            ));
            named
        }
        (None, _) => input_format,
    };
    let manifests = kube::is_manifest_stream(&plain);
    if manifests {
        let found = kube::server_fields(&mut plain, options.strip_server_fields);
        if !found.is_empty() && !options.strip_server_fields {
            notes.push(server_fields_note(file, &found));
        }
    }
    // A binary file is one value, encrypted whatever the rules say; sops records no rule.
    let binary = input_format == Format::Binary;
    if binary {
        if options.input_format.is_none() && !options.binary_when_unknown {
            return Err(OpsError::UnknownInputType { file: file.to_string() });
        }
        if options.input_format.is_none() {
            notes.push(format!(
                "{file}: not YAML or JSON: encrypted whole as a binary file (pass --input-type to choose)"
            ));
        }
        if options.rule.is_some() || options.mac_only_encrypted {
            warnings.push(format!(
                "{file}: a binary file is encrypted whole; the encryption rule and mac_only_encrypted are ignored"
            ));
        }
    }
    let mac_only_encrypted = options.mac_only_encrypted && !binary;
    let rule = match (&options.rule, manifests) {
        _ if binary => EncryptionRule::default(),
        (Some(rule), _) => rule.clone(),
        (None, true) => {
            notes.push(format!(
                "{file}: Kubernetes manifests: encrypting data and stringData (encrypted_regex {}); \
                 pass a rule or set one in .sops.yaml to choose another",
                kube::SECRET_RULE
            ));
            EncryptionRule::from_field("encrypted_regex", kube::SECRET_RULE)?
        }
        (None, false) => EncryptionRule::default(),
    };
    let seal_options = SealOptions {
        output: options.output,
        plain_format: Some(input_format),
        validate_secrets: options.validate_secrets,
        require_encrypted_values: options.require_encrypted_values,
    };
    let reuse = options
        .previous
        .and_then(|p| reuse_previous(p, output_format, file, &options.recipients, &rule, mac_only_encrypted));
    let sealed = match reuse {
        // The same data key, and unchanged values keep their ciphertext.
        Some(Reuse { file: previous, styles }) => {
            let mut plain = plain;
            if input_format == output_format {
                restore_file_styles(&mut plain, &styles);
            }
            // What opening the previous file found is not news about this one.
            let skip = previous.warnings().len();
            let mut sealed = previous.seal(plain, &seal_options)?;
            sealed.warnings.drain(..skip);
            sealed
        }
        None => {
            let key = DataKey::generate();
            let (key_groups, threshold) =
                keys::groups::wrap(&options.recipients, options.shamir_threshold, &key, options.env)?;
            let mut metadata = Metadata::new(key_groups, threshold, rule, mac_only_encrypted);
            if binary {
                metadata.rule = None;
            }
            let new = NewFile {
                name: file,
                format: output_format,
                key,
                metadata,
            };
            sops_file::create(plain, new, &seal_options)?
        }
    };
    for id in &sealed.encrypted_non_secrets {
        notes.push(format!(
            "{file}: {id} is not a Secret but has values the rule encrypts too (one rule covers the \
             whole file); keep it in its own file to leave it readable"
        ));
    }
    warnings.extend(sealed.warnings);
    Ok(Output {
        bytes: sealed.bytes,
        format: output_format,
        warnings,
        notes,
    })
}

/// Names the manifests that came from a live cluster and the server-set fields they hold.
fn server_fields_note(file: &str, found: &[kube::ServerFields]) -> String {
    let manifests: Vec<String> = found
        .iter()
        .map(|f| {
            f.manifest
                .as_ref()
                .map_or_else(|| "the List".to_string(), ToString::to_string)
        })
        .collect();
    let mut fields: Vec<&str> = Vec::new();
    for field in found.iter().flat_map(|f| &f.fields) {
        if !fields.contains(&field.as_str()) {
            fields.push(field);
        }
    }
    format!(
        "{file}: {} holds fields the API server set ({}), which belong to one cluster's copy \
         and change with it; pass --strip-server-fields to leave them out",
        manifests.join(", "),
        fields.join(", ")
    )
}

/// Decrypts an encrypted file (its MAC checked as `options.mac` says) to bytes.
pub fn decrypt<'a>(input: impl Into<InputBytes<'a>>, options: &DecryptOptions<'_>) -> Result<Output, OpsError> {
    let plain = open_plain(input, options)?;
    let input_format = plain.format();
    let output_format = options.output_format.unwrap_or(input_format);
    let (mut tree, warnings) = plain.into_parts();
    let bytes = Zeroizing::new(formats::emit(output_format, &mut tree, input_format, options.output)?);
    verify_plain(
        &bytes,
        output_format,
        &tree,
        output_format == input_format,
        options.file,
    )?;
    Ok(Output {
        bytes,
        format: output_format,
        warnings,
        notes: Vec::new(),
    })
}

/// Decrypts a file to its plaintext tree, through the one door.
pub fn open_plain<'a>(input: impl Into<InputBytes<'a>>, options: &DecryptOptions<'_>) -> Result<PlainFile, FileError> {
    EncryptedFile::read(input, options.input_format, options.file)?.decrypt(options.identities, options.mac)
}

/// `decrypt --extract`: the value at `path` of the first document, as sops prints it (a
/// string raw, without a line break; a mapping as a document; anything else as one value).
pub fn extract(input: &[u8], options: &DecryptOptions<'_>, path: &TreePath) -> Result<Output, OpsError> {
    let plain = open_plain(input, options)?;
    let format = options.output_format.unwrap_or(plain.format());
    let (tree, warnings) = plain.into_parts();
    let node = crate::edit::extract(&tree, path)?;
    Ok(Output {
        bytes: crate::edit::render_extracted(node, format, options.output)?,
        format,
        warnings,
        notes: Vec::new(),
    })
}

/// `exec-env`: environment variables from a decrypted file. For a Kubernetes Secret, its keys
/// (`data` decoded, then `stringData`), as a pod's `envFrom` would see them; for anything
/// else, the first document's top-level values, as sops passes them.
pub fn environment(
    input: &[u8],
    options: &DecryptOptions<'_>,
) -> Result<(crate::process::Environment, Vec<String>), OpsError> {
    let (tree, warnings) = open_plain(input, options)?.into_parts();
    let Some(document) = tree.documents.first() else {
        return Ok((Vec::new(), warnings));
    };
    if let Some(env) = kube::secret_environment(&document.root) {
        return Ok((env, warnings));
    }
    let mut env = Vec::new();
    for entry in document.root.entries() {
        let refuse = |problem: VariableProblem| OpsError::UnusableVariable {
            file: options.file.to_string(),
            key: entry.key.clone(),
            problem,
        };
        if entry.key.contains('=') || entry.key.is_empty() {
            return Err(refuse(VariableProblem::UnusableName));
        }
        let Node::Scalar(scalar) = &entry.value else {
            return Err(refuse(VariableProblem::NotAValue));
        };
        env.push((entry.key.clone(), Zeroizing::new(scalar::go_text(&scalar.value))));
    }
    Ok((env, warnings))
}

/// Parses a plaintext output back: it must hold the values that were decrypted.
fn verify_plain(
    bytes: &[u8],
    format: Format,
    reference: &Tree<Plain>,
    strict: bool,
    file: &str,
) -> Result<(), OpsError> {
    let fail = |fault: PlainOutputFault| OpsError::DecryptedOutput { format, fault };
    if let (Format::Json, [document]) = (format, reference.documents.as_slice()) {
        // JSON is compared as it is read, without a second tree.
        let same = |read: &Value, expected: &Value| sops_file::same_value(read, expected, strict);
        return match formats::json::read_back(bytes, file, &document.root, &same) {
            Err(_) => Err(fail(PlainOutputFault::DoesNotParse)),
            Ok(formats::json::ReadBack::Different) => Err(fail(PlainOutputFault::NotTheValues)),
            Ok(formats::json::ReadBack::Same { metadata: Some(_) }) => Err(fail(PlainOutputFault::HasMetadata)),
            Ok(formats::json::ReadBack::Same { metadata: None }) => Ok(()),
        };
    }
    if format == Format::Yaml && std::str::from_utf8(bytes).is_ok_and(|text| reads_as_plain(text, reference, strict)) {
        return Ok(());
    }
    let reparsed = formats::parse_values(format, bytes, file).map_err(|_| fail(PlainOutputFault::DoesNotParse))?;
    let reparsed: Tree<Plain> = reparsed
        .into_plain(file)
        .map_err(|_| fail(PlainOutputFault::HasMetadata))?;
    if !sops_file::same_documents(&reparsed, reference, strict) {
        return Err(fail(PlainOutputFault::NotTheValues));
    }
    Ok(())
}

/// Whether a YAML text is `reference`, compared as it is read ([`formats::yaml::read_back`]);
/// `false` when that cheap path cannot tell.
fn reads_as_plain(text: &str, reference: &Tree<Plain>, strict: bool) -> bool {
    let documents: Vec<_> = reference
        .documents
        .iter()
        .map(|d| formats::yaml::read_back::Expected {
            root: &d.root,
            metadata: None,
        })
        .collect();
    let same = |read: &Value, expected: &Value| sops_file::same_value(read, expected, strict);
    formats::yaml::read_back::reads_as(text, &documents, &same)
}

/// Decrypts several files into one YAML stream for `kubectl apply -f -`: encrypted files are
/// decrypted, plaintext manifests pass through, every document is separated by `---`.
pub fn decrypt_stream(
    files: &[std::path::PathBuf],
    identities: &Identities,
    mac: MacPolicy,
    output: OutputOptions,
) -> Result<Output, OpsError> {
    // Reserved up front: a growing buffer would leave copies of the plaintext behind.
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let mut stream = Zeroizing::new(Vec::with_capacity(total as usize + 64 * files.len()));
    let mut warnings = Vec::new();
    for path in files {
        let file = path.display().to_string();
        let input = crate::io::Input::File(path.clone()).read()?;
        let format = Format::from_path(path).unwrap_or(Format::Yaml);
        let parsed = formats::parse(format, &input, &file)?;
        let is_encrypted = parsed.documents.first().is_some_and(|d| d.metadata.is_some());
        let yaml = if is_encrypted {
            let options = DecryptOptions {
                file: &file,
                input_format: Some(format),
                output_format: Some(Format::Yaml),
                identities,
                mac,
                output,
            };
            let out = decrypt(&input, &options)?;
            warnings.extend(out.warnings);
            out.bytes
        } else if format == Format::Yaml {
            input
        } else {
            let mut plain = parsed.into_plain(&file).map_err(FileError::from)?;
            Zeroizing::new(formats::emit(Format::Yaml, &mut plain, format, output)?)
        };
        append_documents(&mut stream, &yaml);
    }
    Ok(Output {
        bytes: stream,
        format: Format::Yaml,
        warnings,
        notes: Vec::new(),
    })
}

/// Appends YAML text to a stream, separated from what is there by a document marker.
fn append_documents(stream: &mut Vec<u8>, yaml: &[u8]) {
    let body = yaml.strip_prefix(b"---\n").unwrap_or(yaml);
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return;
    }
    if !stream.is_empty() {
        if !stream.ends_with(b"\n") {
            stream.push(b'\n');
        }
        stream.extend_from_slice(b"---\n");
    }
    stream.extend_from_slice(body);
    if !stream.ends_with(b"\n") {
        stream.push(b'\n');
    }
}
