#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Immutability (CONNECT exec/attach/portforward, ephemeral containers,
//! in-place image changes, break-glass), robustness against bad input,
//! user policies, the deadline and the failure policy, and graceful
//! shutdown — all over real TLS.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

fn connect(uid: &str, sub: &str, user: &str, groups: &[&str]) -> Value {
    envelope(json!({
        "uid": uid,
        "kind": {"group": "", "version": "v1", "kind": if sub == "exec" { "PodExecOptions" } else if sub == "attach" { "PodAttachOptions" } else { "PodPortForwardOptions" }},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "subResource": sub,
        "name": "web-7d9f",
        "namespace": "shop",
        "operation": "CONNECT",
        "userInfo": {"username": user, "groups": groups},
        "object": {"apiVersion": "v1", "kind": "PodExecOptions", "command": ["sh", "-c", "cat /etc/secret"], "stdin": true, "tty": true},
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_exec_attach_and_portforward_are_denied_and_logged() {
    let mut server = TestServer::start(
        "immutability:\n  break-glass:\n    groups: [sre-oncall]\n    users: [bob]\n",
    )
    .await;
    for (sub, code) in [
        ("exec", "ADM001 exec-into-pod"),
        ("attach", "ADM002 attach-to-pod"),
        ("portforward", "ADM003 port-forward-to-pod"),
    ] {
        let r = server
            .review(&connect(&format!("c-{sub}"), sub, "alice", &["developers"]))
            .await;
        assert_eq!(r["allowed"], false, "{sub}: {r}");
        let message = r["status"]["message"].as_str().unwrap();
        assert!(message.contains(code), "{message}");
        assert!(message.contains("alice may not"), "{message}");
        assert!(message.contains("Pod shop/web-7d9f"), "{message}");
        let line = server
            .events("admission")
            .into_iter()
            .find(|l| l["uid"] == format!("c-{sub}"))
            .unwrap();
        assert_eq!(line["user"], "alice");
        assert_eq!(line["pod"], "web-7d9f");
        assert_eq!(line["namespace"], "shop");
        assert_eq!(line["resource"], format!("pods/{sub}"));
        assert_eq!(line["allowed"], false);
    }
    let exec = server
        .events("admission")
        .into_iter()
        .find(|l| l["uid"] == "c-exec")
        .unwrap();
    assert!(
        exec["violations"][0]["message"]
            .as_str()
            .unwrap()
            .contains("exec `sh -c cat /etc/secret`")
    );

    // Break-glass group and user: allowed, and still logged with who.
    for (uid, user, groups, via) in [
        (
            "bg-1",
            "carol",
            vec!["sre-oncall"],
            "break-glass group sre-oncall (user carol)",
        ),
        ("bg-2", "bob", vec![], "break-glass user bob"),
    ] {
        let r = server.review(&connect(uid, "exec", user, &groups)).await;
        assert_eq!(r["allowed"], true, "{r}");
        let line = server
            .events("admission")
            .into_iter()
            .find(|l| l["uid"] == uid)
            .unwrap();
        assert_eq!(line["user"], user);
        assert_eq!(line["pod"], "web-7d9f");
        assert_eq!(line["allowed"], true);
        assert_eq!(line["violations"][0]["exempted"], via);
    }
    // Other subresources pass untouched.
    let mut proxy = connect("c-proxy", "exec", "alice", &[]);
    proxy["request"]["subResource"] = json!("proxy");
    assert_eq!(server.review(&proxy).await["allowed"], true);
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("rule=\"ADM001\",action=\"deny\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rule=\"ADM001\",action=\"exempt\"} 2"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immutability_can_be_turned_off_per_check() {
    let mut server = TestServer::start("immutability:\n  deny-port-forward: false\n").await;
    assert_eq!(
        server
            .review(&connect("p-1", "portforward", "alice", &[]))
            .await["allowed"],
        true
    );
    assert_eq!(
        server.review(&connect("p-2", "exec", "alice", &[])).await["allowed"],
        false
    );
    server.stop().await;
}

fn pod_update(uid: &str, sub: Option<&str>, user: &str, old: Value, new: Value) -> Value {
    let mut r = pod_review(uid, "UPDATE", "shop", new);
    r["request"]["oldObject"] = old;
    r["request"]["userInfo"]["username"] = json!(user);
    if let Some(s) = sub {
        r["request"]["subResource"] = json!(s);
    }
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_containers_and_in_place_image_changes_are_denied() {
    let mut server =
        TestServer::start("immutability:\n  break-glass:\n    groups: [sre-oncall]\n").await;
    let old = good_pod("web", "registry.example.com/web:1.0");

    let mut debugged = old.clone();
    debugged["spec"]["ephemeralContainers"] = json!([{"name": "debugger-x1", "image": "busybox:1.36", "command": ["sh"], "stdin": true, "tty": true, "targetContainerName": "web"}]);
    let r = server
        .review(&pod_update(
            "e-1",
            Some("ephemeralcontainers"),
            "alice",
            old.clone(),
            debugged.clone(),
        ))
        .await;
    assert_eq!(r["allowed"], false);
    let message = r["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("ADM004 ephemeral-container-added"),
        "{message}"
    );
    assert!(
        message.contains("add ephemeral container(s) debugger-x1 to Pod shop/web"),
        "{message}"
    );
    let line = server
        .events("admission")
        .into_iter()
        .find(|l| l["uid"] == "e-1")
        .unwrap();
    assert_eq!(line["user"], "alice");
    assert_eq!(line["pod"], "web");

    // Break-glass may debug, but the ephemeral container still goes
    // through the rules (a privileged debugger is denied).
    let mut r0 = pod_update(
        "e-2",
        Some("ephemeralcontainers"),
        "carol",
        old.clone(),
        debugged.clone(),
    );
    r0["request"]["userInfo"]["groups"] = json!(["sre-oncall"]);
    let r = server.review(&r0).await;
    assert_eq!(r["allowed"], true, "{r}");
    let mut privileged_debug = debugged.clone();
    privileged_debug["spec"]["ephemeralContainers"][0]["securityContext"] =
        json!({"privileged": true});
    let mut r0 = pod_update(
        "e-3",
        Some("ephemeralcontainers"),
        "carol",
        old.clone(),
        privileged_debug,
    );
    r0["request"]["userInfo"]["groups"] = json!(["sre-oncall"]);
    let r = server.review(&r0).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(r["status"]["message"].as_str().unwrap().contains("K8S001"));

    // In-place image change.
    let mut changed = old.clone();
    changed["spec"]["containers"][0]["image"] = json!("registry.example.com/web:hotfix");
    let r = server
        .review(&pod_update(
            "i-1",
            None,
            "alice",
            old.clone(),
            changed.clone(),
        ))
        .await;
    assert_eq!(r["allowed"], false);
    let message = r["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("ADM005 in-place-image-change"),
        "{message}"
    );
    assert!(
        message.contains(
            "container web: registry.example.com/web:1.0 → registry.example.com/web:hotfix"
        ),
        "{message}"
    );

    // A metadata-only update (a controller adding a label) passes, and so
    // does an update of a pod that violates rules but keeps its spec.
    let mut labelled = old.clone();
    labelled["metadata"]["labels"]["team"] = json!("shop");
    assert_eq!(
        server
            .review(&pod_update(
                "i-2",
                None,
                "system:serviceaccount:kube-system:replicaset-controller",
                old.clone(),
                labelled
            ))
            .await["allowed"],
        true
    );
    let bad = privileged_pod("legacy");
    let mut bad_labelled = bad.clone();
    bad_labelled["metadata"]["labels"]["x"] = json!("y");
    assert_eq!(
        server
            .review(&pod_update("i-3", None, "alice", bad, bad_labelled))
            .await["allowed"],
        true
    );
    // Status updates are not specs.
    assert_eq!(
        server
            .review(&pod_update(
                "i-4",
                Some("status"),
                "system:node:n1",
                old.clone(),
                changed.clone()
            ))
            .await["allowed"],
        true
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_never_crashes_or_hangs() {
    let mut server = TestServer::start("max-request-bytes: 200000\n").await;
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("malformed JSON", b"{\"apiVersion\": ".to_vec(), 400, "not valid JSON"),
        ("not an object", b"[1,2,3]".to_vec(), 400, "not a JSON object"),
        ("empty body", Vec::new(), 400, "not valid JSON"),
        ("binary", vec![0xff, 0xfe, 0x00, 0x01], 400, "not valid JSON"),
        ("wrong apiVersion", br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}"#.to_vec(), 400, "unsupported AdmissionReview apiVersion"),
        ("wrong kind", br#"{"apiVersion":"admission.k8s.io/v1","kind":"ConversionReview"}"#.to_vec(), 400, "unexpected kind"),
        ("missing request", br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(), 400, "no `request`"),
        ("missing uid", br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}"#.to_vec(), 400, "no `uid`"),
        ("deep nesting", {
            let mut s = String::from(r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"d","x":"#);
            s.push_str(&"[".repeat(10_000));
            s.push_str(&"]".repeat(10_000));
            s.push_str("}}");
            s.into_bytes()
        }, 400, "recursion limit"),
    ];
    for (name, body, status, needle) in cases {
        let (got, json) = server.post(body).await;
        assert_eq!(got, status, "{name}: {json}");
        assert_eq!(json["status"], status, "{name}: {json}");
        assert!(
            json["message"].as_str().unwrap().contains(needle),
            "{name}: {json}"
        );
    }

    // Too large: refused with 413 before evaluation (declared length and
    // streamed bodies alike). The server answers without reading the rest,
    // so the client may see its upload cut (broken pipe) instead of the 413.
    let big = vec![b' '; 300_000];
    let r = server.client.post(server.url()).body(big).send().await;
    assert!(r.as_ref().map_or(true, |r| r.status() == 413), "{r:?}");
    let stream = futures_stream(vec![vec![b' '; 150_000], vec![b' '; 150_000]]);
    let r = server
        .client
        .post(server.url())
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    assert!(r.as_ref().map_or(true, |r| r.status() == 413), "{r:?}");

    // A wrong envelope around a readable uid: an AdmissionReview answer,
    // decided by the failure policy (docs/admission.md, Limits).
    for (uid, body, needle) in [
        (
            "k1",
            r#"{"apiVersion":"admission.k8s.io/v1","kind":"Foo","request":{"uid":"k1"}}"#,
            "unexpected kind",
        ),
        (
            "b1",
            r#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"b1"}}"#,
            "unsupported AdmissionReview apiVersion",
        ),
    ] {
        let (got, json) = server.post(body.as_bytes().to_vec()).await;
        assert_eq!(got, 200, "{json}");
        assert_eq!(json["kind"], "AdmissionReview", "{json}");
        assert_eq!(json["response"]["uid"], uid, "{json}");
        assert_eq!(json["response"]["allowed"], false, "{json}");
        assert!(
            json["response"]["status"]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{json}"
        );
    }

    // A readable uid with a broken field, or an unknown operation: a
    // well-formed AdmissionReview decided by the failure policy (Fail).
    let mut r = pod_review(
        "bad-field",
        "CREATE",
        "shop",
        good_pod("w", "registry.example.com/w:1"),
    );
    r["request"]["object"] = json!("not an object");
    let response = server.review(&r).await;
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 400);
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid request field `object`")
    );
    let mut r = pod_review(
        "op",
        "PATCH",
        "shop",
        good_pod("w", "registry.example.com/w:1"),
    );
    r["request"]["operation"] = json!("PATCH");
    let response = server.review(&r).await;
    assert_eq!(response["allowed"], false);
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("unsupported operation `PATCH`")
    );

    // A huge object within the limit: many containers and annotations.
    let mut pod = good_pod("huge", "registry.example.com/w:1");
    let container = pod["spec"]["containers"][0].clone();
    let mut containers = Vec::new();
    for i in 0..300 {
        let mut c = container.clone();
        c["name"] = json!(format!("c{i}"));
        containers.push(c);
    }
    pod["spec"]["containers"] = json!(containers);
    let response = server
        .review(&pod_review("huge", "CREATE", "shop", pod))
        .await;
    assert_eq!(response["allowed"], true, "{response}");

    // DELETE has no object; it is allowed.
    let mut del = pod_review("del", "DELETE", "shop", json!(null));
    del["request"]["object"] = Value::Null;
    del["request"]["oldObject"] = good_pod("w", "x");
    assert_eq!(server.review(&del).await["allowed"], true);

    // Still serving, and the errors were counted.
    assert_eq!(
        reqwest::get(format!("http://{}/healthz", server.health))
            .await
            .unwrap()
            .status(),
        200
    );
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("palisade_admission_errors_total{kind=\"bad_request\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_admission_errors_total{kind=\"too_large\"} 2"),
        "{metrics}"
    );
    server.stop().await;
}

fn futures_stream(
    chunks: Vec<Vec<u8>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + Sync + 'static {
    futures_util::stream::iter(chunks.into_iter().map(Ok))
}

const REGO: &str = r#"package main

import rego.v1

# METADATA
# title: Pods need a team label
# custom:
#   id: ACME001
#   severity: MEDIUM
deny contains msg if {
    input.kind == "Pod"
    not input.metadata.labels.team
    msg := sprintf("Pod %s has no team label", [input.metadata.name])
}

warn contains msg if {
    input.kind == "Pod"
    some c in input.spec.containers
    endswith(c.image, ":1.0")
    msg := sprintf("container %s runs an old release", [c.name])
}
"#;

const VAP: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: max-replicas
spec:
  matchConstraints:
    resourceRules:
      - apiGroups: [apps]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [deployments]
  validations:
    - expression: "object.spec.replicas <= 5"
      message: at most 5 replicas
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: max-replicas
spec:
  policyName: max-replicas
  validationActions: [Deny]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: only-ci-scales-down
spec:
  matchConstraints:
    resourceRules:
      - apiGroups: [apps]
        apiVersions: [v1]
        operations: [UPDATE]
        resources: [deployments]
  validations:
    - expression: "object.spec.replicas >= oldObject.spec.replicas || request.userInfo.username == 'ci'"
      messageExpression: "'only CI scales down; ' + request.userInfo.username + ' tried (' + request.operation + ')'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: only-ci-scales-down
spec:
  policyName: only-ci-scales-down
  validationActions: [Deny]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rego_and_vap_policies_are_enforced_with_actions() {
    let mut server = TestServer::start_with("policies: [policies]\n", |dir| {
        std::fs::create_dir_all(dir.join("policies")).unwrap();
        std::fs::write(dir.join("policies/team.rego"), REGO).unwrap();
        std::fs::write(dir.join("policies/replicas.yaml"), VAP).unwrap();
    })
    .await;
    let r = server
        .review(&pod_review(
            "p-1",
            "CREATE",
            "shop",
            good_pod("web", "registry.example.com/web:1.0"),
        ))
        .await;
    assert_eq!(r["allowed"], false, "{r}");
    let message = r["status"]["message"].as_str().unwrap();
    assert!(message.contains("ACME001"), "{message}");
    assert!(message.contains("Pod web has no team label"), "{message}");
    assert!(
        r["warnings"]
            .to_string()
            .contains("container web runs an old release"),
        "{r}"
    );

    let mut labelled = good_pod("web", "registry.example.com/web:2.0");
    labelled["metadata"]["labels"]["team"] = json!("shop");
    assert_eq!(
        server
            .review(&pod_review("p-2", "CREATE", "shop", labelled.clone()))
            .await["allowed"],
        true
    );

    let deployment = |uid: &str, replicas: i64| {
        envelope(json!({
            "uid": uid, "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": "web", "namespace": "shop", "operation": "CREATE", "userInfo": {"username": "ci"},
            "object": {"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": "web", "namespace": "shop", "labels": {"app.kubernetes.io/name": "web"}},
                       "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                                "template": {"metadata": {"labels": {"app": "web", "team": "shop"}}, "spec": labelled["spec"].clone()}}}
        }))
    };
    let r = server.review(&deployment("d-1", 10)).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 5 replicas"),
        "{r}"
    );
    let r = server.review(&deployment("d-2", 3)).await;
    assert_eq!(r["allowed"], true, "{r}");

    // VAPs see the request: operation (rules and `request.operation`),
    // user and old object.
    let scale = |uid: &str, user: &str, from: i64, to: i64| {
        let mut r = deployment(uid, to);
        r["request"]["operation"] = json!("UPDATE");
        r["request"]["userInfo"]["username"] = json!(user);
        let mut old = r["request"]["object"].clone();
        old["spec"]["replicas"] = json!(from);
        r["request"]["oldObject"] = old;
        r
    };
    let r = server.review(&scale("v-1", "alice", 4, 2)).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap()
            .contains("only CI scales down; alice tried (UPDATE)"),
        "{r}"
    );
    assert_eq!(
        server.review(&scale("v-2", "ci", 4, 2)).await["allowed"],
        true
    );
    assert_eq!(
        server.review(&scale("v-3", "alice", 2, 4)).await["allowed"],
        true
    );

    // Actions override policy defaults by code or name.
    std::fs::write(
        server.dir.path().join("palisade-admission.yaml"),
        "policies: [policies]\nrules:\n  actions:\n    ACME001: warn\n    max-replicas: audit\n",
    )
    .unwrap();
    server.reload.notify_one();
    tests_wait(|| !server.events("config-reloaded").is_empty()).await;
    let r = server
        .review(&pod_review(
            "p-3",
            "CREATE",
            "shop",
            good_pod("web", "registry.example.com/web:2.0"),
        ))
        .await;
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r["warnings"].to_string().contains("ACME001"));
    let r = server.review(&deployment("d-3", 10)).await;
    assert_eq!(r["allowed"], true, "{r}");
    let audited = r["auditAnnotations"]["audit"].as_str().unwrap();
    assert!(audited.split(',').any(|c| c == "max-replicas"), "{audited}");
    server.stop().await;
}

async fn tests_wait(mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("condition never held");
}

/// A policy that loops far longer than the deadline.
const SLOW: &str = r#"package main

import rego.v1

deny contains msg if {
    n := count([x | some i in numbers.range(1, 1000000); some j in numbers.range(1, 1000); x := i * j])
    n < 0
    msg := "never"
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_answers_by_the_failure_policy() {
    for (policy, allowed) in [("fail", false), ("ignore", true)] {
        let config = format!(
            "failure-policy: {policy}\ntimeout-seconds: 2\ndeadline-ms: 400\nworkers: 1\npolicies: [slow.rego]\n"
        );
        let mut server = TestServer::start_with(&config, |dir| {
            std::fs::write(dir.join("slow.rego"), SLOW).unwrap();
        })
        .await;
        let started = Instant::now();
        let r = server
            .review(&pod_review(
                "slow",
                "CREATE",
                "shop",
                good_pod("w", "registry.example.com/w:1"),
            ))
            .await;
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(1500),
            "{policy}: took {took:?}"
        );
        assert_eq!(r["allowed"], allowed, "{policy}: {r}");
        if allowed {
            assert!(
                r["warnings"]
                    .to_string()
                    .contains("allowed by failure policy Ignore (fail-open)"),
                "{r}"
            );
        } else {
            assert_eq!(r["status"]["code"], 500);
            let m = r["status"]["message"].as_str().unwrap();
            assert!(m.contains("failure policy is Fail (fail-closed)"), "{m}");
        }
        // The only worker slot may still be busy: the next request also
        // gets its answer by the deadline, never a hang.
        let started = Instant::now();
        let r = server
            .review(&pod_review(
                "slow-2",
                "CREATE",
                "shop",
                good_pod("w", "registry.example.com/w:1"),
            ))
            .await;
        assert!(started.elapsed() < Duration::from_millis(2500));
        assert_eq!(r["allowed"], allowed);
        let metrics = server.metrics().await;
        assert!(
            metrics.contains("reason=\"failure-policy\"} 2"),
            "{metrics}"
        );
        server.stop().await;
    }
}

/// A policy that fails to evaluate for every Pod (arithmetic on a string,
/// an error on the interpreter).
const BROKEN: &str = r#"package main

import rego.v1

deny contains msg if {
    n := input.metadata.name + 1
    msg := sprintf("name %v", [n])
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_open_does_not_lift_the_denials_found() {
    // The interpreter: on the VM the broken rule is undefined, not an error.
    let config = "failure-policy: ignore\nrego-engine: interpreter\npolicies: [broken.rego]\n";
    let mut server = TestServer::start_with(config, |dir| {
        std::fs::write(dir.join("broken.rego"), BROKEN).unwrap();
    })
    .await;
    // Nothing else wrong: allowed by the failure policy, saying why.
    let r = server
        .review(&pod_review(
            "open",
            "CREATE",
            "shop",
            good_pod("w", "registry.example.com/w:1"),
        ))
        .await;
    assert_eq!(r["allowed"], true, "{r}");
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("allowed by failure policy Ignore (fail-open)"),
        "{warnings}"
    );
    assert!(warnings.contains("evaluating data.main.deny"), "{warnings}");
    // A privileged Pod: the built-in rule's denial stands, whatever the
    // broken policy did.
    let r = server
        .review(&pod_review("found", "CREATE", "shop", privileged_pod("p")))
        .await;
    assert_eq!(r["allowed"], false, "{r}");
    assert_eq!(r["status"]["code"], 403);
    let m = r["status"]["message"].as_str().unwrap();
    assert!(
        m.contains("failure policy Ignore (fail-open) covers only what could not be evaluated"),
        "{m}"
    );
    assert!(m.contains("evaluating data.main.deny"), "{m}");
    assert!(m.contains("\n- K8S001"), "{m}");
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(
            r#"palisade_admission_decisions_total{decision="allowed",reason="failure-policy"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics
            .contains(r#"palisade_admission_decisions_total{decision="denied",reason="rules"} 1"#),
        "{metrics}"
    );
    server.stop().await;
}

/// A request whose evaluation runs past the deadline keeps what was found
/// before it: under fail-open an in-place image change is still denied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_keeps_the_violations_found_before_it() {
    let config = "failure-policy: ignore\ntimeout-seconds: 2\ndeadline-ms: 400\nworkers: 1\npolicies: [slow.rego]\n";
    let mut server = TestServer::start_with(config, |dir| {
        std::fs::write(dir.join("slow.rego"), SLOW).unwrap();
    })
    .await;
    let old = good_pod("web", "registry.example.com/web:1.0");
    let mut changed = old.clone();
    changed["spec"]["containers"][0]["image"] = json!("registry.example.com/web:hotfix");
    let started = Instant::now();
    let r = server
        .review(&pod_update("late", None, "alice", old, changed))
        .await;
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(r["allowed"], false, "{r}");
    let message = r["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("ADM005 in-place-image-change"),
        "{message}"
    );
    assert!(message.contains("ms deadline"), "{message}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_in_flight_requests() {
    let config =
        "failure-policy: ignore\ntimeout-seconds: 3\ndeadline-ms: 1500\npolicies: [slow.rego]\n";
    let mut server = TestServer::start_with(config, |dir| {
        std::fs::write(dir.join("slow.rego"), SLOW).unwrap();
    })
    .await;
    let client = server.client.clone();
    let url = server.url();
    let body = serde_json::to_vec(&pod_review(
        "drain",
        "CREATE",
        "shop",
        good_pod("w", "registry.example.com/w:1"),
    ))
    .unwrap();
    let in_flight = tokio::spawn(async move { client.post(url).body(body).send().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = server.health;
    let task = server.begin_stop().unwrap();
    // Not ready while draining.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ready = reqwest::get(format!("http://{health}/readyz")).await;
    assert!(ready.is_err() || ready.unwrap().status() == 503);
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let json: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(json["response"]["uid"], "drain");
    tokio::time::timeout(Duration::from_secs(15), task)
        .await
        .unwrap()
        .unwrap();
    let stopped = server.events("stopped");
    assert_eq!(stopped[0]["drained"], true, "{stopped:?}");
    // New connections are refused.
    assert!(
        server
            .client
            .post(server.url())
            .body("{}")
            .send()
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_policy_registries_digests_and_latest() {
    let mut server = TestServer::start(
        "images:\n  allowed-registries: [ghcr.io/acme]\n  require-digest: true\n  deny-latest: true\n",
    )
    .await;
    let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let cases = [
        (format!("ghcr.io/acme/app@{d}"), None),
        (format!("ghcr.io/acme/team/app:1.0@{d}"), None),
        // The runtime ignores the tag of a digest-pinned reference.
        (format!("ghcr.io/acme/app:latest@{d}"), None),
        (
            format!("ghcr.io/acmecorp/app@{d}"),
            Some("K8S037 untrusted-registry"),
        ),
        (
            format!("ghcr.io.evil.com/acme/app@{d}"),
            Some("K8S037 untrusted-registry"),
        ),
        (
            format!("docker.io/acme/app@{d}"),
            Some("K8S037 untrusted-registry"),
        ),
        (
            "ghcr.io/acme/app:1.0".to_string(),
            Some("K8S035 image-not-pinned-by-digest"),
        ),
        (
            "ghcr.io/acme/app:latest".to_string(),
            Some("K8S034 image-tag-latest"),
        ),
        (
            "ghcr.io/acme/app".to_string(),
            Some("K8S034 image-tag-latest"),
        ),
    ];
    for (i, (image, denied_by)) in cases.iter().enumerate() {
        let r = server
            .review(&pod_review(
                &format!("img-{i}"),
                "CREATE",
                "shop",
                good_pod("web", image),
            ))
            .await;
        match denied_by {
            None => assert_eq!(r["allowed"], true, "{image}: {r}"),
            Some(rule) => {
                assert_eq!(r["allowed"], false, "{image}: {r}");
                let m = r["status"]["message"].as_str().unwrap();
                assert!(m.contains(rule), "{image}: {m}");
            }
        }
    }
    server.stop().await;
}
