//! Listeners and lifecycle: [`start`] binds the HTTP and HTTPS listeners and returns an
//! [`Emulator`] handle; [`Emulator::shutdown`] stops accepting, lets in-flight requests
//! finish (bounded by `shutdown_grace`) and returns.
//!
//! A hostile or broken client holds at most one of [`crate::config::ConnectionLimits::max_connections`]
//! slots of a listener, and only for as long as it makes progress: the request head must
//! arrive within `header_read_timeout`, a TLS handshake finish within
//! `tls_handshake_timeout`, each piece of a request body within `body_progress_timeout`
//! (`service.rs`), each piece of a response be taken by the client within the same, and an
//! HTTP/2 connection with no request in flight is closed after `idle_timeout`
//! (`connection.rs`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use cos_emulator_crypto::Keys;

use crate::behaviour::{BehaviourError, Behaviours};
use crate::config::{ConnectionLimits, EmulatorConfig};
use crate::connection::{Guarded, InFlight, Tracked};
use crate::error::Error;
use crate::ops::Context;
use crate::request::Scheme;
use crate::service;
use crate::store::authenticated::AuthenticatedStore;
use crate::store::fs::StdFs;
use crate::store::record::RecordKey;
use crate::store::remote::RemoteStore;
use crate::store::{LocalStore, StoreError};
use crate::tls::{self, TlsError};

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The data directory could not be opened.
    #[error("data directory {path}: {source}")]
    Store {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: StoreError,
    },
    /// The object store (`--store`) could not be reached or configured.
    #[error("--store {url}: {reason}")]
    Backend {
        /// The store URL.
        url: String,
        /// Why (the backend's own message).
        reason: String,
    },
    /// The certificate could not be generated or loaded.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A behaviour switch names an unknown rule or behaviour.
    #[error(transparent)]
    Behaviour(#[from] BehaviourError),
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The response header spelling map could not be built.
    #[error(transparent)]
    HeaderCase(#[from] crate::header_case::HeaderCaseError),
    /// The master key file or the KMS state could not be opened.
    #[error("key material: {0}")]
    Keys(#[from] cos_emulator_crypto::Error),
}

/// A running emulator. Dropping it without [`Emulator::shutdown`] stops the listeners
/// without waiting.
pub struct Emulator {
    http_addr: Option<SocketAddr>,
    https_addr: Option<SocketAddr>,
    cert_path: PathBuf,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    keys: Arc<Keys>,
    introspector: crate::introspect::Introspector,
    /// Settled after the listeners close ([`crate::store::Store::settle`]).
    store: Arc<dyn crate::store::Store>,
}

fn check_config(config: &EmulatorConfig) -> Result<(), StartError> {
    if config.accounts.is_empty() {
        return Err(StartError::Config("at least one account is needed".into()));
    }
    for a in &config.accounts {
        if a.appid.is_empty() || !a.appid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(StartError::Config(format!(
                "appid {:?} is not digits",
                a.appid
            )));
        }
        if a.secret_id.is_empty() || a.secret_key.is_empty() {
            return Err(StartError::Config("empty SecretId or SecretKey".into()));
        }
    }
    if config.store.is_some() && config.master_key_file.is_none() {
        // A master key made in each gateway's data directory would leave every gateway
        // unable to read the others' SSE-COS objects.
        return Err(StartError::Config(
            "--store needs --master-key-file: the gateways over one store share the SSE-COS \
             master key through that file (it is never written to the store)"
                .into(),
        ));
    }
    let l = &config.limits;
    if l.max_connections == 0
        || [
            l.header_read_timeout,
            l.tls_handshake_timeout,
            l.body_progress_timeout,
        ]
        .contains(&Duration::ZERO)
    {
        return Err(StartError::Config(
            "connection limits and timeouts must be greater than zero".into(),
        ));
    }
    if config.tls_cert.is_some() != config.tls_key.is_some() {
        return Err(StartError::Config(
            "--tls-cert and --tls-key go together".into(),
        ));
    }
    Ok(())
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok((listener, local))
}

/// Starts the emulator described by `config`: opens the store, prepares TLS, binds the
/// listeners (port 0 picks a free port) and serves until [`Emulator::shutdown`].
pub async fn start(config: EmulatorConfig) -> Result<Emulator, StartError> {
    check_config(&config)?;
    let behaviours = Behaviours::from_map(&config.behaviour)?;
    let regions = config.regions.clone().unwrap_or_default();
    if !regions.is_known(&config.default_region) {
        return Err(StartError::Config(format!(
            "default region {} is not in the region table",
            config.default_region
        )));
    }
    let (store, keys): (Arc<dyn crate::store::Store>, Keys) = match &config.store {
        None => {
            let fs = config.local_fs.clone().unwrap_or_else(|| Arc::new(StdFs));
            let store = LocalStore::open_with(&config.data_dir, fs).map_err(|source| {
                StartError::Store {
                    path: config.data_dir.clone(),
                    source,
                }
            })?;
            (Arc::new(store), open_keys(&config)?)
        }
        Some(url) => {
            let store = RemoteStore::open(url)
                .await
                .map_err(|e| StartError::Backend {
                    url: url.url.clone(),
                    reason: e.to_string(),
                })?;
            let keys = open_gateway_keys(&config, &store)?;
            (Arc::new(store), keys)
        }
    };
    let keys = Arc::new(keys);
    // Record authentication: object records are sealed and verified around either backend.
    let store: Arc<dyn crate::store::Store> = Arc::new(AuthenticatedStore::new(
        store,
        RecordKey::new(keys.record_mac_key()),
    ));
    let given = config.tls_cert.as_deref().zip(config.tls_key.as_deref());
    let tls = tls::load(&config.data_dir, given, &regions)?;
    let at_rest = config
        .at_rest_dir
        .clone()
        .unwrap_or_else(|| config.data_dir.clone());
    let introspector = crate::introspect::Introspector::new(store.clone(), keys.clone(), at_rest);
    let ctx = Arc::new(Context {
        store: store.clone(),
        accounts: config.accounts.clone(),
        regions,
        behaviours,
        default_region: config.default_region.clone(),
        restore_delay: config.restore_delay,
        keys: keys.clone(),
        lies: config.lies,
        data_dir: config.data_dir.clone(),
    });
    let spelling = Arc::new(crate::header_case::cos_spelling().await?);
    let (stop, _) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut http_addr = None;
    let mut https_addr = None;
    if let Some(addr) = config.http {
        let (listener, local) = bind(addr).await?;
        http_addr = Some(local);
        tasks.push(tokio::spawn(accept_loop(
            listener,
            None,
            ctx.clone(),
            spelling.clone(),
            stop.subscribe(),
            config.shutdown_grace,
            config.limits,
        )));
    }
    if let Some(addr) = config.https {
        let (listener, local) = bind(addr).await?;
        https_addr = Some(local);
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.config.clone());
        tasks.push(tokio::spawn(accept_loop(
            listener,
            Some(acceptor),
            ctx.clone(),
            spelling.clone(),
            stop.subscribe(),
            config.shutdown_grace,
            config.limits,
        )));
    }
    Ok(Emulator {
        http_addr,
        https_addr,
        cert_path: tls.cert_path,
        stop,
        tasks,
        keys,
        introspector,
        store,
    })
}

