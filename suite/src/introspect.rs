//! Running a case's `introspect:` checks (the checks themselves are data, loaded with the
//! case: `crate::case::introspect`): what the endpoint *stored*, which the wire cannot show.
//! Only the embedded emulator offers the capability (through
//! `cos_emulator::introspect::Introspector`, a library call: nothing is exposed on the
//! network, and the scan's needles never reach the emulator's disk); a vendor profile
//! never has the capability, so these checks are not applicable there. A failed check fails
//! the case like a step's expectation would.

use std::collections::BTreeSet;

use base64::Engine;
use md5::{Digest, Md5};

use crate::case::introspect::{Action, MasterKeyAge, ScanSpec, StoredExpect};
use crate::case::{Case, StepKind, Template};
use crate::outcome::Mismatch;
use crate::runner::CaseState;

fn mismatch(field: &str, expected: impl Into<String>, got: impl Into<String>) -> Mismatch {
    Mismatch {
        field: format!("introspect {field}"),
        expected: expected.into(),
        got: got.into(),
    }
}

/// Runs the case's checks that belong after step `index`; the mismatches found.
pub async fn after_step(state: &CaseState<'_>, index: usize) -> Vec<Mismatch> {
    let last = state.case.steps.len().saturating_sub(1);
    let mut out = Vec::new();
    for check in &state.case.introspect {
        if check.after.map_or(last, |s| s.0) != index {
            continue;
        }
        let Some(intro) = state.env.introspector.clone() else {
            out.push(mismatch(
                "capability",
                "an embedded emulator to introspect",
                "none: `introspect` is only offered by the embedded emulator",
            ));
            return out;
        };
        match &check.action {
            Action::Object { key, expect } => {
                out.extend(check_object(state, &intro, key, expect).await);
            }
            Action::BucketEncryption(expect) => {
                out.extend(check_bucket_encryption(state, &intro, expect).await);
            }
            Action::Scan(spec) => out.extend(check_scan(state, &intro, spec).await),
            Action::KmsDisable(key) => {
                let result = state
                    .render_template(key)
                    .and_then(|id| intro.disable_kms_key(&state.env.profile.appid, &id));
                if let Err(e) = result {
                    out.push(mismatch("kms_disable", "the CMK disabled", e));
                }
            }
            Action::RotateMasterKey => {
                let rotating = intro.clone();
                let rotated = tokio::task::spawn_blocking(move || rotating.rotate_master_key())
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r);
                match rotated {
                    Ok(version) => {
                        *state
                            .rotated_master_key
                            .lock()
                            .unwrap_or_else(|p| p.into_inner()) = Some(version);
                    }
                    Err(e) => out.push(mismatch("rotate_master_key", "a new version", e)),
                }
            }
        }
        if !out.is_empty() {
            break;
        }
    }
    out
}

/// Undoes what the checks changed outside the case (re-enables every CMK a
/// `kms_disable` disabled); problems are returned as warnings.
pub fn finish(state: &CaseState<'_>) -> Vec<String> {
    let Some(intro) = state.env.introspector.as_ref() else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    for check in &state.case.introspect {
        if let Action::KmsDisable(key) = &check.action {
            let result = state
                .render_template(key)
                .and_then(|id| intro.enable_kms_key(&state.env.profile.appid, &id));
            if let Err(e) = result {
                warnings.push(format!("introspect: re-enabling a CMK: {e}"));
            }
        }
    }
    warnings
}

