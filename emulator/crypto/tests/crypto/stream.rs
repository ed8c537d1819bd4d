//! Round trips and ranges of the chunked stream (AT-REST, RANGE, SIZE-UNCHANGED).

use cos_emulator_crypto::{
    ciphertext_len, decrypt_to_vec, encrypt_to_vec, plaintext_len, Decryptor, Encryptor, RangePlan,
    CHUNK_SIZE,
};

use crate::{object_keys, sample, ALGORITHMS};

const BOUNDARY_LENGTHS: [usize; 8] = [0, 1, 65_535, 65_536, 65_537, 98_304, 131_072, 3 << 20];

#[test]
fn round_trip_at_chunk_boundaries() {
    for alg in ALGORITHMS {
        for len in BOUNDARY_LENGTHS {
            let (key, prefix) = object_keys();
            let data = sample(len);
            let stored = encrypt_to_vec(alg, &key, prefix, &data).unwrap();
            assert_eq!(stored.len() as u64, ciphertext_len(len as u64).unwrap());
            assert_eq!(plaintext_len(stored.len() as u64).unwrap(), len as u64);
            let back = decrypt_to_vec(alg, &key, prefix, len as u64, &stored).unwrap();
            assert!(back == data, "{alg} len {len}");
        }
    }
}

#[test]
fn several_mib_in_odd_pieces_round_trip() {
    let len = (5 << 20) + 12_345;
    let data = sample(len);
    let (key, prefix) = object_keys();
    let alg = ALGORITHMS[0];
    let mut stored = Vec::new();
    let mut enc = Encryptor::new(alg, &key, prefix);
    let mut frames = 0;
    for mut piece in data.chunks(7_777) {
        while let Some(frame) = enc.push(&mut piece).unwrap() {
            assert_eq!(frame.len(), CHUNK_SIZE + 16);
            stored.extend_from_slice(frame);
            frames += 1;
        }
    }
    stored.extend_from_slice(enc.finish().unwrap());
    assert_eq!(frames + 1, len.div_ceil(CHUNK_SIZE));
    assert!(enc.finish().is_err(), "a finished stream refuses more");

    let mut dec = Decryptor::new(alg, &key, prefix, RangePlan::whole(len as u64).unwrap());
    let mut back = Vec::new();
    for mut piece in stored.chunks(100_003) {
        while let Some(plain) = dec.push(&mut piece).unwrap() {
            back.extend_from_slice(plain);
        }
    }
    dec.finish().unwrap();
    assert!(back == data);
}

#[test]
fn stored_bytes_read_into_the_room_a_byte_short_of_a_frame_then_the_byte() {
    // A frame is complete only at its last byte, however the reads fall around it.
    const FRAME: usize = CHUNK_SIZE + 16;
    let len = 2 * CHUNK_SIZE + 4_321;
    let data = sample(len);
    for alg in ALGORITHMS {
        let (key, prefix) = object_keys();
        let stored = encrypt_to_vec(alg, &key, prefix, &data).unwrap();
        let mut dec = Decryptor::new(alg, &key, prefix, RangePlan::whole(len as u64).unwrap());
        let mut back = Vec::new();
        let mut left = &stored[..];
        for size in [FRAME - 1, 1].iter().cycle() {
            if left.is_empty() {
                break;
            }
            let room = dec.room().unwrap();
            let n = room.len().min(*size).min(left.len());
            room[..n].copy_from_slice(&left[..n]);
            left = &left[n..];
            if let Some(plain) = dec.advance(n).unwrap() {
                back.extend_from_slice(plain);
            }
        }
        dec.finish().unwrap();
        assert!(back == data, "{alg}");
        let mut dec = Decryptor::new(alg, &key, prefix, RangePlan::whole(len as u64).unwrap());
        assert!(
            dec.advance(FRAME + 1).is_err(),
            "more than the room is refused"
        );
    }
}

#[test]
fn same_plaintext_twice_is_stored_differently() {
    // UNIQUE-KEY: every object has its own key and nonce prefix.
    let data = sample(1000);
    let (k1, p1) = object_keys();
    let (k2, p2) = object_keys();
    let a = encrypt_to_vec(ALGORITHMS[0], &k1, p1, &data).unwrap();
    let b = encrypt_to_vec(ALGORITHMS[0], &k2, p2, &data).unwrap();
    assert_ne!(a, b);
    assert!(
        !a.windows(64).any(|w| w == &data[..64]),
        "no plaintext at rest"
    );
}

