//! What the emulator can be told: [`EmulatorConfig`] (the library API, contracts.md) and the
//! YAML config file (`--config FILE`) that adds accounts, behaviour switches, a region table
//! and the restore delay on top of it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::regions::{Capabilities, RegionTable};

/// The development SecretId used when no credentials are given (contracts.md, "Defaults").
pub const DEV_SECRET_ID: &str = "AKIDCOSEMULATORDEVELOPMENT0000000000";
/// The development SecretKey paired with [`DEV_SECRET_ID`].
pub const DEV_SECRET_KEY: &str = "cos-emulator-development-secret-key";
/// The default account's appid.
pub const DEFAULT_APPID: &str = "1250000000";

/// One account: the credentials that sign its requests and the appid its buckets carry.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The SecretId (`q-ak`).
    pub secret_id: String,
    /// The SecretKey the signature is keyed with.
    pub secret_key: String,
    /// The appid: digits, the suffix of every bucket name the account owns.
    pub appid: String,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SecretKey is a secret: printed through the one redaction point.
        f.debug_struct("Account")
            .field("secret_id", &self.secret_id)
            .field(
                "secret_key",
                &crate::redact::Redacted::new(&self.secret_key),
            )
            .field("appid", &self.appid)
            .finish()
    }
}

impl Account {
    /// The documented development account.
    pub fn development() -> Self {
        Account {
            secret_id: DEV_SECRET_ID.into(),
            secret_key: DEV_SECRET_KEY.into(),
            appid: DEFAULT_APPID.into(),
        }
    }
}

/// Everything `cos-emulator serve` can be told; `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where buckets, objects, the TLS pair and key material live. Default `.cos-emulator`.
    pub data_dir: PathBuf,
    /// Plain-HTTP listener; port 0 picks a free port. Default `127.0.0.1:9000`.
    pub http: Option<SocketAddr>,
    /// HTTPS listener; port 0 picks a free port. Default `127.0.0.1:9443`.
    pub https: Option<SocketAddr>,
    /// Accounts whose signatures are accepted. Default: the development account.
    pub accounts: Vec<Account>,
    /// With `tls_key`: serve this PEM certificate chain instead of the generated one.
    pub tls_cert: Option<PathBuf>,
    /// With `tls_cert`: the PEM private key of that certificate.
    pub tls_key: Option<PathBuf>,
    /// Rule id → behaviour name for the switchable rules (contracts.md).
    pub behaviour: BTreeMap<String, String>,
    /// Archive restore stays "ongoing" this long.
    pub restore_delay: Duration,
    /// The SSE-COS root key file; default `DATA/keys/master.json`.
    pub master_key_file: Option<PathBuf>,
    /// Region capability table; `None` uses the embedded `data/regions.yaml`.
    pub regions: Option<RegionTable>,
    /// Region of buckets created path-style (the Host names no region).
    pub default_region: String,
    /// How long shutdown waits for in-flight requests before dropping them.
    pub shutdown_grace: Duration,
    /// Per-connection timeouts and the connection limit of each listener.
    pub limits: ConnectionLimits,
    /// Test-only lying switches (mutation harness); all off by default, never read from
    /// the config file or the command line.
    pub lies: crate::introspect::Lies,
    /// Keep buckets, objects, uploads, restores and KMS keys in an object store instead of
    /// `data_dir` (`--store s3://BUCKET/PREFIX`); the data directory then holds only the
    /// TLS pair. Several gateways may share one. Default: the local data directory.
    pub store: Option<crate::store::remote::StoreUrl>,
    /// Where the introspection scan looks for plaintext and secrets at rest: default the
    /// data directory. A gateway's tests point it at the backend's own files (SeaweedFS's
    /// volume directory) when the backend runs on this machine. Not on the command line.
    pub at_rest_dir: Option<PathBuf>,
    /// Test seam: the file-system layer the local store goes through (the power-loss and
    /// disk-fault tests inject faults there). `None`: the real file system. Not on the
    /// command line.
    #[doc(hidden)]
    pub local_fs: Option<std::sync::Arc<dyn crate::store::fs::Fs>>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            data_dir: PathBuf::from(".cos-emulator"),
            http: Some(SocketAddr::from(([127, 0, 0, 1], 9000))),
            https: Some(SocketAddr::from(([127, 0, 0, 1], 9443))),
            accounts: vec![Account::development()],
            tls_cert: None,
            tls_key: None,
            behaviour: BTreeMap::new(),
            restore_delay: Duration::from_secs(2),
            master_key_file: None,
            regions: None,
            default_region: "ap-guangzhou".into(),
            shutdown_grace: Duration::from_secs(10),
            limits: ConnectionLimits::default(),
            lies: crate::introspect::Lies::default(),
            store: None,
            at_rest_dir: None,
            local_fs: None,
        }
    }
}

