//! Request → operation. Addressing (virtual-host or path style) gives the bucket, key and
//! region; method × target × sub-resource gives the [`Operation`]. The only place that
//! matches on sub-resources: one COS knows but the emulator does not implement answers
//! `NotImplemented`, never a wrong success.

use crate::dialect::Dialect;
use http::Method;

use crate::error::{Error, ErrorCode};
use crate::request::{decode_path, strip_port, Query};

/// COS's longest object key, in bytes.
pub const MAX_KEY_BYTES: usize = 850;

/// What the request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Region named by the Host (`None` for an IP, `localhost` or `service.cos.myqcloud.com`).
    pub region: Option<String>,
    /// `<name>-<appid>`, validated; `None` for GET Service.
    pub bucket: Option<String>,
    /// The object key, decoded; `None` for bucket-level requests.
    pub key: Option<String>,
    /// Whether the bucket came from the path (path style).
    pub path_style: bool,
    /// The full decoded request path.
    pub decoded_path: String,
}

impl Target {
    /// `/` + key, the path a COS signature covers (`/` for bucket-level requests).
    pub fn key_path(&self) -> String {
        format!("/{}", self.key.as_deref().unwrap_or(""))
    }
}

/// Whether `c` is a character of XML 1.0 (its `Char` production). Every listing echoes
/// keys, prefixes and markers into an XML document, which must stay well-formed.
pub fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// Key characters (emulator hardening, not a rule of the catalog): an object key COS does
/// not accept — with a line feed or carriage return (COS 436/13324:
/// "不允许携带以下字符串：%0a%0d"), with CAN, EM, SUB or ESC (same page:
/// "不支持 ASCII 控制字符中的…CAN(24)，EM(25)，SUB(26)，ESC(27)") — or with a character
/// XML 1.0 cannot carry (NUL and the other C0 controls but TAB), which would make every
/// listing that names it invalid XML. Refused with 400 InvalidArgument; the message does
/// not quote the key.
pub fn check_key_chars(key: &str) -> Result<(), Error> {
    if key
        .chars()
        .any(|c| c == '\n' || c == '\r' || !is_xml_char(c))
    {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "the object key contains a control character COS does not accept in keys \
             (CR, LF, or one XML 1.0 cannot carry)",
        ));
    }
    Ok(())
}

/// Checks a bucket name: `<name>-<appid>`, name of lower-case letters, digits and `-`
/// (not at either end), appid digits, whole at most 50 characters.
pub fn validate_bucket(bucket: &str) -> Result<(), Error> {
    let bad = |why: &str| {
        Err(Error::new(
            ErrorCode::InvalidBucketName,
            format!("bucket name {bucket:?} is invalid: {why}"),
        ))
    };
    let Some((name, appid)) = bucket.rsplit_once('-') else {
        return bad("it must be <name>-<appid>");
    };
    if appid.is_empty() || !appid.bytes().all(|b| b.is_ascii_digit()) {
        return bad("the appid suffix must be digits");
    }
    if name.is_empty() || bucket.len() > 50 {
        return bad("length");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return bad("only lower-case letters, digits and '-' are allowed");
    }
    if name.starts_with('-') || name.ends_with('-') {
        return bad("it may not start or end with '-'");
    }
    Ok(())
}

/// Host forms: (bucket, region) from `<bucket>.cos.<region>.myqcloud.com` (or
/// `.tencentcos.cn`); `(None, region)` from `cos.<region>.…`; `(None, None)` otherwise.
fn parse_host(host: &str) -> Result<(Option<String>, Option<String>, bool), Error> {
    let host = strip_port(host).to_ascii_lowercase();
    let Some(stem) = host
        .strip_suffix(".myqcloud.com")
        .or_else(|| host.strip_suffix(".tencentcos.cn"))
    else {
        // An IP, localhost or any other name: path style.
        return Ok((None, None, false));
    };
    if stem == "service.cos" {
        return Ok((None, None, true));
    }
    if let Some(region) = stem.strip_prefix("cos.") {
        return Ok((None, Some(region.to_string()), false));
    }
    match stem.split_once(".cos.") {
        Some((bucket, region)) if !region.contains('.') => {
            Ok((Some(bucket.to_string()), Some(region.to_string()), false))
        }
        _ => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("host {host} is not a COS endpoint (<bucket>.cos.<region>.myqcloud.com)"),
        )),
    }
}

