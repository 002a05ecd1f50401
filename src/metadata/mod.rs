//! The `sops` metadata block as a typed struct, and its tree form (nested, for YAML and JSON).
//!
//! Field order on output is sops 3.11's (struct order), so ksec's metadata looks like sops's;
//! on input any order is accepted and unknown fields are ignored. Every key type sops 3.11
//! knows has a typed entry ([`stanzas`]); `hckms` (HuaweiCloud, newer sops), which ksec does
//! not support, is kept verbatim so a rewrite does not lose it.

mod stanzas;

use stanzas::Stanza;
pub use stanzas::{AgeStanza, AzureKvStanza, GcpKmsStanza, KmsStanza, PgpStanza, VaultStanza};

use crate::rules::{EncryptionRule, RuleError};
use crate::timestamp::{Timestamp, format_rfc3339_seconds};
use crate::tree::{Mapping, MappingItem, Node, Sequence, SequenceItem, Value};

/// The sops version ksec writes; sops 3.11 requires a semver here.
pub const WRITTEN_VERSION: &str = "3.11.0";

/// A `sops` block that does not read as metadata.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("{file}: invalid sops metadata: {problem}")]
    Invalid { file: String, problem: MetadataProblem },
    /// An encryption rule field that does not compile.
    #[error(transparent)]
    Rule(#[from] RuleError),
}

/// What is wrong with a `sops` block.
#[derive(Debug, thiserror::Error)]
pub enum MetadataProblem {
    #[error("the sops entry is not a mapping")]
    NotAMapping,
    #[error("{0} is not a scalar")]
    NotAScalar(&'static str),
    #[error("no keys found in the file")]
    NoKeys,
    #[error("a {0} entry is not a mapping")]
    EntryNotAMapping(&'static str),
    #[error("a kms context is not a mapping of strings")]
    KmsContextNotText,
    #[error("shamir_threshold {0:?} is not a number")]
    ThresholdNotANumber(String),
    #[error("lastmodified is missing")]
    NoLastModified,
    #[error("lastmodified {0:?} is not an RFC 3339 time")]
    LastModifiedNotATime(String),
    #[error("version {0:?} is not a sops version (expected e.g. 3.11.0)")]
    NotAVersion(String),
    #[error("{0}")]
    SeveralRules(RuleError),
}

/// Everything the `sops` block says.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub key_groups: Vec<KeyGroup>,
    /// Shares needed to rebuild the data key; 0 when unset.
    pub shamir_threshold: usize,
    /// `lastmodified` exactly as written: the MAC's AAD derives from it.
    pub last_modified: String,
    /// The encrypted MAC (`ENC[...]`), or empty.
    pub mac: String,
    /// `None` for files that name no rule (the binary store); decryption then uses sops's
    /// default `_unencrypted` suffix.
    pub rule: Option<EncryptionRule>,
    pub mac_only_encrypted: bool,
    pub version: String,
}

/// Master keys that each hold the data key (or, with several groups, the same Shamir share).
#[derive(Debug, Clone, Default)]
pub struct KeyGroup {
    pub age: Vec<AgeStanza>,
    pub pgp: Vec<PgpStanza>,
    pub kms: Vec<KmsStanza>,
    pub gcp_kms: Vec<GcpKmsStanza>,
    pub azure_kv: Vec<AzureKvStanza>,
    pub hc_vault: Vec<VaultStanza>,
    /// Entries of key types ksec does not handle (`hckms`), by type name, kept as written.
    pub other: Vec<(String, Node)>,
}

/// Key types ksec keeps verbatim, in the order sops writes them.
const OTHER_KEY_TYPES: [&str; 1] = ["hckms"];

impl KeyGroup {
    pub fn is_empty(&self) -> bool {
        self.age.is_empty()
            && self.pgp.is_empty()
            && self.kms.is_empty()
            && self.gcp_kms.is_empty()
            && self.azure_kv.is_empty()
            && self.hc_vault.is_empty()
            && self.other.is_empty()
    }

