//! Test-only "lying server" switches, for the mutation harness: each makes the emulator break one
//! promise the wire cannot show while answering exactly as an honest server would, so
//! the mutation harness can prove that only the introspection capability catches it.
//! The bucket default-encryption lies are different: the wire does show them, but they are
//! decisions inside the server (which SSE an upload gets, what GET and DELETE do with the
//! stored default) that a rewriting proxy cannot fake, so they live here too.
//! All are off by default; nothing but [`crate::EmulatorConfig::lies`] turns one on, and
//! the config file and the command line offer none of them.

use std::path::Path;

use crate::sse::SseRequest;

/// The lies, each named after the rule it breaks. `Default` is an honest server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lies {
    /// AT-REST: single-PUT SSE objects are written in plaintext (the record still says
    /// encrypted, so the echo is unchanged).
    pub at_rest_store_plaintext: bool,
    /// KMS-ALG: `x-cos-server-side-encryption-cos-kms-algorithm: SM4` is ignored (AES256
    /// is used; SSE-KMS echoes no algorithm).
    pub kms_alg_ignore_sm4: bool,
    /// KMS-CONTEXT: the encryption context is accepted but not bound to the data key.
    pub kms_context_unbound: bool,
    /// KMS-KEY-ID: every SSE-KMS object is sealed under the account's default CMK.
    pub kms_key_id_use_default: bool,
    /// COS-ALG: SSE-COS `SM4` is stored under AES256.
    pub cos_alg_sm4_as_aes256: bool,
    /// SSEC-NOT-STORED: the customer key MD5 is kept in a file under `DATA/lies/`.
    pub ssec_keep_key_md5: bool,
    /// BUCKET-ENC-APPLY: the bucket's default encryption is never applied to uploads.
    pub bucket_default_not_applied: bool,
    /// BUCKET-ENC-OWN: the bucket's default replaces an upload's own SSE-COS / SSE-KMS.
    pub bucket_default_overrides_own: bool,
    /// BUCKET-ENC-GET-NONE: GET Bucket encryption without a default answers 200 with an
    /// empty `ServerSideEncryptionConfiguration`.
    pub bucket_encryption_get_empty: bool,
    /// BUCKET-ENC-DELETE: DELETE Bucket encryption answers 204 but keeps the default.
    pub bucket_encryption_delete_kept: bool,
}

/// Turns one lie on.
pub type Setter = fn(&mut Lies);

/// Every lie by name (the rule it breaks, as the mutation harness names it), with its
/// setter.
pub const ALL: &[(&str, Setter)] = &[
    ("AT-REST", |l| l.at_rest_store_plaintext = true),
    ("KMS-ALG", |l| l.kms_alg_ignore_sm4 = true),
    ("KMS-CONTEXT", |l| l.kms_context_unbound = true),
    ("KMS-KEY-ID", |l| l.kms_key_id_use_default = true),
    ("COS-ALG", |l| l.cos_alg_sm4_as_aes256 = true),
    ("SSEC-NOT-STORED", |l| l.ssec_keep_key_md5 = true),
    ("BUCKET-ENC-APPLY", |l| l.bucket_default_not_applied = true),
    ("BUCKET-ENC-OWN", |l| l.bucket_default_overrides_own = true),
    ("BUCKET-ENC-GET-NONE", |l| {
        l.bucket_encryption_get_empty = true
    }),
    ("BUCKET-ENC-DELETE", |l| {
        l.bucket_encryption_delete_kept = true
    }),
];

impl Lies {
    /// The lie named `rule` (see [`ALL`]), or `None` for an unknown name.
    pub fn named(rule: &str) -> Option<Lies> {
        let (_, set) = ALL.iter().find(|(n, _)| *n == rule)?;
        let mut l = Lies::default();
        set(&mut l);
        Some(l)
    }

    /// The SSE actually applied to a write asked for as `asked`.
    pub fn applied(&self, asked: &SseRequest) -> SseRequest {
        let mut sse = asked.clone();
        match &mut sse {
            SseRequest::Kms {
                key_id,
                context,
                algorithm,
            } => {
                if self.kms_alg_ignore_sm4 {
                    *algorithm = cos_emulator_crypto::Algorithm::Aes256;
                }
                if self.kms_context_unbound {
                    context.clear();
                }
                if self.kms_key_id_use_default {
                    *key_id = None;
                }
            }
            SseRequest::Cos { algorithm } if self.cos_alg_sm4_as_aes256 => {
                *algorithm = cos_emulator_crypto::Algorithm::Aes256;
            }
            _ => {}
        }
        sse
    }

    /// Whether a single-PUT object asked for as `asked` is written in plaintext.
    pub fn plaintext_body(&self, asked: &SseRequest) -> bool {
        self.at_rest_store_plaintext && *asked != SseRequest::None
    }

    /// SSEC-NOT-STORED lie: keeps the key MD5 of an SSE-C write under `DATA/lies/`.
    pub fn keep_customer_key(&self, data_dir: &Path, asked: &SseRequest, write_id: &str) {
        if let (true, SseRequest::Customer(c)) = (self.ssec_keep_key_md5, asked) {
            let dir = data_dir.join("lies");
            if std::fs::create_dir_all(&dir).is_ok() {
                let _ = std::fs::write(dir.join(write_id), c.key_md5.as_bytes());
            }
        }
    }
}
