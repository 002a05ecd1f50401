//! AWS KMS keys, against moto's local KMS (the real KMS and STS wire protocol) and the real
//! sops 3.11: each tool reads what the other writes (with an encryption context, a role and a
//! profile, Shamir groups mixing a KMS key with age), every way ksec takes a KMS key (flags,
//! `SOPS_KMS_ARN`, `.sops.yaml`, rotate, updatekeys), every source of the AWS credential chain,
//! and what the user is told when KMS cannot help: no credentials, expired ones, access
//! denied, a key disabled, pending deletion or missing, a wrong encryption context, an
//! endpoint down or silent.
//!
//! moto does not enforce key states, key policies or credentials, so the refusals it cannot
//! give are given by a stand-in that answers as KMS documents them (`{"__type":
//! "DisabledException", …}`), and both tools are run against it.
//!
//! The server starts once for this test binary (`common::moto`) and stops when it ends; each
//! test makes its own keys. A missing peer (sops or moto) fails the test under `CI` and skips
//! it otherwise.
#![cfg(unix)]

mod common;

use std::time::{Duration, Instant};

use common::{
    AWS_TEST_ACCESS_KEY_ID as ACCESS_KEY_ID, AWS_TEST_SECRET as SECRET, Dir, Moto, Route, TestCommand,
    VECTOR_RECIPIENT as AGE1, VECTOR_RECIPIENT_2 as AGE2, block_shape, block_without_stamps, decrypts_to,
    refused_within,
};

/// A plaintext both tools print back byte for byte.
const PLAIN: &str = "password: hunter2\nport: 5432\n";

/// `sops`' exit code when no key can decrypt the data key.
const NO_KEY: i32 = 128;

/// The region the tests' keys live in, unless a test says otherwise.
const REGION: &str = "us-east-1";

/// A role in moto's account; moto lets any caller assume it.
const ROLE: &str = "arn:aws:iam::123456789012:role/ksec-test";

/// How KMS refuses a disabled key, a key pending deletion, a caller without permission, and
/// credentials that expired (the documented error shapes of the JSON protocol).
const DISABLED: &str =
    r#"{"__type":"DisabledException","message":"arn:aws:kms:us-east-1:123456789012:key/k is disabled."}"#;
const PENDING_DELETION: &str = r#"{"__type":"KMSInvalidStateException","message":"arn:aws:kms:us-east-1:123456789012:key/k is pending deletion."}"#;
const ACCESS_DENIED: &str = r#"{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/ksec-test/s is not authorized to perform: kms:Decrypt"}"#;
const EXPIRED: &str =
    r#"{"__type":"ExpiredTokenException","message":"The security token included in the request is expired"}"#;

/// A Dir with the real sops, and the moto server of this test binary.
struct Lab {
    dir: Dir,
    moto: &'static Moto,
}

/// A fresh session, or `None` (after a note) when a peer is missing outside CI.
fn lab() -> Option<Lab> {
    let dir = Dir::with_sops()?;
    let moto = common::moto()?;
    dir.write("plain.yaml", PLAIN);
    Some(Lab { dir, moto })
}

/// Which credentials a command gets. Every command's AWS requests (KMS, STS) go to moto, so
/// that none ever leaves the machine.
#[derive(Clone, Copy, PartialEq, Eq)]
enum As {
    /// The test access key in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
    Env,
    /// No credentials in the environment (a test may give them another way).
    Nobody,
}

