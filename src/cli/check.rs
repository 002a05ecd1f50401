//! `ksec check PATH…`: lists problems on stdout; exits 33 when there are any.

use super::args::{CheckArgs, GlobalArgs};
use super::inputs;
use crate::check;
use crate::error::{CommandError, Error};
use crate::io;

pub fn run(global: &GlobalArgs, args: &CheckArgs) -> Result<(), Error> {
    let config = inputs::load_config(global)?;
    let named: Vec<_> = args.paths.iter().filter(|p| !p.is_dir()).cloned().collect();
    let files: Vec<_> = io::collect_files(&args.paths, true, io::Walk::AllFiles)?
        .into_iter()
        .filter(|f| named.contains(f) || check::worth_checking(f, config.as_ref()))
        .collect();
    let problems = check::check_files(&files, config.as_ref())?;
    let report: String = problems.iter().map(|p| format!("{p}\n")).collect();
    io::write_stdout(report.as_bytes())?;
    match problems.len() {
        0 => Ok(()),
        count => Err(CommandError::CheckFailed { count }.into()),
    }
}
