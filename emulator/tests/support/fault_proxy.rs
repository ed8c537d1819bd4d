//! An HTTP proxy on loopback in front of an S3 backend (SeaweedFS) that injects faults per
//! request, chosen by a seeded random generator: a delayed answer, a dropped connection,
//! a 500 or 503 instead of forwarding, or a 500 *after* forwarding (the write landed, the
//! answer is lost), or no answer at all (a hung backend). Requests and answers are read
//! whole; the `Host` header is kept, so the backend's signature check still passes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// One kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Forwarded; the answer held back a while (sometimes past the client's timeout).
    Delay,
    /// The connection closed without an answer, nothing forwarded.
    Drop,
    /// 500 without forwarding.
    Error500,
    /// 503 without forwarding.
    Error503,
    /// Forwarded (it landed), then answered 500.
    LandThen500,
    /// Never answered, nothing forwarded.
    Hang,
}

/// What the proxy does to requests.
#[derive(Debug)]
enum Plan {
    /// Forward everything.
    Pass,
    /// Hang every request.
    HangAll,
    /// Each request meets a fault with probability `rate`, drawn from `rng`.
    Seeded {
        rng: Box<StdRng>,
        rate: f64,
        max_delay: Duration,
    },
}

#[derive(Debug)]
struct State {
    plan: Mutex<Plan>,
    upstream: SocketAddr,
    requests: Mutex<u64>,
    injected: Mutex<BTreeMap<Fault, u64>>,
    /// Requests being handled now, and how many times one arrived while none was: the
    /// backend round trips a client waited for one after another (requests sent at once
    /// count once).
    in_flight: Mutex<(u64, u64)>,
}

/// Counts a request as in flight until dropped.
struct InFlight(Arc<State>);

impl InFlight {
    fn enter(state: &Arc<State>) -> InFlight {
        let mut guard = state.in_flight.lock().unwrap();
        if guard.0 == 0 {
            guard.1 += 1;
        }
        guard.0 += 1;
        InFlight(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.lock().unwrap().0 -= 1;
    }
}

/// The proxy; stopped when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// A proxy on 127.0.0.1 port 0 in front of `upstream`, forwarding everything.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            plan: Mutex::new(Plan::Pass),
            upstream,
            requests: Mutex::new(0),
            injected: Mutex::new(BTreeMap::new()),
            in_flight: Mutex::new((0, 0)),
        });
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                let client = client.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        handle(state.clone(), client.clone(), req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FaultProxy { addr, state, task }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL for object_store.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Forwards everything from now on.
    pub fn pass(&self) {
        *self.state.plan.lock().unwrap() = Plan::Pass;
    }

    /// Hangs every request from now on.
    pub fn hang_all(&self) {
        *self.state.plan.lock().unwrap() = Plan::HangAll;
    }

    /// From now on each request meets a fault with probability `rate` (seeded).
    pub fn seeded(&self, seed: u64, rate: f64, max_delay: Duration) {
        *self.state.plan.lock().unwrap() = Plan::Seeded {
            rng: Box::new(StdRng::seed_from_u64(seed)),
            rate,
            max_delay,
        };
    }

    /// Round trips seen: how many times a request arrived while no other was in flight.
    pub fn round_trips(&self) -> u64 {
        self.state.in_flight.lock().unwrap().1
    }

    /// Requests seen, and faults injected by kind.
    pub fn counts(&self) -> (u64, BTreeMap<Fault, u64>) {
        (
            *self.state.requests.lock().unwrap(),
            self.state.injected.lock().unwrap().clone(),
        )
    }
}

/// Draws the fault for one request (`None`: forward it), with a delay for [`Fault::Delay`].
fn draw(state: &State) -> Option<(Fault, Duration)> {
    *state.requests.lock().unwrap() += 1;
    let fault = match &mut *state.plan.lock().unwrap() {
        Plan::Pass => None,
        Plan::HangAll => Some((Fault::Hang, Duration::ZERO)),
        Plan::Seeded {
            rng,
            rate,
            max_delay,
        } => {
            if rng.gen_bool(*rate) {
                let kinds = [
                    Fault::Delay,
                    Fault::Drop,
                    Fault::Error500,
                    Fault::Error503,
                    Fault::LandThen500,
                ];
                let kind = kinds[rng.gen_range(0..kinds.len())];
                let max = u64::try_from(max_delay.as_millis())
                    .unwrap_or(u64::MAX)
                    .max(1);
                Some((kind, Duration::from_millis(rng.gen_range(0..max))))
            } else {
                None
            }
        }
    };
    if let Some((kind, _)) = fault {
        *state.injected.lock().unwrap().entry(kind).or_default() += 1;
    }
    fault
}

fn error(status: u16) -> Response<Full<Bytes>> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code>\
         <Message>injected {status}</Message></Error>"
    );
    Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// An error from the service makes hyper close the connection without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

async fn handle(
    state: Arc<State>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let _in_flight = InFlight::enter(&state);
    let fault = draw(&state);
    let (parts, body) = req.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return Err(Dropped);
    };
    match fault {
        Some((Fault::Hang, _)) => {
            std::future::pending::<()>().await;
            unreachable!("pending never ends")
        }
        Some((Fault::Drop, _)) => return Err(Dropped),
        Some((Fault::Error500, _)) => return Ok(error(500)),
        Some((Fault::Error503, _)) => return Ok(error(503)),
        _ => {}
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut forward = Request::builder()
        .method(parts.method.clone())
        .uri(format!("http://{}{path}", state.upstream));
    for (name, value) in &parts.headers {
        forward = forward.header(name, value);
    }
    let Ok(answer) = client.request(forward.body(Full::new(body)).unwrap()).await else {
        return Err(Dropped);
    };
    let (mut head, body) = answer.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return Err(Dropped);
    };
    match fault {
        Some((Fault::LandThen500, _)) => Ok(error(500)),
        Some((Fault::Delay, delay)) => {
            tokio::time::sleep(delay).await;
            head.headers.remove("transfer-encoding");
            Ok(Response::from_parts(head, Full::new(body)))
        }
        _ => {
            head.headers.remove("transfer-encoding");
            Ok(Response::from_parts(head, Full::new(body)))
        }
    }
}
