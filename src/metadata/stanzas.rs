//! One metadata entry per master key: the key's name and the data key wrapped for it, field for
//! field as sops 3.11 writes them (`stores/stores.go`), so an entry ksec reads and writes back
//! is the entry sops wrote. Fields sops writes without `omitempty` (`aws_profile`) are written
//! even when empty; those with it (`role`, `context`) only when set.
//!
//! These are plain text records: what a field means (an ARN, a Vault address) is the business
//! of the key types in `keys`, which read them from here.

use crate::tree::{Mapping, Node, Value};

use super::{MetadataProblem, field, scalar_text};

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

/// An AWS KMS key (`kms`): `enc` is the base64 `CiphertextBlob`.
#[derive(Debug, Clone, PartialEq)]
pub struct KmsStanza {
    pub arn: String,
    /// The IAM role assumed to use the key; empty when none.
    pub role: String,
    /// The encryption context, in the order written (sops writes it sorted by key). A value
    /// may be null in a hand-written file; it is kept null.
    pub context: Vec<(String, Option<String>)>,
    pub created_at: String,
    pub enc: String,
    /// The AWS profile; empty when none, and written even then, as sops does.
    pub aws_profile: String,
}

/// A GCP Cloud KMS key (`gcp_kms`): `enc` is base64.
#[derive(Debug, Clone, PartialEq)]
pub struct GcpKmsStanza {
    pub resource_id: String,
    pub created_at: String,
    pub enc: String,
}

/// An Azure Key Vault key (`azure_kv`): `enc` is base64url without padding.
#[derive(Debug, Clone, PartialEq)]
pub struct AzureKvStanza {
    pub vault_url: String,
    pub name: String,
    pub version: String,
    pub created_at: String,
    pub enc: String,
}

/// A HashiCorp Vault (or OpenBao) transit key (`hc_vault`): `enc` is Vault's `vault:v1:…`.
#[derive(Debug, Clone, PartialEq)]
pub struct VaultStanza {
    /// Scheme, host and port, without a path: `https://vault.example.com:8200`.
    pub vault_address: String,
    /// Where the transit engine is mounted, without slashes around it: `transit`.
    pub engine_path: String,
    pub key_name: String,
    pub created_at: String,
    pub enc: String,
}

/// A metadata entry's fields: read from a mapping, written in sops's order.
pub(super) trait Stanza: Sized {
    /// What is wrong when an entry of this type is not a mapping.
    const NOT_A_MAPPING: MetadataProblem;
    fn read(m: &Mapping) -> Result<Self, MetadataProblem>;
    fn write(&self) -> Mapping;
}

fn text(m: &Mapping, key: &str) -> String {
    field(m, key).unwrap_or_default()
}

fn push_str(m: &mut Mapping, key: &str, value: &str) {
    m.push(key, Node::scalar(Value::str(value)));
}

impl Stanza for AgeStanza {
    const NOT_A_MAPPING: MetadataProblem = MetadataProblem::EntryNotAMapping("age");

    fn read(m: &Mapping) -> Result<Self, MetadataProblem> {
        Ok(AgeStanza {
            recipient: text(m, "recipient"),
            enc: text(m, "enc"),
        })
    }

    fn write(&self) -> Mapping {
        let mut m = Mapping::default();
        push_str(&mut m, "recipient", &self.recipient);
        push_str(&mut m, "enc", &self.enc);
        m
    }
}

impl Stanza for PgpStanza {
    const NOT_A_MAPPING: MetadataProblem = MetadataProblem::EntryNotAMapping("pgp");

    fn read(m: &Mapping) -> Result<Self, MetadataProblem> {
        Ok(PgpStanza {
            created_at: text(m, "created_at"),
            enc: text(m, "enc"),
            fp: text(m, "fp"),
        })
    }

    fn write(&self) -> Mapping {
        let mut m = Mapping::default();
        push_str(&mut m, "created_at", &self.created_at);
        push_str(&mut m, "enc", &self.enc);
        push_str(&mut m, "fp", &self.fp);
        m
    }
}

impl Stanza for KmsStanza {
    const NOT_A_MAPPING: MetadataProblem = MetadataProblem::EntryNotAMapping("kms");

