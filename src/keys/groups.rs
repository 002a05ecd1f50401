//! Key groups: wrapping the data key for every key of every group (Shamir shares when there are
//! several groups), and recovering it with whatever identities and key services are at hand.
//!
//! Recovery tries key types in the decryption order across all groups before moving to the
//! next type, and stops as soon as enough groups are open. With sops's default order (age,
//! pgp, then the services) a key service is therefore asked only when the keys at hand do not
//! suffice: a 2-of-3 file whose third group is a Vault key opens with two age keys even when
//! Vault is down, without waiting for it. The key recovered is the same as sops's, which asks
//! every group: any threshold of consistent shares gives the same key, and the MAC checks it.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::age::{self, AgeIdentities, AgeRecipient};
use super::azure_kv::AzureKvKey;
use super::gcp_kms::GcpKmsKey;
use super::kms::KmsKey;
use super::pgp::{self, PgpIdentities, PgpRecipient};
use super::services::FailureClass;
use super::vault::VaultKey;
use super::{Callbacks, DataKey, Env, KeyKind, KeyServices, MasterKey, UnwrapFailure, WrapContext, shamir};
use super::{KeyError, WantedIdentity};
use crate::metadata::{KeyGroup, Metadata};

/// The keys of one key group, as a creation rule or the command line names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientGroup {
    pub age: Vec<AgeRecipient>,
    pub pgp: Vec<PgpRecipient>,
    pub kms: Vec<KmsKey>,
    pub gcp_kms: Vec<GcpKmsKey>,
    pub azure_kv: Vec<AzureKvKey>,
    pub hc_vault: Vec<VaultKey>,
}

impl RecipientGroup {
    pub fn is_empty(&self) -> bool {
        self.age.is_empty()
            && self.pgp.is_empty()
            && self.kms.is_empty()
            && self.gcp_kms.is_empty()
            && self.azure_kv.is_empty()
            && self.hc_vault.is_empty()
    }

    /// Every key as its type and name (`hc_vault`, `https://…/keys/app`), type by type.
    pub fn names(&self) -> Vec<(KeyKind, String)> {
        fn of<K: MasterKey>(keys: &[K], out: &mut Vec<(KeyKind, String)>) {
            out.extend(keys.iter().map(|k| (K::KIND, k.name().to_string())));
        }
        let mut out = Vec::new();
        of(&self.age, &mut out);
        of(&self.pgp, &mut out);
        of(&self.kms, &mut out);
        of(&self.gcp_kms, &mut out);
        of(&self.azure_kv, &mut out);
        of(&self.hc_vault, &mut out);
        out
    }

    /// Adds the keys of `other` this group does not have yet.
    pub fn add_missing(&mut self, other: &RecipientGroup) {
        fn add<K: MasterKey + Clone>(have: &mut Vec<K>, new: &[K]) {
            for key in new {
                if !have.iter().any(|k| same_name::<K>(k.name(), key.name())) {
                    have.push(key.clone());
                }
            }
        }
        add(&mut self.age, &other.age);
        add(&mut self.pgp, &other.pgp);
        add(&mut self.kms, &other.kms);
        add(&mut self.gcp_kms, &other.gcp_kms);
        add(&mut self.azure_kv, &other.azure_kv);
        add(&mut self.hc_vault, &other.hc_vault);
    }

    /// Removes the keys `names` names (type and name, as [`names`](Self::names) gives them).
    pub fn remove_named(&mut self, names: &[(KeyKind, String)]) {
        fn remove<K: MasterKey>(keys: &mut Vec<K>, names: &[(KeyKind, String)]) {
            keys.retain(|k| {
                !names
                    .iter()
                    .any(|(kind, n)| *kind == K::KIND && same_name::<K>(n, k.name()))
            });
        }
        remove(&mut self.age, names);
        remove(&mut self.pgp, names);
        remove(&mut self.kms, names);
        remove(&mut self.gcp_kms, names);
        remove(&mut self.azure_kv, names);
        remove(&mut self.hc_vault, names);
    }
}

