//! The T-table SM4 the emulator used before `cos-sm4-simd`, kept for measurement only: the
//! timing-leak harness (`benches/timing_leak.rs`) shows that it leaks and the crypto bench
//! (`emulator/crypto/benches/stream.rs`) times it as the "before" figure. No product code
//! includes this file.
//!
//! SM4 (GB/T 32907-2016) with 16-bit-indexed T-tables and sixteen blocks in flight: a
//! round's S-box and linear transform `L` are two lookups, one per 16-bit half of the round
//! input, into two tables of 65536 `u32` (512 KiB, computed at compile time into read-only
//! data). The lookups are indexed by secret data: not constant-time.

#![allow(dead_code)]

/// The SM4 S-box (GB/T 32907-2016, 6.2).
const SBOX: [u8; 256] = [
    0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
    0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
    0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
    0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
    0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
    0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
    0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
    0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
    0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
    0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
    0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
    0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
    0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
    0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
    0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
    0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
];

/// System parameter FK (GB/T 32907-2016, 7.3).
const FK: [u32; 4] = [0xa3b1_bac6, 0x56aa_3350, 0x677d_9197, 0xb270_22dc];

/// Fixed parameter CK: byte j of CK_i is (4i + j) * 7 mod 256 (GB/T 32907-2016, 7.3).
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

/// The round's linear transform L.
const fn l(b: u32) -> u32 {
    b ^ b.rotate_left(2) ^ b.rotate_left(10) ^ b.rotate_left(18) ^ b.rotate_left(24)
}

/// The key schedule's linear transform L'.
const fn l_prime(b: u32) -> u32 {
    b ^ b.rotate_left(13) ^ b.rotate_left(23)
}

/// `T[k][x] = L(S[x] << (24 - 8k))`: the S-box of byte k followed by L, one lookup.
const T: [[u32; 256]; 4] = {
    let mut t = [[0u32; 256]; 4];
    let mut x = 0;
    while x < 256 {
        let s = SBOX[x] as u32;
        let mut k = 0;
        while k < 4 {
            t[k][x] = l(s << (24 - 8 * k));
            k += 1;
        }
        x += 1;
    }
    t
};

/// The round function T = L(tau(v)) as two lookups. `L` is linear, so
/// `T(v) = L(S(v_hi) << 16) ^ L(S(v_lo))` over the two 16-bit halves of `v`: each half's
/// two S-box bytes and `L` are folded into one 65536-entry table, `hi` at `0..1 << 16` and
/// `lo` at `1 << 16..2 << 16` of one array, so a round is two loads and no bounds checks.
struct Tables([u32; 2 << 16]);

/// The 512 KiB of tables, computed at compile time into read-only data and shared by
/// every cipher on every thread.
static TABLES: Tables = {
    let mut t = [0u32; 2 << 16];
    let mut x = 0;
    while x < 1 << 16 {
        t[x] = T[0][x >> 8] ^ T[1][x & 0xff];
        t[(1 << 16) | x] = T[2][x >> 8] ^ T[3][x & 0xff];
        x += 1;
    }
    Tables(t)
};

impl Tables {
    #[inline(always)]
    fn round_t(&self, v: u32) -> u32 {
        self.0[(v >> 16) as usize] ^ self.0[(1 << 16) | (v & 0xffff) as usize]
    }

    /// Encrypts `N` blocks under `rk` with their rounds interleaved.
    #[inline(always)]
    fn encrypt_n<const N: usize>(&self, rk: &[u32; 32], x: &mut [[u32; 4]; N]) {
        for r in rk.chunks_exact(4) {
            for s in x.iter_mut() {
                s[0] ^= self.round_t(s[1] ^ s[2] ^ s[3] ^ r[0]);
            }
            for s in x.iter_mut() {
                s[1] ^= self.round_t(s[2] ^ s[3] ^ s[0] ^ r[1]);
            }
            for s in x.iter_mut() {
                s[2] ^= self.round_t(s[3] ^ s[0] ^ s[1] ^ r[2]);
            }
            for s in x.iter_mut() {
                s[3] ^= self.round_t(s[0] ^ s[1] ^ s[2] ^ r[3]);
            }
        }
    }
}

/// The key schedule's T' = L'(tau(v)).
fn key_t(v: u32) -> u32 {
    let b = v.to_be_bytes().map(|x| SBOX[usize::from(x)]);
    l_prime(u32::from_be_bytes(b))
}

fn load(block: &[u8; 16]) -> [u32; 4] {
    let word = |i: usize| u32::from_be_bytes([block[i], block[i + 1], block[i + 2], block[i + 3]]);
    [word(0), word(4), word(8), word(12)]
}

fn store(x: [u32; 4], out: &mut [u8]) {
    // The output is the last four state words in reverse order (R).
    for (i, w) in [x[3], x[2], x[1], x[0]].iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
}

/// SM4 encryption under one 128-bit key (T-tables).
pub struct TableSm4 {
    rk: [u32; 32],
}

impl TableSm4 {
    /// The key schedule (its S-box by byte lookups, as before).
    pub fn new(key: &[u8; 16]) -> Self {
        let mk = load(key);
        let mut k = [mk[0] ^ FK[0], mk[1] ^ FK[1], mk[2] ^ FK[2], mk[3] ^ FK[3]];
        let mut rk = [0u32; 32];
        for (i, ck) in CK.iter().enumerate() {
            let next = k[i % 4] ^ key_t(k[(i + 1) % 4] ^ k[(i + 2) % 4] ^ k[(i + 3) % 4] ^ ck);
            k[i % 4] = next;
            rk[i] = next;
        }
        TableSm4 { rk }
    }

    /// Encrypts every block in place, sixteen at a time, then one at a time.
    pub fn encrypt_blocks(&self, blocks: &mut [[u8; 16]]) {
        let mut chunks = blocks.chunks_exact_mut(16);
        for sixteen in &mut chunks {
            let mut x: [[u32; 4]; 16] = std::array::from_fn(|i| load(&sixteen[i]));
            TABLES.encrypt_n(&self.rk, &mut x);
            for (state, block) in x.into_iter().zip(sixteen.iter_mut()) {
                store(state, block);
            }
        }
        for block in chunks.into_remainder() {
            let mut x = [load(block)];
            TABLES.encrypt_n(&self.rk, &mut x);
            store(x[0], block);
        }
    }

    /// Counter mode with GCM's 32-bit counter, sixteen keystream blocks at a time (as the
    /// `ctr` crate drove the T-table backend).
    pub fn apply_ctr32(&self, counter_block: &[u8; 16], buf: &mut [u8]) {
        let mut ctr = u32::from_be_bytes([
            counter_block[12],
            counter_block[13],
            counter_block[14],
            counter_block[15],
        ]);
        let mut ks = [[0u8; 16]; 16];
        for chunk in buf.chunks_mut(256) {
            for block in ks.iter_mut() {
                block[..12].copy_from_slice(&counter_block[..12]);
                block[12..].copy_from_slice(&ctr.to_be_bytes());
                ctr = ctr.wrapping_add(1);
            }
            self.encrypt_blocks(&mut ks);
            for (b, k) in chunk.iter_mut().zip(ks.as_flattened()) {
                *b ^= k;
            }
        }
    }
}
