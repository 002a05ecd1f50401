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
}