    fn read(m: &Mapping) -> Result<Self, MetadataProblem> {
        let context = match m.get("context") {
            None => Vec::new(),
            Some(node) if is_null(node) => Vec::new(),
            Some(Node::Mapping(context)) => context
                .entries()
                .map(|e| match &e.value {
                    Node::Scalar(s) if s.value == Value::Null => Ok((e.key.clone(), None)),
                    Node::Scalar(s) => Ok((e.key.clone(), Some(scalar_text(&s.value)))),
                    _ => Err(MetadataProblem::KmsContextNotText),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(MetadataProblem::KmsContextNotText),
        };
        Ok(KmsStanza {
            arn: text(m, "arn"),
            role: text(m, "role"),
            context,
            created_at: text(m, "created_at"),
            enc: text(m, "enc"),
            aws_profile: text(m, "aws_profile"),
        })
    }

    fn write(&self) -> Mapping {
        let mut m = Mapping::default();
        push_str(&mut m, "arn", &self.arn);
        if !self.role.is_empty() {
            push_str(&mut m, "role", &self.role);
        }
        if !self.context.is_empty() {
            let mut context = Mapping::default();
            for (key, value) in &self.context {
                let value = value.as_deref().map_or(Value::Null, Value::str);
                context.push(key, Node::scalar(value));
            }
            m.push("context", Node::Mapping(context));
        }
        push_str(&mut m, "created_at", &self.created_at);
        push_str(&mut m, "enc", &self.enc);
        push_str(&mut m, "aws_profile", &self.aws_profile);
        m
    }
}

fn is_null(node: &Node) -> bool {
    matches!(node, Node::Scalar(s) if s.value == Value::Null)
}

impl Stanza for GcpKmsStanza {
    const NOT_A_MAPPING: MetadataProblem = MetadataProblem::EntryNotAMapping("gcp_kms");

    fn read(m: &Mapping) -> Result<Self, MetadataProblem> {
        Ok(GcpKmsStanza {
            resource_id: text(m, "resource_id"),
            created_at: text(m, "created_at"),
            enc: text(m, "enc"),
        })
    }

    fn write(&self) -> Mapping {
        let mut m = Mapping::default();
        push_str(&mut m, "resource_id", &self.resource_id);
        push_str(&mut m, "created_at", &self.created_at);
        push_str(&mut m, "enc", &self.enc);
        m
    }
}

impl Stanza for AzureKvStanza {
    const NOT_A_MAPPING: MetadataProblem = MetadataProblem::EntryNotAMapping("azure_kv");

    fn read(m: &Mapping) -> Result<Self, MetadataProblem> {
        Ok(AzureKvStanza {
            vault_url: text(m, "vault_url"),
            name: text(m, "name"),
            version: text(m, "version"),
            created_at: text(m, "created_at"),
            enc: text(m, "enc"),
        })
    }

    fn write(&self) -> Mapping {
        let mut m = Mapping::default();
        push_str(&mut m, "vault_url", &self.vault_url);
        push_str(&mut m, "name", &self.name);
        push_str(&mut m, "version", &self.version);
        push_str(&mut m, "created_at", &self.created_at);
        push_str(&mut m, "enc", &self.enc);
        m
    }
}

impl Stanza for VaultStanza {
    const NOT_A_MAPPING: MetadataProblem = MetadataProblem::EntryNotAMapping("hc_vault");

    fn read(m: &Mapping) -> Result<Self, MetadataProblem> {
        Ok(VaultStanza {
            vault_address: text(m, "vault_address"),
            engine_path: text(m, "engine_path"),
            key_name: text(m, "key_name"),
            created_at: text(m, "created_at"),
            enc: text(m, "enc"),
        })
    }

    fn write(&self) -> Mapping {
        let mut m = Mapping::default();
        push_str(&mut m, "vault_address", &self.vault_address);
        push_str(&mut m, "engine_path", &self.engine_path);
        push_str(&mut m, "key_name", &self.key_name);
        push_str(&mut m, "created_at", &self.created_at);
        push_str(&mut m, "enc", &self.enc);
        m
    }
}
