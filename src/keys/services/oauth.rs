//! What the services that take OAuth 2.0 bearer tokens share (GCP Cloud KMS, Azure Key Vault):
//! the token and where it came from, form bodies for token endpoints and their answers and
//! refusals (RFC 6749 §5.1, §5.2), JWTs signed with RS256 for the grants that need one (a
//! Google service account's key, an Azure application's certificate), and the rule that a
//! token or a secret is only sent over https, or over plain http to this machine (tests and
//! emulators).

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::error::{FailureClass, bounded};
use super::http::{Response, TransportError, host_of, is_loopback};

/// An access token and whose it is. `Debug` shows only the latter.
#[derive(Clone)]
pub struct BearerToken {
    secret: SecretString,
    /// `service account ci@p.iam.gserviceaccount.com (GOOGLE_APPLICATION_CREDENTIALS=/k.json)`.
    pub identity: String,
}

impl BearerToken {
    pub fn new(secret: SecretString, identity: String) -> BearerToken {
        BearerToken { secret, identity }
    }

    /// `Bearer <token>`, for the `Authorization` header; wiped when dropped.
    pub fn authorization(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("Bearer {}", self.secret.expose_secret()))
    }

    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// An `application/x-www-form-urlencoded` body, in a buffer wiped when dropped (it may hold a
/// client secret, a refresh token or an assertion).
pub fn form(pairs: &[(&str, &str)]) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(Vec::with_capacity(256));
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            body.push(b'&');
        }
        percent_encode(&mut body, name);
        body.push(b'=');
        percent_encode(&mut body, value);
    }
    body
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(out: &mut Vec<u8>, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte);
        } else {
            out.extend_from_slice(format!("%{byte:02X}").as_bytes());
        }
    }
}

/// `text` percent-encoded, for a URL's query.
pub fn query_value(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    percent_encode(&mut out, text);
    String::from_utf8(out).unwrap_or_default()
}

/// The access token in a token endpoint's answer: `access_token` (OAuth 2.0, the metadata
/// servers) or `accessToken` (Google's IAM credentials API, the Azure CLI).
pub fn access_token(body: &[u8]) -> Option<SecretString> {
    #[derive(Deserialize)]
    struct Answer {
        access_token: Option<String>,
        #[serde(rename = "accessToken")]
        access_token_camel: Option<String>,
    }
    let answer: Answer = serde_json::from_slice(body).ok()?;
    answer
        .access_token
        .or(answer.access_token_camel)
        .filter(|t| !t.is_empty())
        .map(SecretString::from)
}

/// What a token endpoint said when it refused: `invalid_grant: Token has been expired or
/// revoked.` (RFC 6749 §5.2), or the start of the body when it is not such an answer.
pub fn refusal(status: u16, body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Refusal {
        error: Option<serde_json::Value>,
        error_description: Option<String>,
    }
    let said = match serde_json::from_slice::<Refusal>(body) {
        Ok(Refusal {
            error: Some(serde_json::Value::String(error)),
            error_description,
        }) => match error_description {
            Some(description) => format!("{error}: {}", first_line(&description)),
            None => error,
        },
        // Google's APIs answer `{"error": {"code":…, "message":…, "status":…}}`.
        Ok(Refusal {
            error: Some(serde_json::Value::Object(error)),
            ..
        }) => {
            let status = error.get("status").and_then(|s| s.as_str()).unwrap_or_default();
            let message = error.get("message").and_then(|s| s.as_str()).unwrap_or_default();
            format!("{status}: {message}").trim_matches([' ', ':']).to_string()
        }
        _ => String::from_utf8_lossy(body).into_owned(),
    };
    let said = bounded(&said, 300);
    if said.is_empty() {
        format!("answered {status}")
    } else {
        format!("answered {status}: {said}")
    }
}

/// Azure's error descriptions run over several lines (trace and correlation IDs); the first
/// says what happened.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
}

