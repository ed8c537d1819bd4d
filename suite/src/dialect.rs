//! The wire dialects an endpoint may speak, and the one place where the COS terms the cases
//! are written in become S3 terms and back.
//!
//! Cases are written once, in COS terms (`x-cos-*` headers, `cos/kms`). Against an endpoint
//! whose profile says `dialect: s3`:
//! - every request header name and value the runner built passes through [`to_s3_header`]
//!   and [`to_s3_value`] before it is signed (SigV4, `suite/src/client/sigv4.rs`);
//! - every response is read through [`cos_view`] (S3 names and values back to COS ones), so
//!   expectations, templates (`{{steps.x.headers.x-cos-...}}`), the leak scan and the
//!   integrity checks read it as written, while the reports keep the exchange as it was on
//!   the wire;
//! - error codes are mapped by `cases/codes.yaml` (each situation's `s3:` answer, applied
//!   where every expected code passes: `crate::codes::CodePolicy::apply`);
//! - a rule that has no meaning in S3 (its `s3: {not-applicable: ...}` in `cases/rules.yaml`,
//!   [`Applicability`]) makes its cases not-applicable with that reason.
//!
//! The name table follows the COS Java SDK, a fork of the AWS SDK whose renamed constants
//! give the pairs (shared COS-BEYOND-SEEDS.md §1): `x-amz-X` ↔ `x-cos-X`, except the KMS key
//! id, `x-amz-server-side-encryption-aws-kms-key-id` ↔ `x-cos-server-side-encryption-cos-kms-key-id`;
//! and the mode value `aws:kms` ↔ `cos/kms`.

use serde::{Deserialize, Serialize};

/// The protocol family an endpoint speaks (profile `dialect:`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// The COS XML API with COS v5 (`q-sign`) signatures: the cases as written.
    #[default]
    Cos,
    /// The S3 API: SigV4 signatures, `x-amz-*` headers, `aws:kms`, S3 error codes.
    S3,
}

impl Dialect {
    /// `cos` or `s3`, as in profiles and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Cos => "cos",
            Dialect::S3 => "s3",
        }
    }
}

/// How a bucket is named in a request (S3 dialect; COS is always virtual-host).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Addressing {
    /// `bucket.host/key`: the endpoint template has `{bucket}` in its host.
    #[default]
    Virtual,
    /// `host/bucket/key`: the endpoint template has no `{bucket}`.
    Path,
}

const COS_PREFIX: &str = "x-cos-";
const S3_PREFIX: &str = "x-amz-";
const COS_KMS_KEY_ID: &str = "x-cos-server-side-encryption-cos-kms-key-id";
const S3_KMS_KEY_ID: &str = "x-amz-server-side-encryption-aws-kms-key-id";
/// The SSE mode header (COS name), whose value `cos/kms` is `aws:kms` in S3.
const COS_SSE: &str = "x-cos-server-side-encryption";
const S3_SSE: &str = "x-amz-server-side-encryption";
/// The SSE-KMS mode value in each dialect.
pub const COS_KMS: &str = "cos/kms";
/// The SSE-KMS mode value of S3.
pub const S3_KMS: &str = "aws:kms";

/// The S3 name of a header the case names in COS terms (names of other headers, `Range`,
/// `Content-Type`..., are the same in both). Case is kept for the part after the prefix.
pub fn to_s3_header(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower == COS_KMS_KEY_ID {
        return S3_KMS_KEY_ID.to_string();
    }
    match lower.strip_prefix(COS_PREFIX) {
        Some(_) => format!("{S3_PREFIX}{}", &name[COS_PREFIX.len()..]),
        None => name.to_string(),
    }
}

/// The COS name of a header an S3 endpoint sent (the inverse of [`to_s3_header`]).
pub fn to_cos_header(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower == S3_KMS_KEY_ID {
        return COS_KMS_KEY_ID.to_string();
    }
    match lower.strip_prefix(S3_PREFIX) {
        Some(_) => format!("{COS_PREFIX}{}", &name[S3_PREFIX.len()..]),
        None => name.to_string(),
    }
}

/// The S3 value of a header (or POST form field) given its COS name: `cos/kms` → `aws:kms`
/// in the SSE mode header (KMS-VALUE); every other value is the same in both dialects.
pub fn to_s3_value(cos_name: &str, value: &str) -> String {
    if cos_name.eq_ignore_ascii_case(COS_SSE) && value.trim() == COS_KMS {
        S3_KMS.to_string()
    } else {
        value.to_string()
    }
}

/// The COS value of a header given its S3 name: `aws:kms` → `cos/kms` in the SSE mode header.
pub fn to_cos_value(s3_name: &str, value: &str) -> String {
    if s3_name.eq_ignore_ascii_case(S3_SSE) && value.trim() == S3_KMS {
        COS_KMS.to_string()
    } else {
        value.to_string()
    }
}

/// `SSEAlgorithm` naming SSE-KMS in a bucket encryption document: `KMS` in COS's
/// (PUT/GET Bucket encryption), `aws:kms` in S3's (PutBucketEncryption); every other
/// element and value is spelled the same in both.
const COS_KMS_ALGORITHM: &str = "<SSEAlgorithm>KMS</SSEAlgorithm>";
const S3_KMS_ALGORITHM: &str = "<SSEAlgorithm>aws:kms</SSEAlgorithm>";

