//! The backend's incomplete multipart uploads: a large body goes to the backend as a
//! multipart upload (`body.rs`), and a gateway killed mid-body leaves it there, holding
//! its parts' space until someone aborts it. `object_store` can start, finish and abort
//! its own uploads but cannot list them, so this module makes the two S3 calls itself —
//! `ListMultipartUploads` (with `ListParts` for each candidate's last activity) and
//! `AbortMultipartUpload` — signed with the workspace's Signature V4 crate.
//!
//! It needs the backend's static keys (the `access_key_id` / `secret_access_key` store
//! options or `AWS_*` variables); a backend reached through another credential provider
//! is reported as not listed, and its own lifecycle rule (`AbortIncompleteMultipartUpload`)
//! is the remedy there.

use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::ClientConfigKey;
use serde::Deserialize;
use sigv4::encode::uri_encode;
use sigv4::{payload, Request, Signer};

use crate::store::StoreError;

/// One incomplete upload under the swept prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteUpload {
    /// The backend key the upload will write.
    pub key: String,
    /// The backend's upload id.
    pub upload_id: String,
    /// When it was initiated, Unix milliseconds.
    pub initiated_ms: i64,
}

/// A client for the backend's multipart-upload listing and abort.
#[derive(Debug, Clone)]
pub struct IncompleteUploads {
    http: reqwest::Client,
    signer: Signer,
    /// `scheme://host[:port]` of the endpoint.
    origin: reqwest::Url,
    bucket: String,
    virtual_hosted: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListMultipartUploadsResult {
    #[serde(default)]
    upload: Vec<UploadEntry>,
    #[serde(default)]
    is_truncated: bool,
    next_key_marker: Option<String>,
    next_upload_id_marker: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UploadEntry {
    key: String,
    upload_id: String,
    initiated: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPartsResult {
    #[serde(default)]
    part: Vec<PartEntry>,
    #[serde(default)]
    is_truncated: bool,
    next_part_number_marker: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PartEntry {
    last_modified: String,
}

fn backend_failure(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Io(std::io::Error::other(format!(
        "object store: {what}: {detail}"
    )))
}

/// Unix milliseconds of an RFC 3339 time as S3 writes it (`2026-12-07T14:00:00.000Z`).
fn parse_time(text: &str) -> Result<i64, StoreError> {
    let at =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .map_err(|e| backend_failure("a time in a listing", e))?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
        .map_err(|e| backend_failure("a time in a listing", e))
}

impl IncompleteUploads {
    /// A client for the backend `builder` is configured for, with `timeout` per request;
    /// `None` when its credentials are not static keys (nothing to sign with).
    pub fn from_builder(
        builder: &AmazonS3Builder,
        timeout: Duration,
        connect_timeout: Duration,
    ) -> Result<Option<IncompleteUploads>, String> {
        let get = |key: AmazonS3ConfigKey| builder.get_config_value(&key).filter(|v| !v.is_empty());
        let (Some(access_key), Some(secret)) = (
            get(AmazonS3ConfigKey::AccessKeyId),
            get(AmazonS3ConfigKey::SecretAccessKey),
        ) else {
            return Ok(None);
        };
        let bucket = get(AmazonS3ConfigKey::Bucket).ok_or("no bucket")?;
        let region = get(AmazonS3ConfigKey::Region).unwrap_or_else(|| "us-east-1".to_owned());
        let truthy = |v: Option<String>| v.is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let virtual_hosted = truthy(get(AmazonS3ConfigKey::VirtualHostedStyleRequest));
        let allow_http = truthy(get(AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp)));
        let endpoint = get(AmazonS3ConfigKey::Endpoint)
            .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
        let origin = reqwest::Url::parse(&endpoint).map_err(|e| format!("endpoint: {e}"))?;
        if origin.scheme() == "http" && !allow_http {
            return Err("an http:// endpoint needs allow_http=true".into());
        }
        let mut signer = Signer::s3(&access_key, &secret, &region);
        signer.session_token = get(AmazonS3ConfigKey::Token);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Some(IncompleteUploads {
            http,
            signer,
            origin,
            bucket,
            virtual_hosted,
        }))
    }

    /// Sends one signed request for `key` (empty: the bucket) with `query`; the answer's
    /// body, or an error for any status but 2xx (and 404 when `missing_ok`).
    async fn send(
        &self,
        method: reqwest::Method,
        key: &str,
        query: &[(String, String)],
        missing_ok: bool,
    ) -> Result<Option<bytes::Bytes>, StoreError> {
        let mut url = self.origin.clone();
        if self.virtual_hosted {
            let host = format!("{}.{}", self.bucket, url.host_str().unwrap_or_default());
            url.set_host(Some(&host))
                .map_err(|e| backend_failure("virtual-hosted endpoint", e))?;
        }
        let base = url.path().trim_end_matches('/').to_owned();
        let object = uri_encode(key.as_bytes(), true);
        let path = if self.virtual_hosted {
            format!("{base}/{object}")
        } else {
            format!(
                "{base}/{}/{object}",
                uri_encode(self.bucket.as_bytes(), false)
            )
        };
        let path = if key.is_empty() {
            path.trim_end_matches('/').to_owned()
        } else {
            path
        };
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let headers = vec![("host".to_owned(), host)];
        let timestamp = sigv4::time::format_timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
        );
        let request = Request {
            method: method.as_str(),
            path: &path,
            query,
            headers: &headers,
        };
        let signed = self
            .signer
            .sign(&request, payload::EMPTY_SHA256, &timestamp)
            .map_err(|e| backend_failure("signing", e))?;
        let query_text = query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    uri_encode(k.as_bytes(), false),
                    uri_encode(v.as_bytes(), false)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        url.set_path(&path);
        url.set_query((!query_text.is_empty()).then_some(query_text.as_str()));
        let mut builder = self.http.request(method.clone(), url);
        for (name, value) in &signed.additions {
            builder = builder.header(name, value);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| backend_failure(method.as_str(), e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND && missing_ok {
            return Ok(None);
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| backend_failure(method.as_str(), e))?;
        if !status.is_success() {
            return Err(backend_failure(
                &format!("{method} answered {status}"),
                String::from_utf8_lossy(&body[..body.len().min(300)]),
            ));
        }
        Ok(Some(body))
    }

    /// Every incomplete upload whose key starts with `prefix`.
    pub async fn list(&self, prefix: &str) -> Result<Vec<IncompleteUpload>, StoreError> {
        let mut found = Vec::new();
        let mut markers: Option<(String, String)> = None;
        loop {
            let mut query = vec![
                ("uploads".to_owned(), String::new()),
                ("prefix".to_owned(), prefix.to_owned()),
            ];
            if let Some((key, id)) = &markers {
                query.push(("key-marker".to_owned(), key.clone()));
                query.push(("upload-id-marker".to_owned(), id.clone()));
            }
            let body = self
                .send(reqwest::Method::GET, "", &query, false)
                .await?
                .unwrap_or_default();
            let page: ListMultipartUploadsResult = quick_xml::de::from_reader(body.as_ref())
                .map_err(|e| backend_failure("ListMultipartUploads answer", e))?;
            for upload in page.upload {
                found.push(IncompleteUpload {
                    initiated_ms: parse_time(&upload.initiated)?,
                    key: upload.key,
                    upload_id: upload.upload_id,
                });
            }
            match (
                page.is_truncated,
                page.next_key_marker,
                page.next_upload_id_marker,
            ) {
                (true, Some(key), Some(id))
                    if markers.as_ref() != Some(&(key.clone(), id.clone())) =>
                {
                    markers = Some((key, id));
                }
                _ => break,
            }
        }
        Ok(found)
    }

    /// When `upload` last changed: its newest part's time, or its start when it has none.
    pub async fn last_activity_ms(&self, upload: &IncompleteUpload) -> Result<i64, StoreError> {
        let mut latest = upload.initiated_ms;
        let mut marker: Option<String> = None;
        loop {
            let mut query = vec![("uploadId".to_owned(), upload.upload_id.clone())];
            if let Some(m) = &marker {
                query.push(("part-number-marker".to_owned(), m.clone()));
            }
            let Some(body) = self
                .send(reqwest::Method::GET, &upload.key, &query, true)
                .await?
            else {
                return Ok(latest);
            };
            let page: ListPartsResult = quick_xml::de::from_reader(body.as_ref())
                .map_err(|e| backend_failure("ListParts answer", e))?;
            for part in &page.part {
                latest = latest.max(parse_time(&part.last_modified)?);
            }
            match (page.is_truncated, page.next_part_number_marker) {
                (true, Some(next)) if marker.as_ref() != Some(&next) => marker = Some(next),
                _ => return Ok(latest),
            }
        }
    }

    /// Aborts `upload`; one already gone is not an error.
    pub async fn abort(&self, upload: &IncompleteUpload) -> Result<(), StoreError> {
        let query = [("uploadId".to_owned(), upload.upload_id.clone())];
        self.send(reqwest::Method::DELETE, &upload.key, &query, true)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_parse_as_s3_and_seaweedfs_write_them() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>p/data/x</NextKeyMarker><NextUploadIdMarker>2</NextUploadIdMarker>
  <MaxUploads>1000</MaxUploads><IsTruncated>true</IsTruncated>
  <Upload><Key>p/data/x</Key><UploadId>2</UploadId><Initiated>2026-12-07T14:00:00.5Z</Initiated></Upload>
</ListMultipartUploadsResult>"#;
        let page: ListMultipartUploadsResult = quick_xml::de::from_str(xml).unwrap();
        assert!(page.is_truncated);
        assert_eq!(page.upload[0].key, "p/data/x");
        assert_eq!(
            parse_time(&page.upload[0].initiated).unwrap(),
            1_796_652_000_500
        );
        let empty: ListMultipartUploadsResult =
            quick_xml::de::from_str("<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>").unwrap();
        assert!(empty.upload.is_empty());
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn a_backend_without_static_keys_is_not_listed() {
        let builder = AmazonS3Builder::new().with_bucket_name("b");
        let client = IncompleteUploads::from_builder(
            &builder,
            Duration::from_secs(1),
            Duration::from_secs(1),
        );
        assert!(client.unwrap().is_none());
        let builder = builder
            .with_access_key_id("a")
            .with_secret_access_key("s")
            .with_endpoint("http://127.0.0.1:1");
        let refused = IncompleteUploads::from_builder(
            &builder,
            Duration::from_secs(1),
            Duration::from_secs(1),
        );
        assert!(refused.unwrap_err().contains("allow_http"));
    }
}
