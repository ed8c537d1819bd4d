//! Running one step: build the request for its kind (`build`, `composite`, `post`), send
//! it, and keep what later steps need (bodies, upload ids, part ETags).

use bytes::Bytes;

use crate::case::{Step, StepKind};
use crate::client::{Request, Response, TransportError};
use crate::xml::Element;

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

    pub(super) async fn exchange(&mut self, built: Built) -> StepRun {
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

    /// Keeps what later steps and cleanup need from a response.
    pub(super) fn bookkeep(&mut self, built: &Built, response: &Response) {
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

    pub(super) fn remember(&mut self, built: &Built) {
        if let (Some(key), Some(body)) = (&built.key, &built.body) {
            self.objects
                .insert((built.target.bucket.clone(), key.clone()), body.clone());
        }
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

pub(super) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
