//! `ksec diff FILE`: Git's textconv driver. Prints the decrypted view of an encrypted file
//! (Secret `data` decoded), and any other file as it is, so `git diff` and `git log -p` show
//! plaintext changes. It never fails a diff: what it cannot decrypt is shown as stored.

use super::args::{DiffArgs, GlobalArgs, IoArgs};
use super::inputs;
use super::terminal::Terminal;
use crate::edit::view::{self, ViewOptions};
use crate::error::Error;
use crate::io::{self, Input};
use crate::keys::{Identities, ProcessEnv};
use crate::ops::{self, DecryptOptions};

pub fn run(global: &GlobalArgs, args: &DiffArgs) -> Result<(), Error> {
    let input = Input::File(args.file.clone()).read()?;
    match decrypted_view(global, args, &input) {
        Ok(Some(text)) => io::write_stdout(&text),
        Ok(None) => io::write_stdout(&input),
        Err(e) => {
            super::warn(&format!("{e}; showing the file as stored"));
            io::write_stdout(&input)
        }
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
    if !ops::is_encrypted(input, format, &file)? {
        return Ok(None);
    }
    let config = inputs::load_config(global).ok().flatten();
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref(), Terminal)?;
    let mut options = DecryptOptions {
        file: &file,
        input_format: Some(format),
        output_format: None,
        identities: &identities,
        ignore_mac: false,
        output: inputs::output_options(&IoArgs::default(), config.as_ref()),
    };
    let decrypted = match ops::decrypt_tree(input, &options) {
        Err(e @ (Error::MacMismatch { .. } | Error::MacUnreadable { .. })) => {
            super::warn(&format!("{e}; showing it anyway"));
            options.ignore_mac = true;
            ops::decrypt_tree(input, &options)?
        }
        other => other?,
    };
    let view = view::render(
        &decrypted.tree,
        ViewOptions {
            format,
            output: options.output,
            decode_secrets: !args.raw,
            header: false,
        },
    )?;
    Ok(Some(view.text))
}
