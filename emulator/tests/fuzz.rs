//! Hostile input, fuzzed: property-based fuzz targets for every parser the
//! emulator runs on request bytes — the Authorization header and presigned query, the
//! query string, Range, the SSE headers, every XML body it reads (Complete, Restore, ACL),
//! the POST policy JSON and the POST multipart form, and the S3 dialect's AWS Signature V4
//! header, presigned query and aws-chunked body decoder. Each target runs random and
//! structure-aware inputs and asserts no panic and a clean error: an `Err` is a COS error
//! with a 4xx status (never a 5xx, which would mean "the emulator broke").
//!
//! `cargo test -p cos-emulator --test fuzz` runs a few hundred inputs per target; set
//! `COS_FUZZ_CASES=1000000` (in release: `cargo test --release ...`) for the long run.
//! Each target prints the number of inputs it ran. Inputs that once found a problem stay
//! below as regular tests (`corpus_*`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cos_emulator::auth::signature::SignatureFields;
use cos_emulator::behaviour::Behaviours;
use cos_emulator::ops::{
    acl_xml, complete_multipart, post_object, post_policy, range, restore_object,
};
use cos_emulator::request::Query;
use cos_emulator::sse::{self, Operation};
use cos_emulator::Error;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Inputs per target: `COS_FUZZ_CASES`, else 256.
fn cases() -> u32 {
    std::env::var("COS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Runs `check` on `cases()` inputs of `strategy`; a panic or a failed check fails the
/// test with the (shrunk) input. Prints the count of inputs run.
fn fuzz<S: Strategy>(name: &str, strategy: S, check: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    });
    let runs = AtomicU64::new(0);
    let start = Instant::now();
    let result = runner.run(&strategy, |v| {
        runs.fetch_add(1, Ordering::Relaxed);
        check(v)
    });
    let n = runs.load(Ordering::Relaxed);
    println!(
        "fuzz {name}: {n} inputs in {:.1} s, {}",
        start.elapsed().as_secs_f64(),
        if result.is_ok() {
            "0 panics, every error a clean 4xx"
        } else {
            "FAILED"
        }
    );
    if let Err(e) = result {
        panic!("fuzz target {name}: {e}");
    }
}

/// An error is clean: a COS client error, with a message.
fn clean<T>(r: Result<T, Error>) -> Result<Option<T>, TestCaseError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let status = e.code.status();
            prop_assert!(
                (400..500).contains(&status),
                "{:?} is not a 4xx: {}",
                e.code,
                e.message
            );
            prop_assert!(!e.message.is_empty());
            Ok(None)
        }
    }
}

/// Text made of the pieces a parser looks for, plus arbitrary characters.
fn pieces(words: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(words).prop_map(str::to_string),
            1 => ".{0,8}",
            1 => "[0-9]{1,12}",
        ],
        0..max,
    )
    .prop_map(|v| v.concat())
}

const AUTH_WORDS: &[&str] = &[
    "q-sign-algorithm=",
    "sha1",
    "q-ak=",
    "AKIDx",
    "q-sign-time=",
    "q-key-time=",
    "q-header-list=",
    "q-url-param-list=",
    "q-signature=",
    "host;x-cos-acl",
    ";",
    "&",
    "=",
    "0123456789abcdef0123456789abcdef01234567",
    "1700000000;1700003600",
    "-1;99999999999999999999",
];

