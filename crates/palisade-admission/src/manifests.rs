//! `palisade admission manifests`: everything that installs the webhook —
//! Namespace, ServiceAccount, ConfigMap (the configuration, written out),
//! Deployment (2 replicas, non-root, read-only root filesystem), PodDisruptionBudget,
//! Service, NetworkPolicy, break-glass RBAC and the
//! ValidatingWebhookConfiguration with the CA bundle.
//!
//! The output passes Palisade's own rules (`palisade scan` reports no
//! unsuppressed finding; a test checks it); the few exceptions are
//! suppressed inline with their reason.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::config::{Config, Operator};

/// The webhook's name in the ValidatingWebhookConfiguration.
pub const WEBHOOK_NAME: &str = "validate.palisade.dev";
/// Port of the HTTPS listener in the pod.
pub const WEBHOOK_PORT: u16 = 8443;
/// Port of the health and metrics listener in the pod.
pub const HEALTH_PORT: u16 = 8080;

/// What to generate.
#[derive(Debug, Clone)]
pub struct ManifestOptions {
    pub namespace: String,
    /// Name of the Deployment, Service, ConfigMap… (`palisade-admission`).
    pub name: String,
    pub image: String,
    /// PEM of the CA that signed the serving certificate.
    pub ca_bundle_pem: String,
    /// The configuration and its text (shipped in the ConfigMap).
    pub config: Config,
    pub config_text: String,
    /// Name of the `kubernetes.io/tls` Secret holding `tls.crt`/`tls.key`.
    pub tls_secret: String,
}

/// The image of this release.
pub fn default_image() -> String {
    format!(
        "ghcr.io/palisade-sec/palisade:{}",
        palisade_core::TOOL_VERSION
    )
}

