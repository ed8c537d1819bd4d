//! GHASH (NIST SP 800-38D, 6.4) with carry-less multiplication, eight blocks per
//! reduction: 128-bit `pclmulqdq`, or 512-bit `vpclmulqdq` (four blocks per instruction).
//!
//! Computed as POLYVAL (RFC 8452), whose bit order is the machine's:
//! `GHASH_H(X₁…Xₙ) = rev(POLYVAL_{mulX(rev(H))}(rev(X₁)…rev(Xₙ)))` with `rev` the byte
//! reversal (RFC 8452, Appendix A). POLYVAL's product `a • b = a·b·x⁻¹²⁸` mod
//! `x¹²⁸+x¹²⁷+x¹²⁶+x¹²¹+1` is a 256-bit carry-less product (Karatsuba: three 64×64
//! multiplications) and a Montgomery reduction by two multiplications by the constant
//! `0xc2000000_00000000` (Gueron, "AES-GCM-SIV", the reference `GFMUL`).
//!
//! Aggregation: eight blocks fold in as `(acc ⊕ X₁)•H⁸ ⊕ X₂•H⁷ ⊕ … ⊕ X₈•H¹`; the reduction
//! is linear, so the eight products are summed unreduced and reduced once. The powers
//! `H¹…H⁸` are computed when the key is set.
//!
//! `unsafe` here: calls into `#[target_feature]` functions (made only behind a token
//! from run-time detection) and unaligned 16-/64-byte loads through pointers made from
//! `&[u8; 16]`/`&[u8; 64]` borrows (README.md, "Safety").

use core::arch::x86_64::*;

use crate::Block;

/// Proof that this CPU has PCLMULQDQ and SSSE3 (made only by [`Clmul128::detect`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clmul128(());

impl Clmul128 {
    /// `Some` only when the CPU reports both features at run time.
    pub(crate) fn detect() -> Option<Clmul128> {
        (std::is_x86_feature_detected!("pclmulqdq") && std::is_x86_feature_detected!("ssse3"))
            .then_some(Clmul128(()))
    }
}

/// Proof that this CPU has VPCLMULQDQ, AVX-512F, AVX-512BW, PCLMULQDQ and SSSE3 (made only
/// by [`Clmul512::detect`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clmul512(());

impl Clmul512 {
    /// `Some` only when the CPU reports all the features at run time.
    pub(crate) fn detect() -> Option<Clmul512> {
        (std::is_x86_feature_detected!("vpclmulqdq")
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && Clmul128::detect().is_some())
        .then_some(Clmul512(()))
    }

    /// The 128-bit proof its features imply.
    pub(crate) fn narrow(self) -> Clmul128 {
        Clmul128(())
    }
}

/// The key powers in POLYVAL form, `powers[k]` = H^(k+1), as 16 little-endian bytes each,
/// and for each its Karatsuba half-sum `h₀ ⊕ h₁` in both 64-bit halves.
#[derive(Clone)]
pub(crate) struct Powers {
    powers: [Block; 8],
    halves: [Block; 8],
}

impl zeroize::Zeroize for Powers {
    fn zeroize(&mut self) {
        self.powers.as_flattened_mut().zeroize();
        self.halves.as_flattened_mut().zeroize();
    }
}

/// Reverses the bytes of a 128-bit value (GCM's bit order ↔ POLYVAL's).
const REVERSE: [u8; 16] = [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];

