//! Key groups: wrapping the data key for every recipient of every group (Shamir shares when
//! there are several groups), and recovering it with whatever identities are at hand.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::age::{self, AgeIdentities, AgeRecipient};
use super::pgp::{self, PgpIdentities, PgpRecipient};
use super::{Callbacks, DataKey, Env, KeyKind, MasterKey, shamir};
use super::{KeyError, WantedIdentity};
use crate::metadata::{AgeStanza, KeyGroup, Metadata, PgpStanza};

/// The recipients of one key group, as a creation rule or the command line names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientGroup {
    pub age: Vec<AgeRecipient>,
    pub pgp: Vec<PgpRecipient>,
}

impl RecipientGroup {
    pub fn is_empty(&self) -> bool {
        self.age.is_empty() && self.pgp.is_empty()
    }
}

/// In which order the keys of a group are tried (`--decryption-order`, default `age,pgp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptionOrder(Vec<KeyKind>);

impl Default for DecryptionOrder {
    fn default() -> Self {
        DecryptionOrder(vec![KeyKind::Age, KeyKind::Pgp])
    }
}

impl DecryptionOrder {
    /// Parses `age,pgp`-style text; a type named twice is an error (sops exit 112). Key types
    /// ksec does not handle (kms, …) are accepted and ignored.
    pub fn parse(text: &str) -> Result<DecryptionOrder, KeyError> {
        let mut kinds = Vec::new();
        let mut seen = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if seen.contains(&name) {
                return Err(KeyError::DuplicateDecryptionKeyType {
                    key_type: name.to_string(),
                });
            }
            seen.push(name);
            match name {
                "age" => kinds.push(KeyKind::Age),
                "pgp" => kinds.push(KeyKind::Pgp),
                _ => {}
            }
        }
        for kind in [KeyKind::Age, KeyKind::Pgp] {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Ok(DecryptionOrder(kinds))
    }
}

/// Everything ksec can decrypt with.
#[derive(Debug, Default)]
pub struct Identities {
    pub age: AgeIdentities,
    pub pgp: PgpIdentities,
    pub order: DecryptionOrder,
}

impl Identities {
    /// Loads every identity sops would (age, SSH, OpenPGP) and the decryption order. Keys that
    /// need the user (a passphrase-protected SSH key) ask through `callbacks` when a file is
    /// encrypted to them; [`NoPrompt`](super::NoPrompt) never asks.
    pub fn discover(
        env: &dyn Env,
        order: Option<&str>,
        callbacks: impl Callbacks + 'static,
    ) -> Result<Identities, KeyError> {
        let order = match order.map(str::to_string).or_else(|| env.var("SOPS_DECRYPTION_ORDER")) {
            Some(text) => DecryptionOrder::parse(&text)?,
            None => DecryptionOrder::default(),
        };
        Ok(Identities {
            age: age::discover(env, &(Arc::new(callbacks) as Arc<dyn Callbacks>)),
            pgp: pgp::discover(env),
            order,
        })
    }

