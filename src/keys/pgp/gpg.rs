//! The gpg binary, run exactly as sops runs it so that the user's keyring, agent, pinentry and
//! smartcards just work: where it is (`SOPS_GPG_EXEC`, `PATH`) and which GnuPG home it uses, the
//! command lines that encrypt and decrypt, and which of its complaints are worth showing.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use zeroize::Zeroizing;

use super::{GPG_EXEC_VAR, MESSAGE_BEGIN};
use crate::keys::Env;

const GNUPGHOME_VAR: &str = "GNUPGHOME";

/// How to run gpg: the binary and the GnuPG home, found as sops finds them.
#[derive(Debug, Clone)]
pub(super) struct Gpg {
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
pub(super) enum GpgFailure {
    /// gpg has no secret key for any recipient ("decryption failed: No secret key").
    NoSecretKey(String),
    Other(String),
}

impl Gpg {
    /// `SOPS_GPG_EXEC` when set, else `gpg`, found as sops's `exec.Command` finds it: a name
    /// with a path separator is used as is (relative to the working directory), a bare name is
    /// looked up on the environment's `PATH`.
    pub(super) fn locate(env: &dyn Env) -> Result<Gpg, String> {
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

    /// The gpg binary that is run.
    pub(super) fn program(&self) -> &Path {
        &self.program
    }

    pub(super) fn describe(&self) -> String {
        let mut text = self.program.display().to_string();
        if let Some(home) = &self.home {
            text.push_str(&format!(" with GnuPG home {}", home.display()));
        }
        text.push_str(", asked after the keys above");
        text
    }

    /// `gpg --no-default-recipient --yes --encrypt -a -r FP --trusted-key ID --no-encrypt-to`,
    /// the data key on stdin, as sops runs it.
    pub(super) fn encrypt(&self, fp: &str, data_key: &[u8]) -> Result<String, String> {
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
    pub(super) fn decrypt(&self, armored: &str) -> Result<Zeroizing<Vec<u8>>, GpgFailure> {
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
pub(super) fn short_key_id(fp: &str) -> &str {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::{PgpRecipient, PgpUnwrapError, discover, unwrap, wrap};
    use crate::keys::{DataKey, MapEnv};

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
}
