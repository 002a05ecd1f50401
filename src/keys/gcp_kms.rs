//! GCP Cloud KMS keys, named as sops names them (`gcpkms/keysource.go`): the key's resource ID,
//! `projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`.
//!
//! ksec reads, keeps, compares and reports these keys, and takes them from the command line
//! and `.sops.yaml`, but cannot wrap or unwrap with them yet ([`MasterKey::USABLE`] is false).

use zeroize::Zeroizing;

use super::services::NotUsableYet;
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
    const USABLE: bool = false;
    type Stanza = GcpKmsStanza;
    type UnwrapError = NotUsableYet;

    fn name(&self) -> &str {
        &self.resource_id
    }

    fn wrap(&self, _secret: &[u8], _ctx: &WrapContext<'_>) -> Result<GcpKmsStanza, KeyError> {
        Err(KeyError::KeyTypeNotUsable { kind: Self::KIND })
    }

    fn holds(&self, stanza: &GcpKmsStanza) -> bool {
        stanza.resource_id == self.resource_id
    }

    fn stanza_name(stanza: &GcpKmsStanza) -> String {
        stanza.resource_id.clone()
    }

    fn unwrap(_stanza: &GcpKmsStanza, _identities: &Identities) -> Result<Zeroizing<Vec<u8>>, NotUsableYet> {
        Err(NotUsableYet(Self::KIND))
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
