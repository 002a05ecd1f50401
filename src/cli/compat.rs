//! sops's command line, recognised and mapped onto ksec's own commands, so that tools which run
//! `sops` (helm-secrets, community.sops, editor plugins, git textconv) can run ksec instead.
//!
//! sops 3.13 parses with urfave/cli v1 over Go's `flag` package, and these are its rules, which
//! this module mirrors: `-x` and `--x` are the same flag; values come as `--x=v` or `--x v`;
//! booleans take a value only after `=` (`--enable-local-keyservice=false`); a repeated flag
//! keeps its last value (`--config /dev/null --config X`); and at the top level parsing stops
//! at the first word that is not a flag. That word is a subcommand when it names one, else the
//! file of the legacy form: `-d` decrypts it, `-e` encrypts, `-r` rotates, `--set` sets a value,
//! and with none of them it is edited.
//!
//! Nothing here decrypts or encrypts: the result is an argument list for ksec's typed parser
//! (`args`), so every command keeps one implementation whichever way it was spelled. A flag
//! that changes nothing for ksec is dropped; one ksec cannot honour is refused with sops's exit
//! code ([`SopsArgsError`]); one that does not matter in the chosen mode is ignored, as sops
//! ignores it.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use crate::error::SopsArgsError;

/// The sops release whose command line and behaviour ksec implements, as `--version` reports
/// it under the name `sops` (community.sops needs 3.9.0 or later for its modern code paths).
pub const SOPS_VERSION: &str = "3.13.2";

/// The name the program was started under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramName {
    Ksec,
    /// A `sops` symlink (or copy): answer as sops does, quietly on success.
    Sops,
}

impl ProgramName {
    /// The name from `argv[0]`'s file name.
    pub fn from_arg0(arg0: Option<&OsStr>) -> ProgramName {
        let stem = arg0
            .and_then(|a| Path::new(a).file_stem())
            .map(|s| s.to_string_lossy().into_owned());
        match stem.as_deref() {
            Some("sops") => ProgramName::Sops,
            _ => ProgramName::Ksec,
        }
    }
}

/// The line `--version` prints: under the name `sops`, the sops version first, which
/// community.sops matches with `^sops ([0-9]+)\.([0-9]+)\.([0-9]+)`.
pub fn version_line(name: ProgramName) -> String {
    let ksec = env!("CARGO_PKG_VERSION");
    match name {
        ProgramName::Sops => format!("sops {SOPS_VERSION} (ksec {ksec})\n"),
        ProgramName::Ksec => format!("ksec {ksec}\n"),
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Translation {
    /// Run ksec with these arguments (after `argv[0]`).
    Run(Vec<OsString>),
    /// Print the version line.
    Version,
    /// Print the completion script for this shell, for the program's name.
    Completion(clap_complete::Shell),
    /// Print this text on stdout.
    Print(String),
}

/// The subcommands of sops 3.13, in its order. Under the name `sops` only these are commands:
/// any other first word is a file to edit, as with sops (`sops version` edits ./version).
const SOPS_COMMANDS: &[&str] = &[
    "completion",
    "exec-env",
    "exec-file",
    "publish",
    "keyservice",
    "filestatus",
    "groups",
    "updatekeys",
    "decrypt",
    "encrypt",
    "rotate",
    "edit",
    "set",
    "unset",
    "help",
    "h",
];

/// ksec's own subcommands (besides those it shares with sops).
const KSEC_COMMANDS: &[&str] = &[
    "apply",
    "check",
    "diff",
    "merge",
    "git-setup",
    "kustomize-generator",
    "completions",
    "version",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Value,
}

/// One flag sops knows: its long name, its one-letter name, and whether it takes a value.
struct Flag {
    name: &'static str,
    short: Option<&'static str>,
    kind: Kind,
}

const fn bool_flag(name: &'static str, short: Option<&'static str>) -> Flag {
    Flag {
        name,
        short,
        kind: Kind::Bool,
    }
}

const fn value_flag(name: &'static str, short: Option<&'static str>) -> Flag {
    Flag {
        name,
        short,
        kind: Kind::Value,
    }
}

/// Every flag of sops 3.13 (`cmd/sops/main.go`): the global ones (`app.Flags` and the key
/// service flags) and those only subcommands define. One-letter names differ by place: at the
/// top level `-d`, `-e`, `-r` are modes; in subcommands `-y` and `-f` exist instead.
const FLAGS: &[Flag] = &[
    bool_flag("decrypt", Some("d")),
    bool_flag("encrypt", Some("e")),
    bool_flag("rotate", Some("r")),
    bool_flag("disable-version-check", None),
    bool_flag("check-for-updates", None),
    value_flag("kms", Some("k")),
    value_flag("aws-profile", None),
    value_flag("gcp-kms", None),
    value_flag("hckms", None),
    value_flag("azure-kv", None),
    value_flag("hc-vault-transit", None),
    value_flag("pgp", Some("p")),
    value_flag("age", Some("a")),
    bool_flag("in-place", Some("i")),
    value_flag("extract", None),
    value_flag("input-type", None),
    value_flag("output-type", None),
    bool_flag("show-master-keys", Some("s")),
    value_flag("add-gcp-kms", None),
    value_flag("rm-gcp-kms", None),
    value_flag("add-hckms", None),
    value_flag("rm-hckms", None),
    value_flag("add-azure-kv", None),
    value_flag("rm-azure-kv", None),
    value_flag("add-kms", None),
    value_flag("rm-kms", None),
    value_flag("add-hc-vault-transit", None),
    value_flag("rm-hc-vault-transit", None),
    value_flag("add-age", None),
    value_flag("rm-age", None),
    value_flag("add-pgp", None),
    value_flag("rm-pgp", None),
    bool_flag("ignore-mac", None),
    bool_flag("mac-only-encrypted", None),
    value_flag("unencrypted-suffix", None),
    value_flag("encrypted-suffix", None),
    value_flag("unencrypted-regex", None),
    value_flag("encrypted-regex", None),
    value_flag("unencrypted-comment-regex", None),
    value_flag("encrypted-comment-regex", None),
    value_flag("config", None),
    value_flag("encryption-context", None),
    value_flag("set", None),
    value_flag("shamir-secret-sharing-threshold", None),
    value_flag("indent", None),
    bool_flag("verbose", None),
    value_flag("output", None),
    value_flag("filename-override", None),
    value_flag("decryption-order", None),
    bool_flag("enable-local-keyservice", None),
    value_flag("keyservice", None),
    bool_flag("help", Some("h")),
    bool_flag("version", Some("v")),
    bool_flag("generate-bash-completion", None),
    // Only on subcommands.
    bool_flag("pristine", None),
    bool_flag("same-process", None),
    value_flag("user", None),
    bool_flag("background", None),
    bool_flag("no-fifo", None),
    value_flag("filename", None),
    bool_flag("yes", Some("y")),
    value_flag("file", Some("f")),
    bool_flag("value-file", None),
    bool_flag("value-stdin", None),
    bool_flag("idempotent", None),
];

/// One-letter names that exist at the top level, and in subcommands.
const TOP_LEVEL_SHORTS: &[&str] = &["d", "e", "r", "k", "p", "a", "i", "s", "h", "v"];
const SUBCOMMAND_SHORTS: &[&str] = &["k", "p", "a", "i", "s", "h", "y", "f"];

/// Key types sops has and ksec's commands have no flags for: the stem of their flags (`--X`,
/// `--add-X`, `--rm-X`), the variable sops reads for `--X`, and the type's name for messages.
///
/// The other key types' flags (`--hc-vault-transit`, `--kms`, `--gcp-kms`, `--azure-kv`, their
/// `--add-`/`--rm-` forms) pass on to ksec's commands, which read their variables too
/// (`SOPS_VAULT_URIS`, …). ksec uses Vault keys; it names and keeps the KMS and Key Vault keys
/// but refuses to encrypt for them (exit 1) and reports them when no key opens a file (exit
/// 128), which is what sops answers when such a key does not work.
const UNSUPPORTED_KEY_TYPES: &[(&str, &str, &str)] = &[("hckms", "SOPS_HUAWEICLOUD_KMS_IDS", "HuaweiCloud KMS")];

/// A flag as given: which one, its value (`"true"`/`"false"` for a boolean), and how it was
/// spelled, for messages.
#[derive(Debug, Clone)]
struct Given {
    name: &'static str,
    value: String,
    spelled: String,
}

impl Given {
    fn is_true(&self) -> bool {
        self.value == "true"
    }
}

/// A token of a subcommand's arguments: a sops flag understood, or anything else, passed on.
enum Token {
    Flag(Given),
    Raw(OsString),
}

/// What the environment says, read once so tests can make it up.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
    fn path_exists(&self, path: &Path) -> bool;
}

/// The real process environment.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }

    fn path_exists(&self, path: &Path) -> bool {
        path.exists()
    }
}