/// Resolves Host + path to a [`Target`].
pub fn target(host: Option<&str>, raw_path: &str) -> Result<Target, Error> {
    let (host_bucket, region, service) = parse_host(host.unwrap_or(""))?;
    let decoded_path = decode_path(raw_path)?;
    let rest = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let (bucket, raw_key, path_style) = match host_bucket {
        Some(b) => (Some(b), rest, false),
        None if service => (None, "", false),
        None => match rest.split_once('/') {
            Some((b, k)) => (Some(decode_path(b)?), k, true),
            None if rest.is_empty() => (None, "", true),
            None => (Some(decode_path(rest)?), "", true),
        },
    };
    if let Some(b) = &bucket {
        validate_bucket(b)?;
    }
    let key = match decode_path(raw_key)? {
        k if k.is_empty() => None,
        k if k.len() > MAX_KEY_BYTES => {
            return Err(Error::new(
                ErrorCode::KeyTooLong,
                format!(
                    "the key is {} bytes; at most {MAX_KEY_BYTES} are allowed",
                    k.len()
                ),
            ))
        }
        k => {
            check_key_chars(&k)?;
            Some(k)
        }
    };
    if bucket.is_none() && key.is_some() {
        return Err(Error::new(
            ErrorCode::InvalidBucketName,
            "no bucket in the request",
        ));
    }
    Ok(Target {
        region,
        bucket,
        key,
        path_style,
        decoded_path,
    })
}

/// Every operation the emulator answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// GET Service (list buckets).
    GetService,
    /// PUT Bucket.
    PutBucket,
    /// HEAD Bucket.
    HeadBucket,
    /// DELETE Bucket.
    DeleteBucket,
    /// GET Bucket (list objects).
    ListObjects,
    /// PUT Bucket acl.
    PutBucketAcl,
    /// GET Bucket acl.
    GetBucketAcl,
    /// PUT Object.
    PutObject,
    /// GET Object.
    GetObject,
    /// HEAD Object.
    HeadObject,
    /// DELETE Object.
    DeleteObject,
    /// PUT Object acl.
    PutObjectAcl,
    /// GET Object acl.
    GetObjectAcl,
    /// PUT Object - Copy (`x-cos-copy-source`).
    CopyObject,
    /// POST Object (form upload to the bucket).
    PostObject,
    /// POST Object restore (`?restore`).
    RestoreObject,
    /// Initiate Multipart Upload (`POST ?uploads`).
    InitiateMultipartUpload,
    /// Upload Part (`PUT ?partNumber&uploadId`).
    UploadPart,
    /// Upload Part - Copy (`PUT ?partNumber&uploadId` + `x-cos-copy-source`).
    UploadPartCopy,
    /// Complete Multipart Upload (`POST ?uploadId`).
    CompleteMultipartUpload,
    /// Abort Multipart Upload (`DELETE ?uploadId`).
    AbortMultipartUpload,
    /// List Parts (`GET ?uploadId`).
    ListParts,
    /// List Multipart Uploads (`GET Bucket ?uploads`).
    ListMultipartUploads,
    /// PUT Bucket cors (`?cors`).
    PutBucketCors,
    /// GET Bucket cors (`?cors`).
    GetBucketCors,
    /// DELETE Bucket cors (`?cors`).
    DeleteBucketCors,
    /// OPTIONS Object: a CORS preflight, on any resource of a bucket.
    OptionsObject,
    /// Delete Multiple Objects (`POST Bucket ?delete`).
    DeleteObjects,
    /// GET Bucket location (`?location`).
    GetBucketLocation,
    /// PUT Bucket encryption (`?encryption`): the bucket's default encryption.
    PutBucketEncryption,
    /// GET Bucket encryption (`?encryption`).
    GetBucketEncryption,
    /// DELETE Bucket encryption (`?encryption`).
    DeleteBucketEncryption,
}

