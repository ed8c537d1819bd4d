//! SM4 on x86_64 with GFNI and AVX2 (VEX-encoded GFNI, no AVX-512): the S-box as the
//! same two Galois-field affine instructions as `gfni.rs`, eight blocks per 256-bit
//! register, four registers' worth (32 blocks) in flight. For CPUs with GFNI but without
//! AVX-512; where both exist, `gfni.rs` (sixteen blocks per register, `vprold`,
//! `vpternlogd`) is faster and detection prefers it.
//!
//! Layout: four 256-bit registers hold word 0, 1, 2, 3 of eight blocks (a 4×4 transpose in
//! each 128-bit lane: dword `4L + i` holds block `2i + L`). Without `vprold`, L's byte
//! rotations are `vpshufb` and its 2-bit rotation two shifts:
//! L(b) = b ⊕ (b⋘24) ⊕ ((b ⊕ b⋘8 ⊕ b⋘16)⋘2).
//!
//! `unsafe` here: calls into `#[target_feature]` functions (made only behind a
//! [`Token`], which [`Token::detect`] makes after run-time detection) and unaligned
//! 32-/16-byte loads and stores through pointers made from `&[u8; 32]`/`&[u8; 16]` borrows
//! (README.md, "Safety").

use core::arch::x86_64::*;

use super::gfni::{OUT_C, OUT_MATRIX, PRE_C, PRE_MATRIX};
use crate::Block;

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

/// Swaps the bytes of each 32-bit lane: big-endian block words ↔ `u32` lanes.
const BSWAP32: [u8; 16] = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];

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
struct Consts {
    pre: __m256i,
    out: __m256i,
    bswap: __m256i,
    rol8: __m256i,
    rol16: __m256i,
    rol24: __m256i,
}

#[inline]
#[target_feature(enable = "gfni,avx2")]
fn broadcast(t: &[u8; 16]) -> __m256i {
    // In bounds: `t` is a 16-byte array and the load reads 16 bytes.
    _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(t.as_ptr().cast()) })
}

#[target_feature(enable = "gfni,avx2")]
fn consts() -> Consts {
    Consts {
        pre: _mm256_set1_epi64x(PRE_MATRIX as i64),
        out: _mm256_set1_epi64x(OUT_MATRIX as i64),
        bswap: broadcast(&BSWAP32),
        rol8: broadcast(&ROL8),
        rol16: broadcast(&ROL16),
        rol24: broadcast(&ROL24),
    }
}

/// The SM4 S-box on every byte.
#[inline]
#[target_feature(enable = "gfni,avx2")]
fn sbox(x: __m256i, c: &Consts) -> __m256i {
    let y = _mm256_gf2p8affine_epi64_epi8::<PRE_C>(x, c.pre);
    _mm256_gf2p8affineinv_epi64_epi8::<OUT_C>(y, c.out)
}

/// One SM4 round on every set: word `j` ^= L(τ(other three words ^ rk)).
#[inline]
#[target_feature(enable = "gfni,avx2")]
fn round<const N: usize>(x: &mut [[__m256i; 4]; N], j: usize, k: __m256i, c: &Consts) {
    for s in x.iter_mut() {
        let t = _mm256_xor_si256(
            _mm256_xor_si256(s[(j + 1) % 4], s[(j + 2) % 4]),
            _mm256_xor_si256(s[(j + 3) % 4], k),
        );
        let b = sbox(t, c);
        // L(b) = b ^ b⋘24 ^ (b ^ b⋘8 ^ b⋘16)⋘2 (GB/T 32907-2016, 6.2).
        let a = _mm256_xor_si256(
            _mm256_xor_si256(b, _mm256_shuffle_epi8(b, c.rol8)),
            _mm256_shuffle_epi8(b, c.rol16),
        );
        let a = _mm256_or_si256(_mm256_slli_epi32::<2>(a), _mm256_srli_epi32::<30>(a));
        let l = _mm256_xor_si256(_mm256_xor_si256(b, _mm256_shuffle_epi8(b, c.rol24)), a);
        s[j] = _mm256_xor_si256(s[j], l);
    }
}

