//! `ksec filestatus FILE`: `{"encrypted":true}` or `{"encrypted":false}`, as sops prints it.

use super::args::FilestatusArgs;
use super::inputs;
use crate::error::{CommandError, Error};
use crate::io::{self, Input, IoError};
use crate::sops_file;

pub fn run(args: &FilestatusArgs) -> Result<(), Error> {
    let file = args.file.display().to_string();
    // sops reports a missing file as a generic failure (1), not as "no file specified" (100).
    let input = Input::File(args.file.clone()).read().map_err(|e| match e {
        IoError::InputNotFound { path } => Error::from(CommandError::NoSuchFile { path }),
        other => other.into(),
    })?;
    let format = inputs::format_of(&args.file, args.input_type, &input)?;
    let encrypted = sops_file::is_encrypted(&input, format, &file)?;
    Ok(io::write_stdout(format!("{{\"encrypted\":{encrypted}}}\n").as_bytes())?)
}
