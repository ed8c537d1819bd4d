//! The at-rest chunk format (AT-REST) and the per-chunk AEAD.
//!
//! Plaintext is cut into [`CHUNK_SIZE`] chunks; each is stored as `ciphertext ‖ 16-byte
//! tag`. The last chunk holds 0..=`CHUNK_SIZE` bytes (an empty object is one empty last
//! chunk). For chunk `i`:
//! - nonce (12 bytes) = per-object random prefix (7) ‖ `i` as big-endian `u32` (4) ‖
//!   last-chunk flag (1);
//! - AAD = `"COSEMU"` ‖ format version ‖ algorithm id ‖ `i` (`u32` BE) ‖ last flag.
//!
//! Binding the index and last flag into both means a reordered, dropped, duplicated or
//! truncated chunk fails its tag, and the stored length is authenticated implicitly: a
//! stream cut at a chunk boundary ends in a chunk sealed as "not last".

use std::ops::Range;

use ring::aead::{Aad, LessSafeKey, UnboundKey, AES_256_GCM};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::sm4_gcm::Sm4Gcm;
use crate::algorithm::Algorithm;
use crate::data_key::DataKey;
use crate::encoding::{deserialize_b64_array, fill_random, hmac_sha256, serialize_b64};
use crate::error::{Error, Result};

/// Plaintext bytes per chunk (64 KiB).
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Authentication tag bytes appended to every chunk.
pub const TAG_LEN: usize = 16;
/// Stored bytes of a full chunk.
pub const FRAME_SIZE: usize = CHUNK_SIZE + TAG_LEN;
/// The at-rest format version written by this crate and bound into every chunk.
pub const FORMAT_VERSION: u8 = 1;
/// Length of the random per-object nonce prefix.
pub const NONCE_PREFIX_LEN: usize = 7;
/// Most chunks one stream can have (the chunk index is a `u32`): 256 TiB of plaintext,
/// above COS's largest object.
pub const MAX_CHUNKS: u64 = 1 << 32;

/// The random per-object part of every chunk nonce, stored in the object's record.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NoncePrefix(
    #[serde(
        serialize_with = "serialize_b64",
        deserialize_with = "deserialize_b64_array"
    )]
    [u8; NONCE_PREFIX_LEN],
);

impl NoncePrefix {
    /// A fresh random prefix.
    pub fn generate() -> Result<Self> {
        let mut p = [0; NONCE_PREFIX_LEN];
        fill_random(&mut p)?;
        Ok(NoncePrefix(p))
    }

    /// A prefix from known bytes (tests, vectors).
    pub fn from_bytes(bytes: [u8; NONCE_PREFIX_LEN]) -> Self {
        NoncePrefix(bytes)
    }
}

impl std::fmt::Debug for NoncePrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoncePrefix({})", hex::encode(self.0))
    }
}

/// The keyed AEAD of one object's content.
///
/// AES-256-GCM runs on `ring` (AES-NI and carry-less multiply where the CPU has them,
/// several GB/s per core; `aes-gcm` 0.10 reached about a quarter of that here). SM4-GCM
/// (RFC 8998) is [`super::sm4_gcm::Sm4Gcm`]: GCM composed over the workspace's
/// `cos-sm4-simd` (constant-time SM4, AES-NI + AVX2 with thirty-two counter blocks in flight,
/// a portable fallback elsewhere; RustCrypto's `sm4` checks it in its tests), which can
/// decrypt part of a verified chunk. Sealing several chunks on several cores
/// (`super::batch`) adds the second core.
enum Aead {
    Aes(Box<LessSafeKey>),
    Sm4(Box<Sm4Gcm>),
}

impl Aead {
    /// AES-256-GCM under a 256-bit key.
    fn aes(key: &[u8; 32]) -> Self {
        // `UnboundKey::new` fails only for a key of the wrong length; this one is typed
        // as 32 bytes, AES-256's length.
        let key = UnboundKey::new(&AES_256_GCM, key).expect("32 bytes is an AES-256 key");
        Aead::Aes(Box::new(LessSafeKey::new(key)))
    }

