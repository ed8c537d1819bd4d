//! A bucket's default encryption (PUT/GET/DELETE Bucket encryption, and the uploads it
//! applies to): the `ServerSideEncryptionConfiguration` document read and written
//! (BUCKET-ENC-FORMAT, BUCKET-ENC-INVALID, BUCKET-ENC-ALIAS, BUCKET-ENC-KEY-WITH-COS,
//! BUCKET-ENC-KMS-ALG-GET), the checks a default must pass when it is set (BUCKET-ENC-CMK,
//! BUCKET-ENC-REGION), and the request an upload without SSE settings gets from it
//! (BUCKET-ENC-APPLY and, per write path, BUCKET-ENC-MPU, BUCKET-ENC-POST, BUCKET-ENC-COPY).
//! The operations in `put_bucket_encryption.rs`, `get_bucket_encryption.rs` and
//! `delete_bucket_encryption.rs` use it, and `encryption::upload_sse` calls [`apply`].

use std::collections::BTreeMap;

use cos_emulator_crypto::{Algorithm, Keys};

use super::Context;
use crate::behaviour::Behaviours;
use crate::error::{Error, ErrorCode};
use crate::regions::RegionTable;
use crate::sse::{self, SseRequest};
use crate::store::{BucketEncryption, BucketRecord, DefaultSse};
use crate::xml::{self, XmlWriter};

/// The root element of the document, on PUT and on GET.
pub const ROOT: &str = "ServerSideEncryptionConfiguration";
/// The documented container of the settings (D2).
const CONTAINER: &str = "ApplyServerSideEncryptionByDefault";
/// The misspelled container Tencent's own SDK tests and demos send (BUCKET-ENC-ALIAS).
const ALIAS: &str = "ApplySideEncryptionConfiguration";

/// The upload paths a bucket's default may reach; each but PUT Object has its own
/// `unspecified` rule and switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePath {
    /// PUT Object (BUCKET-ENC-APPLY, documented).
    Put,
    /// POST Object (BUCKET-ENC-POST).
    Post,
    /// Initiate Multipart Upload (BUCKET-ENC-MPU); the parts take the upload's mode.
    Initiate,
    /// PUT Object - Copy (BUCKET-ENC-COPY).
    Copy,
}

impl WritePath {
    /// Whether the bucket's default reaches this path under the profile's switches.
    fn applies(self, b: &Behaviours) -> bool {
        match self {
            WritePath::Put => true,
            WritePath::Post => !b.bucket_default_not_on_post,
            WritePath::Initiate => !b.bucket_default_not_on_multipart,
            WritePath::Copy => !b.bucket_default_not_on_copy,
        }
    }
}

fn malformed(why: &str) -> Error {
    Error::new(ErrorCode::MalformedXml, format!("{ROOT}: {why}"))
}

fn invalid(why: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, why)
}

