//! The emulated KMS (KMS-DEFAULT-KEY, KMS-KEY-ID, KMS-CONTEXT).
//!
//! Per account (appid) a set of customer master keys (CMKs); the account's default CMK is
//! created on first use. A data key is sealed under a CMK with AAD binding the object, the
//! CMK id and the encryption context as canonical length-prefixed pairs in sorted order,
//! so a different context (even one with the same concatenation: `{"ab":"c"}` versus
//! `{"a":"bc"}`) cannot unseal it. Unknown and disabled keys are distinct errors.
//!
//! The state is kept in one of two ways, sharing every edit:
//! - a JSON file written atomically with mode 0600, changed under an inter-process file
//!   lock and re-read when another process (the `cos-emulator kms` command) changed it;
//! - a blob in a [`KmsStateStore`] shared by several processes (gateways over one object
//!   store), re-read before every operation and changed by compare-and-swap: read, edit
//!   the state just read, write only if the blob is unchanged, else start again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng as _;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize as _, Zeroizing};

use crate::data_key::{binding, seal, unseal, DataKey, Kek, ObjectRef, SealedKey, SseMode};
use crate::encoding::{deserialize_b64_array, fill_random, serialize_b64};
use crate::error::{Error, Result};
use crate::fsutil::{file_stamp, read_optional, write_private_atomic, FileLock};
use crate::kms_state::{KmsStateStore, StateVersion};

const FILE_FORMAT: u32 = 1;
const DEFAULT_DESCRIPTION: &str = "default SSE-KMS key (created on first use)";

/// How many times a change to a store-backed state is tried before giving up on a store
/// whose blob keeps changing under it.
const STORE_ATTEMPTS: u32 = 32;
/// The longest pause between two tries (the pause doubles from 2 ms up to this, each one
/// a random part of it, so writers that collided spread out).
const STORE_MAX_BACKOFF_MS: u64 = 32;

/// The public description of one CMK (no key material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KmsKey {
    /// The key id requests name in `x-cos-server-side-encryption-cos-kms-key-id`.
    pub key_id: String,
    /// Free text given at creation.
    pub description: String,
    /// Whether the key may seal and unseal.
    pub enabled: bool,
    /// Creation time (Unix seconds).
    pub created_unix: u64,
    /// Whether this is the account's default key (used when a request names none).
    pub is_default: bool,
}

/// The emulated KMS; share it behind an `Arc`, every method takes `&self`.
pub struct Kms {
    backing: Backing,
    inner: Mutex<Inner>,
}

/// Where the state is persisted.
enum Backing {
    /// Nowhere (tests).
    Memory,
    /// A local JSON file, changed under its inter-process lock.
    File(PathBuf),
    /// A blob changed by compare-and-swap.
    Store(Box<dyn KmsStateStore>),
}

struct Inner {
    state: State,
    /// What `state` was read from or last written as, to notice other writers.
    seen: Seen,
}

/// The persisted state `Inner::state` matches, as far as this process knows.
#[derive(PartialEq)]
enum Seen {
    /// Not known: `state` may differ from what is persisted; re-read it.
    Unknown,
    /// The file's modification stamp (`None`: no file).
    Stamp(Option<(SystemTime, u64)>),
    /// The store blob's version (`None`: no blob yet).
    Version(Option<StateVersion>),
}

/// Whether a save reached the persisted state.
enum Saved {
    Written,
    /// The store's blob changed since it was read (compare-and-swap lost): nothing written.
    Conflict,
}

#[derive(Default, Serialize, Deserialize)]
struct State {
    format: u32,
    accounts: BTreeMap<String, Account>,
}

#[derive(Default, Serialize, Deserialize)]
struct Account {
    default_key: Option<String>,
    keys: BTreeMap<String, Cmk>,
}

#[derive(Serialize, Deserialize)]
struct Cmk {
    description: String,
    enabled: bool,
    created_unix: u64,
    #[serde(
        serialize_with = "serialize_b64",
        deserialize_with = "deserialize_b64_array"
    )]
    material: [u8; 32],
}

impl Drop for Cmk {
    fn drop(&mut self) {
        self.material.zeroize();
    }
}

impl State {
    fn empty() -> Self {
        State {
            format: FILE_FORMAT,
            accounts: BTreeMap::new(),
        }
    }
}

impl Kms {
    /// A KMS that lives in memory only (tests).
    pub fn in_memory() -> Self {
        Kms::with_backing(Backing::Memory)
    }

