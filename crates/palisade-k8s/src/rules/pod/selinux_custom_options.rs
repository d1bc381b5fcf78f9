use crate::rules::{Cx, Rule};
use crate::workload::Loc;
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds `seLinuxOptions` (on the pod or a container) that set a custom
    /// SELinux `user` or `role`, or a `type` other than the container types
    /// `container_t`, `container_init_t`, `container_kvm_t` and
    /// `container_engine_t`. Setting only `level` (the MCS categories) is
    /// allowed.
    ///
    /// ## Why is this bad?
    /// On SELinux-enforcing nodes (RHEL, Fedora CoreOS, OpenShift) the
    /// `container_t` type is what keeps a container's processes away from
    /// the host's files, even when they run as root. A custom type such as
    /// `spc_t` or `unconfined_t`, or a custom user or role, can lift that
    /// confinement entirely.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     seLinuxOptions:
    ///       type: spc_t
    /// ```
    ///
    /// ## Fix
    /// Remove `user`, `role` and custom `type`; keep only `level` if you need
    /// specific MCS categories:
    /// ```yaml
    ///     seLinuxOptions:
    ///       level: "s0:c123,c456"
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: SELinux
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct SelinuxCustomOptions {
        code: "K8S024",
        name: "selinux-custom-options",
        title: "Custom SELinux type, user or role",
        severity: Medium,
        references: [Pss("baseline"), Nsa("Pod security")],
        fix: "Remove custom SELinux `type`, `user` and `role` options (keep only `level` if needed).",
    }
}

const ALLOWED_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// The offending fields of one `seLinuxOptions`: (field, what is set).
fn problems(options: &Node) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let value = |key: &str| {
        options
            .get(key)
            .and_then(Node::as_str)
            .filter(|v| !v.is_empty())
    };
    if let Some(t) = value("type")
        && !ALLOWED_TYPES.contains(&t)
    {
        out.push(("type", format!("SELinux type `{t}`")));
    }
    if let Some(u) = value("user") {
        out.push(("user", format!("SELinux user `{u}`")));
    }
    if let Some(r) = value("role") {
        out.push(("role", format!("SELinux role `{r}`")));
    }
    out
}

impl Rule for SelinuxCustomOptions {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        let mut found: Vec<(Loc, String)> = Vec::new();
        if let Some(options) = pod.security("seLinuxOptions") {
            for (field, what) in problems(options) {
                found.push((
                    pod.at(&["securityContext", "seLinuxOptions", field]),
                    format!("{} sets custom {what} for its containers", cx.describe()),
                ));
            }
        }
        for c in pod.containers() {
            if let Some(options) = c.security("seLinuxOptions") {
                for (field, what) in problems(options) {
                    found.push((
                        c.at(&["securityContext", "seLinuxOptions", field]),
                        format!("{} sets custom {what}", c.describe()),
                    ));
                }
            }
        }
        for (loc, message) in found {
            cx.report(loc, message);
        }
    }
}
