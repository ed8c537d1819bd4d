//! Running one step: build the request for its kind, send it, keep what later steps need
//! (bodies, upload ids, part ETags).

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::case::{PartRef, Parts, Step, StepKind};
use crate::client::{Request, Response, TransportError};
use crate::xml::Element;

use super::request::{unix_now, Built, Draft, StepError, Target};
use super::state::{CaseState, OpenUpload, StepRecord};

/// What running a step produced.
pub enum StepRun {
    /// A response to check (for `multipart`: the first refusal, or the complete).
    Answered {
        /// The request that got it.
        request: Request,
        /// The response.
        response: Response,
        /// The step's body.
        body: Option<Bytes>,
    },
    /// The step could not be built or sent.
    Broken {
        /// The request, when one was built.
        request: Option<Request>,
        /// Why.
        error: StepFailure,
    },
}

/// Why a step has no response.
pub enum StepFailure {
    /// Counts as a failure of the endpoint (its earlier answer lacked what we need).
    Fail(String),
    /// Counts as an error (harness, profile, transport).
    Error(String),
}

impl From<StepError> for StepFailure {
    fn from(e: StepError) -> Self {
        match e {
            StepError::Fail(m) => StepFailure::Fail(m),
            StepError::Harness(m) => StepFailure::Error(m),
        }
    }
}

fn broken(request: Option<Request>, e: impl Into<StepFailure>) -> StepRun {
    StepRun::Broken {
        request,
        error: e.into(),
    }
}

impl From<TransportError> for StepFailure {
    fn from(e: TransportError) -> Self {
        StepFailure::Error(e.to_string())
    }
}

