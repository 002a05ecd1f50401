//! `ksec merge BASE OURS THEIRS [PATH]`: Git's merge driver (`%O %A %B %P`).
//!
//! A clean merge of the plaintexts is encrypted again with minimal diffs and written over
//! OURS (exit 0). On a conflict OURS is left as it was, an encrypted file that still opens,
//! and the exit code tells Git to stop; `ksec edit PATH` then shows the merged plaintext with
//! conflict markers, from the versions Git keeps in its index. Files that are not encrypted
//! are merged as text, as Git would.

use super::args::{GlobalArgs, IoArgs, MergeArgs};
use super::inputs;
use super::terminal::Terminal;
use crate::edit::merge::{self, MergeTarget, Merged, Sides};
use crate::error::{CommandError, Error};
use crate::io::{FileLock, Input, IoError};
use crate::keys::{Identities, ProcessEnv};
use crate::sops_file;

/// Exit code for a merge with conflicts (Git only needs non-zero).
const EXIT_CONFLICT: i32 = 1;

pub fn run(global: &GlobalArgs, args: &MergeArgs) -> Result<i32, Error> {
    let read_optional = |path: &std::path::Path| match Input::File(path.to_path_buf()).read() {
        Err(IoError::InputNotFound { .. }) => Ok(None),
        other => other.map(Some),
    };
    let base = read_optional(&args.base)?;
    // OURS is read under the lock it is written under.
    let lock = inputs::lock_in_place(&args.ours)?;
    let ours = Input::File(args.ours.clone()).read()?;
    let theirs = Input::File(args.theirs.clone()).read()?;
    let name = args.path.clone().unwrap_or_else(|| args.ours.clone());
    let file = name.display().to_string();
    let format = inputs::format_of(&name, None, &ours)?;

    if !sops_file::is_encrypted(&ours, format, &file)? && !sops_file::is_encrypted(&theirs, format, &file)? {
        return merge_text(&lock, base.as_deref().map(|b| &b[..]), &ours, &theirs, &file);
    }
    let config = inputs::load_config(global)?;
    let identities = Identities::discover(&ProcessEnv, args.keys.decryption_order.as_deref(), Terminal)?;
    let target = MergeTarget {
        name: &file,
        format,
        identities: &identities,
        output: inputs::output_options(&IoArgs::default(), config.as_ref()),
    };
    let sides = Sides {
        base: base.as_deref().map(|b| &b[..]),
        ours: &ours,
        theirs: &theirs,
    };
    match merge::merge(sides, &target, !args.raw, true)? {
        Merged::Clean(output) => {
            for w in &output.warnings {
                super::warn(w);
            }
            if output.bytes[..] != ours[..] {
                lock.replace(&output.bytes)?;
            }
            Ok(0)
        }
        Merged::Conflict { conflicts, .. } => {
            super::note(&format!(
                "{file}: {conflicts} conflict(s) between the decrypted versions; the file keeps our \
                 version (still encrypted)"
            ));
            super::note(&format!(
                "resolve with `ksec edit {file}` (it shows the merged plaintext with conflict \
                 markers), then `git add {file}`"
            ));
            Ok(EXIT_CONFLICT)
        }
    }
}

/// Plain files merge as text; conflicts are marked in the file, as Git does.
fn merge_text(out: &FileLock, base: Option<&[u8]>, ours: &[u8], theirs: &[u8], file: &str) -> Result<i32, Error> {
    let text =
        |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| CommandError::NotText { file: file.to_string() });
    let merged = diffy::merge(&text(base.unwrap_or_default())?, &text(ours)?, &text(theirs)?);
    let (bytes, code) = match merged {
        Ok(clean) => (clean, 0),
        Err(conflicted) => (conflicted, EXIT_CONFLICT),
    };
    out.replace(bytes.as_bytes())?;
    Ok(code)
}
