//! Behaviour switches for `unspecified` and `superseded` rules (contracts.md, "Behaviour
//! switches"). The config file names them by rule id and behaviour name; this module turns
//! that map into typed switches and refuses unknown ids or names, so a typo never silently
//! selects the default.

use std::collections::BTreeMap;

/// The switch table: rule id, then its behaviours with the default first.
pub const SWITCHES: &[(&str, &[&str])] = &[
    ("COS-ALG-LEGACY", &["refused", "accepted"]),
    ("SSEC-MD5-OLD", &["refused", "accepted"]),
    ("COS-ANON-OLD", &["anonymous-allowed", "signature-required"]),
    ("REGION-SSE", &["enforced", "all-regions"]),
    ("ARCHIVE-PUT-WITH-SSE", &["accepted", "refused"]),
    ("SSE-HTTP", &["accepted", "refused"]),
    ("PRESIGN-UNSIGNED-HEADERS", &["refused", "accepted"]),
    ("MPU-PART-KMS-HEADERS", &["refused", "ignored"]),
    ("MPU-SSEC-COMPLETE-KEY", &["accepted", "refused"]),
    ("SSE-ETAG", &["plaintext-md5", "opaque"]),
    ("SSEC-ALG-DEFAULT", &["refused", "aes256"]),
    ("SSEC-KEY-TEXT", &["any-bytes", "text-only"]),
    ("POST-SSE-HEADER", &["refused", "ignored"]),
    ("UNSIGNED-SUBRESOURCE", &["refused", "accepted"]),
    // Bucket default encryption (PUT Bucket encryption).
    ("BUCKET-ENC-MPU", &["applied", "not-applied"]),
    ("BUCKET-ENC-POST", &["applied", "not-applied"]),
    ("BUCKET-ENC-COPY", &["applied", "not-applied"]),
    ("BUCKET-ENC-SSEC", &["customer-key", "refused"]),
    ("BUCKET-ENC-ALIAS", &["alias", "refused"]),
    ("BUCKET-ENC-KMS-ALG-GET", &["echoed", "omitted"]),
    ("BUCKET-ENC-KEY-WITH-COS", &["refused", "ignored"]),
    ("BUCKET-ENC-CMK", &["checked-at-put", "checked-at-upload"]),
    (
        "BUCKET-ENC-REGION",
        &["refused-at-put", "refused-at-upload"],
    ),
    // The S3 dialect's switches.
    ("AMZ-SSE-ON-COS", &["honoured", "ignored", "refused"]),
    ("SIGV4-SCOPE-REGION", &["checked", "ignored"]),
];

/// AMZ-SSE-ON-COS: what a COS-signed request's `x-amz-server-side-encryption*` headers do
/// (no COS document says; COS-BEYOND-SEEDS.md §1 lists them as unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AmzSseOnCos {
    /// They choose SSE exactly as their `x-cos-*` twins do (the default).
    #[default]
    Honoured,
    /// They are dropped: the object is stored as the `x-cos-*` headers alone say.
    Ignored,
    /// The request is refused with 400 InvalidArgument, naming the header.
    Refused,
}

