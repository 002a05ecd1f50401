//! `ksec decrypt`: one file (or stdin) to stdout, a file or in place; or several files and
//! directories to one YAML stream for `kubectl apply -f -`.

use super::args::{DecryptArgs, GlobalArgs};
use super::inputs::{self, Plan};
use super::terminal::Terminal;
use crate::error::{CommandError, Error};
use crate::io;
use crate::keys::{Identities, ProcessEnv};
use crate::ops::{self, DecryptOptions};
use crate::sops_file::MacPolicy;
use crate::tree::path::TreePath;

pub fn run(global: &GlobalArgs, args: &DecryptArgs) -> Result<(), Error> {
    let config = inputs::load_config(global)?;
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref(), Terminal)?;
    let output = inputs::output_options(&args.io, config.as_ref());
    let extract = args.extract.as_deref().map(TreePath::parse).transpose()?;
    let mac = MacPolicy::from_ignore_mac_flag(args.ignore_mac);
    let single = args.files.len() <= 1 && !args.recursive && args.files.first().is_none_or(|f| !f.is_dir());
    if !single {
        if args.io.in_place || extract.is_some() {
            return Err(
                CommandError::ConflictingOptions("--in-place and --extract work on one file, not on several").into(),
            );
        }
        let files = io::collect_files(&args.files, args.recursive, io::Walk::Manifests)?;
        let stream = ops::decrypt_stream(&files, &identities, mac, output)?;
        for w in &stream.warnings {
            super::warn(w);
        }
        let plan = Plan::new(None, &args.io)?;
        return plan.write(&stream.bytes);
    }
    let mut plan = Plan::new(args.files.first().map(|p| p.as_path()), &args.io)?;
    let file = plan.display_name();
    let options = DecryptOptions {
        file: &file,
        input_format: plan.input_format,
        output_format: plan.output_format,
        identities: &identities,
        mac,
        output,
    };
    // `decrypt -i` reads the file it replaces: under its lock.
    plan.lock()?;
    let input = plan.input.read()?;
    let output = match &extract {
        Some(path) => ops::extract(&input, &options, path)?,
        None => ops::decrypt(input, &options)?,
    };
    for w in &output.warnings {
        super::warn(w);
    }
    plan.write(&output.bytes)
}
