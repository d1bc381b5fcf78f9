//! Image references as a registry client needs them: where to connect,
//! which repository, and the tag or digest to resolve. Normalisation
//! follows Docker's (and `palisade-k8s`'s rules): `nginx` is
//! `docker.io/library/nginx`, Docker Hub aliases fold into `docker.io`.

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Normalised registry host with port (`docker.io`, `127.0.0.1:5000`).
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:<64 hex>` when pinned.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses a reference; `None` for one no registry would accept.
    pub fn parse(image: &str) -> Option<ImageRef> {
        let image = image.trim();
        if image.is_empty() || image.len() > 4096 || image.contains(char::is_whitespace) {
            return None;
        }
        let (name, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d.to_string())),
            None => (image, None),
        };
        if let Some(d) = &digest
            && !is_sha256_digest(d)
        {
            return None;
        }
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name.rfind(':').filter(|&i| i >= last_slash) {
            Some(i) => (name.get(..i)?, name.get(i + 1..).map(str::to_string)),
            None => (name, None),
        };
        let tag = tag.filter(|t| !t.is_empty());
        if tag.as_deref().is_some_and(|t| {
            t.len() > 128
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        }) {
            return None;
        }
        let (registry, repository) = match name.split_once('/') {
            Some((host, rest)) if host.contains(['.', ':']) || host == "localhost" => {
                (normalize_registry(host), rest.to_string())
            }
            _ => ("docker.io".to_string(), name.to_string()),
        };
        if repository.is_empty()
            || !repository.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'/' | b'.' | b'_' | b'-')
            })
            || repository.split('/').any(str::is_empty)
        {
            return None;
        }
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        Some(ImageRef {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `registry/repository`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The host the registry API is served from.
    pub fn api_host(&self) -> &str {
        if self.registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }

    /// What to ask the registry for: the digest, else the tag (`latest`
    /// when there is neither).
    pub fn reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

/// `sha256:` and 64 lowercase hex digits.
pub fn is_sha256_digest(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Lowercase host, Docker Hub aliases folded into `docker.io`.
pub fn normalize_registry(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => host,
    }
}

/// Whether `name` (`registry/repository`) is under the allow-list entry
/// `prefix`, on host and path boundaries.
pub fn under_prefix(name: &str, prefix: &str) -> bool {
    let prefix = prefix.trim();
    let prefix = prefix
        .strip_prefix("https://")
        .or_else(|| prefix.strip_prefix("http://"))
        .unwrap_or(prefix)
        .trim_end_matches('/');
    let prefix = match prefix.split_once('/') {
        Some((host, path)) => format!("{}/{path}", normalize_registry(host)),
        None => normalize_registry(prefix),
    };
    !prefix.is_empty()
        && name
            .strip_prefix(prefix.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_and_normalises() {
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(r.full_name(), "docker.io/library/nginx");
        assert_eq!(r.reference(), "latest");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        let r = ImageRef::parse(&format!("127.0.0.1:5000/team/app:1.0@{D}")).unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.reference(), D);
        assert!(ImageRef::parse("app@sha256:short").is_none());
        assert!(ImageRef::parse("UPPER/case").is_none());
        assert!(ImageRef::parse("a b").is_none());
        assert!(ImageRef::parse("reg.io//x").is_none());
    }

    #[test]
    fn prefixes_respect_boundaries() {
        assert!(under_prefix("ghcr.io/acme/app", "ghcr.io/acme"));
        assert!(under_prefix("ghcr.io/acme/app", "ghcr.io/acme/"));
        assert!(!under_prefix("ghcr.io/acmecorp/app", "ghcr.io/acme"));
        assert!(!under_prefix("ghcr.io.evil.com/acme/app", "ghcr.io"));
        assert!(under_prefix("docker.io/library/nginx", "index.docker.io"));
        assert!(!under_prefix("registry:5000/app", "registry"));
    }
}
