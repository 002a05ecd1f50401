//! Whether a Secret is one the API server and kubectl would accept.
//!
//! The checks follow core/v1 Secret semantics as the API server applies them (`ValidateSecret`
//! in `pkg/apis/core/validation`, `IsConfigMapKey` in apimachinery, the v1 conversion that
//! merges `stringData` into `data`) and as kubectl reads YAML (values become JSON, so a number
//! under `stringData` is refused). For the bootstrap token type they follow the authenticator
//! that reads it. Findings name the document and the field, never a value.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use super::names::{is_dns_label, is_dns_subdomain, key_problem, mask_trailing_dash};
use super::spelling::suggestion;
use super::{Finding, ManifestId, SECRET_FIELDS, is_secret, manifests, str_field};
use crate::crypt::cipher::{Ciphertext, looks_encrypted};
use crate::formats::json;
use crate::go_base64;
use crate::scalar::ValueType;
use crate::tree::{Mapping, Node, Tree, Value};

/// `core.MaxSecretSize`: the API server refuses a Secret whose data totals more.
const MAX_SECRET_SIZE: usize = 1024 * 1024;

/// Checks every `kind: Secret` document (whatever its `apiVersion`) against what the API server
/// and kubectl accept. With `values_encrypted`, `data`/`stringData` values that are `ENC[...]`
/// strings are not read (no base64, JSON or token format checks) but still count as present,
/// and their size is estimated from the ciphertext.
pub fn validate<S>(tree: &Tree<S>, values_encrypted: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    for manifest in tree.documents.iter().flat_map(manifests) {
        if is_secret(manifest)
            && let Some(document) = ManifestId::of(manifest)
        {
            let mut check = SecretCheck {
                secret: manifest,
                document,
                values_encrypted,
                findings: &mut findings,
            };
            check.run();
        }
    }
    findings
}

/// What ksec knows of one Secret value once `stringData` is merged over `data`.
struct SecretValue {
    /// `data` or `stringData`: where the value that wins was written.
    from: &'static str,
    content: Content,
}

enum Content {
    /// The bytes Kubernetes would store (base64-decoded for `data`).
    Clear(Zeroizing<Vec<u8>>),
    /// An `ENC[...]` value; `len` is the stored size estimated from the ciphertext.
    Sealed { len: usize },
    /// Present but not readable (already reported: bad base64, wrong type, not a ciphertext).
    Unreadable,
}

impl SecretValue {
    fn is_empty(&self) -> bool {
        match &self.content {
            Content::Clear(bytes) => bytes.is_empty(),
            Content::Sealed { len } => *len == 0,
            Content::Unreadable => false,
        }
    }
}

/// One Secret being checked; findings are appended in the order the checks run.
struct SecretCheck<'a> {
    secret: &'a Mapping,
    document: ManifestId,
    values_encrypted: bool,
    findings: &'a mut Vec<Finding>,
}

impl<'a> SecretCheck<'a> {
    fn run(&mut self) {
        self.top_level_fields();
        self.metadata();
        self.scalar_fields();
        let values = self.values();
        self.size(&values);
        if let Some(secret_type) = self.readable_str("type") {
            self.type_requirements(secret_type, &values);
        }
    }

    fn report(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.findings.push(Finding {
            document: self.document.clone(),
            field: field.into(),
            problem: problem.into(),
        });
    }

