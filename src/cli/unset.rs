//! `ksec unset FILE PATH`: one key or list item removed in place.

use super::args::{GlobalArgs, IoArgs, UnsetArgs};
use super::inputs;
use super::set::{parse_path, write_if_changed};
use crate::edit;
use crate::error::Error;
use crate::io::Input;
use crate::keys::{Identities, ProcessEnv};
use crate::rekey::Target;

pub fn run(global: &GlobalArgs, args: &UnsetArgs) -> Result<(), Error> {
    let config = inputs::load_config(global)?;
    let path = parse_path(&args.path)?;
    let file = args.file.display().to_string();
    let input = Input::File(args.file.clone()).read()?;
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref())?;
    let target = Target {
        file: &file,
        format: inputs::format_of(&args.file, args.input_type.as_deref(), &input)?,
        identities: &identities,
        env: &ProcessEnv,
        output: inputs::output_options(&IoArgs::default(), config.as_ref()),
    };
    let mut opened = edit::open(&input, &target, args.ignore_mac)?;
    let mut plain = opened.take_plain();
    match edit::unset_value(&mut plain, &path) {
        Err(Error::PathNotFound { .. }) if args.idempotent => return Ok(()),
        result => result?,
    }
    let output = edit::seal(&opened, plain, &target, !args.no_validate)?;
    for w in &output.warnings {
        super::warn(w);
    }
    write_if_changed(&args.file, &input, &output.bytes)
}
