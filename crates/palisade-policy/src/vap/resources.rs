//! Kind → resource (the plural `matchConstraints.resourceRules` name) and
//! scope, for the kinds of the Kubernetes API; other kinds (custom
//! resources) get the API server's default plural and are namespaced when
//! they carry a namespace.

/// `(kind, resource, cluster-scoped)` for built-in kinds whose plural is not
/// the regular one, or that are cluster-scoped.
const KNOWN: &[(&str, &str, bool)] = &[
    ("Namespace", "namespaces", true),
    ("Node", "nodes", true),
    ("PersistentVolume", "persistentvolumes", true),
    ("ClusterRole", "clusterroles", true),
    ("ClusterRoleBinding", "clusterrolebindings", true),
    ("StorageClass", "storageclasses", true),
    ("IngressClass", "ingressclasses", true),
    ("PriorityClass", "priorityclasses", true),
    ("RuntimeClass", "runtimeclasses", true),
    ("CSIDriver", "csidrivers", true),
    ("CSINode", "csinodes", true),
    ("VolumeAttachment", "volumeattachments", true),
    (
        "CustomResourceDefinition",
        "customresourcedefinitions",
        true,
    ),
    ("APIService", "apiservices", true),
    (
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        true,
    ),
    (
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        true,
    ),
    (
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        true,
    ),
    (
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        true,
    ),
    ("MutatingAdmissionPolicy", "mutatingadmissionpolicies", true),
    (
        "MutatingAdmissionPolicyBinding",
        "mutatingadmissionpolicybindings",
        true,
    ),
    (
        "CertificateSigningRequest",
        "certificatesigningrequests",
        true,
    ),
    ("FlowSchema", "flowschemas", true),
    (
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        true,
    ),
    ("ComponentStatus", "componentstatuses", true),
    ("Endpoints", "endpoints", false),
    ("NetworkPolicy", "networkpolicies", false),
    ("PodSecurityPolicy", "podsecuritypolicies", true),
    ("Ingress", "ingresses", false),
    ("ResourceQuota", "resourcequotas", false),
    ("EndpointSlice", "endpointslices", false),
];

/// The resource name of a kind, and whether it is cluster-scoped.
pub fn resource_of(kind: &str) -> (String, Option<bool>) {
    if let Some((_, r, cluster)) = KNOWN.iter().find(|(k, _, _)| *k == kind) {
        return (r.to_string(), Some(*cluster));
    }
    (plural(&kind.to_ascii_lowercase()), None)
}

/// The API server's default plural of a lower-cased kind.
fn plural(kind: &str) -> String {
    if let Some(stem) = kind.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if kind.ends_with('s') || kind.ends_with("ch") || kind.ends_with("sh") || kind.ends_with('x') {
        return format!("{kind}es");
    }
    format!("{kind}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pluralises_like_the_api_server() {
        assert_eq!(resource_of("Deployment").0, "deployments");
        assert_eq!(resource_of("NetworkPolicy").0, "networkpolicies");
        assert_eq!(resource_of("Ingress").0, "ingresses");
        assert_eq!(resource_of("Gateway").0, "gateways");
        assert_eq!(resource_of("Namespace"), ("namespaces".into(), Some(true)));
        assert_eq!(resource_of("Pod"), ("pods".into(), None));
    }
}
