//! The Kubernetes workflow as users live it: Secrets made by the real kubectl piped into
//! `ksec encrypt` with nothing but a recipient, Secret validation and the fail-closed refusals,
//! mixed streams, `ksec apply` against a recording stand-in for kubectl, `ksec decrypt` of
//! several files or a tree into one stream, `kubectl ksec` as a plugin, and `ksec check`.
//!
//! Each test is a session in a scratch directory with an empty home, where ksec's TMPDIR also
//! points, so a test can walk the whole scratch tree looking for plaintext ksec wrote. The real
//! kubectl, sops and openssl are used where a test says so; when one is missing the test skips
//! with a note, and fails when `CI` is set.
#![cfg(unix)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use ksec::crypt::cipher::looks_encrypted;
use ksec::formats::{self, Format};
use ksec::kube;
use ksec::tree::{Mapping, Node, Parsed, Tree, Value};

use common::{Dir, SAMPLE_RECIPIENT, TestCommand, sample_key};

/// Secret values that must never show up outside decrypted output.
const MARKER: &str = "S3CR3T-K8S-MARKER-4c1d";
const MARKER_JSON: &str = "S3CR3T-K8S-JSON-77ab";
const MARKER_NESTED: &str = "S3CR3T-K8S-NESTED-e20f";

/// The note `ksec encrypt` prints when it chooses the Kubernetes rule itself.
const DEFAULT_RULE_NOTE: &str =
    "Kubernetes manifests: encrypting data and stringData (encrypted_regex ^(data|stringData)$)";

// Each test works in a Dir whose `tmp/` is ksec's TMPDIR and whose `bin/` holds the tools put
// on PATH, so that a walk of the whole scratch tree finds any plaintext ksec wrote.

/// Every file under the scratch root, relative to it, sorted.
fn all_files(session: &Dir) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("list {}: {e}", dir.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_symlink() {
                continue;
            }
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(session.root(), &mut out);
    out.sort();
    out
}

/// `ksec` with its TMPDIR in the scratch directory and no identity.
fn ksec(session: &Dir) -> TestCommand {
    let mut cmd = session.ksec();
    cmd.env("TMPDIR", session.side("tmp"));
    cmd
}

/// `ksec` with the sample identity.
fn ksec_with_key(session: &Dir) -> TestCommand {
    let mut cmd = ksec(session);
    cmd.env("SOPS_AGE_KEY_FILE", sample_key());
    cmd
}

/// Another tool, with the same TMPDIR and no kubeconfig.
fn tool(session: &Dir, program: &Path) -> TestCommand {
    let mut cmd = session.command(program);
    cmd.env("TMPDIR", session.side("tmp")).env_remove("KUBECONFIG");
    cmd
}

/// `plain` piped into `ksec encrypt --age R FLAGS` (never written to disk), saved as `name`.
fn encrypt_from_stdin(session: &Dir, plain: &str, flags: &[&str], name: &str) -> String {
    let encrypted = ksec(session)
        .args(["encrypt", "--age", SAMPLE_RECIPIENT])
        .args(flags)
        .stdin(plain)
        .run()
        .ok()
        .stdout_text();
    session.write(name, &encrypted);
    encrypted
}

/// A stand-in for kubectl at `bin/kubectl-standin`: it saves its arguments (one a line) to
/// `capture/argv` and its stdin to `capture/stdin`, then exits with `$STANDIN_EXIT`.
fn kubectl_standin(session: &Dir) -> PathBuf {
    let capture = session.side("capture");
    session.script(
        "kubectl-standin",
        &format!(
            "printf '%s\\n' \"$@\" > '{dir}/argv'\ncat > '{dir}/stdin'\nexit \"${{STANDIN_EXIT:-0}}\"\n",
            dir = capture.display()
        ),
    )
}

/// What the stand-in captured: its arguments and its stdin, if it ran.
fn captured(session: &Dir) -> Option<(Vec<String>, Vec<u8>)> {
    let capture = session.root().join("capture");
    let argv = fs::read_to_string(capture.join("argv")).ok()?;
    let stdin = fs::read(capture.join("stdin")).expect("the stand-in saves stdin after argv");
    Some((argv.lines().map(str::to_string).collect(), stdin))
}

/// `yaml | kubectl label --local -f - x=y -o yaml`: kubectl parses every manifest of the stream
/// (no cluster needed). Returns kubectl's output; panics when kubectl refuses the stream.
fn kubectl_parses(session: &Dir, kubectl: &Path, stream: &[u8]) -> String {
    let out = tool(session, kubectl)
        .args(["label", "--local", "-f", "-", "x=y", "-o", "yaml"])
        .stdin(stream)
        .run();
    assert!(
        out.success(),
        "kubectl cannot parse the stream (exit {}):\n{}\nstream:\n{}",
        out.exit(),
        out.stderr_text(),
        String::from_utf8_lossy(stream)
    );
    out.stdout_text()
}

fn parse(format: Format, bytes: &[u8]) -> Tree<Parsed> {
    formats::parse(format, bytes, "output").unwrap_or_else(|e| {
        panic!(
            "ksec cannot parse its own output: {e}\n{}",
            String::from_utf8_lossy(bytes)
        )
    })
}

fn str_at<'a>(mapping: &'a Mapping, path: &[&str]) -> Option<&'a str> {
    let (last, parents) = path.split_last()?;
    let mut here = mapping;
    for key in parents {
        here = here.get(key)?.as_mapping()?;
    }
    here.get(last)?.as_value()?.as_str()
}

/// The string values under `data` of the first document.
fn data_values(tree: &Tree<Parsed>) -> Vec<String> {
    let Some(Node::Mapping(data)) = tree.documents[0].root.get("data") else {
        return Vec::new();
    };
    data.entries()
        .filter_map(|e| e.value.as_value().and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// A Secret with [`MARKER`] under `stringData`.
fn secret_yaml(name: &str, marker: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: prod\ntype: Opaque\nstringData:\n  \
         username: admin\n  password: {marker}\n"
    )
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: db
                  key: password
";

const CONFIG_MAP: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: prod
data:
  color: blue
";

// ---------------------------------------------------------------------------------------------
// Secrets made by the real kubectl

/// One `kubectl create secret … --dry-run=client -o FORMAT` output.
struct KubectlSecret {
    /// `generic -o yaml`, for messages.
    what: String,
    format: Format,
    name: &'static str,
    bytes: Vec<u8>,
}

/// kubectl's generic, tls and docker-registry Secrets, each as YAML and as JSON. The tls ones
/// need openssl for a throwaway certificate; without it (outside CI) they are left out.
fn kubectl_secrets(session: &Dir, kubectl: &Path) -> Vec<KubectlSecret> {
    let mut kinds: Vec<(&str, &'static str, Vec<String>)> = vec![
        (
            "generic",
            "db-credentials",
            vec![
                "--from-literal=username=admin".into(),
                format!("--from-literal=password={MARKER}"),
            ],
        ),
        (
            "docker-registry",
            "registry",
            vec![
                "--docker-server=registry.example.com".into(),
                "--docker-username=ci".into(),
                format!("--docker-password={MARKER}"),
            ],
        ),
    ];
    if let Some(openssl) = common::openssl() {
        let keys = session.side("tls");
        session
            .command(openssl)
            .current_dir(&keys)
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=t", "-days", "1",
            ])
            .args(["-keyout", "k", "-out", "c"])
            .run()
            .ok();
        let (cert, key) = (keys.join("c"), keys.join("k"));
        kinds.push((
            "tls",
            "web-tls",
            vec![format!("--cert={}", cert.display()), format!("--key={}", key.display())],
        ));
    }
    let mut secrets = Vec::new();
    for (kind, name, args) in &kinds {
        for (output, format) in [("yaml", Format::Yaml), ("json", Format::Json)] {
            let out = tool(session, kubectl)
                .args(["create", "secret", kind, name, "--namespace", "prod"])
                .args(args)
                .args(["--dry-run=client", "-o", output])
                .run()
                .ok();
            secrets.push(KubectlSecret {
                what: format!("kubectl create secret {kind} -o {output}"),
                format,
                name,
                bytes: out.stdout,
            });
        }
    }
    secrets
}

/// `kubectl create secret … | ksec encrypt --age R`: no rule flags, no file name.
fn encrypt_kubectl_output(session: &Dir, secret: &KubectlSecret) -> (String, String) {
    let out = ksec(session)
        .args(["encrypt", "--age", SAMPLE_RECIPIENT])
        .stdin(secret.bytes.clone())
        .run()
        .ok();
    (out.stdout_text(), out.stderr_text())
}

#[test]
fn kubectl_secrets_encrypt_with_only_a_recipient_keeping_metadata_readable() {
    let Some(kubectl) = common::kubectl() else { return };
    let session = Dir::new();
    for secret in kubectl_secrets(&session, &kubectl) {
        let what = &secret.what;
        let (encrypted, stderr) = encrypt_kubectl_output(&session, &secret);

        // The default rule is announced once, on stderr.
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{what}: one note expected on stderr:\n{stderr}");
        assert!(
            lines[0].starts_with(&format!("ksec: note: stdin: {DEFAULT_RULE_NOTE}")),
            "{what}: {stderr}"
        );

        // The same format comes back: metadata readable, every data value sealed.
        let plain = parse(secret.format, &secret.bytes);
        let tree = parse(secret.format, encrypted.as_bytes());
        let root = &tree.documents[0].root;
        assert_eq!(str_at(root, &["kind"]), Some("Secret"), "{what}:\n{encrypted}");
        assert_eq!(str_at(root, &["metadata", "name"]), Some(secret.name), "{what}");
        assert_eq!(str_at(root, &["metadata", "namespace"]), Some("prod"), "{what}");
        assert_eq!(
            str_at(root, &["type"]),
            str_at(&plain.documents[0].root, &["type"]),
            "{what}: the type stays readable"
        );
        let sealed = data_values(&tree);
        assert!(!sealed.is_empty(), "{what}: no data in\n{encrypted}");
        assert!(sealed.iter().all(|v| looks_encrypted(v)), "{what}:\n{encrypted}");
        let in_clear = kube::plaintext_in_secrets(&tree);
        assert!(in_clear.is_empty(), "{what}: {in_clear:?}");
        for value in data_values(&plain) {
            assert!(!encrypted.contains(&value), "{what}: kubectl's value {value:?} leaked");
        }
        assert!(!encrypted.contains(MARKER), "{what}: the password leaked");
        let metadata = tree.documents[0].metadata.as_ref().expect("sops metadata");
        let rule = metadata.as_mapping().and_then(|m| str_at(m, &["encrypted_regex"]));
        assert_eq!(rule, Some("^(data|stringData)$"), "{what}");
    }
}