/// Sub-resources COS defines that the emulator does not implement (yet): answered with
/// `NotImplemented` whether sent bare (`?live`) or with a value (`?live=`, as both official
/// SDKs send them), before the operation runs, so that none falls through to an object or
/// listing operation. From the COS API reference (bucket, object and data-processing
/// APIs) and the sub-resources cos-python-sdk-v5 and cos-nodejs-sdk-v5 send.
pub const UNIMPLEMENTED: &[&str] = &[
    "accelerate",
    "append",
    "ci-process",
    "domain",
    "domaincertificate",
    "guetzli",
    "image_process",
    "imageAve",
    "imageInfo",
    "imageInspect",
    "intelligenttiering",
    "inventory",
    "inventory-configurations",
    "lifecycle",
    "list-type",
    "live",
    "logging",
    "meta-query",
    "notification",
    "object-lock",
    "objectlock",
    "origin",
    "pic",
    "policy",
    "position",
    "quota",
    "referer",
    "rename",
    "replication",
    "response-control",
    "retention",
    "select",
    "style",
    "symlink",
    "tagging",
    "torrent",
    "versioning",
    "versions",
    "vod",
    "website",
];

/// Sub-resources the emulator implements (with or without `=`).
pub const IMPLEMENTED: &[&str] = &[
    "acl",
    "cors",
    "delete",
    "encryption",
    "location",
    "partNumber",
    "restore",
    "uploadId",
    "uploads",
];

/// Parameters that carry a value and are not sub-resources.
fn is_plain_param(name: &str) -> bool {
    matches!(
        name,
        "prefix" | "delimiter" | "marker" | "max-keys" | "encoding-type" | "x-cos-security-token"
    ) || is_multipart_param(name)
        || name.starts_with("response-")
        || name.starts_with("q-")
}

/// Parameters of the multipart listings (values, not sub-resources).
fn is_multipart_param(name: &str) -> bool {
    matches!(
        name,
        "key-marker" | "upload-id-marker" | "max-uploads" | "max-parts" | "part-number-marker"
    )
}

/// The sub-resources that select an operation, as found in the query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct SubResources {
    acl: bool,
    uploads: bool,
    upload_id: bool,
    part_number: bool,
    restore: bool,
    cors: bool,
    delete: bool,
    location: bool,
    encryption: bool,
}

fn not_implemented(what: &str) -> Error {
    Error::new(
        ErrorCode::NotImplemented,
        format!("{what} is not implemented by this emulator"),
    )
}

/// The sub-resources the request names ([`IMPLEMENTED`]), or a refusal for one not
/// implemented ([`UNIMPLEMENTED`], or any bare name that is not a plain parameter).
fn sub_resources(query: &Query, dialect: Dialect) -> Result<SubResources, Error> {
    let mut found = SubResources::default();
    for p in &query.params {
        let name = p.name.as_str();
        match name {
            // S3-LIST-V2: S3's ListObjectsV2 is GET Bucket with `list-type=2` (its
            // parameters read by `ops::list_objects`); COS documents no such listing.
            "list-type" if dialect == Dialect::S3 => {}
            "acl" => found.acl = true,
            "uploads" => found.uploads = true,
            "uploadId" => found.upload_id = true,
            "partNumber" => found.part_number = true,
            "restore" => found.restore = true,
            "cors" => found.cors = true,
            "delete" => found.delete = true,
            "location" => found.location = true,
            "encryption" => found.encryption = true,
            "versionId" if !matches!(p.value.as_deref(), None | Some("") | Some("null")) => {
                return Err(not_implemented("versioning (versionId)"));
            }
            "versionId" => {}
            _ if UNIMPLEMENTED.contains(&name) || (p.value.is_none() && !is_plain_param(name)) => {
                return Err(not_implemented(&format!("sub-resource ?{name}")));
            }
            _ => {}
        }
    }
    Ok(found)
}

