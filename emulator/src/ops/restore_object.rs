//! POST Object restore (`POST <key>?restore` with a `RestoreRequest`): brings an ARCHIVE /
//! DEEP_ARCHIVE object online. The restore is "ongoing" for the configured
//! `restore_delay`, then the object reads normally for `Days` days; HEAD shows the state
//! in `x-cos-restore`.
//!
//! Rules: ARCHIVE-GET-BEFORE-RESTORE (with [`status`], used by GET, HEAD and copy),
//! SSEC-RESTORE (an SSE-C object's restore carries its SSE-C headers: missing → 400
//! InvalidRequest, over HTTP → 400, a different key → 403 AccessDenied, and nothing is
//! started), KMS-NOT-ON-GET (no mode header on a restore).
//!
//! Answers: 202 when a restore starts, 200 when a restored object's period is renewed,
//! 409 `RestoreAlreadyInProgress` while one runs, 405 `RestoreNonArchiveObject` for an
//! object that is not archived (ERROR-CODES.md row 8c).

use cos_emulator_crypto::KeyRecord;

use super::object_headers::is_archive;
use super::{authorize, encryption, http_date, load_bucket, now_ms, read_document, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::response::Response;
use crate::sse::{crypto_error, SseRequest};
use crate::store::restore::{RestoreRecord, RestoreState};
use crate::store::ObjectMeta;
use crate::xml;

/// COS's restore tiers.
const TIERS: [&str; 3] = ["Expedited", "Standard", "Bulk"];

/// The longest restore period accepted, in days.
const MAX_DAYS: u32 = 365;

/// POST Object restore, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreObject {
    days: u32,
    tier: String,
}

fn malformed(detail: &str) -> Error {
    Error::new(
        ErrorCode::MalformedXml,
        format!("the body is not a RestoreRequest document: {detail}"),
    )
}

/// Parses `<RestoreRequest><Days>N</Days><CASJobParameters><Tier>T</Tier>…`.
pub fn parse_request(doc: &[u8]) -> Result<RestoreObject, Error> {
    let root = xml::parse(doc)?;
    if root.name != "RestoreRequest" {
        return Err(malformed("wrong root element"));
    }
    let days = root
        .child("Days")
        .ok_or_else(|| malformed("Days is missing"))?
        .text
        .parse::<u32>()
        .ok()
        .filter(|d| (1..=MAX_DAYS).contains(d))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("Days must be an integer from 1 to {MAX_DAYS}"),
            )
        })?;
    let tier = match root.child("CASJobParameters").and_then(|j| j.child("Tier")) {
        None => "Standard".to_string(),
        Some(t) if TIERS.contains(&t.text.as_str()) => t.text.clone(),
        Some(_) => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "CASJobParameters/Tier must be Expedited, Standard or Bulk",
            ))
        }
    };
    Ok(RestoreObject { days, tier })
}

/// The restore state of an object's current write (`None`: not archived, never restored,
/// or the restored period is over).
pub async fn status(
    ctx: &Context,
    bucket: &str,
    meta: &ObjectMeta,
) -> Result<Option<RestoreState>, Error> {
    if !is_archive(&meta.storage_class) {
        return Ok(None);
    }
    let store = ctx.store.clone();
    let (b, w) = (bucket.to_string(), meta.write_id.clone());
    let record = blocking(move || store.restores().get(&b, &w).map_err(store_error)).await?;
    Ok(record.and_then(|r| r.state(now_ms())))
}

/// ARCHIVE-GET-BEFORE-RESTORE: refuses reading an archived object that is not restored.
pub async fn check_readable(ctx: &Context, bucket: &str, meta: &ObjectMeta) -> Result<(), Error> {
    if !is_archive(&meta.storage_class) {
        return Ok(());
    }
    match status(ctx, bucket, meta).await? {
        Some(RestoreState::Restored { .. }) => Ok(()),
        Some(RestoreState::Ongoing) => Err(Error::new(
            ErrorCode::InvalidObjectState,
            format!(
                "the object is in storage class {} and its restore is still in progress",
                meta.storage_class
            ),
        )),
        None => Err(Error::new(
            ErrorCode::InvalidObjectState,
            format!(
                "the object is in storage class {} and has not been restored",
                meta.storage_class
            ),
        )),
    }
}

