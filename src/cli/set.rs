//! `ksec set FILE PATH VALUE`: one value changed in place, every other ciphertext kept.

use zeroize::Zeroizing;

use super::args::{GlobalArgs, SetArgs};
use super::inputs::InPlaceFile;
use crate::edit;
use crate::error::Error;
use crate::io::Input;
use crate::tree::path::TreePath;

pub fn run(global: &GlobalArgs, args: &SetArgs) -> Result<(), Error> {
    let path = parse_path(&args.path)?;
    let value = edit::parse_value(value_text(&read_value(args)?, args)?)?;
    let file = InPlaceFile::read(global, &args.file, &args.change)?;
    let mut opened = file.open(args.change.ignore_mac)?;
    let mut plain = opened.take_plain();
    let changed = edit::set_value(&mut plain, &path, value)?;
    if !changed && args.idempotent {
        return Ok(());
    }
    let output = opened.seal(plain, &file.seal_options(!args.change.no_validate))?;
    for w in &output.warnings {
        super::warn(w);
    }
    file.write(&output.bytes)
}

/// A path for `set`/`unset`: a malformed one is sops's "invalid set format" (exit 7).
pub(super) fn parse_path(text: &str) -> Result<TreePath, Error> {
    TreePath::parse(text).map_err(|e| match e {
        Error::InvalidTreePath { path, message } => Error::InvalidSetValue {
            message: format!("invalid path {path:?}: {message}"),
        },
        other => other,
    })
}

/// The value's JSON text, read into a zeroizing buffer (never a growing `String`, which would
/// leave copies behind).
fn read_value(args: &SetArgs) -> Result<Zeroizing<Vec<u8>>, Error> {
    let value = args.value.as_deref().unwrap_or_default();
    if args.value_stdin {
        Input::Stdin.read()
    } else if args.value_file {
        Input::File(value.into()).read()
    } else {
        Ok(Zeroizing::new(value.as_bytes().to_vec()))
    }
}

/// The value as text (only stdin and a file can hold other bytes).
fn value_text<'a>(bytes: &'a [u8], args: &SetArgs) -> Result<&'a str, Error> {
    std::str::from_utf8(bytes).map_err(|_| Error::InvalidSetValue {
        message: match &args.value {
            Some(path) if !args.value_stdin => format!("{path} is not UTF-8 text"),
            _ => "the value on stdin is not UTF-8 text".into(),
        },
    })
}