/// Keys as a command line or the environment names them, each a comma-separated list, as
/// sops reads `--age`, `--pgp`, `--kms` (with `--aws-profile` and `--encryption-context`),
/// `--gcp-kms`, `--azure-kv` and `--hc-vault-transit`.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyLists<'a> {
    pub age: Option<&'a str>,
    pub pgp: Option<&'a str>,
    pub kms: Option<&'a str>,
    pub aws_profile: Option<&'a str>,
    pub encryption_context: Option<&'a str>,
    pub gcp_kms: Option<&'a str>,
    pub azure_kv: Option<&'a str>,
    pub hc_vault: Option<&'a str>,
}

impl KeyLists<'_> {
    /// Whether any list names keys (sops then ignores the config's keys). An empty list, as
    /// `--kms ''` or `SOPS_VAULT_URIS=` give, counts as not given: sops compares each with "".
    pub fn any(&self) -> bool {
        [self.age, self.pgp, self.kms, self.gcp_kms, self.azure_kv, self.hc_vault]
            .iter()
            .any(|list| list.is_some_and(|list| !list.trim().is_empty()))
    }

    /// The keys, parsed and checked. An encryption context is checked even without `--kms`,
    /// as sops checks it (exit 6).
    pub fn parse(&self) -> Result<RecipientGroup, KeyError> {
        let context = super::kms::parse_context(self.encryption_context.unwrap_or_default())?;
        Ok(RecipientGroup {
            age: self.age.map(age::parse_recipients).transpose()?.unwrap_or_default(),
            pgp: self.pgp.map(pgp::parse_recipients).transpose()?.unwrap_or_default(),
            kms: self
                .kms
                .map(|list| super::kms::parse_arns(list, &context, self.aws_profile.unwrap_or_default()))
                .unwrap_or_default(),
            gcp_kms: self.gcp_kms.map(super::gcp_kms::parse_resource_ids).unwrap_or_default(),
            azure_kv: self
                .azure_kv
                .map(super::azure_kv::parse_urls)
                .transpose()?
                .unwrap_or_default(),
            hc_vault: self
                .hc_vault
                .map(super::vault::parse_uris)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

/// Whether two names of keys of type `K` name the same key.
fn same_name<K: MasterKey>(a: &str, b: &str) -> bool {
    names_match(K::KIND, a, b)
}

/// Whether two names of keys of type `kind` name the same key: PGP fingerprints are compared
/// without spaces and case, as gpg reads them; an Azure key named without a version
/// (`…/keys/k/`) is any version of that key, since sops looks up and records the version it
/// stands for; every other name exactly, as sops compares them.
pub fn names_match(kind: KeyKind, a: &str, b: &str) -> bool {
    match kind {
        KeyKind::Pgp => a.replace(' ', "").eq_ignore_ascii_case(&b.replace(' ', "")),
        KeyKind::AzureKv => a == b || any_version_of(a, b) || any_version_of(b, a),
        _ => a == b,
    }
}

/// Whether `versionless` (`…/keys/k/`) names the key that `named` names with a version.
fn any_version_of(versionless: &str, named: &str) -> bool {
    versionless.ends_with('/')
        && named
            .strip_prefix(versionless)
            .is_some_and(|version| !version.is_empty() && !version.contains('/'))
}

/// In which order the keys of a group are tried (`--decryption-order`, default `age,pgp`):
/// the types named, then the others in the order sops's reader lists them (kms, gcp_kms,
/// azure_kv, hc_vault, pgp, age).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptionOrder(Vec<KeyKind>);

impl Default for DecryptionOrder {
    fn default() -> Self {
        DecryptionOrder::with_first(&[KeyKind::Age, KeyKind::Pgp])
    }
}

impl DecryptionOrder {
    /// Parses `age,pgp`-style text; a type named twice is an error (sops exit 112). Names of
    /// key types ksec does not know (`hckms`) are accepted and ignored, as sops ignores names
    /// it does not know.
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
            kinds.extend(KeyKind::from_name(name));
        }
        Ok(DecryptionOrder::with_first(&kinds))
    }

    fn with_first(first: &[KeyKind]) -> DecryptionOrder {
        let mut kinds = first.to_vec();
        kinds.extend(KeyKind::FILE_ORDER.into_iter().filter(|k| !first.contains(k)));
        DecryptionOrder(kinds)
    }

    /// The types in the order they are tried.
    pub fn kinds(&self) -> &[KeyKind] {
        &self.0
    }
}

/// Everything ksec can decrypt with: identities at hand, key services, and the order to try.
#[derive(Debug, Default)]
pub struct Identities {
    pub age: AgeIdentities,
    pub pgp: PgpIdentities,
    pub services: KeyServices,
    pub order: DecryptionOrder,
}

impl Identities {
    /// Loads every identity sops would (age, SSH, OpenPGP), the key services' settings (no
    /// service is contacted until a file needs one) and the decryption order. Keys that need
    /// the user (a passphrase-protected SSH key) ask through `callbacks` when a file is
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
            services: KeyServices::from_env(env),
            order,
        })
    }

    /// One line per place identities were looked for, and per key service asked.
    pub fn report(&self) -> String {
        [self.age.report(), self.pgp.report(), self.services.report()]
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Whether key groups (as written in a file) are for exactly these keys, group by group.
pub fn same_recipients(groups: &[RecipientGroup], key_groups: &[KeyGroup]) -> bool {
    let groups: Vec<&RecipientGroup> = groups.iter().filter(|g| !g.is_empty()).collect();
    groups.len() == key_groups.len()
        && groups
            .iter()
            .zip(key_groups)
            .all(|(g, k)| k.other.is_empty() && same_keys(g.names(), stanza_names(k)))
}

/// Whether two lists name the same keys, one for one ([`names_match`]): exact names are
/// paired first, so that an Azure key named without a version pairs with what is left.
fn same_keys(wanted: Vec<(KeyKind, String)>, mut have: Vec<(KeyKind, String)>) -> bool {
    if wanted.len() != have.len() {
        return false;
    }
    let mut left = Vec::new();
    for key in wanted {
        match have.iter().position(|h| *h == key) {
            Some(at) => {
                have.swap_remove(at);
            }
            None => left.push(key),
        }
    }
    left.into_iter().all(|(kind, name)| {
        match have.iter().position(|(k, n)| *k == kind && names_match(kind, &name, n)) {
            Some(at) => {
                have.swap_remove(at);
                true
            }
            None => false,
        }
    })
}

/// Every entry of a key group as its key's type and name.
pub fn stanza_names(group: &KeyGroup) -> Vec<(KeyKind, String)> {
    fn of<K: MasterKey>(group: &KeyGroup, out: &mut Vec<(KeyKind, String)>) {
        out.extend(K::of_key_group(group).iter().map(|s| (K::KIND, K::stanza_name(s))));
    }
    let mut out = Vec::new();
    of::<AgeRecipient>(group, &mut out);
    of::<PgpRecipient>(group, &mut out);
    of::<KmsKey>(group, &mut out);
    of::<GcpKmsKey>(group, &mut out);
    of::<AzureKvKey>(group, &mut out);
    of::<VaultKey>(group, &mut out);
    out
}

/// Wraps `secret` (the data key, or a Shamir share) for every key of a group; an entry of
/// `keep` that holds the same secret for a key is kept instead.
fn wrap_group(
    group: &RecipientGroup,
    secret: &[u8],
    ctx: &WrapContext<'_>,
    keep: Option<&KeyGroup>,
) -> Result<KeyGroup, KeyError> {
    fn wrap_each<K: MasterKey>(
        group: &RecipientGroup,
        secret: &[u8],
        ctx: &WrapContext<'_>,
        keep: Option<&KeyGroup>,
        out: &mut KeyGroup,
    ) -> Result<(), KeyError> {
        for key in K::of_recipients(group) {
            let kept = keep.and_then(|k| K::of_key_group(k).iter().find(|s| key.holds(s)));
            let stanza = match kept {
                Some(stanza) => stanza.clone(),
                None => key.wrap(secret, ctx)?,
            };
            K::of_key_group_mut(out).push(stanza);
        }
        Ok(())
    }
    let mut out = KeyGroup::default();
    wrap_each::<AgeRecipient>(group, secret, ctx, keep, &mut out)?;
    wrap_each::<PgpRecipient>(group, secret, ctx, keep, &mut out)?;
    wrap_each::<KmsKey>(group, secret, ctx, keep, &mut out)?;
    wrap_each::<GcpKmsKey>(group, secret, ctx, keep, &mut out)?;
    wrap_each::<AzureKvKey>(group, secret, ctx, keep, &mut out)?;
    wrap_each::<VaultKey>(group, secret, ctx, keep, &mut out)?;
    Ok(out)
}

/// Wraps a data key for key groups: each group gets the key itself (one group) or its own
/// Shamir share (several groups). Returns the groups and the threshold to record.
pub fn wrap(
    groups: &[RecipientGroup],
    threshold: Option<usize>,
    key: &DataKey,
    env: &dyn Env,
) -> Result<(Vec<KeyGroup>, usize), KeyError> {
    wrap_keeping(groups, threshold, key, env, None)
}

/// [`wrap`], keeping the entries of `keep` (the file's single group as it was) for the keys
/// that stay, when there is one group and the data key is the file's own: their `enc` still
/// holds that key, so no key service is asked again for them and the diff shows only the keys
/// that changed.
pub fn wrap_keeping(
    groups: &[RecipientGroup],
    threshold: Option<usize>,
    key: &DataKey,
    env: &dyn Env,
    keep: Option<&KeyGroup>,
) -> Result<(Vec<KeyGroup>, usize), KeyError> {
    let groups: Vec<&RecipientGroup> = groups.iter().filter(|g| !g.is_empty()).collect();
    // A kept entry holds the whole data key, which is only right when it stays whole.
    let keep = keep.filter(|_| groups.len() == 1);
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
    let services = KeyServices::from_env(env);
    let ctx = WrapContext {
        env,
        services: &services,
        created_at: crate::timestamp::now_last_modified(),
    };
    let wrapped = groups
        .iter()
        .zip(&secrets)
        .map(|(group, secret)| wrap_group(group, secret, &ctx, keep))
        .collect::<Result<Vec<_>, KeyError>>()?;
    Ok((wrapped, threshold))
}

/// What trying a file's keys found, group by group.
struct Attempt {
    secrets: Vec<Option<Zeroizing<Vec<u8>>>>,
    lines: Vec<Vec<String>>,
    service_failures: Vec<(KeyKind, FailureClass)>,
}

impl Attempt {
    fn opened(&self) -> usize {
        self.secrets.iter().filter(|s| s.is_some()).count()
    }
}

/// Recovers the data key of a file. When it cannot, the error lists every group and every
/// key that was tried and why each failed (for a key service: which was asked, as whom, and
/// what it answered), then every place identities were looked for.
pub fn unwrap(meta: &Metadata, identities: &Identities, file: &str) -> Result<DataKey, KeyError> {
    let groups = &meta.key_groups;
    // Shares to gather before stopping: the threshold, or (without one) every group, since
    // sops then combines whatever opened.
    let enough = match groups.len() {
        0 | 1 => 1,
        n if meta.shamir_threshold == 0 => n,
        _ => meta.shamir_threshold,
    };
    let mut attempt = Attempt {
        secrets: vec![None; groups.len()],
        lines: vec![Vec::new(); groups.len()],
        service_failures: Vec::new(),
    };
    'kinds: for &kind in identities.order.kinds() {
        for (index, group) in groups.iter().enumerate() {
            if attempt.secrets[index].is_some() {
                continue;
            }
            attempt.secrets[index] = try_kind(kind, group, identities, index, &mut attempt);
            if attempt.opened() >= enough {
                break 'kinds;
            }
        }
    }
    for (index, group) in groups.iter().enumerate() {
        if attempt.secrets[index].is_none() {
            for (key_type, _) in &group.other {
                attempt.lines[index].push(format!("{key_type}: this key type is not supported by ksec"));
            }
        }
    }
    let failure = |summary: String, attempt: &Attempt| {
        let mut text = String::new();
        for (index, lines) in attempt.lines.iter().enumerate() {
            let status = if attempt.secrets[index].is_some() {
                "ok"
            } else {
                "FAILED"
            };
            // Numbered from 0, as sops reports groups and as `groups delete` counts them.
            text.push_str(&format!("  group {index}: {status}\n"));
            for line in lines {
                text.push_str(&format!("    {line}\n"));
            }
        }
        text.push_str(&format!("  {summary}\n  identities looked for:"));
        for line in identities.report().lines() {
            text.push_str(&format!("\n    {line}"));
        }
        KeyError::DataKeyUnavailable {
            file: file.to_string(),
            report: text,
            wanted: Box::new(wanted_identity(meta, identities, attempt)),
        }
    };
    let mut secrets: Vec<Zeroizing<Vec<u8>>> = attempt.secrets.iter().flatten().cloned().collect();
    let key_bytes = if groups.len() <= 1 {
        secrets
            .pop()
            .ok_or_else(|| failure("no key could decrypt the data key".into(), &attempt))?
    } else {
        let needed = if meta.shamir_threshold == 0 {
            2
        } else {
            meta.shamir_threshold
        };
        if secrets.len() < needed {
            return Err(failure(
                format!(
                    "{} of {} key groups decrypted; the Shamir threshold is {needed}",
                    secrets.len(),
                    groups.len()
                ),
                &attempt,
            ));
        }
        let parts: Vec<&[u8]> = secrets.iter().map(|s| s.as_slice()).collect();
        shamir::combine(&parts).map_err(|m| failure(format!("cannot combine the key shares: {m}"), &attempt))?
    };
    DataKey::from_bytes(&key_bytes).ok_or_else(|| failure("the recovered data key is not 32 bytes".into(), &attempt))
}

