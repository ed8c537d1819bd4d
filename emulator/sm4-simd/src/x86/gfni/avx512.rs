//! The 512-bit [`Width`] (`gfni-avx512`): sixteen blocks per register; L's rotations are
//! `vprold` and its XORs `vpternlogd`.

use core::arch::x86_64::*;

use super::{Mode, Width, BSWAP32, OUT_C, OUT_MATRIX, PRE_C, PRE_MATRIX};

/// Proof that this CPU has GFNI, AVX-512F and AVX-512BW (made only by [`Token::detect`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token(());

impl Token {
    /// `Some` only when the CPU reports all three features at run time.
    pub(crate) fn detect() -> Option<Token> {
        (std::is_x86_feature_detected!("gfni")
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw"))
        .then_some(Token(()))
    }
}

/// The constants a round needs, in registers.
pub(crate) struct Consts {
    pre: __m512i,
    out: __m512i,
    bswap: __m512i,
}

/// [`super::sets`] compiled with this width's features, its wrappers inlined.
#[target_feature(enable = "gfni,avx512f,avx512bw")]
fn sets<const N: usize>(t: Token, rk: &[u32; 32], mode: Mode, buf: &mut [u8]) {
    super::sets::<Token, N>(t, rk, mode, buf);
}

// SAFETY: a `Token` is made only by `Token::detect`, after GFNI, AVX-512F and AVX-512BW
// were detected at run time; these are all the features the methods' intrinsics and
// `sets` need. In the methods below, "`self` proves the features" refers to this.
unsafe impl Width for Token {
    type V = __m512i;
    type Consts = Consts;
    const BYTES: usize = 64;

    fn sets<const N: usize>(self, rk: &[u32; 32], mode: Mode, buf: &mut [u8]) {
        // SAFETY: `self` proves the features `sets` enables.
        unsafe { sets::<N>(self, rk, mode, buf) }
    }

    #[inline(always)]
    fn consts(self) -> Consts {
        // SAFETY: `self` proves the features; the load reads the 16 bytes of `BSWAP32`.
        unsafe {
            Consts {
                pre: _mm512_set1_epi64(PRE_MATRIX as i64),
                out: _mm512_set1_epi64(OUT_MATRIX as i64),
                bswap: _mm512_broadcast_i32x4(_mm_loadu_si128(BSWAP32.as_ptr().cast())),
            }
        }
    }

    #[inline(always)]
    fn load(self, b: &[u8]) -> __m512i {
        let b: &[u8; 64] = b.try_into().expect("64 bytes");
        // SAFETY: `self` proves the features; the pointer comes from a `&[u8; 64]` and the
        // load reads 64 bytes.
        unsafe { _mm512_loadu_si512(b.as_ptr().cast()) }
    }

    #[inline(always)]
    fn store(self, v: __m512i, b: &mut [u8]) {
        let b: &mut [u8; 64] = b.try_into().expect("64 bytes");
        // SAFETY: `self` proves the features; the pointer comes from a `&mut [u8; 64]` and
        // the store writes 64 bytes.
        unsafe { _mm512_storeu_si512(b.as_mut_ptr().cast(), v) }
    }

    #[inline(always)]
    fn splat(self, w: u32) -> __m512i {
        // SAFETY: `self` proves the features (register only).
        unsafe { _mm512_set1_epi32(w as i32) }
    }

    #[inline(always)]
    fn add32(self, a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: `self` proves the features (register only).
        unsafe { _mm512_add_epi32(a, b) }
    }

    #[inline(always)]
    fn xor(self, a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: `self` proves the features (register only).
        unsafe { _mm512_xor_si512(a, b) }
    }

    #[inline(always)]
    fn xor3(self, a: __m512i, b: __m512i, c: __m512i) -> __m512i {
        // SAFETY: `self` proves the features (register only). 0x96: a ^ b ^ c.
        unsafe { _mm512_ternarylogic_epi32::<0x96>(a, b, c) }
    }

    #[inline(always)]
    fn unpack32(self, a: __m512i, b: __m512i) -> [__m512i; 2] {
        // SAFETY: `self` proves the features (register only).
        unsafe { [_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b)] }
    }

    #[inline(always)]
    fn unpack64(self, a: __m512i, b: __m512i) -> [__m512i; 2] {
        // SAFETY: `self` proves the features (register only).
        unsafe { [_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b)] }
    }

    #[inline(always)]
    fn bswap(self, v: __m512i, c: &Consts) -> __m512i {
        // SAFETY: `self` proves the features (register only).
        unsafe { _mm512_shuffle_epi8(v, c.bswap) }
    }

    #[inline(always)]
    fn sbox(self, x: __m512i, c: &Consts) -> __m512i {
        // SAFETY: `self` proves the features (register only).
        unsafe {
            let y = _mm512_gf2p8affine_epi64_epi8::<PRE_C>(x, c.pre);
            _mm512_gf2p8affineinv_epi64_epi8::<OUT_C>(y, c.out)
        }
    }

    #[inline(always)]
    fn xor_l(self, x: __m512i, b: __m512i, _: &Consts) -> __m512i {
        // SAFETY: `self` proves the features (register only). 0x96: a ^ b ^ c.
        unsafe {
            let y = _mm512_ternarylogic_epi32::<0x96>(x, b, _mm512_rol_epi32::<2>(b));
            let y = _mm512_ternarylogic_epi32::<0x96>(
                y,
                _mm512_rol_epi32::<10>(b),
                _mm512_rol_epi32::<18>(b),
            );
            _mm512_xor_si512(y, _mm512_rol_epi32::<24>(b))
        }
    }
}