impl CaseState<'_> {
    /// Runs step `index` and records it for later steps.
    pub async fn run_step(&mut self, index: usize, step: &Step) -> StepRun {
        let run = match step.kind {
            StepKind::Multipart => self.multipart(index, step).await,
            StepKind::WaitRestored => self.wait_restored(step).await,
            _ => match self.build(index, step) {
                Ok(built) => self.exchange(built).await,
                Err(e) => broken(None, e),
            },
        };
        let record = match &run {
            StepRun::Answered { response, body, .. } => Some(StepRecord {
                xml: parse_xml(&response.body),
                response: response.clone(),
                body: body.clone(),
            }),
            StepRun::Broken { .. } => None,
        };
        self.steps.push(record);
        run
    }

    async fn exchange(&mut self, built: Built) -> StepRun {
        match self.env.client.send(&built.request).await {
            Ok(response) => {
                self.bookkeep(&built, &response);
                let body = built.body.clone();
                StepRun::Answered {
                    request: built.request,
                    response,
                    body,
                }
            }
            Err(e) => broken(Some(built.request), e),
        }
    }

    fn build(&self, index: usize, step: &Step) -> Result<Built, StepError> {
        let f = &step.fields;
        let target = self.target(f)?;
        let key = self.render_opt(f.key.as_ref()).map_err(StepError::Fail)?;
        let object = key.clone().unwrap_or_default();
        let mut body = None;
        let mut d: Draft = match step.kind {
            StepKind::Put => {
                let mut d = self.object_draft("PUT", &object);
                self.object_headers(f, &mut d.headers)?;
                d.body = self.body(f.body.as_ref(), index, 0)?;
                body = Some(d.body.clone());
                d
            }
            StepKind::Get | StepKind::Head => {
                let method = if step.kind == StepKind::Get {
                    "GET"
                } else {
                    "HEAD"
                };
                let mut d = self.object_draft(method, &object);
                if let Some(r) = self.render_opt(f.range.as_ref()).map_err(StepError::Fail)? {
                    d.headers.push(("range".into(), r));
                }
                d
            }
            StepKind::Delete => self.object_draft("DELETE", &object),
            StepKind::Copy => {
                let mut d = self.object_draft("PUT", &object);
                let (src, src_body) = self.source_header(f)?;
                d.headers.push(("x-cos-copy-source".into(), src));
                if let Some(v) = self
                    .render_opt(f.metadata_directive.as_ref())
                    .map_err(StepError::Fail)?
                {
                    d.headers.push(("x-cos-metadata-directive".into(), v));
                }
                self.object_headers(f, &mut d.headers)?;
                body = src_body;
                d
            }
            StepKind::List => self.list_draft(step)?,
            StepKind::PutAcl => {
                let mut d = self.object_draft("PUT", &object);
                d.query.push(("acl".into(), None));
                if let Some(v) = self.render_opt(f.acl.as_ref()).map_err(StepError::Fail)? {
                    d.headers.push(("x-cos-acl".into(), v));
                }
                d
            }
            StepKind::Initiate => {
                let mut d = self.object_draft("POST", &object);
                d.query.push(("uploads".into(), None));
                self.object_headers(f, &mut d.headers)?;
                d
            }
            StepKind::UploadPart => {
                let mut d = self.part_draft(step, &object)?;
                d.body = self.body(f.body.as_ref(), index, 0)?;
                body = Some(d.body.clone());
                d
            }
            StepKind::UploadPartCopy => {
                let mut d = self.part_draft(step, &object)?;
                let (src, src_body) = self.source_header(f)?;
                d.headers.push(("x-cos-copy-source".into(), src));
                if let Some(r) = self.render_opt(f.range.as_ref()).map_err(StepError::Fail)? {
                    body = src_body.map(|b| byte_range(&b, &r));
                    d.headers.push(("x-cos-copy-source-range".into(), r));
                } else {
                    body = src_body;
                }
                d
            }
            StepKind::Complete => {
                let upload_id = self.need(f.upload_id.as_ref(), "upload_id")?;
                let mut d = self.object_draft("POST", &object);
                d.query.push(("uploadId".into(), Some(upload_id.clone())));
                let (xml, joined) = self.complete_body(&upload_id, f.parts.as_ref())?;
                d.body = Bytes::from(xml);
                d.headers
                    .push(("content-type".into(), "application/xml".into()));
                body = joined;
                d
            }
            StepKind::Abort => {
                let upload_id = self.need(f.upload_id.as_ref(), "upload_id")?;
                let mut d = self.object_draft("DELETE", &object);
                d.query.push(("uploadId".into(), Some(upload_id)));
                d
            }
            StepKind::Restore => {
                let mut d = self.object_draft("POST", &object);
                d.query.push(("restore".into(), None));
                let tier = self.render_opt(f.tier.as_ref()).map_err(StepError::Fail)?;
                d.body = Bytes::from(restore_xml(
                    f.days.unwrap_or(1),
                    tier.as_deref().unwrap_or("Standard"),
                ));
                d.headers
                    .push(("content-type".into(), "application/xml".into()));
                d
            }
            StepKind::Post => return self.post_object(index, step, target, &object),
            StepKind::Request => {
                let method = f.method.clone().unwrap_or_default().to_ascii_uppercase();
                let path = self.need(f.path.as_ref(), "path")?;
                let mut d = self.raw_draft(&method, &path);
                if let Some(v) = self
                    .render_opt(f.content_type.as_ref())
                    .map_err(StepError::Fail)?
                {
                    d.headers.push(("content-type".into(), v));
                }
                d.body = self.body(f.body.as_ref(), index, 0)?;
                if f.body.is_some() {
                    body = Some(d.body.clone());
                }
                d
            }
            StepKind::Multipart | StepKind::WaitRestored => {
                return Err(StepError::Harness(
                    "composite step built as a single request".into(),
                ))
            }
        };
        self.sse_headers(f, &mut d.headers)?;
        let request = self.finish(d, step, &target)?;
        Ok(Built {
            request,
            body,
            target,
            key,
        })
    }

    fn part_draft(&self, step: &Step, object: &str) -> Result<Draft, StepError> {
        let f = &step.fields;
        let upload_id = self.need(f.upload_id.as_ref(), "upload_id")?;
        let mut d = self.object_draft("PUT", object);
        d.query
            .push(("partNumber".into(), Some(f.part.unwrap_or(1).to_string())));
        d.query.push(("uploadId".into(), Some(upload_id)));
        Ok(d)
    }

    fn list_draft(&self, step: &Step) -> Result<Draft, StepError> {
        let f = &step.fields;
        let mut d = self.raw_draft("GET", "/");
        // Default to the case's own prefix: listing the bucket would see other cases.
        let prefix = self
            .render_opt(f.prefix.as_ref())
            .map_err(StepError::Fail)?
            .unwrap_or_else(|| format!("{}/", self.prefix));
        d.query.push(("prefix".into(), Some(prefix)));
        for (name, t) in [("delimiter", &f.delimiter), ("marker", &f.marker)] {
            if let Some(v) = self.render_opt(t.as_ref()).map_err(StepError::Fail)? {
                d.query.push((name.into(), Some(v)));
            }
        }
        if let Some(n) = f.max_keys {
            d.query.push(("max-keys".into(), Some(n.to_string())));
        }
        Ok(d)
    }

    /// `x-cos-copy-source` and the source's body, when this case uploaded it.
    fn source_header(
        &self,
        f: &crate::case::RequestFields,
    ) -> Result<(String, Option<Bytes>), StepError> {
        let src = f
            .source
            .as_ref()
            .ok_or_else(|| StepError::Harness("missing `source`".into()))?;
        let key = self.render_template(&src.key).map_err(StepError::Fail)?;
        let (region, bucket) = match &src.region {
            Some(spec) => self.region_bucket(spec)?,
            None => (self.region.clone(), self.bucket.clone()),
        };
        let body = self.objects.get(&(bucket.clone(), key.clone())).cloned();
        Ok((self.copy_source(&bucket, &region, &key), body))
    }

    fn complete_body(
        &self,
        upload_id: &str,
        parts: Option<&Parts>,
    ) -> Result<(String, Option<Bytes>), StepError> {
        let known = self.parts.get(upload_id).cloned().unwrap_or_default();
        let list: Vec<(u32, String)> = match parts {
            None | Some(Parts::Auto) => known
                .iter()
                .map(|(n, (etag, _))| (*n, etag.clone()))
                .collect(),
            Some(Parts::Refs(refs)) => refs
                .iter()
                .map(|PartRef { part, etag }| {
                    Ok((*part, self.render_template(etag).map_err(StepError::Fail)?))
                })
                .collect::<Result<_, StepError>>()?,
            Some(Parts::Bodies(_)) => {
                return Err(StepError::Harness("complete with bodies".into()))
            }
        };
        let mut xml = String::from("<CompleteMultipartUpload>");
        let mut joined = BytesMut::new();
        let mut complete = true;
        for (n, etag) in &list {
            xml.push_str(&format!(
                "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag></Part>",
                xml_escape(etag)
            ));
            match known.get(n).and_then(|(_, b)| b.as_ref()) {
                Some(b) => joined.extend_from_slice(b),
                None => complete = false,
            }
        }
        xml.push_str("</CompleteMultipartUpload>");
        Ok((xml, complete.then(|| joined.freeze())))
    }

    /// Keeps what later steps and cleanup need from a response.
    fn bookkeep(&mut self, built: &Built, response: &Response) {
        let t = &built.target;
        self.touched.insert((t.region.clone(), t.bucket.clone()));
        let ok = response.status / 100 == 2;
        let xml = parse_xml(&response.body);
        if let Some(x) = &xml {
            // Any initiate, shorthand or raw, is tracked so cleanup can abort it.
            if x.name == "InitiateMultipartUploadResult" {
                if let Some(id) = x.text_at("UploadId") {
                    let key = x
                        .text_at("Key")
                        .map(str::to_string)
                        .or_else(|| built.key.clone())
                        .unwrap_or_default();
                    self.uploads.insert(OpenUpload {
                        bucket: t.bucket.clone(),
                        region: t.region.clone(),
                        key,
                        upload_id: id.trim().to_string(),
                    });
                }
            }
        }
        let is_error = xml.as_ref().is_some_and(|x| x.name == "Error");
        if !ok || is_error {
            return;
        }
        let query = built.request.target.split_once('?').map_or("", |(_, q)| q);
        let param = |name: &str| {
            query.split('&').find_map(|kv| {
                kv.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('='))
                    .map(|v| {
                        percent_encoding::percent_decode_str(v)
                            .decode_utf8_lossy()
                            .into_owned()
                    })
            })
        };
        let method = built.request.method.as_str();
        match (method, param("uploadId"), param("partNumber")) {
            ("PUT", Some(id), Some(n)) => {
                let etag = response
                    .header("etag")
                    .map(str::to_string)
                    .or_else(|| {
                        xml.as_ref()
                            .and_then(|x| x.text_at("ETag"))
                            .map(str::to_string)
                    })
                    .unwrap_or_default();
                if let Ok(n) = n.parse::<u32>() {
                    self.parts
                        .entry(id)
                        .or_default()
                        .insert(n, (etag, built.body.clone()));
                }
            }
            ("POST" | "DELETE", Some(id), None) => {
                self.uploads.retain(|u| u.upload_id != id);
                if method == "POST" {
                    self.remember(built);
                }
            }
            ("PUT" | "POST", None, None) => self.remember(built),
            _ => {}
        }
    }

    fn remember(&mut self, built: &Built) {
        if let (Some(key), Some(body)) = (&built.key, &built.body) {
            self.objects
                .insert((built.target.bucket.clone(), key.clone()), body.clone());
        }
    }

    /// `multipart`: initiate, every part, complete. The expectation applies to the first
    /// response that is not a success (so a refused initiate is the step's answer), else
    /// to the complete. SSE-COS / SSE-KMS headers go on the initiate, SSE-C headers on the
    /// initiate and every part, as the SDKs send them.
    async fn multipart(&mut self, index: usize, step: &Step) -> StepRun {
        let f = &step.fields;
        let Some(Parts::Bodies(specs)) = &f.parts else {
            return broken(
                None,
                StepFailure::Error("multipart without part bodies".into()),
            );
        };
        let target = match self.target(f) {
            Ok(t) => t,
            Err(e) => return broken(None, e),
        };
        let key = match self.need(f.key.as_ref(), "key") {
            Ok(k) => k,
            Err(e) => return broken(None, e),
        };
        let init = match self.multipart_initiate(step, &target, &key) {
            Ok(b) => b,
            Err(e) => return broken(None, e),
        };
        let (request, response) = match self.env.client.send(&init.request).await {
            Ok(r) => (init.request.clone(), r),
            Err(e) => return broken(Some(init.request), e),
        };
        self.bookkeep(&init, &response);
        let upload_id = parse_xml(&response.body)
            .and_then(|x| x.text_at("UploadId").map(|s| s.trim().to_string()));
        let Some(upload_id) = upload_id.filter(|_| response.status / 100 == 2) else {
            return StepRun::Answered {
                request,
                response,
                body: None,
            };
        };
        let mut joined = BytesMut::new();
        let mut list = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let part = match self.multipart_part(index, step, &target, &key, &upload_id, i, spec) {
                Ok(b) => b,
                Err(e) => return broken(None, e),
            };
            let response = match self.env.client.send(&part.request).await {
                Ok(r) => r,
                Err(e) => return broken(Some(part.request), e),
            };
            self.bookkeep(&part, &response);
            if response.status / 100 != 2 {
                return StepRun::Answered {
                    request: part.request,
                    response,
                    body: None,
                };
            }
            joined.extend_from_slice(part.body.as_deref().unwrap_or_default());
            list.push((
                (i + 1) as u32,
                response.header("etag").unwrap_or_default().to_string(),
            ));
        }
        let complete =
            self.multipart_complete(step, &target, &key, &upload_id, &list, joined.freeze());
        match complete {
            Ok(b) => self.exchange(b).await,
            Err(e) => broken(None, e),
        }
    }

    fn multipart_initiate(
        &self,
        step: &Step,
        target: &Target,
        key: &str,
    ) -> Result<Built, StepError> {
        let f = &step.fields;
        let mut d = self.object_draft("POST", key);
        d.query.push(("uploads".into(), None));
        self.object_headers(f, &mut d.headers)?;
        self.sse_headers(f, &mut d.headers)?;
        let request = self.finish(d, step, target)?;
        Ok(Built {
            request,
            body: None,
            target: target.clone(),
            key: Some(key.to_string()),
        })
    }

    #[allow(clippy::too_many_arguments)] // one call site; the pieces of one part request
    fn multipart_part(
        &self,
        index: usize,
        step: &Step,
        target: &Target,
        key: &str,
        upload_id: &str,
        i: usize,
        spec: &crate::case::BodySpec,
    ) -> Result<Built, StepError> {
        let mut d = self.object_draft("PUT", key);
        d.query
            .push(("partNumber".into(), Some((i + 1).to_string())));
        d.query
            .push(("uploadId".into(), Some(upload_id.to_string())));
        d.body = self.body(Some(spec), index, i)?;
        let sse_c_only = crate::case::RequestFields {
            sse_c: step.fields.sse_c.clone(),
            ..Default::default()
        };
        self.sse_headers(&sse_c_only, &mut d.headers)?;
        let body = Some(d.body.clone());
        let request = self.finish(d, step, target)?;
        Ok(Built {
            request,
            body,
            target: target.clone(),
            key: Some(key.to_string()),
        })
    }

    fn multipart_complete(
        &self,
        step: &Step,
        target: &Target,
        key: &str,
        upload_id: &str,
        list: &[(u32, String)],
        joined: Bytes,
    ) -> Result<Built, StepError> {
        let mut d = self.object_draft("POST", key);
        d.query
            .push(("uploadId".into(), Some(upload_id.to_string())));
        let mut xml = String::from("<CompleteMultipartUpload>");
        for (n, etag) in list {
            xml.push_str(&format!(
                "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag></Part>",
                xml_escape(etag)
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        d.body = Bytes::from(xml);
        d.headers
            .push(("content-type".into(), "application/xml".into()));
        let request = self.finish(d, step, target)?;
        Ok(Built {
            request,
            body: Some(joined),
            target: target.clone(),
            key: Some(key.to_string()),
        })
    }

    /// `wait_restored`: HEAD until `x-cos-restore` says `ongoing-request="false"`.
    async fn wait_restored(&mut self, step: &Step) -> StepRun {
        let timeout = Duration::from_secs(step.fields.timeout_secs.unwrap_or(60));
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let built = match self.head_for_restore(step) {
                Ok(b) => b,
                Err(e) => return broken(None, e),
            };
            let response = match self.env.client.send(&built.request).await {
                Ok(r) => r,
                Err(e) => return broken(Some(built.request), e),
            };
            let done = response
                .header("x-cos-restore")
                .is_some_and(|v| v.contains("ongoing-request=\"false\""));
            if done || response.status / 100 != 2 || tokio::time::Instant::now() >= deadline {
                if !done && response.status / 100 == 2 {
                    return broken(
                        Some(built.request),
                        StepFailure::Fail(format!(
                            "x-cos-restore did not say ongoing-request=\"false\" within {timeout:?} (last: {:?})",
                            response.header("x-cos-restore")
                        )),
                    );
                }
                return StepRun::Answered {
                    request: built.request,
                    response,
                    body: None,
                };
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn head_for_restore(&self, step: &Step) -> Result<Built, StepError> {
        let f = &step.fields;
        let target = self.target(f)?;
        let key = self.need(f.key.as_ref(), "key")?;
        let mut d = self.object_draft("HEAD", &key);
        self.sse_headers(f, &mut d.headers)?;
        let request = self.finish(d, step, &target)?;
        Ok(Built {
            request,
            body: None,
            target,
            key: Some(key),
        })
    }

    /// POST Object (form upload), with `policy: auto` signed as PROTOCOL.md describes.
    fn post_object(
        &self,
        index: usize,
        step: &Step,
        target: Target,
        key: &str,
    ) -> Result<Built, StepError> {
        let f = &step.fields;
        let file = self.body(f.body.as_ref(), index, 0)?;
        let mut fields: Vec<(String, String)> = vec![("key".into(), key.to_string())];
        let mut sse = Vec::new();
        self.sse_headers(f, &mut sse)?;
        self.object_headers(f, &mut sse)?;
        let mut extra: Vec<(String, String)> = sse
            .into_iter()
            .map(|(k, v)| {
                if k == "content-type" {
                    ("Content-Type".to_string(), v)
                } else {
                    (k, v)
                }
            })
            .collect();
        for (k, v) in &f.fields {
            extra.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
            if let Some(v) = v {
                extra.push((k.clone(), self.render_template(v).map_err(StepError::Fail)?));
            }
        }
        let auth = f.auth.unwrap_or_default();
        if auth != crate::case::Auth::Anonymous {
            let now = unix_now();
            let (start, end) = match auth {
                crate::case::Auth::Expired => (now - 7200, now - 3600),
                _ => (now - 60, now + 3600),
            };
            let policy = match &f.policy {
                Some(t) if t.source() != "auto" => {
                    self.render_template(t).map_err(StepError::Fail)?
                }
                _ => auto_policy(&target.bucket, &self.prefix, &extra, end),
            };
            let (key_time, mut sig) =
                crate::client::sign::sign_policy(&self.env.creds, &policy, start, end);
            if auth == crate::case::Auth::BadSignature {
                sig = crate::client::sign::corrupt(&sig);
            }
            use base64::Engine;
            fields.push((
                "policy".into(),
                base64::engine::general_purpose::STANDARD.encode(&policy),
            ));
            fields.push(("q-sign-algorithm".into(), "sha1".into()));
            fields.push(("q-ak".into(), self.env.creds.secret_id.clone()));
            fields.push(("q-key-time".into(), key_time));
            fields.push(("q-signature".into(), sig));
        }
        for (k, _) in f.fields.iter().filter(|(_, v)| v.is_none()) {
            fields.retain(|(n, _)| n != k);
        }
        fields.extend(extra);
        let boundary = format!("cos-suite-{:016x}", self.env.seed ^ index as u64);
        let form = multipart_form(&boundary, &fields, &file);
        let mut d = self.raw_draft("POST", "/");
        d.headers.push((
            "content-type".into(),
            format!("multipart/form-data; boundary={boundary}"),
        ));
        d.body = form;
        let no_auth = Step {
            fields: crate::case::RequestFields {
                auth: Some(crate::case::Auth::Anonymous),
                headers: f.headers.clone(),
                query: f.query.clone(),
                ..Default::default()
            },
            ..step.clone()
        };
        let request = self.finish(d, &no_auth, &target)?;
        Ok(Built {
            request,
            body: Some(file),
            target,
            key: Some(key.to_string()),
        })
    }
}

fn auto_policy(bucket: &str, prefix: &str, extra: &[(String, String)], end: i64) -> String {
    let expiration = time::OffsetDateTime::from_unix_timestamp(end)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let mut conditions = vec![
        serde_json::json!({ "bucket": bucket }),
        serde_json::json!(["starts-with", "$key", format!("{prefix}/")]),
    ];
    for (k, v) in extra {
        conditions.push(serde_json::json!({ k: v }));
    }
    serde_json::json!({ "expiration": expiration, "conditions": conditions }).to_string()
}

fn multipart_form(boundary: &str, fields: &[(String, String)], file: &[u8]) -> Bytes {
    let mut out = BytesMut::new();
    for (k, v) in fields {
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    out.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(file);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out.freeze()
}

fn restore_xml(days: u32, tier: &str) -> String {
    format!(
        "<RestoreRequest><Days>{days}</Days><CASJobParameters><Tier>{}</Tier></CASJobParameters></RestoreRequest>",
        xml_escape(tier)
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The bytes `bytes=A-B` selects (inclusive), or the whole body when the range is not one.
fn byte_range(body: &Bytes, range: &str) -> Bytes {
    let parsed = range
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)));
    match parsed {
        Some((a, b)) if a <= b && a < body.len() => body.slice(a..(b + 1).min(body.len())),
        _ => body.clone(),
    }
}

/// The body as XML when it looks like XML.
pub fn parse_xml(body: &[u8]) -> Option<Element> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    if body[start] != b'<' {
        return None;
    }
    Element::parse(body).ok()
}
