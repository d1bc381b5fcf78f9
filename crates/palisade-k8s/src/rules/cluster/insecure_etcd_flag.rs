use crate::rules::cluster::flags::{Invocation, Problems};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds containers running `etcd` without TLS for clients and peers,
    /// without client-certificate authentication, or with self-signed
    /// automatic certificates (CIS Kubernetes Benchmark section 2). Flags
    /// given as `ETCD_*` environment variables count too; containers using
    /// `--config-file` are left alone.
    ///
    /// ## Why is this bad?
    /// etcd holds the whole cluster state, every Secret included, and
    /// trusts whoever can connect to it: there is no RBAC in front of it.
    /// Without TLS, Secrets cross the network in clear text; without
    /// `--client-cert-auth`, anyone who reaches port 2379 can read or
    /// rewrite every object and so own the cluster; `--auto-tls` uses
    /// self-signed certificates that authenticate nobody. The same holds
    /// for peer traffic between members.
    ///
    /// ## Example
    /// ```yaml
    /// command:
    ///   - etcd
    ///   - --listen-client-urls=http://0.0.0.0:2379
    ///   - --auto-tls=true
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// command:
    ///   - etcd
    ///   - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    ///   - --key-file=/etc/kubernetes/pki/etcd/server.key
    ///   - --client-cert-auth=true
    ///   - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    ///   - --peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt
    ///   - --peer-key-file=/etc/kubernetes/pki/etcd/peer.key
    ///   - --peer-client-cert-auth=true
    ///   - --peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 2: etcd
    /// - NSA/CISA Kubernetes Hardening Guide: Control plane hardening
    /// - CWE-319: Cleartext Transmission of Sensitive Information
    /// - https://etcd.io/docs/latest/op-guide/security/
    pub struct InsecureEtcdFlag {
        code: "K8S082",
        name: "insecure-etcd-flag",
        title: "etcd runs without TLS or client authentication",
        severity: High,
        references: [
            Cis("2"),
            Nsa("Control plane hardening"),
            Cwe("CWE-319"),
            Url("https://etcd.io/docs/latest/op-guide/security/"),
        ],
        fix: "Run etcd with certificate files, `--client-cert-auth=true` and `--peer-client-cert-auth=true`, and without `--auto-tls`.",
    }
}

impl Rule for InsecureEtcdFlag {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for inv in Invocation::find(&pod, "etcd", Some("ETCD_")) {
            // A configuration file overrides every flag.
            if inv.get("config-file").is_some() {
                continue;
            }
            let mut p = Problems::new(&inv);
            for name in ["cert-file", "key-file"] {
                p.require(name, "2.1", "clients connect without TLS");
            }
            p.require_bool(
                "client-cert-auth",
                true,
                false,
                "2.2",
                "any client that reaches etcd can read and write every object",
            );
            p.forbid_true(
                "auto-tls",
                "2.3",
                "self-signed certificates authenticate nobody",
            );
            for name in ["peer-cert-file", "peer-key-file"] {
                p.require(name, "2.4", "peer traffic is not encrypted");
            }
            p.require_bool(
                "peer-client-cert-auth",
                true,
                false,
                "2.5",
                "anyone who reaches the peer port can join or talk to the cluster",
            );
            p.forbid_true(
                "peer-auto-tls",
                "2.6",
                "self-signed peer certificates authenticate nobody",
            );
            for (loc, message) in p.found {
                cx.report(loc, message);
            }
        }
    }
}