/// Where the key material of `config` lives: (master key file, KMS state file). The
/// master key file is `--master-key-file` or `DATA/keys/master.json`; the KMS state is
/// `DATA/keys/kms.json`. Both are written with mode 0600 by `cos-emulator-crypto`.
pub fn key_files(config: &EmulatorConfig) -> (PathBuf, PathBuf) {
    let dir = config.data_dir.join("keys");
    let master = config
        .master_key_file
        .clone()
        .unwrap_or_else(|| dir.join("master.json"));
    (master, dir.join("kms.json"))
}

/// Opens (creating on first start) the SSE-COS master keyring and the emulated KMS.
pub fn open_keys(config: &EmulatorConfig) -> Result<Keys, StartError> {
    let (master, kms) = key_files(config);
    for dir in [master.parent(), kms.parent()].into_iter().flatten() {
        create_private_dir(dir).map_err(|source| StartError::Store {
            path: dir.to_owned(),
            source: StoreError::Io(source),
        })?;
    }
    Ok(Keys::open(&master, &kms)?)
}

/// A gateway's keys: the master keyring from `--master-key-file` (shared by the gateways,
/// never written to the store; created when absent) and the KMS state in the store, sealed
/// under it.
fn open_gateway_keys(config: &EmulatorConfig, store: &RemoteStore) -> Result<Keys, StartError> {
    let master = config
        .master_key_file
        .as_deref()
        .ok_or_else(|| StartError::Config("--store needs --master-key-file".into()))?;
    if let Some(dir) = master.parent() {
        create_private_dir(dir).map_err(|source| StartError::Store {
            path: dir.to_owned(),
            source: StoreError::Io(source),
        })?;
    }
    // Create the keyring first: the KMS state is sealed under it.
    drop(cos_emulator_crypto::MasterKeyring::load_or_create(master)?);
    Ok(Keys::with_kms(master, store.kms(master)?)?)
}

