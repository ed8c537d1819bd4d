//! One test per rule, positive and negative, through [`super::parse`] and the context
//! checks; then a property test: any header values give a valid request or a clear
//! refusal, never a panic.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use cos_emulator_crypto::{Algorithm, SseMode};
use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

use super::names::*;
use super::*;
use crate::behaviour::Behaviours;
use crate::error::ErrorCode;
use crate::regions::RegionTable;

/// The 001 JS sample key: 32 ASCII bytes, base64 without padding (SSEC-KEY-UNPADDED).
const JS_KEY: &str = "MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY";
/// base64(MD5("0123456789ABCDEF0123456789ABCDEF")).
const JS_KEY_MD5: &str = "U5L61r7jcwdNvT7frmUG8g==";

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in pairs {
        h.append(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    h
}

fn upload(pairs: &[(&'static str, &str)]) -> Result<SseRequest, SseError> {
    parse(&headers(pairs), Operation::Upload, &Behaviours::default())
}

fn read(pairs: &[(&'static str, &str)]) -> Result<SseRequest, SseError> {
    parse(&headers(pairs), Operation::Read, &Behaviours::default())
}

/// Asserts a refusal's rule and COS code.
fn refused(r: Result<SseRequest, SseError>, rule: &str, code: ErrorCode) -> SseError {
    let e = r.expect_err("should be refused");
    assert_eq!(e.rule(), rule, "{e}");
    assert_eq!(e.code(), code, "{e}");
    e
}

fn ssec(alg: &str, key: &str, md5: &str) -> Vec<(&'static str, String)> {
    vec![
        (CUSTOMER_ALGORITHM, alg.to_string()),
        (CUSTOMER_KEY, key.to_string()),
        (CUSTOMER_KEY_MD5, md5.to_string()),
    ]
}

fn owned<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

#[test]
fn no_headers_is_no_sse() {
    assert_eq!(upload(&[]), Ok(SseRequest::None));
    assert_eq!(read(&[]), Ok(SseRequest::None));
}

#[test]
fn cos_alg() {
    assert_eq!(
        upload(&[(SSE, "AES256")]),
        Ok(SseRequest::Cos {
            algorithm: Algorithm::Aes256
        })
    );
    assert_eq!(
        upload(&[(SSE, "SM4")]),
        Ok(SseRequest::Cos {
            algorithm: Algorithm::Sm4
        })
    );
}

#[test]
fn cos_alg_invalid() {
    for v in ["aes256", "DES", "", "AES128"] {
        let e = refused(
            upload(&[(SSE, v)]),
            "COS-ALG-INVALID",
            ErrorCode::InvalidArgument,
        );
        assert!(e.to_string().contains(SSE));
    }
}

#[test]
fn cos_alg_legacy_switch() {
    refused(
        upload(&[(SSE, "AES-256")]),
        "COS-ALG-LEGACY",
        ErrorCode::InvalidArgument,
    );
    let accepted = Behaviours {
        legacy_aes_spelling_accepted: true,
        ..Behaviours::default()
    };
    assert_eq!(
        parse(&headers(&[(SSE, "AES-256")]), Operation::Upload, &accepted),
        Ok(SseRequest::Cos {
            algorithm: Algorithm::Aes256
        })
    );
}

#[test]
fn kms_value_with_defaults() {
    assert_eq!(
        upload(&[(SSE, "cos/kms")]),
        Ok(SseRequest::Kms {
            key_id: None,
            context: BTreeMap::new(),
            algorithm: Algorithm::Aes256
        })
    );
}

#[test]
fn kms_key_id_context_and_algorithm() {
    let ctx = STANDARD.encode(r#"{"test":"test"}"#);
    let r = upload(&[
        (SSE, "cos/kms"),
        (KMS_KEY_ID, "7b8d2fd0-6a73-11eb-8a4f-525400b2a2a9"),
        (KMS_CONTEXT, &ctx),
        (KMS_ALGORITHM, "SM4"),
    ])
    .unwrap();
    let SseRequest::Kms {
        key_id,
        context,
        algorithm,
    } = r
    else {
        panic!("not KMS: {r:?}")
    };
    assert_eq!(
        key_id.as_deref(),
        Some("7b8d2fd0-6a73-11eb-8a4f-525400b2a2a9")
    );
    assert_eq!(context["test"], "test");
    assert_eq!(algorithm, Algorithm::Sm4);
    refused(
        upload(&[(SSE, "cos/kms"), (KMS_KEY_ID, "")]),
        "KMS-KEY-ID",
        ErrorCode::InvalidArgument,
    );
}

#[test]
fn kms_context() {
    let e = refused(
        upload(&[(SSE, "cos/kms"), (KMS_CONTEXT, "eyJhIjox")]),
        "KMS-CONTEXT",
        ErrorCode::InvalidArgument,
    );
    assert!(e.to_string().contains(KMS_CONTEXT));
    refused(
        upload(&[(SSE, "cos/kms"), (KMS_CONTEXT, &STANDARD.encode("[1]"))]),
        "KMS-CONTEXT",
        ErrorCode::InvalidArgument,
    );
}

#[test]
fn kms_alg() {
    for v in ["aes256", "SM4 ", "AES-256", ""] {
        refused(
            upload(&[(SSE, "cos/kms"), (KMS_ALGORITHM, v)]),
            "KMS-ALG",
            ErrorCode::InvalidArgument,
        );
    }
}

#[test]
fn kms_not_on_get() {
    for v in ["cos/kms", "AES256", "SM4"] {
        let e = refused(
            read(&[(SSE, v)]),
            "KMS-NOT-ON-GET",
            ErrorCode::SseHeaderNotAllowed,
        );
        assert!(e.to_string().contains(SSE));
    }
    refused(
        parse(
            &headers(&[(SSE, "AES256")]),
            Operation::UploadPart,
            &Behaviours::default(),
        ),
        "KMS-NOT-ON-GET",
        ErrorCode::SseHeaderNotAllowed,
    );
    refused(
        read(&[(KMS_KEY_ID, "k")]),
        "KMS-NOT-ON-GET",
        ErrorCode::SseHeaderNotAllowed,
    );
    // Copies set the destination's mode.
    assert!(parse(
        &headers(&[(SSE, "AES256")]),
        Operation::Copy,
        &Behaviours::default()
    )
    .is_ok());
}

#[test]
fn kms_key_without_kms() {
    let ctx = STANDARD.encode("{}");
    for pairs in [
        vec![(KMS_KEY_ID, "k")],
        vec![(KMS_CONTEXT, ctx.as_str())],
        vec![(KMS_ALGORITHM, "AES256")],
        vec![(SSE, "AES256"), (KMS_KEY_ID, "k")],
        vec![(SSE, "SM4"), (KMS_CONTEXT, ctx.as_str())],
    ] {
        let e = refused(
            upload(&pairs),
            "KMS-KEY-WITHOUT-KMS",
            ErrorCode::InvalidArgument,
        );
        assert!(e.to_string().contains("cos/kms"));
    }
}

#[test]
fn ssec_alg() {
    for alg in [Algorithm::Aes256, Algorithm::Sm4] {
        let r = upload(&owned(&ssec(alg.as_str(), JS_KEY, JS_KEY_MD5))).unwrap();
        let SseRequest::Customer(c) = r else {
            panic!("not SSE-C")
        };
        assert_eq!(c.algorithm, alg);
    }
    for bad in ["aes256", "AES-256", "", "DES"] {
        let e = refused(
            upload(&owned(&ssec(bad, JS_KEY, JS_KEY_MD5))),
            "SSEC-ALG",
            ErrorCode::InvalidEncryptionAlgorithm,
        );
        // COS answers it as any invalid argument, S3 with a code of its own.
        assert_eq!(
            e.code().wire(crate::dialect::Dialect::Cos),
            (400, "InvalidArgument")
        );
        assert_eq!(
            e.code().wire(crate::dialect::Dialect::S3),
            (400, "InvalidEncryptionAlgorithmError")
        );
    }
}

#[test]
fn ssec_key_unpadded_and_padded() {
    for key in [JS_KEY, &format!("{JS_KEY}=")] {
        let SseRequest::Customer(c) = upload(&owned(&ssec("AES256", key, JS_KEY_MD5))).unwrap()
        else {
            panic!("not SSE-C")
        };
        assert_eq!(c.key.as_bytes(), b"0123456789ABCDEF0123456789ABCDEF");
        assert_eq!(c.key_md5, JS_KEY_MD5);
    }
}

#[test]
fn ssec_key_sizes_and_encoding() {
    // The 004 Python sample style: base64 of 32 random bytes, padded.
    let key = [0x5au8; 32];
    let b64 = STANDARD.encode(key);
    let md5 = STANDARD.encode(<md5::Md5 as md5::Digest>::digest(key));
    assert!(upload(&owned(&ssec("AES256", &b64, &md5))).is_ok());
    for bad in [
        STANDARD.encode([1u8; 16]),
        STANDARD.encode([1u8; 31]),
        STANDARD.encode([1u8; 33]),
        STANDARD.encode([1u8; 64]),
        "not base64 at all!".to_string(),
        String::new(),
        format!("{b64}=="),
    ] {
        let e = refused(
            upload(&owned(&ssec("AES256", &bad, &md5))),
            "SSEC-KEY",
            ErrorCode::InvalidArgument,
        );
        assert!(e.to_string().contains(CUSTOMER_KEY));
        assert!(!bad.is_empty() && !e.to_string().contains(&bad) || bad.is_empty());
    }
}

#[test]
fn ssec_md5() {
    let other = STANDARD.encode([0u8; 16]);
    refused(
        upload(&owned(&ssec("AES256", JS_KEY, &other))),
        "SSEC-MD5",
        ErrorCode::InvalidArgument,
    );
    for malformed in ["xyz!", "AAAA", &STANDARD.encode([0u8; 20])] {
        refused(
            upload(&owned(&ssec("AES256", JS_KEY, malformed))),
            "SSEC-MD5",
            ErrorCode::InvalidArgument,
        );
    }
    // Unpadded MD5 is accepted like the unpadded key.
    assert!(upload(&owned(&ssec(
        "AES256",
        JS_KEY,
        JS_KEY_MD5.trim_end_matches('=')
    )))
    .is_ok());
}

#[test]
fn ssec_md5_old_switch() {
    let pairs = [(CUSTOMER_ALGORITHM, "AES256"), (CUSTOMER_KEY, JS_KEY)];
    let e = refused(upload(&pairs), "SSEC-MD5", ErrorCode::InvalidArgument);
    assert!(e.to_string().contains(CUSTOMER_KEY_MD5));
    let accepted = Behaviours {
        ssec_without_md5_accepted: true,
        ..Behaviours::default()
    };
    let SseRequest::Customer(c) = parse(&headers(&pairs), Operation::Upload, &accepted).unwrap()
    else {
        panic!("not SSE-C")
    };
    assert_eq!(c.key_md5, JS_KEY_MD5, "the echo is computed from the key");
}

#[test]
fn ssec_alg_default_switch() {
    let pairs = [(CUSTOMER_KEY, JS_KEY), (CUSTOMER_KEY_MD5, JS_KEY_MD5)];
    refused(
        upload(&pairs),
        "SSEC-HEADERS-TOGETHER",
        ErrorCode::SseCustomerIncomplete,
    );
    let aes256 = Behaviours {
        ssec_algorithm_defaults_to_aes256: true,
        ..Behaviours::default()
    };
    let SseRequest::Customer(c) = parse(&headers(&pairs), Operation::Upload, &aes256).unwrap()
    else {
        panic!("not SSE-C")
    };
    assert_eq!(c.algorithm, Algorithm::Aes256, "a key alone means AES256");
    // The default fills in a missing algorithm only: an algorithm alone is still refused.
    let alone = [(CUSTOMER_ALGORITHM, "AES256")];
    assert!(parse(&headers(&alone), Operation::Upload, &aes256).is_err());
}

#[test]
fn ssec_key_text_switch() {
    // 32 bytes that are not text: 0x00..0x1f.
    let binary: Vec<u8> = (0u8..32).collect();
    let key = STANDARD.encode(&binary);
    let md5 = STANDARD.encode(<md5::Md5 as md5::Digest>::digest(&binary));
    let pairs = [
        (CUSTOMER_ALGORITHM, "AES256"),
        (CUSTOMER_KEY, key.as_str()),
        (CUSTOMER_KEY_MD5, md5.as_str()),
    ];
    assert!(
        upload(&pairs).is_ok(),
        "any-bytes (default) takes a binary key"
    );
    let text_only = Behaviours {
        ssec_key_text_only: true,
        ..Behaviours::default()
    };
    let e = parse(&headers(&pairs), Operation::Upload, &text_only).unwrap_err();
    assert_eq!(e.rule(), "SSEC-KEY");
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert!(
        !e.to_string().contains(&key),
        "the refusal never quotes the key"
    );
    let text = [
        (CUSTOMER_ALGORITHM, "AES256"),
        (CUSTOMER_KEY, JS_KEY),
        (CUSTOMER_KEY_MD5, JS_KEY_MD5),
    ];
    assert!(parse(&headers(&text), Operation::Upload, &text_only).is_ok());
}

#[test]
fn ssec_headers_together() {
    for pairs in [
        vec![(CUSTOMER_ALGORITHM, "AES256")],
        vec![(CUSTOMER_KEY, JS_KEY)],
        vec![(CUSTOMER_KEY_MD5, JS_KEY_MD5)],
        vec![
            (CUSTOMER_ALGORITHM, "AES256"),
            (CUSTOMER_KEY_MD5, JS_KEY_MD5),
        ],
        vec![(CUSTOMER_KEY, JS_KEY), (CUSTOMER_KEY_MD5, JS_KEY_MD5)],
    ] {
        refused(
            upload(&pairs),
            "SSEC-HEADERS-TOGETHER",
            ErrorCode::SseCustomerIncomplete,
        );
    }
}

#[test]
fn ssec_on_reads_and_parts() {
    for op in [Operation::Read, Operation::UploadPart] {
        let r = parse(
            &headers(&owned(&ssec("AES256", JS_KEY, JS_KEY_MD5))),
            op,
            &Behaviours::default(),
        );
        assert!(matches!(r, Ok(SseRequest::Customer(_))), "{op:?}");
    }
}

#[test]
fn sse_conflict() {
    let key = ssec("AES256", JS_KEY, JS_KEY_MD5);
    let mut pairs = owned(&key);
    pairs.push((SSE, "AES256"));
    refused(upload(&pairs), "SSE-CONFLICT", ErrorCode::InvalidArgument);
    let mut pairs = owned(&key);
    pairs.push((KMS_KEY_ID, "k"));
    refused(upload(&pairs), "SSE-CONFLICT", ErrorCode::InvalidArgument);
    refused(
        upload(&[(SSE, "cos/kms"), (CUSTOMER_ALGORITHM, "AES256")]),
        "SSE-CONFLICT",
        ErrorCode::InvalidArgument,
    );
}

#[test]
fn repeated_or_non_text_headers_are_refused() {
    let e = upload(&[(SSE, "AES256"), (SSE, "AES256")]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert_eq!(e.rule(), "COS-ALG-INVALID");
    let mut h = HeaderMap::new();
    h.insert(CUSTOMER_KEY, HeaderValue::from_bytes(b"\xff").unwrap());
    let e = parse(&h, Operation::Upload, &Behaviours::default()).unwrap_err();
    assert_eq!(e.rule(), "SSEC-KEY");
}

#[test]
fn post_form_fields_follow_the_same_rules() {
    let form = vec![
        (
            "x-cos-server-side-encryption".to_string(),
            "cos/kms".to_string(),
        ),
        (
            "X-Cos-Server-Side-Encryption-Cos-Kms-Algorithm".to_string(),
            "SM4".to_string(),
        ),
    ];
    assert!(matches!(
        parse(&form, Operation::Upload, &Behaviours::default()),
        Ok(SseRequest::Kms {
            algorithm: Algorithm::Sm4,
            ..
        })
    ));
    let bad = vec![(
        "x-cos-server-side-encryption".to_string(),
        "aes\u{1}".to_string(),
    )];
    let e = parse(&bad, Operation::Upload, &Behaviours::default()).unwrap_err();
    assert!(!e.to_string().contains('\u{1}'));
}

#[test]
fn copy_source_key() {
    let h = headers(&[
        (COPY_SOURCE_CUSTOMER_ALGORITHM, "SM4"),
        (COPY_SOURCE_CUSTOMER_KEY, JS_KEY),
        (COPY_SOURCE_CUSTOMER_KEY_MD5, JS_KEY_MD5),
    ]);
    let b = Behaviours::default();
    let src = copy_source::parse(&h, &b).unwrap().unwrap();
    assert_eq!(src.algorithm, Algorithm::Sm4);
    // The copy source's key does not make the destination SSE-C (COPY-DIFFERENT-KEYS).
    assert_eq!(parse(&h, Operation::Copy, &b), Ok(SseRequest::None));
    assert_eq!(copy_source::parse(&HeaderMap::new(), &b), Ok(None));
    let partial = headers(&[(COPY_SOURCE_CUSTOMER_KEY, JS_KEY)]);
    let e = copy_source::parse(&partial, &b).unwrap_err();
    assert_eq!(e.rule(), "SSEC-HEADERS-TOGETHER");
    assert!(e.to_string().contains(COPY_SOURCE_CUSTOMER_ALGORITHM));
    // COS answers an incomplete set as any unacceptable request, S3 as an invalid argument.
    assert_eq!(
        e.code().wire(crate::dialect::Dialect::Cos),
        (400, "InvalidRequest")
    );
    assert_eq!(
        e.code().wire(crate::dialect::Dialect::S3),
        (400, "InvalidArgument")
    );
    let wrong_md5 = headers(&[
        (COPY_SOURCE_CUSTOMER_ALGORITHM, "AES256"),
        (COPY_SOURCE_CUSTOMER_KEY, JS_KEY),
        (COPY_SOURCE_CUSTOMER_KEY_MD5, "AAAAAAAAAAAAAAAAAAAAAA=="),
    ]);
    let e = copy_source::parse(&wrong_md5, &b).unwrap_err();
    assert_eq!(e.rule(), "SSEC-MD5");
    assert!(e.to_string().contains(COPY_SOURCE_CUSTOMER_KEY_MD5));
    // Source and destination keys are independent.
    let mut both = h.clone();
    for (n, v) in ssec(
        "AES256",
        &STANDARD.encode([3u8; 32]),
        &STANDARD.encode(<md5::Md5 as md5::Digest>::digest([3u8; 32])),
    ) {
        both.insert(n, HeaderValue::from_str(&v).unwrap());
    }
    assert!(matches!(
        parse(&both, Operation::Copy, &b),
        Ok(SseRequest::Customer(_))
    ));
    assert!(copy_source::parse(&both, &b).unwrap().is_some());
}

fn customer() -> SseRequest {
    upload(&owned(&ssec("AES256", JS_KEY, JS_KEY_MD5))).unwrap()
}

#[test]
fn ssec_https() {
    let c = customer();
    let e = check_scheme(&c, None, false).unwrap_err();
    assert_eq!(
        (e.rule(), e.code()),
        ("SSEC-HTTPS", ErrorCode::InvalidRequest)
    );
    assert!(check_scheme(&c, None, true).is_ok());
    assert!(check_scheme(
        &SseRequest::Cos {
            algorithm: Algorithm::Aes256
        },
        None,
        false
    )
    .is_ok());
    let SseRequest::Customer(src) = c else {
        unreachable!()
    };
    let e = check_scheme(&SseRequest::None, Some(&src), false).unwrap_err();
    assert!(e.to_string().contains(COPY_SOURCE_CUSTOMER_KEY));
}

#[test]
fn sse_http_switch_refuses_server_side_modes_over_http_only_when_refused() {
    let cos = SseRequest::Cos {
        algorithm: Algorithm::Aes256,
    };
    let default = Behaviours::default();
    let refused = Behaviours {
        sse_over_http_refused: true,
        ..Behaviours::default()
    };
    assert!(check_upload_scheme(&cos, false, &default).is_ok());
    assert!(check_upload_scheme(&cos, true, &refused).is_ok());
    assert!(check_upload_scheme(&SseRequest::None, false, &refused).is_ok());
    let e = check_upload_scheme(&cos, false, &refused).unwrap_err();
    assert_eq!(
        (e.rule(), e.code()),
        ("SSE-HTTP", ErrorCode::InvalidRequest)
    );
}

#[test]
fn presign_no_sse_cos_or_kms() {
    let cos = upload(&[(SSE, "AES256")]).unwrap();
    let kms = upload(&[(SSE, "cos/kms")]).unwrap();
    let e = check_presigned(&cos, true).unwrap_err();
    assert_eq!(
        (e.rule(), e.code()),
        ("PRESIGN-NO-SSE-COS", ErrorCode::InvalidRequest)
    );
    let e = check_presigned(&kms, true).unwrap_err();
    assert_eq!(e.rule(), "PRESIGN-NO-SSE-KMS");
    assert!(check_presigned(&cos, false).is_ok());
    assert!(check_presigned(&SseRequest::None, true).is_ok());
}

#[test]
fn region_kms_and_region_sse() {
    let t = RegionTable::default();
    let enforced = Behaviours::default();
    let all = Behaviours {
        sse_in_all_regions: true,
        ..Behaviours::default()
    };
    let cos = upload(&[(SSE, "SM4")]).unwrap();
    let kms = upload(&[(SSE, "cos/kms")]).unwrap();
    let c = customer();
    assert!(check_region(&kms, "ap-hongkong", &t, &enforced).is_ok());
    let e = check_region(&kms, "ap-chengdu", &t, &enforced).unwrap_err();
    assert_eq!(
        (e.rule(), e.code()),
        ("REGION-KMS", ErrorCode::InvalidArgument)
    );
    assert!(e.to_string().contains("ap-chengdu"));
    for r in [&cos, &c] {
        assert!(check_region(r, "ap-beijing", &t, &enforced).is_ok());
        let e = check_region(r, "ap-hongkong", &t, &enforced).unwrap_err();
        assert_eq!(e.rule(), "REGION-SSE");
        assert!(check_region(r, "ap-hongkong", &t, &all).is_ok());
        assert!(check_region(r, "ap-chengdu", &t, &all).is_ok());
        assert!(check_region(r, "mars-1", &t, &all).is_err());
    }
    assert!(
        check_region(&kms, "ap-chengdu", &t, &all).is_err(),
        "REGION-SSE does not touch KMS"
    );
    assert!(check_region(&SseRequest::None, "ap-chengdu", &t, &enforced).is_ok());
}

#[test]
fn ssec_get_needs_key_and_not_applicable() {
    let c = customer();
    assert!(check_read(Some(SseMode::Customer), &c).is_ok());
    let e = check_read(Some(SseMode::Customer), &SseRequest::None).unwrap_err();
    assert_eq!(
        (e.rule(), e.code()),
        ("SSEC-GET-NEEDS-KEY", ErrorCode::InvalidRequest)
    );
    for stored in [None, Some(SseMode::Cos), Some(SseMode::Kms)] {
        assert!(check_read(stored, &SseRequest::None).is_ok());
        let e = check_read(stored, &c).unwrap_err();
        assert_eq!(e.rule(), "SSEC-NOT-APPLICABLE");
    }
}

#[test]
fn copy_source_key_against_the_stored_source() {
    let SseRequest::Customer(src) = customer() else {
        unreachable!()
    };
    assert!(check_copy_source(Some(SseMode::Customer), Some(&src)).is_ok());
    let e = check_copy_source(Some(SseMode::Customer), None).unwrap_err();
    assert_eq!(
        (e.rule(), e.code()),
        ("COPY-SOURCE-KEY", ErrorCode::InvalidRequest)
    );
    assert!(check_copy_source(Some(SseMode::Kms), None).is_ok());
    assert!(check_copy_source(None, Some(&src)).is_err());
}

#[test]
fn anonymous_reads() {
    let current = Behaviours::default();
    let old = Behaviours {
        anonymous_sse_needs_signature: true,
        ..Behaviours::default()
    };
    assert!(check_anonymous_read(None, &current).is_ok());
    assert!(
        check_anonymous_read(Some(SseMode::Cos), &current).is_ok(),
        "COS-ANON"
    );
    let e = check_anonymous_read(Some(SseMode::Cos), &old).unwrap_err();
    assert_eq!(
        (e.rule(), e.code()),
        ("COS-ANON-OLD", ErrorCode::AccessDenied)
    );
    let e = check_anonymous_read(Some(SseMode::Kms), &current).unwrap_err();
    assert_eq!(e.rule(), "KMS-ANON");
    let e = check_anonymous_read(Some(SseMode::Customer), &current).unwrap_err();
    assert_eq!(e.rule(), "SSEC-ANON");
}

#[test]
fn errors_become_cos_errors_without_key_material() {
    let e: crate::error::Error =
        upload(&owned(&ssec("AES256", JS_KEY, "AAAAAAAAAAAAAAAAAAAAAA==")))
            .unwrap_err()
            .into();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(e.message.contains(CUSTOMER_KEY_MD5));
    assert!(!e.message.contains(JS_KEY));
    assert!(!format!("{:?}", customer()).contains(JS_KEY));
}

/// Names a property test draws from: every SSE header, twice for repeats.
const ALL_NAMES: [&str; 10] = [
    SSE,
    KMS_KEY_ID,
    KMS_CONTEXT,
    KMS_ALGORITHM,
    CUSTOMER_ALGORITHM,
    CUSTOMER_KEY,
    CUSTOMER_KEY_MD5,
    COPY_SOURCE_CUSTOMER_ALGORITHM,
    COPY_SOURCE_CUSTOMER_KEY,
    COPY_SOURCE_CUSTOMER_KEY_MD5,
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("AES256".to_string()),
        Just("SM4".to_string()),
        Just("cos/kms".to_string()),
        Just("AES-256".to_string()),
        Just(JS_KEY.to_string()),
        Just(JS_KEY_MD5.to_string()),
        Just(STANDARD.encode(r#"{"a":"b"}"#)),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| STANDARD.encode(b)),
        "[ -~]{0,80}",
        any::<String>(),
    ]
}

proptest! {
    // No regression file: it would land outside sse/ (emulator/proptest-regressions).
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(2000)
    })]

    /// Any combination of SSE fields, for any operation and switches: a valid request or
    /// a refusal with a 4xx code and a message naming an SSE header — never a panic.
    #[test]
    fn any_input_is_a_request_or_a_clear_refusal(
        fields in prop::collection::vec((0..ALL_NAMES.len(), value()), 0..6),
        op in prop::sample::select(vec![Operation::Upload, Operation::Copy, Operation::UploadPart, Operation::Read]),
        legacy in any::<bool>(),
        no_md5 in any::<bool>(),
    ) {
        let b = Behaviours {
            legacy_aes_spelling_accepted: legacy,
            ssec_without_md5_accepted: no_md5,
            ..Behaviours::default()
        };
        // As form fields (any string), and as headers where the value is a legal header.
        let form: Vec<(String, String)> =
            fields.iter().map(|(i, v)| (ALL_NAMES[*i].to_string(), v.clone())).collect();
        let mut map = HeaderMap::new();
        for (i, v) in &fields {
            if let Ok(hv) = HeaderValue::from_str(v) {
                map.append(HeaderName::from_static(ALL_NAMES[*i]), hv);
            }
        }
        for result in [parse(&form, op, &b), parse(&map, op, &b)] {
            match result {
                Ok(SseRequest::Customer(c)) => {
                    prop_assert_eq!(c.key.as_bytes().len(), 32);
                    prop_assert_eq!(STANDARD.decode(&c.key_md5).unwrap().len(), 16);
                }
                Ok(SseRequest::Kms { key_id, .. }) => {
                    prop_assert!(matches!(op, Operation::Upload | Operation::Copy));
                    prop_assert!(key_id.is_none_or(|k| !k.is_empty()));
                }
                Ok(SseRequest::Cos { .. }) => {
                    prop_assert!(matches!(op, Operation::Upload | Operation::Copy));
                }
                Ok(SseRequest::None) => {}
                Err(e) => {
                    let status = e.code().status();
                    prop_assert!(status == 400 || status == 403);
                    let msg = e.to_string();
                    prop_assert!(msg.contains("x-cos-") || msg.contains("cos/kms"), "{}", msg);
                    prop_assert!(!msg.contains(JS_KEY));
                    prop_assert!(msg.chars().count() < 400);
                }
            }
        }
        let _ = copy_source::parse(&form, &b);
        let _ = copy_source::parse(&map, &b);
    }
}
