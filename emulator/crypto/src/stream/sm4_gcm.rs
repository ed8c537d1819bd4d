//! SM4-GCM (RFC 8998: SM4 under the GCM of NIST SP 800-38D, 96-bit nonce, 16-byte tag),
//! composed from `cos-sm4-simd`'s SM4 and its counter mode (GCM's 32-bit big-endian
//! counter; constant-time, GFNI + AVX-512 or AES-NI + AVX2 where the CPU has them) and
//! `cos-sm4-simd`'s GHASH (carry-less multiplication aggregated over eight blocks; the
//! `ghash` crate where the CPU has no carry-less multiply): the same parts, in the same
//! order, that `aes_gcm::AesGcm` composes (it served as this cipher before). Spelled out here so that a chunk can be verified
//! whole and then decrypted only where a short Range needs it ([`Sm4Gcm::decrypt_part`]):
//! a 1-byte Range GET of an SM4 object decrypted its whole 64 KiB chunk, which took as
//! long as the rest of the request.
//!
//! For a nonce N: J0 = N ‖ 0³¹1; the tag mask is SM4(J0); plaintext block `i` (from 0)
//! meets the keystream block SM4(N ‖ (i + 2) as u32 BE); the tag is GHASH_H(AAD, C) ⊕
//! SM4(J0) with H = SM4(0¹²⁸). Encryption hashes each piece of ciphertext right after
//! encrypting it, while it is in the first-level cache. Decryption checks the tag over the
//! whole ciphertext, in constant time, before a byte is decrypted.

use std::ops::Range;

use cos_sm4_simd::{Block, Ghash, GhashImplementation, Sm4};
use ghash::universal_hash::{KeyInit as _, UniversalHash as _};
use ghash::GHash;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroize as _;

/// GCM's bound on one message's plaintext: 2³² − 2 blocks (the 32-bit counter).
const MAX_LEN: u64 = ((1 << 32) - 2) * 16;

/// Encryption runs counter mode then GHASH over pieces of this size, so that GHASH reads
/// ciphertext the counter mode has just written, still in the first-level cache.
const PIECE: usize = 16 << 10;

/// GHASH keyed with H; cloned for each message, as `aes_gcm` does. The large variant
/// (eight key powers) is the common one: boxing it would allocate for every message.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)]
enum Mac {
    /// `cos-sm4-simd`'s carry-less GHASH (the CPU has PCLMULQDQ or VPCLMULQDQ).
    Clmul(Ghash),
    /// The `ghash` crate, where the CPU has no carry-less multiply.
    Soft(GHash),
}

impl Mac {
    fn update_padded(&mut self, data: &[u8]) {
        match self {
            Mac::Clmul(g) => g.update_padded(data),
            Mac::Soft(g) => g.update_padded(data),
        }
    }

    fn finalize(self, lengths: &Block) -> Block {
        match self {
            Mac::Clmul(mut g) => {
                g.update_block(lengths);
                g.finalize()
            }
            Mac::Soft(mut g) => {
                g.update(&[(*lengths).into()]);
                g.finalize().into()
            }
        }
    }
}

/// SM4-GCM under one 128-bit key.
pub(crate) struct Sm4Gcm {
    cipher: Sm4,
    mac: Mac,
}

impl Sm4Gcm {
    /// Keys the cipher (and derives H = SM4(0)), on the fastest SM4 and GHASH this CPU runs.
    pub(crate) fn new(key: &[u8; 16]) -> Self {
        Sm4Gcm::with_parts(Sm4::new(key), GhashImplementation::detect())
    }

    /// GCM over `cipher`, with `ghash`'s carry-less GHASH, or the `ghash` crate for `None`
    /// (or when this CPU cannot run `ghash`).
    fn with_parts(cipher: Sm4, ghash: Option<GhashImplementation>) -> Self {
        let mut h: Block = [0; 16];
        cipher.encrypt_block(&mut h);
        let mac = match ghash.and_then(|imp| Ghash::with_implementation(&h, imp)) {
            Some(g) => Mac::Clmul(g),
            None => Mac::Soft(GHash::new(&h.into())),
        };
        // H is GHASH's key: no copy of it is left behind (as `aes_gcm` does).
        h.zeroize();
        Sm4Gcm { cipher, mac }
    }

