//! Hostile and broken clients at the front door (`server.rs`, `ConnectionLimits`): a
//! client that stalls in its request head, its TLS handshake or its body is disconnected
//! within the configured bound; a listener serves at most `max_connections` at once and
//! queues the rest; a POST form's fields are bounded before its signature is checked.
//! Bounds are asserted generously (a loaded 2-core machine), never as exact timings.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

/// Generous upper bound for "disconnected within the bound" (the bound itself is 1 s).
const WITHIN: Duration = Duration::from_secs(20);

async fn start_with_limits(change: impl FnOnce(&mut cos_emulator::ConnectionLimits)) -> Server {
    Server::start_with(tempfile::tempdir().unwrap(), |c| change(&mut c.limits)).await
}

/// Reads until the server closes the connection; fails if it is still open after
/// [`WITHIN`]. Returns what the server sent.
async fn closed_by_server(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(WITHIN, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    got
}

/// Regression: hyper's header timer was never armed (no timer set), so a client that sent
/// half a header line held its connection forever.
#[tokio::test]
async fn half_a_header_line_is_disconnected() {
    let s = start_with_limits(|l| l.header_read_timeout = Duration::from_secs(1)).await;
    let mut t = TcpStream::connect(s.http).await.unwrap();
    t.write_all(b"GET / HTTP/1.1\r\nHost: loc").await.unwrap();
    let got = closed_by_server(&mut t).await;
    assert!(!got.starts_with(b"HTTP/1.1 200"), "{got:?}");
    // A connection that sends nothing at all is closed too.
    let mut idle = TcpStream::connect(s.http).await.unwrap();
    closed_by_server(&mut idle).await;
}

/// Regression: the TLS handshake had no timeout; a client that opened a connection to
/// the HTTPS listener and sent nothing (or part of a ClientHello) held it forever.
#[tokio::test]
async fn stalled_tls_handshake_is_closed() {
    let s = start_with_limits(|l| l.tls_handshake_timeout = Duration::from_secs(1)).await;
    let mut silent = TcpStream::connect(s.https).await.unwrap();
    closed_by_server(&mut silent).await;
    // The first bytes of a TLS record header, then nothing.
    let mut partial = TcpStream::connect(s.https).await.unwrap();
    partial.write_all(&[0x16, 0x03, 0x01, 0x02]).await.unwrap();
    closed_by_server(&mut partial).await;
}

/// Regression: a PUT whose client stopped sending mid-body held its connection and
/// writer forever. It is refused once no body bytes arrive for the bound, and nothing is
/// stored.
#[tokio::test]
async fn upload_stalled_mid_body_is_refused_and_stores_nothing() {
    let s = start_with_limits(|l| l.body_progress_timeout = Duration::from_secs(1)).await;
    let b = s.bucket("stall").await;
    let req = Req::new("PUT", &b, "k").header("Content-Length", "100000");
    let mut bytes = req.to_bytes();
    bytes.extend_from_slice(&[b'x'; 1000]);
    let mut t = TcpStream::connect(s.http).await.unwrap();
    t.write_all(&bytes).await.unwrap();
    let got = closed_by_server(&mut t).await;
    let head = String::from_utf8_lossy(&got);
    assert!(head.starts_with("HTTP/1.1 4"), "{head}");
    assert_eq!(s.send(&Req::new("GET", &b, "k")).await.status, 404);
}

/// Regression: there was no connection limit. With `max_connections` 2, two stalled
/// connections hold both slots: a third is queued (accepted by the kernel, not served)
/// until one of them ends, then served.
#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_slot() {
    let s = start_with_limits(|l| {
        l.max_connections = 2;
        l.header_read_timeout = Duration::from_secs(300);
    })
    .await;
    let b = s.bucket("slots").await;
    let first = TcpStream::connect(s.http).await.unwrap();
    let _second = TcpStream::connect(s.http).await.unwrap();
    let mut third = TcpStream::connect(s.http).await.unwrap();
    third
        .write_all(&Req::new("HEAD", &b, "").to_bytes())
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await;
    assert!(early.is_err(), "served beyond the connection limit");
    drop(first);
    let r = tokio::time::timeout(WITHIN, read_response(&mut third))
        .await
        .expect("served once a slot is free");
    assert_eq!(r.status, 200);
}

/// Regression: twenty anonymous POSTs that each sent 200 fields of 64 KiB and stalled
/// took the RSS from 12 MB to 295 MB. Each form is now refused once its fields pass the
/// pre-authentication budget, while the client is still stalled (the server does not wait
/// for the rest), so it holds at most that budget (measured in
/// `ops::post_object::tests`).
#[tokio::test]
async fn stalled_oversized_posts_are_refused_without_waiting() {
    let s = start_with_limits(|l| l.body_progress_timeout = Duration::from_secs(300)).await;
    let b = s.bucket("posts").await;
    let field = "v".repeat(60 * 1024);
    let fields: Vec<(String, String)> = (0..8)
        .map(|i| (format!("x-cos-meta-f{i}"), field.clone()))
        .collect();
    let mut req = crate::post::form(&b, &fields, "f", b"x");
    // Only the fields are sent, of a body announced far longer: the client then stalls
    // before its file field.
    let file_part = req
        .body
        .windows(11)
        .position(|w| w == b"name=\"file\"")
        .unwrap();
    let fields_only = req.body[..file_part].to_vec();
    req = req
        .header("Content-Length", &(fields_only.len() * 40).to_string())
        .body(&fields_only);
    let bytes = req.to_bytes();
    let mut clients = Vec::new();
    for _ in 0..20 {
        let mut t = TcpStream::connect(s.http).await.unwrap();
        t.write_all(&bytes).await.unwrap();
        clients.push(t);
    }
    for t in &mut clients {
        let r = tokio::time::timeout(WITHIN, read_head(t))
            .await
            .expect("refused while the client stalls");
        assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    }
}

