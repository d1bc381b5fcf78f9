//! `palisade rbac`: who-can, can, escalation paths, least privilege from
//! audit logs, unused grants.

use std::fs;
use std::io::{self, BufReader, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use palisade_core::source::{self, WalkOptions};
use palisade_core::text::{PrintableWriter, printable_lines};
use palisade_k8s::rbac::audit::AuditLog;
use palisade_k8s::rbac::minimize::{self, MinimizeOptions};
use palisade_k8s::rbac::model::PolicyRule;
use palisade_k8s::rbac::paths::{self, Node};
use palisade_k8s::rbac::policy::Grant;
use palisade_k8s::rbac::policy::in_namespace;
use palisade_k8s::rbac::resources::{grantable_in_namespace, resolve};
use palisade_k8s::rbac::risks::describe_grant;
use palisade_k8s::rbac::{Policy, Principal, RbacData, Request};
use palisade_k8s::yaml::Limits;
use palisade_k8s::{Engine, RuleSelection, Settings};
use rayon::prelude::*;
use serde_json::json;

use super::scan::{DEFAULT_MAX_FILE_SIZE, scan_input};
use crate::cli::{PathsFormat, RbacCommand, RbacInput, TableOrJson};
use crate::{EXIT_ERROR, diagnostics};

pub fn run(cmd: RbacCommand) -> Result<ExitCode> {
    match cmd {
        RbacCommand::WhoCan(a) => {
            let (policy, errors) = load(&a.input)?;
            let request = if a.resource.starts_with('/') {
                Request::NonResource {
                    verb: a.verb.clone(),
                    path: a.resource.clone(),
                }
            } else {
                let r = resolve(&a.resource);
                let full = if r.subresource.is_empty() {
                    r.resource.clone()
                } else {
                    format!("{}/{}", r.resource, r.subresource)
                };
                let group = r.group.clone().unwrap_or_else(|| "*".into());
                // The namespace the API server sees: a request for the
                // namespace object carries its name; other cluster-scoped
                // resources (nodes, clusterroles) carry none.
                let ns = match &r.group {
                    Some(g) if g.is_empty() && r.resource == "namespaces" => {
                        a.name.clone().unwrap_or_default()
                    }
                    Some(g) if !grantable_in_namespace(&a.verb, g, &r.resource) => {
                        if a.namespace.is_some() {
                            diagnostics::warn(&format!(
                                "`{}` is cluster-scoped: its requests carry no namespace, -n is ignored",
                                a.resource
                            ));
                        }
                        String::new()
                    }
                    _ => a.namespace.clone().unwrap_or_default(),
                };
                if r.group.is_none() {
                    diagnostics::warn(&format!(
                        "`{}` is not a built-in resource and has no group: matching rules of any API group (write it as RESOURCE.GROUP to be exact)",
                        a.resource
                    ));
                }
                Request::resource(&a.verb, &group, &full, &ns)
                    .with_name(a.name.as_deref().unwrap_or(""))
            };
            let who = policy.who_can(&request);
            // Names from the inputs reach a terminal: no control characters.
            let table = matches!(a.format, TableOrJson::Table);
            let mut out = PrintableWriter::new(io::stdout().lock(), table);
            match a.format {
                TableOrJson::Json => {
                    let rows: Vec<_> = who
                        .iter()
                        .map(|(p, grants)| {
                            json!({
                                "subject": principal_json(p),
                                "grants": grants.iter().map(|g| grant_json(&policy, g)).collect::<Vec<_>>(),
                            })
                        })
                        .collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
                }
                TableOrJson::Table => {
                    if who.is_empty() {
                        writeln!(out, "No subject can {} {}.", a.verb, a.resource)?;
                    }
                    let width = who
                        .keys()
                        .map(|p| p.to_string().len())
                        .max()
                        .unwrap_or(7)
                        .max(7);
                    if !who.is_empty() {
                        writeln!(out, "{:<width$}  VIA", "SUBJECT")?;
                    }
                    for (p, grants) in &who {
                        let mut vias: Vec<String> =
                            grants.iter().map(|g| describe_grant(&policy, g)).collect();
                        vias.dedup();
                        for (i, via) in vias.iter().enumerate() {
                            let subject = if i == 0 { p.to_string() } else { String::new() };
                            writeln!(out, "{subject:<width$}  {via}")?;
                        }
                    }
                }
            }
            finish(&errors, a.input.skip_invalid)
        }
        RbacCommand::Can(a) => {
            let (policy, errors) = load(&a.input)?;
            let principal = Principal::parse(&a.subject).map_err(|e| anyhow!(e))?;
            let mut user = principal.user_info();
            user.groups.extend(a.group.iter().cloned());
            let perms = policy.permissions(&user);
            // Names from the inputs reach a terminal: no control characters.
            let table = matches!(a.format, TableOrJson::Table);
            let mut out = PrintableWriter::new(io::stdout().lock(), table);
            match a.format {
                TableOrJson::Json => {
                    let rows: Vec<_> = perms
                        .iter()
                        .map(|(ns, g)| {
                            let mut v = grant_json(&policy, g);
                            v["namespace"] = if ns.is_empty() {
                                json!(null)
                            } else {
                                json!(ns)
                            };
                            v
                        })
                        .collect();
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(
                            &json!({"subject": principal_json(&principal), "groups": user.groups, "permissions": rows})
                        )?
                    )?;
                }
                TableOrJson::Table => {
                    writeln!(out, "{principal} (groups: {})", user.groups.join(", "))?;
                    if perms.is_empty() {
                        writeln!(out, "  no permissions")?;
                    }
                    let mut current: Option<&str> = None;
                    for (ns, g) in &perms {
                        if current != Some(ns.as_str()) {
                            if ns.is_empty() {
                                writeln!(out, "\nCluster-wide:")?;
                            } else {
                                writeln!(out, "\nNamespace {ns}:")?;
                            }
                            current = Some(ns);
                        }
                        let Some(rule) = policy.rule(g.rule) else {
                            continue;
                        };
                        let text = if ns.is_empty() {
                            rule_text(rule)
                        } else {
                            rule_text(&in_namespace(rule))
                        };
                        writeln!(out, "  {text:<40}  via {}", describe_grant(&policy, g))?;
                    }
                }
            }
            finish(&errors, a.input.skip_invalid)
        }
        RbacCommand::Paths(a) => {
            let (policy, errors) = load(&a.input)?;
            let from = a
                .from
                .as_deref()
                .map(Principal::parse)
                .transpose()
                .map_err(|e| anyhow!(e))?;
            let target = if a.to == "cluster-admin" {
                Node::ClusterAdmin
            } else {
                Node::Principal(Principal::parse(&a.to).map_err(|e| anyhow!(e))?)
            };
            let found = paths::find(&policy, from.as_ref(), &target, a.include_system);
            let text = match a.format {
                PathsFormat::Text => printable_lines(&paths::to_text(&found)).into_owned(),
                PathsFormat::Json => format!(
                    "{}\n",
                    serde_json::to_string_pretty(&paths::to_json(&found))?
                ),
                PathsFormat::Dot => paths::to_dot(&found),
                PathsFormat::Mermaid => paths::to_mermaid(&found),
            };
            io::stdout().lock().write_all(text.as_bytes())?;
            finish(&errors, a.input.skip_invalid)
        }
        RbacCommand::Minimize(a) => {
            let principal = Principal::parse(&a.subject).map_err(|e| anyhow!(e))?;
            if !a.name.is_empty() {
                check_role_name(&a.name)?;
            }
            let log = read_audit(&a.audit_logs)?;
            let options = MinimizeOptions {
                with_names: a.with_names,
                name: a.name.clone(),
                include_denied: a.include_denied,
            };
            let denied = log
                .requests
                .iter()
                .filter(|r| r.denied && r.made_by(&principal))
                .count();
            if denied > 0 && !a.include_denied {
                diagnostics::warn(&format!(
                    "{denied} request(s) of {principal} were denied by the API server and are not granted (--include-denied grants them)"
                ));
            }
            match minimize::minimal_roles(&log.requests, &principal, &options) {
                Some(yaml) => io::stdout().lock().write_all(yaml.as_bytes())?,
                None => diagnostics::warn(&format!(
                    "{principal} made no {}request in the audit logs ({} events read)",
                    if denied > 0 && !a.include_denied {
                        "allowed "
                    } else {
                        ""
                    },
                    log.events
                )),
            }
            Ok(ExitCode::SUCCESS)
        }
        RbacCommand::Unused(a) => {
            let (policy, errors) = load(&a.input)?;
            let log = read_audit(&a.audit_logs)?;
            let only = a
                .subject
                .as_deref()
                .map(Principal::parse)
                .transpose()
                .map_err(|e| anyhow!(e))?;
            let unused: Vec<_> = minimize::unused(&policy, &log.requests)
                .into_iter()
                .filter(|u| only.as_ref().is_none_or(|p| &u.principal == p))
                .collect();
            let window = format!(
                "{} to {}",
                log.first.as_deref().unwrap_or("?"),
                log.last.as_deref().unwrap_or("?")
            );
            // Names from the inputs reach a terminal: no control characters.
            let table = matches!(a.format, TableOrJson::Table);
            let mut out = PrintableWriter::new(io::stdout().lock(), table);
            match a.format {
                TableOrJson::Json => {
                    let rows: Vec<_> = unused
                        .iter()
                        .map(|u| {
                            let mut v = grant_json(&policy, &u.grant);
                            v["subject"] = principal_json(&u.principal);
                            v["namespace"] = if u.scope.is_empty() {
                                json!(null)
                            } else {
                                json!(u.scope)
                            };
                            v
                        })
                        .collect();
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(
                            &json!({"window": {"from": log.first, "to": log.last}, "requests": log.requests.len(), "unused": rows})
                        )?
                    )?;
                }
                TableOrJson::Table => {
                    writeln!(
                        out,
                        "Granted but unused in {} requests ({window}):",
                        log.requests.len()
                    )?;
                    let mut current: Option<&Principal> = None;
                    for u in &unused {
                        if current != Some(&u.principal) {
                            writeln!(out, "\n{}", u.principal)?;
                            current = Some(&u.principal);
                        }
                        let Some(rule) = policy.rule(u.grant.rule) else {
                            continue;
                        };
                        let scope = if u.scope.is_empty() {
                            "cluster-wide".to_string()
                        } else {
                            format!("in {}", u.scope)
                        };
                        writeln!(
                            out,
                            "  {:<40}  {scope:<16} via {}",
                            rule_text(rule),
                            describe_grant(&policy, &u.grant)
                        )?;
                    }
                }
            }
            finish(&errors, a.input.skip_invalid)
        }
    }
}