    /// A KMS persisted at `path` (created on the first change if absent).
    pub fn open(path: &Path) -> Result<Self> {
        Kms::load(Backing::File(path.to_path_buf()))
    }

    /// A KMS persisted through `store`, shared with every other process using the same
    /// store: each operation first re-reads the blob (so keys created or disabled
    /// elsewhere take effect at once), and each change is a compare-and-swap that
    /// re-applies itself to the newest state when another writer got there first (so no
    /// change is lost and the default key is created once). The blob is created on the
    /// first change if absent; a damaged one fails here.
    pub fn with_store(store: Box<dyn KmsStateStore>) -> Result<Self> {
        Kms::load(Backing::Store(store))
    }

    fn with_backing(backing: Backing) -> Self {
        Kms {
            backing,
            inner: Mutex::new(Inner {
                state: State::empty(),
                seen: Seen::Unknown,
            }),
        }
    }

    fn load(backing: Backing) -> Result<Self> {
        let kms = Kms::with_backing(backing);
        // Read and validate the persisted state now, so a damaged one fails at startup.
        drop(kms.lock()?);
        Ok(kms)
    }

    /// Creates a CMK for `appid`.
    pub fn create_key(&self, appid: &str, description: &str) -> Result<KmsKey> {
        let mut inner = self.lock()?;
        let id = self.change(&mut inner, |state| new_cmk(state, appid, description))?;
        describe(&inner.state, appid, &id)
    }

    /// The CMKs of `appid`, in key-id order.
    pub fn list_keys(&self, appid: &str) -> Result<Vec<KmsKey>> {
        let inner = self.lock()?;
        let Some(account) = inner.state.accounts.get(appid) else {
            return Ok(Vec::new());
        };
        account
            .keys
            .keys()
            .map(|id| describe(&inner.state, appid, id))
            .collect()
    }

    /// The account's default CMK, created on first use (KMS-DEFAULT-KEY).
    pub fn default_key(&self, appid: &str) -> Result<KmsKey> {
        let mut inner = self.lock()?;
        let id = self.default_key_id(&mut inner, appid)?;
        describe(&inner.state, appid, &id)
    }

    /// Disables a CMK: it then neither seals nor unseals.
    pub fn disable_key(&self, appid: &str, key_id: &str) -> Result<()> {
        self.set_enabled(appid, key_id, false)
    }

    /// Enables a disabled CMK again.
    pub fn enable_key(&self, appid: &str, key_id: &str) -> Result<()> {
        self.set_enabled(appid, key_id, true)
    }

    /// Generates a fresh data key and seals it under the named CMK (or the default one);
    /// returns the key, the CMK id used (echoed in responses) and the sealed key.
    pub fn generate_data_key(
        &self,
        appid: &str,
        key_id: Option<&str>,
        context: &BTreeMap<String, String>,
        object: &ObjectRef<'_>,
    ) -> Result<(DataKey, String, SealedKey)> {
        let key = DataKey::generate()?;
        let (id, sealed) = self.seal_data_key(appid, key_id, context, object, &key)?;
        Ok((key, id, sealed))
    }

    /// Seals an existing data key under the named CMK (or the default one).
    pub fn seal_data_key(
        &self,
        appid: &str,
        key_id: Option<&str>,
        context: &BTreeMap<String, String>,
        object: &ObjectRef<'_>,
        key: &DataKey,
    ) -> Result<(String, SealedKey)> {
        let mut inner = self.lock()?;
        let id = match key_id {
            Some(id) => id.to_owned(),
            None => self.default_key_id(&mut inner, appid)?,
        };
        let kek = usable_kek(&inner.state, appid, &id)?;
        let sealed = seal(&kek, key, &aad(object, &id, context))?;
        Ok((id, sealed))
    }

    /// Opens a data key sealed under `key_id` with exactly this context and object.
    pub fn unseal_data_key(
        &self,
        appid: &str,
        key_id: &str,
        context: &BTreeMap<String, String>,
        object: &ObjectRef<'_>,
        sealed: &SealedKey,
    ) -> Result<DataKey> {
        let inner = self.lock()?;
        let kek = usable_kek(&inner.state, appid, key_id)?;
        unseal(&kek, sealed, &aad(object, key_id, context))
    }

    fn set_enabled(&self, appid: &str, key_id: &str, enabled: bool) -> Result<()> {
        let mut inner = self.lock()?;
        self.change(&mut inner, |state| {
            cmk_mut(state, appid, key_id)?.enabled = enabled;
            Ok(())
        })
    }

