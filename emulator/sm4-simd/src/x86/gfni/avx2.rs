//! The 256-bit [`Width`] (`gfni-avx2`, VEX-encoded GFNI, for CPUs with GFNI but without
//! AVX-512; where both exist the 512-bit width is faster and detection prefers it): eight
//! blocks per register. Without `vprold`, L's byte rotations are `vpshufb` and its 2-bit
//! rotation two shifts: L(b) = b ⊕ (b⋘24) ⊕ ((b ⊕ b⋘8 ⊕ b⋘16)⋘2).

use core::arch::x86_64::*;

use super::{Mode, Width, BSWAP32, OUT_C, OUT_MATRIX, PRE_C, PRE_MATRIX};

/// Proof that this CPU has GFNI and AVX2 (made only by [`Token::detect`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token(());

impl Token {
    /// `Some` only when the CPU reports both features at run time.
    pub(crate) fn detect() -> Option<Token> {
        (std::is_x86_feature_detected!("gfni") && std::is_x86_feature_detected!("avx2"))
            .then_some(Token(()))
    }
}

/// Rotates each little-endian `u32` lane left by `8k` bits: byte `b` takes byte `b − k`.
const fn rol_bytes(k: usize) -> [u8; 16] {
    let mut m = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        m[i] = ((i / 4) * 4 + (i % 4 + 4 - k) % 4) as u8;
        i += 1;
    }
    m
}
const ROL8: [u8; 16] = rol_bytes(1);
const ROL16: [u8; 16] = rol_bytes(2);
const ROL24: [u8; 16] = rol_bytes(3);

/// The constants a round needs, in registers.
pub(crate) struct Consts {
    pre: __m256i,
    out: __m256i,
    bswap: __m256i,
    rol8: __m256i,
    rol16: __m256i,
    rol24: __m256i,
}

/// [`super::sets`] compiled with this width's features, its wrappers inlined.
#[target_feature(enable = "gfni,avx2")]
fn sets<const N: usize>(t: Token, rk: &[u32; 32], mode: Mode, buf: &mut [u8]) {
    super::sets::<Token, N>(t, rk, mode, buf);
}

/// A 16-byte pattern in both 128-bit lanes.
#[inline(always)]
fn broadcast(_: Token, t: &[u8; 16]) -> __m256i {
    // SAFETY: the `Token` proves the features; the load reads the 16 bytes of `t`.
    unsafe { _mm256_broadcastsi128_si256(_mm_loadu_si128(t.as_ptr().cast())) }
}

// SAFETY: a `Token` is made only by `Token::detect`, after GFNI and AVX2 were detected at
// run time; these are all the features the methods' intrinsics and `sets` need. In the
// methods below, "`self` proves the features" refers to this.
unsafe impl Width for Token {
    type V = __m256i;
    type Consts = Consts;
    const BYTES: usize = 32;

    fn sets<const N: usize>(self, rk: &[u32; 32], mode: Mode, buf: &mut [u8]) {
        // SAFETY: `self` proves the features `sets` enables.
        unsafe { sets::<N>(self, rk, mode, buf) }
    }

    #[inline(always)]
    fn consts(self) -> Consts {
        // SAFETY: `self` proves the features (register only).
        let (pre, out) = unsafe {
            (
                _mm256_set1_epi64x(PRE_MATRIX as i64),
                _mm256_set1_epi64x(OUT_MATRIX as i64),
            )
        };
        Consts {
            pre,
            out,
            bswap: broadcast(self, &BSWAP32),
            rol8: broadcast(self, &ROL8),
            rol16: broadcast(self, &ROL16),
            rol24: broadcast(self, &ROL24),
        }
    }

    #[inline(always)]
    fn load(self, b: &[u8]) -> __m256i {
        let b: &[u8; 32] = b.try_into().expect("32 bytes");
        // SAFETY: `self` proves the features; the pointer comes from a `&[u8; 32]` and the
        // load reads 32 bytes.
        unsafe { _mm256_loadu_si256(b.as_ptr().cast()) }
    }

    #[inline(always)]
    fn store(self, v: __m256i, b: &mut [u8]) {
        let b: &mut [u8; 32] = b.try_into().expect("32 bytes");
        // SAFETY: `self` proves the features; the pointer comes from a `&mut [u8; 32]` and
        // the store writes 32 bytes.
        unsafe { _mm256_storeu_si256(b.as_mut_ptr().cast(), v) }
    }

    #[inline(always)]
    fn splat(self, w: u32) -> __m256i {
        // SAFETY: `self` proves the features (register only).
        unsafe { _mm256_set1_epi32(w as i32) }
    }

    #[inline(always)]
    fn add32(self, a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: `self` proves the features (register only).
        unsafe { _mm256_add_epi32(a, b) }
    }

    #[inline(always)]
    fn xor(self, a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: `self` proves the features (register only).
        unsafe { _mm256_xor_si256(a, b) }
    }

    #[inline(always)]
    fn xor3(self, a: __m256i, b: __m256i, c: __m256i) -> __m256i {
        self.xor(self.xor(a, b), c)
    }

    #[inline(always)]
    fn unpack32(self, a: __m256i, b: __m256i) -> [__m256i; 2] {
        // SAFETY: `self` proves the features (register only).
        unsafe { [_mm256_unpacklo_epi32(a, b), _mm256_unpackhi_epi32(a, b)] }
    }

    #[inline(always)]
    fn unpack64(self, a: __m256i, b: __m256i) -> [__m256i; 2] {
        // SAFETY: `self` proves the features (register only).
        unsafe { [_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b)] }
    }

    #[inline(always)]
    fn bswap(self, v: __m256i, c: &Consts) -> __m256i {
        // SAFETY: `self` proves the features (register only).
        unsafe { _mm256_shuffle_epi8(v, c.bswap) }
    }

    #[inline(always)]
    fn sbox(self, x: __m256i, c: &Consts) -> __m256i {
        // SAFETY: `self` proves the features (register only).
        unsafe {
            let y = _mm256_gf2p8affine_epi64_epi8::<PRE_C>(x, c.pre);
            _mm256_gf2p8affineinv_epi64_epi8::<OUT_C>(y, c.out)
        }
    }

    #[inline(always)]
    fn xor_l(self, x: __m256i, b: __m256i, c: &Consts) -> __m256i {
        // SAFETY: `self` proves the features (register only).
        unsafe {
            let a = _mm256_xor_si256(
                _mm256_xor_si256(b, _mm256_shuffle_epi8(b, c.rol8)),
                _mm256_shuffle_epi8(b, c.rol16),
            );
            let a = _mm256_or_si256(_mm256_slli_epi32::<2>(a), _mm256_srli_epi32::<30>(a));
            let l = _mm256_xor_si256(_mm256_xor_si256(b, _mm256_shuffle_epi8(b, c.rol24)), a);
            _mm256_xor_si256(x, l)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_rotations_rotate() {
        let word = 0x1122_3344u32;
        let bytes = word.to_le_bytes();
        for (k, m) in [(1, ROL8), (2, ROL16), (3, ROL24)] {
            let rotated: Vec<u8> = (0..4).map(|i| bytes[usize::from(m[i])]).collect();
            assert_eq!(
                u32::from_le_bytes(rotated.try_into().unwrap()),
                word.rotate_left(8 * k)
            );
        }
    }
}
