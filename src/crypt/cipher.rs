//! The value cipher: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.
//!
//! AES-256-GCM under the file's data key, with sops's 32-byte IVs (a non-standard nonce size,
//! so GHASH derives the counter block; ring and aws-lc-rs cannot do it, RustCrypto's
//! `AesGcm<Aes256, U32>` can). Readers take the IV size from the text; 12 and 16 bytes occur.

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::{U12, U16, U32};
use aes_gcm::aead::generic_array::{ArrayLength, GenericArray};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes256;
use base64_simd::{Out, STANDARD as B64};
use zeroize::Zeroizing;

use crate::keys::DataKey;
use crate::scalar::ValueType;

const PREFIX: &str = "ENC[AES256_GCM,data:";
/// The IV length sops writes.
pub const IV_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// A 32-byte IV.
pub type Iv = [u8; IV_LEN];

/// An `ENC[...]` string taken apart.
#[derive(Debug)]
pub struct Ciphertext {
    /// The ciphertext bytes; decryption turns them into the plaintext in place.
    pub data: Zeroizing<Vec<u8>>,
    iv: [u8; MAX_IV_LEN],
    iv_len: usize,
    pub tag: [u8; TAG_LEN],
    pub value_type: ValueType,
}

/// Longest IV accepted on input (sops writes 32 bytes; 12 and 16 occur in hand-made files).
const MAX_IV_LEN: usize = 32;

/// Whether a string is meant to be a sops ciphertext (as opposed to a plain value).
pub fn looks_encrypted(s: &str) -> bool {
    s.starts_with(PREFIX)
}

impl Ciphertext {
    /// Parses `ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<type>]` as sops does: the
    /// pattern is anchored at the start only, and the type runs to the last `]`. Base64 has no
    /// commas, so the fields split at the commas.
    pub fn parse(s: &str) -> Result<Ciphertext, String> {
        let bad = || "not in sops' ENC[AES256_GCM,...] format".to_string();
        let rest = s.strip_prefix(PREFIX).ok_or_else(bad)?;
        let close = memchr::memrchr(b']', rest.as_bytes()).ok_or_else(bad)?;
        let rest = &rest[..close];
        // The first three commas end the data, the IV and the tag (found in one vector scan
        // each: the data of a large value is long); the type is the rest.
        let mut commas = memchr::memchr_iter(b',', rest.as_bytes());
        let (Some(first), Some(second), Some(third)) = (commas.next(), commas.next(), commas.next()) else {
            return Err(bad());
        };
        let data = &rest[..first];
        let iv = rest[first + 1..second].strip_prefix("iv:").ok_or_else(bad)?;
        let tag = rest[second + 1..third].strip_prefix("tag:").ok_or_else(bad)?;
        let type_name = rest[third + 1..].strip_prefix("type:").ok_or_else(bad)?;
        if data.is_empty() || iv.is_empty() || tag.is_empty() || type_name.is_empty() {
            return Err(bad());
        }
        let value_type = ValueType::from_name(type_name).ok_or_else(|| format!("unknown datatype {type_name:?}"))?;
        // Padded standard base64, as strict as Go's decoder in sops (non-zero trailing bits are
        // refused), decoded into a block of its exact size without zero-filling it first (it
        // is decrypted in place, so it holds the plaintext from then on).
        let decoded = Zeroizing::new(
            B64.decode_to_vec(data.as_bytes())
                .map_err(|_| "bad base64 in data".to_string())?,
        );
        let iv_len = B64
            .decoded_length(iv.as_bytes())
            .map_err(|_| "bad base64 (or length) in iv".to_string())?;
        if iv_len > MAX_IV_LEN {
            return Err(format!("unsupported IV length {iv_len}"));
        }
        let mut iv_array = [0u8; MAX_IV_LEN];
        B64.decode(iv.as_bytes(), Out::from_slice(&mut iv_array[..iv_len]))
            .map_err(|_| "bad base64 (or length) in iv".to_string())?;
        let tag_len = B64
            .decoded_length(tag.as_bytes())
            .map_err(|_| "bad base64 in tag".to_string())?;
        if tag_len != TAG_LEN {
            return Err("the GCM tag is not 16 bytes".to_string());
        }
        let mut tag_array = [0u8; TAG_LEN];
        B64.decode(tag.as_bytes(), Out::from_slice(&mut tag_array))
            .map_err(|_| "bad base64 in tag".to_string())?;
        Ok(Ciphertext {
            data: decoded,
            iv: iv_array,
            iv_len,
            tag: tag_array,
            value_type,
        })
    }

