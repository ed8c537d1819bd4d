//! The key hierarchy through the façade the store uses: every mode, wrong bindings,
//! rotation, and records that hold no secrets.

use std::collections::BTreeMap;

use cos_emulator_crypto::{
    Algorithm, CustomerKey, EncryptionRecord, Error, KeyRecord, Keys, ObjectRef, Protection,
    RangePlan, SseMode,
};

const APPID: &str = "1250000000";
const OBJ: ObjectRef<'static> = ObjectRef {
    bucket: "examplebucket-1250000000",
    key: "dir/a.txt",
    version: "v1",
};

fn put(keys: &Keys, alg: Algorithm, p: Protection<'_>, data: &[u8]) -> (EncryptionRecord, Vec<u8>) {
    let (dk, record) = keys.new_object(alg, p, &OBJ).unwrap();
    let mut enc = record.encryptor(&dk).unwrap();
    let mut out = Vec::new();
    let mut input = data;
    while let Some(f) = enc.push(&mut input).unwrap() {
        out.extend_from_slice(f);
    }
    out.extend_from_slice(enc.finish().unwrap());
    (record, out)
}

fn get(
    keys: &Keys,
    record: &EncryptionRecord,
    ck: Option<&CustomerKey>,
    stored: &[u8],
    len: usize,
) -> Result<Vec<u8>, Error> {
    let dk = keys.open_object(record, APPID, ck, &OBJ)?;
    let mut dec = record.decryptor(&dk, RangePlan::whole(len as u64)?)?;
    let mut out = Vec::new();
    let mut input = stored;
    while let Some(p) = dec.push(&mut input)? {
        out.extend_from_slice(p);
    }
    dec.finish()?;
    Ok(out)
}

#[test]
fn every_mode_round_trips_and_records_hold_no_secrets() {
    let keys = Keys::in_memory().unwrap();
    let data = crate::sample(70_000);
    let ctx: BTreeMap<String, String> = [("project".to_string(), "a".to_string())].into();
    let ck = CustomerKey::from_bytes(*b"0123456789ABCDEF0123456789ABCDEF");
    for alg in crate::ALGORITHMS {
        for (p, mode) in [
            (Protection::Cos, SseMode::Cos),
            (
                Protection::Kms {
                    appid: APPID,
                    key_id: None,
                    context: &ctx,
                },
                SseMode::Kms,
            ),
            (Protection::Customer(&ck), SseMode::Customer),
        ] {
            let (record, stored) = put(&keys, alg, p, &data);
            assert_eq!(record.mode(), mode);
            assert_eq!(record.algorithm, alg);
            let ckey = matches!(mode, SseMode::Customer).then_some(&ck);
            assert!(get(&keys, &record, ckey, &stored, data.len()).unwrap() == data);

            let json = serde_json::to_string(&record).unwrap();
            let back: EncryptionRecord = serde_json::from_str(&json).unwrap();
            assert_eq!(back, record);
            // SSEC-NOT-STORED: neither the key (raw or base64) nor its MD5 is in the record.
            for secret in [
                "0123456789ABCDEF",
                "MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY",
                "U5L61r7jcwdNvT7frmUG8g==", // base64(MD5(key)) as clients send it
            ] {
                assert!(!json.contains(secret), "{json}");
            }
        }
    }
}

#[test]
fn kms_key_id_is_recorded_and_default_is_used() {
    let keys = Keys::in_memory().unwrap();
    let ctx = BTreeMap::new();
    let (record, _) = put(
        &keys,
        Algorithm::Aes256,
        Protection::Kms {
            appid: APPID,
            key_id: None,
            context: &ctx,
        },
        b"x",
    );
    let default = keys.kms().default_key(APPID).unwrap();
    assert_eq!(record.kms_key_id(), Some(default.key_id.as_str()));
    let mine = keys.kms().create_key(APPID, "mine").unwrap();
    let (record, _) = put(
        &keys,
        Algorithm::Sm4,
        Protection::Kms {
            appid: APPID,
            key_id: Some(&mine.key_id),
            context: &ctx,
        },
        b"x",
    );
    assert_eq!(record.kms_key_id(), Some(mine.key_id.as_str()));
}

#[test]
fn ssec_needs_the_right_key() {
    let keys = Keys::in_memory().unwrap();
    let ck = CustomerKey::from_bytes([9; 32]);
    let (record, stored) = put(
        &keys,
        Algorithm::Aes256,
        Protection::Customer(&ck),
        b"secret",
    );
    assert!(matches!(
        get(&keys, &record, None, &stored, 6),
        Err(Error::CustomerKeyRequired)
    ));
    let wrong = CustomerKey::from_bytes([8; 32]);
    assert!(matches!(
        get(&keys, &record, Some(&wrong), &stored, 6),
        Err(Error::CustomerKeyMismatch)
    ));
}

