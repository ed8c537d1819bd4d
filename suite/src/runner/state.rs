//! The state of one running case: its prefix, region and bucket, the responses of the
//! steps so far, the multipart uploads it started, and template rendering over all that.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use bytes::Bytes;

use crate::case::{Case, KeyForm, Part, StepField, Template, Var};
use crate::client::Response;
use crate::expect::Lookup;
use crate::leak::LeakIndex;
use crate::outcome::Mismatch;
use crate::redact::Secrets;
use crate::xml::Element;

use super::env::Env;

/// What a step left behind for later steps.
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// The response.
    pub response: Response,
    /// The response body as XML, when it is.
    pub xml: Option<Element>,
    /// The step's body: what it uploaded (a copy: its source's; a get: what it read).
    pub body: Option<Bytes>,
}

/// A multipart upload this case started and has not finished.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpenUpload {
    /// Bucket.
    pub bucket: String,
    /// Region.
    pub region: String,
    /// Object key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
}

/// One running case.
pub struct CaseState<'a> {
    /// The run.
    pub env: &'a Env,
    /// The case.
    pub case: &'a Case,
    /// `{{case}}`.
    pub prefix: String,
    /// The case's region.
    pub region: String,
    /// The case's bucket.
    pub bucket: String,
    /// Bucket of every region the case uses (its own, steps' and copy sources').
    pub region_buckets: BTreeMap<String, String>,
    /// One entry per step run so far (`None`: it got no response).
    pub steps: Vec<Option<StepRecord>>,
    /// Last body uploaded per (bucket, key), for a copy's body.
    pub objects: HashMap<(String, String), Bytes>,
    /// Multipart uploads started and not completed or aborted.
    pub uploads: BTreeSet<OpenUpload>,
    /// Parts uploaded per upload id: part number -> (ETag, the part's bytes when known).
    pub parts: HashMap<String, BTreeMap<u32, (String, Option<Bytes>)>>,
    /// (region, bucket) pairs this case touched, swept at cleanup.
    pub touched: BTreeSet<(String, String)>,
    /// The ETag each object was written with (PUT, POST, Complete, Copy), which later
    /// reads and listings must report (INTEGRITY-PLAINTEXT).
    pub etags: HashMap<(String, String), String>,
    /// Multipart uploads initiated with SSE-C or SSE-KMS (their ETags are opaque).
    pub opaque_uploads: BTreeSet<String>,
    /// The case's plaintexts and customer keys, which no response may carry.
    pub leaks: LeakIndex,
    /// Customer keys rendered into a request and not yet added to `leaks` (the keys the
    /// case used). A lock because rendering takes `&self`.
    pub used_keys: Mutex<BTreeSet<String>>,
    /// The master-key version the case's `rotate_master_key` check made (introspect).
    pub rotated_master_key: Mutex<Option<u32>>,
    /// Findings of the runner's own checks (leaks, integrity values), by step index.
    pub findings: Vec<(usize, Mismatch)>,
    /// Whether the running step's expectation has `body:` (it, not the runner, checks what
    /// a read returns).
    pub explicit_body: bool,
    /// Every secret the case knows or sent, scrubbed from its record (crate::redact).
    pub secrets: Secrets,
    /// Whether the running step's expectation has `body_not` (its body is scanned for
    /// plaintext even when it is a successful read).
    pub force_scan: bool,
    /// The last response as it was on the wire (the S3 dialect checks a COS-terms view of
    /// it; the failure dump shows this).
    pub wire: Option<Response>,
}

impl CaseState<'_> {
    /// Fills in a template.
    pub fn render_template(&self, t: &Template) -> Result<String, String> {
        let mut out = String::new();
        for part in t.parts() {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Var(v) => out.push_str(&self.var(v)?),
            }
        }
        Ok(out)
    }

    fn var(&self, v: &Var) -> Result<String, String> {
        match v {
            Var::Case => Ok(self.prefix.clone()),
            Var::Bucket => Ok(self.bucket.clone()),
            Var::Region => Ok(self.region.clone()),
            Var::Appid => Ok(self.env.profile.appid.clone()),
            Var::OtherId => self
                .env
                .other
                .as_ref()
                .map(|o| o.canonical_id.clone())
                .ok_or_else(|| "{{other.id}}: the run has no second account".to_string()),
            Var::Key { name, form } => {
                let key = self
                    .env
                    .keys
                    .get(name)
                    .ok_or_else(|| format!("unknown key `{name}`"))?;
                self.key_used(name);
                Ok(match form {
                    KeyForm::Raw => key.raw_text(),
                    KeyForm::Base64 => key.base64(),
                    KeyForm::Base64Unpadded => key.base64_unpadded(),
                    KeyForm::Md5 => key.md5(),
                })
            }
            Var::Kms(name) => self
                .env
                .kms
                .get(name)
                .cloned()
                .ok_or_else(|| format!("the profile has no kms_keys.{name}")),
            Var::Step { step, field } => self.step_field(*step, field),
        }
    }

    fn step_field(&self, step: usize, field: &StepField) -> Result<String, String> {
        let rec = self
            .steps
            .get(step)
            .and_then(Option::as_ref)
            .ok_or_else(|| format!("step {step} got no response"))?;
        match field {
            StepField::Status => Ok(rec.response.status.to_string()),
            StepField::Header(h) => rec
                .response
                .header(h)
                .map(str::to_string)
                .ok_or_else(|| format!("step {step}'s response has no `{h}` header")),
            StepField::Xml(path) => rec
                .xml
                .as_ref()
                .and_then(|x| x.text_at(path))
                .map(|s| s.trim().to_string())
                .ok_or_else(|| format!("step {step}'s response has no XML element `{path}`")),
        }
    }

    /// The runner's own findings for step `step`, removed from the list.
    pub fn take_findings(&mut self, step: usize) -> Vec<Mismatch> {
        let (mine, rest) = std::mem::take(&mut self.findings)
            .into_iter()
            .partition(|(s, _)| *s == step);
        self.findings = rest;
        mine.into_iter().map(|(_, m)| m).collect()
    }

    /// Notes that a request carries customer key `name` (it joins the leak scan).
    pub fn key_used(&self, name: &str) {
        if let Ok(mut used) = self.used_keys.lock() {
            used.insert(name.to_string());
        }
    }

    /// Renders an optional template.
    pub fn render_opt(&self, t: Option<&Template>) -> Result<Option<String>, String> {
        t.map(|t| self.render_template(t)).transpose()
    }
}

impl Lookup for CaseState<'_> {
    fn render(&self, template: &Template) -> Result<String, String> {
        self.render_template(template)
    }
    fn step_body(&self, step: usize) -> Option<Bytes> {
        self.steps.get(step)?.as_ref()?.body.clone()
    }
}
