//! `ksec encrypt`: recipients and rules from flags, the environment, or `.sops.yaml`.

use super::args::{EncryptArgs, GlobalArgs};
use super::inputs::{self, Plan};
use crate::error::Error;
use crate::keys::age::{self, AgeRecipient};
use crate::metadata::RecipientGroup;
use crate::ops::{self, EncryptOptions};
use crate::rules::EncryptionRule;

pub fn run(global: &GlobalArgs, args: &EncryptArgs) -> Result<(), Error> {
    let plan = Plan::new(args.file.as_deref(), &args.io)?;
    let file = plan.display_name();
    let config = inputs::load_config(global)?;
    let rule_for_file = match (&config, inputs::rule_subject(&plan)) {
        (Some(c), Some(subject)) => c.rule_for(subject)?,
        (Some(c), None) => c.rule_for(std::path::Path::new(""))?,
        (None, _) => None,
    };

    let cli_rule = EncryptionRule::choose(cli_rules(args)?)?;
    let rule = cli_rule
        .or_else(|| rule_for_file.and_then(|r| r.encryption_rule.clone()))
        .unwrap_or_default();
    let mac_only_encrypted = args.mac_only_encrypted || rule_for_file.is_some_and(|r| r.mac_only_encrypted);
    let shamir_threshold = args
        .shamir_secret_sharing_threshold
        .or(rule_for_file.and_then(|r| r.shamir_threshold));

    // Recipients on the command line (or SOPS_AGE_RECIPIENTS) replace the config's entirely.
    let recipients = match &args.age {
        Some(list) => vec![RecipientGroup {
            age: age::parse_recipients(list)?,
        }],
        None => match rule_for_file {
            Some(rule) => rule
                .key_groups()?
                .iter()
                .map(|group| {
                    if !group.pgp.is_empty() {
                        return Err(Error::Usage(
                            "the creation rule lists pgp keys; OpenPGP is not supported by ksec yet".into(),
                        ));
                    }
                    let age = group
                        .age
                        .iter()
                        .map(|r| AgeRecipient::parse(r))
                        .collect::<Result<_, _>>()?;
                    Ok(RecipientGroup { age })
                })
                .collect::<Result<Vec<_>, Error>>()?,
            None => Vec::new(),
        },
    };

    let options = EncryptOptions {
        file: &file,
        input_format: plan.input_format,
        output_format: plan.output_format,
        recipients,
        shamir_threshold,
        rule,
        mac_only_encrypted,
        output: inputs::output_options(&args.io, config.as_ref()),
    };
    let input = plan.input.read()?;
    let output = ops::encrypt(&input, &options)?;
    plan.write(&output.bytes)
}

/// The rule flags given on the command line (more than one is a conflict, exit 8).
fn cli_rules(args: &EncryptArgs) -> Result<Vec<EncryptionRule>, Error> {
    let flags = [
        ("unencrypted_suffix", &args.unencrypted_suffix),
        ("encrypted_suffix", &args.encrypted_suffix),
        ("unencrypted_regex", &args.unencrypted_regex),
        ("encrypted_regex", &args.encrypted_regex),
        ("unencrypted_comment_regex", &args.unencrypted_comment_regex),
        ("encrypted_comment_regex", &args.encrypted_comment_regex),
    ];
    flags
        .into_iter()
        .filter_map(|(field, value)| value.as_deref().map(|v| EncryptionRule::from_field(field, v)))
        .collect()
}
