//! Throughput of the at-rest stream: encrypt and decrypt 64 MiB in memory with AES256 and
//! SM4, and MD5 of the same 64 MiB (the ETag computation every single PUT pays), all
//! measured in one run and reported as GB/s and ratios. SM4 is also timed before and
//! after `cos-sm4-simd`: the T-table SM4 the stream used before, against the constant-time
//! one it uses now, in the same GCM composition.
//!
//! Run with `cargo bench -p cos-emulator-crypto`. The bars: AES-256-GCM encryption must not
//! be slower than MD5 of the same stream; SM4-GCM reaches 1.5 GB/s on one core.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cos_emulator_crypto::{
    Algorithm, ChunkCipher, DataKey, Decryptor, Encryptor, NoncePrefix, RangePlan, CHUNK_SIZE,
    TAG_LEN,
};
use md5::{Digest as _, Md5};

use cos_sm4_simd::{Ghash, Implementation, Sm4};
use ghash::universal_hash::{KeyInit as _, UniversalHash as _};
use ghash::GHash;

// The T-table SM4 the stream used before `cos-sm4-simd` (not constant-time), kept outside
// product code for the timing-leak harness and for this "before" figure.
#[path = "../../sm4-simd/benches/support/table_sm4.rs"]
mod table_sm4;

/// The bar for SM4-GCM on one core, in GB/s.
const SM4_ONE_CORE_TARGET: f64 = 1.5;

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

    // The library alone: one 64 KiB buffer sealed in place over and over, no framing,
    // no copies. If the stream is close to this, the library is the bottleneck.
    let raw_aes = best_of(5, || raw_aes_gcm(&data));
    println!(
        "ring aes-gcm raw   {:7.3} GB/s  (library ceiling, in place, 64 KiB)",
        gbps(raw_aes)
    );

    // SM4-GCM as it was before the T-table cipher: RustCrypto's `sm4` (one block per
    // call) under the same generic GCM, sealing in place on one core.
    let raw_sm4 = gbps(best_of(1, || raw_sm4_crate_gcm(&data)));
    println!("sm4 crate gcm raw  {raw_sm4:7.3} GB/s  (RustCrypto sm4 under aes-gcm's GCM, in place, 64 KiB)");

    // SM4 before and after `cos-sm4-simd`, on one thread, 64 KiB in place: counter mode
    // alone, and GCM composed the stream's way (counter mode then GHASH) over the T-tables
    // and the `ghash` crate (before) and over `cos-sm4-simd`'s SM4 and GHASH (after); then
    // this crate's own SM4-GCM (ChunkCipher::seal_frame, the stream's call) and each GHASH
    // alone. Interleaved rounds, best of each, so a busy neighbour hits all alike.
    // `cargo bench -p cos-sm4-simd --bench throughput` has every SM4 × GHASH path.
    let table = table_sm4::TableSm4::new(&[7u8; 16]);
    let simd = Sm4::new(&[7u8; 16]);
    let portable = Sm4::with_implementation(&[7u8; 16], Implementation::Portable)
        .expect("the portable SM4 runs everywhere");
    let table_ctr = |c: &[u8; 16], b: &mut [u8]| table.apply_ctr32(c, b);
    let table_block = |b: &mut [u8; 16]| table.encrypt_blocks(std::slice::from_mut(b));
    let simd_ctr = |c: &[u8; 16], b: &mut [u8]| simd.apply_ctr32(c, b);
    let simd_block = |b: &mut [u8; 16]| simd.encrypt_block(b);
    let mut t = [Duration::MAX; 7];
    for _ in 0..5 {
        t[0] = t[0].min(best_of(1, || raw_ctr(&data, &table_ctr)));
        t[1] = t[1].min(best_of(1, || raw_ctr(&data, &simd_ctr)));
        t[2] = t[2].min(best_of(1, || {
            composed_gcm(&data, &table_block, &table_ctr, false)
        }));
        t[3] = t[3].min(best_of(1, || {
            composed_gcm(&data, &simd_block, &simd_ctr, true)
        }));
        t[4] = t[4].min(best_of(1, || raw_sm4_gcm(&key, prefix, &data)));
        t[5] = t[5].min(best_of(1, || raw_ghash(&data)));
        t[6] = t[6].min(best_of(1, || simd_ghash(&data)));
    }
    let [ctr_before, ctr_after, gcm_before, gcm_after, gcm, ghash_before, ghash] = t.map(gbps);
    // The portable fallback is slow: 1 MiB of it is enough for a figure.
    let portable_ctr = gbps(best_of(1, || {
        raw_ctr(&data[..1 << 20], &|c: &[u8; 16], b: &mut [u8]| {
            portable.apply_ctr32(c, b)
        })
    })) / LEN as f64
        * (1 << 20) as f64;
    println!(
        "sm4-ctr before     {ctr_before:7.3} GB/s  (T-tables, one thread, 64 KiB)\n\
         sm4-ctr after      {ctr_after:7.3} GB/s  (cos-sm4-simd {}, one thread, 64 KiB)\n\
         sm4-ctr portable   {portable_ctr:7.3} GB/s  (cos-sm4-simd's constant-time fallback, forced)\n\
         sm4-gcm before     {gcm_before:7.3} GB/s  (T-tables CTR + ghash crate, one thread, 64 KiB)\n\
         sm4-gcm after      {gcm_after:7.3} GB/s  (cos-sm4-simd CTR + GHASH, one thread, 64 KiB)\n\
         sm4-gcm raw        {gcm:7.3} GB/s  (this crate's SM4-GCM, seal_frame, one thread, 64 KiB)\n\
         ghash before       {ghash_before:7.3} GB/s  (the ghash crate alone, one thread, 64 KiB)\n\
         ghash after        {ghash:7.3} GB/s  (cos-sm4-simd {} alone, one thread, 64 KiB)",
        simd.implementation().as_str(),
        ghash_name(),
    );
    println!(
        "SM4 after/before on one core: CTR {:.2}×, GCM {:.2}×",
        ctr_after / ctr_before,
        gcm_after / gcm_before,
    );
    let verdict = if gcm >= SM4_ONE_CORE_TARGET {
        "meets"
    } else {
        "MISSES"
    };
    println!(
        "SM4-GCM on one core: {gcm:.3} GB/s — {verdict} the target (>= {SM4_ONE_CORE_TARGET} GB/s); \
         CTR {:.0}% / GHASH {:.0}% of its time",
        100.0 * gcm / ctr_after,
        100.0 * gcm / ghash,
    );

    for (alg, rounds) in [(Algorithm::Aes256, 5), (Algorithm::Sm4, 3)] {
        // Frames go to a reused, already-touched buffer, as they would to a file's page
        // cache; a fresh 64 MiB Vec per round would time page faults, not encryption.
        let mut stored = Vec::new();
        encrypt(alg, &key, prefix, &data, &mut stored);
        let enc = best_of(rounds, || encrypt(alg, &key, prefix, &data, &mut stored));
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
        if alg == Algorithm::Sm4 {
            println!(
                "SM4 stream vs the sm4 crate's GCM: encrypt {:.2}×, decrypt {:.2}×",
                e / raw_sm4,
                d / raw_sm4
            );
        }
        if alg == Algorithm::Aes256 {
            let verdict = if e >= md5_gbps { "meets" } else { "MISSES" };
            println!(
                "AES256 encrypt vs MD5: {:.2}× — {verdict} the bar (not slower than MD5)",
                e / md5_gbps
            );
        }
    }
}

