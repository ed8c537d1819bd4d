//! SM4 on x86_64 with GFNI and AVX-512: the S-box as two Galois-field affine instructions,
//! sixteen blocks per 512-bit register, four registers' worth (64 blocks) in flight.
//!
//! SM4's S-box is `OUT(inv(PRE(x)))` with the inversion in AES's field (src/affine.rs):
//! `vgf2p8affineqb` applies `PRE` (an 8×8 bit matrix and a constant) to every byte, and
//! `vgf2p8affineinvqb` inverts every byte in AES's field (x⁸+x⁴+x³+x+1, the one GFNI
//! uses) and applies `OUT` (AES's affine step then `POST`, folded). Two instructions per
//! 64 bytes, no tables, fixed latency.
//!
//! Layout: a block's four big-endian words are byte-swapped into `u32` lanes; four 512-bit
//! registers hold word 0, 1, 2, 3 of sixteen blocks (a 4×4 transpose in each 128-bit
//! lane: dword `4L + i` holds block `4i + L`). L's rotations are `vprold`, its XORs
//! `vpternlogd`. Counter mode builds the counters directly in that layout and XORs the
//! keystream into the data in registers.
//!
//! `unsafe` here: calls into `#[target_feature]` functions (made only behind a
//! [`Token`], which [`Token::detect`] makes after run-time detection) and unaligned
//! 64-/16-byte loads and stores through pointers made from `&[u8; 64]`/`&[u8; 16]` borrows
//! (README.md, "Safety").

use core::arch::x86_64::*;

use crate::affine::{Affine, AES_AFFINE, POST, PRE};
use crate::Block;

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

/// An affine map as GFNI's operand: the 64-bit matrix whose byte `7 − i` is the row giving
/// output bit `i` (bit `k` of that row set when input bit `k` feeds output bit `i`), and
/// the constant as the instruction's immediate (Intel SDM, GF2P8AFFINEQB).
pub(crate) const fn gfni_matrix(map: &Affine) -> u64 {
    let mut m = 0u64;
    let mut i = 0;
    while i < 8 {
        let mut row = 0u64;
        let mut k = 0;
        while k < 8 {
            row |= (((map.cols[k] >> i) & 1) as u64) << k;
            k += 1;
        }
        m |= row << (8 * (7 - i));
        i += 1;
    }
    m
}

/// AES's affine step then `POST`: the map after the inversion.
const OUT: Affine = Affine::then(AES_AFFINE, POST);
pub(crate) const PRE_MATRIX: u64 = gfni_matrix(&PRE);
pub(crate) const OUT_MATRIX: u64 = gfni_matrix(&OUT);
/// The constants as immediates (`const` generics of the intrinsics).
pub(crate) const PRE_C: i32 = PRE.c as i32;
pub(crate) const OUT_C: i32 = OUT.c as i32;

/// Swaps the bytes of each 32-bit lane: big-endian block words ↔ `u32` lanes.
const BSWAP32: [u8; 16] = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];

/// The constants a round needs, in registers.
struct Consts {
    pre: __m512i,
    out: __m512i,
    bswap: __m512i,
}

#[target_feature(enable = "gfni,avx512f,avx512bw")]
fn consts() -> Consts {
    // In bounds: `BSWAP32` is a 16-byte array and the load reads 16 bytes.
    let bswap = unsafe { _mm_loadu_si128(BSWAP32.as_ptr().cast()) };
    Consts {
        pre: _mm512_set1_epi64(PRE_MATRIX as i64),
        out: _mm512_set1_epi64(OUT_MATRIX as i64),
        bswap: _mm512_broadcast_i32x4(bswap),
    }
}

/// The SM4 S-box on every byte.
#[inline]
#[target_feature(enable = "gfni,avx512f,avx512bw")]
fn sbox(x: __m512i, c: &Consts) -> __m512i {
    let y = _mm512_gf2p8affine_epi64_epi8::<PRE_C>(x, c.pre);
    _mm512_gf2p8affineinv_epi64_epi8::<OUT_C>(y, c.out)
}

/// One SM4 round on every set: word `j` ^= L(τ(other three words ^ rk)).
#[inline]
#[target_feature(enable = "gfni,avx512f,avx512bw")]
fn round<const N: usize>(x: &mut [[__m512i; 4]; N], j: usize, k: __m512i, c: &Consts) {
    for s in x.iter_mut() {
        // 0x96: a ^ b ^ c.
        let t = _mm512_ternarylogic_epi32::<0x96>(s[(j + 1) % 4], s[(j + 2) % 4], s[(j + 3) % 4]);
        let b = sbox(_mm512_xor_si512(t, k), c);
        // L(b) = b ^ b⋘2 ^ b⋘10 ^ b⋘18 ^ b⋘24 (GB/T 32907-2016, 6.2).
        let y = _mm512_ternarylogic_epi32::<0x96>(s[j], b, _mm512_rol_epi32::<2>(b));
        let y = _mm512_ternarylogic_epi32::<0x96>(
            y,
            _mm512_rol_epi32::<10>(b),
            _mm512_rol_epi32::<18>(b),
        );
        s[j] = _mm512_xor_si512(y, _mm512_rol_epi32::<24>(b));
    }
}

