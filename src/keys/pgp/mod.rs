//! OpenPGP master keys, byte-compatible with sops (`pgp/keysource.go`).
//!
//! For each PGP key sops stores the raw data key (or a 33-byte Shamir share) as one ASCII-armored
//! OpenPGP message without a trailing newline, under the key's fingerprint. sops reaches keys
//! through the `gpg` binary, so the user's keyring, agent, pinentry and smartcards just work;
//! ksec runs gpg the same way. It also works without GnuPG, natively with rPGP: a recipient may
//! be an armored public key file instead of a fingerprint, and secret keys may come from
//! `SOPS_PGP_KEY_FILE` or `SOPS_PGP_KEY` (ksec's own variables, for CI), which are tried before
//! gpg.
//!
//! This module owns the recipients, the [`MasterKey`] implementation, and which of the two ways
//! opens a message first. The rPGP work lives in `native`, running gpg in `gpg`, and finding
//! the secret keys and gpg in the environment in `identities`.

mod gpg;
mod identities;
mod native;

#[cfg(test)]
mod fixtures;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ::pgp::composed::SignedPublicKey;
use ::pgp::types::KeyDetails;
use zeroize::Zeroizing;

pub use self::identities::{PgpIdentities, discover};

use self::gpg::{Gpg, GpgFailure};
use self::native::{
    NativeFailure, choose_encryption_key, decrypt_natively, encrypt_natively, parse_public_key_file, unix_now,
};
use super::KeyError;
use super::{Env, Identities, KeyKind, MasterKey, RecipientGroup, UnwrapFailure, WrapContext};
use crate::metadata::{KeyGroup, PgpStanza};

const KEY_FILE_VAR: &str = "SOPS_PGP_KEY_FILE";
const KEY_VAR: &str = "SOPS_PGP_KEY";
const GPG_EXEC_VAR: &str = "SOPS_GPG_EXEC";

const MESSAGE_BEGIN: &str = "-----BEGIN PGP MESSAGE-----";

/// One OpenPGP key as written in `--pgp`, `SOPS_PGP_FP`, `.sops.yaml` or the metadata's `fp`.
#[derive(Clone)]
pub struct PgpRecipient {
    fp: String,
    key_file: Option<KeyFile>,
}

/// A recipient given as an armored public key file: ksec encrypts to it natively.
#[derive(Clone)]
struct KeyFile {
    path: PathBuf,
    cert: Box<SignedPublicKey>,
}

