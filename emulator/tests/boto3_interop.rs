//! boto3 (the AWS SDK for Python, pinned in `scripts/requirements-boto3.txt`) against the
//! emulator's S3 dialect over verified HTTPS (`tests/sdk/boto3_interop.py`): configured as
//! COS documents for AWS SDKs (the COS region as the SDK region, only the endpoint
//! changed), it signs with Signature V4 and sends `x-amz-*` headers and its default
//! checksums. Flows: put/get/head with SSE-S3 (`AES256`), SSE-KMS with a key id and a
//! context, SSE-C; `copy_object` from SSE-C to a new key under another key;
//! `upload_file` above the multipart threshold with SSE-C `ExtraArgs` (every part carries
//! the key) and `download_file`; `generate_presigned_url` for GET; a wrong SSE-C key
//! refused with 403.
//!
//! The rows go to `interop/results/boto3.tsv` and the interop table of `docs/interop.md`.
//! boto3 is installed by `scripts/setup-boto3.sh` into `.venv-boto3/` on first run;
//! without python3 >= 3.10 or the package index the test fails with its message.

mod node_harness;

use node_harness::*;

/// Every flow of `boto3_interop.py`, in the order it runs.
const FLOWS: &[&str] = &[
    "put_get_head_sse_s3",
    "put_get_head_sse_kms",
    "put_get_head_sse_c",
    "copy_object_sse_c",
    "upload_file_multipart_sse_c",
    "presigned_get",
    "wrong_sse_c_key_refused",
    "bucket_encryption",
];

#[test]
fn boto3_flows_default_profile() {
    let python = match run_setup("setup-boto3.sh") {
        Ok(path) => std::path::PathBuf::from(path),
        Err((_, message)) => panic!("boto3 could not be installed: {message}"),
    };
    let emulator = Emulator::start(&[]);
    let work = tempfile::tempdir().expect("work dir");
    let script = repo_root().join("emulator/tests/sdk/boto3_interop.py");
    let mut env = base_env(&emulator, work.path());
    env.push(("COS_INTEROP_CA", emulator.cert.display().to_string()));
    env.push(("PYTHONDONTWRITEBYTECODE", "1".to_owned()));
    env.push(("PYTHONNOUSERSITE", "1".to_owned()));
    env.push(("AWS_CONFIG_FILE", "/dev/null".to_owned()));
    env.push(("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()));
    let run = run_program(&python, work.path(), &script, FLOWS, &env);
    drop(emulator);
    finish(
        &run,
        FLOWS,
        "default profile, HTTPS",
        "boto3.tsv",
        "default",
    );
}