/// The 32 rounds on `N` sets of sixteen blocks.
#[inline]
#[target_feature(enable = "gfni,avx512f,avx512bw")]
fn rounds<const N: usize>(rk: &[u32; 32], x: &mut [[__m512i; 4]; N], c: &Consts) {
    for r in rk.chunks_exact(4) {
        round(x, 0, _mm512_set1_epi32(r[0] as i32), c);
        round(x, 1, _mm512_set1_epi32(r[1] as i32), c);
        round(x, 2, _mm512_set1_epi32(r[2] as i32), c);
        round(x, 3, _mm512_set1_epi32(r[3] as i32), c);
    }
}

/// 4×4 transpose of 32-bit words within each 128-bit lane (its own inverse).
#[inline]
#[target_feature(enable = "gfni,avx512f,avx512bw")]
fn transpose(r: [__m512i; 4]) -> [__m512i; 4] {
    let t0 = _mm512_unpacklo_epi32(r[0], r[1]);
    let t1 = _mm512_unpackhi_epi32(r[0], r[1]);
    let t2 = _mm512_unpacklo_epi32(r[2], r[3]);
    let t3 = _mm512_unpackhi_epi32(r[2], r[3]);
    [
        _mm512_unpacklo_epi64(t0, t2),
        _mm512_unpackhi_epi64(t0, t2),
        _mm512_unpacklo_epi64(t1, t3),
        _mm512_unpackhi_epi64(t1, t3),
    ]
}

/// Loads 64 bytes (four blocks).
#[inline]
#[target_feature(enable = "gfni,avx512f,avx512bw")]
fn load64(b: &[u8; 64]) -> __m512i {
    // In bounds: the pointer comes from a `&[u8; 64]` and the load reads 64 bytes.
    unsafe { _mm512_loadu_si512(b.as_ptr().cast()) }
}

/// Stores 64 bytes (four blocks).
#[inline]
#[target_feature(enable = "gfni,avx512f,avx512bw")]
fn store64(v: __m512i, b: &mut [u8; 64]) {
    // In bounds: the pointer comes from a `&mut [u8; 64]` and the store writes 64 bytes.
    unsafe { _mm512_storeu_si512(b.as_mut_ptr().cast(), v) }
}

/// The four 64-byte quarters of a set's 256 bytes (checked conversions: `set` is 256 long).
fn quarters(set: &[u8]) -> [&[u8; 64]; 4] {
    std::array::from_fn(|q| {
        set[64 * q..64 * q + 64]
            .try_into()
            .expect("a set is 256 bytes")
    })
}

/// The state (X35, X34, X33, X32) of a set as its sixteen output blocks, 64 bytes each.
#[inline]
#[target_feature(enable = "gfni,avx512f,avx512bw")]
fn output(s: &[__m512i; 4], c: &Consts) -> [__m512i; 4] {
    transpose([s[3], s[2], s[1], s[0]]).map(|v| _mm512_shuffle_epi8(v, c.bswap))
}

/// Encrypts `16 × N` blocks in place (`blocks.len() == 256 * N` bytes).
#[target_feature(enable = "gfni,avx512f,avx512bw")]
fn encrypt_sets<const N: usize>(rk: &[u32; 32], blocks: &mut [u8]) {
    assert_eq!(blocks.len(), 256 * N, "whole sets of sixteen blocks");
    let c = consts();
    let mut x = [[_mm512_setzero_si512(); 4]; N];
    for (s, set) in x.iter_mut().zip(blocks.chunks_exact(256)) {
        let r = quarters(set).map(|q| _mm512_shuffle_epi8(load64(q), c.bswap));
        *s = transpose(r);
    }
    rounds(rk, &mut x, &c);
    for (s, set) in x.iter().zip(blocks.chunks_exact_mut(256)) {
        for (v, q) in output(s, &c).into_iter().zip(set.chunks_exact_mut(64)) {
            store64(v, q.try_into().expect("64-byte quarter"));
        }
    }
}

/// The counter lanes of a set: dword `4L + i` holds block `4i + L` (see the layout).
const LANE_BLOCK: [i32; 16] = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];

