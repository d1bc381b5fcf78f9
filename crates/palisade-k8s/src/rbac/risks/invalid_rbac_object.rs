use palisade_core::Finding;

use super::RiskRule;
use crate::rbac::policy::{Policy, Problem};
use crate::rules::Described;
use crate::workload::Loc;

declare_rule! {
    /// ## What it does
    /// Finds RBAC objects that are wrong in themselves: bindings with a
    /// subject kind other than User, Group or ServiceAccount (or a
    /// ServiceAccount without a namespace in a ClusterRoleBinding), roles and
    /// bindings defined twice under the same name (the last one wins), and
    /// roles without any rule or aggregation.
    ///
    /// ## Why is this bad?
    /// These are mistakes that change what is granted without anyone
    /// noticing: a duplicated name means one definition silently replaces
    /// another when applied; a misspelt subject kind (`Serviceaccount`)
    /// grants nothing while reviewers believe it does.
    ///
    /// ## Example
    /// ```yaml
    /// subjects:
    ///   - kind: Serviceaccount   # not a subject kind
    ///     name: deployer
    /// ```
    ///
    /// ## Fix
    /// Correct the subject kind, keep one definition per name, and delete
    /// empty roles.
    ///
    /// ## References
    /// - Kubernetes documentation: Using RBAC Authorization
    pub struct InvalidRbacObject {
        code: "RBAC023",
        name: "invalid-rbac-object",
        title: "RBAC object is malformed, duplicated or empty",
        severity: Low,
        scanner: Rbac,
        references: [Url("https://kubernetes.io/docs/reference/access-authn-authz/rbac/")],
        fix: "Fix the subject kind, remove duplicate definitions, and delete roles without rules.",
    }
}

impl RiskRule for InvalidRbacObject {
    fn check_policy(&self, policy: &Policy, out: &mut Vec<Finding>) {
        for b in &policy.data.bindings {
            for s in &b.unknown_subjects {
                let loc = Loc {
                    span: s.span,
                    pointer: String::new(),
                    container: None,
                };
                let message = if s.no_namespace {
                    format!(
                        "{} {} names ServiceAccount `{}` without a namespace, which a ClusterRoleBinding requires (the API server rejects it): it grants nothing",
                        b.kind_str(),
                        b.name,
                        s.name
                    )
                } else {
                    format!(
                        "{} {} names subject `{}` of kind `{}`, which Kubernetes does not know (User, Group or ServiceAccount): it grants nothing",
                        b.kind_str(),
                        b.name,
                        s.name,
                        s.kind
                    )
                };
                out.push(b.origin.finding(self.meta(), loc, message));
            }
        }
        for p in &policy.problems {
            match p {
                Problem::DuplicateRole { kept, dropped } => {
                    let (Some(k), Some(d)) = (policy.role(*kept), policy.role(*dropped)) else {
                        continue;
                    };
                    let message = format!(
                        "{} {} is defined more than once; this definition is replaced by the one at {}:{}",
                        d.kind.as_str(),
                        d.name,
                        k.origin.file.path,
                        k.origin.start_line
                    );
                    out.push(d.origin.finding(self.meta(), d.origin.at_anchor(), message));
                }
                Problem::DuplicateBinding { kept, dropped } => {
                    let (Some(k), Some(d)) = (policy.binding(*kept), policy.binding(*dropped))
                    else {
                        continue;
                    };
                    let message = format!(
                        "{} {} is defined more than once; this definition is replaced by the one at {}:{}",
                        d.kind_str(),
                        d.name,
                        k.origin.file.path,
                        k.origin.start_line
                    );
                    out.push(d.origin.finding(self.meta(), d.origin.at_anchor(), message));
                }
                Problem::EmptyRole { role } => {
                    let Some(r) = policy.role(*role) else {
                        continue;
                    };
                    let message = format!(
                        "{} {} has no rules and no aggregation: it grants nothing",
                        r.kind.as_str(),
                        r.name
                    );
                    out.push(r.origin.finding(self.meta(), r.origin.at_anchor(), message));
                }
                Problem::MissingRole { .. } => {}
            }
        }
    }
}
