//! A dudect-style timing-leak test (Reparaz, Balasch, Verbauwhede, "Dude, is my code
//! constant time?", 2017): time one operation many times on two classes of secret input,
//! fixed and random, interleaved at random, and compare the two timing distributions with
//! Welch's t-test, over all measurements and over the fastest 50–99 % of them (cropping
//! removes interrupts and other noise that only add time). A |t| above
//! [`THRESHOLD`] says the time depends on the secret.
//!
//! Four SM4s, two experiments each: fixed versus random plaintext under one key, and fixed
//! versus random key (key schedule plus encryption) on one plaintext:
//! - `table` — the T-table SM4 the emulator used before (support/table_sm4.rs): expected to
//!   be flagged (its 512 KiB of tables are indexed by the secret, so a fixed input keeps its
//!   few cache lines hot and a random one does not);
//! - `gfni-avx512`, `gfni-avx2`, `aesni-avx2` and `portable` — this crate's four implementations:
//!   expected to pass;
//! - this crate's GHASH (`vpclmul512`, `pclmul`), fixed versus random data and key H:
//!   expected to pass;
//! - RustCrypto's `sm4` (a 256-byte S-box table in L1), reported for comparison only.
//!
//! Run: `cargo bench -p cos-sm4-simd --bench timing_leak` (about ten seconds: 200,000
//! measurements per experiment; `SM4_TIMING_SAMPLES=2000000` for a longer run). It exits
//! with status 1 when an expectation fails (the table SM4 not flagged, or one of this
//! crate's implementations flagged). Timings are noisy on a busy machine, but noise hits
//! both classes alike (they are interleaved at random); it lowers |t|, it does not fake one.

use std::hint::black_box;
use std::time::Instant;

use cos_sm4_simd::{Ghash, GhashImplementation, Implementation, Sm4};
use sm4::cipher::{BlockEncrypt as _, KeyInit as _};

#[path = "support/table_sm4.rs"]
mod table_sm4;

/// dudect's and TVLA's bound: |t| > 4.5 rejects "same distribution" with high confidence.
const THRESHOLD: f64 = 4.5;

/// Blocks encrypted per measurement (one sixteen-block batch of the SIMD path).
const BLOCKS: usize = 16;

/// The crops: all measurements, then those below these percentiles of the pooled timings.
const CROPS: [f64; 6] = [1.0, 0.99, 0.95, 0.9, 0.75, 0.5];

/// xorshift64*: test inputs only, not a cryptographic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn block(&mut self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next().to_le_bytes());
        b[8..].copy_from_slice(&self.next().to_le_bytes());
        b
    }
}

/// What is secret in an experiment.
#[derive(Clone, Copy)]
enum Secret {
    Plaintext,
    Key,
}

/// One SM4 under test: key schedule, then encryption of the blocks.
type Target = fn(&[u8; 16], &mut [[u8; 16]]);

fn ours(imp: Implementation) -> Target {
    match imp {
        Implementation::GfniAvx512 => |k, b| {
            Sm4::with_implementation(k, Implementation::GfniAvx512)
                .expect("available")
                .encrypt_blocks(b)
        },
        Implementation::GfniAvx2 => |k, b| {
            Sm4::with_implementation(k, Implementation::GfniAvx2)
                .expect("available")
                .encrypt_blocks(b)
        },
        Implementation::AesniAvx2 => |k, b| {
            Sm4::with_implementation(k, Implementation::AesniAvx2)
                .expect("available")
                .encrypt_blocks(b)
        },
        Implementation::Portable => |k, b| {
            Sm4::with_implementation(k, Implementation::Portable)
                .expect("available")
                .encrypt_blocks(b)
        },
    }
}

/// GHASH keyed with `k` over the blocks, its value left in the first block.
fn ghash(imp: GhashImplementation) -> Target {
    match imp {
        GhashImplementation::Vpclmul512 => |k, b| {
            let mut g =
                Ghash::with_implementation(k, GhashImplementation::Vpclmul512).expect("available");
            g.update_padded(b.as_flattened());
            b[0] = g.finalize();
        },
        GhashImplementation::Pclmul => |k, b| {
            let mut g =
                Ghash::with_implementation(k, GhashImplementation::Pclmul).expect("available");
            g.update_padded(b.as_flattened());
            b[0] = g.finalize();
        },
    }
}

fn table(k: &[u8; 16], b: &mut [[u8; 16]]) {
    table_sm4::TableSm4::new(k).encrypt_blocks(b)
}

fn rustcrypto(k: &[u8; 16], b: &mut [[u8; 16]]) {
    let c = sm4::Sm4::new(k.into());
    for block in b {
        c.encrypt_block(block.into());
    }
}

/// Welch's t over the measurements of class 0 and class 1.
fn welch(samples: &[(bool, f64)]) -> f64 {
    let mut n = [0f64; 2];
    let mut sum = [0f64; 2];
    let mut sq = [0f64; 2];
    for &(class, t) in samples {
        let c = usize::from(class);
        n[c] += 1.0;
        sum[c] += t;
        sq[c] += t * t;
    }
    if n[0] < 2.0 || n[1] < 2.0 {
        return 0.0;
    }
    let mean = [sum[0] / n[0], sum[1] / n[1]];
    let var = [
        (sq[0] - n[0] * mean[0] * mean[0]) / (n[0] - 1.0),
        (sq[1] - n[1] * mean[1] * mean[1]) / (n[1] - 1.0),
    ];
    (mean[0] - mean[1]) / (var[0] / n[0] + var[1] / n[1]).sqrt()
}