/// The class of a token endpoint's refusal: the credentials (a secret, a refresh token, an
/// assertion) were refused as such, the caller may not have a token for this, or the
/// endpoint failed.
pub fn refusal_class(status: u16) -> FailureClass {
    match status {
        400 | 401 => FailureClass::InvalidCredentials,
        403 => FailureClass::AccessDenied,
        404 => FailureClass::Settings,
        429 | 500..=599 => FailureClass::ServiceFailed,
        _ => FailureClass::Rejected,
    }
}

/// A JWT (RFC 7519) with these header and claims, signed with RSASSA-PKCS1-v1_5 and SHA-256
/// by the RSA key in `key_pem` (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`). The error
/// never quotes the key.
pub fn jwt_rs256(
    header: &serde_json::Value,
    claims: &serde_json::Value,
    key_pem: &str,
) -> Result<Zeroizing<String>, String> {
    use rsa::RsaPrivateKey;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};

    let key = RsaPrivateKey::from_pkcs8_pem(key_pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(key_pem))
        .map_err(|_| "the private key is not a PEM RSA private key".to_string())?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
    let mut jwt = Zeroizing::new(format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    ));
    let signature = signer
        .try_sign(jwt.as_bytes())
        .map_err(|_| "the private key cannot sign".to_string())?;
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(signature.to_bytes()));
    Ok(jwt)
}

/// How long to wait before asking again after an answer that says "later".
const RETRY_WAIT: Duration = Duration::from_secs(1);

/// Sends a request (`send`) once, and once more after a second when the service answers 429 or
/// a 5xx that may pass (500, 502, 503, 504) and the deadline leaves time, as the cloud SDKs
/// retry. A refused connection or a timeout is not retried: it would only delay the failure.
pub fn with_one_retry(
    deadline: Instant,
    mut send: impl FnMut() -> Result<Response, TransportError>,
) -> Result<Response, TransportError> {
    let response = send()?;
    let passing = matches!(response.status, 429 | 500 | 502 | 503 | 504);
    if passing && deadline.saturating_duration_since(Instant::now()) > RETRY_WAIT * 2 {
        std::thread::sleep(RETRY_WAIT);
        return send();
    }
    Ok(response)
}