#[inline]
#[target_feature(enable = "pclmulqdq,ssse3")]
fn load(b: &Block) -> __m128i {
    // In bounds: the pointer comes from a `&[u8; 16]` and the load reads 16 bytes.
    unsafe { _mm_loadu_si128(b.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "pclmulqdq,ssse3")]
fn store(v: __m128i) -> Block {
    let mut b = [0u8; 16];
    // In bounds: the pointer comes from a `&mut [u8; 16]` and the store writes 16 bytes.
    unsafe { _mm_storeu_si128(b.as_mut_ptr().cast(), v) };
    b
}

/// A GCM block in POLYVAL's order.
#[inline]
#[target_feature(enable = "pclmulqdq,ssse3")]
fn load_reversed(b: &Block) -> __m128i {
    _mm_shuffle_epi8(load(b), load(&REVERSE))
}

/// The three Karatsuba partial products of `a` and `h` (`hk`: `h₀ ⊕ h₁` in the low half).
#[inline]
#[target_feature(enable = "pclmulqdq,ssse3")]
fn karatsuba(a: __m128i, h: __m128i, hk: __m128i) -> [__m128i; 3] {
    let lo = _mm_clmulepi64_si128::<0x00>(a, h);
    let hi = _mm_clmulepi64_si128::<0x11>(a, h);
    let ak = _mm_xor_si128(a, _mm_shuffle_epi32::<0x4e>(a));
    let mid = _mm_clmulepi64_si128::<0x00>(ak, hk);
    [lo, hi, mid]
}

/// `(lo, hi, mid)` summed products → the reduced 128-bit result `· x⁻¹²⁸`.
#[inline]
#[target_feature(enable = "pclmulqdq,ssse3")]
fn reduce([lo, hi, mid]: [__m128i; 3]) -> __m128i {
    // Karatsuba: the middle term is mid ⊕ lo ⊕ hi.
    let mid = _mm_xor_si128(mid, _mm_xor_si128(lo, hi));
    let lo = _mm_xor_si128(lo, _mm_slli_si128::<8>(mid));
    let hi = _mm_xor_si128(hi, _mm_srli_si128::<8>(mid));
    // x¹²⁸ ≡ x¹²⁷ + x¹²⁶ + x¹²¹ + 1: two Montgomery steps of 64 bits each.
    let poly = _mm_set_epi64x(0xc200_0000_0000_0000_u64 as i64, 1);
    let t = _mm_clmulepi64_si128::<0x10>(lo, poly);
    let lo = _mm_xor_si128(_mm_shuffle_epi32::<0x4e>(lo), t);
    let t = _mm_clmulepi64_si128::<0x10>(lo, poly);
    let lo = _mm_xor_si128(_mm_shuffle_epi32::<0x4e>(lo), t);
    _mm_xor_si128(lo, hi)
}

#[inline]
#[target_feature(enable = "pclmulqdq,ssse3")]
fn half_sum(h: __m128i) -> __m128i {
    _mm_xor_si128(h, _mm_shuffle_epi32::<0x4e>(h))
}

/// POLYVAL's product `a • b`.
#[inline]
#[target_feature(enable = "pclmulqdq,ssse3")]
fn dot(a: __m128i, b: __m128i) -> __m128i {
    reduce(karatsuba(a, b, half_sum(b)))
}

#[target_feature(enable = "pclmulqdq,ssse3")]
fn powers_of(h: &Block) -> Powers {
    // mulX(rev(H)): shift the 128-bit little-endian value left by one, folding the bit
    // that falls out back in as x¹²⁸'s residue (0xc2000000_00000000_00000000_00000001).
    let mut v = u128::from_le_bytes(*h).swap_bytes();
    let carry = v >> 127;
    v = (v << 1) ^ (carry * 0xc200_0000_0000_0000_0000_0000_0000_0001);
    let h1 = load(&v.to_le_bytes());
    zeroize::Zeroize::zeroize(&mut v);
    let mut powers = [[0u8; 16]; 8];
    let mut halves = [[0u8; 16]; 8];
    let mut p = h1;
    for k in 0..8 {
        powers[k] = store(p);
        halves[k] = store(half_sum(p));
        p = dot(p, h1);
    }
    Powers { powers, halves }
}

/// The powers `H¹…H⁸` of the GHASH key `h` (GCM's bit order), for either width.
pub(crate) fn powers(_: Clmul128, h: &Block) -> Powers {
    // SAFETY: a `Clmul128` exists only after PCLMULQDQ and SSSE3 were detected.
    unsafe { powers_of(h) }
}

/// Folds whole blocks into `acc` (GCM's order, as 16 bytes), one block at a time.
#[target_feature(enable = "pclmulqdq,ssse3")]
fn update_single(p: &Powers, acc: &mut Block, blocks: &[u8]) {
    let h = load(&p.powers[0]);
    let hk = load(&p.halves[0]);
    let mut a = load_reversed(acc);
    for b in blocks.chunks_exact(16) {
        let x = load_reversed(b.try_into().expect("16-byte block"));
        a = reduce(karatsuba(_mm_xor_si128(a, x), h, hk));
    }
    *acc = store(_mm_shuffle_epi8(a, load(&REVERSE)));
}

/// Folds whole blocks into `acc`, eight per reduction, with 128-bit multiplications.
#[target_feature(enable = "pclmulqdq,ssse3")]
fn update_128(p: &Powers, acc: &mut Block, blocks: &[u8]) {
    let mut a = load_reversed(acc);
    let mut chunks = blocks.chunks_exact(128);
    for eight in &mut chunks {
        let mut sum = [_mm_setzero_si128(); 3];
        for (i, b) in eight.chunks_exact(16).enumerate() {
            let mut x = load_reversed(b.try_into().expect("16-byte block"));
            if i == 0 {
                x = _mm_xor_si128(x, a);
            }
            let k = 7 - i;
            let prod = karatsuba(x, load(&p.powers[k]), load(&p.halves[k]));
            for (s, v) in sum.iter_mut().zip(prod) {
                *s = _mm_xor_si128(*s, v);
            }
        }
        a = reduce(sum);
    }
    *acc = store(_mm_shuffle_epi8(a, load(&REVERSE)));
    update_single(p, acc, chunks.remainder());
}

/// `acc ⊕ ` the GHASH of whole blocks: `blocks.len()` is a multiple of 16.
pub(crate) fn update(_: Clmul128, p: &Powers, acc: &mut Block, blocks: &[u8]) {
    debug_assert_eq!(blocks.len() % 16, 0);
    // SAFETY: a `Clmul128` exists only after PCLMULQDQ and SSSE3 were detected; every
    // load is of a `&[u8; 16]` obtained by checked conversion.
    unsafe { update_128(p, acc, blocks) }
}

#[inline]
#[target_feature(enable = "vpclmulqdq,avx512f,avx512bw,pclmulqdq,ssse3")]
fn load64(b: &[u8; 64]) -> __m512i {
    // In bounds: the pointer comes from a `&[u8; 64]` and the load reads 64 bytes.
    unsafe { _mm512_loadu_si512(b.as_ptr().cast()) }
}

/// Four `Block`s as one 512-bit value, the first in the lowest lane.
#[inline]
#[target_feature(enable = "vpclmulqdq,avx512f,avx512bw,pclmulqdq,ssse3")]
fn load4(b: &[Block]) -> __m512i {
    let mut bytes = [0u8; 64];
    bytes.copy_from_slice(b[..4].as_flattened());
    load64(&bytes)
}

/// The 512-bit lanes summed into one 128-bit value.
#[inline]
#[target_feature(enable = "vpclmulqdq,avx512f,avx512bw,pclmulqdq,ssse3")]
fn fold_lanes(v: __m512i) -> __m128i {
    let y = _mm256_xor_si256(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64::<1>(v));
    _mm_xor_si128(_mm256_castsi256_si128(y), _mm256_extracti128_si256::<1>(y))
}

/// Folds whole blocks into `acc`, eight per reduction, four per 512-bit multiplication.
#[target_feature(enable = "vpclmulqdq,avx512f,avx512bw,pclmulqdq,ssse3")]
fn update_512(p: &Powers, acc: &mut Block, blocks: &[u8]) {
    // Lane j of the first register meets H^(8−j), of the second H^(4−j).
    let order = |first: usize| -> [Block; 4] { std::array::from_fn(|j| p.powers[first - j]) };
    let horder = |first: usize| -> [Block; 4] { std::array::from_fn(|j| p.halves[first - j]) };
    let (h_a, h_b) = (load4(&order(7)), load4(&order(3)));
    let (k_a, k_b) = (load4(&horder(7)), load4(&horder(3)));
    let reverse = _mm512_broadcast_i32x4(load(&REVERSE));
    let mut a = load_reversed(acc);
    let mut chunks = blocks.chunks_exact(128);
    for eight in &mut chunks {
        let (first, second) = eight.split_at(64);
        let x = _mm512_shuffle_epi8(load64(first.try_into().expect("64 bytes")), reverse);
        let x = _mm512_xor_si512(x, _mm512_zextsi128_si512(a));
        let y = _mm512_shuffle_epi8(load64(second.try_into().expect("64 bytes")), reverse);
        let lo = _mm512_xor_si512(
            _mm512_clmulepi64_epi128::<0x00>(x, h_a),
            _mm512_clmulepi64_epi128::<0x00>(y, h_b),
        );
        let hi = _mm512_xor_si512(
            _mm512_clmulepi64_epi128::<0x11>(x, h_a),
            _mm512_clmulepi64_epi128::<0x11>(y, h_b),
        );
        let xk = _mm512_xor_si512(x, _mm512_shuffle_epi32::<_MM_PERM_BADC>(x));
        let yk = _mm512_xor_si512(y, _mm512_shuffle_epi32::<_MM_PERM_BADC>(y));
        let mid = _mm512_xor_si512(
            _mm512_clmulepi64_epi128::<0x00>(xk, k_a),
            _mm512_clmulepi64_epi128::<0x00>(yk, k_b),
        );
        a = reduce([fold_lanes(lo), fold_lanes(hi), fold_lanes(mid)]);
    }
    *acc = store(_mm_shuffle_epi8(a, load(&REVERSE)));
    update_single(p, acc, chunks.remainder());
}

/// As [`update`], four blocks per 512-bit multiplication.
pub(crate) fn update_wide(_: Clmul512, p: &Powers, acc: &mut Block, blocks: &[u8]) {
    debug_assert_eq!(blocks.len() % 16, 0);
    // SAFETY: a `Clmul512` exists only after VPCLMULQDQ, AVX-512F, AVX-512BW, PCLMULQDQ
    // and SSSE3 were detected; every load is of a `&[u8; 16]` or `&[u8; 64]` obtained by
    // checked conversion.
    unsafe { update_512(p, acc, blocks) }
}
