//! `ksec encrypt`: recipients and rules from flags, the environment, or `.sops.yaml`.

use std::path::Path;

use super::args::{EncryptArgs, GlobalArgs, NewFileArgs};
use super::inputs::{self, Destination, Plan};
use super::terminal::Terminal;
use zeroize::Zeroizing;

use crate::config::Config;
use crate::error::Error;
use crate::formats::{Format, OutputOptions};
use crate::keys::{Identities, KeyLists, ProcessEnv, RecipientGroup};
use crate::ops::{self, EncryptOptions, Previous};
use crate::process;
use crate::rules::{EncryptionRule, RuleError};

pub fn run(global: &GlobalArgs, args: &EncryptArgs) -> Result<(), Error> {
    let mut plan = Plan::new(args.file.as_deref(), &args.io)?;
    let file = plan.display_name();
    let config = inputs::load_config(global)?;
    let settings = Settings::resolve(&args.new, config.as_ref(), inputs::rule_subject(&plan))?;
    let mut options = settings.options(
        &file,
        plan.input_format,
        inputs::output_options(&args.io, config.as_ref()),
    );
    options.output_format = plan.output_format;
    options.output_format_by_name = plan.output_format_by_name;
    options.strip_server_fields = args.strip_server_fields;
    options.binary_when_unknown = plan.name.is_some();
    options.validate_secrets = !args.no_validate;
    // Before the input and the file being replaced are read: another writer's change is then
    // either in what is read or waits for this write.
    plan.lock()?;
    let input = plan.input.read()?;
    // Encrypting over an encrypted file keeps what did not change (minimal diffs): the file
    // being replaced, or else (`decrypt -i`, edit, `encrypt -i`) the version committed to Git.
    let previous_bytes = match &plan.destination {
        Destination::File(path) => std::fs::read(path)
            .ok()
            .map(Zeroizing::new)
            .filter(|bytes| !args.io.in_place && has_sops_metadata(bytes))
            .or_else(|| process::git_committed_version(path)),
        Destination::Stdout => None,
    };
    let identities = previous_bytes
        .as_ref()
        .and_then(|_| Identities::discover(&ProcessEnv, None, Terminal).ok());
    let options = EncryptOptions {
        previous: previous_bytes
            .as_deref()
            .zip(identities.as_ref())
            .map(|(bytes, identities)| Previous { bytes, identities }),
        ..options
    };
    let output = ops::encrypt(input, &options)?;
    for note in &output.notes {
        super::note(note);
    }
    plan.write(&output.bytes)
}

/// Whether bytes look like an encrypted file (a cheap test before a full parse).
fn has_sops_metadata(bytes: &[u8]) -> bool {
    bytes.windows(5).any(|w| w == b"sops:" || w == b"sops\"")
}

/// Recipients and rule for a new encryption: flags first, then the `.sops.yaml` creation
/// rule for the file.
pub(super) struct Settings {
    pub recipients: Vec<RecipientGroup>,
    pub rule: Option<EncryptionRule>,
    pub mac_only_encrypted: bool,
    pub shamir_threshold: Option<usize>,
}

impl Settings {
    pub fn resolve(args: &NewFileArgs, config: Option<&Config>, subject: Option<&Path>) -> Result<Settings, Error> {
        let rule_for_file = match config {
            Some(c) => c.rule_for(subject.unwrap_or(Path::new("")))?,
            None => None,
        };
        let cli_rule = EncryptionRule::choose(cli_rules(args)?)?;
        let rule = cli_rule.or_else(|| rule_for_file.and_then(|r| r.encryption_rule.clone()));
        let mac_only_encrypted = args.mac_only_encrypted || rule_for_file.is_some_and(|r| r.mac_only_encrypted);
        let shamir_threshold = args
            .shamir_secret_sharing_threshold
            .or(rule_for_file.and_then(|r| r.shamir_threshold));
        // Keys on the command line (or SOPS_AGE_RECIPIENTS, SOPS_PGP_FP, SOPS_VAULT_URIS, …)
        // replace the config's entirely.
        let lists = key_lists(args);
        // As sops does, a malformed encryption context is refused even when no KMS key uses it.
        let flagged = lists.parse()?;
        let recipients = if lists.any() {
            vec![flagged]
        } else {
            match rule_for_file {
                Some(rule) => rule.recipient_groups()?,
                None => Vec::new(),
            }
        };
        Ok(Settings {
            recipients,
            rule,
            mac_only_encrypted,
            shamir_threshold,
        })
    }

    /// Options to encrypt with these settings (Secrets validated; a rule that encrypts nothing
    /// refused; no previous version).
    pub fn options<'a>(self, file: &'a str, input_format: Option<Format>, output: OutputOptions) -> EncryptOptions<'a> {
        EncryptOptions {
            file,
            input_format,
            binary_when_unknown: false,
            output_format: None,
            output_format_by_name: None,
            strip_server_fields: false,
            recipients: self.recipients,
            shamir_threshold: self.shamir_threshold,
            env: &ProcessEnv,
            rule: self.rule,
            mac_only_encrypted: self.mac_only_encrypted,
            validate_secrets: true,
            require_encrypted_values: true,
            output,
            previous: None,
        }
    }
}

/// The keys the command line (or the environment behind its flags) names.
fn key_lists(args: &NewFileArgs) -> KeyLists<'_> {
    KeyLists {
        age: args.age.as_deref(),
        pgp: args.pgp.as_deref(),
        kms: args.kms.as_deref(),
        aws_profile: args.aws_profile.as_deref(),
        encryption_context: args.encryption_context.as_deref(),
        gcp_kms: args.gcp_kms.as_deref(),
        azure_kv: args.azure_kv.as_deref(),
        hc_vault: args.hc_vault_transit.as_deref(),
    }
}

/// The rule flags given on the command line (more than one is a conflict, exit 8).
fn cli_rules(args: &NewFileArgs) -> Result<Vec<EncryptionRule>, RuleError> {
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
