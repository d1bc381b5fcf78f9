//! Pulling an image from a registry with `oci-client` (rustls): anonymous,
//! basic or bearer auth, plain HTTP only with `--insecure`. The manifest
//! for the platform and its blobs are written into a temporary OCI layout,
//! which is then read like any other (see [`super::image`]). This is the
//! only async code in the crate; it runs on a private current-thread
//! runtime and the rest stays synchronous.

use std::path::Path;

use oci_client::Reference;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use serde_json::Value;

use super::Credentials;
use super::image::{self, LayoutDir};
use crate::error::{Error, Result};
use crate::scan::ScanOptions;

const ACCEPT: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Whether `s` (which is not an existing path) names an image: a registry
/// host first (`host.tld/…`, `host:port/…`, `localhost/…`) or an explicit
/// tag or digest (`alpine:3.19`). A missing path such as `src/app` is a
/// path error, not a pull from Docker Hub.
pub fn looks_like_reference(s: &str) -> bool {
    if s.starts_with(['.', '/']) || s.parse::<Reference>().is_err() {
        return false;
    }
    let first = s.split('/').next().unwrap_or("");
    let host_first =
        s.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let last = s.rsplit('/').next().unwrap_or(s);
    host_first || last.contains(':') || last.contains('@')
}

fn reg_err(reference: &str, e: &oci_client::errors::OciDistributionError) -> Error {
    use oci_client::errors::OciDistributionError as E;
    let message = match e {
        E::AuthenticationFailure(m) => format!(
            "registry authentication failed: {m} (set PALISADE_REGISTRY_USERNAME/PASSWORD or PALISADE_REGISTRY_TOKEN)"
        ),
        E::UnauthorizedError { url } => {
            format!("registry refused access to {url}: unauthorized (check the credentials)")
        }
        E::ImageManifestNotFoundError(m) => format!("image not found: {m}"),
        other => {
            let s = other.to_string();
            if s.contains("401") || s.to_lowercase().contains("unauthorized") {
                format!("registry authentication failed: {s}")
            } else {
                format!("registry error: {s}")
            }
        }
    };
    Error::Registry {
        reference: reference.to_owned(),
        message,
    }
}

/// Pulls `reference` (manifest, config and layers) into a temporary OCI
/// layout directory, removed when the returned `TempDir` is dropped.
pub fn pull_reference(
    target: &str,
    platform: &str,
    insecure: bool,
    creds: &Credentials,
    opts: &ScanOptions,
) -> Result<(tempfile::TempDir, LayoutDir, image::Resolved)> {
    let reference: Reference = target.parse().map_err(|e| Error::Registry {
        reference: target.to_owned(),
        message: format!("not an image reference: {e}"),
    })?;
    let tmp = tempfile::Builder::new()
        .prefix("palisade-pull-")
        .tempdir()
        .map_err(|e| Error::io(target, &e))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io(target, &e))?;
    if let Some(p) = &opts.progress {
        p.start("pulling image", 0);
    }
    let pulled = rt.block_on(pull(
        &reference,
        target,
        platform,
        insecure,
        creds,
        tmp.path(),
    ));
    if let Some(p) = &opts.progress {
        p.finish();
    }
    let (manifest, digest) = pulled?;
    let blobs = LayoutDir {
        dir: tmp.path().to_path_buf(),
        display: target.to_owned(),
    };
    let mut resolved = image::from_manifest(&blobs, &manifest, Some(digest), platform)?;
    resolved.repo_tags = vec![target.to_owned()];
    Ok((tmp, blobs, resolved))
}

async fn pull(
    reference: &Reference,
    target: &str,
    platform: &str,
    insecure: bool,
    creds: &Credentials,
    dir: &Path,
) -> Result<(Value, String)> {
    let config = ClientConfig {
        protocol: if insecure {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        },
        ..ClientConfig::default()
    };
    // reqwest is built without a crypto provider (no aws-lc-rs); ring is
    // the process default. An `Err` means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = oci_client::Client::new(config);
    let auth = match creds {
        Credentials::Anonymous => RegistryAuth::Anonymous,
        Credentials::Basic { user, password } => {
            RegistryAuth::Basic(user.clone(), password.clone())
        }
        Credentials::Bearer(t) => RegistryAuth::Bearer(t.clone()),
    };
    let (raw, mut digest) = client
        .pull_manifest_raw(reference, &auth, ACCEPT)
        .await
        .map_err(|e| reg_err(target, &e))?;
    let mut manifest: Value = serde_json::from_slice(&raw).map_err(|e| Error::json(target, &e))?;
    let mut image_ref = reference.clone();
    if let Some(list) = manifest.get("manifests").and_then(Value::as_array) {
        let chosen = image::choose_manifest(list, platform, target)?;
        let d = chosen
            .get("digest")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::parse(target, "manifest list entry without a digest"))?;
        image_ref = reference.clone_with_digest(d.to_owned());
        let (raw, d2) = client
            .pull_manifest_raw(&image_ref, &auth, ACCEPT)
            .await
            .map_err(|e| reg_err(target, &e))?;
        manifest = serde_json::from_slice(&raw).map_err(|e| Error::json(target, &e))?;
        digest = d2;
    }
    let mut digests: Vec<String> = Vec::new();
    if let Some(d) = manifest.pointer("/config/digest").and_then(Value::as_str) {
        digests.push(d.to_owned());
    }
    for l in manifest
        .get("layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(d) = l.get("digest").and_then(Value::as_str) {
            digests.push(d.to_owned());
        }
    }
    for d in digests {
        let (alg, hex) = image::check_digest(&d, target)?;
        let sub = dir.join("blobs").join(alg);
        tokio::fs::create_dir_all(&sub)
            .await
            .map_err(|e| Error::io(target, &e))?;
        let file = tokio::fs::File::create(sub.join(hex))
            .await
            .map_err(|e| Error::io(target, &e))?;
        // oci-client checks each blob against its digest while writing.
        client
            .pull_blob(&image_ref, d.as_str(), file)
            .await
            .map_err(|e| reg_err(target, &e))?;
    }
    Ok((manifest, digest))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tells_references_from_paths() {
        use super::looks_like_reference as r;
        assert!(r("localhost:5000/app:1.0"));
        assert!(r("ghcr.io/org/app"));
        assert!(r("alpine:3.19"));
        assert!(r(
            "127.0.0.1:5000/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ));
        assert!(!r("does/not/exist"));
        assert!(!r("./app:1"));
        assert!(!r("app"));
    }
}