/// Creates a directory readable by its owner only (key material lives there).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Accepts connections until told to stop, then waits (at most `grace`) for the open ones.
async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    ctx: Arc<Context>,
    spelling: Arc<http::Extensions>,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
    limits: ConnectionLimits,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Room above the emulator's own header limits, so a request just over them still gets
    // a COS error (request::check_header_limits); far over them, hyper answers 431 and
    // closes the connection. hyper enforces the header timer only with a timer set.
    builder
        .http1()
        .max_headers(crate::request::TRANSPORT_MAX_HEADERS)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let scheme = if tls.is_some() {
        Scheme::Https
    } else {
        Scheme::Http
    };
    loop {
        // A free slot first: at the limit, new connections wait in the listen queue.
        let slot = tokio::select! {
            _ = stop.changed() => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let ctx = ctx.clone();
        let spelling = spelling.clone();
        let tls = tls.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // Held for the connection's life: dropping it frees the slot.
            let _slot = slot;
            let in_flight = Arc::new(InFlight::default());
            let counted = in_flight.clone();
            let service = hyper::service::service_fn(move |req| {
                let guard = counted.enter();
                let answer = service::respond(ctx.clone(), scheme, spelling.clone(), limits, req);
                async move {
                    answer
                        .await
                        .map(|response| response.map(|body| Tracked::new(body, guard)))
                }
            });
            let result = match tls {
                None => {
                    let io = Guarded::new(stream, &limits, in_flight);
                    let conn = builder.serve_connection(TokioIo::new(io), service);
                    watcher.watch(conn).await
                }
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(stream));
                    match handshake.await {
                        Ok(Ok(s)) => {
                            let io = Guarded::new(s, &limits, in_flight);
                            let conn = builder.serve_connection(TokioIo::new(io), service);
                            watcher.watch(conn).await
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within {grace:?}; dropping them");
    }
}

impl Emulator {
    /// The bound HTTP address, if HTTP is enabled.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// The bound HTTPS address, if HTTPS is enabled.
    pub fn https_addr(&self) -> Option<SocketAddr> {
        self.https_addr
    }

    /// The PEM certificate clients should trust.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// Creates a customer master key in the emulated KMS for `appid` and returns its id
    /// (KMS-KEY-ID: requests may then name it in
    /// `x-cos-server-side-encryption-cos-kms-key-id`).
    pub fn create_kms_key(&self, appid: &str, description: &str) -> Result<String, Error> {
        self.keys
            .kms()
            .create_key(appid, description)
            .map(|k| k.key_id)
            .map_err(|e| crate::sse::crypto_error::refusal(&e))
    }

    /// Disables a customer master key: uploads naming it are refused and objects sealed
    /// under it no longer open (KMS-KEY-ID, 400 `KmsKeyDisabled`). An unknown key id is
    /// `KmsKeyNotExist`.
    pub fn disable_kms_key(&self, appid: &str, key_id: &str) -> Result<(), Error> {
        self.keys
            .kms()
            .disable_key(appid, key_id)
            .map_err(|e| crate::sse::crypto_error::refusal(&e))
    }

    /// What this emulator stored (the suite's `introspect` capability; library only).
    pub fn introspector(&self) -> &crate::introspect::Introspector {
        &self.introspector
    }

    /// The key hierarchy (master keys and KMS) this emulator uses.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Stops accepting, lets in-flight requests finish (bounded), and returns when the
    /// listeners are closed and the store has done what it does after answering (a
    /// gateway's removals of replaced bodies, each bounded by the backend timeout).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.settle()).await;
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("http_addr", &self.http_addr)
            .field("https_addr", &self.https_addr)
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
