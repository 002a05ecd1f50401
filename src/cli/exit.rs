//! Exit codes and hints: the one table from every typed error to the code sops exits with for
//! the same failure (research: sops `cmd/sops/codes`), so scripts written for sops keep
//! working, and to what the user can do about it.

use crate::config::ConfigError;
use crate::crypt::CryptError;
use crate::edit::EditError;
use crate::error::{CommandError, Error, SopsArgsError};
use crate::formats::FormatError;
use crate::io::IoError;
use crate::keys::{FailureClass, KeyError, KeyKind, WantedIdentity};
use crate::kube::{self, GeneratorError, KubeError};
use crate::metadata::MetadataError;
use crate::ops::OpsError;
use crate::process::ProcessError;
use crate::rekey::{KeyChange, RekeyError};
use crate::rules::RuleError;
use crate::sops_file::FileError;

pub const GENERIC: i32 = 1;
pub const COULD_NOT_READ_INPUT: i32 = 2;
pub const COULD_NOT_WRITE_OUTPUT: i32 = 3;
pub const ERROR_DUMPING_TREE: i32 = 4;
/// A `--encryption-context` that is not `key:value` pairs.
pub const INVALID_KMS_ENCRYPTION_CONTEXT: i32 = 6;
pub const INVALID_SET_FORMAT: i32 = 7;
pub const CONFLICTING_PARAMETERS: i32 = 8;
pub const ERROR_ENCRYPTING_MAC: i32 = 21;
pub const ERROR_ENCRYPTING_TREE: i32 = 23;
pub const ERROR_DECRYPTING_TREE: i32 = 25;
/// ksec's own: a Kubernetes Secret the API server would refuse.
pub const INVALID_SECRET: i32 = 30;
/// ksec's own: encrypting would leave a Secret value in clear (fail closed).
pub const PLAINTEXT_IN_SECRET: i32 = 31;
/// ksec's own: the encryption rule matches no value at all.
pub const RULE_MATCHES_NOTHING: i32 = 32;
/// ksec's own: `ksec check` found problems.
pub const CHECK_FAILED: i32 = 33;
/// ksec's own: another writer held the file's lock too long, or changed the file first; this
/// command wrote nothing to it. Trying again is safe.
pub const CONCURRENT_WRITER: i32 = 34;
/// ksec's own: `ksec doctor` without a file found no identity anywhere. (A file it finds no
/// key for exits 128, as decrypt does.)
pub const NO_IDENTITY_FOUND: i32 = 35;
pub const MAC_MISMATCH: i32 = 51;
pub const INVALID_TREE_PATH: i32 = 91;
pub const NEED_AT_LEAST_ONE_DOCUMENT: i32 = 92;
pub const NO_FILE_SPECIFIED: i32 = 100;
pub const NO_EDITOR_FOUND: i32 = 201;
pub const FILE_NOT_MODIFIED: i32 = 200;
pub const DUPLICATE_DECRYPTION_KEY_TYPE: i32 = 112;
pub const COULD_NOT_RETRIEVE_KEY: i32 = 128;
pub const FILE_ALREADY_ENCRYPTED: i32 = 203;
/// sops's code for an edit interrupted from the keyboard.
pub const KEYBOARD_INTERRUPT: i32 = 85;

const CONFLICT_HINT: &str = "see `ksec help` for which options go together";
const TREE_PATH_HINT: &str = "write paths like '[\"data\"][\"password\"]' or '[\"items\"][0]'";
const PARSE_HINT: &str = "fix the syntax, or pass --input-type if the format was guessed wrong";
const LIMIT_HINT: &str =
    "no real file needs this much; ksec refuses it to bound its work (see \"Limits\" in the README)";

