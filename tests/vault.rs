//! HashiCorp Vault transit keys, against a real OpenBao server and the real sops 3.11: each tool
//! reads what the other writes (one key, several, Shamir groups mixing a Vault key with age),
//! every way ksec takes a Vault key (flags, `SOPS_VAULT_URIS`, `.sops.yaml`, rotate,
//! updatekeys, groups add, edit), how the token is found, and what the user is told when
//! Vault cannot help: down, slow, a refused, expired or missing token, a policy that forbids,
//! a key deleted or disabled, and a key only some groups can reach.
//!
//! The server starts once for this test binary (`common::bao`) and stops when it ends; each
//! test makes its own transit keys, named after the test, so tests never share a key they
//! change. A missing peer (sops or bao) fails the test under `CI` and skips it otherwise.
#![cfg(unix)]

mod common;

use std::time::{Duration, Instant};

use common::{
    Bao, Dir, TestCommand, VECTOR_RECIPIENT as AGE1, VECTOR_RECIPIENT_2 as AGE2, block_shape, block_without_stamps,
    decrypts_to, refused_within,
};

/// A plaintext both tools print back byte for byte.
const PLAIN: &str = "password: hunter2\nport: 5432\n";

/// `sops`' exit code when no key can decrypt the data key.
const NO_KEY: i32 = 128;

/// A Dir with the real sops, and the OpenBao server of this test binary.
struct Lab {
    dir: Dir,
    bao: &'static Bao,
}

/// A fresh session, or `None` (after a note) when a peer is missing outside CI.
fn lab() -> Option<Lab> {
    let dir = Dir::with_sops()?;
    let bao = common::bao()?;
    dir.write("plain.yaml", PLAIN);
    Some(Lab { dir, bao })
}

/// Which credentials a command gets.
#[derive(Clone, Copy)]
enum As<'a> {
    /// The server's root token in VAULT_TOKEN.
    Root,
    /// This token in VAULT_TOKEN.
    Token(&'a str),
    /// No VAULT_TOKEN (and, unless the test wrote one, no ~/.vault-token).
    NoToken,
}

impl Lab {
    fn with_token<'c>(&self, cmd: &'c mut TestCommand, who: As<'_>) -> &'c mut TestCommand {
        match who {
            As::Root => cmd.env("VAULT_TOKEN", self.bao.root_token()),
            As::Token(token) => cmd.env("VAULT_TOKEN", token),
            As::NoToken => cmd,
        }
    }

    fn ksec(&self, who: As<'_>) -> TestCommand {
        let mut cmd = self.dir.ksec();
        self.with_token(&mut cmd, who);
        cmd
    }

    fn sops(&self, who: As<'_>) -> TestCommand {
        let mut cmd = self.dir.sops();
        self.with_token(&mut cmd, who);
        cmd
    }

    /// A transit key of this test, created now.
    fn key(&self, name: &str) -> String {
        self.bao.new_key(name)
    }

    fn write_config(&self, text: &str) {
        self.dir.write(".sops.yaml", text);
    }
}

// ---------------------------------------------------------------------------------------------
// Interop: each tool reads what the other writes
// ---------------------------------------------------------------------------------------------

