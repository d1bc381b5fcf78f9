use crate::rules::cluster::flags::{Invocation, Problems};
use crate::rules::cluster::insecure_controller_manager_flag::is_loopback;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds containers running `kube-scheduler` with profiling on (when no
    /// `--config` file sets it instead) or serving on an address other than
    /// loopback (CIS Kubernetes Benchmark section 1.4).
    ///
    /// ## Why is this bad?
    /// The scheduler's secure port serves health, metrics and, with
    /// profiling, `/debug/pprof`, which reveals internals and can be used
    /// to exhaust the control plane's resources. Nothing outside the node
    /// needs to reach it.
    ///
    /// ## Example
    /// ```yaml
    /// command:
    ///   - kube-scheduler
    ///   - --bind-address=0.0.0.0
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// command:
    ///   - kube-scheduler
    ///   - --bind-address=127.0.0.1
    ///   - --profiling=false
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 1.4: Scheduler
    /// - NSA/CISA Kubernetes Hardening Guide: Control plane hardening
    /// - https://kubernetes.io/docs/reference/command-line-tools-reference/kube-scheduler/
    pub struct InsecureSchedulerFlag {
        code: "K8S081",
        name: "insecure-scheduler-flag",
        title: "kube-scheduler runs with an insecure flag",
        severity: Medium,
        references: [
            Cis("1.4"),
            Nsa("Control plane hardening"),
            Url("https://kubernetes.io/docs/reference/command-line-tools-reference/kube-scheduler/"),
        ],
        fix: "Run kube-scheduler with `--profiling=false` and `--bind-address=127.0.0.1`.",
    }
}

impl Rule for InsecureSchedulerFlag {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for inv in Invocation::find(&pod, "kube-scheduler", None) {
            let mut p = Problems::new(&inv);
            // With --config, the profiling flag is ignored (the file's
            // enableProfiling decides).
            if inv.get("config").is_none() {
                p.require_bool(
                    "profiling",
                    false,
                    true,
                    "1.4.1",
                    "the /debug/pprof endpoints expose internals",
                );
            }
            match inv.get("bind-address") {
                Some(flag) if !is_loopback(&flag.value) => p.bad(
                    &flag,
                    "1.4.2",
                    "its endpoints are reachable from the network",
                ),
                Some(_) => {}
                None => p.missing(
                    "bind-address",
                    "=127.0.0.1",
                    "1.4.2",
                    "it listens on all interfaces",
                ),
            }
            for (loc, message) in p.found {
                cx.report(loc, message);
            }
        }
    }
}
