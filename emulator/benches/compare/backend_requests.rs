//! How many requests a gateway sends its backend per client request: a third gateway (C),
//! over the same SeaweedFS but through a counting proxy on loopback (the fault-injection
//! proxy of the tests, forwarding everything), does each operation once per transport, size
//! and mode of gateway A's rows, and the proxy's count before and after is the figure.
//! Untimed (the proxy reads each request whole), after the timed rounds.

use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::client::{Auth, Body, Client};
use crate::fault_proxy::FaultProxy;
use crate::{expect, human, initiate, Mode, Target};

/// Requests to the backend per client request, for one transport, size and mode.
pub struct Counted {
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The object size's label ("1 MiB").
    pub size_label: String,
    /// The mode's name as the tables print it.
    pub mode: &'static str,
    /// (operation, backend requests, round trips), in the order done.
    pub ops: Vec<(&'static str, (u64, u64))>,
}

/// How long the counter is left to settle after an answer: work a gateway finishes after
/// answering (removing the body a PUT replaced) is counted against the request that
/// caused it, not the next.
const SETTLE: Duration = Duration::from_millis(30);

/// Starts gateway C through a counting proxy in front of `backend` (an S3 endpoint) with
/// gateway A's other arguments (`args`, whose `endpoint` option is replaced), and counts
/// each operation of every transport and mode of `like` (gateway A's targets) at every
/// size; multipart (Initiate, each Upload Part of 1 MiB, Complete of `parts` parts) at
/// the first size only.
#[allow(clippy::too_many_arguments)]
pub async fn count(
    backend: std::net::SocketAddr,
    args: &[OsString],
    tmp: &Path,
    like: &[&Target],
    sizes: &[u64],
    parts: usize,
    pattern: &Arc<Vec<u8>>,
) -> anyhow::Result<Vec<Counted>> {
    // The proxy on a runtime of its own: the bench's runtime has one thread, which blocks
    // while gateway C starts (and C's start-up reaches the backend through the proxy).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let proxy = runtime.spawn(FaultProxy::start(backend)).await?;
    let counted = count_through(&proxy, args, tmp, like, sizes, parts, pattern).await;
    drop(proxy);
    runtime.shutdown_background();
    counted
}

/// [`count`] once the proxy runs.
#[allow(clippy::too_many_arguments)]
async fn count_through(
    proxy: &FaultProxy,
    args: &[OsString],
    tmp: &Path,
    like: &[&Target],
    sizes: &[u64],
    parts: usize,
    pattern: &Arc<Vec<u8>>,
) -> anyhow::Result<Vec<Counted>> {
    let endpoint = format!("endpoint={}", proxy.endpoint());
    let args: Vec<OsString> = args
        .iter()
        .map(|a| {
            if a.to_string_lossy().starts_with("endpoint=") {
                OsString::from(&endpoint)
            } else {
                a.clone()
            }
        })
        .collect();
    let binary = crate::emulator_binary();
    let c = crate::servers::Emulator::start(
        &binary,
        &tmp.join("gateway-c"),
        crate::ID,
        crate::SECRET,
        &args,
    )?;
    let auth = Auth::Cos {
        id: crate::ID.into(),
        secret: crate::SECRET.into(),
    };
    let mut out = Vec::new();
    let mut created = false;
    for a in like {
        let (addr, ca) = match a.client.scheme() {
            "https" => (c.https, Some(c.ca.as_path())),
            _ => (c.http, None),
        };
        let t = Target {
            server: crate::GATEWAY_C,
            client: Client::new(addr, ca, crate::COS_HOST, auth.clone(), pattern.clone())?,
            bucket: a.bucket,
            modes: a.modes.clone(),
            part_size: a.part_size,
            prefix: "c-",
            reader: None,
        };
        if !created {
            crate::create_bucket(&t).await?;
            created = true;
        }
        for &mode in &t.modes {
            for (i, &size) in sizes.iter().enumerate() {
                let key = format!("c-count-{}-{size}", crate::mode_key(mode.name()));
                let mut ops = Vec::new();
                // A first PUT creates the key: the counted one replaces a version, as
                // the timed rounds' PUTs do.
                crate::put(&t, &key, mode, size).await?;
                let counted = |op: &'static str, before: (u64, u64), ops: &mut Vec<_>| {
                    ops.push((op, since(proxy, before)));
                };
                tokio::time::sleep(SETTLE).await;
                let before = now(proxy);
                crate::put(&t, &key, mode, size).await?;
                tokio::time::sleep(SETTLE).await;
                counted("PUT", before, &mut ops);
                let before = now(proxy);
                crate::get(&t, &key, mode, size).await?;
                tokio::time::sleep(SETTLE).await;
                counted("GET", before, &mut ops);
                let before = now(proxy);
                crate::range_get_once(&t, &key, mode, size, pattern).await?;
                tokio::time::sleep(SETTLE).await;
                counted("Range GET", before, &mut ops);
                let before = now(proxy);
                let r = t
                    .client
                    .send(
                        "HEAD",
                        &t.path(&key),
                        &mode.key_headers(),
                        Body::Bytes(&[]),
                        true,
                    )
                    .await?;
                expect(&r, 200, &format!("{} HEAD {key}", t.server))?;
                tokio::time::sleep(SETTLE).await;
                counted("HEAD", before, &mut ops);
                if i == 0 {
                    multipart(&t, &key, mode, parts, proxy, &mut ops).await?;
                }
                out.push(Counted {
                    scheme: t.client.scheme(),
                    size_label: human(size),
                    mode: mode.name(),
                    ops,
                });
            }
        }
    }
    Ok(out)
}

