//! What the AWS SDK's errors mean for the user, on the same [`FailureClass`] scale as every
//! key service: the error code KMS or STS answered with (`AccessDeniedException`,
//! `DisabledException`, `ExpiredTokenException`…), or what the network did, or why no
//! credentials could be found. The detail keeps the service's own words (its code and
//! message), on one bounded line.

use std::error::Error;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::keys::services::{FailureClass, bounded};

/// What a timeout says when nothing more is known; the caller adds the step and the limit.
pub(super) const NO_ANSWER: &str = "no answer in time";

/// How long a detail may be: enough for the credential chain's reasons, one per provider.
const DETAIL_LIMIT: usize = 600;

/// The class of an error code from KMS or STS (codes are compared without case), or of the
/// HTTP status when the code says nothing ksec knows.
pub(super) fn class_of_code(code: &str, status: u16) -> FailureClass {
    use FailureClass::*;
    match code.to_ascii_lowercase().as_str() {
        "accessdeniedexception" | "accessdenied" => AccessDenied,
        // The credentials themselves: unknown key id, bad signature, expired session.
        "unrecognizedclientexception"
        | "invalidclienttokenid"
        | "invalidsignatureexception"
        | "signaturedoesnotmatch"
        | "incompletesignature"
        | "missingauthenticationtoken"
        | "missingauthenticationtokenexception"
        | "invalidaccesskeyid"
        | "authfailure"
        | "expiredtokenexception"
        | "expiredtoken"
        | "requestexpired"
        | "invalidtoken"
        | "tokenrefreshrequired" => InvalidCredentials,
        // Disabled, pending deletion, or pending import: the key exists but may not be used.
        "disabledexception" | "kmsinvalidstateexception" => KeyDisabled,
        "notfoundexception" => KeyNotFound,
        // The ciphertext was not made by this key, or with another encryption context.
        "invalidciphertextexception" | "incorrectkeyexception" => WrongCiphertext,
        "keyunavailableexception"
        | "kmsinternalexception"
        | "dependencytimeoutexception"
        | "throttlingexception"
        | "throttling"
        | "limitexceededexception"
        | "serviceunavailable"
        | "serviceunavailableexception"
        | "internalfailure"
        | "internalerror" => ServiceFailed,
        _ if status == 401 => InvalidCredentials,
        _ if status == 403 => AccessDenied,
        _ if (500..600).contains(&status) => ServiceFailed,
        _ => Rejected,
    }
}

/// The class and detail of a failed KMS or STS call.
pub(super) fn of_sdk_error<E>(error: &SdkError<E, HttpResponse>) -> (FailureClass, String)
where
    E: ProvideErrorMetadata + Error + 'static,
{
    match error {
        SdkError::ServiceError(failure) => {
            let err = failure.err();
            let status = failure.raw().status().as_u16();
            let code = err.code().unwrap_or_default();
            let message = err.message().unwrap_or_default();
            let detail = match (code.is_empty(), message.is_empty()) {
                (false, false) => format!("{code}: {message}"),
                (false, true) => code.to_string(),
                (true, false) => format!("HTTP {status}: {message}"),
                (true, true) => format!("HTTP {status}"),
            };
            (class_of_code(code, status), bounded(&detail, DETAIL_LIMIT))
        }
        SdkError::TimeoutError(_) => (FailureClass::Timeout, NO_ANSWER.into()),
        SdkError::DispatchFailure(failure) => {
            let detail = chain(error);
            let class = if failure.is_timeout() {
                FailureClass::Timeout
            } else if mentions_tls(error) {
                FailureClass::Tls
            } else if failure.is_user() {
                FailureClass::Settings
            } else {
                FailureClass::Unreachable
            };
            (class, detail)
        }
        SdkError::ResponseError(_) => (FailureClass::BadResponse, chain(error)),
        // Before anything was sent: an endpoint URL that is not one, a missing setting.
        SdkError::ConstructionFailure(_) => (FailureClass::Settings, chain(error)),
        _ => (FailureClass::Rejected, chain(error)),
    }
}

/// The class and detail of credentials that could not be found or fetched.
pub(super) fn of_credentials_error(error: &CredentialsError) -> (FailureClass, String) {
    let detail = chain(error);
    let class = match error {
        CredentialsError::CredentialsNotLoaded(_) => {
            let raw = raw_chain(error);
            let tried = tried_providers(&raw);
            let detail = if tried.is_empty() {
                detail
            } else {
                let tried = format!("none found; the AWS credential chain tried {}", tried.join(", "));
                bounded(&tried, DETAIL_LIMIT)
            };
            return (FailureClass::NoCredentials, detail);
        }
        CredentialsError::ProviderTimedOut(_) => FailureClass::Timeout,
        CredentialsError::InvalidConfiguration(_) => FailureClass::Settings,
        // A provider that asked a service (SSO, STS for a profile's role or a web identity,
        // the instance or container metadata) and was refused or not answered.
        _ => of_words(&detail),
    };
    (class, detail)
}

/// The class a provider's failure text tells, for providers whose errors carry no code ksec
/// can read.
fn of_words(detail: &str) -> FailureClass {
    let lower = detail.to_ascii_lowercase();
    if lower.contains("timed out") || lower.contains("timeout") {
        FailureClass::Timeout
    } else if lower.contains("connection refused")
        || lower.contains("error trying to connect")
        || lower.contains("dns error")
        || lower.contains("failed to lookup")
    {
        FailureClass::Unreachable
    } else if lower.contains("accessdenied") || lower.contains("access denied") || lower.contains("not authorized") {
        FailureClass::AccessDenied
    } else {
        FailureClass::InvalidCredentials
    }
}

