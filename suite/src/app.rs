//! Setting up a run, shared by the command line and the conformance test harness: load
//! the catalog, keys and cases; pick the cases a filter names; prepare the endpoint
//! (embedded emulator or a profile's); build the run's [`Env`].

use std::collections::BTreeMap;
use std::net::ToSocketAddrs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::case::{load_cases, Case, LoadContext};
use crate::client::{Client, ClientConfig, Credentials};
use crate::codes::{check_cases, CodePolicy, CodeTable, Strictness};
use crate::embedded::Embedded;
use crate::keys::KeyRing;
use crate::profile::Profile;
use crate::rules::Catalog;
use crate::runner::Env;

/// Development credentials of the emulator (contracts.md, "Defaults").
pub const DEV_SECRET_ID: &str = "AKIDCOSEMULATORDEVELOPMENT0000000000";
/// Development SecretKey of the emulator.
pub const DEV_SECRET_KEY: &str = "cos-emulator-development-secret-key";

/// The catalog, the named keys and every case.
pub struct Loaded {
    /// rules.yaml.
    pub catalog: Catalog,
    /// fixtures/keys.yaml.
    pub keys: KeyRing,
    /// Every case, sorted by file.
    pub cases: Vec<Case>,
    /// cases/codes.yaml: the expected error codes and their confidence.
    pub codes: Arc<CodeTable>,
    /// The repository root (parent of the cases directory).
    pub root: PathBuf,
    /// The cases directory.
    pub cases_dir: PathBuf,
}

/// The cases directory when none is given: `./cases`, else the one of this source tree.
pub fn default_cases_dir() -> PathBuf {
    let local = PathBuf::from("cases");
    if local.join("rules.yaml").exists() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases")
}

