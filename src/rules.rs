//! Which leaves get encrypted: sops's six mutually exclusive rules and `mac_only_encrypted`.
//!
//! A rule looks at every key on a leaf's path (so it is inherited by descendants), or, for the
//! two comment rules, at the comments written just before the leaf and its ancestors. Regexes
//! are unanchored searches, as in Go's `regexp.Match`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use regex::Regex;

/// The suffix sops applies when a file names no rule at all.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

/// The metadata fields that name a rule, as sops spells them.
pub const RULE_FIELDS: [&str; 6] = [
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
];

/// One encryption rule, as stored in the `sops` metadata block.
#[derive(Debug, Clone)]
pub enum EncryptionRule {
    /// Leaves are encrypted unless a key on their path ends with the suffix.
    UnencryptedSuffix(String),
    /// Leaves are encrypted only if a key on their path ends with the suffix.
    EncryptedSuffix(String),
    /// Leaves are encrypted unless a key on their path matches.
    UnencryptedRegex(Pattern),
    /// Leaves are encrypted only if a key on their path matches.
    EncryptedRegex(Pattern),
    /// Leaves are encrypted unless a comment before them (or an ancestor) matches.
    UnencryptedCommentRegex(Pattern),
    /// Leaves are encrypted only if a comment before them (or an ancestor) matches.
    EncryptedCommentRegex(Pattern),
}

/// Why a rule cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("invalid {field}: {source}")]
    InvalidRegex { field: String, source: regex::Error },
    #[error("invalid {field}: not an encryption rule")]
    UnknownRule { field: String },
    /// A file has one rule; more than one given together is a conflict (sops exit 8).
    #[error("cannot use more than one of {}", .fields.join(", "))]
    SeveralRules { fields: Vec<&'static str> },
}

/// A regex together with the text it was written as (the metadata stores the text).
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    pub regex: Regex,
}

