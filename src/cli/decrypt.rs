//! `ksec decrypt`: identities from the SOPS_AGE_* environment.

use super::args::{DecryptArgs, GlobalArgs};
use super::inputs::{self, Plan};
use crate::error::Error;
use crate::keys::{ProcessEnv, age};
use crate::ops::{self, DecryptOptions};

pub fn run(global: &GlobalArgs, args: &DecryptArgs) -> Result<(), Error> {
    let plan = Plan::new(&args.io)?;
    let file = plan.display_name();
    let config = inputs::load_config(global)?;
    let identities = age::discover(&ProcessEnv)?;
    let options = DecryptOptions {
        file: &file,
        input_format: plan.input_format,
        output_format: plan.output_format,
        identities: &identities,
        ignore_mac: args.ignore_mac,
        output: inputs::output_options(&args.io, config.as_ref()),
    };
    let input = plan.input.read()?;
    let output = ops::decrypt(&input, &options)?;
    for w in &output.warnings {
        super::warn(w);
    }
    plan.write(&output.bytes)
}