/// Maps a command line (after `argv[0]`) onto ksec's. `Ok(None)`: it is ksec's own command
/// line, for ksec's parser as it is.
pub fn translate(
    args: &[OsString],
    name: ProgramName,
    env: &dyn Environment,
) -> Result<Option<Translation>, SopsArgsError> {
    if let [help, topic] = args
        && help == "help"
        && topic == "sops"
    {
        return Ok(Some(Translation::Print(SOPS_HELP.to_string())));
    }
    let (globals, rest) = match parse_top_level(args) {
        // Under its own name an unknown flag (`-V`) is ksec's parser's to answer, with its
        // suggestions.
        Err(SopsArgsError::UnknownFlag { .. }) if name == ProgramName::Ksec => return Ok(None),
        parsed => parsed?,
    };
    let last = |flag: &str| globals.iter().rev().find(|g| g.name == flag);
    let is_set = |flag: &str| last(flag).is_some_and(Given::is_true);
    if is_set("version") {
        return Ok(Some(Translation::Version));
    }
    if is_set("generate-bash-completion") {
        return Ok(Some(Translation::Print(format!("{}\n", SOPS_COMMANDS.join("\n")))));
    }
    let first = rest.first().map(|a| a.to_string_lossy().into_owned());
    let is_command = |word: &str| match name {
        ProgramName::Sops => SOPS_COMMANDS.contains(&word),
        ProgramName::Ksec => SOPS_COMMANDS.contains(&word) || KSEC_COMMANDS.contains(&word),
    };
    if is_set("help") {
        let mut run = vec![OsString::from("--help")];
        if let Some(word) = first.as_deref().filter(|w| is_command(w)) {
            run = vec![OsString::from("help"), OsString::from(word)];
        }
        return Ok(Some(Translation::Run(run)));
    }
    match first.as_deref() {
        Some(word) if is_command(word) => subcommand(word, &globals, &rest[1..], name, env).map(Some),
        // ksec's name: a word that names no file is a mistyped command, for clap to report
        // with a suggestion, rather than a new file to edit.
        Some(word)
            if name == ProgramName::Ksec
                && globals.iter().all(|g| g.name == "config")
                && !env.path_exists(Path::new(word))
                && !word.contains(['.', '/']) =>
        {
            Ok(None)
        }
        None if name == ProgramName::Ksec && globals.iter().all(|g| g.name == "config") => Ok(None),
        _ => legacy(&globals, &rest, name, env).map(|args| Some(Translation::Run(args))),
    }
}

