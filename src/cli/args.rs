//! Every command, flag and environment variable, documented where it is defined. Names follow
//! sops 3.x so sops users feel at home; `completions/` is generated from these definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Keep Kubernetes Secrets (and any YAML or JSON file) encrypted in Git, in the SOPS format.
///
/// Files ksec writes decrypt with `sops`; files `sops` writes decrypt with ksec.
#[derive(Debug, Parser)]
#[command(name = "ksec", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Use this .sops.yaml instead of searching upward from the current directory.
    #[arg(long, global = true, env = "SOPS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Encrypt a file (or stdin) for the given recipients.
    #[command(after_help = ENCRYPT_EXAMPLES)]
    Encrypt(EncryptArgs),
    /// Decrypt a file (or stdin) to stdout, a file, or in place.
    #[command(after_help = DECRYPT_EXAMPLES)]
    Decrypt(DecryptArgs),
    /// Decrypt manifests in memory and stream them to `kubectl apply -f -`.
    #[command(after_help = APPLY_EXAMPLES)]
    Apply(ApplyArgs),
    /// New data key: every value re-encrypted; add or remove recipients on the way.
    #[command(after_help = ROTATE_EXAMPLES)]
    Rotate(RotateArgs),
    /// Make files' recipients match their .sops.yaml creation rule (same data key).
    #[command(after_help = UPDATEKEYS_EXAMPLES)]
    Updatekeys(UpdatekeysArgs),
    /// Add or delete key groups (Shamir shares of the data key).
    #[command(subcommand, after_help = GROUPS_EXAMPLES)]
    Groups(GroupsCommand),
    /// Find Secrets in clear, invalid Secrets and malformed sops metadata (CI, pre-commit).
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Print a shell completion script.
    #[command(
        hide = true,
        after_help = "Example:\n  ksec completions bash > /etc/bash_completion.d/ksec"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

const ENCRYPT_EXAMPLES: &str = "Examples:
  kubectl create secret generic db --from-literal=password=hunter2 --dry-run=client -o yaml \\
    | ksec encrypt --age age1... --encrypted-regex '^(data|stringData)$' > db.enc.yaml
  ksec encrypt -i secret.yaml                 # recipients and rules from .sops.yaml
  ksec encrypt --age age1... --output s.enc.json s.json";

const DECRYPT_EXAMPLES: &str = "Examples:
  ksec decrypt db.enc.yaml | kubectl apply -f -
  SOPS_AGE_KEY_FILE=key.txt ksec decrypt --output db.yaml db.enc.yaml
  ksec decrypt --ignore-mac damaged.enc.yaml";

const APPLY_EXAMPLES: &str = "Examples:
  ksec apply -f k8s/ -R                       # every manifest under k8s/, decrypted in memory
  ksec apply secret.enc.yaml -- --namespace prod --server-side
  kubectl ksec apply -f k8s/                  # as a kubectl plugin (kubectl-ksec on PATH)
No plaintext is written to disk: the stream goes to kubectl's stdin. kubectl is $KSEC_KUBECTL
or `kubectl` on PATH; its exit code is ksec's.";

const CHECK_EXAMPLES: &str = "Examples:
  ksec check k8s/                             # every manifest under k8s/, recursively
  ksec check $(git diff --cached --name-only) # what is about to be committed
Exits 0 when nothing is found, 33 otherwise, listing every problem. Needs no key.";

const ROTATE_EXAMPLES: &str = "Examples:
  ksec rotate -i secret.enc.yaml
  ksec rotate -i --rm-age age1old... --add-age age1new... secret.enc.yaml
Prints the result unless -i or --output is given.";

const UPDATEKEYS_EXAMPLES: &str = "Examples:
  ksec updatekeys secret.enc.yaml             # shows the change and asks
  ksec updatekeys --yes k8s/                  # every encrypted file under k8s/
  ksec updatekeys --dry-run k8s/              # what would change
Values, lastmodified and the MAC stay as they are; only the sops block changes.";

const GROUPS_EXAMPLES: &str = "Examples:
  ksec groups add -f s.enc.yaml --age age1... --shamir-secret-sharing-threshold 2 -i
  ksec groups delete -f s.enc.yaml 1 -i";

/// Arguments of `ksec rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The encrypted file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Add age recipients (to the first key group), comma separated.
    #[arg(long, value_name = "RECIPIENTS")]
    pub add_age: Option<String>,
    /// Remove age recipients (from every group), comma separated.
    #[arg(long, value_name = "RECIPIENTS")]
    pub rm_age: Option<String>,
    /// Add OpenPGP recipients (to the first key group), comma separated.
    #[arg(long, value_name = "RECIPIENTS")]
    pub add_pgp: Option<String>,
    /// Remove OpenPGP fingerprints (from every group), comma separated.
    #[arg(long, value_name = "FINGERPRINTS")]
    pub rm_pgp: Option<String>,
    #[command(flatten)]
    pub io: IoArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Arguments of `ksec updatekeys`.
#[derive(Debug, Args)]
pub struct UpdatekeysArgs {
    /// Encrypted files, or directories (read recursively).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Do not ask before writing.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Format of the files: yaml or json (default: from the file name).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Key groups needed to rebuild the data key.
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// `ksec groups …`.
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Add a key group.
    Add(GroupsAddArgs),
    /// Delete the key group at INDEX (0-based, as sops counts).
    Delete(GroupsDeleteArgs),
}

