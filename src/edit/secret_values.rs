//! `set` on a Kubernetes Secret: a `data` value can be given as the text it stands for (the text
//! `ksec edit` shows decoded) and is base64-encoded here; a `data` value given as JSON that is
//! not base64 of text is refused, since it is almost always the clear text itself.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::{EditError, set_value};
use crate::kube;
use crate::tree::path::{Step, TreePath};
use crate::tree::{Node, Plain, Tree, Value};

/// A value for `set`.
pub enum NewValue {
    /// JSON, as sops takes it (`"text"`, `5`, `{"k": true}`).
    Json(Node),
    /// Text or bytes to store base64-encoded, as a Secret's `data` holds them.
    Base64Of(Zeroizing<Vec<u8>>),
}

/// Sets `value` at `path` as sops does, with care for Secrets: [`NewValue::Base64Of`] is refused
/// under `stringData`, and with `check_secrets` a JSON value that puts anything but base64 of
/// text under a Secret's `data` is refused. Returns whether the tree changed.
pub fn set_new_value(
    tree: &mut Tree<Plain>,
    path: &TreePath,
    value: NewValue,
    check_secrets: bool,
    file: &str,
) -> Result<bool, EditError> {
    let node = match value {
        NewValue::Json(node) => node,
        NewValue::Base64Of(bytes) => {
            refuse_string_data(tree, path)?;
            let mut text = Zeroizing::new(String::with_capacity(bytes.len().div_ceil(3) * 4));
            STANDARD.encode_string(&*bytes, &mut text);
            return set_value(tree, path, Node::scalar(Value::Str(text)));
        }
    };
    if !check_secrets {
        return set_value(tree, path, node);
    }
    let before = tree.clone();
    let changed = set_value(tree, path, node)?;
    let findings = kube::data_not_base64_of_text(&before, tree);
    if !findings.is_empty() {
        return Err(EditError::ClearTextInData {
            file: file.to_string(),
            findings,
        });
    }
    Ok(changed)
}

/// `stringData.KEY` of a Secret takes clear text: base64 there would be stored as such.
fn refuse_string_data(tree: &Tree<Plain>, path: &TreePath) -> Result<(), EditError> {
    let in_secret = tree.documents.first().is_some_and(|d| kube::is_secret(&d.root));
    if in_secret && matches!(path.0.first(), Some(Step::Key(field)) if field == "stringData") {
        return Err(EditError::Base64InStringData { path: path.describe() });
    }
    Ok(())
}
