//! What a gateway remembers of its recent reads, so that a read of a key it read before
//! fetches the body alongside the record instead of after it.
//!
//! A GET needs the object's record before it knows which body object to read: two backend
//! round trips, one after the other. For each key it read recently, a gateway remembers
//! which body the record named and which window of it the read fetched first. The next
//! read of that key by the bucket's owner ([`crate::store::Store::open_object_for_owner`])
//! sends the request for that window at the same time as the record reads, and uses the
//! bytes only when the record it reads in that same request names the same body. Other
//! callers are authorized first: a refused request never makes the backend send a body. A body object is written once, under a random id, and never rewritten, so
//! bytes of the body a fresh record names are that version's bytes: nothing is served
//! that the record read in the request would not have led to, and a change through
//! another gateway is seen by the next request as it is without the hint. A stale hint
//! (the object replaced, or another part of it read) costs one ranged read that is
//! dropped.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use object_store::path::Path;

use super::keys::Segment;

/// How many keys a gateway remembers (the oldest is forgotten first): a few hundred
/// bytes each.
pub const MAX_HINTS: usize = 4096;

/// A window of a body: where the reader was (`at`, in the body's stored bytes) and the
/// backend object and byte range it fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Offset in the body's stored bytes (across its segments).
    pub at: u64,
    /// The backend object.
    pub path: Path,
    /// First byte fetched, within that object.
    pub from: u64,
    /// One past the last byte fetched.
    pub to: u64,
}

/// The body a key's record named when it was last read, and the window that read fetched
/// first.
#[derive(Debug, Clone)]
pub struct Hint {
    /// The body's backend objects.
    pub body: Vec<Segment>,
    /// The window fetched first.
    pub window: Window,
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

    /// Remembers what a read of a key fetched first.
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
        let path = Path::from(format!("data/b/{n}"));
        Hint {
            body: vec![Segment {
                path: path.clone(),
                len: 10,
            }],
            window: Window {
                at: 0,
                path,
                from: 0,
                to: 10,
            },
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
            hints.get("b", "k10").unwrap().window.path.as_ref(),
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
}
