//! Which object kinds a rule can report for, read from the syntax tree.
//!
//! Most policies open with a guard on the object's kind: `input.kind ==
//! "Deployment"`, `input.kind in workload_kinds`, or a helper that is only
//! defined for some kinds (`kubernetes.containers[_]`, `is_service`). In a
//! real repository most objects are Services, ConfigMaps and RBAC that
//! workload rules never match, so knowing each rule's kinds up front lets an
//! object skip every rule that cannot fire for it — the rules are pure
//! functions of `input` and `data`, so a skipped rule is one whose every
//! body would have failed.
//!
//! The analysis is conservative. A body is guarded only by a statement of a
//! shape below that fails whenever the kind is outside a known set:
//!
//! - `input.kind == "X"`, `input.kind = "X"`, `input.kind in {"X", "Y"}`
//!   (a literal, or a rule whose whole definition is such a literal), and
//!   the same through a rule defined as `kind := input.kind`;
//! - a reference to a rule, when that rule is undefined (or empty, or
//!   false) outside a known set of kinds: iterated or indexed
//!   (`c := kubernetes.containers[_]`, `some c in containers`), compared or
//!   assigned (`x := pod_spec`), or used as a condition (`is_workload`).
//!
//! Anything else — a function call, `not`, `with`, a default value, a name
//! that a local variable shadows — leaves the body unguarded, and one
//! unguarded body makes the rule apply to every kind.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::ast::span_text as text;

/// The values of one field (`kind` or `apiVersion`) for which a rule can
/// have a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Values {
    Any,
    Only(BTreeSet<String>),
}

/// The objects for which a rule can have a value: both fields admit them.
/// Bodies add up field by field, which admits more than their exact union
/// (never less).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) kind: Values,
    pub(crate) api_version: Values,
}

impl Scope {
    pub(crate) const ANY: Scope = Scope {
        kind: Values::Any,
        api_version: Values::Any,
    };

    fn none() -> Scope {
        Scope {
            kind: Values::Only(BTreeSet::new()),
            api_version: Values::Only(BTreeSet::new()),
        }
    }

    fn of(field: Field, values: Values) -> Scope {
        match field {
            Field::Kind => Scope {
                kind: values,
                api_version: Values::Any,
            },
            Field::ApiVersion => Scope {
                kind: Values::Any,
                api_version: values,
            },
        }
    }

    fn union(self, other: Scope) -> Scope {
        Scope {
            kind: self.kind.union(other.kind),
            api_version: self.api_version.union(other.api_version),
        }
    }

    fn and(self, other: Scope) -> Scope {
        Scope {
            kind: self.kind.and(other.kind),
            api_version: self.api_version.and(other.api_version),
        }
    }
}

/// The object fields guards are read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Kind,
    ApiVersion,
}

impl Values {
    pub(crate) fn admits(&self, value: &str) -> bool {
        match self {
            Values::Any => true,
            Values::Only(set) => set.contains(value),
        }
    }

    fn union(self, other: Values) -> Values {
        match (self, other) {
            (Values::Only(mut a), Values::Only(b)) => {
                a.extend(b);
                Values::Only(a)
            }
            _ => Values::Any,
        }
    }

    /// Both constraints hold (`Any` is no constraint).
    fn and(self, other: Values) -> Values {
        match (self, other) {
            (Values::Only(a), Values::Only(b)) => {
                Values::Only(a.intersection(&b).cloned().collect())
            }
            (Values::Any, k) | (k, Values::Any) => k,
        }
    }

    fn one(value: &str) -> Values {
        Values::Only(BTreeSet::from([value.to_string()]))
    }
}

/// How a statement depends on a rule's value, which decides whether the
/// rule being undefined makes the statement fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Usage {
    /// Iterated or indexed (`r[_]`, `some x in r`, `x in r`): fails when
    /// the rule is undefined or an empty collection.
    Index,
    /// An operand (`x := r`, `r == 1`): fails when undefined.
    Defined,
    /// A statement on its own (`r`): fails when undefined or false.
    Truthy,
}

/// For each rule path (`data.main.deny_privileged`), the kinds it can
/// report for; `modules` is regorus' `get_ast_as_json` output, parsed.
pub(crate) fn of_rules(modules: &Value, paths: &[&str]) -> Vec<Scope> {
    let Value::Array(modules) = modules else {
        return vec![Scope::ANY; paths.len()];
    };
    let mut index = Index::new(modules);
    paths.iter().map(|p| index.rule(p, Usage::Index)).collect()
}