    /// Encrypts `buf` in place and returns the tag; `None` for a message over GCM's bound.
    pub(crate) fn encrypt(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<[u8; 16]> {
        if buf.len() as u64 > MAX_LEN {
            return None;
        }
        let mut mac = self.mac.clone();
        mac.update_padded(aad);
        for (i, piece) in buf.chunks_mut(PIECE).enumerate() {
            // Every piece but the last is whole blocks, so hashing piece by piece pads
            // only where hashing the whole would.
            self.keystream(nonce, i * (PIECE / 16), piece);
            mac.update_padded(piece);
        }
        Some(self.finish_tag(nonce, mac, aad.len(), buf.len()))
    }

    /// Verifies the tag over the whole of `buf`, then decrypts only the blocks that hold
    /// `want` (which must lie within `buf`); the bytes of `buf` outside those blocks stay
    /// ciphertext. `false` (and `buf` untouched) when the tag does not verify.
    pub(crate) fn decrypt_part(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
        want: Range<usize>,
    ) -> bool {
        if buf.len() as u64 > MAX_LEN || want.start > want.end || want.end > buf.len() {
            return false;
        }
        if !bool::from(self.tag(nonce, aad, buf).ct_eq(tag)) {
            return false;
        }
        let first_block = want.start / 16;
        let end = want.end.next_multiple_of(16).min(buf.len());
        if want.start < want.end {
            self.keystream(nonce, first_block, &mut buf[first_block * 16..end]);
        }
        true
    }

    /// XORs the keystream from plaintext block `first_block` on into `buf`.
    fn keystream(&self, nonce: &[u8; 12], first_block: usize, buf: &mut [u8]) {
        // Block `i`'s counter is `i + 2` (1 is J0, the tag mask's); `first_block` is below
        // 2³² − 2 because every caller bounded the message by `MAX_LEN`.
        let counter = u32::try_from(first_block + 2).unwrap_or(u32::MAX);
        self.cipher.apply_ctr32(&counter_block(nonce, counter), buf);
    }

    /// GHASH_H(aad, ciphertext) ⊕ SM4(J0).
    fn tag(&self, nonce: &[u8; 12], aad: &[u8], ciphertext: &[u8]) -> [u8; 16] {
        let mut mac = self.mac.clone();
        mac.update_padded(aad);
        mac.update_padded(ciphertext);
        self.finish_tag(nonce, mac, aad.len(), ciphertext.len())
    }

    /// Folds in the lengths block and masks with SM4(J0): the tag of a message whose AAD
    /// and ciphertext `mac` has hashed.
    fn finish_tag(&self, nonce: &[u8; 12], mac: Mac, aad_len: usize, text_len: usize) -> [u8; 16] {
        let mut lengths: Block = [0; 16];
        lengths[..8].copy_from_slice(&(aad_len as u64 * 8).to_be_bytes());
        lengths[8..].copy_from_slice(&(text_len as u64 * 8).to_be_bytes());
        let mut mask = counter_block(nonce, 1);
        self.cipher.encrypt_block(&mut mask);
        let mut tag = [0u8; 16];
        for ((t, s), m) in tag.iter_mut().zip(mac.finalize(&lengths)).zip(mask) {
            *t = s ^ m;
        }
        tag
    }
}

/// `nonce ‖ counter` (big-endian): J0 for counter 1.
fn counter_block(nonce: &[u8; 12], counter: u32) -> Block {
    let mut block: Block = [0; 16];
    block[..12].copy_from_slice(nonce);
    block[12..].copy_from_slice(&counter.to_be_bytes());
    block
}

#[cfg(test)]
mod tests {
    use super::*;
    use cos_sm4_simd::Implementation;

