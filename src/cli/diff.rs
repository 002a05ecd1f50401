//! `ksec diff FILE`: Git's textconv driver. Prints the decrypted view of an encrypted file
//! (Secret `data` decoded), and any other file as it is, so `git diff` and `git log -p` show
//! plaintext changes. It never fails a diff (Git would stop `git log -p` at the first file
//! it fails on): what it cannot decrypt, or whose MAC does not match, is shown as stored, with
//! a warning, so no plaintext is ever shown that the file's MAC does not vouch for. The one
//! exception is a file refused for the work reading it would cause (an alias bomb): like every
//! command, `diff` refuses it (exit 2), so a hostile file in the history is reported, not
//! passed over with a warning nobody reads.

use super::args::{DiffArgs, GlobalArgs, IoArgs};
use super::inputs;
use super::terminal::Terminal;
use crate::edit::view::{self, ViewOptions};
use crate::error::Error;
use crate::io::{self, Input};
use crate::keys::{Identities, KeyError, ProcessEnv};
use crate::sops_file::FileError;
use crate::sops_file::{EncryptedFile, MacPolicy};

pub fn run(global: &GlobalArgs, args: &DiffArgs) -> Result<(), Error> {
    let input = Input::File(args.file.clone()).read()?;
    match decrypted_view(global, args, &input) {
        Ok(Some(text)) => io::write_stdout(&text)?,
        Ok(None) => io::write_stdout(&input)?,
        Err(e) if refused_for_its_work(&e) => return Err(e),
        Err(e) => {
            super::warn(&format!("{}; showing the file as stored", reason(&e)));
            io::write_stdout(&input)?
        }
    }
    Ok(())
}

/// Why the file is shown as stored. Without a key, one line: Git runs the driver for each side
/// of each file, and the report `ksec decrypt` gives (every key group, key and place looked
/// in) would fill the screen many times over.
fn reason(e: &Error) -> String {
    match e {
        Error::Key(KeyError::DataKeyUnavailable { file, .. })
        | Error::File(FileError::Key(KeyError::DataKeyUnavailable { file, .. })) => {
            format!("{file}: no key here decrypts it (`ksec decrypt` of the file says why)")
        }
        other => other.to_string(),
    }
}

/// Whether the file was refused for the work reading it would cause (an alias bomb).
fn refused_for_its_work(error: &Error) -> bool {
    match error {
        Error::Format(e) | Error::File(FileError::Format(e)) => e.is_limit(),
        _ => false,
    }
}

/// The view, or `None` for a file that is not encrypted.
fn decrypted_view(
    global: &GlobalArgs,
    args: &DiffArgs,
    input: &[u8],
) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, Error> {
    let file = args.file.display().to_string();
    let format = inputs::format_of(&args.file, None, input)?;
    // Any `sops` block makes it an encrypted file, even one whose MAC was removed: a file
    // that claims to be encrypted and does not open is reported, not shown as plaintext.
    let encrypted = match EncryptedFile::parse(input, format, file.as_str()) {
        Err(FileError::MetadataNotFound { .. }) => return Ok(None),
        other => other?,
    };
    let config = inputs::load_config(global).ok().flatten();
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref(), Terminal)?;
    let decrypted = encrypted.decrypt(&identities, MacPolicy::Verify)?;
    let view = view::render(
        decrypted.tree(),
        ViewOptions {
            format,
            output: inputs::output_options(&IoArgs::default(), config.as_ref()),
            decode_secrets: !args.raw,
            header: false,
        },
    )?;
    Ok(Some(view.text))
}
