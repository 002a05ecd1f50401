//! The operations the CLI offers, as library calls: bytes in, bytes out, nothing on disk.
//!
//! Every output is checked before it is returned: an encrypted file is parsed back and
//! decrypted with its data key, and a decrypted file is parsed back and compared with the
//! values that were decrypted. A bug in an emitter therefore fails loudly instead of writing a
//! file that sops (or ksec) cannot read.

use zeroize::Zeroizing;

use crate::crypt::{self, Selection};
use crate::error::Error;
use crate::formats::{self, Format, OutputOptions};
use crate::keys::{self, DataKey, Env, Identities, RecipientGroup};
use crate::kube;
use crate::metadata::Metadata;
use crate::rules::EncryptionRule;
use crate::scalar;
use crate::scalar::ValueType;
use crate::timestamp;
use crate::tree::{Mapping, Node, Plain, SequenceItem, Tree, Value};

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
    pub fn require_recipients(&self) -> Result<(), Error> {
        if self.recipients.iter().all(|g| g.is_empty()) {
            return Err(Error::NoRecipients {
                hint: crate::error::no_recipients::ENCRYPT,
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
    key: DataKey,
    meta: Metadata,
    mac: String,
    stash: crypt::Stash,
    /// How the previous version spelled each value against how its decryption shows it.
    styles: crate::edit::view::StyleMap,
}

/// Opens the previous version with the identities at hand; `None` when it cannot, or when it
/// was written for other recipients or another rule (then everything is new).
fn reuse_previous(
    previous: Previous<'_>,
    format: Format,
    file: &str,
    recipients: &[RecipientGroup],
    rule: &EncryptionRule,
    mac_only_encrypted: bool,
) -> Option<Reuse> {
    let (tree, node) = formats::parse(format, previous.bytes, file)
        .ok()?
        .into_encrypted(file)
        .ok()?;
    let meta = Metadata::from_node(&node, file).ok()?;
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
    let key = keys::groups::unwrap(&meta, previous.identities, file).ok()?;
    let selection = Selection {
        rule,
        mac_only_encrypted,
    };
    let decrypted = crypt::decrypt_keeping_ivs(tree, &key, selection, file).ok()?;
    // A previous version that fails its own MAC check is not one to build on: its MAC would
    // be kept for an unchanged file, which then would not verify.
    let stored = crypt::open_mac(&meta.mac, &key, &meta.mac_aad(file).ok()?, file).ok()?;
    if stored != decrypted.mac {
        return None;
    }
    let mut shown = decrypted.tree.clone();
    for doc in &mut shown.documents {
        doc.metadata = None;
    }
    let rendered = Zeroizing::new(formats::emit(format, &mut shown, format, OutputOptions::default()).ok()?);
    let styles = crate::edit::view::style_map(&decrypted.tree, &rendered, format);
    Some(Reuse {
        key,
        meta,
        mac: decrypted.mac,
        stash: decrypted.stash,
        styles,
    })
}

/// What to decrypt and with which identities.
#[derive(Debug, Clone)]
pub struct DecryptOptions<'a> {
    pub file: &'a str,
    pub input_format: Option<Format>,
    pub output_format: Option<Format>,
    pub identities: &'a Identities,
    /// Decrypt even if the MAC does not match (or cannot be read).
    pub ignore_mac: bool,
    pub output: OutputOptions,
}

/// A finished output and what the user should be told about it.
#[derive(Debug)]
pub struct Output {
    pub bytes: Zeroizing<Vec<u8>>,
    pub format: Format,
    pub warnings: Vec<String>,
    /// Things done that the user did not spell out (a default rule, a mixed stream).
    pub notes: Vec<String>,
}

fn parse_input(input: &[u8], file: &str, format: Option<Format>) -> Result<(Format, Tree<crate::tree::Parsed>), Error> {
    match format {
        Some(f) => Ok((f, formats::parse(f, input, file)?)),
        None => formats::parse_guessing(input, file),
    }
}

/// Encrypts a plaintext file: a new data key, wrapped for every recipient; the selected values
/// encrypted under it; the MAC over all values.
pub fn encrypt(input: &[u8], options: &EncryptOptions<'_>) -> Result<Output, Error> {
    let file = options.file;
    options.require_recipients()?;
    let (input_format, parsed) = parse_input(input, file, options.input_format)?;
    let output_format = options.output_format.unwrap_or(input_format);
    let plain = parsed.into_plain(file)?;
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    // A binary file is one value, encrypted whatever the rules say; sops records no rule.
    let binary = input_format == Format::Binary;
    if binary {
        if options.input_format.is_none() && !options.binary_when_unknown {
            return Err(Error::UnknownInputType { file: file.to_string() });
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
    let manifests = kube::is_manifest_stream(&plain);
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
    if options.validate_secrets {
        validate_secrets(&plain, file)?;
    }
    let reference = plain.clone();

    let reuse = options
        .previous
        .and_then(|p| reuse_previous(p, output_format, file, &options.recipients, &rule, mac_only_encrypted));
    let (key, mut meta) = match &reuse {
        Some(r) => (r.key.clone(), r.meta.clone()),
        None => {
            let key = DataKey::generate();
            let (key_groups, threshold) =
                keys::groups::wrap(&options.recipients, options.shamir_threshold, &key, options.env)?;
            let mut meta = Metadata::new(key_groups, threshold, rule.clone(), mac_only_encrypted);
            if binary {
                meta.rule = None;
            }
            (key, meta)
        }
    };
    let selection = Selection {
        rule: &rule,
        mac_only_encrypted,
    };
    let stash = reuse.as_ref().map(|r| &r.stash);
    let mut plain = plain;
    if let Some(r) = &reuse
        && input_format == output_format
    {
        crate::edit::view::restore_file_styles(&mut plain, &r.styles);
    }
    let (mut encrypted, mac, count) = crypt::encrypt_with_stash(plain, &key, selection, file, stash)?;
    fail_closed(
        &encrypted,
        options.require_encrypted_values.then_some(count),
        &rule,
        file,
    )?;
    for id in kube::encrypted_non_secrets(&encrypted) {
        notes.push(format!(
            "{file}: {id} is not a Secret but has values the rule encrypts too (one rule covers the \
             whole file); keep it in its own file to leave it readable"
        ));
    }
    // Unchanged values: the same MAC, so the same lastmodified and sealed MAC as before.
    if reuse.as_ref().is_none_or(|r| r.mac != mac) {
        meta.last_modified = timestamp::now_last_modified();
        meta.mac = crypt::seal_mac(&mac, &key, &meta.last_modified, file)?;
    }
    let meta_node = meta.to_node();
    for doc in &mut encrypted.documents {
        doc.metadata = Some(meta_node.clone());
    }
    let bytes = Zeroizing::new(formats::emit(
        output_format,
        &mut encrypted,
        input_format,
        options.output,
    )?);
    let strict = output_format == input_format;
    verify_encrypted(&bytes, output_format, &key, &mac, &reference, strict, file)?;
    Ok(Output {
        bytes,
        format: output_format,
        warnings,
        notes,
    })
}

/// Refuses Secrets the API server would refuse (exit 30).
pub(crate) fn validate_secrets(plain: &Tree<Plain>, file: &str) -> Result<(), Error> {
    let findings = kube::validate(plain, false);
    if findings.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidSecret {
        file: file.to_string(),
        findings: findings.iter().map(|f| format!("  {f}")).collect(),
    })
}

/// Refuses output that would keep a Secret value in clear, or (given the number of values
/// encrypted) that encrypts nothing at all.
pub(crate) fn fail_closed(
    encrypted: &Tree<crate::tree::Encrypted>,
    count: Option<usize>,
    rule: &EncryptionRule,
    file: &str,
) -> Result<(), Error> {
    let leaks = kube::plaintext_in_secrets(encrypted);
    if !leaks.is_empty() {
        let findings = leaks.iter().map(|f| format!("  {f}")).collect();
        return Err(Error::PlaintextInSecret {
            file: file.to_string(),
            findings,
            hint: leak_hint(&leaks),
        });
    }
    if count == Some(0) && has_values(encrypted) {
        return Err(Error::RuleMatchesNothing {
            file: file.to_string(),
            rule: format!("{}: {}", rule.field_name(), rule.text()),
        });
    }
    Ok(())
}

/// What seals the values `plaintext_in_secrets` found: a rule covering `data` and
/// `stringData`, a field named as Kubernetes names it, or no last-applied copy.
fn leak_hint(leaks: &[kube::Finding]) -> String {
    let last_applied = format!("metadata.annotations.{}", kube::LAST_APPLIED);
    let mut hints = Vec::new();
    if leaks.iter().any(|f| f.field == last_applied) {
        hints.push(format!(
            "drop the {0} annotation (leave out --save-config, or pipe through \
             yq 'del(.metadata.annotations.\"{0}\")'), or use a rule that covers it too, e.g. \
             --encrypted-regex '^(data|stringData|kubectl\\.kubernetes\\.io/last-applied-configuration)$'",
            kube::LAST_APPLIED
        ));
    }
    let fields: Vec<&str> = leaks
        .iter()
        .filter(|f| f.field != last_applied)
        .map(|f| f.field.split(['.', '[']).next().unwrap_or_default())
        .collect();
    if fields.iter().any(|f| !["data", "stringData"].contains(f)) {
        hints.push(
            "a Secret holds its values under data and stringData only: fix the field's name \
             (Kubernetes refuses unknown fields)"
                .to_string(),
        );
    }
    if fields.iter().any(|f| ["data", "stringData"].contains(f)) {
        hints.push(
            "use a rule that covers data and stringData, e.g. --encrypted-regex '^(data|stringData)$'".to_string(),
        );
    }
    hints.join("; ")
}

/// Whether any document holds a non-empty value.
fn has_values<S>(tree: &Tree<S>) -> bool {
    fn node(n: &Node) -> bool {
        match n {
            Node::Mapping(m) => m.entries().any(|e| node(&e.value)),
            Node::Sequence(s) => s.items.iter().filter_map(item_node).any(node),
            Node::Scalar(s) => !matches!(&s.value, Value::Null) && s.value.as_str() != Some(""),
        }
    }
    tree.documents.iter().any(|d| d.root.entries().any(|e| node(&e.value)))
}

/// Parses an encrypted output back and decrypts it with its own data key: the values and the
/// MAC must come back exactly.
fn verify_encrypted(
    bytes: &[u8],
    format: Format,
    key: &DataKey,
    mac: &str,
    reference: &Tree<Plain>,
    strict: bool,
    file: &str,
) -> Result<(), Error> {
    let fail = |message: String| Error::Emit {
        format: format.name(),
        message: format!("{message} (this is a ksec bug; nothing was written)"),
    };
    let (tree, meta_node) = formats::parse(format, bytes, file)
        .map_err(|e| fail(format!("the encrypted output does not parse: {e}")))?
        .into_encrypted(file)
        .map_err(|e| fail(e.to_string()))?;
    let meta = Metadata::from_node(&meta_node, file).map_err(|e| fail(e.to_string()))?;
    let rule = meta.effective_rule();
    let selection = Selection {
        rule: &rule,
        mac_only_encrypted: meta.mac_only_encrypted,
    };
    let decrypted = crypt::decrypt(tree, key, selection, file).map_err(|e| fail(e.to_string()))?;
    if decrypted.mac != mac || !decrypted.warnings.is_empty() {
        return Err(fail("the encrypted output does not decrypt to the input".into()));
    }
    let stored = crypt::open_mac(&meta.mac, key, &meta.mac_aad(file)?, file).map_err(|e| fail(e.to_string()))?;
    if stored != mac || !same_documents(&decrypted.tree, reference, strict) {
        return Err(fail("the encrypted output does not decrypt to the input".into()));
    }
    Ok(())
}

/// Decrypts an encrypted file and checks its MAC.
pub fn decrypt(input: &[u8], options: &DecryptOptions<'_>) -> Result<Output, Error> {
    let file = options.file;
    let Decrypted {
        input_format,
        mut tree,
        warnings,
    } = decrypt_tree(input, options)?;
    let output_format = options.output_format.unwrap_or(input_format);
    let bytes = Zeroizing::new(formats::emit(output_format, &mut tree, input_format, options.output)?);
    verify_plain(&bytes, output_format, &tree, output_format == input_format, file)?;
    Ok(Output {
        bytes,
        format: output_format,
        warnings,
        notes: Vec::new(),
    })
}

/// A decrypted file as a tree, before it is written out.
pub struct Decrypted {
    pub input_format: Format,
    pub tree: Tree<Plain>,
    pub warnings: Vec<String>,
}

/// Decrypts a file to its plaintext tree (the MAC checked unless `ignore_mac`).
pub fn decrypt_tree(input: &[u8], options: &DecryptOptions<'_>) -> Result<Decrypted, Error> {
    let file = options.file;
    let (input_format, parsed) = parse_input(input, file, options.input_format).map_err(|e| match e {
        // Nothing in it, so no metadata either: what sops says of an empty file.
        Error::NoDocuments { file } => Error::MetadataNotFound { file },
        e @ (Error::Parse { .. } | Error::UnsupportedDocument { .. }) => Error::UnreadableEncrypted(Box::new(e)),
        other => other,
    })?;
    let (tree, meta_node) = parsed.into_encrypted(file)?;
    let meta = Metadata::from_node(&meta_node, file)?;
    let key = keys::groups::unwrap(&meta, options.identities, file)?;
    let rule = meta.effective_rule();
    let selection = Selection {
        rule: &rule,
        mac_only_encrypted: meta.mac_only_encrypted,
    };
    let decrypted = crypt::decrypt(tree, &key, selection, file)?;
    if !options.ignore_mac {
        let stored = crypt::open_mac(&meta.mac, &key, &meta.mac_aad(file)?, file)?;
        if stored != decrypted.mac {
            return Err(Error::MacMismatch { file: file.to_string() });
        }
    }
    let mut tree = decrypted.tree;
    for doc in &mut tree.documents {
        doc.metadata = None;
    }
    Ok(Decrypted {
        input_format,
        tree,
        warnings: decrypted.warnings,
    })
}

/// Whether a file is encrypted as sops's `filestatus` decides it: it has sops metadata that
/// reads, with a version and a MAC. A file that does not parse is an error.
pub fn is_encrypted(input: &[u8], format: Format, file: &str) -> Result<bool, Error> {
    let tree = formats::parse(format, input, file)?;
    let Some(node) = tree.documents.first().and_then(|d| d.metadata.as_ref()) else {
        return Ok(false);
    };
    Ok(Metadata::from_node(node, file).is_ok_and(|m| !m.version.is_empty() && !m.mac.is_empty()))
}

/// `decrypt --extract`: the value at `path` of the first document, as sops prints it (a
/// string raw, without a line break; a mapping as a document; anything else as one value).
pub fn extract(input: &[u8], options: &DecryptOptions<'_>, path: &crate::edit::TreePath) -> Result<Output, Error> {
    let Decrypted {
        input_format,
        tree,
        warnings,
    } = decrypt_tree(input, options)?;
    let format = options.output_format.unwrap_or(input_format);
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
) -> Result<(crate::process::Environment, Vec<String>), Error> {
    let Decrypted { tree, warnings, .. } = decrypt_tree(input, options)?;
    let Some(document) = tree.documents.first() else {
        return Ok((Vec::new(), warnings));
    };
    if let Some(env) = kube::secret_environment(&document.root) {
        return Ok((env, warnings));
    }
    let mut env = Vec::new();
    for entry in document.root.entries() {
        let refuse = |message: &str| Error::Environment {
            file: options.file.to_string(),
            message: format!("{message}: {}", entry.key),
        };
        if entry.key.contains('=') || entry.key.is_empty() {
            return Err(refuse("cannot use a key that is empty or holds '=' as a variable name"));
        }
        let Node::Scalar(scalar) = &entry.value else {
            return Err(refuse("cannot put a list or mapping in the environment"));
        };
        env.push((entry.key.clone(), Zeroizing::new(scalar::go_text(&scalar.value))));
    }
    Ok((env, warnings))
}

/// Parses a plaintext output back: it must hold the values that were decrypted.
fn verify_plain(bytes: &[u8], format: Format, reference: &Tree<Plain>, strict: bool, file: &str) -> Result<(), Error> {
    let fail = |message: &str| Error::Emit {
        format: format.name(),
        message: format!("{message} (this is a ksec bug)"),
    };
    let reparsed = formats::parse(format, bytes, file).map_err(|_| fail("the decrypted output does not parse"))?;
    let reparsed: Tree<Plain> = reparsed
        .into_plain(file)
        .map_err(|_| fail("the decrypted output has a sops key"))?;
    if !same_documents(&reparsed, reference, strict) {
        return Err(fail("the decrypted output does not re-read as the decrypted values"));
    }
    Ok(())
}

/// Whether two trees hold the same keys and values. Values compare by their canonical sops
/// bytes, and by type when `strict` (across formats a YAML int legitimately becomes a JSON
/// number).
fn same_documents(a: &Tree<Plain>, b: &Tree<Plain>, strict: bool) -> bool {
    a.documents.len() == b.documents.len()
        && a.documents
            .iter()
            .zip(&b.documents)
            .all(|(x, y)| same_mapping(&x.root, &y.root, strict))
}

fn same_mapping(a: &Mapping, b: &Mapping, strict: bool) -> bool {
    let mut ae = a.entries();
    let mut be = b.entries();
    loop {
        match (ae.next(), be.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.key == y.key && same_node(&x.value, &y.value, strict) => {}
            _ => return false,
        }
    }
}

fn same_node(a: &Node, b: &Node, strict: bool) -> bool {
    match (a, b) {
        (Node::Mapping(x), Node::Mapping(y)) => same_mapping(x, y, strict),
        (Node::Sequence(x), Node::Sequence(y)) => {
            let xs = x.items.iter().filter_map(item_node);
            let ys: Vec<&Node> = y.items.iter().filter_map(item_node).collect();
            let xs: Vec<&Node> = xs.collect();
            xs.len() == ys.len() && xs.iter().zip(&ys).all(|(p, q)| same_node(p, q, strict))
        }
        (Node::Scalar(x), Node::Scalar(y)) => same_value(&x.value, &y.value, strict),
        _ => false,
    }
}

fn item_node(item: &SequenceItem) -> Option<&Node> {
    match item {
        SequenceItem::Node(n) => Some(n),
        SequenceItem::Comment(_) => None,
    }
}

fn same_value(a: &Value, b: &Value, strict: bool) -> bool {
    // go-yaml writes integral floats without a fraction (`1`, `-0`), so they re-read as ints;
    // sops's own output does this, and the number is unchanged.
    if let (Value::Float(f), Value::Int(i)) | (Value::Int(i), Value::Float(f)) = (a, b) {
        return *f == *i as f64;
    }
    if strict && ValueType::of(a) != ValueType::of(b) {
        return false;
    }
    if matches!(a, Value::Null) || matches!(b, Value::Null) {
        return matches!((a, b), (Value::Null, Value::Null));
    }
    let mut x = Zeroizing::new(Vec::new());
    let mut y = Zeroizing::new(Vec::new());
    scalar::write_canonical(a, &mut x);
    scalar::write_canonical(b, &mut y);
    x == y
}

/// Decrypts several files into one YAML stream for `kubectl apply -f -`: encrypted files are
/// decrypted, plaintext manifests pass through, every document is separated by `---`.
pub fn decrypt_stream(
    files: &[std::path::PathBuf],
    identities: &Identities,
    ignore_mac: bool,
    output: OutputOptions,
) -> Result<Output, Error> {
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
                ignore_mac,
                output,
            };
            let out = decrypt(&input, &options)?;
            warnings.extend(out.warnings);
            out.bytes
        } else if format == Format::Yaml {
            input
        } else {
            let mut plain = parsed.into_plain(&file)?;
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
