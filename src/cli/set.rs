//! `ksec set FILE PATH VALUE`: one value changed in place, every other ciphertext kept.

use std::io::Read;

use zeroize::Zeroizing;

use super::args::{GlobalArgs, SetArgs};
use super::inputs::InPlaceFile;
use crate::edit::{self, TreePath};
use crate::error::Error;
use crate::io::Input;

pub fn run(global: &GlobalArgs, args: &SetArgs) -> Result<(), Error> {
    let path = parse_path(&args.path)?;
    let value = edit::parse_value(&read_value(args)?)?;
    let file = InPlaceFile::read(global, &args.file, &args.change)?;
    let target = file.target();
    let mut opened = edit::open(&file.input, &target, args.change.ignore_mac)?;
    let mut plain = opened.take_plain();
    let changed = edit::set_value(&mut plain, &path, value)?;
    if !changed && args.idempotent {
        return Ok(());
    }
    let output = edit::seal(&opened, plain, &target, !args.change.no_validate)?;
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

fn read_value(args: &SetArgs) -> Result<Zeroizing<String>, Error> {
    let mut text = Zeroizing::new(String::new());
    if args.value_stdin {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| Error::ReadInput {
                path: "stdin".into(),
                source,
            })?;
    } else if args.value_file {
        let path = std::path::PathBuf::from(args.value.as_deref().unwrap_or_default());
        let bytes = Input::File(path.clone()).read()?;
        text.push_str(std::str::from_utf8(&bytes).map_err(|_| Error::InvalidSetValue {
            message: format!("{} is not UTF-8 text", path.display()),
        })?);
    } else {
        text.push_str(args.value.as_deref().unwrap_or_default());
    }
    Ok(text)
}
