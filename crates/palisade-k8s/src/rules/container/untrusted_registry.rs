use super::image;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds container images pulled from a registry (or repository path)
    /// outside the `allowed-registries` setting. Entries match on host and
    /// path boundaries: `ghcr.io/acme` allows `ghcr.io/acme/app` but not
    /// `ghcr.io/acmecorp/app`. Docker Hub names are normalised (`nginx` is
    /// `docker.io/library/nginx`, `index.docker.io` is `docker.io`).
    ///
    /// This rule is opt-in and reports nothing while `allowed-registries` is
    /// empty:
    /// ```yaml
    /// # palisade.yaml
    /// rules:
    ///   enable: [untrusted-registry]
    /// settings:
    ///   allowed-registries: [registry.example.com, ghcr.io/acme]
    /// ```
    ///
    /// ## Why is this bad?
    /// Images from arbitrary registries bypass the controls an organisation
    /// puts on its own: vulnerability scanning, signing, provenance checks
    /// and mirroring. A typo-squatted or abandoned public image, or one
    /// whose publisher is compromised, then runs with the workload's
    /// credentials. Public registries also rate-limit and disappear.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: docker.io/someone/handy-tool:1.0
    /// ```
    ///
    /// ## Fix
    /// Mirror or rebuild the image in an approved registry and reference it
    /// there:
    /// ```yaml
    ///     image: registry.example.com/mirror/handy-tool:1.0
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.5.1: Configure Image Provenance using ImagePolicyWebhook admission controller
    /// - NSA/CISA Kubernetes Hardening Guide: Upgrading and application security practices
    /// - CWE-829: Inclusion of Functionality from Untrusted Control Sphere
    pub struct UntrustedRegistry {
        code: "K8S037",
        name: "untrusted-registry",
        title: "Container image comes from a registry that is not allowed",
        severity: Medium,
        references: [
            Cis("5.5.1"),
            Nsa("Upgrading and application security practices"),
            Cwe("CWE-829"),
        ],
        fix: "Pull the image from a registry listed in `allowed-registries` (mirror it there if needed).",
    }
}

/// An allow-list entry in the form images are compared in: no scheme, no
/// trailing slash, normalised registry host.
fn normalize_entry(entry: &str) -> String {
    let entry = entry.trim();
    let entry = entry
        .strip_prefix("https://")
        .or_else(|| entry.strip_prefix("http://"))
        .unwrap_or(entry)
        .trim_end_matches('/');
    match entry.split_once('/') {
        Some((host, path)) => format!("{}/{path}", image::normalize_registry(host)),
        None => image::normalize_registry(entry),
    }
}

/// Whether `name` (`registry/repository`) is `prefix` or below it.
fn allowed_by(name: &str, prefix: &str) -> bool {
    !prefix.is_empty()
        && name
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl Rule for UntrustedRegistry {
    fn enabled_by_default(&self) -> bool {
        false
    }

    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        let allowed: Vec<String> = cx
            .settings
            .allowed_registries
            .iter()
            .map(|e| normalize_entry(e))
            .filter(|e| !e.is_empty())
            .collect();
        if allowed.is_empty() {
            return;
        }
        for c in pod.containers() {
            let Some(reference) = c.image() else { continue };
            let Some(parsed) = image::parse(reference) else {
                continue;
            };
            let name = parsed.full_name();
            if allowed.iter().any(|prefix| allowed_by(&name, prefix)) {
                continue;
            }
            cx.report(
                c.at(&["image"]),
                format!(
                    "{} uses image `{reference}` from {}, which is not an allowed registry",
                    c.describe(),
                    parsed.registry
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_on_path_boundaries() {
        let allowed = normalize_entry("ghcr.io/acme/");
        assert!(allowed_by("ghcr.io/acme/app", &allowed));
        assert!(!allowed_by("ghcr.io/acmecorp/app", &allowed));
        assert!(allowed_by(
            "docker.io/library/nginx",
            &normalize_entry("index.docker.io")
        ));
        assert!(allowed_by(
            "registry.example.com/team/app",
            &normalize_entry("https://Registry.Example.com")
        ));
    }
}