#[test]
fn kubectl_secrets_decrypt_with_ksec_to_kubectls_bytes_and_kubectl_reads_them() {
    let Some(kubectl) = common::kubectl() else { return };
    let session = Dir::new();
    for (i, secret) in kubectl_secrets(&session, &kubectl).iter().enumerate() {
        let what = &secret.what;
        let (encrypted, _) = encrypt_kubectl_output(&session, secret);
        let ext = if secret.format == Format::Json { "json" } else { "yaml" };
        let file = format!("s{i}.enc.{ext}");
        session.write(&file, &encrypted);

        // kubectl indents JSON with 4 spaces; `--indent 4` gives its bytes back exactly.
        let indent: &[&str] = if secret.format == Format::Json {
            &["--indent", "4"]
        } else {
            &[]
        };
        let decrypted = ksec_with_key(&session)
            .arg("decrypt")
            .args(indent)
            .arg(&file)
            .run()
            .ok()
            .stderr_is("");
        let decrypted = decrypted.stdout;
        assert_eq!(
            String::from_utf8_lossy(&decrypted),
            String::from_utf8_lossy(&secret.bytes),
            "{what}: ksec decrypt is not kubectl's output"
        );

        // ksec decrypt FILE | kubectl label --local -f - x=y -o yaml
        let decrypted = ksec_with_key(&session).args(["decrypt", &file]).run().ok();
        let labelled = kubectl_parses(&session, &kubectl, &decrypted.stdout);
        assert!(labelled.contains("x: \"y\""), "{what}:\n{labelled}");
        assert!(
            labelled.contains(&format!("name: {}", secret.name)),
            "{what}:\n{labelled}"
        );
        for value in data_values(&parse(secret.format, &secret.bytes)) {
            assert!(labelled.contains(&value), "{what}: kubectl lost a value:\n{labelled}");
        }
    }
}

#[test]
fn kubectl_secrets_encrypted_by_ksec_decrypt_with_sops_like_its_own() {
    let Some(kubectl) = common::kubectl() else { return };
    let Some(session) = Dir::with_sops() else { return };
    for (i, secret) in kubectl_secrets(&session, &kubectl).iter().enumerate() {
        let what = &secret.what;
        let ext = if secret.format == Format::Json { "json" } else { "yaml" };
        let (encrypted, _) = encrypt_kubectl_output(&session, secret);
        let ksec_file = session.write(&format!("ksec-{i}.enc.{ext}"), &encrypted);
        // sops's own file from the same kubectl output, under the same rule.
        let plain = session.write(&format!("plain-{i}.{ext}"), &secret.bytes);
        let sops_own = session
            .sops()
            .args([
                "encrypt",
                "--encrypted-regex",
                "^(data|stringData)$",
                "--age",
                SAMPLE_RECIPIENT,
            ])
            .arg(&plain)
            .run()
            .ok();
        let sops_file = session.write(&format!("sops-{i}.enc.{ext}"), &sops_own.stdout);
        let decrypt = |file: &Path| {
            session
                .sops()
                .env("SOPS_AGE_KEY_FILE", sample_key())
                .arg("decrypt")
                .arg(file)
                .run()
                .ok()
        };
        let of_ksec = decrypt(&ksec_file);
        let of_sops = decrypt(&sops_file);
        assert!(of_ksec.stderr.is_empty(), "{what}: {}", of_ksec.stderr_text());
        assert_eq!(
            of_ksec.stdout_text(),
            of_sops.stdout_text(),
            "{what}: sops decrypts ksec's file differently from its own"
        );
        // sops decrypt ksec-file | kubectl label --local -f - x=y -o yaml
        let labelled = kubectl_parses(&session, &kubectl, &of_ksec.stdout);
        assert!(
            labelled.contains(&format!("name: {}", secret.name)),
            "{what}:\n{labelled}"
        );
        for value in data_values(&parse(secret.format, &secret.bytes)) {
            assert!(labelled.contains(&value), "{what}: kubectl lost a value:\n{labelled}");
        }
    }
}

/// The annotation kubectl writes with `--save-config` and `apply`.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

#[test]
fn kubectl_save_config_copy_of_a_secret_is_refused_unless_a_rule_covers_it() {
    // `--save-config` (and `kubectl get -o yaml` of an applied Secret) copies the whole Secret,
    // data included, into an annotation the Kubernetes rule does not cover.
    let Some(kubectl) = common::kubectl() else { return };
    let Some(session) = Dir::with_sops() else { return };
    let encoded = BASE64.encode(MARKER);
    let leak = format!("Secret/prod/db: metadata.annotations.{LAST_APPLIED}: value left in clear in a Secret");
    for output in ["yaml", "json"] {
        let text = tool(&session, &kubectl)
            .args(["create", "secret", "generic", "db", "--namespace", "prod"])
            .arg(format!("--from-literal=password={MARKER}"))
            .args(["--dry-run=client", "-o", output, "--save-config"])
            .run()
            .ok()
            .stdout_text();
        assert_eq!(text.matches(&encoded).count(), 2, "data and its copy:\n{text}");

        ksec(&session)
            .args(["encrypt", "--age", SAMPLE_RECIPIENT])
            .stdin(text.clone())
            .run()
            .expect_code(31)
            .stdout_is("")
            .stderr_has(&leak)
            .stderr_lacks(&encoded);
        let stderr = assert_refused(
            &session,
            &format!("db.{output}"),
            &text,
            &[],
            31,
            &[&leak, "leave out --save-config", "ksec encrypt --strip-server-fields"],
        );
        assert!(!stderr.contains(&encoded), "{stderr}");
        // Leaving the annotation out seals the one copy left.
        let stripped = encrypt_from_stdin(&session, &text, &["--strip-server-fields"], "stripped.enc.yaml");
        assert!(
            !stripped.contains(LAST_APPLIED) && !stripped.contains(&encoded),
            "{stripped}"
        );

        // sops leaves the copy in clear under the same rule; `ksec check` names it.
        let by_sops = session
            .sops()
            .args([
                "encrypt",
                "--encrypted-regex",
                "^(data|stringData)$",
                "--age",
                SAMPLE_RECIPIENT,
            ])
            .arg(format!("db.{output}"))
            .run()
            .ok();
        assert!(by_sops.stdout_text().contains(&encoded));
        let sops_file = format!("sops.enc.{output}");
        session.write(&sops_file, &by_sops.stdout);
        ksec(&session)
            .args(["check", &sops_file])
            .run()
            .expect_code(33)
            .stdout_has(format!("{sops_file}: {leak}"))
            .stdout_lacks(&encoded);

        // A rule that covers the annotation seals both copies, and kubectl reads the decryption.
        let rule = "^(data|stringData|kubectl\\.kubernetes\\.io/last-applied-configuration)$";
        let file = format!("db.enc.{output}");
        let encrypted = encrypt_from_stdin(&session, &text, &["--encrypted-regex", rule], &file);
        assert!(!encrypted.contains(&encoded), "{encrypted}");
        ksec(&session).args(["check", &file]).run().ok().stdout_is("");
        let indent: &[&str] = if output == "json" { &["--indent", "4"] } else { &[] };
        let decrypted = ksec_with_key(&session)
            .arg("decrypt")
            .args(indent)
            .arg(&file)
            .run()
            .ok()
            .stdout_is(text.clone());
        let labelled = kubectl_parses(&session, &kubectl, &decrypted.stdout);
        assert!(labelled.contains(LAST_APPLIED), "{labelled}");
    }
}

// ---------------------------------------------------------------------------------------------
// Validation and fail-closed refusals

/// Encrypts `work/<name>` holding `text` with `flags` three ways (to stdout, `--output`, `-i`),
/// and checks each is refused with `code`: nothing on stdout, every `expected` fragment on
/// stderr, no `secret` on stderr, no output file and no other new file, the input unchanged.
/// Returns the stderr of the first run.
fn assert_refused(session: &Dir, name: &str, text: &str, flags: &[&str], code: i32, expected: &[&str]) -> String {
    session.write(name, text);
    let files_before = all_files(session);
    let runs: [&[&str]; 3] = [&[], &["--output", "out.enc.yaml"], &["-i"]];
    let mut first = None;
    for extra in runs {
        let mut out = ksec(session)
            .args(["encrypt", "--age", SAMPLE_RECIPIENT])
            .args(flags)
            .args(extra)
            .arg(name)
            .run()
            .expect_code(code)
            .stdout_is("")
            .stderr_lacks(MARKER);
        for fragment in expected {
            out = out.stderr_has(fragment);
        }
        assert_eq!(
            session.read(name),
            text.as_bytes(),
            "encrypt {flags:?} {extra:?} {name} changed the input"
        );
        assert!(
            !session.path("out.enc.yaml").exists(),
            "{extra:?}: an output file was written"
        );
        assert_eq!(
            all_files(session),
            files_before,
            "encrypt {extra:?} {name} left files behind"
        );
        first.get_or_insert_with(|| out.stderr_text());
    }
    first.expect("three runs")
}