    /// A string the checks may read: not a ciphertext when the file is encrypted.
    fn readable<'s>(&self, value: &'s str) -> Option<&'s str> {
        (!(self.values_encrypted && looks_encrypted(value))).then_some(value)
    }

    fn readable_str(&self, key: &str) -> Option<&'a str> {
        str_field(self.secret, key).and_then(|s| self.readable(s))
    }

    /// Unknown and repeated top-level fields: the API server's strict field validation (the
    /// default since kubectl 1.27) refuses both, and a misspelt `stringdata` is not matched by
    /// the Secret rule, so its values would be committed in clear.
    fn top_level_fields(&mut self) {
        let mut seen: Vec<&str> = Vec::new();
        for entry in self.secret.entries() {
            let key = entry.key.as_str();
            if !SECRET_FIELDS.contains(&key) {
                let problem = match suggestion(key, &SECRET_FIELDS) {
                    Some(near) => format!("unknown field (did you mean `{near}`?)"),
                    None => format!(
                        "unknown field; a Secret has only {}",
                        SECRET_FIELDS.map(|f| format!("`{f}`")).join(", ")
                    ),
                };
                self.report(key, problem);
            } else if seen.contains(&key) {
                self.report(key, "appears twice; Kubernetes refuses duplicate fields");
            }
            seen.push(key);
        }
        if str_field(self.secret, "apiVersion").is_none() {
            self.report("apiVersion", "missing or not a string; kubectl needs `apiVersion: v1`");
        }
    }

    fn metadata(&mut self) {
        let Some(metadata) = self.secret.get("metadata").and_then(Node::as_mapping) else {
            self.report("metadata.name", "missing; kubectl refuses a Secret without a name");
            return;
        };
        match metadata.get("name").and_then(Node::as_value) {
            None | Some(Value::Null) => {
                if !self.generate_name(metadata) {
                    self.report("metadata.name", "missing; kubectl refuses a Secret without a name");
                }
            }
            Some(Value::Str(name)) => {
                if let Some(name) = self.readable(name)
                    && !is_dns_subdomain(name)
                {
                    self.report(
                        "metadata.name",
                        "not a valid Secret name: lowercase letters, digits, `-` and `.`, \
                         starting and ending with a letter or digit, at most 253 characters",
                    );
                }
            }
            Some(_) => self.report("metadata.name", "must be a string"),
        }
        match metadata.get("namespace").and_then(Node::as_value) {
            None | Some(Value::Null) => {}
            Some(Value::Str(namespace)) => {
                if let Some(namespace) = self.readable(namespace)
                    && !is_dns_label(namespace)
                {
                    self.report(
                        "metadata.namespace",
                        "not a valid namespace: lowercase letters, digits and `-`, starting and \
                         ending with a letter or digit, at most 63 characters",
                    );
                }
            }
            Some(_) => self.report("metadata.namespace", "must be a string"),
        }
    }

    /// Whether `generateName` gives the Secret its name (`kubectl create` sends it, the API
    /// server appends a random suffix), reporting a prefix the API server would refuse.
    fn generate_name(&mut self, metadata: &Mapping) -> bool {
        match metadata.get("generateName").and_then(Node::as_value) {
            None | Some(Value::Null) => false,
            Some(Value::Str(prefix)) if prefix.is_empty() => false,
            Some(Value::Str(prefix)) => {
                // As `ValidateSecretName(prefix, true)`: a trailing `-` is fine, the suffix follows.
                if let Some(prefix) = self.readable(prefix)
                    && !is_dns_subdomain(&mask_trailing_dash(prefix))
                {
                    self.report(
                        "metadata.generateName",
                        "not a valid Secret name prefix: lowercase letters, digits, `-` and `.`, \
                         starting with a letter or digit",
                    );
                }
                true
            }
            Some(_) => {
                self.report("metadata.generateName", "must be a string");
                true
            }
        }
    }

    /// `type` is a string and `immutable` a boolean; kubectl cannot decode anything else.
    fn scalar_fields(&mut self) {
        let secret = self.secret;
        let has = |key, ok: fn(&Value) -> bool| secret.get(key).is_none_or(|n| n.as_value().is_some_and(ok));
        if !has("type", |v| matches!(v, Value::Null | Value::Str(_))) {
            self.report("type", "must be a string such as `Opaque` or `kubernetes.io/tls`");
        }
        if !has("immutable", |v| matches!(v, Value::Null | Value::Bool(_))) {
            self.report("immutable", "must be `true` or `false`");
        }
    }

    /// Reads `data` then `stringData` into one map, as the API server merges them (a key in
    /// both takes its `stringData` value), reporting what the API server or kubectl refuses.
    fn values(&mut self) -> BTreeMap<String, SecretValue> {
        let mut values = BTreeMap::new();
        for (field, from_data) in [("data", true), ("stringData", false)] {
            let Some(node) = self.secret.get(field) else { continue };
            let mapping = match node {
                Node::Mapping(m) => m,
                Node::Scalar(s) if s.value == Value::Null => continue,
                _ => {
                    let what = if from_data { "base64 strings" } else { "strings" };
                    self.report(field, format!("must be a mapping of keys to {what}"));
                    continue;
                }
            };
            let mut seen: Vec<&str> = Vec::new();
            for entry in mapping.entries() {
                let path = format!("{field}.{}", entry.key);
                if let Some(problem) = key_problem(&entry.key) {
                    self.report(path.clone(), problem);
                }
                if seen.contains(&entry.key.as_str()) {
                    self.report(path.clone(), "appears twice; Kubernetes refuses duplicate keys");
                }
                seen.push(&entry.key);
                let content = if from_data {
                    self.data_value(&path, &entry.value)
                } else {
                    self.string_data_value(&path, &entry.value)
                };
                values.insert(entry.key.clone(), SecretValue { from: field, content });
            }
        }
        values
    }

    fn data_value(&mut self, path: &str, node: &Node) -> Content {
        let value = match node {
            Node::Scalar(s) => &s.value,
            Node::Mapping(_) | Node::Sequence(_) => {
                self.report(path, "must be a base64 string, not a nested structure");
                return Content::Unreadable;
            }
        };
        match value {
            Value::Null => Content::Clear(Zeroizing::new(Vec::new())),
            Value::Str(text) if self.values_encrypted && looks_encrypted(text) => {
                self.sealed(path, text, &[ValueType::Str], |plain| plain / 4 * 3)
            }
            Value::Str(text) => match decode_base64(text) {
                Ok(bytes) => Content::Clear(bytes),
                Err(why) => {
                    self.report(
                        path,
                        format!(
                            "not valid base64 ({why}); data values must be standard base64 with \
                             `=` padding (put clear text under stringData instead)"
                        ),
                    );
                    Content::Unreadable
                }
            },
            other => {
                self.report(path, format!("must be a base64 string, not {}", describe(other)));
                Content::Unreadable
            }
        }
    }

    fn string_data_value(&mut self, path: &str, node: &Node) -> Content {
        let value = match node {
            Node::Scalar(s) => &s.value,
            Node::Mapping(_) | Node::Sequence(_) => {
                self.report(path, "must be a string, not a nested structure");
                return Content::Unreadable;
            }
        };
        match value {
            Value::Null => Content::Clear(Zeroizing::new(Vec::new())),
            Value::Str(text) if self.values_encrypted && looks_encrypted(text) => {
                self.sealed(path, text, &[ValueType::Str, ValueType::Time], |plain| plain)
            }
            Value::Str(text) => Content::Clear(Zeroizing::new(text.as_bytes().to_vec())),
            // kubectl reads YAML with go-yaml v2, which leaves a timestamp as its text (checked
            // with `kubectl label --local -o json`); a number stays a number and the API
            // server cannot decode it into a string field.
            Value::Time(t) => Content::Clear(Zeroizing::new(t.to_rfc3339_nano().into_bytes())),
            other => {
                self.report(
                    path,
                    format!(
                        "must be a string, not {}; Kubernetes refuses non-string stringData values \
                         (quote it)",
                        describe(other)
                    ),
                );
                Content::Unreadable
            }
        }
    }

    /// An `ENC[...]` value: its `type:` says what it decrypts to, its `data:` how long it is.
    fn sealed(&mut self, path: &str, text: &str, types: &[ValueType], stored: fn(usize) -> usize) -> Content {
        let ciphertext = match Ciphertext::parse(text) {
            Ok(ciphertext) => ciphertext,
            Err(why) => {
                self.report(path, format!("not a sops value ksec can read ({why})"));
                return Content::Unreadable;
            }
        };
        if !types.contains(&ciphertext.value_type) {
            self.report(
                path,
                format!(
                    "decrypts to a value of type `{}`; Kubernetes needs a string here (quote it before \
                     encrypting)",
                    ciphertext.value_type.name()
                ),
            );
            return Content::Unreadable;
        }
        Content::Sealed {
            len: stored(ciphertext.plaintext_len()),
        }
    }

    /// The total of decoded `data` and `stringData` bytes (`core.MaxSecretSize`). Encrypted
    /// values count as the size their ciphertext encodes, so the total is an estimate within a
    /// couple of bytes per value.
    fn size(&mut self, values: &BTreeMap<String, SecretValue>) {
        let mut total = 0usize;
        let mut estimated = false;
        for value in values.values() {
            match &value.content {
                Content::Clear(bytes) => total += bytes.len(),
                Content::Sealed { len } => {
                    total += len;
                    estimated = true;
                }
                Content::Unreadable => {}
            }
        }
        if total > MAX_SECRET_SIZE {
            let about = if estimated { "about " } else { "" };
            let mib = total as f64 / MAX_SECRET_SIZE as f64;
            self.report(
                "data",
                format!(
                    "Secret is {about}{mib:.1} MiB ({total} bytes); Kubernetes limits a Secret to \
                     1 MiB ({MAX_SECRET_SIZE} bytes)"
                ),
            );
        }
    }

    fn type_requirements(&mut self, secret_type: &str, values: &BTreeMap<String, SecretValue>) {
        let need = |what: &str| format!("missing; a {secret_type} Secret needs {what} (in data or stringData)");
        match secret_type {
            "kubernetes.io/tls" => {
                for key in ["tls.crt", "tls.key"] {
                    if !values.contains_key(key) {
                        self.report(format!("data.{key}"), need("`tls.crt` and `tls.key`"));
                    }
                }
            }
            // The API server accepts empty values; only presence is required.
            "kubernetes.io/basic-auth" if !values.contains_key("username") && !values.contains_key("password") => {
                self.report(
                    "data",
                    format!("no `username` or `password`; a {secret_type} Secret needs at least one"),
                );
            }
            "kubernetes.io/ssh-auth" => match values.get("ssh-privatekey") {
                None => self.report("data.ssh-privatekey", need("`ssh-privatekey`")),
                Some(v) if v.is_empty() => self.report(
                    format!("{}.ssh-privatekey", v.from),
                    format!("empty; a {secret_type} Secret needs a key"),
                ),
                Some(_) => {}
            },
            "kubernetes.io/dockerconfigjson" => self.docker_config(secret_type, ".dockerconfigjson", values),
            "kubernetes.io/dockercfg" => self.docker_config(secret_type, ".dockercfg", values),
            "kubernetes.io/service-account-token" => self.service_account_annotation(secret_type),
            "bootstrap.kubernetes.io/token" => self.bootstrap_token(values),
            _ => {}
        }
    }

    /// The API server unmarshals the config into a `map[string]interface{}`: it must be a JSON
    /// object (or `null`, which Go accepts as an empty map).
    fn docker_config(&mut self, secret_type: &str, key: &str, values: &BTreeMap<String, SecretValue>) {
        let Some(value) = values.get(key) else {
            self.report(
                format!("data.{key}"),
                format!("missing; a {secret_type} Secret needs `{key}` (in data or stringData)"),
            );
            return;
        };
        if let Content::Clear(bytes) = &value.content
            && let Err(why) = json::check_map(bytes)
        {
            self.report(format!("{}.{key}", value.from), why.to_string());
        }
    }

    fn service_account_annotation(&mut self, secret_type: &str) {
        const ANNOTATION: &str = "kubernetes.io/service-account.name";
        let annotation = self
            .secret
            .get("metadata")
            .and_then(Node::as_mapping)
            .and_then(|m| m.get("annotations"))
            .and_then(Node::as_mapping)
            .and_then(|a| str_field(a, ANNOTATION));
        if annotation.is_none_or(str::is_empty) {
            self.report(
                format!("metadata.annotations.{ANNOTATION}"),
                format!("missing; a {secret_type} Secret names its ServiceAccount there"),
            );
        }
    }

    /// The API server itself stores any `bootstrap.kubernetes.io/token` Secret: `ValidateSecret`
    /// has no case for this type. What is enforced here is what the bootstrap token authenticator
    /// and signer require (`k8s.io/cluster-bootstrap`): `token-id` of 6 and `token-secret` of 16
    /// `[a-z0-9]` characters, and the name `bootstrap-token-<token-id>`. They skip a Secret
    /// that breaks these rules without a word, so it would be applied and never work.
    fn bootstrap_token(&mut self, values: &BTreeMap<String, SecretValue>) {
        let ignored = "the bootstrap token authenticator ignores the Secret otherwise";
        let mut token_id = None;
        for (key, len) in [("token-id", 6), ("token-secret", 16)] {
            match values.get(key) {
                None => self.report(format!("data.{key}"), format!("missing; {ignored}")),
                Some(value) => {
                    if let Content::Clear(bytes) = &value.content {
                        let valid =
                            bytes.len() == len && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
                        if !valid {
                            self.report(
                                format!("{}.{key}", value.from),
                                format!("must be {len} characters of `a-z` and `0-9`; {ignored}"),
                            );
                        } else if key == "token-id" {
                            token_id = Some(bytes.clone());
                        }
                    }
                }
            }
        }
        let metadata = self.secret.get("metadata").and_then(Node::as_mapping);
        // The authenticator and signer list Secrets in kube-system only. A Secret without a
        // namespace goes where `kubectl apply -n` sends it, which the manifest cannot tell.
        if let Some(namespace) = metadata
            .and_then(|m| str_field(m, "namespace"))
            .and_then(|n| self.readable(n))
            && namespace != "kube-system"
        {
            self.report("metadata.namespace", format!("must be `kube-system`; {ignored}"));
        }
        let Some(name) = metadata
            .and_then(|m| str_field(m, "name"))
            .and_then(|n| self.readable(n))
        else {
            return;
        };
        let suffix = name.strip_prefix("bootstrap-token-");
        let valid_form =
            suffix.is_some_and(|id| id.len() == 6 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        let matches_id = match (&token_id, suffix) {
            (Some(id), Some(suffix)) => id.as_slice() == suffix.as_bytes(),
            _ => true,
        };
        if !valid_form || !matches_id {
            self.report(
                "metadata.name",
                format!("must be `bootstrap-token-` followed by the token-id; {ignored}"),
            );
        }
    }
}

