//! `ksec edit FILE`: the plaintext in your editor, encrypted again on save.
//!
//! The buffer is a 0600 file in a private 0700 directory (memory-backed when possible, with a
//! warning before it is written when not) that is removed on every way out: success, error, a
//! failing editor, a signal. Three starts: an encrypted file (its view, Secret `data` decoded),
//! a file with a Git merge conflict (the decrypted versions merged, with conflict markers), and
//! a missing file (a template).
//!
//! The file's lock is not held while the editor is open, which can be for minutes: every
//! other writer (a `set` in a script, CI) would time out meanwhile. It is taken to save, and
//! if the file changed since it was read, the edit is not saved over that change but kept,
//! encrypted, beside the file (exit 34), so that neither change is lost.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use zeroize::Zeroizing;

use super::args::{EditArgs, GlobalArgs, IoArgs};
use super::encrypt::Settings;
use super::inputs;
use super::signals::SignalGuard;
use super::terminal::Terminal;
use crate::edit::merge::{self, MergeTarget, Sides};
use crate::edit::view::{self, Reading, ViewOptions};
use crate::error::{CommandError, Error};
use crate::formats::{self, Format, OutputOptions};
use crate::io::{self, Input, IoError};
use crate::keys::{Identities, ProcessEnv};
use crate::ops::{self, Output};
use crate::process;
use crate::sops_file::{EncryptedFile, MacPolicy, OpenFile, SealOptions};
use crate::tree::{Document, Mapping, Tree};

/// What the editor starts with, and how its result becomes the encrypted file.
enum Start<'a> {
    Existing {
        opened: OpenFile,
        reading: Reading,
    },
    Conflict {
        side: OpenFile,
        reading: Reading,
    },
    /// A new file, with its recipients and rule settled before the editor opens.
    New(Box<ops::EncryptOptions<'a>>),
}

pub fn run(global: &GlobalArgs, args: &EditArgs) -> Result<(), Error> {
    let config = inputs::load_config(global)?;
    let file = args.file.display().to_string();
    let io_args = IoArgs {
        indent: args.indent,
        ..IoArgs::default()
    };
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref(), Terminal)?;
    // Refused before the editor opens, not after the work is done: a file that cannot be
    // replaced (a hard link, a FIFO, which would also block the read).
    io::check_replaceable(&args.file)?;
    let exists = std::fs::metadata(&args.file).is_ok();
    let original = if exists {
        Some(Input::File(args.file.clone()).read()?)
    } else {
        None
    };
    let format = match (args.input_type, &original) {
        (Some(name), _) => name.into(),
        (None, Some(bytes)) => inputs::format_of(&args.file, None, bytes)?,
        (None, None) => Format::from_path(&args.file).unwrap_or(Format::Yaml),
    };
    inputs::check_output_type(args.output_type, format)?;
    let output = inputs::output_options(&io_args, config.as_ref());
    let view_options = ViewOptions {
        format,
        output,
        decode_secrets: !args.raw,
        header: true,
    };

    let (start, text) = match (&original, process::git_conflict_stages(&args.file)) {
        (_, Some(stages)) => {
            let sides = Sides {
                base: stages.base.as_deref().map(|b| &b[..]),
                ours: &stages.ours,
                theirs: &stages.theirs,
            };
            let target = MergeTarget {
                name: &file,
                format,
                identities: &identities,
                output,
            };
            let prepared = merge::prepare(&sides, &target, !args.raw)?;
            let merged = Zeroizing::new(merge::merge_views(&prepared).unwrap_or_else(|conflicted| conflicted));
            let mut text = Zeroizing::new(conflict_header(&file, prepared.reading.decoded).into_bytes());
            text.extend_from_slice(merged.as_bytes());
            let start = Start::Conflict {
                side: prepared.result_side,
                reading: prepared.reading,
            };
            (start, text)
        }
        (Some(bytes), None) => {
            let opened = EncryptedFile::parse(bytes, format, file.as_str())?
                .open(&identities, MacPolicy::from_ignore_mac_flag(args.ignore_mac))?;
            let view = view::render(opened.plain(), view_options)?;
            let mut text = view.text;
            if args.show_master_keys {
                text = with_metadata_header(&opened, &text, output)?;
            }
            let start = Start::Existing {
                opened,
                reading: view.reading,
            };
            (start, text)
        }
        (None, None) => {
            // Whom to encrypt for is settled now: finding out after the editor closes would
            // throw away what the user typed.
            let settings = Settings::resolve(&args.new, config.as_ref(), Some(&args.file))?;
            let mut options = settings.options(&file, Some(format), output);
            options.validate_secrets = !args.no_validate;
            options.require_recipients()?;
            let text = Zeroizing::new(template(&file, format).into_bytes());
            (Start::New(Box::new(options)), text)
        }
    };

    let finish = |edited: &[u8]| -> Result<Output, Error> {
        match &start {
            Start::Existing { opened, reading } | Start::Conflict { side: opened, reading } => {
                // Line numbers in errors count the lines of the edited text.
                let edited_name = format!("{file} (edited text)");
                if matches!(start, Start::Conflict { .. }) {
                    merge::check_resolved(edited, &edited_name)?;
                }
                let plain = view::read(edited, format, reading, &edited_name)?;
                let seal_options = SealOptions {
                    validate_secrets: !args.no_validate,
                    ..SealOptions::new(output)
                };
                Ok(opened.seal(plain, &seal_options)?.into_output())
            }
            Start::New(options) => Ok(ops::encrypt(view::strip_header(edited), options)?),
        }
    };

    let output = edit_until_valid(&args.file, &text, finish)?;
    for w in &output.warnings {
        super::warn(w);
    }
    for n in &output.notes {
        super::note(n);
    }
    let unchanged = original.as_deref().is_some_and(|o| o[..] == output.bytes[..]);
    if !unchanged {
        save(&args.file, original.as_deref().map(|o| &o[..]), &output.bytes)?;
    }
    if matches!(start, Start::Conflict { .. }) {
        super::note(&format!("conflict resolved; run `git add {file}` to mark it so"));
    }
    Ok(())
}

