//! A small OCI distribution client: manifests and blobs, read-only, with
//! anonymous bearer-token auth (what public registries and Docker Hub ask
//! for) and plain HTTP for registries configured as insecure. Every body
//! is size-limited and every call bounded by the caller's deadline.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, WWW_AUTHENTICATE};
use sha2::{Digest, Sha256};

use crate::image_ref::ImageRef;

/// Largest manifest read.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// Largest signature payload read.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// Manifest media types asked for, most specific first.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// A registry that could not answer: the request is decided by the
/// failure policy, never counted as a violation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("registry {host} unreachable: {message}")]
    Unreachable { host: String, message: String },
    #[error("registry {host} answered {status} for {path}")]
    Status {
        host: String,
        status: u16,
        path: String,
    },
    #[error("registry {host} sent more than {limit} bytes for {path}")]
    TooLarge {
        host: String,
        path: String,
        limit: usize,
    },
    #[error("deadline reached while talking to registry {0}")]
    Deadline(String),
}

/// The client, shared by all requests (connection pool, tokens).
#[derive(Debug)]
pub struct RegistryClient {
    http: reqwest::Client,
    insecure: Vec<String>,
    tokens: Mutex<HashMap<(String, String), (String, Instant)>>,
}

/// A manifest and its digest.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub digest: String,
    pub body: Bytes,
}

impl RegistryClient {
    /// `insecure` registries (`host:port`) are reached over plain HTTP.
    pub fn new(insecure: &[String]) -> Result<RegistryClient, String> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(3))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("palisade-admission/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(RegistryClient {
            http,
            insecure: insecure.iter().map(|h| h.to_ascii_lowercase()).collect(),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    fn base(&self, image: &ImageRef) -> String {
        let host = image.api_host();
        let scheme = if self
            .insecure
            .iter()
            .any(|h| h == host || *h == image.registry)
        {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{host}")
    }

    /// The manifest `reference` (tag or digest) points to; `None` when the
    /// registry does not have it.
    pub async fn manifest(
        &self,
        image: &ImageRef,
        reference: &str,
        deadline: Instant,
    ) -> Result<Option<Manifest>, RegistryError> {
        let path = format!("/v2/{}/manifests/{reference}", image.repository);
        let Some((headers, body)) = self
            .get(
                image,
                &path,
                Some(MANIFEST_ACCEPT),
                MAX_MANIFEST_BYTES,
                deadline,
            )
            .await?
        else {
            return Ok(None);
        };
        // The registry's digest header is advisory; the content is the truth.
        let digest = format!("sha256:{}", hex(&Sha256::digest(&body)));
        let _ = headers;
        Ok(Some(Manifest { digest, body }))
    }

    /// A blob, checked against its digest.
    pub async fn blob(
        &self,
        image: &ImageRef,
        digest: &str,
        limit: usize,
        deadline: Instant,
    ) -> Result<Option<Bytes>, RegistryError> {
        let path = format!("/v2/{}/blobs/{digest}", image.repository);
        let Some((_, body)) = self.get(image, &path, None, limit, deadline).await? else {
            return Ok(None);
        };
        Ok(Some(body))
    }

    async fn get(
        &self,
        image: &ImageRef,
        path: &str,
        accept: Option<&str>,
        limit: usize,
        deadline: Instant,
    ) -> Result<Option<(HeaderMap, Bytes)>, RegistryError> {
        let host = image.api_host().to_string();
        let url = format!("{}{path}", self.base(image));
        let key = (host.clone(), image.repository.clone());
        let mut token = self.cached_token(&key);
        for attempt in 0..2 {
            let remaining = deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| RegistryError::Deadline(host.clone()))?;
            let mut req = self.http.get(&url).timeout(remaining);
            if let Some(a) = accept {
                req = req.header(ACCEPT, a);
            }
            if let Some(t) = &token {
                req = req.header(AUTHORIZATION, format!("Bearer {t}"));
            }
            let resp = req.send().await.map_err(|e| unreachable(&host, &e))?;
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED && attempt == 0 {
                let challenge = resp
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                if let Some(c) = challenge.and_then(|c| parse_bearer(&c)) {
                    token = Some(self.fetch_token(&c, image, deadline).await?);
                    continue;
                }
            }
            if status == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(RegistryError::Status {
                    host,
                    status: status.as_u16(),
                    path: path.to_string(),
                });
            }
            if let Some(t) = &token {
                self.store_token(key.clone(), t.clone());
            }
            let headers = resp.headers().clone();
            let body = read_limited(resp, limit, &host, path).await?;
            return Ok(Some((headers, body)));
        }
        Err(RegistryError::Status {
            host,
            status: 401,
            path: path.to_string(),
        })
    }

    fn cached_token(&self, key: &(String, String)) -> Option<String> {
        let tokens = self.tokens.lock().ok()?;
        tokens
            .get(key)
            .filter(|(_, at)| at.elapsed() < Duration::from_secs(50))
            .map(|(t, _)| t.clone())
    }

    fn store_token(&self, key: (String, String), token: String) {
        if let Ok(mut tokens) = self.tokens.lock() {
            if tokens.len() > 1024 {
                tokens.clear();
            }
            tokens.insert(key, (token, Instant::now()));
        }
    }

    async fn fetch_token(
        &self,
        c: &Bearer,
        image: &ImageRef,
        deadline: Instant,
    ) -> Result<String, RegistryError> {
        let host = image.api_host().to_string();
        let remaining = deadline
            .checked_duration_since(Instant::now())
            .ok_or_else(|| RegistryError::Deadline(host.clone()))?;
        let scope = c
            .scope
            .clone()
            .unwrap_or_else(|| format!("repository:{}:pull", image.repository));
        let mut query = vec![("scope", scope)];
        if let Some(s) = &c.service {
            query.push(("service", s.clone()));
        }
        let resp = self
            .http
            .get(&c.realm)
            .query(&query)
            .timeout(remaining)
            .send()
            .await
            .map_err(|e| unreachable(&host, &e))?;
        if !resp.status().is_success() {
            return Err(RegistryError::Status {
                host,
                status: resp.status().as_u16(),
                path: "token".into(),
            });
        }
        let body = read_limited(resp, 64 * 1024, &host, "token").await?;
        let json: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| RegistryError::Unreachable {
                host: host.clone(),
                message: format!("invalid token response: {e}"),
            })?;
        json.get("token")
            .or_else(|| json.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or(RegistryError::Unreachable {
                host,
                message: "token response without a token".into(),
            })
    }
}

