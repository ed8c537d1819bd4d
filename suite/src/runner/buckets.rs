//! Buckets: the profile's, or (with `buckets: {create: true}`) one per region created on
//! first use and deleted when the run ends.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use crate::client::sign::{self, SignInput};
use crate::client::Request;

use super::env::{BucketState, Env};
use super::request::unix_now;

/// The bucket of every region in `regions`, creating the missing ones if allowed.
pub async fn buckets_for(
    env: &Env,
    regions: &BTreeSet<String>,
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    // Held across creation so two cases never create the same region's bucket twice.
    let mut known = env.buckets.lock().await;
    for region in regions {
        if !known.contains_key(region) {
            let state = match env.profile.buckets.by_region.get(region) {
                Some(name) => BucketState::Ready {
                    name: name.clone(),
                    created: false,
                },
                None if env.profile.buckets.create => create(env, region).await,
                None => BucketState::Failed(format!("the profile has no bucket in {region}")),
            };
            known.insert(region.clone(), state);
        }
        match &known[region] {
            BucketState::Ready { name, .. } => {
                out.insert(region.clone(), name.clone());
            }
            BucketState::Failed(e) => return Err(e.clone()),
        }
    }
    Ok(out)
}

async fn create(env: &Env, region: &str) -> BucketState {
    // Bucket names are unique across regions, so the region is part of the name; COS
    // names end with the appid (an S3 profile has none).
    let mut name = format!("{}-{}-{region}", env.profile.buckets.prefix, env.run_id);
    if !env.profile.appid.is_empty() {
        name = format!("{name}-{}", env.profile.appid);
    }
    match bucket_request(env, "PUT", &name, region).await {
        Ok(status) if status / 100 == 2 => BucketState::Ready {
            name,
            created: true,
        },
        Ok(status) => BucketState::Failed(format!(
            "creating bucket {name} in {region}: status {status}"
        )),
        Err(e) => BucketState::Failed(format!("creating bucket {name} in {region}: {e}")),
    }
}

/// Deletes the buckets this run created; returns warnings.
pub async fn delete_created(env: &Env) -> Vec<String> {
    let created: Vec<(String, String)> = env
        .buckets
        .lock()
        .await
        .iter()
        .filter_map(|(region, s)| match s {
            BucketState::Ready {
                name,
                created: true,
            } => Some((region.clone(), name.clone())),
            _ => None,
        })
        .collect();
    let mut warnings = Vec::new();
    for (region, name) in created {
        match bucket_request(env, "DELETE", &name, &region).await {
            Ok(s) if s / 100 == 2 => {}
            Ok(s) => warnings.push(format!("deleting bucket {name} in {region}: status {s}")),
            Err(e) => warnings.push(format!("deleting bucket {name} in {region}: {e}")),
        }
    }
    warnings
}

async fn bucket_request(
    env: &Env,
    method: &str,
    bucket: &str,
    region: &str,
) -> Result<u16, String> {
    let scheme = env.default_scheme();
    let authority = env
        .authority(scheme, bucket, region)
        .ok_or_else(|| "no endpoint".to_string())?;
    if env.profile.dialect == crate::dialect::Dialect::S3 {
        let dest = super::s3::Dest {
            scheme,
            authority: &authority,
            bucket,
            region,
        };
        let body = if method == "PUT" {
            super::s3::create_bucket_body(region)
        } else {
            Bytes::new()
        };
        let draft = super::s3::Draft {
            method: method.to_string(),
            path: "/".into(),
            query: Vec::new(),
            body,
        };
        let req = super::s3::signed(env, &env.creds, unix_now(), &dest, draft, Vec::new())?;
        return env
            .client
            .send(&req)
            .await
            .map(|r| r.status)
            .map_err(|e| e.to_string());
    }
    let mut headers = vec![("host".to_string(), authority.clone())];
    if method == "PUT" {
        headers.push(("content-length".into(), "0".into()));
    }
    let now = unix_now();
    let sig = sign::sign(
        &env.creds,
        &SignInput {
            method,
            path: "/",
            params: &[],
            headers: &headers,
            start: now - 60,
            end: now + 3600,
        },
    );
    headers.push(("authorization".into(), sig.authorization));
    let req = Request {
        method: method.into(),
        scheme,
        authority,
        target: "/".into(),
        headers,
        body: Bytes::new(),
    };
    env.client
        .send(&req)
        .await
        .map(|r| r.status)
        .map_err(|e| e.to_string())
}
