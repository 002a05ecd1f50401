//! AWS KMS keys, named as sops names them (`kms/keysource.go`): an ARN, optionally the IAM
//! role to assume (`arn:…:key/…+arn:aws:iam::…:role/…` on the command line), an encryption
//! context, and an AWS profile.
//!
//! ksec reads, keeps, compares and reports these keys, and takes them from the command line
//! and `.sops.yaml`, but cannot wrap or unwrap with them yet: [`MasterKey::USABLE`] is false,
//! so wrapping for one is refused before any service is asked, and the report says why a file
//! that only such a key opens does not open.

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::services::NotUsableYet;
use super::{Identities, KeyError, KeyKind, MasterKey, RecipientGroup, WrapContext};
use crate::metadata::{KeyGroup, KmsStanza};

/// Where a role ARN starts inside a `--kms` entry.
const ROLE_MARKER: &str = "+arn:aws:iam::";

/// An AWS KMS key and how it is used.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KmsKey {
    arn: String,
    role: String,
    /// Sorted by key, as sops writes it; a value may be null in a hand-written file.
    context: Vec<(String, Option<String>)>,
    aws_profile: String,
    /// sops's `ToString`: `arn[+role][|context[|profile]]`.
    name: String,
}

impl KmsKey {
    /// A key from its parts (a `.sops.yaml` key group entry).
    pub fn new(arn: &str, role: &str, mut context: Vec<(String, Option<String>)>, aws_profile: &str) -> KmsKey {
        context.sort_by(|a, b| a.0.cmp(&b.0));
        let name = name_of(arn, role, &context, aws_profile);
        KmsKey {
            arn: arn.to_string(),
            role: role.to_string(),
            context,
            aws_profile: aws_profile.to_string(),
            name,
        }
    }

    /// A key from a `--kms` entry, as sops's `NewMasterKeyFromArn`: spaces removed, and the
    /// role split off at `+arn:aws:iam::`.
    pub fn from_arn(text: &str, context: &[(String, String)], aws_profile: &str) -> KmsKey {
        let text: String = text.chars().filter(|c| *c != ' ').collect();
        let (arn, role) = match text.find(ROLE_MARKER) {
            Some(at) if at > 0 => (&text[..at], &text[at + 1..]),
            _ => (text.as_str(), ""),
        };
        let context = context.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
        KmsKey::new(arn, role, context, aws_profile)
    }

    /// The key a metadata entry names.
    pub fn from_stanza(stanza: &KmsStanza) -> KmsKey {
        KmsKey::new(&stanza.arn, &stanza.role, stanza.context.clone(), &stanza.aws_profile)
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }

    pub fn role(&self) -> &str {
        &self.role
    }

    pub fn context(&self) -> &[(String, Option<String>)] {
        &self.context
    }

    pub fn aws_profile(&self) -> &str {
        &self.aws_profile
    }
}

/// Parses a comma-separated `--kms` list (`SOPS_KMS_ARN`); every key gets the same context
/// and profile, as with sops.
pub fn parse_arns(list: &str, context: &[(String, String)], aws_profile: &str) -> Vec<KmsKey> {
    list.split(',')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| KmsKey::from_arn(entry, context, aws_profile))
        .collect()
}

/// Parses `--encryption-context key:value,key:value` as sops's `ParseKMSContext`: an entry
/// without exactly one `:` makes the whole context invalid (sops exits 6).
pub fn parse_context(text: &str) -> Result<Vec<(String, String)>, KeyError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|pair| match pair.split(':').collect::<Vec<_>>().as_slice() {
            [key, value] => Ok((key.to_string(), value.to_string())),
            _ => Err(KeyError::InvalidEncryptionContext {
                context: text.to_string(),
            }),
        })
        .collect()
}

