//! `palisade admission serve|certs|manifests`: the validating admission
//! webhook (palisade-admission), its first-install certificates and its
//! Kubernetes manifests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use palisade_admission::config::{Config, DEFAULT_CONFIG_YAML};
use palisade_admission::manifests::{self, ManifestOptions};
use palisade_admission::tls::CertFiles;
use palisade_admission::{ServeOptions, certs, log, reload, server};

#[derive(Debug, Subcommand)]
pub enum AdmissionCommand {
    /// Serve the validating webhook: HTTPS `POST /validate`, plus
    /// `/healthz`, `/readyz` and `/metrics` on a plain-HTTP port. Stops on
    /// SIGTERM/SIGINT after draining in-flight requests; SIGHUP reloads.
    #[command(
        after_help = "Examples:\n  palisade admission serve --cert tls.crt --key tls.key\n  palisade admission serve --config palisade-admission.yaml --cert /etc/palisade/tls/tls.crt --key /etc/palisade/tls/tls.key --listen 0.0.0.0:8443"
    )]
    Serve(ServeArgs),
    /// Generate a CA and a serving certificate for the webhook's Service
    /// (ca.crt, ca.key, tls.crt, tls.key) for first installs.
    #[command(
        after_help = "Examples:\n  palisade admission certs --service palisade-admission --namespace palisade --out-dir certs/\n  kubectl -n palisade create secret tls palisade-admission-tls --cert certs/tls.crt --key certs/tls.key"
    )]
    Certs(CertsArgs),
    /// Print the manifests that install the webhook: Namespace,
    /// ServiceAccount, ConfigMap, Deployment, PodDisruptionBudget, Service,
    /// NetworkPolicy, break-glass RBAC and the ValidatingWebhookConfiguration.
    #[command(
        after_help = "Examples:\n  palisade admission manifests --namespace palisade --ca-bundle certs/ca.crt | kubectl apply -f -\n  palisade admission manifests --config palisade-admission.yaml --ca-bundle certs/ca.crt --image registry.example.com/palisade@sha256:…"
    )]
    Manifests(ManifestsArgs),
    /// Check a configuration file and print what it enforces (or, without
    /// --config, the defaults written out).
    Config(ConfigArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration (palisade-admission.yaml); reloaded when it changes.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Serving certificate (PEM chain); reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,
    /// Private key of the serving certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// HTTPS address of the webhook.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// Plain-HTTP address of /healthz, /readyz and /metrics.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8080")]
    pub health_listen: SocketAddr,
    /// Seconds between checks of the configuration and certificate files.
    #[arg(long, value_name = "SECONDS", default_value_t = 2)]
    pub poll_interval: u64,
    /// Longest wait for in-flight requests at shutdown (seconds).
    #[arg(long, value_name = "SECONDS", default_value_t = 20)]
    pub drain_timeout: u64,
}

