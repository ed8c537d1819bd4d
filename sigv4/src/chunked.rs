//! `aws-chunked` bodies (`Content-Encoding: aws-chunked`): the payload in chunks
//! `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`, a zero-size final chunk, then either
//! `\r\n` or trailing headers (`x-amz-checksum-<alg>:<base64>\r\n`, and
//! `x-amz-trailer-signature:<sig>\r\n` when signed) and `\r\n`.
//!
//! Signed chunks form a chain: each chunk's signature signs its data's hash and the
//! previous signature, starting from the request's (seed) signature, so a chunk cannot be
//! altered, dropped, reordered or moved to another request.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>.

use sha2::{Digest, Sha256};

use crate::canonical::{hex_sha256, signature, signatures_equal, Scope};
use crate::checksum::{ChecksumAlgorithm, Checksummer};
use crate::{payload, Error};

/// The longest chunk-header or trailer line accepted, in bytes. Real lines are under 100;
/// the bound keeps a hostile body from growing the line buffer.
const MAX_LINE: usize = 4096;
/// The most trailing header lines accepted.
const MAX_TRAILER_LINES: usize = 8;
/// The largest chunk accepted (the hex size field), 1 TiB: far beyond any real chunk, and
/// no arithmetic near `u64::MAX`.
const MAX_CHUNK: u64 = 1 << 40;

/// What a signed body's chunk chain starts from: the signing key, the scope and time
/// stamp of the request, and its signature (the seed).
#[derive(Debug, Clone)]
pub struct ChunkSigning {
    /// The request's signing key.
    pub key: [u8; 32],
    /// The request's credential scope.
    pub scope: Scope,
    /// The request's time stamp.
    pub timestamp: String,
    /// The request's own signature, the first link of the chain.
    pub seed_signature: String,
}

impl ChunkSigning {
    fn sign_chunk(&self, previous: &str, data_hash: &str) -> String {
        let to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{previous}\n{}\n{data_hash}",
            self.timestamp,
            self.scope.render(),
            payload::EMPTY_SHA256
        );
        signature(&self.key, &to_sign)
    }

    fn sign_trailer(&self, previous: &str, canonical_trailer: &str) -> String {
        let to_sign = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{previous}\n{}",
            self.timestamp,
            self.scope.render(),
            hex_sha256(canonical_trailer.as_bytes())
        );
        signature(&self.key, &to_sign)
    }
}

/// What the end of a body told: its decoded length and the trailing checksum, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer {
    /// Payload bytes decoded (compare with `x-amz-decoded-content-length`).
    pub decoded_length: u64,
    /// The trailing checksum, verified against the payload.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    ChunkHeader,
    Data { remaining: u64 },
    DataEnd,
    TrailerLines,
    FinalLine,
    Done,
}

/// An incremental `aws-chunked` decoder with bounded memory.
///
/// Payload bytes are released by [`ChunkedDecoder::push`] as they arrive, before their
/// chunk's signature has been checked: the caller must discard everything it wrote unless
/// [`ChunkedDecoder::finish`] succeeds.
pub struct ChunkedDecoder {
    signing: Option<ChunkSigning>,
    previous_signature: String,
    trailer: Option<ChecksumAlgorithm>,
    state: State,
    line: Vec<u8>,
    chunk_hash: Sha256,
    chunk_signature: Option<String>,
    checksum: Option<Checksummer>,
    decoded_length: u64,
    trailer_lines: Vec<(String, String)>,
}

impl ChunkedDecoder {
    /// A decoder for signed chunks (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, or `…-TRAILER`
    /// when `trailer` names the announced checksum).
    pub fn signed(signing: ChunkSigning, trailer: Option<ChecksumAlgorithm>) -> ChunkedDecoder {
        let seed = signing.seed_signature.clone();
        Self::new(Some(signing), seed, trailer)
    }

    /// A decoder for unsigned chunks (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
    pub fn unsigned(trailer: Option<ChecksumAlgorithm>) -> ChunkedDecoder {
        Self::new(None, String::new(), trailer)
    }

