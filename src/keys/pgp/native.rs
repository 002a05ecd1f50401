//! Native OpenPGP with rPGP, for users without GnuPG: reading public key files and secret keys,
//! choosing the key a message is encrypted to as gpg and go-crypto would, and writing and reading
//! the messages.
//!
//! Messages are what gpg 2.2 and sops's go-crypto read: a PKESK v3 and a SEIPD v1 packet (with
//! MDC) around a binary literal-data packet, AES-256, uncompressed. Reading also accepts GnuPG
//! 2.3+'s OCB packets.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use ::pgp::armor::{BlockType, Dearmor};
use ::pgp::composed::{
    ArmorOptions, DecryptionOptions, Deserializable, Esk, Message, MessageBuilder, SignedPublicKey, SignedPublicSubKey,
    SignedSecretKey, TheRing,
};
use ::pgp::crypto::public_key::PublicKeyAlgorithm;
use ::pgp::crypto::sym::SymmetricKeyAlgorithm;
use ::pgp::packet::{KeyFlags, PublicKey, PublicKeyEncryptedSessionKey, Signature, SignatureType, SubpacketData};
use ::pgp::types::{KeyDetails, KeyVersion, Password, Tag};
use zeroize::Zeroizing;

pub(super) const PUBLIC_KEY_BLOCK: &str = "PGP PUBLIC KEY BLOCK";
pub(super) const PRIVATE_KEY_BLOCK: &str = "PGP PRIVATE KEY BLOCK";

pub(super) fn parse_public_key_file(bytes: &[u8]) -> Result<SignedPublicKey, String> {
    let text = std::str::from_utf8(bytes).unwrap_or_default();
    if !text
        .trim_start()
        .starts_with(&format!("-----BEGIN {PUBLIC_KEY_BLOCK}-----"))
    {
        return Err(if text.contains(PRIVATE_KEY_BLOCK) {
            "the file holds a secret key; give the public key (gpg --armor --export FINGERPRINT)".into()
        } else {
            format!(
                "not an armored OpenPGP public key (expected a file starting with -----BEGIN {PUBLIC_KEY_BLOCK}-----)"
            )
        });
    }
    let mut certs = Vec::new();
    for block in armor_blocks(text, PUBLIC_KEY_BLOCK) {
        let (parsed, _headers) = SignedPublicKey::from_armor_many(block.as_bytes())
            .map_err(|e| format!("cannot parse the public key: {e}"))?;
        for cert in parsed {
            certs.push(cert.map_err(|e| format!("cannot parse the public key: {e}"))?);
        }
    }
    match certs.len() {
        1 => Ok(certs.remove(0)),
        0 => Err("the file holds no public key".into()),
        n => Err(format!("the file holds {n} public keys; put one key in each file")),
    }
}

pub(super) fn encrypt_natively(cert: &SignedPublicKey, data_key: &[u8], now: u64) -> Result<String, String> {
    let target = choose_encryption_key(cert, now)?;
    let mut rng = rand::thread_rng();
    // From a reader rather than from a byte buffer, so that no unwiped copy of the key is made.
    let mut builder = MessageBuilder::from_reader("", data_key).seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
    let added = match target {
        EncryptionKey::Primary(key) => builder.encrypt_to_key(&mut rng, key).map(|_| ()),
        EncryptionKey::Subkey(subkey) => builder.encrypt_to_key(&mut rng, subkey).map(|_| ()),
    };
    added.map_err(|e| format!("cannot encrypt to the key: {e}"))?;
    let armored = builder
        .to_armored_string(&mut rng, ArmorOptions::default())
        .map_err(|e| format!("cannot write the OpenPGP message: {e}"))?;
    // sops trims gpg's output; its go-crypto path writes none.
    Ok(armored.trim_end().to_owned())
}

