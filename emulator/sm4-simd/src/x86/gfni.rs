//! SM4 on x86_64 with GFNI: the S-box as two Galois-field affine instructions, written
//! once over the register width ([`Width`]) and run on two: [`avx512`] (`gfni-avx512`,
//! sixteen blocks per 512-bit register) and [`avx2`] (`gfni-avx2`, VEX-encoded GFNI for
//! CPUs without AVX-512, eight blocks per 256-bit register). Four registers' worth are in
//! flight (64 or 32 blocks).
//!
//! SM4's S-box is `OUT(inv(PRE(x)))` with the inversion in AES's field (src/affine.rs):
//! `vgf2p8affineqb` applies `PRE` (an 8×8 bit matrix and a constant) to every byte, and
//! `vgf2p8affineinvqb` inverts every byte in AES's field (x⁸+x⁴+x³+x+1, the one GFNI
//! uses) and applies `OUT` (AES's affine step then `POST`, folded). Two instructions per
//! register, no tables, fixed latency.
//!
//! Layout: a block's four big-endian words are byte-swapped into `u32` lanes; four
//! registers hold word 0, 1, 2, 3 of a set of blocks (a 4×4 transpose in each 128-bit lane:
//! with `B` such lanes per register, dword `4L + i` holds block `B·i + L`). Counter mode
//! builds the counters directly in that layout and XORs the keystream into the data in
//! registers.
//!
//! A [`Width`] is a proof token that the CPU has that width's features, with the few
//! register operations the rounds need as `#[inline(always)]` methods, each wrapping that
//! width's intrinsics. The algorithm ([`sets`], its rounds, the batching of
//! [`encrypt_blocks`] and [`ctr32_xor`]) is generic over it, and each width's
//! [`Width::sets`] enters it through a function compiled with
//! `#[target_feature(enable = …)]` for that width, so that the wrappers, inlined there,
//! become single instructions.
//!
//! `unsafe` here and in the two widths: the `Width` contract (a token exists only after
//! run-time detection), the intrinsics called under it, and unaligned loads and stores
//! through pointers made from fixed-size array borrows (README.md, "Safety").

use crate::affine::{Affine, AES_AFFINE, POST, PRE};
use crate::Block;

pub(crate) mod avx2;
pub(crate) mod avx512;

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
const PRE_MATRIX: u64 = gfni_matrix(&PRE);
const OUT_MATRIX: u64 = gfni_matrix(&OUT);
/// The constants as immediates (`const` generics of the intrinsics).
const PRE_C: i32 = PRE.c as i32;
const OUT_C: i32 = OUT.c as i32;

/// Swaps the bytes of each 32-bit lane: big-endian block words ↔ `u32` lanes.
const BSWAP32: [u8; 16] = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];

/// A register width: a proof token for its CPU features, its register type and the
/// operations the rounds need, each an `#[inline(always)]` wrapper of that width's
/// intrinsics.
///
/// # Safety
///
/// A value of the implementing type may exist only after run-time detection of GFNI and of
/// every other feature the implementation's intrinsics and its `sets` need: the methods
/// call those intrinsics on the strength of `self`, and [`tau`] calls GFNI code on the
/// strength of any `Width`.
pub(crate) unsafe trait Width: Copy {
    /// The register.
    type V: Copy;
    /// The constants a round needs, in registers.
    type Consts;
    /// Bytes per register: one word of `BYTES / 4` blocks.
    const BYTES: usize;

