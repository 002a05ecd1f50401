//! `.sops.yaml`: finding it, reading it, and picking the creation rule for a file.
//!
//! The semantics follow sops 3.11 (`config/config.go`). Loading fails only where sops's YAML
//! unmarshalling fails (broken syntax, a value of the wrong shape) and on negative store
//! indents, because every command reads the config, `decrypt` included. Problems inside one
//! creation rule (a path_regex that does not compile, two encryption rules, a key list of the
//! wrong type) are reported by [`Config::rule_for`] when matching reaches that rule, as sops
//! does, so one bad rule in a shared config does not break files that other rules cover.
//!
//! Every key type of sops 3.11 is read: `age`, `pgp`, `kms` (with `aws_profile`), `gcp_kms`,
//! `azure_keyvault` and `hc_vault_transit_uri` in the flat form, and their `key_groups`
//! counterparts (`kms: [{arn, role, context, aws_profile}]`, `gcp_kms: [{resource_id}]`,
//! `azure_keyvault: [{vaultUrl, key, version}]`, `hc_vault: [uri…]`). `hckms` (HuaweiCloud,
//! newer sops), which ksec does not support, is reported only when the rule's keys are asked
//! for ([`CreationRule::key_groups`]), because keys given on the command line replace them.

use std::collections::HashSet;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::keys::age::AgeRecipient;
use crate::keys::azure_kv::{self, AzureKvKey};
use crate::keys::gcp_kms::{self, GcpKmsKey};
use crate::keys::kms::{self, KmsKey};
use crate::keys::pgp::PgpRecipient;
use crate::keys::vault::VaultKey;
use crate::keys::{KeyError, RecipientGroup};
use crate::rules::EncryptionRule;

/// Why a config cannot be used, or has no rule for a file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the config file: {source}", .path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
    /// YAML that does not read as a config (the parser's message locates it).
    #[error("{}: invalid config: {reason}", .path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("{}: {reason}", .path.display())]
    Stores { path: PathBuf, reason: String },
    /// A problem found in one creation rule when loading, reported once matching reaches it.
    #[error("{}: creation_rules[{index}]: {problem}", .path.display())]
    CreationRule {
        path: PathBuf,
        index: usize,
        problem: String,
    },
    #[error("no creation rule in {} matches {file}", .config.display())]
    NoMatchingCreationRule { config: PathBuf, file: String },
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The only name sops looks for.
pub const CONFIG_FILE_NAME: &str = ".sops.yaml";
/// A name people often use by mistake; sops ignores it with a warning.
pub const IGNORED_CONFIG_FILE_NAME: &str = ".sops.yml";
/// How many directories the search visits, the start included (sops's `maxDepth`).
const MAX_DEPTH: usize = 100;

/// A loaded `.sops.yaml`.
#[derive(Debug)]
pub struct Config {
    pub path: PathBuf,
    pub creation_rules: Vec<CreationRule>,
    pub stores: StoreSettings,
    /// `creation_rules: []` is not the same as no `creation_rules` key: sops treats the first
    /// as "no rule matches" and the second as "no config".
    has_creation_rules: bool,
    /// The config file's directory, absolute: file paths are matched relative to it.
    dir: PathBuf,
}

/// The `stores:` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreSettings {
    /// YAML indent; `None` means sops's default of 4.
    pub yaml_indent: Option<usize>,
    /// JSON indent; `None` means a tab, `Some(n)` n spaces.
    pub json_indent: Option<usize>,
    /// Indent of the JSON that wraps binary files; same meaning as `json_indent`.
    pub json_binary_indent: Option<usize>,
}

/// One entry of `creation_rules`.
#[derive(Debug)]
pub struct CreationRule {
    /// `None` (the field missing or empty) matches every file.
    pub path_regex: Option<Regex>,
    pub shamir_threshold: Option<usize>,
    /// `None` when the rule names none of the six fields (or names more than one, which
    /// `rule_for` reports).
    pub encryption_rule: Option<EncryptionRule>,
    pub mac_only_encrypted: bool,
    /// Key types this rule names that ksec does not support (`hckms`), each once.
    pub unsupported_key_types: Vec<&'static str>,
    key_groups: Vec<KeyGroupSpec>,
    /// Where the rule came from, for error messages.
    origin: RuleOrigin,
    /// A path_regex that does not compile; reported when matching reaches the rule.
    path_regex_error: Option<String>,
    /// Other problems, reported when the rule is selected.
    problems: Vec<String>,
}

/// The keys of one key group, as written in the config: age recipients and PGP fingerprints
/// as text (checked when the rule is used), service keys parsed as sops parses them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyGroupSpec {
    pub age: Vec<String>,
    pub pgp: Vec<String>,
    pub kms: Vec<KmsKey>,
    pub gcp_kms: Vec<GcpKmsKey>,
    pub azure_kv: Vec<AzureKvKey>,
    /// Vault transit key URIs.
    pub hc_vault: Vec<String>,
}

/// The result of looking for `.sops.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    /// The `.sops.yaml` found, if any.
    pub found: Option<PathBuf>,
    /// A `.sops.yml` passed on the way (or found instead): sops ignores it and warns.
    pub ignored_yml: Option<PathBuf>,
}

#[derive(Debug, Clone)]
struct RuleOrigin {
    config: PathBuf,
    index: usize,
}

impl RuleOrigin {
    fn error(&self, problem: impl fmt::Display) -> ConfigError {
        ConfigError::CreationRule {
            path: self.config.clone(),
            index: self.index,
            problem: problem.to_string(),
        }
    }
}

impl Lookup {
    /// The warning sops prints about an ignored `.sops.yml`, if there is one.
    pub fn warning(&self) -> Option<String> {
        let ignored = self.ignored_yml.as_ref()?;
        let mut text = format!(
            "ignoring {} when searching for config file; the config file must be called {}",
            ignored.display(),
            CONFIG_FILE_NAME
        );
        if let Some(found) = &self.found {
            text.push_str(&format!("; using {} instead", found.display()));
        }
        Some(text)
    }
}

