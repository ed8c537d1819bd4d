//! The checksums S3 names in `x-amz-checksum-*` headers and trailers, each sent as the
//! base64 of its big-endian bytes.

use base64::Engine;
use crc_fast::{CrcAlgorithm, Digest as CrcDigest};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// A checksum algorithm of `x-amz-checksum-<name>` / `x-amz-sdk-checksum-algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC, as zlib).
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The lower-case name in the header (`crc32`, `crc64nvme`, …).
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "crc32",
            ChecksumAlgorithm::Crc32c => "crc32c",
            ChecksumAlgorithm::Crc64Nvme => "crc64nvme",
            ChecksumAlgorithm::Sha1 => "sha1",
            ChecksumAlgorithm::Sha256 => "sha256",
        }
    }

    /// `x-amz-checksum-<name>`.
    pub fn header_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The algorithm a header name (any case) names, if any.
    pub fn from_header_name(name: &str) -> Option<ChecksumAlgorithm> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.header_name().eq_ignore_ascii_case(name))
    }

    /// The algorithm an `x-amz-sdk-checksum-algorithm` value (`CRC32`, any case) names.
    pub fn from_name(name: &str) -> Option<ChecksumAlgorithm> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.name().eq_ignore_ascii_case(name))
    }
}

/// A running checksum.
pub enum Checksummer {
    /// One of the CRCs.
    Crc(ChecksumAlgorithm, CrcDigest),
    /// SHA-1.
    Sha1(Sha1),
    /// SHA-256.
    Sha256(Sha256),
}

impl Checksummer {
    /// A checksum of nothing yet.
    pub fn new(algorithm: ChecksumAlgorithm) -> Checksummer {
        let crc = |alg| Checksummer::Crc(algorithm, CrcDigest::new(alg));
        match algorithm {
            ChecksumAlgorithm::Crc32 => crc(CrcAlgorithm::Crc32IsoHdlc),
            ChecksumAlgorithm::Crc32c => crc(CrcAlgorithm::Crc32Iscsi),
            ChecksumAlgorithm::Crc64Nvme => crc(CrcAlgorithm::Crc64Nvme),
            ChecksumAlgorithm::Sha1 => Checksummer::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => Checksummer::Sha256(Sha256::new()),
        }
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Checksummer::Crc(_, digest) => digest.update(bytes),
            Checksummer::Sha1(digest) => digest.update(bytes),
            Checksummer::Sha256(digest) => digest.update(bytes),
        }
    }

    /// The value as it is sent: base64 of the big-endian checksum.
    pub fn finish(self) -> String {
        let bytes: Vec<u8> = match self {
            Checksummer::Crc(ChecksumAlgorithm::Crc64Nvme, digest) => {
                digest.finalize().to_be_bytes().to_vec()
            }
            Checksummer::Crc(_, digest) => (digest.finalize() as u32).to_be_bytes().to_vec(),
            Checksummer::Sha1(digest) => digest.finalize().to_vec(),
            Checksummer::Sha256(digest) => digest.finalize().to_vec(),
        };
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}

/// The checksum of `bytes`, as it is sent.
pub fn checksum(algorithm: ChecksumAlgorithm, bytes: &[u8]) -> String {
    let mut summer = Checksummer::new(algorithm);
    summer.update(bytes);
    summer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn hex_of(value: &str) -> String {
        hex::encode(
            base64::engine::general_purpose::STANDARD
                .decode(value)
                .unwrap(),
        )
    }

    #[test]
    fn the_crc_check_values_of_the_catalogue_come_out() {
        // The "check" value of each CRC over "123456789" (reveng's catalogue).
        assert_eq!(
            hex_of(&checksum(ChecksumAlgorithm::Crc32, b"123456789")),
            "cbf43926"
        );
        assert_eq!(
            hex_of(&checksum(ChecksumAlgorithm::Crc32c, b"123456789")),
            "e3069283"
        );
        assert_eq!(
            hex_of(&checksum(ChecksumAlgorithm::Crc64Nvme, b"123456789")),
            "ae8b14860a799888"
        );
    }

    #[test]
    fn an_empty_body_has_the_values_s3_documents() {
        assert_eq!(checksum(ChecksumAlgorithm::Crc32, b""), "AAAAAA==");
        assert_eq!(
            checksum(ChecksumAlgorithm::Sha256, b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn header_names_map_both_ways() {
        for alg in ChecksumAlgorithm::ALL {
            assert_eq!(
                ChecksumAlgorithm::from_header_name(alg.header_name()),
                Some(alg)
            );
            assert_eq!(
                ChecksumAlgorithm::from_name(&alg.name().to_uppercase()),
                Some(alg)
            );
        }
        assert_eq!(
            ChecksumAlgorithm::from_header_name("x-amz-checksum-md5"),
            None
        );
    }
}
