//! SM4-GCM (RFC 8998: SM4 under the GCM of NIST SP 800-38D, 96-bit nonce, 16-byte tag),
//! composed from `cos-sm4-simd`'s SM4 and its counter mode (GCM's 32-bit big-endian
//! counter; constant-time, AES-NI + AVX2 where the CPU has them) and the `ghash` crate
//! (carry-less multiply): the same parts, in the same order, that `aes_gcm::AesGcm`
//! composes (it served as this cipher before). Spelled out here so that a chunk can be verified
//! whole and then decrypted only where a short Range needs it ([`Sm4Gcm::decrypt_part`]):
//! a 1-byte Range GET of an SM4 object decrypted its whole 64 KiB chunk, which took as
//! long as the rest of the request.
//!
//! For a nonce N: J0 = N ‖ 0³¹1; the tag mask is SM4(J0); plaintext block `i` (from 0)
//! meets the keystream block SM4(N ‖ (i + 2) as u32 BE); the tag is GHASH_H(AAD, C) ⊕
//! SM4(J0) with H = SM4(0¹²⁸). Decryption checks the tag over the whole ciphertext, in
//! constant time, before a byte is decrypted.

use std::ops::Range;

use cos_sm4_simd::{Block, Sm4};
use ghash::universal_hash::{KeyInit as _, UniversalHash as _};
use ghash::GHash;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroize as _;

/// GCM's bound on one message's plaintext: 2³² − 2 blocks (the 32-bit counter).
const MAX_LEN: u64 = ((1 << 32) - 2) * 16;

/// SM4-GCM under one 128-bit key.
pub(crate) struct Sm4Gcm {
    cipher: Sm4,
    /// GHASH keyed with H; cloned for each message, as `aes_gcm` does.
    ghash: GHash,
}

impl Sm4Gcm {
    /// Keys the cipher (and derives H = SM4(0)).
    pub(crate) fn new(key: &[u8; 16]) -> Self {
        let cipher = Sm4::new(key);
        let mut h: Block = [0; 16];
        cipher.encrypt_block(&mut h);
        let ghash = GHash::new(&h.into());
        // H is GHASH's key: no copy of it is left behind (as `aes_gcm` does).
        h.zeroize();
        Sm4Gcm { cipher, ghash }
    }

    /// Encrypts `buf` in place and returns the tag; `None` for a message over GCM's bound.
    pub(crate) fn encrypt(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<[u8; 16]> {
        if buf.len() as u64 > MAX_LEN {
            return None;
        }
        self.keystream(nonce, 0, buf);
        Some(self.tag(nonce, aad, buf))
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
        let mut ghash = self.ghash.clone();
        ghash.update_padded(aad);
        ghash.update_padded(ciphertext);
        let mut lengths: Block = [0; 16];
        lengths[..8].copy_from_slice(&(aad.len() as u64 * 8).to_be_bytes());
        lengths[8..].copy_from_slice(&(ciphertext.len() as u64 * 8).to_be_bytes());
        ghash.update(&[lengths.into()]);
        let mut mask = counter_block(nonce, 1);
        self.cipher.encrypt_block(&mut mask);
        let mut tag = [0u8; 16];
        for ((t, s), m) in tag.iter_mut().zip(ghash.finalize()).zip(mask) {
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

    proptest::proptest! {
        /// The same cipher as RustCrypto's generic GCM over RustCrypto's `sm4` (what this
        /// module replaced), and a part decrypts to the same bytes as the whole.
        #[test]
        fn agrees_with_aes_gcm_generic_and_parts_match_the_whole(
            key: [u8; 16],
            nonce: [u8; 12],
            aad in proptest::collection::vec(0u8.., 0..40),
            plain in proptest::collection::vec(0u8.., 0..700),
            a: usize,
            b: usize,
        ) {
            use aes_gcm::aead::AeadInPlace as _;
            type Generic = aes_gcm::AesGcm<sm4::Sm4, sm4::cipher::consts::U12>;
            let ours = Sm4Gcm::new(&key);
            let theirs = <Generic as aes_gcm::KeyInit>::new(&key.into());
            let mut ct = plain.clone();
            let tag = ours.encrypt(&nonce, &aad, &mut ct).unwrap();
            let mut ct2 = plain.clone();
            let tag2 = theirs.encrypt_in_place_detached((&nonce).into(), &aad, &mut ct2).unwrap();
            proptest::prop_assert_eq!(&ct, &ct2);
            proptest::prop_assert_eq!(tag.as_slice(), tag2.as_slice());

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
