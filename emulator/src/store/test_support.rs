//! Helpers the codec unit tests share: a stored body from bytes, and reading a range
//! through any decoder.

use std::io::Write;
use std::ops::Range;

use super::{CodecError, Decoder, StoredBody};

/// A stored body (a temporary file) holding `bytes`.
pub(crate) fn stored(bytes: &[u8]) -> StoredBody {
    let mut f = tempfile::tempfile().unwrap();
    f.write_all(bytes).unwrap();
    StoredBody::new(f, bytes.len() as u64)
}

/// The plaintext of range `r` as `dec` gives it, collected whole.
pub(crate) fn read(
    dec: &mut dyn Decoder,
    body: &mut StoredBody,
    r: Range<u64>,
) -> Result<Vec<u8>, CodecError> {
    let mut got = Vec::new();
    dec.read_range(body, r, &mut |p| {
        got.extend_from_slice(&p);
        true
    })?;
    Ok(got)
}