fn raw_aes_gcm(data: &[u8]) {
    // The library the stream uses for AES-256-GCM (`ring`), sealing in place.
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    let cipher = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).expect("key"));
    let mut buf = vec![0u8; 64 << 10];
    for (i, chunk) in data.chunks(64 << 10).enumerate() {
        buf[..chunk.len()].copy_from_slice(chunk);
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let tag = cipher
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut buf[..chunk.len()],
            )
            .expect("encrypt");
        let _ = black_box(tag);
    }
}

fn raw_sm4_crate_gcm(data: &[u8]) {
    use aes_gcm::aead::consts::U12;
    use aes_gcm::aead::{AeadInPlace as _, KeyInit as _};
    let cipher = aes_gcm::AesGcm::<sm4::Sm4, U12>::new(&[7u8; 16].into());
    let mut buf = vec![0u8; 64 << 10];
    for (i, chunk) in data.chunks(64 << 10).enumerate() {
        buf[..chunk.len()].copy_from_slice(chunk);
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let tag = cipher
            .encrypt_in_place_detached(&nonce.into(), b"", &mut buf[..chunk.len()])
            .expect("encrypt");
        let _ = black_box(tag);
    }
}

fn raw_sm4_gcm(key: &DataKey, prefix: NoncePrefix, data: &[u8]) {
    let cipher = ChunkCipher::new(Algorithm::Sm4, key, prefix);
    let mut frame = vec![0u8; CHUNK_SIZE + TAG_LEN];
    for (i, chunk) in data.chunks(CHUNK_SIZE).enumerate() {
        let frame = &mut frame[..chunk.len() + TAG_LEN];
        frame[..chunk.len()].copy_from_slice(chunk);
        cipher.seal_frame(i as u64, false, frame).expect("encrypt");
        black_box(&frame[chunk.len()..]);
    }
}

/// `nonce ‖ counter` (big-endian).
fn counter_block(nonce: &[u8; 12], counter: u32) -> [u8; 16] {
    let mut block = [0u8; 16];
    block[..12].copy_from_slice(nonce);
    block[12..].copy_from_slice(&counter.to_be_bytes());
    block
}

