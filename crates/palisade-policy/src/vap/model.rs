//! `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicy and
//! ValidatingAdmissionPolicyBinding objects, read from their YAML trees so
//! that every problem points at its line.

use palisade_core::Span;
use palisade_k8s::selector::LabelSelector;
use palisade_k8s::yaml::Node;

use crate::error::PolicyError;
use crate::violation::Action;

pub const GROUP: &str = "admissionregistration.k8s.io";
pub const POLICY_KIND: &str = "ValidatingAdmissionPolicy";
pub const BINDING_KIND: &str = "ValidatingAdmissionPolicyBinding";

/// A CEL expression and where it is written.
#[derive(Debug, Clone)]
pub struct ExprSource {
    pub text: String,
    pub span: Span,
    /// Written on one line, quoted (the expression starts one column after
    /// the node).
    pub single_line: bool,
    pub quoted: bool,
}

impl ExprSource {
    fn of(node: &Node) -> Option<ExprSource> {
        let scalar = node.scalar()?;
        let single_line = node.span.start.line == node.span.end.line;
        Some(ExprSource {
            text: scalar.text.to_string(),
            span: node.span,
            single_line,
            quoted: !scalar.plain,
        })
    }
}

/// One rule of `resourceRules`.
#[derive(Debug, Clone, Default)]
pub struct ResourceRule {
    pub groups: Vec<String>,
    pub versions: Vec<String>,
    pub operations: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    /// `Cluster`, `Namespaced` or `*`.
    pub scope: String,
}

/// `matchConstraints` of a policy, `matchResources` of a binding.
#[derive(Debug, Clone, Default)]
pub struct MatchResources {
    pub namespace_selector: LabelSelector,
    pub object_selector: LabelSelector,
    pub rules: Vec<ResourceRule>,
    pub exclude: Vec<ResourceRule>,
}

#[derive(Debug, Clone)]
pub struct Named {
    pub name: String,
    pub expression: ExprSource,
}

#[derive(Debug, Clone)]
pub struct Validation {
    pub expression: ExprSource,
    pub message: Option<String>,
    pub message_expression: Option<ExprSource>,
    pub reason: Option<String>,
}

/// A policy as written.
#[derive(Debug, Clone)]
pub struct PolicySpec {
    pub name: String,
    pub path: String,
    pub anchor: Span,
    pub fail_closed: bool,
    /// `(apiVersion, kind)` of the params.
    pub param_kind: Option<(String, String)>,
    pub match_constraints: MatchResources,
    pub match_conditions: Vec<Named>,
    pub variables: Vec<Named>,
    pub validations: Vec<Validation>,
}

/// `paramRef` of a binding.
#[derive(Debug, Clone, Default)]
pub struct ParamRef {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub selector: Option<LabelSelector>,
    /// `parameterNotFoundAction: Deny` (the default) rejects when no param
    /// is found; `Allow` lets the object through.
    pub deny_when_missing: bool,
}

/// A binding as written.
#[derive(Debug, Clone)]
pub struct BindingSpec {
    pub name: String,
    pub path: String,
    pub anchor: Span,
    pub policy_name: String,
    pub actions: Vec<Action>,
    pub param_ref: Option<ParamRef>,
    pub match_resources: Option<MatchResources>,
}

fn strings(node: Option<&Node>) -> Vec<String> {
    node.map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect()
}

fn rules(node: Option<&Node>) -> Vec<ResourceRule> {
    node.map(Node::items)
        .unwrap_or_default()
        .iter()
        .map(|r| ResourceRule {
            groups: strings(r.get("apiGroups")),
            versions: strings(r.get("apiVersions")),
            operations: strings(r.get("operations")),
            resources: strings(r.get("resources")),
            resource_names: strings(r.get("resourceNames")),
            scope: r
                .get("scope")
                .and_then(Node::as_str)
                .unwrap_or("*")
                .to_string(),
        })
        .collect()
}

fn match_resources(node: &Node) -> MatchResources {
    MatchResources {
        namespace_selector: LabelSelector::parse(node.get("namespaceSelector")),
        object_selector: LabelSelector::parse(node.get("objectSelector")),
        rules: rules(node.get("resourceRules")),
        exclude: rules(node.get("excludeResourceRules")),
    }
}

fn named(path: &str, node: Option<&Node>, what: &str) -> Result<Vec<Named>, PolicyError> {
    let mut out = Vec::new();
    for item in node.map(Node::items).unwrap_or_default() {
        let name = item.get("name").and_then(Node::as_str).unwrap_or_default();
        let Some(expression) = item.get("expression").and_then(ExprSource::of) else {
            return Err(PolicyError::new(
                path,
                Some(item.span),
                format!("{what} `{name}` has no `expression`"),
            ));
        };
        out.push(Named {
            name: name.to_string(),
            expression,
        });
    }
    Ok(out)
}

