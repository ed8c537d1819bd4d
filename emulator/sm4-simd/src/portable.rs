//! The constant-time portable SM4: the S-box computed, not looked up.
//!
//! Eight bytes go through the S-box at once in a `u64` (SWAR: two blocks' four round bytes),
//! four such words in lockstep:
//! `PRE`, inversion in AES's field as `x²⁵⁴` (four multiplications and four linear
//! Frobenius maps), then AES's affine step and `POST` folded into one map. A multiplication
//! is eight masked shift-and-add steps; a linear map eight masked XORs. Every step is the
//! same instructions whatever the data: no branch and no memory address depends on the key
//! or the text. It is slow (about 20 MB/s) and serves where AES-NI or AVX2 is absent, and as
//! the reference the x86 path is tested against.

use crate::affine::{frobenius, Affine, AES_AFFINE, POST, PRE};
use crate::{l, Block};

/// The low bit of each byte.
const LO: u64 = 0x0101_0101_0101_0101;

/// AES's affine step then `POST`: one map after the inversion.
const OUT: Affine = Affine::then(AES_AFFINE, POST);
const SQUARE: Affine = frobenius(1);
const POW16: Affine = frobenius(4);

/// Applies `map` to each byte of each word of `x`.
#[inline(always)]
fn apply<const K: usize>(map: &Affine, x: [u64; K]) -> [u64; K] {
    let mut r = [u64::from(map.c) * LO; K];
    for (i, col) in map.cols.iter().enumerate() {
        let col = u64::from(*col) * LO;
        for (r, x) in r.iter_mut().zip(x) {
            // 0x00 or 0xff per byte: bit i of that byte, spread.
            *r ^= (((x >> i) & LO) * 0xff) & col;
        }
    }
    r
}

/// Bytewise product in AES's field.
#[inline(always)]
fn mul<const K: usize>(mut a: [u64; K], b: [u64; K]) -> [u64; K] {
    let mut r = [0; K];
    for i in 0..8 {
        for k in 0..K {
            r[k] ^= a[k] & (((b[k] >> i) & LO) * 0xff);
            // a·x: shift each byte left, reduce the bytes whose top bit fell out by 0x1b.
            a[k] = ((a[k] & 0x7f7f_7f7f_7f7f_7f7f) << 1) ^ (((a[k] >> 7) & LO) * 0x1b);
        }
    }
    r
}

/// Bytewise inverse in AES's field (0 ↦ 0): `x²⁵⁴` as x², x³, x⁶, x¹², x¹⁵, x²⁴⁰, x²⁵², x²⁵⁴.
#[inline(always)]
fn inv<const K: usize>(x: [u64; K]) -> [u64; K] {
    let x2 = apply(&SQUARE, x);
    let x3 = mul(x2, x);
    let x12 = apply(&SQUARE, apply(&SQUARE, x3));
    let x15 = mul(x12, x3);
    let x240 = apply(&POW16, x15);
    let x252 = mul(x240, x12);
    mul(x252, x2)
}

/// The SM4 S-box on each of the eight bytes of each word of `x`; `K` independent words
/// in lockstep keep the core busy through each one's chain of dependent steps.
#[inline(always)]
pub(crate) fn sbox8<const K: usize>(x: [u64; K]) -> [u64; K] {
    apply(&OUT, inv(apply(&PRE, x)))
}

/// τ, the S-box on each byte of a word (the key schedule's).
pub(crate) fn tau(w: u32) -> u32 {
    sbox8([u64::from(w)])[0] as u32
}

fn load(b: &Block) -> [u32; 4] {
    let w = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    [w(0), w(4), w(8), w(12)]
}

fn store(x: [u32; 4], b: &mut Block) {
    // The output is the last four state words in reverse order (R).
    for (i, w) in [x[3], x[2], x[1], x[0]].iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
}

/// Encrypts `2 × W` blocks (`blocks.len() == 2 * W`), two per `u64` and `W` words in
/// lockstep through one S-box evaluation per round.
fn encrypt_pass<const W: usize>(rk: &[u32; 32], blocks: &mut [Block]) {
    assert_eq!(blocks.len(), 2 * W, "two blocks per word");
    let mut x = [[[0u32; 4]; 2]; W];
    for (x, b) in x.as_flattened_mut().iter_mut().zip(blocks.iter()) {
        *x = load(b);
    }
    for (i, k) in rk.iter().enumerate() {
        let j = i % 4;
        let t = |x: &[u32; 4]| x[(j + 1) % 4] ^ x[(j + 2) % 4] ^ x[(j + 3) % 4] ^ k;
        let s = sbox8::<W>(std::array::from_fn(|w| {
            (u64::from(t(&x[w][0])) << 32) | u64::from(t(&x[w][1]))
        }));
        for (x, s) in x.iter_mut().zip(s) {
            x[0][j] ^= l((s >> 32) as u32);
            x[1][j] ^= l(s as u32);
        }
    }
    for (x, b) in x.as_flattened().iter().zip(blocks.iter_mut()) {
        store(*x, b);
    }
}

/// Blocks per full pass: eight, four words in lockstep (measured in counter mode: about
/// 21 MB/s, against 12 MB/s one word at a time and no better with eight words).
const PASS: usize = 8;

/// Encrypts every block in place, [`PASS`] at a time; a tail of one or two blocks (GCM's
/// H and tag mask) takes a one-word pass, a longer one a full pass with spare blocks.
pub(crate) fn encrypt_blocks(rk: &[u32; 32], blocks: &mut [Block]) {
    let mut passes = blocks.chunks_exact_mut(PASS);
    for pass in &mut passes {
        encrypt_pass::<{ PASS / 2 }>(rk, pass);
    }
    let tail = passes.into_remainder();
    let mut spare = [[0u8; 16]; PASS];
    spare[..tail.len()].copy_from_slice(tail);
    match tail.len() {
        0 => return,
        1 | 2 => encrypt_pass::<1>(rk, &mut spare[..2]),
        _ => encrypt_pass::<{ PASS / 2 }>(rk, &mut spare),
    }
    tail.copy_from_slice(&spare[..tail.len()]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbox8_is_the_table_on_every_byte_position() {
        let table = crate::affine::tests::SM4_SBOX;
        for x in 0..=255u8 {
            for pos in 0..8 {
                // The other bytes hold x + pos: each byte is independent of its neighbours.
                let filler = u64::from(x.wrapping_add(pos as u8)) * LO;
                let keep = !(0xffu64 << (8 * pos));
                let word = (filler & keep) | (u64::from(x) << (8 * pos));
                let out = sbox8([word])[0];
                assert_eq!(
                    (out >> (8 * pos)) as u8,
                    table[usize::from(x)],
                    "S({x:#04x}) at byte {pos}"
                );
                let other = (pos + 1) % 8;
                assert_eq!(
                    (out >> (8 * other)) as u8,
                    table[usize::from((word >> (8 * other)) as u8)]
                );
            }
        }
    }
}
