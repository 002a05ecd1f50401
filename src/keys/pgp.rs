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
//! Native messages are what gpg 2.2 and sops's go-crypto read: a PKESK v3 and a SEIPD v1 packet
//! (with MDC) around a binary literal-data packet, AES-256, uncompressed. Reading also accepts
//! GnuPG 2.3+'s OCB packets.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
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

use super::age::{IdentitySource, SourceStatus};
use super::{Env, Identities, KeyKind, MasterKey};
use crate::error::Error;

const KEY_FILE_VAR: &str = "SOPS_PGP_KEY_FILE";
const KEY_VAR: &str = "SOPS_PGP_KEY";
const PASSPHRASE_VAR: &str = "SOPS_PGP_KEY_PASSPHRASE";
const GPG_EXEC_VAR: &str = "SOPS_GPG_EXEC";
const GNUPGHOME_VAR: &str = "GNUPGHOME";

const MESSAGE_BEGIN: &str = "-----BEGIN PGP MESSAGE-----";
const PUBLIC_KEY_BLOCK: &str = "PGP PUBLIC KEY BLOCK";
const PRIVATE_KEY_BLOCK: &str = "PGP PRIVATE KEY BLOCK";

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
    pub fn parse(text: &str) -> Result<PgpRecipient, Error> {
        let text = text.trim();
        let invalid = |message: String| Error::InvalidRecipient {
            recipient: text.to_owned(),
            message,
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

fn parse_public_key_file(bytes: &[u8]) -> Result<SignedPublicKey, String> {
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

impl FromStr for PgpRecipient {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
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
pub fn parse_recipients(list: &str) -> Result<Vec<PgpRecipient>, Error> {
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
pub fn wrap(recipient: &PgpRecipient, data_key: &[u8], env: &dyn Env) -> Result<String, Error> {
    let failed = |message: String| Error::WrapDataKey {
        recipient: recipient.to_string(),
        message,
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
    type UnwrapError = PgpUnwrapError;

    fn name(&self) -> &str {
        self.fingerprint()
    }

    fn wrap(&self, secret: &[u8], env: &dyn Env) -> Result<String, Error> {
        wrap(self, secret, env)
    }

    fn unwrap(enc: &str, identities: &Identities) -> Result<Zeroizing<Vec<u8>>, PgpUnwrapError> {
        unwrap(enc, &identities.pgp)
    }
}

fn encrypt_natively(cert: &SignedPublicKey, data_key: &[u8], now: u64) -> Result<String, String> {
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
enum EncryptionKey<'a> {
    Primary(&'a PublicKey),
    Subkey(&'a SignedPublicSubKey),
}

/// Picks the key to encrypt to, as gpg and go-crypto would: the newest subkey that is bound by a
/// valid signature whose key flags allow encryption (or that has no key flags and an
/// encryption algorithm), is not revoked and not expired; else the primary key if its newest
/// self-signature allows encryption. The whole certificate is refused if it is not v4, its
/// primary key is revoked or expired, or it has no valid self-signature. Signatures are checked
/// cryptographically; third-party certifications are ignored.
fn choose_encryption_key(cert: &SignedPublicKey, now: u64) -> Result<EncryptionKey<'_>, String> {
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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// How to run gpg: the binary and the GnuPG home, found as sops finds them.
#[derive(Debug, Clone)]
struct Gpg {
    program: PathBuf,
    /// `GNUPGHOME`, else `~/.gnupg`; passed to gpg as `GNUPGHOME`. Like sops, ksec adds no
    /// keyring options, so a `keyring` line in the user's `gpg.conf` still counts.
    home: Option<PathBuf>,
}

/// What a gpg run printed and how it ended.
struct GpgOutput {
    success: bool,
    stdout: Zeroizing<Vec<u8>>,
    stderr: String,
}

/// Why gpg did not decrypt a message.
enum GpgFailure {
    /// gpg has no secret key for any recipient ("decryption failed: No secret key").
    NoSecretKey(String),
    Other(String),
}

impl Gpg {
    /// `SOPS_GPG_EXEC` when set, else `gpg`, found as sops's `exec.Command` finds it: a name
    /// with a path separator is used as is (relative to the working directory), a bare name is
    /// looked up on the environment's `PATH`.
    fn locate(env: &dyn Env) -> Result<Gpg, String> {
        let home = env
            .var(GNUPGHOME_VAR)
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .or_else(|| env.home_dir().map(|dir| dir.join(".gnupg")));
        let exec = env.var(GPG_EXEC_VAR).filter(|exec| !exec.is_empty());
        let (name, origin) = match &exec {
            Some(exec) => (exec.clone(), format!("{GPG_EXEC_VAR}={exec}: ")),
            None => (format!("gpg{}", std::env::consts::EXE_SUFFIX), String::new()),
        };
        let program = if name.contains(std::path::is_separator) {
            let program = PathBuf::from(&name);
            if !is_executable(&program) {
                return Err(format!("{origin}no executable file there"));
            }
            program
        } else {
            env.var("PATH")
                .and_then(|path| {
                    std::env::split_paths(&path)
                        .map(|dir| dir.join(&name))
                        .find(|candidate| is_executable(candidate))
                })
                .ok_or_else(|| format!("{origin}no {name} binary found on PATH"))?
        };
        Ok(Gpg { program, home })
    }

    fn describe(&self) -> String {
        let mut text = self.program.display().to_string();
        if let Some(home) = &self.home {
            text.push_str(&format!(" with GnuPG home {}", home.display()));
        }
        text.push_str(", asked after the keys above");
        text
    }

    /// `gpg --no-default-recipient --yes --encrypt -a -r FP --trusted-key ID --no-encrypt-to`,
    /// the data key on stdin, as sops runs it.
    fn encrypt(&self, fp: &str, data_key: &[u8]) -> Result<String, String> {
        let trusted_key = short_key_id(fp);
        let args = [
            "--no-default-recipient",
            "--yes",
            "--encrypt",
            "-a",
            "-r",
            fp,
            "--trusted-key",
            trusted_key,
            "--no-encrypt-to",
        ];
        let output = self.run(&args, data_key)?;
        if !output.success {
            return Err(format!("gpg failed: {}", summarize_stderr(&output.stderr)));
        }
        let armored = std::str::from_utf8(&output.stdout).map_err(|_| "gpg wrote something other than text")?;
        let armored = armored.trim();
        if !armored.starts_with(MESSAGE_BEGIN) {
            return Err("gpg did not write an armored OpenPGP message".into());
        }
        Ok(armored.to_owned())
    }

    /// `gpg --use-agent -d`, the armored message on stdin, as sops runs it.
    fn decrypt(&self, armored: &str) -> Result<Zeroizing<Vec<u8>>, GpgFailure> {
        let output = self
            .run(&["--use-agent", "-d"], armored.as_bytes())
            .map_err(GpgFailure::Other)?;
        if output.success {
            return Ok(output.stdout);
        }
        let summary = summarize_stderr(&output.stderr);
        if output.stderr.contains("No secret key") {
            Err(GpgFailure::NoSecretKey(summary))
        } else {
            Err(GpgFailure::Other(summary))
        }
    }

    fn run(&self, args: &[&str], input: &[u8]) -> Result<GpgOutput, String> {
        let mut command = Command::new(&self.program);
        if let Some(home) = &self.home {
            command.env(GNUPGHOME_VAR, home);
        }
        let cannot_run = |e: io::Error| format!("cannot run {}: {e}", self.program.display());
        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(cannot_run)?;
        let mut stdin = child.stdin.take().expect("stdin was piped");
        let mut stdout = child.stdout.take().expect("stdout was piped");
        let mut stderr = child.stderr.take().expect("stderr was piped");
        let (read, stderr) = std::thread::scope(|scope| {
            // A write error means gpg stopped reading; its exit status says why.
            scope.spawn(move || stdin.write_all(input));
            let errors = scope.spawn(move || {
                let mut text = Vec::new();
                let _ = stderr.read_to_end(&mut text);
                text
            });
            // Room for a data key and then some, so that it is never reallocated unwiped.
            let mut out = Zeroizing::new(Vec::with_capacity(8192));
            let read = stdout.read_to_end(&mut out).map(|_| out);
            (read, errors.join().unwrap_or_default())
        });
        let status = child.wait().map_err(cannot_run)?;
        let stdout = read.map_err(cannot_run)?;
        Ok(GpgOutput {
            success: status.success(),
            stdout,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// The last 16 hex digits, which `--trusted-key` wants. sops takes the last 16 characters,
/// which breaks on a trailing `!` (gpg then refuses the option); ksec leaves the `!` out.
fn short_key_id(fp: &str) -> &str {
    let hex = fp.strip_suffix('!').unwrap_or(fp);
    &hex[hex.len().saturating_sub(16)..]
}

/// The lines of gpg's stderr that say what went wrong, without its chatter (keybox created,
/// trustdb checked, "encrypted with … key").
fn summarize_stderr(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| line.strip_prefix("gpg: ").unwrap_or(line))
        .collect();
    let telling: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| {
            let line = line.to_ascii_lowercase();
            ["fail", "error", "skipped", "invalid", "not ", "no "]
                .iter()
                .any(|word| line.contains(word))
        })
        .take(3)
        .collect();
    match (telling.is_empty(), lines.last()) {
        (false, _) => telling.join("; "),
        (true, Some(last)) => (*last).to_owned(),
        (true, None) => "it printed no error message".to_owned(),
    }
}

/// The OpenPGP secret keys found in the environment, whether gpg can be asked too, and a record
/// of every place looked at.
#[derive(Default)]
pub struct PgpIdentities {
    keys: Vec<SignedSecretKey>,
    gpg: Option<Gpg>,
    sources: Vec<IdentitySource>,
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
    ) -> Result<usize, Error> {
        let failed = |message: String| Error::Identity {
            source_name: source_name.to_owned(),
            message,
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
            self.sources.push(IdentitySource {
                name: source_name.to_owned(),
                status: SourceStatus::Skipped(format!(
                    "key {} is passphrase-protected; set {PASSPHRASE_VAR}, or import it into gpg",
                    locked.join(", ")
                )),
            });
            return Ok(0);
        }
        let count = usable.len();
        self.keys.extend(usable);
        self.sources.push(IdentitySource {
            name: source_name.to_owned(),
            status: SourceStatus::Loaded(count),
        });
        Ok(count)
    }

    /// [`add_secret_keys`](Self::add_secret_keys), recording a failure instead of returning it.
    fn add_secret_keys_or_note(&mut self, source_name: &str, bytes: &[u8], passphrase: Option<&str>) {
        match self.add_secret_keys(source_name, bytes, passphrase) {
            Ok(_) => {}
            Err(Error::Identity { message, .. }) => self.note_failed(source_name, &message),
            Err(other) => self.note_failed(source_name, &other.to_string()),
        }
    }

    /// Records a place that was looked at and found empty-handed.
    pub fn note_absent(&mut self, source_name: &str, reason: &str) {
        self.sources.push(IdentitySource {
            name: source_name.to_owned(),
            status: SourceStatus::Absent(reason.to_owned()),
        });
    }

    /// Records a source the user set that could not be used, and why.
    pub fn note_failed(&mut self, source_name: &str, reason: &str) {
        self.sources.push(IdentitySource {
            name: source_name.to_owned(),
            status: SourceStatus::Failed(reason.to_owned()),
        });
    }

    /// Whether a source the user set could not be used.
    pub fn has_failed_source(&self) -> bool {
        self.sources.iter().any(|s| matches!(s.status, SourceStatus::Failed(_)))
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

    /// Every place looked at, in the order they are tried.
    pub fn sources(&self) -> &[IdentitySource] {
        &self.sources
    }

    /// One line per place looked at, for the report printed when no key works.
    pub fn report(&self) -> String {
        self.sources
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl fmt::Debug for PgpIdentities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgpIdentities")
            .field("count", &self.keys.len())
            .field("gpg", &self.gpg.as_ref().map(|gpg| &gpg.program))
            .field("sources", &self.sources)
            .finish()
    }
}

/// Every armored `PGP PRIVATE KEY BLOCK` in the text (rPGP reads one block per call), or the
/// binary keys.
fn parse_secret_keys(bytes: &[u8]) -> Result<Vec<SignedSecretKey>, String> {
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
fn unlock(key: &mut SignedSecretKey, password: &Password) {
    if key.primary_key.secret_params().is_encrypted() {
        let _ = key.primary_key.remove_password(password);
    }
    for subkey in &mut key.secret_subkeys {
        if subkey.key.secret_params().is_encrypted() {
            let _ = subkey.key.remove_password(password);
        }
    }
}

fn is_locked(key: &SignedSecretKey) -> bool {
    key.primary_key.secret_params().is_encrypted()
        || key
            .secret_subkeys
            .iter()
            .any(|subkey| subkey.key.secret_params().is_encrypted())
}

/// Some unlocked component has an algorithm that decrypts.
fn can_decrypt_now(key: &SignedSecretKey) -> bool {
    let primary = &key.primary_key;
    let primary_ok = !primary.secret_params().is_encrypted() && primary.public_key().algorithm().can_encrypt();
    primary_ok
        || key
            .secret_subkeys
            .iter()
            .any(|subkey| !subkey.key.secret_params().is_encrypted() && subkey.key.algorithm().can_encrypt())
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
        None => found.note_absent(KEY_FILE_VAR, "not set"),
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
                Err(reason) => found.note_failed(&source_name, &reason),
            }
        }
    }

    match env.var(KEY_VAR).map(Zeroizing::new) {
        None => found.note_absent(KEY_VAR, "not set"),
        Some(text) => found.add_secret_keys_or_note(KEY_VAR, text.as_bytes(), passphrase),
    }

    match Gpg::locate(env) {
        Ok(gpg) => {
            found.sources.push(IdentitySource {
                name: "gpg".into(),
                status: SourceStatus::Available(gpg.describe()),
            });
            found.gpg = Some(gpg);
        }
        // A SOPS_GPG_EXEC the user set but that cannot run is a broken source, not an absent one.
        Err(reason) if env.var(GPG_EXEC_VAR).is_some_and(|exec| !exec.is_empty()) => found.note_failed("gpg", &reason),
        Err(reason) => found.note_absent("gpg", &reason),
    }
    found
}

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

/// Why the native keys did not decrypt a message.
enum NativeFailure {
    /// Readable, but for none of the native keys.
    NoMatch { recipients: Vec<String> },
    /// A native key is a recipient, yet the message did not decrypt: damaged or tampered.
    Failed(String),
    /// Not a message rPGP can read.
    Unreadable(String),
}

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
    let native = match decrypt_natively(armored, &identities.keys) {
        Ok(plaintext) => return Ok(plaintext),
        Err(failure) => failure,
    };
    let from_gpg = match &identities.gpg {
        None => None,
        Some(gpg) => match gpg.decrypt(armored) {
            Ok(plaintext) => return Ok(plaintext),
            Err(failure) => Some(failure),
        },
    };
    let no_secret_key = |recipients: Vec<String>, gpg: Option<String>| PgpUnwrapError::NoSecretKey {
        recipients,
        native_keys: identities.keys.len(),
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

fn decrypt_natively(armored: &str, keys: &[SignedSecretKey]) -> Result<Zeroizing<Vec<u8>>, NativeFailure> {
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

fn recipient_id(pkesk: &PublicKeyEncryptedSessionKey) -> String {
    match (pkesk.id(), pkesk.fingerprint()) {
        (Ok(id), _) if id.is_wildcard() => "an anonymous recipient".into(),
        (Ok(id), _) => id.to_string().to_ascii_uppercase(),
        (_, Ok(Some(fp))) => format!("{fp:X}"),
        _ => "an anonymous recipient".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{DataKey, MapEnv};
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use std::process::Output;

    const VECTORS: &str = "../shared/vectors/sops-upstream";
    /// Key 1 of sops's functional tests; its encryption subkey is 25294A17CD90507F.
    const KEY1_FP: &str = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4";
    const KEY1_SUBKEY: &str = "25294A17CD90507F";
    /// The Flux test key (`keys/pgp-testdata`).
    const FLUX_FP: &str = "B59DAF469E8C948138901A649732075EA221A7EA";

    fn vector(relative: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(VECTORS).join(relative)
    }

    fn read_vector(relative: &str) -> String {
        std::fs::read_to_string(vector(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }

    /// The `enc` of the first PGP stanza of a sops JSON file.
    fn json_enc(json: &str) -> String {
        let start = json.find("\"enc\": \"").expect("an enc field") + "\"enc\": \"".len();
        let end = start + json[start..].find('"').expect("the end of the enc string");
        json[start..end].replace("\\n", "\n")
    }

    fn gpgbinary_enc() -> String {
        json_enc(&read_vector("generated-by-sops-3.11.0/pgp-gpgbinary.enc.json"))
    }

    fn flux_enc() -> String {
        json_enc(&read_vector("generated-by-sops-3.11.0/pgp-flux-gocrypto.enc.json"))
    }

    fn functional_keys_path() -> String {
        vector("keys/sops_functional_tests_key.asc")
            .to_str()
            .expect("utf-8")
            .to_owned()
    }

    fn native(source: &str, bytes: &[u8]) -> PgpIdentities {
        let mut found = PgpIdentities::new();
        found.add_secret_keys(source, bytes, None).expect("test keys parse");
        found
    }

    fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    /// The armored public key of every secret key in `bytes`, as `gpg --armor --export` would.
    fn public_key_of(secret: &[u8]) -> String {
        let keys = parse_secret_keys(secret).expect("secret keys");
        keys[0]
            .to_public_key()
            .to_armored_string(ArmorOptions::default())
            .expect("armor")
    }

    /// Checks the armor is what gpg writes and sops stores: header, blank line, 64-column
    /// base64, CRC, footer, and no final newline.
    fn assert_sops_armor(armored: &str) {
        let body = armored
            .strip_prefix("-----BEGIN PGP MESSAGE-----\n\n")
            .unwrap_or_else(|| panic!("bad header: {armored:?}"));
        let body = body
            .strip_suffix("\n-----END PGP MESSAGE-----")
            .unwrap_or_else(|| panic!("bad footer or a final newline: {armored:?}"));
        assert!(!armored.contains('\r'), "LF only");
        let lines: Vec<&str> = body.split('\n').collect();
        let (crc, data) = lines.split_last().expect("lines");
        assert!(crc.starts_with('=') && crc.len() == 5, "CRC line: {armored}");
        let (last, full) = data.split_last().expect("data");
        assert!(full.iter().all(|line| line.len() == 64), "{armored}");
        assert!((1..=64).contains(&last.len()), "{armored}");
    }

    /// The key IDs a message is encrypted to.
    fn pkesk_ids(armored: &str) -> Vec<String> {
        let (message, _) = Message::from_string(armored).expect("a message");
        let Message::Encrypted { esk, .. } = &message else {
            panic!("not encrypted")
        };
        esk.iter()
            .filter_map(|esk| match esk {
                Esk::PublicKeyEncryptedSessionKey(pkesk) => Some(recipient_id(pkesk)),
                Esk::SymKeyEncryptedSessionKey(_) => None,
            })
            .collect()
    }

    /// A throwaway GnuPG home (mode 0700) and the gpg binary; the agent it starts is stopped on
    /// drop. `None` when gpg is missing outside CI.
    struct GnupgHome {
        dir: tempfile::TempDir,
        gpg: PathBuf,
    }

    impl GnupgHome {
        fn new() -> Option<GnupgHome> {
            let gpg = std::env::var_os("KSEC_PEER_GPG")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/usr/bin/gpg"));
            if !gpg.is_file() {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{} is required for this test in CI",
                    gpg.display()
                );
                eprintln!("note: {} not found; skipping a gpg test", gpg.display());
                return None;
            }
            let dir = tempfile::tempdir().expect("tempdir");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod 700");
            }
            Some(GnupgHome { dir, gpg })
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }

        /// An environment that reaches this home's gpg and nothing else.
        fn env(&self) -> MapEnv {
            MapEnv::new()
                .with_var("GNUPGHOME", self.path().to_str().expect("utf-8"))
                .with_var("SOPS_GPG_EXEC", self.gpg.to_str().expect("utf-8"))
        }

        fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
            let mut child = Command::new(&self.gpg)
                .arg("--homedir")
                .arg(self.path())
                .args(["--batch", "--yes"])
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run gpg");
            child.stdin.take().expect("piped").write_all(stdin).expect("gpg stdin");
            let output = child.wait_with_output().expect("gpg output");
            assert!(
                output.status.success(),
                "gpg {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            output
        }

        fn import(&self, relative: &str) {
            self.run(&["--import", vector(relative).to_str().expect("utf-8")], b"");
        }

        fn export(&self, what: &str, fp: &str) -> String {
            String::from_utf8(self.run(&["--armor", what, fp], b"").stdout).expect("armor")
        }
    }

    impl Drop for GnupgHome {
        fn drop(&mut self) {
            let gpgconf = self.gpg.with_file_name("gpgconf");
            let _ = Command::new(gpgconf)
                .arg("--homedir")
                .arg(self.path())
                .args(["--kill", "all"])
                .output();
        }
    }

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
                Err(Error::InvalidRecipient { recipient, message }) => {
                    assert_eq!(recipient, text);
                    assert!(message.contains(expected), "{text}: {message}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let error = parse_recipients(&format!("{KEY1_FP},nope")).expect_err("bad entry");
        assert!(matches!(&error, Error::InvalidRecipient { recipient, .. } if recipient == "nope"));
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
        let (name, reason) = crate::keys::age::tests::only_failure(found.sources());
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
            let (source_name, message) = crate::keys::age::tests::only_failure(found.sources());
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

    /// A stand-in for gpg that fails the way gpg does when the agent cannot unlock a key.
    #[cfg(unix)]
    #[test]
    fn gpg_failures_other_than_a_missing_key_are_reported_as_such() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let script = write_file(
            dir.path(),
            "fake-gpg",
            "#!/bin/sh\ncat >/dev/null\necho 'gpg: keybox created' >&2\n\
             echo 'gpg: public key decryption failed: Bad passphrase' >&2\nexit 2\n",
        );
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let env = MapEnv::new()
            .with_var("SOPS_GPG_EXEC", script.to_str().expect("utf-8"))
            .with_home(dir.path());
        let found = discover(&env);
        assert!(found.has_gpg());
        let expected = format!(
            "gpg: {} with GnuPG home {}, asked after the keys above",
            script.display(),
            dir.path().join(".gnupg").display()
        );
        assert_eq!(found.report().lines().last(), Some(expected.as_str()));
        assert_eq!(
            unwrap(&gpgbinary_enc(), &found),
            Err(PgpUnwrapError::Gpg(
                "public key decryption failed: Bad passphrase".into()
            ))
        );
    }

    #[test]
    fn gpg_and_native_keys_agree_on_the_sops_vectors() {
        let Some(home) = GnupgHome::new() else { return };
        home.import("keys/sops_functional_tests_key.asc");
        home.import("keys/pgp-testdata/private.gpg");
        let with_gpg = discover(&home.env());
        assert!(with_gpg.is_empty() && with_gpg.has_gpg());

        let exported = home.export("--export-secret-keys", KEY1_FP);
        let key1 = native("exported", exported.as_bytes());
        let flux = native("flux", read_vector("keys/pgp-testdata/private.gpg").as_bytes());
        for (enc, native_keys) in [(gpgbinary_enc(), &key1), (flux_enc(), &flux)] {
            let by_gpg = unwrap(&enc, &with_gpg).expect("gpg decrypts");
            let natively = unwrap(&enc, native_keys).expect("rPGP decrypts");
            assert_eq!(by_gpg.len(), 32);
            assert_eq!(by_gpg, natively);
        }
    }

    #[test]
    fn gpg_without_the_key_says_no_secret_key() {
        let Some(home) = GnupgHome::new() else { return };
        let found = discover(&home.env());
        match unwrap(&gpgbinary_enc(), &found) {
            Err(PgpUnwrapError::NoSecretKey {
                recipients,
                native_keys: 0,
                gpg: Some(said),
            }) => {
                assert_eq!(recipients, [KEY1_SUBKEY]);
                assert!(said.contains("No secret key"), "{said}");
                assert!(!said.contains("keybox"), "gpg's chatter is left out: {said}");
            }
            other => panic!("{other:?}"),
        }

        let error = wrap(&PgpRecipient::parse(KEY1_FP).expect("valid"), &[1; 32], &home.env())
            .expect_err("no public key in the keyring");
        assert!(error.to_string().contains("No public key"), "{error}");
    }

    #[test]
    fn gpg_wraps_what_native_keys_unwrap() {
        let Some(home) = GnupgHome::new() else { return };
        home.import("keys/sops_functional_tests_key.asc");
        let data_key = DataKey::generate();
        let recipient = PgpRecipient::parse(KEY1_FP).expect("valid");
        let enc = wrap(&recipient, data_key.as_bytes(), &home.env()).expect("gpg encrypts");
        assert_sops_armor(&enc);
        assert_eq!(pkesk_ids(&enc), [KEY1_SUBKEY]);

        let exported = home.export("--export-secret-keys", KEY1_FP);
        let found = discover(&MapEnv::new().with_var("SOPS_PGP_KEY", &exported));
        assert!(!found.has_gpg());
        assert_eq!(
            unwrap(&enc, &found).expect("rPGP decrypts").as_slice(),
            data_key.as_bytes()
        );
    }

    #[test]
    fn native_wraps_what_gpg_unwraps() {
        let Some(home) = GnupgHome::new() else { return };
        home.import("keys/sops_functional_tests_key.asc");
        let public = write_file(home.path(), "key1.asc", &home.export("--export", KEY1_FP));
        let recipient = PgpRecipient::parse(public.to_str().expect("utf-8")).expect("exported public key");
        assert_eq!(recipient.fingerprint(), KEY1_FP);

        let data_key = DataKey::generate();
        let enc = wrap(&recipient, data_key.as_bytes(), &MapEnv::new()).expect("rPGP encrypts");
        assert_sops_armor(&enc);
        let packets = String::from_utf8(home.run(&["--list-packets"], enc.as_bytes()).stdout).expect("text");
        for expected in [
            ":pubkey enc packet: version 3, algo 1, keyid 25294A17CD90507F",
            ":encrypted data packet:",
            "mdc_method: 2",
            ":literal data packet:",
            "mode b ",
            "raw data: 32 bytes",
        ] {
            assert!(packets.contains(expected), "{expected:?} not in\n{packets}");
        }
        let by_gpg = home.run(&["--decrypt"], enc.as_bytes()).stdout;
        assert_eq!(by_gpg.as_slice(), data_key.as_bytes());
        let found = discover(&home.env());
        assert_eq!(
            unwrap(&enc, &found).expect("gpg -d through unwrap").as_slice(),
            data_key.as_bytes()
        );
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

        let chosen = |home: &GnupgHome| -> Result<String, Error> {
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