impl Error {
    /// The process exit code, equal to sops's for the same failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Command(e) => command_code(e),
            Error::TreePath(_) => INVALID_TREE_PATH,
            Error::Rule(e) => rule_code(e),
            Error::Io(e) => io_code(e),
            Error::Format(e) => format_code(e),
            Error::Key(e) => key_code(e),
            Error::Config(e) => config_code(e),
            Error::File(e) => file_code(e),
            Error::Edit(e) => edit_code(e),
            Error::Rekey(e) => rekey_code(e),
            Error::Process(e) => process_code(e),
            Error::Ops(e) => ops_code(e),
            Error::SopsArgs(e) => sops_args_code(e),
            Error::Generator(_) => GENERIC,
        }
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Command(e) => command_hint(e),
            Error::TreePath(_) => Some(TREE_PATH_HINT.into()),
            Error::Rule(e) => rule_hint(e).map(Into::into),
            Error::Io(e) => io_hint(e).map(Into::into),
            Error::Format(e) => format_hint(e).map(Into::into),
            Error::Key(e) => key_hint(e),
            Error::Config(e) => config_hint(e),
            Error::File(e) => file_hint(e),
            Error::Edit(e) => edit_hint(e),
            Error::Rekey(e) => rekey_hint(e),
            Error::Process(e) => process_hint(e).map(Into::into),
            Error::Ops(e) => ops_hint(e),
            Error::SopsArgs(e) => sops_args_hint(e),
            Error::Generator(e) => Some(generator_hint(e).into()),
        }
    }
}

fn command_code(e: &CommandError) -> i32 {
    use CommandError::*;
    match e {
        ConflictingOptions(_) => CONFLICTING_PARAMETERS,
        NothingToApply | FilenameWithDirectories { .. } | NoConfig | EmptyNewGroup => GENERIC,
        // sops reports a missing file here as a generic failure, not as "no file specified".
        NoSuchFile { .. } => GENERIC,
        NoAnswer { .. } | ReadAnswer { .. } | SignalHandlers { .. } | SomeFilesFailed { .. } => GENERIC,
        InvalidLockTimeout { .. } => GENERIC,
        EditNotSaved { .. } => CONCURRENT_WRITER,
        NotText { .. } => COULD_NOT_READ_INPUT,
        FileNotModified { .. } => FILE_NOT_MODIFIED,
        CheckFailed { .. } => CHECK_FAILED,
    }
}

fn command_hint(e: &CommandError) -> Option<String> {
    match e {
        CommandError::ConflictingOptions(_) => Some(CONFLICT_HINT.into()),
        CommandError::InvalidLockTimeout { .. } => {
            Some("set it to the seconds to wait for another writer, e.g. KSEC_LOCK_TIMEOUT=30".into())
        }
        CommandError::EditNotSaved { file, kept } => Some(format!(
            "run `ksec edit {file}` again and make your change there (`ksec decrypt {}` shows it), then delete {}",
            kept.display(),
            kept.display()
        )),
        _ => None,
    }
}

fn sops_args_code(e: &SopsArgsError) -> i32 {
    use SopsArgsError::*;
    match e {
        NoFileSpecified => NO_FILE_SPECIFIED,
        InvalidSetFormat => INVALID_SET_FORMAT,
        SeveralModes { .. } => CONFLICTING_PARAMETERS,
        // sops fails to get the data key from the service: 128 when decrypting; "could not
        // generate data key" is a plain error (1) when encrypting.
        RemoteKeyService { encrypting: false, .. } => COULD_NOT_RETRIEVE_KEY,
        RemoteKeyService { encrypting: true, .. } => GENERIC,
        // urfave's "Incorrect Usage" and everything ksec cannot do: 1.
        UnknownFlag { .. } | MissingValue { .. } | InvalidBool { .. } => GENERIC,
        KeyTypeNotSupported { .. } | CommandNotSupported { .. } | FlagNotSupported { .. } => GENERIC,
        UnknownShell { .. } => GENERIC,
    }
}

fn sops_args_hint(e: &SopsArgsError) -> Option<String> {
    use SopsArgsError::*;
    match e {
        UnknownFlag { .. } | MissingValue { .. } | InvalidBool { .. } | SeveralModes { .. } => {
            Some("`ksec help sops` lists the sops command lines ksec accepts".into())
        }
        NoFileSpecified => Some("name the file after the flags: sops -d FILE".into()),
        InvalidSetFormat => Some(format!("{TREE_PATH_HINT}, then a space and the JSON value")),
        KeyTypeNotSupported { .. } => Some(
            "ksec encrypts for age, OpenPGP, AWS KMS and Vault transit keys (--age, --pgp, --kms, \
             --hc-vault-transit); use sops itself for this file, or leave the variable unset"
                .into(),
        ),
        RemoteKeyService { .. } => {
            Some("drop --keyservice (and SOPS_KEYSERVICE): give ksec the key itself, e.g. SOPS_AGE_KEY_FILE".into())
        }
        CommandNotSupported { .. } | FlagNotSupported { .. } | UnknownShell { .. } => None,
    }
}

