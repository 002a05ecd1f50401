//! Private key material in a file about to be committed: age identities (`AGE-SECRET-KEY-1…`,
//! `AGE-PLUGIN-…`), and PEM or armored private keys (OpenSSH, RSA, EC, DSA, PKCS#8, OpenPGP).
//!
//! A key is recognised by its own shape, not by a name that mentions it: an age identity is
//! the whole bech32 word, and a PEM or armored block needs a body (a run of base64) after its
//! BEGIN line, so source code that only names the marker (`"-----BEGIN PGP PRIVATE KEY
//! BLOCK-----"`) is not taken for a key. Findings say which kind of key and on which line, never
//! any of its text.

use std::sync::LazyLock;

use regex::bytes::Regex;

/// One private key found: its kind as a person names it, and the line it starts on (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateKey {
    pub kind: &'static str,
    pub line: usize,
}

/// The bech32 alphabet, uppercase as age writes identities.
const BECH32_UPPER: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

/// Every private key in `input`, in the order they appear.
pub fn find(input: &[u8]) -> Vec<PrivateKey> {
    static KEYS: LazyLock<Regex> = LazyLock::new(|| {
        // The body of a PEM or armored block starts within a few header lines of its BEGIN
        // line (`Proc-Type: 4,ENCRYPTED`, `Comment: …`), also when the block is written on one
        // line with `\n` escapes (JSON); 40 base64 characters is less than any key's body.
        let pattern = format!(
            r"(?P<age>AGE-SECRET-KEY-(?:PQ-)?1[{BECH32_UPPER}]{{20,}})|(?P<plugin>AGE-PLUGIN-[A-Z0-9._+-]+-1[{BECH32_UPPER}]{{10,}})|-----BEGIN (?P<pem>OPENSSH PRIVATE KEY|RSA PRIVATE KEY|EC PRIVATE KEY|DSA PRIVATE KEY|ENCRYPTED PRIVATE KEY|PRIVATE KEY|PGP PRIVATE KEY BLOCK)-----(?s:.{{0,300}}?)[A-Za-z0-9+/]{{40}}"
        );
        Regex::new(&pattern).expect("the pattern is a valid regex")
    });
    KEYS.captures_iter(input)
        .filter_map(|found| {
            let whole = found.get(0)?;
            let kind = if found.name("age").is_some() {
                "an age secret key (AGE-SECRET-KEY-1…)"
            } else if found.name("plugin").is_some() {
                "an age plugin identity (AGE-PLUGIN-…)"
            } else {
                pem_kind(found.name("pem")?.as_bytes())
            };
            let line = 1 + input[..whole.start()].iter().filter(|&&b| b == b'\n').count();
            Some(PrivateKey { kind, line })
        })
        .collect()
}

fn pem_kind(label: &[u8]) -> &'static str {
    match label {
        b"OPENSSH PRIVATE KEY" => "an OpenSSH private key",
        b"RSA PRIVATE KEY" => "an RSA private key",
        b"EC PRIVATE KEY" => "an EC private key",
        b"DSA PRIVATE KEY" => "a DSA private key",
        b"PGP PRIVATE KEY BLOCK" => "an OpenPGP private key block",
        b"ENCRYPTED PRIVATE KEY" => "an encrypted PKCS#8 private key",
        _ => "a PKCS#8 private key",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A freshly made age identity's shape (not a real key of anyone's).
    const AGE_KEY: &str = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSAHZ8GV";

    fn kinds(text: &str) -> Vec<(usize, &'static str)> {
        find(text.as_bytes()).into_iter().map(|k| (k.line, k.kind)).collect()
    }

    #[test]
    fn an_age_identity_file_is_found_by_line() {
        let text = format!("# created: 2025-01-01T00:00:00Z\n# public key: age1xyz\n{AGE_KEY}\n");
        assert_eq!(kinds(&text), [(3, "an age secret key (AGE-SECRET-KEY-1…)")]);
        let plugin = "AGE-PLUGIN-YUBIKEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n";
        assert_eq!(kinds(plugin), [(1, "an age plugin identity (AGE-PLUGIN-…)")]);
    }

    #[test]
    fn pem_and_armored_blocks_need_a_body() {
        let body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW";
        let ssh = format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n");
        assert_eq!(kinds(&ssh), [(1, "an OpenSSH private key")]);
        let rsa = format!(
            "key: |\n  -----BEGIN RSA PRIVATE KEY-----\n  Proc-Type: 4,ENCRYPTED\n  DEK-Info: AES-128-CBC,00\n\n  {body}\n"
        );
        assert_eq!(kinds(&rsa), [(2, "an RSA private key")]);
        let json = format!("{{\"tls.key\": \"-----BEGIN EC PRIVATE KEY-----\\n{body}\\n\"}}");
        assert_eq!(kinds(&json), [(1, "an EC private key")]);
        let pgp = format!("-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: x\n\n{body}\n");
        assert_eq!(kinds(&pgp), [(1, "an OpenPGP private key block")]);
        let pkcs8 = format!("-----BEGIN PRIVATE KEY-----\n{body}\n");
        assert_eq!(kinds(&pkcs8), [(1, "a PKCS#8 private key")]);
    }

    #[test]
    fn names_of_markers_and_public_material_are_not_keys() {
        let code = "const BLOCK: &str = \"-----BEGIN PGP PRIVATE KEY BLOCK-----\";\nif word.starts_with(\"AGE-SECRET-KEY-1\") {}\n";
        assert_eq!(kinds(code), []);
        let public = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBGXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n\
                      -----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBhYmNkZWZnaGlqa2xtbm9w\n\
                      -----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n";
        assert_eq!(kinds(public), []);
        assert_eq!(
            kinds("recipient: age1a9rwfgzv4n0vlm94485cv65gye0m597ax2ujym3ertpf5ynn9vfqn4qzky\n"),
            []
        );
    }

    #[test]
    fn findings_never_hold_key_text() {
        let found = find(format!("{AGE_KEY}\n").as_bytes());
        assert!(!format!("{found:?}").contains("QYQSZ"));
    }
}
