//! The `cos-emulator` command line: `serve` runs the emulator (built on the library's
//! [`cos_emulator::start`]); `rotate-master-key` and `kms create-key|list-keys|disable-key`
//! manage the key material in the data directory; `gc` sweeps a gateway store. Exit codes:
//! 0 on success (and after a clean shutdown), 2 on bad arguments or configuration, 1 on a
//! runtime failure.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand};
use cos_emulator::config::{FileConfig, DEFAULT_APPID, DEV_SECRET_ID, DEV_SECRET_KEY};
use cos_emulator::{Account, EmulatorConfig};

/// A reference emulator of Tencent COS with server-side encryption.
#[derive(Debug, Parser)]
#[command(name = "cos-emulator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the COS XML API over HTTP and HTTPS until SIGINT/SIGTERM.
    Serve(Box<Serve>),
    /// Add a new SSE-COS master key version: new objects use it, old ones stay readable.
    /// A running emulator on the same data dir uses it for the next SSE-COS object.
    RotateMasterKey(KeyStore),
    /// Remove what no record names from a gateway store (--store): bodies of replaced,
    /// deleted or failed writes, leftovers of finished uploads, stale claims. Safe while
    /// gateways serve the store: only what is older than --grace goes. Gateways also
    /// sweep in the background (--store-option sweep_interval=1h|off, sweep_grace=1h).
    /// The local store needs none: it removes what no record names at start-up.
    Gc(Gc),
    /// Manage the emulated KMS (customer master keys per account).
    Kms {
        #[command(subcommand)]
        command: KmsCommand,
    },
}

/// Where the key material lives.
#[derive(Debug, Args)]
struct KeyStore {
    /// Data directory of the emulator.
    #[arg(long = "data", value_name = "DIR", default_value = ".cos-emulator")]
    data: PathBuf,
    /// SSE-COS root key file (default DATA/keys/master.json).
    #[arg(long, value_name = "FILE")]
    master_key_file: Option<PathBuf>,
}

impl KeyStore {
    fn open(&self) -> anyhow::Result<cos_emulator_crypto::Keys> {
        let config = EmulatorConfig {
            data_dir: self.data.clone(),
            master_key_file: self.master_key_file.clone(),
            ..EmulatorConfig::default()
        };
        Ok(cos_emulator::server::open_keys(&config)?)
    }
}

#[derive(Debug, Subcommand)]
enum KmsCommand {
    /// Create a CMK for an account; prints its key id.
    CreateKey {
        #[command(flatten)]
        store: KeyStore,
        /// The account's appid.
        #[arg(long, default_value = DEFAULT_APPID)]
        appid: String,
        /// Free text stored with the key.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List an account's CMKs: key id, state, default flag, description.
    ListKeys {
        #[command(flatten)]
        store: KeyStore,
        /// The account's appid.
        #[arg(long, default_value = DEFAULT_APPID)]
        appid: String,
    },
    /// Disable a CMK: uploads naming it are refused and its objects no longer open.
    DisableKey {
        #[command(flatten)]
        store: KeyStore,
        /// The account's appid.
        #[arg(long, default_value = DEFAULT_APPID)]
        appid: String,
        /// The key id.
        key_id: String,
    },
}

fn kms(command: KmsCommand) -> anyhow::Result<()> {
    match command {
        KmsCommand::CreateKey {
            store,
            appid,
            description,
        } => {
            let key = store.open()?.kms().create_key(&appid, &description)?;
            println!("{}", key.key_id);
        }
        KmsCommand::ListKeys { store, appid } => {
            for k in store.open()?.kms().list_keys(&appid)? {
                let state = if k.enabled { "enabled" } else { "disabled" };
                let default = if k.is_default { "default" } else { "-" };
                println!("{}\t{state}\t{default}\t{}", k.key_id, k.description);
            }
        }
        KmsCommand::DisableKey {
            store,
            appid,
            key_id,
        } => {
            store.open()?.kms().disable_key(&appid, &key_id)?;
            println!("disabled {key_id}");
        }
    }
    Ok(())
}

/// `cos-emulator gc`: one sweep of a gateway store.
#[derive(Debug, Args)]
struct Gc {
    /// The gateway store: s3://BUCKET[/PREFIX], as given to `serve --store`.
    #[arg(long, value_name = "URL", env = "COS_EMULATOR_STORE")]
    store: String,
    /// An object_store S3 option, KEY=VALUE (repeatable), as for `serve`.
    #[arg(long = "store-option", value_name = "KEY=VALUE")]
    store_options: Vec<String>,
    /// Only what is older than this is removed: longer than any write takes from its
    /// body to its record (a few bounded backend requests).
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    grace: String,
    /// Count what would be removed; remove nothing.
    #[arg(long)]
    dry_run: bool,
}

fn store_options(given: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    given
        .iter()
        .map(|o| match o.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("--store-option {o:?}: expected KEY=VALUE"),
        })
        .collect()
}

