//! Property tests: any plaintext, any piece sizes, any range.

use cos_emulator_crypto::{encrypt_to_vec, Decryptor, Encryptor, RangePlan, CHUNK_SIZE};
use proptest::prelude::*;

use crate::{object_keys, ALGORITHMS};

fn lengths() -> impl Strategy<Value = usize> {
    prop_oneof![
        0..300usize,
        (1..4usize, -3..4isize).prop_map(|(k, d)| (k * CHUNK_SIZE).saturating_add_signed(d)),
        0..(3 * CHUNK_SIZE),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn round_trip_with_any_piece_sizes(
        len in lengths(),
        seed in any::<u8>(),
        enc_piece in 1..100_000usize,
        dec_piece in 1..100_000usize,
        sm4 in any::<bool>(),
    ) {
        let alg = ALGORITHMS[usize::from(sm4)];
        let data: Vec<u8> = (0..len).map(|i| (i as u8) ^ seed).collect();
        let (key, prefix) = object_keys();
        let mut stored = Vec::new();
        let mut enc = Encryptor::new(alg, &key, prefix);
        for mut piece in data.chunks(enc_piece) {
            while let Some(frame) = enc.push(&mut piece).unwrap() {
                stored.extend_from_slice(frame);
            }
        }
        stored.extend_from_slice(enc.finish().unwrap());
        prop_assert_eq!(&stored, &encrypt_to_vec(alg, &key, prefix, &data).unwrap());

        let mut dec = Decryptor::new(alg, &key, prefix, RangePlan::whole(len as u64).unwrap());
        let mut back = Vec::new();
        for mut piece in stored.chunks(dec_piece) {
            while let Some(plain) = dec.push(&mut piece).unwrap() {
                back.extend_from_slice(plain);
            }
        }
        dec.finish().unwrap();
        prop_assert!(back == data);
    }

    #[test]
    fn any_range_returns_exactly_those_bytes(
        len in 1..(3 * CHUNK_SIZE + 100),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
        piece in 1..70_000usize,
        sm4 in any::<bool>(),
        into_room in any::<bool>(),
    ) {
        let (start, end) = {
            let (x, y) = (a.index(len), b.index(len));
            (x.min(y), x.max(y) + 1)
        };
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let (key, prefix) = object_keys();
        let alg = ALGORITHMS[usize::from(sm4)];
        let stored = encrypt_to_vec(alg, &key, prefix, &data).unwrap();
        let plan = RangePlan::range(len as u64, start as u64..end as u64).unwrap();
        let at = plan.ciphertext_offset as usize;
        let needed = &stored[at..at + plan.ciphertext_len as usize];
        let mut dec = Decryptor::new(alg, &key, prefix, plan);
        let mut out = Vec::new();
        if into_room {
            // Stored bytes read straight into the decryptor's frames, `piece` at most at once.
            let mut left = needed;
            while !left.is_empty() {
                let room = dec.room().unwrap();
                let n = room.len().min(piece).min(left.len());
                prop_assert!(n > 0, "room is empty with {} stored bytes left", left.len());
                room[..n].copy_from_slice(&left[..n]);
                left = &left[n..];
                if let Some(plain) = dec.advance(n).unwrap() {
                    out.extend_from_slice(plain);
                }
            }
            prop_assert!(dec.room().unwrap().is_empty());
        } else {
            for mut p in needed.chunks(piece) {
                while let Some(plain) = dec.push(&mut p).unwrap() {
                    out.extend_from_slice(plain);
                }
            }
        }
        dec.finish().unwrap();
        prop_assert!(out == data[start..end]);
    }

    #[test]
    fn planner_never_panics(len in any::<u64>(), start in any::<u64>(), end in any::<u64>()) {
        if let Ok(plan) = RangePlan::range(len, start..end) {
            prop_assert!(start < end && end <= len);
            prop_assert_eq!(plan.len, end - start);
        }
        let _ = RangePlan::whole(len);
        let _ = cos_emulator_crypto::plaintext_len(len);
    }
}
