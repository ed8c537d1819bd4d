//! Deterministic request bodies: `{random: N}` is a function of (run seed, case id, step,
//! part), so `--seed` replays a run byte for byte.

use std::path::Path;

use bytes::Bytes;
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

use crate::case::BodySpec;

/// Largest body a case may ask for (protects the runner's memory from a typo).
pub const MAX_BODY: u64 = 1 << 30;

/// Where a random body comes from.
#[derive(Debug, Clone, Copy)]
pub struct BodySeed<'a> {
    /// The run seed (printed; `--seed` replays it).
    pub run: u64,
    /// The case id.
    pub case: &'a str,
    /// Step index.
    pub step: usize,
    /// Part index within a `multipart` step (0 otherwise).
    pub part: usize,
}

/// `N` pseudo-random bytes for this seed.
pub fn random_bytes(seed: BodySeed<'_>, len: u64) -> Bytes {
    let mut h = Sha256::new();
    h.update(seed.run.to_le_bytes());
    h.update(seed.case.as_bytes());
    h.update((seed.step as u64).to_le_bytes());
    h.update((seed.part as u64).to_le_bytes());
    // StdRng is ChaCha12 in rand 0.8, pinned by Cargo.lock: the same seed gives the same bytes.
    let mut rng = rand::rngs::StdRng::from_seed(h.finalize().into());
    let mut buf = vec![0u8; len as usize];
    rng.fill_bytes(&mut buf);
    Bytes::from(buf)
}

/// Materialises a body spec; `literal` is the already-rendered text of a literal body.
pub fn make_body(
    spec: &BodySpec,
    literal: Option<String>,
    seed: BodySeed<'_>,
    root: &Path,
) -> Result<Bytes, String> {
    match spec {
        BodySpec::Literal(_) => Ok(Bytes::from(literal.unwrap_or_default())),
        BodySpec::Random(n) => {
            if *n > MAX_BODY {
                return Err(format!(
                    "body of {n} bytes is larger than the {MAX_BODY}-byte limit"
                ));
            }
            Ok(random_bytes(seed, *n))
        }
        BodySpec::File(f) => {
            let path = root.join(f);
            std::fs::read(&path)
                .map(Bytes::from)
                .map_err(|e| format!("body file {}: {e}", path.display()))
        }
        BodySpec::Repeat { text, times } => {
            let total = (text.len() as u64).saturating_mul(*times);
            if total > MAX_BODY {
                return Err(format!(
                    "body of {total} bytes is larger than the {MAX_BODY}-byte limit"
                ));
            }
            Ok(Bytes::from(text.repeat(*times as usize)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_step_other_bytes() {
        let s = BodySeed {
            run: 7,
            case: "sse-c/x",
            step: 0,
            part: 0,
        };
        assert_eq!(random_bytes(s, 100), random_bytes(s, 100));
        assert_ne!(
            random_bytes(s, 100),
            random_bytes(BodySeed { step: 1, ..s }, 100)
        );
        assert_ne!(
            random_bytes(s, 100),
            random_bytes(BodySeed { run: 8, ..s }, 100)
        );
    }
}
