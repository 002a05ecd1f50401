//! `ksec rotate FILE`: a new data key, recipients added or removed on the way.

use super::args::{GlobalArgs, RotateArgs};
use super::inputs::{self, Plan};
use super::terminal::Terminal;
use crate::error::Error;
use crate::keys::{Identities, KeyKind, KeyLists, ProcessEnv};
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
    let encrypted = EncryptedFile::read(input, plan.input_format, file)?;
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
    let added = KeyLists {
        age: args.add_age.as_deref(),
        pgp: args.add_pgp.as_deref(),
        kms: args.add_kms.as_deref(),
        aws_profile: args.aws_profile.as_deref(),
        encryption_context: args.encryption_context.as_deref(),
        gcp_kms: args.add_gcp_kms.as_deref(),
        azure_kv: args.add_azure_kv.as_deref(),
        hc_vault: args.add_hc_vault_transit.as_deref(),
    };
    // Keys to remove are named as the file names them: an age recipient as written, a PGP key
    // by fingerprint (a key file gives its fingerprint, as when adding), a KMS key with the
    // profile and context given, as sops compares them.
    let removed = KeyLists {
        pgp: args.rm_pgp.as_deref(),
        kms: args.rm_kms.as_deref(),
        aws_profile: args.aws_profile.as_deref(),
        encryption_context: args.encryption_context.as_deref(),
        gcp_kms: args.rm_gcp_kms.as_deref(),
        azure_kv: args.rm_azure_kv.as_deref(),
        hc_vault: args.rm_hc_vault_transit.as_deref(),
        ..KeyLists::default()
    };
    let rotation = Rotation {
        add: added.parse()?,
        remove: split(&args.rm_age)
            .into_iter()
            .map(|recipient| (KeyKind::Age, recipient))
            .chain(removed.parse()?.names())
            .collect(),
    };
    let output = rekey::rotate(encrypted, &access, &rotation)?;
    for w in &output.warnings {
        super::warn(w);
    }
    plan.write(&output.bytes)
}