    /// One line per place identities were looked for.
    pub fn report(&self) -> String {
        [self.age.report(), self.pgp.report()]
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Whether key groups (as written in a file) are for exactly these recipients, group by group.
pub fn same_recipients(groups: &[RecipientGroup], key_groups: &[KeyGroup]) -> bool {
    let groups: Vec<&RecipientGroup> = groups.iter().filter(|g| !g.is_empty()).collect();
    groups.len() == key_groups.len()
        && groups.iter().zip(key_groups).all(|(g, k)| {
            let mut want_age: Vec<&str> = g.age.iter().map(|r| r.as_str()).collect();
            let mut have_age: Vec<&str> = k.age.iter().map(|s| s.recipient.as_str()).collect();
            let mut want_pgp: Vec<String> = g.pgp.iter().map(|r| r.fingerprint().to_string()).collect();
            let mut have_pgp: Vec<String> = k.pgp.iter().map(|s| s.fp.to_uppercase()).collect();
            want_age.sort_unstable();
            have_age.sort_unstable();
            want_pgp.sort_unstable();
            have_pgp.sort_unstable();
            k.other.is_empty() && want_age == have_age && want_pgp == have_pgp
        })
}

/// Wraps `secret` (the data key, or a Shamir share) for every recipient of a group.
fn wrap_group(group: &RecipientGroup, secret: &[u8], env: &dyn Env) -> Result<KeyGroup, KeyError> {
    let created_at = crate::timestamp::now_last_modified();
    Ok(KeyGroup {
        age: wrap_each(&group.age, secret, env, |recipient, enc| AgeStanza { recipient, enc })?,
        pgp: wrap_each(&group.pgp, secret, env, |fp, enc| PgpStanza {
            created_at: created_at.clone(),
            enc,
            fp,
        })?,
        other: Vec::new(),
    })
}

/// Wraps `secret` for each key; `stanza` makes the metadata entry from a key's name and `enc`.
fn wrap_each<K: MasterKey, S>(
    keys: &[K],
    secret: &[u8],
    env: &dyn Env,
    stanza: impl Fn(String, String) -> S,
) -> Result<Vec<S>, KeyError> {
    keys.iter()
        .map(|key| Ok(stanza(key.name().to_owned(), key.wrap(secret, env)?)))
        .collect()
}

/// Wraps a data key for key groups: each group gets the key itself (one group) or its own
/// Shamir share (several groups). Returns the groups and the threshold to record.
pub fn wrap(
    groups: &[RecipientGroup],
    threshold: Option<usize>,
    key: &DataKey,
    env: &dyn Env,
) -> Result<(Vec<KeyGroup>, usize), KeyError> {
    let groups: Vec<&RecipientGroup> = groups.iter().filter(|g| !g.is_empty()).collect();
    let threshold = match groups.len() {
        0 | 1 => threshold.unwrap_or(0),
        n => threshold.unwrap_or(n),
    };
    let secrets: Vec<Zeroizing<Vec<u8>>> = if groups.len() > 1 {
        shamir::split(key.as_bytes(), groups.len(), threshold).map_err(|reason| KeyError::WrapDataKey {
            recipient: "key groups".into(),
            reason,
        })?
    } else {
        vec![Zeroizing::new(key.as_bytes().to_vec())]
    };
    let wrapped = groups
        .iter()
        .zip(&secrets)
        .map(|(group, secret)| wrap_group(group, secret, env))
        .collect::<Result<Vec<_>, KeyError>>()?;
    Ok((wrapped, threshold))
}

/// Recovers the data key of a file. When it cannot, the error lists every group and every
/// key that was tried and why each failed, then every place identities were looked for.
pub fn unwrap(meta: &Metadata, identities: &Identities, file: &str) -> Result<DataKey, KeyError> {
    let mut report = Vec::new();
    let mut secrets: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    for (index, group) in meta.key_groups.iter().enumerate() {
        let mut lines = Vec::new();
        let secret = unwrap_group(group, identities, &mut lines);
        let status = if secret.is_some() { "ok" } else { "FAILED" };
        // Numbered from 0, as sops reports groups and as `groups delete` counts them.
        report.push(format!("  group {index}: {status}"));
        report.extend(lines.into_iter().map(|l| format!("    {l}")));
        secrets.extend(secret);
        if meta.key_groups.len() == 1 && !secrets.is_empty() {
            break;
        }
    }
    let failure = |summary: String| {
        let mut text = report.join("\n");
        text.push_str(&format!("\n  {summary}\n  identities looked for:"));
        for line in identities.report().lines() {
            text.push_str(&format!("\n    {line}"));
        }
        KeyError::DataKeyUnavailable {
            file: file.to_string(),
            report: text,
            wanted: wanted_identity(meta, identities),
        }
    };
    let key_bytes = if meta.key_groups.len() <= 1 {
        secrets
            .pop()
            .ok_or_else(|| failure("no key could decrypt the data key".into()))?
    } else {
        let needed = if meta.shamir_threshold == 0 {
            2
        } else {
            meta.shamir_threshold
        };
        if secrets.len() < needed {
            return Err(failure(format!(
                "{} of {} key groups decrypted; the Shamir threshold is {needed}",
                secrets.len(),
                meta.key_groups.len()
            )));
        }
        let parts: Vec<&[u8]> = secrets.iter().map(|s| s.as_slice()).collect();
        shamir::combine(&parts).map_err(|m| failure(format!("cannot combine the key shares: {m}")))?
    };
    DataKey::from_bytes(&key_bytes).ok_or_else(|| failure("the recovered data key is not 32 bytes".into()))
}

/// What would open a file: the key types it names, and whether an identity source the user
/// set could not be used.
fn wanted_identity(meta: &Metadata, identities: &Identities) -> WantedIdentity {
    WantedIdentity {
        age: meta.key_groups.iter().any(|g| !g.age.is_empty()),
        pgp: meta.key_groups.iter().any(|g| !g.pgp.is_empty()),
        unusable_source: identities.age.has_failed_source() || identities.pgp.has_failed_source(),
    }
}

/// Tries a group's keys in the decryption order; the first success wins.
fn unwrap_group(group: &KeyGroup, identities: &Identities, lines: &mut Vec<String>) -> Option<Zeroizing<Vec<u8>>> {
    for kind in &identities.order.0 {
        let secret = match kind {
            KeyKind::Age => try_each::<AgeRecipient>(
                group.age.iter().map(|s| (s.recipient.as_str(), s.enc.as_str())),
                identities,
                lines,
            ),
            KeyKind::Pgp => try_each::<PgpRecipient>(
                group.pgp.iter().map(|s| (s.fp.as_str(), s.enc.as_str())),
                identities,
                lines,
            ),
        };
        if secret.is_some() {
            return secret;
        }
    }
    for (key_type, _) in &group.other {
        lines.push(format!("{key_type}: this key type is not supported by ksec"));
    }
    None
}

/// Tries each wrapped key (its name and `enc`) of one type, noting how each went; the first
/// that opens wins.
fn try_each<'a, K: MasterKey>(
    wrapped: impl Iterator<Item = (&'a str, &'a str)>,
    identities: &Identities,
    lines: &mut Vec<String>,
) -> Option<Zeroizing<Vec<u8>>> {
    for (name, enc) in wrapped {
        match K::unwrap(name, enc, identities) {
            Ok(secret) => {
                lines.push(format!("{} {name}: ok", K::KIND));
                return Some(secret);
            }
            Err(e) => lines.push(format!("{} {name}: {e}", K::KIND)),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MapEnv;
    use ::age::secrecy::ExposeSecret;

    const FLUX_KEYS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/sops-upstream/keys/pgp-testdata"
    );

    #[test]
    fn an_age_group_and_a_pgp_group_share_the_key_and_each_is_reported_by_name() {
        let identity = ::age::x25519::Identity::generate();
        let age = AgeRecipient::parse(&identity.to_public().to_string()).expect("fresh key");
        let pgp = PgpRecipient::parse(&format!("{FLUX_KEYS}/public.gpg")).expect("the Flux public key");
        let groups = [
            RecipientGroup {
                age: vec![age.clone()],
                ..RecipientGroup::default()
            },
            RecipientGroup {
                pgp: vec![pgp.clone()],
                ..RecipientGroup::default()
            },
        ];
        let key = DataKey::generate();
        let (key_groups, threshold) = wrap(&groups, None, &key, &MapEnv::new()).expect("wrap");
        assert_eq!(threshold, 2);
        assert_eq!(key_groups[0].age[0].recipient, age.as_str());
        assert_eq!(key_groups[1].pgp[0].fp, pgp.fingerprint());
        let meta = Metadata {
            key_groups,
            shamir_threshold: threshold,
            last_modified: String::new(),
            mac: String::new(),
            rule: None,
            mac_only_encrypted: false,
            version: "3.11.0".into(),
        };

        let mut both = Identities::default();
        both.age
            .add_text("test", identity.to_string().expose_secret())
            .expect("age identity");
        let flux = std::fs::read(format!("{FLUX_KEYS}/private.gpg")).expect("the Flux secret key");
        both.pgp.add_secret_keys("test", &flux, None).expect("pgp identity");
        let recovered = unwrap(&meta, &both, "f.yaml").expect("both groups open");
        assert_eq!(recovered.as_bytes(), key.as_bytes());

        both.pgp = PgpIdentities::new();
        let report = unwrap(&meta, &both, "f.yaml")
            .expect_err("one group is not enough")
            .to_string();
        assert!(report.contains(&format!("age {}: ok", age.as_str())), "{report}");
        assert!(
            report.contains(&format!("pgp {}: no secret key", pgp.fingerprint())),
            "{report}"
        );
    }

    #[test]
    fn decryption_order_puts_named_types_first_and_refuses_duplicates() {
        assert_eq!(DecryptionOrder::parse("pgp").unwrap().0, [KeyKind::Pgp, KeyKind::Age]);
        assert_eq!(
            DecryptionOrder::parse("kms, age").unwrap().0,
            [KeyKind::Age, KeyKind::Pgp]
        );
        assert_eq!(
            crate::Error::from(DecryptionOrder::parse("age,pgp,age").unwrap_err()).exit_code(),
            112
        );
    }
}