/// Writes `x-cos-restore` for HEAD.
pub fn write_header(resp: &mut Response, state: Option<RestoreState>) {
    match state {
        Some(RestoreState::Ongoing) => resp.set("x-cos-restore", "ongoing-request=\"true\""),
        Some(RestoreState::Restored { expiry_ms }) => resp.set(
            "x-cos-restore",
            &format!(
                "ongoing-request=\"false\", expiry-date=\"{}\"",
                http_date(expiry_ms)
            ),
        ),
        None => {}
    }
}

/// SSEC-RESTORE: an SSE-C object is restored only with its own key.
fn check_key(ctx: &Context, call: &Call, meta: &ObjectMeta) -> Result<(), Error> {
    let request = encryption::read_request(ctx, call)?;
    encryption::check_read(ctx, call, meta, &request)?;
    if let (Some(record), SseRequest::Customer(c)) = (&meta.sse, &request) {
        if let KeyRecord::Customer { check, .. } = &record.key {
            check
                .verify(&c.key)
                .map_err(|e| crypto_error::refusal(&e))?;
        }
    }
    Ok(())
}

impl RestoreObject {
    /// Starts (202) or renews (200) the restore of the addressed object.
    pub async fn apply(self, ctx: &Context, call: &Call, bucket: &str) -> Result<Response, Error> {
        let key = call.key()?.to_string();
        let store = ctx.store.clone();
        let (b, k) = (bucket.to_string(), key.clone());
        let record = blocking(move || store.object(&b, &k).map_err(store_error))
            .await?
            .ok_or_else(|| Error::new(ErrorCode::NoSuchKey, format!("no object {key}")))?;
        let meta = record.meta;
        if !is_archive(&meta.storage_class) {
            // ERROR-CODES.md row 8c (S5: "返回405，错误码为RestoreNonArchiveObject").
            return Err(Error::new(
                ErrorCode::RestoreNonArchiveObject,
                format!(
                    "only ARCHIVE and DEEP_ARCHIVE objects are restored; this one is {}",
                    meta.storage_class
                ),
            ));
        }
        check_key(ctx, call, &meta)?;
        let now = now_ms();
        let (status, ready_ms) = match status(ctx, bucket, &meta).await? {
            Some(RestoreState::Ongoing) => {
                return Err(Error::new(
                    ErrorCode::RestoreAlreadyInProgress,
                    "a restore of this object is already in progress",
                ))
            }
            // Renewing a restored copy changes only its period.
            Some(RestoreState::Restored { .. }) => (200, now),
            None => {
                let delay = i64::try_from(ctx.restore_delay.as_millis()).unwrap_or(i64::MAX);
                (202, now.saturating_add(delay))
            }
        };
        let restore = RestoreRecord {
            requested_ms: now,
            ready_ms,
            days: self.days,
            tier: self.tier,
        };
        let store = ctx.store.clone();
        let (b, w) = (bucket.to_string(), meta.write_id.clone());
        blocking(move || store.restores().put(&b, &w, &restore).map_err(store_error)).await?;
        Ok(Response::new(status))
    }
}

/// Runs POST Object restore.
pub async fn handle(ctx: &Context, mut call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    let body = std::mem::replace(&mut call.req.body, Box::pin(futures_util::stream::empty()));
    let restore = parse_request(&read_document(body, xml::MAX_DOCUMENT).await?)?;
    restore.apply(ctx, &call, &bucket.name).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_requests() {
        let r = parse_request(b"<RestoreRequest><Days>3</Days><CASJobParameters><Tier>Bulk</Tier></CASJobParameters></RestoreRequest>").unwrap();
        assert_eq!((r.days, r.tier.as_str()), (3, "Bulk"));
        let r = parse_request(b"<RestoreRequest><Days>1</Days></RestoreRequest>").unwrap();
        assert_eq!(r.tier, "Standard");
        for (doc, code) in [
            (&b"<RestoreRequest/>"[..], ErrorCode::MalformedXml),
            (b"<Restore><Days>1</Days></Restore>", ErrorCode::MalformedXml),
            (b"<RestoreRequest><Days>0</Days></RestoreRequest>", ErrorCode::InvalidArgument),
            (b"<RestoreRequest><Days>x</Days></RestoreRequest>", ErrorCode::InvalidArgument),
            (
                b"<RestoreRequest><Days>1</Days><CASJobParameters><Tier>Fast</Tier></CASJobParameters></RestoreRequest>",
                ErrorCode::InvalidArgument,
            ),
        ] {
            assert_eq!(parse_request(doc).unwrap_err().code, code);
        }
    }
}
