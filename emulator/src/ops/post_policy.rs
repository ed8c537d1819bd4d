//! The authentication of POST Object (form upload): the form signature fields
//! (`q-sign-algorithm`, `q-ak`, `q-key-time`, `q-signature`) over the base64 policy
//! document, and the policy itself (`expiration`, `conditions`) checked against the form.
//!
//! `q-signature = hex(HMAC-SHA1(SignKey, hex(SHA1(policy JSON))))` with
//! `SignKey = hex(HMAC-SHA1(SecretKey, q-key-time))` (PROTOCOL.md, "POST Object").
//! An S3 form is signed with Signature V4 instead (`x-amz-algorithm`, `x-amz-credential`,
//! `x-amz-date`, `x-amz-signature`): `x-amz-signature = hex(HMAC-SHA256(signing key of
//! the credential's scope, base64 policy))` (the S3 API reference, "Browser-based uploads
//! using POST").
//! Conditions: `{"field": "value"}` and `["eq", "$field", "value"]` (exact),
//! `["starts-with", "$field", "prefix"]`, `["content-length-range", min, max]`; field names
//! match case-insensitively, `bucket` is the bucket addressed.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::auth::signature::{same_signature, sign_key};
use crate::auth::{account, Principal};
use crate::behaviour::Behaviours;
use crate::config::Account;
use crate::dialect::Dialect;
use crate::error::{Error, ErrorCode};
use crate::store::BucketRecord;

/// A condition of the policy that the file's length must meet once it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthRange {
    /// Smallest allowed length.
    pub min: u64,
    /// Largest allowed length.
    pub max: u64,
}

/// The form's value of `name` (case-insensitive), if given.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn denied(why: impl Into<String>) -> Error {
    Error::new(ErrorCode::AccessDenied, why.into())
}

fn invalid(why: &str) -> Error {
    Error::new(
        ErrorCode::InvalidPolicyDocument,
        format!("the policy is not base64 of a COS policy document: {why}"),
    )
}

/// Who signed the form: an account whose signature over the policy verifies, or
/// anonymous when no signature field is given. Also returns the policy's length range.
pub fn authenticate(
    fields: &[(String, String)],
    bucket: &BucketRecord,
    accounts: &[Account],
    behaviours: &Behaviours,
    now: i64,
) -> Result<(Principal, Option<LengthRange>), Error> {
    if let Some(signature) = field(fields, "x-amz-signature") {
        return authenticate_sigv4(fields, signature, bucket, accounts, behaviours, now);
    }
    let bucket = bucket.name.as_str();
    let Some(signature) = field(fields, "q-signature") else {
        return Ok((Principal::Anonymous, None));
    };
    let need = |name: &str| {
        field(fields, name).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("the form has q-signature but no {name} field"),
            )
        })
    };
    if !need("q-sign-algorithm")?.eq_ignore_ascii_case("sha1") {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "q-sign-algorithm must be sha1",
        ));
    }
    let ak = need("q-ak")?;
    let key_time = need("q-key-time")?;
    let policy_b64 = need("policy")?;
    let account = account(accounts, ak, Dialect::Cos)?;
    check_key_time(key_time, now)?;
    let policy = base64::engine::general_purpose::STANDARD
        .decode(policy_b64.trim())
        .map_err(|_| invalid("not base64"))?;
    let key = sign_key(&account.secret_key, key_time);
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).map_err(Error::internal)?;
    mac.update(hex::encode(Sha1::digest(&policy)).as_bytes());
    if !same_signature(&hex::encode(mac.finalize().into_bytes()), signature) {
        return Err(Error::new(
            ErrorCode::SignatureDoesNotMatch,
            "q-signature does not match the policy signed with the SecretKey of q-ak",
        ));
    }
    let range = check_policy(&policy, fields, bucket, now)?;
    Ok((Principal::Account(account.clone()), range))
}