    pub fn iv(&self) -> &[u8] {
        &self.iv[..self.iv_len]
    }

    /// How many bytes the value decrypts to: GCM is a stream mode, so as many as the
    /// ciphertext has.
    pub fn plaintext_len(&self) -> usize {
        self.data.len()
    }
}

/// Decrypts values for one file. Holds the expanded AES key for sops's 32-byte IVs, so it is
/// computed once per file rather than once per value.
pub struct Opener<'k> {
    key: &'k DataKey,
    gcm: AesGcm<Aes256, U32>,
}

impl<'k> Opener<'k> {
    pub fn new(key: &'k DataKey) -> Opener<'k> {
        Opener {
            key,
            gcm: AesGcm::new(GenericArray::from_slice(key.as_bytes())),
        }
    }

    /// Decrypts `ciphertext`; `aad` is the value's key path (`a:b:`).
    pub fn open(&self, mut ciphertext: Ciphertext, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        let tag = ciphertext.tag;
        let iv_len = ciphertext.iv_len;
        let iv = ciphertext.iv;
        let buffer = ciphertext.data.as_mut_slice();
        let ok = match iv_len {
            32 => self
                .gcm
                .decrypt_in_place_detached(
                    GenericArray::from_slice(&iv[..32]),
                    aad,
                    buffer,
                    GenericArray::from_slice(&tag),
                )
                .is_ok(),
            12 => open_with::<U12>(self.key, &iv[..12], aad, buffer, &tag),
            16 => open_with::<U16>(self.key, &iv[..16], aad, buffer, &tag),
            n => return Err(format!("unsupported IV length {n}")),
        };
        if ok {
            Ok(std::mem::take(&mut ciphertext.data))
        } else {
            Err("authentication failed (wrong key, or the value or its key path was changed)".to_string())
        }
    }
}

fn open_with<N: ArrayLength<u8>>(key: &DataKey, iv: &[u8], aad: &[u8], buffer: &mut [u8], tag: &[u8; 16]) -> bool {
    let cipher = AesGcm::<Aes256, N>::new(GenericArray::from_slice(key.as_bytes()));
    cipher
        .decrypt_in_place_detached(GenericArray::from_slice(iv), aad, buffer, GenericArray::from_slice(tag))
        .is_ok()
}

/// Encrypts values for one file. Holds the expanded AES key so it is computed once per file.
pub struct Sealer {
    cipher: AesGcm<Aes256, U32>,
    buffer: Zeroizing<Vec<u8>>,
}

impl Sealer {
    pub fn new(key: &DataKey) -> Sealer {
        Sealer {
            cipher: AesGcm::new(GenericArray::from_slice(key.as_bytes())),
            buffer: Zeroizing::new(Vec::new()),
        }
    }

    /// Encrypts `plaintext` and returns the `ENC[...]` string.
    pub fn seal(&mut self, plaintext: &[u8], aad: &[u8], iv: &Iv, value_type: ValueType) -> String {
        if plaintext.len() >= SEAL_IN_OUTPUT_FROM {
            self.seal_in_output(plaintext, aad, iv, value_type)
        } else {
            self.seal_in_buffer(plaintext, aad, iv, value_type)
        }
    }

    /// Encrypts a copy of `plaintext` in the sealer's buffer (reused from value to value), then
    /// writes its base64 into the `ENC[...]` string.
    fn seal_in_buffer(&mut self, plaintext: &[u8], aad: &[u8], iv: &Iv, value_type: ValueType) -> String {
        self.buffer.clear();
        self.buffer.extend_from_slice(plaintext);
        let tag = self
            .cipher
            .encrypt_in_place_detached(GenericArray::from_slice(iv), aad, &mut self.buffer)
            .expect("AES-GCM encryption of an in-memory buffer cannot fail below 64 GiB");
        // Sized exactly and written in place (base64's `encode_string` zeroes a 1 KiB stack
        // buffer per call, three calls per value).
        let len = enc_len(plaintext.len(), value_type);
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(PREFIX.as_bytes());
        push_base64(&mut out, &self.buffer);
        finish_enc(out, len, iv, &tag, value_type)
    }