/// XORs the keystream blocks `nonce ‖ (ctr + i)`, `i` in `0..16 × N`, into `buf`
/// (`buf.len() == 256 * N`).
#[target_feature(enable = "gfni,avx512f,avx512bw")]
fn xor_keystream_sets<const N: usize>(rk: &[u32; 32], nonce: [u32; 3], ctr: u32, buf: &mut [u8]) {
    assert_eq!(buf.len(), 256 * N, "whole sets of sixteen blocks");
    let c = consts();
    let step = _mm512_setr_epi32(
        LANE_BLOCK[0],
        LANE_BLOCK[1],
        LANE_BLOCK[2],
        LANE_BLOCK[3],
        LANE_BLOCK[4],
        LANE_BLOCK[5],
        LANE_BLOCK[6],
        LANE_BLOCK[7],
        LANE_BLOCK[8],
        LANE_BLOCK[9],
        LANE_BLOCK[10],
        LANE_BLOCK[11],
        LANE_BLOCK[12],
        LANE_BLOCK[13],
        LANE_BLOCK[14],
        LANE_BLOCK[15],
    );
    let mut x = [[_mm512_setzero_si512(); 4]; N];
    for (i, s) in x.iter_mut().enumerate() {
        let base = _mm512_set1_epi32(ctr.wrapping_add(16 * i as u32) as i32);
        *s = [
            _mm512_set1_epi32(nonce[0] as i32),
            _mm512_set1_epi32(nonce[1] as i32),
            _mm512_set1_epi32(nonce[2] as i32),
            // The addition wraps mod 2³², GCM's inc32.
            _mm512_add_epi32(base, step),
        ];
    }
    rounds(rk, &mut x, &c);
    for (s, set) in x.iter().zip(buf.chunks_exact_mut(256)) {
        for (v, q) in output(s, &c).into_iter().zip(set.chunks_exact_mut(64)) {
            let q: &mut [u8; 64] = q.try_into().expect("64-byte quarter");
            store64(_mm512_xor_si512(load64(q), v), q);
        }
    }
}

/// Sets in flight (of sixteen blocks each). With fewer the core waits on each round's
/// dependency chain; more compete for the 32 zmm registers (4 × N state words plus
/// constants and temporaries). Measured in counter mode, fastest 64 KiB chunk on a loaded
/// machine: 2.74 GB/s with two sets, 3.54 with four, 3.35 with six.
const SETS: usize = 4;
const BATCH_BYTES: usize = 256 * SETS;

/// The fewest sets (1, 2 or [`SETS`]) that cover `bytes`.
fn sets_for(bytes: usize) -> usize {
    match bytes {
        0..=256 => 1,
        257..=512 => 2,
        _ => SETS,
    }
}

/// Encrypts every block in place, sixty-four at a time; a tail goes through the fewest
/// sets that cover it, padded with spare blocks that are discarded.
pub(crate) fn encrypt_blocks(_: Token, rk: &[u32; 32], blocks: &mut [Block]) {
    let bytes = blocks.as_flattened_mut();
    let mut chunks = bytes.chunks_exact_mut(BATCH_BYTES);
    for batch in &mut chunks {
        // SAFETY: a `Token` exists only after GFNI, AVX-512F and AVX-512BW were detected;
        // the batch is exactly `SETS` sets (asserted inside), accessed by checked slicing.
        unsafe { encrypt_sets::<SETS>(rk, batch) };
    }
    let tail = chunks.into_remainder();
    if tail.is_empty() {
        return;
    }
    let mut spare = [0u8; BATCH_BYTES];
    spare[..tail.len()].copy_from_slice(tail);
    let sets = sets_for(tail.len());
    let spare_sets = &mut spare[..256 * sets];
    // SAFETY: as above; `spare_sets` is exactly `sets` sets.
    unsafe {
        match sets {
            1 => encrypt_sets::<1>(rk, spare_sets),
            2 => encrypt_sets::<2>(rk, spare_sets),
            _ => encrypt_sets::<SETS>(rk, spare_sets),
        }
    }
    tail.copy_from_slice(&spare[..tail.len()]);
    zeroize::Zeroize::zeroize(&mut spare[..]);
}