#[test]
fn misspelt_string_data_exits_30_and_suggests_string_data() {
    let session = Dir::new();
    let text = secret_yaml("db", MARKER).replace("stringData:", "stringdata:");
    let stderr = assert_refused(
        &session,
        "db.yaml",
        &text,
        &[],
        30,
        &["Secret/prod/db: stringdata: unknown field (did you mean `stringData`?)"],
    );
    assert!(
        stderr.contains("--no-validate"),
        "the hint names the way out:\n{stderr}"
    );
}

#[test]
fn misspelt_string_data_still_fails_closed_without_validation() {
    // --no-validate skips the checks, never the guarantee: `stringdata` is not matched by the
    // rule, so its value would stay in clear.
    let session = Dir::new();
    let text = secret_yaml("db", MARKER).replace("stringData:", "stringdata:");
    assert_refused(
        &session,
        "db.yaml",
        &text,
        &["--no-validate"],
        31,
        &["Secret/prod/db: stringdata.password: value left in clear in a Secret"],
    );
}

#[test]
fn unknown_secret_fields_beside_valid_data_fail_closed_without_validation() {
    // Only `data` and `stringData` are sealed by the rule; any other field a Secret does not
    // have (a typo, an invented name) would go out in clear under --no-validate.
    let session = Dir::new();
    for (field, value) in [
        ("strngData", format!("\n  password: {MARKER}")),
        ("secretData", format!(" {MARKER}")),
    ] {
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ndata:\n  user: YWRtaW4=\n{field}:{value}\n"
        );
        let path = if value.starts_with('\n') {
            format!("{field}.password")
        } else {
            field.to_string()
        };
        let stderr = assert_refused(
            &session,
            "db.yaml",
            &text,
            &["--no-validate"],
            31,
            &[&format!("Secret/prod/db: {path}: value left in clear in a Secret")],
        );
        assert!(stderr.contains("fix the field's name"), "{stderr}");
        // Validation names the field first.
        assert_refused(
            &session,
            "db.yaml",
            &text,
            &[],
            30,
            &[&format!("Secret/prod/db: {field}: unknown field")],
        );
    }
}

#[test]
fn data_value_that_is_not_base64_exits_30() {
    let session = Dir::new();
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ndata:\n  password: {MARKER}!\n"
    );
    assert_refused(
        &session,
        "db.yaml",
        &text,
        &[],
        30,
        &["Secret/prod/db: data.password: not valid base64", "stringData"],
    );
}

const TLS_WITHOUT_KEY: &str = "apiVersion: v1
kind: Secret
metadata:
  name: web
  namespace: prod
type: kubernetes.io/tls
data:
  tls.crt: Y2VydA==
";

#[test]
fn tls_secret_without_its_key_exits_30() {
    let session = Dir::new();
    assert_refused(
        &session,
        "web.yaml",
        TLS_WITHOUT_KEY,
        &[],
        30,
        &["Secret/prod/web: data.tls.key: missing", "`tls.crt` and `tls.key`"],
    );
}

#[test]
fn basic_auth_secret_without_username_or_password_exits_30() {
    let session = Dir::new();
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: login\n  namespace: prod\ntype: kubernetes.io/basic-auth\n\
         stringData:\n  token: {MARKER}\n"
    );
    assert_refused(
        &session,
        "login.yaml",
        &text,
        &[],
        30,
        &[
            "Secret/prod/login: ",
            "no `username` or `password`",
            "kubernetes.io/basic-auth",
        ],
    );
}

#[test]
fn dockerconfigjson_that_is_not_json_exits_30() {
    let session = Dir::new();
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry\n  namespace: prod\n\
         type: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{{\"auths\": {MARKER}'\n"
    );
    assert_refused(
        &session,
        "registry.yaml",
        &text,
        &[],
        30,
        &["Secret/prod/registry: stringData.", ".dockerconfigjson: not valid JSON"],
    );
}

/// A bootstrap token Secret as the Kubernetes documentation shows it, with [`MARKER`]'s first
/// 16 characters, lowercased, as its token-secret.
fn bootstrap_token() -> String {
    let secret = MARKER.replace('-', "").to_lowercase()[..16].to_string();
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bootstrap-token-07401b\n  namespace: kube-system\n\
         type: bootstrap.kubernetes.io/token\nstringData:\n  token-id: \"07401b\"\n  token-secret: \"{secret}\"\n  \
         usage-bootstrap-authentication: \"true\"\n"
    )
}

#[test]
fn bootstrap_token_outside_kube_system_exits_30() {
    let session = Dir::new();
    ksec(&session)
        .args(["encrypt", "--age", SAMPLE_RECIPIENT])
        .stdin(bootstrap_token())
        .run()
        .ok();
    assert_refused(
        &session,
        "token.yaml",
        &bootstrap_token().replace("namespace: kube-system", "namespace: default"),
        &[],
        30,
        &[
            "Secret/default/bootstrap-token-07401b: metadata.namespace: must be `kube-system`; the bootstrap token authenticator ignores the Secret otherwise",
        ],
    );
}

#[test]
fn a_secret_named_by_generate_name_encrypts() {
    let session = Dir::new();
    let text = secret_yaml("db", MARKER).replace("  name: db\n", "  generateName: db-\n");
    session.write("db.yaml", &text);
    ksec(&session)
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "-i", "db.yaml"])
        .run()
        .ok();
    ksec(&session).args(["check", "db.yaml"]).run().ok().stdout_is("");
    ksec_with_key(&session)
        .args(["decrypt", "db.yaml"])
        .run()
        .ok()
        .stdout_is(text);
}

#[test]
fn ssh_auth_secret_without_its_private_key_exits_30() {
    let session = Dir::new();
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: deploy-key\n  namespace: prod\ntype: kubernetes.io/ssh-auth\n\
         stringData:\n  known_hosts: {MARKER}\n"
    );
    assert_refused(
        &session,
        "deploy-key.yaml",
        &text,
        &[],
        30,
        &[
            "Secret/prod/deploy-key: data.ssh-privatekey: missing; a kubernetes.io/ssh-auth Secret needs `ssh-privatekey`",
        ],
    );
}

#[test]
fn dockercfg_that_is_not_json_exits_30() {
    let session = Dir::new();
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry\n  namespace: prod\ntype: kubernetes.io/dockercfg\n\
         stringData:\n  .dockercfg: '{{\"registry.example.com\": {MARKER}'\n"
    );
    assert_refused(
        &session,
        "registry.yaml",
        &text,
        &[],
        30,
        &["Secret/prod/registry: stringData..dockercfg: not valid JSON (unexpected character at byte 25)"],
    );
}

#[test]
fn service_account_token_without_its_annotation_exits_30() {
    let session = Dir::new();
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: build-robot\n  namespace: prod\n\
         type: kubernetes.io/service-account-token\ndata:\n  token: {}\n",
        BASE64.encode(MARKER)
    );
    assert_refused(
        &session,
        "token.yaml",
        &text,
        &[],
        30,
        &[
            "Secret/prod/build-robot: metadata.annotations.kubernetes.io/service-account.name: missing; \
             a kubernetes.io/service-account-token Secret names its ServiceAccount there",
        ],
    );
}

#[test]
fn bootstrap_token_with_a_bad_token_id_exits_30() {
    let session = Dir::new();
    assert_refused(
        &session,
        "token.yaml",
        &bootstrap_token().replace("token-id: \"07401b\"", "token-id: \"07401B\""),
        &[],
        30,
        &[
            "Secret/kube-system/bootstrap-token-07401b: stringData.token-id: must be 6 characters of `a-z` and `0-9`; \
             the bootstrap token authenticator ignores the Secret otherwise",
        ],
    );
}

#[test]
fn data_keys_kubernetes_refuses_exit_30() {
    let session = Dir::new();
    let value = BASE64.encode(MARKER);
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ndata:\n  pass word: {value}\n  ..hidden: {value}\n"
    );
    let stderr = assert_refused(
        &session,
        "db.yaml",
        &text,
        &[],
        30,
        &[
            "Secret/prod/db: data.pass word: invalid key: only letters, digits, `-`, `_` and `.` are allowed",
            "Secret/prod/db: data...hidden: invalid key: must not start with `..`",
        ],
    );
    assert!(!stderr.contains(&value), "{stderr}");
}

#[test]
fn duplicate_keys_are_refused_in_yaml_and_json() {
    // YAML refuses them as it parses (exit 2, as sops's yaml.v3 does); JSON parses, and the
    // Secret check refuses what the API server would.
    let session = Dir::new();
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\nstringData:\n  password: {MARKER}\n  password: x\n"
    );
    assert_refused(
        &session,
        "db.yaml",
        &yaml,
        &[],
        2,
        &["cannot parse db.yaml as YAML: duplicate key stringData.password"],
    );
    let json = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {{\"name\": \"db\", \"namespace\": \"prod\"}}, \
         \"stringData\": {{\"password\": \"{MARKER}\", \"password\": \"x\"}}, \"type\": \"Opaque\", \"type\": \"Opaque\"}}\n"
    );
    assert_refused(
        &session,
        "db.json",
        &json,
        &[],
        30,
        &[
            "Secret/prod/db: type: appears twice; Kubernetes refuses duplicate fields",
            "Secret/prod/db: stringData.password: appears twice; Kubernetes refuses duplicate keys",
        ],
    );
}

#[test]
fn a_json_secret_is_validated_like_a_yaml_one() {
    let session = Dir::new();
    let json = format!(
        "{{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Secret\",\n    \"metadata\": {{\"name\": \"web\", \"namespace\": \"prod\"}},\n    \
         \"type\": \"kubernetes.io/tls\",\n    \"data\": {{\"tls.crt\": \"{MARKER}\"}},\n    \"stringdata\": {{}}\n}}\n"
    );
    assert_refused(
        &session,
        "web.json",
        &json,
        &[],
        30,
        &[
            "Secret/prod/web: stringdata: unknown field (did you mean `stringData`?)",
            "Secret/prod/web: data.tls.crt: not valid base64",
            "Secret/prod/web: data.tls.key: missing; a kubernetes.io/tls Secret needs `tls.crt` and `tls.key`",
        ],
    );
}

