//! The mutations: response side, request side, behaviour switches, lying servers. Each
//! names the rules it breaks; their families (rules.yaml) select the cases it runs.

use super::{Break, How, Mutation, Op};

const fn proxy(name: &'static str, breaks: &'static [&'static str], b: Break) -> Mutation {
    Mutation {
        name,
        breaks,
        how: How::Proxy(b),
    }
}

const fn switch(
    name: &'static str,
    rule: &'static [&'static str],
    behaviour: &'static str,
) -> Mutation {
    Mutation {
        name,
        breaks: rule,
        how: How::Switch {
            rule: rule[0],
            behaviour,
        },
    }
}

const fn lie(name: &'static str, rule: &'static [&'static str]) -> Mutation {
    Mutation {
        name,
        breaks: rule,
        how: How::Lie(rule[0]),
    }
}

/// Every mutation, in a stable order.
pub fn all() -> Vec<Mutation> {
    use Break::*;
    vec![
        // Response side: SSE echo headers dropped, per operation.
        proxy(
            "drop-echo-put",
            &["COS-ECHO", "SSEC-ECHO"],
            DropEcho(Op::Put),
        ),
        proxy(
            "drop-echo-get",
            &["COS-ECHO", "SSEC-ECHO"],
            DropEcho(Op::Get),
        ),
        proxy(
            "drop-echo-head",
            &["COS-ECHO", "SSEC-ECHO"],
            DropEcho(Op::Head),
        ),
        proxy("drop-echo-post", &["POST-FORM"], DropEcho(Op::PostObject)),
        proxy("drop-echo-initiate", &["MPU-SSE"], DropEcho(Op::Initiate)),
        proxy("drop-echo-complete", &["MPU-SSE"], DropEcho(Op::Complete)),
        proxy("drop-echo-copy", &["COPY-DEST-SSE"], DropEcho(Op::Copy)),
        // ... and altered.
        proxy(
            "alter-echo-put",
            &["COS-ECHO", "KMS-KEY-ID"],
            AlterEcho(Op::Put),
        ),
        proxy(
            "alter-echo-get",
            &["COS-ECHO", "SSEC-ECHO"],
            AlterEcho(Op::Get),
        ),
        proxy(
            "alter-echo-head",
            &["COS-ECHO", "SSEC-ECHO"],
            AlterEcho(Op::Head),
        ),
        proxy("alter-echo-post", &["POST-FORM"], AlterEcho(Op::PostObject)),
        proxy("alter-echo-complete", &["MPU-SSE"], AlterEcho(Op::Complete)),
        proxy("alter-echo-copy", &["COPY-DEST-SSE"], AlterEcho(Op::Copy)),
        // Statuses.
        proxy(
            "400-becomes-403",
            &["COS-ALG-INVALID", "SSEC-KEY"],
            Status400To403,
        ),
        proxy(
            "403-becomes-400",
            &["SSEC-WRONG-KEY", "KMS-KEY-ID"],
            Status403To400,
        ),
        proxy(
            "400-becomes-200",
            &["COS-ALG-INVALID", "SSEC-KEY"],
            RefusalTo200(400),
        ),
        proxy(
            "403-becomes-200",
            &["SSEC-WRONG-KEY", "AUTH-SIGNED"],
            RefusalTo200(403),
        ),
        proxy("404-becomes-200", &["KMS-ALG"], NotFoundTo200),
        // Bodies.
        proxy(
            "body-flip-get",
            &["COS-TRANSPARENT", "SSEC-ROUNDTRIP"],
            BodyFlip(Op::Get),
        ),
        proxy("body-flip-range", &["RANGE"], BodyFlip(Op::GetRange)),
        proxy(
            "body-shift-get",
            &["COS-TRANSPARENT", "SSEC-ROUNDTRIP"],
            BodyShift(Op::Get),
        ),
        proxy("body-shift-range", &["RANGE"], BodyShift(Op::GetRange)),
        proxy(
            "body-truncate-get",
            &["COS-TRANSPARENT", "SSEC-ROUNDTRIP"],
            BodyTruncate(Op::Get),
        ),
        proxy(
            "body-truncate-range",
            &["RANGE"],
            BodyTruncate(Op::GetRange),
        ),
        // Integrity values.
        proxy(
            "etag-wrong-put",
            &["INTEGRITY-PLAINTEXT"],
            WrongEtag(Op::Put),
        ),
        proxy(
            "etag-wrong-get",
            &["INTEGRITY-PLAINTEXT"],
            WrongEtag(Op::Get),
        ),
        proxy(
            "etag-wrong-head",
            &["INTEGRITY-PLAINTEXT"],
            WrongEtag(Op::Head),
        ),
        proxy(
            "etag-wrong-post",
            &["INTEGRITY-PLAINTEXT", "POST-FORM"],
            WrongEtag(Op::PostObject),
        ),
        proxy(
            "etag-wrong-upload-part",
            &["INTEGRITY-PLAINTEXT", "MPU-SSE"],
            WrongEtag(Op::UploadPart),
        ),
        proxy(
            "etag-wrong-complete",
            &["INTEGRITY-PLAINTEXT", "MPU-SSE"],
            WrongEtag(Op::Complete),
        ),
        proxy(
            "etag-wrong-copy",
            &["INTEGRITY-PLAINTEXT", "COPY-DEST-SSE"],
            WrongEtag(Op::Copy),
        ),
        proxy(
            "etag-wrong-upload-part-copy",
            &["INTEGRITY-PLAINTEXT", "COPY-MULTIPART"],
            WrongEtag(Op::UploadPartCopy),
        ),
        proxy(
            "etag-wrong-list",
            &["INTEGRITY-PLAINTEXT", "LIST-ALL"],
            WrongEtag(Op::List),
        ),
        proxy(
            "crc64-wrong-put",
            &["INTEGRITY-PLAINTEXT"],
            WrongCrc(Op::Put),
        ),
        proxy(
            "crc64-wrong-get",
            &["INTEGRITY-PLAINTEXT"],
            WrongCrc(Op::Get),
        ),
        proxy(
            "crc64-wrong-head",
            &["INTEGRITY-PLAINTEXT"],
            WrongCrc(Op::Head),
        ),
        proxy(
            "crc64-wrong-complete",
            &["INTEGRITY-PLAINTEXT", "MPU-SSE"],
            WrongCrc(Op::Complete),
        ),
        proxy(
            "crc64-wrong-copy",
            &["INTEGRITY-PLAINTEXT", "COPY-DEST-SSE"],
            WrongCrc(Op::Copy),
        ),
        // Secrets and plaintext in refusals.
        proxy(
            "ssec-key-quoted-in-refusal",
            &["SSEC-NOT-STORED", "SSEC-KEY"],
            QuoteKeyInRefusal,
        ),
        proxy(
            "plaintext-quoted-in-refusal",
            &["SSEC-WRONG-KEY", "AT-REST"],
            QuotePlaintextInRefusal,
        ),
        proxy(
            "every-sse-upload-refused",
            &["COS-ALG", "KMS-VALUE", "SSEC-ROUNDTRIP"],
            RefuseEverySseUpload,
        ),
        // Request side.
        proxy(
            "right-ssec-key-on-get",
            &["SSEC-WRONG-KEY"],
            RightSseCKey(Op::Get),
        ),
        proxy(
            "right-ssec-key-on-head",
            &["SSEC-WRONG-KEY"],
            RightSseCKey(Op::Head),
        ),
        proxy(
            "right-copy-source-key",
            &["COPY-SOURCE-KEY"],
            RightCopySourceKey,
        ),
        proxy(
            "ssec-over-http-forwarded-https",
            &["SSEC-HTTPS"],
            SseCOverHttpForwarded,
        ),
        // A rule applied on PUT but forgotten on the other write paths.
        proxy(
            "ssec-https-put-only",
            &["SSEC-HTTPS", "COPY-SOURCE-KEY"],
            SseCOverHttpForwardedButPut,
        ),
        proxy(
            "region-limit-put-only",
            &["REGION-SSE", "REGION-KMS"],
            RegionLimitPutOnly,
        ),
        proxy(
            "anonymous-requests-signed",
            &["COS-ANON", "KMS-ANON", "SSEC-ANON"],
            SignAnonymous,
        ),
        proxy(
            "sse-stripped-from-presigned-uploads",
            &["PRESIGN-NO-SSE-COS", "PRESIGN-NO-SSE-KMS"],
            StripSsePresigned,
        ),
        proxy(
            "sse-stripped-from-archive-uploads",
            &["ARCHIVE-NO-ENCRYPT", "ARCHIVE-PUT-WITH-SSE"],
            StripSseArchive,
        ),
        proxy(
            "kms-downgraded-to-cos-echo-forged",
            &["KMS-VALUE", "KMS-ALG"],
            KmsDowngraded,
        ),
        proxy("kms-context-stripped", &["KMS-CONTEXT"], KmsContextStripped),
        proxy(
            "content-md5-stripped",
            &["AUTH-SIGNED", "INTEGRITY-PLAINTEXT"],
            ContentMd5Stripped,
        ),
        proxy(
            "bad-ssec-key-md5-recomputed",
            &["SSEC-MD5"],
            SseCMd5Recomputed,
        ),
        proxy(
            "ssec-key-length-put-copy-only",
            &["SSEC-KEY"],
            SseCKeyLengthPutCopyOnly,
        ),
        proxy(
            "sse-conflict-resolved-silently",
            &["SSE-CONFLICT"],
            ConflictResolved,
        ),
        proxy(
            "kms-headers-without-kms-dropped",
            &["KMS-KEY-WITHOUT-KMS"],
            KmsHeadersWithoutKmsDropped,
        ),
        // Every behaviour switch flipped on the emulator, the profile keeping the default.
        switch(
            "switch-cos-alg-legacy-accepted",
            &["COS-ALG-LEGACY"],
            "accepted",
        ),
        switch(
            "switch-ssec-md5-old-accepted",
            &["SSEC-MD5-OLD"],
            "accepted",
        ),
        switch(
            "switch-cos-anon-old-signature-required",
            &["COS-ANON-OLD"],
            "signature-required",
        ),
        switch(
            "switch-region-sse-all-regions",
            &["REGION-SSE"],
            "all-regions",
        ),
        switch(
            "switch-archive-put-with-sse-refused",
            &["ARCHIVE-PUT-WITH-SSE"],
            "refused",
        ),
        switch("switch-sse-http-refused", &["SSE-HTTP"], "refused"),
        switch(
            "switch-presign-unsigned-headers-accepted",
            &["PRESIGN-UNSIGNED-HEADERS"],
            "accepted",
        ),
        switch(
            "switch-mpu-part-kms-headers-ignored",
            &["MPU-PART-KMS-HEADERS"],
            "ignored",
        ),
        switch(
            "switch-mpu-ssec-complete-key-refused",
            &["MPU-SSEC-COMPLETE-KEY"],
            "refused",
        ),
        switch("switch-sse-etag-opaque", &["SSE-ETAG"], "opaque"),
        switch(
            "switch-ssec-alg-default-aes256",
            &["SSEC-ALG-DEFAULT"],
            "aes256",
        ),
        switch("switch-ssec-key-text-only", &["SSEC-KEY-TEXT"], "text-only"),
        switch(
            "switch-post-sse-header-ignored",
            &["POST-SSE-HEADER"],
            "ignored",
        ),
        switch(
            "switch-unsigned-subresource-accepted",
            &["UNSIGNED-SUBRESOURCE"],
            "accepted",
        ),
        // Bucket default encryption.
        switch(
            "switch-bucket-enc-mpu-not-applied",
            &["BUCKET-ENC-MPU"],
            "not-applied",
        ),
        switch(
            "switch-bucket-enc-post-not-applied",
            &["BUCKET-ENC-POST"],
            "not-applied",
        ),
        switch(
            "switch-bucket-enc-copy-not-applied",
            &["BUCKET-ENC-COPY"],
            "not-applied",
        ),
        switch(
            "switch-bucket-enc-ssec-refused",
            &["BUCKET-ENC-SSEC"],
            "refused",
        ),
        switch(
            "switch-bucket-enc-alias-refused",
            &["BUCKET-ENC-ALIAS"],
            "refused",
        ),
        switch(
            "switch-bucket-enc-kms-alg-get-omitted",
            &["BUCKET-ENC-KMS-ALG-GET"],
            "omitted",
        ),
        switch(
            "switch-bucket-enc-key-with-cos-ignored",
            &["BUCKET-ENC-KEY-WITH-COS"],
            "ignored",
        ),
        switch(
            "switch-bucket-enc-cmk-checked-at-upload",
            &["BUCKET-ENC-CMK"],
            "checked-at-upload",
        ),
        switch(
            "switch-bucket-enc-region-refused-at-upload",
            &["BUCKET-ENC-REGION"],
            "refused-at-upload",
        ),
        // The S3 dialect's switches.
        switch(
            "switch-amz-sse-on-cos-ignored",
            &["AMZ-SSE-ON-COS"],
            "ignored",
        ),
        switch(
            "switch-amz-sse-on-cos-refused",
            &["AMZ-SSE-ON-COS"],
            "refused",
        ),
        switch(
            "switch-sigv4-scope-region-ignored",
            &["SIGV4-SCOPE-REGION"],
            "ignored",
        ),
        // Lying servers: only introspection can see these.
        lie("lie-plaintext-at-rest", &["AT-REST"]),
        lie("lie-kms-sm4-ignored", &["KMS-ALG"]),
        lie("lie-kms-context-unbound", &["KMS-CONTEXT"]),
        lie("lie-kms-default-cmk", &["KMS-KEY-ID"]),
        lie("lie-cos-sm4-stored-as-aes256", &["COS-ALG"]),
        lie("lie-ssec-key-md5-kept", &["SSEC-NOT-STORED"]),
        // Bucket default encryption: wrong decisions inside the server.
        lie("lie-bucket-default-not-applied", &["BUCKET-ENC-APPLY"]),
        lie("lie-bucket-default-overrides-own", &["BUCKET-ENC-OWN"]),
        lie("lie-bucket-encryption-get-empty", &["BUCKET-ENC-GET-NONE"]),
        lie("lie-bucket-encryption-delete-kept", &["BUCKET-ENC-DELETE"]),
    ]
}

/// The fixed subset `--quick` runs (`.ci/run`): response, request, switch and lie breaks
/// chosen in the smaller families, so the baseline and the runs stay within minutes.
pub fn quick() -> Vec<Mutation> {
    const NAMES: &[&str] = &[
        "drop-echo-complete",
        "body-flip-range",
        "anonymous-requests-signed",
        "sse-stripped-from-presigned-uploads",
        "switch-region-sse-all-regions",
        "sse-conflict-resolved-silently",
        "lie-plaintext-at-rest",
    ];
    all()
        .into_iter()
        .filter(|m| NAMES.contains(&m.name))
        .collect()
}