/// The component of a certificate that a message is encrypted to.
pub(super) enum EncryptionKey<'a> {
    Primary(&'a PublicKey),
    Subkey(&'a SignedPublicSubKey),
}

/// Picks the key to encrypt to, as gpg and go-crypto would: the newest subkey that is bound by a
/// valid signature whose key flags allow encryption (or that has no key flags and an
/// encryption algorithm), is not revoked and not expired; else the primary key if its newest
/// self-signature allows encryption. The whole certificate is refused if it is not v4, its
/// primary key is revoked or expired, or it has no valid self-signature. Signatures are checked
/// cryptographically; third-party certifications are ignored.
pub(super) fn choose_encryption_key(cert: &SignedPublicKey, now: u64) -> Result<EncryptionKey<'_>, String> {
    let primary = &cert.primary_key;
    if primary.version() != KeyVersion::V4 {
        return Err(format!(
            "{:?} keys are not supported; sops and GnuPG 2.2 need v4 keys",
            primary.version()
        ));
    }
    let revoked = cert
        .details
        .revocation_signatures
        .iter()
        .any(|sig| sig.typ() == Some(SignatureType::KeyRevocation) && sig.verify_key(primary).is_ok());
    if revoked {
        return Err("the key is revoked".into());
    }
    let self_signature = newest_self_signature(cert).ok_or("the key has no valid self-signature")?;
    if let Some(expiry) = expiry_time(primary.created_at().as_secs(), self_signature)
        && expiry <= now
    {
        return Err(format!("the key expired on {}", format_date(expiry)));
    }

    let mut skipped = Vec::new();
    let mut best: Option<&SignedPublicSubKey> = None;
    for subkey in &cert.public_subkeys {
        match check_subkey(primary, subkey, now) {
            Ok(()) => {
                if best.is_none_or(|b| subkey.key.created_at() > b.key.created_at()) {
                    best = Some(subkey);
                }
            }
            Err(reason) => skipped.push(format!("subkey {}: {reason}", key_id_hex(&subkey.key))),
        }
    }
    if let Some(subkey) = best {
        return Ok(EncryptionKey::Subkey(subkey));
    }
    if allows_encryption(self_signature, primary.algorithm()) {
        return Ok(EncryptionKey::Primary(primary));
    }
    let mut message = String::from("the key has no usable encryption key");
    if !skipped.is_empty() {
        message.push_str(&format!(" ({})", skipped.join("; ")));
    }
    Err(message)
}

fn check_subkey(primary: &PublicKey, subkey: &SignedPublicSubKey, now: u64) -> Result<(), String> {
    let verified = |sig: &&Signature| sig.verify_subkey_binding(primary, &subkey.key).is_ok();
    let signatures = || subkey.signatures.iter();
    if signatures()
        .filter(|sig| sig.typ() == Some(SignatureType::SubkeyRevocation))
        .any(|sig| verified(&sig))
    {
        return Err("revoked".into());
    }
    let binding = signatures()
        .filter(|sig| sig.typ() == Some(SignatureType::SubkeyBinding))
        .filter(verified)
        .max_by_key(|sig| created_secs(sig))
        .ok_or("no valid binding signature")?;
    if !allows_encryption(binding, subkey.key.algorithm()) {
        return Err("not for encryption".into());
    }
    if let Some(expiry) = expiry_time(subkey.key.created_at().as_secs(), binding)
        && expiry <= now
    {
        return Err(format!("expired on {}", format_date(expiry)));
    }
    Ok(())
}

/// The newest valid direct-key or user ID self-signature of the primary key.
fn newest_self_signature(cert: &SignedPublicKey) -> Option<&Signature> {
    let primary = &cert.primary_key;
    let direct = cert
        .details
        .direct_signatures
        .iter()
        .filter(|sig| sig.typ() == Some(SignatureType::Key) && sig.verify_key(primary).is_ok());
    let user_ids = cert.details.users.iter().flat_map(|user| {
        user.signatures.iter().filter(move |sig| {
            let certification = matches!(
                sig.typ(),
                Some(
                    SignatureType::CertGeneric
                        | SignatureType::CertPersona
                        | SignatureType::CertCasual
                        | SignatureType::CertPositive
                )
            );
            certification && sig.verify_certification(primary, Tag::UserId, &user.id).is_ok()
        })
    });
    direct.chain(user_ids).max_by_key(|sig| created_secs(sig))
}

