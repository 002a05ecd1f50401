//! What the OpenPGP tests share: sops's test vectors and keys, checks of the armor sops writes,
//! and a throwaway GnuPG home to run the real gpg in.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ::pgp::composed::{ArmorOptions, Esk, Message};

use super::PgpIdentities;
use super::native::{parse_secret_keys, recipient_id};
use crate::keys::MapEnv;

pub(super) const VECTORS: &str = "../shared/vectors/sops-upstream";
/// Key 1 of sops's functional tests; its encryption subkey is 25294A17CD90507F.
pub(super) const KEY1_FP: &str = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4";
pub(super) const KEY1_SUBKEY: &str = "25294A17CD90507F";
/// The Flux test key (`keys/pgp-testdata`).
pub(super) const FLUX_FP: &str = "B59DAF469E8C948138901A649732075EA221A7EA";

pub(super) fn vector(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(VECTORS).join(relative)
}

pub(super) fn read_vector(relative: &str) -> String {
    std::fs::read_to_string(vector(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The `enc` of the first PGP stanza of a sops JSON file.
pub(super) fn json_enc(json: &str) -> String {
    let start = json.find("\"enc\": \"").expect("an enc field") + "\"enc\": \"".len();
    let end = start + json[start..].find('"').expect("the end of the enc string");
    json[start..end].replace("\\n", "\n")
}

pub(super) fn gpgbinary_enc() -> String {
    json_enc(&read_vector("generated-by-sops-3.11.0/pgp-gpgbinary.enc.json"))
}

pub(super) fn flux_enc() -> String {
    json_enc(&read_vector("generated-by-sops-3.11.0/pgp-flux-gocrypto.enc.json"))
}

pub(super) fn functional_keys_path() -> String {
    vector("keys/sops_functional_tests_key.asc")
        .to_str()
        .expect("utf-8")
        .to_owned()
}

pub(super) fn native(source: &str, bytes: &[u8]) -> PgpIdentities {
    let mut found = PgpIdentities::new();
    found.add_secret_keys(source, bytes, None).expect("test keys parse");
    found
}

pub(super) fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

/// The armored public key of every secret key in `bytes`, as `gpg --armor --export` would.
pub(super) fn public_key_of(secret: &[u8]) -> String {
    let keys = parse_secret_keys(secret).expect("secret keys");
    keys[0]
        .to_public_key()
        .to_armored_string(ArmorOptions::default())
        .expect("armor")
}

/// Checks the armor is what gpg writes and sops stores: header, blank line, 64-column
/// base64, CRC, footer, and no final newline.
pub(super) fn assert_sops_armor(armored: &str) {
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
pub(super) fn pkesk_ids(armored: &str) -> Vec<String> {
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
pub(super) struct GnupgHome {
    dir: tempfile::TempDir,
    pub(super) gpg: PathBuf,
}

impl GnupgHome {
    pub(super) fn new() -> Option<GnupgHome> {
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

    pub(super) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// An environment that reaches this home's gpg and nothing else.
    pub(super) fn env(&self) -> MapEnv {
        MapEnv::new()
            .with_var("GNUPGHOME", self.path().to_str().expect("utf-8"))
            .with_var("SOPS_GPG_EXEC", self.gpg.to_str().expect("utf-8"))
    }

    pub(super) fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
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

    pub(super) fn import(&self, relative: &str) {
        self.run(&["--import", vector(relative).to_str().expect("utf-8")], b"");
    }

    pub(super) fn export(&self, what: &str, fp: &str) -> String {
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