/// A module's context for resolving names.
struct Module<'a> {
    /// `["data", "main"]`.
    package: Vec<String>,
    /// Import alias → path (`kubernetes` → `["data", "lib", "kubernetes"]`).
    imports: HashMap<String, Vec<String>>,
    contents: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    /// One value (`r := v`, `r if …`).
    Complete,
    /// A set or object built by the bodies (`r contains x`, `r[k] := v`):
    /// empty, not undefined, when no body succeeds.
    Partial,
    Function,
}

struct Def<'a> {
    module: usize,
    head: Head,
    value: Option<&'a Value>,
    bodies: &'a [Value],
    /// Names the rule declares locally, which hide rules of the same name.
    locals: HashSet<String>,
}

struct Index<'a> {
    modules: Vec<Module<'a>>,
    defs: HashMap<Vec<String>, Vec<Def<'a>>>,
    defaults: HashMap<Vec<String>, &'a Value>,
    memo: HashMap<(Vec<String>, Usage), Scope>,
}

impl<'a> Index<'a> {
    fn new(modules: &'a [Value]) -> Index<'a> {
        let mut index = Index {
            modules: Vec::new(),
            defs: HashMap::new(),
            defaults: HashMap::new(),
            memo: HashMap::new(),
        };
        for m in modules {
            let contents = m
                .pointer("/source/contents")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let ast = m.get("ast").unwrap_or(&Value::Null);
            let Some(package) = ast
                .pointer("/package/refr")
                .and_then(|r| static_path(r, contents))
            else {
                continue;
            };
            let package: Vec<String> = std::iter::once("data".to_string()).chain(package).collect();
            let mut imports = HashMap::new();
            for i in ast
                .get("imports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(path) = i.get("refr").and_then(|r| static_path(r, contents)) else {
                    continue;
                };
                let alias = i
                    .get("as")
                    .and_then(|span| text(span, contents))
                    .or_else(|| path.last().cloned());
                if let Some(alias) = alias {
                    imports.insert(alias, path);
                }
            }
            let module = index.modules.len();
            index.modules.push(Module {
                package: package.clone(),
                imports,
                contents,
            });
            for rule in ast
                .get("rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                index.add_rule(module, &package, rule, contents);
            }
        }
        index
    }

