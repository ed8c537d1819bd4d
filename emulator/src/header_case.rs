//! Response header names spelled as COS spells them: `ETag`, `Content-Length`,
//! `Last-Modified` in their usual case, `x-cos-*` in lower case except
//! `x-cos-server-side-encryption-customer-key-MD5`.
//!
//! Why it matters: the official Python SDK turns `head_object()` into a plain `dict` and
//! then indexes it with exact keys (`resumable_downloader.py`: `object_info['Content-Length']`,
//! `['ETag']`, `['Last-Modified']`, `['x-cos-hash-crc64ecma']`), so `download_file` fails
//! with a `KeyError` against a server that sends all-lower-case (hyper's default) or
//! Title-Case (`Etag`, `X-Cos-…`) names.
//!
//! hyper 1 writes a response's header names in their original case only when the response
//! carries hyper's header-case map, a crate-private type that only hyper's own HTTP/1 parser
//! creates. So at start-up we let hyper's client parse one response head with the COS
//! spellings over an in-memory pipe and keep its extensions; every response then carries a
//! clone of them. Names not in the map (all `x-cos-*`) are written in lower case.

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Header names COS sends in mixed case.
pub const COS_SPELLINGS: &[&str] = &[
    "Accept-Ranges",
    "Cache-Control",
    "Connection",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Range",
    "Content-Type",
    "Date",
    "ETag",
    "Expires",
    "Last-Modified",
    "Location",
    "Server",
    // SSEC-ECHO: the SDK reads `response['x-cos-server-side-encryption-customer-key-MD5']`.
    "x-cos-server-side-encryption-customer-key-MD5",
    "Content-Length",
];

/// Why the spelling map could not be built (an in-memory exchange; not expected to fail).
#[derive(Debug, thiserror::Error)]
pub enum HeaderCaseError {
    /// The in-memory pipe failed.
    #[error("header-case pipe: {0}")]
    Io(#[from] std::io::Error),
    /// hyper refused the exchange.
    #[error("header-case exchange: {0}")]
    Hyper(#[from] hyper::Error),
    /// The request could not be built.
    #[error("header-case request: {0}")]
    Http(#[from] http::Error),
}

/// The response head hyper's parser reads: every spelling, an empty body.
fn head() -> String {
    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    for name in COS_SPELLINGS {
        let value = match *name {
            "Content-Length" => "0",
            "Connection" => "keep-alive",
            _ => "x",
        };
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Extensions that make hyper write [`COS_SPELLINGS`] as spelled; attach a clone to every
/// HTTP/1 response.
pub async fn cos_spelling() -> Result<http::Extensions, HeaderCaseError> {
    let (client_io, mut server_io) = tokio::io::duplex(16 * 1024);
    let peer = tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = server_io.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        server_io.write_all(head().as_bytes()).await?;
        server_io.flush().await?;
        Ok::<_, std::io::Error>(server_io)
    });
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .preserve_header_case(true)
        .handshake::<_, Empty<Bytes>>(TokioIo::new(client_io))
        .await?;
    let driver = tokio::spawn(conn);
    let request = http::Request::get("/")
        .header(http::header::HOST, "localhost")
        .body(Empty::new())?;
    let response = sender.send_request(request).await;
    driver.abort();
    peer.abort();
    Ok(response?.extensions().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_map_is_built() {
        let ext = cos_spelling().await.unwrap();
        assert!(!ext.is_empty(), "hyper kept the header-case map");
    }
}