fn rule_code(e: &RuleError) -> i32 {
    match e {
        RuleError::InvalidRegex { .. } | RuleError::UnknownRule { .. } => GENERIC,
        RuleError::SeveralRules { .. } => CONFLICTING_PARAMETERS,
    }
}

fn rule_hint(e: &RuleError) -> Option<&'static str> {
    match e {
        RuleError::SeveralRules { .. } => Some(CONFLICT_HINT),
        _ => None,
    }
}

fn io_code(e: &IoError) -> i32 {
    use IoError::*;
    match e {
        InputNotFound { .. } => NO_FILE_SPECIFIED,
        Read { .. } => COULD_NOT_READ_INPUT,
        Write { .. } | Lock { .. } | HardLinked { .. } | NotRegularFile { .. } => COULD_NOT_WRITE_OUTPUT,
        OutputTooLarge { .. } => COULD_NOT_WRITE_OUTPUT,
        NoMemoryBackedDir { .. } => COULD_NOT_WRITE_OUTPUT,
        Locked { .. } | ChangedSinceRead { .. } => CONCURRENT_WRITER,
        TooLarge { .. } => COULD_NOT_READ_INPUT,
        InvalidMaxInputSize { .. } => GENERIC,
    }
}

fn io_hint(e: &IoError) -> Option<&'static str> {
    use IoError::*;
    match e {
        InputNotFound { .. } => Some("check the path, or pass `-` to read stdin"),
        Locked { .. } => Some(
            "run it again once the other command is done (it may be waiting at a passphrase prompt), or wait \
             longer with KSEC_LOCK_TIMEOUT=SECONDS",
        ),
        ChangedSinceRead { .. } => Some("run the command again: it starts from the file as it is now"),
        HardLinked { .. } => Some(
            "give the file a name of its own first (cp -p FILE FILE.new && mv FILE.new FILE), or write the \
             result elsewhere with --output",
        ),
        NotRegularFile { .. } => Some(
            "ksec writes a file by replacing it with a new one: name a regular file (to write to stdout, leave out \
             --output)",
        ),
        NoMemoryBackedDir { .. } => Some(
            "set KSEC_MEMORY_DIRS (or XDG_RUNTIME_DIR) to a directory on tmpfs, or unset KSEC_REQUIRE_TMPFS \
             to allow a disk",
        ),
        TooLarge { .. } => Some(
            "no secrets file needs this much; if this one is meant to be this large, raise the limit with \
             KSEC_MAX_INPUT_SIZE (e.g. KSEC_MAX_INPUT_SIZE=64M)",
        ),
        OutputTooLarge { .. } => Some(
            "nothing was written; to write and later read a file this large, raise the limit with \
             KSEC_MAX_INPUT_SIZE for this command and for every command that reads the file \
             (e.g. KSEC_MAX_INPUT_SIZE=64M)",
        ),
        Read { .. } | Write { .. } | Lock { .. } | InvalidMaxInputSize { .. } => None,
    }
}

fn format_code(e: &FormatError) -> i32 {
    use FormatError::*;
    match e {
        UnknownFormat { .. } => GENERIC,
        NotText { .. } | Syntax { .. } | Unsupported { .. } => COULD_NOT_READ_INPUT,
        TooDeep { .. } | ExcessiveAliasing { .. } => COULD_NOT_READ_INPUT,
        NoDocuments { .. } => NEED_AT_LEAST_ONE_DOCUMENT,
        // sops's reader fails on these files too, as a plain error.
        RepeatedMetadataKey { .. } | MetadataEntry { .. } => GENERIC,
        Unwritable { .. } => ERROR_DUMPING_TREE,
    }
}

fn format_hint(e: &FormatError) -> Option<&'static str> {
    match e {
        FormatError::NotText { .. } | FormatError::Syntax { .. } => Some(PARSE_HINT),
        FormatError::TooDeep { .. } | FormatError::ExcessiveAliasing { .. } => Some(LIMIT_HINT),
        _ => None,
    }
}