    fn default_key_id(&self, inner: &mut Inner, appid: &str) -> Result<String> {
        let existing = |state: &State| {
            state
                .accounts
                .get(appid)
                .and_then(|a| a.default_key.clone())
        };
        if let Some(id) = existing(&inner.state) {
            return Ok(id);
        }
        self.change(inner, |state| {
            // Another process may have made the default between our read and the lock
            // (file) or the write (store, where this runs again on the newer state).
            if let Some(id) = existing(state) {
                return Ok(id);
            }
            let id = new_cmk(state, appid, DEFAULT_DESCRIPTION)?;
            state
                .accounts
                .entry(appid.to_owned())
                .or_default()
                .default_key = Some(id.clone());
            Ok(id)
        })
    }

    /// Runs one read-modify-write of the state: re-reads the persisted state whatever its
    /// stamp says (a stamp can miss a rewrite within the clock's granularity), applies
    /// `edit`, and saves — so a change made meanwhile by another process (`cos-emulator
    /// kms create-key` against the server's default-key creation, or another gateway) is
    /// built upon, never overwritten. A file is held under its inter-process lock from
    /// the read to the save; a store has no lock, so its save is a compare-and-swap and,
    /// when another writer got there first, `edit` runs again on the newer state, up to
    /// [`STORE_ATTEMPTS`] times with a short random pause between tries.
    fn change<T>(
        &self,
        inner: &mut Inner,
        mut edit: impl FnMut(&mut State) -> Result<T>,
    ) -> Result<T> {
        for attempt in 1..=STORE_ATTEMPTS {
            let file_lock = match &self.backing {
                Backing::File(path) => Some(FileLock::acquire(path)?),
                Backing::Memory | Backing::Store(_) => None,
            };
            self.reload(inner, true)?;
            let out = edit(&mut inner.state);
            let saved = match &out {
                Ok(_) => self.save(inner),
                Err(_) => Ok(Saved::Written),
            };
            if out.is_err() || saved.is_err() {
                // The state in memory may differ from the persisted one: re-read it.
                inner.seen = Seen::Unknown;
                self.reload(inner, true)?;
            }
            match saved? {
                Saved::Written => return out,
                Saved::Conflict => {
                    // This edit was applied to a state that is no longer the newest.
                    inner.seen = Seen::Unknown;
                    drop(file_lock);
                    if attempt < STORE_ATTEMPTS {
                        backoff(attempt);
                    }
                }
            }
        }
        Err(Error::KeyStoreContended {
            attempts: STORE_ATTEMPTS,
        })
    }

    /// Locks the state, first re-reading it if another process changed it.
    fn lock(&self) -> Result<MutexGuard<'_, Inner>> {
        // A panic while holding the lock cannot leave the state half-changed in a way
        // that matters: every change is saved only after it is complete.
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        self.reload(&mut inner, false)?;
        Ok(inner)
    }

    /// Re-reads the persisted state when it changed (or always, with `force`, for a file:
    /// a store's version is exact, so an unchanged one means an unchanged blob).
    fn reload(&self, inner: &mut Inner, force: bool) -> Result<()> {
        match &self.backing {
            Backing::Memory => {}
            Backing::File(path) => {
                let stamp = Seen::Stamp(file_stamp(path));
                if force || stamp != inner.seen {
                    if let Some(bytes) = read_optional(path)? {
                        inner.state =
                            parse_state(Zeroizing::new(bytes)).map_err(|bad| Error::KeyFile {
                                path: path.clone(),
                                reason: bad.detailed(),
                            })?;
                    }
                    inner.seen = stamp;
                }
            }
            Backing::Store(store) => {
                let (bytes, version) = match store.read()? {
                    Some((bytes, version)) => (Some(Zeroizing::new(bytes)), Some(version)),
                    None => (None, None),
                };
                let seen = Seen::Version(version);
                if seen != inner.seen {
                    inner.state = match bytes {
                        Some(bytes) => parse_state(bytes).map_err(|bad| Error::KeyStore {
                            reason: format!("the stored state is {}", bad.redacted()),
                        })?,
                        None => State::empty(),
                    };
                    inner.seen = seen;
                }
            }
        }
        Ok(())
    }

    fn save(&self, inner: &mut Inner) -> Result<Saved> {
        match &self.backing {
            Backing::Memory => Ok(Saved::Written),
            Backing::File(path) => {
                let json = serialize_state(&inner.state).map_err(|reason| Error::KeyFile {
                    path: path.clone(),
                    reason,
                })?;
                write_private_atomic(path, &json)?;
                inner.seen = Seen::Stamp(file_stamp(path));
                Ok(Saved::Written)
            }
            Backing::Store(store) => {
                let json =
                    serialize_state(&inner.state).map_err(|reason| Error::KeyStore { reason })?;
                let expected = match &inner.seen {
                    Seen::Version(version) => version.as_ref(),
                    // `change` re-reads before every edit, so the version is known here.
                    Seen::Unknown | Seen::Stamp(_) => return Ok(Saved::Conflict),
                };
                Ok(match store.write_if(&json, expected)? {
                    Some(version) => {
                        inner.seen = Seen::Version(Some(version));
                        Saved::Written
                    }
                    None => Saved::Conflict,
                })
            }
        }
    }
}