/// Reads flags up to the first word that is not one (Go's `flag` rules); returns them and
/// the words from there on.
fn parse_top_level(args: &[OsString]) -> Result<(Vec<Given>, Vec<OsString>), SopsArgsError> {
    let mut given = Vec::new();
    let mut index = 0;
    while let Some(arg) = args.get(index) {
        let text = arg.to_string_lossy();
        if text == "--" {
            index += 1;
            break;
        }
        let Some((flag_name, inline)) = split_flag(&text) else {
            break;
        };
        let flag = lookup(flag_name, TOP_LEVEL_SHORTS).ok_or_else(|| SopsArgsError::UnknownFlag {
            flag: format!("-{flag_name}"),
        })?;
        let (value, used) = flag_value(flag, &text, inline, args.get(index + 1))?;
        given.push(Given {
            name: flag.name,
            value,
            spelled: text.into_owned(),
        });
        index += 1 + used;
    }
    Ok((given, args[index.min(args.len())..].to_vec()))
}

/// `-name`, `--name` or `--name=value`: the name and the inline value. `None` for a word that
/// is not a flag (`-` alone is a word, as in Go).
fn split_flag(text: &str) -> Option<(&str, Option<&str>)> {
    let body = text.strip_prefix("--").or_else(|| text.strip_prefix('-'))?;
    if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
        return None;
    }
    Some(match body.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (body, None),
    })
}

fn lookup(name: &str, shorts: &[&str]) -> Option<&'static Flag> {
    FLAGS
        .iter()
        .find(|f| f.name == name || (f.short == Some(name) && shorts.contains(&name)))
}

/// The flag's value and how many following words it used.
fn flag_value(
    flag: &Flag,
    spelled: &str,
    inline: Option<&str>,
    next: Option<&OsString>,
) -> Result<(String, usize), SopsArgsError> {
    match (flag.kind, inline) {
        (Kind::Bool, None) => Ok(("true".into(), 0)),
        (Kind::Bool, Some(text)) => {
            parse_go_bool(text)
                .map(|b| (b.to_string(), 0))
                .ok_or_else(|| SopsArgsError::InvalidBool {
                    flag: spelled.split('=').next().unwrap_or(spelled).to_string(),
                    value: text.to_string(),
                })
        }
        (Kind::Value, Some(text)) => Ok((text.to_string(), 0)),
        (Kind::Value, None) => match next {
            Some(value) => Ok((value.to_string_lossy().into_owned(), 1)),
            None => Err(SopsArgsError::MissingValue {
                flag: spelled.to_string(),
            }),
        },
    }
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The ksec command a sops mode or subcommand maps to, as far as flags care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Decrypt,
    Encrypt,
    Rotate,
    Set,
    Unset,
    Edit,
    ExecEnv,
    ExecFile,
    Filestatus,
    Updatekeys,
    GroupsAdd,
    GroupsDelete,
    /// A command of ksec's own, or `groups` without its action yet: flags pass as they are.
    Other,
}

impl Mode {
    /// Whether the command makes a data key and wraps it (a remote key service would be asked
    /// to encrypt, and sops's failure there exits 1, not 128).
    fn encrypts(self) -> bool {
        matches!(self, Mode::Encrypt)
    }

    /// Whether ksec's command takes keys, and so what KMS keys are used with
    /// (`--aws-profile`, `--encryption-context`).
    fn names_keys(self) -> bool {
        matches!(self, Mode::Encrypt | Mode::Edit | Mode::Rotate | Mode::GroupsAdd)
    }
}