/// Method × target × sub-resource → operation, for a COS request.
pub fn route(
    method: &Method,
    target: &Target,
    query: &Query,
    copy_source: bool,
) -> Result<Operation, Error> {
    route_in(Dialect::Cos, method, target, query, copy_source)
}

/// Method × target × sub-resource → operation, for a request of `dialect` (an S3 request
/// may name S3's own sub-resources: `list-type`).
pub fn route_in(
    dialect: Dialect,
    method: &Method,
    target: &Target,
    query: &Query,
    copy_source: bool,
) -> Result<Operation, Error> {
    use Operation::*;
    // A preflight may name any resource of a bucket, sub-resources included (OPTIONS
    // Object: "OPTIONS /?lifecycle" is as valid as "OPTIONS /<key>"); it is unsigned.
    if *method == Method::OPTIONS && target.bucket.is_some() {
        return Ok(OptionsObject);
    }
    let sub = sub_resources(query, dialect)?;
    let op = match (&target.bucket, &target.key) {
        (None, _) => match *method {
            Method::GET => GetService,
            _ => return Err(method_not_allowed(method, "the service")),
        },
        (Some(_), None) => bucket_operation(method, sub)?,
        (Some(_), Some(_)) => object_operation(method, sub, copy_source)?,
    };
    Ok(op)
}

fn bucket_operation(method: &Method, sub: SubResources) -> Result<Operation, Error> {
    use Operation::*;
    let plain = sub == SubResources::default();
    let uploads = sub
        == SubResources {
            uploads: true,
            ..SubResources::default()
        };
    let acl = sub
        == SubResources {
            acl: true,
            ..SubResources::default()
        };
    let cors = sub
        == SubResources {
            cors: true,
            ..SubResources::default()
        };
    let delete = sub
        == SubResources {
            delete: true,
            ..SubResources::default()
        };
    let location = sub
        == SubResources {
            location: true,
            ..SubResources::default()
        };
    let encryption = sub
        == SubResources {
            encryption: true,
            ..SubResources::default()
        };
    Ok(match *method {
        Method::POST if delete => DeleteObjects,
        Method::PUT if encryption => PutBucketEncryption,
        Method::GET if encryption => GetBucketEncryption,
        Method::DELETE if encryption => DeleteBucketEncryption,
        Method::GET if location => GetBucketLocation,
        Method::PUT if cors => PutBucketCors,
        Method::GET if cors => GetBucketCors,
        Method::DELETE if cors => DeleteBucketCors,
        Method::PUT if plain => PutBucket,
        Method::PUT if acl => PutBucketAcl,
        Method::GET if plain => ListObjects,
        Method::GET if acl => GetBucketAcl,
        Method::GET if uploads => ListMultipartUploads,
        Method::HEAD if plain => HeadBucket,
        Method::DELETE if plain => DeleteBucket,
        Method::POST if plain => PostObject,
        _ => {
            return Err(method_not_allowed(
                method,
                "a bucket with these sub-resources",
            ))
        }
    })
}