/// Loads rules.yaml, `<root>/fixtures/keys.yaml` and every case; all errors, each with its
/// file and line.
pub fn load(cases_dir: &Path) -> Result<Loaded, Vec<String>> {
    let root = cases_dir
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let catalog = Catalog::load(&cases_dir.join("rules.yaml")).map_err(|e| vec![e.to_string()])?;
    let keys = KeyRing::load(&root.join("fixtures/keys.yaml")).map_err(|e| vec![e.to_string()])?;
    let ctx = LoadContext {
        catalog: &catalog,
        keys: &keys,
    };
    let mut cases = load_cases(cases_dir, &ctx)
        .map_err(|errs| errs.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    // Every expected `code:` is in cases/codes.yaml for the case's rules.
    let codes = CodeTable::load(&cases_dir.join("codes.yaml"), &catalog)
        .map_err(|e| vec![e.to_string()])?;
    let mut errors: Vec<String> = check_cases(&codes, &cases)
        .iter()
        .map(ToString::to_string)
        .collect();
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    for pair in cases.windows(2) {
        if pair[0].id == pair[1].id {
            errors.push(format!(
                "{}: case id `{}` is used twice",
                pair[1].file.display(),
                pair[1].id
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Loaded {
        catalog,
        codes: Arc::new(codes),
        keys,
        cases,
        root,
        cases_dir: cases_dir.to_path_buf(),
    })
}

/// Whether a case matches a filter: its family, one of its rule ids (case-insensitive),
/// or its id (exactly, or as a glob with `*`).
pub fn matches(case: &Case, pattern: &str) -> bool {
    case.family() == pattern
        || case.rules.iter().any(|r| r.eq_ignore_ascii_case(pattern))
        || glob(pattern, &case.id)
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.len() >= head.len()
                && text.starts_with(head)
                && (0..=text.len() - head.len()).any(|i| glob(tail, &text[head.len() + i..]))
        }
    }
}

/// The cases any of the filters match (all cases when there is no filter).
pub fn select(cases: &[Case], filters: &[String]) -> Vec<Case> {
    cases
        .iter()
        .filter(|c| filters.is_empty() || filters.iter().any(|f| matches(c, f)))
        .cloned()
        .collect()
}

/// Where a run goes and how to reach it.
pub struct Endpoint {
    /// The profile, with connect addresses and trust filled in.
    pub profile: Profile,
    /// The embedded emulator, when the run uses it.
    pub embedded: Option<Embedded>,
    /// Credentials.
    pub creds: Credentials,
    /// `{{kms.NAME}}` values.
    pub kms: BTreeMap<String, String>,
    /// KMS keys that could not be set up.
    pub kms_failures: BTreeMap<String, String>,
    /// How reports name the endpoint.
    pub label: String,
    /// Warnings to print (development credentials in use, ...).
    pub warnings: Vec<String>,
}

/// Command-line overrides of a profile.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--endpoint`: a template with `{bucket}`, or an address to connect to.
    pub endpoint: Option<String>,
    /// `--insecure`.
    pub insecure: bool,
    /// `--ca-file`.
    pub ca_file: Option<PathBuf>,
}

impl Endpoint {
    /// The endpoint of an emulator this process started (`profile` already points at it).
    pub fn of_embedded(label: &str, profile: Profile, emu: Embedded) -> Endpoint {
        Endpoint {
            label: label.to_string(),
            creds: emu.creds.clone(),
            kms: emu.kms.clone(),
            kms_failures: emu.kms_failures.clone(),
            profile,
            embedded: Some(emu),
            warnings: Vec::new(),
        }
    }
}

/// Prepares the endpoint: starts the embedded emulator when asked, else applies overrides
/// and reads credentials from the profile's environment variables.
pub async fn prepare(
    mut profile: Profile,
    embedded: bool,
    o: &Overrides,
) -> Result<Endpoint, String> {
    if embedded {
        let emu = Embedded::start(&mut profile).await?;
        return Ok(Endpoint::of_embedded("embedded emulator", profile, emu));
    }
    if let Some(e) = &o.endpoint {
        apply_endpoint(&mut profile, e)?;
    }
    if o.insecure {
        profile.tls.insecure = true;
    }
    if let Some(ca) = &o.ca_file {
        profile.tls.ca_file = Some(ca.clone());
    }
    let mut warnings = Vec::new();
    let id = std::env::var(&profile.credentials.secret_id_env).ok();
    let key = std::env::var(&profile.credentials.secret_key_env).ok();
    let creds = match (id, key) {
        (Some(secret_id), Some(secret_key)) => Credentials {
            secret_id,
            secret_key,
        },
        (None, None) => {
            warnings.push(format!(
                "neither {} nor {} is set: using the emulator's development credentials",
                profile.credentials.secret_id_env, profile.credentials.secret_key_env
            ));
            Credentials {
                secret_id: DEV_SECRET_ID.into(),
                secret_key: DEV_SECRET_KEY.into(),
            }
        }
        _ => {
            return Err(format!(
                "set both {} and {} (only one is set)",
                profile.credentials.secret_id_env, profile.credentials.secret_key_env
            ))
        }
    };
    let mut kms = BTreeMap::new();
    let mut kms_failures = BTreeMap::new();
    for (name, k) in &profile.kms_keys {
        match k {
            crate::profile::KmsKey::Id(id) => {
                kms.insert(name.clone(), id.clone());
            }
            crate::profile::KmsKey::Create { .. } => {
                kms_failures.insert(
                    name.clone(),
                    format!("kms_keys.{name} asks to create a key, which only the embedded emulator can do (use --embedded or give a CMK id)"),
                );
            }
        }
    }
    let label = o
        .endpoint
        .clone()
        .unwrap_or_else(|| profile.endpoint.clone());
    Ok(Endpoint {
        profile,
        embedded: None,
        creds,
        kms,
        kms_failures,
        label,
        warnings,
    })
}

/// `--endpoint`: a template (`https://{bucket}.cos.{region}.example.com`) replaces the
/// profile's; an address (`https://127.0.0.1:9443`) is where connections go, while the
/// Host header and TLS name stay the virtual-host name.
fn apply_endpoint(profile: &mut Profile, e: &str) -> Result<(), String> {
    let (scheme, rest) = e
        .split_once("://")
        .ok_or_else(|| format!("--endpoint {e}: expected http://… or https://…"))?;
    if e.contains("{bucket}") {
        match scheme {
            "https" => profile.endpoint = e.to_string(),
            "http" => profile.http_endpoint = Some(e.to_string()),
            _ => return Err(format!("--endpoint {e}: unknown scheme {scheme}")),
        }
        return Ok(());
    }
    let hostport = rest.trim_end_matches('/');
    let default_port = if scheme == "https" { 443 } else { 80 };
    let with_port = if hostport
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        hostport.to_string()
    } else {
        format!("{hostport}:{default_port}")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|err| format!("--endpoint {e}: {err}"))?
        .next()
        .ok_or_else(|| format!("--endpoint {e}: resolves to no address"))?;
    match scheme {
        "https" => profile.connect.https = Some(addr),
        "http" => profile.connect.http = Some(addr),
        _ => return Err(format!("--endpoint {e}: unknown scheme {scheme}")),
    }
    Ok(())
}

