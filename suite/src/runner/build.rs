//! Single-request step kinds: each shorthand's method, path, query, headers and body.

use bytes::{Bytes, BytesMut};

use crate::case::{PartRef, Parts, Step, StepKind};

use super::request::{Built, Draft, StepError};
use super::state::CaseState;
use crate::xml::escape;

impl CaseState<'_> {
    pub(super) fn build(&self, index: usize, step: &Step) -> Result<Built, StepError> {
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
            StepKind::DeleteMultiple => {
                // Delete Multiple Objects: `POST /?delete`, a `Delete` document of the keys,
                // and the Content-MD5 the COS API page requires.
                let mut d = self.object_draft("POST", "");
                d.query.push(("delete".into(), None));
                let mut xml = format!("<Delete><Quiet>{}</Quiet>", f.quiet.unwrap_or(false));
                for k in &f.keys {
                    let k = self.render_template(k).map_err(StepError::Fail)?;
                    xml.push_str(&format!("<Object><Key>{}</Key></Object>", escape(&k)));
                }
                xml.push_str("</Delete>");
                let md5 = {
                    use base64::Engine as _;
                    use md5::Digest as _;
                    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&xml))
                };
                d.headers.push(("content-md5".into(), md5));
                d.headers
                    .push(("content-type".into(), "application/xml".into()));
                d.body = Bytes::from(xml);
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
                // A body sent to the bucket itself (`/?encryption`, `/?cors`) is a
                // configuration document, which GET answers back: it is not object data the
                // leak scan must never see again, so only a body sent to a key is recorded.
                let to_bucket = path.split('?').next() == Some("/");
                if f.body.is_some() && !to_bucket {
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

    pub(super) fn part_draft(&self, step: &Step, object: &str) -> Result<Draft, StepError> {
        let f = &step.fields;
        let upload_id = self.need(f.upload_id.as_ref(), "upload_id")?;
        let mut d = self.object_draft("PUT", object);
        d.query
            .push(("partNumber".into(), Some(f.part.unwrap_or(1).to_string())));
        d.query.push(("uploadId".into(), Some(upload_id)));
        Ok(d)
    }

    pub(super) fn list_draft(&self, step: &Step) -> Result<Draft, StepError> {
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
    pub(super) fn source_header(
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

    pub(super) fn complete_body(
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
                escape(etag)
            ));
            match known.get(n).and_then(|(_, b)| b.as_ref()) {
                Some(b) => joined.extend_from_slice(b),
                None => complete = false,
            }
        }
        xml.push_str("</CompleteMultipartUpload>");
        Ok((xml, complete.then(|| joined.freeze())))
    }
}

fn restore_xml(days: u32, tier: &str) -> String {
    format!(
        "<RestoreRequest><Days>{days}</Days><CASJobParameters><Tier>{}</Tier></CASJobParameters></RestoreRequest>",
        escape(tier)
    )
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
