//! Every command, flag and environment variable, documented where it is defined. Names follow
//! sops 3.x so sops users feel at home; `completions/` is generated from these definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::formats::Format;

/// Keep Kubernetes Secrets (and any YAML or JSON file) encrypted in Git, in the SOPS format.
///
/// Files ksec writes decrypt with `sops`; files `sops` writes decrypt with ksec.
#[derive(Debug, Parser)]
#[command(
    name = "ksec",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = "sops's command lines (sops -d FILE, sops FILE, …) work too: ksec help sops"
)]
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
    /// Edit an encrypted file in your editor (a new file starts from a template).
    #[command(after_help = EDIT_EXAMPLES)]
    Edit(EditArgs),
    /// Set one value (in place), keeping every other ciphertext as it is.
    #[command(after_help = SET_EXAMPLES)]
    Set(SetArgs),
    /// Remove one key or list item (in place).
    #[command(after_help = UNSET_EXAMPLES)]
    Unset(UnsetArgs),
    /// Run a command with the file's values as environment variables.
    #[command(name = "exec-env", after_help = EXEC_ENV_EXAMPLES)]
    ExecEnv(ExecEnvArgs),
    /// Run a command with `{}` replaced by the path of the decrypted file (a FIFO by default).
    #[command(name = "exec-file", after_help = EXEC_FILE_EXAMPLES)]
    ExecFile(ExecFileArgs),
    /// Print whether a file is encrypted, as sops does: {"encrypted":true}.
    #[command(after_help = FILESTATUS_EXAMPLES)]
    Filestatus(FilestatusArgs),
    /// Print a file decrypted for `git diff` (a textconv driver); files ksec cannot decrypt
    /// are printed as they are.
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// Git merge driver: merge three versions of an encrypted file by their plaintext.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
    /// Print (or write) the Git configuration for `ksec diff` and `ksec merge`.
    #[command(name = "git-setup", after_help = GIT_SETUP_EXAMPLES)]
    GitSetup(GitSetupArgs),
    /// Show where ksec looks for keys and what it found there; with FILE, which of its
    /// recipients this machine can open, and the .sops.yaml rule that applies to it.
    #[command(after_help = DOCTOR_EXAMPLES)]
    Doctor(DoctorArgs),
    /// Print ksec's version (under the name `sops`, the sops version it implements first).
    #[command(after_help = VERSION_EXAMPLES)]
    Version,
    /// Kustomize generator plugin: print the files a KsecGenerator manifest names, decrypted.
    #[command(name = "kustomize-generator", after_help = KUSTOMIZE_EXAMPLES)]
    KustomizeGenerator(KustomizeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(alias = "completions", after_help = COMPLETION_EXAMPLES)]
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

const KUSTOMIZE_EXAMPLES: &str = "Examples:
  # once: install ksec as the plugin kustomize looks for
  dir=${XDG_CONFIG_HOME:-$HOME/.config}/kustomize/plugin/ksec/v1/ksecgenerator
  mkdir -p \"$dir\" && ln -sf \"$(command -v ksec)\" \"$dir/KsecGenerator\"
  # secret-generator.yaml, listed under `generators:` in kustomization.yaml:
  #   apiVersion: ksec/v1
  #   kind: KsecGenerator
  #   metadata: {name: secrets}
  #   files: [db.enc.yaml]
  kubectl kustomize --enable-alpha-plugins k8s/      # or: kustomize build --enable-alpha-plugins
  cd k8s && ksec kustomize-generator secret-generator.yaml   # what the plugin gives kustomize
kustomize runs the plugin in the kustomization's directory; files must be inside it. The
identities are the usual ones (SOPS_AGE_KEY_FILE, …).";

const COMPLETION_EXAMPLES: &str = "Examples:
  ksec completion bash > ~/.local/share/bash-completion/completions/ksec
  ksec completion zsh > \"${fpath[1]}/_ksec\"
  ksec completion fish > ~/.config/fish/completions/ksec.fish
The scripts are also in the repository's completions/ directory, and man pages in man/.";

const VERSION_EXAMPLES: &str = "Examples:
  ksec version                                # ksec 0.2.0
  sops --version                              # through a `sops` link: sops 3.13.2 (ksec 0.2.0)";

