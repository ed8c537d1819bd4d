//! SM4 (GB/T 32907-2016) block encryption and counter-mode keystream, in constant time.
//!
//! Four implementations behind one safe API, chosen at run time in this order:
//! - [`Implementation::GfniAvx512`] (x86_64 with GFNI, AVX-512F and AVX-512BW): the S-box as
//!   two Galois-field affine instructions, sixteen blocks per register, sixty-four in flight;
//! - [`Implementation::GfniAvx2`] (x86_64 with GFNI and AVX2, no AVX-512): the same
//!   instructions VEX-encoded on 256 bits, eight blocks per register, thirty-two in flight;
//! - [`Implementation::AesniAvx2`] (x86_64 with AES-NI and AVX2): thirty-two blocks in flight,
//!   the S-box computed by AES's `aesenclast` between two affine maps (SM4's and AES's
//!   S-boxes are both inversions in isomorphic fields), several GB/s per core;
//! - [`Implementation::Portable`] everywhere else: the same S-box computed with masks and
//!   shifts on eight bytes at once, slow but with no secret-dependent memory access or
//!   branch.
//!
//! Neither indexes memory by key or data, unlike table-driven SM4s (RustCrypto's `sm4`,
//! T-tables), whose cache footprint depends on the secret. Only encryption is offered:
//! counter mode (GCM, CTR) needs nothing else. [`Ghash`] is GCM's authenticator on
//! carry-less multiplication, for the SM4-GCM composed over this crate.
//!
//! This is the only crate of the workspace allowed `unsafe`, and only in its `x86` module
//! and the files under `src/x86/` (the intrinsics); README.md gives the safety argument.

use zeroize::Zeroize as _;

mod affine;
mod ghash;
mod portable;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use ghash::{Ghash, GhashImplementation};

/// One 16-byte SM4 block.
pub type Block = [u8; 16];

/// The SM4 round's linear transform L (GB/T 32907-2016, 6.2).
#[inline(always)]
pub(crate) fn l(b: u32) -> u32 {
    b ^ b.rotate_left(2) ^ b.rotate_left(10) ^ b.rotate_left(18) ^ b.rotate_left(24)
}

/// The key schedule's linear transform L' (GB/T 32907-2016, 7.3).
fn l_prime(b: u32) -> u32 {
    b ^ b.rotate_left(13) ^ b.rotate_left(23)
}

/// System parameter FK (GB/T 32907-2016, 7.3).
const FK: [u32; 4] = [0xa3b1_bac6, 0x56aa_3350, 0x677d_9197, 0xb270_22dc];

/// Fixed parameter CK: byte j of CK_i is (4i + j) · 7 mod 256 (GB/T 32907-2016, 7.3).
const CK: [u32; 32] = {
    let mut ck = [0u32; 32];
    let mut i = 0;
    while i < 32 {
        let mut word = 0u32;
        let mut j = 0;
        while j < 4 {
            word = (word << 8) | (((4 * i + j) * 7) % 256) as u32;
            j += 1;
        }
        ck[i] = word;
        i += 1;
    }
    ck
};

/// Which code computes SM4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Implementation {
    /// x86_64 GFNI + AVX-512 (F, BW), sixty-four blocks in flight.
    GfniAvx512,
    /// x86_64 GFNI + AVX2 (256-bit), thirty-two blocks in flight.
    GfniAvx2,
    /// x86_64 AES-NI + AVX2, thirty-two blocks in flight.
    AesniAvx2,
    /// Portable constant-time code (S-box by arithmetic, no tables).
    Portable,
}

impl Implementation {
    /// Every implementation, fastest first (the detection order).
    pub const ALL: [Implementation; 4] = [
        Implementation::GfniAvx512,
        Implementation::GfniAvx2,
        Implementation::AesniAvx2,
        Implementation::Portable,
    ];

    /// The fastest implementation this CPU supports (detected at run time): GFNI +
    /// AVX-512, then GFNI + AVX2, then AES-NI + AVX2, then portable.
    pub fn detect() -> Implementation {
        Self::ALL
            .into_iter()
            .find(|imp| imp.is_available())
            .unwrap_or(Implementation::Portable)
    }