/// Ranges of objects of two chunks (and one byte either side) through the real cipher:
/// every start/end pair on a grid of all chunk boundaries ±1 and chunk middles. (Every
/// range of every small object is checked against the planner with 4-byte chunks in
/// `layout.rs`; 64 KiB chunks make that exhaustive here impossible.)
#[test]
fn every_range_on_small_chunk_multiples() {
    for alg in ALGORITHMS {
        for len in [1, 2 * CHUNK_SIZE - 1, 2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 1] {
            let (key, prefix) = object_keys();
            let data = sample(len);
            let stored = encrypt_to_vec(alg, &key, prefix, &data).unwrap();
            let points = grid(len);
            for &start in &points {
                for &end in points.iter().filter(|&&e| e > start) {
                    let got = read_range(alg, &key, prefix, &stored, len, start..end);
                    assert!(
                        got == data[start..end],
                        "{alg} len {len} range {start}..{end}"
                    );
                }
            }
        }
    }
}

/// Offsets 0, 1, every chunk boundary and its neighbours, the middle of every chunk, and
/// the end, clipped to `0..=len`.
fn grid(len: usize) -> Vec<usize> {
    let mut p = vec![0, 1, len.saturating_sub(1), len];
    let mut b = 0;
    while b <= len {
        p.extend([b.saturating_sub(1), b, b + 1, b + CHUNK_SIZE / 2]);
        b += CHUNK_SIZE;
    }
    p.retain(|&x| x <= len);
    p.sort_unstable();
    p.dedup();
    p
}

fn read_range(
    alg: cos_emulator_crypto::Algorithm,
    key: &cos_emulator_crypto::DataKey,
    prefix: cos_emulator_crypto::NoncePrefix,
    stored: &[u8],
    len: usize,
    range: std::ops::Range<usize>,
) -> Vec<u8> {
    let plan = RangePlan::range(len as u64, range.start as u64..range.end as u64).unwrap();
    let at = plan.ciphertext_offset as usize;
    let mut input = &stored[at..at + plan.ciphertext_len as usize];
    let expected = plan.len;
    let mut dec = Decryptor::new(alg, key, prefix, plan);
    let mut out = Vec::new();
    while let Some(plain) = dec.push(&mut input).unwrap() {
        out.extend_from_slice(plain);
    }
    dec.finish().unwrap();
    assert_eq!(out.len() as u64, expected);
    out
}

#[test]
fn range_reads_only_the_chunks_it_covers() {
    let len = 10 * CHUNK_SIZE;
    let plan = RangePlan::range(
        len as u64,
        3 * CHUNK_SIZE as u64 + 5..4 * CHUNK_SIZE as u64 + 9,
    )
    .unwrap();
    assert_eq!(plan.first_chunk, 3);
    assert_eq!(plan.chunks, 2);
    assert_eq!(plan.ciphertext_len, 2 * (CHUNK_SIZE as u64 + 16));
}

/// Reads `range` of the stored object the way a GET streams it: whole frames read by the
/// caller in batches of `batch` chunks and opened in place (`Decryptor::open_frames`),
/// the plaintext taken from the pieces it names.
fn read_frames(
    alg: cos_emulator_crypto::Algorithm,
    key: &cos_emulator_crypto::DataKey,
    prefix: cos_emulator_crypto::NoncePrefix,
    stored: &[u8],
    len: usize,
    range: std::ops::Range<usize>,
    batch: usize,
) -> Vec<u8> {
    let plan = if range == (0..len) {
        RangePlan::whole(len as u64)
    } else {
        RangePlan::range(len as u64, range.start as u64..range.end as u64)
    }
    .unwrap();
    let mut at = plan.ciphertext_offset as usize;
    let end = at + plan.ciphertext_len as usize;
    let mut dec = Decryptor::new(alg, key, prefix, plan);
    let mut out = Vec::new();
    loop {
        let n = dec.frames_len(batch);
        if n == 0 {
            break;
        }
        let mut frames = stored[at..at + n].to_vec();
        at += n;
        for piece in dec.open_frames(&mut frames).unwrap() {
            out.extend_from_slice(&frames[piece]);
        }
    }
    assert_eq!(
        at, end,
        "frames_len covers exactly the planned stored bytes"
    );
    dec.finish().unwrap();
    out
}

