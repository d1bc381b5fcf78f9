use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds objects written with an `apiVersion` that Kubernetes has
    /// removed, and names the version it was removed in and the one to use
    /// instead (from `extensions/v1beta1` Deployments, gone in 1.16, to
    /// `flowcontrol.apiserver.k8s.io/v1beta3`, gone in 1.32).
    ///
    /// ## Why is this bad?
    /// The API server refuses objects of a removed version (`no matches for
    /// kind "Ingress" in version "extensions/v1beta1"`), so the manifest
    /// fails to apply on a current cluster — typically in the middle of an
    /// upgrade, or a security fix that cannot roll out. Such manifests are
    /// also usually unmaintained, and their fields lag the security
    /// settings of the current API.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: extensions/v1beta1
    /// kind: Ingress
    /// metadata: {name: shop}
    /// ```
    ///
    /// ## Fix
    /// Move to the replacement version (and its schema, which sometimes
    /// differs: `networking.k8s.io/v1` Ingresses use `pathType` and
    /// `service.name`); `kubectl convert` can help:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Upgrading and application security practices
    /// - https://kubernetes.io/docs/reference/using-api/deprecation-guide/
    pub struct DeprecatedApiVersion {
        code: "K8S062",
        name: "deprecated-api-version",
        title: "Object uses a removed API version",
        severity: Medium,
        references: [
            Nsa("Upgrading and application security practices"),
            Url("https://kubernetes.io/docs/reference/using-api/deprecation-guide/"),
        ],
        fix: "Move the object to the API version that replaced it, adapting fields the new schema changed.",
    }
}

/// A removed `apiVersion` (for some kinds, or all when `kinds` is empty).
struct Removed {
    api_version: &'static str,
    kinds: &'static [&'static str],
    removed_in: &'static str,
    /// What to use instead.
    use_instead: &'static str,
}

const fn removed(
    api_version: &'static str,
    kinds: &'static [&'static str],
    removed_in: &'static str,
    use_instead: &'static str,
) -> Removed {
    Removed {
        api_version,
        kinds,
        removed_in,
        use_instead,
    }
}

const ALL: &[&str] = &[];
const FLOW_CONTROL: &[&str] = &["FlowSchema", "PriorityLevelConfiguration"];

/// Removed API versions. Kinds are listed where a group version was later
/// reused for new kinds (e.g. `admissionregistration.k8s.io/v1beta1`
/// ValidatingAdmissionPolicy in 1.28).
static REMOVED: &[Removed] = &[
    removed(
        "extensions/v1beta1",
        &["Deployment", "DaemonSet", "ReplicaSet"],
        "1.16",
        "apps/v1",
    ),
    removed(
        "extensions/v1beta1",
        &["NetworkPolicy"],
        "1.16",
        "networking.k8s.io/v1",
    ),
    removed(
        "extensions/v1beta1",
        &["PodSecurityPolicy"],
        "1.16",
        "Pod Security Admission (PodSecurityPolicy itself was removed in 1.25)",
    ),
    removed(
        "extensions/v1beta1",
        &["Ingress"],
        "1.22",
        "networking.k8s.io/v1",
    ),
    removed("apps/v1beta1", ALL, "1.16", "apps/v1"),
    removed("apps/v1beta2", ALL, "1.16", "apps/v1"),
    removed("batch/v1beta1", &["CronJob"], "1.25", "batch/v1"),
    removed(
        "policy/v1beta1",
        &["PodDisruptionBudget"],
        "1.25",
        "policy/v1",
    ),
    removed(
        "policy/v1beta1",
        &["PodSecurityPolicy"],
        "1.25",
        "Pod Security Admission",
    ),
    removed(
        "networking.k8s.io/v1beta1",
        &["Ingress", "IngressClass"],
        "1.22",
        "networking.k8s.io/v1",
    ),
    removed(
        "rbac.authorization.k8s.io/v1beta1",
        ALL,
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    removed(
        "rbac.authorization.k8s.io/v1alpha1",
        ALL,
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    removed(
        "admissionregistration.k8s.io/v1beta1",
        &[
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ],
        "1.22",
        "admissionregistration.k8s.io/v1",
    ),
    removed(
        "apiextensions.k8s.io/v1beta1",
        &["CustomResourceDefinition"],
        "1.22",
        "apiextensions.k8s.io/v1",
    ),
    removed(
        "apiregistration.k8s.io/v1beta1",
        &["APIService"],
        "1.22",
        "apiregistration.k8s.io/v1",
    ),
    removed(
        "authentication.k8s.io/v1beta1",
        &["TokenReview"],
        "1.22",
        "authentication.k8s.io/v1",
    ),
    removed(
        "authorization.k8s.io/v1beta1",
        ALL,
        "1.22",
        "authorization.k8s.io/v1",
    ),
    removed(
        "certificates.k8s.io/v1beta1",
        &["CertificateSigningRequest"],
        "1.22",
        "certificates.k8s.io/v1",
    ),
    removed(
        "coordination.k8s.io/v1beta1",
        &["Lease"],
        "1.22",
        "coordination.k8s.io/v1",
    ),
    removed(
        "scheduling.k8s.io/v1beta1",
        &["PriorityClass"],
        "1.22",
        "scheduling.k8s.io/v1",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        &["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"],
        "1.22",
        "storage.k8s.io/v1",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        &["CSIStorageCapacity"],
        "1.27",
        "storage.k8s.io/v1",
    ),
    removed(
        "autoscaling/v2beta1",
        &["HorizontalPodAutoscaler"],
        "1.25",
        "autoscaling/v2",
    ),
    removed(
        "autoscaling/v2beta2",
        &["HorizontalPodAutoscaler"],
        "1.26",
        "autoscaling/v2",
    ),
    removed(
        "discovery.k8s.io/v1beta1",
        &["EndpointSlice"],
        "1.25",
        "discovery.k8s.io/v1",
    ),
    removed(
        "events.k8s.io/v1beta1",
        &["Event"],
        "1.25",
        "events.k8s.io/v1",
    ),
    removed(
        "node.k8s.io/v1beta1",
        &["RuntimeClass"],
        "1.25",
        "node.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        FLOW_CONTROL,
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        FLOW_CONTROL,
        "1.29",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        FLOW_CONTROL,
        "1.32",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    removed(
        "resource.k8s.io/v1alpha2",
        ALL,
        "1.31",
        "the current resource.k8s.io version (dynamic resource allocation was redesigned in 1.31)",
    ),
];

impl Rule for DeprecatedApiVersion {
    fn check(&self, cx: &mut Cx<'_>) {
        let api_version = cx.obj.api_version.as_str();
        let kind = cx.obj.kind.as_str();
        let Some(r) = REMOVED.iter().find(|r| {
            r.api_version == api_version && (r.kinds.is_empty() || r.kinds.contains(&kind))
        }) else {
            return;
        };
        let message = format!(
            "{} uses {api_version}, removed in Kubernetes {}; use {}",
            cx.describe(),
            r.removed_in,
            r.use_instead
        );
        cx.report(cx.at(&["apiVersion"]), message);
    }
}
