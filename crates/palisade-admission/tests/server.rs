#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The webhook over real TLS on 127.0.0.1: corpus payloads, decisions and
//! actions, exemptions, metrics, health, TLS versions and hot reload of
//! certificates and configuration.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

/// Every corpus payload: bare requests are wrapped in an AdmissionReview;
/// non-reviews (AlertmanagerConfig specs, a fake "review") get a 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_payloads_get_well_formed_answers() {
    let mut server = TestServer::start("").await;
    let mut reviewed = 0;
    let mut rejected = 0;
    let mut paths: Vec<_> = walk(&fixture("corpus"));
    paths.sort();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name == "SOURCES.md" {
            continue;
        }
        let raw: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let review = if raw.get("apiVersion").is_some() {
            raw.clone()
        } else if raw.get("uid").is_some() {
            envelope(raw.clone())
        } else {
            // Not an AdmissionReview at all.
            let (status, body) = server.post(serde_json::to_vec(&raw).unwrap()).await;
            assert_eq!(status, 400, "{name}: {body}");
            assert!(
                body["message"].as_str().unwrap().contains("apiVersion"),
                "{name}: {body}"
            );
            rejected += 1;
            continue;
        };
        let response = server.review(&review).await;
        reviewed += 1;
        let message = response["status"]["message"].as_str().unwrap_or_default();
        let privileged = name.contains("privileged")
            && !name.contains("no_privileged")
            && !name.contains("without");
        if privileged {
            assert_eq!(response["allowed"], false, "{name}: {response}");
            assert!(
                message.contains("K8S001 privileged-container"),
                "{name}: {message}"
            );
            assert!(message.contains("fix: "), "{name}: {message}");
        } else {
            assert!(!message.contains("K8S001"), "{name}: {message}");
        }
        if name.contains("PrometheusRule") || name.contains("Rules") || name.contains("nonStrings")
        {
            // Not a workload: no built-in pod rule applies.
            assert_eq!(response["allowed"], true, "{name}: {response}");
        }
    }
    assert_eq!((reviewed, rejected), (36, 11));
    server.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denials_list_every_violated_rule_with_its_fix() {
    let mut server = TestServer::start("").await;
    let mut pod = privileged_pod("web");
    pod["spec"]["hostNetwork"] = json!(true);
    pod["spec"]["containers"][0]["image"] = json!("nginx:latest");
    let response = server
        .review(&pod_review("u-1", "CREATE", "shop", pod))
        .await;
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 403);
    assert_eq!(response["status"]["reason"], "Forbidden");
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("palisade denied Pod shop/web (CREATE): "),
        "{message}"
    );
    for (code, fix) in [
        (
            "K8S001",
            palisade_k8s::catalog()
                .iter()
                .find(|c| c.meta.code == "K8S001")
                .unwrap()
                .meta
                .fix
                .to_string(),
        ),
        (
            "K8S004",
            palisade_k8s::catalog()
                .iter()
                .find(|c| c.meta.code == "K8S004")
                .unwrap()
                .meta
                .fix
                .to_string(),
        ),
        (
            "K8S034",
            palisade_k8s::catalog()
                .iter()
                .find(|c| c.meta.code == "K8S034")
                .unwrap()
                .meta
                .fix
                .to_string(),
        ),
    ] {
        let line = message
            .lines()
            .find(|l| l.starts_with(&format!("- {code} ")))
            .unwrap_or_else(|| panic!("{code} missing: {message}"));
        assert!(line.ends_with(&format!("(fix: {fix})")), "{line}");
    }
    // The compliant pod passes.
    let ok = server
        .review(&pod_review(
            "u-2",
            "CREATE",
            "shop",
            good_pod("web", "registry.example.com/web:1.0"),
        ))
        .await;
    assert_eq!(ok["allowed"], true, "{ok}");
    assert!(ok.get("status").is_none());
    let denied = server.events("admission");
    assert!(
        denied
            .iter()
            .any(|l| l["uid"] == "u-1" && l["allowed"] == false && l["user"] == "alice")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warn_and_audit_actions_allow() {
    let mut server =
        TestServer::start("rules:\n  actions:\n    K8S001: warn\n    host-network: audit\n").await;
    let mut pod = privileged_pod("web");
    pod["spec"]["hostNetwork"] = json!(true);
    let response = server
        .review(&pod_review("u-w", "CREATE", "shop", pod))
        .await;
    assert_eq!(response["allowed"], true, "{response}");
    let warnings: Vec<&str> = response["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("K8S001 privileged-container: ") && w.contains("(fix: ")),
        "{warnings:?}"
    );
    assert!(
        !warnings.iter().any(|w| w.contains("K8S004")),
        "{warnings:?}"
    );
    let audited = response["auditAnnotations"]["audit"].as_str().unwrap();
    assert!(audited.split(',').any(|c| c == "K8S004"), "{audited}");
    let log = server.events("admission");
    let line = log.iter().find(|l| l["uid"] == "u-w").unwrap();
    assert!(
        line["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["rule"] == "K8S004" && v["action"] == "audit")
    );
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(
            "palisade_admission_rule_decisions_total{rule=\"K8S004\",action=\"audit\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics
            .contains("palisade_admission_rule_decisions_total{rule=\"K8S001\",action=\"warn\"} 1"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_mode_never_denies() {
    let mut server = TestServer::start("mode: audit\n").await;
    let response = server
        .review(&pod_review("u-a", "CREATE", "shop", privileged_pod("web")))
        .await;
    assert_eq!(response["allowed"], true);
    let warnings = response["warnings"].to_string();
    assert!(
        warnings.contains("[audit mode: would deny] K8S001"),
        "{warnings}"
    );
    assert!(
        server
            .metrics()
            .await
            .contains("decision=\"allowed\",reason=\"audit-mode\"} 1")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exempt_namespaces_by_name_and_label() {
    let mut server = TestServer::start("").await;
    // kube-system is exempt by default.
    let r = server
        .review(&pod_review(
            "u-k",
            "CREATE",
            "kube-system",
            privileged_pod("cni"),
        ))
        .await;
    assert_eq!(r["allowed"], true);
    server.stop().await;

    let mut server = TestServer::start(
        "exemptions:\n  namespaces: [infra]\n  namespace-selectors:\n    - matchLabels: {palisade.dev/exempt: \"true\"}\n",
    )
    .await;
    assert_eq!(
        server
            .review(&pod_review("u-i", "CREATE", "infra", privileged_pod("p")))
            .await["allowed"],
        true
    );
    // Setting the list replaces the default.
    assert_eq!(
        server
            .review(&pod_review(
                "u-k2",
                "CREATE",
                "kube-system",
                privileged_pod("p")
            ))
            .await["allowed"],
        false
    );
    // A Namespace object is matched by its labels.
    let ns = |uid: &str, labels: Value| {
        envelope(json!({
            "uid": uid, "kind": {"group": "", "version": "v1", "kind": "Namespace"},
            "resource": {"group": "", "version": "v1", "resource": "namespaces"},
            "name": "team-a", "operation": "CREATE", "userInfo": {"username": "admin"},
            "object": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "labels": labels}}
        }))
    };
    assert_eq!(
        server
            .review(&ns("u-n1", json!({"palisade.dev/exempt": "true"})))
            .await["allowed"],
        true
    );
    assert!(server.metrics().await.contains("reason=\"exempt\"} 2"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics_on_the_plain_port() {
    let mut server = TestServer::start("").await;
    let get = |path: &str| reqwest::get(format!("http://{}{path}", server.health));
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    assert_eq!(get("/nope").await.unwrap().status(), 404);
    server
        .review(&pod_review("u-m", "CREATE", "shop", privileged_pod("web")))
        .await;
    let metrics = server.metrics().await;
    for needle in [
        "# TYPE palisade_admission_requests_total counter",
        "palisade_admission_requests_total{operation=\"CREATE\"} 1",
        "palisade_admission_decisions_total{decision=\"denied\",reason=\"rules\"} 1",
        "palisade_admission_rule_decisions_total{rule=\"K8S001\",action=\"deny\"} 1",
        "# TYPE palisade_admission_request_duration_seconds histogram",
        "palisade_admission_request_duration_seconds_count 1",
        "# TYPE palisade_admission_errors_total counter",
    ] {
        assert!(metrics.contains(needle), "{needle} missing:\n{metrics}");
    }
    // The webhook port speaks only TLS, and only /validate.
    let plain = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/validate", server.addr.port()))
        .body("{}")
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    let r = server.client.get(server.url()).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let r = server
        .client
        .post(format!("https://127.0.0.1:{}/other", server.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_1_2_and_1_3_are_served() {
    let mut server = TestServer::start("").await;
    let ca = std::fs::read_to_string(server.dir.path().join("ca.crt")).unwrap();
    for (min, max) in [
        (
            reqwest::tls::Version::TLS_1_2,
            reqwest::tls::Version::TLS_1_2,
        ),
        (
            reqwest::tls::Version::TLS_1_3,
            reqwest::tls::Version::TLS_1_3,
        ),
    ] {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
            .min_tls_version(min)
            .max_tls_version(max)
            .build()
            .unwrap();
        let r = client
            .post(server.url())
            .body(
                serde_json::to_vec(&pod_review(
                    "u-t",
                    "CREATE",
                    "shop",
                    good_pod("w", "registry.example.com/w:1"),
                ))
                .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // A client that does not trust the CA is refused by its own check.
    let untrusting = reqwest::Client::builder().use_rustls_tls().build().unwrap();
    assert!(
        untrusting
            .post(server.url())
            .body("{}")
            .send()
            .await
            .is_err()
    );
    server.stop().await;
}

/// TLS 1.1 and below are refused (checked with OpenSSL's client when the
/// machine has one; rustls clients cannot even offer them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_tls_versions_are_refused() {
    let mut server = TestServer::start("").await;
    let target = format!("127.0.0.1:{}", server.addr.port());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("openssl")
            .args(["s_client", "-connect", &target, "-tls1_1"])
            .stdin(std::process::Stdio::null())
            .output()
    })
    .await
    .unwrap();
    let Ok(out) = out else {
        eprintln!("SKIPPED old_tls_versions_are_refused: no openssl binary");
        server.stop().await;
        return;
    };
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("no peer certificate available"), "{text}");
    assert!(
        text.contains("handshake failure")
            || text.contains("no protocols available")
            || text.contains("alert protocol version")
            || text.contains("wrong version number"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_reload_when_the_files_change() {
    let mut server = TestServer::start("").await;
    let old_ca = std::fs::read_to_string(server.dir.path().join("ca.crt")).unwrap();
    let old_client = client_for(&old_ca);
    let body = serde_json::to_vec(&pod_review(
        "u-c",
        "CREATE",
        "shop",
        good_pod("w", "registry.example.com/w:1"),
    ))
    .unwrap();
    assert_eq!(
        old_client
            .post(server.url())
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A broken key is reported and the old certificate keeps serving.
    std::fs::write(server.dir.path().join("tls.key"), "not a key").unwrap();
    wait_for(|| !server.events("certificate-reload-failed").is_empty()).await;
    let fresh = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(old_ca.as_bytes()).unwrap())
        .build()
        .unwrap();
    assert_eq!(
        fresh
            .post(server.url())
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A new CA and certificate (written as a rotation would) take over.
    let new = write_certs(server.dir.path());
    wait_for(|| !server.events("certificate-reloaded").is_empty()).await;
    let new_client = client_for(&new.ca_cert);
    assert_eq!(
        new_client
            .post(server.url())
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let stale = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(old_ca.as_bytes()).unwrap())
        .build()
        .unwrap();
    assert!(stale.post(server.url()).body(body).send().await.is_err());
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("what=\"certificate\",result=\"failure\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("what=\"certificate\",result=\"success\"} 1"),
        "{metrics}"
    );
    server.stop().await;
}

pub async fn wait_for(mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("condition never held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_reloads_and_a_broken_one_keeps_the_old() {
    let mut server = TestServer::start("").await;
    let config = server.dir.path().join("palisade-admission.yaml");
    let review = |uid: &str| pod_review(uid, "CREATE", "shop", privileged_pod("web"));
    assert_eq!(server.review(&review("r-1")).await["allowed"], false);

    // A file change is picked up.
    std::fs::write(&config, "rules:\n  actions:\n    K8S001: warn\n").unwrap();
    wait_for(|| !server.events("config-reloaded").is_empty()).await;
    assert_eq!(server.review(&review("r-2")).await["allowed"], true);

    // A configuration that does not compile is reported; the old one stays.
    std::fs::write(&config, "rules:\n  actions:\n    no-such-rule: warn\n").unwrap();
    wait_for(|| !server.events("config-reload-failed").is_empty()).await;
    let failed = server.events("config-reload-failed");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("no-such-rule"),
        "{failed:?}"
    );
    assert_eq!(server.review(&review("r-3")).await["allowed"], true);
    std::fs::write(&config, "mode: [").unwrap();
    wait_for(|| server.events("config-reload-failed").len() >= 2).await;
    let failed = server.events("config-reload-failed");
    let error = failed[1]["error"].as_str().unwrap();
    assert!(
        error.contains("palisade-admission.yaml:") && error.contains("invalid YAML"),
        "{failed:?}"
    );
    assert_eq!(server.review(&review("r-4")).await["allowed"], true);

    // A forced reload (what SIGHUP does) of a good file.
    std::fs::write(&config, "mode: enforce\n").unwrap();
    server.reload.notify_one();
    wait_for(|| server.events("config-reloaded").len() >= 2).await;
    assert_eq!(server.review(&review("r-5")).await["allowed"], false);
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("what=\"config\",result=\"failure\"} 2"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_line_shows_the_exemptions_in_force() {
    let mut server = TestServer::start("").await;
    let start = server.events("start");
    assert_eq!(start.len(), 1);
    assert_eq!(start[0]["exempt_namespaces"], json!(["kube-system"]));
    assert_eq!(start[0]["failure_policy"], "Fail");
    server.stop().await;
}
