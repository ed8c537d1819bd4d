//! What a gateway remembers of the versions it recently wrote or read, so that a read of
//! such a key fetches the bytes it needs alongside the record instead of after it.
//!
//! A GET needs the object's record before it knows which body object to read: two backend
//! round trips, one after the other. For each key it wrote or read recently, a gateway
//! remembers which body the record named and how that body's stored bytes follow from
//! its plaintext. The next read of that key by the bucket's owner
//! ([`crate::store::Store::open_object_for_owner`]) is told which plaintext bytes it will
//! read (a Range GET's range, or all of them), and sends the request for the stored bytes
//! they need (the chunks a range covers, or a whole read's first window) at the same time
//! as the record reads; the bytes are used only when the record it reads in that same
//! request names the same body. Other callers are authorized first: a refused request
//! never makes the backend send a body. A body object is written once, under a random id,
//! and never rewritten, so bytes of the body a fresh record names are that version's
//! bytes: nothing is served that the record read in the request would not have led to,
//! and a change through another gateway is seen by the next request as it is without the
//! hint. A stale hint (the object replaced) costs one ranged read that is dropped.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;
use std::sync::Mutex;

use super::keys::Segment;
use crate::store::{sealed, BodyFormat, ObjectRecord};

/// How many keys a gateway remembers (the oldest is forgotten first): a few hundred
/// bytes each.
pub const MAX_HINTS: usize = 4096;

/// How a body's stored bytes follow from its plaintext, as far as a read's plan needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The stored bytes are the plaintext.
    Plain,
    /// The chunked AEAD format (RANGE: a range needs the chunks it covers).
    Chunked,
    /// A completed multipart object's parts: only a read from the start is planned.
    Parts,
}

impl Layout {
    /// The layout of a body stored in `format`.
    pub fn of(format: &BodyFormat) -> Layout {
        match format {
            BodyFormat::Plain => Layout::Plain,
            BodyFormat::Chunked { .. } => Layout::Chunked,
            BodyFormat::Parts { .. } => Layout::Parts,
        }
    }
}

/// The body a key's record named when it was last written or read here.
#[derive(Debug, Clone)]
pub struct Hint {
    /// The body's backend objects.
    pub body: Vec<Segment>,
    /// The object's plaintext size.
    pub size: u64,
    /// How its stored bytes follow from its plaintext.
    pub layout: Layout,
}

impl Hint {
    /// The hint for a version with `record`, stored as `body`.
    pub fn of(record: &ObjectRecord, body: Vec<Segment>) -> Hint {
        Hint {
            body,
            size: record.meta.size,
            layout: Layout::of(&record.body.format),
        }
    }

    /// The stored bytes a read of `plain` (within the object) needs, as the object's
    /// decoder will ask for them; `None` when that is not known without the record (a
    /// multipart object read from elsewhere than its start) or nothing is read.
    pub fn stored_span(&self, plain: Range<u64>) -> Option<Range<u64>> {
        if plain.start >= plain.end || plain.end > self.size {
            return None;
        }
        let stored_len: u64 = self.body.iter().map(|s| s.len).sum();
        match self.layout {
            Layout::Plain => Some(plain),
            Layout::Chunked => {
                let plan = sealed::plan(self.size, plain).ok()?;
                Some(plan.ciphertext_offset..plan.ciphertext_offset + plan.ciphertext_len)
            }
            Layout::Parts => (plain.start == 0).then_some(0..stored_len),
        }
    }
}

/// Hints by bucket and key, at most [`MAX_HINTS`].
#[derive(Debug, Default)]
pub struct ReadHints {
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_key: HashMap<(String, String), Hint>,
    /// Keys in the order they were first remembered (may hold keys forgotten since).
    order: VecDeque<(String, String)>,
}