#[test]
fn secret_over_one_mebibyte_exits_30_with_its_size() {
    let session = Dir::new();
    let blob = MARKER.repeat(1024 * 1024 / MARKER.len() + 1000);
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: big\n  namespace: prod\nstringData:\n  blob: {blob}\n"
    );
    assert_refused(
        &session,
        "big.yaml",
        &text,
        &[],
        30,
        &[
            &format!("Secret/prod/big: data: Secret is 1.0 MiB ({} bytes)", blob.len()),
            "Kubernetes limits a Secret to 1 MiB (1048576 bytes)",
        ],
    );
}

#[test]
fn no_validate_lets_an_invalid_secret_through_encrypted() {
    let session = Dir::new();
    session.write("web.yaml", TLS_WITHOUT_KEY);
    let out = ksec(&session)
        .args([
            "encrypt",
            "--no-validate",
            "--age",
            SAMPLE_RECIPIENT,
            "web.yaml",
            "--output",
            "web.enc.yaml",
        ])
        .run()
        .ok()
        .stdout_is("");
    assert!(!out.stderr_text().contains("error"), "{}", out.stderr_text());
    let encrypted = session.read("web.enc.yaml");
    let in_clear = kube::plaintext_in_secrets(&parse(Format::Yaml, &encrypted));
    assert!(in_clear.is_empty(), "{in_clear:?}");
    ksec_with_key(&session)
        .args(["decrypt", "web.enc.yaml"])
        .run()
        .ok()
        .stdout_is(TLS_WITHOUT_KEY);
}

#[test]
fn a_rule_leaving_a_secret_value_in_clear_exits_31_naming_the_field() {
    let session = Dir::new();
    let stderr = assert_refused(
        &session,
        "db.yaml",
        &secret_yaml("db", MARKER),
        &["--encrypted-suffix", "_secret"],
        31,
        &[
            "refusing to write a Secret value in clear",
            "Secret/prod/db: stringData.username: value left in clear in a Secret",
            "Secret/prod/db: stringData.password: value left in clear in a Secret",
        ],
    );
    assert!(stderr.contains("--encrypted-regex '^(data|stringData)$'"), "{stderr}");
}

#[test]
fn a_rule_matching_nothing_exits_32() {
    let session = Dir::new();
    assert_refused(
        &session,
        "settings.yaml",
        CONFIG_MAP,
        &["--encrypted-regex", "^nomatch$"],
        32,
        &["settings.yaml: the encryption rule (encrypted_regex: ^nomatch$) matches no value"],
    );
}

#[test]
fn mixed_stream_encrypts_the_secret_notes_the_config_map_and_leaves_the_deployment() {
    let session = Dir::new();
    let input = format!("{}---\n{CONFIG_MAP}---\n{DEPLOYMENT}", secret_yaml("db", MARKER));
    session.write("app.yaml", &input);
    let out = ksec(&session)
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "app.yaml"])
        .run()
        .ok();
    let encrypted = out.stdout_text();
    let stderr = out.stderr_text();

    let notes: Vec<&str> = stderr.lines().collect();
    assert_eq!(notes.len(), 2, "{stderr}");
    assert_eq!(
        notes[0],
        format!("ksec: note: app.yaml: {DEFAULT_RULE_NOTE}; pass a rule or set one in .sops.yaml to choose another")
    );
    assert!(
        notes[1].starts_with(
            "ksec: note: app.yaml: ConfigMap/prod/settings is not a Secret but has values the rule encrypts too"
        ),
        "{stderr}"
    );

    let tree = parse(Format::Yaml, encrypted.as_bytes());
    assert_eq!(tree.documents.len(), 3);
    assert!(kube::plaintext_in_secrets(&tree).is_empty(), "{encrypted}");
    assert!(!encrypted.contains(MARKER), "{encrypted}");
    // The Deployment has nothing the rule matches: its text is unchanged.
    // (`\n---\n`: the armored age keys hold `-----END …-----` lines.)
    let deployment = encrypted.split("\n---\n").nth(2).expect("three documents");
    assert!(deployment.starts_with(DEPLOYMENT), "{deployment}");

    session.write("app.enc.yaml", &encrypted);
    ksec_with_key(&session)
        .args(["decrypt", "app.enc.yaml"])
        .run()
        .ok()
        .stdout_is(input);
}

// ---------------------------------------------------------------------------------------------
// ksec apply

/// `work/k8s/` as a repository holds it: an encrypted Secret, a plaintext ConfigMap, an encrypted
/// JSON Secret and, one level down, another encrypted Secret. The Secrets' plaintext is piped
/// into ksec, never written. Returns the files in path order with the YAML kubectl must get.
fn manifests_dir(session: &Dir) -> Vec<(&'static str, String)> {
    let db = secret_yaml("db", MARKER);
    encrypt_from_stdin(session, &db, &[], "k8s/a-db.enc.yaml");
    session.write("k8s/b-settings.yaml", CONFIG_MAP);
    let json = format!(
        "{{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Secret\",\n    \"metadata\": {{\n        \"name\": \"registry\",\n        \
         \"namespace\": \"prod\"\n    }},\n    \"data\": {{\n        \"token\": \"{}\"\n    }}\n}}\n",
        BASE64.encode(MARKER_JSON)
    );
    encrypt_from_stdin(session, &json, &[], "k8s/c-registry.enc.json");
    let nested = secret_yaml("api", MARKER_NESTED);
    encrypt_from_stdin(session, &nested, &[], "k8s/nested/d-api.enc.yaml");
    // The JSON Secret reaches kubectl as YAML: what `ksec decrypt --output-type yaml` prints.
    let json_as_yaml = ksec_with_key(session)
        .args(["decrypt", "--output-type", "yaml", "k8s/c-registry.enc.json"])
        .run()
        .ok()
        .stdout_text();
    vec![
        ("k8s/a-db.enc.yaml", db),
        ("k8s/b-settings.yaml", CONFIG_MAP.to_string()),
        ("k8s/c-registry.enc.json", json_as_yaml),
        ("k8s/nested/d-api.enc.yaml", nested),
    ]
}

fn stream_of(documents: &[&str]) -> String {
    documents.join("---\n")
}

/// Every file under the scratch root that holds a secret marker (in clear or base64), except
/// the stand-in's capture of its stdin.
fn plaintext_on_disk(session: &Dir) -> Vec<String> {
    let markers: Vec<String> = [MARKER, MARKER_JSON, MARKER_NESTED]
        .iter()
        .flat_map(|m| [m.to_string(), BASE64.encode(m)])
        .collect();
    let capture = session.root().join("capture/stdin");
    all_files(session)
        .into_iter()
        .filter(|f| *f != capture)
        .filter(|f| {
            let bytes = fs::read(f).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            markers.iter().any(|m| text.contains(m.as_str()))
        })
        .map(|f| f.display().to_string())
        .collect()
}

#[test]
fn apply_streams_decrypted_manifests_in_path_order_to_kubectl_and_returns_its_exit_code() {
    let session = Dir::new();
    let standin = kubectl_standin(&session);
    let files = manifests_dir(&session);

    ksec_with_key(&session)
        .env("KSEC_KUBECTL", &standin)
        .env("STANDIN_EXIT", "7")
        .args(["apply", "-f", "k8s", "-R", "--", "--namespace", "prod", "--server-side"])
        .run()
        .expect_code(7)
        .stdout_is("");
    let (argv, stdin) = captured(&session).expect("the stand-in ran");
    assert_eq!(argv, ["apply", "-f", "-", "--namespace", "prod", "--server-side"]);
    let expected: Vec<&str> = files.iter().map(|(_, yaml)| yaml.as_str()).collect();
    assert_eq!(String::from_utf8_lossy(&stdin), stream_of(&expected));

    // The stand-in's capture holds the plaintext, as kubectl's stdin did; nothing else does.
    assert!(String::from_utf8_lossy(&stdin).contains(MARKER_NESTED));
    assert_eq!(plaintext_on_disk(&session), Vec::<String>::new());
}

#[test]
fn apply_without_recursion_skips_subdirectories_and_keeps_the_order_given() {
    let session = Dir::new();
    let standin = kubectl_standin(&session);
    let files = manifests_dir(&session);

    ksec_with_key(&session)
        .env("KSEC_KUBECTL", &standin)
        .args(["apply", "k8s"])
        .run()
        .ok();
    let (argv, stdin) = captured(&session).expect("the stand-in ran");
    assert_eq!(argv, ["apply", "-f", "-"]);
    let top_level: Vec<&str> = files[..3].iter().map(|(_, yaml)| yaml.as_str()).collect();
    assert_eq!(String::from_utf8_lossy(&stdin), stream_of(&top_level));

    ksec_with_key(&session)
        .env("KSEC_KUBECTL", &standin)
        .args(["apply", "-f", files[3].0, "-f", files[0].0])
        .run()
        .ok();
    let (_, stdin) = captured(&session).expect("the stand-in ran");
    assert_eq!(String::from_utf8_lossy(&stdin), stream_of(&[&files[3].1, &files[0].1]));

    // Positional paths and `-f` paths interleave in the order typed, as kubectl's would.
    ksec_with_key(&session)
        .env("KSEC_KUBECTL", &standin)
        .args(["apply", files[3].0, "-f", files[0].0, files[1].0])
        .run()
        .ok();
    let (_, stdin) = captured(&session).expect("the stand-in ran");
    assert_eq!(
        String::from_utf8_lossy(&stdin),
        stream_of(&[&files[3].1, &files[0].1, &files[1].1])
    );
    assert_eq!(plaintext_on_disk(&session), Vec::<String>::new());
}

