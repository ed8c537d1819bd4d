//! The embedded emulator: `cos-suite run` with no endpoint starts `cos-emulator` in this
//! process through its library API (random ports on 127.0.0.1, a temporary data
//! directory, random credentials) and points the profile at it. Nothing else of the
//! emulator is used: requests still go through the suite's own client and signer.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::distributions::Alphanumeric;
use rand::Rng;

use crate::client::Credentials;
use crate::profile::{KmsKey, Profile};

/// Where an embedded gateway keeps its state (see [`Embedded::start_gateway`]).
#[derive(Debug, Clone)]
pub struct Gateway {
    /// The object store.
    pub store: cos_emulator::store::remote::StoreUrl,
    /// The SSE-COS master key file the gateways share.
    pub master_key_file: std::path::PathBuf,
    /// The backend's own files on this machine, for the at-rest scan.
    pub at_rest_dir: Option<std::path::PathBuf>,
}

/// A running embedded emulator; dropping it stops the server and removes its data.
pub struct Embedded {
    emulator: cos_emulator::Emulator,
    _data: tempfile::TempDir,
    /// The random credentials it accepts.
    pub creds: Credentials,
    /// A second account it accepts (the grantee of ACL cases), with its canonical id.
    pub other: crate::runner::OtherAccount,
    /// `{{kms.NAME}}` values: the CMKs created for the profile's `kms_keys`.
    pub kms: BTreeMap<String, String>,
    /// KMS keys the profile asks for that could not be created, with the reason.
    pub kms_failures: BTreeMap<String, String>,
}

impl Embedded {
    /// Starts the emulator with the profile's behaviour, then fills in the profile's
    /// `connect` addresses and `tls.ca_file` and creates its KMS keys.
    pub async fn start(profile: &mut Profile) -> Result<Embedded, String> {
        Self::start_lying(profile, cos_emulator::introspect::Lies::default()).await
    }

    /// [`Embedded::start`] with test-only lying switches on (the mutation harness).
    pub async fn start_lying(
        profile: &mut Profile,
        lies: cos_emulator::introspect::Lies,
    ) -> Result<Embedded, String> {
        Self::start_with(profile, lies, None).await
    }

    /// [`Embedded::start`] as a gateway over an object store (`tests/gateway.rs`): the
    /// records and bytes live in `gateway.store`, the master key in `gateway.master_key_file`
    /// (shared by every gateway over that store), and introspection scans
    /// `gateway.at_rest_dir` (the backend's own files) when given.
    pub async fn start_gateway(
        profile: &mut Profile,
        gateway: &Gateway,
    ) -> Result<Embedded, String> {
        Self::start_with(
            profile,
            cos_emulator::introspect::Lies::default(),
            Some(gateway),
        )
        .await
    }

    async fn start_with(
        profile: &mut Profile,
        lies: cos_emulator::introspect::Lies,
        gateway: Option<&Gateway>,
    ) -> Result<Embedded, String> {
        let data = tempfile::tempdir().map_err(|e| format!("temporary data directory: {e}"))?;
        let creds = Credentials {
            secret_id: format!("AKID{}", random_text(32)),
            secret_key: random_text(40),
        };
        // The second account's appid: the profile's plus one (any other number would do).
        let other_appid = profile
            .appid
            .parse::<u64>()
            .map_or_else(|_| "1000000001".to_string(), |a| (a + 1).to_string());
        let other = crate::runner::OtherAccount {
            creds: Credentials {
                secret_id: format!("AKID{}", random_text(32)),
                secret_key: random_text(40),
            },
            canonical_id: cos_emulator::auth::acl::canonical_id(&other_appid),
        };
        let config = cos_emulator::EmulatorConfig {
            data_dir: data.path().to_path_buf(),
            http: Some(([127, 0, 0, 1], 0).into()),
            https: Some(([127, 0, 0, 1], 0).into()),
            accounts: vec![
                cos_emulator::Account {
                    secret_id: creds.secret_id.clone(),
                    secret_key: creds.secret_key.clone(),
                    appid: profile.appid.clone(),
                },
                cos_emulator::Account {
                    secret_id: other.creds.secret_id.clone(),
                    secret_key: other.creds.secret_key.clone(),
                    appid: other_appid,
                },
            ],
            behaviour: profile.behaviour.clone(),
            restore_delay: Duration::from_millis(500),
            lies,
            store: gateway.map(|g| g.store.clone()),
            master_key_file: gateway.map(|g| g.master_key_file.clone()),
            at_rest_dir: gateway.and_then(|g| g.at_rest_dir.clone()),
            ..cos_emulator::EmulatorConfig::default()
        };
        let emulator = cos_emulator::start(config)
            .await
            .map_err(|e| format!("starting the embedded emulator: {e}"))?;
        profile.connect.https = emulator.https_addr();
        profile.connect.http = emulator.http_addr();
        profile.tls.ca_file = Some(emulator.cert_path().to_path_buf());
        profile.tls.insecure = false;
        let (kms, kms_failures) = create_keys(&emulator, profile);
        Ok(Embedded {
            emulator,
            _data: data,
            creds,
            other,
            kms,
            kms_failures,
        })
    }

    /// What the emulator stored (the `introspect` capability).
    pub fn introspector(&self) -> &cos_emulator::introspect::Introspector {
        self.emulator.introspector()
    }

    /// Stops the emulator (in-flight requests finish, bounded).
    pub async fn shutdown(self) {
        self.emulator.shutdown().await;
    }
}

fn create_keys(
    emulator: &cos_emulator::Emulator,
    profile: &Profile,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut ok = BTreeMap::new();
    let mut failed = BTreeMap::new();
    for (name, key) in &profile.kms_keys {
        let made = match key {
            KmsKey::Id(id) => Ok(id.clone()),
            KmsKey::Create { enabled } => emulator
                .create_kms_key(&profile.appid, &format!("cos-suite {name}"))
                .and_then(|id| {
                    if *enabled {
                        Ok(id)
                    } else {
                        emulator.disable_kms_key(&profile.appid, &id).map(|()| id)
                    }
                })
                .map_err(|e| {
                    format!("the embedded emulator could not create kms_keys.{name}: {e}")
                }),
        };
        match made {
            Ok(id) => {
                ok.insert(name.clone(), id);
            }
            Err(e) => {
                failed.insert(name.clone(), e);
            }
        }
    }
    (ok, failed)
}

fn random_text(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}
