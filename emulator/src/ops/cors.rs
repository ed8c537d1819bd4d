//! A bucket's CORS configuration as COS has it (PUT/GET/DELETE Bucket cors, OPTIONS
//! Object): the `CORSConfiguration` document read and written, the matching of an origin,
//! a method and request headers against the rules, and the `Access-Control-*` headers of
//! preflight and actual responses. The operations in `put_bucket_cors.rs`,
//! `get_bucket_cors.rs`, `delete_bucket_cors.rs` and `options_object.rs` use it; the
//! service adds [`decorate`]'s headers to every response to a request with an `Origin`.

use std::sync::Arc;

use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::response::Response;
use crate::router;
use crate::store::{CorsRule, Store};
use crate::xml::{self, XmlWriter};

/// COS's limit on the rules of one configuration.
pub const MAX_RULES: usize = 100;

/// The methods an `AllowedMethod` may name.
const METHODS: &[&str] = &["GET", "PUT", "POST", "DELETE", "HEAD"];

fn malformed(why: &str) -> Error {
    Error::new(ErrorCode::MalformedXml, format!("CORSConfiguration: {why}"))
}

/// Reads a `CORSConfiguration` document into its rules: at least one and at most
/// [`MAX_RULES`], each with at least one `AllowedOrigin` and one `AllowedMethod` (one of
/// GET, PUT, POST, DELETE, HEAD), at most one `*` in each origin and header pattern, and a
/// non-negative integer `MaxAgeSeconds`.
pub fn parse(doc: &[u8]) -> Result<Vec<CorsRule>, Error> {
    let root = xml::parse(doc)?;
    if root.name != "CORSConfiguration" {
        return Err(malformed(&format!(
            "the root element must be CORSConfiguration, not {}",
            root.name
        )));
    }
    let mut rules = Vec::new();
    for (i, element) in root.children_named("CORSRule").enumerate() {
        let n = i + 1;
        let texts = |name: &str| -> Vec<String> {
            element
                .children_named(name)
                .map(|c| c.text.clone())
                .collect()
        };
        let rule = CorsRule {
            id: element.child("ID").map(|c| c.text.clone()),
            allowed_origins: texts("AllowedOrigin"),
            allowed_methods: texts("AllowedMethod"),
            allowed_headers: texts("AllowedHeader"),
            expose_headers: texts("ExposeHeader"),
            max_age_seconds: match element.child("MaxAgeSeconds") {
                None => None,
                Some(c) => Some(c.text.parse::<u64>().map_err(|_| {
                    malformed(&format!(
                        "CORSRule {n}: MaxAgeSeconds {:?} is not a non-negative integer",
                        c.text
                    ))
                })?),
            },
        };
        if rule.allowed_origins.is_empty() || rule.allowed_methods.is_empty() {
            return Err(malformed(&format!(
                "CORSRule {n} needs at least one AllowedOrigin and one AllowedMethod"
            )));
        }
        if let Some(m) = rule
            .allowed_methods
            .iter()
            .find(|m| !METHODS.contains(&m.as_str()))
        {
            return Err(malformed(&format!(
                "CORSRule {n}: AllowedMethod {m:?} is not one of {}",
                METHODS.join(", ")
            )));
        }
        if let Some(p) = rule
            .allowed_origins
            .iter()
            .chain(&rule.allowed_headers)
            .find(|p| p.is_empty() || p.matches('*').count() > 1)
        {
            return Err(malformed(&format!(
                "CORSRule {n}: {p:?} must be non-empty with at most one '*' wildcard"
            )));
        }
        rules.push(rule);
    }
    if rules.is_empty() {
        return Err(malformed("at least one CORSRule is required"));
    }
    if rules.len() > MAX_RULES {
        return Err(malformed(&format!(
            "{} CORSRules exceed COS's limit of {MAX_RULES}",
            rules.len()
        )));
    }
    Ok(rules)
}

/// The `CORSConfiguration` document GET Bucket cors returns.
pub fn document(rules: &[CorsRule]) -> String {
    let mut w = XmlWriter::new();
    w.open("CORSConfiguration");
    for rule in rules {
        w.open("CORSRule");
        if let Some(id) = &rule.id {
            w.leaf("ID", id);
        }
        for (name, values) in [
            ("AllowedOrigin", &rule.allowed_origins),
            ("AllowedMethod", &rule.allowed_methods),
            ("AllowedHeader", &rule.allowed_headers),
            ("ExposeHeader", &rule.expose_headers),
        ] {
            for v in values {
                w.leaf(name, v);
            }
        }
        if let Some(age) = rule.max_age_seconds {
            w.leaf("MaxAgeSeconds", &age.to_string());
        }
        w.close("CORSRule");
    }
    w.close("CORSConfiguration");
    w.finish()
}

/// Whether `value` matches `pattern`, which may hold one `*` standing for any run of
/// characters (`http://*.example.com`, `*`, `x-cos-meta-*`).
fn wildcard_match(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let (p, v) = if ignore_case {
        (pattern.to_ascii_lowercase(), value.to_ascii_lowercase())
    } else {
        (pattern.to_owned(), value.to_owned())
    };
    match p.split_once('*') {
        None => p == v,
        Some((head, tail)) => {
            v.len() >= head.len() + tail.len() && v.starts_with(head) && v.ends_with(tail)
        }
    }
}