#[test]
fn apply_of_a_kubectl_killed_by_a_signal_exits_128_plus_the_signal() {
    // As a shell reports it, so `ksec apply … || exit $?` in CI says what happened.
    let session = Dir::new();
    manifests_dir(&session);
    let killed = session.script("kubectl-killed", "cat > /dev/null\nkill -TERM $$\n");
    ksec_with_key(&session)
        .env("KSEC_KUBECTL", &killed)
        .args(["apply", "-f", "k8s"])
        .run()
        .expect_code(128 + 15)
        .stdout_is("");
}

#[test]
fn apply_finds_kubectl_on_path_when_ksec_kubectl_is_unset() {
    let session = Dir::new();
    let files = manifests_dir(&session);
    let standin = kubectl_standin(&session);
    std::os::unix::fs::symlink(&standin, session.side("bin").join("kubectl")).expect("symlink");
    let path = format!(
        "{}:{}",
        session.side("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    ksec_with_key(&session)
        .env_remove("KSEC_KUBECTL")
        .env("PATH", path)
        .env("STANDIN_EXIT", "3")
        .args(["apply", files[0].0])
        .run()
        .expect_code(3);
    let (argv, stdin) = captured(&session).expect("kubectl from PATH ran");
    assert_eq!(argv, ["apply", "-f", "-"]);
    assert_eq!(String::from_utf8_lossy(&stdin), files[0].1);
}

#[test]
fn apply_without_kubectl_names_ksec_kubectl() {
    let session = Dir::new();
    let files = manifests_dir(&session);
    for (kubectl, path) in [
        (None, session.side("empty-bin")),
        (
            Some(session.side("bin").join("no-such-kubectl")),
            std::env::var("PATH").unwrap_or_default().into(),
        ),
    ] {
        let mut cmd = ksec_with_key(&session);
        match &kubectl {
            Some(program) => cmd.env("KSEC_KUBECTL", program),
            None => cmd.env_remove("KSEC_KUBECTL"),
        };
        cmd.env("PATH", &path)
            .args(["apply", files[0].0])
            .run()
            .expect_code(1)
            .stderr_has("ksec: error: cannot run ")
            .stderr_has("ksec: hint: install kubectl, or set KSEC_KUBECTL to the kubectl to run");
    }
}

#[test]
fn apply_that_cannot_decrypt_never_starts_kubectl() {
    let session = Dir::new();
    let standin = kubectl_standin(&session);
    manifests_dir(&session);
    ksec(&session)
        .env("KSEC_KUBECTL", &standin)
        .args(["apply", "-f", "k8s", "-R"])
        .run()
        .expect_code(128)
        .stdout_is("")
        .stderr_has("k8s/a-db.enc.yaml: could not decrypt the data key");
    assert!(captured(&session).is_none(), "kubectl ran with a partial stream");
}

#[test]
fn kubectl_runs_ksec_as_a_plugin() {
    let Some(kubectl) = common::kubectl() else { return };
    let session = Dir::new();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_ksec"), session.side("bin").join("kubectl-ksec")).expect("symlink");
    let path = format!(
        "{}:{}",
        session.side("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let kubectl_ksec = |args: &[&str]| tool(&session, &kubectl).env("PATH", &path).arg("ksec").args(args).run();

    let help = kubectl_ksec(&["apply", "--help"]).stdout_text();
    assert!(help.contains("Usage: kubectl ksec apply "), "{help}");

    encrypt_from_stdin(&session, &secret_yaml("db", MARKER), &[], "db.enc.yaml");
    let clean = kubectl_ksec(&["check", "db.enc.yaml"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr_text());
    assert!(clean.stdout.is_empty());

    session.write("plain.yaml", secret_yaml("db", MARKER));
    let found = kubectl_ksec(&["check", "plain.yaml"]);
    assert_eq!(found.code, 33, "{}", found.stderr_text());
    assert_eq!(
        found.stdout_text(),
        "plain.yaml: Secret/prod/db: the Secret is not encrypted\n"
    );

    // kubectl ksec apply -f DIR, with kubectl's environment passed through to the plugin.
    let standin = kubectl_standin(&session);
    tool(&session, &kubectl)
        .env("PATH", &path)
        .env("KSEC_KUBECTL", &standin)
        .env("SOPS_AGE_KEY_FILE", sample_key())
        .args(["ksec", "apply", "-f", "db.enc.yaml"])
        .run()
        .ok();
    let (argv, stdin) = captured(&session).expect("the stand-in ran");
    assert_eq!(argv, ["apply", "-f", "-"]);
    assert_eq!(String::from_utf8_lossy(&stdin), secret_yaml("db", MARKER));
}

#[test]
fn as_kubectl_ksec_help_and_usage_say_kubectl_ksec() {
    let session = Dir::new();
    let plugin = session.side("bin").join("kubectl-ksec");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_ksec"), &plugin).expect("symlink");
    let run = |program: &Path, args: &[&str]| tool(&session, program).args(args).run();
    let help = run(&plugin, &["--help"]);
    assert!(help.success());
    let help = help.stdout_text();
    assert!(help.contains("Usage: kubectl ksec [OPTIONS] <COMMAND>"), "{help}");
    let apply = run(&plugin, &["apply", "--help"]);
    let apply = apply.stdout_text();
    assert!(apply.contains("Usage: kubectl ksec apply "), "{apply}");
    let wrong = run(&plugin, &["aply"]);
    assert_eq!(wrong.code, 1);
    let wrong = wrong.stderr_text();
    assert!(wrong.contains("Usage: kubectl ksec [OPTIONS] <COMMAND>"), "{wrong}");
    // Under its own name it is ksec.
    let own = run(Path::new(env!("CARGO_BIN_EXE_ksec")), &["--help"]);
    let own = own.stdout_text();
    assert!(own.contains("Usage: ksec [OPTIONS] <COMMAND>"), "{own}");
}

// ---------------------------------------------------------------------------------------------
// ksec decrypt of several files or a tree

#[test]
fn decrypt_of_a_tree_or_several_files_is_one_stream_kubectl_reads() {
    let session = Dir::new();
    let a = secret_yaml("alpha", MARKER);
    let b = format!(
        "{}---\n{}",
        secret_yaml("beta-one", MARKER),
        secret_yaml("beta-two", MARKER)
    );
    let c = secret_yaml("gamma", MARKER_NESTED);
    // Written out of order, and one file starting with a document marker.
    encrypt_from_stdin(&session, &c, &[], "tree/sub/c.enc.yaml");
    encrypt_from_stdin(&session, &format!("---\n{a}"), &[], "tree/a.enc.yaml");
    encrypt_from_stdin(&session, &b, &[], "tree/b.enc.yaml");
    session.write("tree/notes.txt", "not a manifest\n");

    let tree_stream = ksec_with_key(&session)
        .args(["decrypt", "-R", "tree"])
        .run()
        .ok()
        .stderr_is("")
        .stdout_text();
    assert_eq!(tree_stream, stream_of(&[&a, &b, &c]));
    // Twice the same.
    ksec_with_key(&session)
        .args(["decrypt", "-R", "tree"])
        .run()
        .ok()
        .stdout_is(tree_stream.clone());

    let files_stream = ksec_with_key(&session)
        .args(["decrypt", "tree/sub/c.enc.yaml", "tree/a.enc.yaml"])
        .run()
        .ok()
        .stderr_is("")
        .stdout_text();
    assert_eq!(files_stream, stream_of(&[&c, &a]));

    let Some(kubectl) = common::kubectl() else { return };
    for (stream, names) in [
        (&tree_stream, &["alpha", "beta-one", "beta-two", "gamma"][..]),
        (&files_stream, &["gamma", "alpha"][..]),
    ] {
        let labelled = kubectl_parses(&session, &kubectl, stream.as_bytes());
        assert_eq!(labelled.matches("x: \"y\"").count(), names.len(), "{labelled}");
        let listed: Vec<&str> = labelled.lines().filter_map(|l| l.strip_prefix("  name: ")).collect();
        assert_eq!(listed, names, "{labelled}");
    }
}

// ---------------------------------------------------------------------------------------------
// ksec check

#[test]
fn check_passes_a_clean_tree_saying_so_on_stderr_only() {
    let session = Dir::new();
    encrypt_from_stdin(&session, &secret_yaml("db", MARKER), &[], "k8s/db.enc.yaml");
    let json = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {{\"name\": \"registry\"}}, \
         \"data\": {{\"token\": \"{}\"}}}}\n",
        BASE64.encode(MARKER_JSON)
    );
    encrypt_from_stdin(&session, &json, &[], "k8s/registry.enc.json");
    session.write("k8s/web/deployment.yaml", DEPLOYMENT);
    session.write("k8s/web/settings.yaml", CONFIG_MAP);
    ksec(&session)
        .args(["check", "k8s"])
        .run()
        .ok()
        .stdout_is("")
        .stderr_is("ksec: checked 4 files, no problems\n");
    ksec(&session)
        .args(["check", "k8s/db.enc.yaml"])
        .run()
        .ok()
        .stdout_is("")
        .stderr_is("ksec: checked 1 file, no problems\n");
}

#[test]
fn check_accepts_a_secret_with_nothing_to_encrypt() {
    // The service account token Secret from the Kubernetes docs: the token controller fills in
    // its data, so the manifest in Git has none. `ksec encrypt` refuses it (the rule matches no
    // value), so `ksec check` must not demand that it be encrypted.
    let session = Dir::new();
    let token = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: build-robot-secret\n  annotations:\n    \
                 kubernetes.io/service-account.name: build-robot\ntype: kubernetes.io/service-account-token\n";
    session.write("k8s/token.yaml", token);
    ksec(&session)
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "k8s/token.yaml"])
        .run()
        .expect_code(32);
    ksec(&session).args(["check", "k8s"]).run().ok().stdout_is("");
}

#[test]
fn check_lists_every_problem_one_line_each_and_exits_33() {
    let session = Dir::new();
    session.write("k8s/1-plain.yaml", secret_yaml("plain", MARKER));

    let encrypted = encrypt_from_stdin(&session, &secret_yaml("partly", MARKER), &[], "k8s/clean.enc.yaml");
    let sealed_password = encrypted
        .lines()
        .find_map(|l| l.strip_prefix("  password: "))
        .expect("the password is encrypted")
        .to_string();
    assert!(looks_encrypted(&sealed_password));
    session.write("k8s/2-partly.enc.yaml", encrypted.replacen(&sealed_password, MARKER, 1));

    let invalid = ksec(&session)
        .args(["encrypt", "--no-validate", "--age", SAMPLE_RECIPIENT])
        .stdin(TLS_WITHOUT_KEY)
        .run()
        .ok()
        .stdout_text();
    session.write("k8s/3-invalid.enc.yaml", &invalid);

    let version_line = encrypted
        .lines()
        .find(|l| l.starts_with("  version: "))
        .expect("sops metadata has a version");
    session.write(
        "k8s/4-no-version.enc.yaml",
        encrypted.replacen(&format!("{version_line}\n"), "", 1),
    );

    let out = ksec(&session)
        .args(["check", "k8s"])
        .run()
        .expect_code(33)
        .stdout_lacks(MARKER);
    assert!(
        out.stderr_text().contains("4 problem(s) found"),
        "{}",
        out.stderr_text()
    );
    let report = out.stdout_text();
    let lines: Vec<&str> = report.lines().collect();
    let expected = [
        "k8s/1-plain.yaml: Secret/prod/plain: the Secret is not encrypted",
        "k8s/2-partly.enc.yaml: Secret/prod/partly: stringData.password: value left in clear in a Secret",
        "k8s/3-invalid.enc.yaml: Secret/prod/web: data.tls.key: missing",
        "k8s/4-no-version.enc.yaml: malformed sops metadata: ",
    ];
    assert_eq!(lines.len(), expected.len(), "one line per problem:\n{report}");
    for (line, start) in lines.iter().zip(expected) {
        assert!(line.starts_with(start), "expected a line starting {start:?}:\n{report}");
    }
    assert!(lines[3].contains("version"), "{report}");

    // Each file on its own gives its own line; the clean one none.
    ksec(&session)
        .args(["check", "k8s/clean.enc.yaml"])
        .run()
        .ok()
        .stdout_is("");
    ksec(&session)
        .args(["check", "k8s/2-partly.enc.yaml", "k8s/clean.enc.yaml"])
        .run()
        .expect_code(33)
        .stdout_is(format!("{}\n", lines[1]));
}

#[test]
fn check_finds_files_a_creation_rule_covers_that_are_not_encrypted() {
    let session = Dir::new();
    session.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: {SAMPLE_RECIPIENT}\n"),
    );
    session.write("secrets/app.yaml", format!("database_password: {MARKER}\n"));
    session.write("config/app.yaml", "log_level: debug\n");
    let config = session.path(".sops.yaml");
    let problem = format!(
        "a creation rule in {} covers it, but it is not encrypted",
        config.display()
    );

    // The config found from the current directory.
    ksec(&session)
        .args(["check", "secrets", "config"])
        .run()
        .expect_code(33)
        .stdout_is(format!("secrets/app.yaml: {problem}\n"));

    // The config named with --config, from a directory with no .sops.yaml above it.
    let elsewhere = session.home();
    ksec(&session)
        .current_dir(&elsewhere)
        .arg("--config")
        .arg(&config)
        .arg("check")
        .arg(session.path("secrets"))
        .run()
        .expect_code(33)
        .stdout_is(format!("{}: {problem}\n", session.path("secrets/app.yaml").display()));

    // Without a config the same file is just a file.
    ksec(&session)
        .current_dir(&elsewhere)
        .arg("check")
        .arg(session.path("secrets"))
        .run()
        .ok()
        .stdout_is("");

    // Once encrypted, it passes.
    ksec(&session).args(["encrypt", "-i", "secrets/app.yaml"]).run().ok();
    ksec(&session)
        .args(["check", "secrets", "config"])
        .run()
        .ok()
        .stdout_is("");
}

#[test]
fn check_walks_every_file_a_rule_requires_encrypted_and_ignores_catch_all_rules() {
    let session = Dir::new();
    session.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: secrets/\n    age: {SAMPLE_RECIPIENT}\n  - age: {SAMPLE_RECIPIENT}\n"
        ),
    );
    session.write("secrets/prod.env", format!("DB_PASSWORD={MARKER}\n"));
    session.write("secrets/api.key", format!("{MARKER}\n"));
    session.write("secrets/ok.env", "TOKEN=abc\n");
    session.write("secrets/ok.key", "raw bytes\n");
    for file in ["secrets/ok.env", "secrets/ok.key"] {
        ksec(&session).args(["encrypt", "-i", file]).run().ok();
    }
    // Neither a manifest nor required encrypted by a rule: read only for private keys.
    session.write("docs/README.md", "kind: Secret\n");
    // A catch-all rule says how to encrypt, not that every file must be.
    session.write(
        "k8s/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
    );
    let problem = format!(
        "a creation rule in {} covers it, but it is not encrypted",
        session.path(".sops.yaml").display()
    );
    ksec(&session)
        .args(["check", "secrets", "docs", "k8s"])
        .run()
        .expect_code(33)
        .stdout_is(format!("secrets/api.key: {problem}\nsecrets/prod.env: {problem}\n"));
}

#[test]
fn check_finds_plaintext_secrets_inside_a_list() {
    // What `kubectl get secrets -o yaml` prints: the Secrets are items of a `kind: List`.
    let session = Dir::new();
    let list = format!(
        "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n- apiVersion: v1\n  kind: Secret\n  \
         metadata:\n    name: db\n    namespace: prod\n  data:\n    password: {}\n",
        BASE64.encode(MARKER)
    );
    session.write("dump.yaml", &list);
    let out = ksec(&session)
        .args(["check", "dump.yaml"])
        .run()
        .expect_code(33)
        .stdout_has("dump.yaml: Secret/prod/db: ")
        .stdout_lacks(MARKER)
        .stdout_lacks(BASE64.encode(MARKER));
    let report = out.stdout_text();
    assert!(report.contains("not encrypted"), "{report}");
}

#[test]
fn check_finds_a_value_left_in_clear_in_a_file_a_creation_rule_covers() {
    // Encrypted under the creation rule, then edited by hand: the new value is one the file's
    // own rule encrypts, and it is in clear.
    let session = Dir::new();
    session.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: {SAMPLE_RECIPIENT}\n"),
    );
    session.write("secrets/app.yaml", "database_password: hunter2\n");
    ksec(&session).args(["encrypt", "-i", "secrets/app.yaml"]).run().ok();
    let encrypted = String::from_utf8(session.read("secrets/app.yaml")).expect("UTF-8");
    session.write(
        "secrets/app.yaml",
        encrypted.replacen("\nsops:\n", &format!("\napi_token: {MARKER}\nsops:\n"), 1),
    );
    let out = ksec(&session)
        .args(["check", "secrets"])
        .run()
        .expect_code(33)
        .stdout_has("secrets/app.yaml: ")
        .stdout_lacks(MARKER);
    let report = out.stdout_text();
    assert!(report.contains("api_token"), "the report names the key:\n{report}");
}