impl Pattern {
    /// Compiles a rule regex; `field` names the setting for the error message.
    pub fn new(field: &str, source: &str) -> Result<Pattern, RuleError> {
        let regex = compiled(source).map_err(|source| RuleError::InvalidRegex {
            field: field.to_string(),
            source,
        })?;
        Ok(Pattern {
            source: source.to_string(),
            regex,
        })
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

/// `source` compiled, once per process for the first few sources: every document of a stream
/// carries the same rule in its metadata, and compiling it again for each one was a quarter of
/// the work of encrypting a stream of 1,000 Secrets. (A `Regex` clone shares the compiled
/// program.)
fn compiled(source: &str) -> Result<Regex, regex::Error> {
    const KEPT: usize = 64;
    static COMPILED: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = COMPILED.get_or_init(Mutex::default);
    if let Some(regex) = cache.lock().unwrap_or_else(PoisonError::into_inner).get(source) {
        return Ok(regex.clone());
    }
    let regex = Regex::new(source)?;
    let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() < KEPT {
        cache.insert(source.to_string(), regex.clone());
    }
    Ok(regex)
}

impl Default for EncryptionRule {
    fn default() -> Self {
        EncryptionRule::UnencryptedSuffix(DEFAULT_UNENCRYPTED_SUFFIX.to_string())
    }
}

impl EncryptionRule {
    /// The metadata field name of this rule, as sops writes it.
    pub fn field_name(&self) -> &'static str {
        match self {
            EncryptionRule::UnencryptedSuffix(_) => "unencrypted_suffix",
            EncryptionRule::EncryptedSuffix(_) => "encrypted_suffix",
            EncryptionRule::UnencryptedRegex(_) => "unencrypted_regex",
            EncryptionRule::EncryptedRegex(_) => "encrypted_regex",
            EncryptionRule::UnencryptedCommentRegex(_) => "unencrypted_comment_regex",
            EncryptionRule::EncryptedCommentRegex(_) => "encrypted_comment_regex",
        }
    }

    /// The rule's text (suffix or regex source).
    pub fn text(&self) -> &str {
        match self {
            EncryptionRule::UnencryptedSuffix(s) | EncryptionRule::EncryptedSuffix(s) => s,
            EncryptionRule::UnencryptedRegex(p)
            | EncryptionRule::EncryptedRegex(p)
            | EncryptionRule::UnencryptedCommentRegex(p)
            | EncryptionRule::EncryptedCommentRegex(p) => &p.source,
        }
    }

    /// Builds a rule from its metadata field name and text.
    pub fn from_field(field: &str, text: &str) -> Result<EncryptionRule, RuleError> {
        Ok(match field {
            "unencrypted_suffix" => EncryptionRule::UnencryptedSuffix(text.to_string()),
            "encrypted_suffix" => EncryptionRule::EncryptedSuffix(text.to_string()),
            "unencrypted_regex" => EncryptionRule::UnencryptedRegex(Pattern::new(field, text)?),
            "encrypted_regex" => EncryptionRule::EncryptedRegex(Pattern::new(field, text)?),
            "unencrypted_comment_regex" => EncryptionRule::UnencryptedCommentRegex(Pattern::new(field, text)?),
            "encrypted_comment_regex" => EncryptionRule::EncryptedCommentRegex(Pattern::new(field, text)?),
            other => {
                return Err(RuleError::UnknownRule {
                    field: other.to_string(),
                });
            }
        })
    }

    /// Picks the single rule among optional settings; more than one is a conflict (sops exit 8).
    pub fn choose(candidates: Vec<EncryptionRule>) -> Result<Option<EncryptionRule>, RuleError> {
        match candidates.len() {
            0 => Ok(None),
            1 => Ok(candidates.into_iter().next()),
            _ => Err(RuleError::SeveralRules {
                fields: candidates.iter().map(EncryptionRule::field_name).collect(),
            }),
        }
    }

    /// Whether a key on the path decides by name (the four key rules) rather than by comments.
    fn key_verdict(&self, key: &str) -> Option<bool> {
        match self {
            EncryptionRule::UnencryptedSuffix(s) => key.ends_with(s.as_str()).then_some(false),
            EncryptionRule::EncryptedSuffix(s) => key.ends_with(s.as_str()).then_some(true),
            EncryptionRule::UnencryptedRegex(p) => p.is_match(key).then_some(false),
            EncryptionRule::EncryptedRegex(p) => p.is_match(key).then_some(true),
            _ => None,
        }
    }

    /// What a leaf gets when nothing on its path (or in its comments) matched.
    fn default_verdict(&self) -> bool {
        matches!(
            self,
            EncryptionRule::UnencryptedSuffix(_)
                | EncryptionRule::UnencryptedRegex(_)
                | EncryptionRule::UnencryptedCommentRegex(_)
        )
    }

    fn uses_comments(&self) -> bool {
        matches!(
            self,
            EncryptionRule::UnencryptedCommentRegex(_) | EncryptionRule::EncryptedCommentRegex(_)
        )
    }
}

/// The rule's verdict so far along one path, updated key by key while walking the tree.
///
/// Key rules are decided by the first matching key and inherited by everything below it, so
/// the walk carries one `Option<bool>` instead of re-testing the whole path at every leaf.
#[derive(Debug, Clone, Copy, Default)]
pub struct PathVerdict(Option<bool>);

impl PathVerdict {
    /// The verdict after descending into `key`.
    pub fn descend(self, rule: &EncryptionRule, key: &str) -> PathVerdict {
        match self.0 {
            Some(_) => self,
            None => PathVerdict(rule.key_verdict(key)),
        }
    }
}

/// Comments seen before the current item at each nesting level (sops's "comment stack").
#[derive(Debug, Default)]
pub struct CommentStack {
    levels: Vec<Vec<String>>,
}

impl CommentStack {
    pub fn push_level(&mut self) {
        self.levels.push(Vec::new());
    }

    pub fn pop_level(&mut self) {
        self.levels.pop();
    }

    /// Records a comment at the current level.
    pub fn note_comment(&mut self, text: &str) {
        if let Some(level) = self.levels.last_mut() {
            level.push(text.to_string());
        }
    }

    /// Forgets the current level's comments after a non-comment item.
    pub fn clear_current(&mut self) {
        if let Some(level) = self.levels.last_mut() {
            level.clear();
        }
    }
}

impl EncryptionRule {
    /// Whether a leaf is encrypted, given the path verdict and the comment stack.
    ///
    /// `is_comment` is true when the leaf is itself a comment: the comment that switches
    /// encryption on (`encrypted_comment_regex`) is not encrypted itself.
    pub fn should_encrypt(&self, path: PathVerdict, comments: &CommentStack, is_comment: bool) -> bool {
        if !self.uses_comments() {
            return path.0.unwrap_or_else(|| self.default_verdict());
        }
        let pattern = match self {
            EncryptionRule::UnencryptedCommentRegex(p) | EncryptionRule::EncryptedCommentRegex(p) => p,
            _ => unreachable!("checked by uses_comments"),
        };
        // The comment that switches encryption on is not encrypted itself (sops skips the
        // newest comment for the encrypted-comment rule only).
        let skip_self = is_comment && matches!(self, EncryptionRule::EncryptedCommentRegex(_));
        let last_level = comments.levels.len().saturating_sub(1);
        let matched = comments.levels.iter().enumerate().any(|(i, level)| {
            level.iter().enumerate().any(|(j, text)| {
                let is_self = skip_self && i == last_level && j + 1 == level.len();
                !is_self && pattern.is_match(text)
            })
        });
        match self {
            EncryptionRule::UnencryptedCommentRegex(_) => !matched,
            _ => matched,
        }
    }