/// Arguments of `ksec groups add`.
#[derive(Debug, Args)]
pub struct GroupsAddArgs {
    /// The encrypted file.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// age recipients of the new group (repeatable, or comma separated).
    #[arg(long, value_name = "RECIPIENTS")]
    pub age: Vec<String>,
    /// OpenPGP recipients of the new group (repeatable, or comma separated).
    #[arg(long, value_name = "RECIPIENTS")]
    pub pgp: Vec<String>,
    /// Key groups needed to rebuild the data key.
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// Replace the file instead of printing the result.
    #[arg(short = 'i', long)]
    pub in_place: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Arguments of `ksec groups delete`.
#[derive(Debug, Args)]
pub struct GroupsDeleteArgs {
    /// The encrypted file.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// The group to delete (0-based).
    #[arg(value_name = "INDEX")]
    pub index: usize,
    /// Key groups needed to rebuild the data key.
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// Replace the file instead of printing the result.
    #[arg(short = 'i', long)]
    pub in_place: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Arguments of `ksec check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories (directories are read recursively).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

/// Arguments of `ksec apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Files or directories to apply (also accepted as positional arguments).
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<PathBuf>,
    /// Files or directories to apply.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Read directories recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Apply even when the MAC of a file does not match.
    #[arg(long)]
    pub ignore_mac: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Arguments passed to `kubectl apply` (after `--`).
    #[arg(last = true, value_name = "KUBECTL_ARGS")]
    pub kubectl_args: Vec<String>,
}

/// Where input comes from and output goes.
#[derive(Debug, Default, Args)]
pub struct IoArgs {
    /// Replace FILE with the result (atomically; the original is untouched on any error).
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// Write the result to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Format of the input: yaml or json (default: from the file name, else from the content).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Format of the output: yaml or json (default: the input's format).
    #[arg(long, value_name = "TYPE")]
    pub output_type: Option<String>,
    /// Use this name to pick the format and the .sops.yaml creation rule (useful with stdin).
    #[arg(long, value_name = "NAME")]
    pub filename_override: Option<PathBuf>,
    /// Indentation of YAML that ksec writes from scratch (the input's own layout is kept).
    #[arg(long, value_name = "N")]
    pub indent: Option<usize>,
}

#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// The file to read; `-` or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub io: IoArgs,
    /// age recipients (age1…, ssh-ed25519 …, ssh-rsa …), comma separated.
    #[arg(short = 'a', long, env = "SOPS_AGE_RECIPIENTS", value_name = "RECIPIENTS")]
    pub age: Option<String>,
    /// OpenPGP recipients, comma separated: fingerprints (encrypted with `gpg` from your
    /// keyring) or paths to armored public key files (encrypted natively, no gpg needed).
    #[arg(short = 'p', long, env = "SOPS_PGP_FP", value_name = "RECIPIENTS")]
    pub pgp: Option<String>,
    /// Encrypt only values under keys matching this regex (e.g. '^(data|stringData)$').
    #[arg(long, value_name = "REGEX")]
    pub encrypted_regex: Option<String>,
    /// Leave values under keys matching this regex in clear.
    #[arg(long, value_name = "REGEX")]
    pub unencrypted_regex: Option<String>,
    /// Encrypt only values under keys ending with this suffix.
    #[arg(long, value_name = "SUFFIX")]
    pub encrypted_suffix: Option<String>,
    /// Leave values under keys ending with this suffix in clear (default: _unencrypted).
    #[arg(long, value_name = "SUFFIX")]
    pub unencrypted_suffix: Option<String>,
    /// Encrypt only values after a comment matching this regex.
    #[arg(long, value_name = "REGEX")]
    pub encrypted_comment_regex: Option<String>,
    /// Leave values after a comment matching this regex in clear.
    #[arg(long, value_name = "REGEX")]
    pub unencrypted_comment_regex: Option<String>,
    /// Compute the MAC over encrypted values only, so unencrypted ones may be edited.
    #[arg(long)]
    pub mac_only_encrypted: bool,
    /// Skip the Kubernetes Secret checks (required keys per type, base64 data, unknown fields,
    /// the 1 MiB limit). Secrets are still never written with a value in clear.
    #[arg(long)]
    pub no_validate: bool,
    /// Key groups needed to rebuild the data key (Shamir threshold).
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
}

#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The file to read; `-` or nothing reads stdin. With several files or directories, the
    /// result is one YAML stream (files in path order; plaintext manifests pass through), ready
    /// for `kubectl apply -f -`.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Read directories recursively (`*.yaml`, `*.yml`, `*.json`).
    #[arg(short = 'R', long)]
    pub recursive: bool,
    #[command(flatten)]
    pub io: IoArgs,
    /// Decrypt even when the file's MAC does not match its content.
    #[arg(long)]
    pub ignore_mac: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// How decryption keys are tried.
#[derive(Debug, Default, Args)]
pub struct KeyArgs {
    /// Order in which key types are tried within a key group, e.g. `pgp,age` (default `age,pgp`).
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "TYPES")]
    pub decryption_order: Option<String>,
}