#[test]
fn check_reports_sops_metadata_whose_mac_is_missing_or_not_a_ciphertext() {
    // Both tools refuse to decrypt such a file (exit 51) unless told to ignore the MAC.
    let session = Dir::new();
    let encrypted = encrypt_from_stdin(&session, &secret_yaml("db", MARKER), &[], "db.enc.yaml");
    let mac_line = encrypted
        .lines()
        .find(|l| l.starts_with("  mac: "))
        .expect("sops metadata has a MAC");
    session.write("no-mac.enc.yaml", encrypted.replacen(&format!("{mac_line}\n"), "", 1));
    session.write(
        "bad-mac.enc.yaml",
        encrypted.replacen(mac_line, "  mac: not-a-ciphertext", 1),
    );
    for file in ["no-mac.enc.yaml", "bad-mac.enc.yaml"] {
        ksec_with_key(&session).args(["decrypt", file]).run().expect_code(51);
        let out = ksec(&session)
            .args(["check", file])
            .run()
            .expect_code(33)
            .stdout_has(format!("{file}: malformed sops metadata"));
        let report = out.stdout_text();
        assert!(report.contains("mac"), "{report}");
    }
}

#[test]
fn check_reports_secrets_it_cannot_parse_however_their_kind_is_written() {
    let session = Dir::new();
    let broken = [
        (
            "broken.json",
            format!("{{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"stringData\": {{\"password\": \"{MARKER}\"\n"),
        ),
        (
            "compact.json",
            format!("{{\"kind\":\"Secret\",\"stringData\":{{\"password\":\"{MARKER}\",}}}}\n"),
        ),
        (
            "quoted.yaml",
            format!("apiVersion: v1\nkind: \"Secret\"\nstringData:\n  password: {MARKER}\n bad: indent\n"),
        ),
        (
            "commented.yaml",
            format!("apiVersion: v1\nkind: Secret # the database's\nstringData:\n  password: [{MARKER}\n"),
        ),
    ];
    for (name, text) in &broken {
        session.write(name, text);
        ksec(&session)
            .args(["check", name])
            .run()
            .expect_code(33)
            .stdout_starts_with(format!("{name}: cannot be read: "))
            .stdout_lacks(MARKER);
    }
    // Broken YAML that holds no Secret (a Helm template) is not for check to judge.
    session.write("template.yaml", "kind: ConfigMap\ndata: {{ .Values.data }\n  x: [\n");
    session.write("secrets.yaml", "kind: SecretList\nitems: [\n");
    ksec(&session)
        .args(["check", "template.yaml", "secrets.yaml"])
        .run()
        .ok()
        .stdout_is("");
}