/// What would open a file: the key types it names, how the key services asked failed, and
/// whether an identity source the user set could not be used.
fn wanted_identity(meta: &Metadata, identities: &Identities, attempt: &Attempt) -> WantedIdentity {
    let names: Vec<KeyKind> = meta
        .key_groups
        .iter()
        .flat_map(|g| stanza_names(g).into_iter().map(|(kind, _)| kind))
        .collect();
    WantedIdentity {
        age: names.contains(&KeyKind::Age),
        pgp: names.contains(&KeyKind::Pgp),
        services: KeyKind::FILE_ORDER
            .into_iter()
            .filter(|kind| kind.is_service() && names.contains(kind))
            .collect(),
        service_failures: attempt.service_failures.clone(),
        unusable_source: identities.age.has_failed_source() || identities.pgp.has_failed_source(),
    }
}

/// Tries the keys of one type in one group; the first that opens wins.
fn try_kind(
    kind: KeyKind,
    group: &KeyGroup,
    identities: &Identities,
    index: usize,
    attempt: &mut Attempt,
) -> Option<Zeroizing<Vec<u8>>> {
    match kind {
        KeyKind::Age => try_each::<AgeRecipient>(group, identities, index, attempt),
        KeyKind::Pgp => try_each::<PgpRecipient>(group, identities, index, attempt),
        KeyKind::Kms => try_each::<KmsKey>(group, identities, index, attempt),
        KeyKind::GcpKms => try_each::<GcpKmsKey>(group, identities, index, attempt),
        KeyKind::AzureKv => try_each::<AzureKvKey>(group, identities, index, attempt),
        KeyKind::HcVault => try_each::<VaultKey>(group, identities, index, attempt),
    }
}

