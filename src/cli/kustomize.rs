//! `ksec kustomize-generator CONFIG`: the kustomize generator plugin. kustomize (`kustomize
//! build --enable-alpha-plugins`, or `kubectl kustomize`) runs it as a legacy exec plugin —
//! ksec linked or copied as `KsecGenerator` into its plugin directory — with the path of the
//! generator manifest, in the kustomization's directory. It prints the files the manifest
//! names, decrypted (MAC checked), as one YAML stream for kustomize to add to the build.

use std::path::{Path, PathBuf};

use super::args::{GlobalArgs, KustomizeArgs};
use super::inputs;
use super::terminal::Terminal;
use crate::error::Error;
use crate::formats::{self, Format};
use crate::io::{self, Input, IoError};
use crate::keys::{Identities, ProcessEnv};
use crate::kube::{self, GeneratorError};
use crate::ops;
use crate::sops_file::MacPolicy;

pub fn run(global: &GlobalArgs, args: &KustomizeArgs) -> Result<(), Error> {
    let name = args.config.display().to_string();
    let manifest = Input::File(args.config.clone()).read()?;
    let files = kube::generator_files(&formats::parse(Format::Yaml, &manifest, &name)?, &name)?;
    let root = std::env::current_dir().map_err(|source| IoError::Read {
        path: PathBuf::from("."),
        source,
    })?;
    for file in &files {
        inside(&root, file, &name)?;
    }
    let config = inputs::load_config(global)?;
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref(), Terminal)?;
    let output = inputs::output_options(&Default::default(), config.as_ref());
    let stream = ops::decrypt_stream(&files, &identities, MacPolicy::Verify, output)?;
    for w in &stream.warnings {
        super::warn(w);
    }
    Ok(io::write_stdout(&stream.bytes)?)
}

/// Refuses a file that a symbolic link takes out of the kustomization directory.
fn inside(root: &Path, file: &Path, manifest: &str) -> Result<(), Error> {
    let real = |path: &Path| {
        path.canonicalize().map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => IoError::InputNotFound {
                path: file.to_path_buf(),
            },
            _ => IoError::Read {
                path: path.to_path_buf(),
                source,
            },
        })
    };
    if real(&root.join(file))?.starts_with(real(root)?) {
        return Ok(());
    }
    Err(GeneratorError::OutsideRoot {
        file: manifest.to_string(),
        path: file.display().to_string(),
    }
    .into())
}
