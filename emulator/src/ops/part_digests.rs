//! How a multipart object's identity is derived from its parts: the ETag
//! `"<hex MD5 of the concatenated binary part MD5s>-<part count>"` (PROTOCOL.md, the form
//! the SDKs expect) and the CRC-64/XZ of the whole plaintext, combined from the parts'
//! CRCs without reading the data again (an SSE-C object's parts cannot be read at
//! Complete: the request carries no key).

use md5::{Digest, Md5};

/// CRC-64/XZ polynomial, reflected (ECMA-182).
const POLY: u64 = 0xC96C_5795_D787_0F42;

/// The multipart ETag (without quotes) of parts with these hex MD5s.
pub fn multipart_etag<'a>(part_md5s: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut md5 = Md5::new();
    let mut n = 0usize;
    for hex_md5 in part_md5s {
        md5.update(hex::decode(hex_md5).ok()?);
        n += 1;
    }
    Some(format!("{}-{n}", hex::encode(md5.finalize())))
}

/// `mat × vec` over GF(2).
fn gf2_times(mat: &[u64; 64], mut vec: u64) -> u64 {
    let mut sum = 0;
    let mut i = 0;
    while vec != 0 {
        if vec & 1 == 1 {
            sum ^= mat[i];
        }
        vec >>= 1;
        i += 1;
    }
    sum
}

/// `square = mat × mat` over GF(2).
fn gf2_square(mat: &[u64; 64]) -> [u64; 64] {
    let mut square = [0u64; 64];
    for (n, s) in square.iter_mut().enumerate() {
        *s = gf2_times(mat, mat[n]);
    }
    square
}

/// The CRC-64/XZ of `A ‖ B` from `crc(A)`, `crc(B)` and `len(B)` (zlib's `crc32_combine`
/// method: apply `len(B)` zero bytes to `crc(A)` with repeated squaring of the one-bit
/// shift operator). The XZ variant's initial value and final XOR cancel out in this form.
pub fn crc64_combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    if len_b == 0 {
        return crc_a;
    }
    // Operator for one zero bit.
    let mut odd = [0u64; 64];
    odd[0] = POLY;
    let mut row = 1u64;
    for slot in odd.iter_mut().skip(1) {
        *slot = row;
        row <<= 1;
    }
    let mut even = gf2_square(&odd); // two zero bits
    odd = gf2_square(&even); // four zero bits
    let mut crc = crc_a;
    let mut len = len_b;
    loop {
        even = gf2_square(&odd);
        if len & 1 == 1 {
            crc = gf2_times(&even, crc);
        }
        len >>= 1;
        if len == 0 {
            break;
        }
        odd = gf2_square(&even);
        if len & 1 == 1 {
            crc = gf2_times(&odd, crc);
        }
        len >>= 1;
        if len == 0 {
            break;
        }
    }
    crc ^ crc_b
}

/// The CRC-64/XZ of the concatenation of parts given as `(crc, len)`, in order.
pub fn combined_crc64(parts: impl IntoIterator<Item = (u64, u64)>) -> u64 {
    let mut iter = parts.into_iter();
    let Some((first, _)) = iter.next() else {
        return 0;
    };
    iter.fold(first, |acc, (crc, len)| crc64_combine(acc, crc, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc(b: &[u8]) -> u64 {
        let mut d = crc64fast::Digest::new();
        d.write(b);
        d.sum64()
    }

    #[test]
    fn etag_is_md5_of_binary_md5s() {
        let a = hex::encode(Md5::digest(b"a"));
        let b = hex::encode(Md5::digest(b"b"));
        let mut joined = Md5::digest(b"a").to_vec();
        joined.extend_from_slice(&Md5::digest(b"b"));
        let expected = format!("{}-2", hex::encode(Md5::digest(&joined)));
        assert_eq!(multipart_etag([a.as_str(), b.as_str()]), Some(expected));
        assert_eq!(multipart_etag(["zz"]), None);
    }

    #[test]
    fn combined_crc_equals_crc_of_concatenation() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for cuts in [
            vec![0, 1, 300_000],
            vec![0, 65_536, 131_072, 300_000],
            vec![0, 299_999, 300_000],
            vec![0, 5, 5, 300_000],
        ] {
            let parts = cuts
                .windows(2)
                .map(|w| (crc(&data[w[0]..w[1]]), (w[1] - w[0]) as u64));
            assert_eq!(combined_crc64(parts), crc(&data), "{cuts:?}");
        }
        assert_eq!(combined_crc64([]), 0);
        assert_eq!(crc64_combine(crc(b"abc"), crc(b""), 0), crc(b"abc"));
    }

    proptest::proptest! {
        #[test]
        fn combine_any_split(a in proptest::collection::vec(0u8.., 0..300), b in proptest::collection::vec(0u8.., 0..300)) {
            let mut ab = a.clone();
            ab.extend_from_slice(&b);
            proptest::prop_assert_eq!(crc64_combine(crc(&a), crc(&b), b.len() as u64), crc(&ab));
        }
    }
}