#[test]
fn fuzz_authorization_header() {
    fuzz(
        "authorization header",
        prop_oneof![".{0,400}", pieces(AUTH_WORDS, 40)],
        |s| {
            if let Some(f) = clean(SignatureFields::from_header(&s))? {
                prop_assert!(f.window.0 <= f.window.1 && f.key_window.0 <= f.key_window.1);
                prop_assert_eq!(f.signature.len(), 40);
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_presigned_query() {
    fuzz(
        "presigned query",
        prop_oneof![
            ".{0,400}",
            pieces(AUTH_WORDS, 40),
            pieces(
                &["%", "%2", "%FF", "%3B", "+", "&", "=", "q-ak", "%C3%A9"],
                40
            )
        ],
        |s| {
            if let Some(q) = clean(Query::parse(&s))? {
                let pairs = q
                    .params
                    .iter()
                    .map(|p| (p.name.as_str(), p.value.as_deref().unwrap_or("")));
                clean(SignatureFields::from_pairs(pairs))?;
            }
            Ok(())
        },
    );
}

const SIGV4_WORDS: &[&str] = &[
    "AWS4-HMAC-SHA256 ",
    "Credential=",
    "AKIDTESTOWNER000000000000000000000000/",
    "20260101/",
    "ap-beijing/",
    "s3/",
    "aws4_request",
    ", ",
    ",",
    "SignedHeaders=",
    "host;x-amz-content-sha256;x-amz-date",
    "host",
    ";",
    "Signature=",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "=",
    " ",
];

const PRESIGN_WORDS: &[&str] = &[
    "X-Amz-Algorithm=AWS4-HMAC-SHA256",
    "X-Amz-Credential=AKIDTESTOWNER000000000000000000000000%2F20260101%2Fap-beijing%2Fs3%2Faws4_request",
    "X-Amz-Date=20260101T000000Z",
    "X-Amz-Date=",
    "X-Amz-Expires=",
    "604800",
    "604801",
    "0",
    "X-Amz-SignedHeaders=host",
    "X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "X-Amz-Security-Token=t",
    "acl",
    "&",
    "%",
    "%2F",
];

/// A request for the SigV4 verifier: these headers and this query, to a bucket.
fn sigv4_request(
    headers: &[(&'static str, String)],
    query: Query,
) -> cos_emulator::request::Request {
    let mut map = http::HeaderMap::new();
    for (n, v) in headers {
        if let Ok(v) = http::HeaderValue::from_str(v) {
            map.append(http::HeaderName::from_static(n), v);
        }
    }
    map.insert(
        "host",
        http::HeaderValue::from_static("b-1250000000.cos.ap-beijing.myqcloud.com"),
    );
    let names: Vec<&str> = query.params.iter().map(|p| p.name.as_str()).collect();
    let dialect = cos_emulator::dialect::Dialect::of(&map, &names);
    cos_emulator::request::Request {
        id: "fuzz".into(),
        method: http::Method::PUT,
        scheme: cos_emulator::request::Scheme::Https,
        raw_path: "/k".into(),
        query,
        headers: map,
        body: Box::pin(futures_util::stream::empty()),
        dialect,
    }
}

fn sigv4_accounts() -> Vec<cos_emulator::Account> {
    vec![cos_emulator::Account {
        secret_id: "AKIDTESTOWNER000000000000000000000000".into(),
        secret_key: "secret".into(),
        appid: "1250000000".into(),
    }]
}

/// 2026-01-01T00:00:00Z, the day the words sign for.
const SIGV4_NOW: i64 = 1_767_225_600;

#[test]
fn fuzz_sigv4_authorization_header() {
    let accounts = sigv4_accounts();
    fuzz(
        "sigv4 authorization header",
        (
            prop_oneof![".{0,300}", pieces(SIGV4_WORDS, 30)],
            prop_oneof![
                Just("20260101T000000Z".to_string()),
                "[0-9TZ]{0,18}",
                ".{0,20}"
            ],
            prop_oneof![
                Just("UNSIGNED-PAYLOAD".to_string()),
                Just("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".to_string()),
                "[0-9a-f]{64}",
                ".{0,70}"
            ],
        ),
        |(auth, date, hash)| {
            let req = sigv4_request(
                &[
                    ("authorization", format!("AWS4-HMAC-SHA256 {auth}")),
                    ("x-amz-date", date),
                    ("x-amz-content-sha256", hash),
                    ("x-amz-decoded-content-length", "5".into()),
                ],
                Query::default(),
            );
            let r = cos_emulator::auth::sigv4::authenticate(
                &req,
                Some("ap-beijing"),
                &accounts,
                &Behaviours::default(),
                SIGV4_NOW,
            );
            prop_assert!(r.is_err(), "a random signature was accepted");
            clean(r.map(|_| ()))?;
            Ok(())
        },
    );
}

#[test]
fn fuzz_sigv4_presigned_query() {
    let accounts = sigv4_accounts();
    fuzz(
        "sigv4 presigned query",
        prop_oneof![".{0,300}", pieces(PRESIGN_WORDS, 20)],
        |raw| {
            let Some(query) = clean(Query::parse(&format!(
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&{raw}"
            )))?
            else {
                return Ok(());
            };
            let req = sigv4_request(&[], query);
            let r = cos_emulator::auth::sigv4::authenticate(
                &req,
                Some("ap-beijing"),
                &accounts,
                &Behaviours::default(),
                SIGV4_NOW,
            );
            prop_assert!(r.is_err(), "a random presign was accepted");
            clean(r.map(|_| ()))?;
            Ok(())
        },
    );
}

/// A signed aws-chunked body of `payload` (chunks of `chunk` bytes, a CRC32 trailer when
/// `trailer`), with the decoder that accepts exactly it.
fn chunked_pair(payload: &[u8], chunk: usize, trailer: bool) -> (Vec<u8>, sigv4::ChunkedDecoder) {
    let signing = sigv4::ChunkSigning {
        key: [7; 32],
        scope: sigv4::Scope {
            date: "20260101".into(),
            region: "ap-beijing".into(),
            service: "s3".into(),
        },
        timestamp: "20260101T000000Z".into(),
        seed_signature: "0".repeat(64),
    };
    let alg = trailer.then_some(sigv4::ChecksumAlgorithm::Crc32);
    let body = sigv4::ChunkedEncoder::signed(signing.clone(), alg).encode(payload, chunk);
    (body, sigv4::ChunkedDecoder::signed(signing, alg))
}

/// Feeds `body` in pieces cut at `cuts`; the decoded payload, or the refusal the emulator
/// answers (`body::chunk_refusal`).
fn decode_in_pieces(
    mut decoder: sigv4::ChunkedDecoder,
    body: &[u8],
    cuts: &[usize],
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
        let cut = cut.clamp(at, body.len());
        decoder
            .push(&body[at..cut], &mut out)
            .map_err(cos_emulator::body::chunk_refusal)?;
        at = cut;
    }
    decoder
        .finish()
        .map_err(cos_emulator::body::chunk_refusal)?;
    Ok(out)
}

#[test]
fn fuzz_aws_chunked_decoder() {
    fuzz(
        "aws-chunked decoder",
        (
            prop::collection::vec(any::<u8>(), 0..3000),
            1usize..1200,
            any::<bool>(),
            prop::collection::vec(0usize..4000, 0..8),
            prop_oneof![
                2 => Just(None),
                3 => (0usize..4000, any::<u8>()).prop_map(Some),
            ],
            prop_oneof![3 => Just(None), 1 => (0usize..4000).prop_map(Some)],
        ),
        |(payload, chunk, trailer, mut cuts, flip, truncate)| {
            cuts.sort_unstable();
            let (mut body, decoder) = chunked_pair(&payload, chunk, trailer);
            let mut changed = false;
            if let Some((at, xor)) = flip {
                if !body.is_empty() && xor != 0 {
                    let at = at % body.len();
                    body[at] ^= xor;
                    changed = true;
                }
            }
            if let Some(len) = truncate {
                if len < body.len() {
                    body.truncate(len);
                    changed = true;
                }
            }
            match clean(decode_in_pieces(decoder, &body, &cuts))? {
                // Only the body as encoded decodes, to exactly its payload: a changed byte
                // or a cut body never yields data. (A hex size digit's case is the one
                // harmless change: `A` and `a` name the same size.)
                Some(out) => {
                    prop_assert_eq!(&out, &payload);
                    if changed {
                        let (original, _) = chunked_pair(&payload, chunk, trailer);
                        let same_but_case = original.len() == body.len()
                            && original
                                .iter()
                                .zip(&body)
                                .all(|(a, b)| a.eq_ignore_ascii_case(b));
                        prop_assert!(same_but_case, "a changed body was accepted");
                    }
                }
                None => prop_assert!(changed, "the untouched body was refused"),
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_range() {
    let spec = pieces(
        &[
            "bytes=",
            "-",
            ",",
            " ",
            "0",
            "1",
            "18446744073709551615",
            "99999999999999999999",
        ],
        12,
    );
    fuzz(
        "range",
        (
            prop_oneof![".{0,60}", spec],
            any::<u64>().prop_map(|n| n % 100_000),
            any::<bool>(),
        ),
        |(s, size, huge)| {
            let size = if huge { u64::MAX } else { size };
            if let Some(Some(r)) = clean(range::parse(Some(&s), size))? {
                prop_assert!(r.start < r.end && r.end <= size, "{r:?} outside 0..{size}");
            }
            Ok(())
        },
    );
}

const SSE_NAMES: &[&str] = &[
    sse::names::SSE,
    "x-cos-server-side-encryption-cos-kms-key-id",
    "x-cos-server-side-encryption-context",
    "x-cos-server-side-encryption-customer-algorithm",
    "x-cos-server-side-encryption-customer-key",
    "x-cos-server-side-encryption-customer-key-md5",
    "x-cos-copy-source-server-side-encryption-customer-algorithm",
    "x-cos-copy-source-server-side-encryption-customer-key",
    "x-cos-copy-source-server-side-encryption-customer-key-md5",
];

const SSE_VALUES: &[&str] = &[
    "AES256",
    "SM4",
    "cos/kms",
    "AES-256",
    "",
    "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDE=",
    "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDE",
    "yGB4vmRQEmMrUTdA1bTRmQ==",
    "eyJhIjoiYiJ9",
    "e30=",
    "bnVsbA==",
];

#[test]
fn fuzz_sse_headers() {
    let value = prop_oneof![3 => prop::sample::select(SSE_VALUES).prop_map(str::to_string), 1 => "[ -~]{0,64}", 1 => prop::collection::vec(any::<u8>(), 0..48).prop_map(|b| String::from_utf8_lossy(&b).into_owned())];
    let headers = prop::collection::vec((prop::sample::select(SSE_NAMES), value), 0..6);
    fuzz(
        "sse headers",
        (headers, any::<[bool; 3]>()),
        |(hs, flags)| {
            let mut map = http::HeaderMap::new();
            for (n, v) in &hs {
                if let Ok(v) = http::HeaderValue::from_bytes(v.as_bytes()) {
                    map.append(*n, v);
                }
            }
            let b = Behaviours {
                legacy_aes_spelling_accepted: flags[0],
                ssec_without_md5_accepted: flags[1],
                sse_in_all_regions: flags[2],
                ..Behaviours::default()
            };
            for op in [
                Operation::Upload,
                Operation::Copy,
                Operation::UploadPart,
                Operation::Read,
            ] {
                clean(sse::parse(&map, op, &b).map_err(Error::from))?;
            }
            clean(sse::copy_source::parse(&map, &b).map_err(Error::from))?;
            Ok(())
        },
    );
}

/// XML made of a document's own element names, text, entities and noise.
fn xml_like(words: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        pieces(words, 60).prop_map(String::into_bytes),
    ]
}

const COMPLETE_WORDS: &[&str] = &[
    "<?xml version=\"1.0\"?>",
    "<CompleteMultipartUpload>",
    "</CompleteMultipartUpload>",
    "<Part>",
    "</Part>",
    "<PartNumber>",
    "</PartNumber>",
    "<ETag>",
    "</ETag>",
    "\"",
    "&quot;",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE x [<!ENTITY a \"b\">]>",
    "&a;",
    "1",
    "10000",
    "4294967296",
    "-1",
    "<x/>",
    "<!-- c -->",
];

#[test]
fn fuzz_complete_xml() {
    fuzz("complete xml", xml_like(COMPLETE_WORDS), |doc| {
        if let Some(parts) = clean(complete_multipart::parse_part_list(&doc))? {
            prop_assert!(!parts.is_empty());
        }
        Ok(())
    });
}

const RESTORE_WORDS: &[&str] = &[
    "<RestoreRequest>",
    "</RestoreRequest>",
    "<Days>",
    "</Days>",
    "<CASJobParameters>",
    "</CASJobParameters>",
    "<Tier>",
    "</Tier>",
    "Standard",
    "Expedited",
    "Bulk",
    "1",
    "365",
    "366",
    "0",
    "-5",
    "18446744073709551616",
    "&amp;",
    "<x/>",
];

#[test]
fn fuzz_restore_xml() {
    fuzz("restore xml", xml_like(RESTORE_WORDS), |doc| {
        clean(restore_object::parse_request(&doc))?;
        Ok(())
    });
}

const ACL_WORDS: &[&str] = &[
    "<AccessControlPolicy>",
    "</AccessControlPolicy>",
    "<Owner>",
    "</Owner>",
    "<ID>",
    "</ID>",
    "<AccessControlList>",
    "</AccessControlList>",
    "<Grant>",
    "</Grant>",
    "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\">",
    "<Grantee xsi:type=\"CanonicalUser\">",
    "</Grantee>",
    "<URI>",
    "</URI>",
    "http://cam.qcloud.com/groups/global/AllUsers",
    "<Permission>",
    "</Permission>",
    "READ",
    "WRITE",
    "FULL_CONTROL",
    "qcs::cam::uin/1:uin/1",
    "&amp;",
    "<x/>",
];

#[test]
fn fuzz_acl_xml() {
    fuzz("acl xml", xml_like(ACL_WORDS), |doc| {
        clean(acl_xml::parse(&doc, "1250000000"))?;
        Ok(())
    });
}

const POLICY_WORDS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"expiration\"",
    "\"2099-01-01T00:00:00Z\"",
    "\"1970-01-01T00:00:00.000Z\"",
    "\"conditions\"",
    "\"eq\"",
    "\"starts-with\"",
    "\"content-length-range\"",
    "\"$key\"",
    "\"$bucket\"",
    "\"b-1250000000\"",
    "0",
    "-1",
    "1e400",
    "18446744073709551616",
    "null",
    "true",
    "\"\\u0000\"",
];

#[test]
fn fuzz_post_policy_json() {
    let fields = vec![
        ("key".to_string(), "k".to_string()),
        ("bucket".to_string(), "b-1250000000".to_string()),
    ];
    fuzz(
        "post policy json",
        prop_oneof![
            ".{0,200}".prop_map(String::into_bytes),
            pieces(POLICY_WORDS, 50).prop_map(String::into_bytes)
        ],
        |policy| {
            clean(post_policy::check_policy(
                &policy,
                &fields,
                "b-1250000000",
                1_700_000_000,
            ))?;
            Ok(())
        },
    );
}

const FORM_WORDS: &[&str] = &[
    "--B",
    "--B--",
    "\r\n",
    "\r\n\r\n",
    "Content-Disposition: form-data; name=\"",
    "\"",
    "; filename=\"f\"",
    "key",
    "file",
    "policy",
    "Content-Type: text/plain",
    "x-cos-meta-a",
    "value",
    "--",
    "\n",
];

#[test]
fn fuzz_post_form() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    fuzz(
        "post form",
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            pieces(FORM_WORDS, 60).prop_map(String::into_bytes)
        ],
        |body| {
            let stream: cos_emulator::request::BodyStream = Box::pin(futures_util::stream::iter(
                vec![Ok(bytes::Bytes::from(body))],
            ));
            let r = rt.block_on(async {
                post_object::read_form(stream, "B".into())
                    .await
                    .map(|(fields, name, _)| (fields, name))
            });
            clean(r)?;
            Ok(())
        },
    );
}

/// Edge inputs kept as regular tests. The fuzz runs so far found no panic; these are the
/// hand-built probes of the edges the targets aim at, so a regression shows up in a plain
/// `cargo test` even with few fuzz cases.
#[test]
fn corpus_edges() {
    let client_error = |r: Result<(), Error>| {
        let e = r.expect_err("refused");
        assert!((400..500).contains(&e.code.status()), "{:?}", e.code);
    };
    // Multi-byte text where the parser splits on ASCII separators.
    client_error(SignatureFields::from_header("q-sign-time=é;é").map(drop));
    // A window end beyond i64.
    client_error(SignatureFields::from_header("q-sign-algorithm=sha1&q-ak=a&q-sign-time=1;99999999999999999999&q-key-time=1;2&q-header-list=&q-url-param-list=&q-signature=0000000000000000000000000000000000000000").map(drop));
    // Ranges at the u64 edge: the last byte is satisfiable, one past it is not.
    assert_eq!(
        range::parse(Some("bytes=18446744073709551614-"), u64::MAX).unwrap(),
        Some(18446744073709551614..u64::MAX)
    );
    client_error(range::parse(Some("bytes=18446744073709551615-"), u64::MAX).map(drop));
    // A start beyond u64 does not parse: the header is ignored (whole body, as RFC 9110
    // treats an invalid range), never an overflow.
    assert_eq!(
        range::parse(Some("bytes=99999999999999999999-1"), 10).unwrap(),
        None
    );
    // A Complete list with a part number beyond u32.
    client_error(complete_multipart::parse_part_list(b"<CompleteMultipartUpload><Part><PartNumber>4294967296</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>").map(drop));
    // An entity declaration is never expanded (no billion laughs).
    let bomb = b"<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><RestoreRequest><Days>&b;</Days></RestoreRequest>";
    client_error(restore_object::parse_request(bomb).map(drop));
    // A dangling escape is kept literally; an escape that is not UTF-8 is refused.
    assert_eq!(Query::parse("a=%").unwrap().get("a"), Some("%"));
    client_error(Query::parse("%FF=1").map(drop));
    // A form whose boundary never closes.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let stream: cos_emulator::request::BodyStream = Box::pin(futures_util::stream::iter(vec![Ok(
        bytes::Bytes::from_static(b"--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk"),
    )]));
    client_error(
        rt.block_on(post_object::read_form(stream, "B".into()))
            .map(drop),
    );
}