impl Lab {
    fn with_aws<'c>(&self, cmd: &'c mut TestCommand, who: As) -> &'c mut TestCommand {
        // sops's web identity provider asks STS at the STS variable's endpoint only.
        cmd.env("AWS_ENDPOINT_URL", &self.moto.addr)
            .env("AWS_ENDPOINT_URL_STS", &self.moto.addr);
        if who == As::Env {
            cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
                .env("AWS_SECRET_ACCESS_KEY", SECRET);
        }
        cmd
    }

    fn ksec(&self, who: As) -> TestCommand {
        let mut cmd = self.dir.ksec();
        self.with_aws(&mut cmd, who);
        cmd
    }

    fn sops(&self, who: As) -> TestCommand {
        let mut cmd = self.dir.sops();
        self.with_aws(&mut cmd, who);
        cmd
    }

    /// A new key of this test, in the tests' region.
    fn key(&self) -> String {
        self.moto.create_key(REGION)
    }

    fn write_config(&self, text: &str) {
        self.dir.write(".sops.yaml", text);
    }

    /// `f.enc.yaml`, encrypted by ksec for `arn` (with `flags`, e.g. a context).
    fn file_for(&self, arn: &str, flags: &[&str]) {
        let out = self
            .ksec(As::Env)
            .args(["encrypt", "--kms", arn])
            .args(flags)
            .arg("plain.yaml")
            .run()
            .ok();
        self.dir.write("f.enc.yaml", out.stdout);
    }
}

/// The same for sops, which has no time limit of its own to check.
fn sops_refuses(cmd: &mut TestCommand) {
    cmd.args(["decrypt", "f.enc.yaml"])
        .run_within(Duration::from_secs(60))
        .expect_code(NO_KEY);
}

// ---------------------------------------------------------------------------------------------
// Interop: each tool reads what the other writes
// ---------------------------------------------------------------------------------------------

