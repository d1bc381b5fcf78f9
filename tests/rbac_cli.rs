//! `palisade rbac` and `palisade scan --scanners rbac` end to end, on real
//! RBAC (argo-cd, istio) and real audit logs (audit2rbac's demo).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use serde_json::Value;

const ARGOCD: &str = "tests/fixtures/rbac/argo-cd.rbac.yaml";
const ISTIO: &str = "tests/fixtures/rbac/istio.rbac.yaml";
const DEMO_LOG: &str = "tests/fixtures/audit/audit2rbac-demo.log";

fn palisade() -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn stdout(cmd: &mut Command, code: i32) -> String {
    let out = cmd.assert().code(code).get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn who_can_read_secrets_in_argocd() {
    let table = stdout(
        palisade().args([
            "rbac",
            "who-can",
            "get",
            "secrets",
            ARGOCD,
            "-n",
            "argocd",
            "--default-namespace",
            "argocd",
        ]),
        0,
    );
    insta::assert_snapshot!("who_can_get_secrets_argocd", table);
    let json: Value = serde_json::from_str(&stdout(
        palisade().args([
            "rbac", "who-can", "get", "secrets", ARGOCD, "--format", "json",
        ]),
        0,
    ))
    .unwrap();
    let subjects: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"]["name"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&"argocd-server"), "{subjects:?}");
    assert!(
        json[0]["grants"][0]["rule"]["location"]
            .as_str()
            .unwrap()
            .starts_with(ARGOCD)
    );
}

#[test]
fn can_lists_effective_permissions_by_namespace() {
    let table = stdout(
        palisade().args([
            "rbac",
            "can",
            "sa:argocd/argocd-server",
            ARGOCD,
            "--default-namespace",
            "argocd",
        ]),
        0,
    );
    insta::assert_snapshot!("can_argocd_server", table);
    let json: Value = serde_json::from_str(&stdout(
        palisade().args([
            "rbac",
            "can",
            "system:serviceaccount:argocd:argocd-server",
            ARGOCD,
            "--format",
            "json",
        ]),
        0,
    ))
    .unwrap();
    assert_eq!(json["subject"]["kind"], "ServiceAccount");
    assert!(json["permissions"].as_array().unwrap().len() > 5);
}

#[test]
fn escalation_paths_in_every_format() {
    let args = ["rbac", "paths", ARGOCD, "--default-namespace", "argocd"];
    insta::assert_snapshot!("paths_argocd_text", stdout(palisade().args(args), 0));
    insta::assert_snapshot!(
        "paths_argocd_dot",
        stdout(palisade().args(args).args(["--format", "dot"]), 0)
    );
    insta::assert_snapshot!(
        "paths_argocd_mermaid",
        stdout(palisade().args(args).args(["--format", "mermaid"]), 0)
    );
    let json: Value =
        serde_json::from_str(&stdout(palisade().args(args).args(["--format", "json"]), 0)).unwrap();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .all(|p| p["to"] == "cluster-admin")
    );
    let from = stdout(
        palisade().args(args).args([
            "--from",
            "sa:argocd/argocd-server",
            "--to",
            "sa:argocd/argocd-application-controller",
        ]),
        0,
    );
    assert!(
        from.contains("can create a pod in argocd running as it"),
        "{from}"
    );
}

#[test]
fn minimize_writes_roles_that_palisade_reads_back() {
    let yaml = stdout(
        palisade().args([
            "rbac",
            "minimize",
            "--audit-log",
            DEMO_LOG,
            "--subject",
            "user:bob",
        ]),
        0,
    );
    insta::assert_snapshot!("minimize_bob", yaml);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bob.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let who = stdout(
        palisade()
            .args(["rbac", "who-can", "list", "pods", "-n", "default"])
            .arg(&file),
        0,
    );
    assert!(who.contains("User bob"), "{who}");
    // bob's list of pods in ns1 was refused (403): not granted, unless
    // --include-denied.
    let who = stdout(
        palisade()
            .args(["rbac", "who-can", "list", "pods", "-n", "ns1"])
            .arg(&file),
        0,
    );
    assert!(!who.contains("User bob"), "{who}");
    let with_denied = stdout(
        palisade().args([
            "rbac",
            "minimize",
            "--audit-log",
            DEMO_LOG,
            "--subject",
            "user:bob",
            "--include-denied",
        ]),
        0,
    );
    assert!(with_denied.contains("namespace: \"ns1\""), "{with_denied}");
}