    /// Every key of the group as `type name` (`age age1…`, `hc_vault https://…/keys/app`),
    /// sorted: two groups with the same list hold the same keys, whatever their order.
    pub fn key_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        names.extend(self.age.iter().map(|s| format!("age {}", s.recipient)));
        names.extend(self.pgp.iter().map(|s| format!("pgp {}", s.fp.to_uppercase())));
        names.extend(
            self.kms
                .iter()
                .map(|s| format!("kms {}+{}|{:?}|{}", s.arn, s.role, s.context, s.aws_profile)),
        );
        names.extend(self.gcp_kms.iter().map(|s| format!("gcp_kms {}", s.resource_id)));
        names.extend(
            self.azure_kv
                .iter()
                .map(|s| format!("azure_kv {}/keys/{}/{}", s.vault_url, s.name, s.version)),
        );
        names.extend(
            self.hc_vault
                .iter()
                .map(|s| format!("hc_vault {}/v1/{}/keys/{}", s.vault_address, s.engine_path, s.key_name)),
        );
        names.extend(self.other.iter().map(|(key_type, node)| format!("{key_type} {node:?}")));
        names.sort_unstable();
        names
    }
}

impl Metadata {
    /// Metadata for a new file; `lastmodified` and `mac` are filled in once the values are
    /// encrypted.
    pub fn new(
        key_groups: Vec<KeyGroup>,
        shamir_threshold: usize,
        rule: EncryptionRule,
        mac_only_encrypted: bool,
    ) -> Self {
        Metadata {
            key_groups,
            shamir_threshold,
            last_modified: String::new(),
            mac: String::new(),
            rule: Some(rule),
            mac_only_encrypted,
            version: WRITTEN_VERSION.to_string(),
        }
    }

    /// The encryption rule in force (sops's default suffix when the file names none).
    pub fn effective_rule(&self) -> EncryptionRule {
        self.rule.clone().unwrap_or_default()
    }

    /// The `lastmodified` text as sops re-formats it for the MAC's AAD: RFC 3339 in seconds,
    /// `Z` for UTC.
    pub fn mac_aad(&self, file: &str) -> Result<String, MetadataError> {
        let t = Timestamp::parse_rfc3339(&self.last_modified).ok_or_else(|| MetadataError::Invalid {
            file: file.to_string(),
            problem: MetadataProblem::LastModifiedNotATime(self.last_modified.clone()),
        })?;
        Ok(format_rfc3339_seconds(&t))
    }

