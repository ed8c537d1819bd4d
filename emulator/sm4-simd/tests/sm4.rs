//! SM4 against the standard's vectors and, block for block, against RustCrypto's `sm4`, on
//! every implementation this CPU can run (the portable one always, forced).

use cos_sm4_simd::{Block, Implementation, Sm4};
use sm4::cipher::{BlockEncrypt as _, KeyInit as _};

/// The implementations to test here; says so when the SIMD one cannot run on this CPU.
fn implementations() -> Vec<Implementation> {
    Implementation::ALL
        .into_iter()
        .filter(|imp| {
            let ok = imp.is_available();
            if !ok {
                eprintln!(
                    "{}: not available on this CPU, not tested here",
                    imp.as_str()
                );
            }
            ok
        })
        .collect()
}

fn key(imp: Implementation, k: &[u8; 16]) -> Sm4 {
    Sm4::with_implementation(k, imp).expect("available")
}

fn hex16(s: &str) -> [u8; 16] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// GB/T 32907-2016, Appendix A, example 1 (also RFC 8998's SM4 example).
#[test]
fn the_standard_example() {
    for imp in implementations() {
        let k = hex16("0123456789abcdeffedcba9876543210");
        let mut block = k;
        key(imp, &k).encrypt_block(&mut block);
        assert_eq!(
            hex::encode(block),
            "681edf34d206965e86b3e94f536e4246",
            "{imp:?}"
        );
    }
}

/// GB/T 32907-2016, Appendix A, example 2: the same plaintext encrypted 1,000,000 times
/// (a block at a time, each output the next input). Long in a debug build, so it runs in
/// `cargo test --release -p cos-sm4-simd` (or with `--ignored`).
#[test]
#[cfg_attr(debug_assertions, ignore = "long variant: run with --release")]
fn the_standard_million_iterations() {
    for imp in implementations() {
        let k = hex16("0123456789abcdeffedcba9876543210");
        let cipher = key(imp, &k);
        let mut block = k;
        for _ in 0..1_000_000 {
            cipher.encrypt_block(&mut block);
        }
        assert_eq!(
            hex::encode(block),
            "595298c7c6fd271f0402f804c33d3f66",
            "{imp:?}"
        );
    }
}

/// Detection order: GFNI + AVX-512, then AES-NI + AVX2, then portable.
#[test]
fn the_implementation_is_detected() {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("gfni")
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
    {
        assert_eq!(
            Sm4::new(&[0; 16]).implementation(),
            Implementation::GfniAvx512
        );
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("aes") && std::is_x86_feature_detected!("avx2") {
        assert_eq!(
            Sm4::new(&[0; 16]).implementation(),
            Implementation::AesniAvx2
        );
        return;
    }
    assert_eq!(
        Sm4::new(&[0; 16]).implementation(),
        Implementation::Portable
    );
}

fn reference(k: &[u8; 16], blocks: &[Block]) -> Vec<Block> {
    let theirs = sm4::Sm4::new(k.into());
    let mut out: Vec<_> = blocks.iter().map(|b| (*b).into()).collect::<Vec<_>>();
    theirs.encrypt_blocks(&mut out);
    out.into_iter().map(Into::into).collect()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Block for block RustCrypto's `sm4`, for every batch size 1..=150: whole batches and
    /// every tail length of each implementation's batches (8, 16, 32, 64 blocks).
    #[test]
    fn agrees_with_the_sm4_crate_for_every_batch_size(
        k: [u8; 16],
        blocks in proptest::collection::vec(proptest::array::uniform16(0u8..), 150),
    ) {
        let want = reference(&k, &blocks);
        for imp in implementations() {
            let cipher = key(imp, &k);
            for n in 1..=150 {
                let mut got = blocks[..n].to_vec();
                cipher.encrypt_blocks(&mut got);
                proptest::prop_assert_eq!(&got[..], &want[..n], "{:?}, {} blocks", imp, n);
            }
        }
    }

    /// Counter mode is the XOR with SM4 of the incremented counter blocks (the counter in
    /// the last four bytes, wrapping at 2³², the first twelve untouched), for every length
    /// up to 150 blocks and a partial block, from counters near the wrap.
    #[test]
    fn counter_mode_is_the_encrypted_counters(
        k: [u8; 16],
        nonce: [u8; 12],
        near_wrap: bool,
        start: u32,
        data in proptest::collection::vec(0u8.., 0..=150 * 16 + 15),
    ) {
        let ctr = if near_wrap { u32::MAX - (start % 150) } else { start };
        let mut iv = [0u8; 16];
        iv[..12].copy_from_slice(&nonce);
        iv[12..].copy_from_slice(&ctr.to_be_bytes());
        let counters: Vec<Block> = (0..data.len().div_ceil(16) as u32)
            .map(|i| {
                let mut b = iv;
                b[12..].copy_from_slice(&ctr.wrapping_add(i).to_be_bytes());
                b
            })
            .collect();
        let ks = reference(&k, &counters);
        let want: Vec<u8> = data.iter().zip(ks.as_flattened()).map(|(d, k)| d ^ k).collect();
        for imp in implementations() {
            let cipher = key(imp, &k);
            for len in [data.len(), data.len() / 2, data.len().min(17)] {
                let mut got = data[..len].to_vec();
                cipher.apply_ctr32(&iv, &mut got);
                proptest::prop_assert_eq!(&got[..], &want[..len], "{:?}, {} bytes", imp, len);
            }
        }
    }
}