#[test]
fn ksec_writes_a_vault_key_entry_exactly_as_sops_does_and_each_reads_the_other() {
    let Some(lab) = lab() else { return };
    let uri = lab.key("interop");
    let by_ksec = lab
        .ksec(As::Root)
        .args(["encrypt", "--hc-vault-transit", &uri, "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    let by_sops = lab
        .sops(As::Root)
        .args(["encrypt", "--hc-vault-transit", &uri, "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    assert_eq!(
        block_shape(&by_ksec),
        block_shape(&by_sops),
        "ksec:\n{by_ksec}\nsops:\n{by_sops}"
    );
    assert!(
        by_ksec.contains(&format!(
            "    hc_vault:\n        - vault_address: {}\n          engine_path: transit\n          key_name: interop\n",
            lab.bao.addr
        )),
        "{by_ksec}"
    );
    assert!(by_ksec.contains("          enc: vault:v1:"), "{by_ksec}");
    lab.dir.write("by-ksec.enc.yaml", &by_ksec);
    lab.dir.write("by-sops.enc.yaml", &by_sops);
    for file in ["by-ksec.enc.yaml", "by-sops.enc.yaml"] {
        decrypts_to(lab.ksec(As::Root).args(["decrypt", file]).run(), PLAIN);
        decrypts_to(lab.sops(As::Root).args(["decrypt", file]).run(), PLAIN);
    }
}

#[test]
fn ksec_changes_a_sops_vault_file_and_keeps_its_key_entry_byte_for_byte() {
    let Some(lab) = lab() else { return };
    let uri = lab.key("keep-entry");
    let by_sops = lab
        .sops(As::Root)
        .args(["encrypt", "--hc-vault-transit", &uri, "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    lab.dir.write("s.enc.yaml", &by_sops);
    lab.ksec(As::Root)
        .args(["set", "s.enc.yaml", r#"["password"]"#, r#""changed""#])
        .run()
        .ok();
    let changed = lab.dir.read_string("s.enc.yaml");
    assert_eq!(block_without_stamps(&changed), block_without_stamps(&by_sops));
    decrypts_to(
        lab.sops(As::Root).args(["decrypt", "s.enc.yaml"]).run(),
        "password: changed\nport: 5432\n",
    );
}

#[test]
fn a_shamir_group_of_a_vault_key_and_a_group_of_age_need_both_in_both_tools() {
    let Some(lab) = lab() else { return };
    let uri = lab.key("shamir");
    lab.write_config(&format!(
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - hc_vault: [{uri}]\n      - age: [{AGE1}]\n"
    ));
    for (tool, mut cmd) in [("ksec", lab.ksec(As::Root)), ("sops", lab.sops(As::Root))] {
        let out = cmd.args(["encrypt", "plain.yaml"]).run().ok().stdout_text();
        assert!(
            out.contains("shamir_threshold: 2") && out.contains("key_name: shamir"),
            "{tool}: {out}"
        );
        lab.dir.write(&format!("{tool}.enc.yaml"), &out);
    }
    for file in ["ksec.enc.yaml", "sops.enc.yaml"] {
        decrypts_to(
            common::with_vector_age(lab.ksec(As::Root).args(["decrypt", file]), false).run(),
            PLAIN,
        );
        decrypts_to(
            common::with_vector_age(lab.sops(As::Root).args(["decrypt", file]), false).run(),
            PLAIN,
        );
        // Either group alone is not enough, in both tools.
        common::with_vector_age(lab.ksec(As::Token("not-a-token")).args(["decrypt", file]), false)
            .run()
            .expect_code(NO_KEY)
            .stderr_has("1 of 2 key groups decrypted; the Shamir threshold is 2");
        lab.sops(As::Root).args(["decrypt", file]).run().expect_code(NO_KEY);
        lab.ksec(As::Root).args(["decrypt", file]).run().expect_code(NO_KEY);
    }
}

#[test]
fn a_vault_key_in_a_group_with_age_opens_with_either() {
    let Some(lab) = lab() else { return };
    let uri = lab.key("same-group");
    let out = lab
        .ksec(As::Root)
        .args(["encrypt", "--hc-vault-transit", &uri, "--age", AGE1, "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    lab.dir.write("f.enc.yaml", out);
    decrypts_to(lab.ksec(As::Root).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
    decrypts_to(lab.sops(As::Root).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
    decrypts_to(
        common::with_vector_age(lab.ksec(As::NoToken).args(["decrypt", "f.enc.yaml"]), false).run(),
        PLAIN,
    );
    decrypts_to(
        common::with_vector_age(lab.sops(As::NoToken).args(["decrypt", "f.enc.yaml"]), false).run(),
        PLAIN,
    );
}

// ---------------------------------------------------------------------------------------------
// Every way to name a Vault key
// ---------------------------------------------------------------------------------------------

#[test]
fn sops_vault_uris_and_a_flat_creation_rule_name_vault_keys() {
    let Some(lab) = lab() else { return };
    let (a, b) = (lab.key("env-a"), lab.key("env-b"));
    let out = lab
        .ksec(As::Root)
        .env("SOPS_VAULT_URIS", format!("{a},{b}"))
        .args(["encrypt", "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    assert!(
        out.contains("key_name: env-a") && out.contains("key_name: env-b"),
        "{out}"
    );

    lab.write_config(&format!("creation_rules:\n  - hc_vault_transit_uri: '{a}'\n"));
    let out = lab
        .ksec(As::Root)
        .args(["encrypt", "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    assert!(out.contains("key_name: env-a") && !out.contains("env-b"), "{out}");
    lab.dir.write("f.enc.yaml", out);
    decrypts_to(lab.sops(As::Root).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
}

#[test]
fn rotate_adds_and_removes_vault_keys_as_sops_names_them() {
    let Some(lab) = lab() else { return };
    let uri = lab.key("rotate");
    let out = lab
        .ksec(As::NoToken)
        .args(["encrypt", "--age", AGE1, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", out.stdout);
    common::with_vector_age(
        lab.ksec(As::Root).args([
            "rotate",
            "-i",
            "--add-hc-vault-transit",
            &uri,
            "--rm-age",
            AGE1,
            "f.enc.yaml",
        ]),
        false,
    )
    .run()
    .ok();
    let text = lab.dir.read_string("f.enc.yaml");
    assert!(text.contains("key_name: rotate") && !text.contains(AGE1), "{text}");
    decrypts_to(lab.sops(As::Root).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);

    lab.ksec(As::Root)
        .args([
            "rotate",
            "-i",
            "--add-age",
            AGE2,
            "--rm-hc-vault-transit",
            &uri,
            "f.enc.yaml",
        ])
        .run()
        .ok();
    let text = lab.dir.read_string("f.enc.yaml");
    assert!(!text.contains("hc_vault") && text.contains(AGE2), "{text}");
}

#[test]
fn updatekeys_adds_a_vault_key_and_keeps_it_without_asking_vault_again() {
    let Some(lab) = lab() else { return };
    let uri = lab.key("updatekeys");
    lab.dir.write("f.yaml", PLAIN);
    let enc = lab
        .ksec(As::NoToken)
        .args(["encrypt", "--age", AGE1, "f.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    lab.write_config(&format!(
        "creation_rules:\n  - age: {AGE1}\n    hc_vault_transit_uri: {uri}\n"
    ));
    common::with_vector_age(lab.ksec(As::Root).args(["updatekeys", "-y", "f.enc.yaml"]), false)
        .run()
        .ok()
        .stderr_has(format!("+ hc_vault {uri}"));
    let with_vault = lab.dir.read_string("f.enc.yaml");
    decrypts_to(lab.sops(As::Root).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);

    // Adding an age key keeps the Vault entry as it is: Vault is not asked (the token given
    // here would be refused), and the entry stays byte for byte.
    lab.write_config(&format!(
        "creation_rules:\n  - age: {AGE1},{AGE2}\n    hc_vault_transit_uri: {uri}\n"
    ));
    common::with_vector_age(
        lab.ksec(As::Token("refused")).args(["updatekeys", "-y", "f.enc.yaml"]),
        false,
    )
    .run()
    .ok()
    .stderr_has(format!("+ age {AGE2}"));
    let with_age2 = lab.dir.read_string("f.enc.yaml");
    let vault_entry = |text: &str| {
        let start = text.find("    hc_vault:").expect("a vault entry");
        text[start..].lines().take(6).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(vault_entry(&with_age2), vault_entry(&with_vault));
    decrypts_to(lab.sops(As::Root).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
}

#[test]
fn groups_add_gives_a_vault_key_a_group_of_its_own() {
    let Some(lab) = lab() else { return };
    let uri = lab.key("groups-add");
    let enc = lab
        .ksec(As::NoToken)
        .args(["encrypt", "--age", AGE1, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    common::with_vector_age(
        lab.ksec(As::Root).args([
            "groups",
            "add",
            "-f",
            "f.enc.yaml",
            "-i",
            "--hc-vault-transit",
            &uri,
            "--shamir-secret-sharing-threshold",
            "2",
        ]),
        false,
    )
    .run()
    .ok();
    let text = lab.dir.read_string("f.enc.yaml");
    assert!(
        text.contains("key_groups:") && text.contains("key_name: groups-add"),
        "{text}"
    );
    decrypts_to(
        common::with_vector_age(lab.sops(As::Root).args(["decrypt", "f.enc.yaml"]), false).run(),
        PLAIN,
    );
    lab.sops(As::Root)
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY);
}

#[test]
fn edit_makes_a_new_file_for_a_vault_key() {
    let Some(lab) = lab() else { return };
    let uri = lab.key("edit-new");
    let editor = lab.dir.script("editor", "printf 'token: s3cret\\n' > \"$1\"\n");
    lab.ksec(As::Root)
        .env("EDITOR", &editor)
        .args(["edit", "--hc-vault-transit", &uri, "new.enc.yaml"])
        .run()
        .ok();
    decrypts_to(
        lab.sops(As::Root).args(["decrypt", "new.enc.yaml"]).run(),
        "token: s3cret\n",
    );
}

#[test]
fn the_token_comes_from_vault_token_file_when_vault_token_is_not_set() {
    let Some(lab) = lab() else { return };
    let uri = lab.key("token-file");
    let enc = lab
        .ksec(As::Root)
        .args(["encrypt", "--hc-vault-transit", &uri, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    lab.ksec(As::NoToken)
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY)
        .stderr_has("no credentials")
        .stderr_has("no token (VAULT_TOKEN is not set and ")
        .stderr_has("ksec: hint: set VAULT_TOKEN, or log in with `vault login`");
    std::fs::write(
        lab.dir.home().join(".vault-token"),
        format!("{}\n", lab.bao.root_token()),
    )
    .unwrap();
    decrypts_to(lab.ksec(As::NoToken).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
    decrypts_to(lab.sops(As::NoToken).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
    // An empty VAULT_TOKEN counts as unset, as in sops.
    decrypts_to(lab.ksec(As::Token("")).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
}

#[test]
fn vault_namespace_reaches_a_key_in_a_namespace_in_both_tools() {
    let Some(lab) = lab() else { return };
    let bao = lab.bao;
    let namespaced = |args: &[&str]| {
        let out = bao
            .command(args)
            .env("VAULT_NAMESPACE", "team-ns")
            .output()
            .expect("bao");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    // Namespaces are created once per server; a second test run in the same binary would
    // find it there.
    let _ = bao.command(&["namespace", "create", "team-ns"]).output();
    let _ = bao
        .command(&["secrets", "enable", "-path=team-transit", "transit"])
        .env("VAULT_NAMESPACE", "team-ns")
        .output();
    namespaced(&["write", "-f", "team-transit/keys/ns-key"]);
    let uri = format!("{}/v1/team-transit/keys/ns-key", bao.addr);
    let enc = lab
        .ksec(As::Root)
        .env("VAULT_NAMESPACE", "team-ns")
        .args(["encrypt", "--hc-vault-transit", &uri, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    decrypts_to(
        lab.sops(As::Root)
            .env("VAULT_NAMESPACE", "team-ns")
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    lab.ksec(As::Root)
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY)
        .stderr_has("key deleted or not found");
}

#[test]
fn vault_agent_addr_sends_every_request_to_the_agent_in_both_tools() {
    let Some(lab) = lab() else { return };
    file_for_key(&lab, "agent");
    // The file's Vault is down; the "agent" (here the server itself) answers for it.
    let down = format!("http://127.0.0.1:{}", common::free_port());
    let text = lab.dir.read_string("f.enc.yaml").replace(&lab.bao.addr, &down);
    lab.dir.write("f.enc.yaml", text);
    let agent = format!("{}/", lab.bao.addr);
    decrypts_to(
        lab.ksec(As::Root)
            .env("VAULT_AGENT_ADDR", &agent)
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    decrypts_to(
        lab.sops(As::Root)
            .env("VAULT_AGENT_ADDR", &agent)
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
}

// ---------------------------------------------------------------------------------------------
// Decryption order: the keys at hand first
// ---------------------------------------------------------------------------------------------

#[test]
fn age_opens_a_file_before_a_silent_vault_is_asked_unless_the_order_puts_vault_first() {
    let Some(lab) = lab() else { return };
    let uri = lab.key("order");
    let enc = lab
        .ksec(As::Root)
        .args(["encrypt", "--hc-vault-transit", &uri, "--age", AGE1, "plain.yaml"])
        .run()
        .ok();
    // The same file, its Vault now at an address that accepts and never answers.
    let silent = common::silent_server();
    let text = enc.stdout_text().replace(&lab.bao.addr, &silent);
    lab.dir.write("f.enc.yaml", text);
    let start = Instant::now();
    common::with_vector_age(lab.ksec(As::Root).args(["decrypt", "f.enc.yaml"]), false)
        .run()
        .ok();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "age first: Vault is never asked"
    );

    let start = Instant::now();
    common::with_vector_age(
        lab.ksec(As::Root).env("KSEC_KEY_SERVICE_TIMEOUT", "1").args([
            "decrypt",
            "--decryption-order",
            "hc_vault,age",
            "f.enc.yaml",
        ]),
        false,
    )
    .run()
    .ok();
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "Vault first: its timeout passes before age opens the file"
    );
}

// ---------------------------------------------------------------------------------------------
// Faults: what the user is told, and how fast
// ---------------------------------------------------------------------------------------------

/// A file for a fresh key of this test, encrypted by ksec as root.
fn file_for_key(lab: &Lab, name: &str) -> String {
    let uri = lab.key(name);
    let enc = lab
        .ksec(As::Root)
        .args(["encrypt", "--hc-vault-transit", &uri, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    uri
}

#[test]
fn a_vault_that_is_down_fails_at_once_naming_the_key_the_address_and_the_token_source() {
    let Some(lab) = lab() else { return };
    let uri = file_for_key(&lab, "down");
    let down = format!("http://127.0.0.1:{}", common::free_port());
    let text = lab.dir.read_string("f.enc.yaml").replace(&lab.bao.addr, &down);
    lab.dir.write("f.enc.yaml", text);
    let key = uri.replace(&lab.bao.addr, &down);
    refused_within(&mut lab.ksec(As::Root), Duration::from_secs(5))
        .stderr_has(format!("hc_vault {key}: endpoint unreachable: "))
        .stderr_has(format!("(Vault at {down}, token from VAULT_TOKEN)"))
        .stderr_has("ksec: hint: check that this machine reaches the address in the file")
        .stderr_lacks(lab.bao.root_token());
    // Encrypting for it fails as sops fails: exit 1, naming the key.
    lab.ksec(As::Root)
        .args(["encrypt", "--hc-vault-transit", &key, "plain.yaml"])
        .run()
        .expect_code(1)
        .stderr_has(format!(
            "cannot wrap the data key for hc_vault {key}: endpoint unreachable"
        ));
    lab.sops(As::Root)
        .args(["encrypt", "--hc-vault-transit", &key, "plain.yaml"])
        .run()
        .expect_code(1);
}

#[test]
fn a_silent_vault_times_out_within_the_limit_the_variable_sets() {
    let Some(lab) = lab() else { return };
    file_for_key(&lab, "silent");
    let silent = common::silent_server();
    let text = lab.dir.read_string("f.enc.yaml").replace(&lab.bao.addr, &silent);
    lab.dir.write("f.enc.yaml", text);
    let start = Instant::now();
    refused_within(
        lab.ksec(As::Root).env("KSEC_KEY_SERVICE_TIMEOUT", "2"),
        Duration::from_secs(6),
    )
    .stderr_has("timed out: ")
    .stderr_has("the 2 s limit (KSEC_KEY_SERVICE_TIMEOUT)")
    .stderr_has("raise KSEC_KEY_SERVICE_TIMEOUT");
    assert!(
        start.elapsed() >= Duration::from_millis(1900),
        "the limit is waited for"
    );
}

#[test]
fn a_sealed_vault_is_asked_again_as_vault_max_retries_says_then_reported() {
    let Some(lab) = lab() else { return };
    file_for_key(&lab, "sealed");
    let (sealed, requests) = common::fixed_answer_server(503, r#"{"errors":["Vault is sealed"]}"#);
    let text = lab.dir.read_string("f.enc.yaml").replace(&lab.bao.addr, &sealed);
    lab.dir.write("f.enc.yaml", text);
    refused_within(lab.ksec(As::Root).env("VAULT_MAX_RETRIES", "1"), Duration::from_secs(5))
        .stderr_has("service failure: Vault answered 503: Vault is sealed")
        .stderr_has("ksec: hint: the service failed on its side");
    assert_eq!(
        requests.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "one try and one retry"
    );
}

#[test]
fn a_wrong_or_expired_token_is_told_apart_from_a_policy_that_forbids() {
    let Some(lab) = lab() else { return };
    file_for_key(&lab, "tokens");
    refused_within(&mut lab.ksec(As::Token("s.not-a-real-token")), Duration::from_secs(5))
        .stderr_has("invalid or expired credentials: Vault answered 403: permission denied")
        .stderr_has("ksec: hint: the Vault token is expired, revoked or unknown to this Vault")
        .stderr_lacks("s.not-a-real-token");

    let encrypt_only = lab.bao.token_with_policy(
        "encrypt-only-tokens",
        "path \"transit/encrypt/tokens\" { capabilities = [\"update\"] }\n",
        "1h",
    );
    refused_within(&mut lab.ksec(As::Token(&encrypt_only)), Duration::from_secs(5))
        .stderr_has("access denied: Vault answered 403: permission denied")
        .stderr_has("the token's policy must allow `update` on the key's transit paths")
        .stderr_lacks(&encrypt_only);

    let short = lab.bao.token_with_policy(
        "decrypt-tokens",
        "path \"transit/decrypt/tokens\" { capabilities = [\"update\"] }\n",
        "2s",
    );
    decrypts_to(lab.ksec(As::Token(&short)).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
    std::thread::sleep(Duration::from_secs(3));
    refused_within(&mut lab.ksec(As::Token(&short)), Duration::from_secs(5))
        .stderr_has("invalid or expired credentials");
    lab.sops(As::Token(&short))
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY);
}

#[test]
fn a_deleted_or_disabled_key_is_named_as_such() {
    let Some(lab) = lab() else { return };
    // Disabled: soft-deleted (OpenBao), then restored.
    file_for_key(&lab, "disabled");
    lab.bao.bao_ok(&["delete", "transit/keys/disabled/soft-delete"]);
    refused_within(&mut lab.ksec(As::Root), Duration::from_secs(5))
        .stderr_has("key disabled: Vault answered 400: refusing to use soft-deleted key")
        .stderr_has("ksec: hint: the key may not be used now");
    lab.bao
        .bao_ok(&["write", "-f", "transit/keys/disabled/soft-delete-restore"]);
    decrypts_to(lab.ksec(As::Root).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);

    // Retired: the key's version is below its min_decryption_version (Vault and OpenBao).
    lab.bao.bao_ok(&["write", "-f", "transit/keys/disabled/rotate"]);
    lab.bao
        .bao_ok(&["write", "transit/keys/disabled/config", "min_decryption_version=2"]);
    refused_within(&mut lab.ksec(As::Root), Duration::from_secs(5))
        .stderr_has("key disabled: Vault answered 400: ciphertext or signature version is disallowed by policy");

    // Deleted.
    lab.bao
        .bao_ok(&["write", "transit/keys/disabled/config", "deletion_allowed=true"]);
    lab.bao.bao_ok(&["delete", "transit/keys/disabled"]);
    refused_within(&mut lab.ksec(As::Root), Duration::from_secs(5))
        .stderr_has("key deleted or not found: Vault answered 400: encryption key not found")
        .stderr_has("ksec: hint: the key (or the engine it lives in) no longer exists");
    lab.sops(As::Root)
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY);
}

#[test]
fn a_shamir_file_opens_with_the_groups_that_can_be_reached() {
    let Some(lab) = lab() else { return };
    let uri = lab.key("reach");
    lab.write_config(&format!(
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - hc_vault: [{uri}]\n      \
         - age: [{AGE1}]\n      - age: [{AGE2}]\n"
    ));
    let enc = lab.ksec(As::Root).args(["encrypt", "plain.yaml"]).run().ok();
    // Vault down: the two age groups are enough, and Vault is not even waited for.
    let silent = common::silent_server();
    lab.dir
        .write("f.enc.yaml", enc.stdout_text().replace(&lab.bao.addr, &silent));
    let start = Instant::now();
    decrypts_to(
        common::with_vector_age(lab.ksec(As::Root).args(["decrypt", "f.enc.yaml"]), true).run(),
        PLAIN,
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    decrypts_to(
        common::with_vector_age(lab.sops(As::Root).args(["decrypt", "f.enc.yaml"]), true)
            .env("VAULT_CLIENT_TIMEOUT", "2")
            .env("VAULT_MAX_RETRIES", "0")
            .run(),
        PLAIN,
    );
    // One age key and Vault down: not enough, and the report says which group failed how.
    let down = format!("http://127.0.0.1:{}", common::free_port());
    lab.dir
        .write("f.enc.yaml", enc.stdout_text().replace(&lab.bao.addr, &down));
    common::with_vector_age(lab.ksec(As::Root).args(["decrypt", "f.enc.yaml"]), false)
        .run()
        .expect_code(NO_KEY)
        .stderr_has("  group 0: FAILED\n    hc_vault ")
        .stderr_has("endpoint unreachable")
        .stderr_has("  group 1: ok\n")
        .stderr_has("  group 2: FAILED\n")
        .stderr_has("1 of 3 key groups decrypted; the Shamir threshold is 2");
}

#[test]
fn tls_needs_the_servers_authority_or_verification_turned_off_in_both_tools() {
    let Some(lab) = lab() else { return };
    let Some(tls) = common::bao_tls() else { return };
    let ca = tls.ca_cert.clone().expect("the TLS server's CA");
    tls.bao_ok(&["secrets", "enable", "-path=tls-transit", "transit"]);
    tls.bao_ok(&["write", "-f", "tls-transit/keys/tls"]);
    let uri = format!("{}/v1/tls-transit/keys/tls", tls.addr);
    lab.ksec(As::Root)
        .args(["encrypt", "--hc-vault-transit", &uri, "plain.yaml"])
        .run()
        .expect_code(1)
        .stderr_has("TLS failure: invalid peer certificate: UnknownIssuer")
        .stderr_has("ksec: hint: set VAULT_CACERT to the certificate of the authority");
    let enc = lab
        .ksec(As::Root)
        .env("VAULT_CACERT", &ca)
        .args(["encrypt", "--hc-vault-transit", &uri, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    decrypts_to(
        lab.sops(As::Root)
            .env("VAULT_CACERT", &ca)
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    // The CA's directory also holds the server's key, which VAULT_CAPATH skips.
    let dir = ca.parent().expect("the CA's directory");
    decrypts_to(
        lab.ksec(As::Root)
            .env("VAULT_CAPATH", dir)
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    decrypts_to(
        lab.ksec(As::Root)
            .env("VAULT_SKIP_VERIFY", "true")
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    refused_within(&mut lab.ksec(As::Root), Duration::from_secs(5)).stderr_has("TLS failure");
}

#[test]
fn bad_vault_settings_are_named_when_vault_is_asked() {
    let Some(lab) = lab() else { return };
    file_for_key(&lab, "settings");
    refused_within(
        lab.ksec(As::Root).env("VAULT_SKIP_VERIFY", "perhaps"),
        Duration::from_secs(5),
    )
    .stderr_has("unusable settings: VAULT_SKIP_VERIFY=\"perhaps\" is not a boolean");
    refused_within(
        lab.ksec(As::Root).env("KSEC_KEY_SERVICE_TIMEOUT", "soon"),
        Duration::from_secs(5),
    )
    .stderr_has("KSEC_KEY_SERVICE_TIMEOUT=\"soon\" is not a duration");
    // A file without Vault keys never reads them.
    let enc = lab
        .ksec(As::NoToken)
        .args(["encrypt", "--age", AGE1, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("age.enc.yaml", enc.stdout);
    decrypts_to(
        common::with_vector_age(
            lab.ksec(As::Root)
                .env("VAULT_SKIP_VERIFY", "perhaps")
                .args(["decrypt", "age.enc.yaml"]),
            false,
        )
        .run(),
        PLAIN,
    );
}

#[test]
fn an_invalid_encryption_context_exits_6_as_in_sops() {
    let Some(lab) = lab() else { return };
    lab.ksec(As::NoToken)
        .args([
            "encrypt",
            "--kms",
            "arn:x",
            "--encryption-context",
            "broken",
            "plain.yaml",
        ])
        .run()
        .expect_code(6);
}

// ---------------------------------------------------------------------------------------------
// The harness: no server outlives its test binary
// ---------------------------------------------------------------------------------------------

/// Not a test on its own: the lifeline test below runs this binary with only this test and
/// KSEC_TEST_HOLD_BAO set, so that this process starts the server, prints its address and
/// waits to be killed.
#[test]
fn holds_the_server_for_the_lifeline_test() {
    if std::env::var_os("KSEC_TEST_HOLD_BAO").is_none() {
        return;
    }
    let bao = common::bao().expect("bao is installed");
    println!("bao-address {}", bao.addr);
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn no_server_outlives_a_test_binary_killed_with_sigkill() {
    use std::io::{BufRead, BufReader};
    if common::bao_bin().is_none() {
        return;
    }
    let mut child = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", "holds_the_server_for_the_lifeline_test", "--nocapture"])
        .env("KSEC_TEST_HOLD_BAO", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run this binary again");
    let stdout = child.stdout.take().expect("piped");
    let addr = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("bao-address ").map(str::to_string))
        .expect("the child prints the server's address");
    assert_eq!(
        common::http_status(&addr, "GET", "/v1/sys/health", None, None),
        Some(200)
    );
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    let start = Instant::now();
    while common::http_status(&addr, "GET", "/v1/sys/health", None, None).is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the server at {addr} outlived its test binary"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