/// Measures `target` `samples` times and returns the largest |t| over the crops, the crop
/// it came from and the median time per measurement in nanoseconds.
fn experiment(
    target: Target,
    secret: Secret,
    blocks: usize,
    samples: usize,
    rng: &mut Rng,
) -> (f64, f64, f64) {
    let fixed_key = rng.block();
    let fixed_text: Vec<[u8; 16]> = (0..blocks).map(|_| rng.block()).collect();
    let mut buf = fixed_text.clone();
    // Warm up (page in the code and, for the table SM4, bring its tables into the caches).
    for _ in 0..1000 {
        target(&fixed_key, &mut buf);
    }
    let mut out = Vec::with_capacity(samples);
    // As dudect does, the inputs of a round of measurements are all drawn before the first
    // is timed, and each measurement does the same copy whatever its class: otherwise the
    // random class's input generation, still in flight when the clock is read, would
    // count against it.
    const ROUND: usize = 4096;
    let mut keys = vec![[0u8; 16]; ROUND];
    let mut texts = vec![[0u8; 16]; ROUND * blocks];
    let mut classes = vec![false; ROUND];
    while out.len() < samples {
        for (i, class) in classes.iter_mut().enumerate() {
            *class = rng.next() & 1 == 1;
            keys[i] = fixed_key;
            texts[i * blocks..(i + 1) * blocks].copy_from_slice(&fixed_text);
            if *class {
                match secret {
                    Secret::Plaintext => texts[i * blocks..(i + 1) * blocks]
                        .iter_mut()
                        .for_each(|b| *b = rng.block()),
                    Secret::Key => keys[i] = rng.block(),
                }
            }
        }
        for (i, &class) in classes.iter().enumerate().take(samples - out.len()) {
            let key = keys[i];
            buf.copy_from_slice(&texts[i * blocks..(i + 1) * blocks]);
            let start = Instant::now();
            target(black_box(&key), black_box(&mut buf));
            let elapsed = start.elapsed();
            black_box(&buf);
            out.push((class, elapsed.as_nanos() as f64));
        }
    }
    let mut sorted: Vec<f64> = out.iter().map(|&(_, t)| t).collect();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let mut worst = (0.0f64, 1.0);
    for crop in CROPS {
        let cut = sorted[((sorted.len() as f64 * crop) as usize).min(sorted.len() - 1)];
        let kept: Vec<(bool, f64)> = out.iter().copied().filter(|&(_, t)| t <= cut).collect();
        let t = welch(&kept);
        if t.abs() > worst.0.abs() {
            worst = (t, crop);
        }
    }
    (worst.0, worst.1, median)
}

fn main() {
    let samples: usize = std::env::var("SM4_TIMING_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut rng = Rng(seed);
    println!(
        "timing-leak test: {samples} measurements per experiment, fixed vs random, |t| > {THRESHOLD} = leak"
    );

    // (name, target, blocks per measurement, expected to leak: Some(true/false), None = report only)
    let mut targets: Vec<(&str, Target, usize, Option<bool>)> =
        vec![("table (T-tables, before)", table, BLOCKS, Some(true))];
    for imp in Implementation::ALL {
        if imp.is_available() {
            // The portable SM4 is far slower: two blocks per measurement. The GFNI one
            // takes sixty-four, its full batch.
            let blocks = match imp {
                Implementation::Portable => 2,
                Implementation::GfniAvx512 => 64,
                Implementation::GfniAvx2 | Implementation::AesniAvx2 => BLOCKS,
            };
            targets.push((imp.as_str(), ours(imp), blocks, Some(false)));
        } else {
            println!("{:<26} not available on this CPU: skipped", imp.as_str());
        }
    }
    for imp in GhashImplementation::ALL {
        let name = match imp {
            GhashImplementation::Vpclmul512 => "ghash vpclmul512",
            GhashImplementation::Pclmul => "ghash pclmul",
        };
        if imp.is_available() {
            targets.push((name, ghash(imp), BLOCKS, Some(false)));
        } else {
            println!("{name:<26} not available on this CPU: skipped");
        }
    }
    targets.push(("rustcrypto sm4 (S-box table)", rustcrypto, BLOCKS, None));

    let mut failed = false;
    for (name, target, blocks, expect) in targets {
        for (secret, label) in [(Secret::Plaintext, "plaintext"), (Secret::Key, "key")] {
            let (t, crop, median) = experiment(target, secret, blocks, samples, &mut rng);
            let leaks = t.abs() > THRESHOLD;
            let verdict = match (expect, leaks) {
                (Some(true), true) => "flagged, as expected",
                (Some(true), false) => {
                    failed = true;
                    "NOT FLAGGED (expected a leak)"
                }
                (Some(false), false) => "passes",
                (Some(false), true) => {
                    failed = true;
                    "LEAKS"
                }
                (None, true) => "flagged (report only)",
                (None, false) => "not flagged (report only)",
            };
            println!(
                "{name:<28} {label:<9} max |t| = {:8.2} (crop {:>3.0}%), median {median:7.0} ns / {blocks} blocks: {verdict}",
                t.abs(),
                crop * 100.0,
            );
        }
    }
    if failed {
        println!("timing-leak test: FAILED");
        std::process::exit(1);
    }
    println!("timing-leak test: passed");
}
