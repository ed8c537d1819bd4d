//! The HTTPS certificate: generated with rcgen on first start and kept under `DATA/tls/`
//! so clients can trust it across restarts, or a given pair (`--tls-cert/--tls-key`).
//!
//! The generated pair is a small private CA (`ca.pem`) and a server certificate signed by
//! it; `cert.pem` holds the server certificate followed by the CA, so a client may trust
//! either file. SANs: `localhost`, `127.0.0.1`, `::1` and, for every known region R,
//! `cos.R.myqcloud.com`, `*.cos.R.myqcloud.com`, `*.cos.R.tencentcos.cn` — the names the SDKs
//! send when they connect to 127.0.0.1 (contracts.md). When the region table changes, the
//! pair is generated again.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::regions::RegionTable;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Reading or writing a PEM file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A PEM file holds no usable certificate or key.
    #[error("{0}")]
    Pem(String),
    /// Certificate generation failed.
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the pair.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The server's TLS configuration and the certificate clients should trust.
#[derive(Debug, Clone)]
pub struct TlsMaterial {
    /// rustls server configuration (HTTP/1.1 and h2 by ALPN).
    pub config: Arc<rustls::ServerConfig>,
    /// PEM file clients should trust.
    pub cert_path: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Every SAN of the generated certificate.
pub fn subject_alt_names(regions: &RegionTable) -> Vec<String> {
    let mut sans = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    for r in regions.names() {
        sans.push(format!("cos.{r}.myqcloud.com"));
        sans.push(format!("*.cos.{r}.myqcloud.com"));
        sans.push(format!("*.cos.{r}.tencentcos.cn"));
    }
    sans.push("service.cos.myqcloud.com".into());
    sans
}

/// Loads the given pair, or the generated one under `data_dir/tls` (generating it first).
pub fn load(
    data_dir: &Path,
    given: Option<(&Path, &Path)>,
    regions: &RegionTable,
) -> Result<TlsMaterial, TlsError> {
    let (cert_path, key_path) = match given {
        Some((c, k)) => (c.to_owned(), k.to_owned()),
        None => ensure_generated(&data_dir.join("tls"), &subject_alt_names(regions))?,
    };
    let certs = read_certs(&cert_path)?;
    let key = read_key(&key_path)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        config: Arc::new(config),
        cert_path,
    })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = fs::read(path).map_err(io(path))?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(io(path))?;
    if certs.is_empty() {
        return Err(TlsError::Pem(format!(
            "{} holds no certificate",
            path.display()
        )));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = fs::read(path).map_err(io(path))?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(io(path))?
        .ok_or_else(|| TlsError::Pem(format!("{} holds no private key", path.display())))
}

/// Generates `cert.pem`, `key.pem` (mode 0600) and `ca.pem` unless they exist with the
/// same SANs; returns (cert, key) paths.
fn ensure_generated(dir: &Path, sans: &[String]) -> Result<(PathBuf, PathBuf), TlsError> {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let stamp = dir.join("sans.txt");
    let wanted = sans.join("\n");
    let current = fs::read_to_string(&stamp).ok();
    if cert.exists() && key.exists() && current.as_deref() == Some(wanted.as_str()) {
        return Ok((cert, key));
    }
    fs::create_dir_all(dir).map_err(io(dir))?;
    let generated = generate_certificate("cos-emulator local CA", "cos-emulator", sans)?;
    write_file(&key, generated.key.as_bytes(), true)?;
    write_file(&dir.join("ca.pem"), generated.ca.as_bytes(), false)?;
    write_file(&cert, generated.chain.as_bytes(), false)?;
    write_file(&stamp, wanted.as_bytes(), false)?;
    Ok((cert, key))
}

/// A private CA and a server certificate it signed, as PEM.
pub struct GeneratedCertificate {
    /// The server certificate followed by the CA's (what a server presents).
    pub chain: String,
    /// The CA certificate (what a client trusts).
    pub ca: String,
    /// The server's private key (PKCS#8): keep it secret.
    pub key: String,
}

impl std::fmt::Debug for GeneratedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key is a secret: printed through the one redaction point.
        f.debug_struct("GeneratedCertificate")
            .field("chain", &self.chain)
            .field("ca", &self.ca)
            .field("key", &crate::redact::Redacted::new(()))
            .finish()
    }
}

/// Generates a private CA (common name `ca_name`) and an ECDSA P-256 server certificate
/// it signs for `sans` (common name `name`): the emulator's own certificate, and the one
/// the benchmark gives SeaweedFS so that both servers' TLS is set up alike.
pub fn generate_certificate(
    ca_name: &str,
    name: &str,
    sans: &[String],
) -> Result<GeneratedCertificate, TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, ca_name);
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate()?;
    let ca = ca_params.self_signed(&ca_key)?;

    let mut params = CertificateParams::new(sans.to_vec())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca, &ca_key)?;
    Ok(GeneratedCertificate {
        chain: format!("{}{}", cert.pem(), ca.pem()),
        ca: ca.pem(),
        key: key.serialize_pem(),
    })
}

/// Writes a file whole (temp + rename); `secret` files get mode 0600.
fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<(), TlsError> {
    let tmp = path.with_extension("tmp");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_never_prints_its_key() {
        let generated =
            generate_certificate("test CA", "test", &["127.0.0.1".to_string()]).unwrap();
        assert!(generated.key.contains("PRIVATE KEY"));
        let printed = format!("{generated:?}");
        let key_body = generated.key.lines().nth(1).unwrap();
        assert!(!printed.contains(key_body), "{printed}");
        assert!(printed.contains(generated.ca.lines().nth(1).unwrap()));
    }

    #[test]
    fn generated_once_kept_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let regions = RegionTable::default();
        let a = load(dir.path(), None, &regions).unwrap();
        let first = fs::read(&a.cert_path).unwrap();
        let b = load(dir.path(), None, &regions).unwrap();
        assert_eq!(
            first,
            fs::read(&b.cert_path).unwrap(),
            "kept across restarts"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("tls/key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(read_certs(&a.cert_path).unwrap().len(), 2);
    }

    #[test]
    fn sans_cover_virtual_hosts() {
        let sans = subject_alt_names(&RegionTable::default());
        assert!(sans.contains(&"*.cos.ap-beijing.myqcloud.com".to_string()));
        assert!(sans.contains(&"*.cos.ap-chengdu.tencentcos.cn".to_string()));
        assert!(sans.contains(&"::1".to_string()));
    }
}