    /// Encrypts `plaintext` inside the `ENC[...]` string being written, with no buffer of its
    /// size beside it (a 10 MiB value's was a fifth of the memory of encrypting it): the
    /// plaintext is copied to the end of the room its base64 will take, encrypted there, and
    /// the base64 is written forwards from the start of the room ([`encode_in_place`]).
    fn seal_in_output(&self, plaintext: &[u8], aad: &[u8], iv: &Iv, value_type: ValueType) -> String {
        let len = enc_len(plaintext.len(), value_type);
        // Allocated once at its final size: the plaintext copied into it is never moved to a
        // new block, and is encrypted in place right away (a plain `Vec`: it holds ciphertext
        // once this function returns, and AES-GCM cannot fail in between).
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(PREFIX.as_bytes());
        let room = out.len();
        let data_start = room + B64.encoded_length(plaintext.len()) - plaintext.len();
        out.resize(data_start, 0);
        out.extend_from_slice(plaintext);
        let tag = self
            .cipher
            .encrypt_in_place_detached(GenericArray::from_slice(iv), aad, &mut out[data_start..])
            .expect("AES-GCM encryption of an in-memory buffer cannot fail below 64 GiB");
        encode_in_place(&mut out[room..], data_start - room);
        finish_enc(out, len, iv, &tag, value_type)
    }
}

/// Values from this size up are encrypted inside their `ENC[...]` string; below it the
/// sealer's reused buffer costs nothing and the copy is cheap.
const SEAL_IN_OUTPUT_FROM: usize = 64 << 10;

/// The length of the `ENC[...]` string of a plaintext of `len` bytes.
fn enc_len(len: usize, value_type: ValueType) -> usize {
    PREFIX.len()
        + B64.encoded_length(len)
        + ",iv:".len()
        + B64.encoded_length(IV_LEN)
        + ",tag:".len()
        + B64.encoded_length(TAG_LEN)
        + ",type:".len()
        + value_type.name().len()
        + "]".len()
}

/// Appends the IV, the tag and the type to an `ENC[...]` string whose data is written.
fn finish_enc(mut out: Vec<u8>, len: usize, iv: &Iv, tag: &[u8], value_type: ValueType) -> String {
    out.extend_from_slice(b",iv:");
    push_base64(&mut out, iv);
    out.extend_from_slice(b",tag:");
    push_base64(&mut out, tag);
    out.extend_from_slice(b",type:");
    out.extend_from_slice(value_type.name().as_bytes());
    out.push(b']');
    debug_assert_eq!(out.len(), len, "sized by enc_len");
    String::from_utf8(out).expect("base64 and the ASCII of the ENC[...] syntax")
}

/// Replaces `room` (data in its last `room.len() - gap` bytes, `gap` being what base64 adds)
/// with the base64 of that data. Base64 writes 4 bytes for every 3 it reads, so the writing
/// end catches up with the reading end only at the last byte: the distance between them is a
/// third of what is left to read. Each chunk takes what fits in that distance (a quarter of
/// what is left, in whole 3-byte groups); once that is under `MIN_CHUNK`, the rest (about
/// 12 KiB of ciphertext) is encoded from a copy.
fn encode_in_place(room: &mut [u8], gap: usize) {
    const MIN_CHUNK: usize = 3 << 10;
    let (mut read, mut written) = (gap, 0);
    loop {
        let left = room.len() - read;
        let chunk = ((read - written) / 4 * 3).min(left / 3 * 3);
        if chunk < MIN_CHUNK {
            break;
        }
        let (head, tail) = room.split_at_mut(read);
        let encoded = chunk / 3 * 4;
        let _ = B64.encode(&tail[..chunk], Out::from_slice(&mut head[written..written + encoded]));
        read += chunk;
        written += encoded;
    }
    let last = room[read..].to_vec();
    debug_assert_eq!(B64.encoded_length(last.len()), room.len() - written);
    let _ = B64.encode(&last, Out::from_slice(&mut room[written..]));
}

/// Appends `bytes` in padded standard base64.
fn push_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    out.resize(start + B64.encoded_length(bytes.len()), 0);
    let _ = B64.encode(bytes, Out::from_slice(&mut out[start..]));
}