/// Whether a request whose query parameters are `names` addresses the bucket encryption
/// sub-resource (`?encryption`): the only requests, and answers, whose bodies differ
/// between the dialects, so the only bodies [`to_s3_body`] and [`cos_view_body`] need
/// to read.
pub fn is_bucket_encryption<'a>(mut names: impl Iterator<Item = &'a str>) -> bool {
    names.any(|n| n == "encryption")
}

/// A request body in COS terms → S3 terms: a bucket encryption document's SSE-KMS
/// `SSEAlgorithm`; `None` when nothing changes (every other body is the same in both).
pub fn to_s3_body(body: &[u8]) -> Option<Vec<u8>> {
    replace_all(body, COS_KMS_ALGORITHM, S3_KMS_ALGORITHM)
}

/// A response body an S3 endpoint sent, read in COS terms (the counterpart of
/// [`to_s3_body`]): what the cases' `xml:` expectations see.
pub fn cos_view_body(body: &[u8]) -> Option<Vec<u8>> {
    replace_all(body, S3_KMS_ALGORITHM, COS_KMS_ALGORITHM)
}

/// `body` with every `from` replaced by `to`, or `None` when it has none.
fn replace_all(body: &[u8], from: &str, to: &str) -> Option<Vec<u8>> {
    let from = from.as_bytes();
    let first = body.windows(from.len()).position(|w| w == from)?;
    let mut out = body[..first].to_vec();
    let mut rest = &body[first..];
    while !rest.is_empty() {
        if rest.starts_with(from) {
            out.extend_from_slice(to.as_bytes());
            rest = &rest[from.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    Some(out)
}

/// Request headers (or form fields) in COS terms → S3 terms.
pub fn to_s3_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| (to_s3_header(k), to_s3_value(k, v)))
        .collect()
}

/// Headers an S3 endpoint sent (or an S3 request carried) read in COS terms: what the
/// cases' expectations, templates, the leak scan and the integrity checks see. A header
/// that is already `x-cos-*` (a COS endpoint answering an S3 request) is kept under a name
/// no case expects, so it is never mistaken for the S3 answer.
pub fn cos_view(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            if k.to_ascii_lowercase().starts_with(COS_PREFIX) {
                (format!("s3-dialect-unmapped-{k}"), v.clone())
            } else {
                (to_cos_header(k), to_cos_value(k, v))
            }
        })
        .collect()
}

/// COS response headers S3 has no counterpart of: a case that expects one cannot be judged
/// against an S3 endpoint (its CRC-64, the KMS data-key algorithm).
pub const COS_ONLY_HEADERS: &[&str] = &[
    "x-cos-hash-crc64ecma",
    "x-cos-server-side-encryption-cos-kms-algorithm",
];

/// S3's smallest part but the last (COS's is 1 MiB): S3 refuses the Complete of an upload
/// with a smaller one (EntityTooSmall).
pub const S3_MIN_PART: u64 = 5 * 1024 * 1024;

/// Whether a query parameter is part of a presigned URL's signature in either dialect
/// (`q-*` of COS, `X-Amz-*` of SigV4): not a sub-resource.
pub fn is_signature_param(name: &str) -> bool {
    name.starts_with("q-") || name.to_ascii_lowercase().starts_with("x-amz-")
}

/// Whether and how a rule of `cases/rules.yaml` applies in the S3 dialect (its `s3:` field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// The rule means the same in S3 (`s3: applies`), or (`s3: {applies: "how"}`) with the
    /// note saying what changes (the header names, a value).
    Applies(Option<String>),
    /// The rule is COS-only (`s3: {not-applicable: "why"}`): its cases are reported
    /// not-applicable with this reason in the S3 dialect.
    NotApplicable(String),
}

