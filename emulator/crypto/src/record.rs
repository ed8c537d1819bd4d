//! What the store keeps about an encrypted object, and the façade that creates and opens
//! object keys for every mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::data_key::{DataKey, ObjectRef, SealedKey, SseMode};
use crate::error::{Error, Result};
use crate::fsutil::{file_stamp, FileLock};
use crate::kms::Kms;
use crate::master::MasterKeyring;
use crate::ssec::{
    seal_with_customer_key, unseal_with_customer_key, CustomerKey, CustomerKeyCheck,
};
use crate::stream::{Decryptor, Encryptor, NoncePrefix, RangePlan, FORMAT_VERSION};

/// The encryption metadata stored with an object (serde-serializable, no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionRecord {
    /// At-rest format version ([`FORMAT_VERSION`]).
    pub format: u8,
    /// Content algorithm (echoed as `x-cos-server-side-encryption` or
    /// `...-customer-algorithm`, COS-ECHO / SSEC-ECHO).
    pub algorithm: Algorithm,
    /// The per-object nonce prefix of the chunk stream.
    pub nonce_prefix: NoncePrefix,
    /// How the data key is protected.
    pub key: KeyRecord,
}

/// The sealed data key and what is needed to open it, per mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode")]
pub enum KeyRecord {
    /// SSE-COS: sealed under a master-key version.
    #[serde(rename = "SSE-COS")]
    Cos {
        /// The master-key version used (rotation keeps it openable).
        master_key_version: u32,
        /// The sealed data key.
        sealed_key: SealedKey,
    },
    /// SSE-KMS: sealed under a CMK with the encryption context bound.
    #[serde(rename = "SSE-KMS")]
    Kms {
        /// The CMK id (echoed as `x-cos-server-side-encryption-cos-kms-key-id`).
        key_id: String,
        /// The encryption context given at upload (not secret; needed to unseal).
        context: BTreeMap<String, String>,
        /// The sealed data key.
        sealed_key: SealedKey,
    },
    /// SSE-C: sealed under a KEK derived from the customer key.
    #[serde(rename = "SSE-C")]
    Customer {
        /// Salt and verifier of the customer key (never the key, never its MD5).
        check: CustomerKeyCheck,
        /// The sealed data key.
        sealed_key: SealedKey,
    },
}

impl EncryptionRecord {
    /// The protection mode.
    pub fn mode(&self) -> SseMode {
        match self.key {
            KeyRecord::Cos { .. } => SseMode::Cos,
            KeyRecord::Kms { .. } => SseMode::Kms,
            KeyRecord::Customer { .. } => SseMode::Customer,
        }
    }

    /// The CMK id for SSE-KMS objects.
    pub fn kms_key_id(&self) -> Option<&str> {
        match &self.key {
            KeyRecord::Kms { key_id, .. } => Some(key_id),
            _ => None,
        }
    }

    /// A streaming encryptor for the object's content.
    pub fn encryptor(&self, key: &DataKey) -> Result<Encryptor> {
        self.check_format()?;
        Ok(Encryptor::new(self.algorithm, key, self.nonce_prefix))
    }

    /// A streaming decryptor for the planned part of the object's content.
    pub fn decryptor(&self, key: &DataKey, plan: RangePlan) -> Result<Decryptor> {
        self.check_format()?;
        Ok(Decryptor::new(self.algorithm, key, self.nonce_prefix, plan))
    }

    fn check_format(&self) -> Result<()> {
        if self.format == FORMAT_VERSION {
            Ok(())
        } else {
            Err(Error::UnsupportedFormat(self.format))
        }
    }
}

/// How a new object's data key is to be protected (from the parsed SSE request).
#[derive(Debug, Clone, Copy)]
pub enum Protection<'a> {
    /// SSE-COS under the current master-key version.
    Cos,
    /// SSE-KMS under the named CMK of `appid`, or its default CMK.
    Kms {
        /// The account.
        appid: &'a str,
        /// The CMK named by the request, if any.
        key_id: Option<&'a str>,
        /// The encryption context (already decoded and validated).
        context: &'a BTreeMap<String, String>,
    },
    /// SSE-C under the customer's key.
    Customer(&'a CustomerKey),
}

/// The key hierarchy of one emulator: the SSE-COS master keyring and the emulated KMS.
/// Share it behind an `Arc`; every method takes `&self`.
pub struct Keys {
    /// The keyring and its file's stamp under one lock: two locks taken in two orders
    /// by rotation and refresh deadlocked.
    master: RwLock<Master>,
    master_path: Option<PathBuf>,
    kms: Kms,
}

/// The master keyring as loaded, with the stamp of its file when last read or written,
/// so a version added by `rotate-master-key` in another process is used for new objects
/// without a restart.
struct Master {
    ring: MasterKeyring,
    stamp: Option<(SystemTime, u64)>,
}

impl Keys {
    /// Opens (creating when absent) the master keyring and the KMS state files.
    pub fn open(master_key_file: &Path, kms_file: &Path) -> Result<Self> {
        Self::with_kms(master_key_file, Kms::open(kms_file)?)
    }

    /// Opens (creating when absent) the master keyring file, with a KMS kept elsewhere
    /// (a gateway's: [`Kms::with_store`]).
    pub fn with_kms(master_key_file: &Path, kms: Kms) -> Result<Self> {
        let master = MasterKeyring::load_or_create(master_key_file)?;
        Ok(Keys {
            master: RwLock::new(Master {
                ring: master,
                stamp: file_stamp(master_key_file),
            }),
            master_path: Some(master_key_file.to_path_buf()),
            kms,
        })
    }

