//! The worked examples of the S3 Signature V4 documentation
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>,
//! `sigv4-query-string-auth.html`, `sigv4-streaming.html`): S3's own path rules, a
//! presigned URL, and a chunked upload whose chunk signatures must come out as published.

use sigv4::chunked::ChunkSigning;
use sigv4::encode::parse_query;
use sigv4::{payload, ChunkedDecoder, ChunkedEncoder, Request, Signer};

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TIMESTAMP: &str = "20130524T000000Z";

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn signer() -> Signer {
    Signer::s3(ACCESS_KEY, SECRET, "us-east-1")
}

fn authorization(output: &sigv4::SignatureOutput) -> String {
    output
        .additions
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap()
        .1
        .clone()
}

#[test]
fn get_object_with_a_range() {
    let headers = headers(&[
        ("Host", "examplebucket.s3.amazonaws.com"),
        ("Range", "bytes=0-9"),
    ]);
    let request = Request {
        method: "GET",
        path: "/test.txt",
        query: &[],
        headers: &headers,
    };
    let output = signer()
        .sign(&request, payload::EMPTY_SHA256, TIMESTAMP)
        .unwrap();
    assert_eq!(
        authorization(&output),
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
}

#[test]
fn put_object_with_a_dollar_in_the_key() {
    let headers = headers(&[
        ("Host", "examplebucket.s3.amazonaws.com"),
        ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
    ]);
    let request = Request {
        method: "PUT",
        path: "/test$file.text",
        query: &[],
        headers: &headers,
    };
    let body_hash = sigv4::canonical::hex_sha256(b"Welcome to Amazon S3.");
    let output = signer().sign(&request, &body_hash, TIMESTAMP).unwrap();
    assert!(authorization(&output).ends_with(
        "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
    ), "{}", authorization(&output));
}

#[test]
fn get_bucket_lifecycle_and_list_objects() {
    let host = headers(&[("Host", "examplebucket.s3.amazonaws.com")]);
    for (query, expected) in [
        (
            "lifecycle",
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
        ),
        (
            "max-keys=2&prefix=J",
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
        ),
    ] {
        let query = parse_query(query);
        let request = Request {
            method: "GET",
            path: "/",
            query: &query,
            headers: &host,
        };
        let output = signer()
            .sign(&request, payload::EMPTY_SHA256, TIMESTAMP)
            .unwrap();
        assert_eq!(output.signature, expected);
    }
}

#[test]
fn a_presigned_get() {
    let host = headers(&[("Host", "examplebucket.s3.amazonaws.com")]);
    let request = Request {
        method: "GET",
        path: "/test.txt",
        query: &[],
        headers: &host,
    };
    let output = signer()
        .presign(&request, TIMESTAMP, 86400, payload::UNSIGNED_PAYLOAD)
        .unwrap();
    assert_eq!(
        output.signature,
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    );
    let parsed = sigv4::Presigned::parse(&output.additions).unwrap().unwrap();
    assert_eq!(parsed.expires, 86400);
    assert_eq!(parsed.signature, output.signature);
}

#[test]
fn a_chunked_upload_signs_its_chunks_as_published() {
    let headers = headers(&[
        ("Host", "s3.amazonaws.com"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("Content-Length", "66824"),
    ]);
    let request = Request {
        method: "PUT",
        path: "/examplebucket/chunkObject.txt",
        query: &[],
        headers: &headers,
    };
    let output = signer()
        .sign(&request, payload::STREAMING_SIGNED, TIMESTAMP)
        .unwrap();
    assert_eq!(
        output.signature,
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    );

    let signing = ChunkSigning {
        key: output.key,
        scope: output.scope.clone(),
        timestamp: TIMESTAMP.into(),
        seed_signature: output.signature.clone(),
    };
    let object = vec![b'a'; 66560];
    let body = ChunkedEncoder::signed(signing.clone(), None).encode(&object, 65536);
    assert_eq!(body.len(), 66824, "the Content-Length the example declares");
    let text = String::from_utf8_lossy(&body);
    for published in [
        "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n",
        "400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n",
        "0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n",
    ] {
        assert!(text.contains(published), "{published}");
    }
    let mut decoder = ChunkedDecoder::signed(signing, None);
    let mut out = Vec::new();
    decoder.push(&body, &mut out).unwrap();
    assert_eq!(decoder.finish().unwrap().decoded_length, 66560);
    assert_eq!(out, object);
}
