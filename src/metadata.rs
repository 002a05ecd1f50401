//! The `sops` metadata block as a typed struct, and its tree form (nested, for YAML and JSON).
//!
//! Field order on output is sops 3.11's (struct order), so ksec's metadata looks like sops's;
//! on input any order is accepted, unknown fields are ignored, and key types ksec cannot use
//! (KMS, Vault, …) are kept verbatim so a rewrite does not lose them.

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
    #[error("an age entry is not a mapping")]
    AgeEntryNotAMapping,
    #[error("a pgp entry is not a mapping")]
    PgpEntryNotAMapping,
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
    /// Entries of key types ksec does not handle, by type name (`kms`, `hc_vault`, …), kept as
    /// written.
    pub other: Vec<(String, Node)>,
}

/// An age recipient and the data key wrapped for it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgeStanza {
    pub recipient: String,
    pub enc: String,
}

/// An OpenPGP key and the data key wrapped for it.
#[derive(Debug, Clone, PartialEq)]
pub struct PgpStanza {
    pub created_at: String,
    pub enc: String,
    pub fp: String,
}

/// Key types other than age and pgp, in the order sops writes them.
const OTHER_KEY_TYPES: [&str; 5] = ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault"];

impl KeyGroup {
    pub fn is_empty(&self) -> bool {
        self.age.is_empty() && self.pgp.is_empty() && self.other.is_empty()
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
            push_other_keys(&mut m, group);
            if !group.age.is_empty() {
                push(&mut m, "age", age_list(&group.age));
            }
        }
        push(&mut m, "lastmodified", Node::scalar(Value::str(&self.last_modified)));
        push(&mut m, "mac", Node::scalar(Value::str(&self.mac)));
        if let Some(group) = flat
            && !group.pgp.is_empty()
        {
            push(&mut m, "pgp", pgp_list(&group.pgp));
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
    if !group.pgp.is_empty() {
        push(&mut m, "pgp", pgp_list(&group.pgp));
    }
    push_other_keys(&mut m, group);
    if !group.other.iter().any(|(t, _)| t == "hc_vault") {
        push(&mut m, "hc_vault", Node::Sequence(Sequence::default()));
    }
    push(&mut m, "age", age_list(&group.age));
    m
}

fn push_other_keys(m: &mut Mapping, group: &KeyGroup) {
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
}

fn age_list(stanzas: &[AgeStanza]) -> Node {
    let items = stanzas
        .iter()
        .map(|s| {
            let mut m = Mapping::default();
            push(&mut m, "recipient", Node::scalar(Value::str(&s.recipient)));
            push(&mut m, "enc", Node::scalar(Value::str(&s.enc)));
            SequenceItem::Node(Node::Mapping(m))
        })
        .collect();
    Node::Sequence(Sequence {
        items,
        ..Sequence::default()
    })
}

fn pgp_list(stanzas: &[PgpStanza]) -> Node {
    let items = stanzas
        .iter()
        .map(|s| {
            let mut m = Mapping::default();
            push(&mut m, "created_at", Node::scalar(Value::str(&s.created_at)));
            push(&mut m, "enc", Node::scalar(Value::str(&s.enc)));
            push(&mut m, "fp", Node::scalar(Value::str(&s.fp)));
            SequenceItem::Node(Node::Mapping(m))
        })
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
            Node::Sequence(s) => s
                .items
                .iter()
                .filter_map(|i| match i {
                    SequenceItem::Node(n) => Some(n),
                    SequenceItem::Comment(_) => None,
                })
                .collect(),
            _ => continue,
        };
        match entry.key.as_str() {
            "age" => {
                for item in items {
                    let m = item
                        .as_mapping()
                        .ok_or_else(|| invalid(MetadataProblem::AgeEntryNotAMapping))?;
                    group.age.push(AgeStanza {
                        recipient: field(m, "recipient").unwrap_or_default(),
                        enc: field(m, "enc").unwrap_or_default(),
                    });
                }
            }
            "pgp" => {
                for item in items {
                    let m = item
                        .as_mapping()
                        .ok_or_else(|| invalid(MetadataProblem::PgpEntryNotAMapping))?;
                    group.pgp.push(PgpStanza {
                        created_at: field(m, "created_at").unwrap_or_default(),
                        enc: field(m, "enc").unwrap_or_default(),
                        fp: field(m, "fp").unwrap_or_default(),
                    });
                }
            }
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
