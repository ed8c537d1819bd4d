//! The constant-time portable SM4: the S-box computed, not looked up.
//!
//! Eight bytes go through the S-box at once in a `u64` (SWAR: two blocks' four round bytes):
//! `PRE`, inversion in AES's field as `x²⁵⁴` (four multiplications and four linear
//! Frobenius maps), then AES's affine step and `POST` folded into one map. A multiplication
//! is eight masked shift-and-add steps; a linear map eight masked XORs. Every step is the
//! same instructions whatever the data: no branch and no memory address depends on the key
//! or the text. It is slow (a few MB/s) and serves where AES-NI or AVX2 is absent, and as
//! the reference the x86 path is tested against.

use crate::affine::{frobenius, Affine, AES_AFFINE, POST, PRE};
use crate::{l, Block};

/// The low bit of each byte.
const LO: u64 = 0x0101_0101_0101_0101;

/// AES's affine step then `POST`: one map after the inversion.
const OUT: Affine = Affine::then(AES_AFFINE, POST);
const SQUARE: Affine = frobenius(1);
const POW16: Affine = frobenius(4);

/// Applies `map` to each byte of `x`.
#[inline(always)]
fn apply(map: &Affine, x: u64) -> u64 {
    let mut r = u64::from(map.c) * LO;
    for (i, col) in map.cols.iter().enumerate() {
        // 0x00 or 0xff per byte: bit i of that byte, spread.
        let mask = ((x >> i) & LO) * 0xff;
        r ^= mask & (u64::from(*col) * LO);
    }
    r
}

/// Bytewise product in AES's field.
#[inline(always)]
fn mul(mut a: u64, b: u64) -> u64 {
    let mut r = 0;
    for i in 0..8 {
        r ^= a & (((b >> i) & LO) * 0xff);
        // a·x: shift each byte left, reduce the bytes whose top bit fell out by 0x1b.
        a = ((a & 0x7f7f_7f7f_7f7f_7f7f) << 1) ^ (((a >> 7) & LO) * 0x1b);
    }
    r
}

/// Bytewise inverse in AES's field (0 ↦ 0): `x²⁵⁴` as x², x³, x⁶, x¹², x¹⁵, x²⁴⁰, x²⁵², x²⁵⁴.
#[inline(always)]
fn inv(x: u64) -> u64 {
    let x2 = apply(&SQUARE, x);
    let x3 = mul(x2, x);
    let x12 = apply(&SQUARE, apply(&SQUARE, x3));
    let x15 = mul(x12, x3);
    let x240 = apply(&POW16, x15);
    let x252 = mul(x240, x12);
    mul(x252, x2)
}

/// The SM4 S-box on each of the eight bytes of `x`.
#[inline(always)]
pub(crate) fn sbox8(x: u64) -> u64 {
    apply(&OUT, inv(apply(&PRE, x)))
}

/// τ, the S-box on each byte of a word (the key schedule's).
pub(crate) fn tau(w: u32) -> u32 {
    sbox8(u64::from(w)) as u32
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

/// Encrypts two blocks, their rounds sharing one S-box evaluation.
fn encrypt_pair(rk: &[u32; 32], a: &mut Block, b: &mut Block) {
    let (mut x, mut y) = (load(a), load(b));
    for (i, k) in rk.iter().enumerate() {
        let j = i % 4;
        let tx = x[(j + 1) % 4] ^ x[(j + 2) % 4] ^ x[(j + 3) % 4] ^ k;
        let ty = y[(j + 1) % 4] ^ y[(j + 2) % 4] ^ y[(j + 3) % 4] ^ k;
        let s = sbox8((u64::from(tx) << 32) | u64::from(ty));
        x[j] ^= l((s >> 32) as u32);
        y[j] ^= l(s as u32);
    }
    store(x, a);
    store(y, b);
}

/// Encrypts every block in place.
pub(crate) fn encrypt_blocks(rk: &[u32; 32], blocks: &mut [Block]) {
    let mut pairs = blocks.chunks_exact_mut(2);
    for pair in &mut pairs {
        let (a, b) = pair.split_at_mut(1);
        encrypt_pair(rk, &mut a[0], &mut b[0]);
    }
    if let [last] = pairs.into_remainder() {
        let mut spare = [0u8; 16];
        encrypt_pair(rk, last, &mut spare);
    }
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
                let out = sbox8(word);
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
