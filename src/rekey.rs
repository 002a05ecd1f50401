//! Changing who can decrypt a file: `rotate` (new data key, values re-encrypted),
//! `updatekeys` (the recipients of the file's creation rule, same data key, values and MAC
//! untouched), and `groups add|delete` (key groups and Shamir shares).
//!
//! Every change is computed on the parsed file and written back by the layout-keeping
//! emitter, so only the `sops` block (and, for `rotate`, the ciphertexts) change. Each opens
//! the file through [`crate::sops_file`], so none blesses a tampered file with new keys: the
//! MAC is checked first (unless `--ignore-mac`), even where the values are not needed.

use crate::formats::OutputOptions;
use crate::keys::age::AgeRecipient;
use crate::keys::azure_kv::AzureKvKey;
use crate::keys::gcp_kms::GcpKmsKey;
use crate::keys::kms::KmsKey;
use crate::keys::pgp::PgpRecipient;
use crate::keys::vault::VaultKey;
use crate::keys::{self, DataKey, Env, Identities, KeyError, KeyKind, RecipientGroup};
use crate::metadata::{KeyGroup, Metadata};
use crate::sops_file::{EncryptedFile, FileError, MacPolicy, SealOptions, Sealed};

/// Why a file's keys could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum RekeyError {
    /// Key types (`hckms`) ksec keeps in the metadata but does not support at all.
    #[error("{file} has {key_type} keys, which ksec cannot use; change its keys with sops")]
    ForeignKeys { file: String, key_type: String },

    #[error(
        "{file}: invalid sops metadata: pgp fp {fp:?} is not an OpenPGP fingerprint (40 hex digits); a file's \
         keys are named by fingerprint, never by a key file"
    )]
    NotAFingerprint { file: String, fp: String },

    /// The change would leave the file with no one to decrypt it.
    #[error("no recipients to encrypt {file} for")]
    NoRecipientsLeft { file: String, change: KeyChange },

    /// `rotate --rm-*` would empty these key groups (numbered from 0, as `groups delete` counts).
    #[error(
        "{file}: the removal would leave {} with no key; rotate never drops a group, since that \
         would change the Shamir split behind the user's back",
        key_groups_named(.groups)
    )]
    EmptyKeyGroup { file: String, groups: Vec<usize> },

    #[error("{file}: a Shamir threshold of {threshold} cannot be met by {groups} key groups")]
    ThresholdUnreachable {
        file: String,
        threshold: usize,
        groups: usize,
    },

    #[error("{file} has {groups} key groups; there is no group {index}")]
    NoSuchGroup { file: String, index: usize, groups: usize },

    #[error(transparent)]
    Key(#[from] KeyError),

    #[error(transparent)]
    File(#[from] FileError),
}

/// Which key change ran out of recipients: each has its own way to keep one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChange {
    Rotate,
    UpdateKeys,
    Groups,
}

/// `key group 1`, `key groups 1 and 2`, `key groups 0, 1 and 2`.
fn key_groups_named(groups: &[usize]) -> String {
    let numbers: Vec<String> = groups.iter().map(ToString::to_string).collect();
    match numbers.split_last() {
        Some((last, [])) => format!("key group {last}"),
        Some((last, rest)) => format!("key groups {} and {last}", rest.join(", ")),
        None => "no key group".into(),
    }
}

/// What a key change needs besides the file: identities to open it, whether its MAC is
/// checked, where key providers read the environment, and the layout of anything written new.
pub struct Access<'a> {
    pub identities: &'a Identities,
    pub mac: MacPolicy,
    pub env: &'a dyn Env,
    pub output: OutputOptions,
}

/// The recipients a file's key groups name, so they can be wrapped again.
pub fn recipients_of(meta: &Metadata, file: &str) -> Result<Vec<RecipientGroup>, RekeyError> {
    meta.key_groups
        .iter()
        .map(|group| {
            if let Some((key_type, _)) = group.other.first() {
                return Err(RekeyError::ForeignKeys {
                    file: file.to_string(),
                    key_type: key_type.clone(),
                });
            }
            Ok(RecipientGroup {
                age: group
                    .age
                    .iter()
                    .map(|s| AgeRecipient::parse(&s.recipient))
                    .collect::<Result<_, _>>()?,
                pgp: group
                    .pgp
                    .iter()
                    .map(|s| {
                        PgpRecipient::from_fingerprint(&s.fp).ok_or_else(|| RekeyError::NotAFingerprint {
                            file: file.to_string(),
                            fp: s.fp.clone(),
                        })
                    })
                    .collect::<Result<_, _>>()?,
                kms: group.kms.iter().map(KmsKey::from_stanza).collect(),
                gcp_kms: group.gcp_kms.iter().map(GcpKmsKey::from_stanza).collect(),
                azure_kv: group.azure_kv.iter().map(AzureKvKey::from_stanza).collect(),
                hc_vault: group.hc_vault.iter().map(VaultKey::from_stanza).collect(),
            })
        })
        .collect()
}

