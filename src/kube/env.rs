//! A Secret as the environment a pod's `envFrom` gives it: what `ksec exec-env` runs a command
//! with when the file is a Secret.

use zeroize::Zeroizing;

use super::{is_secret, secret_data};
use crate::go_base64;
use crate::tree::{Mapping, Node, Value};

/// A Secret's keys as environment variables, as a pod's `envFrom` sees them: `data` decoded,
/// then `stringData` (which wins, as the API server merges it over `data`). `None` when the
/// document is not a Secret. Values that are not base64 (or not strings) are skipped.
pub fn secret_environment(root: &Mapping) -> Option<Vec<(String, Zeroizing<Vec<u8>>)>> {
    if !is_secret(root) {
        return None;
    }
    let mut env: Vec<(String, Zeroizing<Vec<u8>>)> = Vec::new();
    let mut set = |key: &str, value: Zeroizing<Vec<u8>>| match env.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => env.push((key.to_string(), value)),
    };
    if let Some(data) = secret_data(root) {
        for entry in data.entries() {
            if let Some(Value::Str(text)) = entry.value.as_value()
                && let Ok(bytes) = go_base64::decode(text)
            {
                set(&entry.key, bytes);
            }
        }
    }
    if let Some(string_data) = root.get("stringData").and_then(Node::as_mapping) {
        for entry in string_data.entries() {
            if let Some(Value::Str(text)) = entry.value.as_value() {
                set(&entry.key, Zeroizing::new(text.as_bytes().to_vec()));
            }
        }
    }
    Some(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::tests::yaml;

    #[test]
    fn data_is_decoded_and_string_data_wins() {
        let tree = yaml(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  USER: YWRtaW4=\n  PASSWORD: b2xk\n  \
             BROKEN: hunter2!\nstringData:\n  PASSWORD: new\n  PORT: 5432\n",
        );
        let env = secret_environment(&tree.documents[0].root).expect("a Secret");
        let env: Vec<(&str, &[u8])> = env.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
        assert_eq!(env, [("USER", &b"admin"[..]), ("PASSWORD", &b"new"[..])]);
    }

    #[test]
    fn other_kinds_have_no_environment() {
        let tree = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  A: b\n");
        assert!(secret_environment(&tree.documents[0].root).is_none());
    }
}
