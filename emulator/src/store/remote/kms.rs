//! The emulated KMS's state in the backend, shared by every gateway: one object changed
//! by compare-and-swap ([`KmsStateStore`]), sealed under the SSE-COS master key, which
//! never goes to the backend (the gateways share its file). The state holds the CMKs'
//! key material, so the backend sees only ciphertext: a fresh data key per write
//! encrypts the state (AES-256-GCM chunks, the object format) and is itself sealed under
//! the master key's current version.

use std::path::PathBuf;

use base64::Engine as _;
use bytes::Bytes;
use cos_emulator_crypto::{
    decrypt_to_vec, encrypt_to_vec, Algorithm, DataKey, KmsStateStore, MasterKeyring, NoncePrefix,
    ObjectRef, SealedKey, StateVersion,
};
use object_store::path::Path;
use object_store::{PutMode, UpdateVersion};
use serde::{Deserialize, Serialize};

use super::backend::{Backend, Written};

const FORMAT: u32 = 1;

/// What the backend holds at `kms/state`.
#[derive(Serialize, Deserialize)]
struct Envelope {
    format: u32,
    master_key_version: u32,
    sealed_key: SealedKey,
    nonce_prefix: NoncePrefix,
    len: u64,
    /// The encrypted state, base64.
    ciphertext: String,
}

/// The KMS state object of one store.
pub struct SealedKmsState {
    backend: Backend,
    path: Path,
    master_key_file: PathBuf,
}

impl SealedKmsState {
    /// The state at `path`, sealed under the keyring in `master_key_file`.
    pub fn new(backend: Backend, path: Path, master_key_file: PathBuf) -> Self {
        SealedKmsState {
            backend,
            path,
            master_key_file,
        }
    }

    /// Binds the sealed data key to this object and its role.
    fn object(&self) -> ObjectRef<'_> {
        ObjectRef {
            bucket: "cos-emulator-kms",
            key: self.path.as_ref(),
            version: "state",
        }
    }

    fn ring(&self) -> cos_emulator_crypto::Result<MasterKeyring> {
        // Read each time: a rotation by another process is picked up (and the master key
        // is not kept around in this object).
        MasterKeyring::load(&self.master_key_file)
    }
}

fn store_error(reason: impl std::fmt::Display) -> cos_emulator_crypto::Error {
    cos_emulator_crypto::Error::KeyStore {
        reason: reason.to_string(),
    }
}

impl KmsStateStore for SealedKmsState {
    fn read(&self) -> cos_emulator_crypto::Result<Option<(Vec<u8>, StateVersion)>> {
        let Some((bytes, version)) = self.backend.get(&self.path).map_err(store_error)? else {
            return Ok(None);
        };
        let envelope: Envelope = serde_json::from_slice(&bytes)
            .map_err(|e| store_error(format!("{}: not a sealed KMS state: {e}", self.path)))?;
        if envelope.format != FORMAT {
            return Err(store_error(format!(
                "{}: unknown format {}",
                self.path, envelope.format
            )));
        }
        let ciphertext = base64::engine::general_purpose::STANDARD
            .decode(&envelope.ciphertext)
            .map_err(|_| store_error(format!("{}: the ciphertext is not base64", self.path)))?;
        let ring = self.ring()?;
        let key = ring.unseal(
            envelope.master_key_version,
            &self.object(),
            &envelope.sealed_key,
        )?;
        let plain = decrypt_to_vec(
            Algorithm::Aes256,
            &key,
            envelope.nonce_prefix,
            envelope.len,
            &ciphertext,
        )?;
        let tag = version.e_tag.ok_or_else(|| {
            store_error("the object store returned no ETag: conditional writes need one")
        })?;
        Ok(Some((plain, StateVersion(tag))))
    }

    fn write_if(
        &self,
        bytes: &[u8],
        expected: Option<&StateVersion>,
    ) -> cos_emulator_crypto::Result<Option<StateVersion>> {
        let ring = self.ring()?;
        let key = DataKey::generate()?;
        let (master_key_version, sealed_key) = ring.seal(&self.object(), &key)?;
        let nonce_prefix = NoncePrefix::generate()?;
        let ciphertext = encrypt_to_vec(Algorithm::Aes256, &key, nonce_prefix, bytes)?;
        let envelope = Envelope {
            format: FORMAT,
            master_key_version,
            sealed_key,
            nonce_prefix,
            len: bytes.len() as u64,
            ciphertext: base64::engine::general_purpose::STANDARD.encode(ciphertext),
        };
        let json = serde_json::to_vec(&envelope).map_err(store_error)?;
        let mode = match expected {
            None => PutMode::Create,
            Some(v) => PutMode::Update(UpdateVersion {
                e_tag: Some(v.0.clone()),
                version: None,
            }),
        };
        match self
            .backend
            .put(&self.path, Bytes::from(json), mode)
            .map_err(store_error)?
        {
            Written::Done(v) => {
                let tag = v.e_tag.ok_or_else(|| {
                    store_error("the object store returned no ETag: conditional writes need one")
                })?;
                Ok(Some(StateVersion(tag)))
            }
            Written::Conflict => Ok(None),
        }
    }
}
