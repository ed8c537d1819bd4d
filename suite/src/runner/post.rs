//! POST Object (form upload): the form, the policy (`policy: auto`) and its signature.

use bytes::{Bytes, BytesMut};

use crate::case::Step;

use super::request::{unix_now, Built, StepError, Target};
use super::state::CaseState;

impl CaseState<'_> {
    /// POST Object (form upload), with `policy: auto` signed as PROTOCOL.md describes.
    pub(super) fn post_object(
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
        let s3 = self.env.profile.dialect == crate::dialect::Dialect::S3;
        if s3 {
            // The SSE settings as x-amz-* fields, aws:kms for cos/kms (POST-FORM in S3 terms).
            extra = crate::dialect::to_s3_headers(&extra);
        }
        let auth = f.auth.unwrap_or_default();
        if s3 && auth != crate::case::Auth::Anonymous {
            self.s3_policy_fields(&target, auth, &extra, &f.policy, &mut fields)?;
        } else if auth != crate::case::Auth::Anonymous {
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

impl CaseState<'_> {
    /// The S3 POST policy and its SigV4 fields (`x-amz-algorithm`, `x-amz-credential`,
    /// `x-amz-date`, `x-amz-signature`): the policy conditions name the bucket, the case's
    /// key prefix, the three signing fields and every extra field, as `policy: auto` does
    /// in COS terms.
    fn s3_policy_fields(
        &self,
        target: &Target,
        auth: crate::case::Auth,
        extra: &[(String, String)],
        policy: &Option<crate::case::Template>,
        fields: &mut Vec<(String, String)>,
    ) -> Result<(), StepError> {
        use crate::client::sigv4;
        let now = unix_now();
        let (issued, end) = match auth {
            crate::case::Auth::Expired => (now - 7200, now - 3600),
            _ => (now, now + 3600),
        };
        let timestamp = sigv4::timestamp(issued);
        let credential = format!(
            "{}/{}/{}/{}/aws4_request",
            self.env.creds.secret_id,
            &timestamp[..8],
            target.region,
            sigv4::SERVICE
        );
        let mut signing = vec![
            ("x-amz-algorithm".to_string(), sigv4::ALGORITHM.to_string()),
            ("x-amz-credential".to_string(), credential),
            ("x-amz-date".to_string(), timestamp.clone()),
        ];
        let policy = match policy {
            Some(t) if t.source() != "auto" => self.render_template(t).map_err(StepError::Fail)?,
            _ => {
                let mut conditions = extra.to_vec();
                conditions.extend(signing.iter().cloned());
                auto_policy(&target.bucket, &self.prefix, &conditions, end)
            }
        };
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&policy);
        let (_, mut signature) =
            sigv4::post_signature(&self.env.creds, &encoded, &timestamp, &target.region);
        if auth == crate::case::Auth::BadSignature {
            signature = crate::client::sign::corrupt(&signature);
        }
        fields.push(("policy".into(), encoded));
        fields.append(&mut signing);
        fields.push(("x-amz-signature".into(), signature));
        Ok(())
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