/// Key flags allow encryption; without a key flags subpacket the algorithm decides (go-crypto).
fn allows_encryption(signature: &Signature, algorithm: PublicKeyAlgorithm) -> bool {
    if !algorithm.can_encrypt() {
        return false;
    }
    match key_flags(signature) {
        Some(flags) => flags.encrypt_comms() || flags.encrypt_storage(),
        None => true,
    }
}

fn key_flags(signature: &Signature) -> Option<KeyFlags> {
    signature
        .config()?
        .hashed_subpackets()
        .find_map(|subpacket| match &subpacket.data {
            SubpacketData::KeyFlags(flags) => Some(flags.clone()),
            _ => None,
        })
}

/// When the key expires, in Unix seconds; `None` if never (a zero expiration means never too).
fn expiry_time(key_created: u32, signature: &Signature) -> Option<u64> {
    let valid_for = std::time::Duration::from(signature.key_expiration_time()?).as_secs();
    (valid_for > 0).then(|| u64::from(key_created) + valid_for)
}

fn created_secs(signature: &Signature) -> u32 {
    signature.created().map(|t| t.as_secs()).unwrap_or_default()
}

fn format_date(unix: u64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    i64::try_from(unix)
        .ok()
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| format!("@{unix}"))
}

fn key_id_hex(key: &impl KeyDetails) -> String {
    key.legacy_key_id().to_string().to_ascii_uppercase()
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Every armored `PGP PRIVATE KEY BLOCK` in the text (rPGP reads one block per call), or the
/// binary keys.
pub(super) fn parse_secret_keys(bytes: &[u8]) -> Result<Vec<SignedSecretKey>, String> {
    let not_parsed = |e: ::pgp::errors::Error| format!("cannot parse the OpenPGP secret key: {e}");
    let mut keys = Vec::new();
    match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN PGP") => {
            let blocks = armor_blocks(text, PRIVATE_KEY_BLOCK);
            if blocks.is_empty() {
                return Err(if text.contains(PUBLIC_KEY_BLOCK) {
                    "it holds only public keys; export the secret key with \
                     `gpg --armor --export-secret-keys FINGERPRINT`"
                        .into()
                } else {
                    format!("no -----BEGIN {PRIVATE_KEY_BLOCK}----- found")
                });
            }
            for block in blocks {
                let (parsed, _headers) = SignedSecretKey::from_armor_many(block.as_bytes()).map_err(not_parsed)?;
                for key in parsed {
                    keys.push(key.map_err(not_parsed)?);
                }
            }
        }
        _ => {
            for key in SignedSecretKey::from_bytes_many(bytes).map_err(not_parsed)? {
                keys.push(key.map_err(not_parsed)?);
            }
        }
    }
    if keys.is_empty() {
        return Err("no OpenPGP secret key found".into());
    }
    Ok(keys)
}

/// The `-----BEGIN {kind}-----` … `-----END {kind}-----` blocks of `text`, in order.
fn armor_blocks<'a>(text: &'a str, kind: &str) -> Vec<&'a str> {
    let begin = format!("-----BEGIN {kind}-----");
    let end = format!("-----END {kind}-----");
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let Some(length) = rest[start..].find(&end) else {
            // An unterminated block: rPGP reports it.
            blocks.push(&rest[start..]);
            break;
        };
        let stop = start + length + end.len();
        blocks.push(&rest[start..stop]);
        rest = &rest[stop..];
    }
    blocks
}