fn key_code(e: &KeyError) -> i32 {
    match e {
        // sops reports "Could not generate data key" as a plain error: exit 1, whatever the
        // key (a service that refused included).
        KeyError::InvalidRecipient { .. }
        | KeyError::WrapDataKey { .. }
        | KeyError::IdentitySource { .. }
        | KeyError::Service { .. } => GENERIC,
        KeyError::InvalidEncryptionContext { .. } => INVALID_KMS_ENCRYPTION_CONTEXT,
        KeyError::DuplicateDecryptionKeyType { .. } => DUPLICATE_DECRYPTION_KEY_TYPE,
        KeyError::DataKeyUnavailable { .. } => COULD_NOT_RETRIEVE_KEY,
    }
}

fn key_hint(e: &KeyError) -> Option<String> {
    match e {
        KeyError::IdentitySource { .. } => Some("check the path or command in that variable".into()),
        KeyError::DataKeyUnavailable { wanted, file, .. } => Some(format!(
            "{}\n`ksec doctor {}` shows every place ksec looked for keys and which of the file's recipients \
             this machine can open",
            identity_setup_hint(wanted),
            if file == "stdin" { "FILE" } else { file }
        )),
        KeyError::Service { error, .. } => service_hint(error.kind, error.class),
        KeyError::InvalidEncryptionContext { .. } => Some("write it like --encryption-context app:db,env:prod".into()),
        _ => None,
    }
}

/// What to set up to decrypt a file: first any identity source that was set but unusable,
/// then what the key services' failures call for, then by the key types the file names.
fn identity_setup_hint(wanted: &WantedIdentity) -> String {
    let mut steps = Vec::new();
    if wanted.unusable_source {
        steps.push("fix the identity sources marked UNUSABLE above".to_string());
    }
    if let Some((kind, class)) = most_telling(&wanted.service_failures)
        && let Some(hint) = service_hint(kind, class)
    {
        steps.push(hint);
    }
    let local = match (wanted.age, wanted.pgp) {
        (true, true) => Some(
            "set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY) to an age identity, or import an OpenPGP secret \
             key into gpg (or set SOPS_PGP_KEY_FILE), for one of the keys listed above",
        ),
        (false, true) => Some(
            "import one of the OpenPGP secret keys listed above into gpg (GNUPGHOME), or set \
             SOPS_PGP_KEY_FILE to an armored secret key",
        ),
        (true, false) => {
            Some("set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY) to an identity for one of the recipients listed above")
        }
        (false, false) => None,
    };
    steps.extend(local.map(str::to_string));
    if steps.is_empty() {
        steps.push("the file names no key ksec can use".to_string());
    }
    steps.join("; or ")
}

/// The service failure that says most about what to fix: settings and credentials before
/// the key, the key before the network.
fn most_telling(failures: &[(KeyKind, FailureClass)]) -> Option<(KeyKind, FailureClass)> {
    use FailureClass::*;
    let rank = |class: FailureClass| match class {
        Settings => 0,
        NoCredentials => 1,
        InvalidCredentials => 2,
        AccessDenied => 3,
        KeyDisabled | KeyNotFound => 4,
        Tls => 5,
        Timeout | Unreachable => 6,
        WrongCiphertext => 7,
        ServiceFailed | Rejected | BadResponse => 8,
    };
    failures.iter().copied().min_by_key(|(_, class)| rank(*class))
}