impl PgpRecipient {
    /// Parses a fingerprint or the path of an armored public key file.
    ///
    /// A fingerprint is 40 hex digits (v4; 64 for v5/v6, 16 for a long key ID are accepted too,
    /// as gpg takes them), spaces ignored, optionally ending in `!` (gpg's "exactly this
    /// subkey"), which is kept. It is stored upper-cased. Anything else must name an existing
    /// file starting with `-----BEGIN PGP PUBLIC KEY BLOCK-----` holding one key with a usable
    /// encryption key; the metadata then records that key's primary fingerprint.
    pub fn parse(text: &str) -> Result<PgpRecipient, KeyError> {
        let text = text.trim();
        let invalid = |reason: String| KeyError::InvalidRecipient {
            recipient: text.to_owned(),
            reason,
        };
        if let Some(recipient) = PgpRecipient::from_fingerprint(text) {
            return Ok(recipient);
        }
        let path = Path::new(text);
        if text.is_empty() || !(path.exists() || path.extension().is_some_and(|ext| ext == "asc")) {
            return Err(invalid(
                "neither an OpenPGP fingerprint (40 hex digits) nor an armored public key file".into(),
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| invalid(format!("cannot read the key file: {e}")))?;
        let cert = parse_public_key_file(&bytes).map_err(invalid)?;
        choose_encryption_key(&cert, unix_now()).map_err(invalid)?;
        Ok(PgpRecipient {
            fp: format!("{:X}", cert.primary_key.fingerprint()),
            key_file: Some(KeyFile {
                path: path.to_owned(),
                cert: Box::new(cert),
            }),
        })
    }

    /// A recipient named by fingerprint only (as [`parse`](Self::parse) reads one), or `None`.
    ///
    /// This is how a file's metadata `fp` is read: never as a key file path, or a tampered file
    /// could make ksec encrypt the new data key to whatever key a path of its choosing holds.
    pub fn from_fingerprint(text: &str) -> Option<PgpRecipient> {
        normalize_fingerprint(text.trim()).map(|fp| PgpRecipient { fp, key_file: None })
    }

    /// The string stored as `fp` in the metadata.
    pub fn fingerprint(&self) -> &str {
        &self.fp
    }

    /// The public key file this recipient was read from, if it was not a fingerprint.
    pub fn key_file(&self) -> Option<&Path> {
        self.key_file.as_ref().map(|file| file.path.as_path())
    }
}

/// `Some(FINGERPRINT)` when `text` is hex of a fingerprint's or long key ID's length.
fn normalize_fingerprint(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|&c| c != ' ').collect();
    let (hex, exact) = match compact.strip_suffix('!') {
        Some(hex) => (hex, "!"),
        None => (compact.as_str(), ""),
    };
    let is_hex = hex.chars().all(|c| c.is_ascii_hexdigit());
    (is_hex && matches!(hex.len(), 16 | 40 | 64)).then(|| format!("{}{exact}", hex.to_ascii_uppercase()))
}

impl FromStr for PgpRecipient {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<Self, KeyError> {
        PgpRecipient::parse(text)
    }
}

impl fmt::Display for PgpRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key_file {
            None => f.write_str(&self.fp),
            Some(file) => write!(f, "{} (key file {})", self.fp, file.path.display()),
        }
    }
}

impl fmt::Debug for PgpRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgpRecipient")
            .field("fp", &self.fp)
            .field("key_file", &self.key_file())
            .finish()
    }
}

/// Two recipients are the same key when their metadata `fp` is the same.
impl PartialEq for PgpRecipient {
    fn eq(&self, other: &Self) -> bool {
        self.fp == other.fp
    }
}

impl Eq for PgpRecipient {}

/// Parses a comma-separated list, as given to `--pgp` or in `SOPS_PGP_FP`. Blank entries are
/// skipped.
pub fn parse_recipients(list: &str) -> Result<Vec<PgpRecipient>, KeyError> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(PgpRecipient::parse)
        .collect()
}

/// Encrypts `data_key` to one recipient: the armored message sops stores as `enc`, without a
/// trailing newline. `created_at` is the caller's to fill in.
///
/// A fingerprint is encrypted to by running gpg exactly as sops does; a key file natively.
pub fn wrap(recipient: &PgpRecipient, data_key: &[u8], env: &dyn Env) -> Result<String, KeyError> {
    let failed = |reason: String| KeyError::WrapDataKey {
        recipient: recipient.to_string(),
        reason,
    };
    match &recipient.key_file {
        Some(file) => encrypt_natively(&file.cert, data_key, unix_now()).map_err(failed),
        None => {
            let gpg = Gpg::locate(env).map_err(|reason| {
                failed(format!(
                    "{reason}; install GnuPG (or set {GPG_EXEC_VAR}), or give the armored public key file \
                     instead of the fingerprint"
                ))
            })?;
            gpg.encrypt(&recipient.fp, data_key).map_err(failed)
        }
    }
}

impl MasterKey for PgpRecipient {
    const KIND: KeyKind = KeyKind::Pgp;
    type Stanza = PgpStanza;
    type UnwrapError = PgpUnwrapError;

    fn name(&self) -> &str {
        self.fingerprint()
    }

    fn wrap(&self, secret: &[u8], ctx: &WrapContext<'_>) -> Result<PgpStanza, KeyError> {
        Ok(PgpStanza {
            created_at: ctx.created_at.clone(),
            enc: wrap(self, secret, ctx.env)?,
            fp: self.fingerprint().to_owned(),
        })
    }

    fn holds(&self, stanza: &PgpStanza) -> bool {
        stanza.fp == self.fingerprint()
    }

