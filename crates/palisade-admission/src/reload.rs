//! Hot reload: the configuration (and the policy, data and key files it
//! names) and the serving certificate are re-read when their content
//! changes — checked on a short interval, which also catches Kubernetes'
//! symlink swaps of mounted ConfigMaps and Secrets — and on SIGHUP. A
//! configuration or certificate that fails to load leaves the previous
//! one serving, and the error is logged and counted.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::compiled::Compiled;
use crate::config::Config;
use crate::handler::Admission;
use crate::log::event;
use crate::tls::{CertFiles, Resolver};

/// Files walked per policy directory when fingerprinting.
const MAX_FINGERPRINT_FILES: usize = 10_000;

/// Reads and compiles the configuration at `path` (the defaults without
/// one). Relative paths in it are relative to its directory.
pub fn load(path: Option<&Path>) -> Result<Compiled, String> {
    let Some(path) = path else {
        return Compiled::default_config().map_err(|e| e.to_string());
    };
    let config = Config::load(path).map_err(|e| e.to_string())?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Compiled::compile(config, Some(path.to_path_buf()), &base)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A fingerprint of the configuration file and of every file it makes
/// the server read.
pub fn fingerprint(path: &Path, current: &Config) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(std::fs::read(path).unwrap_or_default());
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut files = Vec::new();
    for p in current.policies.iter().chain(&current.data) {
        walk(&base.join(p), &mut files, 0);
    }
    if let Some(s) = &current.images.signatures {
        files.push(base.join(&s.public_key));
    }
    files.sort();
    for f in files {
        h.update(f.as_os_str().as_encoded_bytes());
        if let Ok(m) = std::fs::metadata(&f) {
            h.update(m.len().to_le_bytes());
            if let Ok(t) = m.modified()
                && let Ok(d) = t.duration_since(std::time::UNIX_EPOCH)
            {
                h.update(d.as_nanos().to_le_bytes());
            }
        }
    }
    h.finalize().into()
}

fn walk(path: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if out.len() >= MAX_FINGERPRINT_FILES || depth > 16 {
        return;
    }
    match std::fs::read_dir(path) {
        Ok(entries) => {
            for e in entries.flatten() {
                walk(&e.path(), out, depth + 1);
            }
        }
        Err(_) => out.push(path.to_path_buf()),
    }
}

/// What the reload task watches.
#[derive(Debug)]
pub struct Watch {
    pub config: Option<PathBuf>,
    pub certs: CertFiles,
    pub interval: Duration,
    pub sighup: bool,
    /// Forces a reload (as SIGHUP does).
    pub trigger: Arc<Notify>,
}

/// Runs until `stop` is notified.
pub async fn run(
    watch: Watch,
    admission: Arc<Admission>,
    resolver: Arc<Resolver>,
    stop: Arc<Notify>,
) {
    let mut last_cert = watch.certs.fingerprint();
    let mut last_config = watch
        .config
        .as_deref()
        .map(|p| fingerprint(p, &admission.compiled().config));
    let mut hup = if watch.sighup {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
    } else {
        None
    };
    // A change is acted on once two checks in a row see the same content:
    // a file caught half-written (or a certificate written before its key)
    // is never loaded, and a partial write does not read as an empty file
    // (the defaults). SIGHUP loads at once.
    let mut pending_cert = None;
    let mut pending_config = None;
    let mut interval = tokio::time::interval(watch.interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let forced = tokio::select! {
            _ = interval.tick() => false,
            _ = watch.trigger.notified() => true,
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
            _ = stop.notified() => return,
        };
        let cert = watch.certs.fingerprint();
        let cert_settled = forced || (cert != last_cert && cert == pending_cert);
        pending_cert = if cert != last_cert { cert } else { None };
        if cert.is_some() && cert_settled {
            last_cert = cert;
            pending_cert = None;
            match watch.certs.load() {
                Ok(key) => {
                    resolver.replace(key);
                    admission.metrics.reload("certificate", "success");
                    admission.log(event(
                        "info",
                        "certificate-reloaded",
                        json!({"cert": watch.certs.cert.display().to_string()}),
                    ));
                }
                Err(e) => {
                    admission.metrics.reload("certificate", "failure");
                    admission.log(event(
                        "error",
                        "certificate-reload-failed",
                        json!({"error": e.to_string(), "action": "keeping the previous certificate"}),
                    ));
                }
            }
        }
        let Some(path) = watch.config.clone() else {
            continue;
        };
        let current = admission.compiled();
        let fp = fingerprint(&path, &current.config);
        if Some(fp) == last_config && !forced {
            pending_config = None;
            continue;
        }
        if !forced && pending_config != Some(fp) {
            pending_config = Some(fp);
            continue;
        }
        pending_config = None;
        last_config = Some(fp);
        let compiled = tokio::task::spawn_blocking(move || load(Some(&path))).await;
        match compiled {
            Ok(Ok(c)) => {
                let summary = summary(&c);
                admission.replace(c);
                // Fingerprint what the new configuration names.
                if let Some(p) = watch.config.as_deref() {
                    last_config = Some(fingerprint(p, &admission.compiled().config));
                }
                admission.metrics.reload("config", "success");
                admission.log(event("info", "config-reloaded", summary));
            }
            Ok(Err(e)) => {
                admission.metrics.reload("config", "failure");
                admission.log(event(
                    "error",
                    "config-reload-failed",
                    json!({"error": e, "action": "keeping the previous configuration"}),
                ));
            }
            Err(e) => {
                admission.metrics.reload("config", "failure");
                admission.log(event(
                    "error",
                    "config-reload-failed",
                    json!({"error": e.to_string(), "action": "keeping the previous configuration"}),
                ));
            }
        }
    }
}

/// What a configuration enforces, for the start and reload log lines:
/// the exemptions in force are always visible here.
pub fn summary(c: &Compiled) -> serde_json::Value {
    let cfg = &c.config;
    json!({
        "config": c.source.as_ref().map(|p| p.display().to_string()),
        "mode": cfg.mode.as_str(),
        "failure_policy": cfg.failure_policy.as_kubernetes(),
        "timeout_seconds": cfg.timeout_seconds,
        "deadline_ms": u64::try_from(cfg.deadline().as_millis()).unwrap_or(u64::MAX),
        "workers": cfg.workers(),
        "rules": c.rule_count,
        "policy_rules": c.policy_rule_count,
        "rego_engine": c.rego_engine(),
        "exempt_namespaces": cfg.exemptions.namespaces,
        "exempt_namespace_selectors": cfg.exemptions.namespace_selectors.len(),
        "signature_verification": cfg.images.signatures.is_some(),
        "break_glass": {"users": cfg.immutability.break_glass.users, "groups": cfg.immutability.break_glass.groups},
    })
}