/// Removes the passphrase from every component it unlocks; the others stay locked.
pub(super) fn unlock(key: &mut SignedSecretKey, password: &Password) {
    if key.primary_key.secret_params().is_encrypted() {
        let _ = key.primary_key.remove_password(password);
    }
    for subkey in &mut key.secret_subkeys {
        if subkey.key.secret_params().is_encrypted() {
            let _ = subkey.key.remove_password(password);
        }
    }
}

pub(super) fn is_locked(key: &SignedSecretKey) -> bool {
    key.primary_key.secret_params().is_encrypted()
        || key
            .secret_subkeys
            .iter()
            .any(|subkey| subkey.key.secret_params().is_encrypted())
}

/// Some unlocked component has an algorithm that decrypts.
pub(super) fn can_decrypt_now(key: &SignedSecretKey) -> bool {
    let primary = &key.primary_key;
    let primary_ok = !primary.secret_params().is_encrypted() && primary.public_key().algorithm().can_encrypt();
    primary_ok
        || key
            .secret_subkeys
            .iter()
            .any(|subkey| !subkey.key.secret_params().is_encrypted() && subkey.key.algorithm().can_encrypt())
}

/// Why the native keys did not decrypt a message.
pub(super) enum NativeFailure {
    /// Readable, but for none of the native keys.
    NoMatch { recipients: Vec<String> },
    /// A native key is a recipient, yet the message did not decrypt: damaged or tampered.
    Failed(String),
    /// Not a message rPGP can read.
    Unreadable(String),
}

pub(super) fn decrypt_natively(armored: &str, keys: &[SignedSecretKey]) -> Result<Zeroizing<Vec<u8>>, NativeFailure> {
    let binary = dearmor(armored).map_err(NativeFailure::Unreadable)?;
    let message = Message::from_bytes(binary.as_slice()).map_err(|e| NativeFailure::Unreadable(e.to_string()))?;
    let Message::Encrypted { esk, .. } = &message else {
        return Err(NativeFailure::Unreadable("not an encrypted message".into()));
    };
    let pkesks: Vec<&PublicKeyEncryptedSessionKey> = esk
        .iter()
        .filter_map(|esk| match esk {
            Esk::PublicKeyEncryptedSessionKey(pkesk) => Some(pkesk),
            Esk::SymKeyEncryptedSessionKey(_) => None,
        })
        .collect();
    let recipients: Vec<String> = pkesks.iter().map(|pkesk| recipient_id(pkesk)).collect();
    // A wildcard key ID (an anonymous recipient) matches every key; a key that then fails is not
    // a sign of damage.
    let named = |key: &SignedSecretKey| pkesks.iter().any(|pkesk| names_key(pkesk, key, false));
    let candidates: Vec<&SignedSecretKey> = keys
        .iter()
        .filter(|key| pkesks.iter().any(|pkesk| names_key(pkesk, key, true)))
        .collect();
    if candidates.is_empty() {
        return Err(NativeFailure::NoMatch { recipients });
    }
    let named_candidate = candidates.iter().any(|key| named(key));
    let ring = TheRing {
        secret_keys: candidates,
        decrypt_options: DecryptionOptions::new().enable_gnupg_aead(),
        ..TheRing::default()
    };
    let failed = |reason: String| {
        if named_candidate {
            NativeFailure::Failed(reason)
        } else {
            NativeFailure::NoMatch {
                recipients: recipients.clone(),
            }
        }
    };
    let (mut decrypted, _) = message
        .decrypt_the_ring(ring, true)
        .map_err(|e| failed(format!("a matching key does not decrypt it: {e}")))?;
    if decrypted.is_compressed() {
        decrypted = decrypted
            .decompress()
            .map_err(|e| failed(format!("cannot decompress the payload: {e}")))?;
    }
    let mut plaintext = Zeroizing::new(Vec::with_capacity(64));
    decrypted
        .read_to_end(&mut plaintext)
        .map_err(|e| failed(format!("the payload does not decrypt: {e}")))?;
    Ok(plaintext)
}