#[test]
fn malformed_audit_lines_warn_but_do_not_fail() {
    palisade()
        .args([
            "rbac",
            "minimize",
            "--audit-log",
            "tests/fixtures/audit/broken.log",
            "--subject",
            "user:bob",
        ])
        .assert()
        .code(0)
        .stderr(predicates::str::contains(
            "2 malformed audit log line(s) skipped",
        ));
}

#[test]
fn unused_reports_grants_nobody_exercised() {
    let out = stdout(
        palisade().args([
            "rbac",
            "unused",
            "--audit-log",
            DEMO_LOG,
            ARGOCD,
            "--default-namespace",
            "argocd",
        ]),
        0,
    );
    assert!(out.contains("ServiceAccount argocd/argocd-server"), "{out}");
    assert!(out.starts_with("Granted but unused in"), "{out}");
}

#[test]
fn scan_reports_risky_grants_with_subject_binding_role_and_workloads() {
    let out = palisade()
        .args([
            "scan",
            "--scanners",
            "rbac",
            "--format",
            "json",
            "--default-namespace",
            "argocd",
            ARGOCD,
        ])
        .args(["tests/fixtures/cli/argocd-server-deployment.yaml"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let secrets = findings
        .iter()
        .find(|f| {
            f["code"] == "RBAC003"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .contains("argocd/argocd-server can read every Secret")
        })
        .unwrap_or_else(|| panic!("{report:#}"));
    let message = secrets["message"].as_str().unwrap();
    assert!(
        message.contains("ClusterRoleBinding argocd-server → ClusterRole argocd-server"),
        "{message}"
    );
    assert!(
        message.contains("Deployment argocd/argocd-server runs as it"),
        "{message}"
    );
    assert_eq!(secrets["resource"]["kind"], "ClusterRoleBinding");
    let codes: Vec<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"RBAC001"), "{codes:?}");
    let rendered: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {}:{} {}",
                f["code"],
                f["severity"],
                f["location"]["startLine"],
                f["location"]["startColumn"],
                f["message"]
            )
        })
        .collect();
    insta::assert_snapshot!("scan_rbac_argocd", rendered.join("\n"));
}

#[test]
fn system_identities_are_info_unless_included() {
    let run = |extra: &[&str]| -> Value {
        let out = palisade()
            .args([
                "scan",
                "--scanners",
                "rbac",
                "--format",
                "json",
                "--fail-on",
                "none",
                ISTIO,
            ])
            .args(extra)
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).unwrap()
    };
    let report = run(&[]);
    assert!(!report["findings"].as_array().unwrap().is_empty());
    let kube_system: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .starts_with("ServiceAccount kube-system/")
        })
        .collect();
    assert!(kube_system.iter().all(|f| f["severity"] == "INFO"));
    let _ = run(&["--include-system"]);
}