/// The sops subcommand form: `[global flags] COMMAND [flags] ARGS`.
fn subcommand(
    word: &str,
    globals: &[Given],
    rest: &[OsString],
    name: ProgramName,
    env: &dyn Environment,
) -> Result<Translation, SopsArgsError> {
    let mode = match word {
        "decrypt" => Mode::Decrypt,
        "encrypt" => Mode::Encrypt,
        "rotate" => Mode::Rotate,
        "set" => Mode::Set,
        "unset" => Mode::Unset,
        "edit" => Mode::Edit,
        "exec-env" => Mode::ExecEnv,
        "exec-file" => Mode::ExecFile,
        "filestatus" => Mode::Filestatus,
        "updatekeys" => Mode::Updatekeys,
        "groups" => match rest.first().and_then(|w| w.to_str()) {
            Some("add") => Mode::GroupsAdd,
            Some("delete") => Mode::GroupsDelete,
            _ => Mode::Other,
        },
        "publish" | "keyservice" => {
            return Err(SopsArgsError::CommandNotSupported {
                command: if word == "publish" { "publish" } else { "keyservice" },
            });
        }
        "completion" => return completion(rest),
        "help" | "h" => {
            let mut run = vec![OsString::from("help")];
            run.extend(rest.iter().take(1).cloned());
            return Ok(Translation::Run(run));
        }
        _ => Mode::Other,
    };
    let mut run = global_config(globals);
    run.push(OsString::from(word));
    if KSEC_COMMANDS.contains(&word) {
        // ksec's own command: its flags are ksec's, read by ksec's parser as they are.
        run.extend(rest.iter().cloned());
        return Ok(Translation::Run(run));
    }
    let mut body = rest;
    if matches!(mode, Mode::GroupsAdd | Mode::GroupsDelete) {
        run.push(rest[0].clone());
        body = &rest[1..];
    }
    let ctx = Context { mode, name, env };
    check_key_services(globals, &ctx)?;
    // sops reads only `--config`, `--indent` and `--mac-only-encrypted` of the global flags
    // given before a subcommand; the others are ignored there, and so they are here.
    for given in globals {
        match given.name {
            "indent" if matches!(mode, Mode::Decrypt | Mode::Encrypt | Mode::Rotate | Mode::Edit) => {
                run.push(long("indent", &given.value));
            }
            "mac-only-encrypted" if given.is_true() && matches!(mode, Mode::Encrypt | Mode::Edit) => {
                run.push(OsString::from("--mac-only-encrypted"));
            }
            _ => {}
        }
    }
    let tokens = parse_subcommand_args(body)?;
    let flags: Vec<Given> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Flag(g) => Some(g.clone()),
            Token::Raw(_) => None,
        })
        .collect();
    check_key_services(&flags, &ctx)?;
    if mode == Mode::Encrypt || (mode == Mode::Edit && !edit_target_exists(&tokens, env)) {
        check_key_type_variables(env)?;
    }
    let mut passed_separator = false;
    for token in tokens {
        match token {
            Token::Flag(given) => run.extend(map_flag(&given, &ctx)?),
            Token::Raw(word) => {
                passed_separator |= word == "--";
                run.push(word);
            }
        }
    }
    if mode == Mode::Edit && name == ProgramName::Sops && !passed_separator {
        run.push(OsString::from("--raw"));
    }
    Ok(Translation::Run(run))
}

/// Whether the file an `edit` names exists (its first word that is not a flag).
fn edit_target_exists(tokens: &[Token], env: &dyn Environment) -> bool {
    tokens.iter().any(|t| match t {
        Token::Raw(word) => env.path_exists(Path::new(word)),
        Token::Flag(_) => false,
    })
}

/// A subcommand's arguments: sops's flags are read wherever they stand (urfave moves a
/// command's flags before its arguments); anything else passes on to ksec's parser as it is.
fn parse_subcommand_args(args: &[OsString]) -> Result<Vec<Token>, SopsArgsError> {
    let mut tokens = Vec::new();
    let mut index = 0;
    while let Some(arg) = args.get(index) {
        let text = arg.to_string_lossy();
        if text == "--" {
            tokens.extend(args[index..].iter().cloned().map(Token::Raw));
            break;
        }
        let known = split_flag(&text).and_then(|(n, inline)| lookup(n, SUBCOMMAND_SHORTS).map(|f| (f, inline)));
        let Some((flag, inline)) = known else {
            tokens.push(Token::Raw(arg.clone()));
            index += 1;
            continue;
        };
        let (value, used) = flag_value(flag, &text, inline, args.get(index + 1))?;
        tokens.push(Token::Flag(Given {
            name: flag.name,
            value,
            spelled: text.into_owned(),
        }));
        index += 1 + used;
    }
    Ok(tokens)
}

struct Context<'a> {
    mode: Mode,
    name: ProgramName,
    env: &'a dyn Environment,
}

/// ksec's spelling of one sops flag in this mode: nothing when it changes nothing for ksec, an
/// error when ksec cannot honour it.
fn map_flag(given: &Given, ctx: &Context<'_>) -> Result<Vec<OsString>, SopsArgsError> {
    let value = given.value.as_str();
    if let Some(refused) = unsupported_key_flag(given)? {
        return Ok(refused);
    }
    Ok(match given.name {
        // Changes nothing for ksec: no update check, no debug log.
        "disable-version-check" | "check-for-updates" | "verbose" => vec![],
        // What KMS keys are used with, for a command that names no keys: nothing to scope.
        "aws-profile" | "encryption-context" if !ctx.mode.names_keys() => vec![],
        // Checked before mapping: without a remote service the local one is all there is.
        "enable-local-keyservice" | "keyservice" => vec![],
        "background" if given.is_true() => {
            return Err(SopsArgsError::FlagNotSupported {
                flag: given.spelled.clone(),
                reason: "the command runs in the foreground; put it in the background with the shell (`&`)",
            });
        }
        "input-type" | "output-type" if ctx.name == ProgramName::Sops && !is_format_name(value) => {
            // sops falls back to the file name for a type it does not know (`plaintext`).
            vec![]
        }
        _ => match lookup(given.name, &[]).map(|f| f.kind) {
            Some(Kind::Bool) if given.is_true() => vec![OsString::from(format!("--{}", given.name))],
            Some(Kind::Bool) => vec![],
            _ => vec![long(given.name, value)],
        },
    })
}

/// A flag of a key type ksec does not support yet: refused when it names keys, dropped when
/// empty (`--hckms ''` names none). `Ok(None)`: not such a flag.
fn unsupported_key_flag(given: &Given) -> Result<Option<Vec<OsString>>, SopsArgsError> {
    let stem = given
        .name
        .strip_prefix("add-")
        .or_else(|| given.name.strip_prefix("rm-"))
        .unwrap_or(given.name);
    let Some(&(_, _, key)) = UNSUPPORTED_KEY_TYPES.iter().find(|(s, _, _)| *s == stem) else {
        return Ok(None);
    };
    if given.value.trim().is_empty() {
        return Ok(Some(vec![]));
    }
    Err(SopsArgsError::KeyTypeNotSupported {
        flag: given.spelled.clone(),
        key,
    })
}

