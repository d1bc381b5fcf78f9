//! Risky grants, subject by subject: what each user, group and service
//! account can do through the bindings that name it, judged against the
//! known privilege-escalation and data-access patterns. One rule per file.
//!
//! Findings point at the binding subject that grants the power, name the
//! role (with its file and line) and the workloads that run as the service
//! account, so a reader sees the blast radius at once.

use std::collections::HashMap;

use rayon::prelude::*;

use palisade_core::{Finding, RuleMeta, Severity};

use super::policy::{Grant, Policy, Principal, rule_allows_resource};
use super::resources::grantable_in_namespace;
use crate::rules::Described;
use crate::workload::Loc;

mod admission_webhooks;
mod anonymous_access;
mod approve_csr;
mod attach_to_pods;
mod binding_to_missing_role;
mod create_secrets;
mod create_workloads;
mod ephemeral_containers;
mod escalate_or_bind;
mod exec_into_pods;
mod full_access;
mod impersonate;
mod invalid_rbac_object;
mod modify_aws_auth;
mod modify_pods;
mod modify_policy_engines;
mod modify_status;
mod nodes_proxy;
mod port_forward;
mod read_secrets;
mod steal_pods;
mod token_request;
mod wildcard_grant;

/// A check of one principal's grants (or of the policy as a whole).
pub trait RiskRule: Described + Send + Sync + 'static {
    /// Checks one principal.
    fn check(&self, _cx: &mut RiskCx<'_>) {}

    /// Checks the RBAC objects themselves, once per run.
    fn check_policy(&self, _policy: &Policy, _out: &mut Vec<Finding>) {}
}

impl std::fmt::Debug for dyn RiskRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.meta().code)
    }
}

/// Every RBAC risk rule, in code order.
pub static RULES: &[&dyn RiskRule] = &[
    &full_access::FullAccess,
    &wildcard_grant::WildcardGrant,
    &read_secrets::ReadSecrets,
    &create_workloads::CreateWorkloads,
    &exec_into_pods::ExecIntoPods,
    &attach_to_pods::AttachToPods,
    &ephemeral_containers::EphemeralContainers,
    &port_forward::PortForward,
    &escalate_or_bind::EscalateOrBind,
    &impersonate::Impersonate,
    &token_request::TokenRequest,
    &create_secrets::CreateSecrets,
    &approve_csr::ApproveCsr,
    &admission_webhooks::AdmissionWebhooks,
    &nodes_proxy::NodesProxy,
    &modify_status::ModifyStatus,
    &steal_pods::StealPods,
    &anonymous_access::AnonymousAccess,
    &modify_pods::ModifyPods,
    &modify_policy_engines::ModifyPolicyEngines,
    &modify_aws_auth::ModifyAwsAuth,
    &binding_to_missing_role::BindingToMissingRole,
    &invalid_rbac_object::InvalidRbacObject,
];

/// A permission to look for: verb, API group, `resource[/subresource]`,
/// and the object name (empty = any object).
#[derive(Debug, Clone, Copy)]
pub struct Perm {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub name: &'static str,
}

impl Perm {
    pub const fn new(verb: &'static str, group: &'static str, resource: &'static str) -> Perm {
        Perm {
            verb,
            group,
            resource,
            name: "",
        }
    }

    pub const fn named(
        verb: &'static str,
        group: &'static str,
        resource: &'static str,
        name: &'static str,
    ) -> Perm {
        Perm {
            verb,
            group,
            resource,
            name,
        }
    }
}

/// A grant of one principal: the namespace it applies in (`""` =
/// cluster-wide, through a ClusterRoleBinding) and the grant.
pub type ScopedGrant = (String, Grant);

/// What a risk rule sees for one principal.
#[derive(Debug)]
pub struct RiskCx<'a> {
    pub policy: &'a Policy,
    pub principal: &'a Principal,
    /// Grants through bindings that name the principal itself.
    pub grants: &'a [ScopedGrant],
    include_system: bool,
    /// "; Deployment ns/x runs as it" for the principal, precomputed.
    runs: &'a str,
    rule: &'static RuleMeta,
    out: &'a mut Vec<Finding>,
}

impl<'a> RiskCx<'a> {
    /// The grants allowing `perm`, with the scope they allow it in. A
    /// RoleBinding grant never allows a cluster-scoped resource.
    pub fn allowing(&self, perm: Perm) -> Vec<&'a ScopedGrant> {
        let (resource, sub) = perm.resource.split_once('/').unwrap_or((perm.resource, ""));
        let namespaced = grantable_in_namespace(perm.verb, perm.group, resource);
        self.grants
            .iter()
            .filter(|(scope, grant)| {
                (namespaced || scope.is_empty())
                    && self.policy.rule(grant.rule).is_some_and(|r| {
                        rule_allows_resource(r, perm.verb, perm.group, resource, sub, perm.name)
                    })
            })
            .collect()
    }

    /// The grants allowing any of `perms`.
    pub fn allowing_any(&self, perms: &[Perm]) -> Vec<&'a ScopedGrant> {
        let mut out: Vec<&ScopedGrant> = perms.iter().flat_map(|p| self.allowing(*p)).collect();
        out.sort();
        out.dedup();
        out
    }

    /// Reports the principal's risk, `what` it can do, citing `evidence`.
    pub fn report(&mut self, evidence: &[&ScopedGrant], what: &str) {
        let severity = self.rule.severity;
        self.report_with(severity, evidence, what);
    }

    /// Like [`RiskCx::report`] with a severity other than the rule's.
    pub fn report_with(&mut self, severity: Severity, evidence: &[&ScopedGrant], what: &str) {
        let Some(first) = evidence.first() else {
            return;
        };
        let cluster_wide = evidence.iter().any(|(scope, _)| scope.is_empty());
        let scope = if cluster_wide {
            "cluster-wide".to_string()
        } else {
            let mut namespaces: Vec<&str> = evidence.iter().map(|(s, _)| s.as_str()).collect();
            namespaces.sort_unstable();
            namespaces.dedup();
            format!("in namespace {}", namespaces.join(", "))
        };
        let via = describe_grant(self.policy, &first.1);
        let runs = self.runs;
        let message = format!("{} can {what} {scope} through {via}{runs}", self.principal);
        let severity = if self.principal.is_system() && !self.include_system {
            Severity::Info
        } else {
            severity
        };
        if let Some(f) = finding_at_subject(
            self.policy,
            self.rule,
            first.1.binding,
            self.principal,
            severity,
            message,
        ) {
            self.out.push(f);
        }
    }
}