/// What a scalar is, for messages that must not show it.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::Float(_) => "a number",
        Value::Str(_) => "a string",
        Value::Time(_) => "a timestamp",
        Value::Bytes(_) => "binary data",
    }
}

/// Decodes a `data` value as the API server does; the error names a position, never content.
pub(super) fn decode_base64(text: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    go_base64::decode(text).map_err(|e| match e {
        base64::DecodeError::InvalidByte(at, _) => format!("unexpected character at offset {at}"),
        base64::DecodeError::InvalidLength(_) => "wrong length".to_string(),
        base64::DecodeError::InvalidLastSymbol(at, _) => format!("bad final character at offset {at}"),
        base64::DecodeError::InvalidPadding => "missing or misplaced `=` padding".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{Format, parse};
    use crate::kube::is_manifest_stream;
    use crate::kube::tests::{enc, yaml};

    fn findings(text: &str) -> Vec<String> {
        validate(&yaml(text), false).iter().map(ToString::to_string).collect()
    }

    fn encrypted_findings(text: &str) -> Vec<String> {
        validate(&yaml(text), true).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn kubectl_generic_secret_passes() {
        let tree = yaml(include_str!("../../testdata/kubectl-secret.yaml"));
        assert!(validate(&tree, false).is_empty());
        assert!(is_manifest_stream(&tree));
    }

    #[test]
    fn valid_opaque_secret_with_data_and_string_data_passes() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  namespace: prod\n  labels: {a: b}\ntype: Opaque\nimmutable: true\ndata:\n  ca.crt: |\n    Y2VydGlm\n    aWNhdGU=\n  empty: \"\"\n  nothing:\nstringData:\n  password: hunter2\n  expires: 2020-09-13T04:39:10Z\n  blank:\n";
        assert_eq!(findings(text), Vec::<String>::new());
    }

    #[test]
    fn kubectl_docker_registry_secret_passes() {
        // `kubectl create secret docker-registry reg --docker-server=r.io --docker-username=u
        // --docker-password=p --dry-run=client -o yaml`
        let text = "apiVersion: v1\ndata:\n  .dockerconfigjson: eyJhdXRocyI6eyJyLmlvIjp7InVzZXJuYW1lIjoidSIsInBhc3N3b3JkIjoicCIsImF1dGgiOiJkVHB3In19fQ==\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: reg\ntype: kubernetes.io/dockerconfigjson\n";
        assert_eq!(findings(text), Vec::<String>::new());
    }

    #[test]
    fn tls_secret_without_key_names_the_missing_key() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\n  namespace: prod\ntype: kubernetes.io/tls\ndata:\n  tls.crt: Y2VydA==\n";
        assert_eq!(
            findings(text),
            [
                "Secret/prod/web: data.tls.key: missing; a kubernetes.io/tls Secret needs `tls.crt` and `tls.key` (in data or stringData)"
            ]
        );
    }

    #[test]
    fn tls_keys_may_come_from_string_data_and_be_empty() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\ntype: kubernetes.io/tls\ndata:\n  tls.crt: \"\"\nstringData:\n  tls.key: k\n";
        assert_eq!(findings(text), Vec::<String>::new());
    }

    #[test]
    fn basic_auth_needs_username_or_password() {
        let empty = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ba\ntype: kubernetes.io/basic-auth\ndata: {}\n";
        assert_eq!(
            findings(empty),
            ["Secret/-/ba: data: no `username` or `password`; a kubernetes.io/basic-auth Secret needs at least one"]
        );
        let only_password = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ba\ntype: kubernetes.io/basic-auth\nstringData:\n  password: \"\"\n";
        assert_eq!(findings(only_password), Vec::<String>::new());
    }

    #[test]
    fn ssh_auth_needs_a_non_empty_private_key() {
        let missing = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: git\ntype: kubernetes.io/ssh-auth\ndata:\n  known_hosts: eA==\n";
        assert_eq!(
            findings(missing),
            [
                "Secret/-/git: data.ssh-privatekey: missing; a kubernetes.io/ssh-auth Secret needs `ssh-privatekey` (in data or stringData)"
            ]
        );
        let empty = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: git\ntype: kubernetes.io/ssh-auth\nstringData:\n  ssh-privatekey: \"\"\n";
        assert_eq!(
            findings(empty),
            ["Secret/-/git: stringData.ssh-privatekey: empty; a kubernetes.io/ssh-auth Secret needs a key"]
        );
    }

    #[test]
    fn dockerconfigjson_must_hold_a_json_object() {
        // base64 of `{"auths":` (cut short)
        let bad = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: eyJhdXRocyI6\n";
        assert_eq!(
            findings(bad),
            ["Secret/-/reg: data..dockerconfigjson: not valid JSON (unexpected end)"]
        );
        let array = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '[1, 2]'\n";
        assert_eq!(
            findings(array),
            ["Secret/-/reg: stringData..dockerconfigjson: must hold a JSON object"]
        );
        let missing = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockerconfigjson\n";
        assert_eq!(
            findings(missing),
            [
                "Secret/-/reg: data..dockerconfigjson: missing; a kubernetes.io/dockerconfigjson Secret needs `.dockerconfigjson` (in data or stringData)"
            ]
        );
    }

    #[test]
    fn dockercfg_is_checked_like_dockerconfigjson() {
        let good = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockercfg\nstringData:\n  .dockercfg: '{\"r.io\": {\"auth\": \"dTpw\", \"n\": [1.5e3, -0, true, null, \"\\u00e9\"]}}'\n";
        assert_eq!(findings(good), Vec::<String>::new());
        let bad = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockercfg\nstringData:\n  .dockercfg: '{\"r.io\": 01}'\n";
        assert_eq!(
            findings(bad),
            ["Secret/-/reg: stringData..dockercfg: not valid JSON (unexpected character at byte 10)"]
        );
    }

    #[test]
    fn bad_base64_names_the_key_and_not_the_value() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ndata:\n  password: hunter2!\n  user: YWRtaW4\n";
        let found = findings(text);
        assert_eq!(
            found,
            [
                "Secret/prod/db: data.password: not valid base64 (unexpected character at offset 7); data values must be standard base64 with `=` padding (put clear text under stringData instead)",
                "Secret/prod/db: data.user: not valid base64 (missing or misplaced `=` padding); data values must be standard base64 with `=` padding (put clear text under stringData instead)",
            ]
        );
        assert!(found.iter().all(|f| !f.contains("hunter2") && !f.contains("YWRtaW4")));
    }

    #[test]
    fn base64_is_read_as_go_reads_it() {
        assert_eq!(decode_base64("YWRtaW4=").unwrap().as_slice(), b"admin");
        // Line breaks are skipped, stray trailing bits tolerated.
        assert_eq!(decode_base64("YWRt\r\naW4=\n").unwrap().as_slice(), b"admin");
        assert_eq!(decode_base64("YQ==").unwrap().as_slice(), b"a");
        assert_eq!(decode_base64("YR==").unwrap().as_slice(), b"a");
        assert!(decode_base64("YWRtaW4").is_err());
        assert!(decode_base64("_-8=").is_err(), "URL-safe alphabet is refused");
        assert!(decode_base64("YWRt aW4=").is_err());
    }

    #[test]
    fn string_data_refuses_numbers_and_booleans() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  port: 5432\n  debug: true\n  nested: {a: b}\n";
        assert_eq!(
            findings(text),
            [
                "Secret/-/db: stringData.port: must be a string, not a number; Kubernetes refuses non-string stringData values (quote it)",
                "Secret/-/db: stringData.debug: must be a string, not a boolean; Kubernetes refuses non-string stringData values (quote it)",
                "Secret/-/db: stringData.nested: must be a string, not a nested structure",
            ]
        );
    }

    #[test]
    fn data_and_string_data_must_be_mappings() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata: [a]\nstringData: text\n";
        assert_eq!(
            findings(text),
            [
                "Secret/-/db: data: must be a mapping of keys to base64 strings",
                "Secret/-/db: stringData: must be a mapping of keys to strings",
            ]
        );
    }

    #[test]
    fn keys_must_be_valid_secret_keys() {
        let long = "k".repeat(254);
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  \"a b\": x\n  ..data: x\n  \".\": x\n  {long}: x\n  ok-_.K9: x\n"
        );
        assert_eq!(
            findings(&text),
            [
                "Secret/-/db: stringData.a b: invalid key: only letters, digits, `-`, `_` and `.` are allowed"
                    .to_string(),
                "Secret/-/db: stringData...data: invalid key: must not start with `..`".to_string(),
                "Secret/-/db: stringData..: invalid key: `.` and `..` are not allowed".to_string(),
                format!("Secret/-/db: stringData.{long}: invalid key: longer than 253 characters"),
            ]
        );
    }

    #[test]
    fn duplicate_keys_are_reported() {
        // The YAML reader refuses duplicates itself; JSON keeps them, as sops does.
        let text = r#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
            "stringData": {"a": "x", "a": "y"}, "kind": "Secret"}"#;
        let tree = parse(Format::Json, text.as_bytes(), "t.json").expect("test JSON parses");
        let found: Vec<String> = validate(&tree, false).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "Secret/-/db: kind: appears twice; Kubernetes refuses duplicate fields",
                "Secret/-/db: stringData.a: appears twice; Kubernetes refuses duplicate keys",
            ]
        );
    }

    #[test]
    fn misspelt_string_data_is_an_unknown_field_with_a_suggestion() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\nstringdata:\n  password: hunter2\n";
        assert_eq!(
            findings(text),
            ["Secret/prod/db: stringdata: unknown field (did you mean `stringData`?)"]
        );
    }

    #[test]
    fn unknown_field_far_from_every_secret_field_lists_them() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nspec: {}\n";
        assert_eq!(
            findings(text),
            [
                "Secret/-/db: spec: unknown field; a Secret has only `apiVersion`, `kind`, `metadata`, `type`, `data`, `stringData`, `immutable`"
            ]
        );
    }

    #[test]
    fn secret_over_one_mebibyte_is_refused_with_its_size() {
        // 1,400,000 base64 characters decode to 1,050,000 bytes.
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: big\ndata:\n  blob: {}\n",
            "AAAA".repeat(350_000)
        );
        assert_eq!(
            findings(&text),
            [
                "Secret/-/big: data: Secret is 1.0 MiB (1050000 bytes); Kubernetes limits a Secret to 1 MiB (1048576 bytes)"
            ]
        );
        let exactly = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: big\nstringData:\n  blob: {}\n",
            "x".repeat(MAX_SECRET_SIZE)
        );
        assert_eq!(findings(&exactly), Vec::<String>::new());
    }

    #[test]
    fn size_counts_a_key_in_both_maps_once() {
        let half = "x".repeat(MAX_SECRET_SIZE / 2 + 10);
        let text =
            format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: {half}\n  b: {half}\n");
        assert_eq!(findings(&text).len(), 1);
        let text =
            format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: eA==\nstringData:\n  a: {half}\n");
        assert_eq!(findings(&text), Vec::<String>::new());
    }

    #[test]
    fn size_of_an_encrypted_secret_is_estimated_from_the_ciphertext() {
        // 1,800,000 base64 characters of ciphertext: 1,350,000 bytes of base64 plaintext, which
        // decode to about 1,012,500 bytes (under) for data, 1,350,000 bytes for stringData.
        let data = "AAAA".repeat(450_000);
        let under = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: big\ndata:\n  blob: {}\n",
            enc(&data, "str")
        );
        assert_eq!(encrypted_findings(&under), Vec::<String>::new());
        let over = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: big\nstringData:\n  blob: {}\n",
            enc(&data, "str")
        );
        assert_eq!(
            encrypted_findings(&over),
            [
                "Secret/-/big: data: Secret is about 1.3 MiB (1350000 bytes); Kubernetes limits a Secret to 1 MiB (1048576 bytes)"
            ]
        );
    }

    #[test]
    fn missing_name_and_bad_metadata_are_reported() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  namespace: prod\nstringData:\n  a: b\n";
        assert_eq!(
            findings(text),
            ["Secret/prod/-: metadata.name: missing; kubectl refuses a Secret without a name"]
        );
        let text = "apiVersion: v1\nkind: Secret\nstringData:\n  a: b\n";
        assert_eq!(
            findings(text),
            ["Secret/-/-: metadata.name: missing; kubectl refuses a Secret without a name"]
        );
        let text = "kind: Secret\nmetadata:\n  name: Bad_Name\n  namespace: a.b\n";
        let found = findings(text);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("Secret/a.b/Bad_Name: apiVersion: missing"));
        assert!(found[1].starts_with("Secret/a.b/Bad_Name: metadata.name: not a valid Secret name"));
        assert!(found[2].starts_with("Secret/a.b/Bad_Name: metadata.namespace: not a valid namespace"));
    }

    #[test]
    fn generate_name_stands_in_for_a_name() {
        let text =
            "apiVersion: v1\nkind: Secret\nmetadata:\n  generateName: db-\n  namespace: prod\nstringData:\n  a: b\n";
        assert_eq!(findings(text), Vec::<String>::new());
        let bad = text.replace("generateName: db-", "generateName: Db_");
        assert_eq!(
            findings(&bad),
            [
                "Secret/prod/-: metadata.generateName: not a valid Secret name prefix: lowercase letters, digits, `-` and `.`, starting with a letter or digit"
            ]
        );
        let empty = text.replace("generateName: db-", "generateName: \"\"");
        assert_eq!(
            findings(&empty),
            ["Secret/prod/-: metadata.name: missing; kubectl refuses a Secret without a name"]
        );
    }

    #[test]
    fn type_and_immutable_must_have_their_types() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ntype: [Opaque]\nimmutable: \"yes\"\n";
        assert_eq!(
            findings(text),
            [
                "Secret/-/s: type: must be a string such as `Opaque` or `kubernetes.io/tls`",
                "Secret/-/s: immutable: must be `true` or `false`",
            ]
        );
    }

    #[test]
    fn service_account_token_needs_the_account_annotation() {
        let missing =
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sa\ntype: kubernetes.io/service-account-token\n";
        assert_eq!(
            findings(missing),
            [
                "Secret/-/sa: metadata.annotations.kubernetes.io/service-account.name: missing; a kubernetes.io/service-account-token Secret names its ServiceAccount there"
            ]
        );
        let present = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sa\n  annotations:\n    kubernetes.io/service-account.name: build\ntype: kubernetes.io/service-account-token\n";
        assert_eq!(findings(present), Vec::<String>::new());
    }

    const BOOTSTRAP: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bootstrap-token-5emitj\n  namespace: kube-system\ntype: bootstrap.kubernetes.io/token\nstringData:\n  auth-extra-groups: \"system:bootstrappers:kubeadm:default-node-token\"\n  expiration: \"2020-09-13T04:39:10Z\"\n  token-id: \"5emitj\"\n  token-secret: \"kq4gihvszzgn1p0r\"\n  usage-bootstrap-authentication: \"true\"\n  usage-bootstrap-signing: \"true\"\n";

    #[test]
    fn bootstrap_token_from_the_kubernetes_docs_passes() {
        assert_eq!(findings(BOOTSTRAP), Vec::<String>::new());
    }

    #[test]
    fn bootstrap_token_fields_and_name_are_checked() {
        let ignored = "the bootstrap token authenticator ignores the Secret otherwise";
        let bad_secret = BOOTSTRAP.replace("kq4gihvszzgn1p0r", "KQ4GIHVSZZGN1P0R");
        assert_eq!(
            findings(&bad_secret),
            [format!(
                "Secret/kube-system/bootstrap-token-5emitj: stringData.token-secret: must be 16 characters of `a-z` and `0-9`; {ignored}"
            )]
        );
        let other_name = BOOTSTRAP.replace("name: bootstrap-token-5emitj", "name: bootstrap-token-abcdef");
        assert_eq!(
            findings(&other_name),
            [format!(
                "Secret/kube-system/bootstrap-token-abcdef: metadata.name: must be `bootstrap-token-` followed by the token-id; {ignored}"
            )]
        );
        let no_id = BOOTSTRAP.replace("  token-id: \"5emitj\"\n", "");
        assert_eq!(
            findings(&no_id),
            [format!(
                "Secret/kube-system/bootstrap-token-5emitj: data.token-id: missing; {ignored}"
            )]
        );
        let free_name = no_id.replace("bootstrap-token-5emitj", "my-token");
        assert_eq!(findings(&free_name).len(), 2);
    }

    #[test]
    fn bootstrap_token_outside_kube_system_is_reported() {
        let elsewhere = BOOTSTRAP.replace("namespace: kube-system", "namespace: default");
        assert_eq!(
            findings(&elsewhere),
            [
                "Secret/default/bootstrap-token-5emitj: metadata.namespace: must be `kube-system`; the bootstrap token authenticator ignores the Secret otherwise"
            ]
        );
        // Without a namespace it goes where `kubectl apply -n` sends it.
        let unset = BOOTSTRAP.replace("  namespace: kube-system\n", "");
        assert_eq!(findings(&unset), Vec::<String>::new());
    }

    #[test]
    fn unknown_types_have_no_required_keys() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ntype: example.com/custom\n";
        assert_eq!(findings(text), Vec::<String>::new());
    }

    #[test]
    fn encrypted_tree_skips_content_checks_but_finds_missing_tls_key() {
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\n  namespace: prod\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  extra: {}\n",
            enc("UruaOS5EKzA=", "str"),
            enc("KA7/eA==", "str"),
        );
        assert_eq!(
            encrypted_findings(&text),
            [
                "Secret/prod/web: data.tls.key: missing; a kubernetes.io/tls Secret needs `tls.crt` and `tls.key` (in data or stringData)"
            ]
        );
        // Read as plaintext, the same ciphertexts are not base64.
        assert_eq!(findings(&text).len(), 3);
    }

    #[test]
    fn encrypted_tree_skips_json_and_token_format_checks() {
        let docker = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: reg\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
            enc("UruaOS5EKzA=", "str")
        );
        assert_eq!(encrypted_findings(&docker), Vec::<String>::new());
        let token = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bootstrap-token-5emitj\ntype: bootstrap.kubernetes.io/token\nstringData:\n  token-id: {}\n  token-secret: {}\n",
            enc("UruaOS5E", "str"),
            enc("UruaOS5EKzA=", "str")
        );
        assert_eq!(encrypted_findings(&token), Vec::<String>::new());
    }

    #[test]
    fn encrypted_non_string_in_string_data_is_reported() {
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  port: {}\n",
            enc("KA7/eA==", "int")
        );
        assert_eq!(
            encrypted_findings(&text),
            [
                "Secret/-/db: stringData.port: decrypts to a value of type `int`; Kubernetes needs a string here (quote it before encrypting)"
            ]
        );
    }

    #[test]
    fn encrypted_value_ksec_cannot_read_is_reported() {
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {}\n  token: {}\n",
            enc("UruaOS5EKzA=", "bytes"),
            enc("not base64!", "str"),
        );
        let found = encrypted_findings(&text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0],
            "Secret/-/db: stringData.password: not a sops value ksec can read (unknown datatype \"bytes\")"
        );
        assert!(
            found[1].starts_with("Secret/-/db: stringData.token: not a sops value ksec can read (bad base64 in data"),
            "{found:?}"
        );
    }
}
