//! The AWS SDK for JavaScript v3 (`@aws-sdk/client-s3`, `@aws-sdk/lib-storage`,
//! `@aws-sdk/s3-request-presigner`, pinned in `interop/package.json`) against the
//! emulator's S3 dialect over verified HTTPS (`interop/node/aws_flows.js`), with the
//! SDK's defaults: Signature V4 and, on uploads, its default CRC32 checksum (a header, or a
//! trailer on an aws-chunked body), which the emulator verifies. Flows: put/get/head with SSE-S3, SSE-KMS with a key id and a
//! context, SSE-C; a copy from SSE-C to another key; `Upload` of 12 MiB in 5 MiB parts with
//! SSE-C; a presigned GET; a wrong SSE-C key refused with 403; PUT/GET/DELETE Bucket
//! encryption with an upload taking the default.
//!
//! The rows go to `interop/results/aws-js.tsv` and the interop table of `docs/interop.md`.
//! The packages are installed by `scripts/setup-node-sdk.sh` (npm ci, project-local).

mod node_harness;

use node_harness::*;

/// Every flow of `aws_flows.js`, in the order it runs.
const FLOWS: &[&str] = &[
    "put_get_head_sse_s3",
    "put_get_head_sse_kms",
    "put_get_head_sse_c",
    "copy_object_sse_c",
    "upload_multipart_sse_c",
    "presigned_get",
    "wrong_sse_c_key_refused",
    "bucket_encryption",
];

#[test]
fn aws_sdk_js_v3_flows_default_profile() {
    let emulator = Emulator::start(&[]);
    let work = tempfile::tempdir().expect("work dir");
    let script = interop_dir().join("node/aws_flows.js");
    let mut env = base_env(&emulator, work.path());
    env.push(("NODE_EXTRA_CA_CERTS", emulator.cert.display().to_string()));
    env.push(("AWS_CONFIG_FILE", "/dev/null".to_owned()));
    env.push(("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()));
    let run = run_node(&script, FLOWS, &env);
    drop(emulator);
    finish(
        &run,
        FLOWS,
        "default profile, HTTPS",
        "aws-js.tsv",
        "default",
    );
}