/// Random IVs, drawn from the OS in batches (one system call per 128 values).
pub struct IvSource {
    pool: Zeroizing<Vec<u8>>,
    used: usize,
}

impl Default for IvSource {
    fn default() -> Self {
        IvSource {
            pool: Zeroizing::new(vec![0; IV_LEN * 128]),
            used: IV_LEN * 128,
        }
    }
}

impl IvSource {
    pub fn next_iv(&mut self) -> Result<Iv, String> {
        if self.used == self.pool.len() {
            getrandom::fill(&mut self.pool).map_err(|e| format!("no randomness from the OS: {e}"))?;
            self.used = 0;
        }
        let mut iv = [0u8; IV_LEN];
        iv.copy_from_slice(&self.pool[self.used..self.used + IV_LEN]);
        self.used += IV_LEN;
        Ok(iv)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as REFERENCE;
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    fn known_key() -> DataKey {
        DataKey::from_bytes(&(0u8..32).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn reproduces_the_known_key_vector() {
        // crafted-independent-writer/deterministic-known-datakey.enc.yaml, research spec §4.
        let iv: Iv = REFERENCE
            .decode("lttUAjFJmKTIdM6IDFs1db8MDbqYqtBUgXD0K9SIVrw=")
            .unwrap()
            .try_into()
            .unwrap();
        let mut sealer = Sealer::new(&known_key());
        let enc = sealer.seal(b"world", b"hello:", &iv, ValueType::Str);
        assert_eq!(
            enc,
            "ENC[AES256_GCM,data:GPHGR9k=,iv:lttUAjFJmKTIdM6IDFs1db8MDbqYqtBUgXD0K9SIVrw=,tag:3czhn25rWr1l2KEwuJlBdA==,type:str]"
        );
        let parsed = Ciphertext::parse(&enc).unwrap();
        assert_eq!(parsed.plaintext_len(), b"world".len());
        assert_eq!(
            Opener::new(&known_key()).open(parsed, b"hello:").unwrap().as_slice(),
            b"world"
        );
    }

    proptest! {
        #[test]
        fn base64_written_over_its_own_input_is_plain_base64(data in vec(any::<u8>(), 0..40_000)) {
            let mut room = vec![0; B64.encoded_length(data.len())];
            let gap = room.len() - data.len();
            room[gap..].copy_from_slice(&data);
            encode_in_place(&mut room, gap);
            prop_assert_eq!(String::from_utf8(room).unwrap(), REFERENCE.encode(&data));
        }

        #[test]
        fn sealing_inside_the_output_gives_the_same_string(
            data in vec(any::<u8>(), 0..20_000),
            extra in prop::sample::select(vec![0usize, SEAL_IN_OUTPUT_FROM - 1, SEAL_IN_OUTPUT_FROM, SEAL_IN_OUTPUT_FROM + 1]),
            iv in any::<[u8; IV_LEN]>(),
        ) {
            let mut plaintext = data;
            plaintext.resize(plaintext.len() + extra, 7);
            let mut sealer = Sealer::new(&known_key());
            let in_buffer = sealer.seal_in_buffer(&plaintext, b"data:big:", &iv, ValueType::Str);
            let in_output = sealer.seal_in_output(&plaintext, b"data:big:", &iv, ValueType::Str);
            prop_assert_eq!(&in_buffer, &in_output);
            prop_assert_eq!(&sealer.seal(&plaintext, b"data:big:", &iv, ValueType::Str), &in_output);
            let opened = Opener::new(&known_key()).open(Ciphertext::parse(&in_output).unwrap(), b"data:big:").unwrap();
            prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        }
    }

    #[test]
    fn a_different_key_path_fails_authentication() {
        let mut sealer = Sealer::new(&known_key());
        let enc = sealer.seal(b"secret", b"data:password:", &[7; 32], ValueType::Str);
        let parsed = Ciphertext::parse(&enc).unwrap();
        assert!(Opener::new(&known_key()).open(parsed, b"data:other:").is_err());
    }

    #[test]
    fn parse_rejects_malformed_and_unknown_types() {
        assert!(Ciphertext::parse("ENC[AES256_GCM,data:AA==,iv:AA==]").is_err());
        let bytes = "ENC[AES256_GCM,data:AA==,iv:AAAAAAAAAAAAAAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:bytes]";
        assert!(Ciphertext::parse(bytes).unwrap_err().contains("unknown datatype"));
        assert!(Ciphertext::parse("plain").is_err());
    }

    #[test]
    fn ivs_are_fresh() {
        let mut ivs = IvSource::default();
        let a = ivs.next_iv().unwrap();
        let b = ivs.next_iv().unwrap();
        assert_ne!(a, b);
    }

    /// Base64 text made from `raw` with a few characters replaced (by ones that are valid,
    /// padding, or not base64 at all) and the end cut: valid, non-canonical, and invalid.
    fn edited_base64() -> impl Strategy<Value = String> {
        let replacement = prop::sample::select(b"AQgwZaz09+/=-_ \n.".to_vec());
        (
            vec(any::<u8>(), 0..80),
            vec((any::<prop::sample::Index>(), replacement), 0..3),
            0usize..3,
        )
            .prop_map(|(raw, edits, cut)| {
                let mut text = REFERENCE.encode(raw).into_bytes();
                for (at, byte) in edits {
                    if !text.is_empty() {
                        let i = at.index(text.len());
                        text[i] = byte;
                    }
                }
                text.truncate(text.len().saturating_sub(cut));
                String::from_utf8(text).expect("ASCII")
            })
    }

    proptest! {
        /// The data, IV and tag of an `ENC[...]` string are read exactly when base64's strict
        /// standard engine (the reference) reads them, to the same bytes: a wrong character,
        /// length, padding or non-zero trailing bits is refused, as sops's Go decoder does.
        #[test]
        fn enc_base64_reads_what_the_reference_reads(text in edited_base64()) {
            let reference = REFERENCE.decode(&text).ok().filter(|bytes| !bytes.is_empty());
            let (iv, tag) = (REFERENCE.encode([1u8; 32]), REFERENCE.encode([2u8; 16]));

            let as_data = Ciphertext::parse(&format!("ENC[AES256_GCM,data:{text},iv:{iv},tag:{tag},type:str]"));
            prop_assert_eq!(as_data.ok().map(|c| c.data.to_vec()), reference.clone());

            let as_iv = Ciphertext::parse(&format!("ENC[AES256_GCM,data:AA==,iv:{text},tag:{tag},type:str]"));
            let iv_expected = reference.clone().filter(|bytes| bytes.len() <= MAX_IV_LEN);
            prop_assert_eq!(as_iv.ok().map(|c| c.iv().to_vec()), iv_expected);

            let as_tag = Ciphertext::parse(&format!("ENC[AES256_GCM,data:AA==,iv:{iv},tag:{text},type:str]"));
            let tag_expected = reference.filter(|bytes| bytes.len() == TAG_LEN);
            prop_assert_eq!(as_tag.ok().map(|c| c.tag.to_vec()), tag_expected);
        }

        /// What the sealer writes is what the reference encoder writes (sops leaves empty values
        /// unencrypted, so none is sealed).
        #[test]
        fn sealed_base64_is_the_reference_encoding(value in vec(any::<u8>(), 1..200), iv in any::<[u8; 32]>()) {
            let enc = Sealer::new(&known_key()).seal(&value, b"k:", &iv, ValueType::Str);
            let parsed = Ciphertext::parse(&enc).expect("what the sealer writes parses");
            let expected = format!(
                "ENC[AES256_GCM,data:{},iv:{},tag:{},type:str]",
                REFERENCE.encode(parsed.data.as_slice()),
                REFERENCE.encode(iv),
                REFERENCE.encode(parsed.tag)
            );
            prop_assert_eq!(enc, expected);
        }
    }
}
