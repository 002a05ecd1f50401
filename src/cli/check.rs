//! `ksec check PATH…`: lists problems on stdout; exits 33 when there are any, and says on
//! stderr how many files it read when there are none (a silent pass looks like a skipped one).

use super::args::{CheckArgs, GlobalArgs};
use super::inputs;
use crate::check;
use crate::error::{CommandError, Error};
use crate::io;

pub fn run(global: &GlobalArgs, args: &CheckArgs) -> Result<(), Error> {
    let config = inputs::load_config(global)?;
    // Every file, not only manifests: a private key or an empty `*.enc.yaml` left in a
    // directory is as much a problem as a Secret in clear.
    let files = io::collect_files(&args.paths, true, io::Walk::AllFiles)?;
    let report = check::check_files(&files, config.as_ref())?;
    let listing: String = report.problems.iter().map(|p| format!("{p}\n")).collect();
    io::write_stdout(listing.as_bytes())?;
    match report.problems.len() {
        0 => {
            super::status(&format!(
                "checked {} file{}, no problems",
                report.files_read,
                if report.files_read == 1 { "" } else { "s" }
            ));
            Ok(())
        }
        count => Err(CommandError::CheckFailed { count }.into()),
    }
}
