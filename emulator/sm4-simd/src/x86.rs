//! SM4 on x86_64 with AES-NI and AVX2: thirty-two blocks in flight, the S-box through
//! `aesenclast` between two affine maps applied with `pshufb`.
//!
//! The only module of the workspace that uses `unsafe` (README.md, "Safety", states the
//! argument for each kind of block; the register-only intrinsics are `unsafe` solely
//! through their target features). Two kinds:
//! - the functions marked `#[target_feature(enable = "aes,avx2")]` are `unsafe fn`: calling
//!   them on a CPU without those features is undefined behaviour. They are called only
//!   from this module's safe wrappers, which take a [`Token`], and a `Token` is only ever
//!   made by [`Token::detect`] after `is_x86_feature_detected!` said yes to both features.
//! - unaligned 16-byte loads and stores (`_mm_loadu_si128`/`_mm_storeu_si128`) take a raw
//!   pointer; every one is made from a `&[u8; 16]` or `&mut [u8; 16]` (a block obtained by
//!   checked indexing), so exactly the sixteen bytes of a live block are read or written.
//!
//! Layout: a block's four big-endian words are byte-swapped into `u32` lanes, and four
//! 256-bit registers hold word 0, 1, 2, 3 of eight blocks (a 4×4 transpose in each 128-bit
//! lane: lane 0 holds blocks 0–3, lane 1 blocks 4–7). A round then works on eight blocks
//! per instruction, four such sets interleaved (32 blocks in flight). Counter mode builds
//! this layout directly (three broadcast nonce words and a vector of counters) and
//! transposes only the output.
//!
//! Constant time: `pshufb` indexes a register, not memory; `aesenclast` has fixed latency;
//! every loop bound and branch depends on lengths only.

#![allow(unsafe_code)]

use core::arch::x86_64::*;

pub(crate) mod clmul;
pub(crate) mod gfni;

use crate::affine::{POST, PRE};
use crate::Block;

/// Proof that this CPU has AES-NI and AVX2 (made only by [`Token::detect`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token(());

impl Token {
    /// `Some` only when the CPU reports both features at run time.
    pub(crate) fn detect() -> Option<Token> {
        (std::is_x86_feature_detected!("aes") && std::is_x86_feature_detected!("avx2"))
            .then_some(Token(()))
    }
}

const PRE_TABLES: ([u8; 16], [u8; 16]) = PRE.nibble_tables();
const POST_TABLES: ([u8; 16], [u8; 16]) = POST.nibble_tables();

/// `aesenclast` ends with ShiftRows: state byte `r + 4c` (row r, column c) receives byte
/// `r + 4(c + r mod 4)`. This `pshufb` pattern undoes it: byte `r + 4c` takes byte
/// `r + 4(c − r mod 4)` of the round's output.
const INV_SHIFT_ROWS: [u8; 16] = {
    let mut m = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        let (r, c) = (i % 4, i / 4);
        m[i] = (r + 4 * ((c + 4 - r) % 4)) as u8;
        i += 1;
    }
    m
};

/// `INV_SHIFT_ROWS` followed by a left rotation of each little-endian `u32` lane by `8k`
/// bits (byte `b` of a lane takes byte `b − k mod 4`): one `pshufb` for both.
const fn inv_shift_rows_rol(k: usize) -> [u8; 16] {
    let mut m = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        let from = (i / 4) * 4 + (i % 4 + 4 - k) % 4;
        m[i] = INV_SHIFT_ROWS[from];
        i += 1;
    }
    m
}

/// Swaps the bytes of each 32-bit lane: big-endian block words ↔ `u32` lanes.
const BSWAP32: [u8; 16] = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];

/// The byte patterns a round needs, broadcast to both 128-bit lanes.
struct Consts {
    nibble: __m256i,
    pre_lo: __m256i,
    pre_hi: __m256i,
    post_lo: __m256i,
    post_hi: __m256i,
    isr: __m256i,
    isr8: __m256i,
    isr16: __m256i,
    isr24: __m256i,
    bswap: __m256i,
}

#[target_feature(enable = "aes,avx2")]
unsafe fn broadcast(t: &[u8; 16]) -> __m256i {
    // In bounds: `t` is a 16-byte array and the load reads 16 bytes.
    _mm256_broadcastsi128_si256(_mm_loadu_si128(t.as_ptr().cast()))
}