/// XORs the counter-mode keystream from `nonce ‖ ctr` on (32-bit big-endian counter,
/// wrapping) into `buf`, sixty-four blocks at a time, in registers.
pub(crate) fn ctr32_xor(_: Token, rk: &[u32; 32], nonce: [u32; 3], mut ctr: u32, buf: &mut [u8]) {
    let mut chunks = buf.chunks_exact_mut(BATCH_BYTES);
    for batch in &mut chunks {
        // SAFETY: a `Token` exists only after GFNI, AVX-512F and AVX-512BW were detected;
        // the batch is exactly `SETS` sets (asserted inside), accessed by checked slicing.
        unsafe { xor_keystream_sets::<SETS>(rk, nonce, ctr, batch) };
        ctr = ctr.wrapping_add((BATCH_BYTES / 16) as u32);
    }
    let tail = chunks.into_remainder();
    if tail.is_empty() {
        return;
    }
    let mut spare = [0u8; BATCH_BYTES];
    spare[..tail.len()].copy_from_slice(tail);
    let sets = sets_for(tail.len());
    let spare_sets = &mut spare[..256 * sets];
    // SAFETY: as above; `spare_sets` is exactly `sets` sets.
    unsafe {
        match sets {
            1 => xor_keystream_sets::<1>(rk, nonce, ctr, spare_sets),
            2 => xor_keystream_sets::<2>(rk, nonce, ctr, spare_sets),
            _ => xor_keystream_sets::<SETS>(rk, nonce, ctr, spare_sets),
        }
    }
    tail.copy_from_slice(&spare[..tail.len()]);
    zeroize::Zeroize::zeroize(&mut spare[..]);
}

/// τ on one word (the key schedule's), through the same two instructions on 128 bits.
#[target_feature(enable = "gfni,avx512f,avx512bw")]
fn tau_word(w: u32) -> u32 {
    let x = _mm_cvtsi32_si128(w as i32);
    let y = _mm_gf2p8affine_epi64_epi8::<PRE_C>(x, _mm_set1_epi64x(PRE_MATRIX as i64));
    let y = _mm_gf2p8affineinv_epi64_epi8::<OUT_C>(y, _mm_set1_epi64x(OUT_MATRIX as i64));
    _mm_cvtsi128_si32(y) as u32
}

/// τ for the key schedule.
pub(crate) fn tau(_: Token, w: u32) -> u32 {
    // SAFETY: a `Token` exists only after GFNI, AVX-512F and AVX-512BW were detected.
    unsafe { tau_word(w) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::affine::tests::SM4_SBOX;

    /// GF2P8AFFINEQB on one byte as the Intel SDM defines it: output bit `i` is the parity
    /// of `x` AND byte `7 − i` of the matrix, XOR bit `i` of the immediate.
    fn affine_byte(m: u64, c: u8, x: u8) -> u8 {
        (0..8).fold(c, |acc, i| {
            let row = (m >> (8 * (7 - i))) as u8;
            acc ^ ((((row & x).count_ones() & 1) as u8) << i)
        })
    }

    fn gf_inv(x: u8) -> u8 {
        (1..=255u8)
            .find(|&y| crate::affine::gf_mul(x, y) == 1)
            .unwrap_or(0)
    }

    /// The matrices and constants, applied as the SDM defines the two instructions, give
    /// the standard's S-box on all 256 inputs (no GFNI needed).
    #[test]
    fn the_matrices_compose_to_the_sm4_sbox() {
        for x in 0..=255u8 {
            let y = affine_byte(PRE_MATRIX, PRE.c, x);
            let z = affine_byte(OUT_MATRIX, OUT.c, gf_inv(y));
            assert_eq!(z, SM4_SBOX[usize::from(x)], "S({x:#04x})");
        }
    }

    /// The instructions themselves, on every input in every byte position.
    #[test]
    fn the_instructions_compute_the_sm4_sbox() {
        let Some(_) = Token::detect() else {
            eprintln!("gfni-avx512 not available on this CPU: instruction test skipped");
            return;
        };
        let input: [u8; 256] = std::array::from_fn(|i| i as u8);
        let mut output = [0u8; 256];
        // SAFETY: GFNI, AVX-512F and AVX-512BW were detected just above; the four 64-byte
        // pieces are borrowed arrays.
        unsafe { sbox_bytes(&input, &mut output) };
        assert_eq!(output, SM4_SBOX);
    }

    #[target_feature(enable = "gfni,avx512f,avx512bw")]
    fn sbox_bytes(input: &[u8; 256], output: &mut [u8; 256]) {
        let c = consts();
        for (i, o) in input.chunks_exact(64).zip(output.chunks_exact_mut(64)) {
            let v = sbox(load64(i.try_into().unwrap()), &c);
            store64(v, o.try_into().unwrap());
        }
    }

    #[test]
    fn tau_matches_the_portable_sbox() {
        let Some(t) = Token::detect() else { return };
        for x in 0..=255u32 {
            let w = (x * 0x0101_0101) ^ 0x00ff_3c00;
            assert_eq!(tau(t, w), crate::portable::tau(w), "{w:#010x}");
        }
    }
}
