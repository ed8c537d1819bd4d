//! Damaged streams are detected, never decrypted to wrong bytes (AT-REST).

use cos_emulator_crypto::{
    encrypt_to_vec, Algorithm, DataKey, Decryptor, Error, NoncePrefix, RangePlan, CHUNK_SIZE,
};

use crate::{object_keys, sample, ALGORITHMS};

const FRAME: usize = CHUNK_SIZE + 16;

/// Decrypts `stored` as an object of `len` bytes; returns the plaintext released before
/// the outcome, and the outcome.
fn open(
    alg: Algorithm,
    key: &DataKey,
    prefix: NoncePrefix,
    len: usize,
    stored: &[u8],
) -> (Vec<u8>, Result<(), Error>) {
    let mut dec = Decryptor::new(alg, key, prefix, RangePlan::whole(len as u64).unwrap());
    let mut out = Vec::new();
    let mut input = stored;
    loop {
        match dec.push(&mut input) {
            Ok(Some(p)) => out.extend_from_slice(p),
            Ok(None) => return (out, dec.finish()),
            Err(e) => return (out, Err(e)),
        }
    }
}

fn setup(alg: Algorithm, len: usize) -> (DataKey, NoncePrefix, Vec<u8>, Vec<u8>) {
    let (key, prefix) = object_keys();
    let data = sample(len);
    let stored = encrypt_to_vec(alg, &key, prefix, &data).unwrap();
    (key, prefix, data, stored)
}

/// Released plaintext must always be a prefix of the real plaintext.
fn assert_prefix(out: &[u8], data: &[u8]) {
    assert!(
        data.starts_with(out),
        "released bytes that are not the plaintext"
    );
}

#[test]
fn flipped_bit_anywhere_is_detected() {
    for alg in ALGORITHMS {
        let len = 2 * CHUNK_SIZE + 100;
        let (key, prefix, data, stored) = setup(alg, len);
        for pos in [
            0,
            1,
            CHUNK_SIZE,
            FRAME - 1,
            FRAME,
            2 * FRAME + 50,
            stored.len() - 1,
        ] {
            let mut bad = stored.clone();
            bad[pos] ^= 0x10;
            let (out, r) = open(alg, &key, prefix, len, &bad);
            let index = (pos / FRAME) as u64;
            assert!(
                matches!(r, Err(Error::ChunkAuthentication { index: i }) if i == index),
                "{alg} pos {pos}: {r:?}"
            );
            assert_prefix(&out, &data);
            assert_eq!(out.len(), index as usize * CHUNK_SIZE);
        }
    }
}

#[test]
fn reordered_chunks_are_detected() {
    for alg in ALGORITHMS {
        let len = 3 * CHUNK_SIZE;
        let (key, prefix, data, stored) = setup(alg, len);
        let mut bad = stored.clone();
        bad[..FRAME].copy_from_slice(&stored[FRAME..2 * FRAME]);
        bad[FRAME..2 * FRAME].copy_from_slice(&stored[..FRAME]);
        let (out, r) = open(alg, &key, prefix, len, &bad);
        assert!(
            matches!(r, Err(Error::ChunkAuthentication { index: 0 })),
            "{r:?}"
        );
        assert_prefix(&out, &data);
    }
}

#[test]
fn dropped_chunk_is_detected() {
    for alg in ALGORITHMS {
        let len = 3 * CHUNK_SIZE + 10;
        let (key, prefix, data, stored) = setup(alg, len);
        // Drop the middle chunk, and claim the shorter length too: the remaining last
        // chunk is at the wrong index, and the new "last" was not sealed as last.
        let mut bad = stored[..FRAME].to_vec();
        bad.extend_from_slice(&stored[2 * FRAME..]);
        let (out, r) = open(alg, &key, prefix, len, &bad);
        assert!(r.is_err(), "{alg}");
        assert_prefix(&out, &data);
        let (out, r) = open(alg, &key, prefix, len - CHUNK_SIZE, &bad);
        assert!(matches!(r, Err(Error::ChunkAuthentication { .. })), "{r:?}");
        assert_prefix(&out, &data);
    }
}

