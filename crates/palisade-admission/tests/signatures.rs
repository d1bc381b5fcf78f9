#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Cosign-compatible signature verification against a real registry:
//! Debian's `docker-registry` on 127.0.0.1, images and `sha256-<digest>.sig`
//! signatures pushed by the test over the distribution API, signed with a
//! test key. Without the binary the test is skipped, except in CI
//! (`CI=true`), where `.ci/run` installs it and its absence is a failure.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::EncodePublicKey;
use palisade_admission::registry::hex;
use palisade_admission::signature::{
    SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, simple_signing_payload,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_registry() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("docker-registry"))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_registry() -> Option<Registry> {
    let Some(bin) = find_registry() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("docker-registry is not installed (.ci/run installs it)");
        }
        eprintln!(
            "SKIPPED signature tests: docker-registry is not installed (apt-get install docker-registry)"
        );
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
        dir.path().join("data").display()
    );
    std::fs::write(dir.path().join("config.yml"), config).unwrap();
    let child = Command::new(bin)
        .arg("serve")
        .arg(dir.path().join("config.yml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let registry = Registry {
        child,
        port,
        _dir: dir,
    };
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/v2/")).await
            && r.status() == 200
        {
            return Some(registry);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("docker-registry did not start");
}

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// A minimal distribution-API client for pushing test content.
struct Pusher {
    http: reqwest::Client,
    base: String,
}

impl Pusher {
    async fn blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = digest_of(bytes);
        let r = self
            .http
            .post(format!("{}/v2/{repo}/blobs/uploads/", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let url = if location.starts_with("http") {
            location
        } else {
            format!("{}{location}", self.base)
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let r = self
            .http
            .put(format!("{url}{sep}digest={digest}"))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        digest
    }

    async fn manifest(&self, repo: &str, reference: &str, manifest: &Value) -> String {
        let body = serde_json::to_vec(manifest).unwrap();
        let r = self
            .http
            .put(format!("{}/v2/{repo}/manifests/{reference}", self.base))
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        digest_of(&body)
    }

    /// Pushes a one-layer image; returns its manifest digest.
    async fn image(&self, repo: &str, tag: &str, content: &[u8]) -> String {
        let config =
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
        let config_digest = self.blob(repo, config).await;
        let layer_digest = self.blob(repo, content).await;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": content.len()}],
        });
        self.manifest(repo, tag, &manifest).await
    }

    /// Signs `digest` as `cosign sign --key` does: a simple-signing payload
    /// layer with the signature annotation, tagged `sha256-<hex>.sig`.
    /// `payload_digest` lets a test sign a payload naming another digest.
    async fn sign(&self, repo: &str, digest: &str, key: &SigningKey, payload_digest: &str) {
        let payload = simple_signing_payload(
            &format!("{}/{repo}", self.base.trim_start_matches("http://")),
            payload_digest,
        );
        let signature: Signature = key.sign(&payload);
        let payload_blob = self.blob(repo, &payload).await;
        let config = br#"{"architecture":"","config":{},"created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":[]}}"#;
        let config_digest = self.blob(repo, config).await;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [{
                "mediaType": SIMPLE_SIGNING_MEDIA_TYPE,
                "digest": payload_blob,
                "size": payload.len(),
                "annotations": {SIGNATURE_ANNOTATION: STANDARD.encode(signature.to_der().as_bytes())}
            }],
        });
        let tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
        self.manifest(repo, &tag, &manifest).await;
    }
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

fn write_public_key(dir: &Path, key: &SigningKey) {
    let pem = VerifyingKey::from(key)
        .to_public_key_pem(p256::pkcs8::LineEnding::LF)
        .unwrap();
    std::fs::write(dir.join("cosign.pub"), pem).unwrap();
}

fn config(port: u16, failure_policy: &str) -> String {
    format!(
        "failure-policy: {failure_policy}\nimages:\n  deny-latest: false\n  signatures:\n    public-key: cosign.pub\n    insecure-registries: [\"127.0.0.1:{port}\"]\n    cache-ttl-seconds: 300\n"
    )
}

fn deployment(uid: &str, images: &[&str], init: Option<&str>) -> Value {
    let mut pod = good_pod("web", images.first().copied().unwrap_or("x"));
    let container = pod["spec"]["containers"][0].clone();
    pod["spec"]["containers"] = json!(
        images
            .iter()
            .enumerate()
            .map(|(i, img)| {
                let mut c = container.clone();
                c["name"] = json!(format!("c{i}"));
                c["image"] = json!(img);
                c
            })
            .collect::<Vec<_>>()
    );
    if let Some(img) = init {
        let mut c = container.clone();
        c["name"] = json!("init");
        c["image"] = json!(img);
        pod["spec"]["initContainers"] = json!([c]);
    }
    envelope(json!({
        "uid": uid, "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "name": "web", "namespace": "shop", "operation": "CREATE", "userInfo": {"username": "ci"},
        "object": {"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "namespace": "shop", "labels": {"app.kubernetes.io/name": "web"}},
                   "spec": {"replicas": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                            "template": {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}, "spec": pod["spec"].clone()}}}
    }))
}

