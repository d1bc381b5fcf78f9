//! A bound on the work a CEL expression can do, checked before it runs.
//!
//! The `cel` crate has no runtime cost budget, and a comprehension cannot
//! be interrupted, so the bound is computed instead: an expression with
//! comprehensions nested `d` deep over collections of at most `n` elements
//! iterates at most `n^d` times. `n` is the largest list or map of the
//! evaluation's inputs (object, params, variables), the largest string when
//! the expression can turn strings into lists (`split`, `findAll`), and
//! every `lists.range(N)` in it. The API server refuses such expressions
//! with its static cost estimate; here the same expressions end with a
//! clear error instead of a hang.

use cel::common::ast::{Expr, LiteralValue};
use cel::parser::Expression;

/// What the bound needs to know about a program, found once at compile time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// Deepest nesting of comprehensions.
    pub depth: u32,
    /// Largest literal `lists.range(N)`; `u64::MAX` for a computed one.
    pub range: u64,
    /// Whether strings can become lists (`split`, `findAll`, `lists.range`).
    pub splits: bool,
}

/// Sizes of an evaluation's inputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputSize {
    pub max_collection: u64,
    pub max_string: u64,
}

impl InputSize {
    pub fn merge(&mut self, other: InputSize) {
        self.max_collection = self.max_collection.max(other.max_collection);
        self.max_string = self.max_string.max(other.max_string);
    }
}

/// Default budget: iterations one expression may do (the API server's
/// per-expression limit is of the same order).
pub const DEFAULT_LIMIT: u64 = 10_000_000;

impl Shape {
    pub fn of(expr: &Expression) -> Shape {
        let mut shape = Shape::default();
        shape.depth = walk(expr, &mut shape, 0);
        shape
    }

    /// The iteration bound for inputs of `size`.
    pub fn bound(&self, size: InputSize) -> u64 {
        if self.depth == 0 {
            return 1;
        }
        let mut n = size.max_collection.max(self.range.min(1_000_000));
        if self.splits {
            n = n.max(size.max_string);
        }
        n.max(1).saturating_pow(self.depth)
    }
}

/// Returns the comprehension depth of `e`, recording ranges and splits.
fn walk(e: &Expression, shape: &mut Shape, guard: u32) -> u32 {
    if guard > 256 {
        return 0;
    }
    let g = guard + 1;
    match &e.expr {
        Expr::Comprehension(c) => {
            let range = walk(&c.iter_range, shape, g);
            let init = walk(&c.accu_init, shape, g);
            let inner = [&c.loop_cond, &c.loop_step]
                .into_iter()
                .map(|x| walk(x, shape, g))
                .max()
                .unwrap_or(0);
            let result = walk(&c.result, shape, g);
            range.max(init).max(result).max(inner + 1)
        }
        Expr::Call(call) => {
            let lists_range = call.func_name == "lists.range"
                || (call.func_name == "range"
                    && matches!(call.target.as_deref().map(|t| &t.expr), Some(Expr::Ident(i)) if i == "lists"));
            match call.func_name.as_str() {
                "split" | "findAll" => shape.splits = true,
                _ if lists_range => {
                    shape.splits = true;
                    let n = match call.args.first().map(|a| &a.expr) {
                        Some(Expr::Literal(LiteralValue::Int(i))) => {
                            u64::try_from((*i.inner()).max(0)).unwrap_or(0)
                        }
                        _ => u64::MAX,
                    };
                    shape.range = shape.range.max(n);
                }
                _ => {}
            }
            let target = call.target.as_deref().map_or(0, |t| walk(t, shape, g));
            call.args
                .iter()
                .map(|a| walk(a, shape, g))
                .max()
                .unwrap_or(0)
                .max(target)
        }
        Expr::List(l) => l
            .elements
            .iter()
            .map(|x| walk(x, shape, g))
            .max()
            .unwrap_or(0),
        Expr::Map(m) => m
            .entries
            .iter()
            .map(|entry| walk_entry(entry, shape, g))
            .max()
            .unwrap_or(0),
        Expr::Struct(s) => s
            .entries
            .iter()
            .map(|entry| walk_entry(entry, shape, g))
            .max()
            .unwrap_or(0),
        Expr::Select(s) => walk(&s.operand, shape, g),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => 0,
    }
}

fn walk_entry(entry: &cel::common::ast::IdedEntryExpr, shape: &mut Shape, g: u32) -> u32 {
    use cel::common::ast::EntryExpr;
    match &entry.expr {
        EntryExpr::MapEntry(m) => walk(&m.key, shape, g).max(walk(&m.value, shape, g)),
        EntryExpr::StructField(f) => walk(&f.value, shape, g),
    }
}
