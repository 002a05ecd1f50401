//! `ksec exec-env` and `ksec exec-file`: a command run with the plaintext, which never
//! touches a disk: exec-file's FIFO passes it through the kernel, and its `--no-fifo` file
//! lives in a private, memory-backed directory (or, when there is none, on a disk after a
//! warning, unless `KSEC_REQUIRE_TMPFS` refuses).

use super::args::{ExecEnvArgs, ExecFileArgs, GlobalArgs, IoArgs};
use super::inputs;
use super::signals::SignalGuard;
use super::terminal::Terminal;
use crate::error::{CommandError, Error};
use crate::formats::Format;
use crate::io::{DiskUse, Input, PrivateDir};
use crate::keys::{Identities, ProcessEnv};
use crate::ops::{self, DecryptOptions};
use crate::process;
use crate::sops_file::MacPolicy;

pub fn run_env(args: &ExecEnvArgs) -> Result<i32, Error> {
    let file = args.file.display().to_string();
    let input = Input::File(args.file.clone()).read()?;
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref(), Terminal)?;
    let options = DecryptOptions {
        file: &file,
        input_format: Some(inputs::format_of(&args.file, args.input_type, &input)?),
        output_format: None,
        identities: &identities,
        mac: MacPolicy::from_ignore_mac_flag(args.ignore_mac),
        output: Default::default(),
    };
    let (env, warnings) = ops::environment(&input, &options)?;
    for w in &warnings {
        super::warn(w);
    }
    let options = process::ShellOptions {
        pristine: args.pristine,
        run_as: args.user.as_deref().map(process::RunAs::lookup).transpose()?,
    };
    if args.same_process {
        return Err(process::exec_shell(&args.command, env, &options).into());
    }
    let guard = SignalGuard::install()?;
    let status = process::run_shell(&guard, &args.command, env, &options)?;
    Ok(process::exit_code_of(status))
}

pub fn run_file(global: &GlobalArgs, args: &ExecFileArgs) -> Result<i32, Error> {
    let config = inputs::load_config(global)?;
    let file = args.file.display().to_string();
    let input = Input::File(args.file.clone()).read()?;
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref(), Terminal)?;
    let name = match &args.filename {
        Some(name) => local_name(name)?,
        None => process::private_file_name(&args.file),
    };
    let options = DecryptOptions {
        file: &file,
        input_format: Some(inputs::format_of(&args.file, args.input_type, &input)?),
        output_format: args.output_type.map(Format::from),
        identities: &identities,
        mac: MacPolicy::from_ignore_mac_flag(args.ignore_mac),
        output: inputs::output_options(&IoArgs::default(), config.as_ref()),
    };
    let run_as = args.user.as_deref().map(process::RunAs::lookup).transpose()?;
    let output = ops::decrypt(input, &options)?;
    for w in &output.warnings {
        super::warn(w);
    }
    let guard = SignalGuard::install()?;
    // A FIFO's content never reaches the disk it lives on; a file's does.
    let dir = if args.no_fifo {
        inputs::plaintext_dir()?
    } else {
        PrivateDir::new(DiskUse::Allow)?
    };
    guard.protect(dir.path());
    let fifo = !args.no_fifo;
    let status = process::run_with_file(&guard, &dir, &name, output.bytes, &args.command, fifo, run_as.as_ref())?;
    dir.remove()?;
    Ok(process::exit_code_of(status))
}

/// `--filename` must name a file inside the private directory.
fn local_name(name: &str) -> Result<String, Error> {
    let path = std::path::Path::new(name);
    let mut components = path.components();
    match (components.next(), components.next()) {
        (Some(std::path::Component::Normal(_)), None) => Ok(name.to_string()),
        _ => Err(CommandError::FilenameWithDirectories { name: name.to_string() }.into()),
    }
}