async fn gc(args: Gc) -> anyhow::Result<()> {
    use cos_emulator::store::remote::{backend::parse_duration, RemoteStore, StoreUrl};
    let Some(grace) = parse_duration(&args.grace) else {
        bail!(
            "--grace {:?}: expected a duration such as 1h or 90s",
            args.grace
        );
    };
    let mut options = store_options(&args.store_options)?;
    // This process sweeps once, now.
    options.push(("sweep_interval".into(), "off".into()));
    let url = StoreUrl {
        url: args.store,
        options,
    };
    let store = RemoteStore::open(&url).await?;
    let report = tokio::task::spawn_blocking(move || store.sweep(grace, args.dry_run))
        .await
        .context("the sweep did not finish")??;
    let done = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    println!("{done}: {report}");
    Ok(())
}

/// A listen address, or `off` to disable the listener.
#[derive(Debug, Clone, Copy)]
struct Listen(Option<SocketAddr>);

impl std::str::FromStr for Listen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(Listen(None));
        }
        s.parse::<SocketAddr>()
            .map(|a| Listen(Some(a)))
            .map_err(|e| format!("{s:?} is not HOST:PORT ({e}); use 'off' to disable"))
    }
}

#[derive(Debug, Args)]
struct Serve {
    /// Data directory (buckets, objects, TLS pair, key material).
    #[arg(long = "data", value_name = "DIR", default_value = ".cos-emulator")]
    data: PathBuf,
    /// Plain-HTTP listen address (port 0 picks a free port; `off` disables).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9000")]
    http: Listen,
    /// HTTPS listen address (port 0 picks a free port; `off` disables).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9443")]
    https: Listen,
    /// SecretId of the main account (else $COS_SECRET_ID, else the development pair).
    #[arg(long, value_name = "ID", env = "COS_SECRET_ID", hide_env_values = true)]
    secret_id: Option<String>,
    /// SecretKey of the main account (else $COS_SECRET_KEY, else the development pair).
    #[arg(
        long,
        value_name = "KEY",
        env = "COS_SECRET_KEY",
        hide_env_values = true
    )]
    secret_key: Option<String>,
    /// Appid of the main account.
    #[arg(long, value_name = "N", default_value = DEFAULT_APPID)]
    appid: String,
    /// YAML config file: more accounts, behaviour switches, region table, restore delay.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve this PEM certificate chain instead of the generated one (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// SSE-COS root key file (default DATA/keys/master.json). Required with --store:
    /// every gateway over one store reads the same file.
    #[arg(long, value_name = "FILE")]
    master_key_file: Option<PathBuf>,
    /// Keep buckets, objects, uploads and KMS keys in an object store instead of DATA:
    /// s3://BUCKET[/PREFIX]. Endpoint, region and credentials come from the AWS_*
    /// variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
    /// AWS_ALLOW_HTTP) or --store-option. Several gateways may serve one store.
    #[arg(long, value_name = "URL", env = "COS_EMULATOR_STORE")]
    store: Option<String>,
    /// An object_store S3 option for --store, KEY=VALUE (repeatable): endpoint,
    /// access_key_id, secret_access_key, region, allow_http, ...
    #[arg(long = "store-option", value_name = "KEY=VALUE", requires = "store")]
    store_options: Vec<String>,
    /// Seconds a client has to send a whole request head, from the connection's start or
    /// the end of the previous response (so also the idle keep-alive bound); a client
    /// that sent half a header line is then disconnected.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    header_read_timeout: u64,
    /// Seconds a TLS handshake may take before the connection is closed.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    tls_handshake_timeout: u64,
    /// Seconds the server waits for the next bytes of a request body it is reading (a
    /// client stalled mid-upload is then refused and nothing is written), or for the
    /// client to take the next bytes of a response (then the connection is closed).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    body_progress_timeout: u64,
    /// Seconds an HTTP/2 connection may stay open with no request in flight (PINGs and
    /// other frames do not count); idle HTTP/1.1 connections are bounded by
    /// --header-read-timeout.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    idle_timeout: u64,
    /// Connections each listener serves at once; further connections wait in the
    /// kernel's listen queue until one ends (refused by the kernel when that is full).
    #[arg(long, value_name = "N", default_value_t = 512)]
    max_connections: usize,
    #[command(flatten)]
    limits: BackendLimits,
}