/// Bindings to `cluster-admin`, `edit`… grant what those roles grant in a
/// cluster, though the manifests do not define them.
#[test]
fn bootstrap_roles_grant_without_being_defined() {
    const DEFAULTS: &str = "tests/fixtures/rbac/default-roles.yaml";
    let frank = stdout(palisade().args(["rbac", "can", "user:frank", DEFAULTS]), 0);
    assert!(frank.contains("ClusterRole cluster-admin"), "{frank}");
    assert!(!frank.contains("no permissions"), "{frank}");
    let who = stdout(
        palisade().args(["rbac", "who-can", "get", "secrets", "-n", "app", DEFAULTS]),
        0,
    );
    assert!(who.contains("User frank"), "{who}");
    assert!(who.contains("User gina"), "{who}");
    let elsewhere = stdout(
        palisade().args(["rbac", "who-can", "get", "secrets", "-n", "other", DEFAULTS]),
        0,
    );
    assert!(!elsewhere.contains("User gina"), "{elsewhere}");
    let out = palisade()
        .args(["scan", "--scanners", "rbac", "--format", "json", DEFAULTS])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    let findings: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert!(
        findings
            .iter()
            .any(|(c, m)| *c == "RBAC001" && m.contains("User frank")),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|(c, m)| *c == "RBAC003" && m.contains("User gina")),
        "{findings:?}"
    );
    // Built in, so never "missing".
    assert!(
        !findings.iter().any(|(c, _)| *c == "RBAC022"),
        "{findings:?}"
    );
    // A definition in the inputs replaces the built-in one.
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("edit.yaml");
    std::fs::write(
        &own,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: edit\nrules:\n  - {apiGroups: [\"\"], resources: [configmaps], verbs: [get]}\n",
    )
    .unwrap();
    let who = stdout(
        palisade()
            .args(["rbac", "who-can", "get", "secrets", "-n", "app", DEFAULTS])
            .arg(&own),
        0,
    );
    assert!(!who.contains("User gina"), "{who}");
}

/// `bind` granted in one namespace lets its holder bind any ClusterRole
/// there (the API server checks it in the RoleBinding's namespace).
#[test]
fn namespaced_bind_is_a_risk_and_an_escalation_path() {
    const BIND: &str = "tests/fixtures/rbac/namespaced-bind.yaml";
    let out = palisade()
        .args(["scan", "--scanners", "rbac", "--format", "json", BIND])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    let bind = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "RBAC009")
        .unwrap_or_else(|| panic!("{report:#}"));
    let message = bind["message"].as_str().unwrap();
    assert!(message.contains("User judy"), "{message}");
    assert!(message.contains("in namespace team"), "{message}");
    let paths = stdout(
        palisade().args([
            "rbac",
            "paths",
            "--from",
            "user:judy",
            "--to",
            "sa:team/app",
            BIND,
        ]),
        0,
    );
    assert!(
        paths.contains("can bind any ClusterRole to itself in team"),
        "{paths}"
    );
}

/// A subject that already holds everything is cluster-admin, not a path
/// to it (it used to be listed as "can bind cluster-admin to itself").
#[test]
fn holders_of_everything_are_not_escalation_paths() {
    let paths = stdout(
        palisade().args(["rbac", "paths", "tests/fixtures/rbac/default-roles.yaml"]),
        0,
    );
    assert!(paths.contains("No escalation paths found"), "{paths}");
    let argocd = stdout(
        palisade().args(["rbac", "paths", ARGOCD, "--default-namespace", "argocd"]),
        0,
    );
    assert!(
        !argocd.contains("can bind cluster-admin to itself"),
        "{argocd}"
    );
}

/// `can` lists only what a RoleBinding can grant (no nodes, no URLs), and
/// a service account's user name is the service account, however written.
#[test]
fn can_lists_only_grants_that_take_effect() {
    const MIXED: &str = "tests/fixtures/rbac/cluster-scoped-in-namespace.yaml";
    let henry = stdout(palisade().args(["rbac", "can", "user:henry", MIXED]), 0);
    assert!(henry.contains("list configmaps"), "{henry}");
    assert!(!henry.contains("/metrics"), "{henry}");
    assert!(!henry.contains("nodes"), "{henry}");
    let sa = stdout(
        palisade().args(["rbac", "can", "system:serviceaccount:ns2:robot", MIXED]),
        0,
    );
    assert!(sa.contains("list configmaps"), "{sa}");
    let as_user = stdout(
        palisade().args(["rbac", "can", "user:system:serviceaccount:ns2:robot", MIXED]),
        0,
    );
    assert_eq!(as_user, sa);
}

/// A ServiceAccount without a namespace in a ClusterRoleBinding names no
/// account: reported (RBAC023), and granting nothing (not `default/NAME`).
#[test]
fn cluster_binding_service_accounts_need_a_namespace() {
    const ORPHAN: &str = "tests/fixtures/rbac/sa-without-namespace.yaml";
    let who = stdout(
        palisade().args(["rbac", "who-can", "get", "nodes", ORPHAN]),
        0,
    );
    assert!(!who.contains("orphan"), "{who}");
    let out = palisade()
        .args(["scan", "--scanners", "rbac", "--format", "json", ORPHAN])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "RBAC023"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .contains("without a namespace")),
        "{report:#}"
    );
}