/// Reads a `ServerSideEncryptionConfiguration` document (BUCKET-ENC-FORMAT): exactly one
/// `Rule` holding one `ApplyServerSideEncryptionByDefault` (or, under BUCKET-ENC-ALIAS
/// `alias`, `ApplySideEncryptionConfiguration`) with an `SSEAlgorithm` of `AES256`, `SM4`
/// or `KMS`; `KMSMasterKeyID` and `KMSAlgorithm` (`AES256` | `SM4`) belong to `KMS`
/// (BUCKET-ENC-KEY-WITH-COS decides what they do beside AES256/SM4). A missing element is
/// `MalformedXML`, a value outside the documented ones `InvalidArgument`
/// (BUCKET-ENC-INVALID). An S3-signed request may name SSE-KMS as S3 does, `aws:kms`
/// (PutBucketEncryption of the AWS SDKs).
pub fn parse(
    doc: &[u8],
    behaviours: &Behaviours,
    dialect: crate::dialect::Dialect,
) -> Result<BucketEncryption, Error> {
    let root = xml::parse(doc)?;
    if root.name != ROOT {
        return Err(malformed(&format!(
            "the root element must be {ROOT}, not {}",
            root.name
        )));
    }
    let rules: Vec<_> = root.children_named("Rule").collect();
    let rule = match rules.as_slice() {
        [rule] => *rule,
        [] => return Err(malformed("a Rule element is required")),
        _ => return Err(malformed("exactly one Rule element is allowed")),
    };
    let settings = match (rule.child(CONTAINER), rule.child(ALIAS)) {
        (Some(c), _) => c,
        (None, Some(_)) if behaviours.bucket_encryption_alias_refused => {
            return Err(malformed(&format!(
                "the Rule holds {ALIAS}, not {CONTAINER} (BUCKET-ENC-ALIAS)"
            )))
        }
        (None, Some(a)) => a,
        (None, None) => return Err(malformed(&format!("the Rule needs an {CONTAINER} element"))),
    };
    let algorithm = settings
        .child("SSEAlgorithm")
        .ok_or_else(|| malformed(&format!("{CONTAINER} needs an SSEAlgorithm element")))?;
    let spelled =
        if dialect == crate::dialect::Dialect::S3 && algorithm.text == sse::dialect::AWS_KMS {
            DefaultSse::Kms.as_str()
        } else {
            algorithm.text.as_str()
        };
    let sse_algorithm = DefaultSse::from_wire(spelled).ok_or_else(|| {
        invalid(format!(
            "SSEAlgorithm {:?} is not AES256, SM4 or KMS (BUCKET-ENC-INVALID)",
            sse::cos::printable(&algorithm.text)
        ))
    })?;
    let key_id = settings.child("KMSMasterKeyID").map(|e| e.text.clone());
    let kms_algorithm = match settings.child("KMSAlgorithm") {
        None => None,
        Some(e) => Some(Algorithm::from_wire(&e.text).ok_or_else(|| {
            invalid(format!(
                "KMSAlgorithm {:?} is not AES256 or SM4 (BUCKET-ENC-INVALID)",
                sse::cos::printable(&e.text)
            ))
        })?),
    };
    if sse_algorithm == DefaultSse::Kms {
        if key_id.as_deref() == Some("") {
            return Err(invalid(
                "KMSMasterKeyID is empty; leave it out for the default CMK (BUCKET-ENC-INVALID)"
                    .into(),
            ));
        }
        return Ok(BucketEncryption {
            sse_algorithm,
            kms_master_key_id: key_id,
            kms_algorithm,
        });
    }
    if (key_id.is_some() || kms_algorithm.is_some())
        && !behaviours.bucket_encryption_kms_fields_ignored
    {
        return Err(invalid(format!(
            "KMSMasterKeyID and KMSAlgorithm apply only to SSEAlgorithm KMS, not {} \
             (BUCKET-ENC-KEY-WITH-COS)",
            sse_algorithm.as_str()
        )));
    }
    Ok(BucketEncryption {
        sse_algorithm,
        kms_master_key_id: None,
        kms_algorithm: None,
    })
}

/// The GET Bucket encryption document: the settings as they were set, `KMSAlgorithm` left
/// out under BUCKET-ENC-KMS-ALG-GET `omitted` (D3's sample shows only SSEAlgorithm and
/// KMSMasterKeyID). To an S3-signed request SSE-KMS is `aws:kms`, as S3 spells it.
pub fn document(
    config: &BucketEncryption,
    behaviours: &Behaviours,
    dialect: crate::dialect::Dialect,
) -> String {
    let mut w = XmlWriter::new();
    w.open(ROOT);
    w.open("Rule");
    w.open(CONTAINER);
    let algorithm = match (config.sse_algorithm, dialect) {
        (DefaultSse::Kms, crate::dialect::Dialect::S3) => sse::dialect::AWS_KMS,
        (other, _) => other.as_str(),
    };
    w.leaf("SSEAlgorithm", algorithm);
    if let Some(id) = &config.kms_master_key_id {
        w.leaf("KMSMasterKeyID", id);
    }
    if let Some(a) = config.kms_algorithm {
        if !behaviours.bucket_encryption_kms_algorithm_omitted {
            w.leaf("KMSAlgorithm", a.as_str());
        }
    }
    w.close(CONTAINER);
    w.close("Rule");
    w.close(ROOT);
    w.finish()
}

/// The upload request a default stands for: SSE-COS with its algorithm, or SSE-KMS with
/// its CMK (`None`: the account's default CMK) and KMS algorithm, without a context.
pub fn request_of(config: &BucketEncryption) -> SseRequest {
    match config.sse_algorithm {
        DefaultSse::Aes256 => SseRequest::Cos {
            algorithm: Algorithm::Aes256,
        },
        DefaultSse::Sm4 => SseRequest::Cos {
            algorithm: Algorithm::Sm4,
        },
        DefaultSse::Kms => SseRequest::Kms {
            key_id: config.kms_master_key_id.clone(),
            context: BTreeMap::new(),
            algorithm: config.kms_algorithm.unwrap_or(Algorithm::Aes256),
        },
    }
}

