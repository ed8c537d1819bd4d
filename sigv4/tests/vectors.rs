//! The AWS signing test suite (`tests/data/v4`, see its README): for every vector, the
//! canonical request, the string to sign and the signature, in the header form and the
//! query (presigned) form, must be exactly what AWS publishes.

use std::path::{Path, PathBuf};

use sigv4::canonical::{hex_sha256, signed_header_names};
use sigv4::encode::parse_query;
use sigv4::{
    canonical_request, signature, signing_key, string_to_sign, PathOptions, Request, Scope,
};

struct Vector {
    dir: PathBuf,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    context: serde_json::Value,
}

/// Reads `request.txt`: request line, headers (a line starting with white space continues
/// the previous header), a blank line, the body.
fn read_vector(dir: &Path) -> Vector {
    let raw = std::fs::read(dir.join("request.txt")).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = match text.split_once("\n\n") {
        Some((head, body)) => (head.to_owned(), body.as_bytes().to_vec()),
        None => (text.trim_end_matches('\n').to_owned(), Vec::new()),
    };
    let mut lines = head.lines();
    let request_line = lines.next().unwrap();
    let method = request_line.split(' ').next().unwrap().to_owned();
    let target = request_line[method.len() + 1..request_line.rfind(" HTTP/").unwrap()].to_owned();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), parse_query(query)),
        None => (target.clone(), Vec::new()),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with(' ') || line.starts_with('\t') {
            let last = headers.last_mut().unwrap();
            last.1.push(' ');
            last.1.push_str(line.trim());
        } else {
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_owned(), value.to_owned()));
        }
    }
    let context: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("context.json")).unwrap()).unwrap();
    Vector {
        dir: dir.to_owned(),
        method,
        path,
        query,
        headers,
        body,
        context,
    }
}

fn expected(vector: &Vector, file: &str) -> String {
    std::fs::read_to_string(vector.dir.join(file)).unwrap()
}

impl Vector {
    fn name(&self) -> String {
        self.dir.file_name().unwrap().to_string_lossy().into_owned()
    }
    fn secret(&self) -> &str {
        self.context["credentials"]["secret_access_key"]
            .as_str()
            .unwrap()
    }
    fn access_key(&self) -> &str {
        self.context["credentials"]["access_key_id"]
            .as_str()
            .unwrap()
    }
    fn token(&self) -> Option<&str> {
        self.context["credentials"]["token"].as_str()
    }
    fn omits_token(&self) -> bool {
        self.context["omit_session_token"]
            .as_bool()
            .unwrap_or(false)
    }
    fn options(&self) -> PathOptions {
        PathOptions {
            normalize: self.context["normalize"].as_bool().unwrap_or(true),
            // The vectors with a context decode the path before encoding it once (a `%20`
            // stays `%20`); the two without one show double encoding (below).
            double_encode: false,
        }
    }
    fn scope(&self) -> Scope {
        Scope {
            date: "20150830".into(),
            region: self.context["region"].as_str().unwrap().into(),
            service: self.context["service"].as_str().unwrap().into(),
        }
    }
    fn payload_hash(&self) -> String {
        hex_sha256(&self.body)
    }
    fn signs_body(&self) -> bool {
        self.context["sign_body"].as_bool().unwrap_or(false)
    }
}

const TIMESTAMP: &str = "20150830T123600Z";

fn vectors() -> Vec<Vector> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v4");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.join("context.json").exists())
        .collect();
    dirs.sort();
    dirs.iter().map(|dir| read_vector(dir)).collect()
}

fn check(vector: &Vector, form: &str, canonical: &str, failures: &mut Vec<String>) {
    let scope = vector.scope();
    let to_sign = string_to_sign(TIMESTAMP, &scope, canonical);
    let sig = signature(&signing_key(vector.secret(), &scope), &to_sign);
    let name = vector.name();
    if canonical != expected(vector, &format!("{form}-canonical-request.txt")) {
        failures.push(format!("{name} ({form}): canonical request\n{canonical}"));
    } else if to_sign != expected(vector, &format!("{form}-string-to-sign.txt")) {
        failures.push(format!("{name} ({form}): string to sign"));
    } else if sig != expected(vector, &format!("{form}-signature.txt")).trim() {
        failures.push(format!("{name} ({form}): signature"));
    }
}

