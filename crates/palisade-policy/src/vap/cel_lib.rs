//! The CEL environment ValidatingAdmissionPolicies run in: the CEL standard
//! library, the strings, lists, math and base64 extensions of the `cel`
//! crate, and the Kubernetes libraries VAPs use (regex `find`/`findAll`,
//! list `isSorted`/`sum`/`min`/`max`/`indexOf`/`lastIndexOf`, `url()`,
//! `quantity()`). A program that calls any other function is refused when
//! it is compiled, naming the function: never a silent pass.
//!
//! Kubernetes' quantities and URLs are opaque types; here `quantity()` and
//! `url()` return a checked string (a quantity in canonical form), and
//! their methods take such strings. `quantity('1Gi') == quantity('1024Mi')`
//! holds, as in Kubernetes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cel::common::types::{DYN_TYPE, INT_TYPE, LIST_TYPE, STRING_TYPE};
use cel::common::value::{CowVal, Val};
use cel::objects::{Key, Map};
use cel::{DeclarationError, Env, ExecutionError, Value};
use regex::Regex;

use super::quantity::Quantity;
use super::url::Url;

/// Functions (and macros) a VAP expression may call. Operators and the
/// crate's internal helpers (`_+_`, `@in`, …) are always allowed.
pub const SUPPORTED: &[&str] = &[
    // CEL standard library and macros
    "size",
    "matches",
    "contains",
    "startsWith",
    "endsWith",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "type",
    "dyn",
    "duration",
    "timestamp",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getFullYear",
    "getHours",
    "getMilliseconds",
    "getMinutes",
    "getMonth",
    "getSeconds",
    "has",
    "all",
    "exists",
    "exists_one",
    "existsOne",
    "map",
    "filter",
    // optionals
    "optional.of",
    "optional.none",
    "optional.ofNonZeroValue",
    "hasValue",
    "value",
    "or",
    "orValue",
    "optMap",
    "optFlatMap",
    // strings extension
    "charAt",
    "indexOf",
    "lastIndexOf",
    "join",
    "lowerAscii",
    "upperAscii",
    "trim",
    "replace",
    "split",
    "substring",
    "format",
    "strings.quote",
    "reverse",
    // lists extension
    "slice",
    "flatten",
    "distinct",
    "sort",
    "sortBy",
    "lists.range",
    // math extension
    "math.greatest",
    "math.least",
    "math.abs",
    "math.ceil",
    "math.floor",
    "math.round",
    "math.trunc",
    "math.isInf",
    "math.isNaN",
    "math.isFinite",
    "math.sign",
    "math.sqrt",
    "math.bitAnd",
    "math.bitOr",
    "math.bitXor",
    "math.bitNot",
    "math.bitShiftLeft",
    "math.bitShiftRight",
    // encoders
    "base64.encode",
    "base64.decode",
    // Kubernetes regex library
    "find",
    "findAll",
    // Kubernetes lists library
    "isSorted",
    "sum",
    "min",
    "max",
    // Kubernetes URL library
    "url",
    "isURL",
    "getScheme",
    "getHost",
    "getHostname",
    "getPort",
    "getEscapedPath",
    "getQuery",
    // Kubernetes quantity library
    "quantity",
    "isQuantity",
    "isGreaterThan",
    "isLessThan",
    "compareTo",
    "asInteger",
    "asApproximateFloat",
    "isInteger",
    "sign",
    "add",
    "sub",
];

/// Kubernetes CEL functions that are not available offline, with why.
pub const UNSUPPORTED: &[(&str, &str)] = &[
    ("authorizer", "authorization checks need a live API server"),
    ("ip", "the Kubernetes IP library is not implemented"),
    ("cidr", "the Kubernetes CIDR library is not implemented"),
    ("isIP", "the Kubernetes IP library is not implemented"),
    ("isCIDR", "the Kubernetes CIDR library is not implemented"),
    ("semver", "the Kubernetes semver library is not implemented"),
    (
        "isSemver",
        "the Kubernetes semver library is not implemented",
    ),
    (
        "format.named",
        "the Kubernetes format library is not implemented",
    ),
    (
        "validate",
        "the Kubernetes format library is not implemented",
    ),
    ("cel.bind", "cel.bind is not supported by the CEL engine"),
];