    fn stanza_name(stanza: &PgpStanza) -> String {
        stanza.fp.clone()
    }

    fn unwrap(stanza: &PgpStanza, identities: &Identities) -> Result<Zeroizing<Vec<u8>>, PgpUnwrapError> {
        unwrap(&stanza.enc, &identities.pgp)
    }

    fn of_recipients(group: &RecipientGroup) -> &[Self] {
        &group.pgp
    }

    fn of_key_group(group: &KeyGroup) -> &[PgpStanza] {
        &group.pgp
    }

    fn of_key_group_mut(group: &mut KeyGroup) -> &mut Vec<PgpStanza> {
        &mut group.pgp
    }
}

impl UnwrapFailure for PgpUnwrapError {}

/// Why a PGP-wrapped key could not be opened. Messages never include key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgpUnwrapError {
    /// Neither the native keys nor gpg hold a secret key for this message.
    NoSecretKey {
        /// The key IDs the message is encrypted to (upper-case hex), when they could be read.
        recipients: Vec<String>,
        /// How many native keys were tried.
        native_keys: usize,
        /// What gpg said, or `None` when there was no gpg to ask.
        gpg: Option<String>,
    },
    /// gpg failed for another reason than a missing key (agent, pinentry, passphrase, …).
    Gpg(String),
    /// The text is not a well-formed armored OpenPGP message, or it was tampered with.
    Malformed(String),
}

impl fmt::Display for PgpUnwrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgpUnwrapError::NoSecretKey {
                recipients,
                native_keys,
                gpg,
            } => {
                f.write_str("no secret key for this message")?;
                if !recipients.is_empty() {
                    write!(f, " (encrypted to {})", recipients.join(", "))?;
                }
                match native_keys {
                    0 => write!(f, "; no key in {KEY_FILE_VAR} or {KEY_VAR}")?,
                    1 => write!(f, "; the key from {KEY_FILE_VAR}/{KEY_VAR} is not one of them")?,
                    n => write!(f, "; none of the {n} keys from {KEY_FILE_VAR}/{KEY_VAR} is one of them")?,
                }
                match gpg {
                    Some(said) => write!(f, "; gpg: {said}"),
                    None => f.write_str("; no gpg binary to ask"),
                }
            }
            PgpUnwrapError::Gpg(reason) => write!(f, "gpg failed: {reason}"),
            PgpUnwrapError::Malformed(reason) => write!(f, "malformed OpenPGP message: {reason}"),
        }
    }
}

impl std::error::Error for PgpUnwrapError {}

