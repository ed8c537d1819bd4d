//! Throughput of the at-rest stream: encrypt and decrypt 64 MiB in memory with AES256 and
//! SM4, and MD5 of the same 64 MiB (the ETag computation every single PUT pays), all
//! measured in one run and reported as GB/s and ratios.
//!
//! Run with `cargo bench -p cos-emulator-crypto`. The bar: AES-256-GCM encryption
//! must not be slower than MD5 of the same stream.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cos_emulator_crypto::{Algorithm, DataKey, Decryptor, Encryptor, NoncePrefix, RangePlan};
use md5::{Digest as _, Md5};

const LEN: usize = 64 << 20;
/// The store's read granularity: bodies arrive in pieces, not as one slice.
const PIECE: usize = 256 << 10;

fn main() {
    let data: Vec<u8> = (0..LEN)
        .map(|i| (i as u8).wrapping_mul(31) ^ (i >> 13) as u8)
        .collect();
    let key = DataKey::generate().expect("system randomness");
    let prefix = NoncePrefix::generate().expect("system randomness");
    report_cpu();

    let md5 = best_of(5, || {
        let mut h = Md5::new();
        for piece in data.chunks(PIECE) {
            h.update(piece);
        }
        black_box(h.finalize());
    });
    let md5_gbps = gbps(md5);
    println!("md5                {md5_gbps:7.3} GB/s");

    for (alg, rounds) in [(Algorithm::Aes256, 5), (Algorithm::Sm4, 1)] {
        let mut stored = Vec::new();
        let enc = best_of(rounds, || {
            stored = encrypt(alg, &key, prefix, &data);
        });
        let dec = best_of(rounds, || {
            let n = decrypt(alg, &key, prefix, &stored);
            assert_eq!(n, LEN);
        });
        let (e, d) = (gbps(enc), gbps(dec));
        println!(
            "{:<6} encrypt     {e:7.3} GB/s  ({:.2}× MD5)\n{:<6} decrypt     {d:7.3} GB/s  ({:.2}× MD5)",
            alg.as_str(),
            e / md5_gbps,
            alg.as_str(),
            d / md5_gbps,
        );
        if alg == Algorithm::Aes256 {
            let verdict = if e >= md5_gbps { "meets" } else { "MISSES" };
            println!(
                "AES256 encrypt vs MD5: {:.2}× — {verdict} the bar (not slower than MD5)",
                e / md5_gbps
            );
        }
    }
}

fn encrypt(alg: Algorithm, key: &DataKey, prefix: NoncePrefix, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 4096 + 64);
    let mut enc = Encryptor::new(alg, key, prefix);
    for mut piece in data.chunks(PIECE) {
        while let Some(frame) = enc.push(&mut piece).expect("encrypt") {
            out.extend_from_slice(frame);
        }
    }
    out.extend_from_slice(enc.finish().expect("finish"));
    out
}

fn decrypt(alg: Algorithm, key: &DataKey, prefix: NoncePrefix, stored: &[u8]) -> usize {
    let plan = RangePlan::whole(LEN as u64).expect("plan");
    let mut dec = Decryptor::new(alg, key, prefix, plan);
    let mut n = 0;
    for mut piece in stored.chunks(PIECE) {
        while let Some(plain) = dec.push(&mut piece).expect("decrypt") {
            n += black_box(plain).len();
        }
    }
    dec.finish().expect("complete");
    n
}

fn best_of(rounds: usize, mut f: impl FnMut()) -> Duration {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn gbps(d: Duration) -> f64 {
    LEN as f64 / d.as_secs_f64() / 1e9
}

/// `aes` and `polyval` pick AES-NI and CLMUL at run time (cpufeatures), whatever
/// RUSTFLAGS say; print what this CPU offers so the figures can be read.
fn report_cpu() {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    println!(
        "cpu: aes={} pclmulqdq={} avx2={} (runtime-detected by aes/polyval)",
        std::arch::is_x86_feature_detected!("aes"),
        std::arch::is_x86_feature_detected!("pclmulqdq"),
        std::arch::is_x86_feature_detected!("avx2"),
    );
}
