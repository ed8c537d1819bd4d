//! Where each piece of state lives in the backend, under the store's prefix:
//!
//! ```text
//! PREFIX/buckets/<bucket>                           bucket record (JSON)
//! PREFIX/objects/<bucket>/<encoded key>             object record (JSON), see below
//! PREFIX/data/<bucket>/<random id>                  stored bytes of one body or one part
//! PREFIX/uploads/<bucket>/<upload id>/upload        multipart upload record
//! PREFIX/uploads/<bucket>/<upload id>/part-<n>      part record (names its bytes in data/)
//! PREFIX/uploads/<bucket>/<upload id>/claimed       a Complete or Abort holds the upload
//! PREFIX/restores/<bucket>/<sha256 of write id>     archive restore record
//! PREFIX/kms/state                                  KMS state, sealed under the master key
//! ```
//!
//! Object keys are encoded so that the backend's lexicographic listing is the keys' byte
//! order, whatever the key holds: each byte becomes two letters `a`–`p` (its nibbles), cut
//! into path segments of [`SEGMENT`] letters, and the last segment ends with `0`. Every
//! character sorts after `/`, and a record name (ending in `0`) never equals a directory
//! name (letters only), so stores that list directory by directory (SeaweedFS) and stores
//! that list flat (S3) give the same order; a key that is a prefix of another sorts first.

use object_store::path::Path;

/// Letters per path segment (100 key bytes): far below the 255-byte name limit of file
/// systems under object stores.
pub const SEGMENT: usize = 200;

/// The backend paths of one store.
#[derive(Debug, Clone)]
pub struct Layout {
    prefix: String,
}

impl Layout {
    /// Paths under `prefix` (no leading or trailing `/`; may be empty).
    pub fn new(prefix: &str) -> Self {
        Layout {
            prefix: prefix.trim_matches('/').to_owned(),
        }
    }

    fn path(&self, rest: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(rest)
        } else {
            Path::from(format!("{}/{rest}", self.prefix))
        }
    }

    /// Every bucket record.
    pub fn buckets(&self) -> Path {
        self.path("buckets")
    }

    /// One bucket record.
    pub fn bucket(&self, bucket: &str) -> Path {
        self.path(&format!("buckets/{bucket}"))
    }

    /// Every object record of a bucket.
    pub fn objects(&self, bucket: &str) -> Path {
        self.path(&format!("objects/{bucket}"))
    }

    /// One object record.
    pub fn object(&self, bucket: &str, key: &str) -> Path {
        self.path(&format!("objects/{bucket}/{}0", encode(key.as_bytes())))
    }

    /// Where the listing of keys from `start` on begins: every record of a key `>= start`
    /// sorts after this path.
    pub fn objects_from(&self, bucket: &str, start: &str) -> Path {
        self.path(&format!("objects/{bucket}/{}", encode(start.as_bytes())))
    }

    /// The key an object record path names; `None` for anything else.
    pub fn key_of(&self, bucket: &str, record: &Path) -> Option<String> {
        let base = self.objects(bucket);
        let rest = record
            .as_ref()
            .strip_prefix(base.as_ref())?
            .strip_prefix('/')?;
        decode(rest)
    }

    /// Every body and part of a bucket.
    pub fn bucket_data(&self, bucket: &str) -> Path {
        self.path(&format!("data/{bucket}"))
    }

    /// Stored bytes of one body or part.
    pub fn data(&self, bucket: &str, id: &str) -> Path {
        self.path(&format!("data/{bucket}/{id}"))
    }

    /// Every upload of a bucket.
    pub fn uploads(&self, bucket: &str) -> Path {
        self.path(&format!("uploads/{bucket}"))
    }

    /// One upload's directory.
    pub fn upload(&self, bucket: &str, upload_id: &str) -> Path {
        self.path(&format!("uploads/{bucket}/{upload_id}"))
    }

    /// One restore record.
    pub fn restore(&self, bucket: &str, write_id_hash: &str) -> Path {
        self.path(&format!("restores/{bucket}/{write_id_hash}"))
    }

    /// Every restore record of a bucket.
    pub fn restores(&self, bucket: &str) -> Path {
        self.path(&format!("restores/{bucket}"))
    }

    /// Every body and part of every bucket.
    pub fn all_data(&self) -> Path {
        self.path("data")
    }

    /// Every object record of every bucket.
    pub fn all_objects(&self) -> Path {
        self.path("objects")
    }

    /// Every upload of every bucket.
    pub fn all_uploads(&self) -> Path {
        self.path("uploads")
    }

    /// The bucket a path under `objects/`, `uploads/` or `data/` belongs to (`under` is
    /// one of [`Layout::all_objects`], [`Layout::all_uploads`], [`Layout::all_data`]).
    pub fn bucket_under(&self, under: &Path, path: &Path) -> Option<String> {
        let rest = path
            .as_ref()
            .strip_prefix(under.as_ref())?
            .strip_prefix('/')?;
        rest.split_once('/').map(|(bucket, _)| bucket.to_owned())
    }

    /// The sealed KMS state.
    pub fn kms_state(&self) -> Path {
        self.path("kms/state")
    }
}