/// A form signed with Signature V4: the algorithm, the credential's access key and scope
/// (its day the day of `x-amz-date`), the signature over the base64 policy, then the
/// policy itself.
fn authenticate_sigv4(
    fields: &[(String, String)],
    signature: &str,
    bucket: &BucketRecord,
    accounts: &[Account],
    behaviours: &Behaviours,
    now: i64,
) -> Result<(Principal, Option<LengthRange>), Error> {
    let region = bucket.region.as_str();
    let need = |name: &str| {
        field(fields, name).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("the form has x-amz-signature but no {name} field"),
            )
        })
    };
    if need("x-amz-algorithm")? != sigv4::ALGORITHM {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "x-amz-algorithm must be AWS4-HMAC-SHA256",
        ));
    }
    let credential = sigv4::Credential::parse(need("x-amz-credential")?)
        .map_err(|e| Error::new(ErrorCode::InvalidArgument, format!("x-amz-credential: {e}")))?;
    let date = need("x-amz-date")?;
    if sigv4::time::parse_timestamp(date).is_err() {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "x-amz-date must be YYYYMMDD'T'HHMMSS'Z'",
        ));
    }
    // The scope is checked as a header's or a presigned query's is (SIGV4-SCOPE-REGION).
    crate::auth::sigv4::check_scope(
        &credential.scope,
        date,
        Some(region),
        behaviours,
        |detail| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("x-amz-credential: {detail}"),
            )
        },
    )?;
    let policy_b64 = need("policy")?;
    let account = account(accounts, &credential.access_key, Dialect::S3)?;
    let key = sigv4::signing_key(&account.secret_key, &credential.scope);
    let expected = sigv4::signature(&key, policy_b64);
    if !sigv4::signatures_equal(&expected, signature) {
        return Err(Error::new(
            ErrorCode::SignatureDoesNotMatch,
            "x-amz-signature does not match the policy signed with the secret of x-amz-credential",
        ));
    }
    let policy = base64::engine::general_purpose::STANDARD
        .decode(policy_b64.trim())
        .map_err(|_| invalid("not base64"))?;
    let range = check_policy(&policy, fields, &bucket.name, now)?;
    Ok((Principal::Account(account.clone()), range))
}

/// `q-key-time` is `<start>;<end>` in Unix seconds and must contain `now`.
fn check_key_time(key_time: &str, now: i64) -> Result<(), Error> {
    let window = key_time
        .split_once(';')
        .and_then(|(a, b)| Some((a.trim().parse::<i64>().ok()?, b.trim().parse::<i64>().ok()?)));
    match window {
        None => Err(Error::new(
            ErrorCode::InvalidArgument,
            "q-key-time must be <start>;<end> in Unix seconds",
        )),
        Some((_, end)) if now > end => Err(Error::new(
            ErrorCode::RequestExpired,
            format!("Request has expired: q-key-time ends at {end}, now is {now}"),
        )),
        Some((start, _)) if now < start => Err(Error::new(
            ErrorCode::RequestExpired,
            format!("Request is not yet valid: q-key-time starts at {start}, now is {now}"),
        )),
        Some(_) => Ok(()),
    }
}