/// How long a gateway waits on its store (`--store`): every backend request is bounded,
/// so a hung backend fails a request after about timeout × (1 + retries), never later
/// than retry budget + timeout.
#[derive(Debug, Args)]
struct BackendLimits {
    /// One backend request, whole, e.g. 10s or 500ms [default: 10s].
    #[arg(long, value_name = "DURATION", requires = "store")]
    store_timeout: Option<String>,
    /// Connecting to the backend [default: 3s].
    #[arg(long, value_name = "DURATION", requires = "store")]
    store_connect_timeout: Option<String>,
    /// Retries of a failed idempotent backend request; conditional record writes are
    /// never retried blindly [default: 2].
    #[arg(long, value_name = "N", requires = "store")]
    store_retries: Option<usize>,
    /// No retry starts later than this after a request's first attempt [default: 20s].
    #[arg(long, value_name = "DURATION", requires = "store")]
    store_retry_budget: Option<String>,
    /// Bytes of an object fetched by one ranged backend read: a GET is a sequence of
    /// such reads [default: 4194304].
    #[arg(long, value_name = "BYTES", requires = "store")]
    store_read_window: Option<u64>,
}

impl BackendLimits {
    /// The limits given, as the store options they are (`backend::Limits`).
    fn options(&self) -> Vec<(String, String)> {
        [
            ("timeout", self.store_timeout.clone()),
            ("connect_timeout", self.store_connect_timeout.clone()),
            ("retries", self.store_retries.map(|n| n.to_string())),
            ("retry_budget", self.store_retry_budget.clone()),
            ("read_window", self.store_read_window.map(|n| n.to_string())),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect()
    }
}

impl Serve {
    fn store(&self) -> anyhow::Result<Option<cos_emulator::store::remote::StoreUrl>> {
        let Some(url) = &self.store else {
            return Ok(None);
        };
        let mut options = store_options(&self.store_options)?;
        options.extend(self.limits.options());
        Ok(Some(cos_emulator::store::remote::StoreUrl {
            url: url.clone(),
            options,
        }))
    }

    fn account(&self) -> anyhow::Result<Account> {
        let (id, key) = match (&self.secret_id, &self.secret_key) {
            (Some(id), Some(key)) => (id.clone(), key.clone()),
            (None, None) => {
                eprintln!(
                    "warning: no credentials given (--secret-id/--secret-key or COS_SECRET_ID/COS_SECRET_KEY); \
                     using the development pair SecretId={DEV_SECRET_ID} SecretKey={DEV_SECRET_KEY}"
                );
                (DEV_SECRET_ID.to_string(), DEV_SECRET_KEY.to_string())
            }
            _ => bail!("give both the SecretId and the SecretKey, or neither"),
        };
        Ok(Account {
            secret_id: id,
            secret_key: key,
            appid: self.appid.clone(),
        })
    }

    fn config(&self) -> anyhow::Result<EmulatorConfig> {
        let mut config = EmulatorConfig {
            data_dir: self.data.clone(),
            http: self.http.0,
            https: self.https.0,
            accounts: vec![self.account()?],
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            master_key_file: self.master_key_file.clone(),
            store: self.store()?,
            limits: cos_emulator::ConnectionLimits {
                header_read_timeout: Duration::from_secs(self.header_read_timeout),
                tls_handshake_timeout: Duration::from_secs(self.tls_handshake_timeout),
                body_progress_timeout: Duration::from_secs(self.body_progress_timeout),
                idle_timeout: Duration::from_secs(self.idle_timeout),
                max_connections: self.max_connections,
            },
            ..EmulatorConfig::default()
        };
        if let Some(path) = &self.config {
            FileConfig::load(path)?.apply(&mut config);
        }
        Ok(config)
    }
}

async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for SIGINT")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}

async fn serve(args: Serve) -> anyhow::Result<()> {
    let emulator = cos_emulator::start(args.config()?).await?;
    if let Some(a) = emulator.http_addr() {
        println!("listening http://{a}");
    }
    if let Some(a) = emulator.https_addr() {
        println!("listening https://{a}");
    }
    println!("certificate {}", emulator.cert_path().display());
    use std::io::Write;
    std::io::stdout().flush().context("writing to stdout")?;
    wait_for_signal().await?;
    eprintln!("shutting down: finishing in-flight requests");
    emulator.shutdown().await;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COS_EMULATOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(*args)),
        Command::RotateMasterKey(store) => store
            .open()
            .and_then(|keys| Ok(keys.rotate_master_key()?))
            .map(|v| println!("master key version {v} is now current")),
        Command::Gc(args) => runtime.block_on(gc(args)),
        Command::Kms { command } => kms(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let config_error = e.downcast_ref::<cos_emulator::StartError>().is_some()
                || e.downcast_ref::<cos_emulator::config::ConfigError>()
                    .is_some();
            ExitCode::from(if config_error { 2 } else { 1 })
        }
    }
}