/// The order-preserving encoding of `bytes` without the final `0` (see the module docs).
fn encode(bytes: &[u8]) -> String {
    let mut letters = String::with_capacity(bytes.len() * 2 + bytes.len() / 100 + 1);
    let mut in_segment = 0;
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            if in_segment == SEGMENT {
                letters.push('/');
                in_segment = 0;
            }
            letters.push(char::from(b'a' + nibble));
            in_segment += 1;
        }
    }
    if in_segment == SEGMENT {
        // A full last segment: the record name is a segment of its own ("0").
        letters.push('/');
    }
    letters
}

/// The key of an encoded record name (with its final `0`); `None` if it is not one.
fn decode(name: &str) -> Option<String> {
    let letters = name.strip_suffix('0')?;
    let mut nibbles = Vec::with_capacity(letters.len());
    let mut in_segment = 0;
    for c in letters.bytes() {
        match c {
            b'/' if in_segment == SEGMENT => in_segment = 0,
            b'a'..=b'p' if in_segment < SEGMENT => {
                nibbles.push(c - b'a');
                in_segment += 1;
            }
            _ => return None,
        }
    }
    if nibbles.len() % 2 != 0 {
        return None;
    }
    let bytes = nibbles.chunks(2).map(|p| (p[0] << 4) | p[1]).collect();
    String::from_utf8(bytes).ok()
}

/// One backend object of a body, and how many stored bytes it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Where its bytes are.
    pub path: Path,
    /// How many.
    pub len: u64,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn segments_and_terminator() {
        let l = Layout::new("/pre/");
        assert_eq!(l.object("b-1", "ab").as_ref(), "pre/objects/b-1/gbgc0");
        assert_eq!(l.object("b-1", "").as_ref(), "pre/objects/b-1/0");
        let full = "x".repeat(SEGMENT / 2);
        let path = l.object("b-1", &full);
        assert!(path.as_ref().ends_with("/0"), "{path}");
        assert_eq!(l.key_of("b-1", &path).as_deref(), Some(full.as_str()));
        assert_eq!(l.key_of("b-1", &Path::from("pre/objects/b-1/gbg0")), None);
        assert_eq!(
            l.key_of("b-1", &Path::from("pre/objects/b-1/gb0"))
                .as_deref(),
            Some("a")
        );
        assert_eq!(l.key_of("b-2", &path), None);
    }

    proptest! {
        /// Record paths sort like their keys, and decode back to them.
        #[test]
        fn order_and_round_trip(a in "\\PC{0,260}", b in "\\PC{0,260}") {
            let l = Layout::new("p");
            let (pa, pb) = (l.object("b", &a), l.object("b", &b));
            prop_assert_eq!(a.as_bytes().cmp(b.as_bytes()), pa.as_ref().cmp(pb.as_ref()));
            prop_assert_eq!(l.key_of("b", &pa), Some(a.clone()));
            // The listing start for `a` sorts before the record of every key >= a.
            if a <= b {
                prop_assert!(l.objects_from("b", &a).as_ref() < pb.as_ref());
            }
        }
    }
}