const ENCRYPT_EXAMPLES: &str = "Examples:
  kubectl create secret generic db --from-literal=password=hunter2 --dry-run=client -o yaml \\
    | ksec encrypt --age age1... --output db.enc.yaml
  kubectl get secret db -o json | ksec encrypt --strip-server-fields --output db.enc.yaml
  ksec encrypt -i secret.yaml                 # recipients and rules from .sops.yaml
  ksec encrypt --age age1... --output s.enc.json s.json
  VAULT_TOKEN=... ksec encrypt --hc-vault-transit https://vault:8200/v1/transit/keys/app s.yaml
With --output, a YAML or JSON input is written in the format the output's name says.";

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

const EDIT_EXAMPLES: &str = "Examples:
  ksec edit secret.enc.yaml                   # $SOPS_EDITOR, else $EDITOR, else vi
  ksec edit --age age1... new.enc.yaml        # a new file, from a template
  EDITOR='code --wait' ksec edit secret.enc.yaml
Secret `data` values are shown decoded (`--raw` shows them as stored). The plaintext lives in a
private 0700 directory (in memory when the system has one) and is removed on every exit.
Only changed values get new ciphertext. Exits 200 when nothing was changed. During a Git merge
conflict on the file, the editor shows the decrypted versions merged, with conflict markers.";

const SET_EXAMPLES: &str = "Examples:
  ksec set secret.enc.yaml '[\"stringData\"][\"password\"]' '\"hunter2\"'
  printf %s \"$PASSWORD\" | ksec set --value-stdin --base64 secret.enc.yaml '[\"data\"][\"pw\"]'
  ksec set --value-file --base64 app.enc.yaml '[\"data\"][\"keystore.p12\"]' keystore.p12
  ksec set secret.enc.yaml '[\"items\"][0]' '{\"name\": \"a\"}'
The value is JSON; with --base64 it is taken as it is and stored base64-encoded, as a Secret's
`data` holds it. A `data` value given as JSON must be base64 of text (binary data: --base64, or
--no-validate). Values in the process list are visible to other users: prefer --value-stdin or
--value-file for secrets.";

const UNSET_EXAMPLES: &str = "Examples:
  ksec unset secret.enc.yaml '[\"stringData\"][\"old\"]'
  ksec unset --idempotent secret.enc.yaml '[\"stringData\"][\"old\"]'";

const EXEC_ENV_EXAMPLES: &str = "Examples:
  ksec exec-env db.enc.yaml 'psql \"postgres://app:$password@db/app\"'
  ksec exec-env --pristine app.enc.env.yaml ./run.sh
A Kubernetes Secret gives its keys (data decoded, then stringData), as envFrom would; any other
file gives its top-level values. The command's exit code is ksec's.";

const EXEC_FILE_EXAMPLES: &str = "Examples:
  ksec exec-file kubeconfig.enc.yaml 'kubectl --kubeconfig {} get pods'
  ksec exec-file --no-fifo app.enc.json 'node app.js --config {}'
A FIFO can be read once; --no-fifo writes a 0600 file instead, in a private directory that is
removed when the command ends. The command's exit code is ksec's.";

const DIFF_EXAMPLES: &str = "Examples:
  git config diff.ksec.textconv 'ksec diff'   # or: ksec git-setup --write
  echo '*.enc.yaml diff=ksec' >> .gitattributes
Do not set diff.ksec.cachetextconv: Git would store the plaintext in its notes.";

const MERGE_EXAMPLES: &str = "Examples:
  git config merge.ksec.driver 'ksec merge %O %A %B %P'   # or: ksec git-setup --write
  echo '*.enc.yaml merge=ksec' >> .gitattributes
A clean merge is encrypted again with minimal diffs. On a conflict the file keeps our version
and the merge stops; `ksec edit FILE` then shows the merged plaintext with conflict markers.";

const GIT_SETUP_EXAMPLES: &str = "Examples:
  ksec git-setup                              # print what to add
  ksec git-setup --write                      # add it to .gitattributes and .git/config
  ksec git-setup --write --pattern 'secrets/**/*.yaml'";

const ROTATE_EXAMPLES: &str = "Examples:
  ksec rotate -i secret.enc.yaml
  ksec rotate -i --rm-age age1old... --add-age age1new... secret.enc.yaml
  ksec rotate -i --add-hc-vault-transit https://vault:8200/v1/transit/keys/app secret.enc.yaml