impl Applicability {
    /// The reason, when the rule does not apply.
    pub fn not_applicable(&self) -> Option<&str> {
        match self {
            Applicability::NotApplicable(why) => Some(why),
            Applicability::Applies(_) => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawApplicability {
    Word(String),
    Map(RawApplicabilityMap),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawApplicabilityMap {
    applies: Option<String>,
    not_applicable: Option<String>,
}

impl<'de> Deserialize<'de> for Applicability {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        const EXPECTED: &str =
            "`applies`, `{applies: \"<how>\"}` or `{not-applicable: \"<reason>\"}`";
        match RawApplicability::deserialize(d)
            .map_err(|_| D::Error::custom(format!("s3: expected {EXPECTED}")))?
        {
            RawApplicability::Word(w) if w == "applies" => Ok(Applicability::Applies(None)),
            RawApplicability::Word(w) => Err(D::Error::custom(format!(
                "s3: `{w}` is not {EXPECTED}"
            ))),
            RawApplicability::Map(m) => match (m.applies, m.not_applicable) {
                (Some(how), None) if !how.trim().is_empty() => {
                    Ok(Applicability::Applies(Some(how)))
                }
                (None, Some(why)) if !why.trim().is_empty() => {
                    Ok(Applicability::NotApplicable(why))
                }
                _ => Err(D::Error::custom(format!(
                    "s3: give exactly one of `applies` or `not-applicable`, with a non-empty text ({EXPECTED})"
                ))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pairs of COS-BEYOND-SEEDS.md §1, both ways.
    #[test]
    fn names_map_both_ways() {
        let pairs = [
            (
                "x-cos-server-side-encryption",
                "x-amz-server-side-encryption",
            ),
            (
                "x-cos-server-side-encryption-cos-kms-key-id",
                "x-amz-server-side-encryption-aws-kms-key-id",
            ),
            (
                "x-cos-server-side-encryption-context",
                "x-amz-server-side-encryption-context",
            ),
            (
                "x-cos-server-side-encryption-customer-key-MD5",
                "x-amz-server-side-encryption-customer-key-MD5",
            ),
            (
                "x-cos-copy-source-server-side-encryption-customer-algorithm",
                "x-amz-copy-source-server-side-encryption-customer-algorithm",
            ),
            ("x-cos-meta-project", "x-amz-meta-project"),
            ("x-cos-copy-source", "x-amz-copy-source"),
            ("x-cos-storage-class", "x-amz-storage-class"),
            ("range", "range"),
            ("Content-Type", "Content-Type"),
        ];
        for (cos, s3) in pairs {
            assert_eq!(to_s3_header(cos), s3, "{cos}");
            assert_eq!(to_cos_header(s3), cos, "{s3}");
        }
        // Upper-case names from a server map too (HTTP names are case-insensitive).
        assert_eq!(
            to_cos_header("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"),
            COS_KMS_KEY_ID
        );
    }

    #[test]
    fn bucket_encryption_documents_map_kms_both_ways() {
        let cos = "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>KMS</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>";
        let s3 = to_s3_body(cos.as_bytes()).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&s3),
            cos.replace(">KMS<", ">aws:kms<")
        );
        assert_eq!(cos_view_body(&s3).unwrap(), cos.as_bytes());
        // AES256 and bodies without the element are the same in both dialects.
        assert_eq!(to_s3_body(b"<SSEAlgorithm>AES256</SSEAlgorithm>"), None);
        assert_eq!(to_s3_body(b""), None);
        assert_eq!(cos_view_body(b"<SSEAlgorithm>KMS</SSEAlgorithm>"), None);
        // Only `?encryption` requests and answers are read for it.
        assert!(is_bucket_encryption(["encryption"].into_iter()));
        assert!(!is_bucket_encryption(
            ["uploads", "encryptions"].into_iter()
        ));
    }

    #[test]
    fn only_the_kms_mode_value_changes() {
        assert_eq!(
            to_s3_value("x-cos-server-side-encryption", "cos/kms"),
            "aws:kms"
        );
        assert_eq!(
            to_s3_value("X-Cos-Server-Side-Encryption", "cos/kms"),
            "aws:kms"
        );
        assert_eq!(
            to_s3_value("x-cos-server-side-encryption", "AES256"),
            "AES256"
        );
        assert_eq!(to_s3_value("x-cos-meta-x", "cos/kms"), "cos/kms");
        assert_eq!(
            to_cos_value("x-amz-server-side-encryption", "aws:kms"),
            "cos/kms"
        );
        assert_eq!(
            to_cos_value("x-amz-server-side-encryption", "AES256"),
            "AES256"
        );
        assert_eq!(to_cos_value("x-amz-meta-x", "aws:kms"), "aws:kms");
    }

    #[test]
    fn a_cos_header_in_an_s3_answer_is_never_read_as_the_answer() {
        let view = cos_view(&[
            ("x-cos-server-side-encryption".into(), "AES256".into()),
            ("x-amz-server-side-encryption".into(), "aws:kms".into()),
        ]);
        assert_eq!(
            view,
            vec![
                (
                    "s3-dialect-unmapped-x-cos-server-side-encryption".into(),
                    "AES256".into()
                ),
                ("x-cos-server-side-encryption".into(), "cos/kms".into()),
            ]
        );
    }

    #[test]
    fn cos_only_headers_are_lower_case_cos_names() {
        for h in COS_ONLY_HEADERS {
            assert_eq!(h.to_ascii_lowercase(), *h);
            assert!(h.starts_with(COS_PREFIX), "{h}");
        }
    }

    #[test]
    fn applicability_has_three_spellings_and_refuses_others() {
        let parse = |s: &str| serde_norway::from_str::<Applicability>(s);
        assert_eq!(parse("applies").unwrap(), Applicability::Applies(None));
        assert_eq!(
            parse("{applies: AES256 only}").unwrap(),
            Applicability::Applies(Some("AES256 only".into()))
        );
        assert_eq!(
            parse("{not-applicable: SM4 is COS-only}").unwrap(),
            Applicability::NotApplicable("SM4 is COS-only".into())
        );
        for bad in [
            "apply",
            "{}",
            "{not-applicable: \"\"}",
            "{applies: a, not-applicable: b}",
            "{bogus: x}",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
