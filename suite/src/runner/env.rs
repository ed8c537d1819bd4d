//! What every case of a run shares: the endpoint, the client, credentials, named keys,
//! KMS key ids, buckets, the seed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::case::{Expect, Step};
use crate::client::{Client, Credentials, Scheme};
use crate::codes::CodePolicy;
use crate::keys::KeyRing;
use crate::profile::Profile;
use crate::rules::Catalog;

/// The shared state of a run.
pub struct Env {
    /// The endpoint profile.
    pub profile: Profile,
    /// The rule catalog.
    pub catalog: Catalog,
    /// Named customer keys.
    pub keys: KeyRing,
    /// The HTTP client.
    pub client: Client,
    /// Credentials.
    pub creds: Credentials,
    /// The second account (`auth: other-account`), where the endpoint has one.
    pub other: Option<OtherAccount>,
    /// `{{kms.NAME}}` values.
    pub kms: BTreeMap<String, String>,
    /// KMS keys the profile promises that could not be set up, with the reason.
    pub kms_failures: BTreeMap<String, String>,
    /// The run seed.
    pub seed: u64,
    /// Unique per run: isolates this run's keys (and created buckets) from any other.
    pub run_id: String,
    /// `--strict[=LEVEL]` with cases/codes.yaml and the profile's `codes:` overrides.
    pub strict: CodePolicy,
    /// Where `{file: ...}` bodies are found (the repository root).
    pub root: PathBuf,
    /// Buckets per region: given by the profile or created on first use.
    pub buckets: Mutex<BTreeMap<String, BucketState>>,
    /// What the embedded emulator stored (`introspect` capability); `None` elsewhere.
    pub introspector: Option<cos_emulator::introspect::Introspector>,
}

/// A second account of the endpoint: what `auth: other-account` signs with and
/// `{{other.id}}` names.
#[derive(Debug, Clone)]
pub struct OtherAccount {
    /// Its credentials.
    pub creds: Credentials,
    /// Its canonical id, as ACL grants name it (`qcs::cam::uin/<uin>:uin/<uin>`).
    pub canonical_id: String,
}

/// A region's bucket.
#[derive(Debug, Clone)]
pub enum BucketState {
    /// Ready to use; `created` when this run made it (and so deletes it).
    Ready {
        /// Full bucket name.
        name: String,
        /// Made by this run.
        created: bool,
    },
    /// Creating it failed; every case in the region is an error with this message.
    Failed(String),
}

impl Env {
    /// The URL authority of a bucket in a region, for a scheme.
    pub fn authority(&self, scheme: Scheme, bucket: &str, region: &str) -> Option<String> {
        let template = match scheme {
            Scheme::Https => Some(self.profile.endpoint.as_str()),
            Scheme::Http => self.profile.http_endpoint.as_deref(),
        }?;
        let url = template
            .replace("{bucket}", bucket)
            .replace("{region}", region);
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        Some(rest.split('/').next().unwrap_or(rest).to_string())
    }

    /// The default scheme: HTTPS when the profile has it.
    pub fn default_scheme(&self) -> Scheme {
        if self.profile.capabilities.contains("https") || self.profile.http_endpoint.is_none() {
            Scheme::Https
        } else {
            Scheme::Http
        }
    }
}

/// Shared handle.
pub type SharedEnv = Arc<Env>;

/// The first `expect_if` whose behaviours all match the profile, else `expect`.
pub fn effective_expect(env: &Env, step: &Step) -> Expect {
    let matches = |when: &BTreeMap<String, String>| {
        when.iter()
            .all(|(rule, b)| env.profile.behaviour_of(rule, &env.catalog) == Some(b.as_str()))
    };
    step.expect_if
        .iter()
        .find(|alt| matches(&alt.when))
        .map(|alt| alt.expect.clone())
        .or_else(|| step.expect.clone())
        .unwrap_or_default()
}