/// What to do about a key service that failed.
fn service_hint(kind: KeyKind, class: FailureClass) -> Option<String> {
    use FailureClass::*;
    let vault = kind == KeyKind::HcVault;
    let kms = kind == KeyKind::Kms;
    let gcp = kind == KeyKind::GcpKms;
    let azure = kind == KeyKind::AzureKv;
    let hint = match class {
        NoCredentials if kms => {
            "give ksec AWS credentials as for the aws CLI: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a \
             profile (AWS_PROFILE, ~/.aws/credentials, `aws sso login`), or a role for the machine"
        }
        InvalidCredentials if kms => {
            "the AWS credentials are expired or unknown to AWS: refresh them (`aws sso login`, a new session \
             token) or check which profile is used (AWS_PROFILE, the key's aws_profile)"
        }
        AccessDenied if kms => {
            "the AWS identity named above needs kms:Encrypt and kms:Decrypt on the key (its key policy or an \
             IAM policy), and sts:AssumeRole for the key's role if it has one"
        }
        WrongCiphertext if kms => {
            "KMS refused this entry: its encryption context (`context`) must be the one it was encrypted with, \
             and its ARN the key that made it; restore the file from Git if it was edited"
        }
        Tls if kms => {
            "set AWS_CA_BUNDLE to the certificate of the authority that signed the endpoint's certificate (a \
             proxy or a private endpoint), as for the aws CLI"
        }
        Unreachable | Timeout if kms => {
            "check that this machine reaches AWS KMS in the key's region (network, VPN, HTTPS_PROXY and \
             NO_PROXY, AWS_ENDPOINT_URL_KMS), or raise KSEC_KEY_SERVICE_TIMEOUT (seconds) if it is only slow"
        }
        NoCredentials if vault => {
            "set VAULT_TOKEN, or log in with `vault login` (or `bao login`), which writes ~/.vault-token"
        }
        InvalidCredentials if vault => {
            "the Vault token is expired, revoked or unknown to this Vault: log in again (`vault login`) or \
             set VAULT_TOKEN to a valid token (and VAULT_NAMESPACE, if the key lives in a namespace)"
        }
        AccessDenied if vault => {
            "the token's policy must allow `update` on the key's transit paths (ENGINE/encrypt/KEY and \
             ENGINE/decrypt/KEY); check VAULT_NAMESPACE too"
        }
        Tls if vault => {
            "set VAULT_CACERT to the certificate of the authority that signed the Vault server's certificate"
        }
        NoCredentials if gcp => {
            "set GOOGLE_APPLICATION_CREDENTIALS to a credentials file, run `gcloud auth application-default login`, \
             or set GOOGLE_OAUTH_ACCESS_TOKEN"
        }
        InvalidCredentials if gcp => {
            "Google refused the credentials (expired, revoked or deleted): run `gcloud auth application-default \
             login` again, or renew the key, token or federation they come from"
        }
        AccessDenied if gcp => {
            "the caller needs cloudkms.cryptoKeyVersions.useToEncrypt and useToDecrypt on the key (the Cloud KMS \
             CryptoKey Encrypter/Decrypter role)"
        }
        Unreachable if gcp => {
            "check that this machine reaches Cloud KMS (SOPS_GCP_KMS_ENDPOINT, when set): network, VPN, proxy \
             (HTTPS_PROXY, NO_PROXY)"
        }
        NoCredentials if azure => {
            "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE), give \
             the machine a managed identity, or run `az login`"
        }
        InvalidCredentials if azure => {
            "Azure refused the credentials or the token (a wrong or expired secret, certificate or federated \
             token): renew them, or run `az login` again"
        }
        AccessDenied if azure => {
            "the identity needs the encrypt and decrypt key permissions (and get, for a key named without a \
             version), as the Key Vault Crypto User role gives"
        }
        NoCredentials | InvalidCredentials | AccessDenied => "check the credentials ksec uses for this service",
        KeyDisabled => {
            "the key may not be used now (disabled, soft-deleted, or its version retired): restore it, or open \
             the file with another of its keys"
        }
        KeyNotFound => {
            "the key (or the engine it lives in) no longer exists: restore it, or open the file with another of its keys"
        }
        WrongCiphertext => "the file's entry for this key was not made by it, or was edited; restore the file from Git",
        Unreachable => {
            "check that this machine reaches the address in the file (the file names its service; VAULT_ADDR \
             does not change it): network, VPN, proxy (HTTPS_PROXY, NO_PROXY)"
        }
        Timeout => {
            "the service did not answer in time: check the network, or raise KSEC_KEY_SERVICE_TIMEOUT (seconds) if it is only slow"
        }
        ServiceFailed => "the service failed on its side (sealed, overloaded, down): try again later",
        Settings => "fix the setting named above",
        Tls | Rejected | BadResponse => return None,
    };
    Some(hint.to_string())
}

