//! `ksec filestatus FILE`: `{"encrypted":true}` or `{"encrypted":false}`, as sops prints it.

use super::args::FilestatusArgs;
use super::inputs;
use crate::error::Error;
use crate::io::{self, Input};
use crate::ops;

pub fn run(args: &FilestatusArgs) -> Result<(), Error> {
    let file = args.file.display().to_string();
    let input = Input::File(args.file.clone()).read()?;
    let format = inputs::format_of(&args.file, args.input_type.as_deref(), &input)?;
    let encrypted = ops::is_encrypted(&input, format, &file)?;
    io::write_stdout(format!("{{\"encrypted\":{encrypted}}}\n").as_bytes())
}
