//! `ksec apply`: decrypt manifests in memory and stream them to `kubectl apply -f -`.

use std::path::PathBuf;

use super::args::{ApplyArgs, GlobalArgs};
use super::inputs;
use super::terminal::Terminal;
use crate::error::{CommandError, Error};
use crate::io;
use crate::keys::{Identities, ProcessEnv};
use crate::ops;
use crate::process;
use crate::sops_file::MacPolicy;

/// The files and directories of `-f PATH` and of positional arguments, in the order the user
/// typed them: kubectl applies a stream in document order, so `ns.yaml -f app/` must put the
/// namespace first.
pub fn paths_in_command_line_order(matches: &clap::ArgMatches) -> Vec<PathBuf> {
    let mut indexed: Vec<(usize, PathBuf)> = Vec::new();
    for id in ["filenames", "paths"] {
        if let (Some(indices), Some(values)) = (matches.indices_of(id), matches.get_many::<PathBuf>(id)) {
            indexed.extend(indices.zip(values.cloned()));
        }
    }
    indexed.sort_by_key(|(index, _)| *index);
    indexed.into_iter().map(|(_, path)| path).collect()
}

/// Runs kubectl and returns its exit code (128+N when a signal N ended it).
pub fn run(global: &GlobalArgs, args: &ApplyArgs) -> Result<i32, Error> {
    let config = inputs::load_config(global)?;
    let paths: Vec<_> = args.filenames.iter().chain(&args.paths).cloned().collect();
    if paths.is_empty() {
        return Err(CommandError::NothingToApply.into());
    }
    let files = io::collect_files(&paths, args.recursive, io::Walk::Manifests)?;
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref(), Terminal)?;
    let output = inputs::output_options(&Default::default(), config.as_ref());
    let stream = ops::decrypt_stream(
        &files,
        &identities,
        MacPolicy::from_ignore_mac_flag(args.ignore_mac),
        output,
    )?;
    for w in &stream.warnings {
        super::warn(w);
    }
    let status = process::kubectl_apply(&process::kubectl_program(), &args.kubectl_args, &stream.bytes)?;
    Ok(process::exit_code_of(status))
}