/// What a key change does, one line per key (`+ age age1…`, `- hc_vault https://…`) and group.
pub fn describe(old: &[RecipientGroup], new: &[RecipientGroup]) -> Vec<String> {
    let mut lines = Vec::new();
    for i in 0..old.len().max(new.len()) {
        let empty = RecipientGroup::default();
        let (before, after) = (
            old.get(i).unwrap_or(&empty).names(),
            new.get(i).unwrap_or(&empty).names(),
        );
        let mut group_lines = Vec::new();
        // Type by type, additions before removals.
        for kind in [
            KeyKind::Age,
            KeyKind::Pgp,
            KeyKind::Kms,
            KeyKind::GcpKms,
            KeyKind::AzureKv,
            KeyKind::HcVault,
        ] {
            let of_kind = |names: &[(KeyKind, String)]| -> Vec<String> {
                names
                    .iter()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, n)| n.clone())
                    .collect()
            };
            diff_keys(&of_kind(&before), &of_kind(&after), kind, &mut group_lines);
        }
        if !group_lines.is_empty() {
            // Numbered from 0, as the no-key report and `groups delete` count groups.
            let label = match (old.get(i), new.get(i)) {
                (None, _) => format!("group {i} (new)"),
                (_, None) => format!("group {i} (removed)"),
                _ => format!("group {i}"),
            };
            lines.push(label);
            lines.extend(group_lines);
        }
    }
    lines
}

/// The keys added and removed; names are compared as [`keys::groups::names_match`] does, so an
/// Azure key a rule names without a version is the entry that recorded its version.
fn diff_keys(before: &[String], after: &[String], kind: KeyKind, lines: &mut Vec<String>) {
    let has = |list: &[String], key: &str| list.iter().any(|n| keys::groups::names_match(kind, n, key));
    for k in after.iter().filter(|k| !has(before, k)) {
        lines.push(format!("  + {kind} {k}"));
    }
    for k in before.iter().filter(|k| !has(after, k)) {
        lines.push(format!("  - {kind} {k}"));
    }
}

/// Wraps the data key for `groups`. With a single group whose other keys stay, existing
/// entries are kept as they are (their ciphertext still holds the same key): no key service
/// is asked for them, and the diff shows only the keys that changed.
fn rewrap(
    old: &Metadata,
    groups: &[RecipientGroup],
    threshold: Option<usize>,
    key: &DataKey,
    env: &dyn Env,
) -> Result<(Vec<KeyGroup>, usize), KeyError> {
    let keep = match old.key_groups.as_slice() {
        [only] => Some(only),
        _ => None,
    };
    keys::groups::wrap_keeping(groups, threshold, key, env, keep)
}

/// What `rotate` adds and removes.
#[derive(Debug, Default)]
pub struct Rotation {
    /// Added to the first key group.
    pub add: RecipientGroup,
    /// Removed from every group, by type and name as sops names keys (the age recipient, the
    /// PGP fingerprint, the Vault key's URI, …).
    pub remove: Vec<(KeyKind, String)>,
}

/// A new data key: every value decrypted and encrypted again, the key wrapped for the file's
/// recipients (with `rotation` applied), a new MAC.
pub fn rotate(file: EncryptedFile, access: &Access<'_>, rotation: &Rotation) -> Result<Sealed, RekeyError> {
    let name = file.name().to_string();
    let meta = file.metadata().clone();
    let mut groups = recipients_of(&meta, &name)?;
    let present: Vec<(KeyKind, String)> = groups.iter().flat_map(RecipientGroup::names).collect();
    let mut unmatched: Vec<&(KeyKind, String)> = rotation
        .remove
        .iter()
        .filter(|(kind, removed)| {
            !present
                .iter()
                .any(|(k, name)| k == kind && keys::groups::names_match(*kind, name, removed))
        })
        .collect();
    unmatched.dedup();
    for group in &mut groups {
        group.remove_named(&rotation.remove);
    }
    // A key the file already has is not wrapped for twice (sops writes a second entry).
    let mut added = rotation.add.clone();
    added.remove_named(&present);
    if let Some(first) = groups.first_mut() {
        first.add_missing(&added);
    }
    if groups.iter().all(RecipientGroup::is_empty) {
        return Err(RekeyError::NoRecipientsLeft {
            file: name,
            change: KeyChange::Rotate,
        });
    }
    // An emptied group would be dropped from the split, and a 2-of-3 file could end up one that
    // a single key opens; sops refuses this too ("empty key group provided").
    let emptied: Vec<usize> = (0..groups.len()).filter(|&i| groups[i].is_empty()).collect();
    if groups.len() > 1 && !emptied.is_empty() {
        return Err(RekeyError::EmptyKeyGroup {
            file: name,
            groups: emptied,
        });
    }
    let opened = file.open(access.identities, access.mac)?;
    let new_key = DataKey::generate();
    // A threshold only means something with several groups (one group holds the whole key).
    let threshold = (meta.shamir_threshold > 0 && groups.iter().filter(|g| !g.is_empty()).count() > 1)
        .then_some(meta.shamir_threshold);
    let (key_groups, threshold) = keys::groups::wrap(&groups, threshold, &new_key, access.env)?;
    let mut sealed = opened.rotate(new_key, key_groups, threshold, &SealOptions::new(access.output))?;
    sealed.warnings.extend(
        unmatched
            .into_iter()
            .map(|(kind, key)| format!("{name}: {kind} {key} is not a recipient of the file; nothing removed for it")),
    );
    Ok(sealed)
}