/// Whether a function name from a program's references may be called.
pub fn is_supported(name: &str) -> bool {
    // Namespaced functions (`lists.range`, `math.ceil`) may be referenced by
    // their last part, and macros expand to `@` helpers.
    name.starts_with(['_', '@', '!', '-'])
        || name.contains('@')
        || SUPPORTED.contains(&name)
        || SUPPORTED
            .iter()
            .any(|s| s.rsplit_once('.').is_some_and(|(_, last)| last == name))
}

/// Why a function is not supported, when it is one Kubernetes has.
pub fn unsupported_reason(name: &str) -> Option<&'static str> {
    UNSUPPORTED
        .iter()
        .find(|(n, _)| *n == name || name.starts_with(&format!("{n}.")))
        .map(|(_, why)| *why)
}

/// The environment, built once per process.
pub fn env() -> Result<Arc<Env>, DeclarationError> {
    static ENV: OnceLock<Result<Arc<Env>, DeclarationError>> = OnceLock::new();
    ENV.get_or_init(|| build().map(Arc::new)).clone()
}

fn build() -> Result<Env, DeclarationError> {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::strings)?;
    env.add_extension(cel::extensions::lists)?;
    env.add_extension(cel::extensions::math)?;
    env.add_extension(cel::extensions::encoders)?;
    // Regex
    env.add_member_overload(
        "find",
        "string_find_string",
        STRING_TYPE,
        vec![STRING_TYPE],
        find,
    )?;
    env.add_member_overload(
        "findAll",
        "string_find_all_string",
        STRING_TYPE,
        vec![STRING_TYPE],
        find_all,
    )?;
    env.add_member_overload(
        "findAll",
        "string_find_all_string_int",
        STRING_TYPE,
        vec![STRING_TYPE, INT_TYPE],
        find_all_n,
    )?;
    // Lists
    env.add_member_overload("isSorted", "list_is_sorted", LIST_TYPE, vec![], is_sorted)?;
    env.add_member_overload("sum", "list_sum", LIST_TYPE, vec![], sum)?;
    env.add_member_overload("min", "list_min", LIST_TYPE, vec![], min)?;
    env.add_member_overload("max", "list_max", LIST_TYPE, vec![], max)?;
    env.add_member_overload(
        "indexOf",
        "list_index_of",
        LIST_TYPE,
        vec![DYN_TYPE],
        list_index_of,
    )?;
    env.add_member_overload(
        "lastIndexOf",
        "list_last_index_of",
        LIST_TYPE,
        vec![DYN_TYPE],
        list_last_index_of,
    )?;
    // URLs
    env.add_overload("url", "url_string", vec![STRING_TYPE], url)?;
    env.add_overload("isURL", "is_url_string", vec![STRING_TYPE], is_url)?;
    for (name, f) in [
        ("getScheme", get_scheme as cel::common::functions::Function),
        ("getHost", get_host),
        ("getHostname", get_hostname),
        ("getPort", get_port),
        ("getEscapedPath", get_escaped_path),
        ("getQuery", get_query),
    ] {
        env.add_member_overload(name, &format!("url_{name}"), STRING_TYPE, vec![], f)?;
    }
    // Quantities
    env.add_overload("quantity", "quantity_string", vec![STRING_TYPE], quantity)?;
    env.add_overload(
        "isQuantity",
        "is_quantity_string",
        vec![STRING_TYPE],
        is_quantity,
    )?;
    for (name, f) in [
        (
            "isGreaterThan",
            q_greater as cel::common::functions::Function,
        ),
        ("isLessThan", q_less),
        ("compareTo", q_compare),
        ("add", q_add),
        ("sub", q_sub),
    ] {
        env.add_member_overload(
            name,
            &format!("quantity_{name}"),
            STRING_TYPE,
            vec![STRING_TYPE],
            f,
        )?;
    }
    env.add_member_overload(
        "add",
        "quantity_add_int",
        STRING_TYPE,
        vec![INT_TYPE],
        q_add,
    )?;
    env.add_member_overload(
        "sub",
        "quantity_sub_int",
        STRING_TYPE,
        vec![INT_TYPE],
        q_sub,
    )?;
    for (name, f) in [
        (
            "asInteger",
            q_as_integer as cel::common::functions::Function,
        ),
        ("asApproximateFloat", q_as_float),
        ("isInteger", q_is_integer),
        ("sign", q_sign),
    ] {
        env.add_member_overload(name, &format!("quantity_{name}"), STRING_TYPE, vec![], f)?;
    }
    Ok(env)
}