fn object_operation(
    method: &Method,
    sub: SubResources,
    copy_source: bool,
) -> Result<Operation, Error> {
    use Operation::*;
    let only = |s: SubResources| sub == s;
    let none = SubResources::default();
    let acl = SubResources { acl: true, ..none };
    let uploads = SubResources {
        uploads: true,
        ..none
    };
    let upload = SubResources {
        upload_id: true,
        ..none
    };
    let part = SubResources {
        upload_id: true,
        part_number: true,
        ..none
    };
    let restore = SubResources {
        restore: true,
        ..none
    };
    Ok(match *method {
        Method::PUT if only(none) && copy_source => CopyObject,
        Method::PUT if only(none) => PutObject,
        Method::PUT if only(part) && copy_source => UploadPartCopy,
        Method::PUT if only(part) => UploadPart,
        Method::PUT if only(acl) => PutObjectAcl,
        Method::GET if only(none) => GetObject,
        Method::GET if only(acl) => GetObjectAcl,
        Method::GET if only(upload) => ListParts,
        Method::HEAD if only(none) => HeadObject,
        Method::DELETE if only(none) => DeleteObject,
        Method::DELETE if only(upload) => AbortMultipartUpload,
        Method::POST if only(uploads) => InitiateMultipartUpload,
        Method::POST if only(upload) => CompleteMultipartUpload,
        Method::POST if only(restore) => RestoreObject,
        Method::GET | Method::HEAD if sub.part_number => {
            return Err(not_implemented("GET Object ?partNumber"))
        }
        Method::POST => return Err(not_implemented(&format!("{method} on an object"))),
        _ => {
            return Err(method_not_allowed(
                method,
                "an object with these sub-resources",
            ))
        }
    })
}