async fn check_object(
    state: &CaseState<'_>,
    intro: &cos_emulator::introspect::Introspector,
    key: &Template,
    expect: &StoredExpect,
) -> Vec<Mismatch> {
    let key = match state.render_template(key) {
        Ok(k) => k,
        Err(e) => return vec![mismatch("object", "a key", e)],
    };
    let cmk = match expect.cmk.as_ref().map(|t| state.render_template(t)) {
        Some(Err(e)) => return vec![mismatch("cmk", "a CMK id", e)],
        Some(Ok(c)) => Some(c),
        None => None,
    };
    let stored = match stored_object(intro, &state.bucket, &key).await {
        Ok(s) => s,
        Err(m) => return vec![m],
    };
    let mut out = Vec::new();
    if let Some(other) = &expect.stored_unlike {
        let other = match state.render_template(other) {
            Ok(k) => k,
            Err(e) => return vec![mismatch("stored_unlike", "a key", e)],
        };
        match stored_object(intro, &state.bucket, &other).await {
            Ok(o) if o.stored_sha256 == stored.stored_sha256 => out.push(mismatch(
                &format!("object {key} stored bytes"),
                format!("unlike those of {other} (UNIQUE-KEY: a fresh data key per write)"),
                format!("identical (SHA-256 {})", stored.stored_sha256),
            )),
            Ok(_) => {}
            Err(m) => return vec![m],
        }
    }
    if let Some(n) = expect.parts {
        if stored.parts.len() != n {
            out.push(mismatch(
                &format!("object {key} parts"),
                n.to_string(),
                stored.parts.len().to_string(),
            ));
        }
    }
    // The object's own record and every part's: a multipart object's parts carry the
    // protection its bytes really have.
    let records = std::iter::once(("", &stored.sse))
        .chain(stored.parts.iter().map(|p| (" part", p)))
        .enumerate();
    for (i, (what, s)) in records {
        let at = if what.is_empty() {
            format!("object {key}")
        } else {
            format!("object {key} part {i}")
        };
        if let Some(m) = expect.mode {
            if s.mode != m.as_str() {
                out.push(mismatch(&format!("{at} mode"), m.as_str(), s.mode));
            }
        }
        if let Some(a) = expect.algorithm {
            let got = s.algorithm.unwrap_or("none");
            if got != a.as_str() {
                out.push(mismatch(&format!("{at} algorithm"), a.as_str(), got));
            }
        }
        if let Some(c) = &cmk {
            let got = s.cmk.as_deref().unwrap_or("none");
            if got != c {
                out.push(mismatch(&format!("{at} cmk"), c.as_str(), got));
            }
        }
        if let Some(age) = expect.master_key {
            if let Some(m) = check_master_key_age(state, &at, s.master_key_version, age) {
                out.push(m);
            }
        }
        if let Some(bound) = expect.context_bound {
            if s.context_hash.is_some() != bound {
                out.push(mismatch(
                    &format!("{at} context_bound"),
                    bound.to_string(),
                    s.context_hash.is_some().to_string(),
                ));
            }
        }
    }
    out
}

/// The bucket's stored default encryption against `expect` (mode, algorithm, cmk): what
/// PUT Bucket encryption stored and DELETE removed, beside what GET answers.
async fn check_bucket_encryption(
    state: &CaseState<'_>,
    intro: &cos_emulator::introspect::Introspector,
    expect: &StoredExpect,
) -> Vec<Mismatch> {
    let cmk = match expect.cmk.as_ref().map(|t| state.render_template(t)) {
        Some(Err(e)) => return vec![mismatch("cmk", "a CMK id", e)],
        Some(Ok(c)) => Some(c),
        None => None,
    };
    let (intro, bucket) = (intro.clone(), state.bucket.clone());
    let found = tokio::task::spawn_blocking(move || intro.bucket_encryption(&bucket))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
    let s = match found {
        Ok(s) => s,
        Err(e) => {
            return vec![mismatch(
                "bucket_encryption",
                "the bucket's stored record",
                e,
            )]
        }
    };
    let mut out = Vec::new();
    if let Some(m) = expect.mode {
        if s.mode != m.as_str() {
            out.push(mismatch("bucket_encryption mode", m.as_str(), s.mode));
        }
    }
    if let Some(a) = expect.algorithm {
        let got = s.algorithm.unwrap_or("none");
        if got != a.as_str() {
            out.push(mismatch("bucket_encryption algorithm", a.as_str(), got));
        }
    }
    if let Some(c) = &cmk {
        let got = s.cmk.as_deref().unwrap_or("none");
        if got != c {
            out.push(mismatch("bucket_encryption cmk", c.as_str(), got));
        }
    }
    out
}

/// MasterKeyAge against the version the case's rotation made.
fn check_master_key_age(
    state: &CaseState<'_>,
    at: &str,
    stored: Option<u32>,
    age: MasterKeyAge,
) -> Option<Mismatch> {
    let field = format!("{at} master_key");
    let rotated = *state
        .rotated_master_key
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let Some(rotated) = rotated else {
        return Some(mismatch(
            &field,
            "a rotation earlier in the case",
            "none: `rotate_master_key` has not run",
        ));
    };
    let Some(version) = stored else {
        return Some(mismatch(&field, "an SSE-COS master-key version", "none"));
    };
    let (ok, expected) = match age {
        MasterKeyAge::Older => (version < rotated, format!("a version older than {rotated}")),
        MasterKeyAge::Rotated => (version == rotated, format!("version {rotated}")),
    };
    (!ok).then(|| mismatch(&field, expected, format!("version {version}")))
}