/// Reads a response's status line and headers (the connection may stay open).
async fn read_head(t: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = t.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before a response");
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Regression: a client that stopped reading a response held its connection (and the
/// response's buffers) forever. Once it has taken nothing for the bound the connection is
/// closed: reading later yields less than the object, then the end.
#[tokio::test]
async fn client_that_stops_reading_is_disconnected() {
    let s = start_with_limits(|l| l.body_progress_timeout = Duration::from_secs(1)).await;
    let b = s.bucket("slowread").await;
    // Larger than what the loopback socket buffers can hold between the two ends.
    let size = 48 * 1024 * 1024;
    s.put(&b, "big", &pattern(size, 3)).await;
    let mut t = TcpStream::connect(s.http).await.unwrap();
    t.write_all(&Req::new("GET", &b, "big").to_bytes())
        .await
        .unwrap();
    // Not reading for several times the bound.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let got = closed_by_server(&mut t).await;
    assert!(
        got.len() < size,
        "read {} bytes of a {size}-byte response: the server waited",
        got.len()
    );
}

/// Regression: after a refusal answered before the body was read, the server drained the
/// body with a timeout per piece only, before sending the response: a client trickling a
/// byte now and then held the refusal back (and its connection) indefinitely. Draining
/// is bounded in all, so the refusal goes out.
#[tokio::test]
async fn trickling_body_does_not_hold_a_refusal_back() {
    let s = Server::start().await;
    let b = s.bucket("trickle").await;
    let mut req = Req::new("PUT", &b, "k").header("Content-Length", "1000000");
    req.wrong_secret = true;
    let mut t = TcpStream::connect(s.http).await.unwrap();
    t.write_all(&req.to_bytes()).await.unwrap();
    let (mut rx, mut tx) = t.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..200 {
            if tx.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let head = tokio::time::timeout(WITHIN, async {
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match rx.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    trickle.abort();
    assert!(
        head.is_ok(),
        "the refusal was held back while the body trickled"
    );
    assert!(
        got.starts_with(b"HTTP/1.1 403"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

/// An HTTP/2 frame header: length, type, flags, stream 0.
fn h2_frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut frame = vec![
        (len >> 16) as u8,
        (len >> 8) as u8,
        len as u8,
        kind,
        0,
        0,
        0,
        0,
        0,
    ];
    frame.extend_from_slice(payload);
    frame
}

/// Regression: an HTTP/2 connection (prior knowledge on the HTTP listener) that sent its
/// preface and then only PINGs held its slot forever — hyper has no HTTP/2 idle timer and
/// the header timer ends with protocol detection. It is closed once it has had no request
/// in flight for the idle bound, PINGs notwithstanding.
#[tokio::test]
async fn an_idle_http2_connection_is_closed_even_while_it_pings() {
    let s = start_with_limits(|l| {
        l.idle_timeout = Duration::from_secs(1);
        l.header_read_timeout = Duration::from_secs(300);
    })
    .await;
    let stream = TcpStream::connect(s.http).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    writer.write_all(&h2_frame(0x4, &[])).await.unwrap();
    let pinger = tokio::spawn(async move {
        loop {
            if writer.write_all(&h2_frame(0x6, &[7; 8])).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let closed = tokio::time::timeout(WITHIN, async {
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    pinger.abort();
    assert!(closed.is_ok(), "the idle HTTP/2 connection stayed open");
}

/// The idle bound counts requests in flight, not bytes: an HTTP/2 download the client
/// reads slowly, pausing longer than the idle bound, completes whole.
#[tokio::test]
async fn a_slow_http2_download_outlives_the_idle_bound() {
    use http_body_util::BodyExt as _;
    let s = start_with_limits(|l| l.idle_timeout = Duration::from_secs(1)).await;
    let b = s.bucket("h2idle").await;
    let object = pattern(3 << 20, 5);
    let put = s
        .send(
            &Req::new("PUT", &b, "big")
                .header("x-cos-acl", "public-read")
                .body(&object),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text());
    let tcp = TcpStream::connect(s.http).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .unwrap();
    let connection = tokio::spawn(conn);
    let request = hyper::Request::get(format!("http://{}/big", vhost(&b)))
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut got = Vec::new();
    let mut paused = false;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            got.extend_from_slice(&data);
        }
        if !paused {
            // Longer than the idle bound, with the response in flight (flow control
            // stops the server once the client's window is full).
            tokio::time::sleep(Duration::from_millis(2500)).await;
            paused = true;
        }
    }
    assert_eq!(got.len(), object.len());
    assert!(got == object, "the slow download came back altered");
    drop(sender);
    connection.abort();
}