fn unreachable(host: &str, e: &reqwest::Error) -> RegistryError {
    if e.is_timeout() {
        return RegistryError::Deadline(host.to_string());
    }
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    RegistryError::Unreachable {
        host: host.to_string(),
        message,
    }
}

async fn read_limited(
    mut resp: reqwest::Response,
    limit: usize,
    host: &str,
    path: &str,
) -> Result<Bytes, RegistryError> {
    let too_large = || RegistryError::TooLarge {
        host: host.to_string(),
        path: path.to_string(),
        limit,
    };
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| unreachable(host, &e))? {
        if out.len() + chunk.len() > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

/// A `WWW-Authenticate: Bearer …` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bearer {
    realm: String,
    service: Option<String>,
    scope: Option<String>,
}

fn parse_bearer(header: &str) -> Option<Bearer> {
    let rest = header.trim().strip_prefix("Bearer ")?;
    let mut params = HashMap::new();
    let mut s = rest;
    while let Some((key, after)) = s.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (quoted.get(..end)?, quoted.get(end + 1..)?)
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after.get(..end)?, after.get(end..)?)
        };
        params.insert(key, value.to_string());
        s = next;
    }
    let realm = params.remove("realm")?;
    if !(realm.starts_with("https://") || realm.starts_with("http://")) {
        return None;
    }
    Some(Bearer {
        realm,
        service: params.remove("service"),
        scope: params.remove("scope"),
    })
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges() {
        let c = parse_bearer(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
        )
        .unwrap();
        assert_eq!(c.realm, "https://auth.docker.io/token");
        assert_eq!(c.service.as_deref(), Some("registry.docker.io"));
        assert_eq!(c.scope.as_deref(), Some("repository:library/nginx:pull"));
        assert!(parse_bearer("Basic realm=x").is_none());
        assert!(parse_bearer(r#"Bearer realm="file:///etc/passwd""#).is_none());
        assert!(parse_bearer(r#"Bearer realm="https://x"#).is_none());
    }
}
