//! The named SSE-C customer keys of `fixtures/keys.yaml`.
//!
//! Cases name keys (`sse_c: py_1`, `{{keys.py_1.md5}}`) instead of spelling them, so the
//! documented sample keys are written once. A key that is not 32 bytes is kept on purpose:
//! negative cases send it (`SSEC-KEY`).

use std::collections::BTreeMap;
use std::path::Path;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use md5::{Digest, Md5};
use serde::Deserialize;

/// Base64 that accepts keys with or without `=` padding (the 001 JS sample key has none).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One customer key: its raw bytes and the encodings a client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerKey {
    raw: Vec<u8>,
}

impl CustomerKey {
    /// A key from its raw bytes.
    pub fn from_raw(raw: Vec<u8>) -> Self {
        Self { raw }
    }
    /// The raw key bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
    /// Padded base64, as `x-cos-server-side-encryption-customer-key` usually carries it.
    pub fn base64(&self) -> String {
        STANDARD.encode(&self.raw)
    }
    /// Base64 without `=` padding, as the 001 JS sample sends it (`SSEC-KEY-UNPADDED`).
    pub fn base64_unpadded(&self) -> String {
        STANDARD_NO_PAD.encode(&self.raw)
    }
    /// Base64 of the MD5 of the raw key, the `...-customer-key-MD5` header (`SSEC-MD5`).
    pub fn md5(&self) -> String {
        STANDARD.encode(Md5::digest(&self.raw))
    }
    /// The raw bytes as text (lossy), for `{{keys.NAME.raw}}`.
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

/// Every named key of `fixtures/keys.yaml`.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: BTreeMap<String, CustomerKey>,
}

/// Why `fixtures/keys.yaml` could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML is malformed or has an unknown field.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line of the error.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A key's value is not what its encoding says.
    #[error("{path}: key `{name}`: {message}")]
    Key {
        /// The file.
        path: String,
        /// The key's name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    keys: BTreeMap<String, KeyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    raw: Option<String>,
    base64: Option<String>,
    hex: Option<String>,
    #[allow(dead_code)] // documentation for people reading the file
    source: Option<String>,
}

impl KeyEntry {
    fn decode(self) -> Result<Vec<u8>, String> {
        match (self.raw, self.base64, self.hex) {
            (Some(raw), None, None) => Ok(raw.into_bytes()),
            (None, Some(b64), None) => LENIENT
                .decode(b64.trim())
                .map_err(|e| format!("`base64` is not base64: {e}")),
            (None, None, Some(h)) => {
                hex::decode(h.trim()).map_err(|e| format!("`hex` is not hex: {e}"))
            }
            _ => Err("give exactly one of `raw`, `base64`, `hex`".into()),
        }
    }
}

impl KeyRing {
    /// Loads `fixtures/keys.yaml` (or any file of that shape).
    pub fn load(path: &Path) -> Result<Self, KeysError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeysError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses the text of a keys file; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<Self, KeysError> {
        let file: KeysFile = serde_norway::from_str(text).map_err(|e| KeysError::Parse {
            path: path.to_string(),
            line: e.location().map_or(0, |l| l.line()),
            message: e.to_string(),
        })?;
        let mut keys = BTreeMap::new();
        for (name, entry) in file.keys {
            let raw = entry.decode().map_err(|message| KeysError::Key {
                path: path.to_string(),
                name: name.clone(),
                message,
            })?;
            keys.insert(name, CustomerKey::from_raw(raw));
        }
        Ok(Self { keys })
    }

    /// The key called `name`.
    pub fn get(&self, name: &str) -> Option<&CustomerKey> {
        self.keys.get(name)
    }

    /// Every key name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}

/// The forms of a customer key that must never come back (SSEC-NOT-STORED), named: what
/// the leak scan looks for and what the redaction scrubs.
pub fn key_forms(key: &CustomerKey) -> Vec<(&'static str, Vec<u8>)> {
    let md5 = Md5::digest(key.raw());
    vec![
        ("raw", key.raw().to_vec()),
        ("base64", key.base64().into_bytes()),
        ("base64 unpadded", key.base64_unpadded().into_bytes()),
        (MD5_BASE64, STANDARD.encode(md5).into_bytes()),
        (
            "key-MD5 base64 unpadded",
            STANDARD
                .encode(md5)
                .trim_end_matches('=')
                .as_bytes()
                .to_vec(),
        ),
        ("key-MD5 hex", hex::encode(md5).into_bytes()),
    ]
}

/// The form name of the key MD5 as SSE-C headers carry it.
pub(crate) const MD5_BASE64: &str = "key-MD5 base64";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_sample_key_md5_matches_the_documented_value() {
        // 001's sample: unpadded key, SSECustomerKeyMD5 U5L61r7jcwdNvT7frmUG8g==
        let ring = KeyRing::parse(
            "k.yaml",
            "keys:\n  js:\n    base64: MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY\n",
        )
        .unwrap();
        let key = ring.get("js").unwrap();
        assert_eq!(key.raw().len(), 32);
        assert_eq!(key.md5(), "U5L61r7jcwdNvT7frmUG8g==");
        assert_eq!(
            key.base64_unpadded(),
            "MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY"
        );
        assert!(key.base64().ends_with('='));
    }

    #[test]
    fn a_key_with_two_encodings_is_refused() {
        let err = KeyRing::parse("k.yaml", "keys:\n  k:\n    raw: a\n    hex: '61'\n").unwrap_err();
        assert!(err.to_string().contains("exactly one"), "{err}");
    }
}
