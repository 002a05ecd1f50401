//! Every fuzz target's seed corpus (`fuzz/seeds/<target>/`, its campaign's corpus minimized
//! to the inputs that reach every branch it reached) and every crash it found
//! (`fuzz/artifacts/<target>/`), replayed through the same checks as a plain test on stable
//! Rust: what a campaign once found stays fixed, and each parser keeps being driven down the
//! branches the fuzzer opened, whether or not anyone runs cargo-fuzz.

#[path = "../fuzz/checks/mod.rs"]
mod checks;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    files
}

/// Runs `target`'s check on each saved input; fails naming every input whose check panicked.
fn replay(target: &str) {
    let (_, check) = checks::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let seeds = files_in(&root.join("seeds").join(target));
    assert!(
        !seeds.is_empty(),
        "fuzz/seeds/{target} is empty: every target keeps a seed corpus"
    );
    let inputs: Vec<PathBuf> = seeds
        .into_iter()
        .chain(files_in(&root.join("artifacts").join(target)))
        .collect();
    let mut failures = Vec::new();
    // libFuzzer starts every campaign with the empty input; so does the replay.
    if catch_unwind(|| check(&[])).is_err() {
        failures.push("(the empty input)".to_string());
    }
    for path in &inputs {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        if catch_unwind(AssertUnwindSafe(|| check(&bytes))).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{target}: {} of {} saved inputs fail their check:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}

/// Every fuzz target has a check in `fuzz/checks`, and every check a test here.
#[test]
fn every_fuzz_target_is_replayed() {
    let names: Vec<&str> = checks::TARGETS.iter().map(|(name, _)| *name).collect();
    for name in &names {
        assert!(
            REPLAYED.contains(name),
            "fuzz target {name} has no replay test: add it to `replays!`"
        );
    }
    let targets = files_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets"));
    for target in &targets {
        let stem = target
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(
            names.contains(&stem.as_str()),
            "fuzz target {stem} has no check in fuzz/checks"
        );
    }
    assert_eq!(targets.len(), names.len(), "one fuzz target per check");
}

macro_rules! replays {
    ($($target:ident),* $(,)?) => {
        const REPLAYED: &[&str] = &[$(stringify!($target)),*];
        $(
            #[test]
            fn $target() {
                replay(stringify!($target));
            }
        )*
    };
}

replays!(
    yaml,
    json,
    dotenv_ini,
    decrypt,
    ciphertext,
    metadata,
    sops_config,
    edit_view,
    merge
);