/// sops encrypts for the keys `SOPS_HUAWEICLOUD_KMS_IDS` names too; ksec cannot, and must not
/// quietly encrypt for fewer keys than sops would. (The variables of the other key types are
/// read by ksec's commands themselves.)
fn check_key_type_variables(env: &dyn Environment) -> Result<(), SopsArgsError> {
    for &(_, var, key) in UNSUPPORTED_KEY_TYPES {
        if env.var(var).is_some_and(|v| !v.trim().is_empty()) {
            return Err(SopsArgsError::KeyTypeNotSupported {
                flag: var.to_string(),
                key,
            });
        }
    }
    Ok(())
}

/// A remote key service (`--keyservice`, `SOPS_KEYSERVICE`) is refused: ksec does not speak
/// sops's gRPC protocol. Turning the local one off (`--enable-local-keyservice=false`) changes
/// nothing when no remote one is named: ksec's own keys are its only service.
fn check_key_services(flags: &[Given], ctx: &Context<'_>) -> Result<(), SopsArgsError> {
    let from_env = ctx.env.var("SOPS_KEYSERVICE").unwrap_or_default();
    let named = flags
        .iter()
        .filter(|g| g.name == "keyservice")
        .map(|g| g.value.clone())
        .chain(std::iter::once(from_env))
        .flat_map(|v| v.split(',').map(str::trim).map(String::from).collect::<Vec<_>>())
        .find(|uri| !uri.is_empty());
    match named {
        Some(uri) => Err(SopsArgsError::RemoteKeyService {
            uri,
            encrypting: ctx.mode.encrypts(),
        }),
        None => Ok(()),
    }
}

fn is_format_name(value: &str) -> bool {
    ["yaml", "json", "dotenv", "ini", "binary"].contains(&value)
}

fn long(name: &str, value: &str) -> OsString {
    OsString::from(format!("--{name}={value}"))
}

/// `--config FILE` (the last one given) before the subcommand.
fn global_config(globals: &[Given]) -> Vec<OsString> {
    match globals.iter().rev().find(|g| g.name == "config") {
        Some(config) => vec![long("config", &config.value)],
        None => vec![],
    }
}

/// `completion bash|zsh`.
fn completion(rest: &[OsString]) -> Result<Translation, SopsArgsError> {
    let shell = rest.first().and_then(|s| s.to_str()).unwrap_or_default();
    match shell.parse::<clap_complete::Shell>() {
        Ok(shell) => Ok(Translation::Completion(shell)),
        Err(_) => Err(SopsArgsError::UnknownShell {
            shell: shell.to_string(),
        }),
    }
}

/// Which sops flags each legacy mode reads (the others are ignored, as sops ignores them).
fn read_by(mode: Mode, flag: &str) -> bool {
    const EVERY_MODE: &[&str] = &[
        "input-type",
        "output-type",
        "decryption-order",
        "verbose",
        "disable-version-check",
        "check-for-updates",
        "enable-local-keyservice",
        "keyservice",
    ];
    const NEW_FILE: &[&str] = &[
        "kms",
        "aws-profile",
        "gcp-kms",
        "hckms",
        "azure-kv",
        "hc-vault-transit",
        "pgp",
        "age",
        "unencrypted-suffix",
        "encrypted-suffix",
        "unencrypted-regex",
        "encrypted-regex",
        "unencrypted-comment-regex",
        "encrypted-comment-regex",
        "mac-only-encrypted",
        "shamir-secret-sharing-threshold",
        "encryption-context",
    ];
    if EVERY_MODE.contains(&flag) {
        return true;
    }
    let output = ["in-place", "output", "indent", "filename-override"].contains(&flag);
    match mode {
        Mode::Decrypt => output || ["extract", "ignore-mac"].contains(&flag),
        Mode::Encrypt => output || NEW_FILE.contains(&flag),
        Mode::Rotate => {
            output
                || ["ignore-mac", "aws-profile", "encryption-context"].contains(&flag)
                || flag.starts_with("add-")
                || flag.starts_with("rm-")
        }
        Mode::Set => flag == "ignore-mac",
        Mode::Edit => ["ignore-mac", "show-master-keys", "indent"].contains(&flag) || NEW_FILE.contains(&flag),
        _ => false,
    }
}

