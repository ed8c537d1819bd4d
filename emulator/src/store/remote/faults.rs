//! An object store that injects faults into another, for the gateway store's unit tests:
//! a request to a path can be held until the test lets it go (to order two gateways'
//! steps exactly), or be carried out and then answered with an error, as a backend whose
//! answer is lost after the write landed (a 5xx, or object_store's retry of a
//! conditional PUT that did commit, answered 412), or be refused without being carried
//! out.

use std::sync::{Arc, Condvar, Mutex};

use futures_util::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

/// A request kind a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `put_opts` (records and small bodies).
    Put,
    /// `get_opts` (reads, HEADs).
    Get,
    /// `delete_stream` (each path deleted; only [`Fault::Hold`] applies).
    Delete,
    /// `put_multipart_opts`: a multipart upload created (only [`Fault::Hold`] applies).
    CreateUpload,
    /// `put_part` of a multipart upload (only [`Fault::Hold`] applies).
    Part,
}

/// The answer given after a request was carried out.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// 412, as object_store reports a retried conditional write whose first try landed.
    Precondition,
    /// A server error (500/503).
    ServerError,
}

impl Answer {
    fn error(self, path: &Path) -> object_store::Error {
        match self {
            Answer::Precondition => object_store::Error::Precondition {
                path: path.to_string(),
                source: "injected: a retried write answered 412".into(),
            },
            Answer::ServerError => object_store::Error::Generic {
                store: "faulty",
                source: "injected: 503".into(),
            },
        }
    }
}

/// What happens to the matching request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Held (before it reaches the store) until the gate is released.
    Hold(Arc<Gate>),
    /// Carried out, then answered with an error.
    LandThenFail(Answer),
    /// Answered with an error without being carried out.
    FailFirst(Answer),
    /// A read answered with the first half of its bytes, the rest held until the gate is
    /// released.
    HoldMidway(Arc<Gate>),
    /// A read answered with the first half of its bytes, then cut off by an error.
    CutMidway,
}

/// Where a held request waits: the test learns it arrived, then releases it.
#[derive(Debug, Default)]
pub struct Gate {
    /// (arrived, released).
    state: Mutex<(bool, bool)>,
    changed: Condvar,
}

impl Gate {
    /// Called by the held request: signals arrival and blocks until released.
    fn pass(&self) {
        let mut state = self.state.lock().unwrap();
        state.0 = true;
        self.changed.notify_all();
        while !state.1 {
            state = self.changed.wait(state).unwrap();
        }
    }

    /// Whether a request is held here within `limit`.
    pub fn arrived_within(&self, limit: std::time::Duration) -> bool {
        let state = self.state.lock().unwrap();
        let (state, _) = self
            .changed
            .wait_timeout_while(state, limit, |s| !s.0)
            .unwrap();
        state.0
    }

    /// Blocks until a request is held here.
    pub fn wait_arrived(&self) {
        let mut state = self.state.lock().unwrap();
        while !state.0 {
            state = self.changed.wait(state).unwrap();
        }
    }

    /// Lets the held request go on.
    pub fn release(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

#[derive(Debug)]
struct Rule {
    op: Op,
    path_has: String,
    fault: Fault,
}

/// The faulty store over `inner`; each fault applies once, to the first matching request.
#[derive(Debug)]
pub struct Faulty {
    inner: Arc<dyn ObjectStore>,
    rules: Arc<Mutex<Vec<Rule>>>,
    /// Every read: its path and, for a bounded range, how many bytes it asked for.
    reads: Mutex<Vec<(String, Option<u64>)>>,
}

impl std::fmt::Display for Faulty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Faulty({})", self.inner)
    }
}

impl Faulty {
    /// Faults injected into `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Faulty {
            inner,
            rules: Arc::default(),
            reads: Mutex::new(Vec::new()),
        }
    }

    /// The next `op` on a path containing `path_has` meets `fault`.
    pub fn on(&self, op: Op, path_has: &str, fault: Fault) {
        self.rules.lock().unwrap().push(Rule {
            op,
            path_has: path_has.into(),
            fault,
        });
    }

    /// Holds the next `op` on a path containing `path_has`; returns its gate.
    pub fn hold(&self, op: Op, path_has: &str) -> Arc<Gate> {
        let gate = Arc::new(Gate::default());
        self.on(op, path_has, Fault::Hold(gate.clone()));
        gate
    }

    /// Answers the next `op` on a path containing `path_has` with half its bytes and
    /// holds the rest ([`Fault::HoldMidway`]); returns its gate.
    pub fn hold_midway(&self, op: Op, path_has: &str) -> Arc<Gate> {
        let gate = Arc::new(Gate::default());
        self.on(op, path_has, Fault::HoldMidway(gate.clone()));
        gate
    }

    /// The reads so far whose path contains `path_has`: how many bytes each asked for
    /// (`None`: the whole object, or an unbounded range).
    pub fn reads(&self, path_has: &str) -> Vec<Option<u64>> {
        self.reads
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.contains(path_has))
            .map(|(_, n)| *n)
            .collect()
    }

    fn take(&self, op: Op, path: &Path) -> Option<Fault> {
        take(&self.rules, op, path)
    }
}

