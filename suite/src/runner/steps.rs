//! Running one step: build the request for its kind (`build`, `composite`, `post`), send
//! it, and keep what later steps need (bodies, upload ids, part ETags).

use bytes::Bytes;

use crate::case::{Step, StepKind};
use crate::client::{Request, Response, TransportError};
use crate::outcome::Mismatch;
use crate::xml::{parse_body, Element};

use super::request::{Built, StepError};
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

pub(super) fn broken(request: Option<Request>, e: impl Into<StepFailure>) -> StepRun {
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
        let expect = super::env::effective_expect(self.env, step);
        self.force_scan = expect.body_not.is_some();
        self.explicit_body = expect.body.is_some();
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
                xml: parse_body(&response.body),
                response: response.clone(),
                body: body.clone(),
            }),
            StepRun::Broken { .. } => None,
        };
        self.steps.push(record);
        run
    }

    pub(super) async fn exchange(&mut self, built: Built) -> StepRun {
        match self.send(&built).await {
            Ok(response) => {
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

    /// Sends one request of the running step, keeps what later steps need from the
    /// response, and scans it for leaks (every response, parts of a `multipart` too).
    pub(super) async fn send(&mut self, built: &Built) -> Result<Response, TransportError> {
        let step = self.steps.len();
        let used: Vec<String> = self
            .used_keys
            .lock()
            .map(|mut u| std::mem::take(&mut *u).into_iter().collect())
            .unwrap_or_default();
        for name in used {
            if let Some(key) = self.env.keys.get(&name) {
                self.leaks.add_key(&name, key);
            }
        }
        self.secrets.add_request(&built.request);
        let wire = self.env.client.send(&built.request).await?;
        // S3 dialect: every check reads the exchange in COS terms (crate::dialect), the
        // failure dump shows it as it was on the wire.
        let (view, response) = match self.env.profile.dialect {
            crate::dialect::Dialect::Cos => (None, wire),
            crate::dialect::Dialect::S3 => {
                let mut request = built.request.clone();
                request.headers = crate::dialect::cos_view(&request.headers);
                // Only a bucket encryption answer has a body to map: no object body is
                // scanned.
                let names = request.query_params().map(|(name, _)| name);
                let body = crate::dialect::is_bucket_encryption(names)
                    .then(|| crate::dialect::cos_view_body(&wire.body))
                    .flatten();
                let response = Response {
                    headers: crate::dialect::cos_view(&wire.headers),
                    body: body.map_or_else(|| wire.body.clone(), Into::into),
                    ..wire.clone()
                };
                self.wire = Some(wire);
                (
                    Some(Built {
                        request,
                        ..built.clone()
                    }),
                    response,
                )
            }
        };
        let built = view.as_ref().unwrap_or(built);
        let read = self.expected_read(built);
        let mut body_allowed = false;
        // A 206 carries the range asked for; a 200 the whole object (a server may ignore
        // Range; RANGE cases say whether it should).
        let read =
            read.filter(|_| response.status / 100 == 2)
                .map(|(what, full, range)| match range {
                    Some(r) if response.status == 206 => {
                        (format!("{what}, {r}"), ranged_body(&full, &r))
                    }
                    _ => (what, Some(full)),
                });
        if let Some((what, want)) = read {
            if self.explicit_body || want.is_none() {
                // The step's own `body:` expectation says what this read must return (or
                // the range is one the runner does not compute): not checked here.
                body_allowed = !self.force_scan;
            } else if want.as_ref() == Some(&response.body) {
                body_allowed = !self.force_scan;
            } else {
                // INTEGRITY-PLAINTEXT: a successful read returns exactly what was stored.
                let want = want.unwrap_or_default();
                self.findings.push((
                    step,
                    Mismatch {
                        field: format!("body (read of {what})"),
                        expected: crate::expect::describe_bytes(&want),
                        got: crate::expect::diff_bytes(&want, &response.body),
                    },
                ));
                body_allowed = true; // reported above; a scan would say it again
            }
        }
        for leak in self
            .leaks
            .scan_response(&built.request, &response, body_allowed)
        {
            self.findings.push((
                step,
                Mismatch {
                    field: format!("leak: {}", leak.what),
                    expected: "nowhere in the response".into(),
                    got: format!("found in the {}", leak.place),
                },
            ));
        }
        for m in self.integrity(built, &response) {
            self.findings.push((step, m));
        }
        if let Some(body) = built
            .body
            .as_ref()
            .filter(|_| built.request.method != "GET")
        {
            let label = match part_number(&built.request) {
                Some(n) => format!("step {step} (part {n})"),
                None => format!("step {step}"),
            };
            self.leaks.add_plaintext(label, body);
        }
        self.bookkeep(built, &response);
        Ok(response)
    }

    /// For a GET of an object whose content this case knows: the object's name, its
    /// bytes, and the `Range` the request asks for.
    fn expected_read(&self, built: &Built) -> Option<(String, Bytes, Option<String>)> {
        // A presigned read is a read; a sub-resource (`?acl`, `?uploads`) is not.
        let plain_read = built
            .request
            .query()
            .split('&')
            .filter(|kv| !kv.is_empty())
            .all(|kv| crate::dialect::is_signature_param(kv) || kv.starts_with("response-"));
        if built.request.method != "GET" || !plain_read {
            return None;
        }
        let key = built.key.as_ref()?;
        let body = self
            .objects
            .get(&(built.target.bucket.clone(), key.clone()))?;
        let range = built
            .request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("range"))
            .map(|(_, v)| v.clone());
        Some((key.clone(), body.clone(), range))
    }

    /// Keeps what later steps and cleanup need from a response.
    pub(super) fn bookkeep(&mut self, built: &Built, response: &Response) {
        let t = &built.target;
        self.touched.insert((t.region.clone(), t.bucket.clone()));
        let ok = response.status / 100 == 2;
        let xml = parse_body(&response.body);
        if let Some(x) = &xml {
            // Any initiate, shorthand or raw, is tracked so cleanup can abort it.
            if x.name == "InitiateMultipartUploadResult" {
                if let Some(id) = x.text_at("UploadId") {
                    if super::integrity::opaque_etag_mode(&built.request)
                        || super::integrity::opaque_etag_echo(response)
                    {
                        self.opaque_uploads.insert(id.trim().to_string());
                    }
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
        let param = |name: &str| built.request.query_param(name);
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
                    self.remember_etag(built, response, xml.as_ref());
                }
            }
            ("PUT" | "POST", None, None) => {
                let sub_resource = built
                    .request
                    .query()
                    .split('&')
                    .any(|kv| !kv.is_empty() && !crate::dialect::is_signature_param(kv));
                if !sub_resource {
                    self.remember(built);
                    self.remember_etag(built, response, xml.as_ref());
                }
            }
            ("DELETE", None, None) => {
                if let Some(key) = &built.key {
                    let id = (built.target.bucket.clone(), key.clone());
                    self.etags.remove(&id);
                }
            }
            _ => {}
        }
    }

    pub(super) fn remember(&mut self, built: &Built) {
        if let (Some(key), Some(body)) = (&built.key, &built.body) {
            self.objects
                .insert((built.target.bucket.clone(), key.clone()), body.clone());
        }
    }

    /// Records the ETag a write returned (header, or the XML of Complete and Copy).
    fn remember_etag(&mut self, built: &Built, response: &Response, xml: Option<&Element>) {
        let Some(key) = &built.key else { return };
        let id = (built.target.bucket.clone(), key.clone());
        let etag = response
            .header("etag")
            .or_else(|| xml.and_then(|x| x.text_at("ETag")));
        match etag {
            Some(e) => {
                self.etags.insert(id, e.trim().to_string());
            }
            None => {
                self.etags.remove(&id);
            }
        }
    }
}

/// The bytes a single `bytes=A-B`, `bytes=A-` or `bytes=-N` range selects (RANGE), or
/// `None` for anything else (several ranges, unsatisfiable): then the read is not checked
/// here.
fn ranged_body(body: &Bytes, range: &str) -> Option<Bytes> {
    let (a, b) = range.trim().strip_prefix("bytes=")?.split_once('-')?;
    let len = body.len();
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: usize = n.parse().ok()?;
            (len.saturating_sub(n), len)
        }
        (a, "") => (a.parse().ok()?, len),
        (a, b) => {
            let (a, b): (usize, usize) = (a.parse().ok()?, b.parse().ok()?);
            (a, b.checked_add(1)?.min(len))
        }
    };
    (start < end && start < len).then(|| body.slice(start..end))
}

/// The `partNumber` of a request target, when it has one.
fn part_number(request: &Request) -> Option<String> {
    request
        .query_params()
        .find_map(|(name, value)| value.filter(|_| name == "partNumber"))
        .map(str::to_string)
}