/// sops's `ToString` of a KMS key.
fn name_of(arn: &str, role: &str, context: &[(String, Option<String>)], aws_profile: &str) -> String {
    let mut name = arn.to_string();
    if !role.is_empty() {
        let _ = write!(name, "+{role}");
    }
    let context: Vec<String> = context
        .iter()
        .map(|(k, v)| format!("{k}:{}", v.as_deref().unwrap_or_default()))
        .collect();
    let context = context.join(",");
    if !aws_profile.is_empty() {
        let _ = write!(name, "|{context}|{aws_profile}");
    } else if !context.is_empty() {
        let _ = write!(name, "|{context}");
    }
    name
}

impl MasterKey for KmsKey {
    const KIND: KeyKind = KeyKind::Kms;
    const USABLE: bool = false;
    type Stanza = KmsStanza;
    type UnwrapError = NotUsableYet;

    fn name(&self) -> &str {
        &self.name
    }

    fn wrap(&self, _secret: &[u8], _ctx: &WrapContext<'_>) -> Result<KmsStanza, KeyError> {
        Err(KeyError::KeyTypeNotUsable { kind: Self::KIND })
    }

    fn holds(&self, stanza: &KmsStanza) -> bool {
        *self == KmsKey::from_stanza(stanza)
    }

    fn stanza_name(stanza: &KmsStanza) -> String {
        KmsKey::from_stanza(stanza).name
    }

    fn unwrap(_stanza: &KmsStanza, _identities: &Identities) -> Result<Zeroizing<Vec<u8>>, NotUsableYet> {
        Err(NotUsableYet(Self::KIND))
    }

    fn of_recipients(group: &RecipientGroup) -> &[Self] {
        &group.kms
    }

    fn of_key_group(group: &KeyGroup) -> &[KmsStanza] {
        &group.kms
    }

    fn of_key_group_mut(group: &mut KeyGroup) -> &mut Vec<KmsStanza> {
        &mut group.kms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arn_entry_splits_off_its_role_and_names_itself_as_sops_does() {
        let context = parse_context("b:2,a:1").unwrap();
        let key = KmsKey::from_arn(" arn:aws:kms:us-east-1:1:key/k+arn:aws:iam::1:role/r ", &context, "dev");
        assert_eq!(key.arn(), "arn:aws:kms:us-east-1:1:key/k");
        assert_eq!(key.role(), "arn:aws:iam::1:role/r");
        assert_eq!(
            key.name(),
            "arn:aws:kms:us-east-1:1:key/k+arn:aws:iam::1:role/r|a:1,b:2|dev",
            "the context sorted by key"
        );
        assert_eq!(
            KmsKey::from_arn("arn:aws:kms:us-east-1:1:alias/a", &[], "").name(),
            "arn:aws:kms:us-east-1:1:alias/a"
        );
        assert_eq!(KmsKey::from_arn("arn:x", &context, "").name(), "arn:x|a:1,b:2");
        assert_eq!(parse_arns("arn:a,,arn:b", &[], "").len(), 2);
    }

    #[test]
    fn an_encryption_context_needs_key_colon_value_pairs() {
        assert_eq!(parse_context("").unwrap(), []);
        assert!(parse_context("a:1,b").is_err());
        assert!(parse_context("a:1:2").is_err());
        let err = crate::Error::from(parse_context("broken").unwrap_err());
        assert_eq!(err.exit_code(), 6, "sops's ErrorInvalidKMSEncryptionContextFormat");
    }

    #[test]
    fn a_stanza_is_held_by_the_key_it_names() {
        let stanza = KmsStanza {
            arn: "arn:k".into(),
            role: String::new(),
            context: vec![("a".into(), Some("1".into()))],
            created_at: "t".into(),
            enc: "e".into(),
            aws_profile: String::new(),
        };
        let key = KmsKey::from_arn("arn:k", &parse_context("a:1").unwrap(), "");
        assert!(key.holds(&stanza));
        assert_eq!(KmsKey::stanza_name(&stanza), "arn:k|a:1");
        assert!(!KmsKey::from_arn("arn:k", &[], "").holds(&stanza));
    }
}
