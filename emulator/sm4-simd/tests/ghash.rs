//! The carry-less GHASH against the `ghash` crate (RustCrypto's, the one `aes-gcm` uses),
//! on every implementation this CPU can run.

use cos_sm4_simd::{Block, Ghash, GhashImplementation};
use ghash::universal_hash::{KeyInit as _, UniversalHash as _};

/// The implementations to test here; says so for those this CPU cannot run.
fn implementations() -> Vec<GhashImplementation> {
    GhashImplementation::ALL
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

fn reference(h: &Block, pieces: &[&[u8]]) -> Block {
    let mut g = ghash::GHash::new(h.into());
    for piece in pieces {
        g.update_padded(piece);
    }
    g.finalize().into()
}

/// NIST's GCM test case 2 (AES-128, zero key, one zero block): H =
/// 66e94bd4ef8a2c3b884cfa59ca342b2e, C = 0388dace60b6a392f328c2b971b2fe78, and
/// GHASH(H, {}, C) = f38cbb1ad69223dcc3457ae5b6b0f885 (McGrew and Viega, "The Galois/Counter
/// Mode of Operation", Appendix B).
#[test]
fn the_gcm_paper_example() {
    let h: Block = hex::decode("66e94bd4ef8a2c3b884cfa59ca342b2e")
        .unwrap()
        .try_into()
        .unwrap();
    let c = hex::decode("0388dace60b6a392f328c2b971b2fe78").unwrap();
    let mut lengths = [0u8; 16];
    lengths[15] = 0x80;
    for imp in implementations() {
        let mut g = Ghash::with_implementation(&h, imp).expect("available");
        g.update_padded(&c);
        g.update_block(&lengths);
        assert_eq!(
            hex::encode(g.finalize()),
            "f38cbb1ad69223dcc3457ae5b6b0f885",
            "{imp:?}"
        );
    }
}

#[test]
fn detection_prefers_the_wide_multiplier() {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("vpclmulqdq")
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("pclmulqdq")
    {
        let g = Ghash::new(&[1; 16]).expect("available");
        assert_eq!(g.implementation(), GhashImplementation::Vpclmul512);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// The same value as the `ghash` crate for any key, any data up to 300 blocks and a
    /// partial one (every count of whole eight-block batches and every tail), fed in two
    /// padded pieces as GCM feeds AAD and ciphertext.
    #[test]
    fn agrees_with_the_ghash_crate(
        h: [u8; 16],
        data in proptest::collection::vec(0u8.., 0..=300 * 16 + 15),
        split: usize,
    ) {
        let cut = if data.is_empty() { 0 } else { split % (data.len() + 1) };
        let (aad, text) = data.split_at(cut);
        let want = reference(&h, &[aad, text]);
        for imp in implementations() {
            let mut g = Ghash::with_implementation(&h, imp).expect("available");
            g.update_padded(aad);
            g.update_padded(text);
            proptest::prop_assert_eq!(g.finalize(), want, "{:?}, {} + {} bytes", imp, aad.len(), text.len());
        }
    }
}