/// Wraps a function over plain values into an overload.
macro_rules! value_fn {
    ($name:ident, $imp:expr) => {
        fn $name<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
            let values = args
                .iter()
                .map(|a| Value::try_from(a.as_ref()))
                .collect::<Result<Vec<Value>, ExecutionError>>()?;
            let out: Value = ($imp)(values.as_slice())?;
            let boxed: Box<dyn Val> = Box::<dyn Val>::try_from(out)?;
            Ok(CowVal::Owned(boxed))
        }
    };
}

fn err(function: &str, message: impl ToString) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

fn str_arg<'a>(function: &str, args: &'a [Value], i: usize) -> Result<&'a str, ExecutionError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.as_str()),
        _ => Err(err(function, "expected a string argument")),
    }
}

fn list_arg<'a>(function: &str, args: &'a [Value]) -> Result<&'a [Value], ExecutionError> {
    match args.first() {
        Some(Value::List(l)) => Ok(l.as_slice()),
        _ => Err(err(function, "expected a list")),
    }
}

/// Compiled patterns, shared by all evaluations (patterns are constants of
/// the policies, so the cache stays small; it is bounded all the same).
fn regex(function: &str, pattern: &str) -> Result<Arc<Regex>, ExecutionError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(c) = cache.lock()
        && let Some(r) = c.get(pattern)
    {
        return Ok(Arc::clone(r));
    }
    let compiled = regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| err(function, format!("invalid regular expression: {e}")))?;
    let compiled = Arc::new(compiled);
    if let Ok(mut c) = cache.lock() {
        if c.len() >= 512 {
            c.clear();
        }
        c.insert(pattern.to_string(), Arc::clone(&compiled));
    }
    Ok(compiled)
}

value_fn!(find, |a: &[Value]| {
    let re = regex("find", str_arg("find", a, 1)?)?;
    Ok::<_, ExecutionError>(Value::from(
        re.find(str_arg("find", a, 0)?)
            .map_or(String::new(), |m| m.as_str().to_string()),
    ))
});

fn find_all_impl(a: &[Value], limit: Option<i64>) -> Result<Value, ExecutionError> {
    let re = regex("findAll", str_arg("findAll", a, 1)?)?;
    let s = str_arg("findAll", a, 0)?;
    let n = match limit {
        Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
        _ => usize::MAX,
    };
    let found: Vec<Value> = re
        .find_iter(s)
        .take(n)
        .map(|m| Value::from(m.as_str().to_string()))
        .collect();
    Ok(Value::List(Arc::new(found)))
}

value_fn!(find_all, |a: &[Value]| find_all_impl(a, None));
value_fn!(find_all_n, |a: &[Value]| {
    let n = match a.get(2) {
        Some(Value::Int(n)) => *n,
        _ => return Err(err("findAll", "expected an int limit")),
    };
    find_all_impl(a, Some(n))
});

fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering, ExecutionError> {
    use std::cmp::Ordering;
    let o = match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::UInt(x), Value::UInt(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)).unwrap_or(Ordering::Equal),
        (Value::Int(x), Value::UInt(y)) => i128::from(*x).cmp(&i128::from(*y)),
        (Value::UInt(x), Value::Int(y)) => i128::from(*x).cmp(&i128::from(*y)),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => return Err(err("isSorted", "list elements must be comparable")),
    };
    Ok(o)
}

value_fn!(is_sorted, |a: &[Value]| {
    let items = list_arg("isSorted", a)?;
    for pair in items.windows(2) {
        if let [x, y] = pair
            && compare(x, y)? == std::cmp::Ordering::Greater
        {
            return Ok(Value::Bool(false));
        }
    }
    Ok::<_, ExecutionError>(Value::Bool(true))
});

value_fn!(sum, |a: &[Value]| {
    let items = list_arg("sum", a)?;
    let mut int: i64 = 0;
    let mut float: Option<f64> = None;
    let mut uint: Option<u64> = None;
    for v in items {
        match v {
            Value::Int(i) => {
                int = int
                    .checked_add(*i)
                    .ok_or_else(|| err("sum", "integer overflow"))?;
            }
            Value::UInt(u) => {
                uint = Some(
                    uint.unwrap_or(0)
                        .checked_add(*u)
                        .ok_or_else(|| err("sum", "integer overflow"))?,
                );
            }
            Value::Float(f) => float = Some(float.unwrap_or(0.0) + f),
            _ => return Err(err("sum", "list elements must be numbers")),
        }
    }
    Ok::<_, ExecutionError>(match (float, uint) {
        (Some(f), _) => Value::Float(f + int as f64 + uint.unwrap_or(0) as f64),
        (None, Some(u)) if int == 0 => Value::UInt(u),
        _ => Value::Int(int),
    })
});

fn extreme(a: &[Value], function: &str, want: std::cmp::Ordering) -> Result<Value, ExecutionError> {
    let items = list_arg(function, a)?;
    let mut best: Option<&Value> = None;
    for v in items {
        best = match best {
            Some(b) if compare(v, b)? != want => Some(b),
            _ => Some(v),
        };
    }
    best.cloned()
        .ok_or_else(|| err(function, "cannot be applied to an empty list"))
}

value_fn!(min, |a: &[Value]| extreme(
    a,
    "min",
    std::cmp::Ordering::Less
));
value_fn!(max, |a: &[Value]| extreme(
    a,
    "max",
    std::cmp::Ordering::Greater
));

fn position(a: &[Value], last: bool) -> Result<Value, ExecutionError> {
    let items = list_arg("indexOf", a)?;
    let needle = a.get(1).ok_or_else(|| err("indexOf", "missing argument"))?;
    let eq =
        |v: &&Value| *v == needle || compare(v, needle).ok() == Some(std::cmp::Ordering::Equal);
    let found = if last {
        items.iter().rposition(|v| eq(&v))
    } else {
        items.iter().position(|v| eq(&v))
    };
    Ok(Value::Int(
        found.and_then(|i| i64::try_from(i).ok()).unwrap_or(-1),
    ))
}

value_fn!(list_index_of, |a: &[Value]| position(a, false));
value_fn!(list_last_index_of, |a: &[Value]| position(a, true));

fn parse_url(a: &[Value]) -> Result<Url, ExecutionError> {
    Url::parse(str_arg("url", a, 0)?).map_err(|e| err("url", e))
}