#[test]
fn record_moved_to_another_object_does_not_open() {
    let keys = Keys::in_memory().unwrap();
    let (record, _) = put(&keys, Algorithm::Aes256, Protection::Cos, b"x");
    let other = ObjectRef {
        version: "v2",
        ..OBJ
    };
    assert!(matches!(
        keys.open_object(&record, APPID, None, &other),
        Err(Error::Unseal)
    ));
    // Re-labelling the mode is caught too: a KMS record cannot carry a COS seal.
    let KeyRecord::Cos { sealed_key, .. } = record.key.clone() else {
        unreachable!()
    };
    let kms_key = keys.kms().default_key(APPID).unwrap().key_id;
    let relabelled = EncryptionRecord {
        key: KeyRecord::Kms {
            key_id: kms_key,
            context: BTreeMap::new(),
            sealed_key,
        },
        ..record
    };
    assert!(matches!(
        keys.open_object(&relabelled, APPID, None, &OBJ),
        Err(Error::Unseal)
    ));
}

#[test]
fn rotation_through_files_keeps_old_objects_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (master, kms) = (dir.path().join("master.json"), dir.path().join("kms.json"));
    let server = Keys::open(&master, &kms).unwrap();
    let (old, old_stored) = put(&server, Algorithm::Aes256, Protection::Cos, b"old");
    // `cos-emulator rotate-master-key` in another process.
    let cli = Keys::open(&master, &kms).unwrap();
    assert_eq!(cli.rotate_master_key().unwrap(), 2);
    // A restarted server seals new objects under version 2 and still opens version 1.
    let restarted = Keys::open(&master, &kms).unwrap();
    let (new, _) = put(&restarted, Algorithm::Aes256, Protection::Cos, b"new");
    assert!(matches!(
        new.key,
        KeyRecord::Cos {
            master_key_version: 2,
            ..
        }
    ));
    assert_eq!(get(&restarted, &old, None, &old_stored, 3).unwrap(), b"old");
    // The server that was running all along opens version-2 objects by reloading.
    assert!(server.open_object(&new, APPID, None, &OBJ).is_ok());
}

#[test]
fn a_running_server_seals_new_objects_under_a_version_rotated_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let (master, kms) = (dir.path().join("master.json"), dir.path().join("kms.json"));
    let server = Keys::open(&master, &kms).unwrap();
    let (before, before_stored) = put(&server, Algorithm::Aes256, Protection::Cos, b"before");
    assert!(matches!(
        before.key,
        KeyRecord::Cos {
            master_key_version: 1,
            ..
        }
    ));
    let cli = Keys::open(&master, &kms).unwrap();
    assert_eq!(cli.rotate_master_key().unwrap(), 2);
    let (after, _) = put(&server, Algorithm::Aes256, Protection::Cos, b"after");
    assert!(matches!(
        after.key,
        KeyRecord::Cos {
            master_key_version: 2,
            ..
        }
    ));
    assert_eq!(
        get(&server, &before, None, &before_stored, 6).unwrap(),
        b"before"
    );
}

#[test]
fn unsupported_format_is_refused() {
    let keys = Keys::in_memory().unwrap();
    let (mut record, _) = put(&keys, Algorithm::Aes256, Protection::Cos, b"x");
    record.format = 9;
    let dk = keys.open_object(&record, APPID, None, &OBJ).unwrap();
    assert!(matches!(
        record.encryptor(&dk),
        Err(Error::UnsupportedFormat(9))
    ));
}

/// Deadlock: rotation took the keyring lock then the stamp lock, refresh (on
/// every new SSE-COS object) the other way round. Threads rotating through two handles
/// (the server's and another process's) while others seal new objects must all finish;
/// a hang fails the test after a bound instead of blocking the run. Every rotation is
/// kept (the file lock orders rotations of different handles).
#[test]
fn rotating_while_sealing_neither_deadlocks_nor_loses_a_version() {
    use std::sync::Arc;
    const ROTATIONS: u32 = 30;
    let dir = tempfile::tempdir().unwrap();
    let (master, kms) = (dir.path().join("master.json"), dir.path().join("kms.json"));
    let server = Arc::new(Keys::open(&master, &kms).unwrap());
    let other = Arc::new(Keys::open(&master, &kms).unwrap());
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let mut threads = Vec::new();
    for keys in [&server, &server, &other] {
        let keys = Arc::clone(keys);
        threads.push(std::thread::spawn(move || {
            for _ in 0..ROTATIONS {
                keys.rotate_master_key().unwrap();
            }
        }));
    }
    for _ in 0..3 {
        let keys = Arc::clone(&server);
        threads.push(std::thread::spawn(move || {
            for _ in 0..200 {
                put(&keys, Algorithm::Aes256, Protection::Cos, b"x");
            }
        }));
    }
    std::thread::spawn(move || {
        for t in threads {
            t.join().unwrap();
        }
        let _ = done_tx.send(());
    });
    done_rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("rotating and sealing at once did not finish: deadlock");
    let (latest, _) = put(&server, Algorithm::Aes256, Protection::Cos, b"y");
    assert!(
        matches!(latest.key, KeyRecord::Cos { master_key_version, .. } if master_key_version == 3 * ROTATIONS + 1),
        "{:?}",
        latest.key
    );
}