Prints the result unless -i or --output is given.";

const UPDATEKEYS_EXAMPLES: &str = "Examples:
  ksec updatekeys secret.enc.yaml             # shows the change and asks
  ksec updatekeys --yes k8s/                  # every encrypted file under k8s/
  ksec updatekeys --dry-run k8s/              # what would change
Values, lastmodified and the MAC stay as they are; only the sops block changes.";

const GROUPS_EXAMPLES: &str = "Examples:
  ksec groups add -f s.enc.yaml --age age1... --shamir-secret-sharing-threshold 2 -i
  ksec groups delete -f s.enc.yaml 1 -i";

const GROUPS_ADD_EXAMPLES: &str = "Examples:
  ksec groups add -f s.enc.yaml --age age1...,age1... -i      # a third team's group
  ksec groups add -f s.enc.yaml --pgp FINGERPRINT --shamir-secret-sharing-threshold 2 -i
Without -i the result is printed. The data key is split again over every group.";

const GROUPS_DELETE_EXAMPLES: &str = "Examples:
  ksec groups delete -f s.enc.yaml 2 -i                       # groups count from 0
  ksec groups delete -f s.enc.yaml 0 --shamir-secret-sharing-threshold 2 -i  # 3 groups to 2
Refuses to leave fewer groups than the Shamir threshold unless a lower one is given.";

const FILESTATUS_EXAMPLES: &str = "Examples:
  ksec filestatus db.enc.yaml                 # {\"encrypted\":true}
  ksec filestatus db.yaml | grep -q '\"encrypted\":false' && echo 'not encrypted'";

const DOCTOR_EXAMPLES: &str = "Examples:
  ksec doctor                                 # where ksec looks for keys, and what it found
  ksec doctor db.enc.yaml                     # ...and which of the file's recipients open here
Shows public keys and fingerprints only, never a private key, a token or the data key.
Exits 0 when FILE can be opened here (without FILE: when an identity was found), 128 when it
cannot (as decrypt does), 35 when no identity was found.";

