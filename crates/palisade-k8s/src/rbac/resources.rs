//! Resource names as users type them (`pods`, `pods/exec`,
//! `deployments.apps`, `deploy`) resolved to API group and resource without
//! a cluster's discovery API, from the built-in Kubernetes resources.

use std::collections::HashSet;
use std::sync::LazyLock;

/// `(resource, group, short names, namespaced)` of the built-in APIs.
const BUILTIN: &[(&str, &str, &[&str], bool)] = &[
    ("bindings", "", &[], true),
    ("componentstatuses", "", &["cs"], false),
    ("configmaps", "", &["cm"], true),
    ("endpoints", "", &["ep"], true),
    ("events", "", &["ev"], true),
    ("limitranges", "", &["limits"], true),
    ("namespaces", "", &["ns"], false),
    ("nodes", "", &["no"], false),
    ("persistentvolumeclaims", "", &["pvc"], true),
    ("persistentvolumes", "", &["pv"], false),
    ("pods", "", &["po"], true),
    ("podtemplates", "", &[], true),
    ("replicationcontrollers", "", &["rc"], true),
    ("resourcequotas", "", &["quota"], true),
    ("secrets", "", &[], true),
    ("serviceaccounts", "", &["sa"], true),
    ("services", "", &["svc"], true),
    (
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io",
        &[],
        false,
    ),
    (
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io",
        &[],
        false,
    ),
    (
        "validatingadmissionpolicies",
        "admissionregistration.k8s.io",
        &[],
        false,
    ),
    (
        "validatingadmissionpolicybindings",
        "admissionregistration.k8s.io",
        &[],
        false,
    ),
    (
        "customresourcedefinitions",
        "apiextensions.k8s.io",
        &["crd", "crds"],
        false,
    ),
    ("apiservices", "apiregistration.k8s.io", &[], false),
    ("controllerrevisions", "apps", &[], true),
    ("daemonsets", "apps", &["ds"], true),
    ("deployments", "apps", &["deploy"], true),
    ("replicasets", "apps", &["rs"], true),
    ("statefulsets", "apps", &["sts"], true),
    ("tokenreviews", "authentication.k8s.io", &[], false),
    ("selfsubjectreviews", "authentication.k8s.io", &[], false),
    (
        "localsubjectaccessreviews",
        "authorization.k8s.io",
        &[],
        true,
    ),
    (
        "selfsubjectaccessreviews",
        "authorization.k8s.io",
        &[],
        false,
    ),
    (
        "selfsubjectrulesreviews",
        "authorization.k8s.io",
        &[],
        false,
    ),
    ("subjectaccessreviews", "authorization.k8s.io", &[], false),
    ("horizontalpodautoscalers", "autoscaling", &["hpa"], true),
    ("cronjobs", "batch", &["cj"], true),
    ("jobs", "batch", &[], true),
    (
        "certificatesigningrequests",
        "certificates.k8s.io",
        &["csr"],
        false,
    ),
    ("leases", "coordination.k8s.io", &[], true),
    ("endpointslices", "discovery.k8s.io", &[], true),
    ("flowschemas", "flowcontrol.apiserver.k8s.io", &[], false),
    (
        "prioritylevelconfigurations",
        "flowcontrol.apiserver.k8s.io",
        &[],
        false,
    ),
    ("ingressclasses", "networking.k8s.io", &[], false),
    ("ingresses", "networking.k8s.io", &["ing"], true),
    ("networkpolicies", "networking.k8s.io", &["netpol"], true),
    ("runtimeclasses", "node.k8s.io", &[], false),
    ("poddisruptionbudgets", "policy", &["pdb"], true),
    (
        "clusterrolebindings",
        "rbac.authorization.k8s.io",
        &[],
        false,
    ),
    ("clusterroles", "rbac.authorization.k8s.io", &[], false),
    ("rolebindings", "rbac.authorization.k8s.io", &[], true),
    ("roles", "rbac.authorization.k8s.io", &[], true),
    ("priorityclasses", "scheduling.k8s.io", &["pc"], false),
    ("csidrivers", "storage.k8s.io", &[], false),
    ("csinodes", "storage.k8s.io", &[], false),
    ("csistoragecapacities", "storage.k8s.io", &[], true),
    ("storageclasses", "storage.k8s.io", &["sc"], false),
    ("volumeattachments", "storage.k8s.io", &[], false),
];

