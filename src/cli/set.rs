//! `ksec set FILE PATH VALUE`: one value changed in place, every other ciphertext kept.

use zeroize::Zeroizing;

use super::args::{GlobalArgs, SetArgs};
use super::inputs::InPlaceFile;
use crate::edit::{self, EditError, NewValue, ValueProblem};
use crate::error::Error;
use crate::io::Input;
use crate::tree::path::TreePath;

pub fn run(global: &GlobalArgs, args: &SetArgs) -> Result<(), Error> {
    let path = parse_path(&args.path)?;
    let value = new_value(args)?;
    let file = InPlaceFile::read(global, &args.file, &args.change)?;
    let mut opened = file.open(args.change.ignore_mac)?;
    let mut plain = opened.take_plain();
    let validate = !args.change.no_validate;
    let changed = edit::set_new_value(&mut plain, &path, value, validate, &file.name)?;
    if !changed && args.idempotent {
        return Ok(());
    }
    let output = opened.seal(plain, &file.seal_options(validate))?;
    for w in &output.warnings {
        super::warn(w);
    }
    file.write(&output.bytes)
}

/// A malformed path is sops's "invalid set format" (exit 7).
pub(super) fn parse_path(text: &str) -> Result<TreePath, EditError> {
    TreePath::parse(text).map_err(EditError::InvalidPath)
}

/// The value: JSON, or with `--base64` the bytes as given, to be encoded.
fn new_value(args: &SetArgs) -> Result<NewValue, Error> {
    let bytes = read_value(args)?;
    if !args.base64 {
        return Ok(NewValue::Json(edit::parse_value(value_text(&bytes, args)?)?));
    }
    if args.value_stdin && bytes.ends_with(b"\n") {
        super::warn(
            "the value on stdin ends with a line break, which is stored too \
             (`printf %s \"$VALUE\"` leaves it out; `echo` adds one)",
        );
    }
    Ok(NewValue::Base64Of(bytes))
}

/// The value's bytes, read into a zeroizing buffer (never a growing `String`, which would
/// leave copies behind).
fn read_value(args: &SetArgs) -> Result<Zeroizing<Vec<u8>>, Error> {
    let value = args.value.as_deref().unwrap_or_default();
    if args.value_stdin {
        Ok(Input::Stdin.read()?)
    } else if args.value_file {
        Ok(Input::File(value.into()).read()?)
    } else {
        Ok(Zeroizing::new(value.as_bytes().to_vec()))
    }
}

/// The value as text (only stdin and a file can hold other bytes).
fn value_text<'a>(bytes: &'a [u8], args: &SetArgs) -> Result<&'a str, EditError> {
    std::str::from_utf8(bytes).map_err(|_| {
        EditError::InvalidValue(match &args.value {
            Some(path) if !args.value_stdin => ValueProblem::FileNotText(path.clone()),
            _ => ValueProblem::StdinNotText,
        })
    })
}