/// "; Deployment argocd/argocd-server runs as it" for each service account
/// that workloads run as.
fn workloads_by_account(policy: &Policy) -> HashMap<(String, String), String> {
    let mut by: HashMap<(String, String), Vec<String>> = HashMap::new();
    for w in &policy.data.workloads {
        by.entry((w.namespace.clone(), w.service_account.clone()))
            .or_default()
            .push(crate::rules::cx::describe(&w.origin.resource));
    }
    by.into_iter()
        .map(|(k, mut workloads)| {
            workloads.sort();
            workloads.dedup();
            let text = match workloads.len() {
                0 => String::new(),
                1 => format!("; {} runs as it", workloads.join("")),
                n if n <= 3 => format!("; {} run as it", workloads.join(", ")),
                n => format!(
                    "; {} and {} more workloads run as it",
                    workloads
                        .iter()
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    n - 3
                ),
            };
            (k, text)
        })
        .collect()
}

/// `ClusterRoleBinding argocd-server → ClusterRole argocd-server
/// (install.yaml:123)`, naming the aggregated-from role when the rule came
/// from aggregation.
pub fn describe_grant(policy: &Policy, grant: &Grant) -> String {
    let Some(b) = policy.binding(grant.binding) else {
        return String::new();
    };
    let binding = if b.cluster {
        format!("ClusterRoleBinding {}", b.name)
    } else {
        format!("RoleBinding {}/{}", b.namespace, b.name)
    };
    let Some(role) = policy.role(grant.role) else {
        return binding;
    };
    let mut s = format!("{binding} → {}", role_label(role));
    if grant.rule.role != grant.role
        && let Some(from) = policy.role(grant.rule.role)
    {
        s.push_str(&format!(" (aggregating ClusterRole {})", from.name));
    }
    if let Some(rule_role) = policy.role(grant.rule.role)
        && let Some(w) = rule_role.rules.get(grant.rule.index)
    {
        s.push_str(&format!(
            " ({}:{})",
            rule_role.origin.file.path, w.span.start.line
        ));
    }
    s
}

fn role_label(role: &super::model::Role) -> String {
    match role.kind {
        super::model::RoleKind::Role => format!("Role {}/{}", role.namespace, role.name),
        super::model::RoleKind::ClusterRole => format!("ClusterRole {}", role.name),
    }
}

/// A finding located at the principal's entry in the binding's `subjects`.
fn finding_at_subject(
    policy: &Policy,
    rule: &'static RuleMeta,
    binding: usize,
    principal: &Principal,
    severity: Severity,
    message: String,
) -> Option<Finding> {
    let b = policy.binding(binding)?;
    let subject = b.subjects.iter().find(|s| match principal {
        Principal::User(n) => s.kind == super::model::SubjectKind::User && &s.name == n,
        Principal::Group(n) => s.kind == super::model::SubjectKind::Group && &s.name == n,
        Principal::ServiceAccount { namespace, name } => {
            s.kind == super::model::SubjectKind::ServiceAccount
                && &s.namespace == namespace
                && &s.name == name
        }
    });
    let loc = match subject {
        Some(s) => Loc {
            span: s.span,
            pointer: format!("/subjects/{}", s.index),
            container: None,
        },
        None => b.origin.at_anchor(),
    };
    Some(b.origin.finding_with(rule, severity, loc, message))
}

/// Options of the risk analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct RiskOptions {
    /// Report built-in controller identities at their rule's severity
    /// instead of as info.
    pub include_system: bool,
}

/// Runs `rules` over every principal of `policy`.
pub fn analyze(
    policy: &Policy,
    rules: &[&'static dyn RiskRule],
    options: RiskOptions,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in rules {
        rule.check_policy(policy, &mut out);
    }
    let runs_as = workloads_by_account(policy);
    // Principals are independent: analyse them in parallel, in order.
    let per_principal: Vec<Vec<Finding>> = policy
        .principals()
        .par_iter()
        .map(|principal| {
            let mut found = Vec::new();
            let grants = policy.direct_grants(principal);
            if grants.is_empty() {
                return found;
            }
            // Holding everything cluster-wide subsumes every narrower risk:
            // report that once instead of twenty times.
            let everything = super::paths::cluster_admin_grant(policy, &grants).is_some();
            let runs = match principal {
                Principal::ServiceAccount { namespace, name } => runs_as
                    .get(&(namespace.clone(), name.clone()))
                    .map_or("", String::as_str),
                _ => "",
            };
            for rule in rules {
                if everything && !matches!(rule.meta().code.as_ref(), "RBAC001" | "RBAC018") {
                    continue;
                }
                let mut cx = RiskCx {
                    policy,
                    principal,
                    grants: &grants,
                    include_system: options.include_system,
                    runs,
                    rule: rule.meta(),
                    out: &mut found,
                };
                rule.check(&mut cx);
            }
            found
        })
        .collect();
    out.extend(per_principal.into_iter().flatten());
    out
}