/// An aggregating ClusterRole holds what it selects, not its own written
/// rules (the aggregation controller overwrites them).
#[test]
fn aggregated_roles_hold_only_what_they_select() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agg.yaml");
    std::fs::write(
        &file,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: agg}\naggregationRule:\n  clusterRoleSelectors: [{matchLabels: {part-of-agg: \"true\"}}]\nrules:\n  - {apiGroups: [\"\"], resources: [secrets], verbs: [get]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: part, labels: {part-of-agg: \"true\"}}\nrules:\n  - {apiGroups: [\"\"], resources: [configmaps], verbs: [list]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ann}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: agg}\nsubjects: [{kind: User, name: ann}]\n",
    )
    .unwrap();
    let who = |verb: &str, resource: &str| {
        stdout(
            palisade()
                .args(["rbac", "who-can", verb, resource])
                .arg(&file),
            0,
        )
    };
    assert!(who("list", "configmaps").contains("User ann"));
    assert!(!who("get", "secrets").contains("User ann"));
    // Selecting nothing among the inputs (a dump of the aggregated role),
    // its written rules are the aggregation's result.
    std::fs::write(
        &file,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: agg}\naggregationRule:\n  clusterRoleSelectors: [{matchLabels: {part-of-agg: \"true\"}}]\nrules:\n  - {apiGroups: [\"\"], resources: [secrets], verbs: [get]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ann}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: agg}\nsubjects: [{kind: User, name: ann}]\n",
    )
    .unwrap();
    assert!(who("get", "secrets").contains("User ann"));
}

/// A RoleBinding can grant verbs on its own namespace object (requests on
/// /api/v1/namespaces/NS carry NS); `bind` on Roles alone binds only the
/// namespace's Roles, no path to its service accounts.
#[test]
fn namespace_objects_and_role_binding_rights() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ns.yaml");
    std::fs::write(
        &file,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: team}\nrules:\n  - {apiGroups: [\"\"], resources: [namespaces], verbs: [patch]}\n  - {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [bind]}\n  - {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb, namespace: team}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects: [{kind: User, name: alice}]\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: deployer, namespace: team}\n",
    )
    .unwrap();
    let can = stdout(palisade().args(["rbac", "can", "user:alice"]).arg(&file), 0);
    assert!(can.contains("patch namespaces"), "{can}");
    let paths = stdout(
        palisade()
            .args([
                "rbac",
                "paths",
                "--from",
                "user:alice",
                "--to",
                "sa:team/deployer",
            ])
            .arg(&file),
        0,
    );
    assert!(!paths.contains("can bind any ClusterRole"), "{paths}");
}

/// A ClusterRole mixing a namespace-scoped resource and cluster-scoped
/// ones, bound by a RoleBinding: only what a namespace holds is granted
/// there, as the API server's requests carry no namespace for `nodes`,
/// nor for a list of namespaces; a request for the namespace object
/// carries its own name. `/logs**` covers `/logs/x` (the authorizer trims
/// every trailing star).
#[test]
fn rolebindings_grant_nothing_cluster_scoped_in_mixed_rules() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rb.yaml");
    std::fs::write(
        &file,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\nrules:\n- {apiGroups: [\"\"], resources: [\"namespaces\", \"nodes\", \"pods\"], verbs: [\"get\", \"list\"]}\n- {nonResourceURLs: [\"/logs**\"], verbs: [\"get\"]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: reader, namespace: foo}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}\nsubjects:\n- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: logs}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}\nsubjects:\n- {kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}\n",
    )
    .unwrap();
    let who = |args: &[&str]| {
        let mut cmd = palisade();
        cmd.args(["rbac", "who-can"]).args(args).arg(&file);
        stdout(&mut cmd, 0)
    };
    assert!(!who(&["list", "nodes", "-n", "foo"]).contains("alice"));
    assert!(!who(&["list", "namespaces", "-n", "foo"]).contains("alice"));
    assert!(who(&["get", "namespaces", "--name", "foo"]).contains("User alice"));
    assert!(!who(&["get", "namespaces", "--name", "bar"]).contains("alice"));
    assert!(who(&["list", "pods", "-n", "foo"]).contains("User alice"));
    assert!(who(&["get", "/logs/kube-apiserver.log"]).contains("User bob"));
    let can = stdout(palisade().args(["rbac", "can", "user:alice"]).arg(&file), 0);
    assert!(can.contains("get,list namespaces,pods (core)"), "{can}");
    assert!(!can.contains("nodes") && !can.contains("/logs"), "{can}");
}