/// Walks up from `start` looking for `.sops.yaml`, at most 100 directories.
///
/// `start` should be the current working directory: sops searches from there, not from the
/// directory of the file being encrypted. A `.sops.yml` seen on the way is reported in
/// [`Lookup::ignored_yml`] and never used.
pub fn find(start: &Path) -> Lookup {
    let start = lexical_absolute(start);
    let mut lookup = Lookup::default();
    for dir in start.ancestors().take(MAX_DEPTH) {
        let candidate = dir.join(CONFIG_FILE_NAME);
        if candidate.exists() {
            lookup.found = Some(candidate);
            return lookup;
        }
        if lookup.ignored_yml.is_none() {
            let alternate = dir.join(IGNORED_CONFIG_FILE_NAME);
            if alternate.exists() {
                lookup.ignored_yml = Some(alternate);
            }
        }
    }
    lookup
}

/// Reads and checks a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// Parses config text; `path` names the file in errors and anchors relative matching. (Public
/// for the fuzz target, which feeds it text without a file.)
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    // Like Go's yaml.Unmarshal, only the first document counts; an empty file is an empty config.
    let mut reader = text.as_bytes();
    let raw: RawConfig = serde_saphyr::read_with_options(&mut reader, options)
        .next()
        .transpose()
        .map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?
        .unwrap_or_default();

    let stores = raw
        .stores
        .unwrap_or_default()
        .settings()
        .map_err(|reason| ConfigError::Stores {
            path: path.to_path_buf(),
            reason,
        })?;
    let has_creation_rules = raw.creation_rules.is_some();
    let creation_rules = raw
        .creation_rules
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, rule)| {
            let origin = RuleOrigin {
                config: path.to_path_buf(),
                index,
            };
            rule.unwrap_or_default().into_rule(origin)
        })
        .collect();
    let dir = lexical_absolute(path.parent().unwrap_or(Path::new("")));
    Ok(Config {
        path: path.to_path_buf(),
        creation_rules,
        stores,
        has_creation_rules,
        dir,
    })
}

impl Config {
    /// The first creation rule whose `path_regex` matches `file`.
    ///
    /// `file` is matched relative to the config file's directory when it lies inside it, and
    /// as an absolute path otherwise, as sops does. `Ok(None)` when the config has no
    /// `creation_rules` key at all; [`ConfigError::NoMatchingCreationRule`] when it has rules (even
    /// an empty list) and none matches.
    pub fn rule_for(&self, file: &Path) -> Result<Option<&CreationRule>, ConfigError> {
        if !self.has_creation_rules {
            return Ok(None);
        }
        let subject = self.match_subject(file);
        for rule in &self.creation_rules {
            if let Some(message) = &rule.path_regex_error {
                return Err(rule.origin.error(message));
            }
            let matches = rule.path_regex.as_ref().is_none_or(|re| re.is_match(&subject));
            if matches {
                if let Some(problem) = rule.problems.first() {
                    return Err(rule.origin.error(problem));
                }
                return Ok(Some(rule));
            }
        }
        Err(ConfigError::NoMatchingCreationRule {
            config: self.path.clone(),
            file: subject,
        })
    }

    /// The creation rule that says this file must be encrypted: the rule `rule_for` picks,
    /// when it names the file with a `path_regex`. A catch-all rule (no `path_regex`) says how
    /// to encrypt whatever is encrypted, not that every file must be, so it does not count.
    pub fn rule_requiring_encryption(&self, file: &Path) -> Option<&CreationRule> {
        self.rule_for(file)
            .ok()
            .flatten()
            .filter(|rule| rule.path_regex.is_some())
    }

    /// The text `path_regex` is matched against.
    fn match_subject(&self, file: &Path) -> String {
        let file = lexical_absolute(file);
        // sops trims "<dir>/" as a string prefix, which never matches when the config sits
        // in the root directory ("//"), so there the absolute path is used.
        if self.dir.parent().is_some()
            && let Ok(relative) = file.strip_prefix(&self.dir)
            && !relative.as_os_str().is_empty()
        {
            return relative.to_string_lossy().into_owned();
        }
        file.to_string_lossy().into_owned()
    }
}

impl CreationRule {
    /// The rule's place in `creation_rules`, counted from 0.
    pub fn index(&self) -> usize {
        self.origin.index
    }

    /// The rule's key groups, or an error naming the key types ksec does not support.
    ///
    /// The flat form (`age:`, `pgp:`, `kms:`, …) is one group; a non-empty `key_groups:`
    /// replaces it. Dropping the unsupported keys silently would encrypt for fewer people than
    /// the config says, so any of them makes this an error.
    pub fn key_groups(&self) -> Result<&[KeyGroupSpec], ConfigError> {
        if self.unsupported_key_types.is_empty() {
            return Ok(&self.key_groups);
        }
        Err(self.origin.error(format_args!(
            "ksec does not support {} keys; pass the keys on the command line instead",
            self.unsupported_key_types.join(", ")
        )))
    }

    /// The key groups as recipients to encrypt for (each recipient parsed and checked).
    pub fn recipient_groups(&self) -> Result<Vec<RecipientGroup>, ConfigError> {
        self.key_groups()?
            .iter()
            .map(|group| {
                Ok(RecipientGroup {
                    age: group
                        .age
                        .iter()
                        .map(|r| AgeRecipient::parse(r))
                        .collect::<Result<_, KeyError>>()?,
                    // sops hands these to gpg as fingerprints; a key file path here would
                    // work for ksec alone, and against whatever directory it was run from.
                    pgp: group
                        .pgp
                        .iter()
                        .map(|r| {
                            PgpRecipient::from_fingerprint(r).ok_or_else(|| {
                                self.origin.error(format_args!(
                                    "pgp key {r:?} is not an OpenPGP fingerprint (40 hex digits); \
                                     .sops.yaml names OpenPGP keys by fingerprint, as sops does (give a \
                                     key file with --pgp instead)"
                                ))
                            })
                        })
                        .collect::<Result<_, ConfigError>>()?,
                    kms: group.kms.clone(),
                    gcp_kms: group.gcp_kms.clone(),
                    azure_kv: group.azure_kv.clone(),
                    hc_vault: group
                        .hc_vault
                        .iter()
                        .map(|uri| VaultKey::from_uri(uri))
                        .collect::<Result<_, KeyError>>()?,
                })
            })
            .collect()
    }
}

