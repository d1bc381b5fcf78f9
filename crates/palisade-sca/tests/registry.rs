#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Pulling from a real registry: Debian's `docker-registry` started on
//! 127.0.0.1 (random port, temporary storage, killed on drop), images
//! pushed with `skopeo`. `.ci/run` installs both; where they are missing
//! the tests say so on stderr and skip.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use palisade_sca::source::{Credentials, SourceOptions, sbom_of};

/// `hunter2`, bcrypt (cost 5), for the htpasswd file.
const HTPASSWD: &str = "tester:$2b$05$2Y0J.7bT/HZ1f5NZlB8r.eSeOcQnKP/Yg2aE6afx9CZnZSWZqPrii\n";

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

fn tools_present(test: &str) -> bool {
    let ok = ["docker-registry", "skopeo"].iter().all(|t| {
        Command::new(t)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    });
    if !ok {
        eprintln!(
            "SKIPPED {test}: docker-registry and skopeo are not installed (.ci/run installs them: apt-get install docker-registry skopeo)"
        );
    }
    ok
}

fn start(auth: bool) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let storage = dir.path().join("storage");
    let mut config = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
        storage.display()
    );
    if auth {
        std::fs::write(dir.path().join("htpasswd"), HTPASSWD).unwrap();
        config.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: palisade-test\n    path: {}\n",
            dir.path().join("htpasswd").display()
        ));
    }
    std::fs::write(dir.path().join("config.yml"), config).unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(dir.path().join("config.yml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "registry did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Registry {
        child,
        port,
        _dir: dir,
    }
}

fn push(layout_dir: &Path, dest: &str, creds: Option<&str>) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "--insecure-policy", "--dest-tls-verify=false"]);
    if let Some(c) = creds {
        cmd.args(["--dest-creds", c]);
    }
    let out = cmd
        .arg(format!("oci:{}:latest", layout_dir.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn image() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = dpkg_status(&[("libc6", "2.36-9"), ("zlib1g", "1:1.2.13.dfsg-1")]);
    layout(
        dir.path(),
        &[
            gz_layer(&[
                Entry::File("etc/os-release", OS_RELEASE, 0o644),
                Entry::File("var/lib/dpkg/status", &status, 0o644),
            ]),
            gz_layer(&[Entry::File(
                "app/requirements.txt",
                b"requests==2.19.0\n",
                0o644,
            )]),
        ],
    );
    dir
}

fn opts(creds: Credentials) -> SourceOptions {
    SourceOptions {
        platform: "linux/amd64".into(),
        insecure: true,
        credentials: creds,
        ..SourceOptions::default()
    }
}

#[test]
fn pulls_by_tag_and_digest_anonymously() {
    if !tools_present("pulls_by_tag_and_digest_anonymously") {
        return;
    }
    let reg = start(false);
    let img = image();
    let reference = format!("127.0.0.1:{}/palisade/app:1.0", reg.port);
    push(img.path(), &reference, None);
    let sbom = sbom_of(&reference, &opts(Credentials::Anonymous)).unwrap();
    let names: Vec<&str> = sbom.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["libc6", "zlib1g", "requests"], "{:?}", sbom.errors);
    assert_eq!(sbom.target.layers.len(), 2);
    let req = sbom
        .components
        .iter()
        .find(|c| c.name == "requests")
        .unwrap();
    assert_eq!(
        req.locations[0].layer_digest.as_deref(),
        Some(sbom.target.layers[1].digest.as_str())
    );
    let digest = sbom.target.image_digest.clone().unwrap();
    let by_digest = format!("127.0.0.1:{}/palisade/app@{digest}", reg.port);
    let again = sbom_of(&by_digest, &opts(Credentials::Anonymous)).unwrap();
    assert_eq!(again.components.len(), 3);
    // A tag that does not exist.
    let e = sbom_of(
        &format!("127.0.0.1:{}/palisade/app:nope", reg.port),
        &opts(Credentials::Anonymous),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("palisade/app:nope"), "{e}");
}

#[test]
fn basic_auth_is_used_and_failures_are_clear() {
    if !tools_present("basic_auth_is_used_and_failures_are_clear") {
        return;
    }
    let reg = start(true);
    let img = image();
    let reference = format!("127.0.0.1:{}/private/app:1.0", reg.port);
    push(img.path(), &reference, Some("tester:hunter2"));
    let e = sbom_of(&reference, &opts(Credentials::Anonymous))
        .unwrap_err()
        .to_string();
    assert!(e.to_lowercase().contains("auth"), "{e}");
    let wrong = Credentials::Basic {
        user: "tester".into(),
        password: "wrong".into(),
    };
    let e = sbom_of(&reference, &opts(wrong)).unwrap_err().to_string();
    assert!(e.to_lowercase().contains("auth"), "{e}");
    let right = Credentials::Basic {
        user: "tester".into(),
        password: "hunter2".into(),
    };
    let sbom = sbom_of(&reference, &opts(right)).unwrap();
    assert_eq!(sbom.components.len(), 3);
}