    /// Every SM4 × GHASH combination this CPU runs (the `ghash` crate as `None`); says so
    /// for those it cannot.
    fn all_parts(key: &[u8; 16]) -> Vec<(String, Sm4Gcm)> {
        let mut out = Vec::new();
        for imp in Implementation::ALL {
            let Some(cipher) = Sm4::with_implementation(key, imp) else {
                eprintln!(
                    "{}: not available on this CPU, not tested here",
                    imp.as_str()
                );
                continue;
            };
            let macs = GhashImplementation::ALL.into_iter().map(Some).chain([None]);
            for mac in macs {
                if mac.is_some_and(|m| !m.is_available()) {
                    continue;
                }
                let name = format!(
                    "{} + {}",
                    imp.as_str(),
                    mac.map_or("ghash crate", GhashImplementation::as_str)
                );
                out.push((name, Sm4Gcm::with_parts(cipher.clone(), mac)));
            }
        }
        out
    }

    /// RFC 8998, Appendix A.1 (SM4-GCM), on every path.
    #[test]
    fn rfc8998_a1_on_every_path() {
        let unhex = |s: &str| hex::decode(s).unwrap();
        let key: [u8; 16] = unhex("0123456789abcdeffedcba9876543210")
            .try_into()
            .unwrap();
        let nonce: [u8; 12] = unhex("00001234567800000000abcd").try_into().unwrap();
        let aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let plain = unhex(
            "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd\
             eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa",
        );
        let want_ct = "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735\
                       d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d";
        let parts = all_parts(&key);
        assert!(
            parts.len() >= 2,
            "the portable SM4 with the ghash crate at least"
        );
        for (name, gcm) in parts {
            let mut buf = plain.clone();
            let tag = gcm.encrypt(&nonce, &aad, &mut buf).unwrap();
            assert_eq!(hex::encode(&buf), want_ct, "{name}");
            assert_eq!(
                hex::encode(tag),
                "83de3541e4c2b58177e065a9bf7b62ec",
                "{name}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// The same cipher as RustCrypto's generic GCM over RustCrypto's `sm4` (what this
        /// module replaced), on every SM4 × GHASH path this CPU runs, across the piece
        /// boundary of encryption; and a part decrypts to the same bytes as the whole.
        #[test]
        fn agrees_with_aes_gcm_generic_and_parts_match_the_whole(
            key: [u8; 16],
            nonce: [u8; 12],
            aad in proptest::collection::vec(0u8.., 0..40),
            plain in proptest::collection::vec(0u8.., 0..700),
            long: bool,
            a: usize,
            b: usize,
        ) {
            use aes_gcm::aead::AeadInPlace as _;
            type Generic = aes_gcm::AesGcm<sm4::Sm4, sm4::cipher::consts::U12>;
            // Now and then a message longer than one encryption piece (16 KiB).
            let plain: Vec<u8> = if long {
                plain.iter().cycle().take(PIECE + 1 + a % PIECE).copied().collect()
            } else {
                plain
            };
            let theirs = <Generic as aes_gcm::KeyInit>::new(&key.into());
            let mut ct2 = plain.clone();
            let tag2 = theirs.encrypt_in_place_detached((&nonce).into(), &aad, &mut ct2).unwrap();
            for (name, ours) in all_parts(&key) {
                let mut ct = plain.clone();
                let tag = ours.encrypt(&nonce, &aad, &mut ct).unwrap();
                proptest::prop_assert_eq!(&ct, &ct2, "{}", name);
                proptest::prop_assert_eq!(tag.as_slice(), tag2.as_slice(), "{}", name);

                let (lo, hi) = if plain.is_empty() { (0, 0) } else { (a % plain.len(), b % (plain.len() + 1)) };
                let want = lo.min(hi)..lo.max(hi);
                let mut part = ct.clone();
                proptest::prop_assert!(ours.decrypt_part(&nonce, &aad, &mut part, &tag, want.clone()));
                proptest::prop_assert_eq!(&part[want.clone()], &plain[want.clone()]);

                // One flipped bit anywhere in the ciphertext fails the part too, untouched.
                if !ct.is_empty() {
                    let mut bad = ct.clone();
                    bad[b % ct.len()] ^= 1 << (a % 8);
                    let before = bad.clone();
                    proptest::prop_assert!(!ours.decrypt_part(&nonce, &aad, &mut bad, &tag, want));
                    proptest::prop_assert_eq!(bad, before);
                }
            }
        }
    }
}
