//! Go's `base64.StdEncoding.DecodeString`, the one base64 reader behind YAML's `!!binary`
//! (yaml.v3) and a Secret's `data` values (the API server, through `encoding/json`'s `[]byte`).
//!
//! Go requires `=` padding, tolerates stray bits in the last character, and skips `\r` and `\n`
//! anywhere; any other byte outside the standard alphabet, spaces included, is an error. Both
//! readers must agree byte for byte, so the rules live here once, below `formats` and `kube`.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{DecodeError, Engine, alphabet};
use zeroize::Zeroizing;

/// Go's alphabet and padding rules; the line breaks Go skips are removed before it runs.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Decodes `text` as Go's `StdEncoding.DecodeString` does. Offsets in the error count bytes of
/// `text` without its line breaks. What is decoded is usually a secret, so it (and the copy
/// without line breaks) lives in zeroizing memory sized up front.
pub fn decode(text: &str) -> Result<Zeroizing<Vec<u8>>, DecodeError> {
    let bytes = text.as_bytes();
    // Most values are one line: only one with line breaks is copied without them.
    let compact: Zeroizing<Vec<u8>>;
    let input = if memchr::memchr2(b'\r', b'\n', bytes).is_none() {
        bytes
    } else {
        compact = Zeroizing::new(bytes.iter().copied().filter(|&c| c != b'\r' && c != b'\n').collect());
        compact.as_slice()
    };
    let mut decoded = Zeroizing::new(Vec::with_capacity(base64::decoded_len_estimate(input.len())));
    GO_STD.decode_vec(input, &mut decoded)?;
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_go_reads_and_refuses_what_go_refuses() {
        assert_eq!(
            decode("aGVs\r\nbG8=\n").as_deref().map(Vec::as_slice),
            Ok(&b"hello"[..])
        );
        assert_eq!(decode("YR==").as_deref().map(Vec::as_slice), Ok(&b"a"[..]));
        assert_eq!(decode("").as_deref().map(Vec::as_slice), Ok(&b""[..]));
        assert_eq!(decode("aGVsbG8"), Err(DecodeError::InvalidPadding));
        assert_eq!(decode("aG\nVs bG8="), Err(DecodeError::InvalidByte(4, b' ')));
        assert!(decode("_-8=").is_err(), "URL-safe alphabet is refused");
    }
}