    /// Reads the metadata node of an encrypted file.
    pub fn from_node(node: &Node, file: &str) -> Result<Metadata, MetadataError> {
        let invalid = |problem: MetadataProblem| MetadataError::Invalid {
            file: file.to_string(),
            problem,
        };
        let map = node.as_mapping().ok_or_else(|| invalid(MetadataProblem::NotAMapping))?;
        let text = |field: &'static str| -> Result<Option<String>, MetadataError> {
            match map.get(field) {
                None => Ok(None),
                Some(Node::Scalar(s)) => Ok(Some(scalar_text(&s.value))),
                Some(_) => Err(invalid(MetadataProblem::NotAScalar(field))),
            }
        };
        let flat = read_group(map, file)?;
        let key_groups = if !flat.is_empty() {
            vec![flat]
        } else {
            match map.get("key_groups") {
                Some(Node::Sequence(groups)) => groups
                    .items
                    .iter()
                    .filter_map(|item| match item {
                        SequenceItem::Node(Node::Mapping(m)) => Some(read_group(m, file)),
                        _ => None,
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                _ => Vec::new(),
            }
        };
        if key_groups.iter().all(KeyGroup::is_empty) {
            return Err(invalid(MetadataProblem::NoKeys));
        }
        let shamir_threshold = match text("shamir_threshold")? {
            None => 0,
            Some(t) => parse_threshold(&t).ok_or_else(|| invalid(MetadataProblem::ThresholdNotANumber(t)))?,
        };
        let last_modified = text("lastmodified")?.ok_or_else(|| invalid(MetadataProblem::NoLastModified))?;
        if Timestamp::parse_rfc3339(&last_modified).is_none() {
            return Err(invalid(MetadataProblem::LastModifiedNotATime(last_modified)));
        }
        let version = text("version")?.unwrap_or_default();
        if !is_supported_version(&version) {
            return Err(invalid(MetadataProblem::NotAVersion(version)));
        }
        let mut rules = Vec::new();
        for field in crate::rules::RULE_FIELDS {
            if let Some(t) = text(field)?
                && !t.is_empty()
            {
                rules.push(EncryptionRule::from_field(field, &t)?);
            }
        }
        let rule = EncryptionRule::choose(rules).map_err(|e| invalid(MetadataProblem::SeveralRules(e)))?;
        let mac_only_encrypted =
            matches!(map.get("mac_only_encrypted"), Some(Node::Scalar(s)) if s.value == Value::Bool(true));
        Ok(Metadata {
            key_groups,
            shamir_threshold,
            last_modified,
            mac: text("mac")?.unwrap_or_default(),
            rule,
            mac_only_encrypted,
            version,
        })
    }

    /// The metadata as a tree node, fields in sops 3.11's order.
    pub fn to_node(&self) -> Node {
        let mut m = Mapping::default();
        if self.shamir_threshold > 0 {
            push(
                &mut m,
                "shamir_threshold",
                Node::scalar(Value::Int(self.shamir_threshold as i64)),
            );
        }
        let single = self.key_groups.len() == 1;
        if !single {
            let groups = self
                .key_groups
                .iter()
                .map(|g| SequenceItem::Node(Node::Mapping(group_node(g))))
                .collect();
            push(
                &mut m,
                "key_groups",
                Node::Sequence(Sequence {
                    items: groups,
                    ..Sequence::default()
                }),
            );
        }
        let flat = if single { self.key_groups.first() } else { None };
        if let Some(group) = flat {
            push_service_keys(&mut m, group);
            push_list(&mut m, "hc_vault", &group.hc_vault);
            push_list(&mut m, "age", &group.age);
        }
        push(&mut m, "lastmodified", Node::scalar(Value::str(&self.last_modified)));
        push(&mut m, "mac", Node::scalar(Value::str(&self.mac)));
        if let Some(group) = flat {
            push_list(&mut m, "pgp", &group.pgp);
        }
        if let Some(rule) = &self.rule {
            push(&mut m, rule.field_name(), Node::scalar(Value::str(rule.text())));
        }
        if self.mac_only_encrypted {
            push(&mut m, "mac_only_encrypted", Node::scalar(Value::Bool(true)));
        }
        push(&mut m, "version", Node::scalar(Value::str(&self.version)));
        Node::Mapping(m)
    }
}

fn push(m: &mut Mapping, key: &str, value: Node) {
    m.push(key, value);
}

/// A group inside `key_groups`: `hc_vault` and `age` are always written (sops has no
/// `omitempty` on them).
fn group_node(group: &KeyGroup) -> Mapping {
    let mut m = Mapping::default();
    push_list(&mut m, "pgp", &group.pgp);
    push_service_keys(&mut m, group);
    push(&mut m, "hc_vault", list(&group.hc_vault));
    push(&mut m, "age", list(&group.age));
    m
}

/// The keys sops writes between the group's start (or `pgp`) and `hc_vault`: `kms`,
/// `gcp_kms`, `hckms`, `azure_kv`, each only when there are some.
fn push_service_keys(m: &mut Mapping, group: &KeyGroup) {
    push_list(m, "kms", &group.kms);
    push_list(m, "gcp_kms", &group.gcp_kms);
    for key_type in OTHER_KEY_TYPES {
        let items: Vec<SequenceItem> = group
            .other
            .iter()
            .filter(|(t, _)| t == key_type)
            .map(|(_, node)| SequenceItem::Node(node.clone()))
            .collect();
        if !items.is_empty() {
            push(
                m,
                key_type,
                Node::Sequence(Sequence {
                    items,
                    ..Sequence::default()
                }),
            );
        }
    }
    push_list(m, "azure_kv", &group.azure_kv);
}

/// `key: [entries…]`, unless there are none (sops's `omitempty`).
fn push_list<S: Stanza>(m: &mut Mapping, key: &str, stanzas: &[S]) {
    if !stanzas.is_empty() {
        push(m, key, list(stanzas));
    }
}

fn list<S: Stanza>(stanzas: &[S]) -> Node {
    let items = stanzas
        .iter()
        .map(|s| SequenceItem::Node(Node::Mapping(s.write())))
        .collect();
    Node::Sequence(Sequence {
        items,
        ..Sequence::default()
    })
}

/// Reads one group's keys from a mapping (the flat form or a `key_groups` item).
fn read_group(map: &Mapping, file: &str) -> Result<KeyGroup, MetadataError> {
    let invalid = |problem: MetadataProblem| MetadataError::Invalid {
        file: file.to_string(),
        problem,
    };
    let mut group = KeyGroup::default();
    for entry in map.entries() {
        let items: Vec<&Node> = match &entry.value {
            Node::Sequence(s) => s.nodes().collect(),
            _ => continue,
        };
        match entry.key.as_str() {
            "age" => group.age = read_list(&items).map_err(invalid)?,
            "pgp" => group.pgp = read_list(&items).map_err(invalid)?,
            "kms" => group.kms = read_list(&items).map_err(invalid)?,
            "gcp_kms" => group.gcp_kms = read_list(&items).map_err(invalid)?,
            "azure_kv" => group.azure_kv = read_list(&items).map_err(invalid)?,
            "hc_vault" => group.hc_vault = read_list(&items).map_err(invalid)?,
            t if OTHER_KEY_TYPES.contains(&t) => {
                for item in items {
                    group.other.push((t.to_string(), detached(item)));
                }
            }
            _ => {}
        }
    }
    Ok(group)
}

fn read_list<S: Stanza>(items: &[&Node]) -> Result<Vec<S>, MetadataProblem> {
    items
        .iter()
        .map(|item| S::read(item.as_mapping().ok_or(S::NOT_A_MAPPING)?))
        .collect()
}

fn field(m: &Mapping, key: &str) -> Option<String> {
    match m.get(key)? {
        Node::Scalar(s) => Some(scalar_text(&s.value)),
        _ => None,
    }
}

/// A metadata value as text: sops's fields are strings, but a hand-edited file may leave a
/// time or number unquoted.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::Str(s) => s.to_string(),
        Value::Time(t) => t.to_rfc3339_nano(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => crate::scalar::format_float_g(*f),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// A copy of a node without source positions, so it is re-rendered wherever it is written.
fn detached(node: &Node) -> Node {
    match node {
        Node::Scalar(s) => Node::scalar(s.value.clone()),
        Node::Mapping(m) => {
            let mut out = Mapping::default();
            for e in m.entries() {
                out.items.push(MappingItem::Entry(crate::tree::Entry::new(
                    e.key.clone(),
                    detached(&e.value),
                )));
            }
            Node::Mapping(out)
        }
        Node::Sequence(s) => Node::Sequence(Sequence {
            items: s
                .items
                .iter()
                .filter_map(|i| match i {
                    SequenceItem::Node(n) => Some(SequenceItem::Node(detached(n))),
                    SequenceItem::Comment(_) => None,
                })
                .collect(),
            ..Sequence::default()
        }),
    }
}

fn parse_threshold(text: &str) -> Option<usize> {
    text.parse::<usize>().ok().or_else(|| {
        let f: f64 = text.parse().ok()?;
        (f.fract() == 0.0 && f >= 0.0).then_some(f as usize)
    })
}

/// sops requires a semver version (or a 1.x legacy one) before it will decrypt.
fn is_supported_version(version: &str) -> bool {
    let v = version.strip_prefix('v').unwrap_or(version);
    if v.starts_with("1.") {
        return true;
    }
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Metadata {
        Metadata {
            key_groups: vec![KeyGroup {
                age: vec![AgeStanza {
                    recipient: "age1abc".into(),
                    enc: "armored\n".into(),
                }],
                ..KeyGroup::default()
            }],
            shamir_threshold: 0,
            last_modified: "2026-11-23T18:09:23Z".into(),
            mac: "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]".into(),
            rule: Some(EncryptionRule::default()),
            mac_only_encrypted: false,
            version: WRITTEN_VERSION.into(),
        }
    }

    fn keys(node: &Node) -> Vec<String> {
        node.as_mapping().unwrap().entries().map(|e| e.key.clone()).collect()
    }

    #[test]
    fn writes_fields_in_sops_order_and_reads_them_back() {
        let node = sample().to_node();
        assert_eq!(
            keys(&node),
            ["age", "lastmodified", "mac", "unencrypted_suffix", "version"]
        );
        let back = Metadata::from_node(&node, "f").unwrap();
        assert_eq!(back.key_groups[0].age, sample().key_groups[0].age);
        assert_eq!(back.last_modified, "2026-11-23T18:09:23Z");
        assert_eq!(back.rule.unwrap().text(), "_unencrypted");
    }

    #[test]
    fn several_groups_use_key_groups_with_empty_hc_vault_and_age() {
        let mut meta = sample();
        meta.key_groups.push(KeyGroup {
            pgp: vec![PgpStanza {
                created_at: "t".into(),
                enc: "e".into(),
                fp: "F".into(),
            }],
            ..KeyGroup::default()
        });
        meta.shamir_threshold = 2;
        let node = meta.to_node();
        assert_eq!(
            keys(&node),
            [
                "shamir_threshold",
                "key_groups",
                "lastmodified",
                "mac",
                "unencrypted_suffix",
                "version"
            ]
        );
        let Node::Sequence(groups) = node.as_mapping().unwrap().get("key_groups").unwrap() else {
            panic!()
        };
        let SequenceItem::Node(second) = &groups.items[1] else {
            panic!()
        };
        assert_eq!(keys(second), ["pgp", "hc_vault", "age"]);
        let back = Metadata::from_node(&node, "f").unwrap();
        assert_eq!(back.key_groups.len(), 2);
        assert_eq!(back.shamir_threshold, 2);
    }

    /// One key of every type sops 3.11 knows, plus a verbatim `hckms` entry.
    fn every_key_type() -> KeyGroup {
        let mut hckms = Mapping::default();
        hckms.push("key_id", Node::scalar(Value::str("tr-west-1:k")));
        hckms.push("created_at", Node::scalar(Value::str("t")));
        hckms.push("enc", Node::scalar(Value::str("e")));
        KeyGroup {
            age: sample().key_groups[0].age.clone(),
            pgp: vec![PgpStanza {
                created_at: "t".into(),
                enc: "e".into(),
                fp: "F".into(),
            }],
            kms: vec![KmsStanza {
                arn: "arn:aws:kms:us-east-1:1:key/k".into(),
                role: "arn:aws:iam::1:role/r".into(),
                context: vec![("app".into(), Some("db".into())), ("odd".into(), None)],
                created_at: "t".into(),
                enc: "e".into(),
                aws_profile: String::new(),
            }],
            gcp_kms: vec![GcpKmsStanza {
                resource_id: "projects/p/locations/l/keyRings/r/cryptoKeys/k".into(),
                created_at: "t".into(),
                enc: "e".into(),
            }],
            azure_kv: vec![AzureKvStanza {
                vault_url: "https://v.vault.azure.net".into(),
                name: "k".into(),
                version: "1".into(),
                created_at: "t".into(),
                enc: "e".into(),
            }],
            hc_vault: vec![VaultStanza {
                vault_address: "https://vault:8200".into(),
                engine_path: "transit".into(),
                key_name: "app".into(),
                created_at: "t".into(),
                enc: "vault:v1:x".into(),
            }],
            other: vec![("hckms".into(), Node::Mapping(hckms))],
        }
    }

    fn entry<'a>(node: &'a Node, key: &str) -> &'a Node {
        node.as_mapping().unwrap().get(key).unwrap()
    }