/// The fault of the first rule for `op` on `path`, taken out of `rules`.
fn take(rules: &Mutex<Vec<Rule>>, op: Op, path: &Path) -> Option<Fault> {
    let mut rules = rules.lock().unwrap();
    let at = rules
        .iter()
        .position(|r| r.op == op && path.as_ref().contains(&r.path_has))?;
    Some(rules.remove(at).fault)
}

#[async_trait::async_trait]
impl ObjectStore for Faulty {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        match self.take(Op::Put, location) {
            None => self.inner.put_opts(location, payload, opts).await,
            Some(Fault::CutMidway) => Err(Answer::ServerError.error(location)),
            Some(Fault::Hold(gate) | Fault::HoldMidway(gate)) => {
                // Blocks the thread driving this request: the store's calls are blocking
                // calls from the test's own threads.
                gate.pass();
                self.inner.put_opts(location, payload, opts).await
            }
            Some(Fault::LandThenFail(answer)) => {
                self.inner.put_opts(location, payload, opts).await?;
                Err(answer.error(location))
            }
            Some(Fault::FailFirst(answer)) => Err(answer.error(location)),
        }
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        if let Some(Fault::Hold(gate)) = self.take(Op::CreateUpload, location) {
            gate.pass();
        }
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(FaultyUpload {
            inner,
            location: location.clone(),
            rules: self.rules.clone(),
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let asked = match &options.range {
            Some(object_store::GetRange::Bounded(r)) => Some(r.end - r.start),
            _ => None,
        };
        self.reads
            .lock()
            .unwrap()
            .push((location.to_string(), asked));
        match self.take(Op::Get, location) {
            None | Some(Fault::LandThenFail(_)) => self.inner.get_opts(location, options).await,
            Some(Fault::Hold(gate)) => {
                gate.pass();
                self.inner.get_opts(location, options).await
            }
            Some(Fault::FailFirst(answer)) => Err(answer.error(location)),
            Some(fault @ (Fault::HoldMidway(_) | Fault::CutMidway)) => {
                use futures_util::{StreamExt as _, TryStreamExt as _};
                let mut got = self.inner.get_opts(location, options).await?;
                let empty = futures_util::stream::empty().boxed();
                let pieces: Vec<bytes::Bytes> =
                    match std::mem::replace(&mut got.payload, GetResultPayload::Stream(empty)) {
                        GetResultPayload::Stream(s) => s.try_collect().await?,
                        #[allow(unreachable_patterns)]
                        _ => unreachable!("the in-memory store answers with a stream"),
                    };
                let bytes = bytes::Bytes::from(pieces.concat());
                let (first, rest) = bytes.split_at(bytes.len() / 2);
                let (first, rest) = (bytes.slice_ref(first), bytes.slice_ref(rest));
                let error = Answer::ServerError.error(location);
                let rest = futures_util::stream::once(async move {
                    match fault {
                        Fault::HoldMidway(gate) => {
                            gate.pass();
                            Ok(rest)
                        }
                        _ => Err(error),
                    }
                });
                got.payload = GetResultPayload::Stream(
                    futures_util::stream::iter([Ok(first)]).chain(rest).boxed(),
                );
                Ok(got)
            }
        }
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        use futures_util::StreamExt as _;
        let rules = self.rules.clone();
        let held = locations
            .map(move |location| {
                if let Ok(path) = &location {
                    if let Some(Fault::Hold(gate)) = take(&rules, Op::Delete, path) {
                        gate.pass();
                    }
                }
                location
            })
            .boxed();
        self.inner.delete_stream(held)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

/// A multipart upload whose parts may be held ([`Op::Part`]).
#[derive(Debug)]
struct FaultyUpload {
    inner: Box<dyn MultipartUpload>,
    location: Path,
    rules: Arc<Mutex<Vec<Rule>>>,
}

#[async_trait::async_trait]
impl MultipartUpload for FaultyUpload {
    fn put_part(&mut self, data: PutPayload) -> object_store::UploadPart {
        // Numbered now (by the order of the calls), sent when the future runs.
        let part = self.inner.put_part(data);
        let (rules, location) = (self.rules.clone(), self.location.clone());
        Box::pin(async move {
            if let Some(Fault::Hold(gate)) = take(&rules, Op::Part, &location) {
                gate.pass();
            }
            part.await
        })
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        self.inner.complete().await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.inner.abort().await
    }
}