/// Arguments of `ksec doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// An encrypted file to check against the keys found (its values are not decrypted).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Format of the file: yaml, json, dotenv, ini or binary (default: from the file name).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub input_type: Option<FormatName>,
    #[command(flatten)]
    pub keys: KeyArgs,
}

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
    /// Add Vault transit keys (to the first key group), comma separated URIs.
    #[arg(long, value_name = "URIS")]
    pub add_hc_vault_transit: Option<String>,
    /// Remove Vault transit keys (from every group), comma separated URIs.
    #[arg(long, value_name = "URIS")]
    pub rm_hc_vault_transit: Option<String>,
    /// Add AWS KMS keys (to the first key group), comma separated ARNs.
    #[arg(long, value_name = "ARNS")]
    pub add_kms: Option<String>,
    /// Remove AWS KMS keys (from every group), comma separated ARNs.
    #[arg(long, value_name = "ARNS")]
    pub rm_kms: Option<String>,
    /// AWS profile of the keys --add-kms and --rm-kms name.
    #[arg(long, value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    /// KMS encryption context of the keys --add-kms and --rm-kms name: key:value pairs,
    /// comma separated.
    #[arg(long, value_name = "CONTEXT")]
    pub encryption_context: Option<String>,
    /// Add GCP KMS keys (to the first key group), comma separated resource IDs.
    #[arg(long, value_name = "IDS")]
    pub add_gcp_kms: Option<String>,
    /// Remove GCP KMS keys (from every group), comma separated resource IDs.
    #[arg(long, value_name = "IDS")]
    pub rm_gcp_kms: Option<String>,
    /// Add Azure Key Vault keys (to the first key group), comma separated key URLs.
    #[arg(long, value_name = "URLS")]
    pub add_azure_kv: Option<String>,
    /// Remove Azure Key Vault keys (from every group), comma separated key URLs.
    #[arg(long, value_name = "URLS")]
    pub rm_azure_kv: Option<String>,
    /// Rotate even when the MAC does not match; the new MAC then vouches for the values as
    /// they are.
    #[arg(long)]
    pub ignore_mac: bool,
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
    /// Format of the files: yaml, json, dotenv, ini or binary (default: from the file name).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub input_type: Option<FormatName>,
    /// Key groups needed to rebuild the data key.
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// Change the keys even when the MAC does not match (the values are not read, but a file
    /// whose MAC fails is refused so that new keys never vouch for tampered values).
    #[arg(long)]
    pub ignore_mac: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// `ksec groups …`.
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Add a key group.
    #[command(after_help = GROUPS_ADD_EXAMPLES)]
    Add(GroupsAddArgs),
    /// Delete the key group at INDEX (0-based, as sops counts).
    #[command(after_help = GROUPS_DELETE_EXAMPLES)]
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
    /// Vault transit key URIs of the new group (repeatable, or comma separated).
    #[arg(long, value_name = "URIS")]
    pub hc_vault_transit: Vec<String>,
    /// AWS KMS key ARNs of the new group (repeatable, or comma separated).
    #[arg(long, value_name = "ARNS")]
    pub kms: Vec<String>,
    /// AWS profile of the --kms keys.
    #[arg(long, value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    /// KMS encryption context of the --kms keys: key:value pairs, comma separated.
    #[arg(long, value_name = "CONTEXT")]
    pub encryption_context: Option<String>,
    /// GCP KMS key resource IDs of the new group (repeatable, or comma separated).
    #[arg(long, value_name = "IDS")]
    pub gcp_kms: Vec<String>,
    /// Azure Key Vault key URLs of the new group (repeatable, or comma separated).
    #[arg(long, value_name = "URLS")]
    pub azure_kv: Vec<String>,
    /// Key groups needed to rebuild the data key.
    #[arg(long, value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// Replace the file instead of printing the result.
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// Change the keys even when the MAC does not match (the values are not read, but a file
    /// whose MAC fails is refused so that new keys never vouch for tampered values).
    #[arg(long)]
    pub ignore_mac: bool,
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
    /// Change the keys even when the MAC does not match (the values are not read, but a file
    /// whose MAC fails is refused so that new keys never vouch for tampered values).
    #[arg(long)]
    pub ignore_mac: bool,
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
    /// Format of the input: yaml, json, dotenv, ini or binary (default: from the file name, else from the content).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub input_type: Option<FormatName>,
    /// Format of the output: yaml, json, dotenv, ini or binary (default: the input's format).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub output_type: Option<FormatName>,
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
    #[command(flatten)]
    pub new: NewFileArgs,
    /// Skip the Kubernetes Secret checks (required keys per type, base64 data, unknown fields,
    /// the 1 MiB limit). Secrets are still never written with a value in clear.
    #[arg(long)]
    pub no_validate: bool,
    /// Leave out the fields the API server sets in manifests taken from a live cluster
    /// (`kubectl get -o yaml`): metadata.resourceVersion, uid, creationTimestamp, managedFields,
    /// selfLink and the kubectl last-applied annotation.
    #[arg(long)]
    pub strip_server_fields: bool,
}