#[test]
fn frames_opened_in_place_give_every_range_in_order() {
    for alg in ALGORITHMS {
        for len in [0, 1, 65_536, 65_537, 5 * CHUNK_SIZE + 3] {
            let (key, prefix) = object_keys();
            let data = sample(len);
            let stored = encrypt_to_vec(alg, &key, prefix, &data).unwrap();
            for batch in [1, 2, 4, 7] {
                assert_eq!(
                    read_frames(alg, &key, prefix, &stored, len, 0..len, batch),
                    data,
                    "{alg} {len} whole, batches of {batch}"
                );
                for a in grid(len).into_iter().step_by(3) {
                    for b in grid(len).into_iter().step_by(2).filter(|&b| b > a) {
                        assert_eq!(
                            read_frames(alg, &key, prefix, &stored, len, a..b, batch),
                            &data[a..b],
                            "{alg} {len} {a}..{b}, batches of {batch}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn frames_opened_in_place_stop_at_the_damaged_chunk() {
    use cos_emulator_crypto::Error;
    const FRAME: usize = CHUNK_SIZE + 16;
    for alg in ALGORITHMS {
        let len = 6 * CHUNK_SIZE;
        let (key, prefix) = object_keys();
        let data = sample(len);
        let mut stored = encrypt_to_vec(alg, &key, prefix, &data).unwrap();
        let good = stored.clone();
        stored[2 * FRAME + 9] ^= 4;
        let mut dec = Decryptor::new(alg, &key, prefix, RangePlan::whole(len as u64).unwrap());
        // Frames 0..4 in one batch: 0 and 1 are released, 2 fails and ends the stream.
        let mut frames = stored[..4 * FRAME].to_vec();
        let pieces = dec.open_frames(&mut frames).unwrap();
        assert_eq!(pieces, [0..CHUNK_SIZE, FRAME..FRAME + CHUNK_SIZE], "{alg}");
        assert_eq!(
            frames[FRAME..FRAME + CHUNK_SIZE],
            data[CHUNK_SIZE..2 * CHUNK_SIZE]
        );
        // The stream stays failed: even the intact frames 2 and 3 are refused now.
        let mut again = good[2 * FRAME..4 * FRAME].to_vec();
        assert!(matches!(
            dec.open_frames(&mut again),
            Err(Error::ChunkAuthentication { index: 2 })
        ));
        assert!(dec.finish().is_err());
        // The damaged frame first in its batch: the error at once, no plaintext left.
        let mut dec = Decryptor::new(alg, &key, prefix, RangePlan::whole(len as u64).unwrap());
        dec.open_frames(&mut stored[..2 * FRAME].to_vec()).unwrap();
        let mut frames = stored[2 * FRAME..4 * FRAME].to_vec();
        assert!(matches!(
            dec.open_frames(&mut frames),
            Err(Error::ChunkAuthentication { index: 2 })
        ));
        assert!(frames[..CHUNK_SIZE].iter().all(|&b| b == 0), "{alg}");
    }
}

#[test]
fn frames_opened_in_place_must_be_whole_and_planned() {
    use cos_emulator_crypto::Error;
    let alg = cos_emulator_crypto::Algorithm::Aes256;
    let len = 2 * CHUNK_SIZE;
    let (key, prefix) = object_keys();
    let stored = encrypt_to_vec(alg, &key, prefix, &sample(len)).unwrap();
    let plan = || RangePlan::whole(len as u64).unwrap();
    let mut dec = Decryptor::new(alg, &key, prefix, plan());
    assert!(matches!(
        dec.open_frames(&mut stored[..100].to_vec()),
        Err(Error::Truncated { .. })
    ));
    let mut dec = Decryptor::new(alg, &key, prefix, plan());
    let mut more = stored.clone();
    more.extend_from_slice(&[0; 16]);
    assert!(matches!(
        dec.open_frames(&mut more),
        Err(Error::TrailingData)
    ));
    // Stopping after the first frame leaves the stream unfinished.
    let mut dec = Decryptor::new(alg, &key, prefix, plan());
    dec.open_frames(&mut stored[..CHUNK_SIZE + 16].to_vec())
        .unwrap();
    assert!(matches!(dec.finish(), Err(Error::Truncated { .. })));
}
