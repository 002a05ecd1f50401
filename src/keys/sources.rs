//! The record every key type keeps of where it looked for identities: each place (a variable, a
//! default file, the gpg binary), what it held or why it could not be used, and the lines of the
//! report printed when no key opens a file.
//!
//! A place the user set but that is broken is marked UNUSABLE and the others are still used, as
//! sops does: a stale `SOPS_AGE_KEY_FILE` in a CI job must not stop a file that another key opens.

use std::fmt;
use std::sync::{Arc, Mutex};

/// One place identities were looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySource {
    /// What the user would recognise: `SOPS_AGE_KEY_FILE=/path`, `default key file /path`, ….
    pub name: String,
    pub status: SourceStatus,
    /// The public side of each identity it held (an age recipient, an SSH public key, an
    /// OpenPGP fingerprint, or what a plugin identity is), so a report can show which keys this
    /// machine has without showing a private one.
    pub public_keys: Vec<String>,
}

/// Public keys longer than this (RSA SSH keys run to 700 characters) are shortened in reports
/// to their start and end, which is what a person compares.
const SHOWN_KEY_LEN: usize = 100;

/// A public key as a report shows it: whole, or its start and end when it is long.
pub fn shown_public_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= SHOWN_KEY_LEN {
        return key.to_string();
    }
    let start: String = chars[..48].iter().collect();
    let end: String = chars[chars.len() - 24..].iter().collect();
    format!("{start}…{end}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceStatus {
    /// Read; it held this many identities.
    Loaded(usize),
    /// Not there (the variable is unset, the default file does not exist), with the reason.
    Absent(String),
    /// There, but not usable (a passphrase-protected SSH key, say), with the reason.
    Skipped(String),
    /// Set by the user but broken (a missing file, a failing command, a bad line), with the
    /// reason. The other sources are still used, as sops does.
    Failed(String),
    /// Not read in advance but asked at decryption time (the gpg binary), described.
    Available(String),
}

impl fmt::Display for IdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.keys_suffix();
        match &self.status {
            SourceStatus::Loaded(1) => write!(f, "{}: 1 identity{keys}", self.name),
            SourceStatus::Loaded(count) => write!(f, "{}: {count} identities{keys}", self.name),
            SourceStatus::Absent(reason) => write!(f, "{}: {reason}", self.name),
            SourceStatus::Skipped(reason) => write!(f, "{}: skipped: {reason}", self.name),
            SourceStatus::Failed(reason) => write!(f, "{}: UNUSABLE: {reason}", self.name),
            SourceStatus::Available(description) => write!(f, "{}: {description}{keys}", self.name),
        }
    }
}