fn config_code(e: &ConfigError) -> i32 {
    match e {
        ConfigError::Key(e) => key_code(e),
        _ => GENERIC,
    }
}

fn config_hint(e: &ConfigError) -> Option<String> {
    match e {
        ConfigError::NoMatchingCreationRule { .. } => Some(
            "add a rule whose path_regex matches (.sops.yaml is read even when recipients are \
             given, as sops reads it), or name another file with --config"
                .into(),
        ),
        ConfigError::Key(e) => key_hint(e),
        _ => None,
    }
}

fn metadata_code(e: &MetadataError) -> i32 {
    match e {
        MetadataError::Invalid { .. } => GENERIC,
        MetadataError::Rule(e) => rule_code(e),
    }
}

fn metadata_hint(e: &MetadataError) -> Option<&'static str> {
    match e {
        MetadataError::Invalid { .. } => None,
        MetadataError::Rule(e) => rule_hint(e),
    }
}

fn crypt_code(e: &CryptError) -> i32 {
    match e {
        CryptError::EncryptValue { .. } => ERROR_ENCRYPTING_TREE,
        CryptError::DecryptValue { .. } => ERROR_DECRYPTING_TREE,
        CryptError::MacUnreadable { .. } => MAC_MISMATCH,
        CryptError::MacEncrypt { .. } => ERROR_ENCRYPTING_MAC,
    }
}

fn crypt_hint(e: &CryptError) -> Option<&'static str> {
    match e {
        CryptError::DecryptValue { .. } => {
            Some("the value or its key was edited after encryption, or the file is damaged")
        }
        CryptError::MacUnreadable { .. } => Some(
            "the `lastmodified` or `mac` field was edited; restore it from Git, or pass --ignore-mac if you \
             trust its values as they are",
        ),
        _ => None,
    }
}

fn kube_code(e: &KubeError) -> i32 {
    match e {
        KubeError::InvalidSecret { .. } | KubeError::UnencodableData { .. } => INVALID_SECRET,
        KubeError::ValueInClear { .. } => PLAINTEXT_IN_SECRET,
    }
}

fn kube_hint(e: &KubeError) -> String {
    match e {
        KubeError::InvalidSecret { .. } | KubeError::UnencodableData { .. } => {
            "fix the manifest, or pass --no-validate to encrypt it as it is".into()
        }
        KubeError::ValueInClear { findings, .. } => leak_hint(findings),
    }
}

/// What seals the values `plaintext_in_secrets` found: a rule covering `data` and
/// `stringData`, a field named as Kubernetes names it, or no last-applied copy.
fn leak_hint(leaks: &[kube::Finding]) -> String {
    let last_applied = format!("metadata.annotations.{}", kube::LAST_APPLIED);
    let mut hints = Vec::new();
    if leaks.iter().any(|f| f.field == last_applied) {
        hints.push(format!(
            "drop the {0} annotation (`ksec encrypt --strip-server-fields` does; or leave out \
             --save-config), or use a rule that covers it too, e.g. \
             --encrypted-regex '^(data|stringData|kubectl\\.kubernetes\\.io/last-applied-configuration)$'",
            kube::LAST_APPLIED
        ));
    }
    let fields: Vec<&str> = leaks
        .iter()
        .filter(|f| f.field != last_applied)
        .map(|f| f.field.split(['.', '[']).next().unwrap_or_default())
        .collect();
    if fields.iter().any(|f| !["data", "stringData"].contains(f)) {
        hints.push(
            "a Secret holds its values under data and stringData only: fix the field's name \
             (Kubernetes refuses unknown fields)"
                .to_string(),
        );
    }
    if fields.iter().any(|f| ["data", "stringData"].contains(f)) {
        hints.push(
            "use a rule that covers data and stringData, e.g. --encrypted-regex '^(data|stringData)$'".to_string(),
        );
    }
    hints.join("; ")
}