/// Why a persisted state was rejected.
enum BadState {
    Json(serde_json::Error),
    Format(u32),
}

impl BadState {
    /// The whole reason, as a state file has always reported it.
    fn detailed(&self) -> String {
        match self {
            BadState::Json(e) => e.to_string(),
            BadState::Format(n) => format!("unknown format {n}"),
        }
    }

    /// What kind of damage and where, never the damaged text: a parser's message can
    /// quote a value (or a byte of a base64 one), and the values here are key material.
    fn redacted(&self) -> String {
        match self {
            BadState::Json(e) => {
                let what = match e.classify() {
                    serde_json::error::Category::Io => "unreadable",
                    serde_json::error::Category::Syntax => "not JSON",
                    serde_json::error::Category::Eof => "truncated JSON",
                    serde_json::error::Category::Data => "JSON but not a KMS state",
                };
                format!("{what} (line {}, column {})", e.line(), e.column())
            }
            BadState::Format(n) => format!("of unknown format {n}"),
        }
    }
}

/// Parses and checks a persisted state; the bytes are zeroized when dropped.
fn parse_state(bytes: Zeroizing<Vec<u8>>) -> Result<State, BadState> {
    let state = serde_json::from_slice::<State>(&bytes).map_err(BadState::Json)?;
    if state.format != FILE_FORMAT {
        return Err(BadState::Format(state.format));
    }
    Ok(state)
}

/// The persisted form of the state, zeroized when dropped.
fn serialize_state(state: &State) -> Result<Zeroizing<Vec<u8>>, String> {
    serde_json::to_vec_pretty(state)
        .map(Zeroizing::new)
        .map_err(|e| e.to_string())
}

/// Sleeps a random part of a pause that doubles with each lost compare-and-swap.
fn backoff(attempt: u32) {
    let cap = (2u64 << attempt.min(10)).min(STORE_MAX_BACKOFF_MS);
    let micros = rand::thread_rng().gen_range(0..=cap * 1000);
    std::thread::sleep(Duration::from_micros(micros));
}

fn new_cmk(state: &mut State, appid: &str, description: &str) -> Result<String> {
    let mut material = [0u8; 32];
    fill_random(&mut material)?;
    let cmk = Cmk {
        description: description.to_owned(),
        enabled: true,
        created_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        material,
    };
    material.zeroize();
    let id = new_key_id()?;
    let account = state.accounts.entry(appid.to_owned()).or_default();
    account.keys.insert(id.clone(), cmk);
    Ok(id)
}

/// A key id in the UUID form Tencent KMS uses.
fn new_key_id() -> Result<String> {
    let mut b = [0u8; 16];
    fill_random(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

fn describe(state: &State, appid: &str, key_id: &str) -> Result<KmsKey> {
    let account = state.accounts.get(appid);
    let cmk = account
        .and_then(|a| a.keys.get(key_id))
        .ok_or_else(|| not_found(key_id))?;
    Ok(KmsKey {
        key_id: key_id.to_owned(),
        description: cmk.description.clone(),
        enabled: cmk.enabled,
        created_unix: cmk.created_unix,
        is_default: account.and_then(|a| a.default_key.as_deref()) == Some(key_id),
    })
}

fn cmk_mut<'s>(state: &'s mut State, appid: &str, key_id: &str) -> Result<&'s mut Cmk> {
    state
        .accounts
        .get_mut(appid)
        .and_then(|a| a.keys.get_mut(key_id))
        .ok_or_else(|| not_found(key_id))
}

