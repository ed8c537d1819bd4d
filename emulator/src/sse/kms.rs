//! SSE-KMS headers: key id, encryption context and algorithm (KMS-KEY-ID, KMS-CONTEXT,
//! KMS-ALG). Whether the key exists and is enabled is the KMS's answer, not the parser's.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use cos_emulator_crypto::Algorithm;
use serde::de::{Deserializer, MapAccess, Visitor};

use super::cos::printable;
use super::customer::BASE64_ANY_PADDING;
use super::error::SseError;
use super::fields::{single, NamedValues};
use super::names::{KMS_ALGORITHM, KMS_CONTEXT, KMS_KEY_ID};
use super::SseRequest;

/// Largest decoded context accepted. Tencent KMS does not document a limit; 8 KiB is
/// far above any real context and keeps one header from costing unbounded work.
pub const MAX_CONTEXT_BYTES: usize = 8 * 1024;

/// The KMS-only headers present in the request, in a fixed order.
pub(crate) fn present_headers<F: NamedValues + ?Sized>(
    fields: &F,
) -> Result<Vec<&'static str>, SseError> {
    let mut present = Vec::new();
    for name in [KMS_KEY_ID, KMS_CONTEXT, KMS_ALGORITHM] {
        if single(fields, name)?.is_some() {
            present.push(name);
        }
    }
    Ok(present)
}

/// Parses the KMS headers of a request whose mode is `cos/kms`.
pub fn parse<F: NamedValues + ?Sized>(fields: &F) -> Result<SseRequest, SseError> {
    let key_id = match single(fields, KMS_KEY_ID)? {
        Some("") => return Err(SseError::KmsKeyIdEmpty { header: KMS_KEY_ID }),
        Some(id) => Some(id.to_owned()),
        None => None,
    };
    let context = match single(fields, KMS_CONTEXT)? {
        Some(value) => parse_context(value)?,
        None => BTreeMap::new(),
    };
    let algorithm = match single(fields, KMS_ALGORITHM)? {
        None => Algorithm::Aes256,
        Some(value) => Algorithm::from_wire(value).ok_or_else(|| SseError::KmsAlgorithm {
            header: KMS_ALGORITHM,
            value: printable(value),
        })?,
    };
    Ok(SseRequest::Kms {
        key_id,
        context,
        algorithm,
    })
}

/// KMS-CONTEXT: base64 (padded or not) of a JSON object whose values are all strings.
/// Not base64, not JSON, not an object, a non-string value or a repeated key is refused.
pub fn parse_context(value: &str) -> Result<BTreeMap<String, String>, SseError> {
    let bad = |reason: String| SseError::KmsContext {
        header: KMS_CONTEXT,
        reason,
    };
    if value.len() > MAX_CONTEXT_BYTES * 4 / 3 + 4 {
        return Err(bad(format!("longer than {MAX_CONTEXT_BYTES} bytes")));
    }
    let json = BASE64_ANY_PADDING
        .decode(value.as_bytes())
        .map_err(|_| bad("not base64".into()))?;
    let mut de = serde_json::Deserializer::from_slice(&json);
    // The reason is fixed per kind of failure: serde_json's own message quotes the
    // offending value (`invalid type: integer `987654321``), and the context is a secret
    // (KMS-CONTEXT; `redact.rs`), so it never reaches the refusal or the logs.
    let map = de.deserialize_map(PairsVisitor).map_err(|e| {
        bad(match e.classify() {
            serde_json::error::Category::Data => {
                "not an object of string values with distinct keys".into()
            }
            _ => "not JSON".into(),
        })
    })?;
    de.end()
        .map_err(|_| bad("trailing bytes after the JSON object".into()))?;
    Ok(map)
}

/// Reads a JSON object of string values, refusing repeated keys (serde_json would keep
/// the last one silently, so two clients could mean different contexts by one header).
struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = BTreeMap<String, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object whose values are strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = BTreeMap::new();
        while let Some((k, v)) = access.next_entry::<String, String>()? {
            if map.contains_key(&k) {
                return Err(serde::de::Error::custom("a key is repeated"));
            }
            map.insert(k, v);
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    #[test]
    fn kms_context_accepts_objects_of_strings() {
        let ctx = parse_context(&b64(r#"{"project":"a","x":"1"}"#)).unwrap();
        assert_eq!(ctx.len(), 2);
        assert_eq!(ctx["project"], "a");
        assert!(parse_context(&b64("{}")).unwrap().is_empty());
        assert_eq!(
            parse_context(&STANDARD_NO_PAD.encode(r#"{"a":"b"}"#)).unwrap()["a"],
            "b"
        );
        // The 001/004 sample context.
        let sample = parse_context(&b64(r#"{"test":"test"}"#)).unwrap();
        assert_eq!(sample["test"], "test");
    }

    #[test]
    fn kms_context_refuses_everything_else() {
        for bad in [
            "not base64!".to_string(),
            String::new(),
            b64("not json"),
            b64("[]"),
            b64(r#""a""#),
            b64(r#"{"a":1}"#),
            b64(r#"{"a":null}"#),
            b64(r#"{"a":{"b":"c"}}"#),
            b64(r#"{"a":"b","a":"c"}"#),
            b64(r#"{"a":"b"} x"#),
            b64(r#"{"a":"b""#),
            b64(&format!(r#"{{"a":"{}"}}"#, "x".repeat(MAX_CONTEXT_BYTES))),
        ] {
            let e = parse_context(&bad).unwrap_err();
            assert_eq!(e.rule(), "KMS-CONTEXT", "{bad:?}");
            assert_eq!(e.code(), crate::error::ErrorCode::InvalidArgument);
        }
    }
}