/// The chosen behaviour of every switchable rule; `Default` is every rule's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Behaviours {
    /// COS-ALG-LEGACY `accepted`: `AES-256` is treated as `AES256`.
    pub legacy_aes_spelling_accepted: bool,
    /// SSEC-MD5-OLD `accepted`: an SSE-C key without its MD5 header is accepted.
    pub ssec_without_md5_accepted: bool,
    /// COS-ANON-OLD `signature-required`: no SSE object is served anonymously.
    pub anonymous_sse_needs_signature: bool,
    /// REGION-SSE `all-regions`: SSE-COS and SSE-C are offered in every known region.
    pub sse_in_all_regions: bool,
    /// ARCHIVE-PUT-WITH-SSE `refused`: new ARCHIVE/DEEP_ARCHIVE objects may not carry SSE.
    pub archive_put_with_sse_refused: bool,
    /// SSE-HTTP `refused`: SSE-COS and SSE-KMS uploads over plain HTTP are refused like
    /// SSE-C ones (004's samples say "Server-side encryption must use HTTPS").
    pub sse_over_http_refused: bool,
    /// PRESIGN-UNSIGNED-HEADERS `accepted`: a presigned request may carry grant headers
    /// (`x-cos-copy-source`, `x-cos-acl*`, `x-cos-grant-*`, `x-cos-storage-class`) that its
    /// `q-header-list` does not name.
    pub presign_unsigned_headers_accepted: bool,
    /// MPU-PART-KMS-HEADERS `ignored`: SSE-KMS headers on Upload Part are dropped (the
    /// part takes the upload's mode) instead of refused.
    pub kms_headers_on_part_ignored: bool,
    /// MPU-SSEC-COMPLETE-KEY `refused`: Complete of an SSE-C upload needs the upload's key.
    pub complete_needs_ssec_key: bool,
    /// SSE-ETAG `opaque`: SSE-C and SSE-KMS objects and parts get a random ETag instead of
    /// the MD5 of their plaintext (which would let a lister confirm a guessed plaintext).
    pub sse_etag_opaque: bool,
    /// SSEC-ALG-DEFAULT `aes256`: an SSE-C key (with its MD5) without the algorithm header
    /// is taken as AES256, 002's "By default, AES256 is used" read as a server default.
    pub ssec_algorithm_defaults_to_aes256: bool,
    /// SSEC-KEY-TEXT `text-only`: the 32 key bytes must be printable ASCII ("digits,
    /// letters and special characters", 001 and 004); a binary key is refused.
    pub ssec_key_text_only: bool,
    /// POST-SSE-HEADER `ignored`: `x-cos-server-side-encryption*` request headers on POST
    /// Object have no effect (only form fields choose SSE) instead of being refused.
    pub post_sse_headers_ignored: bool,
    /// UNSIGNED-SUBRESOURCE `accepted`: a sub-resource that `q-url-param-list` does not
    /// name (`?acl` added to a presigned URL) is honoured instead of refused.
    pub unsigned_subresources_accepted: bool,
    // Bucket default encryption (PUT Bucket encryption).
    /// BUCKET-ENC-MPU `not-applied`: Initiate Multipart Upload without SSE headers ignores
    /// the bucket's default encryption.
    pub bucket_default_not_on_multipart: bool,
    /// BUCKET-ENC-POST `not-applied`: POST Object without SSE fields ignores the default.
    pub bucket_default_not_on_post: bool,
    /// BUCKET-ENC-COPY `not-applied`: PUT Object - Copy without SSE headers ignores the
    /// default (D6: the target "不会使用 SSE" unless asked).
    pub bucket_default_not_on_copy: bool,
    /// BUCKET-ENC-SSEC `refused`: an SSE-C upload to a bucket with a default is refused.
    pub bucket_default_refuses_ssec: bool,
    /// BUCKET-ENC-ALIAS `refused`: the `ApplySideEncryptionConfiguration` container of
    /// Tencent's SDK tests is MalformedXML instead of an alias.
    pub bucket_encryption_alias_refused: bool,
    /// BUCKET-ENC-KMS-ALG-GET `omitted`: GET Bucket encryption leaves `KMSAlgorithm` out.
    pub bucket_encryption_kms_algorithm_omitted: bool,
    /// BUCKET-ENC-KEY-WITH-COS `ignored`: a `KMSMasterKeyID` (or `KMSAlgorithm`) with
    /// `SSEAlgorithm` AES256/SM4 is dropped instead of refused.
    pub bucket_encryption_kms_fields_ignored: bool,
    /// BUCKET-ENC-CMK `checked-at-upload`: PUT Bucket encryption stores an unknown or
    /// disabled CMK; the uploads it would encrypt are refused by the KMS instead.
    pub bucket_encryption_cmk_checked_at_upload: bool,
    /// BUCKET-ENC-REGION `refused-at-upload`: a default naming a mode the bucket's region
    /// does not offer is stored; the uploads it would encrypt are refused (REGION-SSE,
    /// REGION-KMS) instead.
    pub bucket_encryption_region_checked_at_upload: bool,
    /// AMZ-SSE-ON-COS: what x-amz SSE headers on a COS-signed request do.
    pub amz_sse_on_cos: AmzSseOnCos,
    /// SIGV4-SCOPE-REGION `ignored`: the region of a SigV4 credential scope need not be the
    /// bucket's (by default a scope naming another region is refused).
    pub sigv4_scope_region_ignored: bool,
}