value_fn!(url, |a: &[Value]| {
    parse_url(a)?;
    Ok::<_, ExecutionError>(a.first().cloned().unwrap_or(Value::Null))
});
value_fn!(is_url, |a: &[Value]| Ok::<_, ExecutionError>(Value::Bool(
    Url::parse(str_arg("isURL", a, 0)?).is_ok()
)));
value_fn!(get_scheme, |a: &[Value]| Ok::<_, ExecutionError>(
    Value::from(parse_url(a)?.scheme)
));
value_fn!(get_host, |a: &[Value]| Ok::<_, ExecutionError>(
    Value::from(parse_url(a)?.host)
));
value_fn!(get_hostname, |a: &[Value]| Ok::<_, ExecutionError>(
    Value::from(parse_url(a)?.hostname())
));
value_fn!(get_port, |a: &[Value]| Ok::<_, ExecutionError>(
    Value::from(parse_url(a)?.port())
));
value_fn!(get_escaped_path, |a: &[Value]| Ok::<_, ExecutionError>(
    Value::from(parse_url(a)?.path)
));
value_fn!(get_query, |a: &[Value]| {
    let map: HashMap<Key, Value> = parse_url(a)?
        .query_map()
        .into_iter()
        .map(|(k, vs)| {
            (
                Key::String(Arc::new(k)),
                Value::List(Arc::new(vs.into_iter().map(Value::from).collect())),
            )
        })
        .collect();
    Ok::<_, ExecutionError>(Value::Map(Map { map: Arc::new(map) }))
});

fn q(function: &str, a: &[Value], i: usize) -> Result<Quantity, ExecutionError> {
    match a.get(i) {
        Some(Value::String(s)) => Quantity::parse(s).map_err(|e| err(function, e)),
        Some(Value::Int(n)) => Ok(Quantity::from_int(*n)),
        _ => Err(err(function, "expected a quantity")),
    }
}

value_fn!(quantity, |a: &[Value]| Ok::<_, ExecutionError>(
    Value::from(q("quantity", a, 0)?.canonical())
));
value_fn!(is_quantity, |a: &[Value]| Ok::<_, ExecutionError>(
    Value::Bool(Quantity::parse(str_arg("isQuantity", a, 0)?).is_ok())
));
value_fn!(q_greater, |a: &[Value]| Ok::<_, ExecutionError>(
    Value::Bool(q("isGreaterThan", a, 0)? > q("isGreaterThan", a, 1)?)
));
value_fn!(q_less, |a: &[Value]| Ok::<_, ExecutionError>(Value::Bool(
    q("isLessThan", a, 0)? < q("isLessThan", a, 1)?
)));
value_fn!(q_compare, |a: &[Value]| Ok::<_, ExecutionError>(
    Value::Int(match q("compareTo", a, 0)?.cmp(&q("compareTo", a, 1)?) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    })
));
value_fn!(q_add, |a: &[Value]| {
    let sum = q("add", a, 0)?
        .checked_add(q("add", a, 1)?)
        .ok_or_else(|| err("add", "quantity overflow"))?;
    Ok::<_, ExecutionError>(Value::from(sum.canonical()))
});
value_fn!(q_sub, |a: &[Value]| {
    let diff = q("sub", a, 0)?
        .checked_sub(q("sub", a, 1)?)
        .ok_or_else(|| err("sub", "quantity overflow"))?;
    Ok::<_, ExecutionError>(Value::from(diff.canonical()))
});
value_fn!(q_as_integer, |a: &[Value]| {
    q("asInteger", a, 0)?
        .as_integer()
        .map(Value::Int)
        .ok_or_else(|| err("asInteger", "quantity is not an integer or overflows int64"))
});
value_fn!(q_as_float, |a: &[Value]| Ok::<_, ExecutionError>(
    Value::Float(q("asApproximateFloat", a, 0)?.as_f64())
));
value_fn!(q_is_integer, |a: &[Value]| Ok::<_, ExecutionError>(
    Value::Bool(q("isInteger", a, 0)?.is_integer())
));
value_fn!(q_sign, |a: &[Value]| Ok::<_, ExecutionError>(Value::Int(
    q("sign", a, 0)?.sign()
)));