#[test]
fn truncation_is_detected_even_with_a_matching_length() {
    for alg in ALGORITHMS {
        let len = 2 * CHUNK_SIZE + 7;
        let (key, prefix, data, stored) = setup(alg, len);
        // Cut mid-stream: the decryptor waits for more and `finish` reports it.
        let (out, r) = open(alg, &key, prefix, len, &stored[..FRAME + 100]);
        assert!(
            matches!(
                r,
                Err(Error::Truncated {
                    expected: 3,
                    received: 1
                })
            ),
            "{r:?}"
        );
        assert_prefix(&out, &data);
        // Cut at a chunk boundary and lie about the length: the last kept chunk was not
        // sealed as the last one.
        let (out, r) = open(alg, &key, prefix, 2 * CHUNK_SIZE, &stored[..2 * FRAME]);
        assert!(
            matches!(r, Err(Error::ChunkAuthentication { index: 1 })),
            "{r:?}"
        );
        assert_prefix(&out, &data);
        // Cut inside the last chunk and claim the shorter length: its tag fails.
        let (_, r) = open(alg, &key, prefix, len - 3, &stored[..stored.len() - 3]);
        assert!(
            matches!(r, Err(Error::ChunkAuthentication { index: 2 })),
            "{r:?}"
        );
        // Nothing at all.
        let (_, r) = open(alg, &key, prefix, 0, &[]);
        assert!(matches!(r, Err(Error::Truncated { .. })), "{r:?}");
    }
}

#[test]
fn appended_bytes_or_chunks_are_detected() {
    for alg in ALGORITHMS {
        let len = CHUNK_SIZE;
        let (key, prefix, data, stored) = setup(alg, len);
        let mut longer = stored.clone();
        longer.extend_from_slice(&stored);
        let (out, r) = open(alg, &key, prefix, len, &longer);
        assert!(matches!(r, Err(Error::TrailingData)), "{r:?}");
        assert_eq!(
            out, data,
            "the real object was complete before the extra bytes"
        );
        // Claim the doubled length: the original last chunk is not a middle chunk.
        let (_, r) = open(alg, &key, prefix, 2 * len, &longer);
        assert!(
            matches!(r, Err(Error::ChunkAuthentication { index: 0 })),
            "{r:?}"
        );
    }
}

#[test]
fn wrong_key_prefix_or_algorithm_fails() {
    let len = 1000;
    let (key, prefix, _, stored) = setup(Algorithm::Aes256, len);
    let (other_key, other_prefix) = object_keys();
    for (alg, k, p) in [
        (Algorithm::Aes256, &other_key, prefix),
        (Algorithm::Aes256, &key, other_prefix),
        (Algorithm::Sm4, &key, prefix),
    ] {
        let (out, r) = open(alg, k, p, len, &stored);
        assert!(matches!(r, Err(Error::ChunkAuthentication { index: 0 })));
        assert!(out.is_empty());
    }
}

#[test]
fn chunk_spliced_from_another_object_is_detected() {
    let len = 2 * CHUNK_SIZE;
    let (key, prefix, _, stored) = setup(Algorithm::Aes256, len);
    let (_, _, _, other) = setup(Algorithm::Aes256, len);
    let mut bad = stored.clone();
    bad[FRAME..].copy_from_slice(&other[FRAME..]);
    let (_, r) = open(Algorithm::Aes256, &key, prefix, len, &bad);
    assert!(matches!(r, Err(Error::ChunkAuthentication { index: 1 })));
}

#[test]
fn a_failed_stream_stays_failed() {
    let len = 3 * CHUNK_SIZE;
    let (key, prefix, _, mut stored) = setup(Algorithm::Aes256, len);
    stored[10] ^= 1;
    let mut dec = Decryptor::new(
        Algorithm::Aes256,
        &key,
        prefix,
        RangePlan::whole(len as u64).unwrap(),
    );
    let mut input = &stored[..];
    assert!(dec.push(&mut input).is_err());
    // A caller that ignores the error cannot resynchronise on later chunks.
    assert!(matches!(
        dec.push(&mut input),
        Err(Error::ChunkAuthentication { index: 0 })
    ));
    assert!(dec.finish().is_err());
}