/// The YAML config file (`--config FILE`). Every field is optional.
///
/// ```yaml
/// accounts:
///   - {secret_id: AKIDother, secret_key: other-secret, appid: "1250000001"}
/// behaviour:
///   REGION-SSE: all-regions
/// regions:
///   ap-beijing: {sse_kms: true, sse_cos_c: true}
/// restore_delay_ms: 0
/// default_region: ap-beijing
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Accounts added to those given on the command line.
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// Behaviour switches (rule id → behaviour name).
    #[serde(default)]
    pub behaviour: BTreeMap<String, String>,
    /// A region table replacing the embedded one.
    pub regions: Option<BTreeMap<String, Capabilities>>,
    /// Archive restore delay in milliseconds.
    pub restore_delay_ms: Option<u64>,
    /// Region of path-style bucket creation.
    pub default_region: Option<String>,
}

/// A config file that cannot be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML is malformed or has unknown fields (line and column in the message).
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's error, with its location.
        source: serde_norway::Error,
    },
}

impl FileConfig {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        serde_norway::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Applies the file on top of `config` (accounts are added, the rest replaces).
    pub fn apply(self, config: &mut EmulatorConfig) {
        config.accounts.extend(self.accounts);
        config.behaviour.extend(self.behaviour);
        if let Some(regions) = self.regions {
            config.regions = Some(RegionTable { regions });
        }
        if let Some(ms) = self.restore_delay_ms {
            config.restore_delay = Duration::from_millis(ms);
        }
        if let Some(r) = self.default_region {
            config.default_region = r;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_config_applies() {
        let f: FileConfig = serde_norway::from_str(
            "accounts:\n  - {secret_id: a, secret_key: b, appid: \"1\"}\nbehaviour: {REGION-SSE: all-regions}\nregions: {x-1: {sse_kms: true, sse_cos_c: false}}\nrestore_delay_ms: 0\n",
        )
        .unwrap();
        let mut c = EmulatorConfig::default();
        f.apply(&mut c);
        assert_eq!(c.accounts.len(), 2);
        assert_eq!(c.behaviour["REGION-SSE"], "all-regions");
        assert!(c.regions.unwrap().is_known("x-1"));
        assert_eq!(c.restore_delay, Duration::ZERO);
    }

    #[test]
    fn unknown_field_is_an_error_with_location() {
        let e = serde_norway::from_str::<FileConfig>("acounts: []\n").unwrap_err();
        assert!(e.to_string().contains("acounts"), "{e}");
        assert!(e.location().is_some());
    }
}

/// Bounds on what one client connection may hold (`cos-emulator serve --help`). Each
/// listener has its own limits, with these defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a client has to send a whole request head, counted from the connection's
    /// start or from the end of the previous response: also the bound on an idle HTTP/1.1
    /// keep-alive connection. A client that sent half a header line is disconnected when
    /// it runs out. Default 10 s.
    pub header_read_timeout: Duration,
    /// How long a TLS handshake may take before the connection is closed. Default 10 s.
    pub tls_handshake_timeout: Duration,
    /// How long the server waits for the next piece of a request body it is reading before
    /// it gives up on the request (the client stalled mid-body), and for the client to take
    /// the next bytes of a response before it closes the connection (the client stopped
    /// reading). Default 30 s.
    pub body_progress_timeout: Duration,
    /// How long an HTTP/2 connection may stay open with no request in flight (frames such
    /// as PINGs do not count); an idle HTTP/1.1 connection is bounded by
    /// `header_read_timeout`. Default 60 s.
    pub idle_timeout: Duration,
    /// Connections a listener serves at once. Beyond it the listener stops accepting:
    /// further connections wait in the kernel's listen queue (and are refused by the
    /// kernel once that is full) until a connection ends; the timeouts above make sure
    /// a stalled one does. Default 512.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            body_progress_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}