    /// Keys that live in memory only (tests).
    pub fn in_memory() -> Result<Self> {
        Ok(Keys {
            master: RwLock::new(Master {
                ring: MasterKeyring::generate()?,
                stamp: None,
            }),
            master_path: None,
            kms: Kms::in_memory(),
        })
    }

    /// The key that authenticates the store's object records
    /// ([`MasterKeyring::record_mac_key`]); gateways sharing a master key file share it.
    pub fn record_mac_key(&self) -> Zeroizing<[u8; 32]> {
        self.master
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .ring
            .record_mac_key()
    }

    /// The emulated KMS (key management commands).
    pub fn kms(&self) -> &Kms {
        &self.kms
    }

    /// Adds a master-key version, saves the keyring, and returns the new version.
    pub fn rotate_master_key(&self) -> Result<u32> {
        let mut master = self.master.write().unwrap_or_else(|p| p.into_inner());
        let Some(path) = &self.master_path else {
            return master.ring.rotate();
        };
        // Under the file lock, another process rotating at the same time waits, and this
        // rotation builds on the file's newest state (never two processes adding the same
        // version number over each other).
        let _file_lock = FileLock::acquire(path)?;
        let mut ring = MasterKeyring::load(path)?;
        let version = ring.rotate()?;
        ring.save(path)?;
        master.ring = ring;
        master.stamp = file_stamp(path);
        Ok(version)
    }

    /// Reloads the master keyring when its file changed since it was last read or
    /// written (another process ran `rotate-master-key`), so new SSE-COS objects are
    /// sealed under the newest version.
    fn refresh_master(&self) -> Result<()> {
        let Some(path) = &self.master_path else {
            return Ok(());
        };
        let stamp = file_stamp(path);
        if self.master.read().unwrap_or_else(|p| p.into_inner()).stamp == stamp {
            return Ok(());
        }
        let mut master = self.master.write().unwrap_or_else(|p| p.into_inner());
        // Checked again under the write lock: a rotation may have got here first.
        let stamp = file_stamp(path);
        if master.stamp != stamp {
            master.ring = MasterKeyring::load(path)?;
            master.stamp = stamp;
        }
        Ok(())
    }

    /// Creates a fresh data key for `object` (UNIQUE-KEY) and the record to store.
    pub fn new_object(
        &self,
        algorithm: Algorithm,
        protection: Protection<'_>,
        object: &ObjectRef<'_>,
    ) -> Result<(DataKey, EncryptionRecord)> {
        let data_key = DataKey::generate()?;
        let key = match protection {
            Protection::Cos => {
                self.refresh_master()?;
                let master = self.master.read().unwrap_or_else(|p| p.into_inner());
                let (master_key_version, sealed_key) = master.ring.seal(object, &data_key)?;
                KeyRecord::Cos {
                    master_key_version,
                    sealed_key,
                }
            }
            Protection::Kms {
                appid,
                key_id,
                context,
            } => {
                let (key_id, sealed_key) = self
                    .kms
                    .seal_data_key(appid, key_id, context, object, &data_key)?;
                KeyRecord::Kms {
                    key_id,
                    context: context.clone(),
                    sealed_key,
                }
            }
            Protection::Customer(customer) => {
                let (check, sealed_key) = seal_with_customer_key(customer, object, &data_key)?;
                KeyRecord::Customer { check, sealed_key }
            }
        };
        let record = EncryptionRecord {
            format: FORMAT_VERSION,
            algorithm,
            nonce_prefix: NoncePrefix::generate()?,
            key,
        };
        Ok((data_key, record))
    }

    /// Opens the data key of a stored object. `appid` is the bucket owner's account (for
    /// SSE-KMS); `customer` is the request's SSE-C key, required for SSE-C objects.
    pub fn open_object(
        &self,
        record: &EncryptionRecord,
        appid: &str,
        customer: Option<&CustomerKey>,
        object: &ObjectRef<'_>,
    ) -> Result<DataKey> {
        match &record.key {
            KeyRecord::Cos {
                master_key_version,
                sealed_key,
            } => self.unseal_master(*master_key_version, object, sealed_key),
            KeyRecord::Kms {
                key_id,
                context,
                sealed_key,
            } => self
                .kms
                .unseal_data_key(appid, key_id, context, object, sealed_key),
            KeyRecord::Customer { check, sealed_key } => {
                let customer = customer.ok_or(Error::CustomerKeyRequired)?;
                unseal_with_customer_key(customer, check, object, sealed_key)
            }
        }
    }

    fn unseal_master(
        &self,
        version: u32,
        object: &ObjectRef<'_>,
        sealed: &SealedKey,
    ) -> Result<DataKey> {
        let first = {
            let master = self.master.read().unwrap_or_else(|p| p.into_inner());
            master.ring.unseal(version, object, sealed)
        };
        match (first, &self.master_path) {
            // A version added by `rotate-master-key` in another process: reload once.
            (Err(Error::MasterKeyVersionUnknown(_)), Some(path)) => {
                let mut master = self.master.write().unwrap_or_else(|p| p.into_inner());
                let stamp = file_stamp(path);
                master.ring = MasterKeyring::load(path)?;
                master.stamp = stamp;
                master.ring.unseal(version, object, sealed)
            }
            (result, _) => result,
        }
    }
}
