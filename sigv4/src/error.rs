//! The one error type. Messages never quote a value the client sent (a signature, a key
//! id, a header value may be secret or hostile); they name what is wrong.

/// Why a signature, a presigned query or an `aws-chunked` body cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The `Authorization` header is not `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
    #[error("the Authorization header is malformed: {0}")]
    MalformedAuthorization(&'static str),
    /// The credential is not `<access key>/<YYYYMMDD>/<region>/<service>/aws4_request`.
    #[error("the credential is malformed: {0}")]
    MalformedCredential(&'static str),
    /// A time stamp is not `YYYYMMDD'T'HHMMSS'Z'` or names no real time.
    #[error("the time stamp is not YYYYMMDD'T'HHMMSS'Z'")]
    MalformedTimestamp,
    /// The presigned query is incomplete or malformed.
    #[error("the presigned query is malformed: {0}")]
    MalformedPresign(&'static str),
    /// A header the signature lists is not in the request.
    #[error("the signed header {0} is not in the request")]
    MissingSignedHeader(String),
    /// The list of signed headers is empty, not lower case, or repeats a name.
    #[error("the list of signed headers is malformed: {0}")]
    MalformedSignedHeaders(&'static str),
    /// The `aws-chunked` framing is broken.
    #[error("the aws-chunked body is malformed: {0}")]
    MalformedChunk(&'static str),
    /// A chunk's signature does not match its data.
    #[error("a chunk signature does not match its data")]
    ChunkSignatureMismatch,
    /// The trailing headers' signature does not match them.
    #[error("the trailer signature does not match the trailing headers")]
    TrailerSignatureMismatch,
    /// The trailing checksum does not match the body.
    #[error("the {0} checksum does not match the body")]
    ChecksumMismatch(&'static str),
    /// A trailing header other than the one `x-amz-trailer` announced, or none at all.
    #[error("the trailing headers are not the announced checksum: {0}")]
    UnexpectedTrailer(&'static str),
}