    /// SM4-GCM under a 128-bit key.
    fn sm4(key: &[u8; 16]) -> Self {
        Aead::Sm4(Box::new(Sm4Gcm::new(key)))
    }

    /// Encrypts `buf` in place; returns the tag.
    fn encrypt(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        // The only failure of GCM encryption is a message over 64 GiB; chunks are 64 KiB.
        let len = buf.len() as u64;
        match self {
            Aead::Aes(c) => {
                let nonce = ring::aead::Nonce::assume_unique_for_key(*nonce);
                let tag = c
                    .seal_in_place_separate_tag(nonce, Aad::from(aad), buf)
                    .map_err(|_| Error::TooLarge(len))?;
                let mut out = [0u8; TAG_LEN];
                out.copy_from_slice(tag.as_ref());
                Ok(out)
            }
            Aead::Sm4(c) => c.encrypt(nonce, aad, buf).ok_or(Error::TooLarge(len)),
        }
    }

    /// Verifies the tag over all of `buf` and decrypts in place at least the bytes of
    /// `want` (SM4 decrypts only the blocks that hold them; AES-256-GCM through `ring`,
    /// several times faster, decrypts all of `buf`); `false` when the tag does not
    /// verify, and then `buf` is zeroed (no unauthenticated plaintext is left in it).
    fn decrypt(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
        want: Range<usize>,
    ) -> bool {
        let ok = match self {
            Aead::Aes(c) => {
                let nonce = ring::aead::Nonce::assume_unique_for_key(*nonce);
                let tag = ring::aead::Tag::from(*tag);
                c.open_in_place_separate_tag(nonce, Aad::from(aad), tag, buf, 0..)
                    .is_ok()
            }
            Aead::Sm4(c) => c.decrypt_part(nonce, aad, buf, tag, want),
        };
        if !ok {
            buf.fill(0);
        }
        ok
    }
}

/// Seals and opens single chunks of one object in place. [`super::Encryptor`] and
/// [`super::Decryptor`] are built on it; use it directly only to manage buffers yourself.
pub struct ChunkCipher {
    aead: Aead,
    algorithm: Algorithm,
    prefix: NoncePrefix,
}

impl ChunkCipher {
    /// Keys the cipher for one object.
    ///
    /// The content key is HMAC-SHA256(data key, label ‖ algorithm), truncated to the
    /// algorithm's key size (32 bytes for AES-256, 16 for SM4): one 256-bit data key
    /// serves both algorithms, and the algorithm is bound to the key.
    pub fn new(algorithm: Algorithm, key: &DataKey, prefix: NoncePrefix) -> Self {
        let cek = content_key(algorithm, key);
        let aead = match algorithm {
            Algorithm::Aes256 => Aead::aes(&cek),
            Algorithm::Sm4 => {
                let mut k = Zeroizing::new([0u8; 16]);
                k.copy_from_slice(&cek[..16]);
                Aead::sm4(&k)
            }
        };
        ChunkCipher {
            aead,
            algorithm,
            prefix,
        }
    }

    /// The algorithm this cipher was keyed for.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Encrypts the plaintext in `buf` (at most [`CHUNK_SIZE`] bytes) in place and appends
    /// the tag.
    pub fn seal_chunk(&self, index: u64, last: bool, buf: &mut Vec<u8>) -> Result<()> {
        let len = buf.len();
        buf.resize(len + TAG_LEN, 0);
        let sealed = self.seal_frame(index, last, buf);
        if sealed.is_err() {
            buf.truncate(len);
        }
        sealed
    }

    /// Seals one frame in place: `frame` is the chunk's plaintext (at most [`CHUNK_SIZE`]
    /// bytes) followed by [`TAG_LEN`] bytes of room, which receive the tag.
    pub fn seal_frame(&self, index: u64, last: bool, frame: &mut [u8]) -> Result<()> {
        let index32 = chunk_index(index)?;
        let Some(body_len) = frame.len().checked_sub(TAG_LEN) else {
            return Err(Error::TooLarge(frame.len() as u64));
        };
        let nonce = self.nonce(index32, last);
        let aad = chunk_aad(self.algorithm, index32, last);
        let (body, tag_room) = frame.split_at_mut(body_len);
        let tag = self.aead.encrypt(&nonce, &aad, body)?;
        tag_room.copy_from_slice(&tag);
        Ok(())
    }