/// Indents every line of `text` by `n` spaces.
fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A YAML double-quoted string.
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The webhook's `namespaceSelector`: not an exempt namespace by name (the
/// webhook's own namespace included, so its pods can always start), and
/// the negation of every exemption selector.
fn namespace_selector(o: &ManifestOptions) -> String {
    let mut names: Vec<String> = o.config.exemptions.namespaces.clone();
    if !names.contains(&o.namespace) {
        names.push(o.namespace.clone());
    }
    names.sort();
    names.dedup();
    let mut out = String::from("namespaceSelector:\n  matchExpressions:\n");
    out.push_str(&format!(
        "    # Exempt by name (exemptions.namespaces, and the webhook's own namespace).\n    - key: kubernetes.io/metadata.name\n      operator: NotIn\n      values: [{}]\n",
        names.iter().map(|n| q(n)).collect::<Vec<_>>().join(", ")
    ));
    for s in &o.config.exemptions.namespace_selectors {
        for r in s.requirements() {
            let n = r.negated();
            let op = match n.operator {
                Operator::In => "In",
                Operator::NotIn => "NotIn",
                Operator::Exists => "Exists",
                Operator::DoesNotExist => "DoesNotExist",
            };
            out.push_str(&format!(
                "    # Exempt by label (exemptions.namespace-selectors): the negation of {} {:?} {:?}.\n    - key: {}\n      operator: {op}\n",
                r.key,
                r.operator,
                r.values,
                q(&n.key)
            ));
            if !n.values.is_empty() {
                out.push_str(&format!(
                    "      values: [{}]\n",
                    n.values.iter().map(|v| q(v)).collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    out
}

/// The break-glass binding, when the configuration names identities.
fn break_glass_binding(o: &ManifestOptions) -> String {
    let bg = &o.config.immutability.break_glass;
    if bg.users.is_empty() && bg.groups.is_empty() {
        return String::new();
    }
    let mut subjects = String::new();
    for g in &bg.groups {
        subjects.push_str(&format!(
            "  - kind: Group\n    apiGroup: rbac.authorization.k8s.io\n    name: {}\n",
            q(g)
        ));
    }
    for u in &bg.users {
        subjects.push_str(&format!(
            "  - kind: User\n    apiGroup: rbac.authorization.k8s.io\n    name: {}\n",
            q(u)
        ));
    }
    format!(
        r#"---
# The identities of immutability.break-glass: the webhook lets them exec,
# attach, port-forward and add ephemeral containers; this binding gives them
# the RBAC permission to. Every use is logged by the webhook.
# palisade:ignore RBAC005,RBAC006,RBAC007,RBAC008 break-glass identities hold these grants on purpose; the webhook logs each use
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {name}-break-glass
  labels:
    app.kubernetes.io/name: {name}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {name}-break-glass
subjects:
{subjects}"#,
        name = o.name,
    )
}

/// The manifests, as one YAML stream.
pub fn render(o: &ManifestOptions) -> String {
    let ca_bundle = STANDARD.encode(o.ca_bundle_pem.trim().as_bytes());
    let config = indent(o.config_text.trim_end(), 4);
    // Audit mode never denies: an unreachable webhook must not either.
    let failure_policy = match o.config.mode {
        crate::config::Mode::Audit => "Ignore",
        crate::config::Mode::Enforce => o.config.failure_policy.as_kubernetes(),
    };
    let timeout = o.config.timeout_seconds;
    let selector = indent(namespace_selector(o).trim_end(), 4);
    let version = palisade_core::TOOL_VERSION;
    let mut out = TEMPLATE
        .replace("{NAME}", &o.name)
        .replace("{NAMESPACE}", &o.namespace)
        .replace("{IMAGE}", &q(&o.image))
        .replace("{VERSION}", version)
        .replace("{CONFIG}", &config)
        .replace("{CA_BUNDLE}", &ca_bundle)
        .replace("{FAILURE_POLICY}", failure_policy)
        .replace("{TIMEOUT}", &timeout.to_string())
        .replace("{NAMESPACE_SELECTOR}", &selector)
        .replace("{TLS_SECRET}", &o.tls_secret)
        .replace("{WEBHOOK}", WEBHOOK_NAME)
        .replace("{PORT}", &WEBHOOK_PORT.to_string())
        .replace("{HEALTH_PORT}", &HEALTH_PORT.to_string());
    out.push_str(&break_glass_binding(o));
    out
}

const TEMPLATE: &str = r#"# Palisade admission webhook. Generated by `palisade admission manifests`;
# see docs/admission.md. Create the serving certificate's Secret first:
#   palisade admission certs --service {NAME} --namespace {NAMESPACE} --out-dir certs/
#   kubectl -n {NAMESPACE} create secret tls {TLS_SECRET} --cert certs/tls.crt --key certs/tls.key
apiVersion: v1
kind: Namespace
metadata:
  name: {NAMESPACE}
  labels:
    app.kubernetes.io/name: {NAME}
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
---
# The webhook reads nothing from the API server: no Role, no token.
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {NAME}
  namespace: {NAMESPACE}
  labels:
    app.kubernetes.io/name: {NAME}
automountServiceAccountToken: false
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {NAME}
  namespace: {NAMESPACE}
  labels:
    app.kubernetes.io/name: {NAME}
data:
  palisade-admission.yaml: |
{CONFIG}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {NAME}
  namespace: {NAMESPACE}
  labels:
    app.kubernetes.io/name: {NAME}
    app.kubernetes.io/version: "{VERSION}"
spec:
  replicas: 2
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {NAME}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {NAME}
    spec:
      serviceAccountName: {NAME}
      automountServiceAccountToken: false
      # Longer than the drain timeout (20 s): in-flight reviews finish.
      terminationGracePeriodSeconds: 30
      priorityClassName: system-cluster-critical
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - topologyKey: kubernetes.io/hostname
              labelSelector:
                matchLabels:
                  app.kubernetes.io/name: {NAME}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        fsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: webhook
          image: {IMAGE} # palisade:ignore K8S035 pin the digest of the release you deploy (--image REF@sha256:…)
          imagePullPolicy: Always
          args:
            - admission
            - serve
            - --config=/etc/palisade/palisade-admission.yaml
            - --cert=/etc/palisade/tls/tls.crt
            - --key=/etc/palisade/tls/tls.key
            - --listen=0.0.0.0:{PORT}
            - --health-listen=0.0.0.0:{HEALTH_PORT}
          ports:
            - name: https
              containerPort: {PORT}
            - name: health
              containerPort: {HEALTH_PORT}
          readinessProbe:
            httpGet:
              path: /readyz
              port: health
            periodSeconds: 5
          livenessProbe:
            httpGet:
              path: /healthz
              port: health
            periodSeconds: 10
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
            limits:
              cpu: "1"
              memory: 256Mi
          securityContext:
            runAsNonRoot: true
            runAsUser: 65532
            runAsGroup: 65532
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            privileged: false
            capabilities:
              drop: [ALL]
            seccompProfile:
              type: RuntimeDefault
          volumeMounts:
            - name: config
              mountPath: /etc/palisade
              readOnly: true
            - name: tls
              mountPath: /etc/palisade/tls
              readOnly: true
      volumes:
        - name: config
          configMap:
            name: {NAME}
        - name: tls
          secret:
            secretName: {TLS_SECRET}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {NAME}
  namespace: {NAMESPACE}
  labels:
    app.kubernetes.io/name: {NAME}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {NAME}
---
apiVersion: v1
kind: Service
metadata:
  name: {NAME}
  namespace: {NAMESPACE}
  labels:
    app.kubernetes.io/name: {NAME}
spec:
  selector:
    app.kubernetes.io/name: {NAME}
  ports:
    - name: https
      port: 443
      targetPort: https
    - name: metrics
      port: {HEALTH_PORT}
      targetPort: health
---
# Ingress: the API server calls the webhook (its address is not known
# here); Prometheus scrapes the health port. Egress: DNS and HTTPS to image
# registries for signature verification.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {NAME}
  namespace: {NAMESPACE}
  labels:
    app.kubernetes.io/name: {NAME}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {NAME}
  policyTypes: [Ingress, Egress]
  ingress:
    - ports:
        - port: {PORT}
        - port: {HEALTH_PORT}
  egress:
    - ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
        - port: 443
---
# What break-glass identities may do to running pods (bound below when
# immutability.break-glass names users or groups).
# palisade:ignore K8S052 the break-glass role exists to grant exactly this, only to the identities the webhook lets through and logs
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {NAME}-break-glass
  labels:
    app.kubernetes.io/name: {NAME}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list]
  - apiGroups: [""]
    resources: [pods/exec, pods/attach, pods/portforward]
    verbs: [get, create]
  - apiGroups: [""]
    resources: [pods/ephemeralcontainers]
    verbs: [get, update, patch]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {NAME}
  labels:
    app.kubernetes.io/name: {NAME}
webhooks:
  - name: {WEBHOOK}
    admissionReviewVersions: [v1]
    sideEffects: None
    timeoutSeconds: {TIMEOUT}
    # failure-policy in palisade-admission.yaml; see docs/admission.md
    # (fail-closed vs fail-open).
    failurePolicy: {FAILURE_POLICY}
    matchPolicy: Equivalent
    clientConfig:
      service:
        name: {NAME}
        namespace: {NAMESPACE}
        path: /validate
        port: 443
      caBundle: {CA_BUNDLE}
{NAMESPACE_SELECTOR}
    rules:
      - apiGroups: [""]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [pods, pods/ephemeralcontainers, replicationcontrollers]
        scope: Namespaced
      - apiGroups: [""]
        apiVersions: [v1]
        operations: [CONNECT]
        resources: [pods/exec, pods/attach, pods/portforward]
        scope: Namespaced
      - apiGroups: [apps]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [deployments, statefulsets, daemonsets, replicasets]
        scope: Namespaced
      - apiGroups: [batch]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [jobs, cronjobs]
        scope: Namespaced
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn options(config_text: &str) -> ManifestOptions {
        ManifestOptions {
            namespace: "palisade".into(),
            name: "palisade-admission".into(),
            image: default_image(),
            ca_bundle_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
            config: Config::parse("c.yaml", config_text).unwrap(),
            config_text: config_text.into(),
            tls_secret: "palisade-admission-tls".into(),
        }
    }

    #[test]
    fn selector_excludes_exempt_and_own_namespaces() {
        let yaml = render(&options(
            "failure-policy: ignore\nexemptions:\n  namespaces: [kube-system, infra]\n  namespace-selectors:\n    - matchLabels: {palisade.dev/exempt: \"true\"}\n",
        ));
        assert!(
            yaml.contains("values: [\"infra\", \"kube-system\", \"palisade\"]"),
            "{yaml}"
        );
        assert!(yaml.contains("- key: \"palisade.dev/exempt\"\n          operator: NotIn\n          values: [\"true\"]"), "{yaml}");
        assert!(yaml.contains("failurePolicy: Ignore"));
        assert!(!yaml.contains("kind: ClusterRoleBinding"));
    }

    /// Audit mode never denies, so an unreachable webhook must not either;
    /// the image is written quoted (no YAML injection through --image).
    #[test]
    fn audit_mode_fails_open_and_the_image_is_quoted() {
        let mut o = options("mode: audit\nfailure-policy: fail\n");
        o.image = "x\"; y: z".into();
        let yaml = render(&o);
        assert!(yaml.contains("failurePolicy: Ignore"), "{yaml}");
        assert!(yaml.contains("image: \"x\\\"; y: z\""), "{yaml}");
        let yaml = render(&options("mode: enforce\nfailure-policy: fail\n"));
        assert!(yaml.contains("failurePolicy: Fail"), "{yaml}");
    }

    #[test]
    fn break_glass_identities_are_bound() {
        let yaml = render(&options(
            "immutability:\n  break-glass:\n    groups: [sre-oncall]\n",
        ));
        assert!(yaml.contains("kind: ClusterRoleBinding"));
        assert!(yaml.contains("name: \"sre-oncall\""));
    }
}
