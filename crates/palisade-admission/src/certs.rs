//! `palisade admission certs`: a private CA and a serving certificate for
//! the webhook's Service DNS names (rcgen, ECDSA P-256 via ring), for first
//! installs without cert-manager. The CA's certificate becomes the
//! webhook configuration's `caBundle`.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

/// File names written (and read by `manifests --cert-dir`).
pub const CA_CERT: &str = "ca.crt";
pub const CA_KEY: &str = "ca.key";
pub const TLS_CERT: &str = "tls.crt";
pub const TLS_KEY: &str = "tls.key";

/// A CA and a serving certificate, PEM encoded.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub ca_cert: String,
    pub ca_key: String,
    pub cert: String,
    pub key: String,
    /// The DNS names the serving certificate is valid for.
    pub dns_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error(
        "invalid name `{0}`: a Kubernetes service or namespace name is a DNS label (lowercase letters, digits and `-`, at most 63 characters)"
    )]
    Name(String),
    #[error("certificate generation failed: {0}")]
    Generate(String),
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
}

/// The names the API server uses to reach a Service.
pub fn dns_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        service.to_string(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
    ]
}

/// The date `days` from today (UTC).
fn ymd_in(days: i64) -> palisade_core::date::Date {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    palisade_core::date::Date::from_days_since_epoch((now / 86_400) as i64 + days)
}

macro_rules! date_in {
    ($days:expr) => {{
        let d = ymd_in($days);
        rcgen::date_time_ymd(d.year, d.month, d.day)
    }};
}

/// Generates a CA (valid 10 years) and a serving certificate (valid
/// `days`) for `service.namespace.svc` and its shorter forms, plus
/// `extra` names (DNS names or IP addresses).
pub fn generate(
    service: &str,
    namespace: &str,
    extra: &[String],
    days: u32,
) -> Result<Bundle, CertError> {
    for n in [service, namespace] {
        if !palisade_core::names::is_dns_label(n) {
            return Err(CertError::Name(n.to_string()));
        }
    }
    let g = |e: rcgen::Error| CertError::Generate(e.to_string());
    let ca_key = KeyPair::generate().map_err(g)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(g)?;
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        format!("palisade-admission CA ({namespace})"),
    );
    dn.push(DnType::OrganizationName, "Palisade");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = date_in!(-1);
    ca.not_after = date_in!(3650);
    let ca_cert = ca.self_signed(&ca_key).map_err(g)?;
    let issuer = Issuer::new(ca, &ca_key);

    let mut names = dns_names(service, namespace);
    names.extend(extra.iter().cloned());
    let key = KeyPair::generate().map_err(g)?;
    let mut params = CertificateParams::new(names.clone()).map_err(g)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("{service}.{namespace}.svc"));
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = date_in!(-1);
    params.not_after = date_in!(i64::from(days.max(1)));
    let cert = params.signed_by(&key, &issuer).map_err(g)?;
    Ok(Bundle {
        ca_cert: ca_cert.pem(),
        ca_key: ca_key.serialize_pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
        dns_names: names,
    })
}

/// Writes the four files into `dir` (created if needed); private keys are
/// readable by the owner only. Returns the paths written.
pub fn write(bundle: &Bundle, dir: &Path) -> Result<Vec<PathBuf>, CertError> {
    let err = |path: &Path, e: std::io::Error| CertError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    let mut written = Vec::new();
    for (name, content, private) in [
        (CA_CERT, &bundle.ca_cert, false),
        (CA_KEY, &bundle.ca_key, true),
        (TLS_CERT, &bundle.cert, false),
        (TLS_KEY, &bundle.key, true),
    ] {
        let path = dir.join(name);
        write_file(&path, content.as_bytes(), private).map_err(|e| err(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

fn write_file(path: &Path, content: &[u8], private: bool) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    options.mode(if private { 0o600 } else { 0o644 });
    let mut f = options.open(path)?;
    f.write_all(content)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_chain_for_the_service() {
        let b = generate("palisade-admission", "palisade", &["127.0.0.1".into()], 30).unwrap();
        assert!(b.ca_cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(b.key.contains("PRIVATE KEY"));
        assert!(
            b.dns_names
                .contains(&"palisade-admission.palisade.svc".to_string())
        );
        assert!(generate("Bad_Name", "palisade", &[], 30).is_err());
        let dir = tempfile::tempdir().unwrap();
        let paths = write(&b, dir.path()).unwrap();
        assert_eq!(paths.len(), 4);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(TLS_KEY))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
