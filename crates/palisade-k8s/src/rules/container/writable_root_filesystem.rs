use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers whose `securityContext.readOnlyRootFilesystem` is not
    /// `true`. Windows pods (`spec.os.name: windows`), where the field is not
    /// supported, are skipped.
    ///
    /// ## Why is this bad?
    /// A writable root filesystem lets an attacker who gets code execution
    /// persist in the container: drop tools and web shells, replace the
    /// application's binaries or libraries, or tamper with its
    /// configuration, all of which survive until the container is
    /// recreated. An immutable filesystem also makes such changes visible:
    /// anything that must be written goes to a declared volume.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Fix
    /// Make the root filesystem read-only and mount an `emptyDir` where the
    /// application needs to write:
    /// ```yaml
    ///     securityContext:
    ///       readOnlyRootFilesystem: true
    ///     volumeMounts:
    ///       - {name: tmp, mountPath: /tmp}
    /// volumes:
    ///   - {name: tmp, emptyDir: {}}
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Immutable container file systems
    /// - CIS Kubernetes Benchmark 5.7.3: Apply Security Context to Your Pods and Containers
    pub struct WritableRootFilesystem {
        code: "K8S020",
        name: "writable-root-filesystem",
        title: "Container root filesystem is writable",
        severity: Medium,
        references: [Nsa("Immutable container file systems"), Cis("5.7.3")],
        fix: "Set `securityContext.readOnlyRootFilesystem: true` and mount emptyDir volumes where the container writes.",
    }
}

impl Rule for WritableRootFilesystem {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        if pod.is_windows() {
            return;
        }
        for c in pod.containers() {
            if c.security("readOnlyRootFilesystem").and_then(Node::as_bool) != Some(true) {
                cx.report(
                    c.at(&["securityContext", "readOnlyRootFilesystem"]),
                    format!("{} has a writable root filesystem", c.describe()),
                );
            }
        }
    }
}