/// The legacy form: `[flags] FILE` with `-d`, `-e`, `-r`, `--set` or none (edit).
fn legacy(
    globals: &[Given],
    rest: &[OsString],
    name: ProgramName,
    env: &dyn Environment,
) -> Result<Vec<OsString>, SopsArgsError> {
    let is_set = |flag: &str| {
        globals
            .iter()
            .rev()
            .find(|g| g.name == flag)
            .is_some_and(Given::is_true)
    };
    let set = globals.iter().rev().find(|g| g.name == "set" && !g.value.is_empty());
    let modes: Vec<&str> = [("decrypt", "-d"), ("encrypt", "-e"), ("rotate", "-r")]
        .into_iter()
        .filter(|(flag, _)| is_set(flag))
        .map(|(_, short)| short)
        .chain(set.map(|_| "--set"))
        .collect();
    if modes.len() > 1 {
        return Err(SopsArgsError::SeveralModes {
            modes: modes.join(", "),
        });
    }
    let mode = match modes.first().copied() {
        Some("-d") => Mode::Decrypt,
        Some("-e") => Mode::Encrypt,
        Some("-r") => Mode::Rotate,
        Some(_) => Mode::Set,
        None => Mode::Edit,
    };
    let Some(file) = rest.first() else {
        return Err(SopsArgsError::NoFileSpecified);
    };
    if rest.len() > 1 {
        super::warn(
            "more than one positional argument provided; only the first one is used, and flags after it \
             are ignored, as sops does: give flags before the file",
        );
    }
    let ctx = Context { mode, name, env };
    check_key_services(globals, &ctx)?;
    let exists = env.path_exists(Path::new(file));
    if mode == Mode::Encrypt || (mode == Mode::Edit && !exists) {
        check_key_type_variables(env)?;
    }
    let mut run = global_config(globals);
    run.push(OsString::from(match mode {
        Mode::Decrypt => "decrypt",
        Mode::Encrypt => "encrypt",
        Mode::Rotate => "rotate",
        Mode::Set => "set",
        _ => "edit",
    }));
    // A repeated flag keeps its last value, as in Go: the last of each, in the order given.
    let flags_at = run.len();
    let mut seen: Vec<&str> = Vec::new();
    for given in globals.iter().rev() {
        if seen.contains(&given.name) || !read_by(mode, given.name) {
            continue;
        }
        seen.push(given.name);
        let mapped = map_flag(given, &ctx)?;
        run.splice(flags_at..flags_at, mapped);
    }
    if mode == Mode::Edit && name == ProgramName::Sops {
        run.push(OsString::from("--raw"));
    }
    run.push(OsString::from("--"));
    run.push(file.clone());
    if let Some(set) = set {
        let (path, value) = split_set_argument(&set.value)?;
        run.push(OsString::from(path));
        run.push(OsString::from(value));
    }
    Ok(run)
}

/// `--set '["a"][0] VALUE'`: sops splits after the first `] `.
fn split_set_argument(text: &str) -> Result<(&str, &str), SopsArgsError> {
    let at = text.find("] ").ok_or(SopsArgsError::InvalidSetFormat)?;
    let (path, value) = text.split_at(at + 1);
    Ok((path.trim_end(), &value[1..]))
}

