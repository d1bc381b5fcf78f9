//! TLS for the webhook: rustls with the ring provider, TLS 1.2 and 1.3
//! only, and a certificate resolver whose key pair is swapped when the
//! files change (cert-manager and Secret updates rotate them in place).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::crypto::ring as provider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ServerConfig, version};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

/// Largest certificate or key file read.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// A certificate or key that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TlsError {
    pub path: String,
    pub message: String,
}

/// Where the serving certificate and key live.
#[derive(Debug, Clone)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    let err = |message: String| TlsError {
        path: path.display().to_string(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
    if meta.len() > MAX_PEM_BYTES {
        return Err(err(format!("larger than {MAX_PEM_BYTES} bytes")));
    }
    std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))
}

impl CertFiles {
    /// A fingerprint of both files' contents: changes when either does
    /// (including Kubernetes' symlink swaps of mounted Secrets).
    pub fn fingerprint(&self) -> Option<[u8; 32]> {
        let mut h = Sha256::new();
        h.update(read(&self.cert).ok()?);
        h.update([0]);
        h.update(read(&self.key).ok()?);
        Some(h.finalize().into())
    }

    /// Loads the chain and key and checks that they belong together.
    pub fn load(&self) -> Result<Arc<CertifiedKey>, TlsError> {
        let cert_pem = read(&self.cert)?;
        let key_pem = read(&self.key)?;
        let cert_err = |message: String| TlsError {
            path: self.cert.display().to_string(),
            message,
        };
        let key_err = |message: String| TlsError {
            path: self.key.display().to_string(),
            message,
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| cert_err(format!("invalid PEM: {e}")))?;
        if chain.is_empty() {
            return Err(cert_err("no CERTIFICATE block".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| key_err(format!("no usable private key: {e}")))?;
        let signing = provider::sign::any_supported_type(&key)
            .map_err(|e| key_err(format!("unsupported private key: {e}")))?;
        let certified = CertifiedKey::new(chain, signing);
        certified
            .keys_match()
            .map_err(|e| key_err(format!("the key does not match the certificate: {e}")))?;
        Ok(Arc::new(certified))
    }
}

/// Serves whatever key pair is current.
#[derive(Debug)]
pub struct Resolver {
    current: ArcSwap<CertifiedKey>,
}

impl Resolver {
    pub fn new(initial: Arc<CertifiedKey>) -> Resolver {
        Resolver {
            current: ArcSwap::new(initial),
        }
    }

    pub fn replace(&self, key: Arc<CertifiedKey>) {
        self.current.store(key);
    }

    /// The DER of the leaf certificate being served.
    pub fn leaf(&self) -> Option<Vec<u8>> {
        self.current.load().cert.first().map(|c| c.to_vec())
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The server configuration: ring, TLS 1.3 and 1.2, HTTP/2 and HTTP/1.1.
pub fn server_config(resolver: Arc<Resolver>) -> Result<ServerConfig, TlsError> {
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider::default_provider()))
        .with_protocol_versions(&[&version::TLS13, &version::TLS12])
        .map_err(|e| TlsError {
            path: "<tls>".into(),
            message: e.to_string(),
        })?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
