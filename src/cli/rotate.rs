//! `ksec rotate FILE`: a new data key, recipients added or removed on the way.

use super::args::{GlobalArgs, RotateArgs};
use super::inputs::{self, Plan};
use super::terminal::Terminal;
use crate::error::Error;
use crate::keys::{Identities, ProcessEnv, RecipientGroup, age, pgp};
use crate::rekey::{self, Access, Rotation};
use crate::sops_file::{EncryptedFile, MacPolicy};

pub fn run(global: &GlobalArgs, args: &RotateArgs) -> Result<(), Error> {
    let config = inputs::load_config(global)?;
    let mut plan = Plan::new(Some(&args.file), &args.io)?;
    let file = plan.display_name();
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref(), Terminal)?;
    // `rotate -i` reads the file it replaces: under its lock.
    plan.lock()?;
    let input = plan.input.read()?;
    let encrypted = EncryptedFile::read(&input, plan.input_format, file)?;
    let access = Access {
        identities: &identities,
        mac: MacPolicy::from_ignore_mac_flag(args.ignore_mac),
        env: &ProcessEnv,
        output: inputs::output_options(&args.io, config.as_ref()),
    };
    let split = |list: &Option<String>| -> Vec<String> {
        list.iter()
            .flat_map(|l| l.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let rotation = Rotation {
        add: RecipientGroup {
            age: args
                .add_age
                .as_deref()
                .map(age::parse_recipients)
                .transpose()?
                .unwrap_or_default(),
            pgp: args
                .add_pgp
                .as_deref()
                .map(pgp::parse_recipients)
                .transpose()?
                .unwrap_or_default(),
        },
        // A PGP key to remove may be named by a key file, as when adding: its fingerprint.
        remove: split(&args.rm_age)
            .into_iter()
            .chain(
                args.rm_pgp
                    .as_deref()
                    .map(pgp::parse_recipients)
                    .transpose()?
                    .unwrap_or_default()
                    .iter()
                    .map(|r| r.fingerprint().to_string()),
            )
            .collect(),
    };
    let output = rekey::rotate(encrypted, &access, &rotation)?;
    for w in &output.warnings {
        super::warn(w);
    }
    plan.write(&output.bytes)
}
