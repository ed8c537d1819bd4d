//! SSE checks that need more than the headers: the listener's scheme (SSEC-HTTPS), how the
//! request was authenticated (PRESIGN-NO-SSE-COS, PRESIGN-NO-SSE-KMS, COS-ANON, KMS-ANON,
//! SSEC-ANON, COS-ANON-OLD), the bucket's region (REGION-KMS, REGION-SSE), and the stored
//! object (SSEC-GET-NEEDS-KEY, SSEC-NOT-APPLICABLE, COPY-SOURCE-KEY). Pure functions of
//! their arguments; the operation gathers them.

use cos_emulator_crypto::SseMode;

use super::customer::CustomerSse;
use super::error::SseError;
use super::names;
use super::SseRequest;
use crate::behaviour::Behaviours;
use crate::regions::RegionTable;

/// SSEC-HTTPS: SSE-C keys (the request's or the copy source's) travel only over HTTPS.
/// `copy_source` is the copy source's parsed key, if any.
pub fn check_scheme(
    request: &SseRequest,
    copy_source: Option<&CustomerSse>,
    https: bool,
) -> Result<(), SseError> {
    if https {
        return Ok(());
    }
    if matches!(request, SseRequest::Customer(_)) {
        return Err(SseError::CustomerKeyOverHttp {
            header: names::CUSTOMER_KEY,
        });
    }
    if copy_source.is_some() {
        return Err(SseError::CustomerKeyOverHttp {
            header: names::COPY_SOURCE_CUSTOMER_KEY,
        });
    }
    Ok(())
}

/// SSE-HTTP (`unspecified`): 001 and 003 require HTTPS for SSE-C only, but 004's samples
/// say "Server-side encryption must use HTTPS" for every mode. With the switch `refused`
/// an SSE-COS or SSE-KMS upload over plain HTTP is refused as SSE-C is; by default it is
/// accepted. (SSE-C over HTTP is [`check_scheme`]'s, whatever the switch.)
pub fn check_upload_scheme(
    request: &SseRequest,
    https: bool,
    behaviours: &Behaviours,
) -> Result<(), SseError> {
    let encrypted_by_server = matches!(request, SseRequest::Cos { .. } | SseRequest::Kms { .. });
    if https || !behaviours.sse_over_http_refused || !encrypted_by_server {
        return Ok(());
    }
    Err(SseError::SseOverHttp { header: names::SSE })
}

/// PRESIGN-NO-SSE-COS / PRESIGN-NO-SSE-KMS: an upload through a presigned URL cannot ask
/// for SSE-COS or SSE-KMS. (SSE-C through a presigned URL is not forbidden by the
/// documents; the key still has to come as headers.)
pub fn check_presigned(request: &SseRequest, presigned: bool) -> Result<(), SseError> {
    if !presigned {
        return Ok(());
    }
    match request {
        SseRequest::Cos { .. } => Err(SseError::PresignedUpload {
            header: names::SSE,
            mode: "SSE-COS",
        }),
        SseRequest::Kms { .. } => Err(SseError::PresignedUpload {
            header: names::SSE,
            mode: "SSE-KMS",
        }),
        SseRequest::None | SseRequest::Customer(_) => Ok(()),
    }
}

/// REGION-KMS / REGION-SSE: the requested mode must be offered in the bucket's region.
/// SSE-KMS follows the table's `sse_kms`; SSE-COS and SSE-C follow `sse_cos_c` unless
/// REGION-SSE is `all-regions`. A region missing from the table offers nothing.
pub fn check_region(
    request: &SseRequest,
    region: &str,
    table: &RegionTable,
    behaviours: &Behaviours,
) -> Result<(), SseError> {
    let caps = table.get(region);
    let offered = match request {
        SseRequest::None => return Ok(()),
        SseRequest::Kms { .. } => caps.is_some_and(|c| c.sse_kms),
        SseRequest::Cos { .. } | SseRequest::Customer(_) => {
            caps.is_some() && (behaviours.sse_in_all_regions || caps.is_some_and(|c| c.sse_cos_c))
        }
    };
    if offered {
        Ok(())
    } else {
        Err(SseError::RegionNotOffered {
            mode: request.mode_name().unwrap_or("SSE"),
            region: super::cos::printable(region),
        })
    }
}

/// The SSE-C checks of a read (GET, HEAD) or an Upload Part against the stored object's
/// mode (`None` for a plain object): SSEC-GET-NEEDS-KEY (an SSE-C object needs the key)
/// and SSEC-NOT-APPLICABLE (SSE-C headers for an object that is not SSE-C). Whether the
/// key is the right one is the crypto's answer (SSEC-WRONG-KEY, 403 AccessDenied).
pub fn check_read(stored: Option<SseMode>, request: &SseRequest) -> Result<(), SseError> {
    let is_customer = stored == Some(SseMode::Customer);
    match (is_customer, request) {
        (true, SseRequest::Customer(_)) | (false, SseRequest::None) => Ok(()),
        (true, _) => Err(SseError::CustomerKeyRequired),
        (false, SseRequest::Customer(_)) => Err(SseError::CustomerKeyNotApplicable {
            header: names::CUSTOMER_KEY,
        }),
        // `parse` refuses mode headers on reads; a caller that skipped it gets the rule.
        (false, _) => Err(SseError::ModeNotAllowed { header: names::SSE }),
    }
}

/// COPY-SOURCE-KEY: an SSE-C copy source needs the copy-source key headers, and they are
/// refused for a source that is not SSE-C (SSEC-NOT-APPLICABLE).
pub fn check_copy_source(
    stored: Option<SseMode>,
    copy_source: Option<&CustomerSse>,
) -> Result<(), SseError> {
    match (stored == Some(SseMode::Customer), copy_source) {
        (true, Some(_)) | (false, None) => Ok(()),
        (true, None) => Err(SseError::CopySourceKeyRequired),
        (false, Some(_)) => Err(SseError::CustomerKeyNotApplicable {
            header: names::COPY_SOURCE_CUSTOMER_KEY,
        }),
    }
}

/// Anonymous reads of encrypted objects: SSE-COS objects are readable anonymously when
/// the ACL allows (COS-ANON) unless COS-ANON-OLD is `signature-required`; SSE-KMS
/// (KMS-ANON) and SSE-C (SSEC-ANON) objects never are. Call only for anonymous requests
/// the ACL already admits.
pub fn check_anonymous_read(
    stored: Option<SseMode>,
    behaviours: &Behaviours,
) -> Result<(), SseError> {
    match stored {
        None => Ok(()),
        Some(SseMode::Cos) if !behaviours.anonymous_sse_needs_signature => Ok(()),
        Some(mode) => Err(SseError::AnonymousRead {
            mode: mode.as_str(),
        }),
    }
}