    /// Runs [`sets`] for this width inside a function compiled with its target features.
    fn sets<const N: usize>(self, rk: &[u32; 32], mode: Mode, buf: &mut [u8]);
    /// The constants, in registers.
    fn consts(self) -> Self::Consts;
    /// Loads `BYTES` bytes (`b` must be that long: checked).
    fn load(self, b: &[u8]) -> Self::V;
    /// Stores `BYTES` bytes (`b` must be that long: checked).
    fn store(self, v: Self::V, b: &mut [u8]);
    /// `w` in every 32-bit lane.
    fn splat(self, w: u32) -> Self::V;
    /// Adds 32-bit lanes, wrapping.
    fn add32(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a ^ b`.
    fn xor(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a ^ b ^ c`.
    fn xor3(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// The low and high interleavings of the 32-bit lanes of `a` and `b` (`punpck[lh]dq`).
    fn unpack32(self, a: Self::V, b: Self::V) -> [Self::V; 2];
    /// The low and high interleavings of the 64-bit lanes of `a` and `b` (`punpck[lh]qdq`).
    fn unpack64(self, a: Self::V, b: Self::V) -> [Self::V; 2];
    /// Swaps the bytes of every 32-bit lane.
    fn bswap(self, v: Self::V, c: &Self::Consts) -> Self::V;
    /// The SM4 S-box on every byte.
    fn sbox(self, x: Self::V, c: &Self::Consts) -> Self::V;
    /// `x ^ L(b)` in every 32-bit lane, L being
    /// `b ^ b⋘2 ^ b⋘10 ^ b⋘18 ^ b⋘24` (GB/T 32907-2016, 6.2).
    fn xor_l(self, x: Self::V, b: Self::V, c: &Self::Consts) -> Self::V;
}

/// What [`sets`] does to its buffer.
#[derive(Clone, Copy)]
pub(crate) enum Mode {
    /// Encrypts the blocks in place.
    Encrypt,
    /// XORs in the keystream blocks `nonce ‖ ctr`, `nonce ‖ ctr + 1`, … (32-bit counter,
    /// wrapping).
    Ctr { nonce: [u32; 3], ctr: u32 },
}

impl Mode {
    /// The mode for the buffer that starts `blocks` blocks further on.
    fn skip(self, blocks: usize) -> Mode {
        match self {
            Mode::Encrypt => Mode::Encrypt,
            Mode::Ctr { nonce, ctr } => Mode::Ctr {
                nonce,
                ctr: ctr.wrapping_add(blocks as u32),
            },
        }
    }
}

/// Dword `4L + i` of a register with `lanes` 128-bit lanes holds block `lanes · i + L`:
/// those block numbers as little-endian `u32`s (the first `16 × lanes` bytes).
const fn lane_blocks(lanes: usize) -> [u8; 64] {
    let mut t = [0u8; 64];
    let mut d = 0;
    while d < 4 * lanes {
        t[4 * d] = (lanes * (d % 4) + d / 4) as u8;
        d += 1;
    }
    t
}

/// One SM4 round on every set: word `j` ^= L(τ(other three words ^ rk)).
#[inline(always)]
fn round<W: Width, const N: usize>(w: W, x: &mut [[W::V; 4]; N], j: usize, k: W::V, c: &W::Consts) {
    for s in x.iter_mut() {
        let t = w.xor3(s[(j + 1) % 4], s[(j + 2) % 4], w.xor(s[(j + 3) % 4], k));
        s[j] = w.xor_l(s[j], w.sbox(t, c), c);
    }
}

/// The 32 rounds on `N` sets.
#[inline(always)]
fn rounds<W: Width, const N: usize>(w: W, rk: &[u32; 32], x: &mut [[W::V; 4]; N], c: &W::Consts) {
    for r in rk.chunks_exact(4) {
        round(w, x, 0, w.splat(r[0]), c);
        round(w, x, 1, w.splat(r[1]), c);
        round(w, x, 2, w.splat(r[2]), c);
        round(w, x, 3, w.splat(r[3]), c);
    }
}

/// 4×4 transpose of 32-bit words within each 128-bit lane (its own inverse).
#[inline(always)]
fn transpose<W: Width>(w: W, r: [W::V; 4]) -> [W::V; 4] {
    let [t0, t1] = w.unpack32(r[0], r[1]);
    let [t2, t3] = w.unpack32(r[2], r[3]);
    let [a, b] = w.unpack64(t0, t2);
    let [c, d] = w.unpack64(t1, t3);
    [a, b, c, d]
}

/// Encrypts, or XORs the keystream into, `N` sets of `W::BYTES / 4` blocks in place
/// (`buf.len() == 4 × W::BYTES × N`). Called only by each width's [`Width::sets`], within
/// that width's target features. (No closures here: one left out of line would be
/// compiled without those features, and the wrappers in it would not inline.)
#[inline(always)]
fn sets<W: Width, const N: usize>(w: W, rk: &[u32; 32], mode: Mode, buf: &mut [u8]) {
    let set_bytes = 4 * W::BYTES;
    assert_eq!(buf.len(), set_bytes * N, "whole sets");
    let c = w.consts();
    let mut x = [[w.splat(0); 4]; N];
    for (i, (s, set)) in x.iter_mut().zip(buf.chunks_exact(set_bytes)).enumerate() {
        *s = match mode {
            Mode::Encrypt => {
                let mut r = [w.splat(0); 4];
                for (r, q) in r.iter_mut().zip(set.chunks_exact(W::BYTES)) {
                    *r = w.bswap(w.load(q), &c);
                }
                transpose(w, r)
            }
            Mode::Ctr { nonce, ctr } => {
                let base = w.splat(ctr.wrapping_add((W::BYTES / 4 * i) as u32));
                let step = w.load(&const { lane_blocks(W::BYTES / 16) }[..W::BYTES]);
                [
                    w.splat(nonce[0]),
                    w.splat(nonce[1]),
                    w.splat(nonce[2]),
                    // The addition wraps mod 2³², GCM's inc32.
                    w.add32(base, step),
                ]
            }
        };
    }
    rounds(w, rk, &mut x, &c);
    for (s, set) in x.iter().zip(buf.chunks_exact_mut(set_bytes)) {
        // The state (X35, X34, X33, X32) as the set's output blocks.
        let out = transpose(w, [s[3], s[2], s[1], s[0]]);
        for (v, q) in out.into_iter().zip(set.chunks_exact_mut(W::BYTES)) {
            let v = w.bswap(v, &c);
            let v = match mode {
                Mode::Encrypt => v,
                Mode::Ctr { .. } => w.xor(w.load(q), v),
            };
            w.store(v, q);
        }
    }
}

/// Sets in flight, for both widths. With fewer the core waits on each round's dependency
/// chain; more compete for the registers (4 × N state words plus constants and
/// temporaries: 32 zmm, 16 ymm). Measured on 512 bits in counter mode, fastest 64 KiB
/// chunk on a loaded machine: 2.74 GB/s with two sets, 3.54 with four, 3.35 with six; on
/// 256 bits, four sets' state, the six constants and the temporaries fit the sixteen ymm.
const SETS: usize = 4;
/// The bytes of a set of the widest registers (four of 64 bytes).
const MAX_SET_BYTES: usize = 4 * 64;

/// Runs `buf` through `W::sets`, `SETS` sets at a time; a tail goes through the fewest sets
/// (1, 2 or `SETS`) that cover it, in a stack copy padded with spare blocks that are
/// discarded, then zeroed.
fn in_sets<W: Width>(w: W, rk: &[u32; 32], mut mode: Mode, buf: &mut [u8]) {
    let set_bytes = 4 * W::BYTES;
    let mut chunks = buf.chunks_exact_mut(SETS * set_bytes);
    for batch in &mut chunks {
        w.sets::<SETS>(rk, mode, batch);
        mode = mode.skip(SETS * set_bytes / 16);
    }
    let tail = chunks.into_remainder();
    if tail.is_empty() {
        return;
    }
    let mut spare = [0u8; SETS * MAX_SET_BYTES];
    spare[..tail.len()].copy_from_slice(tail);
    match tail.len().div_ceil(set_bytes) {
        1 => w.sets::<1>(rk, mode, &mut spare[..set_bytes]),
        2 => w.sets::<2>(rk, mode, &mut spare[..2 * set_bytes]),
        _ => w.sets::<SETS>(rk, mode, &mut spare[..SETS * set_bytes]),
    }
    tail.copy_from_slice(&spare[..tail.len()]);
    zeroize::Zeroize::zeroize(&mut spare[..]);
}

/// Encrypts every block in place.
pub(crate) fn encrypt_blocks<W: Width>(w: W, rk: &[u32; 32], blocks: &mut [Block]) {
    in_sets(w, rk, Mode::Encrypt, blocks.as_flattened_mut());
}

/// XORs the counter-mode keystream from `nonce ‖ ctr` on (32-bit big-endian counter,
/// wrapping) into `buf`, in registers.
pub(crate) fn ctr32_xor<W: Width>(w: W, rk: &[u32; 32], nonce: [u32; 3], ctr: u32, buf: &mut [u8]) {
    in_sets(w, rk, Mode::Ctr { nonce, ctr }, buf);
}

/// τ on one word (the key schedule's), through the same two instructions on 128 bits.
#[target_feature(enable = "gfni")]
fn tau_word(w: u32) -> u32 {
    use core::arch::x86_64::*;
    let x = _mm_cvtsi32_si128(w as i32);
    let y = _mm_gf2p8affine_epi64_epi8::<PRE_C>(x, _mm_set1_epi64x(PRE_MATRIX as i64));
    let y = _mm_gf2p8affineinv_epi64_epi8::<OUT_C>(y, _mm_set1_epi64x(OUT_MATRIX as i64));
    _mm_cvtsi128_si32(y) as u32
}

/// τ for the key schedule.
pub(crate) fn tau<W: Width>(_: W, w: u32) -> u32 {
    // SAFETY: by the `Width` contract a `W` exists only after GFNI was detected.
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

    /// The S-box through `w`'s own instructions on all 256 inputs, in every byte position
    /// of its registers.
    fn sbox_through<W: Width>(w: W) {
        let input: [u8; 256] = std::array::from_fn(|i| i as u8);
        let mut output = [0u8; 256];
        let c = w.consts();
        for (i, o) in input
            .chunks_exact(W::BYTES)
            .zip(output.chunks_exact_mut(W::BYTES))
        {
            w.store(w.sbox(w.load(i), &c), o);
        }
        assert_eq!(output, SM4_SBOX);
    }

    fn tau_through<W: Width>(w: W) {
        for x in 0..=255u32 {
            let word = (x * 0x0101_0101) ^ 0x00ff_3c00;
            assert_eq!(tau(w, word), crate::portable::tau(word), "{word:#010x}");
        }
    }

    /// Runs the check (instantiated once per width) on every width this CPU has.
    fn on_every_width(check_512: fn(avx512::Token), check_256: fn(avx2::Token)) {
        match avx512::Token::detect() {
            Some(t) => check_512(t),
            None => eprintln!("gfni-avx512 not available on this CPU: not tested here"),
        }
        match avx2::Token::detect() {
            Some(t) => check_256(t),
            None => eprintln!("gfni-avx2 not available on this CPU: not tested here"),
        }
    }

    #[test]
    fn the_instructions_compute_the_sm4_sbox() {
        on_every_width(sbox_through, sbox_through);
    }

    #[test]
    fn tau_matches_the_portable_sbox() {
        on_every_width(tau_through, tau_through);
    }

    #[test]
    fn the_counter_lanes_follow_the_transpose() {
        // 512 bits: dword 4L + i holds block 4i + L; 256 bits: block 2i + L.
        let dwords = |t: [u8; 64]| -> Vec<u8> { t.chunks_exact(4).map(|d| d[0]).collect() };
        assert_eq!(
            dwords(lane_blocks(4)),
            [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15]
        );
        assert_eq!(dwords(lane_blocks(2))[..8], [0, 2, 4, 6, 1, 3, 5, 7]);
    }
}
