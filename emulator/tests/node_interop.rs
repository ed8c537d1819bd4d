//! The official Node.js SDK (`cos-nodejs-sdk-v5`, pinned by `interop/package-lock.json`)
//! runs every JavaScript sample of seeds 001 and 003 against the emulator over verified
//! HTTPS (`interop/node/flows.js`), plus getObject/headObject/putObjectCopy to another key,
//! multipart with the key on every part, and `uploadFile` with SSE-C pinned as a KNOWN SDK
//! DEFECT (its parts carry no SSE-C headers; the flow notices when the SDK is fixed); and
//! what the SDK does in ordinary code: its default uploads (which send `Cache-Control:` and
//! `Content-Type:` empty on purpose) HEAD with neither empty, `deleteMultipleObject` of an
//! SSE-C object without its key, `getBucketLocation`, `putBucketEncryption` /
//! `getBucketEncryption` / `deleteBucketEncryption` with uploads that take the default, and
//! `putObjectAcl` with `GrantRead` letting a second account read an SSE-KMS object.
//!
//! Two emulator profiles: the default one (003's `'AES-256'` and MD5-less SSE-C refused,
//! COS-ALG-LEGACY and SSEC-MD5-OLD `refused`) and the alternate one (both `accepted`), as
//! `fixtures/profiles/emulator*.yaml` run the catalog. Each test writes its rows to
//! `interop/results/node.tsv` and regenerates the interop table of `docs/interop.md`; the last test
//! fails when that table is stale.
//!
//! The packages are installed by `scripts/setup-node-sdk.sh` (npm ci, project-local) on
//! first run; without node/npm or the npm registry the tests fail with its message.

mod node_harness;

use node_harness::*;

/// Every flow of `flows.js`, in the order it runs.
const FLOWS: &[&str] = &[
    "sse_cos_001",
    "sse_c_001",
    "sse_kms_001_key_id_and_context",
    "sse_kms_001_default_key",
    "sse_cos_003_aes_256",
    "sse_c_003_without_md5",
    "copy_sse_c_to_new_key",
    "multipart_sse_c_key_on_every_part",
    "upload_file_sse_c_known_defect",
    "default_uploads_no_empty_cache_control",
    "delete_multiple_object",
    "get_bucket_location",
    "bucket_encryption",
    "put_object_acl_grant",
];

/// The flows whose expectation depends on the profile (003's superseded spellings).
const PROFILE_FLOWS: &[&str] = &["sse_cos_003_aes_256", "sse_c_003_without_md5"];

fn run_profile(profile: &str, behaviour: &[(&str, &str)], flows: &[&str]) {
    let emulator = Emulator::start(behaviour);
    let work = tempfile::tempdir().expect("work dir");
    let script = interop_dir().join("node/flows.js");
    let mut env = base_env(&emulator, work.path());
    env.push(("COS_INTEROP_BEHAVIOUR", profile.to_owned()));
    // The emulator's certificate is trusted; verification stays on.
    env.push(("NODE_EXTRA_CA_CERTS", emulator.cert.display().to_string()));
    let run = run_node(&script, flows, &env);
    drop(emulator);
    finish(
        &run,
        flows,
        &format!("{profile} profile, HTTPS"),
        "node.tsv",
        profile,
    );
}

#[test]
fn samples_of_001_and_003_default_profile() {
    run_profile("default", &[], FLOWS);
}

#[test]
fn samples_of_003_alternate_profile() {
    run_profile(
        "alternate",
        &[("COS-ALG-LEGACY", "accepted"), ("SSEC-MD5-OLD", "accepted")],
        PROFILE_FLOWS,
    );
}

#[test]
fn interop_table_doc_is_current() {
    if let Err(e) = check_table_doc() {
        panic!("{e}");
    }
}
