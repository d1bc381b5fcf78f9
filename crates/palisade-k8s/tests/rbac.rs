//! RBAC resolution against the Kubernetes bootstrap policy: a decision
//! table (`fixtures/rbac/decisions.txt`, cross-checked with a second,
//! independent implementation), who-can, effective permissions, problems.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use palisade_k8s::rbac::policy::Problem;
use palisade_k8s::rbac::resources::resolve;
use palisade_k8s::rbac::{Policy, Principal, Request};
use palisade_k8s::yaml::Limits;
use palisade_k8s::{Engine, RuleSelection, Settings};

fn load(paths: &[&Path]) -> Policy {
    let none = RuleSelection {
        enable: Vec::new(),
        disable: vec!["*".into()],
    };
    let engine = Engine::new(&none, Settings::default(), Limits::default()).unwrap();
    let mut data = palisade_k8s::rbac::RbacData::default();
    for path in paths {
        let text = std::fs::read_to_string(path).unwrap();
        let outcome = engine.scan_text(Arc::from(path.display().to_string()), &text);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        data.extend(outcome.inventory.rbac);
    }
    Policy::new(data)
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rbac")
}

fn bootstrap() -> Policy {
    let dir = fixtures();
    // The bootstrap roles are not loaded: every Policy has them built in
    // (src/rbac/bootstrap/), so these decisions also check that set.
    let files: Vec<std::path::PathBuf> = [
        "bootstrap/cluster-role-bindings.yaml",
        "bootstrap/controller-role-bindings.yaml",
        "bootstrap/namespace-role-bindings.yaml",
        "test-bindings.yaml",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    load(&refs)
}

fn request(target: &str, verb: &str, ns: &str, name: &str) -> Request {
    if target.starts_with('/') {
        return Request::NonResource {
            verb: verb.into(),
            path: target.into(),
        };
    }
    // The table writes `resource.group/sub` explicitly (core = no group).
    let (base, sub) = target.split_once('/').unwrap_or((target, ""));
    let (resource, group) = base.split_once('.').unwrap_or((base, ""));
    let full = if sub.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}/{sub}")
    };
    Request::resource(verb, group, &full, ns).with_name(name)
}

#[test]
fn decision_table_over_the_bootstrap_policy() {
    let policy = bootstrap();
    let table = std::fs::read_to_string(fixtures().join("decisions.txt")).unwrap();
    let mut cases = 0;
    let mut failures = Vec::new();
    for line in table
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [expect, subject, verb, target, rest @ ..] = parts.as_slice() else {
            panic!("bad line: {line}");
        };
        let ns = rest.first().filter(|s| **s != "-").copied().unwrap_or("");
        let name = rest.get(1).filter(|s| **s != "-").copied().unwrap_or("");
        let principal = Principal::parse(subject).unwrap();
        let decision = policy.can(&principal.user_info(), &request(target, verb, ns, name));
        let want = *expect == "allow";
        if decision.allowed != want {
            failures.push(format!(
                "{line}  (got {})",
                if decision.allowed { "allow" } else { "deny" }
            ));
        }
        if decision.allowed {
            assert!(!decision.grants.is_empty());
        }
        cases += 1;
    }
    assert!(cases >= 200, "only {cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} decisions differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn decisions_name_the_binding_role_and_aggregated_rule() {
    let policy = bootstrap();
    let carol = Principal::User("carol".into()).user_info();
    let d = policy.can(&carol, &Request::resource("get", "", "pods", "dev"));
    assert!(d.allowed);
    let g = d.grants[0];
    assert_eq!(policy.binding(g.binding).unwrap().name, "carol-admin");
    assert_eq!(policy.role(g.role).unwrap().name, "admin");
    // The rule comes from system:aggregate-to-view, through edit and view.
    assert_eq!(
        policy.role(g.rule.role).unwrap().name,
        "system:aggregate-to-view"
    );
}

#[test]
fn who_can_lists_subjects_with_their_grants() {
    let policy = bootstrap();
    let r = resolve("secrets");
    let who = policy.who_can(&Request::resource(
        "get",
        r.group.as_deref().unwrap(),
        "secrets",
        "dev",
    ));
    let names: Vec<String> = who.keys().map(|p| p.to_string()).collect();
    assert!(names.contains(&"User bob".to_string()), "{names:?}");
    assert!(names.contains(&"User carol".to_string()));
    assert!(names.contains(&"Group system:masters".to_string()));
    assert!(names.contains(&"User system:kube-controller-manager".to_string()));
    assert!(!names.contains(&"User alice".to_string()));
    assert!(!names.contains(&"Group devs".to_string()));
}