#[test]
fn check_reads_every_document_of_an_encrypted_stream() {
    let session = Dir::new();
    let stream = format!("{}---\n{}", secret_yaml("one", MARKER), secret_yaml("two", MARKER));
    let encrypted = encrypt_from_stdin(&session, &stream, &[], "clean.enc.yaml");
    ksec(&session)
        .args(["check", "clean.enc.yaml"])
        .run()
        .ok()
        .stdout_is("");

    // A plaintext Secret put in front: the first document has no sops block.
    session.write(
        "prepended.enc.yaml",
        format!("{}---\n{encrypted}", secret_yaml("added", MARKER)),
    );
    ksec(&session)
        .args(["check", "prepended.enc.yaml"])
        .run()
        .expect_code(33)
        .stdout_lacks(MARKER)
        .stdout_is(
            "prepended.enc.yaml: some documents have no sops metadata\n\
             prepended.enc.yaml: Secret/prod/added: stringData.username: value left in clear in a Secret\n\
             prepended.enc.yaml: Secret/prod/added: stringData.password: value left in clear in a Secret\n",
        );

    // The second document's sops block, edited by hand.
    let second = encrypted
        .rfind("\n  version: ")
        .expect("the second sops block has a version");
    let end = second + encrypted[second + 1..].find('\n').expect("a line") + 1;
    let edited = format!("{}{}", &encrypted[..second], &encrypted[end..]);
    assert_eq!(edited.matches("version: ").count(), 1, "{edited}");
    session.write("edited.enc.yaml", &edited);
    let out = ksec(&session).args(["check", "edited.enc.yaml"]).run().expect_code(33);
    let report = out.stdout_text();
    assert!(
        report.starts_with("edited.enc.yaml: document 2: malformed sops metadata: ") && report.contains("version"),
        "{report}"
    );
    assert_eq!(report.lines().count(), 1, "{report}");
}

/// The one hook of `.pre-commit-hooks.yaml`, with the fields that decide what pre-commit runs
/// and on which files.
#[derive(serde::Deserialize)]
struct Hook {
    id: String,
    entry: String,
    language: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    types_or: Vec<String>,
    files: Option<String>,
    exclude: Option<String>,
    pass_filenames: Option<bool>,
}

#[test]
fn pre_commit_hook_checks_every_staged_file_a_rule_covers() {
    let path = common::root().join(".pre-commit-hooks.yaml");
    let text = fs::read_to_string(&path).expect(".pre-commit-hooks.yaml at the repository root");
    let hooks: Vec<Hook> = serde_saphyr::from_str(&text).expect("a list of hooks");
    // `ksec-check-system` runs the ksec on PATH; `ksec-check` has pre-commit build it from the
    // repository with `cargo install`. Either way the same command on the same files.
    let ids: Vec<(&str, &str)> = hooks.iter().map(|h| (h.id.as_str(), h.language.as_str())).collect();
    assert_eq!(ids, [("ksec-check-system", "system"), ("ksec-check", "rust")], "{text}");
    let hook = &hooks[0];
    for other in &hooks {
        assert_eq!((&other.entry, &other.args), (&hook.entry, &hook.args));
        // Nothing filters the files but being a file: the .sops.yaml rules decide, not extensions.
        assert_eq!(other.types, ["file"]);
        assert!(other.types_or.is_empty() && other.files.is_none() && other.exclude.is_none());
        assert_ne!(other.pass_filenames, Some(false));
    }
    // The README's ready .pre-commit-config.yaml is a local hook doing the same, with no rev.
    let readme = fs::read_to_string(common::root().join("README.md")).expect("README.md");
    let snippet = readme
        .split("```yaml\nrepos:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .map(|body| format!("repos:\n{body}\n"))
        .expect("a .pre-commit-config.yaml snippet in the README");
    #[derive(serde::Deserialize)]
    struct Repo {
        repo: String,
        rev: Option<String>,
        hooks: Vec<Hook>,
    }
    #[derive(serde::Deserialize)]
    struct PreCommitConfig {
        repos: Vec<Repo>,
    }
    let config: PreCommitConfig = serde_saphyr::from_str(&snippet).expect("the snippet is a pre-commit config");
    let [local] = &config.repos[..] else {
        panic!("{snippet}")
    };
    assert_eq!(
        (local.repo.as_str(), local.rev.as_deref()),
        ("local", None),
        "{snippet}"
    );
    let [readme_hook] = &local.hooks[..] else {
        panic!("{snippet}")
    };
    assert_eq!(
        (
            readme_hook.entry.as_str(),
            readme_hook.language.as_str(),
            &readme_hook.types
        ),
        (hook.entry.as_str(), "system", &hook.types)
    );
    assert!(!readme.contains("rev: <tag>") && !text.contains("rev: <tag>"));

    let session = Dir::new();
    let git = |args: &[&str]| {
        tool(&session, Path::new("git"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(args)
            .run()
            .ok()
            .stdout
    };
    git(&["init", "-q"]);
    session.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: secrets/\n    age: {SAMPLE_RECIPIENT}\n  - age: {SAMPLE_RECIPIENT}\n"
        ),
    );
    session.write("secrets/app.env", format!("DB_PASSWORD={MARKER}\n"));
    session.write("k8s/db.yaml", secret_yaml("db", MARKER));
    session.write("k8s/deploy.yaml", DEPLOYMENT);
    // `kubectl get secret db -o yaml > k8s/dump`: no extension, read for what it is.
    session.write("k8s/dump", secret_yaml("dump", MARKER));
    // What else a commit holds: docs showing a Secret, an image, a large log.
    session.write(
        "docs/README.md",
        "# Secrets\n\n```yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n```\n",
    );
    let mut image = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    image.resize(8 << 20, 0xA5);
    session.write("docs/logo.png", &image);
    session.write(
        "build.log",
        "GET /secrets/ kind: Secret 200 (sops ok)\n".repeat(200_000),
    );
    std::os::unix::fs::symlink("db.yaml", session.path("k8s/link.yaml")).expect("symlink");

    // What pre-commit runs: the entry, its args, then every staged path its types allow.
    let run_hook = || {
        git(&["add", "-A"]);
        let staged = String::from_utf8(git(&["diff", "--cached", "--name-only", "-z"])).expect("UTF-8 names");
        let files: Vec<&str> = staged
            .split('\0')
            .filter(|f| !f.is_empty())
            .filter(|f| fs::symlink_metadata(session.path(f)).is_ok_and(|m| m.file_type().is_file()))
            .collect();
        let argv = shlex::split(&hook.entry).expect("entry splits as a shell command");
        let (program, entry_args) = argv.split_first().expect("an entry names a program");
        assert_eq!(program, "ksec");
        let started = std::time::Instant::now();
        let out = ksec(&session).args(entry_args).args(&hook.args).args(&files).run();
        (files.len(), out, started.elapsed())
    };

    let (count, out, took) = run_hook();
    assert_eq!(count, 8, "every regular file staged, the symlink left out");
    assert_eq!(out.code, 33, "{}", out.stderr_text());
    let config = session.path(".sops.yaml");
    assert_eq!(
        out.stdout_text(),
        format!(
            "k8s/db.yaml: Secret/prod/db: the Secret is not encrypted\n\
             k8s/dump: Secret/prod/dump: the Secret is not encrypted\n\
             secrets/app.env: a creation rule in {} covers it, but it is not encrypted\n",
            config.display()
        )
    );
    eprintln!("ksec check of {count} staged files took {took:?}");

    for file in ["secrets/app.env", "k8s/db.yaml", "k8s/dump"] {
        ksec(&session).args(["encrypt", "-i", file]).run().ok();
    }
    let (_, out, _) = run_hook();
    assert_eq!(out.code, 0, "{}", out.stdout_text());
    assert!(out.stdout.is_empty());
}
#[test]
fn check_flags_private_keys_by_kind_and_line_without_showing_them() {
    let session = Dir::new();
    let age_key = fs::read_to_string(sample_key()).expect("the sample identity");
    let secret_line = age_key
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("an identity line");
    let body = &secret_line["AGE-SECRET-KEY-1".len()..];
    // Staged and named, as pre-commit passes it; and left in a directory that is walked.
    session.write("key.txt", &age_key);
    session.write("k8s/keys.txt", &age_key);
    let ssh_key = fs::read(common::testdata("keys/locked_ed25519")).expect("the test SSH key");
    session.write("k8s/id_ed25519", &ssh_key);
    // Inside a manifest, in clear: a ConfigMap is no place for a TLS key.
    let pem = format!(
        "{CONFIG_MAP}  tls.key: |\n    -----BEGIN EC PRIVATE KEY-----\n    MHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49\n    -----END EC PRIVATE KEY-----\n"
    );
    session.write("k8s/settings.yaml", &pem);
    // Code that only names the markers is no key.
    session.write(
        "k8s/notes.md",
        "Never commit `AGE-SECRET-KEY-1…` or `-----BEGIN OPENSSH PRIVATE KEY-----` lines.\n",
    );
    let rule = "private keys must stay out of Git (remove it, and replace the key if it was ever pushed)";
    let out = ksec(&session)
        .args(["check", "key.txt", "k8s"])
        .run()
        .expect_code(33)
        .stdout_lacks(body)
        .stdout_lacks("MHcCAQEEIIrYSSNQ")
        .stdout_is(format!(
            "key.txt: line 4: an age secret key (AGE-SECRET-KEY-1…): {rule}\n\
             k8s/id_ed25519: line 1: an OpenSSH private key: {rule}\n\
             k8s/keys.txt: line 4: an age secret key (AGE-SECRET-KEY-1…): {rule}\n\
             k8s/settings.yaml: line 9: an EC private key: {rule}\n"
        ));
    assert!(!out.stderr_text().contains(body), "{}", out.stderr_text());
}

#[test]
fn check_flags_empty_or_clear_files_whose_name_or_rule_says_encrypted() {
    let session = Dir::new();
    // What `ksec encrypt … > db.enc.yaml` leaves when ksec refuses: the shell made the file.
    session.write("k8s/db.enc.yaml", "");
    session.write("k8s/api.sops.json", "{\"token\": \"abc\"}\n");
    session.write("k8s/key.enc", "\n");
    // Not claims: the config file itself, and a plain name.
    session.write(".sops.yaml", "creation_rules:\n  - path_regex: rules/.*\n");
    session.write("k8s/deploy.yaml", DEPLOYMENT);
    session.write("rules/app.env", "");
    let redirect =
        "a failed `ksec encrypt … > FILE` leaves such a file: use --output FILE, which writes nothing on failure";
    ksec(&session)
        .args(["check", "k8s", "rules", ".sops.yaml"])
        .run()
        .expect_code(33)
        .stdout_is(format!(
            "k8s/api.sops.json: its name says it is encrypted, but it is not\n\
             k8s/db.enc.yaml: empty, but its name says it is encrypted ({redirect})\n\
             k8s/key.enc: empty, but its name says it is encrypted ({redirect})\n\
             rules/app.env: empty, but a creation rule in {} covers it ({redirect})\n",
            session.path(".sops.yaml").display()
        ));

    // The quick start's flow as it goes wrong, then right: the redirect leaves an empty
    // file that check refuses; --output writes nothing when ksec refuses.
    let session = Dir::new();
    let bad_secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: s3cret!\n";
    let shell = session
        .command("sh")
        .args(["-c", &format!("\"$0\" encrypt --age {SAMPLE_RECIPIENT} > db.enc.yaml")])
        .arg(env!("CARGO_BIN_EXE_ksec"))
        .stdin(bad_secret)
        .run();
    assert_eq!(shell.code, 30, "{}", shell.stderr_text());
    assert_eq!(session.read("db.enc.yaml"), b"");
    ksec(&session).args(["check", "db.enc.yaml"]).run().expect_code(33);
    fs::remove_file(session.path("db.enc.yaml")).expect("remove");
    ksec(&session)
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "--output", "db.enc.yaml"])
        .stdin(bad_secret)
        .run()
        .expect_code(30);
    assert!(!session.path("db.enc.yaml").exists());
}

