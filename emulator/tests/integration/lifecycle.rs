//! Restart persistence and graceful shutdown through the library API.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::common::*;

#[tokio::test]
async fn data_and_certificate_survive_a_restart() {
    let s = Server::start().await;
    let b = s.bucket("persist").await;
    s.send(
        &Req::new("PUT", &b, "k")
            .header("x-cos-meta-m", "1")
            .header("x-cos-acl", "public-read")
            .body(b"kept"),
    )
    .await;
    let cert = std::fs::read(&s.cert).unwrap();
    let dir = s.stop().await;
    let s = Server::start_in(dir).await;
    let r = s
        .send(&Req::new("GET", &b, "k").auth(Auth::Anonymous))
        .await;
    assert_eq!((r.status, r.body.as_slice()), (200, &b"kept"[..]));
    assert_eq!(r.header("x-cos-meta-m"), Some("1"));
    assert_eq!(
        std::fs::read(&s.cert).unwrap(),
        cert,
        "clients keep trusting the same certificate"
    );
    assert_eq!(s.send_tls(&Req::new("GET", &b, "k")).await.body, b"kept");
    let list = s.send(&Req::new("GET", &b, "")).await.text();
    assert!(list.contains("<Key>k</Key>"));
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_and_stops_accepting() {
    let s = Server::start().await;
    let b = s.bucket("graceful").await;
    let body = pattern(200_000, 9);
    let bytes = Req::new("PUT", &b, "k").body(&body).to_bytes();
    let (head, rest) = bytes.split_at(bytes.len() - 100_000);
    let mut t = tokio::net::TcpStream::connect(s.http).await.unwrap();
    t.write_all(head).await.unwrap();
    t.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = s.http;
    let dir_path = s.dir.path().to_owned();
    let Server { emu, dir, .. } = s;
    let stopping = tokio::spawn(emu.shutdown());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no new connections after shutdown began"
    );
    assert!(
        !stopping.is_finished(),
        "shutdown waits for the in-flight upload"
    );
    t.write_all(rest).await.unwrap();
    let r = read_response(&mut t).await;
    assert_eq!(
        r.status,
        200,
        "the in-flight upload completed: {}",
        r.text()
    );
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("shutdown returns")
        .unwrap();
    // The upload is durable.
    let s = Server::start_in(dir).await;
    assert_eq!(s.dir.path(), dir_path);
    assert_eq!(s.send(&Req::new("GET", &b, "k")).await.body, body);
}