/// Seconds since the Unix epoch, for JWT claims.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Refuses a URL that a token or secret must not be sent to: anything but https, except plain
/// http to this machine. `what` names where the URL came from, for the message.
pub fn check_url(url: &str, what: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("{what} {:?} is not a URL", bounded(url, 200)));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(format!("{what} {:?} names no host", bounded(url, 200)));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if is_loopback(&host_of(authority).to_ascii_lowercase()) => Ok(()),
        _ => Err(format!(
            "{what} {:?} must be an https URL (plain http only to this machine)",
            bounded(url, 200)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_encode_everything_but_unreserved_characters() {
        let body = form(&[("grant_type", "refresh_token"), ("x", "a b+c/=&é")]);
        assert_eq!(&body[..], b"grant_type=refresh_token&x=a%20b%2Bc%2F%3D%26%C3%A9");
        assert_eq!(query_value("https://vault.azure.net"), "https%3A%2F%2Fvault.azure.net");
    }

    #[test]
    fn tokens_are_read_from_either_spelling_and_never_shown() {
        let token = access_token(br#"{"access_token":"ya29.x","expires_in":3599}"#).unwrap();
        assert_eq!(token.expose_secret(), "ya29.x");
        let token = access_token(br#"{"accessToken":"eyJ","expireTime":"2026-12-01T00:00:00Z"}"#).unwrap();
        assert_eq!(token.expose_secret(), "eyJ");
        assert!(access_token(br#"{"access_token":""}"#).is_none());
        assert!(access_token(b"<html>").is_none());
        let bearer = BearerToken::new(SecretString::from("s3cret"), "me".into());
        assert!(!format!("{bearer:?}").contains("s3cret"));
        assert_eq!(&*bearer.authorization(), "Bearer s3cret");
    }

    #[test]
    fn refusals_quote_the_error_and_the_first_line_of_its_description() {
        assert_eq!(
            refusal(
                400,
                br#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#
            ),
            "answered 400: invalid_grant: Token has been expired or revoked."
        );
        assert_eq!(
            refusal(
                401,
                br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret.\r\nTrace ID: 1"}"#
            ),
            "answered 401: invalid_client: AADSTS7000215: Invalid client secret."
        );
        assert_eq!(
            refusal(
                403,
                br#"{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}"#
            ),
            "answered 403: PERMISSION_DENIED: Permission denied"
        );
        assert_eq!(refusal(502, b""), "answered 502");
        assert_eq!(refusal_class(400), FailureClass::InvalidCredentials);
        assert_eq!(refusal_class(503), FailureClass::ServiceFailed);
    }

    #[test]
    fn secrets_go_over_https_or_to_this_machine_only() {
        assert!(check_url("https://oauth2.googleapis.com/token", "token_uri").is_ok());
        assert!(check_url("http://127.0.0.1:8080/token", "token_uri").is_ok());
        assert!(check_url("http://localhost/token", "token_uri").is_ok());
        assert!(check_url("http://[::1]:9/token", "token_uri").is_ok());
        let err = check_url("http://example.com/token", "token_uri").unwrap_err();
        assert!(err.contains("must be an https URL"), "{err}");
        assert!(check_url("ftp://127.0.0.1/x", "x").is_err());
        assert!(check_url("oauth2.googleapis.com", "x").is_err());
        assert!(check_url("https:///x", "x").is_err());
    }

    /// A 1024-bit test key, made for this test only (never a real credential); small, so the
    /// test stays fast in debug builds.
    const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAMkHJnyfRiGOUSDg
M6hqd8Za62TjrnJbDuK25LJIA0PeAydqPxRukWta8pIxlvfMPcUSRFUohD9n1ktY
Omqv0Eovsxspq2T7XpyfW+aixxjJBfomRCG82PsGhMD09uvQtP4yaZIBp6+ZV8cA
wv/AzAihyTYLoGnMrSAYDLjmqbjTAgMBAAECgYAGOtl/fTQgMBfli+0t5/bER+cJ
nmC2nInOjtpxh/fJ76RrYUiJKpAJIq1nyG+kSEkVxWYmuXW3vVEPzrEow0ASLlWw
OaZ7bs8xYzXl10yIEbbn/tJFZOSrBggcgh6O1DfzxWQd9OaW8F8tBY+AAwGgm5e1
gWusde9Q2XKa8SVgWQJBAP84WKL8R8N31PW6RcyTOA4KtKJDj2zG9Sqg6MEz7yVB
j0UBmfw9GSSiCNSbnh4w5xxps5obEV3GDJJPYMhlT78CQQDJpGkd2bURQKBJCz+h
V6Drgy+eL6+I6ND1FQ+B5uqsXF4++ODTjylN/874SHWc2nRuhM6PHoGzHzGtYwvD
+lvtAkBsN+s1qP2Q/6XYUBS6qw4Qvi9bwoP1XuOkILiw+6GCzaq/Wu99Sjb4FpDh
/d5s9NV6ccOLK8EQXyMDgw8JyhOnAkArMEjHePrcUCBEpOEjGJbB+t43HnWVeHBR
HgqtQx1ef4Y8LKhTB+XL7A+ThEmUqAGqLk3jv5/+Ep9cSMubVUNdAkEAu8MRUGLU
YEwxahZXXhUS9Rg93nJ3oxZpIg2tzFLt9943Ceh3YEm1A+qlFAwF0roXKuqp7f9M
nltJgbHdqOLqQA==
-----END PRIVATE KEY-----
";

    #[test]
    fn jwts_are_signed_with_rs256_and_verify_with_the_public_key() {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::signature::Verifier;
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        let claims = serde_json::json!({"iss": "ci@p.iam.gserviceaccount.com", "exp": 2});
        let jwt = jwt_rs256(&header, &claims, TEST_KEY).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[1]).unwrap(), claims.to_string().as_bytes());
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(TEST_KEY).unwrap();
        let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.to_public_key());
        let signature =
            rsa::pkcs1v15::Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().as_slice()).unwrap();
        verifier
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("the signature verifies");
        let err = jwt_rs256(
            &header,
            &claims,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap_err();
        assert_eq!(err, "the private key is not a PEM RSA private key");
    }
}
