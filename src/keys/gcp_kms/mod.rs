//! GCP Cloud KMS keys, as sops uses them (`gcpkms/keysource.go`): a key is named by its
//! resource ID, `projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`, and the metadata
//! keeps the ciphertext Cloud KMS returns for the data key, in standard base64, with that ID.
//! Cloud KMS picks the key's primary version to encrypt and finds the version a ciphertext was
//! made with when decrypting, so the ID names no version.
//!
//! ksec asks Cloud KMS over its REST API ([`service`]) with an OAuth access token found as
//! sops and Google's libraries find one ([`credentials`]).

mod credentials;
mod service;

use zeroize::Zeroizing;

pub use service::GcpKmsService;

use super::services::ServiceError;
use super::{Identities, KeyError, KeyKind, MasterKey, RecipientGroup, WrapContext};
use crate::metadata::{GcpKmsStanza, KeyGroup};

/// A Cloud KMS key, by resource ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GcpKmsKey {
    resource_id: String,
}

impl GcpKmsKey {
    /// A key from its resource ID, spaces removed, as sops's `NewMasterKeyFromResourceID`.
    pub fn from_resource_id(text: &str) -> GcpKmsKey {
        GcpKmsKey {
            resource_id: text.chars().filter(|c| *c != ' ').collect(),
        }
    }

    /// The key a metadata entry names.
    pub fn from_stanza(stanza: &GcpKmsStanza) -> GcpKmsKey {
        GcpKmsKey {
            resource_id: stanza.resource_id.clone(),
        }
    }

    pub fn resource_id(&self) -> &str {
        &self.resource_id
    }
}

/// Parses a comma-separated `--gcp-kms` list (`SOPS_GCP_KMS_IDS`).
pub fn parse_resource_ids(list: &str) -> Vec<GcpKmsKey> {
    list.split(',')
        .filter(|entry| !entry.trim().is_empty())
        .map(GcpKmsKey::from_resource_id)
        .collect()
}

impl MasterKey for GcpKmsKey {
    const KIND: KeyKind = KeyKind::GcpKms;
    type Stanza = GcpKmsStanza;
    type UnwrapError = ServiceError;

    fn name(&self) -> &str {
        &self.resource_id
    }

    fn wrap(&self, secret: &[u8], ctx: &WrapContext<'_>) -> Result<GcpKmsStanza, KeyError> {
        let enc = ctx
            .services
            .gcp_kms()
            .encrypt(self, secret)
            .map_err(|error| KeyError::Service {
                key: format!("{} {}", KeyKind::GcpKms, self.resource_id),
                error: Box::new(error),
            })?;
        Ok(GcpKmsStanza {
            resource_id: self.resource_id.clone(),
            created_at: ctx.created_at.clone(),
            enc,
        })
    }

    fn holds(&self, stanza: &GcpKmsStanza) -> bool {
        stanza.resource_id == self.resource_id
    }

    fn stanza_name(stanza: &GcpKmsStanza) -> String {
        stanza.resource_id.clone()
    }

    fn unwrap(stanza: &GcpKmsStanza, identities: &Identities) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        identities
            .services
            .gcp_kms()
            .decrypt(&GcpKmsKey::from_stanza(stanza), &stanza.enc)
    }

    fn of_recipients(group: &RecipientGroup) -> &[Self] {
        &group.gcp_kms
    }

    fn of_key_group(group: &KeyGroup) -> &[GcpKmsStanza] {
        &group.gcp_kms
    }

    fn of_key_group_mut(group: &mut KeyGroup) -> &mut Vec<GcpKmsStanza> {
        &mut group.gcp_kms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_lose_their_spaces_as_with_sops() {
        let keys = parse_resource_ids("projects/p/locations/l/keyRings/r/cryptoKeys/ k ,projects/q");
        let ids: Vec<&str> = keys.iter().map(GcpKmsKey::resource_id).collect();
        assert_eq!(ids, ["projects/p/locations/l/keyRings/r/cryptoKeys/k", "projects/q"]);
    }
}