    fn add_rule(&mut self, module: usize, package: &[String], rule: &'a Value, contents: &str) {
        if let Some(d) = rule.get("Default") {
            if let Some((path, _)) = d.get("refr").map(|r| head_path(r, contents)) {
                let value = d.get("value").unwrap_or(&Value::Null);
                self.defaults.insert(join(package, path), value);
            }
            return;
        }
        let Some(spec) = rule.get("Spec") else {
            return;
        };
        let Some((variant, head)) = spec
            .get("head")
            .and_then(Value::as_object)
            .and_then(|o| o.iter().next())
        else {
            return;
        };
        let Some((path, dynamic)) = head.get("refr").map(|r| head_path(r, contents)) else {
            return;
        };
        let kind = match variant.as_str() {
            "Func" => Head::Function,
            "Set" => Head::Partial,
            _ if dynamic => Head::Partial,
            _ => Head::Complete,
        };
        let mut locals = HashSet::new();
        if kind == Head::Function {
            for arg in head
                .get("args")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                vars_in(arg, contents, &mut locals);
            }
        }
        collect_locals(spec, contents, &mut locals);
        self.defs.entry(join(package, path)).or_default().push(Def {
            module,
            head: kind,
            value: head.pointer("/assign/value"),
            bodies: spec
                .get("bodies")
                .and_then(Value::as_array)
                .map_or(&[], Vec::as_slice),
            locals,
        });
    }

    /// The objects outside which `usage` of the rule at `path` fails.
    fn rule(&mut self, path: &str, usage: Usage) -> Scope {
        let path: Vec<String> = path.split('.').map(str::to_string).collect();
        self.rule_at(&path, usage)
    }

    fn rule_at(&mut self, path: &[String], usage: Usage) -> Scope {
        let key = (path.to_vec(), usage);
        if let Some(k) = self.memo.get(&key) {
            return k.clone();
        }
        // Rego forbids recursion; a cycle here means an unexpected tree.
        self.memo.insert(key.clone(), Scope::ANY);
        let kinds = self.compute(path, usage);
        self.memo.insert(key, kinds.clone());
        kinds
    }

    fn compute(&mut self, path: &[String], usage: Usage) -> Scope {
        let Some(defs) = self.defs.get(path) else {
            return Scope::ANY;
        };
        let partial = defs.iter().any(|d| d.head == Head::Partial);
        if defs.iter().any(|d| d.head == Head::Function) {
            return Scope::ANY;
        }
        let count = defs.len();
        let default_is_false = self
            .defaults
            .get(path)
            .map(|v| v.pointer("/Bool/value") == Some(&Value::Bool(false)));
        let constrained = match usage {
            Usage::Index => default_is_false.is_none(),
            Usage::Defined => default_is_false.is_none() && !partial,
            Usage::Truthy => default_is_false != Some(false) && !partial,
        };
        if !constrained {
            return Scope::ANY;
        }
        let mut out: Option<Scope> = None;
        for i in 0..count {
            let kinds = self.def_kinds(path, i);
            out = Some(match out {
                None => kinds,
                Some(k) => k.union(kinds),
            });
            if out == Some(Scope::ANY) {
                break;
            }
        }
        out.unwrap_or(Scope::ANY)
    }

    fn def_kinds(&mut self, path: &[String], i: usize) -> Scope {
        let Some(def) = self.defs.get(path).and_then(|d| d.get(i)) else {
            return Scope::ANY;
        };
        if def.bodies.is_empty() {
            return Scope::ANY;
        }
        let (module, bodies, locals) = (def.module, def.bodies, def.locals.clone());
        let mut out = Scope::none();
        for body in bodies {
            let stmts = body
                .pointer("/query/stmts")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice);
            out = out.union(self.body_kinds(module, &locals, stmts));
            if out == Scope::ANY {
                break;
            }
        }
        out
    }

    fn body_kinds(&mut self, module: usize, locals: &HashSet<String>, stmts: &[Value]) -> Scope {
        // `with` replaces `input` or `data` for the statement: guards no
        // longer speak of the object.
        if stmts.iter().any(|s| {
            s.get("with_mods")
                .and_then(Value::as_array)
                .is_some_and(|m| !m.is_empty())
        }) {
            return Scope::ANY;
        }
        let mut out = Scope::ANY;
        for s in stmts {
            let Some((literal, body)) = s
                .get("literal")
                .and_then(Value::as_object)
                .and_then(|o| o.iter().next())
            else {
                continue;
            };
            let guard = match literal.as_str() {
                "Expr" => match body.get("expr") {
                    Some(e) => self.statement(module, locals, e),
                    None => Scope::ANY,
                },
                "SomeIn" => match body.get("collection") {
                    Some(c) => self.operand(module, locals, c, Usage::Index),
                    None => Scope::ANY,
                },
                _ => Scope::ANY,
            };
            out = out.and(guard);
        }
        out
    }

    /// The constraint a statement puts on the object.
    fn statement(&mut self, module: usize, locals: &HashSet<String>, e: &Value) -> Scope {
        let Some((variant, body)) = e.as_object().and_then(|o| o.iter().next()) else {
            return Scope::ANY;
        };
        let field = |name: &str| body.get(name).unwrap_or(&Value::Null);
        let op = field("op").as_str().unwrap_or_default();
        match variant.as_str() {
            "BoolExpr" | "AssignExpr" => {
                let (lhs, rhs) = (field("lhs"), field("rhs"));
                if op == "Eq"
                    && let Some((field, value)) = self.field_equals(module, locals, lhs, rhs)
                {
                    return Scope::of(field, Values::one(&value));
                }
                let rhs = self.operand(module, locals, rhs, Usage::Defined);
                if variant == "AssignExpr" && op == "ColEq" {
                    rhs
                } else {
                    rhs.and(self.operand(module, locals, lhs, Usage::Defined))
                }
            }
            "Membership" => {
                let (value, collection) = (field("value"), field("collection"));
                if field("key").is_null()
                    && let Some(f) = self.field_of(module, locals, value)
                    && let Some(set) = self.string_set(module, locals, collection)
                {
                    return Scope::of(f, Values::Only(set));
                }
                self.operand(module, locals, collection, Usage::Index)
                    .and(self.operand(module, locals, value, Usage::Defined))
                    .and(self.operand(module, locals, field("key"), Usage::Defined))
            }
            "Var" | "RefDot" | "RefBrack" => self.operand(module, locals, e, Usage::Truthy),
            _ => Scope::ANY,
        }
    }

    /// The constraint of a rule reference used as `usage`: an indexed
    /// reference (`r[_]`, `r.x`) is undefined wherever the rule is
    /// undefined or empty, and a lookup of the object's field in a
    /// constant object (`deprecated[input.apiVersion]`) wherever the field
    /// is not one of its keys.
    fn operand(
        &mut self,
        module: usize,
        locals: &HashSet<String>,
        e: &Value,
        usage: Usage,
    ) -> Scope {
        let lookups = self.lookups(module, locals, e);
        lookups.and(match self.resolve(module, locals, e) {
            Some((path, 0)) => self.rule_at(&path, usage),
            Some((path, _)) => self.rule_at(&path, Usage::Index),
            None => Scope::ANY,
        })
    }

    /// The constraint of every `constant[input.<field>]` along a reference.
    fn lookups(&self, module: usize, locals: &HashSet<String>, mut e: &Value) -> Scope {
        let mut out = Scope::ANY;
        while let Some((variant, body)) = e.as_object().and_then(|o| o.iter().next()) {
            if variant != "RefDot" && variant != "RefBrack" {
                break;
            }
            let Some(refr) = body.get("refr") else {
                break;
            };
            if variant == "RefBrack"
                && let Some(f) = body
                    .get("index")
                    .and_then(|i| self.field_of(module, locals, i))
                && let Some(keys) = self.object_keys(module, locals, refr)
            {
                out = out.and(Scope::of(f, Values::Only(keys)));
            }
            e = refr;
        }
        out
    }

    /// `input.kind == "X"` or `input.apiVersion == "X"` (either side,
    /// either `==` or `=`).
    fn field_equals(
        &self,
        module: usize,
        locals: &HashSet<String>,
        a: &Value,
        b: &Value,
    ) -> Option<(Field, String)> {
        let literal = |v: &Value| {
            v.pointer("/String/value")
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        if let Some(f) = self.field_of(module, locals, a) {
            literal(b).map(|v| (f, v))
        } else if let Some(f) = self.field_of(module, locals, b) {
            literal(a).map(|v| (f, v))
        } else {
            None
        }
    }

    /// `input.kind` or `input.apiVersion`, or a rule defined as exactly
    /// that (`kind := input.kind`).
    fn field_of(&self, module: usize, locals: &HashSet<String>, e: &Value) -> Option<Field> {
        let m = self.modules.get(module)?;
        if let Some((root, comps)) = chain(e, m.contents)
            && root == "input"
            && !locals.contains("input")
            && !m.imports.contains_key("input")
        {
            return match comps.as_slice() {
                [Some(c)] if c == "kind" => Some(Field::Kind),
                [Some(c)] if c == "apiVersion" => Some(Field::ApiVersion),
                _ => None,
            };
        }
        self.via_constant(module, locals, e, |s, m, v| {
            s.field_of(m, &HashSet::new(), v)
        })
    }

    /// The keys of a literal object whose keys are all strings, directly or
    /// as a rule's whole definition (`deprecated := {"extensions/v1beta1":
    /// …}`).
    fn object_keys(
        &self,
        module: usize,
        locals: &HashSet<String>,
        e: &Value,
    ) -> Option<BTreeSet<String>> {
        if let Some(fields) = e.pointer("/Object/fields").and_then(Value::as_array) {
            // Each field is `[span, key, value]`.
            return fields
                .iter()
                .map(|f| {
                    let f = f.as_array()?;
                    let key = f.get(f.len().checked_sub(2)?)?;
                    key.pointer("/String/value")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect();
        }
        self.via_constant(module, locals, e, |s, m, v| {
            s.object_keys(m, &HashSet::new(), v)
        })
    }

    /// A literal set or array of strings, directly or as a rule's whole
    /// definition (`workload_kinds := {"Deployment", …}`).
    fn string_set(
        &self,
        module: usize,
        locals: &HashSet<String>,
        e: &Value,
    ) -> Option<BTreeSet<String>> {
        let items = e
            .pointer("/Set/items")
            .or_else(|| e.pointer("/Array/items"))
            .and_then(Value::as_array);
        if let Some(items) = items {
            return items
                .iter()
                .map(|i| {
                    i.pointer("/String/value")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect();
        }
        self.via_constant(module, locals, e, |s, m, v| {
            s.string_set(m, &HashSet::new(), v)
        })
    }

    /// `read` of the value of the rule `e` names, when that rule is one
    /// unconditional definition (`workload_kinds := {…}`).
    fn via_constant<T>(
        &self,
        module: usize,
        locals: &HashSet<String>,
        e: &Value,
        read: impl Fn(&Self, usize, &'a Value) -> Option<T>,
    ) -> Option<T> {
        match self.resolve(module, locals, e) {
            Some((path, 0)) => {
                let (m, v) = self.only_value(&path)?;
                read(self, m, v)
            }
            _ => None,
        }
    }

    /// The value of a rule with one unconditional definition and no
    /// default, with the module it is written in.
    fn only_value(&self, path: &[String]) -> Option<(usize, &'a Value)> {
        match self.defs.get(path).map(Vec::as_slice) {
            Some([def])
                if def.head == Head::Complete
                    && def.bodies.is_empty()
                    && !self.defaults.contains_key(path) =>
            {
                def.value.map(|v| (def.module, v))
            }
            _ => None,
        }
    }

    /// The rule a reference starts with, and how many path components
    /// follow the rule's own.
    fn resolve(
        &self,
        module: usize,
        locals: &HashSet<String>,
        e: &Value,
    ) -> Option<(Vec<String>, usize)> {
        let m = self.modules.get(module)?;
        let (root, comps) = chain(e, m.contents)?;
        if locals.contains(&root) || root == "input" {
            return None;
        }
        let mut full: Vec<Option<String>> = if root == "data" {
            vec![Some(root)]
        } else if let Some(path) = m.imports.get(&root) {
            path.iter().cloned().map(Some).collect()
        } else {
            m.package
                .iter()
                .cloned()
                .map(Some)
                .chain([Some(root)])
                .collect()
        };
        let total = full.len() + comps.len();
        full.extend(comps);
        let mut prefix = Vec::new();
        for c in &full {
            let c = c.as_ref()?;
            prefix.push(c.clone());
            if self.defs.contains_key(&prefix) || self.defaults.contains_key(&prefix) {
                let rest = total - prefix.len();
                return Some((prefix, rest));
            }
        }
        None
    }
}

/// A rule head's path and whether it ends in a computed key (`r[k]`).
fn head_path(refr: &Value, contents: &str) -> (Vec<String>, bool) {
    match chain(refr, contents) {
        Some((root, comps)) => {
            let mut path = vec![root];
            let mut dynamic = false;
            for c in comps {
                match c {
                    Some(c) if !dynamic => path.push(c),
                    _ => dynamic = true,
                }
            }
            (path, dynamic)
        }
        None => (Vec::new(), true),
    }
}

fn join(package: &[String], path: Vec<String>) -> Vec<String> {
    package.iter().cloned().chain(path).collect()
}

/// A reference as its root variable and components (`None` where an index
/// is not a string literal).
fn chain(e: &Value, contents: &str) -> Option<(String, Vec<Option<String>>)> {
    let (variant, body) = e.as_object()?.iter().next()?;
    match variant.as_str() {
        "Var" => Some((var_name(body, contents)?, Vec::new())),
        "RefDot" => {
            let (root, mut comps) = chain(body.get("refr")?, contents)?;
            let field = body.get("field")?;
            let name = field
                .get(1)
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| text(field.get(0)?, contents));
            comps.push(Some(name?));
            Some((root, comps))
        }
        "RefBrack" => {
            let (root, mut comps) = chain(body.get("refr")?, contents)?;
            let index = body.get("index")?;
            comps.push(
                index
                    .pointer("/String/value")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            );
            Some((root, comps))
        }
        _ => None,
    }
}

fn static_path(e: &Value, contents: &str) -> Option<Vec<String>> {
    let (root, comps) = chain(e, contents)?;
    std::iter::once(Some(root)).chain(comps).collect()
}

fn var_name(body: &Value, contents: &str) -> Option<String> {
    body.get("value")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| text(body.get("span")?, contents))
}

/// Every name a rule declares: `:=` targets, `some` and `every` variables.
fn collect_locals(v: &Value, contents: &str, out: &mut HashSet<String>) {
    match v {
        Value::Object(o) => {
            if let Some(a) = o.get("AssignExpr")
                && a.get("op").and_then(Value::as_str) == Some("ColEq")
                && let Some(lhs) = a.get("lhs")
            {
                vars_in(lhs, contents, out);
            }
            if let Some(s) = o.get("SomeVars") {
                for span in s
                    .get("vars")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    out.extend(text(span, contents));
                }
            }
            for variant in ["SomeIn", "Every"] {
                if let Some(s) = o.get(variant) {
                    for part in ["key", "value"] {
                        match s.get(part) {
                            Some(Value::Null) | None => {}
                            Some(p) if p.get("start").is_some() => out.extend(text(p, contents)),
                            Some(p) => vars_in(p, contents, out),
                        }
                    }
                }
            }
            o.values().for_each(|x| collect_locals(x, contents, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_locals(x, contents, out)),
        _ => {}
    }
}

fn vars_in(v: &Value, contents: &str, out: &mut HashSet<String>) {
    match v {
        Value::Object(o) => {
            if let Some(var) = o.get("Var") {
                out.extend(var_name(var, contents));
            }
            o.values().for_each(|x| vars_in(x, contents, out));
        }
        Value::Array(a) => a.iter().for_each(|x| vars_in(x, contents, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kinds of `data.<package>.<rule>` in `modules` (path, text).
    fn kinds(modules: &[(&str, &str)], rule: &str) -> Scope {
        let mut engine = regorus::Engine::new();
        for (path, text) in modules {
            engine
                .add_policy(path.to_string(), text.to_string())
                .unwrap();
        }
        let ast = serde_json::from_str(&engine.get_ast_as_json().unwrap()).unwrap();
        of_rules(&ast, &[rule]).pop().unwrap()
    }

    /// Whether `data.main.deny` has a value for an object of `kind` (whose
    /// containers are privileged, so that every example body can succeed).
    fn fires(modules: &[(&str, &str)], api_version: &str, kind: &str) -> bool {
        let mut engine = regorus::Engine::new();
        for (path, text) in modules {
            engine
                .add_policy(path.to_string(), text.to_string())
                .unwrap();
        }
        let spec = serde_json::json!({"containers": [{"privileged": true}]});
        let input = serde_json::json!({
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": "x"},
            "spec": {"containers": spec["containers"], "template": {"spec": spec}},
        });
        engine.set_input(regorus::Value::from_json_str(&input.to_string()).unwrap());
        match engine.eval_rule("data.main.deny".into()) {
            Ok(regorus::Value::Undefined) => false,
            Ok(regorus::Value::Set(s)) => !s.is_empty(),
            Ok(_) => true,
            Err(e) => panic!("{e}"),
        }
    }

    /// The analysis agrees with regorus: the rule has a value for some
    /// admitted object, and for no other.
    fn agrees_with_regorus(modules: &[(&str, &str)], scope: &Scope) {
        let kinds = [
            "Deployment",
            "Pod",
            "Service",
            "Ingress",
            "A",
            "B",
            "Role",
            "ClusterRole",
            "Other",
        ];
        let api_versions = ["v1", "apps/v1", "extensions/v1beta1", "other/v1"];
        let mut admitted = 0;
        for kind in kinds {
            for api_version in api_versions {
                if scope.kind.admits(kind) && scope.api_version.admits(api_version) {
                    admitted += usize::from(fires(modules, api_version, kind));
                } else {
                    assert!(
                        !fires(modules, api_version, kind),
                        "{api_version} {kind}: {modules:?}"
                    );
                }
            }
        }
        assert!(admitted > 0, "{modules:?}");
    }

    fn main(body: &str) -> String {
        format!("package main\nimport rego.v1\n{body}\n")
    }

    fn only(kinds: &[&str]) -> Scope {
        Scope {
            kind: Values::Only(kinds.iter().map(|k| k.to_string()).collect()),
            api_version: Values::Any,
        }
    }

    fn api_only(api_versions: &[&str]) -> Scope {
        Scope {
            kind: Values::Any,
            api_version: Values::Only(api_versions.iter().map(|k| k.to_string()).collect()),
        }
    }

    const LIB: &str = r#"package lib.k8s
import rego.v1
default is_workload := false
default ready := true
workload_kinds := {"Deployment", "Pod"}
is_workload if input.kind in workload_kinds
ready if input.kind == "Pod"
kind := input.kind
pod_spec := input.spec if input.kind == "Pod"
pod_spec := input.spec.template.spec if input.kind == "Deployment"
containers contains c if some c in pod_spec.containers
is_service if kind == "Service"
"#;

    fn with_lib(body: &str) -> Scope {
        kinds(
            &[("lib.rego", LIB), ("p.rego", &main(body))],
            "data.main.deny",
        )
    }

    #[test]
    fn reads_direct_guards() {
        for (body, want) in [
            (
                r#"deny contains 1 if input.kind == "Service""#,
                only(&["Service"]),
            ),
            (
                r#"deny contains 1 if "Service" == input.kind"#,
                only(&["Service"]),
            ),
            (
                r#"deny contains 1 if input.kind = "Service""#,
                only(&["Service"]),
            ),
            (
                r#"deny contains 1 if input["kind"] == "Service""#,
                only(&["Service"]),
            ),
            (
                r#"deny contains 1 if input.kind in {"Role", "ClusterRole"}"#,
                only(&["ClusterRole", "Role"]),
            ),
            (
                r#"deny contains 1 if input.kind in ["Role"]"#,
                only(&["Role"]),
            ),
            (
                "ks := {\"A\", \"B\"}\ndeny contains 1 if input.kind in ks",
                only(&["A", "B"]),
            ),
            // Two guards: both must hold.
            (
                r#"deny contains 1 if { input.kind in {"A", "B"}; input.kind == "B" }"#,
                only(&["B"]),
            ),
            // Bodies (and `else` branches) add up.
            (
                "deny contains 1 if input.kind == \"A\"\ndeny contains 2 if input.kind == \"B\"",
                only(&["A", "B"]),
            ),
            (
                "deny := 1 if input.kind == \"A\" else := 2 if input.kind == \"B\"",
                only(&["A", "B"]),
            ),
        ] {
            let modules = [("p.rego", main(body))];
            let modules: Vec<(&str, &str)> =
                modules.iter().map(|(p, t)| (*p, t.as_str())).collect();
            assert_eq!(kinds(&modules, "data.main.deny"), want, "{body}");
            agrees_with_regorus(&modules, &want);
        }
    }

    #[test]
    fn reads_api_version_guards() {
        let deprecated =
            "deprecated := {\"extensions/v1beta1\": \"apps/v1\", \"apps/v1beta1\": \"apps/v1\"}\n";
        for (body, want) in [
            (
                r#"deny contains 1 if input.apiVersion == "extensions/v1beta1""#.to_string(),
                api_only(&["extensions/v1beta1"]),
            ),
            (
                format!("{deprecated}deny contains r if r := deprecated[input.apiVersion]"),
                api_only(&["apps/v1beta1", "extensions/v1beta1"]),
            ),
            (
                format!("{deprecated}deny contains 1 if deprecated[input.apiVersion]"),
                api_only(&["apps/v1beta1", "extensions/v1beta1"]),
            ),
            (
                r#"deny contains 1 if { input.apiVersion == "extensions/v1beta1"; input.kind == "Ingress" }"#.to_string(),
                Scope {
                    kind: Values::one("Ingress"),
                    api_version: Values::one("extensions/v1beta1"),
                },
            ),
            // Bodies add up field by field.
            (
                "deny contains 1 if { input.apiVersion == \"v1\"; input.kind == \"Pod\" }\ndeny contains 2 if { input.apiVersion == \"apps/v1\"; input.kind == \"Deployment\" }".to_string(),
                Scope {
                    kind: only(&["Deployment", "Pod"]).kind,
                    api_version: api_only(&["apps/v1", "v1"]).api_version,
                },
            ),
            (
                "deny contains 1 if input.kind == \"Pod\"\ndeny contains 2 if input.apiVersion == \"v1\"".to_string(),
                Scope::ANY,
            ),
            // A lookup by a computed key, or in an object with computed keys.
            (
                format!("{deprecated}deny contains r if r := deprecated[lower(input.apiVersion)]"),
                Scope::ANY,
            ),
            (
                "d := {input.apiVersion: 1}\ndeny contains r if r := d[input.apiVersion]".to_string(),
                Scope::ANY,
            ),
        ] {
            let modules = [("p.rego", main(&body))];
            let modules: Vec<(&str, &str)> =
                modules.iter().map(|(p, t)| (*p, t.as_str())).collect();
            assert_eq!(kinds(&modules, "data.main.deny"), want, "{body}");
            agrees_with_regorus(&modules, &want);
        }
    }

    #[test]
    fn follows_helpers() {
        for (body, want) in [
            (
                "import data.lib.k8s\ndeny contains 1 if k8s.is_workload",
                only(&["Deployment", "Pod"]),
            ),
            (
                "import data.lib.k8s as kk\ndeny contains 1 if kk.is_workload",
                only(&["Deployment", "Pod"]),
            ),
            (
                "deny contains 1 if data.lib.k8s.is_workload",
                only(&["Deployment", "Pod"]),
            ),
            (
                "import data.lib.k8s\ndeny contains c if { some c in k8s.containers }",
                only(&["Deployment", "Pod"]),
            ),
            (
                "import data.lib.k8s\ndeny contains c if { c := k8s.containers[_] }",
                only(&["Deployment", "Pod"]),
            ),
            (
                "import data.lib.k8s\ndeny contains 1 if { k8s.containers[_].privileged == true }",
                only(&["Deployment", "Pod"]),
            ),
            (
                "import data.lib.k8s\ndeny contains s if { s := k8s.pod_spec }",
                only(&["Deployment", "Pod"]),
            ),
            (
                "import data.lib.k8s\ndeny contains 1 if k8s.is_service",
                only(&["Service"]),
            ),
            (
                "import data.lib.k8s\ndeny contains 1 if k8s.kind == \"Ingress\"",
                only(&["Ingress"]),
            ),
        ] {
            assert_eq!(with_lib(body), want, "{body}");
            agrees_with_regorus(&[("lib.rego", LIB), ("p.rego", &main(body))], &want);
        }
    }

    #[test]
    fn stays_conservative() {
        for body in [
            // No guard at all, or one the analysis does not read.
            "deny contains 1 if true",
            "deny contains 1 if input.metadata.name == \"x\"",
            "deny contains 1 if lower(input.kind) == \"pod\"",
            "deny contains 1 if not input.kind == \"Pod\"",
            "deny contains 1 if input.kind != \"Pod\"",
            // One unguarded body.
            "deny contains 1 if input.kind == \"A\"\ndeny contains 2 if true",
            // `with` replaces the input the guard reads.
            "deny contains 1 if { input.kind == \"A\" with input as {\"kind\": \"A\"} }",
            // A local variable hides the helper of the same name.
            "import data.lib.k8s\ndeny contains 1 if { is_workload := true; is_workload }",
            "ks := {\"A\"}\ndeny contains 1 if { ks := {input.kind}; input.kind in ks }",
            // The helper's default is true: the condition holds for every kind.
            "import data.lib.k8s\ndeny contains 1 if k8s.ready",
            // An empty set is a true condition, and has a count.
            "import data.lib.k8s\ndeny contains 1 if k8s.containers",
            "import data.lib.k8s\ndeny contains 1 if count(k8s.containers) == 0",
            // A default makes the helper defined everywhere.
            "import data.lib.k8s\ndeny contains x if { x := k8s.is_workload }",
            // Functions and unknown names.
            "f(x) if x == \"A\"\ndeny contains 1 if f(input.kind)",
            "deny contains 1 if data.nowhere.guard",
            // A computed set of kinds.
            "deny contains 1 if input.kind in {lower(\"A\")}",
        ] {
            assert_eq!(with_lib(body), Scope::ANY, "{body}");
        }
    }

    #[test]
    fn a_rule_with_a_default_applies_everywhere() {
        let body = "default deny := false\ndeny if input.kind == \"A\"";
        assert_eq!(
            kinds(&[("p.rego", &main(body))], "data.main.deny"),
            Scope::ANY
        );
    }

    #[test]
    fn v0_policies_are_read_too() {
        let lib = "package lib.k8s\nis_pod { input.kind == \"Pod\" }\n";
        let policy = "package main\nimport data.lib.k8s\ndeny[msg] { k8s.is_pod; msg := \"x\" }\n";
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.add_policy("lib.rego".into(), lib.into()).unwrap();
        engine.add_policy("p.rego".into(), policy.into()).unwrap();
        let ast = serde_json::from_str(&engine.get_ast_as_json().unwrap()).unwrap();
        let got = of_rules(&ast, &["data.main.deny"]);
        assert_eq!(got, vec![only(&["Pod"])]);
    }

    #[test]
    fn unreadable_trees_apply_everywhere() {
        let any = vec![Scope::ANY];
        assert_eq!(of_rules(&Value::Null, &["data.main.deny"]), any);
        assert_eq!(of_rules(&serde_json::json!([]), &["data.main.deny"]), any);
        let odd = serde_json::json!([{"ast": {"package": 1, "rules": [{"Spec": []}]}}]);
        assert_eq!(of_rules(&odd, &["data.main.deny"]), any);
    }
}