/// Decrypts one armored OpenPGP message (a metadata `enc`): with the native keys first, then by
/// running `gpg --use-agent -d` as sops does. The plaintext is returned as is: a 32-byte data
/// key, or a 33-byte Shamir share.
pub fn unwrap(enc: &str, identities: &PgpIdentities) -> Result<Zeroizing<Vec<u8>>, PgpUnwrapError> {
    let armored = enc.trim_start();
    if !armored.starts_with(MESSAGE_BEGIN) {
        return Err(PgpUnwrapError::Malformed(format!(
            "expected an ASCII-armored OpenPGP message starting with `{MESSAGE_BEGIN}`"
        )));
    }
    let native = match decrypt_natively(armored, identities.native_keys()) {
        Ok(plaintext) => return Ok(plaintext),
        Err(failure) => failure,
    };
    let from_gpg = match identities.gpg() {
        None => None,
        Some(gpg) => match gpg.decrypt(armored) {
            Ok(plaintext) => return Ok(plaintext),
            Err(failure) => Some(failure),
        },
    };
    let no_secret_key = |recipients: Vec<String>, gpg: Option<String>| PgpUnwrapError::NoSecretKey {
        recipients,
        native_keys: identities.len(),
        gpg,
    };
    Err(match (native, from_gpg) {
        // gpg read it, so rPGP's complaint is about a feature, not the message.
        (NativeFailure::Unreadable(_), Some(GpgFailure::NoSecretKey(said))) => no_secret_key(Vec::new(), Some(said)),
        (NativeFailure::Unreadable(reason) | NativeFailure::Failed(reason), _) => PgpUnwrapError::Malformed(reason),
        (NativeFailure::NoMatch { .. }, Some(GpgFailure::Other(reason))) => PgpUnwrapError::Gpg(reason),
        (NativeFailure::NoMatch { recipients }, Some(GpgFailure::NoSecretKey(said))) => {
            no_secret_key(recipients, Some(said))
        }
        (NativeFailure::NoMatch { recipients }, None) => no_secret_key(recipients, None),
    })
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::gpg::short_key_id;
    use super::*;
    use crate::keys::{DataKey, MapEnv};
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use std::process::Command;

    #[test]
    fn fingerprints_are_stored_as_sops_stores_them() {
        let spaced = "fbc7 b9e2 a4f9 289a c0c1  d484 3d16 cee4 a273 81b4";
        let recipient = PgpRecipient::parse(&format!("  {spaced}\n")).expect("valid");
        assert_eq!(recipient.fingerprint(), KEY1_FP);
        assert_eq!(recipient.to_string(), KEY1_FP);
        assert_eq!(recipient.key_file(), None);

        let exact = PgpRecipient::parse("71D962851765394F76DB9CFC25294A17CD90507F!").expect("valid");
        assert_eq!(exact.fingerprint(), "71D962851765394F76DB9CFC25294A17CD90507F!");
        assert_eq!(short_key_id(exact.fingerprint()), KEY1_SUBKEY);
        assert_eq!(short_key_id(KEY1_FP), "3D16CEE4A27381B4");

        let list = format!(" {KEY1_FP} ,{FLUX_FP},, ");
        let parsed = parse_recipients(&list).expect("valid list");
        let fps: Vec<&str> = parsed.iter().map(PgpRecipient::fingerprint).collect();
        assert_eq!(fps, [KEY1_FP, FLUX_FP]);
        assert_eq!(parse_recipients("").expect("empty"), []);
        assert_eq!(KEY1_FP.parse::<PgpRecipient>().expect("valid"), recipient);
    }

    #[test]
    fn rejects_what_is_neither_a_fingerprint_nor_a_key_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let garbage = write_file(dir.path(), "garbage.asc", "hello\n");
        let secret = dir.path().join("secret.asc");
        std::fs::copy(functional_keys_path(), &secret).expect("copy");
        let missing = dir.path().join("missing.asc");
        let cases = [
            ("", "neither an OpenPGP fingerprint"),
            ("FBC7B9E2", "neither an OpenPGP fingerprint"),
            ("0xFBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4", "neither"),
            ("FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381BZ", "neither"),
            ("alice@example.com", "neither"),
            (missing.to_str().expect("utf-8"), "cannot read the key file"),
            (garbage.to_str().expect("utf-8"), "not an armored OpenPGP public key"),
            (secret.to_str().expect("utf-8"), "holds a secret key"),
        ];
        for (text, expected) in cases {
            match PgpRecipient::parse(text) {
                Err(KeyError::InvalidRecipient { recipient, reason }) => {
                    assert_eq!(recipient, text);
                    assert!(reason.contains(expected), "{text}: {reason}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let error = parse_recipients(&format!("{KEY1_FP},nope")).expect_err("bad entry");
        assert!(matches!(&error, KeyError::InvalidRecipient { recipient, .. } if recipient == "nope"));
    }

    #[test]
    fn a_fingerprint_from_metadata_is_never_read_as_a_key_file() {
        let spaced = "fbc7 b9e2 a4f9 289a c0c1  d484 3d16 cee4 a273 81b4";
        let recipient = PgpRecipient::from_fingerprint(spaced).expect("a fingerprint");
        assert_eq!(recipient.fingerprint(), KEY1_FP);
        assert_eq!(recipient.key_file(), None);
        let flux = vector("keys/pgp-testdata/public.gpg");
        let path = flux.to_str().expect("utf-8");
        assert!(PgpRecipient::parse(path).is_ok(), "the user may name a key file");
        assert!(PgpRecipient::from_fingerprint(path).is_none(), "metadata may not");
        assert!(PgpRecipient::from_fingerprint("").is_none());
    }

    #[test]
    fn a_public_key_file_is_a_recipient_named_by_its_primary_fingerprint() {
        let flux = vector("keys/pgp-testdata/public.gpg");
        let recipient = PgpRecipient::parse(flux.to_str().expect("utf-8")).expect("the Flux public key");
        assert_eq!(recipient.fingerprint(), FLUX_FP);
        assert_eq!(recipient.key_file(), Some(flux.as_path()));
        assert!(recipient.to_string().starts_with(&format!("{FLUX_FP} (key file ")));

        let dir = tempfile::tempdir().expect("tempdir");
        let two = format!(
            "{}\n{}",
            public_key_of(read_vector("keys/pgp-testdata/private.gpg").as_bytes()),
            public_key_of(read_vector("keys/sops_functional_tests_key.asc").as_bytes())
        );
        let two = write_file(dir.path(), "two.asc", &two);
        let error = PgpRecipient::parse(two.to_str().expect("utf-8")).expect_err("two keys");
        assert!(error.to_string().contains("one key in each file"), "{error}");
    }

    #[test]
    fn native_wrap_and_unwrap_round_trip_in_sops_armor() {
        let recipient = PgpRecipient::parse(vector("keys/pgp-testdata/public.gpg").to_str().expect("utf-8"))
            .expect("the Flux public key");
        let identities = native("test", read_vector("keys/pgp-testdata/private.gpg").as_bytes());
        let no_gpg = MapEnv::new();
        let data_key = DataKey::generate();
        let enc = wrap(&recipient, data_key.as_bytes(), &no_gpg).expect("wrap");
        assert_sops_armor(&enc);
        assert_eq!(pkesk_ids(&enc), ["C8793FCA61E1758F"], "the encryption subkey");
        assert_eq!(
            unwrap(&enc, &identities).expect("unwrap").as_slice(),
            data_key.as_bytes()
        );

        let share = [0x5A; 33];
        let enc = wrap(&recipient, &share, &no_gpg).expect("wrap a share");
        assert_eq!(unwrap(&enc, &identities).expect("unwrap").as_slice(), &share);
    }

    #[test]
    fn the_wrong_or_no_key_is_reported_as_no_secret_key() {
        let enc = gpgbinary_enc();
        let error = unwrap(&enc, &PgpIdentities::new()).expect_err("no keys at all");
        assert_eq!(
            error,
            PgpUnwrapError::NoSecretKey {
                recipients: vec![KEY1_SUBKEY.into()],
                native_keys: 0,
                gpg: None
            }
        );
        assert_eq!(
            error.to_string(),
            "no secret key for this message (encrypted to 25294A17CD90507F); \
             no key in SOPS_PGP_KEY_FILE or SOPS_PGP_KEY; no gpg binary to ask"
        );

        let flux = native("flux", read_vector("keys/pgp-testdata/private.gpg").as_bytes());
        let error = unwrap(&enc, &flux).expect_err("the Flux key is not a recipient");
        assert!(
            matches!(&error, PgpUnwrapError::NoSecretKey { native_keys: 1, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("is not one of them"), "{error}");
    }

    /// Re-armors a message without its (optional) CRC, so that a changed byte reaches the MDC.
    fn rearmor(binary: &[u8]) -> String {
        let base64 = STANDARD.encode(binary);
        let lines: Vec<&str> = base64
            .as_bytes()
            .chunks(64)
            .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
            .collect();
        format!(
            "-----BEGIN PGP MESSAGE-----\n\n{}\n-----END PGP MESSAGE-----",
            lines.join("\n")
        )
    }

    #[test]
    fn damaged_messages_are_malformed_not_a_missing_key() {
        let identities = native("test", read_vector("keys/sops_functional_tests_key.asc").as_bytes());
        let enc = gpgbinary_enc();
        let body: String = enc.lines().skip(2).take_while(|line| !line.starts_with('=')).collect();
        let mut binary = STANDARD.decode(&body).expect("base64");
        assert_eq!(
            unwrap(&rearmor(&binary), &identities).expect("no CRC is fine").len(),
            32
        );
        let last = binary.len() - 1;
        binary[last] ^= 1;
        let tampered = rearmor(&binary);
        let wrong_crc = enc.replacen("hQEMAyUp", "hQEMAyUq", 1);
        let cases = [
            "".to_owned(),
            "not pgp at all".to_owned(),
            "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n".to_owned(),
            enc.replace("-----END PGP MESSAGE-----", ""),
            wrong_crc,
            tampered,
        ];
        for case in &cases {
            match unwrap(case, &identities) {
                Err(PgpUnwrapError::Malformed(reason)) => assert!(!reason.is_empty()),
                other => panic!("{case:?} gave {other:?}"),
            }
        }
        assert!(
            unwrap("", &identities)
                .expect_err("empty")
                .to_string()
                .starts_with("malformed OpenPGP message: expected an ASCII-armored OpenPGP message")
        );
        let leading_blank_lines = format!("\n  \n{enc}\n");
        assert_eq!(unwrap(&leading_blank_lines, &identities).expect("tolerated").len(), 32);
    }

    /// The real sops reads what ksec writes: a stanza wrapped natively replaces the one in a
    /// vector, and sops 3.11 decrypts the file (through gpg for key 1, through go-crypto and the
    /// legacy keyring for the Flux key, with gpg disabled).
    #[test]
    fn real_sops_decrypts_natively_wrapped_stanzas() {
        let Some(sops) = std::env::var_os("KSEC_PEER_SOPS").map(PathBuf::from) else {
            assert!(std::env::var_os("CI").is_none(), "KSEC_PEER_SOPS is required in CI");
            eprintln!("note: KSEC_PEER_SOPS not set; skipping the sops interop test");
            return;
        };
        let Some(home) = GnupgHome::new() else { return };
        home.import("keys/sops_functional_tests_key.asc");
        let legacy = GnupgHome::new().expect("gpg exists");
        for ring in ["pubring.gpg", "secring.gpg"] {
            std::fs::copy(
                vector(&format!("keys/pgp-testdata/ring/{ring}")),
                legacy.path().join(ring),
            )
            .expect("copy ring");
        }
        let cases = [
            (
                "pgp-gpgbinary",
                "keys/sops_functional_tests_key.asc",
                &home,
                home.gpg.clone(),
            ),
            (
                "pgp-flux-gocrypto",
                "keys/pgp-testdata/private.gpg",
                &legacy,
                PathBuf::from("/bin/false"),
            ),
        ];
        for (name, secret, gnupghome, gpg_exec) in cases {
            let original = read_vector(&format!("generated-by-sops-3.11.0/{name}.enc.json"));
            let enc = json_enc(&original);
            let secret = read_vector(secret);
            let data_key = unwrap(&enc, &native("test", secret.as_bytes())).expect("the vector's data key");
            let public = write_file(gnupghome.path(), "public.asc", &public_key_of(secret.as_bytes()));
            let recipient = PgpRecipient::parse(public.to_str().expect("utf-8")).expect("public key");
            let ours = wrap(&recipient, &data_key, &MapEnv::new()).expect("wrap natively");
            assert_ne!(ours, enc);
            let file = write_file(
                gnupghome.path(),
                "file.enc.json",
                &original.replace(&enc.replace('\n', "\\n"), &ours.replace('\n', "\\n")),
            );
            let output = Command::new(&sops)
                .arg("decrypt")
                .arg(&file)
                .env("GNUPGHOME", gnupghome.path())
                .env("SOPS_GPG_EXEC", &gpg_exec)
                .env_remove("SOPS_AGE_KEY_FILE")
                .output()
                .expect("run sops");
            assert!(
                output.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let expected = read_vector(&format!("generated-by-sops-3.11.0/{name}.decrypted.json"));
            assert_eq!(String::from_utf8_lossy(&output.stdout), expected, "{name}");
        }
    }
}