/// The binary message inside the armor. The CRC, when present, must match, as go-crypto (sops's
/// reader) insists. rPGP's own check is switched off by default (RFC 9580 makes the CRC
/// optional), and in 0.21 its optional check rejects every message, so ksec checks it here.
fn dearmor(armored: &str) -> Result<Vec<u8>, String> {
    let mut dearmor = Dearmor::new(armored.as_bytes());
    dearmor.read_header().map_err(|e| format!("bad armor: {e}"))?;
    if dearmor.typ != Some(BlockType::Message) {
        return Err("the armor does not hold a PGP MESSAGE".into());
    }
    let mut binary = Vec::with_capacity(armored.len());
    dearmor
        .read_to_end(&mut binary)
        .map_err(|e| format!("bad armor: {e}"))?;
    match dearmor.checksum {
        Some(expected) if expected != u64::from(crc24(&binary)) => Err("bad armor: the CRC does not match".into()),
        _ => Ok(binary),
    }
}

/// The OpenPGP armor checksum (RFC 4880, section 6.1).
fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00B7_04CE;
    for &byte in data {
        crc ^= u32::from(byte) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4CFB;
            }
        }
    }
    crc & 0x00FF_FFFF
}

/// Whether a PKESK is for one of this key's components; wildcards count only if `wildcard`.
fn names_key(pkesk: &PublicKeyEncryptedSessionKey, key: &SignedSecretKey, wildcard: bool) -> bool {
    let is_wildcard = pkesk.id().is_ok_and(|id| id.is_wildcard()) || pkesk.fingerprint().is_ok_and(|fp| fp.is_none());
    if is_wildcard {
        return wildcard;
    }
    pkesk.match_identity(key.primary_key.public_key())
        || key
            .secret_subkeys
            .iter()
            .any(|subkey| pkesk.match_identity(subkey.key.public_key()))
}