/// GCM's counter mode (32-bit big-endian counter from 2 after a 96-bit nonce) alone, 64 KiB
/// chunks in place.
fn raw_ctr(data: &[u8], ctr: &dyn Fn(&[u8; 16], &mut [u8])) {
    let mut buf = vec![0u8; CHUNK_SIZE];
    for (i, chunk) in data.chunks(CHUNK_SIZE).enumerate() {
        let buf = &mut buf[..chunk.len()];
        buf.copy_from_slice(chunk);
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        ctr(&counter_block(&nonce, 2), buf);
        black_box(buf);
    }
}

/// SM4-GCM composed as the stream composes it (emulator/crypto/src/stream/sm4_gcm.rs):
/// counter mode from 2, GHASH over the ciphertext and the lengths, the tag masked with
/// SM4(J0); over either cipher, and `cos-sm4-simd`'s GHASH when `simd_mac` (where the CPU
/// has carry-less multiply), else the `ghash` crate.
fn composed_gcm(
    data: &[u8],
    block: &dyn Fn(&mut [u8; 16]),
    ctr: &dyn Fn(&[u8; 16], &mut [u8]),
    simd_mac: bool,
) {
    let mut h = [0u8; 16];
    block(&mut h);
    let ghash = GHash::new(&h.into());
    let simd = Ghash::new(&h).filter(|_| simd_mac);
    let mut buf = vec![0u8; CHUNK_SIZE];
    for (i, chunk) in data.chunks(CHUNK_SIZE).enumerate() {
        let buf = &mut buf[..chunk.len()];
        buf.copy_from_slice(chunk);
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        ctr(&counter_block(&nonce, 2), buf);
        let mut lengths = [0u8; 16];
        lengths[8..].copy_from_slice(&(buf.len() as u64 * 8).to_be_bytes());
        let s: [u8; 16] = match &simd {
            Some(g) => {
                let mut g = g.clone();
                g.update_padded(buf);
                g.update_block(&lengths);
                g.finalize()
            }
            None => {
                let mut g = ghash.clone();
                g.update_padded(buf);
                g.update(&[lengths.into()]);
                g.finalize().into()
            }
        };
        let mut mask = counter_block(&nonce, 1);
        block(&mut mask);
        let mut tag = [0u8; 16];
        for ((t, s), m) in tag.iter_mut().zip(s).zip(mask) {
            *t = s ^ m;
        }
        black_box(tag);
    }
}

/// GHASH alone: GCM with the data as AAD and nothing to encrypt.
fn raw_ghash(data: &[u8]) {
    use aes_gcm::aead::consts::U12;
    use aes_gcm::aead::{AeadInPlace as _, KeyInit as _};
    let cipher = aes_gcm::AesGcm::<sm4::Sm4, U12>::new(&[7u8; 16].into());
    for (i, chunk) in data.chunks(CHUNK_SIZE).enumerate() {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let tag = cipher
            .encrypt_in_place_detached(&nonce.into(), chunk, &mut [])
            .expect("encrypt");
        let _ = black_box(tag);
    }
}

/// `cos-sm4-simd`'s GHASH alone over the data, 64 KiB per message (the `ghash` crate's
/// figure again where the CPU has no carry-less multiply).
fn simd_ghash(data: &[u8]) {
    let Some(g) = Ghash::new(&[7u8; 16]) else {
        return raw_ghash(data);
    };
    for chunk in data.chunks(CHUNK_SIZE) {
        let mut g = g.clone();
        g.update_padded(chunk);
        black_box(g.finalize());
    }
}

/// The GHASH `simd_ghash` measures.
fn ghash_name() -> &'static str {
    Ghash::new(&[7u8; 16]).map_or("(none: the ghash crate)", |g| g.implementation().as_str())
}

fn encrypt(alg: Algorithm, key: &DataKey, prefix: NoncePrefix, data: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut enc = Encryptor::new(alg, key, prefix);
    for mut piece in data.chunks(PIECE) {
        while let Some(frame) = enc.push(&mut piece).expect("encrypt") {
            out.extend_from_slice(frame);
        }
    }
    out.extend_from_slice(enc.finish().expect("finish"));
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

/// `ring`, `aes`, `polyval` and `cos-sm4-simd` pick their instructions at run time,
/// whatever RUSTFLAGS say; print what this CPU offers so the figures can be read.
fn report_cpu() {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    println!(
        "cpu: aes={} pclmulqdq={} avx2={} gfni={} avx512f={} vpclmulqdq={} (runtime-detected)",
        std::arch::is_x86_feature_detected!("aes"),
        std::arch::is_x86_feature_detected!("pclmulqdq"),
        std::arch::is_x86_feature_detected!("avx2"),
        std::arch::is_x86_feature_detected!("gfni"),
        std::arch::is_x86_feature_detected!("avx512f"),
        std::arch::is_x86_feature_detected!("vpclmulqdq"),
    );
}