#[test]
fn every_vector_of_the_aws_signing_test_suite_signs_as_published() {
    let vectors = vectors();
    assert!(vectors.len() >= 35, "only {} vectors found", vectors.len());
    let mut failures = Vec::new();
    for vector in &vectors {
        // Header form: every request header, with x-amz-date, the session token unless
        // the vector adds it after signing, and x-amz-content-sha256 when it signs the body.
        let mut headers = vector.headers.clone();
        headers.push(("X-Amz-Date".into(), TIMESTAMP.into()));
        if let (Some(token), false) = (vector.token(), vector.omits_token()) {
            headers.push(("X-Amz-Security-Token".into(), token.into()));
        }
        if vector.signs_body() {
            headers.push(("X-Amz-Content-Sha256".into(), vector.payload_hash()));
        }
        let signed = signed_header_names(&headers);
        let request = Request {
            method: &vector.method,
            path: &vector.path,
            query: &vector.query,
            headers: &headers,
        };
        let canonical =
            canonical_request(&request, &signed, &vector.payload_hash(), vector.options()).unwrap();
        check(vector, "header", &canonical, &mut failures);

        // Query form: the request's own headers signed, the X-Amz-* parameters in the query.
        let signed = signed_header_names(&vector.headers);
        let mut query = vector.query.clone();
        for (name, value) in [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_owned()),
            (
                "X-Amz-Credential",
                format!("{}/{}", vector.access_key(), vector.scope().render()),
            ),
            ("X-Amz-Date", TIMESTAMP.to_owned()),
            (
                "X-Amz-Expires",
                vector.context["expiration_in_seconds"].to_string(),
            ),
            ("X-Amz-SignedHeaders", signed.join(";")),
        ] {
            query.push((name.to_owned(), value));
        }
        if let (Some(token), false) = (vector.token(), vector.omits_token()) {
            query.push(("X-Amz-Security-Token".into(), token.into()));
        }
        let request = Request {
            method: &vector.method,
            path: &vector.path,
            query: &query,
            headers: &vector.headers,
        };
        let canonical =
            canonical_request(&request, &signed, &vector.payload_hash(), vector.options()).unwrap();
        check(vector, "query", &canonical, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len() * 2,
        failures.join("\n")
    );
}

#[test]
fn a_mutated_signer_fails_the_vectors() {
    // The vectors are only worth something if they catch a wrong signer: sign get-vanilla
    // with the secret one character off and with an unsorted query, and see both differ.
    let vector = vectors()
        .into_iter()
        .find(|v| v.name() == "get-vanilla-query-order-key-case")
        .unwrap();
    let headers = [
        vector.headers.clone(),
        vec![("X-Amz-Date".into(), TIMESTAMP.into())],
    ]
    .concat();
    let signed = vec!["host".to_owned(), "x-amz-date".to_owned()];
    let request = Request {
        method: &vector.method,
        path: &vector.path,
        query: &vector.query,
        headers: &headers,
    };
    let canonical =
        canonical_request(&request, &signed, &vector.payload_hash(), vector.options()).unwrap();
    let scope = vector.scope();
    let good = signature(
        &signing_key(vector.secret(), &scope),
        &string_to_sign(TIMESTAMP, &scope, &canonical),
    );
    assert_eq!(good, expected(&vector, "header-signature.txt").trim());
    let wrong_secret = signature(
        &signing_key(&vector.secret().replace('K', "k"), &scope),
        &string_to_sign(TIMESTAMP, &scope, &canonical),
    );
    assert_ne!(wrong_secret, good);
    let unsorted = canonical.replace("Param1=value1&Param2=value2", "Param2=value2&Param1=value1");
    assert_ne!(unsorted, canonical);
    let unsorted_sig = signature(
        &signing_key(vector.secret(), &scope),
        &string_to_sign(TIMESTAMP, &scope, &unsorted),
    );
    assert_ne!(unsorted_sig, good);
}

#[test]
fn double_encoding_escapes_the_escapes_as_the_two_context_free_vectors_show() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v4");
    for name in ["double-encode-path", "double-url-encode"] {
        let request = std::fs::read_to_string(root.join(name).join("request.txt")).unwrap();
        let request_line = request.lines().next().unwrap();
        let path = request_line.split(' ').nth(1).unwrap();
        let expected =
            std::fs::read_to_string(root.join(name).join("header-canonical-request.txt")).unwrap();
        let expected_uri = expected.lines().nth(1).unwrap();
        let options = PathOptions {
            normalize: true,
            double_encode: true,
        };
        assert_eq!(
            sigv4::encode::canonical_uri(path, options),
            expected_uri,
            "{name}"
        );
        assert_ne!(
            sigv4::encode::canonical_uri(path, PathOptions::S3),
            expected_uri,
            "{name}"
        );
    }
}
