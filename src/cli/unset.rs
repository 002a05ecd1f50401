//! `ksec unset FILE PATH`: one key or list item removed in place.

use super::args::{GlobalArgs, UnsetArgs};
use super::inputs::InPlaceFile;
use super::set::parse_path;
use crate::edit::{self, EditError};
use crate::error::Error;

pub fn run(global: &GlobalArgs, args: &UnsetArgs) -> Result<(), Error> {
    let path = parse_path(&args.path)?;
    let file = InPlaceFile::read(global, &args.file, &args.change)?;
    let mut opened = file.open(args.change.ignore_mac)?;
    let mut plain = opened.take_plain();
    match edit::unset_value(&mut plain, &path) {
        Err(EditError::PathNotFound { .. }) if args.idempotent => return Ok(()),
        result => result?,
    }
    let output = opened.seal(plain, &file.seal_options(!args.change.no_validate))?;
    for w in &output.warnings {
        super::warn(w);
    }
    file.write(&output.bytes)
}