    fn new(
        signing: Option<ChunkSigning>,
        previous_signature: String,
        trailer: Option<ChecksumAlgorithm>,
    ) -> ChunkedDecoder {
        ChunkedDecoder {
            signing,
            previous_signature,
            trailer,
            state: State::ChunkHeader,
            line: Vec::new(),
            chunk_hash: Sha256::new(),
            chunk_signature: None,
            checksum: trailer.map(Checksummer::new),
            decoded_length: 0,
            trailer_lines: Vec::new(),
        }
    }

    /// Feeds the next bytes of the body; appends the payload they carry to `out`.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        while !input.is_empty() {
            match self.state {
                State::Data { remaining } => {
                    let take = remaining.min(input.len() as u64) as usize;
                    let (data, rest) = input.split_at(take);
                    out.extend_from_slice(data);
                    if self.signing.is_some() {
                        self.chunk_hash.update(data);
                    }
                    if let Some(summer) = &mut self.checksum {
                        summer.update(data);
                    }
                    self.decoded_length += take as u64;
                    input = rest;
                    self.state = if remaining == take as u64 {
                        State::DataEnd
                    } else {
                        State::Data {
                            remaining: remaining - take as u64,
                        }
                    };
                }
                State::Done => {
                    return Err(Error::MalformedChunk("bytes follow the end of the body"))
                }
                _ => {
                    let Some(line) = self.take_line(&mut input)? else {
                        continue;
                    };
                    self.on_line(&line)?;
                }
            }
        }
        Ok(())
    }

    /// Moves bytes into the line buffer up to and including `\r\n`; the line without it
    /// once complete.
    fn take_line(&mut self, input: &mut &[u8]) -> Result<Option<Vec<u8>>, Error> {
        let end = input.iter().position(|&b| b == b'\n');
        let take = end.map_or(input.len(), |i| i + 1);
        if self.line.len() + take > MAX_LINE {
            return Err(Error::MalformedChunk("a line is too long"));
        }
        self.line.extend_from_slice(&input[..take]);
        *input = &input[take..];
        if end.is_none() {
            return Ok(None);
        }
        let mut line = std::mem::take(&mut self.line);
        if !line.ends_with(b"\r\n") {
            return Err(Error::MalformedChunk("a line does not end in CRLF"));
        }
        line.truncate(line.len() - 2);
        Ok(Some(line))
    }

    fn on_line(&mut self, line: &[u8]) -> Result<(), Error> {
        match self.state {
            State::ChunkHeader => self.on_chunk_header(line),
            State::DataEnd => {
                if !line.is_empty() {
                    return Err(Error::MalformedChunk(
                        "a chunk is longer than its size says",
                    ));
                }
                self.verify_chunk()?;
                self.state = State::ChunkHeader;
                Ok(())
            }
            State::TrailerLines => self.on_trailer_line(line),
            State::FinalLine => {
                if !line.is_empty() {
                    return Err(Error::MalformedChunk("the final chunk is followed by data"));
                }
                self.state = State::Done;
                Ok(())
            }
            State::Data { .. } | State::Done => unreachable!("not a line state"),
        }
    }

    fn on_chunk_header(&mut self, line: &[u8]) -> Result<(), Error> {
        let line = std::str::from_utf8(line)
            .map_err(|_| Error::MalformedChunk("a chunk header is not text"))?;
        let (size, extension) = match line.split_once(';') {
            Some((size, extension)) => (size, Some(extension)),
            None => (line, None),
        };
        if size.is_empty() || size.len() > 16 || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::MalformedChunk("a chunk size is not hex"));
        }
        let size = u64::from_str_radix(size, 16).expect("checked hex of at most 16 digits");
        if size > MAX_CHUNK {
            return Err(Error::MalformedChunk("a chunk is too large"));
        }
        self.chunk_signature = match (&self.signing, extension) {
            (Some(_), Some(extension)) => {
                let sig = extension
                    .strip_prefix("chunk-signature=")
                    .ok_or(Error::MalformedChunk("a chunk has no chunk-signature"))?;
                Some(sig.to_owned())
            }
            (Some(_), None) => return Err(Error::MalformedChunk("a chunk has no chunk-signature")),
            (None, None) => None,
            (None, Some(_)) => {
                return Err(Error::MalformedChunk(
                    "an unsigned body carries a chunk extension",
                ))
            }
        };
        self.chunk_hash = Sha256::new();
        if size == 0 {
            self.verify_chunk()?;
            self.state = if self.trailer.is_some() {
                State::TrailerLines
            } else {
                State::FinalLine
            };
        } else {
            self.state = State::Data { remaining: size };
        }
        Ok(())
    }

    fn verify_chunk(&mut self) -> Result<(), Error> {
        let Some(signing) = &self.signing else {
            return Ok(());
        };
        let data_hash = hex::encode(std::mem::take(&mut self.chunk_hash).finalize());
        let expected = signing.sign_chunk(&self.previous_signature, &data_hash);
        let presented = self.chunk_signature.take().unwrap_or_default();
        if !signatures_equal(&expected, &presented) {
            return Err(Error::ChunkSignatureMismatch);
        }
        self.previous_signature = expected;
        Ok(())
    }

    fn on_trailer_line(&mut self, line: &[u8]) -> Result<(), Error> {
        if !line.is_empty() {
            if self.trailer_lines.len() == MAX_TRAILER_LINES {
                return Err(Error::UnexpectedTrailer("too many trailing headers"));
            }
            let line = std::str::from_utf8(line)
                .map_err(|_| Error::MalformedChunk("a trailing header is not text"))?;
            let (name, value) = line
                .split_once(':')
                .ok_or(Error::MalformedChunk("a trailing header has no colon"))?;
            self.trailer_lines
                .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            return Ok(());
        }
        self.state = State::Done;
        Ok(())
    }

    /// Ends the body: every chunk and the trailer are checked. Fails if the body was cut
    /// short, a signature or the checksum does not match, or a trailing header is missing
    /// or unexpected.
    pub fn finish(mut self) -> Result<Trailer, Error> {
        if self.state != State::Done || !self.line.is_empty() {
            return Err(Error::MalformedChunk(
                "the body ended before its final chunk",
            ));
        }
        let Some(algorithm) = self.trailer else {
            return Ok(Trailer {
                decoded_length: self.decoded_length,
                checksum: None,
            });
        };
        let mut checksum_value = None;
        let mut trailer_signature = None;
        for (name, value) in std::mem::take(&mut self.trailer_lines) {
            let slot = if name == algorithm.header_name() {
                &mut checksum_value
            } else if name == "x-amz-trailer-signature" && self.signing.is_some() {
                &mut trailer_signature
            } else {
                return Err(Error::UnexpectedTrailer(
                    "a trailing header was not announced",
                ));
            };
            if slot.replace(value).is_some() {
                return Err(Error::UnexpectedTrailer("a trailing header is repeated"));
            }
        }
        let value = checksum_value.ok_or(Error::UnexpectedTrailer(
            "the announced checksum is missing",
        ))?;
        if let Some(signing) = &self.signing {
            let presented = trailer_signature
                .ok_or(Error::UnexpectedTrailer("the trailer signature is missing"))?;
            let canonical = format!("{}:{value}\n", algorithm.header_name());
            let expected = signing.sign_trailer(&self.previous_signature, &canonical);
            if !signatures_equal(&expected, &presented) {
                return Err(Error::TrailerSignatureMismatch);
            }
        }
        let computed = self
            .checksum
            .take()
            .expect("a trailer has a checksum")
            .finish();
        if computed != value {
            return Err(Error::ChecksumMismatch(algorithm.name()));
        }
        Ok(Trailer {
            decoded_length: self.decoded_length,
            checksum: Some((algorithm, value)),
        })
    }
}

