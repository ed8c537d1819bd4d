//! SSE-COS master keys: a versioned keyring under one root secret.
//!
//! The key-encryption key of version `v` is HMAC-SHA256(root, label ‖ `v`). New objects
//! are sealed under the newest version and record it, so [`MasterKeyring::rotate`] (the
//! `cos-emulator rotate-master-key` command) changes the key for new objects while older
//! ones stay readable. The keyring is a JSON file, written atomically with mode 0600.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize as _, Zeroizing};

use crate::data_key::{binding, seal, unseal, DataKey, Kek, ObjectRef, SealedKey, SseMode};
use crate::encoding::{fill_random, hmac_sha256};
use crate::error::{Error, Result};
use crate::fsutil::{read_optional, write_private_atomic};

const FILE_FORMAT: u32 = 1;

/// One version of the master key (its key is derived, never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterKeyVersion {
    /// Version number, starting at 1.
    pub version: u32,
    /// When the version was added (Unix seconds).
    pub created_unix: u64,
}

/// The SSE-COS keyring: a root secret and its versions (newest last).
pub struct MasterKeyring {
    root: Zeroizing<[u8; 32]>,
    versions: Vec<MasterKeyVersion>,
}

#[derive(Serialize)]
struct FileOut<'a> {
    format: u32,
    root: &'a str,
    versions: &'a [MasterKeyVersion],
}

#[derive(Deserialize)]
struct FileIn {
    format: u32,
    root: String,
    versions: Vec<MasterKeyVersion>,
}

impl MasterKeyring {
    /// A new keyring with a random root and version 1.
    pub fn generate() -> Result<Self> {
        let mut root = Zeroizing::new([0u8; 32]);
        fill_random(&mut root[..])?;
        Ok(MasterKeyring {
            root,
            versions: vec![MasterKeyVersion {
                version: 1,
                created_unix: now_unix(),
            }],
        })
    }

