//! Steps made of several requests: `multipart` (initiate, parts, complete) and
//! `wait_restored` (HEAD until the restore is done).

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::case::{Parts, Step};

use super::request::{Built, StepError, Target};
use super::state::CaseState;
use super::steps::{broken, StepFailure, StepRun};
use crate::xml::{escape, parse_body};

impl CaseState<'_> {
    /// `multipart`: initiate, every part, complete. The expectation applies to the first
    /// response that is not a success (so a refused initiate is the step's answer), else
    /// to the complete. SSE-COS / SSE-KMS headers go on the initiate, SSE-C headers on the
    /// initiate, every part (as the SDKs send them) and the complete.
    pub(super) async fn multipart(&mut self, index: usize, step: &Step) -> StepRun {
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
        let (request, response) = match self.send(&init).await {
            Ok(r) => (init.request.clone(), r),
            Err(e) => return broken(Some(init.request), e),
        };
        let upload_id = parse_body(&response.body)
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
            let response = match self.send(&part).await {
                Ok(r) => r,
                Err(e) => return broken(Some(part.request), e),
            };
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

    pub(super) fn multipart_initiate(
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
    pub(super) fn multipart_part(
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

    pub(super) fn multipart_complete(
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
                escape(etag)
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        d.body = Bytes::from(xml);
        d.headers
            .push(("content-type".into(), "application/xml".into()));
        // MPU-SSEC-COMPLETE-KEY is `unspecified`: the key goes on the complete too, so the
        // step completes under both behaviours (cases test the keyless complete explicitly).
        let sse_c_only = crate::case::RequestFields {
            sse_c: step.fields.sse_c.clone(),
            ..Default::default()
        };
        self.sse_headers(&sse_c_only, &mut d.headers)?;
        let request = self.finish(d, step, target)?;
        Ok(Built {
            request,
            body: Some(joined),
            target: target.clone(),
            key: Some(key.to_string()),
        })
    }

    /// `wait_restored`: HEAD until `x-cos-restore` says `ongoing-request="false"`.
    pub(super) async fn wait_restored(&mut self, step: &Step) -> StepRun {
        let timeout = Duration::from_secs(step.fields.timeout_secs.unwrap_or(60));
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let built = match self.head_for_restore(step) {
                Ok(b) => b,
                Err(e) => return broken(None, e),
            };
            let response = match self.send(&built).await {
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

    pub(super) fn head_for_restore(&self, step: &Step) -> Result<Built, StepError> {
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
}