/// Go's `filepath.Abs`: joined to the working directory and cleaned lexically, without
/// resolving symbolic links.
fn lexical_absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(path),
            Err(_) => path.to_path_buf(),
        }
    };
    let mut clean = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    clean
}

// ---------------------------------------------------------------------------------------------
// The file as written. Every field is optional; unknown fields (`destination_rules`, `dotenv`,
// keys of newer sops versions) are ignored, as Go's YAML decoder does.

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawConfig {
    creation_rules: Option<Vec<Option<RawRule>>>,
    stores: Option<RawStores>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawStores {
    yaml: Option<RawIndent>,
    json: Option<RawIndent>,
    json_binary: Option<RawIndent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawIndent {
    indent: Option<i64>,
}

impl RawStores {
    fn settings(self) -> Result<StoreSettings, String> {
        let indent = |section: Option<RawIndent>| section.and_then(|s| s.indent);
        Ok(StoreSettings {
            yaml_indent: yaml_indent(indent(self.yaml))?,
            json_indent: json_indent("json", indent(self.json))?,
            json_binary_indent: json_indent("json_binary", indent(self.json_binary))?,
        })
    }
}

/// 0 (or unset) means the default of 4; sops refuses a negative indent.
fn yaml_indent(value: Option<i64>) -> Result<Option<usize>, String> {
    match value.unwrap_or(0) {
        0 => Ok(None),
        n => usize::try_from(n)
            .map(Some)
            .map_err(|_| format!("stores.yaml.indent is {n}; it must not be negative")),
    }
}

/// -1 (or unset) means a tab; sops refuses anything below -1.
fn json_indent(section: &str, value: Option<i64>) -> Result<Option<usize>, String> {
    match value.unwrap_or(-1) {
        -1 => Ok(None),
        n => usize::try_from(n)
            .map(Some)
            .map_err(|_| format!("stores.{section}.indent is {n}; use -1 for a tab or a number of spaces")),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRule {
    path_regex: Option<String>,
    age: Option<KeyField>,
    pgp: Option<KeyField>,
    kms: Option<KeyField>,
    aws_profile: Option<String>,
    gcp_kms: Option<KeyField>,
    azure_keyvault: Option<KeyField>,
    hc_vault_transit_uri: Option<KeyField>,
    hckms: Option<KeyField>,
    key_groups: Option<Vec<Option<RawGroup>>>,
    shamir_threshold: Option<i64>,
    unencrypted_suffix: Option<String>,
    encrypted_suffix: Option<String>,
    unencrypted_regex: Option<String>,
    encrypted_regex: Option<String>,
    unencrypted_comment_regex: Option<String>,
    encrypted_comment_regex: Option<String>,
    mac_only_encrypted: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawGroup {
    merge: Option<Vec<Option<RawGroup>>>,
    age: Option<Vec<String>>,
    pgp: Option<Vec<String>>,
    kms: Option<Vec<Option<RawKms>>>,
    gcp_kms: Option<Vec<Option<RawGcpKms>>>,
    azure_keyvault: Option<Vec<Option<RawAzureKv>>>,
    hc_vault: Option<Vec<String>>,
    hckms: Option<Vec<IgnoredAny>>,
}

/// A `kms` entry of a key group; sops's `kmsKey`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawKms {
    arn: String,
    role: String,
    context: Option<std::collections::BTreeMap<String, Option<String>>>,
    aws_profile: String,
}

/// A `gcp_kms` entry of a key group; sops's `gcpKmsKey`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawGcpKms {
    resource_id: String,
}

/// An `azure_keyvault` entry of a key group; sops's `azureKVKey`, with its camel-case URL.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawAzureKv {
    #[serde(rename = "vaultUrl")]
    vault_url: String,
    key: String,
    version: String,
}

/// A flat-form key setting: a comma-separated string or a list of strings. Anything else is
/// kept as a problem, because sops only rejects it when the rule is used.
#[derive(Debug)]
enum KeyField {
    Keys(Vec<String>),
    Invalid(String),
}

impl<'de> Deserialize<'de> for KeyField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyFieldVisitor)
    }
}

struct KeyFieldVisitor;

impl KeyFieldVisitor {
    fn wrong(kind: &str) -> KeyField {
        KeyField::Invalid(format!("expected a string or a list of strings, got {kind}"))
    }
}