#[target_feature(enable = "aes,avx2")]
unsafe fn consts() -> Consts {
    Consts {
        nibble: _mm256_set1_epi8(0x0f),
        pre_lo: broadcast(&PRE_TABLES.0),
        pre_hi: broadcast(&PRE_TABLES.1),
        post_lo: broadcast(&POST_TABLES.0),
        post_hi: broadcast(&POST_TABLES.1),
        isr: broadcast(&INV_SHIFT_ROWS),
        isr8: broadcast(&inv_shift_rows_rol(1)),
        isr16: broadcast(&inv_shift_rows_rol(2)),
        isr24: broadcast(&inv_shift_rows_rol(3)),
        bswap: broadcast(&BSWAP32),
    }
}

/// An affine map on every byte: two `pshufb` lookups, one per 4-bit half, in registers.
#[inline]
#[target_feature(enable = "aes,avx2")]
unsafe fn affine(x: __m256i, lo: __m256i, hi: __m256i, nibble: __m256i) -> __m256i {
    let l = _mm256_and_si256(x, nibble);
    let h = _mm256_and_si256(_mm256_srli_epi32(x, 4), nibble);
    _mm256_xor_si256(_mm256_shuffle_epi8(lo, l), _mm256_shuffle_epi8(hi, h))
}

/// AES's SubBytes then ShiftRows (`aesenclast` with a zero round key) on each 128-bit lane.
#[inline]
#[target_feature(enable = "aes,avx2")]
unsafe fn aes_sub_shift(x: __m256i) -> __m256i {
    let zero = _mm_setzero_si128();
    let lo = _mm_aesenclast_si128(_mm256_castsi256_si128(x), zero);
    let hi = _mm_aesenclast_si128(_mm256_extracti128_si256(x, 1), zero);
    _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1)
}

/// SM4's round transform T = L(τ(x)) on eight words. The ShiftRows left by `aesenclast` is
/// undone inside the byte rotations of L = x ⊕ (x⋘2) ⊕ (x⋘10) ⊕ (x⋘18) ⊕ (x⋘24)
/// = x ⊕ ((x ⊕ x⋘8 ⊕ x⋘16)⋘2) ⊕ x⋘24.
#[inline]
#[target_feature(enable = "aes,avx2")]
unsafe fn round_t(x: __m256i, c: &Consts) -> __m256i {
    let y = affine(x, c.pre_lo, c.pre_hi, c.nibble);
    let y = aes_sub_shift(y);
    let y = affine(y, c.post_lo, c.post_hi, c.nibble);
    let s = _mm256_shuffle_epi8(y, c.isr);
    let a = _mm256_xor_si256(
        _mm256_xor_si256(s, _mm256_shuffle_epi8(y, c.isr8)),
        _mm256_shuffle_epi8(y, c.isr16),
    );
    let a = _mm256_or_si256(_mm256_slli_epi32(a, 2), _mm256_srli_epi32(a, 30));
    _mm256_xor_si256(_mm256_xor_si256(s, a), _mm256_shuffle_epi8(y, c.isr24))
}

/// One SM4 round on every set: word `j` ^= T(other three words ^ rk).
#[inline]
#[target_feature(enable = "aes,avx2")]
unsafe fn round<const N: usize>(x: &mut [[__m256i; 4]; N], j: usize, k: __m256i, c: &Consts) {
    for s in x.iter_mut() {
        let t = _mm256_xor_si256(
            _mm256_xor_si256(s[(j + 1) % 4], s[(j + 2) % 4]),
            _mm256_xor_si256(s[(j + 3) % 4], k),
        );
        s[j] = _mm256_xor_si256(s[j], round_t(t, c));
    }
}

/// The 32 rounds on `N` sets of eight blocks.
#[inline]
#[target_feature(enable = "aes,avx2")]
unsafe fn rounds<const N: usize>(rk: &[u32; 32], x: &mut [[__m256i; 4]; N], c: &Consts) {
    for r in rk.chunks_exact(4) {
        round(x, 0, _mm256_set1_epi32(r[0] as i32), c);
        round(x, 1, _mm256_set1_epi32(r[1] as i32), c);
        round(x, 2, _mm256_set1_epi32(r[2] as i32), c);
        round(x, 3, _mm256_set1_epi32(r[3] as i32), c);
    }
}