/// KMS-KEY-ID: the CMK must exist in this account and be enabled.
fn usable_kek(state: &State, appid: &str, key_id: &str) -> Result<Kek> {
    let cmk = state
        .accounts
        .get(appid)
        .and_then(|a| a.keys.get(key_id))
        .ok_or_else(|| not_found(key_id))?;
    if !cmk.enabled {
        return Err(Error::KmsKeyDisabled {
            key_id: key_id.to_owned(),
        });
    }
    Ok(Kek::from_bytes(cmk.material))
}

fn not_found(key_id: &str) -> Error {
    Error::KmsKeyNotFound {
        key_id: key_id.to_owned(),
    }
}

/// KMS-CONTEXT: object, CMK id, then the number of pairs and each key and value
/// length-prefixed, in the map's sorted order.
fn aad(object: &ObjectRef<'_>, key_id: &str, context: &BTreeMap<String, String>) -> Vec<u8> {
    let mut c = binding(object, SseMode::Kms);
    c.field(key_id.as_bytes()).count(context.len());
    for (k, v) in context {
        c.field(k.as_bytes()).field(v.as_bytes());
    }
    c.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJ: ObjectRef<'static> = ObjectRef {
        bucket: "b-1250000000",
        key: "k",
        version: "1",
    };
    const APPID: &str = "1250000000";

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn default_key_is_created_once_and_used_when_none_is_named() {
        let kms = Kms::in_memory();
        assert!(kms.list_keys(APPID).unwrap().is_empty());
        let d = kms.default_key(APPID).unwrap();
        assert!(d.is_default && d.enabled);
        assert_eq!(kms.default_key(APPID).unwrap().key_id, d.key_id);
        let (_, id, _) = kms.generate_data_key(APPID, None, &ctx(&[]), &OBJ).unwrap();
        assert_eq!(id, d.key_id);
        assert_eq!(kms.list_keys(APPID).unwrap().len(), 1);
    }

    #[test]
    fn context_is_bound_canonically() {
        let kms = Kms::in_memory();
        let (key, id, sealed) = kms
            .generate_data_key(APPID, None, &ctx(&[("ab", "c")]), &OBJ)
            .unwrap();
        let opened = kms
            .unseal_data_key(APPID, &id, &ctx(&[("ab", "c")]), &OBJ, &sealed)
            .unwrap();
        assert_eq!(opened.as_bytes(), key.as_bytes());
        for wrong in [
            ctx(&[("a", "bc")]),
            ctx(&[]),
            ctx(&[("ab", "c"), ("x", "")]),
            ctx(&[("ab", "C")]),
        ] {
            assert!(matches!(
                kms.unseal_data_key(APPID, &id, &wrong, &OBJ, &sealed),
                Err(Error::Unseal)
            ));
        }
    }

    #[test]
    fn unknown_and_disabled_keys_are_distinct_errors() {
        let kms = Kms::in_memory();
        let k = kms.create_key(APPID, "mine").unwrap();
        assert!(!k.is_default);
        let none = ctx(&[]);
        let (_, _, sealed) = kms
            .generate_data_key(APPID, Some(&k.key_id), &none, &OBJ)
            .unwrap();
        assert!(matches!(
            kms.generate_data_key(APPID, Some("no-such-key"), &none, &OBJ),
            Err(Error::KmsKeyNotFound { .. })
        ));
        // Keys belong to one account.
        assert!(matches!(
            kms.generate_data_key("1250000001", Some(&k.key_id), &none, &OBJ),
            Err(Error::KmsKeyNotFound { .. })
        ));
        kms.disable_key(APPID, &k.key_id).unwrap();
        assert!(!kms.list_keys(APPID).unwrap()[0].enabled);
        assert!(matches!(
            kms.generate_data_key(APPID, Some(&k.key_id), &none, &OBJ),
            Err(Error::KmsKeyDisabled { .. })
        ));
        assert!(matches!(
            kms.unseal_data_key(APPID, &k.key_id, &none, &OBJ, &sealed),
            Err(Error::KmsKeyDisabled { .. })
        ));
        kms.enable_key(APPID, &k.key_id).unwrap();
        assert!(kms
            .unseal_data_key(APPID, &k.key_id, &none, &OBJ, &sealed)
            .is_ok());
        assert!(matches!(
            kms.disable_key(APPID, "no-such-key"),
            Err(Error::KmsKeyNotFound { .. })
        ));
    }

    /// Lost KMS keys: independent handles on one state file (the server and
    /// `cos-emulator kms create-key` processes) creating keys and default keys at once.
    /// Each read-modify-write runs under the file lock, so none is overwritten.
    #[test]
    fn racing_writers_lose_no_key() {
        const WRITERS: usize = 4;
        const EACH: usize = 25;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kms.json");
        let threads: Vec<_> = (0..WRITERS)
            .map(|w| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let kms = Kms::open(&path).unwrap();
                    let mut made = vec![kms.default_key(APPID).unwrap().key_id];
                    for i in 0..EACH {
                        made.push(kms.create_key(APPID, &format!("w{w} k{i}")).unwrap().key_id);
                    }
                    made
                })
            })
            .collect();
        let mut made = std::collections::BTreeSet::new();
        for t in threads {
            made.extend(t.join().unwrap());
        }
        let listed: std::collections::BTreeSet<String> = Kms::open(&path)
            .unwrap()
            .list_keys(APPID)
            .unwrap()
            .into_iter()
            .map(|k| k.key_id)
            .collect();
        // One default key shared by every writer, plus every key each one created.
        assert_eq!(made.len(), WRITERS * EACH + 1);
        assert_eq!(listed, made);
    }

    #[test]
    fn state_persists_and_other_writers_are_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kms.json");
        let server = Kms::open(&path).unwrap();
        let d = server.default_key(APPID).unwrap();
        // Another process (the `kms` command) creates and disables keys meanwhile.
        let cli = Kms::open(&path).unwrap();
        let k = cli.create_key(APPID, "from the command line").unwrap();
        cli.disable_key(APPID, &d.key_id).unwrap();
        // Sleep-free: the stamp includes the length, which changed.
        let keys = server.list_keys(APPID).unwrap();
        assert_eq!(keys.len(), 2);
        assert!(keys.iter().any(|x| x.key_id == k.key_id));
        assert!(matches!(
            server.generate_data_key(APPID, None, &ctx(&[]), &OBJ),
            Err(Error::KmsKeyDisabled { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn key_ids_look_like_uuids() {
        let id = new_key_id().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }

    /// Tests of the store-backed KMS, over an in-memory store with a real compare-and-swap.
    mod store {
        use std::collections::BTreeSet;
        use std::sync::{Arc, Barrier};

        use super::*;
        use crate::kms_state::testing::MemoryStore;

        fn kms_over(store: &Arc<MemoryStore>) -> Kms {
            Kms::with_store(Box::new(Arc::clone(store))).unwrap()
        }

        fn ids(kms: &Kms) -> BTreeSet<String> {
            kms.list_keys(APPID)
                .unwrap()
                .into_iter()
                .map(|k| k.key_id)
                .collect()
        }

        /// Two gateways over one store: what one creates or disables, the other sees at
        /// its next operation; reads do not write.
        #[test]
        fn instances_share_keys_and_their_state() {
            let store = Arc::new(MemoryStore::default());
            let a = kms_over(&store);
            let b = kms_over(&store);
            assert_eq!(store.writes(), 0, "opening writes nothing");
            let k = a.create_key(APPID, "made in a").unwrap();
            assert_eq!(b.list_keys(APPID).unwrap(), vec![k.clone()]);
            let none = ctx(&[]);
            let (key, _, sealed) = a
                .generate_data_key(APPID, Some(&k.key_id), &none, &OBJ)
                .unwrap();
            let opened = b
                .unseal_data_key(APPID, &k.key_id, &none, &OBJ, &sealed)
                .unwrap();
            assert_eq!(opened.as_bytes(), key.as_bytes());
            assert_eq!(store.writes(), 1, "sealing and unsealing write nothing");

            a.disable_key(APPID, &k.key_id).unwrap();
            assert!(matches!(
                b.unseal_data_key(APPID, &k.key_id, &none, &OBJ, &sealed),
                Err(Error::KmsKeyDisabled { .. })
            ));
            assert!(matches!(
                b.generate_data_key(APPID, Some(&k.key_id), &none, &OBJ),
                Err(Error::KmsKeyDisabled { .. })
            ));
            b.enable_key(APPID, &k.key_id).unwrap();
            assert!(a
                .unseal_data_key(APPID, &k.key_id, &none, &OBJ, &sealed)
                .is_ok());
            // A failed edit changes nothing, here or in the store.
            let writes = store.writes();
            assert!(matches!(
                a.disable_key(APPID, "no-such-key"),
                Err(Error::KmsKeyNotFound { .. })
            ));
            assert_eq!(store.writes(), writes);
            // A later instance starts from the stored state.
            assert_eq!(ids(&kms_over(&store)), BTreeSet::from([k.key_id]));
        }

        /// 8 threads over 4 instances of one store create 20 keys each at once: every
        /// compare-and-swap that lost is re-applied on the newer state, so all 160 keys
        /// are there. With a blind write in place of the compare-and-swap this fails.
        #[test]
        fn racing_writers_over_one_store_lose_no_key() {
            const INSTANCES: usize = 4;
            const THREADS: usize = 8;
            const EACH: usize = 20;
            let store = Arc::new(MemoryStore::default());
            let instances: Vec<_> = (0..INSTANCES).map(|_| Arc::new(kms_over(&store))).collect();
            let start = Arc::new(Barrier::new(THREADS));
            let threads: Vec<_> = (0..THREADS)
                .map(|t| {
                    let kms = Arc::clone(&instances[t % INSTANCES]);
                    let start = Arc::clone(&start);
                    std::thread::spawn(move || {
                        start.wait();
                        (0..EACH)
                            .map(|i| kms.create_key(APPID, &format!("t{t} k{i}")).unwrap().key_id)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut made = BTreeSet::new();
            for t in threads {
                made.extend(t.join().unwrap());
            }
            assert_eq!(made.len(), THREADS * EACH);
            for kms in &instances {
                assert_eq!(ids(kms), made);
            }
            assert_eq!(ids(&kms_over(&store)), made);
        }

        /// 8 gateways ask for the default key of each of 20 accounts at once: per account
        /// one is created, and every gateway uses that one.
        #[test]
        fn racing_default_key_is_created_once() {
            const THREADS: usize = 8;
            const ACCOUNTS: usize = 20;
            let account = |a: usize| format!("12500000{a:02}");
            let store = Arc::new(MemoryStore::default());
            let start = Arc::new(Barrier::new(THREADS));
            let threads: Vec<_> = (0..THREADS)
                .map(|_| {
                    let kms = kms_over(&store);
                    let start = Arc::clone(&start);
                    std::thread::spawn(move || {
                        start.wait();
                        (0..ACCOUNTS)
                            .map(|a| {
                                let (_, id, _) = kms
                                    .generate_data_key(&account(a), None, &ctx(&[]), &OBJ)
                                    .unwrap();
                                id
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let used: Vec<Vec<String>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            let kms = kms_over(&store);
            for (a, id) in used[0].iter().enumerate() {
                for other in &used[1..] {
                    assert_eq!(&other[a], id, "account {a}: two default keys used");
                }
                let keys = kms.list_keys(&account(a)).unwrap();
                assert_eq!(keys.len(), 1, "account {a}: {keys:?}");
                assert!(keys[0].is_default);
                assert_eq!(&keys[0].key_id, id);
            }
        }

        /// A store that lets `interlude` run (another gateway's change) just before this
        /// instance's first write, so that write loses its compare-and-swap.
        struct Interrupted {
            inner: Arc<MemoryStore>,
            interlude: Mutex<Option<Box<dyn FnOnce() + Send>>>,
        }

        impl KmsStateStore for Interrupted {
            fn read(&self) -> Result<Option<(Vec<u8>, StateVersion)>> {
                self.inner.read()
            }

            fn write_if(
                &self,
                bytes: &[u8],
                expected: Option<&StateVersion>,
            ) -> Result<Option<StateVersion>> {
                let interlude = self.interlude.lock().unwrap().take();
                if let Some(interlude) = interlude {
                    interlude();
                }
                self.inner.write_if(bytes, expected)
            }
        }

        fn interrupted_by(
            store: &Arc<MemoryStore>,
            other: impl FnOnce(&Kms) + Send + 'static,
        ) -> Kms {
            let for_other = Arc::clone(store);
            Kms::with_store(Box::new(Interrupted {
                inner: Arc::clone(store),
                interlude: Mutex::new(Some(Box::new(move || other(&kms_over(&for_other))))),
            }))
            .unwrap()
        }

        /// Deterministically: a change that loses the compare-and-swap is applied again
        /// on the newer state, keeping the other writer's change.
        #[test]
        fn a_lost_write_is_redone_on_the_newer_state() {
            let store = Arc::new(MemoryStore::default());
            let theirs = Arc::new(Mutex::new(String::new()));
            let slot = Arc::clone(&theirs);
            let kms = interrupted_by(&store, move |other| {
                *slot.lock().unwrap() = other.create_key(APPID, "theirs").unwrap().key_id;
            });
            let mine = kms.create_key(APPID, "mine").unwrap().key_id;
            let theirs = theirs.lock().unwrap().clone();
            assert_eq!(ids(&kms), BTreeSet::from([mine, theirs]));
            assert_eq!(store.writes(), 2);
        }

        /// Deterministically: a default key made by another gateway between this one's
        /// read and write is the one used; no second default key is made.
        #[test]
        fn a_default_key_made_meanwhile_is_adopted() {
            let store = Arc::new(MemoryStore::default());
            let theirs = Arc::new(Mutex::new(String::new()));
            let slot = Arc::clone(&theirs);
            let kms = interrupted_by(&store, move |other| {
                *slot.lock().unwrap() = other.default_key(APPID).unwrap().key_id;
            });
            let d = kms.default_key(APPID).unwrap();
            assert!(d.is_default);
            assert_eq!(d.key_id, *theirs.lock().unwrap());
            assert_eq!(ids(&kms), BTreeSet::from([d.key_id]));
        }

        /// Every write loses: a clear error after a bounded number of tries, not a hang,
        /// and nothing of the failed edit lingers in memory.
        #[test]
        fn endless_conflicts_give_a_clear_error() {
            struct AlwaysConflicts;
            impl KmsStateStore for AlwaysConflicts {
                fn read(&self) -> Result<Option<(Vec<u8>, StateVersion)>> {
                    Ok(None)
                }
                fn write_if(
                    &self,
                    _: &[u8],
                    _: Option<&StateVersion>,
                ) -> Result<Option<StateVersion>> {
                    Ok(None)
                }
            }
            let kms = Kms::with_store(Box::new(AlwaysConflicts)).unwrap();
            let started = std::time::Instant::now();
            let err = kms.create_key(APPID, "never").unwrap_err();
            assert!(
                matches!(err, Error::KeyStoreContended { attempts: 32 }),
                "{err:?}"
            );
            assert!(err.to_string().contains("32 attempts"), "{err}");
            assert!(started.elapsed() < std::time::Duration::from_secs(10));
            assert!(kms.list_keys(APPID).unwrap().is_empty());
            assert!(matches!(
                kms.default_key(APPID),
                Err(Error::KeyStoreContended { .. })
            ));
        }

        /// A damaged blob fails at start-up, and the error does not quote it (a parser's
        /// own message would: `invalid type: string "c2Vj…#"`).
        #[test]
        fn damaged_blob_fails_at_start_without_quoting_it() {
            let secret = "c2VjcmV0LWtleS1tYXRlcmlhbA#";
            let bad_material = format!(
                r#"{{"format":1,"accounts":{{"{APPID}":{{"default_key":null,"keys":{{"k":{{"description":"","enabled":true,"created_unix":0,"material":"{secret}"}}}}}}}}}}"#
            );
            let misplaced = format!(r#"{{"format":"{secret}","accounts":{{}}}}"#);
            for blob in [
                b"not json".to_vec(),
                b"{\"format\":1,".to_vec(),
                br#"{"format":2,"accounts":{}}"#.to_vec(),
                bad_material.into_bytes(),
                misplaced.into_bytes(),
            ] {
                let store = Arc::new(MemoryStore::holding(&blob));
                let err = Kms::with_store(Box::new(store)).err().unwrap();
                assert!(matches!(err, Error::KeyStore { .. }), "{err:?}");
                let message = err.to_string();
                assert!(!message.contains("c2Vj"), "{message}");
                assert!(!message.contains('#'), "{message}");
                // Nor what the parser would say of it ("Invalid symbol 35, offset 26").
                assert!(!message.contains("symbol"), "{message}");
            }
        }

        /// The store's state is the same JSON as the file's: a state file copied into a
        /// store (or back) is read as it is.
        #[test]
        fn store_blob_and_state_file_share_a_format() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("kms.json");
            let file = Kms::open(&path).unwrap();
            let d = file.default_key(APPID).unwrap();
            let store = Arc::new(MemoryStore::holding(&std::fs::read(&path).unwrap()));
            assert_eq!(kms_over(&store).list_keys(APPID).unwrap(), vec![d]);
        }
    }
}