/// A resource resolved for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedResource {
    pub resource: String,
    pub subresource: String,
    /// `None` when the resource is not a built-in and no group was given:
    /// any group matches.
    pub group: Option<String>,
    /// Whether the resource is namespaced (unknown resources are assumed to
    /// be).
    pub namespaced: bool,
}

/// Resolves `pods`, `po`, `pods/exec`, `deployments.apps`,
/// `deployments.v1.apps`, `*`.
pub fn resolve(input: &str) -> ResolvedResource {
    let (base, subresource) = input.split_once('/').unwrap_or((input, ""));
    let (name, group) = match base.split_once('.') {
        Some((name, rest)) => {
            // `deployments.v1.apps`: drop the version.
            let group = match rest.split_once('.') {
                Some((v, g))
                    if v.strip_prefix('v')
                        .and_then(|d| d.chars().next())
                        .is_some_and(|c| c.is_ascii_digit()) =>
                {
                    g
                }
                _ => rest,
            };
            (name, Some(group.to_string()))
        }
        None => (base, None),
    };
    let lower = name.to_ascii_lowercase();
    let builtin = BUILTIN.iter().find(|(r, g, short, _)| {
        (*r == lower
            || short.contains(&lower.as_str())
            || r.strip_suffix('s') == Some(lower.as_str()))
            && group
                .as_deref()
                .is_none_or(|want| want == *g || (want == "core" && g.is_empty()))
    });
    match builtin {
        Some((r, g, _, namespaced)) => ResolvedResource {
            resource: r.to_string(),
            subresource: subresource.to_string(),
            group: Some(g.to_string()),
            namespaced: *namespaced,
        },
        None => ResolvedResource {
            resource: lower,
            subresource: subresource.to_string(),
            group: group.map(|g| if g == "core" { String::new() } else { g }),
            namespaced: true,
        },
    }
}

/// Whether a built-in resource is namespaced (unknown ones are assumed to be).
pub fn is_namespaced(group: &str, resource: &str) -> bool {
    static CLUSTER_SCOPED: LazyLock<HashSet<(&'static str, &'static str)>> = LazyLock::new(|| {
        BUILTIN
            .iter()
            .filter(|(_, _, _, namespaced)| !namespaced)
            .map(|(r, g, _, _)| (*g, *r))
            .collect()
    });
    !CLUSTER_SCOPED.contains(&(group, resource))
}

/// Whether a RoleBinding (a grant in one namespace) can allow `verb` on
/// `resource`: the namespaced resources, and `bind` on ClusterRoles, which
/// the API server checks in the namespace of the RoleBinding being
/// written — a RoleBinding granting it lets its holder bind any ClusterRole
/// (`admin`, `cluster-admin`) inside that namespace — and the namespace
/// object itself, whose requests carry its own name as namespace.
pub fn grantable_in_namespace(verb: &str, group: &str, resource: &str) -> bool {
    is_namespaced(group, resource)
        || (verb == "bind" && group == super::model::RBAC_GROUP && resource == "clusterroles")
        // A request on /api/v1/namespaces/NS carries the namespace NS.
        || (group.is_empty() && resource == "namespaces")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_groups_and_subresources() {
        let r = resolve("pods/exec");
        assert_eq!(
            (
                r.resource.as_str(),
                r.subresource.as_str(),
                r.group.as_deref()
            ),
            ("pods", "exec", Some(""))
        );
        assert_eq!(resolve("deploy").group.as_deref(), Some("apps"));
        assert_eq!(resolve("deployments.apps").resource, "deployments");
        assert_eq!(
            resolve("deployments.v1.apps").group.as_deref(),
            Some("apps")
        );
        assert_eq!(resolve("secret").resource, "secrets");
        assert!(!resolve("nodes").namespaced);
        let crd = resolve("applications.argoproj.io");
        assert_eq!(
            (crd.resource.as_str(), crd.group.as_deref()),
            ("applications", Some("argoproj.io"))
        );
        assert_eq!(resolve("widgets").group, None);
    }
}