/// The proxy's counts now: requests and round trips.
fn now(proxy: &FaultProxy) -> (u64, u64) {
    (proxy.counts().0, proxy.round_trips())
}

/// Requests and round trips since `before`.
fn since(proxy: &FaultProxy, before: (u64, u64)) -> (u64, u64) {
    let (requests, trips) = now(proxy);
    (requests - before.0, trips - before.1)
}

/// Initiate, `parts` Upload Parts and Complete, each counted (Upload Part: the median of
/// the parts' counts).
async fn multipart(
    t: &Target,
    key: &str,
    mode: Mode,
    parts: usize,
    proxy: &FaultProxy,
    ops: &mut Vec<(&'static str, (u64, u64))>,
) -> anyhow::Result<()> {
    let path = t.path(key);
    let before = now(proxy);
    let upload = initiate(t, key, mode).await?;
    tokio::time::sleep(SETTLE).await;
    ops.push(("Initiate", since(proxy, before)));
    let mut list = String::from("<CompleteMultipartUpload>");
    let mut per_part = Vec::new();
    for n in 1..=parts.max(1) {
        let before = now(proxy);
        let r = t
            .client
            .send(
                "PUT",
                &format!("{path}?partNumber={n}&uploadId={upload}"),
                &mode.key_headers(),
                Body::Pattern(t.part_size),
                true,
            )
            .await?;
        expect(&r, 200, &format!("{} Upload Part {n} of {key}", t.server))?;
        tokio::time::sleep(SETTLE).await;
        per_part.push(since(proxy, before));
        let etag = r.header("etag").context("part without ETag")?.to_string();
        list.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        ));
    }
    per_part.sort_unstable();
    ops.push(("Upload Part", per_part[per_part.len() / 2]));
    list.push_str("</CompleteMultipartUpload>");
    let before = now(proxy);
    let r = t
        .client
        .send(
            "POST",
            &format!("{path}?uploadId={upload}"),
            &mode.key_headers(),
            Body::Bytes(list.as_bytes()),
            true,
        )
        .await?;
    expect(&r, 200, &format!("{} Complete {key}", t.server))?;
    tokio::time::sleep(SETTLE).await;
    ops.push(("Complete", since(proxy, before)));
    Ok(())
}

/// Prints the counts as a Markdown table: one row per transport, size and mode, one
/// column per operation.
pub fn print(counted: &[Counted], parts: usize) {
    let Some(first) = counted.first() else {
        return;
    };
    println!(
        "Requests to the backend per client request (gateway C, behind a counting proxy; \
         each operation once, after the timed rounds; the PUT replaces a version, whose \
         removal is sent after the answer and counted; Complete of {parts} parts of 1 MiB; \
         multipart at the first size only). In brackets the round trips: requests sent one \
         after another (requests sent at once count once):"
    );
    println!();
    let names: Vec<&str> = counted
        .iter()
        .max_by_key(|c| c.ops.len())
        .unwrap_or(first)
        .ops
        .iter()
        .map(|(op, _)| *op)
        .collect();
    println!("| transport | size | mode | {} |", names.join(" | "));
    println!("|---|---|---|{}", "---:|".repeat(names.len()));
    for c in counted {
        let cells: Vec<String> = names
            .iter()
            .map(|name| {
                c.ops
                    .iter()
                    .find(|(op, _)| op == name)
                    .map_or("–".to_string(), |(_, (n, trips))| {
                        format!("{n} ({trips})")
                    })
            })
            .collect();
        println!(
            "| {} | {} | {} | {} |",
            c.scheme,
            c.size_label,
            c.mode,
            cells.join(" | ")
        );
    }
}