/// Tries each entry of one key type in a group, noting how each went; the first that opens
/// wins.
fn try_each<K: MasterKey>(
    group: &KeyGroup,
    identities: &Identities,
    index: usize,
    attempt: &mut Attempt,
) -> Option<Zeroizing<Vec<u8>>> {
    for stanza in K::of_key_group(group) {
        let name = K::stanza_name(stanza);
        match K::unwrap(stanza, identities) {
            Ok(secret) => {
                attempt.lines[index].push(format!("{} {name}: ok", K::KIND));
                return Some(secret);
            }
            Err(e) => {
                if let Some(class) = e.service_failure() {
                    attempt.service_failures.push((K::KIND, class));
                }
                attempt.lines[index].push(format!("{} {name}: {e}", K::KIND));
            }
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
    fn an_empty_key_list_leaves_the_config_its_keys_as_in_sops() {
        let empty = KeyLists {
            kms: Some(""),
            hc_vault: Some(" "),
            age: None,
            ..KeyLists::default()
        };
        assert!(!empty.any(), "`--kms ''` and `SOPS_VAULT_URIS=` name no key");
        let named = KeyLists {
            hc_vault: Some("https://vault:8200/v1/transit/keys/k"),
            ..empty
        };
        assert!(named.any());
    }

    #[test]
    fn decryption_order_puts_named_types_first_and_refuses_duplicates() {
        use KeyKind::*;
        assert_eq!(
            DecryptionOrder::default().0,
            [Age, Pgp, Kms, GcpKms, AzureKv, HcVault],
            "sops's default: age, pgp, then the services in file order"
        );
        // Types not named keep sops's file order, which lists age last.
        assert_eq!(
            DecryptionOrder::parse("pgp").unwrap().0,
            [Pgp, Kms, GcpKms, AzureKv, HcVault, Age]
        );
        assert_eq!(
            DecryptionOrder::parse("hc_vault, age, hckms").unwrap().0,
            [HcVault, Age, Kms, GcpKms, AzureKv, Pgp]
        );
        assert_eq!(
            crate::Error::from(DecryptionOrder::parse("age,pgp,age").unwrap_err()).exit_code(),
            112
        );
    }

    /// A Vault entry for a key at an address where nothing listens.
    fn unreachable_vault_group() -> KeyGroup {
        KeyGroup {
            hc_vault: vec![crate::metadata::VaultStanza {
                vault_address: "http://127.0.0.1:1".into(),
                engine_path: "transit".into(),
                key_name: "k".into(),
                created_at: "2026-01-01T00:00:00Z".into(),
                enc: "vault:v1:x".into(),
            }],
            ..KeyGroup::default()
        }
    }

    fn metadata(key_groups: Vec<KeyGroup>, shamir_threshold: usize) -> Metadata {
        Metadata {
            key_groups,
            shamir_threshold,
            last_modified: String::new(),
            mac: String::new(),
            rule: None,
            mac_only_encrypted: false,
            version: "3.11.0".into(),
        }
    }

    #[test]
    fn the_keys_at_hand_open_enough_groups_before_a_key_service_is_asked() {
        let (a, b) = (::age::x25519::Identity::generate(), ::age::x25519::Identity::generate());
        let recipient = |i: &::age::x25519::Identity| AgeRecipient::parse(&i.to_public().to_string()).unwrap();
        let groups = [
            RecipientGroup {
                age: vec![recipient(&a)],
                ..RecipientGroup::default()
            },
            RecipientGroup {
                age: vec![recipient(&b)],
                ..RecipientGroup::default()
            },
        ];
        let key = DataKey::generate();
        let (mut key_groups, _) = wrap(&groups, Some(2), &key, &MapEnv::new()).expect("wrap");
        // Group 0 is a Vault key nobody can reach; groups 1 and 2 are the two age shares of a
        // 2-of-3 split (the third share would be Vault's).
        key_groups.insert(0, unreachable_vault_group());
        let meta = metadata(key_groups, 2);
        let mut identities = Identities::default();
        for identity in [&a, &b] {
            identities
                .age
                .add_text("test", identity.to_string().expose_secret())
                .unwrap();
        }
        let recovered = unwrap(&meta, &identities, "f.yaml").expect("two age groups are enough");
        assert_eq!(recovered.as_bytes(), key.as_bytes());
        assert_eq!(identities.services.report(), "", "Vault was never asked");

        // With Vault first in the order, it is asked (and fails), and the age groups still open.
        identities.order = DecryptionOrder::parse("hc_vault").unwrap();
        unwrap(&meta, &identities, "f.yaml").expect("still opens");
        assert!(identities.services.report().starts_with("Vault: "));
    }

    #[test]
    fn a_failed_key_service_is_reported_by_key_with_its_class() {
        let meta = metadata(vec![unreachable_vault_group()], 0);
        let err = unwrap(&meta, &Identities::default(), "f.yaml").unwrap_err();
        let KeyError::DataKeyUnavailable { report, wanted, .. } = &err else {
            panic!("{err}")
        };
        assert!(
            report.contains("hc_vault http://127.0.0.1:1/v1/transit/keys/k: endpoint unreachable: "),
            "{report}"
        );
        assert!(report.contains("(Vault at http://127.0.0.1:1, no token ("), "{report}");
        assert_eq!(wanted.services, [KeyKind::HcVault]);
        assert_eq!(
            wanted.service_failures,
            [(KeyKind::HcVault, crate::keys::FailureClass::Unreachable)]
        );
        assert_eq!(crate::Error::from(err).exit_code(), 128);
    }

    #[test]
    fn same_recipients_compares_every_key_type() {
        let vault = VaultKey::from_uri("https://v:8200/v1/transit/keys/app").unwrap();
        let group = RecipientGroup {
            hc_vault: vec![vault.clone()],
            kms: vec![KmsKey::from_arn("arn:k", &[], "dev")],
            ..RecipientGroup::default()
        };
        let stanzas = KeyGroup {
            hc_vault: vec![crate::metadata::VaultStanza {
                vault_address: "https://v:8200".into(),
                engine_path: "transit".into(),
                key_name: "app".into(),
                created_at: "t".into(),
                enc: "e".into(),
            }],
            kms: vec![crate::metadata::KmsStanza {
                arn: "arn:k".into(),
                role: String::new(),
                context: Vec::new(),
                created_at: "t".into(),
                enc: "e".into(),
                aws_profile: "dev".into(),
            }],
            ..KeyGroup::default()
        };
        assert!(same_recipients(
            std::slice::from_ref(&group),
            std::slice::from_ref(&stanzas)
        ));
        let other = RecipientGroup {
            hc_vault: vec![VaultKey::from_uri("https://v:8200/v1/transit/keys/other").unwrap()],
            ..group.clone()
        };
        assert!(!same_recipients(&[other], std::slice::from_ref(&stanzas)));
    }

    #[test]
    fn an_azure_key_named_without_a_version_matches_every_version_of_it() {
        let kv = KeyKind::AzureKv;
        assert!(names_match(
            kv,
            "https://v.vault.azure.net/keys/k/",
            "https://v.vault.azure.net/keys/k/1a"
        ));
        assert!(names_match(
            kv,
            "https://v.vault.azure.net/keys/k/1a",
            "https://v.vault.azure.net/keys/k/"
        ));
        assert!(!names_match(
            kv,
            "https://v.vault.azure.net/keys/k/1a",
            "https://v.vault.azure.net/keys/k/2b"
        ));
        assert!(!names_match(
            kv,
            "https://v.vault.azure.net/keys/k/",
            "https://v.vault.azure.net/keys/kk/1"
        ));
        assert!(!names_match(
            KeyKind::HcVault,
            "https://v/v1/t/keys/k/",
            "https://v/v1/t/keys/k/1"
        ));
        let stanza = crate::metadata::AzureKvStanza {
            vault_url: "https://v.vault.azure.net".into(),
            name: "k".into(),
            version: "1a".into(),
            created_at: "t".into(),
            enc: "e".into(),
        };
        let group = RecipientGroup {
            azure_kv: vec![AzureKvKey::from_url("https://v.vault.azure.net/keys/k").unwrap()],
            ..RecipientGroup::default()
        };
        let written = KeyGroup {
            azure_kv: vec![stanza],
            ..KeyGroup::default()
        };
        assert!(same_recipients(
            std::slice::from_ref(&group),
            std::slice::from_ref(&written)
        ));
        assert!(group.azure_kv[0].holds(&written.azure_kv[0]));
    }
}
