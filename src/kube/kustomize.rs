//! ksec's kustomize generator manifest: a `KsecGenerator` names encrypted files, and the
//! generator plugin (`ksec kustomize-generator`, run by `kustomize build --enable-alpha-plugins`
//! as a legacy exec plugin) prints them decrypted, so GitOps controllers that run kustomize
//! (Argo CD) deploy Secrets committed encrypted, as KSOPS does for sops.
//!
//! ```yaml
//! apiVersion: ksec/v1
//! kind: KsecGenerator
//! metadata:
//!   name: secrets
//! files:
//!   - db.enc.yaml
//! ```
//!
//! File names are relative to the kustomization's directory and may not leave it (kustomize's
//! own rule for the files a kustomization loads), so a repository cannot have the plugin
//! decrypt files of another checkout on the same machine.

use std::path::{Component, Path, PathBuf};

use super::str_field;
use crate::tree::{Node, SequenceItem, Tree, Value};

/// The `apiVersion` of a generator manifest; kustomize finds the plugin under
/// `$XDG_CONFIG_HOME/kustomize/plugin/ksec/v1/ksecgenerator/KsecGenerator`.
pub const GENERATOR_API_VERSION: &str = "ksec/v1";
/// The `kind` of a generator manifest, and the plugin's file name.
pub const GENERATOR_KIND: &str = "KsecGenerator";

/// Why a generator manifest cannot be expanded.
#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    #[error(
        "{file}: not a ksec generator manifest (expected apiVersion: {GENERATOR_API_VERSION} and \
         kind: {GENERATOR_KIND})"
    )]
    NotAGenerator { file: String },
    #[error("{file}: `files` must be a list of file names, and name at least one")]
    NoFiles { file: String },
    #[error("{file}: {path:?} is not inside the kustomization directory")]
    OutsideRoot { file: String, path: String },
}

/// The files a generator manifest names, in its order, as paths relative to the
/// kustomization's directory.
pub fn generator_files<S>(tree: &Tree<S>, file: &str) -> Result<Vec<PathBuf>, GeneratorError> {
    let root = match tree.documents.as_slice() {
        [document] => &document.root,
        _ => return Err(GeneratorError::NotAGenerator { file: file.into() }),
    };
    if str_field(root, "apiVersion") != Some(GENERATOR_API_VERSION) || str_field(root, "kind") != Some(GENERATOR_KIND) {
        return Err(GeneratorError::NotAGenerator { file: file.into() });
    }
    let no_files = || GeneratorError::NoFiles { file: file.into() };
    let Some(Node::Sequence(list)) = root.get("files") else {
        return Err(no_files());
    };
    let mut files = Vec::new();
    for item in &list.items {
        let SequenceItem::Node(node) = item else { continue };
        let Some(Value::Str(name)) = node.as_value() else {
            return Err(no_files());
        };
        let path = PathBuf::from(name.as_str());
        if !stays_inside(&path) {
            return Err(GeneratorError::OutsideRoot {
                file: file.into(),
                path: name.to_string(),
            });
        }
        files.push(path);
    }
    if files.is_empty() {
        return Err(no_files());
    }
    Ok(files)
}

/// A relative path without `..`: it names a file under the directory it is read from (symbolic
/// links aside, which the caller checks on the real file).
fn stays_inside(path: &Path) -> bool {
    !path.as_os_str().is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::tests::yaml;

    fn files(text: &str) -> Result<Vec<PathBuf>, String> {
        generator_files(&yaml(text), "gen.yaml").map_err(|e| e.to_string())
    }

    const HEAD: &str = "apiVersion: ksec/v1\nkind: KsecGenerator\nmetadata:\n  name: secrets\n";

    #[test]
    fn a_generator_names_its_files_in_order() {
        assert_eq!(
            files(&format!("{HEAD}files:\n  - db.enc.yaml\n  - ./tls/web.enc.yaml\n")),
            Ok(vec![PathBuf::from("db.enc.yaml"), PathBuf::from("./tls/web.enc.yaml")])
        );
    }

    #[test]
    fn files_outside_the_kustomization_are_refused() {
        for path in ["/etc/secret.enc.yaml", "../other/db.enc.yaml", "tls/../../db.enc.yaml"] {
            assert_eq!(
                files(&format!("{HEAD}files:\n  - {path}\n")),
                Err(format!("gen.yaml: {path:?} is not inside the kustomization directory"))
            );
        }
    }

    #[test]
    fn other_manifests_and_empty_lists_are_refused() {
        let not_ours = "gen.yaml: not a ksec generator manifest (expected apiVersion: ksec/v1 and kind: KsecGenerator)";
        assert_eq!(
            files("apiVersion: viaduct.ai/v1\nkind: ksops\nfiles: [a]\n"),
            Err(not_ours.into())
        );
        let no_files = "gen.yaml: `files` must be a list of file names, and name at least one";
        assert_eq!(files(&format!("{HEAD}files: []\n")), Err(no_files.into()));
        assert_eq!(files(&format!("{HEAD}files: db.enc.yaml\n")), Err(no_files.into()));
        assert_eq!(files(&format!("{HEAD}files:\n  - {{a: b}}\n")), Err(no_files.into()));
    }
}