fn file_code(e: &FileError) -> i32 {
    use FileError::*;
    match e {
        MetadataNotFound { .. } => GENERIC,
        AlreadyEncrypted(_) => FILE_ALREADY_ENCRYPTED,
        // A file to decrypt that does not read: sops exits 1 here (2 is for plaintext input).
        Unreadable(_) => GENERIC,
        Format(e) => format_code(e),
        Metadata(e) => metadata_code(e),
        Key(e) => key_code(e),
        Crypt(e) => crypt_code(e),
        Kube(e) => kube_code(e),
        MacMismatch { .. } => MAC_MISMATCH,
        RuleMatchesNothing { .. } => RULE_MATCHES_NOTHING,
        OutputUnreadable { .. } => ERROR_DUMPING_TREE,
    }
}

fn file_hint(e: &FileError) -> Option<String> {
    use FileError::*;
    match e {
        MetadataNotFound { .. } => {
            Some("encrypt it with `ksec encrypt`, or pass --input-type if the format was guessed wrong".into())
        }
        AlreadyEncrypted(e) => Some(already_encrypted_hint(&e.file)),
        Unreadable(e) | Format(e) => format_hint(e).map(Into::into),
        Metadata(e) => metadata_hint(e).map(Into::into),
        Key(e) => key_hint(e),
        Crypt(e) => crypt_hint(e).map(Into::into),
        Kube(e) => Some(kube_hint(e)),
        MacMismatch { .. } => Some(
            "the file was changed after it was encrypted; restore it from Git, \
             or pass --ignore-mac if you trust its values as they are"
                .into(),
        ),
        RuleMatchesNothing { .. } => Some("check the rule's key names (regexes are case-sensitive)".into()),
        OutputUnreadable { .. } => None,
    }
}

fn generator_hint(e: &GeneratorError) -> &'static str {
    match e {
        GeneratorError::NotAGenerator { .. } | GeneratorError::NoFiles { .. } => {
            "a generator manifest is `apiVersion: ksec/v1`, `kind: KsecGenerator` and `files:` \
             listing encrypted files (see `ksec help kustomize-generator`)"
        }
        GeneratorError::OutsideRoot { .. } => {
            "keep the encrypted files in the kustomization's directory or below it, and name them \
             by relative paths"
        }
    }
}

/// What to do with a file that is encrypted already, without its plaintext touching the disk.
fn already_encrypted_hint(file: &str) -> String {
    let file = if file == "stdin" { "FILE" } else { file };
    format!(
        "change its values with `ksec edit {file}` (or `ksec set`), its recipients with \
         `ksec rotate -i --add-age age1… {file}` (or `ksec updatekeys` after changing .sops.yaml)"
    )
}

fn edit_code(e: &EditError) -> i32 {
    use EditError::*;
    match e {
        PathNotFound { .. } | MetadataPath | MergeMetadata { .. } => GENERIC,
        InvalidValue(_) | InvalidPath(_) | Base64InStringData { .. } => INVALID_SET_FORMAT,
        ClearTextInData { .. } => INVALID_SECRET,
        // Like a parse error: the edited text is not yet a file.
        UnresolvedConflict { .. } => COULD_NOT_READ_INPUT,
        SideNotText { .. } => ERROR_DUMPING_TREE,
        File(e) => file_code(e),
        Format(e) => format_code(e),
        Kube(e) => kube_code(e),
    }
}

fn edit_hint(e: &EditError) -> Option<String> {
    use EditError::*;
    match e {
        PathNotFound { .. } => {
            Some("check the key names (they are case-sensitive); `unset --idempotent` accepts a missing key".into())
        }
        InvalidValue(_) => Some("values are JSON: quote strings, e.g. '\"s3cret\"'".into()),
        InvalidPath(_) => Some(TREE_PATH_HINT.into()),
        ClearTextInData { .. } => Some(
            "data values are base64: give the clear text with --base64 (ksec encodes it) or set \
             it under stringData; base64 of binary data needs --no-validate"
                .into(),
        ),
        Base64InStringData { .. } => Some("drop --base64, or set the key under data".into()),
        UnresolvedConflict { .. } => Some(
            "keep one version of each conflicting part and delete the \
             <<<<<<<, |||||||, ======= and >>>>>>> lines"
                .into(),
        ),
        MergeMetadata { .. } => Some(
            "take one side's file (git checkout --ours FILE), apply the other side's \
             value changes with ksec edit, then ksec updatekeys or rotate"
                .into(),
        ),
        MetadataPath | SideNotText { .. } => None,
        File(e) => file_hint(e),
        Format(e) => format_hint(e).map(Into::into),
        Kube(e) => Some(kube_hint(e)),
    }
}