    /// The unencrypted-comment rule, if any: sops refuses to write an encrypted comment that
    /// it would later read as an unencrypted marker.
    pub fn unencrypted_comment_pattern(&self) -> Option<&Pattern> {
        match self {
            EncryptionRule::UnencryptedCommentRegex(p) => Some(p),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(rule: &EncryptionRule, path: &[&str]) -> bool {
        let v = path.iter().fold(PathVerdict::default(), |v, key| v.descend(rule, key));
        rule.should_encrypt(v, &CommentStack::default(), false)
    }

    #[test]
    fn a_pattern_compiled_again_matches_as_before_and_a_bad_one_fails_every_time() {
        for _ in 0..2 {
            let pattern = Pattern::new("encrypted_regex", "^(data|stringData)$").expect("a valid regex");
            assert!(pattern.is_match("data") && pattern.is_match("stringData"));
            assert!(!pattern.is_match("metadata"));
            assert!(matches!(
                Pattern::new("encrypted_regex", "^(data"),
                Err(RuleError::InvalidRegex { .. })
            ));
        }
        // Past the sources kept, patterns still compile and match.
        for i in 0..100 {
            let pattern = Pattern::new("encrypted_regex", &format!("^key{i}$")).expect("a valid regex");
            assert!(pattern.is_match(&format!("key{i}")) && !pattern.is_match("key"));
        }
    }

    #[test]
    fn default_suffix_leaves_marked_subtrees_in_clear() {
        let rule = EncryptionRule::default();
        assert!(verdict(&rule, &["password"]));
        assert!(!verdict(&rule, &["note_unencrypted"]));
        assert!(!verdict(&rule, &["parent_unencrypted", "child"]));
    }

    #[test]
    fn encrypted_regex_is_an_unanchored_search_on_any_key() {
        let rule = EncryptionRule::from_field("encrypted_regex", "^(data|stringData)$").unwrap();
        assert!(verdict(&rule, &["data", "password"]));
        assert!(verdict(&rule, &["stringData"]));
        assert!(!verdict(&rule, &["metadata", "name"]));
        assert!(!verdict(&rule, &["metadata", "database"]));
        let unanchored = EncryptionRule::from_field("encrypted_regex", "data").unwrap();
        assert!(verdict(&unanchored, &["metadata", "database"]));
    }

    #[test]
    fn first_matching_key_decides_for_descendants() {
        let rule = EncryptionRule::from_field("unencrypted_regex", "^note$").unwrap();
        assert!(!verdict(&rule, &["note", "inner"]));
        assert!(verdict(&rule, &["secret", "inner"]));
        let suffix = EncryptionRule::EncryptedSuffix("_secret".into());
        assert!(verdict(&suffix, &["db_secret", "password"]));
        assert!(!verdict(&suffix, &["db", "password"]));
    }

    #[test]
    fn encrypted_comment_regex_skips_the_marker_comment_itself() {
        let rule = EncryptionRule::from_field("encrypted_comment_regex", "sops:enc").unwrap();
        let mut stack = CommentStack::default();
        stack.push_level();
        stack.note_comment(" sops:enc");
        // The marker comment itself stays in clear...
        assert!(!rule.should_encrypt(PathVerdict::default(), &stack, true));
        // ...the value after it is encrypted...
        assert!(rule.should_encrypt(PathVerdict::default(), &stack, false));
        stack.clear_current();
        // ...and the next one is not.
        assert!(!rule.should_encrypt(PathVerdict::default(), &stack, false));
    }

    #[test]
    fn unencrypted_comment_regex_keeps_the_marker_comment_in_clear() {
        let rule = EncryptionRule::from_field("unencrypted_comment_regex", "sops:clear").unwrap();
        let mut stack = CommentStack::default();
        stack.push_level();
        stack.note_comment(" sops:clear");
        assert!(!rule.should_encrypt(PathVerdict::default(), &stack, true));
        assert!(!rule.should_encrypt(PathVerdict::default(), &stack, false));
    }

    #[test]
    fn more_than_one_rule_is_a_conflict() {
        let rules = vec![
            EncryptionRule::EncryptedSuffix("_s".into()),
            EncryptionRule::from_field("encrypted_regex", "x").unwrap(),
        ];
        let err = crate::Error::from(EncryptionRule::choose(rules).unwrap_err());
        assert_eq!(err.exit_code(), 8);
    }
}
