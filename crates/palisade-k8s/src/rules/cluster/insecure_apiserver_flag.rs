use crate::rules::cluster::flags::{Invocation, Problems, list};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds containers running `kube-apiserver` (kubeadm static pods and
    /// similar manifests) with flags the CIS Kubernetes Benchmark (section
    /// 1.2) marks as insecure, or without the flags it requires — one
    /// finding per flag, naming the recommendation: anonymous access,
    /// static token files, authorization and admission plugins, profiling,
    /// audit logging, service account keys, TLS to clients, kubelets and
    /// etcd, and encryption of Secrets at rest.
    ///
    /// ## Why is this bad?
    /// The API server is the cluster's front door and its only gatekeeper.
    /// `AlwaysAllow` authorization or `AlwaysAdmit` admission lets any
    /// authenticated caller do anything; anonymous access and static token
    /// files give attackers identities that never expire; without TLS
    /// verification of etcd and kubelets, anyone on the control-plane
    /// network can impersonate them; without an encryption provider every
    /// Secret sits in etcd in plain text; and without an audit log nobody
    /// can tell afterwards what an intruder did.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: kube-apiserver
    ///     command:
    ///       - kube-apiserver
    ///       - --authorization-mode=AlwaysAllow
    ///       - --anonymous-auth=true
    ///       - --profiling=true
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     command:
    ///       - kube-apiserver
    ///       - --anonymous-auth=false
    ///       - --authorization-mode=Node,RBAC
    ///       - --enable-admission-plugins=NodeRestriction
    ///       - --profiling=false
    ///       - --audit-log-path=/var/log/kubernetes/audit.log
    ///       - --encryption-provider-config=/etc/kubernetes/encryption.yaml
    ///       # plus the certificate and key flags for clients, kubelets and etcd
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 1.2: API Server
    /// - NSA/CISA Kubernetes Hardening Guide: Control plane hardening
    /// - CWE-306: Missing Authentication for Critical Function
    /// - https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/
    pub struct InsecureApiserverFlag {
        code: "K8S079",
        name: "insecure-apiserver-flag",
        title: "kube-apiserver runs with an insecure flag",
        severity: High,
        references: [
            Cis("1.2"),
            Nsa("Control plane hardening"),
            Cwe("CWE-306"),
            Url("https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/"),
        ],
        fix: "Set the kube-apiserver flags the CIS Benchmark section 1.2 requires, as each finding names.",
    }
}

/// Flags that must be set, with their CIS recommendation.
const REQUIRED: &[(&str, &str, &str)] = &[
    (
        "kubelet-certificate-authority",
        "1.2.5",
        "it does not verify the kubelets' serving certificates",
    ),
    (
        "audit-log-path",
        "1.2.17",
        "no audit log records who did what",
    ),
    (
        "service-account-key-file",
        "1.2.23",
        "service account tokens cannot be verified against a dedicated key",
    ),
    (
        "etcd-certfile",
        "1.2.24",
        "it does not authenticate to etcd with a client certificate",
    ),
    (
        "etcd-keyfile",
        "1.2.24",
        "it does not authenticate to etcd with a client certificate",
    ),
    (
        "tls-cert-file",
        "1.2.25",
        "it serves no certificate of its own",
    ),
    (
        "tls-private-key-file",
        "1.2.25",
        "it serves no certificate of its own",
    ),
    (
        "client-ca-file",
        "1.2.26",
        "client certificates cannot be verified",
    ),
    (
        "etcd-cafile",
        "1.2.27",
        "it does not verify etcd's certificate",
    ),
    (
        "encryption-provider-config",
        "1.2.28",
        "Secrets are stored in etcd unencrypted",
    ),
];

fn check(p: &mut Problems<'_, '_>, inv: &Invocation<'_>) {
    p.require_bool(
        "anonymous-auth",
        false,
        true,
        "1.2.1",
        "unauthenticated requests are served as system:anonymous",
    );
    if let Some(flag) = inv.get("token-auth-file") {
        p.bad(
            &flag,
            "1.2.2",
            "static bearer tokens never expire and cannot be revoked without a restart",
        );
    }
    // Structured authorization configuration replaces the mode flag.
    if inv.get("authorization-config").is_none() {
        match inv.get("authorization-mode") {
            None => p.missing(
                "authorization-mode",
                "=Node,RBAC",
                "1.2.6",
                "it defaults to AlwaysAllow, so every authenticated request is allowed",
            ),
            Some(flag) => {
                let modes = list(&flag.value);
                if modes.contains(&"AlwaysAllow") {
                    p.bad(&flag, "1.2.6", "every authenticated request is allowed");
                }
                if !modes.contains(&"Node") {
                    p.bad(
                        &flag,
                        "1.2.7",
                        "the Node authorizer does not limit kubelets to their own node's objects",
                    );
                }
                if !modes.contains(&"RBAC") {
                    p.bad(&flag, "1.2.8", "RBAC is not enforced");
                }
            }
        }
    }
    let enabled = inv.get("enable-admission-plugins");
    if let Some(flag) = &enabled
        && list(&flag.value).contains(&"AlwaysAdmit")
    {
        p.bad(flag, "1.2.10", "admission control accepts every request");
    }
    let disabled = inv
        .get("disable-admission-plugins")
        .filter(|f| list(&f.value).contains(&"NodeRestriction"));
    match (&enabled, disabled) {
        (_, Some(flag)) => p.bad(
            &flag,
            "1.2.15",
            "a compromised kubelet can modify other nodes and their pods",
        ),
        (Some(flag), None) if !list(&flag.value).contains(&"NodeRestriction") => p.bad(
            flag,
            "1.2.15",
            "NodeRestriction is not enabled, so a compromised kubelet can modify other nodes and their pods",
        ),
        (None, None) => p.missing(
            "enable-admission-plugins",
            "=NodeRestriction",
            "1.2.15",
            "a compromised kubelet can modify other nodes and their pods",
        ),
        _ => {}
    }
    p.require_bool(
        "profiling",
        false,
        true,
        "1.2.16",
        "the /debug/pprof endpoints expose internals and can be used to exhaust resources",
    );
    if let Some(flag) = inv.get("service-account-lookup")
        && inv.bool("service-account-lookup") == Some(false)
    {
        p.bad(
            &flag,
            "1.2.22",
            "tokens of deleted service accounts stay valid",
        );
    }
    for (name, cis, effect) in REQUIRED {
        p.require(name, cis, effect);
    }
}

impl Rule for InsecureApiserverFlag {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for inv in Invocation::find(&pod, "kube-apiserver", None) {
            let mut p = Problems::new(&inv);
            check(&mut p, &inv);
            for (loc, message) in p.found {
                cx.report(loc, message);
            }
        }
    }
}