/// Options of a run that shape the [`Env`].
#[derive(Debug, Clone)]
pub struct EnvOptions {
    /// The run seed.
    pub seed: u64,
    /// `--strict[=LEVEL]`: which wrong codes fail a case.
    pub strict: Strictness,
}

/// Builds the run's shared state.
pub fn make_env(
    loaded: &Loaded,
    endpoint: &Endpoint,
    opts: &EnvOptions,
) -> Result<Arc<Env>, String> {
    endpoint.profile.check_behaviours(&loaded.catalog)?;
    let mut p = endpoint.profile.clone();
    // Only the embedded emulator can be introspected (a library call): against any other
    // endpoint the capabilities are dropped, so the checks are not applicable.
    if endpoint.embedded.is_none() {
        p.capabilities.remove(crate::case::introspect::CAPABILITY);
        p.capabilities.remove(crate::case::introspect::KMS_ADMIN);
        p.capabilities
            .remove(crate::case::introspect::MASTER_KEY_ADMIN);
    }
    // A second account is the embedded emulator's (a vendor profile has none yet).
    let other = endpoint.embedded.as_ref().map(|e| e.other.clone());
    if other.is_none() {
        p.capabilities.remove("other-account");
    }
    let p = &p;
    let strict = CodePolicy::new(opts.strict, loaded.codes.clone(), &p.codes, &p.name)?
        .for_dialect(p.dialect);
    let client = Client::new(ClientConfig {
        ca_file: p.tls.ca_file.clone(),
        insecure: p.tls.insecure,
        timeout: Duration::from_secs(p.request_timeout_secs),
        connect_https: p.connect.https,
        connect_http: p.connect.http,
    })?;
    Ok(Arc::new(Env {
        profile: p.clone(),
        catalog: loaded.catalog.clone(),
        keys: loaded.keys.clone(),
        client,
        creds: endpoint.creds.clone(),
        other,
        kms: endpoint.kms.clone(),
        kms_failures: endpoint.kms_failures.clone(),
        seed: opts.seed,
        run_id: run_id(),
        strict,
        root: loaded.root.clone(),
        buckets: Mutex::new(BTreeMap::new()),
        introspector: endpoint.embedded.as_ref().map(|e| e.introspector().clone()),
    }))
}

/// 8 random hex digits: isolates this run's keys and buckets from any other run.
fn run_id() -> String {
    format!("{:08x}", rand::random::<u32>())
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("sse-c/*", "sse-c/get-wrong-key"));
        assert!(!glob("sse-c/*", "sse-cos/x"));
        assert!(glob("*wrong*", "sse-c/get-wrong-key"));
        assert!(glob("a", "a") && !glob("a", "ab"));
    }
}
