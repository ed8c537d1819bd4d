//! The store under test and what is written to it: objects, SSE objects, copies and
//! multipart uploads made as the operations make them, and read back through their codec.

use std::collections::BTreeMap;
use std::io::Read;

use cos_emulator::store::multipart::PartRecord;
use cos_emulator::store::parts::{PartLayout, PartsDecoder};
use cos_emulator::store::{
    Acl, BodyFormat, BucketRecord, Decoder, ObjectMeta, PlainCodec, SealedDecoder, SealedEncoder,
    Store, StoreError,
};
use cos_emulator_crypto::{Algorithm, Keys, ObjectRef, Protection};

pub(crate) const BUCKET: &str = "pl-1250000000";
pub(crate) const APPID: &str = "1250000000";

pub(crate) fn bucket() -> BucketRecord {
    BucketRecord {
        name: BUCKET.into(),
        appid: APPID.into(),
        region: "ap-beijing".into(),
        created_ms: 0,
        acl: Acl::Private,
        grants: Vec::new(),
        cors: Vec::new(),
        encryption: None,
    }
}

pub(crate) fn meta(key: &str, body: &[u8], write_id: &str) -> ObjectMeta {
    ObjectMeta {
        key: key.into(),
        size: body.len() as u64,
        etag: String::new(),
        crc64: 0,
        modified_ms: 0,
        content_type: "application/octet-stream".into(),
        headers: BTreeMap::new(),
        user_meta: BTreeMap::new(),
        storage_class: "STANDARD".into(),
        acl: Acl::Default,
        grants: Vec::new(),
        owner: APPID.into(),
        write_id: write_id.into(),
        sse: None,
        mac: String::new(),
    }
}

/// `len` bytes that differ per `seed`, so versions cannot be mistaken for each other.
pub(crate) fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(31)
                .wrapping_add(u32::from(seed) * 7) as u8
        })
        .collect()
}

/// Writes `body` in 64 KiB pieces, as the request path hands it over.
pub(crate) fn put_plain(store: &dyn Store, key: &str, body: &[u8]) -> Result<(), StoreError> {
    let mut w = store.create_object(BUCKET, Box::new(PlainCodec))?;
    for piece in body.chunks(64 * 1024) {
        w.write(piece)?;
    }
    w.commit(meta(key, body, &format!("w-{key}-{}", body.len())))?;
    Ok(())
}

/// PUT with SSE-COS (AES256): a fresh data key sealed under the store's master key.
pub(crate) fn put_sse(
    store: &dyn Store,
    keys: &Keys,
    key: &str,
    body: &[u8],
) -> Result<(), StoreError> {
    let write_id = format!("w-sse-{key}");
    let obj = ObjectRef {
        bucket: BUCKET,
        key,
        version: &write_id,
    };
    let (data_key, record) = keys
        .new_object(Algorithm::Aes256, Protection::Cos, &obj)
        .unwrap();
    let enc = SealedEncoder::new(&record, &data_key)?;
    let mut w = store.create_object(BUCKET, Box::new(enc))?;
    for piece in body.chunks(64 * 1024) {
        w.write(piece)?;
    }
    let mut m = meta(key, body, &write_id);
    m.sse = Some(record);
    w.commit(m)?;
    Ok(())
}

/// PUT - Copy as the operation does it: the source read through its codec, written as a
/// new object.
pub(crate) fn copy(store: &dyn Store, keys: &Keys, from: &str, to: &str) -> Result<(), StoreError> {
    let body = read_object(store, keys, from)
        .map_err(std::io::Error::other)?
        .ok_or_else(|| std::io::Error::other("no source"))?;
    put_plain(store, to, &body)
}

/// Initiate, upload `parts`, and leave the upload for Complete.
pub(crate) fn initiate(store: &dyn Store, key: &str, parts: &[&[u8]]) -> String {
    initiate_with(store, None, key, parts)
}

