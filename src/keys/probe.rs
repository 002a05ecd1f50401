//! Which of a file's recipients this machine can open, each one tried, for `ksec doctor`.
//!
//! Unlike [`groups::unwrap`](super::groups::unwrap), which stops as soon as enough groups are
//! open, a probe tries every entry of every group so the report can say of each key whether it
//! opens and why not. Whatever an entry unwraps to (the data key or a Shamir share) is dropped
//! (and wiped) at once: a probe answers yes or no, it never hands out key material.

use super::age::AgeRecipient;
use super::azure_kv::AzureKvKey;
use super::gcp_kms::GcpKmsKey;
use super::groups::Identities;
use super::kms::KmsKey;
use super::pgp::PgpRecipient;
use super::vault::VaultKey;
use super::{KeyKind, MasterKey};
use crate::metadata::{KeyGroup, Metadata};

/// How one entry of a key group fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryProbe {
    pub kind: String,
    /// The recipient, fingerprint or key URI, as the file names it.
    pub name: String,
    /// `Ok` when an identity or service at hand opened it, else why not.
    pub outcome: Result<(), String>,
}

/// How the entries of one key group fared, in the order they were tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupProbe {
    pub entries: Vec<EntryProbe>,
}

impl GroupProbe {
    /// Whether one of the group's entries opened.
    pub fn opens(&self) -> bool {
        self.entries.iter().any(|e| e.outcome.is_ok())
    }
}

/// What trying every key of a file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProbe {
    pub groups: Vec<GroupProbe>,
    /// How many groups must open for the data key: 1, or the Shamir threshold.
    pub needed: usize,
}

impl FileProbe {
    /// How many groups opened.
    pub fn opened(&self) -> usize {
        self.groups.iter().filter(|g| g.opens()).count()
    }

    /// Whether enough groups open for the data key to be recovered.
    pub fn can_open(&self) -> bool {
        !self.groups.is_empty() && self.opened() >= self.needed
    }
}

/// Tries every entry of every key group of `meta` with `identities`, key types in the
/// decryption order, and reports how each fared.
pub fn probe(meta: &Metadata, identities: &Identities) -> FileProbe {
    let groups = meta
        .key_groups
        .iter()
        .map(|group| {
            let mut entries = Vec::new();
            for &kind in identities.order.kinds() {
                probe_kind(kind, group, identities, &mut entries);
            }
            entries.extend(group.other.iter().map(|(key_type, _)| EntryProbe {
                kind: key_type.clone(),
                name: String::new(),
                outcome: Err("this key type is not supported by ksec".into()),
            }));
            GroupProbe { entries }
        })
        .collect();
    // As `groups::unwrap` needs: one group opens a file of one; several need the threshold,
    // which sops takes as 2 when the file records none.
    let needed = match meta.key_groups.len() {
        0 | 1 => 1,
        _ if meta.shamir_threshold == 0 => 2,
        _ => meta.shamir_threshold,
    };
    FileProbe { groups, needed }
}

fn probe_kind(kind: KeyKind, group: &KeyGroup, identities: &Identities, out: &mut Vec<EntryProbe>) {
    match kind {
        KeyKind::Age => probe_each::<AgeRecipient>(group, identities, out),
        KeyKind::Pgp => probe_each::<PgpRecipient>(group, identities, out),
        KeyKind::Kms => probe_each::<KmsKey>(group, identities, out),
        KeyKind::GcpKms => probe_each::<GcpKmsKey>(group, identities, out),
        KeyKind::AzureKv => probe_each::<AzureKvKey>(group, identities, out),
        KeyKind::HcVault => probe_each::<VaultKey>(group, identities, out),
    }
}

fn probe_each<K: MasterKey>(group: &KeyGroup, identities: &Identities, out: &mut Vec<EntryProbe>) {
    for stanza in K::of_key_group(group) {
        // The unwrapped secret is a zeroizing buffer, wiped as it is dropped here.
        let outcome = K::unwrap(stanza, identities).map(drop).map_err(|e| e.to_string());
        out.push(EntryProbe {
            kind: K::KIND.name().to_string(),
            name: K::stanza_name(stanza),
            outcome,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::groups::{RecipientGroup, wrap};
    use crate::keys::{DataKey, MapEnv};
    use ::age::secrecy::ExposeSecret;

    fn meta_for(groups: &[RecipientGroup]) -> Metadata {
        let (key_groups, threshold) = wrap(groups, None, &DataKey::generate(), &MapEnv::new()).expect("wrap");
        Metadata {
            key_groups,
            shamir_threshold: threshold,
            last_modified: String::new(),
            mac: String::new(),
            rule: None,
            mac_only_encrypted: false,
            version: "3.11.0".into(),
        }
    }

    fn age_group(identity: &::age::x25519::Identity) -> RecipientGroup {
        RecipientGroup {
            age: vec![AgeRecipient::parse(&identity.to_public().to_string()).expect("fresh key")],
            ..RecipientGroup::default()
        }
    }

    #[test]
    fn every_key_of_every_group_is_tried_and_the_threshold_decides() {
        let mine = ::age::x25519::Identity::generate();
        let theirs = ::age::x25519::Identity::generate();
        let meta = meta_for(&[age_group(&mine), age_group(&theirs)]);
        let mut identities = Identities::default();
        identities
            .age
            .add_text("test", mine.to_string().expose_secret())
            .expect("age identity");

        let probe = probe(&meta, &identities);
        assert_eq!(probe.needed, 2);
        assert_eq!(probe.opened(), 1);
        assert!(!probe.can_open(), "one of two groups is not enough");
        assert_eq!(probe.groups[0].entries[0].name, mine.to_public().to_string());
        assert_eq!(probe.groups[0].entries[0].outcome, Ok(()));
        assert!(probe.groups[1].entries[0].outcome.is_err());

        identities
            .age
            .add_text("test", theirs.to_string().expose_secret())
            .expect("age identity");
        assert!(super::probe(&meta, &identities).can_open());
    }
}
