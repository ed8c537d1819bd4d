//! After every case, whatever happened: abort the multipart uploads it started and delete
//! every object under its own prefix — never anything else (s3-tests' global sweep made
//! parallel runs unsafe).

use crate::case::Step;
use crate::client::{Request, Response, Scheme};
use crate::xml::Element;

use super::request::Draft;
use super::state::CaseState;

/// Pages listed at most while sweeping (1000 keys each).
const MAX_PAGES: usize = 100;

/// Cleans up; returns warnings for anything left behind.
pub async fn sweep(state: &mut CaseState<'_>) -> Vec<String> {
    let mut warnings = Vec::new();
    let plain = Step {
        name: None,
        kind: crate::case::StepKind::Request,
        fields: Default::default(),
        expect: None,
        expect_if: Vec::new(),
    };
    let scheme = state.env.default_scheme();
    for upload in std::mem::take(&mut state.uploads) {
        let mut d = state.object_draft("DELETE", &upload.key);
        d.query
            .push(("uploadId".into(), Some(upload.upload_id.clone())));
        match send(state, &plain, scheme, &upload.bucket, &upload.region, d).await {
            Ok(r) if r.status / 100 == 2 || r.status == 404 => {}
            Ok(r) => warnings.push(format!(
                "cleanup: abort upload {}: status {}",
                upload.upload_id, r.status
            )),
            Err(e) => warnings.push(format!("cleanup: abort upload {}: {e}", upload.upload_id)),
        }
    }
    let mut places: Vec<(String, String)> = state.touched.iter().cloned().collect();
    places.push((state.region.clone(), state.bucket.clone()));
    places.sort();
    places.dedup();
    for (region, bucket) in places {
        if let Err(e) = sweep_bucket(state, &plain, scheme, &bucket, &region).await {
            warnings.push(format!("cleanup in {bucket}: {e}"));
        }
    }
    warnings
}

async fn sweep_bucket(
    state: &CaseState<'_>,
    plain: &Step,
    scheme: Scheme,
    bucket: &str,
    region: &str,
) -> Result<(), String> {
    let prefix = format!("{}/", state.prefix);
    let mut marker = String::new();
    for _ in 0..MAX_PAGES {
        let mut d = state.raw_draft("GET", "/");
        d.query.push(("prefix".into(), Some(prefix.clone())));
        d.query.push(("max-keys".into(), Some("1000".into())));
        if !marker.is_empty() {
            d.query.push(("marker".into(), Some(marker.clone())));
        }
        let r = send(state, plain, scheme, bucket, region, d).await?;
        if r.status / 100 != 2 {
            return Err(format!("listing {prefix}: status {}", r.status));
        }
        let root = Element::parse(&r.body).map_err(|e| format!("listing {prefix}: {e}"))?;
        let keys: Vec<String> = root
            .find_all("Contents/Key")
            .iter()
            .map(|k| k.text.clone())
            .collect();
        for key in &keys {
            if !key.starts_with(&prefix) {
                continue; // never delete outside the case's prefix, whatever the listing says
            }
            let d = state.object_draft("DELETE", key);
            let r = send(state, plain, scheme, bucket, region, d).await?;
            if r.status / 100 != 2 && r.status != 404 {
                return Err(format!("deleting {key}: status {}", r.status));
            }
        }
        let truncated = root
            .text_at("IsTruncated")
            .is_some_and(|t| t.trim() == "true");
        if !truncated || keys.is_empty() {
            return Ok(());
        }
        marker = root
            .text_at("NextMarker")
            .map(str::to_string)
            .or_else(|| keys.last().cloned())
            .unwrap_or_default();
    }
    Err(format!(
        "more than {MAX_PAGES} pages of objects under {prefix}"
    ))
}

async fn send(
    state: &CaseState<'_>,
    plain: &Step,
    scheme: Scheme,
    bucket: &str,
    region: &str,
    d: Draft,
) -> Result<Response, String> {
    let target = state
        .target_for(scheme, bucket.to_string(), region.to_string())
        .map_err(|_| "no endpoint".to_string())?;
    let request: Request = state
        .finish(d, plain, &target)
        .map_err(|_| "cannot sign".to_string())?;
    state
        .env
        .client
        .send(&request)
        .await
        .map_err(|e| e.to_string())
}
