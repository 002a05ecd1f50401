//! Where OpenPGP secret keys come from: `SOPS_PGP_KEY_FILE`, then `SOPS_PGP_KEY` (ksec's own
//! variables, for CI, unlocked with `SOPS_PGP_KEY_PASSPHRASE`), then the gpg binary sops uses.
//! Every place looked at is recorded, for the report printed when no key works.

use std::fmt;

use ::pgp::composed::SignedSecretKey;
use ::pgp::types::{KeyDetails, Password};
use zeroize::Zeroizing;

use super::gpg::Gpg;
use super::native::{can_decrypt_now, is_locked, parse_secret_keys, unlock};
use super::{GPG_EXEC_VAR, KEY_FILE_VAR, KEY_VAR};
use crate::keys::Env;
use crate::keys::KeyError;
use crate::keys::sources::{IdentitySource, SourceRecord};

const PASSPHRASE_VAR: &str = "SOPS_PGP_KEY_PASSPHRASE";

/// The OpenPGP secret keys found in the environment, whether gpg can be asked too, and a record
/// of every place looked at.
#[derive(Default)]
pub struct PgpIdentities {
    keys: Vec<SignedSecretKey>,
    gpg: Option<Gpg>,
    sources: SourceRecord,
}

impl PgpIdentities {
    /// No native keys, and no gpg.
    pub fn new() -> PgpIdentities {
        PgpIdentities::default()
    }

    /// Reads OpenPGP secret keys (armored, several blocks allowed, or binary) and adds those
    /// that can decrypt, under `source_name`. Passphrase-protected keys are unlocked with
    /// `passphrase`; without one they are skipped and recorded as such. A passphrase that
    /// unlocks nothing is an error. Returns how many keys were added.
    pub fn add_secret_keys(
        &mut self,
        source_name: &str,
        bytes: &[u8],
        passphrase: Option<&str>,
    ) -> Result<usize, KeyError> {
        let failed = |reason: String| KeyError::IdentitySource {
            source_name: source_name.to_owned(),
            reason,
        };
        let keys = parse_secret_keys(bytes).map_err(failed)?;
        let password = passphrase.map(Password::from);
        let mut usable = Vec::new();
        let mut locked = Vec::new();
        for mut key in keys {
            if let Some(password) = &password {
                unlock(&mut key, password);
            }
            if can_decrypt_now(&key) {
                usable.push(key);
            } else if is_locked(&key) {
                locked.push(format!("{:X}", key.primary_key.fingerprint()));
            }
        }
        if usable.is_empty() {
            if locked.is_empty() {
                return Err(failed("no secret key that can decrypt was found".into()));
            }
            if passphrase.is_some() {
                return Err(failed(format!(
                    "{PASSPHRASE_VAR} does not unlock key {}",
                    locked.join(", ")
                )));
            }
            self.sources.note_skipped(
                source_name,
                &format!(
                    "key {} is passphrase-protected; set {PASSPHRASE_VAR}, or import it into gpg",
                    locked.join(", ")
                ),
            );
            return Ok(0);
        }
        let count = usable.len();
        let fingerprints = usable
            .iter()
            .map(|key| format!("{:X}", key.primary_key.fingerprint()))
            .collect();
        self.keys.extend(usable);
        self.sources.note_loaded_keys(source_name, fingerprints);
        Ok(count)
    }

    /// [`add_secret_keys`](Self::add_secret_keys), recording a failure instead of returning it.
    fn add_secret_keys_or_note(&mut self, source_name: &str, bytes: &[u8], passphrase: Option<&str>) {
        match self.add_secret_keys(source_name, bytes, passphrase) {
            Ok(_) => {}
            Err(KeyError::IdentitySource { reason, .. }) => self.sources.note_failed(source_name, &reason),
            Err(other) => self.sources.note_failed(source_name, &other.to_string()),
        }
    }

    /// Whether a source the user set could not be used.
    pub fn has_failed_source(&self) -> bool {
        self.sources.has_failed()
    }

    /// How many native secret keys were loaded (gpg's keyring not counted).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a gpg binary will be asked when the native keys do not decrypt.
    pub fn has_gpg(&self) -> bool {
        self.gpg.is_some()
    }

    /// The gpg binary that would be asked, if one was found.
    pub fn gpg_program(&self) -> Option<&std::path::Path> {
        self.gpg.as_ref().map(Gpg::program)
    }

    /// The native secret keys, tried before gpg.
    pub(super) fn native_keys(&self) -> &[SignedSecretKey] {
        &self.keys
    }