/// 4×4 transpose of 32-bit words within each 128-bit lane (its own inverse).
#[inline]
#[target_feature(enable = "aes,avx2")]
unsafe fn transpose(r: [__m256i; 4]) -> [__m256i; 4] {
    let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
    let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
    let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    [
        _mm256_unpacklo_epi64(t0, t2),
        _mm256_unpackhi_epi64(t0, t2),
        _mm256_unpacklo_epi64(t1, t3),
        _mm256_unpackhi_epi64(t1, t3),
    ]
}

/// Blocks `k` and `k + 4` of `eight` in one register (low and high lane).
#[inline]
#[target_feature(enable = "aes,avx2")]
unsafe fn load_pair(eight: &[Block], k: usize) -> __m256i {
    let (a, b): (&Block, &Block) = (&eight[k], &eight[k + 4]);
    // In bounds: each pointer comes from a `&[u8; 16]` and the load reads 16 bytes.
    let lo = _mm_loadu_si128(a.as_ptr().cast());
    let hi = _mm_loadu_si128(b.as_ptr().cast());
    _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1)
}

#[inline]
#[target_feature(enable = "aes,avx2")]
unsafe fn store_pair(v: __m256i, eight: &mut [Block], k: usize) {
    let (a, b) = eight.split_at_mut(k + 4);
    // In bounds: each pointer comes from a `&mut [u8; 16]` and the store writes 16 bytes.
    _mm_storeu_si128(a[k].as_mut_ptr().cast(), _mm256_castsi256_si128(v));
    _mm_storeu_si128(b[0].as_mut_ptr().cast(), _mm256_extracti128_si256(v, 1));
}

/// Writes the output (X35, X34, X33, X32) of each set to its eight blocks.
#[inline]
#[target_feature(enable = "aes,avx2")]
unsafe fn store_sets<const N: usize>(x: &[[__m256i; 4]; N], out: &mut [Block], c: &Consts) {
    for (s, eight) in x.iter().zip(out.chunks_exact_mut(8)) {
        let r = transpose([s[3], s[2], s[1], s[0]]);
        for (k, v) in r.into_iter().enumerate() {
            store_pair(_mm256_shuffle_epi8(v, c.bswap), eight, k);
        }
    }
}

/// Encrypts `8 × N` blocks in place (`blocks.len() == 8 * N`).
#[target_feature(enable = "aes,avx2")]
unsafe fn encrypt_sets<const N: usize>(rk: &[u32; 32], blocks: &mut [Block]) {
    let c = consts();
    let mut x = [[_mm256_setzero_si256(); 4]; N];
    for (s, eight) in x.iter_mut().zip(blocks.chunks_exact(8)) {
        let mut r = [_mm256_setzero_si256(); 4];
        for (k, v) in r.iter_mut().enumerate() {
            *v = _mm256_shuffle_epi8(load_pair(eight, k), c.bswap);
        }
        *s = transpose(r);
    }
    rounds(rk, &mut x, &c);
    store_sets(&x, blocks, &c);
}

/// The keystream blocks `nonce ‖ (ctr + i)` for `i` in `0..8 × N` into `out`.
#[target_feature(enable = "aes,avx2")]
unsafe fn keystream_sets<const N: usize>(
    rk: &[u32; 32],
    nonce: [u32; 3],
    ctr: u32,
    out: &mut [Block],
) {
    let c = consts();
    let step = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let mut x = [[_mm256_setzero_si256(); 4]; N];
    for (i, s) in x.iter_mut().enumerate() {
        let base = _mm256_set1_epi32(ctr.wrapping_add(8 * i as u32) as i32);
        *s = [
            _mm256_set1_epi32(nonce[0] as i32),
            _mm256_set1_epi32(nonce[1] as i32),
            _mm256_set1_epi32(nonce[2] as i32),
            // Lane 0 of the register holds blocks 0–3 and lane 1 blocks 4–7 of the set,
            // as `store_sets` lays them out; the addition wraps mod 2³², GCM's inc32.
            _mm256_add_epi32(base, step),
        ];
    }
    rounds(rk, &mut x, &c);
    store_sets(&x, out, &c);
}