/// Who a new file is encrypted for and which values are encrypted (else from .sops.yaml).
#[derive(Debug, Default, Args)]
pub struct NewFileArgs {
    /// age recipients (age1…, ssh-ed25519 …, ssh-rsa …), comma separated.
    #[arg(short = 'a', long, env = "SOPS_AGE_RECIPIENTS", value_name = "RECIPIENTS")]
    pub age: Option<String>,
    /// OpenPGP recipients, comma separated: fingerprints (encrypted with `gpg` from your
    /// keyring) or paths to armored public key files (encrypted natively, no gpg needed).
    #[arg(short = 'p', long, env = "SOPS_PGP_FP", value_name = "RECIPIENTS")]
    pub pgp: Option<String>,
    /// HashiCorp Vault or OpenBao transit keys, comma separated URIs
    /// (https://vault.example.com:8200/v1/transit/keys/NAME). The token is VAULT_TOKEN, else
    /// ~/.vault-token.
    #[arg(long, env = "SOPS_VAULT_URIS", value_name = "URIS")]
    pub hc_vault_transit: Option<String>,
    /// AWS KMS keys, comma separated ARNs (ARN+arn:aws:iam::…:role/… to assume a role).
    #[arg(short = 'k', long, env = "SOPS_KMS_ARN", value_name = "ARNS")]
    pub kms: Option<String>,
    /// AWS profile of the --kms keys.
    #[arg(long, value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    /// KMS encryption context of the --kms keys: key:value pairs, comma separated.
    #[arg(long, value_name = "CONTEXT")]
    pub encryption_context: Option<String>,
    /// GCP KMS keys, comma separated resource IDs
    /// (projects/P/locations/L/keyRings/R/cryptoKeys/K).
    #[arg(long, env = "SOPS_GCP_KMS_IDS", value_name = "IDS")]
    pub gcp_kms: Option<String>,
    /// Azure Key Vault keys, comma separated key URLs
    /// (https://VAULT.vault.azure.net/keys/NAME/VERSION).
    #[arg(long, env = "SOPS_AZURE_KEYVAULT_URLS", value_name = "URLS")]
    pub azure_kv: Option<String>,
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
    /// Print only the value at this path ('["data"]["password"]'): a string raw, without a
    /// line break; a mapping as a document.
    #[arg(long, value_name = "PATH")]
    pub extract: Option<String>,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Arguments of `ksec edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The encrypted file (created when it does not exist).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Show Secret `data` values as stored (base64) instead of decoded.
    #[arg(long)]
    pub raw: bool,
    /// Open the file even when its MAC does not match (the MAC is computed anew on save).
    #[arg(long)]
    pub ignore_mac: bool,
    /// Skip the Kubernetes Secret checks on save (values are still never left in clear).
    #[arg(long)]
    pub no_validate: bool,
    /// Format of the file: yaml, json, dotenv, ini or binary (default: from the file name).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub input_type: Option<FormatName>,
    /// Format of the text in the editor and of the file written: the file's own format (as
    /// sops, a different one is refused: ksec edits a file in place, in its format).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub output_type: Option<FormatName>,
    /// Show the sops metadata below the values (read only: changes to it are refused; use
    /// rotate, updatekeys or groups to change keys).
    #[arg(short = 's', long)]
    pub show_master_keys: bool,
    /// Indentation of YAML that ksec writes from scratch.
    #[arg(long, value_name = "N")]
    pub indent: Option<usize>,
    #[command(flatten)]
    pub new: NewFileArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Arguments of `ksec set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The encrypted file (changed in place).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to set, in sops's syntax: '["data"]["password"]', '["list"][0]'. As with sops,
    /// missing keys and lists are created and an index past the end of a list appends.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// The value, as JSON ('"text"', '5', '{"k": true}'); with --value-file, a file holding it.
    #[arg(
        value_name = "VALUE",
        required_unless_present = "value_stdin",
        conflicts_with = "value_stdin",
        allow_negative_numbers = true
    )]
    pub value: Option<String>,
    /// VALUE is a file to read the JSON value from (keeps it out of the process list).
    #[arg(long, conflicts_with = "value_stdin")]
    pub value_file: bool,
    /// Read the JSON value from stdin (keeps it out of the process list).
    #[arg(long)]
    pub value_stdin: bool,
    /// Take the value as it is (text or bytes, not JSON) and store it base64-encoded: a
    /// Secret's `data` value given as the text `ksec edit` shows.
    #[arg(long)]
    pub base64: bool,
    /// Write nothing when the path already holds this value.
    #[arg(long)]
    pub idempotent: bool,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// Arguments of `ksec unset`.