    /// Whether this CPU can run it.
    pub fn is_available(self) -> bool {
        match self {
            Implementation::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Implementation::GfniAvx512 => x86::gfni::avx512::Token::detect().is_some(),
            #[cfg(target_arch = "x86_64")]
            Implementation::GfniAvx2 => x86::gfni::avx2::Token::detect().is_some(),
            #[cfg(target_arch = "x86_64")]
            Implementation::AesniAvx2 => x86::Token::detect().is_some(),
            #[cfg(not(target_arch = "x86_64"))]
            Implementation::GfniAvx512 | Implementation::GfniAvx2 | Implementation::AesniAvx2 => {
                false
            }
        }
    }

    /// A short name for reports (`gfni-avx512`, `gfni-avx2`, `aesni-avx2`, `portable`).
    pub fn as_str(self) -> &'static str {
        match self {
            Implementation::GfniAvx512 => "gfni-avx512",
            Implementation::GfniAvx2 => "gfni-avx2",
            Implementation::AesniAvx2 => "aesni-avx2",
            Implementation::Portable => "portable",
        }
    }
}

/// The implementation an [`Sm4`] was built with; the x86 variant carries the proof that
/// detection succeeded.
#[derive(Clone, Copy)]
enum Engine {
    #[cfg(target_arch = "x86_64")]
    GfniAvx512(x86::gfni::avx512::Token),
    #[cfg(target_arch = "x86_64")]
    GfniAvx2(x86::gfni::avx2::Token),
    #[cfg(target_arch = "x86_64")]
    AesniAvx2(x86::Token),
    Portable,
}

/// SM4 encryption under one 128-bit key: the 32 round keys (zeroed on drop) and the
/// implementation chosen for this CPU.
#[derive(Clone)]
pub struct Sm4 {
    rk: [u32; 32],
    engine: Engine,
}

impl Drop for Sm4 {
    fn drop(&mut self) {
        self.rk.zeroize();
    }
}

impl std::fmt::Debug for Sm4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Sm4 {{ implementation: {} }}",
            self.implementation().as_str()
        )
    }
}

impl Sm4 {
    /// Expands `key` for the fastest implementation this CPU supports.
    pub fn new(key: &[u8; 16]) -> Sm4 {
        Sm4::with_implementation(key, Implementation::detect())
            .or_else(|| Sm4::with_implementation(key, Implementation::Portable))
            .expect("the portable implementation runs everywhere")
    }

    /// Expands `key` for `implementation`; `None` when this CPU cannot run it. Tests and
    /// benches use it to force the portable path.
    pub fn with_implementation(key: &[u8; 16], implementation: Implementation) -> Option<Sm4> {
        let engine = match implementation {
            Implementation::Portable => Engine::Portable,
            #[cfg(target_arch = "x86_64")]
            Implementation::GfniAvx512 => Engine::GfniAvx512(x86::gfni::avx512::Token::detect()?),
            #[cfg(target_arch = "x86_64")]
            Implementation::GfniAvx2 => Engine::GfniAvx2(x86::gfni::avx2::Token::detect()?),
            #[cfg(target_arch = "x86_64")]
            Implementation::AesniAvx2 => Engine::AesniAvx2(x86::Token::detect()?),
            #[cfg(not(target_arch = "x86_64"))]
            Implementation::GfniAvx512 | Implementation::GfniAvx2 | Implementation::AesniAvx2 => {
                return None
            }
        };
        Some(Sm4::with_engine(key, engine))
    }

    /// The key schedule (GB/T 32907-2016, 7.3), its S-box computed by `engine` (also in
    /// constant time: the key is the secret).
    fn with_engine(key: &[u8; 16], engine: Engine) -> Sm4 {
        let tau = |w: u32| match engine {
            #[cfg(target_arch = "x86_64")]
            Engine::GfniAvx512(t) => x86::gfni::tau(t, w),
            #[cfg(target_arch = "x86_64")]
            Engine::GfniAvx2(t) => x86::gfni::tau(t, w),
            #[cfg(target_arch = "x86_64")]
            Engine::AesniAvx2(t) => x86::tau(t, w),
            Engine::Portable => portable::tau(w),
        };
        let mk = |i: usize| u32::from_be_bytes([key[i], key[i + 1], key[i + 2], key[i + 3]]);
        let mut k = [mk(0) ^ FK[0], mk(4) ^ FK[1], mk(8) ^ FK[2], mk(12) ^ FK[3]];
        let mut rk = [0u32; 32];
        for (i, ck) in CK.iter().enumerate() {
            let next =
                k[i % 4] ^ l_prime(tau(k[(i + 1) % 4] ^ k[(i + 2) % 4] ^ k[(i + 3) % 4] ^ ck));
            k[i % 4] = next;
            rk[i] = next;
        }
        k.zeroize();
        Sm4 { rk, engine }
    }