    /// The gpg binary to ask when the native keys do not decrypt.
    pub(super) fn gpg(&self) -> Option<&Gpg> {
        self.gpg.as_ref()
    }

    /// Every place looked at, in the order they are tried.
    pub fn sources(&self) -> &[IdentitySource] {
        self.sources.as_slice()
    }

    /// One line per place looked at, for the report printed when no key works.
    pub fn report(&self) -> String {
        self.sources.report()
    }
}

impl fmt::Debug for PgpIdentities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgpIdentities")
            .field("count", &self.keys.len())
            .field("gpg", &self.gpg.as_ref().map(Gpg::program))
            .field("sources", &self.sources)
            .finish()
    }
}

/// Finds OpenPGP secret keys: `SOPS_PGP_KEY_FILE`, then `SOPS_PGP_KEY` (both ksec's own, unlocked
/// with `SOPS_PGP_KEY_PASSPHRASE` when protected), then the gpg binary, which sops uses.
///
/// Every place looked at is recorded in [`PgpIdentities::sources`]; a variable that is set but
/// cannot be read or parsed is recorded as failed, and the other sources are still used.
pub fn discover(env: &dyn Env) -> PgpIdentities {
    let mut found = PgpIdentities::new();
    let passphrase = env.var(PASSPHRASE_VAR).map(Zeroizing::new);
    let passphrase = passphrase.as_deref().map(String::as_str);

    match env.var(KEY_FILE_VAR) {
        None => found.sources.note_absent(KEY_FILE_VAR, "not set"),
        Some(path) => {
            let source_name = format!("{KEY_FILE_VAR}={path}");
            let bytes = if path.is_empty() {
                Err("the variable is set but empty".to_string())
            } else {
                std::fs::read(&path)
                    .map(Zeroizing::new)
                    .map_err(|e| format!("cannot read the file: {e}"))
            };
            match bytes {
                Ok(bytes) => found.add_secret_keys_or_note(&source_name, &bytes, passphrase),
                Err(reason) => found.sources.note_failed(&source_name, &reason),
            }
        }
    }

    match env.var(KEY_VAR).map(Zeroizing::new) {
        None => found.sources.note_absent(KEY_VAR, "not set"),
        Some(text) => found.add_secret_keys_or_note(KEY_VAR, text.as_bytes(), passphrase),
    }

    match Gpg::locate(env) {
        Ok(gpg) => {
            found.sources.note_available("gpg", &gpg.describe());
            found.gpg = Some(gpg);
        }
        // A SOPS_GPG_EXEC the user set but that cannot run is a broken source, not an absent one.
        Err(reason) if env.var(GPG_EXEC_VAR).is_some_and(|exec| !exec.is_empty()) => {
            found.sources.note_failed("gpg", &reason)
        }
        Err(reason) => found.sources.note_absent("gpg", &reason),
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::native::PRIVATE_KEY_BLOCK;
    use super::super::{PgpRecipient, unwrap, wrap};
    use super::*;
    use crate::keys::MapEnv;
    use crate::keys::sources::SourceStatus;
    use crate::keys::sources::tests::only_failure;
    use ::pgp::composed::ArmorOptions;

    #[test]
    fn native_keys_open_both_sops_vectors() {
        let key_file = functional_keys_path();
        let found = discover(&MapEnv::new().with_var("SOPS_PGP_KEY_FILE", &key_file));
        assert_eq!(found.len(), 2, "keys 1 and 2");
        assert!(!found.has_gpg(), "the test environment has no PATH");
        let plain = unwrap(&gpgbinary_enc(), &found).expect("old-format packets written by gpg");
        assert_eq!(plain.len(), 32);

        let flux = read_vector("keys/pgp-testdata/private.gpg");
        let found = discover(&MapEnv::new().with_var("SOPS_PGP_KEY", &flux));
        assert_eq!(found.sources()[1].status, SourceStatus::Loaded(1));
        let plain = unwrap(&flux_enc(), &found).expect("new-format packets written by go-crypto");
        assert_eq!(plain.len(), 32);
    }

    fn protected_copy(passphrase: &str) -> String {
        let mut rng = rand::thread_rng();
        let password = Password::from(passphrase);
        parse_secret_keys(read_vector("keys/sops_functional_tests_key.asc").as_bytes())
            .expect("keys")
            .into_iter()
            .map(|mut key| {
                key.primary_key.set_password(&mut rng, &password).expect("lock");
                for subkey in &mut key.secret_subkeys {
                    subkey.key.set_password(&mut rng, &password).expect("lock");
                }
                key.to_armored_string(ArmorOptions::default()).expect("armor")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn passphrase_protected_keys_need_sops_pgp_key_passphrase() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_file(dir.path(), "locked.asc", &protected_copy("correct horse"));
        let path = path.to_str().expect("utf-8");
        let env = MapEnv::new().with_var("SOPS_PGP_KEY_FILE", path);

        let found = discover(&env);
        assert!(found.is_empty());
        let expected = format!(
            "SOPS_PGP_KEY_FILE={path}: skipped: key {KEY1_FP}, D7229043384BCC60326C6FB9D8720D957C3D3074 \
             is passphrase-protected; set SOPS_PGP_KEY_PASSPHRASE, or import it into gpg"
        );
        assert_eq!(found.report().lines().next(), Some(expected.as_str()));

        let found = discover(&env.clone().with_var("SOPS_PGP_KEY_PASSPHRASE", "correct horse"));
        assert_eq!(found.len(), 2);
        assert_eq!(unwrap(&gpgbinary_enc(), &found).expect("unwrap").len(), 32);

        let found = discover(&env.with_var("SOPS_PGP_KEY_PASSPHRASE", "wrong horse"));
        let (name, reason) = only_failure(found.sources());
        let message = format!("{name}: {reason}");
        assert!(
            message.starts_with(&format!(
                "SOPS_PGP_KEY_FILE={path}: SOPS_PGP_KEY_PASSPHRASE does not unlock"
            )),
            "{message}"
        );
        assert!(!message.contains("horse"), "the passphrase leaked: {message}");
    }

    #[test]
    fn unusable_secret_key_sources_are_errors_naming_the_variable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let public = write_file(dir.path(), "public.asc", &read_vector("keys/pgp-testdata/public.gpg"));
        let garbage = write_file(dir.path(), "garbage", "hunter2\n");
        let missing = dir.path().join("missing.asc");
        let cases = [
            (
                "SOPS_PGP_KEY_FILE",
                missing.to_str().expect("utf-8").to_owned(),
                "cannot read the file",
            ),
            ("SOPS_PGP_KEY_FILE", String::new(), "set but empty"),
            (
                "SOPS_PGP_KEY_FILE",
                public.to_str().expect("utf-8").to_owned(),
                "only public keys",
            ),
            (
                "SOPS_PGP_KEY_FILE",
                garbage.to_str().expect("utf-8").to_owned(),
                "cannot parse the OpenPGP secret key",
            ),
            (
                "SOPS_PGP_KEY",
                "hunter2".to_owned(),
                "cannot parse the OpenPGP secret key",
            ),
            (
                "SOPS_PGP_KEY",
                format!("-----BEGIN {PRIVATE_KEY_BLOCK}-----\n\nhunter2\n"),
                "cannot parse",
            ),
        ];
        for (var, value, expected) in cases {
            let found = discover(&MapEnv::new().with_var(var, &value));
            let (source_name, message) = only_failure(found.sources());
            assert!(source_name.starts_with(var), "{source_name}");
            assert!(message.contains(expected), "{var}={value}: {message}");
            assert!(!message.contains("hunter2"), "the value leaked: {message}");
        }
    }

    #[test]
    fn discover_reports_where_it_looked() {
        let found = discover(&MapEnv::new());
        assert_eq!(
            found.report(),
            "SOPS_PGP_KEY_FILE: not set\nSOPS_PGP_KEY: not set\ngpg: no gpg binary found on PATH"
        );
        let bare = discover(&MapEnv::new().with_var("SOPS_GPG_EXEC", "ksec-no-such-gpg"));
        assert!(
            bare.report()
                .ends_with("gpg: UNUSABLE: SOPS_GPG_EXEC=ksec-no-such-gpg: no ksec-no-such-gpg binary found on PATH"),
            "{}",
            bare.report()
        );
        let missing = discover(&MapEnv::new().with_var("SOPS_GPG_EXEC", "/nonexistent/gpg"));
        assert!(
            missing
                .report()
                .ends_with("gpg: UNUSABLE: SOPS_GPG_EXEC=/nonexistent/gpg: no executable file there"),
            "{}",
            missing.report()
        );

        let error = wrap(&PgpRecipient::parse(KEY1_FP).expect("valid"), &[1; 32], &MapEnv::new())
            .expect_err("a fingerprint needs gpg");
        assert!(
            error.to_string().contains("no gpg binary found on PATH; install GnuPG"),
            "{error}"
        );
    }
}