/// [`initiate`]; with `keys`, each part is encrypted (SSE-COS AES256) under its own data
/// key, as MPU-SSE stores them.
pub(crate) fn initiate_with(
    store: &dyn Store,
    keys: Option<&Keys>,
    key: &str,
    parts: &[&[u8]],
) -> String {
    let up = store
        .uploads()
        .create(BUCKET, meta(key, b"", ""), None, 0)
        .unwrap();
    for (i, body) in parts.iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap();
        let write_id = format!("part-{n}");
        let mut m = meta(key, body, &write_id);
        let encoder: Box<dyn cos_emulator::store::Encoder> = match keys {
            None => Box::new(PlainCodec),
            Some(keys) => {
                let obj = ObjectRef {
                    bucket: BUCKET,
                    key,
                    version: &write_id,
                };
                let (data_key, record) = keys
                    .new_object(Algorithm::Aes256, Protection::Cos, &obj)
                    .unwrap();
                let enc = SealedEncoder::new(&record, &data_key).unwrap();
                m.sse = Some(record);
                Box::new(enc)
            }
        };
        let mut w = store
            .uploads()
            .part_writer(BUCKET, &up.upload_id, n, encoder)
            .unwrap()
            .unwrap();
        w.write(body).unwrap();
        w.commit(m).unwrap();
    }
    up.upload_id
}

/// Complete Multipart Upload as the operation does it: claim, assemble, finish.
pub(crate) fn complete(store: &dyn Store, key: &str, upload_id: &str) -> Result<(), StoreError> {
    let claim = store.uploads().claim(BUCKET, upload_id)?.unwrap();
    let parts: Vec<&PartRecord> = claim.parts.iter().collect();
    let layout = parts
        .iter()
        .map(|p| PartLayout {
            size: p.size,
            stored_len: p.body.stored_len,
            write_id: p.write_id.clone(),
            sse: p.sse.clone(),
        })
        .collect();
    let size = parts.iter().map(|p| p.size).sum::<u64>();
    let mut m = meta(key, b"", "w-complete");
    m.size = size;
    claim.complete(
        store,
        BUCKET,
        &parts,
        BodyFormat::Parts { parts: layout },
        m,
    )?;
    claim.finish()
}

/// The plaintext of `key` read through its codec; `None` when there is no such key, an
/// error when the record is there but its body is not whole.
pub(crate) fn read_object(
    store: &dyn Store,
    keys: &Keys,
    key: &str,
) -> Result<Option<Vec<u8>>, String> {
    let Some((record, mut body)) = store.open_object(BUCKET, key).map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let m = &record.meta;
    let open = |sse: &cos_emulator_crypto::EncryptionRecord, version: &str| {
        let obj = ObjectRef {
            bucket: BUCKET,
            key,
            version,
        };
        keys.open_object(sse, APPID, None, &obj)
            .map_err(|e| e.to_string())
    };
    let mut dec: Box<dyn Decoder> = match (&record.body.format, &m.sse) {
        (BodyFormat::Plain, None) => Box::new(PlainCodec),
        (BodyFormat::Chunked { .. }, Some(sse)) => Box::new(SealedDecoder::new(
            sse.clone(),
            open(sse, &m.write_id)?,
            m.size,
        )),
        (BodyFormat::Parts { parts }, None) => {
            let mut opened = Vec::new();
            for p in parts {
                let key = match &p.sse {
                    Some(sse) => Some(open(sse, &p.write_id)?),
                    None => None,
                };
                opened.push((p.clone(), key));
            }
            Box::new(PartsDecoder::new(opened))
        }
        (format, _) => return Err(format!("unexpected format {format:?}")),
    };
    let mut out = Vec::new();
    dec.read_range(&mut body, 0..m.size, &mut |p| {
        out.extend_from_slice(&p);
        true
    })
    .map_err(|e| format!("{key}: {e}"))?;
    let mut rest = Vec::new();
    body.read_to_end(&mut rest).map_err(|e| e.to_string())?;
    if !matches!(record.body.format, BodyFormat::Chunked { .. }) && !rest.is_empty() {
        return Err(format!(
            "{key}: {} stored bytes past the object",
            rest.len()
        ));
    }
    Ok(Some(out))
}
