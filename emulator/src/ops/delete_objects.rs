//! Delete Multiple Objects (`POST /?delete` with a `Delete` document): up to 1,000 keys in
//! one request, each deleted as DELETE Object deletes it (an SSE-C object without its key:
//! deleting reads nothing), with a `DeleteResult` naming each key `Deleted` or `Error`
//! (verbose), or only the errors (`<Quiet>true</Quiet>`).
//!
//! `Content-MD5` is required, as the COS API page for it says: missing is 400
//! InvalidRequest, unparsable 400 InvalidDigest, not the body's MD5 400 BadDigest. A
//! document that is not a `Delete` of 1 to 1,000 `Object`s with a `Key` each is
//! MalformedXML; nothing is deleted unless the whole document is valid. Per-key errors
//! (the caller may not write the bucket, a key longer than COS allows, a version id the
//! emulator does not implement, a store failure) are reported per key and the other keys
//! are still deleted.

use md5::{Digest, Md5};

use super::upload_body::{check_md5, content_md5};
use super::{load_bucket, read_document, Call, Context};
use crate::auth::acl::{self, Action};
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::response::Response;
use crate::router::MAX_KEY_BYTES;
use crate::xml::{self, XmlWriter};

/// The most keys one request may name.
pub const MAX_KEYS: usize = 1000;

/// The largest `Delete` document: 1,000 keys of the longest length, escaped, with their
/// elements.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// A parsed `Delete` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRequest {
    /// Only errors are reported.
    pub quiet: bool,
    /// The keys, in document order, each with the `VersionId` it named, if any.
    pub objects: Vec<(String, Option<String>)>,
}

fn malformed(why: &str) -> Error {
    Error::new(ErrorCode::MalformedXml, format!("Delete: {why}"))
}

/// Parses a `Delete` document.
pub fn parse(doc: &[u8]) -> Result<DeleteRequest, Error> {
    let root = xml::parse(doc)?;
    if root.name != "Delete" {
        return Err(malformed("the root element must be Delete"));
    }
    let quiet = match root.child("Quiet").map(|q| q.text.as_str()) {
        None => false,
        Some(q) if q.eq_ignore_ascii_case("true") => true,
        Some(q) if q.eq_ignore_ascii_case("false") => false,
        Some(q) => return Err(malformed(&format!("Quiet {q:?} is not true or false"))),
    };
    let objects = root
        .children_named("Object")
        .map(|o| {
            let key = o
                .child("Key")
                .ok_or_else(|| malformed("an Object has no Key"))?;
            let version = o
                .child("VersionId")
                .map(|v| v.text.clone())
                .filter(|v| !v.is_empty() && v != "null");
            Ok((key.raw_text.clone(), version))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    if objects.is_empty() || objects.len() > MAX_KEYS {
        return Err(malformed(&format!(
            "{} Objects; 1 to {MAX_KEYS} are allowed",
            objects.len()
        )));
    }
    Ok(DeleteRequest { quiet, objects })
}

/// The outcome of one key.
type Outcome = Result<(), (ErrorCode, String)>;

/// Runs Delete Multiple Objects.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    let may_write = acl::allows(&call.authn.principal, &bucket, None, Action::WriteObjects);
    let expected = content_md5(&call.req)?.ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidRequest,
            "Delete Multiple Objects requires Content-MD5",
        )
    })?;
    let doc = read_document(call.req.body, MAX_BODY).await?;
    check_md5(Some(expected), Md5::digest(&doc).into(), "Delete document")?;
    let request = parse(&doc)?;
    let store = ctx.store.clone();
    let keys = request.objects.clone();
    let outcomes: Vec<Outcome> = blocking(move || {
        Ok(keys
            .iter()
            .map(|(key, version)| {
                if !may_write {
                    return Err((ErrorCode::AccessDenied, "access denied".to_string()));
                }
                if key.is_empty() || key.len() > MAX_KEY_BYTES {
                    return Err((
                        ErrorCode::InvalidArgument,
                        format!("a key must be 1 to {MAX_KEY_BYTES} bytes"),
                    ));
                }
                if version.is_some() {
                    return Err((
                        ErrorCode::NotImplemented,
                        "versioning (VersionId) is not implemented by this emulator".into(),
                    ));
                }
                store
                    .delete_object(&bucket.name, key)
                    .map(|_| ())
                    .map_err(|e| {
                        let e = store_error(e);
                        (e.code, e.message)
                    })
            })
            .collect())
    })
    .await?;
    let mut w = XmlWriter::new();
    w.open("DeleteResult");
    for ((key, _), outcome) in request.objects.iter().zip(&outcomes) {
        match outcome {
            Ok(()) if request.quiet => {}
            Ok(()) => {
                w.open("Deleted");
                w.leaf("Key", key);
                w.close("Deleted");
            }
            Err((code, message)) => {
                w.open("Error");
                w.leaf("Key", key);
                w.leaf("Code", code.as_str());
                w.leaf("Message", message);
                w.close("Error");
            }
        }
    }
    w.close("DeleteResult");
    Ok(Response::xml(w.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quiet_and_keys_as_sent() {
        let r = parse(b"<Delete><Quiet>true</Quiet><Object><Key> a </Key></Object><Object><Key>b</Key><VersionId>null</VersionId></Object></Delete>").unwrap();
        assert!(r.quiet);
        assert_eq!(
            r.objects,
            vec![(" a ".to_string(), None), ("b".to_string(), None)]
        );
    }

    #[test]
    fn refuses_bad_documents() {
        for doc in [
            &b"<Delete></Delete>"[..],
            b"<Remove><Object><Key>a</Key></Object></Remove>",
            b"<Delete><Object></Object></Delete>",
            b"<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>",
        ] {
            assert_eq!(parse(doc).unwrap_err().code, ErrorCode::MalformedXml);
        }
        let many = format!(
            "<Delete>{}</Delete>",
            "<Object><Key>k</Key></Object>".repeat(MAX_KEYS + 1)
        );
        assert_eq!(
            parse(many.as_bytes()).unwrap_err().code,
            ErrorCode::MalformedXml
        );
    }
}