/// τ on one word through the same S-box (the key schedule's).
#[target_feature(enable = "aes,avx2")]
unsafe fn tau_word(w: u32) -> u32 {
    let c = consts();
    let x = _mm256_castsi128_si256(_mm_cvtsi32_si128(w as i32));
    let y = affine(x, c.pre_lo, c.pre_hi, c.nibble);
    let y = aes_sub_shift(y);
    let y = affine(y, c.post_lo, c.post_hi, c.nibble);
    _mm_cvtsi128_si32(_mm256_castsi256_si128(_mm256_shuffle_epi8(y, c.isr))) as u32
}

/// τ for the key schedule.
pub(crate) fn tau(_: Token, w: u32) -> u32 {
    // SAFETY: a `Token` exists only after AES-NI and AVX2 were detected.
    unsafe { tau_word(w) }
}

/// Blocks in flight: four sets of eight. The round's dependency chain (`pshufb`,
/// `aesenclast`, lane moves) is long; with two sets the core waits on it, with four it
/// does not (measured here: 1.13 GB/s against 0.79 GB/s for counter mode; eight sets
/// spill registers and are slower again).
const BATCH: usize = 32;

/// Encrypts `8 × sets` blocks (`sets` is 1, 2 or 4; `blocks.len() == 8 × sets`).
fn encrypt_in_sets(_: Token, rk: &[u32; 32], blocks: &mut [Block], sets: usize) {
    assert_eq!(blocks.len(), 8 * sets, "whole sets of eight blocks");
    // SAFETY: a `Token` exists only after AES-NI and AVX2 were detected; the slice holds
    // exactly the sets' blocks (asserted), each accessed by checked indexing.
    unsafe {
        match sets {
            1 => encrypt_sets::<1>(rk, blocks),
            2 => encrypt_sets::<2>(rk, blocks),
            _ => encrypt_sets::<4>(rk, blocks),
        }
    }
}

/// Encrypts every block in place, thirty-two at a time; a tail goes through the fewest
/// sets that cover it, padded with spare blocks that are discarded.
pub(crate) fn encrypt_blocks(t: Token, rk: &[u32; 32], blocks: &mut [Block]) {
    let mut chunks = blocks.chunks_exact_mut(BATCH);
    for batch in &mut chunks {
        encrypt_in_sets(t, rk, batch, 4);
    }
    let tail = chunks.into_remainder();
    let mut spare = [[0u8; 16]; BATCH];
    spare[..tail.len()].copy_from_slice(tail);
    let sets = match tail.len() {
        0 => return,
        1..=8 => 1,
        9..=16 => 2,
        _ => 4,
    };
    encrypt_in_sets(t, rk, &mut spare[..8 * sets], sets);
    tail.copy_from_slice(&spare[..tail.len()]);
}

/// XORs the counter-mode keystream from `nonce ‖ ctr` on (32-bit big-endian counter,
/// wrapping) into `buf`, thirty-two blocks at a time.
pub(crate) fn ctr32_xor(_: Token, rk: &[u32; 32], nonce: [u32; 3], mut ctr: u32, buf: &mut [u8]) {
    let mut ks = [[0u8; 16]; BATCH];
    for chunk in buf.chunks_mut(16 * BATCH) {
        let sets = match chunk.len() {
            0..=128 => 1,
            129..=256 => 2,
            _ => 4,
        };
        let ks = &mut ks[..8 * sets];
        // SAFETY: a `Token` exists only after AES-NI and AVX2 were detected; `ks` holds
        // exactly the sets' blocks, each accessed by checked indexing.
        unsafe {
            match sets {
                1 => keystream_sets::<1>(rk, nonce, ctr, ks),
                2 => keystream_sets::<2>(rk, nonce, ctr, ks),
                _ => keystream_sets::<4>(rk, nonce, ctr, ks),
            }
        }
        for (b, k) in chunk.iter_mut().zip(ks.as_flattened()) {
            *b ^= k;
        }
        ctr = ctr.wrapping_add(BATCH as u32);
    }
    zeroize::Zeroize::zeroize(ks.as_flattened_mut());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inv_shift_rows_undoes_shift_rows() {
        // ShiftRows: byte r + 4c takes r + 4((c + r) mod 4).
        for i in 0..16 {
            let (r, c) = (i % 4, i / 4);
            let shifted_from = r + 4 * ((c + r) % 4);
            // After ShiftRows, position p holds original byte shifted_from(p); the inverse
            // pattern at the original position must point back at p.
            assert_eq!(usize::from(INV_SHIFT_ROWS[shifted_from]), i);
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
