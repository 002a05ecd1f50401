//! `ksec groups add|delete`: change the key groups that share the data key.

use super::args::{GlobalArgs, GroupsCommand};
use super::inputs;
use super::terminal::Terminal;
use crate::error::{CommandError, Error};
use crate::io::{self, Input};
use crate::keys::{Identities, KeyLists, ProcessEnv};
use crate::rekey::{self, Access, GroupChange};
use crate::sops_file::{EncryptedFile, MacPolicy};

pub fn run(global: &GlobalArgs, command: &GroupsCommand) -> Result<(), Error> {
    let config = inputs::load_config(global)?;
    let (file, change, threshold, in_place, order, ignore_mac) = match command {
        GroupsCommand::Add(a) => {
            let joined = |lists: &[String]| (!lists.is_empty()).then(|| lists.join(","));
            let (age, pgp, kms) = (joined(&a.age), joined(&a.pgp), joined(&a.kms));
            let (gcp_kms, azure_kv, hc_vault) = (joined(&a.gcp_kms), joined(&a.azure_kv), joined(&a.hc_vault_transit));
            let group = KeyLists {
                age: age.as_deref(),
                pgp: pgp.as_deref(),
                kms: kms.as_deref(),
                aws_profile: a.aws_profile.as_deref(),
                encryption_context: a.encryption_context.as_deref(),
                gcp_kms: gcp_kms.as_deref(),
                azure_kv: azure_kv.as_deref(),
                hc_vault: hc_vault.as_deref(),
            }
            .parse()?;
            if group.is_empty() {
                return Err(CommandError::EmptyNewGroup.into());
            }
            (
                &a.file,
                GroupChange::Add(group),
                a.shamir_secret_sharing_threshold,
                a.in_place,
                &a.keys,
                a.ignore_mac,
            )
        }
        GroupsCommand::Delete(d) => (
            &d.file,
            GroupChange::Delete(d.index),
            d.shamir_secret_sharing_threshold,
            d.in_place,
            &d.keys,
            d.ignore_mac,
        ),
    };
    let name = file.display().to_string();
    let identities = Identities::discover(&ProcessEnv, order.decryption_order.as_deref(), Terminal)?;
    // With -i the file is read under the lock it is written under.
    let lock = in_place.then(|| inputs::lock_in_place(file)).transpose()?;
    let input = Input::File(file.to_path_buf()).read()?;
    let encrypted = EncryptedFile::parse(&input, inputs::format_of(file, None, &input)?, name)?;
    let access = Access {
        identities: &identities,
        mac: MacPolicy::from_ignore_mac_flag(ignore_mac),
        env: &ProcessEnv,
        output: inputs::output_options(&Default::default(), config.as_ref()),
    };
    let output = rekey::change_groups(encrypted, &access, change, threshold)?;
    match lock {
        Some(lock) => lock.replace(&output.bytes)?,
        None => io::write_stdout(&output.bytes)?,
    }
    Ok(())
}