fn rekey_code(e: &RekeyError) -> i32 {
    match e {
        RekeyError::Key(e) => key_code(e),
        RekeyError::File(e) => file_code(e),
        _ => GENERIC,
    }
}

fn rekey_hint(e: &RekeyError) -> Option<String> {
    use RekeyError::*;
    match e {
        NoRecipientsLeft { change, .. } => Some(
            match change {
                KeyChange::Rotate => {
                    "a file keeps at least one recipient: add one with --add-age or --add-pgp in the same command"
                }
                KeyChange::UpdateKeys => "give the file's creation rule in .sops.yaml at least one key",
                KeyChange::Groups => "a file keeps at least one key group: add another with `ksec groups add` first",
            }
            .into(),
        ),
        EmptyKeyGroup { file, groups } => Some(format!(
            "to drop a group, delete it first with `ksec groups delete -i -f {file} {}` (which checks the \
             Shamir threshold), then rotate",
            groups.first().copied().unwrap_or_default()
        )),
        ThresholdUnreachable { groups, .. } => Some(format!(
            "pass --shamir-secret-sharing-threshold N with N at most {groups}, or keep the group"
        )),
        ForeignKeys { .. } | NotAFingerprint { .. } | NoSuchGroup { .. } => None,
        Key(e) => key_hint(e),
        File(e) => file_hint(e),
    }
}

fn process_code(e: &ProcessError) -> i32 {
    use ProcessError::*;
    match e {
        EditorUnsplittable { .. } | EditorNotRun { .. } | EditorFailed { .. } => NO_EDITOR_FOUND,
        Interrupted { signal } => super::signals::exit_code_for(*signal),
        RunCommand { .. } | Unquotable { .. } => GENERIC,
        UnknownUser { .. } | UserDatabase { .. } | GiveToUser { .. } => GENERIC,
        Run { .. } | KubectlNotRun { .. } | Wait { .. } | GitFailed { .. } => GENERIC,
        Io(e) => io_code(e),
    }
}

fn process_hint(e: &ProcessError) -> Option<&'static str> {
    match e {
        ProcessError::EditorUnsplittable { .. } | ProcessError::EditorNotRun { .. } => {
            Some("set SOPS_EDITOR or EDITOR to an editor command")
        }
        ProcessError::KubectlNotRun { .. } => Some(
            "install kubectl, or set KSEC_KUBECTL to the kubectl to run (a path, or another \
             name on PATH such as `oc`)",
        ),
        ProcessError::Io(e) => io_hint(e),
        _ => None,
    }
}

fn ops_code(e: &OpsError) -> i32 {
    use OpsError::*;
    match e {
        NoRecipients { .. } | UnusableVariable { .. } => GENERIC,
        // The input cannot be read as anything: the code sops gives input it cannot parse.
        UnknownInputType { .. } => COULD_NOT_READ_INPUT,
        DecryptedOutput { .. } => ERROR_DUMPING_TREE,
        Io(e) => io_code(e),
        Format(e) => format_code(e),
        Rule(e) => rule_code(e),
        Key(e) => key_code(e),
        File(e) => file_code(e),
        Edit(e) => edit_code(e),
    }
}

fn ops_hint(e: &OpsError) -> Option<String> {
    use OpsError::*;
    match e {
        NoRecipients { .. } => Some(
            "pass --age RECIPIENT (or --pgp), set SOPS_AGE_RECIPIENTS, or add a creation rule to .sops.yaml".into(),
        ),
        UnknownInputType { .. } => Some(
            "pass --input-type binary to encrypt it whole, or --filename-override NAME \
             to type it (and pick its creation rule) by name"
                .into(),
        ),
        UnusableVariable { .. } | DecryptedOutput { .. } => None,
        Io(e) => io_hint(e).map(Into::into),
        Format(e) => format_hint(e).map(Into::into),
        Rule(e) => rule_hint(e).map(Into::into),
        Key(e) => key_hint(e),
        File(e) => file_hint(e),
        Edit(e) => edit_hint(e),
    }
}
