//! The one paging walk of the bucket listings (GET Bucket and List Multipart Uploads):
//! keys under `prefix`, rolled up at `delimiter` into common prefixes, resumed after a
//! marker, cut at `max` entries. Both listings used to carry their own copy, and the copy in
//! List Multipart Uploads resumed *inside* a common prefix it had already returned as
//! `NextKeyMarker`, so a client paging to the end never ended. One walk, one
//! behaviour: a marker that is itself a common prefix skips that whole group.

/// The paging parameters shared by the listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// Only keys starting with this are listed.
    pub prefix: String,
    /// Keys with this after the prefix are rolled up into a common prefix ("" = none).
    pub delimiter: String,
    /// The key marker the client resumes after (a key or a common prefix; "" = start).
    pub marker: String,
    /// The most entries (keys plus common prefixes) on one page.
    pub max: usize,
}

/// One entry of a page: an item (object or upload) or a common prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<T> {
    /// A listed item.
    Item(T),
    /// A common prefix (ends with the delimiter).
    Prefix(String),
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The entries, in key order.
    pub entries: Vec<Entry<T>>,
    /// Whether more entries follow.
    pub truncated: bool,
}

impl Paging {
    /// The common prefix `key` rolls up into, if any (`None` for a key outside the prefix).
    pub fn common_prefix(&self, key: &str) -> Option<String> {
        if self.delimiter.is_empty() {
            return None;
        }
        let rest = key.strip_prefix(self.prefix.as_str())?;
        rest.find(&self.delimiter)
            .map(|i| key[..self.prefix.len() + i + self.delimiter.len()].to_string())
    }

    /// Walks `items`: (key, item) in ascending key order, every one already after the
    /// marker (the caller's store or filter decides "after", e.g. with an upload-id marker).
    /// Keys outside the prefix are skipped; keys inside the group the marker names are
    /// skipped (the marker was a `NextMarker` common prefix); the walk stops at the first
    /// entry beyond `max`, which only marks the page truncated.
    pub fn walk<T, E>(
        &self,
        items: impl IntoIterator<Item = Result<(String, T), E>>,
    ) -> Result<Page<T>, E> {
        let mut entries = Vec::new();
        let mut last_prefix = self
            .common_prefix(&self.marker)
            .filter(|cp| *cp == self.marker);
        for item in items {
            let (key, item) = item?;
            if !key.starts_with(self.prefix.as_str()) {
                continue;
            }
            let cp = self.common_prefix(&key);
            if cp.is_some() && cp == last_prefix {
                continue;
            }
            if entries.len() == self.max {
                return Ok(Page {
                    entries,
                    truncated: true,
                });
            }
            match cp {
                Some(cp) => {
                    last_prefix = Some(cp.clone());
                    entries.push(Entry::Prefix(cp));
                }
                None => entries.push(Entry::Item(item)),
            }
        }
        Ok(Page {
            entries,
            truncated: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn paging(prefix: &str, delimiter: &str, marker: &str, max: usize) -> Paging {
        Paging {
            prefix: prefix.into(),
            delimiter: delimiter.into(),
            marker: marker.into(),
            max,
        }
    }

    /// Pages through `keys` the way a client does, feeding each NextMarker back; returns
    /// every entry seen, failing if a page repeats its marker (a client paging forever).
    fn page_to_end(keys: &[&str], p: Paging) -> Vec<String> {
        let mut p = p;
        let mut seen = Vec::new();
        for _ in 0..=keys.len() + 1 {
            let after = keys
                .iter()
                .filter(|k| **k > p.marker.as_str())
                .map(|k| Ok::<_, Infallible>((k.to_string(), k.to_string())));
            let page = p.walk(after).unwrap();
            let names: Vec<String> = page
                .entries
                .into_iter()
                .map(|e| match e {
                    Entry::Item(k) | Entry::Prefix(k) => k,
                })
                .collect();
            let next = names.last().cloned();
            seen.extend(names);
            if !page.truncated {
                return seen;
            }
            let next = next.expect("a truncated page has entries");
            assert_ne!(
                next, p.marker,
                "NextMarker repeats the marker: a paging loop"
            );
            p.marker = next;
        }
        panic!("paging did not end");
    }

    #[test]
    fn a_prefix_marker_skips_its_group() {
        let keys = ["a/1", "a/2", "a/3", "b/1", "b/2", "c"];
        let seen = page_to_end(&keys, paging("", "/", "", 1));
        assert_eq!(seen, ["a/", "b/", "c"]);
    }

    #[test]
    fn a_key_marker_inside_a_group_lists_the_group_again() {
        // A marker that is a key (not a NextMarker prefix) resumes after that key, and the
        // rest of its group is still a common prefix.
        let p = paging("", "/", "a/1", 10);
        let items = ["a/2", "b"].map(|k| Ok::<_, Infallible>((k.to_string(), k)));
        let page = p.walk(items).unwrap();
        assert_eq!(page.entries, [Entry::Prefix("a/".into()), Entry::Item("b")]);
    }

    #[test]
    fn keys_outside_the_prefix_never_panic() {
        // Multi-byte prefix and keys shorter than it: skipped, not sliced.
        let p = paging("é/", "/", "", 10);
        let items =
            ["", "é", "éx", "é/a/b", "é/c"].map(|k| Ok::<_, Infallible>((k.to_string(), k)));
        let page = p.walk(items).unwrap();
        assert_eq!(
            page.entries,
            [Entry::Prefix("é/a/".into()), Entry::Item("é/c")]
        );
    }

    #[test]
    fn max_zero_is_an_empty_truncated_page() {
        let p = paging("", "", "", 0);
        let page = p
            .walk([Ok::<_, Infallible>(("k".to_string(), ()))])
            .unwrap();
        assert!(page.entries.is_empty() && page.truncated);
    }
}