    /// The implementation this key runs on.
    pub fn implementation(&self) -> Implementation {
        match self.engine {
            #[cfg(target_arch = "x86_64")]
            Engine::GfniAvx512(_) => Implementation::GfniAvx512,
            #[cfg(target_arch = "x86_64")]
            Engine::GfniAvx2(_) => Implementation::GfniAvx2,
            #[cfg(target_arch = "x86_64")]
            Engine::AesniAvx2(_) => Implementation::AesniAvx2,
            Engine::Portable => Implementation::Portable,
        }
    }

    /// Encrypts one block in place.
    pub fn encrypt_block(&self, block: &mut Block) {
        self.encrypt_blocks(std::slice::from_mut(block));
    }

    /// Encrypts every block in place (ECB: each block independently), any number of them.
    pub fn encrypt_blocks(&self, blocks: &mut [Block]) {
        match self.engine {
            #[cfg(target_arch = "x86_64")]
            Engine::GfniAvx512(t) => x86::gfni::encrypt_blocks(t, &self.rk, blocks),
            #[cfg(target_arch = "x86_64")]
            Engine::GfniAvx2(t) => x86::gfni::encrypt_blocks(t, &self.rk, blocks),
            #[cfg(target_arch = "x86_64")]
            Engine::AesniAvx2(t) => x86::encrypt_blocks(t, &self.rk, blocks),
            Engine::Portable => portable::encrypt_blocks(&self.rk, blocks),
        }
    }

    /// Counter mode with GCM's 32-bit counter (NIST SP 800-38D, inc32): XORs into `buf`
    /// the keystream SM4(`counter_block`), SM4(`counter_block` + 1), … where "+ i" adds to
    /// the last four bytes as a big-endian `u32`, wrapping, and leaves the first twelve
    /// alone. A final partial block uses the first bytes of its keystream block.
    pub fn apply_ctr32(&self, counter_block: &Block, buf: &mut [u8]) {
        let w = |i: usize| {
            u32::from_be_bytes([
                counter_block[i],
                counter_block[i + 1],
                counter_block[i + 2],
                counter_block[i + 3],
            ])
        };
        let (nonce, ctr) = ([w(0), w(4), w(8)], w(12));
        match self.engine {
            #[cfg(target_arch = "x86_64")]
            Engine::GfniAvx512(t) => x86::gfni::ctr32_xor(t, &self.rk, nonce, ctr, buf),
            #[cfg(target_arch = "x86_64")]
            Engine::GfniAvx2(t) => x86::gfni::ctr32_xor(t, &self.rk, nonce, ctr, buf),
            #[cfg(target_arch = "x86_64")]
            Engine::AesniAvx2(t) => x86::ctr32_xor(t, &self.rk, nonce, ctr, buf),
            Engine::Portable => {
                let mut ks = [[0u8; 16]; 16];
                let mut ctr = ctr;
                for chunk in buf.chunks_mut(256) {
                    let n = chunk.len().div_ceil(16);
                    for block in &mut ks[..n] {
                        block[..12].copy_from_slice(&counter_block[..12]);
                        block[12..].copy_from_slice(&ctr.to_be_bytes());
                        ctr = ctr.wrapping_add(1);
                    }
                    portable::encrypt_blocks(&self.rk, &mut ks[..n]);
                    for (b, k) in chunk.iter_mut().zip(ks.as_flattened()) {
                        *b ^= k;
                    }
                }
                ks.as_flattened_mut().zeroize();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ck_is_the_standard_table() {
        assert_eq!(CK[0], 0x0007_0e15);
        assert_eq!(CK[1], 0x1c23_2a31);
        assert_eq!(CK[31], 0x646b_7279);
    }
}
