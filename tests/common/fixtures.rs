//! The files the tests share: the repository's `testdata/`, the shared sops vectors, and the
//! age and PGP test keys with their recipients.

use std::path::PathBuf;

use super::TestCommand;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `testdata/<name>`.
pub fn testdata(name: &str) -> PathBuf {
    root().join("testdata").join(name)
}

/// The shared vectors directory (`../shared/vectors/sops-upstream`).
pub fn vectors() -> PathBuf {
    root().join("../shared/vectors/sops-upstream")
}

/// The sample age identity shipped in `testdata/keys/`, and its recipient.
pub const SAMPLE_RECIPIENT: &str = "age1a9rwfgzv4n0vlm94485cv65gye0m597ax2ujym3ertpf5ynn9vfqn4qzky";

pub fn sample_key() -> PathBuf {
    testdata("keys/sample.agekey")
}

/// The upstream sops test identities (vectors/keys) and their recipients.
pub const VECTOR_RECIPIENT: &str = "age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun";
pub const VECTOR_RECIPIENT_2: &str = "age1afnrdrkyvy0sl5e08t9ffs4c7g5e5npc8luf7hjc77syewg5gajsls4r90";

pub fn vector_key() -> PathBuf {
    vectors().join("keys/age-test-identity.txt")
}

pub fn vector_key_2() -> PathBuf {
    vectors().join("keys/age-test-identity-2.txt")
}

/// The vectors that only the PGP test keys 1 and 2 (`keys/sops_functional_tests_key.asc`)
/// open, and one that mixes age and PGP keys. `tests/keys.rs` decrypts each with ksec and sops
/// and compares with its stored plaintext ([`pgp_expected_plaintext`]); `tests/interop_sops.rs`
/// checks that every PGP vector it leaves out is here or in [`PGP_VECTORS_WITH_OWN_TESTS`].
pub const PGP_VECTORS: &[&str] = &[
    "generated-by-sops-3.11.0/pgp-gpgbinary.enc.json",
    "generated-by-sops-3.11.0/multikey-age-age-pgp.enc.yaml",
    "upstream-v3.11.0/example.yaml",
    "upstream-v3.11.0/example.json",
    "upstream-v3.11.0/example.ini",
    "upstream-v3.11.0/example.txt",
    "upstream-v3.11.0/examples/all_in_one.secret.enc.json",
    "upstream-v3.11.0/examples/per_file.static_github.json",
    "upstream-v3.11.0/functional-tests/res/comments.enc.yaml",
    "upstream-v3.11.0/functional-tests/res/comments_unencrypted_comments.yaml",
    "upstream-v3.11.0/functional-tests/res/multiple_keys.yaml",
    "upstream-v3.13.2/functional-tests/res/format.enc.yaml",
    "upstream-v3.13.2/functional-tests/res/format.enc.json",
    "upstream-v3.13.2/functional-tests/res/format.enc.env",
    "upstream-v3.13.2/functional-tests/res/format.enc.ini",
    "upstream-v3.13.2/functional-tests/res/format-2.enc.ini",
];

/// PGP-only vectors that `tests/keys.rs` checks in tests of their own: the Flux key's file (in
/// either keyring setup) and the file without a MAC (with and without `--ignore-mac`).
pub const PGP_VECTORS_WITH_OWN_TESTS: &[&str] = &[
    "generated-by-sops-3.11.0/pgp-flux-gocrypto.enc.json",
    "upstream-v3.11.0/functional-tests/res/no_mac.yaml",
];

/// Where the vectors keep what sops printed for a PGP vector (relative to [`vectors`]), if
/// they do: `X.decrypted.EXT` beside a generated `X.enc.EXT`, else the upstream file's path
/// with `/` as `_` in `expected-plaintext-sops-3.11.0/` (`.ignore-mac` added for no_mac.yaml,
/// which decrypts only with that flag).
pub fn pgp_expected_plaintext(rel: &str) -> Option<String> {
    let expected = match rel.strip_prefix("generated-by-sops-3.11.0/") {
        Some(name) => format!("generated-by-sops-3.11.0/{}", name.replacen(".enc.", ".decrypted.", 1)),
        None => {
            let suffix = if rel.ends_with("/no_mac.yaml") {
                ".ignore-mac"
            } else {
                ""
            };
            format!("expected-plaintext-sops-3.11.0/{}{suffix}", rel.replace('/', "_"))
        }
    };
    vectors().join(&expected).is_file().then_some(expected)
}

/// `cmd` with the first vector age identity (`SOPS_AGE_KEY_FILE`), or with both of them
/// (`SOPS_AGE_KEY`) when `both`.
pub fn with_vector_age(cmd: &mut TestCommand, both: bool) -> &mut TestCommand {
    if both {
        let keys = format!(
            "{}\n{}",
            std::fs::read_to_string(vector_key()).expect("age identity 1"),
            std::fs::read_to_string(vector_key_2()).expect("age identity 2")
        );
        return cmd.env("SOPS_AGE_KEY", keys);
    }
    cmd.env("SOPS_AGE_KEY_FILE", vector_key())
}
