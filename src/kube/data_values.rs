//! Whether a Secret's values say what their writer meant: a `data` value that is base64 of
//! text (not the clear text itself, which is often valid base64 too: `hunter22` decodes to six
//! bytes of junk), and a key whose `data` and `stringData` copies disagree (the API server keeps
//! the `stringData` one and drops the other without a word).

use super::validation::decode_base64;
use super::{Finding, ManifestId, is_secret, manifests};
use crate::go_base64;
use crate::tree::{Entry, Mapping, Node, Tree, Value};

/// The `data` values that are new or changed in `after` (against `before`) and are not base64
/// of text: what `set` was most likely given as clear text. Values that did not change are not
/// looked at, so a Secret holding binary data can still be changed elsewhere.
pub fn data_not_base64_of_text<S>(before: &Tree<S>, after: &Tree<S>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (d, document) in after.documents.iter().enumerate() {
        let old_manifests = before.documents.get(d).map(manifests).unwrap_or_default();
        for (m, manifest) in manifests(document).into_iter().enumerate() {
            let Some(data) = string_map(manifest, "data") else {
                continue;
            };
            let old_data = old_manifests.get(m).and_then(|old| string_map(old, "data"));
            for (key, text) in data.entries().filter_map(string_entry) {
                let unchanged =
                    old_data.and_then(|old| old.get(key)).and_then(Node::as_value) == Some(&Value::str(text));
                if unchanged {
                    continue;
                }
                if let Some(problem) = not_base64_of_text(text) {
                    findings.push(Finding {
                        document: ManifestId::of(manifest).expect("a Secret has a kind"),
                        field: format!("data.{key}"),
                        problem,
                    });
                }
            }
        }
    }
    findings
}

/// Why a `data` value does not look like base64 of text, without quoting it.
fn not_base64_of_text(text: &str) -> Option<String> {
    match decode_base64(text) {
        Err(why) => Some(format!("not base64 ({why}): probably the clear text itself")),
        Ok(bytes) if !is_text(&bytes) => Some(format!(
            "valid base64, but of {} bytes that are not text: probably the clear text itself",
            bytes.len()
        )),
        Ok(_) => None,
    }
}

/// UTF-8 without control characters other than tabs and line breaks.
fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .is_ok_and(|text| text.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')))
}

/// Keys whose `data` (decoded) and `stringData` values differ. Values that cannot be read
/// (not base64, not strings, still encrypted) are left to [`super::validate`].
pub fn disagreeing_copies<S>(tree: &Tree<S>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for manifest in tree.documents.iter().flat_map(manifests) {
        let (Some(data), Some(string_data)) = (string_map(manifest, "data"), string_map(manifest, "stringData")) else {
            continue;
        };
        for (key, clear) in string_data.entries().filter_map(string_entry) {
            let stored = data.get(key).and_then(Node::as_value).and_then(Value::as_str);
            let Some(Ok(decoded)) = stored.map(go_base64::decode) else {
                continue;
            };
            if *decoded != *clear.as_bytes() {
                findings.push(Finding {
                    document: ManifestId::of(manifest).expect("a Secret has a kind"),
                    field: format!("stringData.{key}"),
                    problem: format!(
                        "also in data, with another value: Kubernetes keeps this one and drops \
                         data.{key}; keep one of the two"
                    ),
                });
            }
        }
    }
    findings
}

/// A Secret's `data` or `stringData` mapping.
fn string_map<'a>(manifest: &'a Mapping, field: &str) -> Option<&'a Mapping> {
    is_secret(manifest)
        .then(|| manifest.get(field).and_then(Node::as_mapping))
        .flatten()
}

/// An entry whose value is a string.
fn string_entry(entry: &Entry) -> Option<(&str, &str)> {
    Some((entry.key.as_str(), entry.value.as_value()?.as_str()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::tests::yaml;

    const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: prod\n";

    fn problems(findings: Vec<Finding>) -> Vec<String> {
        findings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_new_data_value_that_decodes_to_junk_is_taken_for_clear_text() {
        let before = yaml(&format!("{SECRET}data:\n  bin: /w==\n"));
        let after = yaml(&format!(
            "{SECRET}data:\n  bin: /w==\n  good: aHVudGVyMg==\n  word: hunter22\n  bang: s3cret!\n  empty: \"\"\n"
        ));
        assert_eq!(
            problems(data_not_base64_of_text(&before, &after)),
            [
                "Secret/prod/s: data.word: valid base64, but of 6 bytes that are not text: probably the clear text itself",
                "Secret/prod/s: data.bang: not base64 (unexpected character at offset 6): probably the clear text itself",
            ]
        );
    }

    #[test]
    fn an_unchanged_binary_value_and_other_kinds_are_left_alone() {
        let before = yaml(&format!("{SECRET}data:\n  bin: /w==\n"));
        let after = yaml(&format!("{SECRET}data:\n  bin: /w==\n  next: dGV4dA==\n"));
        assert!(data_not_base64_of_text(&before, &after).is_empty());
        let config_map = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  word: hunter22\n");
        assert!(data_not_base64_of_text(&before, &config_map).is_empty());
    }

    #[test]
    fn copies_in_data_and_string_data_that_disagree_are_named() {
        let tree = yaml(&format!(
            "{SECRET}data:\n  same: aHVudGVyMg==\n  other: aHVudGVyMg==\n  only: eA==\nstringData:\n  same: hunter2\n  other: hunter3\n"
        ));
        assert_eq!(
            problems(disagreeing_copies(&tree)),
            [
                "Secret/prod/s: stringData.other: also in data, with another value: Kubernetes keeps this one and drops data.other; keep one of the two"
            ]
        );
    }
}