#[test]
fn permissions_of_a_service_account_include_its_groups() {
    let policy = bootstrap();
    let sa = Principal::parse("sa:prod/app").unwrap();
    let perms = policy.permissions(&sa.user_info());
    let bindings: Vec<&str> = perms
        .iter()
        .map(|(_, g)| policy.binding(g.binding).unwrap().name.as_str())
        .collect();
    assert!(bindings.contains(&"config-reader"));
    assert!(bindings.contains(&"system:discovery"));
    // Bound to the account's group, but system:basic-user only holds
    // cluster-scoped reviews, which a RoleBinding cannot grant.
    assert!(!bindings.contains(&"all-sa-in-prod"));
}

#[test]
fn reports_bindings_to_missing_roles() {
    let policy = bootstrap();
    let missing: Vec<&str> = policy
        .problems
        .iter()
        .filter_map(|p| match p {
            Problem::MissingRole { binding } => {
                Some(policy.binding(*binding).unwrap().name.as_str())
            }
            _ => None,
        })
        .collect();
    assert!(missing.contains(&"dangling"), "{missing:?}");
}

fn audit_log(name: &str) -> palisade_k8s::rbac::audit::AuditLog {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/audit")
        .join(name);
    let mut log = palisade_k8s::rbac::audit::AuditLog::default();
    log.read(
        name,
        std::io::BufReader::new(std::fs::File::open(path).unwrap()),
    );
    log
}

#[test]
fn minimized_roles_allow_exactly_what_the_subject_did() {
    use palisade_k8s::rbac::minimize::{MinimizeOptions, minimal_roles};
    let log = audit_log("audit2rbac-demo.log");
    assert_eq!(log.malformed_count, 0);
    // alice's requests were all denied (403), and one of bob's.
    assert!(log.requests.iter().any(|r| r.user == "alice" && r.denied));
    let mut denied_checked = 0;
    for subject in ["user:bob", "user:alice", "sa:ns1/sa1"] {
        let principal = Principal::parse(subject).unwrap();
        for (with_names, include_denied) in [(false, false), (true, false), (false, true)] {
            let options = MinimizeOptions {
                with_names,
                name: String::new(),
                include_denied,
            };
            let mine: Vec<_> = log
                .requests
                .iter()
                .filter(|r| r.made_by(&principal) && (include_denied || !r.denied))
                .collect();
            let Some(yaml) = minimal_roles(&log.requests, &principal, &options) else {
                assert!(mine.is_empty(), "{subject}: no roles for {mine:?}");
                continue;
            };
            let dir = tempdir();
            let file = dir.join(format!(
                "{}-{with_names}-{include_denied}.yaml",
                subject.replace([':', '/'], "-")
            ));
            std::fs::write(&file, &yaml).unwrap();
            let policy = load(&[file.as_path()]);
            assert!(
                policy.problems.is_empty(),
                "{subject}: {:?}\n{yaml}",
                policy.problems
            );
            let user = principal.user_info();
            assert!(!mine.is_empty());
            for r in mine {
                assert!(
                    policy.can(&user, &r.request).allowed,
                    "{subject} (names: {with_names}): {:?} not allowed by\n{yaml}",
                    r.request
                );
            }
            // Least privilege: nothing beyond the verbs seen, and nothing
            // the API server refused unless asked to.
            assert!(
                !policy
                    .can(&user, &Request::resource("delete", "", "secrets", "ns1"))
                    .allowed
            );
            // bob's one request for nodes was refused.
            if subject == "user:bob" {
                let nodes = Request::resource("list", "", "nodes", "");
                assert_eq!(policy.can(&user, &nodes).allowed, include_denied, "{yaml}");
                denied_checked += 1;
            }
        }
    }
    assert_eq!(denied_checked, 3);
}

#[test]
fn malformed_audit_lines_are_counted_not_fatal() {
    let log = audit_log("broken.log");
    assert_eq!(log.malformed_count, 2, "{:?}", log.malformed);
    assert_eq!(log.requests.len(), 4);
}

#[test]
fn unused_lists_grants_never_exercised() {
    use palisade_k8s::rbac::minimize::unused;
    let log = audit_log("audit2rbac-demo.log");
    let policy = bootstrap();
    let unused = unused(&policy, &log.requests);
    // Nobody in the demo log is bound in the bootstrap policy except through
    // groups; bob's direct grants are none, alice's view grant is unused.
    assert!(
        unused
            .iter()
            .any(|u| u.principal == Principal::User("alice".into()))
    );
    assert!(
        unused
            .iter()
            .all(|u| u.principal != Principal::User("nobody".into()))
    );
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "palisade-rbac-test-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