/// The result of `updatekeys` on one file.
pub struct KeyUpdate {
    /// What changes, for the user to confirm; empty when the file is up to date.
    pub changes: Vec<String>,
    /// The rewritten file, when something changes.
    pub output: Option<Sealed>,
}

/// Makes a file's recipients those of `groups` (its creation rule), keeping the data key,
/// the values, `lastmodified` and the MAC.
pub fn update_keys(
    file: EncryptedFile,
    access: &Access<'_>,
    groups: &[RecipientGroup],
    threshold: Option<usize>,
) -> Result<KeyUpdate, RekeyError> {
    let meta = file.metadata().clone();
    let current = recipients_of(&meta, file.name())?;
    let groups: Vec<RecipientGroup> = groups.iter().filter(|g| !g.is_empty()).cloned().collect();
    let mut changes = describe(&current, &groups);
    // The threshold sops records: the configured one, at most the number of groups.
    let wanted_threshold = match groups.len() {
        0 | 1 => threshold.unwrap_or(meta.shamir_threshold),
        n => threshold
            .or((meta.shamir_threshold > 0).then_some(meta.shamir_threshold))
            .unwrap_or(n)
            .min(n),
    };
    if groups.len() > 1 && wanted_threshold != meta.shamir_threshold {
        changes.push(format!(
            "shamir_threshold {} -> {wanted_threshold}",
            meta.shamir_threshold
        ));
    }
    if changes.is_empty() {
        return Ok(KeyUpdate { changes, output: None });
    }
    if groups.is_empty() {
        return Err(RekeyError::NoRecipientsLeft {
            file: file.name().to_string(),
            change: KeyChange::UpdateKeys,
        });
    }
    let unlocked = file.unlock(access.identities, access.mac)?;
    let threshold = (groups.len() > 1).then_some(wanted_threshold);
    let (key_groups, threshold) = rewrap(&meta, &groups, threshold, unlocked.data_key(), access.env)?;
    Ok(KeyUpdate {
        changes,
        output: Some(unlocked.rewrap(key_groups, threshold, access.output)?),
    })
}

/// A change of key groups.
#[derive(Debug)]
pub enum GroupChange {
    Add(RecipientGroup),
    /// Removes the group at this index (0-based).
    Delete(usize),
}

/// Adds or deletes a key group: the data key is split again for the new set of groups
/// (values, `lastmodified` and the MAC stay).
pub fn change_groups(
    file: EncryptedFile,
    access: &Access<'_>,
    change: GroupChange,
    threshold: Option<usize>,
) -> Result<Sealed, RekeyError> {
    let meta = file.metadata().clone();
    let mut groups = recipients_of(&meta, file.name())?;
    match change {
        GroupChange::Add(group) => groups.push(group),
        GroupChange::Delete(index) if index < groups.len() => {
            groups.remove(index);
        }
        GroupChange::Delete(index) => {
            return Err(RekeyError::NoSuchGroup {
                file: file.name().to_string(),
                index,
                groups: groups.len(),
            });
        }
    }
    if groups.is_empty() {
        return Err(RekeyError::NoRecipientsLeft {
            file: file.name().to_string(),
            change: KeyChange::Groups,
        });
    }
    // Never lowered behind the user's back: fewer groups than the threshold is refused unless
    // a lower threshold is given, as sops refuses it, so a 2-of-2 file does not quietly become
    // one that a single group opens.
    let groups_left = groups.len();
    let wanted = threshold.unwrap_or(if meta.shamir_threshold > 0 {
        meta.shamir_threshold
    } else {
        groups_left
    });
    if wanted > groups_left {
        return Err(RekeyError::ThresholdUnreachable {
            file: file.name().to_string(),
            threshold: wanted,
            groups: groups_left,
        });
    }
    let threshold = (groups_left > 1).then_some(wanted);
    let unlocked = file.unlock(access.identities, access.mac)?;
    let (key_groups, threshold) = keys::groups::wrap(&groups, threshold, unlocked.data_key(), access.env)?;
    Ok(unlocked.rewrap(key_groups, threshold, access.output)?)
}
