//! The two content-encryption algorithms COS offers (COS-ALG, KMS-ALG, SSEC-ALG).

use serde::{Deserialize, Serialize};

/// A content-encryption algorithm, named as COS names it on the wire.
///
/// `AES256` is AES-256-GCM (`ring`); `SM4` is SM4-GCM as in RFC 8998 (`cos-sm4-simd`'s
/// constant-time SM4 and counter mode under GHASH from the `ghash` crate, composed in
/// `stream::sm4_gcm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// AES-256-GCM; the default wherever COS lets the algorithm be omitted (COS-ALG).
    #[serde(rename = "AES256")]
    Aes256,
    /// SM4-GCM (128-bit SM4 key, 96-bit nonce, 128-bit tag).
    #[serde(rename = "SM4")]
    Sm4,
}

impl Algorithm {
    /// The wire spelling: `AES256` or `SM4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Aes256 => "AES256",
            Algorithm::Sm4 => "SM4",
        }
    }

    /// Parses the exact wire spelling (case-sensitive, as COS-ALG-INVALID requires:
    /// `aes256` is not `AES256`).
    pub fn from_wire(value: &str) -> Option<Self> {
        match value {
            "AES256" => Some(Algorithm::Aes256),
            "SM4" => Some(Algorithm::Sm4),
            _ => None,
        }
    }

    /// The one-byte identifier bound into every chunk's AAD.
    pub(crate) fn id(self) -> u8 {
        match self {
            Algorithm::Aes256 => 1,
            Algorithm::Sm4 => 2,
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