#[derive(Debug, Args)]
pub struct UnsetArgs {
    /// The encrypted file (changed in place).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// What to remove, in sops's syntax: '["data"]["password"]', '["list"][0]'.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// Succeed without writing when there is nothing at PATH.
    #[arg(long)]
    pub idempotent: bool,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// Options of the commands that change an encrypted file in place (`set`, `unset`).
#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// Change the file even when its MAC does not match.
    #[arg(long)]
    pub ignore_mac: bool,
    /// Skip the Kubernetes Secret checks (values are still never left in clear).
    #[arg(long)]
    pub no_validate: bool,
    /// Format of the file: yaml, json, dotenv, ini or binary (default: from the file name).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub input_type: Option<FormatName>,
    /// Format the file is written in: its own (a different one is refused, as the file is
    /// changed in place).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub output_type: Option<FormatName>,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Arguments of `ksec exec-env`.
#[derive(Debug, Args)]
pub struct ExecEnvArgs {
    /// The encrypted file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The command, run with `sh -c`.
    #[arg(value_name = "COMMAND")]
    pub command: String,
    /// Pass only the file's values, not ksec's own environment.
    #[arg(long)]
    pub pristine: bool,
    /// Replace ksec with the command (exec) instead of running it as a child: signals and the
    /// exit status are the command's own.
    #[arg(long)]
    pub same_process: bool,
    /// Run the command as this user (needs the privilege to switch; sets HOME, USER, LOGNAME).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Run even when the file's MAC does not match.
    #[arg(long)]
    pub ignore_mac: bool,
    /// Format of the file: yaml, json, dotenv, ini or binary (default: from the file name).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub input_type: Option<FormatName>,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Arguments of `ksec exec-file`.
#[derive(Debug, Args)]
pub struct ExecFileArgs {
    /// The encrypted file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The command, run with `sh -c`; `{}` is replaced by the decrypted file's path, quoted
    /// for the shell (write it bare: `cat {}`).
    #[arg(value_name = "COMMAND")]
    pub command: String,
    /// Write a regular 0600 file (readable more than once) instead of a FIFO.
    #[arg(long)]
    pub no_fifo: bool,
    /// Run the command as this user (needs the privilege to switch); the file is made theirs.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Name of the decrypted file (default: the encrypted file's name, with characters a
    /// shell treats specially made `_`).
    #[arg(long, value_name = "NAME")]
    pub filename: Option<String>,
    /// Run even when the file's MAC does not match.
    #[arg(long)]
    pub ignore_mac: bool,
    /// Format of the file: yaml, json, dotenv, ini or binary (default: from the file name).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub input_type: Option<FormatName>,
    /// Format of the decrypted file: yaml, json, dotenv, ini or binary (default: the input's).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub output_type: Option<FormatName>,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Arguments of `ksec filestatus`.
#[derive(Debug, Args)]
pub struct FilestatusArgs {
    /// The file to look at.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Format of the file: yaml, json, dotenv, ini or binary (default: from the file name).
    #[arg(long, value_name = "TYPE", value_enum)]
    pub input_type: Option<FormatName>,
}

/// Arguments of `ksec kustomize-generator`.
#[derive(Debug, Args)]
pub struct KustomizeArgs {
    /// The generator manifest (kustomize passes a copy of it).
    #[arg(value_name = "CONFIG")]
    pub config: PathBuf,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Arguments of `ksec diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The file Git hands over.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Show Secret `data` values as stored (base64) instead of decoded.
    #[arg(long)]
    pub raw: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Arguments of `ksec merge` (Git's `%O %A %B %P`).
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The common ancestor's version (%O).
    #[arg(value_name = "BASE")]
    pub base: PathBuf,
    /// Our version (%A); the result is written here.
    #[arg(value_name = "OURS")]
    pub ours: PathBuf,
    /// Their version (%B).
    #[arg(value_name = "THEIRS")]
    pub theirs: PathBuf,
    /// The file's path in the repository (%P), for its format and for messages.
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Merge Secret `data` values as stored (base64) instead of decoded.
    #[arg(long)]
    pub raw: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Arguments of `ksec git-setup`.
#[derive(Debug, Args)]
pub struct GitSetupArgs {
    /// Add the lines to .gitattributes and the repository's Git config instead of printing them.
    #[arg(long)]
    pub write: bool,
    /// Files the drivers apply to (default: *.enc.yaml, *.enc.yml, *.enc.json).
    #[arg(long, value_name = "GLOB")]
    pub pattern: Vec<String>,
}

/// A file format as `--input-type` and `--output-type` name it (shells complete these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatName {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl From<FormatName> for Format {
    fn from(name: FormatName) -> Format {
        match name {
            FormatName::Yaml => Format::Yaml,
            FormatName::Json => Format::Json,
            FormatName::Dotenv => Format::Dotenv,
            FormatName::Ini => Format::Ini,
            FormatName::Binary => Format::Binary,
        }
    }
}

/// How decryption keys are tried.
#[derive(Debug, Default, Args)]
pub struct KeyArgs {
    /// Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default
    /// `age,pgp`; types not named follow in sops's order: kms, gcp_kms, azure_kv, hc_vault, pgp,
    /// age).
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "TYPES")]
    pub decryption_order: Option<String>,
}