pub(super) fn recipient_id(pkesk: &PublicKeyEncryptedSessionKey) -> String {
    match (pkesk.id(), pkesk.fingerprint()) {
        (Ok(id), _) if id.is_wildcard() => "an anonymous recipient".into(),
        (Ok(id), _) => id.to_string().to_ascii_uppercase(),
        (_, Ok(Some(fp))) => format!("{fp:X}"),
        _ => "an anonymous recipient".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::{PgpIdentities, PgpRecipient, PgpUnwrapError, discover, unwrap, wrap};
    use super::*;
    use crate::keys::KeyError;
    use crate::keys::MapEnv;
    use std::path::Path;

    #[test]
    fn native_keys_read_a_gnupg_ocb_message() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pgp-ocb");
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let message = read("msg_to_bob.asc");
        let binary = dearmor(&message).expect("armored");
        let parsed = Message::from_bytes(binary.as_slice()).expect("a message");
        assert!(
            matches!(
                &parsed,
                Message::Encrypted {
                    edata: ::pgp::composed::Edata::GnupgAeadData { .. },
                    ..
                }
            ),
            "the vector is not GnuPG's AEAD packet"
        );
        let identities = native("bob", read("bob.sec.asc").as_bytes());
        assert_eq!(
            unwrap(&message, &identities).expect("rPGP reads OCB").as_slice(),
            b"foo\n"
        );
        assert!(matches!(
            unwrap(&message, &PgpIdentities::new()),
            Err(PgpUnwrapError::NoSecretKey { .. })
        ));
    }

    /// Subkey choice on a key made by gpg with faked clocks: an ed25519 primary that only
    /// certifies, and cv25519 encryption subkeys made in 2020 (expired after a year), 2021 and
    /// 2022.
    #[test]
    fn the_newest_valid_encryption_subkey_is_chosen() {
        let Some(home) = GnupgHome::new() else { return };
        let gpg_at = |time: &str, args: &[&str]| {
            home.run(
                &[&["--faked-system-time", time, "--passphrase", ""], args].concat(),
                b"",
            )
        };
        gpg_at(
            "20200101T000000",
            &[
                "--quick-gen-key",
                "Selection Test <sel@example.invalid>",
                "ed25519",
                "cert",
                "never",
            ],
        );
        let listing = String::from_utf8(home.run(&["--with-colons", "--list-keys"], b"").stdout).expect("text");
        let fp = listing
            .lines()
            .find_map(|line| line.strip_prefix("fpr:::::::::"))
            .and_then(|rest| rest.split(':').next())
            .expect("a fingerprint")
            .to_owned();
        gpg_at("20200101T000000", &["--quick-add-key", &fp, "cv25519", "encr", "1y"]);
        gpg_at("20210101T000000", &["--quick-add-key", &fp, "cv25519", "encr", "never"]);
        gpg_at("20220101T000000", &["--quick-add-key", &fp, "cv25519", "encr", "never"]);
        let listing = String::from_utf8(home.run(&["--with-colons", "--list-keys"], b"").stdout).expect("text");
        let subkeys: Vec<String> = listing
            .lines()
            .filter(|line| line.starts_with("sub:"))
            .map(|line| line.split(':').nth(4).expect("key id").to_owned())
            .collect();
        assert_eq!(subkeys.len(), 3);

        let chosen = |home: &GnupgHome| -> Result<String, KeyError> {
            let file = write_file(home.path(), "selection.asc", &home.export("--export", &fp));
            let recipient = PgpRecipient::parse(file.to_str().expect("utf-8"))?;
            assert_eq!(recipient.fingerprint(), fp);
            let enc = wrap(&recipient, &[7; 32], &MapEnv::new())?;
            let found = discover(&home.env());
            assert_eq!(unwrap(&enc, &found).expect("gpg decrypts ECDH").as_slice(), &[7; 32]);
            Ok(pkesk_ids(&enc).remove(0))
        };
        assert_eq!(chosen(&home).expect("usable"), subkeys[2], "the newest");

        let revoke = |index: usize| {
            let script = format!("key {index}\nrevkey\ny\n0\n\ny\nsave\n");
            home.run(&["--command-fd", "0", "--edit-key", &fp], script.as_bytes());
        };
        revoke(3);
        assert_eq!(chosen(&home).expect("usable"), subkeys[1], "the newest not revoked");
        revoke(2);
        let error = chosen(&home).expect_err("only an expired subkey is left").to_string();
        let expected = format!(
            "the key has no usable encryption key (subkey {}: expired on 2020-12-31; subkey {}: revoked; \
             subkey {}: revoked)",
            subkeys[0], subkeys[1], subkeys[2]
        );
        assert!(error.ends_with(&expected), "{error}");
    }

    #[test]
    fn expired_and_sign_only_keys_are_refused() {
        let Some(home) = GnupgHome::new() else { return };
        let make = |time: &str, uid: &str, usage: &str, expiry: &str| {
            home.run(
                &[
                    "--faked-system-time",
                    time,
                    "--passphrase",
                    "",
                    "--quick-gen-key",
                    uid,
                    "ed25519",
                    usage,
                    expiry,
                ],
                b"",
            );
            let file = write_file(home.path(), "key.asc", &home.export("--export", uid));
            PgpRecipient::parse(file.to_str().expect("utf-8"))
                .expect_err("unusable")
                .to_string()
        };
        let expired = make("20200101T000000", "<expired@example.invalid>", "default", "1y");
        assert!(expired.ends_with("the key expired on 2020-12-31"), "{expired}");
        let sign_only = make("20240101T000000", "<sign@example.invalid>", "sign", "never");
        assert!(
            sign_only.ends_with("the key has no usable encryption key"),
            "{sign_only}"
        );
    }
}
