//! The roles every cluster has: Kubernetes' bootstrap RBAC policy
//! (`cluster-admin`, `admin`, `edit`, `view`, `system:*`). Manifests bind
//! to them without defining them, so a policy built from manifests alone
//! would give those bindings nothing — a binding to `cluster-admin` would
//! grant no permission and raise no finding. The inputs' own definition of
//! a role wins, as it would once applied.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use super::model::{RbacData, Role, RoleKind};
use crate::object::{Object, SourceFile};
use crate::rules::Subject;
use crate::yaml::{Limits, parse_stream};

/// Where bootstrap roles are said to be written (their rules' lines are
/// those of the files in `bootstrap/`).
pub const ORIGIN: &str = "<kubernetes bootstrap policy>";

const FILES: [(&str, &str); 3] = [
    (
        "cluster-roles.yaml",
        include_str!("bootstrap/cluster-roles.yaml"),
    ),
    (
        "controller-roles.yaml",
        include_str!("bootstrap/controller-roles.yaml"),
    ),
    (
        "namespace-roles.yaml",
        include_str!("bootstrap/namespace-roles.yaml"),
    ),
];

/// The bootstrap roles, parsed once.
fn roles() -> &'static [Role] {
    static ROLES: OnceLock<Vec<Role>> = OnceLock::new();
    ROLES.get_or_init(|| {
        let mut data = RbacData::default();
        for (name, text) in FILES {
            let file = Arc::new(SourceFile::new(format!("{ORIGIN}/{name}"), text));
            parse_stream(text, &Limits::default(), 0, |doc| {
                let Some(root) = doc.root else { return };
                for obj in Object::extract(root, &file, doc.index).objects {
                    data.observe(&obj, &Subject::of(&obj), "default");
                }
            });
        }
        data.roles
    })
}

/// Whether `role` is a built-in bootstrap role (not from the inputs).
pub fn is_bootstrap(role: &Role) -> bool {
    role.origin.file.path.starts_with(ORIGIN)
}

/// Adds the bootstrap roles that `data` does not define.
pub fn add_missing(data: &mut RbacData) {
    let defined: HashSet<(RoleKind, &str, &str)> = data
        .roles
        .iter()
        .map(|r| (r.kind, r.namespace.as_str(), r.name.as_str()))
        .collect();
    let missing: Vec<Role> = roles()
        .iter()
        .filter(|r| !defined.contains(&(r.kind, r.namespace.as_str(), r.name.as_str())))
        .cloned()
        .collect();
    data.roles.extend(missing);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bootstrap_policy_loads() {
        let names: Vec<&str> = roles().iter().map(|r| r.name.as_str()).collect();
        for name in [
            "cluster-admin",
            "admin",
            "edit",
            "view",
            "system:auth-delegator",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        // 31 ClusterRoles, 38 controller ClusterRoles, 7 namespaced Roles.
        assert_eq!(roles().len(), 31 + 38 + 7);
        assert!(roles().iter().all(is_bootstrap));
        let reader = roles()
            .iter()
            .find(|r| r.name == "extension-apiserver-authentication-reader")
            .map(|r| (r.kind, r.namespace.as_str()));
        assert_eq!(reader, Some((RoleKind::Role, "kube-system")));
    }
}