    /// Loads the keyring at `path`, or creates and saves a new one when the file does
    /// not exist.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        match read_optional(path)? {
            Some(bytes) => Self::parse(path, bytes),
            None => {
                let ring = Self::generate()?;
                ring.save(path)?;
                Ok(ring)
            }
        }
    }

    /// Loads the keyring at `path`; a missing or invalid file is an error.
    pub fn load(path: &Path) -> Result<Self> {
        match read_optional(path)? {
            Some(bytes) => Self::parse(path, bytes),
            None => Err(Error::Io {
                path: path.to_path_buf(),
                source: std::io::ErrorKind::NotFound.into(),
            }),
        }
    }

    /// Writes the keyring to `path` atomically, mode 0600.
    pub fn save(&self, path: &Path) -> Result<()> {
        let root = Zeroizing::new(STANDARD.encode(&self.root[..]));
        let out = FileOut {
            format: FILE_FORMAT,
            root: &root,
            versions: &self.versions,
        };
        let json = Zeroizing::new(serde_json::to_vec_pretty(&out).map_err(|e| Error::KeyFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?);
        write_private_atomic(path, &json)
    }

    /// Adds a version and makes it current; returns its number.
    pub fn rotate(&mut self) -> Result<u32> {
        let next = self
            .current_version()
            .checked_add(1)
            .ok_or(Error::MasterKeyVersionUnknown(u32::MAX))?;
        self.versions.push(MasterKeyVersion {
            version: next,
            created_unix: now_unix(),
        });
        Ok(next)
    }

    /// The version new objects are sealed under.
    pub fn current_version(&self) -> u32 {
        // A keyring always has at least one version: `generate` creates it and `parse`
        // refuses an empty list.
        self.versions.last().map_or(1, |v| v.version)
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> &[MasterKeyVersion] {
        &self.versions
    }

    /// Seals `key` for `object` under the current version; returns the version used.
    pub fn seal(&self, object: &ObjectRef<'_>, key: &DataKey) -> Result<(u32, SealedKey)> {
        let version = self.current_version();
        let sealed = seal(&self.kek(version)?, key, &aad(object, version))?;
        Ok((version, sealed))
    }

    /// Opens a key sealed under `version` for `object`.
    pub fn unseal(
        &self,
        version: u32,
        object: &ObjectRef<'_>,
        sealed: &SealedKey,
    ) -> Result<DataKey> {
        unseal(&self.kek(version)?, sealed, &aad(object, version))
    }

    /// The key that authenticates the store's object records: HMAC-SHA256(root, label).
    /// Derived from the root, not from a version, so rotation does not invalidate records
    /// (a record is re-MACed only when it is rewritten); a label of its own keeps it apart
    /// from every key-encryption key.
    pub fn record_mac_key(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(hmac_sha256(
            &self.root,
            &[b"cos-emulator/store/object-record-mac/v1"],
        ))
    }

    fn kek(&self, version: u32) -> Result<Kek> {
        if !self.versions.iter().any(|v| v.version == version) {
            return Err(Error::MasterKeyVersionUnknown(version));
        }
        Ok(Kek::from_bytes(hmac_sha256(
            &self.root,
            &[b"cos-emulator/sse-cos/master-key/", &version.to_be_bytes()],
        )))
    }

    fn parse(path: &Path, mut bytes: Vec<u8>) -> Result<Self> {
        let bad = |reason: String| Error::KeyFile {
            path: path.to_path_buf(),
            reason,
        };
        let parsed: std::result::Result<FileIn, _> = serde_json::from_slice(&bytes);
        bytes.zeroize();
        let mut file = parsed.map_err(|e| bad(e.to_string()))?;
        let decoded = STANDARD.decode(file.root.as_bytes());
        file.root.zeroize();
        let decoded = Zeroizing::new(decoded.map_err(|e| bad(format!("root: {e}")))?);
        if file.format != FILE_FORMAT {
            return Err(bad(format!("unknown format {}", file.format)));
        }
        let mut root = Zeroizing::new([0u8; 32]);
        if decoded.len() != root.len() {
            return Err(bad(format!("root must be 32 bytes, got {}", decoded.len())));
        }
        root.copy_from_slice(&decoded);
        let ascending = file
            .versions
            .windows(2)
            .all(|w| w[0].version < w[1].version);
        if file.versions.is_empty() || !ascending {
            return Err(bad("versions must be a non-empty ascending list".into()));
        }
        Ok(MasterKeyring {
            root,
            versions: file.versions,
        })
    }
}

fn aad(object: &ObjectRef<'_>, version: u32) -> Vec<u8> {
    let mut c = binding(object, SseMode::Cos);
    c.field(&version.to_be_bytes());
    c.into_bytes()
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJ: ObjectRef<'static> = ObjectRef {
        bucket: "b-1250000000",
        key: "k",
        version: "1",
    };

    #[test]
    fn rotation_keeps_old_seals_openable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.json");
        let mut ring = MasterKeyring::load_or_create(&path).unwrap();
        let key = DataKey::generate().unwrap();
        let (v1, sealed1) = ring.seal(&OBJ, &key).unwrap();
        assert_eq!(v1, 1);
        assert_eq!(ring.rotate().unwrap(), 2);
        ring.save(&path).unwrap();

        let ring = MasterKeyring::load(&path).unwrap();
        let (v2, sealed2) = ring.seal(&OBJ, &key).unwrap();
        assert_eq!(v2, 2);
        for (v, s) in [(v1, &sealed1), (v2, &sealed2)] {
            let opened = ring.unseal(v, &OBJ, s).unwrap();
            assert_eq!(opened.as_bytes(), key.as_bytes());
        }
        // A seal is bound to its version: opening it as another version fails.
        assert!(matches!(ring.unseal(2, &OBJ, &sealed1), Err(Error::Unseal)));
    }

    #[test]
    fn unknown_version_is_a_distinct_error() {
        let ring = MasterKeyring::generate().unwrap();
        let key = DataKey::generate().unwrap();
        let (_, sealed) = ring.seal(&OBJ, &key).unwrap();
        assert!(matches!(
            ring.unseal(9, &OBJ, &sealed),
            Err(Error::MasterKeyVersionUnknown(9))
        ));
    }

    #[test]
    fn another_keyring_cannot_open() {
        let a = MasterKeyring::generate().unwrap();
        let b = MasterKeyring::generate().unwrap();
        let key = DataKey::generate().unwrap();
        let (v, sealed) = a.seal(&OBJ, &key).unwrap();
        assert!(matches!(b.unseal(v, &OBJ, &sealed), Err(Error::Unseal)));
    }

    #[test]
    fn invalid_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.json");
        for content in [
            "not json",
            r#"{"format":1,"root":"!!","versions":[{"version":1,"created_unix":0}]}"#,
            r#"{"format":1,"root":"AAAA","versions":[{"version":1,"created_unix":0}]}"#,
            r#"{"format":1,"root":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","versions":[]}"#,
            r#"{"format":2,"root":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","versions":[{"version":1,"created_unix":0}]}"#,
        ] {
            std::fs::write(&path, content).unwrap();
            assert!(
                matches!(MasterKeyring::load(&path), Err(Error::KeyFile { .. })),
                "{content}"
            );
        }
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(MasterKeyring::load(&path), Err(Error::Io { .. })));
    }
}