#[derive(Debug, Args)]
pub struct CertsArgs {
    /// The webhook's Service name.
    #[arg(long, value_parser = service_name, default_value = "palisade-admission")]
    pub service: String,
    /// The Service's namespace.
    #[arg(long, value_parser = dns_label, default_value = "palisade")]
    pub namespace: String,
    /// Directory to write ca.crt, ca.key, tls.crt and tls.key into.
    #[arg(long, value_name = "DIR", default_value = "palisade-admission-certs")]
    pub out_dir: PathBuf,
    /// Validity of the serving certificate, in days (1 to 3650: the CA is
    /// valid 10 years).
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Extra DNS names or IP addresses for the serving certificate.
    #[arg(long = "san", value_name = "NAME")]
    pub sans: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ManifestsArgs {
    /// Namespace to install into.
    #[arg(long, value_parser = dns_label, default_value = "palisade")]
    pub namespace: String,
    /// Name of the Deployment, Service and webhook configuration.
    #[arg(long, value_parser = service_name, default_value = "palisade-admission")]
    pub name: String,
    /// The CA certificate (PEM) that signed the serving certificate: the
    /// webhook configuration's caBundle (`ca.crt` from `admission certs`).
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: PathBuf,
    /// Configuration to ship in the ConfigMap (default: the defaults).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Image to run (default: this release's).
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// Name of the kubernetes.io/tls Secret with the serving certificate.
    #[arg(long, value_name = "NAME")]
    pub tls_secret: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Configuration to check.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn run(cmd: AdmissionCommand) -> Result<ExitCode> {
    match cmd {
        AdmissionCommand::Serve(args) => serve(args),
        AdmissionCommand::Certs(args) => certs_cmd(&args),
        AdmissionCommand::Manifests(args) => manifests_cmd(&args),
        AdmissionCommand::Config(args) => config_cmd(&args),
    }
}

fn serve(args: ServeArgs) -> Result<ExitCode> {
    let mut options = ServeOptions::new(
        args.listen,
        args.health_listen,
        CertFiles {
            cert: args.cert,
            key: args.key,
        },
    );
    options.config = args.config;
    options.poll_interval = Duration::from_secs(args.poll_interval.max(1));
    options.drain_timeout = Duration::from_secs(args.drain_timeout);
    server::run_until_signal(options, Arc::new(log::Stdout)).context("palisade admission serve")?;
    Ok(ExitCode::SUCCESS)
}

fn certs_cmd(args: &CertsArgs) -> Result<ExitCode> {
    let bundle = certs::generate(&args.service, &args.namespace, &args.sans, args.days)?;
    let written = certs::write(&bundle, &args.out_dir)?;
    for p in &written {
        println!("wrote {}", p.display());
    }
    println!(
        "serving certificate for: {} (valid {} days)",
        bundle.dns_names.join(", "),
        args.days
    );
    println!(
        "next: kubectl -n {ns} create secret tls {svc}-tls --cert {crt} --key {key}\n      palisade admission manifests --namespace {ns} --ca-bundle {ca} | kubectl apply -f -",
        ns = args.namespace,
        svc = args.service,
        crt = args.out_dir.join(certs::TLS_CERT).display(),
        key = args.out_dir.join(certs::TLS_KEY).display(),
        ca = args.out_dir.join(certs::CA_CERT).display(),
    );
    Ok(ExitCode::SUCCESS)
}

fn manifests_cmd(args: &ManifestsArgs) -> Result<ExitCode> {
    let ca = std::fs::read_to_string(&args.ca_bundle)
        .with_context(|| format!("cannot read the CA bundle {}", args.ca_bundle.display()))?;
    if !ca.contains("-----BEGIN CERTIFICATE-----") {
        bail!(
            "{}: not a PEM certificate (use ca.crt from `palisade admission certs`)",
            args.ca_bundle.display()
        );
    }
    let (config, text) = match &args.config {
        Some(path) => {
            let config = Config::load(path).map_err(anyhow::Error::msg)?;
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            (config, text)
        }
        None => (Config::default(), DEFAULT_CONFIG_YAML.to_string()),
    };
    // The ConfigMap carries the configuration, not the files it names.
    let mut files: Vec<String> = config
        .policies
        .iter()
        .chain(&config.data)
        .map(|p| p.display().to_string())
        .collect();
    if let Some(s) = &config.images.signatures {
        files.push(s.public_key.display().to_string());
    }
    if !files.is_empty() {
        crate::diagnostics::warn(&format!(
            "the configuration names files the manifests do not ship ({}): mount them into the Deployment at /etc/palisade/ with those relative paths, or the webhook pods will not start",
            files.join(", ")
        ));
    }
    let image = args.image.clone().unwrap_or_else(manifests::default_image);
    if image.is_empty()
        || image
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"')
    {
        bail!(
            "--image `{}`: not an image reference",
            palisade_core::text::printable(&image)
        );
    }
    let tls_secret = args
        .tls_secret
        .clone()
        .unwrap_or_else(|| format!("{}-tls", args.name));
    if !palisade_core::names::is_dns_subdomain(&tls_secret) {
        bail!(
            "--tls-secret `{}`: not a valid Secret name",
            palisade_core::text::printable(&tls_secret)
        );
    }
    let options = ManifestOptions {
        namespace: args.namespace.clone(),
        name: args.name.clone(),
        image,
        ca_bundle_pem: ca,
        config,
        config_text: text,
        tls_secret,
    };
    print!("{}", manifests::render(&options));
    Ok(ExitCode::SUCCESS)
}

fn config_cmd(args: &ConfigArgs) -> Result<ExitCode> {
    let Some(path) = &args.config else {
        print!("{DEFAULT_CONFIG_YAML}");
        return Ok(ExitCode::SUCCESS);
    };
    let compiled = reload::load(Some(path)).map_err(anyhow::Error::msg)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&reload::summary(&compiled))?
    );
    Ok(ExitCode::SUCCESS)
}

/// A Service name: a DNS label that starts with a letter (RFC 1035).
fn service_name(s: &str) -> Result<String, String> {
    let name = dns_label(s)?;
    if name.starts_with(|c: char| c.is_ascii_lowercase()) {
        Ok(name)
    } else {
        Err(format!(
            "`{s}` is not a valid Service name (it must start with a letter)"
        ))
    }
}

/// A Kubernetes object name that must be a DNS label (RFC 1123: namespaces
/// and Services): at most 63 lowercase letters, digits and `-`, starting
/// and ending with a letter or digit. Checked here so that a typo fails at
/// once instead of at `kubectl apply`.
fn dns_label(s: &str) -> Result<String, String> {
    if palisade_core::names::is_dns_label(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not a valid Kubernetes name (at most 63 lowercase letters, digits and `-`, starting and ending with a letter or digit)"
        ))
    }
}