    /// Verifies and decrypts `buf` (`ciphertext ‖ tag`) in place, leaving the plaintext.
    /// On failure `buf` is cleared, so no unauthenticated byte can be released.
    pub fn open_chunk(&self, index: u64, last: bool, buf: &mut Vec<u8>) -> Result<()> {
        match self.open_frame(index, last, buf) {
            Ok(plain_len) => {
                buf.truncate(plain_len);
                Ok(())
            }
            Err(e) => {
                buf.clear();
                Err(e)
            }
        }
    }

    /// Verifies and decrypts one stored frame (`ciphertext ‖ tag`) in place and returns
    /// the plaintext's length (the plaintext is `frame[..len]`). On failure the whole frame
    /// is zeroed, so no unauthenticated byte can be released.
    pub fn open_frame(&self, index: u64, last: bool, frame: &mut [u8]) -> Result<usize> {
        self.open_frame_range(index, last, frame, 0..usize::MAX)
    }

    /// Like [`ChunkCipher::open_frame`], but only the plaintext bytes `want` (clamped to
    /// the chunk) are sure to be decrypted; the rest of the frame may stay ciphertext. The
    /// tag is verified over the whole chunk first all the same. For a short Range within
    /// one chunk: SM4 then decrypts a block or two instead of 4,096.
    pub fn open_frame_range(
        &self,
        index: u64,
        last: bool,
        frame: &mut [u8],
        want: Range<usize>,
    ) -> Result<usize> {
        let fail = Error::ChunkAuthentication { index };
        let index32 = chunk_index(index)?;
        let Some(body_len) = frame.len().checked_sub(TAG_LEN) else {
            frame.fill(0);
            return Err(fail);
        };
        let end = want.end.min(body_len);
        let want = want.start.min(end)..end;
        let (body, tag) = frame.split_at_mut(body_len);
        let mut tag_bytes = [0u8; TAG_LEN];
        tag_bytes.copy_from_slice(tag);
        let nonce = self.nonce(index32, last);
        let aad = chunk_aad(self.algorithm, index32, last);
        if self.aead.decrypt(&nonce, &aad, body, &tag_bytes, want) {
            Ok(body_len)
        } else {
            tag.fill(0);
            Err(fail)
        }
    }

    fn nonce(&self, index: u32, last: bool) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..NONCE_PREFIX_LEN].copy_from_slice(&self.prefix.0);
        n[NONCE_PREFIX_LEN..11].copy_from_slice(&index.to_be_bytes());
        n[11] = u8::from(last);
        n
    }
}

fn chunk_index(index: u64) -> Result<u32> {
    u32::try_from(index).map_err(|_| Error::TooLarge(index.saturating_mul(CHUNK_SIZE as u64)))
}

/// The AAD of one chunk: magic, format version, algorithm, index, last flag.
fn chunk_aad(algorithm: Algorithm, index: u32, last: bool) -> [u8; 13] {
    let mut aad = [0u8; 13];
    aad[..6].copy_from_slice(b"COSEMU");
    aad[6] = FORMAT_VERSION;
    aad[7] = algorithm.id();
    aad[8..12].copy_from_slice(&index.to_be_bytes());
    aad[12] = u8::from(last);
    aad
}

fn content_key(algorithm: Algorithm, key: &DataKey) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(hmac_sha256(
        key.as_bytes(),
        &[
            b"cos-emulator/v1/content-key/",
            algorithm.as_str().as_bytes(),
        ],
    ))
}