    fn first_item(node: &Node) -> &Node {
        let Node::Sequence(s) = node else { panic!("not a list") };
        let SequenceItem::Node(n) = &s.items[0] else { panic!() };
        n
    }

    #[test]
    fn every_key_type_is_written_in_sops_order_field_by_field() {
        let mut meta = sample();
        meta.key_groups = vec![every_key_type()];
        let node = meta.to_node();
        assert_eq!(
            keys(&node),
            [
                "kms",
                "gcp_kms",
                "hckms",
                "azure_kv",
                "hc_vault",
                "age",
                "lastmodified",
                "mac",
                "pgp",
                "unencrypted_suffix",
                "version"
            ]
        );
        assert_eq!(
            keys(first_item(entry(&node, "kms"))),
            ["arn", "role", "context", "created_at", "enc", "aws_profile"]
        );
        assert_eq!(
            keys(first_item(entry(&node, "gcp_kms"))),
            ["resource_id", "created_at", "enc"]
        );
        assert_eq!(
            keys(first_item(entry(&node, "azure_kv"))),
            ["vault_url", "name", "version", "created_at", "enc"]
        );
        assert_eq!(
            keys(first_item(entry(&node, "hc_vault"))),
            ["vault_address", "engine_path", "key_name", "created_at", "enc"]
        );
        let back = Metadata::from_node(&node, "f").unwrap();
        let group = &back.key_groups[0];
        let want = every_key_type();
        assert_eq!(group.kms, want.kms, "the null context value stays null");
        assert_eq!(group.gcp_kms, want.gcp_kms);
        assert_eq!(group.azure_kv, want.azure_kv);
        assert_eq!(group.hc_vault, want.hc_vault);
        assert_eq!(group.key_names(), want.key_names());
        assert_eq!(
            crate::tree::Data::from(&back.to_node()),
            crate::tree::Data::from(&node),
            "a second round trip changes nothing"
        );
    }