impl<'de> Visitor<'de> for KeyFieldVisitor {
    type Value = KeyField;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a comma-separated string or a list of strings")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyField, E> {
        let keys = v.split(',').map(str::trim).filter(|k| !k.is_empty()).map(String::from);
        Ok(KeyField::Keys(keys.collect()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<KeyField, E> {
        Ok(KeyField::Keys(Vec::new()))
    }

    fn visit_none<E: de::Error>(self) -> Result<KeyField, E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<KeyField, E> {
        Ok(Self::wrong("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<KeyField, E> {
        Ok(Self::wrong("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<KeyField, E> {
        Ok(Self::wrong("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<KeyField, E> {
        Ok(Self::wrong("a number"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyField, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Self::wrong("a mapping"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyField, A::Error> {
        let mut keys = Vec::new();
        let mut wrong = None;
        while let Some(item) = seq.next_element::<ListItem>()? {
            match item {
                ListItem::Text(text) => keys.push(text),
                ListItem::Other(kind) => {
                    wrong.get_or_insert_with(|| format!("expected string in list, got {kind}"));
                }
            }
        }
        Ok(wrong.map_or(KeyField::Keys(keys), KeyField::Invalid))
    }
}

/// One entry of a flat-form key list.
enum ListItem {
    Text(String),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for ListItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ListItemVisitor)
    }
}

struct ListItemVisitor;

impl<'de> Visitor<'de> for ListItemVisitor {
    type Value = ListItem;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ListItem, E> {
        Ok(ListItem::Text(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<ListItem, E> {
        Ok(ListItem::Other("null"))
    }

    fn visit_none<E: de::Error>(self) -> Result<ListItem, E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ListItem, E> {
        Ok(ListItem::Other("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ListItem, E> {
        Ok(ListItem::Other("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ListItem, E> {
        Ok(ListItem::Other("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ListItem, E> {
        Ok(ListItem::Other("a number"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListItem, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(ListItem::Other("a mapping"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ListItem, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ListItem::Other("a list"))
    }
}

// ---------------------------------------------------------------------------------------------
// From the file as written to checked rules.

impl RawRule {
    fn into_rule(self, origin: RuleOrigin) -> CreationRule {
        let mut problems = Vec::new();
        let encryption_rule = encryption_rule(&self, &mut problems);
        let path_regex_source = self.path_regex.filter(|s| !s.is_empty());
        let (path_regex, path_regex_error) = match path_regex_source.as_deref().map(Regex::new) {
            None => (None, None),
            Some(Ok(regex)) => (Some(regex), None),
            Some(Err(e)) => (None, Some(format!("invalid path_regex: {e}"))),
        };

        let shamir_threshold = match self.shamir_threshold.unwrap_or(0) {
            0 => None,
            n => match usize::try_from(n) {
                Ok(n) => Some(n),
                Err(_) => {
                    problems.push(format!("shamir_threshold is {n}; it must not be negative"));
                    None
                }
            },
        };

        let mut unsupported = Vec::new();
        let key_groups = match self.key_groups {
            Some(groups) if !groups.is_empty() => groups
                .into_iter()
                .map(|group| group.unwrap_or_default().into_spec(&mut unsupported))
                .collect(),
            _ => {
                let mut flat = |name: &str, field: Option<KeyField>| match field {
                    None => Vec::new(),
                    Some(KeyField::Keys(keys)) => keys,
                    Some(KeyField::Invalid(message)) => {
                        problems.push(format!("invalid {name} key configuration: {message}"));
                        Vec::new()
                    }
                };
                let age = flat("age", self.age);
                let pgp = flat("pgp", self.pgp);
                let kms_arns = flat("kms", self.kms);
                let gcp_ids = flat("gcpkms", self.gcp_kms);
                let azure_urls = flat("azure_keyvault", self.azure_keyvault);
                let vault_uris = flat("vault", self.hc_vault_transit_uri);
                if !flat("hckms", self.hckms).is_empty() {
                    note_unsupported(&mut unsupported, "hckms");
                }
                // sops joins each list with commas and splits it again, so an entry may hold
                // several keys; the encryption context of flat-form KMS keys is the command
                // line's (`--encryption-context`), which the command applies.
                let aws_profile = self.aws_profile.unwrap_or_default();
                let azure_kv = match azure_kv::parse_urls(&azure_urls.join(",")) {
                    Ok(keys) => keys,
                    Err(e) => {
                        problems.push(e.to_string());
                        Vec::new()
                    }
                };
                vec![KeyGroupSpec {
                    age: flat_age(age),
                    pgp: flat_pgp(pgp),
                    kms: kms::parse_arns(&kms_arns.join(","), &[], &aws_profile),
                    gcp_kms: gcp_kms::parse_resource_ids(&gcp_ids.join(",")),
                    azure_kv,
                    hc_vault: split_list(vault_uris),
                }]
            }
        };

        CreationRule {
            path_regex,
            shamir_threshold,
            encryption_rule,
            mac_only_encrypted: self.mac_only_encrypted.unwrap_or(false),
            unsupported_key_types: unsupported,
            key_groups,
            origin,
            path_regex_error,
            problems,
        }
    }
}

/// The rule's single encryption rule; an empty string counts as unset, as in sops.
fn encryption_rule(raw: &RawRule, problems: &mut Vec<String>) -> Option<EncryptionRule> {
    let fields = [
        ("unencrypted_suffix", &raw.unencrypted_suffix),
        ("encrypted_suffix", &raw.encrypted_suffix),
        ("unencrypted_regex", &raw.unencrypted_regex),
        ("encrypted_regex", &raw.encrypted_regex),
        ("unencrypted_comment_regex", &raw.unencrypted_comment_regex),
        ("encrypted_comment_regex", &raw.encrypted_comment_regex),
    ];
    let mut candidates = Vec::new();
    for (field, value) in fields {
        let Some(text) = value.as_deref().filter(|t| !t.is_empty()) else {
            continue;
        };
        match EncryptionRule::from_field(field, text) {
            Ok(rule) => candidates.push(rule),
            Err(e) => problems.push(e.to_string()),
        }
    }
    EncryptionRule::choose(candidates).unwrap_or_else(|e| {
        problems.push(e.to_string());
        None
    })
}

impl RawGroup {
    /// One `key_groups` entry with its `merge` groups flattened in front of its own keys and
    /// duplicates removed, as sops's `extractMasterKeys` does.
    fn into_spec(self, unsupported: &mut Vec<&'static str>) -> KeyGroupSpec {
        let mut spec = KeyGroupSpec::default();
        for merged in self.merge.unwrap_or_default() {
            let merged = merged.unwrap_or_default().into_spec(unsupported);
            spec.age.extend(merged.age);
            spec.pgp.extend(merged.pgp);
            spec.kms.extend(merged.kms);
            spec.gcp_kms.extend(merged.gcp_kms);
            spec.azure_kv.extend(merged.azure_kv);
            spec.hc_vault.extend(merged.hc_vault);
        }
        for entry in self.age.unwrap_or_default() {
            // sops parses each entry as a comma-separated recipient list.
            if !entry.is_empty() {
                spec.age.extend(entry.split(',').map(|r| r.trim().to_string()));
            }
        }
        spec.pgp
            .extend(self.pgp.unwrap_or_default().iter().map(|f| f.replace(' ', "")));
        for entry in self.kms.unwrap_or_default().into_iter().flatten() {
            let context = entry.context.unwrap_or_default().into_iter().collect();
            spec.kms
                .push(KmsKey::new(&entry.arn, &entry.role, context, &entry.aws_profile));
        }
        for entry in self.gcp_kms.unwrap_or_default().into_iter().flatten() {
            spec.gcp_kms.push(GcpKmsKey::from_resource_id(&entry.resource_id));
        }
        for entry in self.azure_keyvault.unwrap_or_default().into_iter().flatten() {
            spec.azure_kv
                .push(AzureKvKey::new(&entry.vault_url, &entry.key, &entry.version));
        }
        spec.hc_vault.extend(
            self.hc_vault
                .unwrap_or_default()
                .into_iter()
                .map(|u| u.trim().to_string()),
        );
        if self.hckms.as_ref().is_some_and(|e| !e.is_empty()) {
            note_unsupported(unsupported, "hckms");
        }
        dedup(&mut spec.age);
        dedup(&mut spec.pgp);
        dedup(&mut spec.kms);
        dedup(&mut spec.gcp_kms);
        dedup(&mut spec.azure_kv);
        dedup(&mut spec.hc_vault);
        spec
    }
}

/// Flat-form age keys: sops joins the list with commas and splits it again, so an entry may
/// itself hold several recipients. Unlike key groups, the flat form is not de-duplicated.
fn flat_age(keys: Vec<String>) -> Vec<String> {
    let joined = keys.join(",");
    if joined.is_empty() {
        return Vec::new();
    }
    joined.split(',').map(|r| r.trim().to_string()).collect()
}

/// Flat-form PGP fingerprints: joined, split on commas, spaces removed.
fn flat_pgp(keys: Vec<String>) -> Vec<String> {
    let joined = keys.join(",");
    if joined.is_empty() {
        return Vec::new();
    }
    joined.split(',').map(|f| f.replace(' ', "")).collect()
}

fn note_unsupported(list: &mut Vec<&'static str>, name: &'static str) {
    if !list.contains(&name) {
        list.push(name);
    }
}

/// Removes later duplicates, keeping the first occurrence's position (sops's
/// `deduplicateKeygroup`).
fn dedup<T: Clone + Eq + std::hash::Hash>(keys: &mut Vec<T>) {
    let mut seen = HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
}

/// The entries of comma-separated lists, trimmed, without empty ones.
fn split_list(keys: Vec<String>) -> Vec<String> {
    keys.iter()
        .flat_map(|k| k.split(','))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;
    use std::fs;

    const AGE_A: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    const AGE_B: &str = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";

    /// A project directory holding `.sops.yaml` with the given text.
    fn project(config: &str) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        fs::write(&path, config).unwrap();
        let config = load(&path).unwrap();
        (dir, config)
    }

    fn groups(rule: &CreationRule) -> Vec<KeyGroupSpec> {
        rule.key_groups().unwrap().to_vec()
    }

    #[test]
    fn first_matching_rule_wins() {
        let (dir, config) = project(&format!(
            "creation_rules:\n  - path_regex: \\.prod\\.yaml$\n    age: {AGE_A}\n  \
             - path_regex: \\.yaml$\n    age: {AGE_B}\n  - age: {AGE_A},{AGE_B}\n"
        ));
        let rule = config.rule_for(&dir.path().join("db.prod.yaml")).unwrap().unwrap();
        assert_eq!(groups(rule)[0].age, [AGE_A]);
        let rule = config.rule_for(&dir.path().join("db.dev.yaml")).unwrap().unwrap();
        assert_eq!(groups(rule)[0].age, [AGE_B]);
        // The last rule has no path_regex and catches everything else.
        let rule = config.rule_for(&dir.path().join("notes.json")).unwrap().unwrap();
        assert_eq!(groups(rule)[0].age, [AGE_A, AGE_B]);
    }

    #[test]
    fn paths_are_matched_relative_to_the_config_directory() {
        let root = tempfile::tempdir().unwrap();
        let sub = root.path().join("sub");
        fs::create_dir_all(sub.join("deeper")).unwrap();
        let config_path = sub.join(CONFIG_FILE_NAME);
        fs::write(
            &config_path,
            format!(
                "creation_rules:\n  - path_regex: sub/.*\n    age: {AGE_B}\n  \
                 - path_regex: ^deeper/f\\.yaml$\n    age: {AGE_A}\n"
            ),
        )
        .unwrap();
        let config = load(&config_path).unwrap();
        let file = sub.join("deeper/f.yaml");
        let rule = config.rule_for(&file).unwrap().unwrap();
        assert_eq!(groups(rule)[0].age, [AGE_A]);
        // `..` is cleaned away lexically before matching, as Go's filepath.Abs does.
        let rule = config
            .rule_for(&sub.join("deeper/../deeper/./f.yaml"))
            .unwrap()
            .unwrap();
        assert_eq!(groups(rule)[0].age, [AGE_A]);
        // A file outside the config's directory is matched by its absolute path.
        let outside = root.path().join("other/f.yaml");
        let err = config.rule_for(&outside).unwrap_err();
        assert!(matches!(&err, ConfigError::NoMatchingCreationRule { file, .. }
            if file == &outside.to_string_lossy()));
    }

    #[test]
    fn age_accepts_a_comma_separated_string_or_a_list() {
        let (dir, config) = project(&format!(
            "creation_rules:\n  - path_regex: csv\n    age: ' {AGE_A} , {AGE_B},'\n  \
             - path_regex: list\n    age:\n      - {AGE_A}\n      - {AGE_B}\n"
        ));
        for name in ["csv.yaml", "list.yaml"] {
            let rule = config.rule_for(&dir.path().join(name)).unwrap().unwrap();
            assert_eq!(
                groups(rule),
                [KeyGroupSpec {
                    age: vec![AGE_A.into(), AGE_B.into()],
                    pgp: vec![],
                    ..KeyGroupSpec::default()
                }],
                "{name}"
            );
        }
    }

    #[test]
    fn flat_keys_form_one_group_with_pgp_spaces_removed() {
        let (dir, config) = project(&format!(
            "creation_rules:\n  - age: {AGE_A}\n    pgp: 'FBC7 B9E2, D722 9043'\n    shamir_threshold: 1\n"
        ));
        let rule = config.rule_for(&dir.path().join("x.yaml")).unwrap().unwrap();
        assert_eq!(
            groups(rule),
            [KeyGroupSpec {
                age: vec![AGE_A.into()],
                pgp: vec!["FBC7B9E2".into(), "D7229043".into()],
                ..KeyGroupSpec::default()
            }]
        );
        assert_eq!(rule.shamir_threshold, Some(1));
        assert!(rule.encryption_rule.is_none());
        assert!(!rule.mac_only_encrypted);
    }

    #[test]
    fn pgp_keys_in_the_config_are_fingerprints_never_key_files() {
        let (dir, config) = project(
            "creation_rules:\n  - path_regex: fp\n    pgp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n  \
             - pgp: ./key.asc\n",
        );
        fs::write(dir.path().join("key.asc"), "-----BEGIN PGP PUBLIC KEY BLOCK-----\n").unwrap();
        let rule = config.rule_for(&dir.path().join("fp.yaml")).unwrap().unwrap();
        let pgp = &rule.recipient_groups().unwrap()[0].pgp;
        assert_eq!(pgp[0].fingerprint(), "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4");
        let rule = config.rule_for(&dir.path().join("x.yaml")).unwrap().unwrap();
        let err = rule.recipient_groups().unwrap_err().to_string();
        assert!(
            err.contains("creation_rules[1]: pgp key \"./key.asc\" is not an OpenPGP fingerprint"),
            "{err}"
        );
    }

    #[test]
    fn key_groups_merge_nested_groups_and_drop_duplicates() {
        let (dir, config) = project(&format!(
            "creation_rules:\n  - age: {AGE_B}\n    shamir_threshold: 2\n    key_groups:\n      \
             - age: [{AGE_A}]\n        merge:\n          - pgp: [AAAA]\n            merge:\n              \
             - age: ['{AGE_B}, {AGE_A}']\n          - age: [{AGE_B}]\n            pgp: [AAAA, BBBB]\n      \
             - pgp: [CCCC]\n"
        ));
        let rule = config.rule_for(&dir.path().join("x.yaml")).unwrap().unwrap();
        assert_eq!(
            groups(rule),
            [
                // Merged keys first (depth first), then the group's own; each key once.
                KeyGroupSpec {
                    age: vec![AGE_B.into(), AGE_A.into()],
                    pgp: vec!["AAAA".into(), "BBBB".into()],
                    ..KeyGroupSpec::default()
                },
                KeyGroupSpec {
                    age: vec![],
                    pgp: vec!["CCCC".into()],
                    ..KeyGroupSpec::default()
                },
            ]
        );
        assert_eq!(rule.shamir_threshold, Some(2));
    }

    #[test]
    fn encryption_rule_and_mac_only_encrypted_are_read() {
        let (dir, config) = project(
            "creation_rules:\n  - encrypted_regex: ^(data|stringData)$\n    unencrypted_suffix: ''\n    \
             mac_only_encrypted: true\n",
        );
        let rule = config.rule_for(&dir.path().join("s.yaml")).unwrap().unwrap();
        let encryption_rule = rule.encryption_rule.as_ref().unwrap();
        assert_eq!(encryption_rule.field_name(), "encrypted_regex");
        assert_eq!(encryption_rule.text(), "^(data|stringData)$");
        assert!(rule.mac_only_encrypted);
    }

    #[test]
    fn two_encryption_rules_fail_only_when_that_rule_is_used() {
        let (dir, config) = project(&format!(
            "creation_rules:\n  - path_regex: both\n    encrypted_regex: x\n    unencrypted_suffix: _u\n  \
             - age: {AGE_A}\n"
        ));
        let err = config.rule_for(&dir.path().join("both.yaml")).unwrap_err();
        // sops 3.11 exits 1 here (a config error), not 8 as for conflicting flags.
        assert!(matches!(err, ConfigError::CreationRule { index: 0, .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains("creation_rules[0]"), "{message}");
        assert!(message.contains("cannot use more than one of"), "{message}");
        assert!(config.rule_for(&dir.path().join("other.yaml")).unwrap().is_some());
    }

    #[test]
    fn no_matching_rule_is_an_error_but_no_rules_at_all_is_not() {
        let (dir, config) = project(&format!(
            "creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: {AGE_A}\n"
        ));
        let err = config.rule_for(&dir.path().join("plain.yaml")).unwrap_err();
        assert!(matches!(&err, ConfigError::NoMatchingCreationRule { file, .. } if file == "plain.yaml"));
        assert_eq!(crate::Error::from(err).exit_code(), 1);

        for text in ["", "stores: {}\n", "creation_rules:\n", "destination_rules: []\n"] {
            let (dir, config) = project(text);
            assert!(
                config.rule_for(&dir.path().join("a.yaml")).unwrap().is_none(),
                "{text:?}"
            );
        }
        // An empty list is different: sops reports that no rule matches.
        let (dir, config) = project("creation_rules: []\n");
        assert!(config.creation_rules.is_empty());
        let err = config.rule_for(&dir.path().join("a.yaml")).unwrap_err();
        assert!(matches!(err, ConfigError::NoMatchingCreationRule { .. }));
    }

    #[test]
    fn a_bad_path_regex_names_the_rule_once_matching_reaches_it() {
        let (dir, config) = project(&format!(
            "creation_rules:\n  - path_regex: ^ok\n    age: {AGE_A}\n  - path_regex: '('\n    age: {AGE_A}\n"
        ));
        assert!(config.rule_for(&dir.path().join("ok.yaml")).unwrap().is_some());
        let err = config.rule_for(&dir.path().join("other.yaml")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("creation_rules[1]: invalid path_regex"), "{message}");
    }

    #[test]
    fn service_keys_of_the_flat_form_are_read_as_sops_reads_them() {
        let (dir, config) = project(&format!(
            "creation_rules:\n  - path_regex: cloud\n    age: {AGE_A}\n    \
             kms: 'arn:aws:kms:us-east-1:1:key/a+arn:aws:iam::1:role/r, arn:aws:kms:us-east-1:1:key/b'\n    \
             aws_profile: dev\n    gcp_kms: [projects/p/locations/l/keyRings/r/cryptoKeys/k]\n    \
             azure_keyvault: https://v.vault.azure.net/keys/k/1\n    \
             hc_vault_transit_uri: 'https://vault:8200/v1/transit/keys/a,http://bao:8200/v1/team/transit/keys/b'\n  \
             - path_regex: list\n    hc_vault_transit_uri: [https://vault:8200/v1/transit/keys/a]\n"
        ));
        let rule = config.rule_for(&dir.path().join("cloud.yaml")).unwrap().unwrap();
        let group = &groups(rule)[0];
        let kms: Vec<(&str, &str, &str)> = group.kms.iter().map(|k| (k.arn(), k.role(), k.aws_profile())).collect();
        assert_eq!(
            kms,
            [
                ("arn:aws:kms:us-east-1:1:key/a", "arn:aws:iam::1:role/r", "dev"),
                ("arn:aws:kms:us-east-1:1:key/b", "", "dev"),
            ]
        );
        assert_eq!(
            group.gcp_kms[0].resource_id(),
            "projects/p/locations/l/keyRings/r/cryptoKeys/k"
        );
        assert_eq!(group.azure_kv[0].name(), "https://v.vault.azure.net/keys/k/1");
        assert_eq!(
            group.hc_vault,
            [
                "https://vault:8200/v1/transit/keys/a",
                "http://bao:8200/v1/team/transit/keys/b"
            ]
        );
        let recipients = rule.recipient_groups().unwrap();
        assert_eq!(recipients[0].hc_vault[1].engine_path(), "team/transit");
        assert_eq!(recipients[0].age.len(), 1);
        assert!(rule.unsupported_key_types.is_empty());

        let rule = config.rule_for(&dir.path().join("list.yaml")).unwrap().unwrap();
        assert_eq!(rule.recipient_groups().unwrap()[0].hc_vault[0].key_name(), "a");
    }

    #[test]
    fn service_keys_of_key_groups_are_read_merged_and_deduplicated() {
        let (dir, config) = project(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      \
             - hc_vault: [https://vault:8200/v1/transit/keys/a]\n        \
             kms:\n          - arn: arn:aws:kms:us-east-1:1:key/a\n            role: arn:aws:iam::1:role/r\n            \
             context: {app: db, env: prod}\n            aws_profile: dev\n        \
             gcp_kms: [{resource_id: projects/p/cryptoKeys/k}]\n        \
             azure_keyvault: [{vaultUrl: 'https://v.vault.azure.net', key: k, version: '1'}]\n        \
             merge:\n          - hc_vault: [https://vault:8200/v1/transit/keys/a, https://vault:8200/v1/transit/keys/b]\n      \
             - hc_vault: [https://other:8200/v1/transit/keys/c]\n",
        );
        let rule = config.rule_for(&dir.path().join("x.yaml")).unwrap().unwrap();
        let specs = groups(rule);
        assert_eq!(
            specs[0].hc_vault,
            [
                "https://vault:8200/v1/transit/keys/a",
                "https://vault:8200/v1/transit/keys/b"
            ],
            "merged keys first, each once"
        );
        assert_eq!(
            specs[0].kms[0].name(),
            "arn:aws:kms:us-east-1:1:key/a+arn:aws:iam::1:role/r|app:db,env:prod|dev"
        );
        assert_eq!(specs[0].gcp_kms[0].resource_id(), "projects/p/cryptoKeys/k");
        assert_eq!(specs[0].azure_kv[0].version(), "1");
        assert_eq!(specs[1].hc_vault, ["https://other:8200/v1/transit/keys/c"]);
        assert_eq!(rule.recipient_groups().unwrap().len(), 2);
    }

    #[test]
    fn bad_service_keys_fail_only_when_the_rule_is_used() {
        let (dir, config) = project(&format!(
            "creation_rules:\n  - path_regex: vault\n    hc_vault_transit_uri: vault:8200/transit/keys/k\n  \
             - path_regex: azure\n    azure_keyvault: http://not-azure/keys/k\n  \
             - path_regex: huawei\n    hckms: [tr-west-1:k]\n  - age: {AGE_A}\n"
        ));
        let rule = config.rule_for(&dir.path().join("vault.yaml")).unwrap().unwrap();
        let message = rule.recipient_groups().unwrap_err().to_string();
        assert!(message.contains("missing scheme in Vault URL"), "{message}");
        let message = config.rule_for(&dir.path().join("azure.yaml")).unwrap_err().to_string();
        assert!(message.contains("creation_rules[1]: invalid recipient"), "{message}");
        let rule = config.rule_for(&dir.path().join("huawei.yaml")).unwrap().unwrap();
        assert_eq!(rule.unsupported_key_types, ["hckms"]);
        let message = rule.key_groups().unwrap_err().to_string();
        assert!(message.contains("ksec does not support hckms keys"), "{message}");
        assert!(config.rule_for(&dir.path().join("plain.yaml")).unwrap().is_some());
    }

    #[test]
    fn a_key_list_of_the_wrong_type_fails_when_the_rule_is_selected() {
        let (dir, config) = project(&format!(
            "creation_rules:\n  - path_regex: bad\n    age: [1, 2]\n  - age: {AGE_A}\n"
        ));
        let message = config.rule_for(&dir.path().join("bad.yaml")).unwrap_err().to_string();
        assert!(message.contains("invalid age key configuration"), "{message}");
        assert!(config.rule_for(&dir.path().join("good.yaml")).unwrap().is_some());
    }

    #[test]
    fn unknown_fields_are_ignored_and_stores_are_read() {
        let (_dir, config) = project(
            "future_setting: 1\ndestination_rules:\n  - s3_bucket: b\n    recreation_rule: {pgp: X}\n\
             stores:\n  yaml: {indent: 2}\n  json: {indent: 3}\n  dotenv: {}\n\
             creation_rules:\n  - age: a\n    something_new: [1]\n",
        );
        assert_eq!(
            config.stores,
            StoreSettings {
                yaml_indent: Some(2),
                json_indent: Some(3),
                json_binary_indent: None
            }
        );
        assert_eq!(config.creation_rules.len(), 1);
    }

    #[test]
    fn only_the_first_yaml_document_counts() {
        let (dir, config) = project(&format!("creation_rules:\n  - age: {AGE_A}\n---\n- not a config\n"));
        let rule = config.rule_for(&dir.path().join("a.yaml")).unwrap().unwrap();
        assert_eq!(groups(rule)[0].age, [AGE_A]);
    }

    #[test]
    fn store_indent_defaults_and_limits() {
        let (_dir, config) =
            project("stores:\n  yaml: {indent: 0}\n  json: {indent: -1}\n  json_binary: {indent: 0}\n");
        assert_eq!(
            config.stores,
            StoreSettings {
                yaml_indent: None,
                json_indent: None,
                json_binary_indent: Some(0)
            }
        );
        let dir = tempfile::tempdir().unwrap();
        for text in ["stores:\n  yaml: {indent: -2}\n", "stores:\n  json: {indent: -2}\n"] {
            let path = dir.path().join(CONFIG_FILE_NAME);
            fs::write(&path, text).unwrap();
            let message = load(&path).unwrap_err().to_string();
            assert!(message.contains("indent is -2"), "{message}");
        }
    }

    #[test]
    fn broken_yaml_names_the_file_and_the_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        fs::write(&path, "creation_rules:\n  - age: [unclosed\n").unwrap();
        let err = load(&path).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { .. }), "{err}");
        let message = err.to_string();
        assert!(message.starts_with(&path.display().to_string()), "{message}");
        assert!(message.contains("line 2"), "{message}");

        // Wrong shapes fail at load time too, as Go's typed unmarshalling does.
        for text in [
            "creation_rules: 5\n",
            "creation_rules:\n  - shamir_threshold: abc\n",
            "x: 1\nx: 2\n",
        ] {
            fs::write(&path, text).unwrap();
            assert!(load(&path).is_err(), "{text:?}");
        }
        let missing = dir.path().join("absent.yaml");
        assert!(load(&missing).unwrap_err().to_string().contains("absent.yaml"));
    }

    #[test]
    fn lookup_walks_up_and_ignores_sops_yml() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a/b/c");
        fs::create_dir_all(&deep).unwrap();
        fs::write(root.path().join("a/b/.sops.yml"), "creation_rules: []\n").unwrap();
        fs::write(root.path().join(CONFIG_FILE_NAME), "creation_rules: []\n").unwrap();

        let lookup = find(&deep);
        assert_eq!(lookup.found, Some(root.path().join(CONFIG_FILE_NAME)));
        assert_eq!(lookup.ignored_yml, Some(root.path().join("a/b/.sops.yml")));
        let warning = lookup.warning().unwrap();
        assert!(warning.contains(".sops.yml") && warning.contains("using"), "{warning}");

        // The nearest .sops.yaml wins, and a .sops.yml beside it is not even mentioned.
        fs::write(root.path().join("a/b/.sops.yaml"), "").unwrap();
        assert_eq!(
            find(&deep),
            Lookup {
                found: Some(root.path().join("a/b/.sops.yaml")),
                ignored_yml: None
            }
        );
    }

    #[test]
    fn lookup_without_a_config_still_reports_a_sops_yml() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join(IGNORED_CONFIG_FILE_NAME), "").unwrap();
        let lookup = find(root.path());
        // Nothing above a fresh temp dir should hold a .sops.yaml; tolerate it if one does.
        if lookup.found.is_none() {
            assert!(
                lookup
                    .warning()
                    .unwrap()
                    .ends_with(&format!("called {CONFIG_FILE_NAME}"))
            );
        }
        assert_eq!(lookup.ignored_yml, Some(root.path().join(IGNORED_CONFIG_FILE_NAME)));
    }

    #[test]
    fn upstream_functional_test_config_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/vectors/sops-upstream/upstream-v3.11.0/functional-tests/dot-sops.yaml");
        let config = load(&path).unwrap();
        assert_eq!(config.creation_rules.len(), 6);
        let dir = path.parent().unwrap();

        let rule = config
            .rule_for(&dir.join("test_roundtrip_keygroups.yaml"))
            .unwrap()
            .unwrap();
        assert_eq!(
            groups(rule),
            [
                KeyGroupSpec {
                    age: vec![],
                    pgp: vec!["FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4".into()],
                    ..KeyGroupSpec::default()
                },
                KeyGroupSpec {
                    age: vec![],
                    pgp: vec!["D7229043384BCC60326C6FB9D8720D957C3D3074".into()],
                    ..KeyGroupSpec::default()
                },
            ]
        );
        // No keys anywhere: one empty group, as sops builds it.
        let rule = config.rule_for(&dir.join("test_no_keygroups.yaml")).unwrap().unwrap();
        assert_eq!(groups(rule), [KeyGroupSpec::default()]);
        // `key_groups: []` falls back to the (empty) flat form; `[{}]` is one empty group.
        let rule = config.rule_for(&dir.join("test_zero_keygroups.yaml")).unwrap().unwrap();
        assert_eq!(groups(rule), [KeyGroupSpec::default()]);
        let rule = config.rule_for(&dir.join("test_empty_keygroup.yaml")).unwrap().unwrap();
        assert_eq!(groups(rule), [KeyGroupSpec::default()]);
        // Everything else falls through to the last, catch-all pgp rule.
        let rule = config.rule_for(&dir.join("anything.json")).unwrap().unwrap();
        assert_eq!(groups(rule)[0].pgp, ["FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"]);
    }

    #[test]
    fn upstream_config_with_a_kms_rule_gives_that_rule_kms_keys() {
        // The upstream file has no kms rule of its own; add one the way sops users write it.
        let upstream = fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/vectors/sops-upstream/upstream-v3.11.0/functional-tests/dot-sops.yaml"),
        )
        .unwrap();
        let text = upstream.replacen(
            "creation_rules:\n",
            "creation_rules:\n    - path_regex: aws\n      kms: 'arn:aws:kms:us-east-1:1:key/a,arn:aws:kms:us-east-1:1:key/b'\n",
            1,
        );
        let (dir, config) = project(&text);
        let rule = config.rule_for(&dir.path().join("aws.yaml")).unwrap().unwrap();
        let specs = groups(rule);
        let arns: Vec<&str> = specs[0].kms.iter().map(|k| k.arn()).collect();
        assert_eq!(arns, ["arn:aws:kms:us-east-1:1:key/a", "arn:aws:kms:us-east-1:1:key/b"]);
        assert!(
            config
                .rule_for(&dir.path().join("test_no_keygroups.yaml"))
                .unwrap()
                .unwrap()
                .key_groups()
                .is_ok()
        );
    }
}