#[cfg(test)]
mod tests {
    //! Known-answer tests of the two AEADs the format is built on.
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace([' ', '\n'], "")).unwrap()
    }

    fn check(aead: &Aead, nonce: &str, aad: &str, pt: &str, ct: &str, tag: &str) {
        let nonce: [u8; 12] = unhex(nonce).try_into().unwrap();
        let (aad, pt, ct, tag) = (unhex(aad), unhex(pt), unhex(ct), unhex(tag));
        let mut buf = pt.clone();
        let got = aead.encrypt(&nonce, &aad, &mut buf).unwrap();
        assert_eq!(hex::encode(&buf), hex::encode(&ct), "ciphertext");
        assert_eq!(hex::encode(got), hex::encode(&tag), "tag");
        let len = buf.len();
        assert!(aead.decrypt(&nonce, &aad, &mut buf, &got, 0..len));
        assert_eq!(buf, pt);
        let mut flipped = ct.clone();
        if let Some(b) = flipped.first_mut() {
            *b ^= 1;
        } else {
            flipped = vec![0];
        }
        let len = flipped.len();
        assert!(!aead.decrypt(&nonce, &aad, &mut flipped, &got, 0..len));
    }

    /// NIST CAVP `gcmEncryptExtIV256.rsp`, [Keylen = 256] [IVlen = 96] [PTlen = 0]
    /// [AADlen = 0] [Taglen = 128], Count = 0.
    #[test]
    fn aes256_gcm_nist_cavp_empty() {
        let key: [u8; 32] =
            unhex("b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4")
                .try_into()
                .unwrap();
        check(
            &Aead::aes(&key),
            "516c33929df5a3284ff463d7",
            "",
            "",
            "",
            "bdc1ac884d332457a1d2664f168c76f0",
        );
    }

    /// NIST CAVP `gcmEncryptExtIV256.rsp`, [PTlen = 128] [AADlen = 0], Count = 0.
    #[test]
    fn aes256_gcm_nist_cavp_one_block() {
        let key: [u8; 32] =
            unhex("31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22")
                .try_into()
                .unwrap();
        check(
            &Aead::aes(&key),
            "0d18e06c7c725ac9e362e1ce",
            "",
            "2db5168e932556f8089a0622981d017d",
            "fa4362189661d163fcd6a56d8bf0405a",
            "d636ac1bbedd5cc3ee727dc2ab4a9489",
        );
    }

    /// The GCM specification (McGrew and Viega, as published by NIST), Test Case 16:
    /// AES-256, 96-bit IV, 60-byte plaintext, 20-byte AAD (partial final blocks).
    #[test]
    fn aes256_gcm_spec_test_case_16() {
        let key: [u8; 32] =
            unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
                .try_into()
                .unwrap();
        check(
            &Aead::aes(&key),
            "cafebabefacedbaddecaf888",
            "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
             1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
             8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b",
        );
    }

    /// RFC 8998, Appendix A.1 (SM4-GCM).
    #[test]
    fn sm4_gcm_rfc8998_a1() {
        let key: [u8; 16] = unhex("0123456789ABCDEFFEDCBA9876543210")
            .try_into()
            .unwrap();
        check(
            &Aead::sm4(&key),
            "00001234567800000000ABCD",
            "FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2",
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD
             EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735
             D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
            "83DE3541E4C2B58177E065A9BF7B62EC",
        );
    }

    #[test]
    fn nonce_and_aad_layout() {
        let c = ChunkCipher {
            aead: Aead::aes(&[0; 32]),
            algorithm: Algorithm::Sm4,
            prefix: NoncePrefix::from_bytes([1, 2, 3, 4, 5, 6, 7]),
        };
        assert_eq!(
            c.nonce(0x0a0b0c0d, true),
            [1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 1]
        );
        assert_eq!(
            chunk_aad(Algorithm::Sm4, 258, false),
            *b"COSEMU\x01\x02\x00\x00\x01\x02\x00"
        );
    }

    #[test]
    fn chunk_index_beyond_u32_is_refused() {
        let c = ChunkCipher::new(
            Algorithm::Aes256,
            &DataKey::generate().unwrap(),
            NoncePrefix::from_bytes([0; 7]),
        );
        let mut buf = vec![0u8; 4];
        assert!(matches!(
            c.seal_chunk(MAX_CHUNKS, true, &mut buf),
            Err(Error::TooLarge(_))
        ));
    }
}