impl ReadHints {
    /// The hint for a key, if one is remembered.
    pub fn get(&self, bucket: &str, key: &str) -> Option<Hint> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .by_key
            .get(&(bucket.to_owned(), key.to_owned()))
            .cloned()
    }

    /// Remembers the version of a key written or read last.
    pub fn remember(&self, bucket: &str, key: &str, hint: Hint) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let id = (bucket.to_owned(), key.to_owned());
        if entries.by_key.insert(id.clone(), hint).is_none() {
            entries.order.push_back(id);
        }
        while entries.by_key.len() > MAX_HINTS {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            entries.by_key.remove(&oldest);
        }
        // Keys forgotten and remembered again leave stale places in the order: keep
        // one place per remembered key.
        if entries.order.len() > 2 * MAX_HINTS {
            let Entries { by_key, order } = &mut *entries;
            let mut placed = HashSet::new();
            order.retain(|id| by_key.contains_key(id) && placed.insert(id.clone()));
        }
    }

    /// Forgets a key (it has no object).
    pub fn forget(&self, bucket: &str, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.by_key.remove(&(bucket.to_owned(), key.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(n: u64) -> Hint {
        Hint {
            body: vec![Segment {
                path: format!("data/b/{n}").into(),
                len: 10,
            }],
            size: 10,
            layout: Layout::Plain,
        }
    }

    fn remembered(hints: &ReadHints) -> usize {
        hints.entries.lock().unwrap().by_key.len()
    }

    #[test]
    fn at_most_max_hints_keys_are_remembered_and_the_oldest_go_first() {
        let hints = ReadHints::default();
        for n in 0..(MAX_HINTS as u64 + 10) {
            hints.remember("b", &format!("k{n}"), hint(n));
        }
        assert_eq!(remembered(&hints), MAX_HINTS);
        assert!(hints.get("b", "k0").is_none());
        assert!(hints.get("b", "k9").is_none());
        assert!(hints.get("b", "k10").is_some());
        // Remembering a key again replaces its hint without taking a second place.
        hints.remember("b", "k10", hint(99));
        assert_eq!(
            hints.get("b", "k10").unwrap().body[0].path.as_ref(),
            "data/b/99"
        );
        assert_eq!(remembered(&hints), MAX_HINTS);
    }

    #[test]
    fn forgetting_and_remembering_again_keeps_the_order_bounded() {
        let hints = ReadHints::default();
        for round in 0..(3 * MAX_HINTS as u64) {
            hints.remember("b", "k", hint(round));
            hints.forget("b", "k");
        }
        let entries = hints.entries.lock().unwrap();
        assert!(
            entries.order.len() <= 2 * MAX_HINTS + 1,
            "{}",
            entries.order.len()
        );
    }

    #[test]
    fn a_range_of_a_plain_body_is_the_same_stored_bytes() {
        let hint = Hint {
            size: 10,
            ..hint(1)
        };
        assert_eq!(hint.stored_span(3..4), Some(3..4));
        assert_eq!(hint.stored_span(0..10), Some(0..10));
        assert_eq!(hint.stored_span(4..4), None, "nothing read");
        assert_eq!(hint.stored_span(9..11), None, "past the object");
    }

    #[test]
    fn a_range_of_a_chunked_body_needs_the_chunks_it_covers() {
        let chunk = cos_emulator_crypto::CHUNK_SIZE as u64;
        let size = 3 * chunk;
        let stored = cos_emulator_crypto::ciphertext_len(size).unwrap();
        let hint = Hint {
            body: vec![Segment {
                path: "data/b/1".into(),
                len: stored,
            }],
            size,
            layout: Layout::Chunked,
        };
        let plan = sealed::plan(size, chunk + 5..chunk + 6).unwrap();
        let (at, len) = (plan.ciphertext_offset, plan.ciphertext_len);
        assert_eq!(hint.stored_span(chunk + 5..chunk + 6), Some(at..at + len));
        assert!(at > chunk && len < 2 * chunk, "one chunk: {at}+{len}");
        assert_eq!(hint.stored_span(0..size), Some(0..stored));
    }

    #[test]
    fn a_multipart_body_is_planned_only_from_its_start() {
        let hint = Hint {
            layout: Layout::Parts,
            ..hint(1)
        };
        assert_eq!(hint.stored_span(0..3), Some(0..10));
        assert_eq!(hint.stored_span(3..4), None);
    }
}
