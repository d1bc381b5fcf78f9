//! A real webhook over TLS on 127.0.0.1 for tests: certificates from
//! `certs::generate`, the server bound on ephemeral ports, a client that
//! trusts the test CA.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use palisade_admission::log::Memory;
use palisade_admission::tls::CertFiles;
use palisade_admission::{Admission, ServeOptions, Server, certs};
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};

pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub health: SocketAddr,
    pub client: reqwest::Client,
    pub logs: Arc<Memory>,
    pub admission: Arc<Admission>,
    pub reload: Arc<Notify>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Writes a CA and serving certificate for 127.0.0.1 into `dir`.
pub fn write_certs(dir: &Path) -> certs::Bundle {
    let bundle = certs::generate(
        "palisade-admission",
        "palisade",
        &["127.0.0.1".into(), "localhost".into()],
        30,
    )
    .unwrap();
    certs::write(&bundle, dir).unwrap();
    bundle
}

pub fn client_for(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

impl TestServer {
    /// A server with `config` (YAML) written to `palisade-admission.yaml`
    /// next to the certificates; `prepare` may add files (policies, keys)
    /// before it starts.
    pub async fn start_with(config: &str, prepare: impl FnOnce(&Path)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let bundle = write_certs(dir.path());
        prepare(dir.path());
        let config_path = dir.path().join("palisade-admission.yaml");
        std::fs::write(&config_path, config).unwrap();
        let mut options = ServeOptions::new(
            "127.0.0.1:0".parse().unwrap(),
            "127.0.0.1:0".parse().unwrap(),
            CertFiles {
                cert: dir.path().join(certs::TLS_CERT),
                key: dir.path().join(certs::TLS_KEY),
            },
        );
        options.config = Some(config_path);
        options.sighup = false;
        options.poll_interval = Duration::from_millis(100);
        options.drain_timeout = Duration::from_secs(10);
        let logs = Arc::new(Memory::default());
        let server = Server::bind(options, logs.clone()).await.unwrap();
        let addr = server.local_addr().unwrap();
        let health = server.health_addr().unwrap();
        let admission = server.admission();
        let reload = server.reload_trigger();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        let client = client_for(&bundle.ca_cert);
        let s = TestServer {
            dir,
            addr,
            health,
            client,
            logs,
            admission,
            reload,
            stop: Some(tx),
            task: Some(task),
        };
        s.wait_ready().await;
        s
    }

    pub async fn start(config: &str) -> TestServer {
        TestServer::start_with(config, |_| {}).await
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/validate", self.addr.port())
    }

    pub async fn wait_ready(&self) {
        for _ in 0..100 {
            if let Ok(r) = reqwest::get(format!("http://{}/readyz", self.health)).await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("server never became ready");
    }

    /// POSTs a body; returns the HTTP status and the JSON answer.
    pub async fn post(&self, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let r = self
            .client
            .post(self.url())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {text}"));
        (status, json)
    }

    /// POSTs an AdmissionReview and returns its `response`.
    pub async fn review(&self, review: &Value) -> Value {
        let (status, json) = self.post(serde_json::to_vec(review).unwrap()).await;
        assert_eq!(status, 200, "{json}");
        assert_eq!(json["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(json["kind"], "AdmissionReview");
        let uid = review["request"]["uid"].clone();
        assert_eq!(json["response"]["uid"], uid, "{json}");
        json["response"].clone()
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(format!("http://{}/metrics", self.health))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Log lines of one event kind.
    pub fn events(&self, event: &str) -> Vec<Value> {
        self.logs
            .lines()
            .into_iter()
            .filter(|l| l["event"] == event)
            .collect()
    }

    /// Stops the server (SIGTERM's path) and waits for it to drain.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("server did not stop")
                .unwrap();
        }
    }

    pub fn begin_stop(&mut self) -> Option<tokio::task::JoinHandle<()>> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.take()
    }
}

/// Wraps a bare `request` (as the Kubewarden fixtures keep them) in an
/// AdmissionReview.
pub fn envelope(request: Value) -> Value {
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
}

/// A review of a Pod operation.
pub fn pod_review(uid: &str, operation: &str, namespace: &str, pod: Value) -> Value {
    let name = pod["metadata"]["name"].clone();
    envelope(json!({
        "uid": uid,
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "name": name,
        "namespace": namespace,
        "operation": operation,
        "userInfo": {"username": "alice", "groups": ["developers", "system:authenticated"]},
        "object": pod,
    }))
}

/// A compliant Pod (passes the default configuration).
pub fn good_pod(name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app.kubernetes.io/name": name}},
        "spec": {
            "automountServiceAccountToken": false,
            "serviceAccountName": "web",
            "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "runAsGroup": 10001,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "web",
                "image": image,
                "imagePullPolicy": "Always",
                "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                    "runAsNonRoot": true, "runAsUser": 10001, "runAsGroup": 10001,
                                    "capabilities": {"drop": ["ALL"]}},
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
                "livenessProbe": {"httpGet": {"path": "/", "port": 8080}},
                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}}
            }]
        }
    })
}

pub fn privileged_pod(name: &str) -> Value {
    let mut pod = good_pod(name, "registry.example.com/web:1.0");
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    pod
}
