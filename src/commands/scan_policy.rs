//! The `policy` scanner of `palisade scan`: loads `--policy` files (and
//! `policies:` of palisade.yaml), finds the ValidatingAdmissionPolicies,
//! params and Namespaces among the scanned inputs, compiles everything
//! once, and plugs the set into the engine as an analyzer.
//!
//! VAPs need objects from anywhere in the inputs (the policies and
//! bindings themselves, params, Namespaces for selectors), while the engine
//! scans files in parallel and drops each tree after use. A cheap pre-pass
//! reads the inputs' text and parses only the files that name those kinds
//! (a `memmem` per file), so the main pass evaluates every object once,
//! with everything it needs, and memory stays bounded by the few objects
//! kept (policies, params, Namespaces).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, bail};
use clap::Args;
use palisade_core::report::InputErrorKind;
use palisade_core::source::{self, Input, WalkOptions};
use palisade_core::{Finding, InputError, RuleMeta};
use palisade_k8s::yaml::Limits;
use palisade_k8s::{Engine, Object, ObjectAnalyzer, Outcome};
use palisade_policy::analyzer::PolicyAnalyzer;
use palisade_policy::{LoadOptions, PolicyError, RegoEngine, RegoOptions, VapOptions};
use rayon::prelude::*;

use crate::cli::{ScanArgs, ScannerName};
use crate::config::Config;
use crate::diagnostics;

/// Flags of the policy scanner.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// Rego policies (.rego) and ValidatingAdmissionPolicies with their
    /// bindings (YAML/JSON) to apply: files or directories. Repeatable;
    /// turns the `policy` scanner on.
    #[arg(long = "policy", value_name = "DIR_OR_FILE")]
    pub policies: Vec<PathBuf>,

    /// Data for Rego policies (JSON or YAML, merged under `data`): files or
    /// directories. Repeatable.
    #[arg(long = "data", value_name = "FILE")]
    pub data: Vec<PathBuf>,

    /// Rego packages whose deny/violation/warn rules apply (Conftest's
    /// --namespace; default `main`, `*` for every package). Repeatable.
    #[arg(long = "namespace", value_name = "NS")]
    pub namespaces: Vec<String>,

    /// How Rego rules are evaluated. `interpreter` reports arithmetic on
    /// non-numbers and conflicting complete rules as errors with their
    /// location, exit 2; `vm` is faster, and such a rule is undefined
    /// instead, as OPA treats built-in errors (which both engines make
    /// undefined). Both find the same violations otherwise. Default:
    /// `rego-engine:` in palisade.yaml, else `interpreter`.
    #[arg(long = "rego-engine", value_name = "ENGINE", value_enum)]
    pub rego_engine: Option<RegoEngineArg>,
}

/// `--rego-engine` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RegoEngineArg {
    Interpreter,
    Vm,
}

impl From<RegoEngineArg> for RegoEngine {
    fn from(arg: RegoEngineArg) -> RegoEngine {
        match arg {
            RegoEngineArg::Interpreter => RegoEngine::Interpreter,
            RegoEngineArg::Vm => RegoEngine::Vm,
        }
    }
}

/// The policy scanner of one run.
pub(crate) struct PolicyScan {
    analyzer: Arc<PolicyAnalyzer>,
}

/// Shares the analyzer with the engine, so its errors can be read after
/// the scan.
struct Shared(Arc<PolicyAnalyzer>);

impl ObjectAnalyzer for Shared {
    fn rules(&self) -> Vec<RuleMeta> {
        self.0.rules()
    }

    fn analyze(
        &self,
        obj: &Object,
        subject: &palisade_k8s::rules::Subject,
        out: &mut Vec<Finding>,
    ) {
        self.0.analyze(obj, subject, out);
    }
}

