//! What Palisade needs from a module's syntax tree (regorus' `ast`
//! feature, as JSON): the package, the imports, the rules and every
//! function call — enough to find Conftest rules and `test_` rules, and to
//! report a call to a function that exists nowhere at load time instead
//! of when (and if) an evaluation reaches it.

use serde_json::Value;

/// A call site: the function's path as written and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub path: String,
    pub line: u32,
    pub column: u32,
}

/// One rule definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDef {
    pub name: String,
    /// A function (`f(x) := …`).
    pub function: bool,
    pub line: u32,
    pub column: u32,
}

/// A module's outline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleOutline {
    pub source: String,
    /// `data.main`.
    pub package: String,
    /// Import alias (last segment or `as` name) → full path (`data.lib.k8s`).
    pub imports: Vec<(String, String)>,
    pub rules: Vec<RuleDef>,
    pub calls: Vec<Call>,
}

/// Outlines every module of `get_ast_as_json`'s output (parsed).
pub fn outlines(modules: &Value) -> Vec<ModuleOutline> {
    let Value::Array(modules) = modules else {
        return Vec::new();
    };
    modules.iter().map(outline).collect()
}

fn outline(m: &Value) -> ModuleOutline {
    let source = m
        .pointer("/source/file")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let contents = m
        .pointer("/source/contents")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let ast = m.get("ast").unwrap_or(&Value::Null);
    let package = ast
        .pointer("/package/refr")
        .and_then(path_of)
        .map(|p| format!("data.{p}"))
        .unwrap_or_else(|| "data".into());
    let imports = ast
        .get("imports")
        .and_then(Value::as_array)
        .map(|imports| {
            imports
                .iter()
                .filter_map(|i| {
                    let path = i.get("refr").and_then(path_of)?;
                    // `as` is kept as a span of the source.
                    let alias = i
                        .get("as")
                        .and_then(|span| span_text(span, contents))
                        .or_else(|| path.rsplit('.').next().map(str::to_string))?;
                    Some((alias, path))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut rules = Vec::new();
    let mut calls = Vec::new();
    if let Some(list) = ast.get("rules").and_then(Value::as_array) {
        for rule in list {
            if let Some(def) = rule_def(rule) {
                rules.push(def);
            }
            collect_calls(rule, &mut calls, 0);
        }
    }
    ModuleOutline {
        source,
        package,
        imports,
        rules,
        calls,
    }
}

fn rule_def(rule: &Value) -> Option<RuleDef> {
    let (variant, body) = rule.as_object()?.iter().next()?;
    let head = match variant.as_str() {
        "Spec" => body.get("head")?,
        "Default" => body,
        _ => return None,
    };
    let (kind, head_body) = match head.as_object() {
        Some(o) if variant == "Spec" => {
            let (k, b) = o.iter().next()?;
            (k.as_str(), b)
        }
        _ => ("Default", head),
    };
    let refr = head_body.get("refr")?;
    let name = path_of(refr)?;
    let (line, column) = span_of(refr);
    Some(RuleDef {
        name,
        function: kind == "Func",
        line,
        column,
    })
}

/// The dotted path of a `Var`/`RefDot`/`RefBrack`-with-string chain.
fn path_of(expr: &Value) -> Option<String> {
    let (kind, body) = expr.as_object()?.iter().next()?;
    match kind.as_str() {
        "Var" => body.get("value")?.as_str().map(str::to_string),
        "RefDot" => {
            let base = path_of(body.get("refr")?)?;
            let field = body.get("field")?.get(1)?.as_str()?;
            Some(format!("{base}.{field}"))
        }
        "RefBrack" => {
            let base = path_of(body.get("refr")?)?;
            let index = body.get("index")?;
            let s = index.get("String")?.get("value")?.as_str()?;
            Some(format!("{base}.{s}"))
        }
        _ => None,
    }
}

/// The source text a span covers (the tree keeps some names, such as
/// `import … as x` and `some x`, only as spans).
pub(crate) fn span_text(span: &Value, contents: &str) -> Option<String> {
    let start = usize::try_from(span.get("start")?.as_u64()?).ok()?;
    let end = usize::try_from(span.get("end")?.as_u64()?).ok()?;
    let t = contents.get(start..end)?;
    (!t.is_empty()).then(|| t.to_string())
}

/// Line and column of the leftmost part of an expression.
fn span_of(expr: &Value) -> (u32, u32) {
    let mut e = expr;
    loop {
        let Some((kind, body)) = e.as_object().and_then(|o| o.iter().next()) else {
            return (0, 0);
        };
        match (kind.as_str(), body.get("refr")) {
            ("RefDot" | "RefBrack", Some(inner)) => e = inner,
            _ => {
                let line = body.pointer("/span/line").and_then(Value::as_u64);
                let col = body.pointer("/span/col").and_then(Value::as_u64);
                return (
                    line.and_then(|l| u32::try_from(l).ok()).unwrap_or(0),
                    col.and_then(|c| u32::try_from(c).ok()).unwrap_or(0),
                );
            }
        }
    }
}

/// Trees are bounded by regorus' own parser limits; this only guards the
/// walk's stack.
const MAX_DEPTH: usize = 512;

fn collect_calls(v: &Value, out: &mut Vec<Call>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                if k == "Call"
                    && let Some(fcn) = child.get("fcn")
                    && let Some(path) = path_of(fcn)
                {
                    let (line, column) = span_of(fcn);
                    out.push(Call { path, line, column });
                }
                collect_calls(child, out, depth + 1);
            }
        }
        Value::Array(items) => {
            for child in items {
                collect_calls(child, out, depth + 1);
            }
        }
        _ => {}
    }
}