/// The first rule allowing `origin` to send `method` with `request_headers` (names of a
/// preflight's `Access-Control-Request-Headers`; empty for an actual request). Origins
/// match case-sensitively, header names case-insensitively, as in COS and the Fetch
/// standard.
pub fn matching_rule<'a>(
    rules: &'a [CorsRule],
    origin: &str,
    method: &str,
    request_headers: &[String],
) -> Option<&'a CorsRule> {
    rules.iter().find(|rule| {
        rule.allowed_origins
            .iter()
            .any(|p| wildcard_match(p, origin, false))
            && rule.allowed_methods.iter().any(|m| m == method)
            && request_headers.iter().all(|h| {
                rule.allowed_headers
                    .iter()
                    .any(|p| wildcard_match(p, h, true))
            })
    })
}

/// Splits an `Access-Control-Request-Headers` value into lower-case names.
pub fn header_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

/// Sets the headers every CORS answer of `rule` to `origin` carries: the origin echoed
/// (with `Vary: Origin`, as the answer depends on it), the rule's methods, its exposed
/// headers and its max age.
pub fn set_headers(r: &mut Response, rule: &CorsRule, origin: &str) {
    r.set("access-control-allow-origin", origin);
    r.set("vary", "Origin");
    r.set(
        "access-control-allow-methods",
        &rule.allowed_methods.join(","),
    );
    if !rule.expose_headers.is_empty() {
        r.set(
            "access-control-expose-headers",
            &rule.expose_headers.join(","),
        );
    }
    if let Some(age) = rule.max_age_seconds {
        r.set("access-control-max-age", &age.to_string());
    }
}

/// What the service keeps of a request with an `Origin` to decorate its response.
#[derive(Debug, Clone)]
pub struct ActualRequest {
    origin: String,
    method: String,
    host: Option<String>,
    path: String,
}

impl ActualRequest {
    /// The CORS facts of a request: `None` without an `Origin`, and for OPTIONS (a
    /// preflight answers for itself in `options_object.rs`).
    pub fn of(method: &http::Method, headers: &http::HeaderMap, path: &str) -> Option<Self> {
        if *method == http::Method::OPTIONS {
            return None;
        }
        let origin = headers.get(http::header::ORIGIN)?.to_str().ok()?.to_owned();
        let host = headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        Some(ActualRequest {
            origin,
            method: method.as_str().to_owned(),
            host,
            path: path.to_owned(),
        })
    }

    /// Adds the `Access-Control-*` headers of the addressed bucket's first rule that allows
    /// this origin and method to `response` — refusals included, so a browser script sees
    /// COS's error (e.g. a keyless SSE-C read) instead of an opaque network failure. No
    /// bucket, no configuration or no matching rule: the response is left as it is.
    pub async fn decorate(self, store: Arc<dyn Store>, response: &mut Response) {
        let Ok(target) = router::target(self.host.as_deref(), &self.path) else {
            return;
        };
        let Some(bucket) = target.bucket else {
            return;
        };
        let record = blocking(move || store.bucket(&bucket).map_err(store_error)).await;
        let Ok(Some(record)) = record else {
            return;
        };
        if let Some(rule) = matching_rule(&record.cors, &self.origin, &self.method, &[]) {
            set_headers(response, rule, &self.origin);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<CORSConfiguration>
      <CORSRule>
        <ID>browser</ID>
        <AllowedOrigin>http://*.example.com</AllowedOrigin>
        <AllowedOrigin>http://127.0.0.1:8080</AllowedOrigin>
        <AllowedMethod>GET</AllowedMethod>
        <AllowedMethod>PUT</AllowedMethod>
        <AllowedHeader>x-cos-*</AllowedHeader>
        <AllowedHeader>Content-Type</AllowedHeader>
        <ExposeHeader>ETag</ExposeHeader>
        <ExposeHeader>x-cos-server-side-encryption</ExposeHeader>
        <MaxAgeSeconds>600</MaxAgeSeconds>
      </CORSRule>
    </CORSConfiguration>"#;

    #[test]
    fn parses_and_writes_back() {
        let rules = parse(DOC.as_bytes()).unwrap();
        assert_eq!(rules.len(), 1);
        let r = &rules[0];
        assert_eq!(r.id.as_deref(), Some("browser"));
        assert_eq!(r.allowed_methods, ["GET", "PUT"]);
        assert_eq!(r.max_age_seconds, Some(600));
        assert_eq!(parse(document(&rules).as_bytes()).unwrap(), rules);
    }

    #[test]
    fn matches_origin_method_and_headers() {
        let rules = parse(DOC.as_bytes()).unwrap();
        let h = |v: &str| header_list(v);
        assert!(matching_rule(&rules, "http://a.example.com", "PUT", &[]).is_some());
        assert!(matching_rule(&rules, "http://127.0.0.1:8080", "GET", &[]).is_some());
        // Origins are case-sensitive and the port is part of them.
        assert!(matching_rule(&rules, "http://127.0.0.1:8081", "GET", &[]).is_none());
        assert!(matching_rule(&rules, "https://a.example.com", "GET", &[]).is_none());
        assert!(matching_rule(&rules, "http://a.example.com", "DELETE", &[]).is_none());
        let ok = h("Content-Type, X-COS-Server-Side-Encryption-Customer-Key");
        assert!(matching_rule(&rules, "http://a.example.com", "PUT", &ok).is_some());
        let bad = h("content-type, authorization");
        assert!(matching_rule(&rules, "http://a.example.com", "PUT", &bad).is_none());
    }

    #[test]
    fn refuses_bad_documents() {
        let bad = [
            "<CORSConfiguration/>",
            "<Cors><CORSRule/></Cors>",
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><AllowedOrigin>*.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        ];
        for doc in bad {
            let e = parse(doc.as_bytes()).unwrap_err();
            assert_eq!(e.code, ErrorCode::MalformedXml, "{doc}");
        }
    }
}