impl IdentitySource {
    /// ` (age1…, ssh-ed25519 …)`: the public keys, for the end of a report line.
    fn keys_suffix(&self) -> String {
        match self.public_keys.as_slice() {
            [] => String::new(),
            keys => format!(
                " ({})",
                keys.iter().map(|k| shown_public_key(k)).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// What became of an identity that is settled only when a file needs it (a passphrase-protected
/// key, unlocked then), shared between the identity, which writes it, and the record, which
/// reports it.
pub type Outcome = Arc<Mutex<Option<String>>>;

/// Every place one key type looked for identities, in the order they are tried.
#[derive(Default)]
pub struct SourceRecord {
    sources: Vec<IdentitySource>,
    /// The sources settled at use: their index in `sources` and what became of them.
    outcomes: Vec<(usize, Outcome)>,
}

impl SourceRecord {
    /// Records a place that was read and held identities with these public keys, one each.
    pub fn note_loaded_keys(&mut self, source_name: &str, public_keys: Vec<String>) {
        self.note(source_name, SourceStatus::Loaded(public_keys.len()));
        if let Some(source) = self.sources.last_mut() {
            source.public_keys = public_keys;
        }
    }

    /// Records a source asked only when a file needs it whose public key is known now (a
    /// passphrase-protected SSH key keeps it in clear).
    pub fn note_settled_at_use_with_key(
        &mut self,
        source_name: &str,
        description: &str,
        outcome: Outcome,
        public_key: String,
    ) {
        self.note_settled_at_use(source_name, description, outcome);
        if let Some(source) = self.sources.last_mut() {
            source.public_keys = vec![public_key];
        }
    }

    /// Records a place that was looked at and found empty-handed.
    pub fn note_absent(&mut self, source_name: &str, reason: &str) {
        self.note(source_name, SourceStatus::Absent(reason.to_owned()));
    }

    /// Records a place that held something ksec cannot use, and why.
    pub fn note_skipped(&mut self, source_name: &str, reason: &str) {
        self.note(source_name, SourceStatus::Skipped(reason.to_owned()));
    }

    /// Records a source the user set that could not be used, and why.
    pub fn note_failed(&mut self, source_name: &str, reason: &str) {
        self.note(source_name, SourceStatus::Failed(reason.to_owned()));
    }

    /// Records a source that is asked only at decryption time, described.
    pub fn note_available(&mut self, source_name: &str, description: &str) {
        self.note(source_name, SourceStatus::Available(description.to_owned()));
    }

    /// Records a source asked only when a file needs it: `description` until then, and its
    /// `outcome` in the report once there is one.
    pub fn note_settled_at_use(&mut self, source_name: &str, description: &str, outcome: Outcome) {
        self.outcomes.push((self.sources.len(), outcome));
        self.note_available(source_name, description);
    }

    fn note(&mut self, source_name: &str, status: SourceStatus) {
        self.sources.push(IdentitySource {
            name: source_name.to_owned(),
            status,
            public_keys: Vec::new(),
        });
    }

    /// Whether a source the user set could not be used (found so at discovery, or when it was
    /// used: its outcome then starts with `UNUSABLE`).
    pub fn has_failed(&self) -> bool {
        self.sources.iter().any(|s| matches!(s.status, SourceStatus::Failed(_)))
            || (0..self.sources.len()).any(|index| self.outcome_of(index).is_some_and(|o| o.starts_with("UNUSABLE")))
    }

    /// Every place looked at, as recorded when it was looked at.
    pub fn as_slice(&self) -> &[IdentitySource] {
        &self.sources
    }

    /// One line per place looked at, for the report printed when no key works; a source settled
    /// at use shows what became of it, once something did.
    pub fn report(&self) -> String {
        self.sources
            .iter()
            .enumerate()
            .map(|(index, source)| match self.outcome_of(index) {
                Some(outcome) => format!("{}: {outcome}{}", source.name, source.keys_suffix()),
                None => source.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn outcome_of(&self, index: usize) -> Option<String> {
        self.outcomes
            .iter()
            .find(|(at, _)| *at == index)
            .and_then(|(_, outcome)| outcome.lock().ok().and_then(|o| o.clone()))
    }
}

impl fmt::Debug for SourceRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.sources).finish()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The one source recorded as unusable: its name and the reason.
    pub(crate) fn only_failure(sources: &[IdentitySource]) -> (String, String) {
        let failed: Vec<_> = sources
            .iter()
            .filter_map(|s| match &s.status {
                SourceStatus::Failed(reason) => Some((s.name.clone(), reason.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(failed.len(), 1, "expected one unusable source in {sources:?}");
        failed.into_iter().next().expect("one failure")
    }

    #[test]
    fn the_report_has_one_line_per_place_in_the_order_looked() {
        let mut record = SourceRecord::default();
        record.note_loaded_keys("SOPS_AGE_KEY", vec!["age1a".into()]);
        record.note_loaded_keys("SOPS_AGE_KEY_FILE=/k.txt", vec!["age1b".into(), "age1c".into()]);
        record.note_absent("SOPS_AGE_KEY_CMD", "not set");
        record.note_skipped("SSH key /h/.ssh/id_rsa", "not an SSH private key");
        record.note_failed("SOPS_PGP_KEY_FILE=/gone", "cannot read the file");
        record.note_available("gpg", "/usr/bin/gpg, asked after the keys above");
        assert_eq!(
            record.report(),
            "SOPS_AGE_KEY: 1 identity (age1a)\n\
             SOPS_AGE_KEY_FILE=/k.txt: 2 identities (age1b, age1c)\n\
             SOPS_AGE_KEY_CMD: not set\n\
             SSH key /h/.ssh/id_rsa: skipped: not an SSH private key\n\
             SOPS_PGP_KEY_FILE=/gone: UNUSABLE: cannot read the file\n\
             gpg: /usr/bin/gpg, asked after the keys above"
        );
        assert!(record.has_failed());
        assert_eq!(only_failure(record.as_slice()).0, "SOPS_PGP_KEY_FILE=/gone");
        assert_eq!(SourceRecord::default().report(), "");
    }

    #[test]
    fn the_report_shows_the_public_key_of_each_identity_found() {
        let mut record = SourceRecord::default();
        record.note_loaded_keys("SOPS_AGE_KEY", vec!["age1first".into(), "age1second".into()]);
        let rsa = format!("ssh-rsa AAAAB3NzaC1yc2E{}END-OF-KEY", "x".repeat(600));
        record.note_loaded_keys("SSH key /h/.ssh/id_rsa", vec![rsa]);
        record.note_settled_at_use_with_key(
            "SSH key /h/.ssh/id_ed25519",
            "passphrase-protected",
            Outcome::default(),
            "ssh-ed25519 AAAAC3".into(),
        );
        let report = record.report();
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines[0], "SOPS_AGE_KEY: 2 identities (age1first, age1second)");
        assert!(lines[1].starts_with("SSH key /h/.ssh/id_rsa: 1 identity (ssh-rsa AAAAB3NzaC1yc2E"));
        assert!(
            lines[1].ends_with("…xxxxxxxxxxxxxxEND-OF-KEY)") && lines[1].len() < 150,
            "{report}"
        );
        assert_eq!(
            lines[2],
            "SSH key /h/.ssh/id_ed25519: passphrase-protected (ssh-ed25519 AAAAC3)"
        );
    }

    #[test]
    fn a_source_settled_at_use_reports_its_outcome_once_there_is_one() {
        let mut record = SourceRecord::default();
        let outcome = Outcome::default();
        record.note_settled_at_use("SSH key /h/.ssh/id_ed25519", "asked when needed", Arc::clone(&outcome));
        record.note_absent("SOPS_AGE_KEY", "not set");
        let before = "SSH key /h/.ssh/id_ed25519: asked when needed\nSOPS_AGE_KEY: not set";
        assert_eq!(record.report(), before);

        *outcome.lock().expect("lock") = Some("unlocked with the passphrase given".into());
        assert_eq!(
            record.report(),
            "SSH key /h/.ssh/id_ed25519: unlocked with the passphrase given\nSOPS_AGE_KEY: not set"
        );
        assert_eq!(
            record.as_slice()[0].status,
            SourceStatus::Available("asked when needed".into()),
            "the record keeps what was found at discovery"
        );
        assert!(!record.has_failed());
    }
}
