//! How asking a key service failed, classified the same way for every service, so the "no key
//! worked" report and the hints can say what to fix (the token, the policy, the key, the
//! network) whichever service it was.

use std::fmt;

use crate::keys::{KeyKind, UnwrapFailure};

/// What went wrong with a key service, as far as the answer (or its absence) tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// No credentials were found to ask with (no token, no identity).
    NoCredentials,
    /// The credentials were refused as such: expired, revoked or never valid.
    InvalidCredentials,
    /// The caller is known but not allowed to use the key.
    AccessDenied,
    /// The key exists but may not be used: disabled, soft-deleted, or its version retired.
    KeyDisabled,
    /// No such key (deleted, or never created), or no such engine where the key should be.
    KeyNotFound,
    /// The key refused this ciphertext: it was not made by this key, or was damaged.
    WrongCiphertext,
    /// No connection: refused, no route, unknown host.
    Unreachable,
    /// The service did not answer in time.
    Timeout,
    /// The TLS handshake failed (an unknown certificate authority, a name mismatch…).
    Tls,
    /// The service failed on its side (5xx, sealed, rate limited).
    ServiceFailed,
    /// The service refused the request for another reason.
    Rejected,
    /// The answer was not what the service's protocol promises.
    BadResponse,
    /// Settings in the environment that cannot be used (a timeout that is not a duration…).
    Settings,
}

impl FailureClass {
    /// Whether asking again later, or from elsewhere, could work without changing anything in
    /// the file or the service (the network, the service's health).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            FailureClass::Unreachable | FailureClass::Timeout | FailureClass::ServiceFailed
        )
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureClass::NoCredentials => "no credentials",
            FailureClass::InvalidCredentials => "invalid or expired credentials",
            FailureClass::AccessDenied => "access denied",
            FailureClass::KeyDisabled => "key disabled",
            FailureClass::KeyNotFound => "key deleted or not found",
            FailureClass::WrongCiphertext => "the key cannot decrypt this data key",
            FailureClass::Unreachable => "endpoint unreachable",
            FailureClass::Timeout => "timed out",
            FailureClass::Tls => "TLS failure",
            FailureClass::ServiceFailed => "service failure",
            FailureClass::Rejected => "request rejected",
            FailureClass::BadResponse => "unexpected answer",
            FailureClass::Settings => "unusable settings",
        })
    }
}

/// A key service that failed to wrap or unwrap: which one was asked, where, as whom, and what
/// came back. Nothing in it is secret: a token is named by where it came from, never shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{class}: {detail} ({endpoint}, {identity})")]
pub struct ServiceError {
    pub kind: KeyKind,
    pub class: FailureClass,
    /// Where the request went: `Vault at https://vault:8200`.
    pub endpoint: String,
    /// Whose request it was: `token from VAULT_TOKEN, namespace team-a`.
    pub identity: String,
    /// What the service answered, or what the network did; bounded in length.
    pub detail: String,
}

impl UnwrapFailure for ServiceError {
    fn service_failure(&self) -> Option<FailureClass> {
        Some(self.class)
    }
}

/// At most `limit` characters of a service's message, on one line, without control characters:
/// an error body must not be able to forge report lines or flood the terminal.
pub(crate) fn bounded(text: &str, limit: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(limit)
        .collect();
    if text.chars().count() > limit {
        out.push('…');
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_error_names_the_class_the_answer_the_endpoint_and_the_identity() {
        let error = ServiceError {
            kind: KeyKind::HcVault,
            class: FailureClass::InvalidCredentials,
            endpoint: "Vault at http://127.0.0.1:8200".into(),
            identity: "token from VAULT_TOKEN".into(),
            detail: "403 permission denied".into(),
        };
        assert_eq!(
            error.to_string(),
            "invalid or expired credentials: 403 permission denied (Vault at http://127.0.0.1:8200, token from \
             VAULT_TOKEN)"
        );
        assert_eq!(error.service_failure(), Some(FailureClass::InvalidCredentials));
    }

    #[test]
    fn service_messages_are_bounded_to_one_line() {
        assert_eq!(bounded("a\nb\x1b[31m", 100), "a b [31m");
        assert_eq!(bounded("abcdef", 3), "abc…");
    }
}
