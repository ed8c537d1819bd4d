//! The two places a signature travels (the `Authorization` header and the presigned
//! query), and the client side that produces them.

use crate::canonical::{
    canonical_request, check_signed_headers, signature, signed_header_names, signing_key,
    string_to_sign, Credential, Request, Scope,
};
use crate::encode::PathOptions;
use crate::{time, Error, ALGORITHM};

/// The longest validity a presigned URL may ask for: seven days.
pub const MAX_PRESIGN_EXPIRES: u64 = 7 * 24 * 3600;

/// `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Whose key signed, for which day, region and service.
    pub credential: Credential,
    /// The headers the signature covers, lower case, in the order signed.
    pub signed_headers: Vec<String>,
    /// The signature, lower-case hex.
    pub signature: String,
}

fn is_signature(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn split_signed_headers(text: &str) -> Result<Vec<String>, Error> {
    let names: Vec<String> = text.split(';').map(str::to_owned).collect();
    check_signed_headers(&names)?;
    Ok(names)
}

impl Authorization {
    /// Whether a header value is meant to be a Signature V4 (it starts with the algorithm).
    pub fn is_sigv4(header_value: &str) -> bool {
        header_value.trim_start().starts_with(ALGORITHM)
    }

    /// Parses the header value.
    pub fn parse(header_value: &str) -> Result<Authorization, Error> {
        let rest =
            header_value
                .trim()
                .strip_prefix(ALGORITHM)
                .ok_or(Error::MalformedAuthorization(
                    "it does not start with AWS4-HMAC-SHA256",
                ))?;
        if !rest.starts_with(' ') {
            return Err(Error::MalformedAuthorization(
                "no space after the algorithm",
            ));
        }
        let (mut credential, mut signed_headers, mut sig) = (None, None, None);
        for field in rest.split(',') {
            let (name, value) = field
                .trim()
                .split_once('=')
                .ok_or(Error::MalformedAuthorization("a field is not name=value"))?;
            let slot = match name {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut sig,
                _ => return Err(Error::MalformedAuthorization("an unknown field")),
            };
            if slot.replace(value).is_some() {
                return Err(Error::MalformedAuthorization("a field is repeated"));
            }
        }
        let credential = credential.ok_or(Error::MalformedAuthorization("no Credential"))?;
        let signed_headers =
            signed_headers.ok_or(Error::MalformedAuthorization("no SignedHeaders"))?;
        let sig = sig.ok_or(Error::MalformedAuthorization("no Signature"))?;
        if !is_signature(sig) {
            return Err(Error::MalformedAuthorization(
                "the signature is not 64 lower-case hex digits",
            ));
        }
        Ok(Authorization {
            credential: Credential::parse(credential)?,
            signed_headers: split_signed_headers(signed_headers)?,
            signature: sig.to_owned(),
        })
    }

    /// The header value.
    pub fn render(&self) -> String {
        format!(
            "{ALGORITHM} Credential={}, SignedHeaders={}, Signature={}",
            self.credential.render(),
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

/// The `X-Amz-*` parameters of a presigned URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    /// Whose key signed, for which day, region and service.
    pub credential: Credential,
    /// `X-Amz-Date`, the moment of signing.
    pub timestamp: String,
    /// `X-Amz-Expires`, seconds of validity from `timestamp` (at most seven days).
    pub expires: u64,
    /// `X-Amz-SignedHeaders`.
    pub signed_headers: Vec<String>,
    /// `X-Amz-Signature`.
    pub signature: String,
    /// `X-Amz-Security-Token`, a temporary credential's session token.
    pub security_token: Option<String>,
}

impl Presigned {
    /// Reads the presigned parameters of a decoded query: `Ok(None)` when it has no
    /// `X-Amz-Algorithm` (the request is not presigned), an error when it is presigned but
    /// incomplete or malformed.
    pub fn parse(query: &[(String, String)]) -> Result<Option<Presigned>, Error> {
        let get = |name: &str| -> Result<Option<&str>, Error> {
            let mut found = query.iter().filter(|(key, _)| key == name);
            let first = found.next().map(|(_, value)| value.as_str());
            if found.next().is_some() {
                return Err(Error::MalformedPresign("a parameter is repeated"));
            }
            Ok(first)
        };
        let Some(algorithm) = get("X-Amz-Algorithm")? else {
            return Ok(None);
        };
        if algorithm != ALGORITHM {
            return Err(Error::MalformedPresign(
                "X-Amz-Algorithm is not AWS4-HMAC-SHA256",
            ));
        }
        let need = |name: &'static str, missing: &'static str| -> Result<&str, Error> {
            get(name)?.ok_or(Error::MalformedPresign(missing))
        };
        let credential = Credential::parse(need("X-Amz-Credential", "no X-Amz-Credential")?)?;
        let timestamp = need("X-Amz-Date", "no X-Amz-Date")?;
        time::parse_timestamp(timestamp)?;
        let expires: u64 = need("X-Amz-Expires", "no X-Amz-Expires")?
            .parse()
            .map_err(|_| Error::MalformedPresign("X-Amz-Expires is not a number"))?;
        if expires == 0 || expires > MAX_PRESIGN_EXPIRES {
            return Err(Error::MalformedPresign(
                "X-Amz-Expires is not between 1 and 604800 seconds",
            ));
        }
        let signed_headers =
            split_signed_headers(need("X-Amz-SignedHeaders", "no X-Amz-SignedHeaders")?)?;
        let sig = need("X-Amz-Signature", "no X-Amz-Signature")?;
        if !is_signature(sig) {
            return Err(Error::MalformedPresign(
                "the signature is not 64 lower-case hex digits",
            ));
        }
        Ok(Some(Presigned {
            credential,
            timestamp: timestamp.to_owned(),
            expires,
            signed_headers,
            signature: sig.to_owned(),
            security_token: get("X-Amz-Security-Token")?.map(str::to_owned),
        }))
    }
}

/// What signing produced: the headers (or query pairs) to add, and what an `aws-chunked`
/// body needs to continue the chain.
#[derive(Debug, Clone)]
pub struct SignatureOutput {
    /// Headers to add to the request (header form) or query pairs to append (presigned).
    pub additions: Vec<(String, String)>,
    /// The seed signature, the first link of a chunk-signature chain.
    pub signature: String,
    /// The signing key.
    pub key: [u8; 32],
    /// The scope signed in.
    pub scope: Scope,
    /// The time stamp signed at.
    pub timestamp: String,
}

/// A client's signer: one access key and secret, one region and service.
#[derive(Debug, Clone)]
pub struct Signer {
    /// The access key id.
    pub access_key: String,
    /// The secret key.
    pub secret: String,
    /// The region signed for.
    pub region: String,
    /// The service, `s3`.
    pub service: String,
    /// A temporary credential's session token, sent as `x-amz-security-token`.
    pub session_token: Option<String>,
    /// How the path is canonicalised ([`PathOptions::S3`] for S3).
    pub path: PathOptions,
    /// Whether to send and sign `x-amz-content-sha256` (S3 requires it).
    pub content_sha256_header: bool,
}

impl Signer {
    /// A signer for S3 (`s3`, paths encoded once, `x-amz-content-sha256` sent).
    pub fn s3(access_key: &str, secret: &str, region: &str) -> Signer {
        Signer {
            access_key: access_key.to_owned(),
            secret: secret.to_owned(),
            region: region.to_owned(),
            service: "s3".to_owned(),
            session_token: None,
            path: PathOptions::S3,
            content_sha256_header: true,
        }
    }

    /// The signature of `request` over `signed`, and the signing key.
    fn compute(
        &self,
        request: &Request<'_>,
        signed: &[String],
        payload_hash: &str,
        timestamp: &str,
        scope: &Scope,
    ) -> Result<(String, [u8; 32]), Error> {
        let canonical = canonical_request(request, signed, payload_hash, self.path)?;
        let key = signing_key(&self.secret, scope);
        Ok((
            signature(&key, &string_to_sign(timestamp, scope, &canonical)),
            key,
        ))
    }

    fn scope(&self, timestamp: &str) -> Scope {
        Scope {
            date: timestamp.get(..8).unwrap_or_default().to_owned(),
            region: self.region.clone(),
            service: self.service.clone(),
        }
    }

    /// Signs in the header form. Every header of `request` is signed, with `x-amz-date`,
    /// `x-amz-content-sha256` (when configured) and `x-amz-security-token` (when there is
    /// one) added; the caller adds [`SignatureOutput::additions`] (those headers and
    /// `authorization`) to the request it sends.
    pub fn sign(
        &self,
        request: &Request<'_>,
        payload_hash: &str,
        timestamp: &str,
    ) -> Result<SignatureOutput, Error> {
        time::parse_timestamp(timestamp)?;
        let mut added = vec![("x-amz-date".to_owned(), timestamp.to_owned())];
        if self.content_sha256_header {
            added.push(("x-amz-content-sha256".to_owned(), payload_hash.to_owned()));
        }
        if let Some(token) = &self.session_token {
            added.push(("x-amz-security-token".to_owned(), token.clone()));
        }
        let headers: Vec<(String, String)> =
            request.headers.iter().chain(&added).cloned().collect();
        let signed = signed_header_names(&headers);
        let with_added = Request {
            headers: &headers,
            ..*request
        };
        let scope = self.scope(timestamp);
        let (sig, key) = self.compute(&with_added, &signed, payload_hash, timestamp, &scope)?;
        let authorization = Authorization {
            credential: Credential {
                access_key: self.access_key.clone(),
                scope: scope.clone(),
            },
            signed_headers: signed,
            signature: sig.clone(),
        };
        added.push(("authorization".to_owned(), authorization.render()));
        Ok(SignatureOutput {
            additions: added,
            signature: sig,
            key,
            scope,
            timestamp: timestamp.to_owned(),
        })
    }

    /// Signs in the query form, valid for `expires` seconds from `timestamp`. Every header
    /// of `request` is signed (`host` at least); the payload hash is usually
    /// [`crate::payload::UNSIGNED_PAYLOAD`]. The caller appends [`SignatureOutput::additions`] to
    /// the query, encoded with [`crate::encode::uri_encode`].
    pub fn presign(
        &self,
        request: &Request<'_>,
        timestamp: &str,
        expires: u64,
        payload_hash: &str,
    ) -> Result<SignatureOutput, Error> {
        time::parse_timestamp(timestamp)?;
        let scope = self.scope(timestamp);
        let signed = signed_header_names(request.headers);
        let credential = Credential {
            access_key: self.access_key.clone(),
            scope: scope.clone(),
        };
        let mut added = vec![
            ("X-Amz-Algorithm".to_owned(), ALGORITHM.to_owned()),
            ("X-Amz-Credential".to_owned(), credential.render()),
            ("X-Amz-Date".to_owned(), timestamp.to_owned()),
            ("X-Amz-Expires".to_owned(), expires.to_string()),
            ("X-Amz-SignedHeaders".to_owned(), signed.join(";")),
        ];
        if let Some(token) = &self.session_token {
            added.push(("X-Amz-Security-Token".to_owned(), token.clone()));
        }
        let query: Vec<(String, String)> = request.query.iter().chain(&added).cloned().collect();
        let with_query = Request {
            query: &query,
            ..*request
        };
        let (sig, key) = self.compute(&with_query, &signed, payload_hash, timestamp, &scope)?;
        added.push(("X-Amz-Signature".to_owned(), sig.clone()));
        Ok(SignatureOutput {
            additions: added,
            signature: sig,
            key,
            scope,
            timestamp: timestamp.to_owned(),
        })
    }
}

/// The signature a server expects for `request`, signed by `secret` with `credential` at
/// `timestamp` over `signed_headers` and `payload_hash`; with the signing key, for the
/// chunk chain. Compare it with [`crate::signatures_equal`].
pub fn expected_signature(
    request: &Request<'_>,
    credential: &Credential,
    timestamp: &str,
    signed_headers: &[String],
    payload_hash: &str,
    secret: &str,
    path: PathOptions,
) -> Result<(String, [u8; 32]), Error> {
    let canonical = canonical_request(request, signed_headers, payload_hash, path)?;
    let key = signing_key(secret, &credential.scope);
    let sig = signature(
        &key,
        &string_to_sign(timestamp, &credential.scope, &canonical),
    );
    Ok((sig, key))
}

/// Whether `payload_hash` (an `x-amz-content-sha256` value) is a hex SHA-256 of the body
/// (and must be checked) rather than one of the [`crate::payload`] keywords.
pub fn is_body_hash(payload_hash: &str) -> bool {
    payload_hash.len() == 64 && payload_hash.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload;

    const SIG: &str = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";

    #[test]
    fn an_authorization_header_parses_and_renders_back() {
        let text = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-date, Signature={SIG}"
        );
        let parsed = Authorization::parse(&text).unwrap();
        assert_eq!(parsed.signed_headers, ["host", "range", "x-amz-date"]);
        assert_eq!(parsed.render(), text);
        // boto3 writes no space after the commas.
        let compact = text.replace(", ", ",");
        assert_eq!(Authorization::parse(&compact).unwrap(), parsed);
    }

    #[test]
    fn malformed_authorization_headers_are_refused_without_quoting_them() {
        let good = format!(
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature={SIG}"
        );
        let cases = [
            good.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
            good.replace("Signature=", "Signature=Z"),
            good.replace(", SignedHeaders=host", ""),
            good.replace("SignedHeaders=host", "SignedHeaders=Host"),
            good.replace("SignedHeaders=host", "SignedHeaders=host;host"),
            format!("{good}, Signature={SIG}"),
            good.replace("Credential=AK/", "Credential="),
            "AWS4-HMAC-SHA256".to_owned(),
        ];
        for case in &cases {
            let error = Authorization::parse(case).unwrap_err();
            assert!(!error.to_string().contains(SIG), "{error}");
        }
    }

    fn presign_query(expires: &str) -> Vec<(String, String)> {
        [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "AK/20130524/us-east-1/s3/aws4_request"),
            ("X-Amz-Date", "20130524T000000Z"),
            ("X-Amz-Expires", expires),
            ("X-Amz-SignedHeaders", "host"),
            ("X-Amz-Signature", SIG),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn presigned_queries_are_recognised_and_checked() {
        assert_eq!(Presigned::parse(&[]).unwrap(), None);
        let parsed = Presigned::parse(&presign_query("86400")).unwrap().unwrap();
        assert_eq!(parsed.expires, 86400);
        for bad in ["0", "604801", "-1", "x"] {
            assert!(Presigned::parse(&presign_query(bad)).is_err(), "{bad}");
        }
        let mut missing = presign_query("60");
        missing.retain(|(k, _)| k != "X-Amz-Date");
        assert!(Presigned::parse(&missing).is_err());
    }

    #[test]
    fn body_hashes_are_told_from_keywords() {
        assert!(is_body_hash(payload::EMPTY_SHA256));
        assert!(!is_body_hash(payload::UNSIGNED_PAYLOAD));
        assert!(!is_body_hash(payload::STREAMING_UNSIGNED_TRAILER));
    }
}