    #[test]
    fn a_kms_key_without_role_or_context_still_names_its_empty_aws_profile() {
        let mut group = every_key_type();
        group.kms[0].role.clear();
        group.kms[0].context.clear();
        let mut meta = sample();
        meta.key_groups = vec![group];
        let node = meta.to_node();
        let kms = first_item(entry(&node, "kms"));
        assert_eq!(keys(kms), ["arn", "created_at", "enc", "aws_profile"]);
        assert_eq!(entry(kms, "aws_profile").as_value(), Some(&Value::str("")));
    }

    #[test]
    fn key_groups_write_each_type_in_sops_group_order() {
        let mut meta = sample();
        meta.key_groups = vec![every_key_type(), every_key_type()];
        meta.shamir_threshold = 2;
        let node = meta.to_node();
        let Node::Sequence(groups) = entry(&node, "key_groups") else {
            panic!()
        };
        let SequenceItem::Node(first) = &groups.items[0] else {
            panic!()
        };
        assert_eq!(
            keys(first),
            ["pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age"]
        );
        let back = Metadata::from_node(&node, "f").unwrap();
        assert_eq!(back.key_groups[1].hc_vault, every_key_type().hc_vault);
        assert_eq!(back.key_groups[1].other.len(), 1);
    }

    #[test]
    fn a_key_entry_that_is_not_a_mapping_is_named() {
        let mut m = Mapping::default();
        m.push(
            "hc_vault",
            Node::Sequence(Sequence {
                items: vec![SequenceItem::Node(Node::scalar(Value::str(
                    "https://v/v1/transit/keys/k",
                )))],
                ..Sequence::default()
            }),
        );
        m.push("lastmodified", Node::scalar(Value::str("2026-11-23T18:09:23Z")));
        m.push("version", Node::scalar(Value::str("3.11.0")));
        let err = Metadata::from_node(&Node::Mapping(m), "f.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("a hc_vault entry is not a mapping"), "{err}");
    }

    #[test]
    fn rejects_missing_keys_and_bad_versions() {
        let mut meta = sample();
        meta.version = "".into();
        assert!(
            Metadata::from_node(&meta.to_node(), "f")
                .unwrap_err()
                .to_string()
                .contains("version")
        );
        let mut meta = sample();
        meta.key_groups = vec![KeyGroup::default()];
        assert!(Metadata::from_node(&meta.to_node(), "f").is_err());
    }

    #[test]
    fn mac_aad_reformats_lastmodified_as_go_does() {
        let mut meta = sample();
        meta.last_modified = "2026-11-23T18:09:23.5Z".into();
        assert_eq!(meta.mac_aad("f").unwrap(), "2026-11-23T18:09:23Z");
        meta.last_modified = "2026-11-23T20:09:23+02:00".into();
        assert_eq!(meta.mac_aad("f").unwrap(), "2026-11-23T20:09:23+02:00");
        meta.last_modified = "2026-11-23T18:09:23+00:00".into();
        assert_eq!(meta.mac_aad("f").unwrap(), "2026-11-23T18:09:23Z");
    }
}