/// `ksec help sops`: the sops command lines ksec accepts, which `--help` leaves out.
pub const SOPS_HELP: &str = "\
ksec accepts sops 3.13's command line, so tools that run `sops` can run ksec: link it as
`sops` (ln -s \"$(command -v ksec)\" ~/.local/bin/sops) and `--version` says `sops 3.13.2
(ksec VERSION)`, notes are not printed (only warnings and errors), and `edit` shows Secret data
as stored, as sops does. The same forms work under the name ksec.

Subcommands, with sops's flags: decrypt, encrypt, rotate, edit, set, unset, exec-env, exec-file,
filestatus, updatekeys, groups add|delete, completion bash|zsh, help.

The legacy form: sops [FLAGS] FILE
  -d, --decrypt        decrypt FILE (to stdout, --output F, or -i)
  -e, --encrypt        encrypt FILE
  -r, --rotate         new data key; --add-KEY/--rm-KEY change keys (age, pgp, hc-vault-transit,
                       kms, gcp-kms, azure-kv)
  --set 'PATH VALUE'   set one value in place ('[\"data\"][\"pw\"] \"new\"')
  (none)               edit FILE in $SOPS_EDITOR or $EDITOR (a new file is created)
  -s, --show-master-keys  edit with the sops metadata shown
  -i, --in-place, --output F, --extract PATH, --input-type T, --output-type T,
  --filename-override NAME, --ignore-mac, --indent N, --decryption-order L,
  --age R, --pgp FP, --hc-vault-transit URI, --kms ARN (--aws-profile P,
  --encryption-context C), --gcp-kms ID, --azure-kv URL, --encrypted-regex RE (and the other
  rule flags),
  --mac-only-encrypted, --shamir-secret-sharing-threshold N, --config F
Flags are read up to the file; flags after it are ignored, as in sops. -x and --x are the same
flag, --x=v works, booleans take =false, and a repeated flag keeps its last value. FILE may be
/dev/stdin or a FIFO. --config /dev/null means no creation rules.

Key services work as in sops: Vault transit (--hc-vault-transit, SOPS_VAULT_URIS, VAULT_TOKEN),
AWS KMS (--kms, SOPS_KMS_ARN, the AWS credential chain and profiles), GCP KMS (--gcp-kms,
SOPS_GCP_KMS_IDS, application default credentials) and Azure Key Vault (--azure-kv,
SOPS_AZURE_KEYVAULT_URLS, the Azure identity chain).

Accepted and ignored (they change nothing for ksec): --disable-version-check,
--check-for-updates, --verbose, --enable-local-keyservice[=false].
Refused, with sops's exit code: --keyservice (and SOPS_KEYSERVICE) naming a service (exit 128,
or 1 when encrypting: ksec does not speak sops's key service protocol); --hckms and its
--add-/--rm- forms, and SOPS_HUAWEICLOUD_KMS_IDS when encrypting (exit 1: ksec does not support
HuaweiCloud KMS keys); more than one of -d, -e, -r, --set (exit 8); the publish and keyservice
subcommands; exec-env/exec-file --background.
";

#[cfg(test)]
mod tests {
    use super::*;

    struct FakeEnv {
        vars: Vec<(&'static str, &'static str)>,
        files: Vec<&'static str>,
    }

    impl Environment for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        }
        fn path_exists(&self, path: &Path) -> bool {
            self.files.iter().any(|f| Path::new(f) == path)
        }
    }

    fn env() -> FakeEnv {
        FakeEnv {
            vars: vec![],
            files: vec!["secrets.yaml"],
        }
    }

    fn run_with(args: &str, name: ProgramName, env: &FakeEnv) -> Result<Option<Vec<String>>, SopsArgsError> {
        let args: Vec<OsString> = shlex::split(args)
            .expect("test argv")
            .into_iter()
            .map(Into::into)
            .collect();
        translate(&args, name, env).map(|t| {
            t.map(|t| match t {
                Translation::Run(args) => args.iter().map(|a| a.to_string_lossy().into_owned()).collect(),
                other => vec![format!("{other:?}")],
            })
        })
    }

    fn sops(args: &str) -> Vec<String> {
        run_with(args, ProgramName::Sops, &env())
            .expect("translates")
            .expect("a sops form")
    }

    #[test]
    fn the_version_line_matches_community_sops_regex_only_under_the_sops_name() {
        let line = version_line(ProgramName::Sops);
        let re = regex::Regex::new(r"^sops ([0-9]+)\.([0-9]+)\.([0-9]+)").expect("regex");
        let caps = re.captures(&line).expect("community.sops parses it");
        let version: Vec<u32> = (1..=3).map(|i| caps[i].parse().expect("number")).collect();
        assert!(version >= vec![3, 9, 0], "{line}");
        assert!(line.ends_with(&format!("(ksec {})\n", env!("CARGO_PKG_VERSION"))));
        assert!(!re.is_match(&version_line(ProgramName::Ksec)));
        assert_eq!(sops("--version --disable-version-check"), ["Version"]);
        assert_eq!(sops("-v"), ["Version"]);
    }

    #[test]
    fn helm_secrets_legacy_decrypt_maps_onto_decrypt() {
        assert_eq!(
            sops("--decrypt --input-type yaml --output-type yaml --output out.yaml secrets.yaml"),
            [
                "decrypt",
                "--input-type=yaml",
                "--output-type=yaml",
                "--output=out.yaml",
                "--",
                "secrets.yaml"
            ]
        );
        assert_eq!(sops("-d /dev/stdin"), ["decrypt", "--", "/dev/stdin"]);
    }

    #[test]
    fn go_spellings_last_wins_and_false_booleans() {
        assert_eq!(
            sops("-decrypt --config=/dev/null --config x.yaml --in-place=false --ignore-mac=1 secrets.yaml"),
            ["--config=x.yaml", "decrypt", "--ignore-mac", "--", "secrets.yaml"]
        );
        assert!(matches!(
            run_with("--in-place=maybe -d f", ProgramName::Sops, &env()),
            Err(SopsArgsError::InvalidBool { .. })
        ));
        assert!(matches!(
            run_with("--nope -d f", ProgramName::Sops, &env()),
            Err(SopsArgsError::UnknownFlag { flag }) if flag == "-nope"
        ));
        assert!(matches!(
            run_with("-d --output", ProgramName::Sops, &env()),
            Err(SopsArgsError::MissingValue { .. })
        ));
        assert!(matches!(
            run_with("-di f", ProgramName::Sops, &env()),
            Err(SopsArgsError::UnknownFlag { .. })
        ));
    }

    #[test]
    fn a_bare_file_is_edited_with_data_as_stored_under_the_sops_name() {
        assert_eq!(
            sops("--input-type yaml --output-type yaml secrets.yaml"),
            [
                "edit",
                "--input-type=yaml",
                "--output-type=yaml",
                "--raw",
                "--",
                "secrets.yaml"
            ]
        );
        assert_eq!(sops("version"), ["edit", "--raw", "--", "version"]);
        let ksec = |args| run_with(args, ProgramName::Ksec, &env()).expect("translates");
        assert_eq!(ksec("secrets.yaml").expect("legacy"), ["edit", "--", "secrets.yaml"]);
        assert_eq!(ksec("decryt"), None, "a typo is left to clap's suggestions");
        assert_eq!(ksec("decrypt f"), Some(vec!["decrypt".into(), "f".into()]));
        assert_eq!(
            ksec("--config c apply -f k8s"),
            Some(vec!["--config=c".into(), "apply".into(), "-f".into(), "k8s".into()])
        );
        assert_eq!(ksec(""), None);
        assert_eq!(ksec("-V"), None, "clap's own version flag");
    }

    #[test]
    fn subcommand_flags_are_normalised_and_misplaced_globals_ignored_as_sops_does() {
        assert_eq!(
            sops(
                "--config c --output-type json --indent 2 decrypt --enable-local-keyservice=false -extract '[\"a\"]' f"
            ),
            ["--config=c", "decrypt", "--indent=2", "--extract=[\"a\"]", "f"]
        );
        assert_eq!(
            sops("--mac-only-encrypted encrypt --input-type binary --filename-override x.bin /dev/stdin"),
            [
                "encrypt",
                "--mac-only-encrypted",
                "--input-type=binary",
                "--filename-override=x.bin",
                "/dev/stdin"
            ]
        );
        assert_eq!(
            sops("edit --output-type yaml secrets.yaml"),
            ["edit", "--output-type=yaml", "secrets.yaml", "--raw"]
        );
        assert_eq!(
            sops("groups add -f f --age a -i"),
            ["groups", "add", "--file=f", "--age=a", "--in-place"]
        );
        assert_eq!(sops("decrypt --input-type plaintext f"), ["decrypt", "f"]);
    }

    #[test]
    fn set_splits_its_argument_after_the_first_bracket_and_space() {
        assert_eq!(
            sops("--set '[\"a\"][0] {\"b\": 1}' secrets.yaml"),
            ["set", "--", "secrets.yaml", "[\"a\"][0]", "{\"b\": 1}"]
        );
        assert!(matches!(
            run_with("--set nope secrets.yaml", ProgramName::Sops, &env()),
            Err(SopsArgsError::InvalidSetFormat)
        ));
    }

    #[test]
    fn key_flags_pass_on_to_the_commands_that_take_them_and_the_others_ignore_them() {
        let vault = "https://vault:8200/v1/transit/keys/app";
        assert_eq!(
            sops(&format!("-e --hc-vault-transit {vault} secrets.yaml")),
            ["encrypt", &format!("--hc-vault-transit={vault}"), "--", "secrets.yaml"]
        );
        assert_eq!(
            sops("-e -k arn:x --aws-profile p --encryption-context app:db secrets.yaml"),
            [
                "encrypt",
                "--kms=arn:x",
                "--aws-profile=p",
                "--encryption-context=app:db",
                "--",
                "secrets.yaml"
            ]
        );
        assert_eq!(
            sops(&format!(
                "-r --add-hc-vault-transit {vault} --rm-kms arn:x --encryption-context app:db secrets.yaml"
            )),
            [
                "rotate",
                &format!("--add-hc-vault-transit={vault}"),
                "--rm-kms=arn:x",
                "--encryption-context=app:db",
                "--",
                "secrets.yaml"
            ]
        );
        assert_eq!(
            sops("encrypt --gcp-kms projects/p/x --azure-kv https://v.vault.azure.net/keys/k/1 f"),
            [
                "encrypt",
                "--gcp-kms=projects/p/x",
                "--azure-kv=https://v.vault.azure.net/keys/k/1",
                "f"
            ]
        );
        assert_eq!(
            sops(&format!(
                "groups add -f f --hc-vault-transit {vault} --kms arn:x --aws-profile p"
            )),
            [
                "groups",
                "add",
                "--file=f",
                &format!("--hc-vault-transit={vault}"),
                "--kms=arn:x",
                "--aws-profile=p"
            ]
        );
        // Modes that take no keys ignore them, as sops does.
        assert_eq!(sops("-d --kms arn:x secrets.yaml"), ["decrypt", "--", "secrets.yaml"]);
        assert_eq!(
            sops("decrypt --aws-profile p --encryption-context a:b f"),
            ["decrypt", "f"]
        );
        // An empty list names no key: ksec's command reads it so, as sops does.
        assert_eq!(
            sops("-e --kms '' secrets.yaml"),
            ["encrypt", "--kms=", "--", "secrets.yaml"]
        );
        // The commands read SOPS_VAULT_URIS, SOPS_KMS_ARN, … themselves.
        let kms_env = FakeEnv {
            vars: vec![("SOPS_KMS_ARN", "arn:aws:kms:x"), ("SOPS_VAULT_URIS", vault)],
            files: vec![],
        };
        assert_eq!(
            run_with("-e f", ProgramName::Sops, &kms_env).expect("translates"),
            Some(vec!["encrypt".into(), "--".into(), "f".into()])
        );
    }

    #[test]
    fn flags_ksec_cannot_honour_are_refused_and_those_a_mode_ignores_are_dropped() {
        for argv in [
            "-e --hckms tr-west-1:k f",
            "-r --add-hckms tr-west-1:k f",
            "rotate --rm-hckms x f",
        ] {
            assert!(
                matches!(
                    run_with(argv, ProgramName::Sops, &env()),
                    Err(SopsArgsError::KeyTypeNotSupported {
                        key: "HuaweiCloud KMS",
                        ..
                    })
                ),
                "{argv}"
            );
        }
        assert_eq!(sops("-e --hckms '' secrets.yaml"), ["encrypt", "--", "secrets.yaml"]);
        assert_eq!(sops("-d --hckms x secrets.yaml"), ["decrypt", "--", "secrets.yaml"]);
        assert!(matches!(
            run_with("decrypt --keyservice tcp://h:5000 f", ProgramName::Sops, &env()),
            Err(SopsArgsError::RemoteKeyService { encrypting: false, .. })
        ));
        assert!(matches!(
            run_with("-e --keyservice unix:///s f", ProgramName::Sops, &env()),
            Err(SopsArgsError::RemoteKeyService { encrypting: true, .. })
        ));
        let hckms_env = FakeEnv {
            vars: vec![("SOPS_HUAWEICLOUD_KMS_IDS", "tr-west-1:k")],
            files: vec![],
        };
        assert!(run_with("-e f", ProgramName::Sops, &hckms_env).is_err());
        assert!(
            run_with("new.yaml", ProgramName::Sops, &hckms_env).is_err(),
            "a new file to edit"
        );
        assert!(run_with("-d f", ProgramName::Sops, &hckms_env).is_ok());
        assert!(matches!(
            run_with("-d -e f", ProgramName::Sops, &env()),
            Err(SopsArgsError::SeveralModes { .. })
        ));
        assert!(matches!(
            run_with("-d", ProgramName::Sops, &env()),
            Err(SopsArgsError::NoFileSpecified)
        ));
        assert!(matches!(
            run_with("publish f", ProgramName::Sops, &env()),
            Err(SopsArgsError::CommandNotSupported { .. })
        ));
    }

    #[test]
    fn the_help_topic_and_completion() {
        assert!(matches!(
            translate(&["help".into(), "sops".into()], ProgramName::Ksec, &env()),
            Ok(Some(Translation::Print(_)))
        ));
        assert_eq!(
            translate(&["completion".into(), "zsh".into()], ProgramName::Sops, &env()).expect("ok"),
            Some(Translation::Completion(clap_complete::Shell::Zsh))
        );
    }
}