fn method_not_allowed(method: &Method, what: &str) -> Error {
    Error::new(
        ErrorCode::MethodNotAllowed,
        format!("{method} is not allowed on {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_chars() {
        for ok in ["a", "tab\there", "é/ü", "\u{10FFFF}", "\u{7f}"] {
            assert!(check_key_chars(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "\0", "a\nb", "a\rb", "\u{18}", "\u{19}", "\u{1a}", "\u{1b}", "\u{FFFE}",
        ] {
            assert_eq!(
                check_key_chars(bad).unwrap_err().code,
                ErrorCode::InvalidArgument,
                "{bad:?}"
            );
        }
        let e = target(Some("b-1.cos.ap-beijing.myqcloud.com"), "/a%00b").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn virtual_host_and_path_style() {
        let t = target(
            Some("ex-1250000000.cos.ap-beijing.myqcloud.com"),
            "/dir/a%20b%2Bc.txt",
        )
        .unwrap();
        assert_eq!(t.bucket.as_deref(), Some("ex-1250000000"));
        assert_eq!(t.key.as_deref(), Some("dir/a b+c.txt"));
        assert_eq!(t.region.as_deref(), Some("ap-beijing"));
        assert_eq!(t.key_path(), "/dir/a b+c.txt");

        let t = target(Some("ex-1250000000.cos.ap-shanghai.tencentcos.cn:443"), "/").unwrap();
        assert_eq!(t.region.as_deref(), Some("ap-shanghai"));
        assert_eq!(t.key, None);

        let t = target(Some("127.0.0.1:9000"), "/ex-1250000000/a/b").unwrap();
        assert!(t.path_style);
        assert_eq!(t.bucket.as_deref(), Some("ex-1250000000"));
        assert_eq!(t.key.as_deref(), Some("a/b"));
        assert_eq!(t.decoded_path, "/ex-1250000000/a/b");

        let t = target(Some("cos.ap-guangzhou.myqcloud.com"), "/ex-1250000000").unwrap();
        assert_eq!(t.region.as_deref(), Some("ap-guangzhou"));
        assert_eq!(t.bucket.as_deref(), Some("ex-1250000000"));

        let t = target(Some("service.cos.myqcloud.com"), "/").unwrap();
        assert_eq!(t.bucket, None);
        let t = target(Some("localhost"), "/").unwrap();
        assert_eq!(t.bucket, None);
    }

    #[test]
    fn bad_names_and_keys() {
        for b in [
            "Ex-125",
            "ex",
            "ex-abc",
            "-ex-1",
            "ex--1",
            "e_x-1",
            &format!("{}-1", "a".repeat(50)),
        ] {
            assert_eq!(
                validate_bucket(b).unwrap_err().code,
                ErrorCode::InvalidBucketName,
                "{b}"
            );
        }
        assert!(validate_bucket("a-b-1250000000").is_ok());
        let long = format!("/b-1/{}", "k".repeat(851));
        assert_eq!(
            target(Some("localhost"), &long).unwrap_err().code,
            ErrorCode::KeyTooLong
        );
        assert!(target(Some("localhost"), &format!("/b-1/{}", "k".repeat(850))).is_ok());
        assert_eq!(
            target(Some("localhost"), "/b-1/%ff").unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn routes_and_sub_resources() {
        let obj = target(Some("localhost"), "/b-1/k").unwrap();
        let bucket = target(Some("localhost"), "/b-1").unwrap();
        let q = |s: &str| Query::parse(s).unwrap();
        assert_eq!(
            route(&Method::PUT, &obj, &q(""), false).unwrap(),
            Operation::PutObject
        );
        assert_eq!(
            route(&Method::PUT, &obj, &q("acl"), false).unwrap(),
            Operation::PutObjectAcl
        );
        assert_eq!(
            route(&Method::GET, &bucket, &q("prefix=a&max-keys=2"), false).unwrap(),
            Operation::ListObjects
        );
        assert_eq!(
            route(&Method::GET, &bucket, &q("acl="), false).unwrap(),
            Operation::GetBucketAcl
        );
        for s in ["tagging", "versionId=3", "frobnicate", "partNumber=1"] {
            assert_eq!(
                route(&Method::GET, &obj, &q(s), false).unwrap_err().code,
                ErrorCode::NotImplemented,
                "{s}"
            );
        }
        for s in ["uploads", "restore", "uploadId=x&acl"] {
            assert_eq!(
                route(&Method::GET, &obj, &q(s), false).unwrap_err().code,
                ErrorCode::MethodNotAllowed,
                "{s}"
            );
        }
        assert_eq!(
            route(&Method::PUT, &obj, &q(""), true).unwrap(),
            Operation::CopyObject
        );
        assert_eq!(
            route(&Method::PATCH, &obj, &q(""), false).unwrap_err().code,
            ErrorCode::MethodNotAllowed
        );
        assert_eq!(
            route(&Method::GET, &obj, &q("response-content-type=a"), false).unwrap(),
            Operation::GetObject
        );
    }

    proptest::proptest! {
        /// Every unimplemented sub-resource, bare or with any value, beside any plain
        /// parameters, in any position, on a bucket or an object, by any method but the
        /// preflight: NotImplemented, never an operation.
        #[test]
        fn unimplemented_sub_resources_never_route(
            name in proptest::sample::select(UNIMPLEMENTED),
            method in proptest::sample::select(vec!["GET", "PUT", "POST", "DELETE", "HEAD"]),
            value in proptest::option::of("[a-zA-Z0-9/=_-]{0,12}"),
            plain in proptest::sample::select(vec!["", "prefix=a", "max-keys=2", "uploadId=u&partNumber=1", "acl", "uploads"]),
            first in proptest::bool::ANY,
            object in proptest::bool::ANY,
            copy in proptest::bool::ANY,
        ) {
            let sub = match &value {
                None => name.to_string(),
                Some(v) => format!("{name}={v}"),
            };
            let raw = match (plain.is_empty(), first) {
                (true, _) => sub,
                (false, true) => format!("{sub}&{plain}"),
                (false, false) => format!("{plain}&{sub}"),
            };
            let path = if object { "/b-1/k" } else { "/b-1" };
            let t = target(Some("localhost"), path).unwrap();
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let q = Query::parse(&raw).unwrap();
            let err = route(&method, &t, &q, copy).unwrap_err();
            proptest::prop_assert_eq!(err.code, ErrorCode::NotImplemented, "{} {}?{}", method, path, raw);
        }
    }

    /// `?encryption` (bare, as the Python SDK sends it, or `encryption=`, as the Node.js
    /// SDK does) routes to the bucket default-encryption operations; on an object, or with
    /// POST, it is not an operation.
    #[test]
    fn encryption_routes() {
        let bucket = target(Some("localhost"), "/b-1").unwrap();
        let object = target(Some("localhost"), "/b-1/k").unwrap();
        let q = |s: &str| Query::parse(s).unwrap();
        for query in ["encryption", "encryption="] {
            for (method, op) in [
                (Method::PUT, Operation::PutBucketEncryption),
                (Method::GET, Operation::GetBucketEncryption),
                (Method::DELETE, Operation::DeleteBucketEncryption),
            ] {
                assert_eq!(route(&method, &bucket, &q(query), false).unwrap(), op);
            }
            assert_eq!(
                route(&Method::POST, &bucket, &q(query), false)
                    .unwrap_err()
                    .code,
                ErrorCode::MethodNotAllowed
            );
            assert!(route(&Method::GET, &object, &q(query), false).is_err());
        }
    }

    #[test]
    fn location_and_delete_route() {
        let bucket = target(Some("localhost"), "/b-1").unwrap();
        let q = |s: &str| Query::parse(s).unwrap();
        for query in ["location", "location="] {
            assert_eq!(
                route(&Method::GET, &bucket, &q(query), false).unwrap(),
                Operation::GetBucketLocation
            );
        }
        for query in ["delete", "delete="] {
            assert_eq!(
                route(&Method::POST, &bucket, &q(query), false).unwrap(),
                Operation::DeleteObjects
            );
        }
        assert_eq!(
            route(&Method::PUT, &bucket, &q("location"), false)
                .unwrap_err()
                .code,
            ErrorCode::MethodNotAllowed
        );
    }

    #[test]
    fn multipart_restore_and_post_routes() {
        use Operation::*;
        let obj = target(Some("localhost"), "/b-1/k").unwrap();
        let bucket = target(Some("localhost"), "/b-1").unwrap();
        let q = |s: &str| Query::parse(s).unwrap();
        for (method, t, query, copy, op) in [
            (
                Method::POST,
                &obj,
                "uploads",
                false,
                InitiateMultipartUpload,
            ),
            (
                Method::PUT,
                &obj,
                "partNumber=1&uploadId=a",
                false,
                UploadPart,
            ),
            (
                Method::PUT,
                &obj,
                "uploadId=a&partNumber=2",
                true,
                UploadPartCopy,
            ),
            (
                Method::POST,
                &obj,
                "uploadId=a",
                false,
                CompleteMultipartUpload,
            ),
            (
                Method::DELETE,
                &obj,
                "uploadId=a",
                false,
                AbortMultipartUpload,
            ),
            (
                Method::GET,
                &obj,
                "uploadId=a&max-parts=2",
                false,
                ListParts,
            ),
            (Method::POST, &obj, "restore", false, RestoreObject),
            (
                Method::GET,
                &bucket,
                "uploads&prefix=a&key-marker=b",
                false,
                ListMultipartUploads,
            ),
            (Method::POST, &bucket, "", false, PostObject),
        ] {
            assert_eq!(
                route(&method, t, &q(query), copy).unwrap(),
                op,
                "{method} {query}"
            );
        }
        for (method, query, code) in [
            (Method::PUT, "partNumber=1", ErrorCode::MethodNotAllowed),
            (Method::DELETE, "uploads", ErrorCode::MethodNotAllowed),
            (
                Method::POST,
                "uploads&uploadId=a",
                ErrorCode::NotImplemented,
            ),
        ] {
            assert_eq!(
                route(&method, &obj, &q(query), false).unwrap_err().code,
                code,
                "{method} {query}"
            );
        }
    }
}
