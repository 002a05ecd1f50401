//! AWS KMS keys, as sops uses them (`kms/keysource.go`): an ARN, optionally the IAM role to
//! assume (`arn:…:key/…+arn:aws:iam::…:role/…` on the command line), an encryption context,
//! and an AWS profile.
//!
//! The data key (or a Shamir share) is wrapped by KMS `Encrypt` with the key's ARN and its
//! encryption context, and the metadata keeps the `CiphertextBlob` in base64. Unwrapping sends
//! it back to KMS `Decrypt` with the same ARN and context. As with sops, the region is the one
//! the ARN names, whatever `AWS_REGION` says; the credentials come from the standard AWS chain
//! or the key's profile, and a key with a role is used as that role ([`service`]).

mod failure;
mod http;
mod service;

use std::fmt::Write as _;

use std::sync::LazyLock;

use regex::Regex;
use zeroize::Zeroizing;

pub use service::KmsService;

use super::services::ServiceError;
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

    /// The region the ARN names, as sops finds it (`arn:aws…:kms:REGION:ACCOUNT:key/…` or
    /// `…:alias/…`); `None` when the ARN is not of that shape, which sops refuses too.
    pub fn region(&self) -> Option<&str> {
        // sops's pattern, with Go's ASCII `\w`; the region is greedy, as in Go.
        static ARN: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^arn:aws[0-9A-Za-z_-]*:kms:(.+):[0-9]+:(key|alias)/.+$").expect("a valid regex")
        });
        ARN.captures(&self.arn)?.get(1).map(|region| region.as_str())
    }

    /// The encryption context KMS gets: the entries with a value (sops leaves out a null one).
    fn context_map(&self) -> std::collections::HashMap<String, String> {
        self.context
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect()
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
    type Stanza = KmsStanza;
    type UnwrapError = ServiceError;

    fn name(&self) -> &str {
        &self.name
    }

    fn wrap(&self, secret: &[u8], ctx: &WrapContext<'_>) -> Result<KmsStanza, KeyError> {
        let enc = ctx
            .services
            .kms()
            .encrypt(self, secret)
            .map_err(|error| KeyError::Service {
                key: format!("{} {}", KeyKind::Kms, self.name),
                error: Box::new(error),
            })?;
        Ok(KmsStanza {
            arn: self.arn.clone(),
            role: self.role.clone(),
            context: self.context.clone(),
            created_at: ctx.created_at.clone(),
            enc,
            aws_profile: self.aws_profile.clone(),
        })
    }

    fn holds(&self, stanza: &KmsStanza) -> bool {
        *self == KmsKey::from_stanza(stanza)
    }

    fn stanza_name(stanza: &KmsStanza) -> String {
        KmsKey::from_stanza(stanza).name
    }

    fn unwrap(stanza: &KmsStanza, identities: &Identities) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        identities
            .services
            .kms()
            .decrypt(&KmsKey::from_stanza(stanza), &stanza.enc)
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
    fn the_region_is_the_one_the_arn_names_as_sops_reads_it() {
        let region = |arn: &str| KmsKey::from_arn(arn, &[], "").region().map(str::to_string);
        assert_eq!(
            region("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            region("arn:aws-us-gov:kms:us-gov-west-1:1:alias/app").as_deref(),
            Some("us-gov-west-1")
        );
        assert_eq!(
            region("arn:aws-cn:kms:cn-north-1:1:key/k").as_deref(),
            Some("cn-north-1")
        );
        for not_an_arn in [
            "arn:x",
            "1234abcd-12ab",
            "alias/app",
            "arn:aws:kms:us-east-1:acct:key/k",
            "arn:aws:kms:us-east-1:1:grant/k",
            "arn:aws:kms:us-east-1:1:key/",
            "arn:aws:s3:us-east-1:1:key/k",
        ] {
            assert_eq!(region(not_an_arn), None, "{not_an_arn}");
        }
    }

    #[test]
    fn a_null_context_value_is_left_out_of_what_kms_gets() {
        let key = KmsKey::new(
            "arn:k",
            "",
            vec![("a".into(), Some("1".into())), ("b".into(), None)],
            "",
        );
        let map = key.context_map();
        assert_eq!(map.len(), 1);
        assert_eq!(map.get("a").map(String::as_str), Some("1"));
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
