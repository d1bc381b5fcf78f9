//! Container image references, parsed the way the container runtime and
//! the kubelet read them (Docker's normalisation rules).

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageRef<'a> {
    /// The registry host (with port), normalised: lowercase, Docker Hub
    /// aliases (`index.docker.io`, `registry-1.docker.io`) as `docker.io`,
    /// and `docker.io` when the reference names none.
    pub registry: String,
    /// The repository path; Docker Hub official images get `library/`.
    pub repository: String,
    pub tag: Option<&'a str>,
    /// The digest after `@` (`sha256:…`).
    pub digest: Option<&'a str>,
}

impl ImageRef<'_> {
    /// `registry/repository`: what registry allow-lists match against.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Pinned by a content digest (`@sha256:<hex>`, or sha384/sha512).
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some_and(|d| {
            d.split_once(':').is_some_and(|(alg, hex)| {
                matches!(alg, "sha256" | "sha384" | "sha512")
                    && !hex.is_empty()
                    && hex.bytes().all(|b| b.is_ascii_hexdigit())
            })
        })
    }

    /// Neither a tag nor a digest: the runtime pulls `latest`.
    pub fn is_untagged(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }
}

/// Normalises a registry host: lowercase, Docker Hub aliases folded.
pub(crate) fn normalize_registry(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => host,
    }
}

/// Whether the first path component of a reference is a registry host:
/// it contains a `.` or a `:` (port), or is `localhost`.
fn is_registry_host(component: &str) -> bool {
    component.contains(['.', ':']) || component == "localhost"
}

/// Parses an image reference; `None` for an empty one.
pub(crate) fn parse(image: &str) -> Option<ImageRef<'_>> {
    let image = image.trim();
    if image.is_empty() {
        return None;
    }
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    // A tag is a `:` after the last `/`; a `:` before it is a registry port.
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name.rfind(':').filter(|&i| i >= last_slash) {
        Some(i) => (name.get(..i)?, name.get(i + 1..)),
        None => (name, None),
    };
    let tag = tag.filter(|t| !t.is_empty());
    let (registry, repository) = match name.split_once('/') {
        Some((host, rest)) if is_registry_host(host) => {
            (normalize_registry(host), rest.to_string())
        }
        _ => ("docker.io".to_string(), name.to_string()),
    };
    let repository = if registry == "docker.io" && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository
    };
    Some(ImageRef {
        registry,
        repository,
        tag,
        digest: digest.filter(|d| !d.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let r = parse("nginx").unwrap();
        assert_eq!(r.full_name(), "docker.io/library/nginx");
        assert!(r.is_untagged());

        let r = parse("registry:5000/app").unwrap();
        assert_eq!(r.registry, "registry:5000");
        assert_eq!(r.repository, "app");
        assert_eq!(r.tag, None);

        let r = parse("registry:5000/team/app:1.2").unwrap();
        assert_eq!(r.full_name(), "registry:5000/team/app");
        assert_eq!(r.tag, Some("1.2"));

        let r = parse("index.docker.io/bitnami/redis:7.2").unwrap();
        assert_eq!(r.full_name(), "docker.io/bitnami/redis");

        let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let image = format!("ghcr.io/acme/app@{digest}");
        let r = parse(&image).unwrap();
        assert!(r.is_pinned());
        assert_eq!(r.tag, None);
        assert!(!r.is_untagged());

        let image = format!("ghcr.io/acme/app:1.0@{digest}");
        let r = parse(&image).unwrap();
        assert_eq!(r.tag, Some("1.0"));
        assert!(r.is_pinned());

        let r = parse("localhost/app:dev").unwrap();
        assert_eq!(r.registry, "localhost");
        assert!(parse("  ").is_none());
        assert!(!parse("app@sha256:nothex").unwrap().is_pinned());
    }
}
