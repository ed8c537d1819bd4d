//! The one redaction point of the emulator (secrets never leave): SSE-C keys
//! and their MD5s, KMS contexts, SecretKeys. A value wrapped in [`Redacted`] prints as
//! `<redacted>` in `Debug` and `Display`, so it can sit in a struct that derives `Debug`
//! or in a log field without leaking; [`is_secret_header`] names the request headers whose
//! values are secrets, for anything that prints headers. (Data keys, KEKs and the master
//! key never leave `cos-emulator-crypto`, whose key types print no bytes either.)

use std::fmt;

/// What a redacted value prints as.
pub const REDACTED: &str = "<redacted>";

/// A secret value: usable through [`Redacted::expose`], never printed.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Self {
        Redacted(value)
    }

    /// The secret itself, for the code that must use it (a cipher, a response header the
    /// protocol requires, a signature check). The name makes every use easy to audit.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Whether a request header's value is a secret (any case): the SSE-C key and key MD5
/// headers, their copy-source twins, the KMS encryption context, the `Authorization`
/// header (its `q-signature`, or a SigV4 `Signature`, is a bearer credential until it
/// expires) and a temporary credential's `x-cos-security-token`; the S3 dialect's twins
/// (`x-amz-server-side-encryption-*`, `x-amz-security-token`) alike.
pub fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with("server-side-encryption-customer-key")
        || name.ends_with("server-side-encryption-customer-key-md5")
        || name == "x-cos-server-side-encryption-context"
        || name == "x-amz-server-side-encryption-context"
        || name == "authorization"
        || name == "x-cos-security-token"
        || name == "x-amz-security-token"
}

/// Whether a query parameter's value is a secret (any case): a presigned URL's
/// `q-signature` and `x-cos-security-token`, the same credentials as in headers, and a
/// SigV4 presigned URL's `X-Amz-Signature` and `X-Amz-Security-Token`.
pub fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "q-signature"
        || name == "x-cos-security-token"
        || name == "x-amz-signature"
        || name == "x-amz-security-token"
}

/// A query parameter as [`Params`] prints it: a name and, when it had `=`, a value.
pub trait QueryParam {
    /// The parameter's name, decoded.
    fn name(&self) -> &str;
    /// Its value, decoded; `None` without `=`.
    fn value(&self) -> Option<&str>;
}

/// Query parameters for a log line or `Debug`: names and values, except the secret
/// ones ([`is_secret_param`]), which print as `<redacted>`.
pub struct Params<'a, P>(pub &'a [P]);

impl<P: QueryParam> fmt::Debug for Params<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        for p in self.0 {
            match p.value() {
                Some(_) if is_secret_param(p.name()) => l.entry(&(p.name(), Redacted::new(()))),
                value => l.entry(&(p.name(), value)),
            };
        }
        l.finish()
    }
}

/// Request headers for a log line or `Debug`: every value except the secret ones
/// ([`is_secret_header`]), which print as `<redacted>`.
pub struct Headers<'a>(pub &'a http::HeaderMap);

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (name, value) in self.0 {
            if is_secret_header(name.as_str()) {
                m.entry(&name.as_str(), &Redacted::new(()));
            } else {
                m.entry(&name.as_str(), &String::from_utf8_lossy(value.as_bytes()));
            }
        }
        m.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_print_secrets_redacted() {
        let mut h = http::HeaderMap::new();
        h.insert(
            "x-cos-server-side-encryption-customer-key",
            "S2V5S2V5".parse().unwrap(),
        );
        h.insert(
            "x-cos-server-side-encryption-customer-algorithm",
            "AES256".parse().unwrap(),
        );
        let printed = format!("{:?}", Headers(&h));
        assert!(!printed.contains("S2V5S2V5"), "{printed}");
        assert!(
            printed.contains("AES256") && printed.contains(REDACTED),
            "{printed}"
        );
    }

    /// Regression: TRACE printed `Authorization`, `q-signature` and
    /// `x-cos-security-token` values.
    #[test]
    fn credentials_print_redacted() {
        let mut h = http::HeaderMap::new();
        h.insert("authorization", "q-signature=abcdef0123".parse().unwrap());
        h.insert("x-cos-security-token", "tok-secret".parse().unwrap());
        let printed = format!("{:?}", Headers(&h));
        assert!(
            !printed.contains("abcdef0123") && !printed.contains("tok-secret"),
            "{printed}"
        );
        let q = crate::request::Query::parse(
            "q-ak=AKIDx&q-signature=abcdef0123&x-cos-security-token=tok-secret&prefix=p",
        )
        .unwrap();
        let printed = format!("{:?}", Params(&q.params));
        assert!(
            !printed.contains("abcdef0123") && !printed.contains("tok-secret"),
            "{printed}"
        );
        assert!(
            printed.contains("AKIDx") && printed.contains("prefix"),
            "{printed}"
        );
    }

    #[test]
    fn never_prints_the_value() {
        let s = Redacted::new("hunter2".to_string());
        assert_eq!(
            format!("{s:?} {s} {:?}", Some(&s)),
            "<redacted> <redacted> Some(<redacted>)"
        );
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn accounts_print_no_secret_key() {
        let a = crate::config::Account {
            secret_id: "AKIDx".into(),
            secret_key: "the-secret-key".into(),
            appid: "1".into(),
        };
        let printed = format!("{a:?}");
        assert!(!printed.contains("the-secret-key"), "{printed}");
        assert!(
            printed.contains("AKIDx") && printed.contains(REDACTED),
            "{printed}"
        );
    }

    #[test]
    fn secret_headers() {
        for h in [
            "x-cos-server-side-encryption-customer-key",
            "X-Cos-Server-Side-Encryption-Customer-Key-MD5",
            "x-cos-copy-source-server-side-encryption-customer-key",
            "x-cos-copy-source-server-side-encryption-customer-key-md5",
            "x-cos-server-side-encryption-context",
        ] {
            assert!(is_secret_header(h), "{h}");
        }
        assert!(!is_secret_header(
            "x-cos-server-side-encryption-customer-algorithm"
        ));
        assert!(!is_secret_header("host"));
    }
}
