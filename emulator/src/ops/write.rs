//! Opening a store writer for a new object: a fresh write id and, when SSE is asked for, a
//! fresh data key bound to it (UNIQUE-KEY). PUT Object, POST Object and PUT Object - Copy
//! write through it; a part's writer (`multipart::part_writer`) uses the same write ids.

use cos_emulator_crypto::{EncryptionRecord, SseMode};

use super::{encryption, Context};
use crate::body::{blocking, store_error};
use crate::error::Error;
use crate::sse::SseRequest;
use crate::store::{BucketRecord, ObjectWriter};

/// A fresh random write id (names one write of an object or part; bound into the
/// sealing AAD of its data key).
pub fn new_write_id() -> String {
    let mut b = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
    hex::encode(b)
}

/// The ETag of a new object or part (SSE-ETAG, `unspecified`): the hex MD5 of its
/// plaintext; with the switch `opaque`, an SSE-C or SSE-KMS object or part gets a fresh
/// random value of the same form instead, as S3 does — an MD5 of the plaintext lets anyone
/// who can list the bucket confirm a guessed plaintext. SSE-COS and plain objects keep the
/// MD5 either way.
pub fn new_etag(ctx: &Context, md5: [u8; 16], sse: Option<&EncryptionRecord>) -> String {
    let hidden = sse.is_some_and(|r| matches!(r.mode(), SseMode::Kms | SseMode::Customer));
    if ctx.behaviours.sse_etag_opaque && hidden {
        new_write_id()
    } else {
        hex::encode(md5)
    }
}

/// Opens a writer for a new version of `key` in `bucket`, encrypting as `sse` asks under
/// a fresh data key, and returns it with the object's encryption record and write id.
/// Nothing is visible until the writer commits.
pub async fn object_writer(
    ctx: &Context,
    bucket: &BucketRecord,
    key: &str,
    sse: &SseRequest,
) -> Result<(Box<dyn ObjectWriter>, Option<EncryptionRecord>, String), Error> {
    let write_id = new_write_id();
    let (store, keys) = (ctx.store.clone(), ctx.keys.clone());
    // Test-only lies (introspect::lies) change what is stored, never what is answered.
    ctx.lies.keep_customer_key(&ctx.data_dir, sse, &write_id);
    let plaintext = ctx.lies.plaintext_body(sse);
    let (sse, b, key) = (ctx.lies.applied(sse), bucket.clone(), key.to_string());
    blocking(move || {
        let (mut encoder, record) = encryption::new_encoder(&keys, &sse, &b, &key, &write_id)?;
        if plaintext {
            encoder = Box::new(crate::store::PlainCodec);
        }
        let writer = store.create_object(&b.name, encoder).map_err(store_error)?;
        Ok((writer, record, write_id))
    })
    .await
}