/// Paths of palisade.yaml are relative to the file.
fn config_base(args: &ScanArgs) -> PathBuf {
    args.config
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Loads and compiles the policies (`--policy`, `policies:`, and the
/// ValidatingAdmissionPolicies among the scanned inputs); `None` when
/// there are none or the `policy` scanner is off. Policy errors are printed with code frames and
/// end the run (exit 2).
pub(crate) fn setup(
    args: &ScanArgs,
    config: &Config,
    max_file_size: u64,
    limits: Limits,
    default_namespace: &str,
) -> Result<Option<PolicyScan>> {
    let base = config_base(args);
    let mut policies = args.policy.policies.clone();
    policies.extend(config.policies.iter().map(|p| base.join(p)));
    let mut data = args.policy.data.clone();
    data.extend(config.data.iter().map(|p| base.join(p)));
    let explicit = args.scanners.contains(&ScannerName::Policy);
    // The default scanners, in any order (VAPs in the inputs apply then).
    let defaults = args.scanners.len() == 2
        && args.scanners.contains(&ScannerName::Config)
        && args.scanners.contains(&ScannerName::Rbac);
    if !explicit && !defaults {
        if !policies.is_empty() && !args.quiet {
            diagnostics::warn("--policy is ignored: --scanners does not include `policy`");
        }
        return Ok(None);
    }
    let namespaces = if args.policy.namespaces.is_empty() {
        RegoOptions::default().namespaces
    } else {
        args.policy.namespaces.clone()
    };
    let engine = match args.policy.rego_engine {
        Some(arg) => arg.into(),
        None => config.rego_engine.unwrap_or_default(),
    };
    let options = LoadOptions {
        rego: RegoOptions {
            namespaces: namespaces.clone(),
            engine,
            ..RegoOptions::default()
        },
        vap: VapOptions {
            default_namespace: default_namespace.to_string(),
            ..VapOptions::default()
        },
        max_file_size,
        limits,
    };
    let color = diagnostics::stderr_color();
    // The policy files are read first (quick); then the Rego compilation
    // runs beside the pre-pass over the scanned inputs: VAPs and bindings,
    // then the params and Namespaces they need.
    let (set, sources) = palisade_policy::load::read(&policies, &data, &options);
    let with = |files: &[&Input], needles: &[String]| -> Vec<(String, String)> {
        files
            .par_iter()
            .filter_map(|input| {
                let text = source::read_text(input, max_file_size).ok()?;
                needles
                    .iter()
                    .any(|n| text.contains(n.as_str()))
                    .then(|| (input.display().to_string(), text))
            })
            .collect()
    };
    let read_ok = sources.errors.is_empty();
    let (compiled, (set, discovered)) = rayon::join(
        || sources.compile(&options.rego),
        || {
            let mut set = set;
            if !read_ok {
                return (set, Ok(()));
            }
            let (inputs, _) = source::collect(&args.targets, &WalkOptions::default());
            let files: Vec<&Input> = inputs.iter().filter(|i| **i != Input::Stdin).collect();
            let mut errors = Vec::new();
            for (path, text) in with(&files, &["ValidatingAdmissionPolicy".to_string()]) {
                errors.extend(set.discover_policies(&path, &text, &limits));
            }
            if !errors.is_empty() {
                return (set, Err(errors));
            }
            let kinds = set.link();
            if !kinds.is_empty() {
                let found: Vec<Vec<serde_json::Value>> = with(&files, &kinds)
                    .par_iter()
                    .map(|(path, text)| {
                        palisade_policy::load::context_objects(path, text, &kinds, &limits)
                    })
                    .collect();
                for objects in found {
                    set.add_context(objects);
                }
            }
            (set, Ok(()))
        },
    );
    let set = match sources.into_set(set, compiled) {
        Ok(set) => set,
        Err(e) => return fail(&e.0, color),
    };
    if let Err(errors) = discovered {
        return fail(&errors, color);
    }
    if set.is_empty() && set.rego.is_none() {
        // Nothing to apply: no --policy, and no VAP bound in the inputs —
        // but say why the VAPs that are there do not apply.
        if !args.quiet {
            for w in set.vap.warnings() {
                diagnostics::warn(w);
            }
        }
        if explicit && !args.quiet {
            diagnostics::warn(
                "the policy scanner has no policies: give --policy, `policies:` in palisade.yaml, or scan ValidatingAdmissionPolicies with their bindings",
            );
        }
        return Ok(None);
    }
    if !args.quiet {
        for w in set.vap.warnings() {
            diagnostics::warn(w);
        }
        if let Some(reason) = set.rego.as_ref().and_then(|r| r.vm_refused()) {
            diagnostics::warn(&format!(
                "--rego-engine vm: these policies run on the interpreter: {reason}"
            ));
        }
        if set.rego.as_ref().is_some_and(|r| r.rules().is_empty()) {
            diagnostics::warn(&format!(
                "no deny, violation or warn rules in Rego package(s) {} (choose packages with --namespace, `*` for all)",
                namespaces.join(", ")
            ));
        }
    }
    Ok(Some(PolicyScan {
        analyzer: Arc::new(PolicyAnalyzer::new(Arc::new(set))),
    }))
}

/// Prints policy errors with code frames and stops the run.
fn fail<T>(errors: &[PolicyError], color: bool) -> Result<T> {
    let mut stderr = String::new();
    for e in errors {
        let text = std::fs::read_to_string(&e.path).ok();
        stderr.push_str(&diagnostics::render(
            &e.message,
            &e.path,
            e.span,
            text.as_deref(),
            color,
        ));
    }
    eprint!("{stderr}");
    bail!(
        "{} policy error(s); fix the policies above to scan with them",
        errors.len()
    )
}

/// The engine with the policy analyzer plugged in, if policies run.
pub(crate) fn attach(engine: Engine, policies: Option<&PolicyScan>) -> Engine {
    match policies {
        Some(p) => engine.with_analyzer(Box::new(Shared(Arc::clone(&p.analyzer)))),
        None => engine,
    }
}

impl PolicyScan {
    /// Adds the evaluation errors to the run's errors (exit 2), rendered
    /// with a frame of the policy.
    pub(crate) fn finish(
        &self,
        outcome: &mut Outcome,
        rendered: &mut Vec<(String, u32, String)>,
        quiet: bool,
    ) {
        let color = diagnostics::stderr_color();
        for (e, count) in self.analyzer.errors() {
            let message = if count > 1 {
                format!("{} ({count} objects)", e.message)
            } else {
                e.message.clone()
            };
            let text = std::fs::read_to_string(&e.path).ok();
            rendered.push((
                e.path.clone(),
                e.line(),
                diagnostics::render(&message, &e.path, e.span, text.as_deref(), color),
            ));
            outcome.errors.push(InputError {
                path: e.path,
                span: e.span,
                kind: InputErrorKind::Config,
                message,
            });
        }
        if !quiet {
            for u in self.analyzer.undiscovered() {
                diagnostics::warn(&format!(
                    "{u} was not applied: policies on stdin are read after the scan starts; pass them with --policy"
                ));
            }
        }
        if std::env::var_os("PALISADE_POLICY_STATS").is_some() {
            eprintln!(
                "policy: {} compilation(s), {} objects evaluated",
                palisade_policy::compilations(),
                self.analyzer.objects()
            );
        }
    }
}