/// Checks the policy's expiration and every condition against the form fields.
pub fn check_policy(
    policy: &[u8],
    fields: &[(String, String)],
    bucket: &str,
    now: i64,
) -> Result<Option<LengthRange>, Error> {
    let doc: Value = serde_json::from_slice(policy).map_err(|_| invalid("not JSON"))?;
    let expiration = doc
        .get("expiration")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("no expiration"))?;
    let expires =
        time::OffsetDateTime::parse(expiration, &time::format_description::well_known::Rfc3339)
            .map_err(|_| invalid("expiration is not an ISO 8601 time"))?;
    if expires.unix_timestamp() < now {
        return Err(denied(format!("the policy expired at {expiration}")));
    }
    let conditions = match doc.get("conditions") {
        None => return Ok(None),
        Some(Value::Array(c)) => c,
        Some(_) => return Err(invalid("conditions is not a list")),
    };
    let value_of = |name: &str| -> String {
        let name = name.trim_start_matches('$');
        if name.eq_ignore_ascii_case("bucket") {
            bucket.to_string()
        } else {
            field(fields, name).unwrap_or("").to_string()
        }
    };
    let mut range = None;
    for c in conditions {
        match c {
            Value::Object(map) => {
                for (name, want) in map {
                    let want = want
                        .as_str()
                        .ok_or_else(|| invalid("a condition value is not text"))?;
                    if value_of(name) != want {
                        return Err(denied(format!(
                            "the form does not meet the policy condition on {name}"
                        )));
                    }
                }
            }
            Value::Array(items) => match items.as_slice() {
                [Value::String(op), Value::String(name), Value::String(want)] => {
                    let have = value_of(name);
                    let ok = match op.to_ascii_lowercase().as_str() {
                        "eq" => have == *want,
                        "starts-with" => have.starts_with(want.as_str()),
                        _ => return Err(invalid("unknown condition operator")),
                    };
                    if !ok {
                        return Err(denied(format!(
                            "the form does not meet the policy condition {op} on {name}"
                        )));
                    }
                }
                [Value::String(op), min, max]
                    if op.eq_ignore_ascii_case("content-length-range") =>
                {
                    let (Some(min), Some(max)) = (min.as_u64(), max.as_u64()) else {
                        return Err(invalid("content-length-range needs two integers"));
                    };
                    range = Some(LengthRange { min, max });
                }
                _ => return Err(invalid("a condition is not [op, $field, value]")),
            },
            _ => return Err(invalid("a condition is neither an object nor a list")),
        }
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bucket record named `name` in ap-guangzhou.
    fn bucket(name: &str) -> BucketRecord {
        BucketRecord {
            name: name.to_owned(),
            appid: "1250000000".to_owned(),
            region: "ap-guangzhou".to_owned(),
            created_ms: 0,
            acl: crate::store::Acl::Private,
            cors: Vec::new(),
            grants: Vec::new(),
            encryption: None,
        }
    }

    const ACCOUNT: &str = "AKIDx";

    /// `authenticate` against the bucket `name` with the accounts above and the default
    /// behaviours.
    fn authenticate_with_defaults(
        form: &[(String, String)],
        name: &str,
        now: i64,
    ) -> Result<(Principal, Option<LengthRange>), Error> {
        authenticate(
            form,
            &bucket(name),
            &accounts(),
            &Behaviours::default(),
            now,
        )
    }

    fn accounts() -> Vec<Account> {
        vec![Account {
            secret_id: ACCOUNT.into(),
            secret_key: "secret".into(),
            appid: "1250000000".into(),
        }]
    }

    fn signed_form(policy: &str, key_time: &str, secret: &str) -> Vec<(String, String)> {
        let sk = sign_key(secret, key_time);
        let mut mac = Hmac::<Sha1>::new_from_slice(sk.as_bytes()).unwrap();
        mac.update(hex::encode(Sha1::digest(policy.as_bytes())).as_bytes());
        let sig = hex::encode(mac.finalize().into_bytes());
        let b64 = base64::engine::general_purpose::STANDARD.encode(policy);
        [
            ("key", "dir/a.txt"),
            ("policy", b64.as_str()),
            ("q-sign-algorithm", "sha1"),
            ("q-ak", ACCOUNT),
            ("q-key-time", key_time),
            ("q-signature", sig.as_str()),
            ("x-cos-server-side-encryption", "AES256"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    }

    const POLICY: &str = r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[{"bucket":"b-1250000000"},["starts-with","$key","dir/"],{"x-cos-server-side-encryption":"AES256"},["content-length-range",1,100]]}"#;

    #[test]
    fn a_signed_policy_authenticates() {
        let form = signed_form(POLICY, "1000;2000000000", "secret");
        let (who, range) =
            authenticate_with_defaults(&form, "b-1250000000", 1_700_000_000).unwrap();
        assert_eq!(who.appid(), Some("1250000000"));
        assert_eq!(range, Some(LengthRange { min: 1, max: 100 }));
    }

    #[test]
    fn forged_expired_or_violated_policies_are_refused() {
        let now = 1_700_000_000;
        let form = signed_form(POLICY, "1000;2000000000", "not-the-secret");
        let e = authenticate_with_defaults(&form, "b-1250000000", now).unwrap_err();
        assert_eq!(e.code, ErrorCode::SignatureDoesNotMatch);

        let form = signed_form(POLICY, "1000;2000", "secret");
        let e = authenticate_with_defaults(&form, "b-1250000000", now).unwrap_err();
        assert_eq!(e.code, ErrorCode::RequestExpired);

        let form = signed_form(POLICY, "1000;2000000000", "secret");
        let e = authenticate_with_defaults(&form, "other-1250000000", now).unwrap_err();
        assert_eq!(e.code, ErrorCode::AccessDenied);

        let old = POLICY.replace("2030", "2020");
        let form = signed_form(&old, "1000;2000000000", "secret");
        let e = authenticate_with_defaults(&form, "b-1250000000", now).unwrap_err();
        assert_eq!(e.code, ErrorCode::AccessDenied);

        let mut form = signed_form(POLICY, "1000;2000000000", "secret");
        form[6].1 = "SM4".into();
        let e = authenticate_with_defaults(&form, "b-1250000000", now).unwrap_err();
        assert_eq!(
            e.code,
            ErrorCode::AccessDenied,
            "an SSE field the policy pins"
        );

        for bad in [
            "not json",
            r#"{"conditions":[]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["in","$key","x"]]}"#,
        ] {
            let form = signed_form(bad, "1000;2000000000", "secret");
            let e = authenticate_with_defaults(&form, "b-1250000000", now).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidPolicyDocument, "{bad}");
        }
    }

    #[test]
    fn no_signature_is_anonymous() {
        let form = vec![("key".to_string(), "k".to_string())];
        let (who, _) = authenticate_with_defaults(&form, "b-1", 0).unwrap();
        assert_eq!(who, Principal::Anonymous);
    }

    /// A SigV4 form: signed over the base64 policy with the scope's signing key; its scope
    /// is checked as a header's is (SIGV4-SCOPE-REGION: another region than the bucket's
    /// is refused; the switch lets it through).
    #[test]
    fn a_sigv4_form_is_verified_and_its_scope_checked() {
        let policy = base64::engine::general_purpose::STANDARD.encode(
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[{"bucket":"b-1250000000"}]}"#,
        );
        let form = |region: &str, secret: &str| -> Vec<(String, String)> {
            let scope = sigv4::Scope {
                date: "20260101".into(),
                region: region.into(),
                service: "s3".into(),
            };
            let signature = sigv4::signature(&sigv4::signing_key(secret, &scope), &policy);
            let credential = format!("{ACCOUNT}/{}", scope.render());
            [
                ("key", "k"),
                ("policy", policy.as_str()),
                ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
                ("x-amz-credential", credential.as_str()),
                ("x-amz-date", "20260101T000000Z"),
                ("x-amz-signature", signature.as_str()),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
        };
        let b = bucket("b-1250000000");
        let now = 1_767_225_600;
        let defaults = Behaviours::default();
        let (who, _) = authenticate(
            &form("ap-guangzhou", "secret"),
            &b,
            &accounts(),
            &defaults,
            now,
        )
        .unwrap();
        assert!(matches!(who, Principal::Account(_)));
        let e = authenticate(
            &form("ap-guangzhou", "wrong"),
            &b,
            &accounts(),
            &defaults,
            now,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::SignatureDoesNotMatch);
        let e = authenticate(
            &form("us-east-1", "secret"),
            &b,
            &accounts(),
            &defaults,
            now,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ScopeRegionMismatch);
        let ignored = Behaviours {
            sigv4_scope_region_ignored: true,
            ..Behaviours::default()
        };
        assert!(authenticate(&form("us-east-1", "secret"), &b, &accounts(), &ignored, now).is_ok());
    }
}
