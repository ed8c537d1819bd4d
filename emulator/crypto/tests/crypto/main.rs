//! Integration tests of the crypto crate: one binary, one module per concern.

mod keys;
mod stream;
mod stream_props;
mod tamper;

use cos_emulator_crypto::{Algorithm, DataKey, NoncePrefix};

/// Deterministic test data: distinct bytes so misplaced chunks show.
pub fn sample(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(7) ^ (i >> 8) as u8 ^ (i >> 16) as u8)
        .collect()
}

/// A key and prefix for one test object.
pub fn object_keys() -> (DataKey, NoncePrefix) {
    (
        DataKey::generate().expect("randomness"),
        NoncePrefix::generate().expect("randomness"),
    )
}

/// Both algorithms, for tests that must hold for each.
pub const ALGORITHMS: [Algorithm; 2] = [Algorithm::Aes256, Algorithm::Sm4];