/// The checks a default must pass when PUT sets it: BUCKET-ENC-REGION `refused-at-put`
/// (a mode the bucket's region does not offer, as REGION-SSE and REGION-KMS refuse the
/// same headers) and BUCKET-ENC-CMK `checked-at-put` (a `KMSMasterKeyID` that names no CMK
/// of the account, 400 `KmsKeyNotExist`, or a disabled one, 400 `KmsKeyDisabled`). Runs
/// the KMS, so call it off the async executor.
pub fn check_new(
    keys: &Keys,
    regions: &RegionTable,
    b: &Behaviours,
    bucket: &BucketRecord,
    config: &BucketEncryption,
) -> Result<(), Error> {
    if !b.bucket_encryption_region_checked_at_upload {
        sse::check_region(&request_of(config), &bucket.region, regions, b)?;
    }
    if let (Some(id), false) = (
        &config.kms_master_key_id,
        b.bucket_encryption_cmk_checked_at_upload,
    ) {
        let keys = keys
            .kms()
            .list_keys(&bucket.appid)
            .map_err(Error::internal)?;
        match keys.iter().find(|k| &k.key_id == id) {
            None => {
                return Err(Error::new(
                    ErrorCode::KmsKeyNotExist,
                    format!(
                        "KMSMasterKeyID {:?} names no CMK of this account (BUCKET-ENC-CMK)",
                        sse::cos::printable(id)
                    ),
                ))
            }
            Some(k) if !k.enabled => {
                return Err(Error::new(
                    ErrorCode::KmsKeyDisabled,
                    format!(
                        "KMSMasterKeyID {:?} is disabled (BUCKET-ENC-CMK)",
                        sse::cos::printable(id)
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The SSE an upload gets once its own settings passed every upload rule: its own when it
/// asked for one (BUCKET-ENC-OWN; an SSE-C request on a bucket with a default is refused
/// under BUCKET-ENC-SSEC `refused`), else the bucket's default where the path takes it
/// (BUCKET-ENC-APPLY, BUCKET-ENC-MPU, BUCKET-ENC-POST, BUCKET-ENC-COPY), checked against
/// the region when BUCKET-ENC-REGION is `refused-at-upload`.
pub fn apply(
    ctx: &Context,
    bucket: &BucketRecord,
    path: WritePath,
    request: SseRequest,
) -> Result<SseRequest, Error> {
    let Some(config) = &bucket.encryption else {
        return Ok(request);
    };
    let b = &ctx.behaviours;
    // The mutation harness's lies (introspect::lies): a server that never applies the
    // default, or applies it over an upload's own mode.
    if ctx.lies.bucket_default_not_applied {
        return Ok(request);
    }
    if ctx.lies.bucket_default_overrides_own
        && matches!(request, SseRequest::Cos { .. } | SseRequest::Kms { .. })
    {
        return Ok(request_of(config));
    }
    match request {
        SseRequest::Customer(_) if b.bucket_default_refuses_ssec => Err(Error::new(
            ErrorCode::InvalidRequest,
            format!(
                "the bucket has a default encryption ({}); SSE-C uploads are refused \
                 (BUCKET-ENC-SSEC)",
                config.sse_algorithm.as_str()
            ),
        )),
        SseRequest::None if path.applies(b) => {
            let default = request_of(config);
            sse::check_region(&default, &bucket.region, &ctx.regions, b)?;
            Ok(default)
        }
        own => Ok(own),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(inner: &str) -> Vec<u8> {
        format!("<{ROOT}><Rule>{inner}</Rule></{ROOT}>").into_bytes()
    }

    fn settings(fields: &str) -> Vec<u8> {
        doc(&format!("<{CONTAINER}>{fields}</{CONTAINER}>"))
    }

    #[test]
    fn every_documented_value_parses_and_writes_back() {
        let b = Behaviours::default();
        for (fields, alg) in [
            ("<SSEAlgorithm>AES256</SSEAlgorithm>", DefaultSse::Aes256),
            ("<SSEAlgorithm>SM4</SSEAlgorithm>", DefaultSse::Sm4),
            (
                "<SSEAlgorithm>KMS</SSEAlgorithm><KMSMasterKeyID>k-1</KMSMasterKeyID><KMSAlgorithm>SM4</KMSAlgorithm>",
                DefaultSse::Kms,
            ),
        ] {
            let c = parse(&settings(fields), &b, crate::dialect::Dialect::Cos).unwrap();
            assert_eq!(c.sse_algorithm, alg);
            let written = document(&c, &b, crate::dialect::Dialect::Cos);
            assert!(written.contains(fields), "{written}");
            assert_eq!(parse(written.as_bytes(), &b, crate::dialect::Dialect::Cos).unwrap(), c);
        }
    }

    #[test]
    fn invalid_documents_are_refused_with_their_codes() {
        let b = Behaviours::default();
        let code = |d: Vec<u8>| {
            parse(&d, &b, crate::dialect::Dialect::Cos)
                .unwrap_err()
                .code
        };
        assert_eq!(
            code(settings("<SSEAlgorithm>AES-256</SSEAlgorithm>")),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(settings("<SSEAlgorithm>cos/kms</SSEAlgorithm>")),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(settings(
                "<SSEAlgorithm>KMS</SSEAlgorithm><KMSAlgorithm>AES128</KMSAlgorithm>"
            )),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(settings(
                "<SSEAlgorithm>SM4</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>"
            )),
            ErrorCode::InvalidArgument
        );
        assert_eq!(code(settings("")), ErrorCode::MalformedXml);
        assert_eq!(code(doc("")), ErrorCode::MalformedXml);
        assert_eq!(
            code(b"<CORSConfiguration/>".to_vec()),
            ErrorCode::MalformedXml
        );
        assert_eq!(code(b"<Server".to_vec()), ErrorCode::MalformedXml);
    }

    #[test]
    fn the_alias_and_the_kms_fields_follow_their_switches() {
        let alias = doc(&format!(
            "<{ALIAS}><SSEAlgorithm>AES256</SSEAlgorithm></{ALIAS}>"
        ));
        let with_key =
            settings("<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>");
        let default = Behaviours::default();
        assert_eq!(
            parse(&alias, &default, crate::dialect::Dialect::Cos)
                .unwrap()
                .sse_algorithm,
            DefaultSse::Aes256
        );
        let flipped = Behaviours {
            bucket_encryption_alias_refused: true,
            bucket_encryption_kms_fields_ignored: true,
            bucket_encryption_kms_algorithm_omitted: true,
            ..Behaviours::default()
        };
        assert_eq!(
            parse(&alias, &flipped, crate::dialect::Dialect::Cos)
                .unwrap_err()
                .code,
            ErrorCode::MalformedXml
        );
        let kept = parse(&with_key, &flipped, crate::dialect::Dialect::Cos).unwrap();
        assert_eq!(kept.kms_master_key_id, None);
        let kms = parse(
            &settings("<SSEAlgorithm>KMS</SSEAlgorithm><KMSAlgorithm>SM4</KMSAlgorithm>"),
            &flipped,
            crate::dialect::Dialect::Cos,
        )
        .unwrap();
        assert!(!document(&kms, &flipped, crate::dialect::Dialect::Cos).contains("KMSAlgorithm"));
        assert!(document(&kms, &default, crate::dialect::Dialect::Cos)
            .contains("<KMSAlgorithm>SM4</KMSAlgorithm>"));
    }

    /// An S3-signed request names SSE-KMS `aws:kms` and reads it back so; a COS one may not.
    #[test]
    fn s3_requests_spell_kms_as_s3_does() {
        use crate::dialect::Dialect;
        let b = Behaviours::default();
        let doc = settings("<SSEAlgorithm>aws:kms</SSEAlgorithm>");
        let c = parse(&doc, &b, Dialect::S3).unwrap();
        assert_eq!(c.sse_algorithm, DefaultSse::Kms);
        assert!(document(&c, &b, Dialect::S3).contains("<SSEAlgorithm>aws:kms</SSEAlgorithm>"));
        assert!(document(&c, &b, Dialect::Cos).contains("<SSEAlgorithm>KMS</SSEAlgorithm>"));
        assert_eq!(
            parse(&doc, &b, Dialect::Cos).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }
}