#[test]
fn ksec_writes_a_kms_entry_with_its_context_exactly_as_sops_does_and_each_reads_the_other() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    let encrypt = |mut cmd: TestCommand| {
        cmd.args([
            "encrypt",
            "--kms",
            &arn,
            "--encryption-context",
            "env:prod,app:db",
            "plain.yaml",
        ])
        .run()
        .ok()
        .stdout_text()
    };
    let by_ksec = encrypt(lab.ksec(As::Env));
    let by_sops = encrypt(lab.sops(As::Env));
    assert_eq!(
        block_shape(&by_ksec),
        block_shape(&by_sops),
        "ksec:\n{by_ksec}\nsops:\n{by_sops}"
    );
    assert!(
        by_ksec.contains(&format!(
            "    kms:\n        - arn: {arn}\n          context:\n            app: db\n            env: prod\n"
        )),
        "{by_ksec}"
    );
    lab.dir.write("by-ksec.enc.yaml", &by_ksec);
    lab.dir.write("by-sops.enc.yaml", &by_sops);
    for file in ["by-ksec.enc.yaml", "by-sops.enc.yaml"] {
        decrypts_to(lab.ksec(As::Env).args(["decrypt", file]).run(), PLAIN);
        decrypts_to(lab.sops(As::Env).args(["decrypt", file]).run(), PLAIN);
    }

    // A value changed by ksec in sops's file: the KMS entry stays byte for byte.
    lab.ksec(As::Env)
        .args(["set", "by-sops.enc.yaml", r#"["password"]"#, r#""changed""#])
        .run()
        .ok();
    let changed = lab.dir.read_string("by-sops.enc.yaml");
    assert_eq!(block_without_stamps(&changed), block_without_stamps(&by_sops));
    decrypts_to(
        lab.sops(As::Env).args(["decrypt", "by-sops.enc.yaml"]).run(),
        "password: changed\nport: 5432\n",
    );
}

#[test]
fn the_region_is_the_one_the_arn_names_whatever_aws_region_says() {
    let Some(lab) = lab() else { return };
    // moto keeps each region's keys apart: asking us-east-1 for this key would not find it.
    let arn = lab.moto.create_key("eu-west-1");
    let out = lab
        .ksec(As::Env)
        .env("AWS_REGION", REGION)
        .args(["encrypt", "--kms", &arn, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", out.stdout);
    decrypts_to(
        lab.ksec(As::Env)
            .env("AWS_REGION", REGION)
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    decrypts_to(lab.sops(As::Env).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);

    // The same key named in another region is not there.
    let elsewhere = arn.replace(":eu-west-1:", ":us-east-1:");
    let text = lab.dir.read_string("f.enc.yaml").replace(&arn, &elsewhere);
    lab.dir.write("f.enc.yaml", text);
    refused_within(&mut lab.ksec(As::Env), Duration::from_secs(5))
        .stderr_has("key deleted or not found: NotFoundException: ")
        .stderr_has("(AWS KMS in us-east-1 at ");
}

#[test]
fn a_shamir_group_of_a_kms_key_and_a_group_of_age_need_both_in_both_tools() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    lab.write_config(&format!(
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - kms:\n          - arn: {arn}\n            \
         context:\n              team: a\n      - age: [{AGE1}]\n"
    ));
    for (tool, mut cmd) in [("ksec", lab.ksec(As::Env)), ("sops", lab.sops(As::Env))] {
        let out = cmd.args(["encrypt", "plain.yaml"]).run().ok().stdout_text();
        assert!(
            out.contains("shamir_threshold: 2") && out.contains(&format!("- arn: {arn}")),
            "{tool}: {out}"
        );
        lab.dir.write(&format!("{tool}.enc.yaml"), &out);
    }
    for file in ["ksec.enc.yaml", "sops.enc.yaml"] {
        decrypts_to(
            common::with_vector_age(lab.ksec(As::Env).args(["decrypt", file]), false).run(),
            PLAIN,
        );
        decrypts_to(
            common::with_vector_age(lab.sops(As::Env).args(["decrypt", file]), false).run(),
            PLAIN,
        );
        // Either group alone is not enough, in both tools.
        common::with_vector_age(lab.ksec(As::Nobody).args(["decrypt", file]), false)
            .run()
            .expect_code(NO_KEY)
            .stderr_has("1 of 2 key groups decrypted; the Shamir threshold is 2");
        lab.sops(As::Env).args(["decrypt", file]).run().expect_code(NO_KEY);
        lab.ksec(As::Env).args(["decrypt", file]).run().expect_code(NO_KEY);
    }
}

#[test]
fn a_shamir_file_opens_with_the_groups_that_can_be_reached_without_waiting_for_kms() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    lab.write_config(&format!(
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - kms: [{{arn: '{arn}'}}]\n      \
         - age: [{AGE1}]\n      - age: [{AGE2}]\n"
    ));
    let enc = lab.ksec(As::Env).args(["encrypt", "plain.yaml"]).run().ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    // KMS silent: the two age groups are enough, and KMS is not even asked.
    let silent = common::silent_server();
    let start = Instant::now();
    decrypts_to(
        common::with_vector_age(
            lab.ksec(As::Env)
                .env("AWS_ENDPOINT_URL_KMS", &silent)
                .args(["decrypt", "f.enc.yaml"]),
            true,
        )
        .run(),
        PLAIN,
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    // One age key and KMS down: not enough, and the report says which group failed how.
    let down = format!("http://127.0.0.1:{}", common::free_port());
    common::with_vector_age(
        lab.ksec(As::Env)
            .env("AWS_ENDPOINT_URL_KMS", &down)
            .args(["decrypt", "f.enc.yaml"]),
        false,
    )
    .run()
    .expect_code(NO_KEY)
    .stderr_has(format!("  group 0: FAILED\n    kms {arn}: endpoint unreachable"))
    .stderr_has("  group 1: ok\n")
    .stderr_has("1 of 3 key groups decrypted; the Shamir threshold is 2");
}

// ---------------------------------------------------------------------------------------------
// Every way to name a KMS key, with a role and a profile
// ---------------------------------------------------------------------------------------------

#[test]
fn a_key_with_a_role_and_a_profile_from_sops_yaml_is_used_as_sops_uses_it() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    // The profile's credentials are the only ones there are.
    let aws = lab.dir.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        "[dev]\naws_access_key_id = AKIAKSECTESTPROFILE\naws_secret_access_key = profile-secret-never-shown\n",
    )
    .unwrap();
    lab.write_config(&format!(
        "creation_rules:\n  - key_groups:\n      - kms:\n          - arn: {arn}\n            role: {ROLE}\n            \
         aws_profile: dev\n            context:\n              app: db\n"
    ));
    for (tool, mut cmd) in [("ksec", lab.ksec(As::Nobody)), ("sops", lab.sops(As::Nobody))] {
        let out = cmd.args(["encrypt", "plain.yaml"]).run().ok().stdout_text();
        lab.dir.write(&format!("{tool}.enc.yaml"), &out);
    }
    let (by_ksec, by_sops) = (
        lab.dir.read_string("ksec.enc.yaml"),
        lab.dir.read_string("sops.enc.yaml"),
    );
    assert_eq!(
        block_shape(&by_ksec),
        block_shape(&by_sops),
        "ksec:\n{by_ksec}\nsops:\n{by_sops}"
    );
    assert!(
        by_ksec.contains(&format!("          role: {ROLE}\n")) && by_ksec.contains("          aws_profile: dev\n"),
        "{by_ksec}"
    );
    for file in ["ksec.enc.yaml", "sops.enc.yaml"] {
        decrypts_to(lab.ksec(As::Nobody).args(["decrypt", file]).run(), PLAIN);
        decrypts_to(lab.sops(As::Nobody).args(["decrypt", file]).run(), PLAIN);
    }

    // Refused by KMS: the report names the role, its session, and whose credentials assumed
    // it (the profile's access key id, never a secret).
    let (denied, _) = common::fixed_answer_server(400, ACCESS_DENIED);
    lab.dir.write("f.enc.yaml", &by_ksec);
    refused_within(
        lab.ksec(As::Nobody).env("AWS_ENDPOINT_URL_KMS", &denied),
        Duration::from_secs(5),
    )
    .stderr_has("access denied: AccessDeniedException: User: ")
    .stderr_has(format!("role {ROLE} as sops@"))
    .stderr_has(", assumed by profile dev: access key AKIAKSECTESTPROFILE (from the shared config or credentials file): access key ")
    .stderr_has("ksec: hint: the AWS identity named above needs kms:Encrypt and kms:Decrypt")
    .stderr_lacks("profile-secret-never-shown");

    // A profile that does not exist is named as the reason.
    lab.dir
        .write("f.enc.yaml", by_ksec.replace("aws_profile: dev", "aws_profile: nope"));
    refused_within(&mut lab.ksec(As::Nobody), Duration::from_secs(5))
        .stderr_has("no credentials: none found; the AWS credential chain tried ")
        .stderr_has("profile `nope` was not defined")
        .stderr_has("(AWS KMS in us-east-1 at ");
}

#[test]
fn sops_kms_arn_and_a_flat_creation_rule_name_kms_keys() {
    let Some(lab) = lab() else { return };
    let (a, b) = (lab.key(), lab.key());
    let out = lab
        .ksec(As::Env)
        .env("SOPS_KMS_ARN", format!("{a},{b}"))
        .args(["encrypt", "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    assert!(
        out.contains(&format!("- arn: {a}")) && out.contains(&format!("- arn: {b}")),
        "{out}"
    );

    lab.write_config(&format!("creation_rules:\n  - kms: '{a}'\n"));
    let out = lab
        .ksec(As::Env)
        .args(["encrypt", "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    assert!(out.contains(&format!("- arn: {a}")) && !out.contains(&b), "{out}");
    lab.dir.write("f.enc.yaml", out);
    decrypts_to(lab.sops(As::Env).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
}

#[test]
fn rotate_adds_and_removes_kms_keys_as_sops_names_them() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    let out = lab
        .ksec(As::Nobody)
        .args(["encrypt", "--age", AGE1, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", out.stdout);
    common::with_vector_age(
        lab.ksec(As::Env)
            .args(["rotate", "-i", "--add-kms", &arn, "--rm-age", AGE1, "f.enc.yaml"]),
        false,
    )
    .run()
    .ok();
    let text = lab.dir.read_string("f.enc.yaml");
    assert!(
        text.contains(&format!("- arn: {arn}")) && !text.contains(AGE1),
        "{text}"
    );
    decrypts_to(lab.sops(As::Env).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);

    lab.ksec(As::Env)
        .args(["rotate", "-i", "--add-age", AGE2, "--rm-kms", &arn, "f.enc.yaml"])
        .run()
        .ok();
    let text = lab.dir.read_string("f.enc.yaml");
    assert!(!text.contains("kms:") && text.contains(AGE2), "{text}");
}

#[test]
fn updatekeys_adds_a_kms_key_and_keeps_it_without_asking_kms_again() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    lab.dir.write("f.yaml", PLAIN);
    let enc = lab
        .ksec(As::Nobody)
        .args(["encrypt", "--age", AGE1, "f.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    lab.write_config(&format!("creation_rules:\n  - age: {AGE1}\n    kms: {arn}\n"));
    common::with_vector_age(lab.ksec(As::Env).args(["updatekeys", "-y", "f.enc.yaml"]), false)
        .run()
        .ok()
        .stderr_has(format!("+ kms {arn}"));
    let with_kms = lab.dir.read_string("f.enc.yaml");
    decrypts_to(lab.sops(As::Env).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);

    // Adding an age key keeps the KMS entry as it is: KMS is not asked (there are no
    // credentials here), and the entry stays byte for byte.
    lab.write_config(&format!("creation_rules:\n  - age: {AGE1},{AGE2}\n    kms: {arn}\n"));
    common::with_vector_age(lab.ksec(As::Nobody).args(["updatekeys", "-y", "f.enc.yaml"]), false)
        .run()
        .ok()
        .stderr_has(format!("+ age {AGE2}"));
    let with_age2 = lab.dir.read_string("f.enc.yaml");
    let kms_entry = |text: &str| {
        let start = text.find("    kms:").expect("a kms entry");
        text[start..].lines().take(5).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(kms_entry(&with_age2), kms_entry(&with_kms));
    decrypts_to(lab.sops(As::Env).args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
}

// ---------------------------------------------------------------------------------------------
// The credential chain
// ---------------------------------------------------------------------------------------------

/// Temporary credentials as the container and instance metadata endpoints answer them.
fn metadata_credentials(access_key_id: &str) -> String {
    format!(
        r#"{{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"{access_key_id}","SecretAccessKey":"metadata-secret","Token":"metadata-token","Expiration":"2099-01-01T00:00:00Z","LastUpdated":"2026-01-01T00:00:00Z"}}"#
    )
}

#[test]
fn every_source_of_the_credential_chain_works_in_both_tools_and_is_named() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    lab.file_for(&arn, &[]);
    let side = lab.dir.side("aws");
    let credentials_file = side.join("credentials");
    std::fs::write(
        &credentials_file,
        "[default]\naws_access_key_id = AKIAKSECTESTFILE\naws_secret_access_key = file-secret\n",
    )
    .unwrap();
    let token_file = side.join("web-identity-token");
    std::fs::write(&token_file, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJrc2VjIn0.").unwrap();
    let container = common::routed_server(vec![Route {
        method: "GET",
        path: "/credentials",
        status: 200,
        headers: "",
        body: metadata_credentials("ASIAKSECTESTCONTAINER"),
    }]);
    let instance = common::routed_server(vec![
        Route {
            method: "PUT",
            path: "/latest/api/token",
            status: 200,
            headers: "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n",
            body: "imds-session-token".into(),
        },
        Route {
            method: "GET",
            path: "/latest/meta-data/iam/security-credentials/",
            status: 200,
            headers: "",
            body: "ksec-instance-role".into(),
        },
        Route {
            method: "GET",
            path: "/latest/meta-data/iam/security-credentials/ksec-instance-role",
            status: 200,
            headers: "",
            body: metadata_credentials("ASIAKSECTESTINSTANCE"),
        },
    ]);
    // Each source: how ksec names it, the access key id it gives, and the variables that set it
    // up.
    let sources = [
        (
            "environment variables",
            ACCESS_KEY_ID,
            vec![
                ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.into()),
                ("AWS_SECRET_ACCESS_KEY", SECRET.into()),
            ],
        ),
        (
            "the shared config or credentials file",
            "AKIAKSECTESTFILE",
            vec![("AWS_SHARED_CREDENTIALS_FILE", credentials_file.display().to_string())],
        ),
        (
            "web identity token",
            "ASIA",
            vec![
                ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.display().to_string()),
                ("AWS_ROLE_ARN", ROLE.to_string()),
            ],
        ),
        (
            "the container credentials endpoint",
            "ASIAKSECTESTCONTAINER",
            vec![("AWS_CONTAINER_CREDENTIALS_FULL_URI", format!("{container}/credentials"))],
        ),
        (
            "the instance metadata service",
            "ASIAKSECTESTINSTANCE",
            vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", format!("{instance}/"))],
        ),
    ];
    let (denied, _) = common::fixed_answer_server(400, ACCESS_DENIED);
    for (source, access_key, vars) in sources {
        let given = |mut cmd: TestCommand| {
            for (name, value) in &vars {
                cmd.env(name, value);
            }
            if source == "the instance metadata service" {
                cmd.env_remove("AWS_EC2_METADATA_DISABLED");
            }
            cmd
        };
        let mut ksec = given(lab.ksec(As::Nobody));
        decrypts_to(ksec.args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
        let mut sops = given(lab.sops(As::Nobody));
        decrypts_to(sops.args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
        let mut refused = given(lab.ksec(As::Nobody));
        refused_within(refused.env("AWS_ENDPOINT_URL_KMS", &denied), Duration::from_secs(5))
            .stderr_has(format!("the default credential chain: access key {access_key}"))
            .stderr_has(format!("(from {source})"))
            .stderr_lacks(SECRET)
            .stderr_lacks("file-secret")
            .stderr_lacks("metadata-secret");
    }
}

#[test]
fn missing_credentials_are_reported_with_what_the_chain_tried() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    lab.file_for(&arn, &[]);
    refused_within(&mut lab.ksec(As::Nobody), Duration::from_secs(5))
        .stderr_has(format!(
            "kms {arn}: no credentials: none found; the AWS credential chain tried Environment (environment \
             variable not set), Profile"
        ))
        .stderr_has("Ec2InstanceMetadata (IMDS disabled by AWS_EC2_METADATA_DISABLED")
        .stderr_has(format!(
            "(AWS KMS in us-east-1 at {} (AWS_ENDPOINT_URL), the default credential chain)",
            lab.moto.addr
        ))
        .stderr_has("ksec: hint: give ksec AWS credentials as for the aws CLI");
    sops_refuses(&mut lab.sops(As::Nobody));
    // Encrypting for a key without credentials fails as sops fails: exit 1, naming the key.
    lab.ksec(As::Nobody)
        .args(["encrypt", "--kms", &arn, "plain.yaml"])
        .run()
        .expect_code(1)
        .stderr_has(format!("cannot wrap the data key for kms {arn}: no credentials"));
    lab.sops(As::Nobody)
        .args(["encrypt", "--kms", &arn, "plain.yaml"])
        .run_within(Duration::from_secs(60))
        .expect_code(1);
}

// ---------------------------------------------------------------------------------------------
// Faults: what the user is told, and how fast
// ---------------------------------------------------------------------------------------------

#[test]
fn a_wrong_encryption_context_is_refused_by_kms_in_both_tools() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    lab.file_for(&arn, &["--encryption-context", "app:db,env:prod"]);
    let text = lab.dir.read_string("f.enc.yaml").replace("env: prod", "env: dev");
    lab.dir.write("f.enc.yaml", text);
    refused_within(&mut lab.ksec(As::Env), Duration::from_secs(5))
        .stderr_has(format!(
            "kms {arn}|app:db,env:dev: the key cannot decrypt this data key: InvalidCiphertextException"
        ))
        .stderr_has("ksec: hint: KMS refused this entry: its encryption context (`context`) must be the one");
    sops_refuses(&mut lab.sops(As::Env));
}

#[test]
fn a_disabled_key_or_one_pending_deletion_is_named_as_such_in_both_tools() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    lab.file_for(&arn, &[]);
    let (disabled, _) = common::fixed_answer_server(400, DISABLED);
    refused_within(
        lab.ksec(As::Env).env("AWS_ENDPOINT_URL_KMS", &disabled),
        Duration::from_secs(5),
    )
    .stderr_has("key disabled: DisabledException: arn:aws:kms:us-east-1:123456789012:key/k is disabled.")
    .stderr_has(format!("(AWS KMS in us-east-1 at {disabled} (AWS_ENDPOINT_URL_KMS), the default credential chain: access key {ACCESS_KEY_ID} (from environment variables))"))
    .stderr_has("ksec: hint: the key may not be used now")
    .stderr_lacks(SECRET);
    sops_refuses(lab.sops(As::Env).env("AWS_ENDPOINT_URL_KMS", &disabled));

    let (pending, _) = common::fixed_answer_server(400, PENDING_DELETION);
    refused_within(
        lab.ksec(As::Env).env("AWS_ENDPOINT_URL_KMS", &pending),
        Duration::from_secs(5),
    )
    .stderr_has("key disabled: KMSInvalidStateException: ")
    .stderr_has("is pending deletion.");
    // Encrypting for it fails as sops fails: exit 1, naming the key and the reason.
    lab.ksec(As::Env)
        .env("AWS_ENDPOINT_URL_KMS", &disabled)
        .args(["encrypt", "--kms", &arn, "plain.yaml"])
        .run()
        .expect_code(1)
        .stderr_has(format!(
            "cannot wrap the data key for kms {arn}: key disabled: DisabledException"
        ));
}

#[test]
fn a_missing_key_and_a_key_of_another_file_are_told_apart() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    lab.file_for(&arn, &[]);
    let original = lab.dir.read_string("f.enc.yaml");
    let key_id = arn.rsplit('/').next().expect("a key id");

    let missing = arn.replace(key_id, "00000000-0000-0000-0000-000000000000");
    lab.dir.write("f.enc.yaml", original.replace(&arn, &missing));
    refused_within(&mut lab.ksec(As::Env), Duration::from_secs(5))
        .stderr_has(format!("kms {missing}: key deleted or not found: NotFoundException: "))
        .stderr_has("ksec: hint: the key (or the engine it lives in) no longer exists");
    sops_refuses(&mut lab.sops(As::Env));

    // moto refuses a ciphertext made by another key as AWS refuses a caller the key's policy
    // does not name.
    let other = lab.key();
    lab.dir.write("f.enc.yaml", original.replace(&arn, &other));
    refused_within(&mut lab.ksec(As::Env), Duration::from_secs(5))
        .stderr_has(format!("kms {other}: access denied: AccessDeniedException ("))
        .stderr_has("ksec: hint: the AWS identity named above needs kms:Encrypt and kms:Decrypt");
    sops_refuses(&mut lab.sops(As::Env));
}

#[test]
fn expired_credentials_are_named_as_such_and_never_shown() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    lab.file_for(&arn, &[]);
    let (expired, _) = common::fixed_answer_server(400, EXPIRED);
    refused_within(
        lab.ksec(As::Env)
            .env("AWS_ENDPOINT_URL_KMS", &expired)
            .env("AWS_SESSION_TOKEN", "ksec-test-session-token"),
        Duration::from_secs(5),
    )
    .stderr_has(
        "invalid or expired credentials: ExpiredTokenException: The security token included in the request is expired",
    )
    .stderr_has(format!("access key {ACCESS_KEY_ID} (from environment variables)"))
    .stderr_has("ksec: hint: the AWS credentials are expired or unknown to AWS")
    .stderr_lacks(SECRET)
    .stderr_lacks("ksec-test-session-token");
    sops_refuses(lab.sops(As::Env).env("AWS_ENDPOINT_URL_KMS", &expired));
}

#[test]
fn an_endpoint_that_is_down_fails_at_once_and_a_silent_one_within_the_limit() {
    let Some(lab) = lab() else { return };
    let arn = lab.key();
    lab.file_for(&arn, &[]);
    let down = format!("http://127.0.0.1:{}", common::free_port());
    refused_within(
        lab.ksec(As::Env).env("AWS_ENDPOINT_URL_KMS", &down),
        Duration::from_secs(5),
    )
    .stderr_has(format!("kms {arn}: endpoint unreachable: "))
    .stderr_has("Connection refused")
    .stderr_has(format!("(AWS KMS in us-east-1 at {down} (AWS_ENDPOINT_URL_KMS), "))
    .stderr_has("ksec: hint: check that this machine reaches AWS KMS in the key's region");
    lab.ksec(As::Env)
        .env("AWS_ENDPOINT_URL_KMS", &down)
        .args(["encrypt", "--kms", &arn, "plain.yaml"])
        .run()
        .expect_code(1)
        .stderr_has(format!("cannot wrap the data key for kms {arn}: endpoint unreachable"));
    sops_refuses(lab.sops(As::Env).env("AWS_ENDPOINT_URL_KMS", &down));

    let silent = common::silent_server();
    let start = Instant::now();
    refused_within(
        lab.ksec(As::Env)
            .env("AWS_ENDPOINT_URL_KMS", &silent)
            .env("KSEC_KEY_SERVICE_TIMEOUT", "2"),
        Duration::from_secs(6),
    )
    .stderr_has("timed out: no answer in time (KMS Decrypt); the 2 s limit (KSEC_KEY_SERVICE_TIMEOUT)");
    assert!(
        start.elapsed() >= Duration::from_millis(1900),
        "the limit is waited for"
    );
}

#[test]
fn a_file_without_kms_keys_never_starts_the_aws_sdk() {
    let Some(lab) = lab() else { return };
    let enc = lab
        .ksec(As::Nobody)
        .args(["encrypt", "--age", AGE1, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("age.enc.yaml", enc.stdout);
    // Settings that would make any AWS request fail are never read.
    decrypts_to(
        common::with_vector_age(
            lab.ksec(As::Nobody)
                .env("AWS_ENDPOINT_URL", "not a url")
                .env("HTTPS_PROXY", "not a url either")
                .args(["decrypt", "age.enc.yaml"]),
            false,
        )
        .run(),
        PLAIN,
    );
    // A key that is not an ARN is refused before AWS is asked, as sops refuses it.
    lab.ksec(As::Env)
        .args(["encrypt", "--kms", "alias/app", "plain.yaml"])
        .run()
        .expect_code(1)
        .stderr_has("unusable settings: no valid ARN found in 'alias/app'");
}

#[test]
fn tls_needs_the_endpoints_authority_in_aws_ca_bundle_in_both_tools() {
    let Some(lab) = lab() else { return };
    let Some(tls) = common::moto_tls() else { return };
    let ca = tls.ca_cert.clone().expect("the TLS server's CA");
    let arn = tls.create_key(REGION);
    let at_tls = |mut cmd: TestCommand| {
        cmd.env("AWS_ENDPOINT_URL", &tls.addr)
            .env("AWS_ENDPOINT_URL_STS", &tls.addr);
        cmd
    };
    at_tls(lab.ksec(As::Env))
        .args(["encrypt", "--kms", &arn, "plain.yaml"])
        .run()
        .expect_code(1)
        .stderr_has(format!("cannot wrap the data key for kms {arn}: TLS failure: "))
        .stderr_has("UnknownIssuer")
        .stderr_has("ksec: hint: set AWS_CA_BUNDLE to the certificate of the authority");
    let enc = at_tls(lab.ksec(As::Env))
        .env("AWS_CA_BUNDLE", &ca)
        .args(["encrypt", "--kms", &arn, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    decrypts_to(
        at_tls(lab.sops(As::Env))
            .env("AWS_CA_BUNDLE", &ca)
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    decrypts_to(
        at_tls(lab.ksec(As::Env))
            .env("AWS_CA_BUNDLE", &ca)
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    refused_within(&mut at_tls(lab.ksec(As::Env)), Duration::from_secs(5)).stderr_has("TLS failure");
    // A bundle that cannot be read, or holds no certificate, is named as the setting to fix.
    let not_pem = lab.dir.write("not-a-bundle.pem", "hello\n");
    refused_within(
        at_tls(lab.ksec(As::Env)).env("AWS_CA_BUNDLE", &not_pem),
        Duration::from_secs(5),
    )
    .stderr_has(format!(
        "unusable settings: AWS_CA_BUNDLE={}: no PEM certificate in it",
        not_pem.display()
    ));
}