fn denial(r: &Value) -> String {
    r["status"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_verified_in_a_real_registry() {
    let Some(registry) = start_registry().await else {
        return;
    };
    let port = registry.port;
    let host = format!("127.0.0.1:{port}");
    let pusher = Pusher {
        http: reqwest::Client::new(),
        base: format!("http://{host}"),
    };
    let trusted = key(7);
    let untrusted = key(9);

    let signed = pusher.image("team/app", "1.0", b"signed layer").await;
    pusher.sign("team/app", &signed, &trusted, &signed).await;
    let unsigned = pusher.image("team/app", "2.0", b"unsigned layer").await;
    let foreign = pusher
        .image("team/other", "1.0", b"signed by someone else")
        .await;
    pusher
        .sign("team/other", &foreign, &untrusted, &foreign)
        .await;
    let swapped = pusher
        .image("team/swap", "1.0", b"signature for another digest")
        .await;
    pusher.sign("team/swap", &swapped, &trusted, &signed).await;

    let mut server =
        TestServer::start_with(&config(port, "fail"), |dir| write_public_key(dir, &trusted)).await;

    // Signed: by digest and by tag (resolved to the same digest), in a Pod
    // and in a Deployment's template.
    let by_digest = format!("{host}/team/app@{signed}");
    let by_tag = format!("{host}/team/app:1.0");
    let r = server
        .review(&pod_review(
            "s-1",
            "CREATE",
            "shop",
            good_pod("web", &by_digest),
        ))
        .await;
    assert_eq!(r["allowed"], true, "{r}");
    let r = server.review(&deployment("s-2", &[&by_tag], None)).await;
    assert_eq!(r["allowed"], true, "{r}");

    // Unsigned, signed by another key, or a signature naming another digest.
    for (uid, image, needle) in [
        ("u-1", format!("{host}/team/app:2.0"), "no signature"),
        ("u-2", format!("{host}/team/app@{unsigned}"), "no signature"),
        (
            "u-3",
            format!("{host}/team/other:1.0"),
            "does not verify with the configured key",
        ),
        ("u-4", format!("{host}/team/swap:1.0"), "names digest"),
        (
            "u-5",
            format!("{host}/team/missing:1.0"),
            "does not exist in the registry",
        ),
    ] {
        let r = server
            .review(&pod_review(uid, "CREATE", "shop", good_pod("web", &image)))
            .await;
        assert_eq!(r["allowed"], false, "{uid}: {r}");
        let m = denial(&r);
        assert!(m.contains("ADM006 unsigned-image"), "{uid}: {m}");
        assert!(m.contains(needle), "{uid}: {m}");
    }
    // An unsigned init container is enough to deny.
    let r = server
        .review(&deployment(
            "u-6",
            &[&by_digest],
            Some(&format!("{host}/team/app:2.0")),
        ))
        .await;
    assert_eq!(r["allowed"], false, "{r}");

    // Results are cached per digest: the signed digest was verified once.
    let metrics = server.metrics().await;
    let hits = metric(&metrics, "palisade_admission_signature_cache_hits_total");
    assert!(hits >= 2, "{metrics}");

    // With the registry gone, cached digests still verify; anything else
    // follows the failure policy (Fail: denied, saying why).
    drop(registry);
    let r = server
        .review(&pod_review(
            "c-1",
            "CREATE",
            "shop",
            good_pod("web", &by_digest),
        ))
        .await;
    assert_eq!(r["allowed"], true, "{r}");
    let r = server
        .review(&pod_review(
            "c-2",
            "CREATE",
            "shop",
            good_pod("web", &format!("{host}/team/new@{unsigned}")),
        ))
        .await;
    assert_eq!(r["allowed"], false, "{r}");
    assert_eq!(r["status"]["code"], 500);
    let m = denial(&r);
    assert!(
        m.contains("failure policy is Fail") && m.contains("cannot verify the signature"),
        "{m}"
    );
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("palisade_admission_errors_total{kind=\"registry\"} 1"),
        "{metrics}"
    );
    server.stop().await;

    // Fail-open: the same registry failure is allowed with a warning.
    let mut server = TestServer::start_with(&config(port, "ignore"), |dir| {
        write_public_key(dir, &trusted)
    })
    .await;
    let r = server
        .review(&pod_review(
            "c-3",
            "CREATE",
            "shop",
            good_pod("web", &by_digest),
        ))
        .await;
    assert_eq!(r["allowed"], true, "{r}");
    assert!(
        r["warnings"]
            .to_string()
            .contains("allowed by failure policy Ignore"),
        "{r}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_results_expire_after_the_ttl() {
    let Some(registry) = start_registry().await else {
        return;
    };
    let port = registry.port;
    let host = format!("127.0.0.1:{port}");
    let pusher = Pusher {
        http: reqwest::Client::new(),
        base: format!("http://{host}"),
    };
    let trusted = key(7);
    let digest = pusher.image("team/ttl", "1.0", b"ttl layer").await;
    let config = config(port, "fail").replace("cache-ttl-seconds: 300", "cache-ttl-seconds: 1");
    let mut server = TestServer::start_with(&config, |dir| write_public_key(dir, &trusted)).await;
    let image = format!("{host}/team/ttl@{digest}");
    // Unsigned now (and cached as such)…
    let r = server
        .review(&pod_review(
            "t-1",
            "CREATE",
            "shop",
            good_pod("web", &image),
        ))
        .await;
    assert_eq!(r["allowed"], false);
    pusher.sign("team/ttl", &digest, &trusted, &digest).await;
    let r = server
        .review(&pod_review(
            "t-2",
            "CREATE",
            "shop",
            good_pod("web", &image),
        ))
        .await;
    assert_eq!(r["allowed"], false, "still cached: {r}");
    // …and signed once the entry expires.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let r = server
        .review(&pod_review(
            "t-3",
            "CREATE",
            "shop",
            good_pod("web", &image),
        ))
        .await;
    assert_eq!(r["allowed"], true, "{r}");
    server.stop().await;
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
