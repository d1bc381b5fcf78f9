//! Keeping running workloads immutable: no exec, attach or port-forward
//! into pods, no ephemeral containers, no in-place image changes — except
//! for break-glass identities, whose use is logged like every other
//! decision here.

use serde_json::Value;

use crate::compiled::{Compiled, Violation};
use crate::review::{Operation, Request};
use crate::rules::{
    AttachToPod, EphemeralContainerAdded, ExecIntoPod, InPlaceImageChange, PortForwardToPod,
};
use palisade_k8s::rules::Described;

/// What the immutability checks found on one request.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The request touches a running pod in a way these checks govern
    /// (whatever the verdict): it is always logged.
    pub relevant: bool,
    pub violations: Vec<Violation>,
    /// The break-glass identity that was let through, if any.
    pub break_glass: Option<String>,
}

/// Runs the checks the configuration turns on.
pub fn check(compiled: &Compiled, req: &Request) -> Outcome {
    let mut out = Outcome::default();
    if req.resource.name != "pods" || !req.resource.group.is_empty() {
        return out;
    }
    let im = &compiled.config.immutability;
    // A subresource request's object is the options (PodExecOptions):
    // name the Pod it is about.
    let pod = match (
        &req.sub_resource,
        req.name.as_deref().filter(|n| !n.is_empty()),
    ) {
        (Some(_), Some(name)) => match req.namespace.as_deref().filter(|n| !n.is_empty()) {
            Some(ns) => format!("Pod {ns}/{name}"),
            None => format!("Pod {name}"),
        },
        _ => req.describe(),
    };
    let user = if req.user.username.is_empty() {
        "<unknown user>"
    } else {
        req.user.username.as_str()
    };
    let connect = |what: &str| format!("{user} may not {what} {pod}");
    let (meta, message) = match (req.operation, req.sub_resource.as_deref()) {
        (Some(Operation::Connect), Some("exec")) if im.deny_exec => {
            let command = req
                .object
                .as_ref()
                .and_then(|o| o.get("command"))
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .filter(|c| !c.is_empty());
            let what = match command {
                Some(c) => format!("exec `{}` in", truncate(&c, 200)),
                None => "exec into".to_string(),
            };
            (ExecIntoPod.meta(), connect(&what))
        }
        (Some(Operation::Connect), Some("attach")) if im.deny_attach => {
            (AttachToPod.meta(), connect("attach to"))
        }
        (Some(Operation::Connect), Some("portforward")) if im.deny_port_forward => {
            (PortForwardToPod.meta(), connect("port-forward to"))
        }
        (Some(Operation::Update), Some("ephemeralcontainers")) if im.deny_ephemeral_containers => {
            let added = added_ephemeral(req);
            let what = if added.is_empty() {
                "change the ephemeral containers of".to_string()
            } else {
                format!("add ephemeral container(s) {} to", added.join(", "))
            };
            (EphemeralContainerAdded.meta(), connect(&what))
        }
        (Some(Operation::Update), None) if im.deny_image_change => {
            let changes = image_changes(req);
            if changes.is_empty() {
                return out;
            }
            (
                InPlaceImageChange.meta(),
                format!(
                    "{user} may not change images of running {pod}: {}",
                    changes.join(", ")
                ),
            )
        }
        _ => return out,
    };
    out.relevant = true;
    let mut violation = compiled.admission_violation(meta, message);
    if let Some(via) = im
        .break_glass
        .admitting(&req.user.username, &req.user.groups)
    {
        let who = format!("break-glass {via}");
        violation.exempted = Some(who.clone());
        out.break_glass = Some(who);
    }
    out.violations.push(violation);
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max).collect();
    t.push('…');
    t
}

/// Names of ephemeral containers in the new object but not the old.
fn added_ephemeral(req: &Request) -> Vec<String> {
    let names = |o: Option<&Value>| -> Vec<String> {
        o.and_then(|o| o.pointer("/spec/ephemeralContainers"))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let old = names(req.old_object.as_ref());
    names(req.object.as_ref())
        .into_iter()
        .filter(|n| !old.contains(n))
        .collect()
}

/// `container web: a → b` for every container whose image differs
/// between the old and the new Pod.
fn image_changes(req: &Request) -> Vec<String> {
    let (Some(new), Some(old)) = (&req.object, &req.old_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for field in ["initContainers", "containers"] {
        let list = |o: &Value| -> Vec<(String, String)> {
            o.pointer(&format!("/spec/{field}"))
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .map(|c| {
                            let get = |k: &str| {
                                c.get(k)
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_string()
                            };
                            (get("name"), get("image"))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let before = list(old);
        for (name, image) in list(new) {
            if let Some((_, was)) = before.iter().find(|(n, _)| *n == name)
                && *was != image
            {
                out.push(format!("container {name}: {was} → {image}"));
            }
        }
    }
    out
}