/// Reads a policy; `root` is the object's tree.
pub fn policy(path: &str, root: &Node, anchor: Span) -> Result<PolicySpec, PolicyError> {
    let name = root
        .path(&["metadata", "name"])
        .and_then(Node::as_str)
        .unwrap_or_default()
        .to_string();
    let err = |span: Span, msg: String| PolicyError::new(path, Some(span), msg);
    let Some(spec) = root.get("spec") else {
        return Err(err(anchor, format!("{POLICY_KIND} `{name}` has no spec")));
    };
    let fail_closed = match spec.get("failurePolicy").and_then(Node::as_str) {
        None | Some("Fail") => true,
        Some("Ignore") => false,
        Some(other) => {
            return Err(err(
                spec.span_at("/failurePolicy").unwrap_or(spec.span),
                format!("failurePolicy must be Fail or Ignore, not `{other}`"),
            ));
        }
    };
    let param_kind = spec.get("paramKind").map(|p| {
        (
            p.get("apiVersion")
                .and_then(Node::as_str)
                .unwrap_or_default()
                .to_string(),
            p.get("kind")
                .and_then(Node::as_str)
                .unwrap_or_default()
                .to_string(),
        )
    });
    let Some(constraints) = spec.get("matchConstraints") else {
        return Err(err(
            spec.span,
            format!("{POLICY_KIND} `{name}` has no matchConstraints"),
        ));
    };
    let mut validations = Vec::new();
    for v in spec.get("validations").map(Node::items).unwrap_or_default() {
        let Some(expression) = v.get("expression").and_then(ExprSource::of) else {
            return Err(err(v.span, "validation has no `expression`".into()));
        };
        validations.push(Validation {
            expression,
            message: v.get("message").and_then(Node::as_str).map(str::to_string),
            message_expression: v.get("messageExpression").and_then(ExprSource::of),
            reason: v.get("reason").and_then(Node::as_str).map(str::to_string),
        });
    }
    Ok(PolicySpec {
        name,
        path: path.to_string(),
        anchor,
        fail_closed,
        param_kind,
        match_constraints: match_resources(constraints),
        match_conditions: named(path, spec.get("matchConditions"), "matchCondition")?,
        variables: named(path, spec.get("variables"), "variable")?,
        validations,
    })
}

/// Reads a binding.
pub fn binding(path: &str, root: &Node, anchor: Span) -> Result<BindingSpec, PolicyError> {
    let name = root
        .path(&["metadata", "name"])
        .and_then(Node::as_str)
        .unwrap_or_default()
        .to_string();
    let err = |span: Span, msg: String| PolicyError::new(path, Some(span), msg);
    let Some(spec) = root.get("spec") else {
        return Err(err(anchor, format!("{BINDING_KIND} `{name}` has no spec")));
    };
    let Some(policy_name) = spec.get("policyName").and_then(Node::as_str) else {
        return Err(err(
            spec.span,
            format!("{BINDING_KIND} `{name}` has no policyName"),
        ));
    };
    let mut actions = Vec::new();
    for a in spec
        .get("validationActions")
        .map(Node::items)
        .unwrap_or_default()
    {
        actions.push(match a.as_str() {
            Some("Deny") => Action::Deny,
            Some("Warn") => Action::Warn,
            Some("Audit") => Action::Audit,
            other => {
                return Err(err(
                    a.span,
                    format!(
                        "validationActions must be Deny, Warn or Audit, not `{}`",
                        other.unwrap_or_default()
                    ),
                ));
            }
        });
    }
    if actions.is_empty() {
        return Err(err(
            spec.span,
            format!("{BINDING_KIND} `{name}` has no validationActions"),
        ));
    }
    let param_ref = spec.get("paramRef").map(|p| ParamRef {
        name: p.get("name").and_then(Node::as_str).map(str::to_string),
        namespace: p
            .get("namespace")
            .and_then(Node::as_str)
            .map(str::to_string),
        selector: p.get("selector").map(|s| LabelSelector::parse(Some(s))),
        deny_when_missing: p.get("parameterNotFoundAction").and_then(Node::as_str) != Some("Allow"),
    });
    Ok(BindingSpec {
        name,
        path: path.to_string(),
        anchor,
        policy_name: policy_name.to_string(),
        actions,
        param_ref,
        match_resources: spec.get("matchResources").map(match_resources),
    })
}

/// Labels of a JSON object's `metadata.labels`.
pub fn json_labels(v: &serde_json::Value) -> palisade_k8s::selector::Labels {
    v.pointer("/metadata/labels")
        .and_then(serde_json::Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}
