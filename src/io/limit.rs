//! How much input ksec reads: every file and stdin is refused past a limit, before it is read
//! whole. Reading, parsing and encrypting all take memory in proportion to the input (the
//! densest YAML or JSON, a value every two bytes, needs some 300 bytes of memory per input
//! byte to encrypt, as every value becomes a ~100-byte `ENC[…]` string), and a device such as
//! `/dev/zero` never ends at all.
//!
//! The default, 16 MiB, is 16 times the largest Secret the Kubernetes API server stores (1 MiB)
//! and far above any secrets file; the densest input of that size still encrypts within about
//! 5 GB. `KSEC_MAX_INPUT_SIZE` sets another limit (bytes, or with a K, M or G suffix).

use super::IoError;

/// The environment variable that sets the limit.
pub const MAX_INPUT_SIZE_VAR: &str = "KSEC_MAX_INPUT_SIZE";

/// The limit when [`MAX_INPUT_SIZE_VAR`] is not set.
pub const DEFAULT_MAX_INPUT_SIZE: u64 = 16 << 20;

/// The limit in force: [`MAX_INPUT_SIZE_VAR`] when set, else [`DEFAULT_MAX_INPUT_SIZE`].
pub fn max_input_size() -> Result<u64, IoError> {
    match std::env::var_os(MAX_INPUT_SIZE_VAR) {
        None => Ok(DEFAULT_MAX_INPUT_SIZE),
        Some(value) => {
            let value = value.to_string_lossy().into_owned();
            parse_size(&value).ok_or(IoError::InvalidMaxInputSize { value })
        }
    }
}

/// A size in bytes, with an optional binary suffix: `1048576`, `512K`, `64M`, `1G`, `64MiB`.
/// Zero is refused: a limit that refuses every input is a mistake, not a setting.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, suffix) = text.split_at(digits);
    let number: u64 = number.parse().ok()?;
    let unit: u64 = match suffix.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(unit).filter(|&size| size > 0)
}

/// A size as messages show it: in MiB when it is a whole number of them, else in bytes.
pub fn describe(size: u64) -> String {
    if size >= 1 << 20 && size.is_multiple_of(1 << 20) {
        format!("{} MiB", size >> 20)
    } else {
        format!("{size} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_bytes_or_binary_multiples() {
        for (text, size) in [
            ("1", 1),
            ("1048576", 1 << 20),
            ("512K", 512 << 10),
            ("512k", 512 << 10),
            ("64M", 64 << 20),
            ("64MiB", 64 << 20),
            (" 64 MB ", 64 << 20),
            ("1G", 1 << 30),
            ("2T", 2 << 40),
            ("100B", 100),
        ] {
            assert_eq!(parse_size(text), Some(size), "{text:?}");
        }
        for text in [
            "",
            "0",
            "0M",
            "M",
            "-1",
            "1.5M",
            "64X",
            "1 000",
            "99999999999999999999",
            "20000000T",
        ] {
            assert_eq!(parse_size(text), None, "{text:?}");
        }
    }

    #[test]
    fn sizes_read_as_bytes_and_whole_mebibytes() {
        assert_eq!(describe(DEFAULT_MAX_INPUT_SIZE), "16 MiB");
        assert_eq!(describe(1000), "1000 bytes");
    }
}