/// Reads the RBAC objects (and workloads' service accounts) of the inputs.
fn load(input: &RbacInput) -> Result<(Policy, Vec<String>)> {
    let none = RuleSelection {
        enable: Vec::new(),
        disable: vec!["*".into()],
    };
    let settings = Settings {
        default_namespace: input.default_namespace.clone(),
        ..Settings::default()
    };
    let engine = Engine::new(&none, settings, Limits::default())?;
    let (inputs, walk_errors) = source::collect(&input.paths, &WalkOptions::default());
    let color = diagnostics::stderr_color();
    let results: Vec<_> = inputs
        .par_iter()
        .map(|i| scan_input(&engine, i, DEFAULT_MAX_FILE_SIZE, color))
        .collect();
    let mut data = RbacData::default();
    let mut errors: Vec<(String, u32, String)> = walk_errors
        .iter()
        .map(|e| (e.path.clone(), 0, diagnostics::input_error(e, None, color)))
        .collect();
    for r in results {
        data.extend(r.outcome.inventory.rbac);
        errors.extend(r.diagnostics);
    }
    errors.sort();
    let policy = Policy::new(data);
    Ok((
        policy,
        errors.into_iter().map(|(_, _, text)| text).collect(),
    ))
}

/// Prints input errors; exit 2 when there were some (unless skipped).
fn finish(errors: &[String], skip_invalid: bool) -> Result<ExitCode> {
    let mut stderr = io::stderr().lock();
    for e in errors {
        let _ = stderr.write_all(e.as_bytes());
    }
    Ok(if !errors.is_empty() && !skip_invalid {
        ExitCode::from(EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// A name the API server accepts for a Role and its binding (a path
/// segment; a DNS subdomain is what `kubectl` users expect).
fn check_role_name(name: &str) -> Result<()> {
    if !palisade_core::names::is_dns_subdomain(name) {
        bail!(
            "--name `{}`: not a valid Role name (lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit)",
            palisade_core::text::printable(name)
        );
    }
    Ok(())
}

fn read_audit(paths: &[std::path::PathBuf]) -> Result<AuditLog> {
    let mut log = AuditLog::default();
    for path in paths {
        if path.is_dir() {
            bail!(
                "audit log {} is a directory: name the log files",
                path.display()
            );
        }
        let file = fs::File::open(path)
            .with_context(|| format!("cannot open audit log {}", path.display()))?;
        log.read(&path.display().to_string(), BufReader::new(file));
    }
    if log.malformed_count > 0 {
        diagnostics::warn(&format!(
            "{} malformed audit log line(s) skipped, e.g. {}",
            log.malformed_count,
            log.malformed
                .iter()
                .take(3)
                .map(|(f, l, r)| format!("{f}:{l}: {r}"))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    Ok(log)
}

/// `get, list secrets` / `get /healthz` / `get configmaps [app-config]`.
fn rule_text(rule: &PolicyRule) -> String {
    let verbs = rule.verbs.join(",");
    if !rule.non_resource_urls.is_empty() {
        return format!("{verbs} {}", rule.non_resource_urls.join(","));
    }
    let groups: Vec<&str> = rule
        .api_groups
        .iter()
        .map(|g| if g.is_empty() { "core" } else { g.as_str() })
        .collect();
    let mut s = format!(
        "{verbs} {} ({})",
        rule.resources.join(","),
        groups.join(",")
    );
    if !rule.resource_names.is_empty() {
        s.push_str(&format!(" [{}]", rule.resource_names.join(",")));
    }
    s
}

fn principal_json(p: &Principal) -> serde_json::Value {
    match p {
        Principal::User(n) => json!({"kind": "User", "name": n}),
        Principal::Group(n) => json!({"kind": "Group", "name": n}),
        Principal::ServiceAccount { namespace, name } => {
            json!({"kind": "ServiceAccount", "namespace": namespace, "name": name})
        }
    }
}

fn grant_json(policy: &Policy, g: &Grant) -> serde_json::Value {
    let binding = policy.binding(g.binding);
    let role = policy.role(g.role);
    let rule_role = policy.role(g.rule.role);
    let rule = policy.rule(g.rule);
    json!({
        "binding": binding.map(|b| json!({
            "kind": b.kind_str(),
            "namespace": if b.namespace.is_empty() { None } else { Some(&b.namespace) },
            "name": b.name,
            "location": format!("{}:{}", b.origin.file.path, b.origin.start_line),
        })),
        "role": role.map(|r| json!({
            "kind": r.kind.as_str(),
            "namespace": if r.namespace.is_empty() { None } else { Some(&r.namespace) },
            "name": r.name,
            "location": format!("{}:{}", r.origin.file.path, r.origin.start_line),
        })),
        "aggregatedFrom": (g.rule.role != g.role).then(|| rule_role.map(|r| r.name.clone())).flatten(),
        "rule": rule.map(|r| json!({
            "index": g.rule.index,
            "verbs": r.verbs,
            "apiGroups": r.api_groups,
            "resources": r.resources,
            "resourceNames": r.resource_names,
            "nonResourceURLs": r.non_resource_urls,
            "location": rule_role.and_then(|rr| rr.rules.get(g.rule.index)).map(|w| format!("{}:{}", rule_role.map_or("", |x| x.origin.file.path.as_ref()), w.span.start.line)),
        })),
    })
}
