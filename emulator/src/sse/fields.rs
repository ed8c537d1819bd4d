//! The input of SSE parsing: named string values, from request headers or from the form
//! fields of POST Object (POST-FORM: the same names, the same rules).

use http::HeaderMap;

use super::error::SseError;

/// A source of named values (HTTP headers, POST form fields). Names are matched
/// ASCII-case-insensitively, as HTTP header names are.
pub trait NamedValues {
    /// Every value given under `name` (lower-case), in order; `None` for a value that is
    /// not text (a header value with bytes outside visible ASCII and UTF-8).
    fn values(&self, name: &str) -> Vec<Option<&str>>;
}

impl NamedValues for HeaderMap {
    fn values(&self, name: &str) -> Vec<Option<&str>> {
        self.get_all(name)
            .iter()
            .map(|v| std::str::from_utf8(v.as_bytes()).ok())
            .collect()
    }
}

/// POST Object form fields as `(name, value)` pairs, in the order received.
impl NamedValues for [(String, String)] {
    fn values(&self, name: &str) -> Vec<Option<&str>> {
        self.iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| Some(v.as_str()))
            .collect()
    }
}

impl NamedValues for Vec<(String, String)> {
    fn values(&self, name: &str) -> Vec<Option<&str>> {
        self.as_slice().values(name)
    }
}

/// The single value of `name`, `None` when absent. A repeated name or a value that is
/// not text is refused rather than guessed at.
pub(crate) fn single<'a, F: NamedValues + ?Sized>(
    fields: &'a F,
    name: &'static str,
) -> Result<Option<&'a str>, SseError> {
    let values = fields.values(name);
    match values.as_slice() {
        [] => Ok(None),
        [Some(v)] => Ok(Some(v)),
        [None] => Err(SseError::NotText { header: name }),
        _ => Err(SseError::Repeated { header: name }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn header_names_are_case_insensitive_and_repeats_refused() {
        let mut h = HeaderMap::new();
        h.insert("X-Cos-Meta-A", HeaderValue::from_static("1"));
        assert_eq!(single(&h, "x-cos-meta-a").unwrap(), Some("1"));
        assert_eq!(single(&h, "x-cos-meta-b").unwrap(), None);
        h.append("x-cos-meta-a", HeaderValue::from_static("2"));
        assert!(matches!(
            single(&h, "x-cos-meta-a"),
            Err(SseError::Repeated { .. })
        ));
    }

    #[test]
    fn non_text_header_values_are_refused() {
        let mut h = HeaderMap::new();
        h.insert("x-a", HeaderValue::from_bytes(b"\xff\xfe").unwrap());
        assert!(matches!(single(&h, "x-a"), Err(SseError::NotText { .. })));
    }

    #[test]
    fn form_fields_match_case_insensitively() {
        let form = vec![(
            "X-Cos-Server-Side-Encryption".to_string(),
            "AES256".to_string(),
        )];
        assert_eq!(
            single(&form, "x-cos-server-side-encryption").unwrap(),
            Some("AES256")
        );
    }
}