async fn stored_object(
    intro: &cos_emulator::introspect::Introspector,
    bucket: &str,
    key: &str,
) -> Result<cos_emulator::introspect::StoredObject, Mismatch> {
    let (intro, b, k) = (intro.clone(), bucket.to_string(), key.to_string());
    let found = tokio::task::spawn_blocking(move || intro.object(&b, &k))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
    match found {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(mismatch(
            &format!("object {key}"),
            "stored",
            "no such object",
        )),
        Err(e) => Err(mismatch(&format!("object {key}"), "a stored record", e)),
    }
}

/// Steps whose plaintext the default scan protects: uploads that asked for SSE.
fn sse_upload_steps(case: &Case) -> Vec<usize> {
    case.steps
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            matches!(
                s.kind,
                StepKind::Put | StepKind::Post | StepKind::UploadPart | StepKind::Multipart
            ) && (s.fields.sse_cos.is_some()
                || s.fields.sse_kms.is_some()
                || s.fields.sse_c.is_some())
        })
        .map(|(i, _)| i)
        .collect()
}

/// Every form a customer key could be stored in: raw, base64 (padded and unpadded),
/// MD5 raw, base64 and hex.
fn key_forms(name: &str, raw: &[u8]) -> Vec<(String, Vec<u8>)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64u = base64::engine::general_purpose::STANDARD_NO_PAD;
    let md5 = Md5::digest(raw).to_vec();
    vec![
        (format!("customer key {name} (raw)"), raw.to_vec()),
        (
            format!("customer key {name} (base64)"),
            b64.encode(raw).into_bytes(),
        ),
        (
            format!("customer key {name} (unpadded base64)"),
            b64u.encode(raw).into_bytes(),
        ),
        (format!("customer key {name} (MD5)"), md5.clone()),
        (
            format!("customer key {name} (MD5 base64)"),
            b64u.encode(&md5).into_bytes(),
        ),
        (
            format!("customer key {name} (MD5 hex)"),
            hex::encode(&md5).into_bytes(),
        ),
    ]
}

async fn check_scan(
    state: &CaseState<'_>,
    intro: &cos_emulator::introspect::Introspector,
    spec: &ScanSpec,
) -> Vec<Mismatch> {
    let case = state.case;
    let steps: Vec<usize> = spec.steps.as_ref().map_or_else(
        || sse_upload_steps(case),
        |s| s.iter().map(|r| r.0).collect(),
    );
    let mut request = cos_emulator::introspect::ScanRequest::default();
    for i in steps {
        let label = case.steps.get(i).map_or_else(String::new, |s| s.label());
        if let Some(Some(rec)) = state.steps.get(i) {
            if let Some(body) = &rec.body {
                request
                    .plaintexts
                    .push((format!("plaintext of step {i} ({label})"), body.to_vec()));
            }
        }
    }
    let names: BTreeSet<String> = match &spec.keys {
        Some(k) => k.iter().map(|k| k.0.clone()).collect(),
        None => case
            .steps
            .iter()
            .flat_map(|s| [&s.fields.sse_c, &s.fields.copy_source_sse_c])
            .flatten()
            .map(|c| c.key.0.clone())
            .collect(),
    };
    for name in names {
        if let Some(k) = state.env.keys.get(&name) {
            request.secrets.extend(key_forms(&name, k.raw()));
        }
    }
    let intro = intro.clone();
    let found = tokio::task::spawn_blocking(move || intro.scan(&request))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
    match found {
        Ok(hits) => hits
            .into_iter()
            .map(|h| {
                mismatch(
                    "at-rest scan",
                    "no plaintext window and no customer key stored",
                    format!(
                        "{} found in {} at byte {}",
                        h.what,
                        h.file.display(),
                        h.offset
                    ),
                )
            })
            .collect(),
        Err(e) => vec![mismatch("at-rest scan", "a scan of the data directory", e)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_forms_cover_every_encoding() {
        let forms = key_forms("k", &[7u8; 32]);
        assert_eq!(forms.len(), 6);
        assert!(forms
            .iter()
            .any(|(l, v)| l.contains("(base64)") && v.ends_with(b"=")));
    }
}
