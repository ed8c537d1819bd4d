//! The SM4 S-box as AES's S-box between two affine maps over GF(2), and the arithmetic both
//! implementations share.
//!
//! SM4's S-box is an inversion in GF(2⁸) under affine maps (GB/T 32907-2016, 6.2, and its
//! algebraic description by Liu, Ji, Hu et al.), and so is AES's, in another polynomial
//! basis. The fields are isomorphic, so `S_sm4(x) = POST(S_aes(PRE(x)))` for two affine maps
//! `PRE` (SM4's input affine map followed by the change of basis into AES's field) and
//! `POST` (the change back, SM4's output affine map and the inverse of AES's own affine
//! step folded in). The two maps are the published ones of Saarinen's `sm4ni` (used by the
//! Linux kernel's `sm4-aesni-avx2` and by libgcrypt), written here as the images of the
//! eight basis bits plus a constant; `tests::the_composition_is_the_sm4_sbox` checks all 256
//! inputs against the standard's table.
//!
//! Nothing here indexes memory by data: a map is applied bit by bit with masks (portable
//! path) or through `pshufb` on 4-bit halves held in registers (x86 path).

/// An affine map over GF(2)⁸: `x ↦ c ⊕ ⨁{cols[i] : bit i of x set}`.
#[derive(Clone, Copy)]
pub(crate) struct Affine {
    /// The image of bit `i` (its linear part).
    pub(crate) cols: [u8; 8],
    /// The image of zero.
    pub(crate) c: u8,
}

/// SM4 input → AES input.
pub(crate) const PRE: Affine = Affine {
    cols: [0x75, 0xc9, 0xdf, 0x3a, 0x98, 0x37, 0x6c, 0xab],
    c: 0x69,
};

/// AES S-box output → SM4 S-box output.
pub(crate) const POST: Affine = Affine {
    cols: [0x0f, 0x90, 0x64, 0x94, 0xa4, 0xe0, 0xcd, 0xa5],
    c: 0x61,
};

impl Affine {
    /// The map applied to one byte (compile-time tables, tests).
    pub(crate) const fn byte(&self, x: u8) -> u8 {
        let mut r = self.c;
        let mut i = 0;
        while i < 8 {
            if (x >> i) & 1 == 1 {
                r ^= self.cols[i];
            }
            i += 1;
        }
        r
    }

    /// The map as a `pshufb` pair: `byte(x) = lo[x & 15] ^ hi[x >> 4]` (the constant in `lo`).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) const fn nibble_tables(&self) -> ([u8; 16], [u8; 16]) {
        let mut lo = [0u8; 16];
        let mut hi = [0u8; 16];
        let mut n = 0;
        while n < 16 {
            lo[n] = self.byte(n as u8);
            hi[n] = self.byte((n as u8) << 4) ^ self.c;
            n += 1;
        }
        (lo, hi)
    }

    /// `outer ∘ inner`, both affine.
    pub(crate) const fn then(inner: Affine, outer: Affine) -> Affine {
        let c = outer.byte(inner.c);
        let mut cols = [0u8; 8];
        let mut i = 0;
        while i < 8 {
            cols[i] = outer.byte(inner.byte(1 << i)) ^ c;
            i += 1;
        }
        Affine { cols, c }
    }
}

/// Multiplication in AES's field GF(2⁸) = GF(2)[x]/(x⁸+x⁴+x³+x+1), bit by bit (compile time).
pub(crate) const fn gf_mul(mut a: u8, b: u8) -> u8 {
    let mut r = 0u8;
    let mut i = 0;
    while i < 8 {
        if (b >> i) & 1 == 1 {
            r ^= a;
        }
        a = (a << 1) ^ if a & 0x80 != 0 { 0x1b } else { 0 };
        i += 1;
    }
    r
}

/// AES's affine step (FIPS 197, 5.1.1): `b ⊕ rotl(b,1) ⊕ rotl(b,2) ⊕ rotl(b,3) ⊕ rotl(b,4) ⊕ 0x63`.
pub(crate) const AES_AFFINE: Affine = {
    let mut cols = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        let b = 1u8 << i;
        cols[i] = b ^ b.rotate_left(1) ^ b.rotate_left(2) ^ b.rotate_left(3) ^ b.rotate_left(4);
        i += 1;
    }
    Affine { cols, c: 0x63 }
};

/// `x ↦ x^(2^k)` in AES's field: linear over GF(2) (the Frobenius map), so an [`Affine`]
/// with constant 0.
pub(crate) const fn frobenius(k: u32) -> Affine {
    let mut cols = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        let mut v = 1u8 << i;
        let mut j = 0;
        while j < k {
            v = gf_mul(v, v);
            j += 1;
        }
        cols[i] = v;
        i += 1;
    }
    Affine { cols, c: 0 }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The S-box of GB/T 32907-2016, 6.2, as printed (test data only: no code path reads it).
    pub(crate) const SM4_SBOX: [u8; 256] = [
        0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c,
        0x05, 0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86,
        0x06, 0x99, 0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed,
        0xcf, 0xac, 0x62, 0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa,
        0x75, 0x8f, 0x3f, 0xa6, 0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c,
        0x19, 0xe6, 0x85, 0x4f, 0xa8, 0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb,
        0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35, 0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25,
        0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87, 0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52,
        0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e, 0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38,
        0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1, 0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34,
        0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3, 0x1d, 0xf6, 0xe2, 0x2e, 0x82,
        0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f, 0xd5, 0xdb, 0x37, 0x45,
        0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51, 0x8d, 0x1b, 0xaf,
        0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8, 0x0a, 0xc1,
        0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0, 0x89,
        0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
        0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39,
        0x48,
    ];

    fn gf_inv(x: u8) -> u8 {
        (1..=255u8).find(|&y| gf_mul(x, y) == 1).unwrap_or(0)
    }

    #[test]
    fn the_composition_is_the_sm4_sbox() {
        for x in 0..=255u8 {
            let aes = AES_AFFINE.byte(gf_inv(PRE.byte(x)));
            assert_eq!(POST.byte(aes), SM4_SBOX[usize::from(x)], "S({x:#04x})");
        }
    }

    #[test]
    fn the_nibble_tables_are_the_map() {
        for map in [PRE, POST] {
            let (lo, hi) = map.nibble_tables();
            for x in 0..=255u8 {
                assert_eq!(
                    lo[usize::from(x & 15)] ^ hi[usize::from(x >> 4)],
                    map.byte(x)
                );
            }
        }
    }

    #[test]
    fn frobenius_is_repeated_squaring() {
        for x in 0..=255u8 {
            let sq = gf_mul(x, x);
            assert_eq!(frobenius(1).byte(x), sq);
            assert_eq!(frobenius(4).byte(x), (0..4).fold(x, |v, _| gf_mul(v, v)));
        }
    }
}