/// A behaviour map naming a rule or a behaviour that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BehaviourError {
    /// The rule id has no switch.
    #[error("rule {0} has no behaviour switch (switchable: {list})", list = switchable())]
    UnknownRule(String),
    /// The behaviour is not one of the rule's.
    #[error("rule {rule} has no behaviour {value:?} (choose one of {choices})")]
    UnknownBehaviour {
        /// The rule id.
        rule: String,
        /// The value given.
        value: String,
        /// The allowed values, comma-separated.
        choices: String,
    },
}

/// The switchable rule ids, comma-separated, for error messages.
fn switchable() -> String {
    SWITCHES
        .iter()
        .map(|(id, _)| *id)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Behaviours {
    /// Reads a rule id → behaviour map; rules not named keep their default.
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Self, BehaviourError> {
        let mut b = Behaviours::default();
        for (rule, value) in map {
            let (_, choices) = SWITCHES
                .iter()
                .find(|(id, _)| id == rule)
                .ok_or_else(|| BehaviourError::UnknownRule(rule.clone()))?;
            let index = choices.iter().position(|c| c == value).ok_or_else(|| {
                BehaviourError::UnknownBehaviour {
                    rule: rule.clone(),
                    value: value.clone(),
                    choices: choices.join(", "),
                }
            })?;
            let non_default = index != 0;
            match rule.as_str() {
                "COS-ALG-LEGACY" => b.legacy_aes_spelling_accepted = non_default,
                "SSEC-MD5-OLD" => b.ssec_without_md5_accepted = non_default,
                "COS-ANON-OLD" => b.anonymous_sse_needs_signature = non_default,
                "REGION-SSE" => b.sse_in_all_regions = non_default,
                "SSE-HTTP" => b.sse_over_http_refused = non_default,
                "PRESIGN-UNSIGNED-HEADERS" => b.presign_unsigned_headers_accepted = non_default,
                "MPU-PART-KMS-HEADERS" => b.kms_headers_on_part_ignored = non_default,
                "MPU-SSEC-COMPLETE-KEY" => b.complete_needs_ssec_key = non_default,
                "SSE-ETAG" => b.sse_etag_opaque = non_default,
                "SSEC-ALG-DEFAULT" => b.ssec_algorithm_defaults_to_aes256 = non_default,
                "SSEC-KEY-TEXT" => b.ssec_key_text_only = non_default,
                "POST-SSE-HEADER" => b.post_sse_headers_ignored = non_default,
                "UNSIGNED-SUBRESOURCE" => b.unsigned_subresources_accepted = non_default,
                "BUCKET-ENC-MPU" => b.bucket_default_not_on_multipart = non_default,
                "BUCKET-ENC-POST" => b.bucket_default_not_on_post = non_default,
                "BUCKET-ENC-COPY" => b.bucket_default_not_on_copy = non_default,
                "BUCKET-ENC-SSEC" => b.bucket_default_refuses_ssec = non_default,
                "BUCKET-ENC-ALIAS" => b.bucket_encryption_alias_refused = non_default,
                "BUCKET-ENC-KMS-ALG-GET" => b.bucket_encryption_kms_algorithm_omitted = non_default,
                "BUCKET-ENC-KEY-WITH-COS" => b.bucket_encryption_kms_fields_ignored = non_default,
                "BUCKET-ENC-CMK" => b.bucket_encryption_cmk_checked_at_upload = non_default,
                "BUCKET-ENC-REGION" => b.bucket_encryption_region_checked_at_upload = non_default,
                "SIGV4-SCOPE-REGION" => b.sigv4_scope_region_ignored = non_default,
                "AMZ-SSE-ON-COS" => {
                    b.amz_sse_on_cos = match index {
                        0 => AmzSseOnCos::Honoured,
                        1 => AmzSseOnCos::Ignored,
                        _ => AmzSseOnCos::Refused,
                    }
                }
                _ => b.archive_put_with_sse_refused = non_default,
            }
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_the_first_behaviours() {
        assert_eq!(
            Behaviours::from_map(&map(&[])).unwrap(),
            Behaviours::default()
        );
        let all_default: Vec<_> = SWITCHES.iter().map(|(r, c)| (*r, c[0])).collect();
        assert_eq!(
            Behaviours::from_map(&map(&all_default)).unwrap(),
            Behaviours::default()
        );
    }

    #[test]
    fn every_switch_flips() {
        let b = Behaviours::from_map(&map(&[
            ("COS-ALG-LEGACY", "accepted"),
            ("SSEC-MD5-OLD", "accepted"),
            ("COS-ANON-OLD", "signature-required"),
            ("REGION-SSE", "all-regions"),
            ("ARCHIVE-PUT-WITH-SSE", "refused"),
            ("SSE-HTTP", "refused"),
            ("PRESIGN-UNSIGNED-HEADERS", "accepted"),
            ("MPU-PART-KMS-HEADERS", "ignored"),
            ("MPU-SSEC-COMPLETE-KEY", "refused"),
            ("SSE-ETAG", "opaque"),
            ("SSEC-ALG-DEFAULT", "aes256"),
            ("SSEC-KEY-TEXT", "text-only"),
            ("POST-SSE-HEADER", "ignored"),
            ("UNSIGNED-SUBRESOURCE", "accepted"),
            ("BUCKET-ENC-MPU", "not-applied"),
            ("BUCKET-ENC-POST", "not-applied"),
            ("BUCKET-ENC-COPY", "not-applied"),
            ("BUCKET-ENC-SSEC", "refused"),
            ("BUCKET-ENC-ALIAS", "refused"),
            ("BUCKET-ENC-KMS-ALG-GET", "omitted"),
            ("BUCKET-ENC-KEY-WITH-COS", "ignored"),
            ("BUCKET-ENC-CMK", "checked-at-upload"),
            ("BUCKET-ENC-REGION", "refused-at-upload"),
            ("AMZ-SSE-ON-COS", "refused"),
            ("SIGV4-SCOPE-REGION", "ignored"),
        ]))
        .unwrap();
        assert_eq!(b.amz_sse_on_cos, AmzSseOnCos::Refused);
        assert!(b.sigv4_scope_region_ignored);
        let ignored = Behaviours::from_map(&map(&[("AMZ-SSE-ON-COS", "ignored")])).unwrap();
        assert_eq!(ignored.amz_sse_on_cos, AmzSseOnCos::Ignored);
        assert!(b.legacy_aes_spelling_accepted);
        assert!(b.ssec_without_md5_accepted);
        assert!(b.anonymous_sse_needs_signature);
        assert!(b.sse_in_all_regions);
        assert!(b.archive_put_with_sse_refused);
        assert!(b.sse_over_http_refused);
        assert!(b.presign_unsigned_headers_accepted);
        assert!(b.kms_headers_on_part_ignored);
        assert!(b.complete_needs_ssec_key);
        assert!(b.sse_etag_opaque);
        assert!(b.ssec_algorithm_defaults_to_aes256);
        assert!(b.ssec_key_text_only);
        assert!(b.post_sse_headers_ignored);
        assert!(b.unsigned_subresources_accepted);
        assert!(b.bucket_default_not_on_multipart);
        assert!(b.bucket_default_not_on_post);
        assert!(b.bucket_default_not_on_copy);
        assert!(b.bucket_default_refuses_ssec);
        assert!(b.bucket_encryption_alias_refused);
        assert!(b.bucket_encryption_kms_algorithm_omitted);
        assert!(b.bucket_encryption_kms_fields_ignored);
        assert!(b.bucket_encryption_cmk_checked_at_upload);
        assert!(b.bucket_encryption_region_checked_at_upload);
    }

    #[test]
    fn typos_are_errors() {
        assert!(matches!(
            Behaviours::from_map(&map(&[("REGION-SSEE", "enforced")])),
            Err(BehaviourError::UnknownRule(_))
        ));
        assert!(matches!(
            Behaviours::from_map(&map(&[("REGION-SSE", "all")])),
            Err(BehaviourError::UnknownBehaviour { .. })
        ));
    }
}