/// The client side: frames a payload as `aws-chunked`, signing each chunk when given the
/// request's signing, with the checksum trailer when given an algorithm.
pub struct ChunkedEncoder {
    signing: Option<ChunkSigning>,
    trailer: Option<ChecksumAlgorithm>,
}

impl ChunkedEncoder {
    /// Signed chunks (with a signed trailer when `trailer` is set).
    pub fn signed(signing: ChunkSigning, trailer: Option<ChecksumAlgorithm>) -> ChunkedEncoder {
        ChunkedEncoder {
            signing: Some(signing),
            trailer,
        }
    }

    /// Unsigned chunks (with a trailer when `trailer` is set).
    pub fn unsigned(trailer: Option<ChecksumAlgorithm>) -> ChunkedEncoder {
        ChunkedEncoder {
            signing: None,
            trailer,
        }
    }

    /// The whole encoded body, in chunks of `chunk_size` bytes (the last may be shorter).
    pub fn encode(&self, payload: &[u8], chunk_size: usize) -> Vec<u8> {
        let chunk_size = chunk_size.max(1);
        let mut out = Vec::with_capacity(payload.len() + payload.len() / chunk_size * 100 + 200);
        let mut previous = self
            .signing
            .as_ref()
            .map(|s| s.seed_signature.clone())
            .unwrap_or_default();
        let mut write_chunk = |out: &mut Vec<u8>, data: &[u8]| {
            out.extend_from_slice(format!("{:x}", data.len()).as_bytes());
            if let Some(signing) = &self.signing {
                previous = signing.sign_chunk(&previous, &hex_sha256(data));
                out.extend_from_slice(format!(";chunk-signature={previous}").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(data);
            if !data.is_empty() {
                out.extend_from_slice(b"\r\n");
            }
        };
        for data in payload.chunks(chunk_size) {
            write_chunk(&mut out, data);
        }
        write_chunk(&mut out, b"");
        match self.trailer {
            None => out.extend_from_slice(b"\r\n"),
            Some(algorithm) => {
                let mut summer = Checksummer::new(algorithm);
                summer.update(payload);
                let line = format!("{}:{}", algorithm.header_name(), summer.finish());
                out.extend_from_slice(line.as_bytes());
                out.extend_from_slice(b"\r\n");
                if let Some(signing) = &self.signing {
                    let sig = signing.sign_trailer(&previous, &format!("{line}\n"));
                    out.extend_from_slice(format!("x-amz-trailer-signature:{sig}\r\n").as_bytes());
                }
                out.extend_from_slice(b"\r\n");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn signing() -> ChunkSigning {
        ChunkSigning {
            key: [7; 32],
            scope: Scope {
                date: "20130524".into(),
                region: "us-east-1".into(),
                service: "s3".into(),
            },
            timestamp: "20130524T000000Z".into(),
            seed_signature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
                .into(),
        }
    }

    fn decode_all(
        mut decoder: ChunkedDecoder,
        body: &[u8],
        step: usize,
    ) -> Result<(Vec<u8>, Trailer), Error> {
        let mut out = Vec::new();
        for piece in body.chunks(step.max(1)) {
            decoder.push(piece, &mut out)?;
        }
        Ok((out, decoder.finish()?))
    }

    #[test]
    fn an_unsigned_trailer_body_as_sdks_send_it_decodes() {
        let body = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
        let (out, trailer) = decode_all(
            ChunkedDecoder::unsigned(Some(ChecksumAlgorithm::Crc32)),
            body,
            3,
        )
        .unwrap();
        assert_eq!(out, b"hello");
        assert_eq!(trailer.decoded_length, 5);
        let wrong = b"5\r\nhellp\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
        assert_eq!(
            decode_all(
                ChunkedDecoder::unsigned(Some(ChecksumAlgorithm::Crc32)),
                wrong,
                64
            )
            .unwrap_err(),
            Error::ChecksumMismatch("crc32")
        );
    }

    #[test]
    fn a_tampered_chunk_a_dropped_chunk_and_a_cut_body_are_refused() {
        let payload = vec![b'a'; 3000];
        let body = ChunkedEncoder::signed(signing(), None).encode(&payload, 1000);
        let decoder = || ChunkedDecoder::signed(signing(), None);
        assert_eq!(decode_all(decoder(), &body, 77).unwrap().0, payload);

        let mut tampered = body.clone();
        let at = tampered.len() / 2;
        tampered[at] ^= 1;
        assert!(decode_all(decoder(), &tampered, 77).is_err());

        let first_end = body.windows(2).position(|w| w == b"\r\n").unwrap() + 2 + 1000 + 2;
        let mut dropped = body[..0].to_vec();
        dropped.extend_from_slice(&body[first_end..]);
        assert_eq!(
            decode_all(decoder(), &dropped, 77).unwrap_err(),
            Error::ChunkSignatureMismatch
        );

        assert!(decode_all(decoder(), &body[..body.len() - 3], 77).is_err());
        let mut extra = body.clone();
        extra.push(b'x');
        assert!(decode_all(decoder(), &extra, 77).is_err());
    }

    #[test]
    fn a_signed_trailer_is_verified() {
        let payload = b"trailing".repeat(100);
        let encoder = ChunkedEncoder::signed(signing(), Some(ChecksumAlgorithm::Crc32c));
        let body = encoder.encode(&payload, 256);
        let decoder = || ChunkedDecoder::signed(signing(), Some(ChecksumAlgorithm::Crc32c));
        let (_, trailer) = decode_all(decoder(), &body, 5).unwrap();
        assert_eq!(trailer.checksum.unwrap().0, ChecksumAlgorithm::Crc32c);
        let marker = b"x-amz-trailer-signature:";
        let sig_at = body
            .windows(marker.len())
            .position(|w| w == marker)
            .unwrap()
            + marker.len();
        let mut forged = body.clone();
        forged[sig_at] = if forged[sig_at] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            decode_all(decoder(), &forged, 5).unwrap_err(),
            Error::TrailerSignatureMismatch
        );
    }

    #[test]
    fn hostile_framing_is_refused_not_buffered() {
        let decoder = || ChunkedDecoder::unsigned(None);
        for body in [
            b"zz\r\n".to_vec(),
            b"5;chunk-signature=00\r\nhello\r\n".to_vec(),
            b"10000000000000000\r\n".to_vec(),
            b"5\r\nhello!!\r\n".to_vec(),
            b"5\nhello\r\n".to_vec(),
            vec![b'1'; MAX_LINE + 1],
        ] {
            assert!(
                decode_all(decoder(), &body, 9).is_err(),
                "{:?}",
                String::from_utf8_lossy(&body)
            );
        }
    }

    proptest! {
        #[test]
        fn whatever_is_encoded_decodes_to_itself_in_any_split(
            payload in proptest::collection::vec(any::<u8>(), 0..3000),
            chunk in 1usize..1500,
            step in 1usize..700,
            signed in any::<bool>(),
            trailer in proptest::option::of(0usize..5),
        ) {
            let trailer = trailer.map(|i| ChecksumAlgorithm::ALL[i]);
            let (encoder, decoder) = if signed {
                (ChunkedEncoder::signed(signing(), trailer), ChunkedDecoder::signed(signing(), trailer))
            } else {
                (ChunkedEncoder::unsigned(trailer), ChunkedDecoder::unsigned(trailer))
            };
            let body = encoder.encode(&payload, chunk);
            let (out, end) = decode_all(decoder, &body, step).unwrap();
            prop_assert_eq!(&out, &payload);
            prop_assert_eq!(end.decoded_length, payload.len() as u64);
        }

        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300), step in 1usize..50) {
            let _ = decode_all(ChunkedDecoder::signed(signing(), Some(ChecksumAlgorithm::Crc32)), &body, step);
            let _ = decode_all(ChunkedDecoder::unsigned(Some(ChecksumAlgorithm::Crc64Nvme)), &body, step);
        }
    }
}