/// What `kubectl get secret db -o json` prints for a Secret applied with `kubectl apply`.
fn secret_from_a_live_cluster() -> String {
    let encoded = BASE64.encode(MARKER);
    let last_applied = format!(
        r#"{{\"apiVersion\":\"v1\",\"data\":{{\"password\":\"{encoded}\"}},\"kind\":\"Secret\",\"metadata\":{{\"annotations\":{{}},\"name\":\"db\",\"namespace\":\"prod\"}},\"type\":\"Opaque\"}}\n"#
    );
    format!(
        r#"{{
    "apiVersion": "v1",
    "data": {{
        "password": "{encoded}"
    }},
    "kind": "Secret",
    "metadata": {{
        "annotations": {{
            "{LAST_APPLIED}": "{last_applied}"
        }},
        "creationTimestamp": "2026-01-02T03:04:05Z",
        "managedFields": [
            {{"apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kubectl-client-side-apply", "operation": "Update"}}
        ],
        "name": "db",
        "namespace": "prod",
        "resourceVersion": "4242",
        "uid": "0b1c2d3e-aaaa-bbbb-cccc-0123456789ab"
    }},
    "type": "Opaque"
}}
"#
    )
}

#[test]
fn a_secret_from_a_live_cluster_is_named_and_cleaned_on_request() {
    let session = Dir::new();
    let from_cluster = secret_from_a_live_cluster();
    let rule = "^(data|stringData|kubectl\\.kubernetes\\.io/last-applied-configuration)$";

    // Kept as they are, and named: which manifest, which fields, and the flag that drops them.
    ksec(&session)
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "--encrypted-regex", rule])
        .args(["--output", "kept.enc.yaml"])
        .stdin(from_cluster.clone())
        .run()
        .ok()
        .stderr_has(
            "ksec: note: stdin: Secret/prod/db holds fields the API server set (metadata.resourceVersion, \
             metadata.uid, metadata.creationTimestamp, metadata.managedFields, \
             metadata.annotations.kubectl.kubernetes.io/last-applied-configuration)",
        )
        .stderr_has("pass --strip-server-fields to leave them out")
        // JSON on stdin, written to a `.yaml` name: YAML, and said so.
        .stderr_has("ksec: note: stdin: read as JSON, written as YAML as the output's name says (--output-type json keeps JSON)");
    let kept = session.read_string("kept.enc.yaml");
    assert!(
        kept.starts_with("apiVersion: v1\n") && kept.contains("\n    uid: 0b1c2d3e"),
        "{kept}"
    );

    // Left out: a Secret as one would commit it, without the note, and the default rule does
    // (there is no copy of the data left to leak).
    let out = ksec(&session)
        .args(["encrypt", "--age", SAMPLE_RECIPIENT, "--strip-server-fields"])
        .args(["--output", "db.enc.yaml"])
        .stdin(from_cluster)
        .run()
        .ok()
        .stderr_lacks("API server");
    assert!(!out.stderr_text().contains(MARKER));
    let plain = ksec_with_key(&session)
        .args(["decrypt", "db.enc.yaml"])
        .run()
        .ok()
        .stdout_text();
    assert_eq!(
        plain,
        format!(
            "apiVersion: v1\ndata:\n    password: {}\nkind: Secret\nmetadata:\n    name: db\n    namespace: prod\ntype: Opaque\n",
            BASE64.encode(MARKER)
        )
    );

    // As `sops`, the output keeps the input's format whatever its name, as sops does.
    session
        .ksec_as("sops")
        .env("SOPS_AGE_KEY_FILE", sample_key())
        .args([
            "encrypt",
            "--age",
            SAMPLE_RECIPIENT,
            "--encrypted-regex",
            rule,
            "--input-type",
            "json",
        ])
        .args(["--output", "as-sops.enc.yaml"])
        .stdin(secret_from_a_live_cluster())
        .run()
        .ok()
        .stderr_is("");
    assert!(session.read_string("as-sops.enc.yaml").starts_with('{'));
}

/// A kustomization in `app/` with a ConfigMap and a KsecGenerator naming `files`, and ksec
/// installed as the plugin kustomize looks for (a link named `KsecGenerator`) under a config
/// directory of its own; returns that directory, for `XDG_CONFIG_HOME`.
fn kustomization_with_generator(session: &Dir, files: &[&str]) -> PathBuf {
    let config = session.side("xdg-config");
    let plugin_dir = config.join("kustomize/plugin/ksec/v1/ksecgenerator");
    fs::create_dir_all(&plugin_dir).expect("plugin dir");
    let plugin = plugin_dir.join("KsecGenerator");
    if !plugin.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_ksec"), plugin).expect("link the plugin");
    }
    session.write(
        "app/kustomization.yaml",
        "namespace: payments\nresources:\n- config.yaml\ngenerators:\n- secret-generator.yaml\n",
    );
    session.write(
        "app/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  mode: prod\n",
    );
    let list: String = files.iter().map(|f| format!("  - {f}\n")).collect();
    session.write(
        "app/secret-generator.yaml",
        format!("apiVersion: ksec/v1\nkind: KsecGenerator\nmetadata:\n  name: secrets\nfiles:\n{list}"),
    );
    config
}

#[test]
fn kubectl_kustomize_expands_a_ksec_generator_into_decrypted_secrets() {
    let Some(kubectl) = common::kubectl() else { return };
    let session = Dir::new();
    let config = kustomization_with_generator(&session, &["db.enc.yaml"]);
    session.copy_testdata("secret.enc.yaml", "app/db.enc.yaml");
    let kustomize = |key: Option<PathBuf>| {
        let mut cmd = tool(&session, &kubectl);
        cmd.env("XDG_CONFIG_HOME", &config)
            .args(["kustomize", "--enable-alpha-plugins", "app"]);
        match key {
            Some(key) => cmd.env("SOPS_AGE_KEY_FILE", key),
            None => cmd.env_remove("SOPS_AGE_KEY_FILE"),
        };
        cmd.run()
    };

    // The build holds the Secret decrypted (MAC checked), beside the other resources, and
    // kustomize's own changes (the namespace) apply to it too.
    let built = kustomize(Some(sample_key())).ok().stdout_text();
    assert!(built.contains("kind: ConfigMap"), "{built}");
    assert!(built.contains("  password: correct horse battery staple\n"), "{built}");
    assert!(
        built.contains("  name: payments-db\n  namespace: payments\n"),
        "{built}"
    );
    assert!(!built.contains("ENC[") && !built.contains("sops:"), "{built}");

    // Without a key the build fails, naming the file, with no value in clear.
    let out = kustomize(None);
    assert_ne!(out.code, 0);
    let stderr = out.stderr_text();
    assert!(
        stderr.contains("db.enc.yaml: could not decrypt the data key"),
        "{stderr}"
    );
    assert!(!stderr.contains("correct horse") && out.stdout.is_empty(), "{stderr}");

    // A file outside the kustomization (here another checkout's) is refused, key or not.
    session.copy_testdata("secret.enc.yaml", "other-repo/db.enc.yaml");
    kustomization_with_generator(&session, &["../other-repo/db.enc.yaml"]);
    let out = kustomize(Some(sample_key()));
    assert_ne!(out.code, 0);
    assert!(
        out.stderr_text()
            .contains("\"../other-repo/db.enc.yaml\" is not inside the kustomization directory"),
        "{}",
        out.stderr_text()
    );
    // …and so is a link that leads out of it.
    std::os::unix::fs::symlink(
        session.path("other-repo/db.enc.yaml"),
        session.path("app/link.enc.yaml"),
    )
    .expect("link");
    kustomization_with_generator(&session, &["link.enc.yaml"]);
    let out = kustomize(Some(sample_key()));
    assert_ne!(out.code, 0);
    assert!(
        out.stderr_text()
            .contains("\"link.enc.yaml\" is not inside the kustomization directory"),
        "{}",
        out.stderr_text()
    );
}