/// The 32 rounds on `N` sets of eight blocks.
#[inline]
#[target_feature(enable = "gfni,avx2")]
fn rounds<const N: usize>(rk: &[u32; 32], x: &mut [[__m256i; 4]; N], c: &Consts) {
    for r in rk.chunks_exact(4) {
        round(x, 0, _mm256_set1_epi32(r[0] as i32), c);
        round(x, 1, _mm256_set1_epi32(r[1] as i32), c);
        round(x, 2, _mm256_set1_epi32(r[2] as i32), c);
        round(x, 3, _mm256_set1_epi32(r[3] as i32), c);
    }
}

/// 4×4 transpose of 32-bit words within each 128-bit lane (its own inverse).
#[inline]
#[target_feature(enable = "gfni,avx2")]
fn transpose(r: [__m256i; 4]) -> [__m256i; 4] {
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

/// Loads 32 bytes (two blocks).
#[inline]
#[target_feature(enable = "gfni,avx2")]
fn load32(b: &[u8; 32]) -> __m256i {
    // In bounds: the pointer comes from a `&[u8; 32]` and the load reads 32 bytes.
    unsafe { _mm256_loadu_si256(b.as_ptr().cast()) }
}

/// Stores 32 bytes (two blocks).
#[inline]
#[target_feature(enable = "gfni,avx2")]
fn store32(v: __m256i, b: &mut [u8; 32]) {
    // In bounds: the pointer comes from a `&mut [u8; 32]` and the store writes 32 bytes.
    unsafe { _mm256_storeu_si256(b.as_mut_ptr().cast(), v) }
}

/// The four 32-byte quarters of a set's 128 bytes (checked conversions).
fn quarters(set: &[u8]) -> [&[u8; 32]; 4] {
    std::array::from_fn(|q| {
        set[32 * q..32 * q + 32]
            .try_into()
            .expect("a set is 128 bytes")
    })
}

/// The state (X35, X34, X33, X32) of a set as its eight output blocks, 32 bytes each.
#[inline]
#[target_feature(enable = "gfni,avx2")]
fn output(s: &[__m256i; 4], c: &Consts) -> [__m256i; 4] {
    transpose([s[3], s[2], s[1], s[0]]).map(|v| _mm256_shuffle_epi8(v, c.bswap))
}

/// Encrypts `8 × N` blocks in place (`blocks.len() == 128 * N` bytes).
#[target_feature(enable = "gfni,avx2")]
fn encrypt_sets<const N: usize>(rk: &[u32; 32], blocks: &mut [u8]) {
    assert_eq!(blocks.len(), 128 * N, "whole sets of eight blocks");
    let c = consts();
    let mut x = [[_mm256_setzero_si256(); 4]; N];
    for (s, set) in x.iter_mut().zip(blocks.chunks_exact(128)) {
        let r = quarters(set).map(|q| _mm256_shuffle_epi8(load32(q), c.bswap));
        *s = transpose(r);
    }
    rounds(rk, &mut x, &c);
    for (s, set) in x.iter().zip(blocks.chunks_exact_mut(128)) {
        for (v, q) in output(s, &c).into_iter().zip(set.chunks_exact_mut(32)) {
            store32(v, q.try_into().expect("32-byte quarter"));
        }
    }
}

/// XORs the keystream blocks `nonce ‖ (ctr + i)`, `i` in `0..8 × N`, into `buf`
/// (`buf.len() == 128 * N`).
#[target_feature(enable = "gfni,avx2")]
fn xor_keystream_sets<const N: usize>(rk: &[u32; 32], nonce: [u32; 3], ctr: u32, buf: &mut [u8]) {
    assert_eq!(buf.len(), 128 * N, "whole sets of eight blocks");
    let c = consts();
    // Dword `4L + i` holds block `2i + L` (see the layout).
    let step = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    let mut x = [[_mm256_setzero_si256(); 4]; N];
    for (i, s) in x.iter_mut().enumerate() {
        let base = _mm256_set1_epi32(ctr.wrapping_add(8 * i as u32) as i32);
        *s = [
            _mm256_set1_epi32(nonce[0] as i32),
            _mm256_set1_epi32(nonce[1] as i32),
            _mm256_set1_epi32(nonce[2] as i32),
            // The addition wraps mod 2³², GCM's inc32.
            _mm256_add_epi32(base, step),
        ];
    }
    rounds(rk, &mut x, &c);
    for (s, set) in x.iter().zip(buf.chunks_exact_mut(128)) {
        for (v, q) in output(s, &c).into_iter().zip(set.chunks_exact_mut(32)) {
            let q: &mut [u8; 32] = q.try_into().expect("32-byte quarter");
            store32(_mm256_xor_si256(load32(q), v), q);
        }
    }
}

/// Sets in flight (of eight blocks each): 4 × 4 state registers, the six constants and
/// the round's temporaries fit the sixteen ymm registers.
const SETS: usize = 4;
const BATCH_BYTES: usize = 128 * SETS;

/// The fewest sets (1, 2 or [`SETS`]) that cover `bytes`.
fn sets_for(bytes: usize) -> usize {
    match bytes {
        0..=128 => 1,
        129..=256 => 2,
        _ => SETS,
    }
}

/// Encrypts every block in place, thirty-two at a time; a tail goes through the fewest
/// sets that cover it, padded with spare blocks that are discarded.
pub(crate) fn encrypt_blocks(_: Token, rk: &[u32; 32], blocks: &mut [Block]) {
    let bytes = blocks.as_flattened_mut();
    let mut chunks = bytes.chunks_exact_mut(BATCH_BYTES);
    for batch in &mut chunks {
        // SAFETY: a `Token` exists only after GFNI and AVX2 were detected; the batch is
        // exactly `SETS` sets (asserted inside), accessed by checked slicing.
        unsafe { encrypt_sets::<SETS>(rk, batch) };
    }
    let tail = chunks.into_remainder();
    if tail.is_empty() {
        return;
    }
    let mut spare = [0u8; BATCH_BYTES];
    spare[..tail.len()].copy_from_slice(tail);
    let sets = sets_for(tail.len());
    let spare_sets = &mut spare[..128 * sets];
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
/// wrapping) into `buf`, thirty-two blocks at a time, in registers.
pub(crate) fn ctr32_xor(_: Token, rk: &[u32; 32], nonce: [u32; 3], mut ctr: u32, buf: &mut [u8]) {
    let mut chunks = buf.chunks_exact_mut(BATCH_BYTES);
    for batch in &mut chunks {
        // SAFETY: a `Token` exists only after GFNI and AVX2 were detected; the batch is
        // exactly `SETS` sets (asserted inside), accessed by checked slicing.
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
    let spare_sets = &mut spare[..128 * sets];
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
#[target_feature(enable = "gfni,avx2")]
fn tau_word(w: u32) -> u32 {
    let x = _mm_cvtsi32_si128(w as i32);
    let y = _mm_gf2p8affine_epi64_epi8::<PRE_C>(x, _mm_set1_epi64x(PRE_MATRIX as i64));
    let y = _mm_gf2p8affineinv_epi64_epi8::<OUT_C>(y, _mm_set1_epi64x(OUT_MATRIX as i64));
    _mm_cvtsi128_si32(y) as u32
}

/// τ for the key schedule.
pub(crate) fn tau(_: Token, w: u32) -> u32 {
    // SAFETY: a `Token` exists only after GFNI and AVX2 were detected.
    unsafe { tau_word(w) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_matches_the_portable_sbox() {
        let Some(t) = Token::detect() else { return };
        for x in 0..=255u32 {
            let w = (x * 0x0101_0101) ^ 0x00ff_3c00;
            assert_eq!(tau(t, w), crate::portable::tau(w), "{w:#010x}");
        }
    }

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