/// The providers the SDK's chain names after `Attempted:`, one per line, each with its reason
/// when it gives more than the words every provider repeats:
/// `  Profile: the credential provider was not enabled: profile `x` was not defined`.
fn tried_providers(text: &str) -> Vec<String> {
    let Some((_, attempted)) = text.split_once("Attempted:") else {
        return Vec::new();
    };
    attempted
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
        .filter(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|(name, reason)| {
            let reason = reason.trim();
            let reason = reason
                .strip_prefix("the credential provider was not enabled")
                .map_or(reason, |rest| rest.trim_start_matches(':').trim());
            if reason.is_empty() {
                name.to_string()
            } else {
                format!("{name} ({reason})")
            }
        })
        .collect()
}

/// An error and its sources on one bounded line, each message once (the SDK's layers often
/// repeat their source's words), runs of blanks made one.
fn chain(error: &(dyn Error + 'static)) -> String {
    let text = raw_chain(error);
    bounded(&text.split_whitespace().collect::<Vec<_>>().join(" "), DETAIL_LIMIT)
}

/// An error and its sources, as they say it.
fn raw_chain(error: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in causes(error) {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Whether the TLS handshake is what failed: rustls's error somewhere in the chain.
fn mentions_tls(error: &(dyn Error + 'static)) -> bool {
    causes(error).any(|e| e.is::<rustls::Error>())
}

/// An error and every error under it. An I/O error that wraps another (as the TLS layers
/// wrap rustls's) gives that error itself as the next one, where `source` would skip it.
fn causes<'a>(error: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(error), |&e: &&'a (dyn Error + 'static)| {
        match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn Error + 'static)),
            None => e.source(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use FailureClass::*;

    #[test]
    fn kms_and_sts_codes_are_classed_as_the_user_must_act_on_them() {
        for (code, status, class) in [
            ("AccessDeniedException", 400, AccessDenied),
            ("AccessDenied", 403, AccessDenied),
            ("UnrecognizedClientException", 400, InvalidCredentials),
            ("ExpiredTokenException", 400, InvalidCredentials),
            ("ExpiredToken", 403, InvalidCredentials),
            ("InvalidClientTokenId", 403, InvalidCredentials),
            ("InvalidSignatureException", 400, InvalidCredentials),
            ("DisabledException", 400, KeyDisabled),
            ("KMSInvalidStateException", 400, KeyDisabled),
            ("NotFoundException", 400, KeyNotFound),
            ("InvalidCiphertextException", 400, WrongCiphertext),
            ("IncorrectKeyException", 400, WrongCiphertext),
            ("KMSInternalException", 500, ServiceFailed),
            ("ThrottlingException", 400, ServiceFailed),
            ("KeyUnavailableException", 500, ServiceFailed),
            ("ValidationException", 400, Rejected),
            ("", 403, AccessDenied),
            ("", 502, ServiceFailed),
            ("SomethingNew", 400, Rejected),
        ] {
            assert_eq!(class_of_code(code, status), class, "{code} {status}");
        }
    }

    #[test]
    fn credential_failures_are_classed_by_their_kind() {
        let (class, detail) = of_credentials_error(&CredentialsError::not_loaded("no providers in chain"));
        assert_eq!(class, NoCredentials);
        assert!(detail.contains("no providers in chain"), "{detail}");
        let (class, detail) = of_credentials_error(&CredentialsError::not_loaded(
            "no credentials found in chain. Attempted:\n  Environment: not set\n  Profile: the credential \
             provider was not enabled\n  Ec2InstanceMetadata: disabled (AWS_EC2_METADATA_DISABLED: true)\n",
        ));
        assert_eq!(class, NoCredentials);
        assert_eq!(
            detail,
            "none found; the AWS credential chain tried Environment (not set), Profile, Ec2InstanceMetadata \
             (disabled (AWS_EC2_METADATA_DISABLED: true))"
        );
        let (class, _) = of_credentials_error(&CredentialsError::provider_timed_out(std::time::Duration::from_secs(5)));
        assert_eq!(class, Timeout);
        let (class, _) = of_credentials_error(&CredentialsError::invalid_configuration("profile `x` not found"));
        assert_eq!(class, Settings);
        let (class, _) = of_credentials_error(&CredentialsError::provider_error("the SSO session has expired"));
        assert_eq!(class, InvalidCredentials);
        let (class, _) = of_credentials_error(&CredentialsError::provider_error(
            "dispatch failure: error trying to connect: Connection refused",
        ));
        assert_eq!(class, Unreachable);
    }

    #[test]
    fn a_chain_names_each_message_once_on_one_line() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "dispatch failure")
            }
        }
        impl Error for Outer {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let error = Outer(std::io::Error::other("tcp connect error:\nConnection refused"));
        assert_eq!(chain(&error), "dispatch failure: tcp connect error: Connection refused");
        assert!(!mentions_tls(&error));

        // How hyper-rustls hands on a refused certificate: rustls's error inside two I/O
        // errors, which `source` alone would step over.
        let rejection = Outer(std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        )));
        assert!(mentions_tls(&rejection));
        assert_eq!(
            chain(&rejection),
            "dispatch failure: invalid peer certificate: UnknownIssuer"
        );
    }
}