/// Replaces the file with the edited result under its lock, unless it changed since `original`
/// was read (`None`: it did not exist); then the result is kept beside it instead.
fn save(file: &Path, original: Option<&[u8]>, bytes: &[u8]) -> Result<(), Error> {
    let lock = inputs::lock_output(file)?;
    match lock.replace_if_unchanged(original, bytes) {
        Err(IoError::ChangedSinceRead { .. }) => {
            // Ciphertext, like the file itself: safe to leave beside it.
            let kept = io::keep_beside(file, "unsaved-edit", bytes)?;
            Err(CommandError::EditNotSaved {
                file: file.display().to_string(),
                kept,
            }
            .into())
        }
        other => Ok(other?),
    }
}

/// Runs the editor on `text` until `finish` accepts the result. Errors in the edited text are
/// shown and the editor reopened when a person is at the terminal; otherwise they end the
/// command with the original file untouched. The buffer is removed on every way out.
fn edit_until_valid(
    original: &Path,
    text: &[u8],
    finish: impl Fn(&[u8]) -> Result<Output, Error>,
) -> Result<Output, Error> {
    let guard = SignalGuard::install()?;
    let editor = process::editor_command()?;
    let dir = inputs::plaintext_dir()?;
    guard.protect(dir.path());
    let name = original
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "secret.yaml".into());
    let buffer = dir.write_file(&name, text)?;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let result = loop {
        if let Err(e) = process::run_editor(&guard, &editor, &buffer) {
            break Err(e.into());
        }
        let edited = Input::File(buffer.clone()).read()?;
        if edited[..] == *text {
            break Err(CommandError::FileNotModified {
                file: original.display().to_string(),
            }
            .into());
        }
        match finish(&edited) {
            Ok(output) => break Ok(output),
            Err(e) if interactive && e.exit_code() != super::exit::KEYBOARD_INTERRUPT => {
                super::report(&e);
                if !ask_to_reopen() {
                    break Err(e);
                }
            }
            Err(e) => break Err(e),
        }
    };
    dir.remove()?;
    result
}

/// Asks whether to go back to the editor; `false` on end of input.
fn ask_to_reopen() -> bool {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "ksec: press Enter to fix it in the editor, or Ctrl-C to give up: ");
    let _ = err.flush();
    let mut line = String::new();
    matches!(std::io::stdin().lock().read_line(&mut line), Ok(n) if n > 0)
}

/// `--show-master-keys`: the file's sops metadata above the values, as header lines, which are
/// dropped when the text is read back. sops lets the metadata be edited there; ksec shows it
/// only, so keys change through `rotate`, `updatekeys` and `groups`, which check what they do.
fn with_metadata_header(opened: &OpenFile, view: &[u8], output: OutputOptions) -> Result<Zeroizing<Vec<u8>>, Error> {
    let document = Document {
        root: Mapping::default(),
        metadata: Some(opened.metadata().to_node()),
        layout: None,
    };
    let mut tree = Tree::new_plain(vec![document]);
    let yaml = Zeroizing::new(formats::emit(Format::Yaml, &mut tree, Format::Yaml, output)?);
    let mut lines = vec!["the sops metadata, shown read only (these lines are dropped on save):".to_string()];
    lines.extend(String::from_utf8_lossy(&yaml).lines().map(str::to_string));
    let mut text = Zeroizing::new(view::header(&lines.iter().map(String::as_str).collect::<Vec<_>>()).into_bytes());
    text.extend_from_slice(view);
    Ok(text)
}

fn conflict_header(file: &str, decoded: bool) -> String {
    let mut lines = vec![
        format!("merge conflict in {file}: keep what you want between the markers, delete the"),
        "<<<<<<< ======= >>>>>>> lines, then save and quit. The result is encrypted again.".to_string(),
    ];
    if decoded {
        lines.push("Secret `data` values are shown decoded and are base64-encoded again on save.".into());
    }
    view::header(&lines.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The text a new file starts from: a Kubernetes Secret to fill in.
fn template(file: &str, format: Format) -> String {
    match format {
        Format::Yaml => {
            let mut text = view::header(&[
                &format!("new file {file}: it is encrypted when you save and quit (leave it unchanged to"),
                "create nothing). These `# ksec:` lines are removed.",
            ]);
            text.push_str(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: example\ntype: Opaque\nstringData:\n  password: change-me\n",
            );
            text
        }
        Format::Json => "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Secret\",\n\t\"metadata\": {\n\t\t\"name\": \"example\"\n\t},\n\t\"type\": \"Opaque\",\n\t\"stringData\": {\n\t\t\"password\": \"change-me\"\n\t}\n}\n".to_string(),
        Format::Dotenv => "PASSWORD=change-me\n".to_string(),
        Format::Ini => "[app]\npassword = change-me\n".to_string(),
        Format::Binary => String::new(),
    }
}
