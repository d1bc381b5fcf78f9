//! npm range expressions (`>=1.0.0 <1.2.3 || 2.0.x`, `^1.2`, `~0.8.0-pre`,
//! `1.2.3 - 2.3.4`, `*`) into version sets, following node-semver's
//! desugaring (`<=1.2` → `<1.3.0-0`, `>1.2` → `>=1.3.0`, x-ranges,
//! tilde and caret). node-semver's rule that prereleases only match
//! comparators of the same `major.minor.patch` is not kept: OSV ranges
//! have no such rule, and a prerelease inside a vulnerable span is treated
//! as vulnerable.

use super::interval::VersionSet;
use crate::version::Scheme;

/// A partial version: major, minor and patch each possibly missing (`x`).
#[derive(Debug, Clone)]
struct Partial {
    parts: [Option<u64>; 3],
    pre: String,
}

fn parse_partial(s: &str) -> Result<Partial, String> {
    let s = s.trim().trim_start_matches('=').trim_start_matches('v');
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, p.to_owned()),
        None => (s, String::new()),
    };
    let core = core.split_once('+').map_or(core, |(c, _)| c);
    let mut parts = [None; 3];
    let items: Vec<&str> = if core.is_empty() {
        Vec::new()
    } else {
        core.split('.').collect()
    };
    if items.len() > 3 {
        return Err(format!("`{s}` has more than three parts"));
    }
    let mut wild = false;
    for (slot, item) in parts.iter_mut().zip(items.iter()) {
        if matches!(*item, "x" | "X" | "*") {
            wild = true;
            continue;
        }
        if wild {
            return Err(format!("`{s}`: a number after a wildcard"));
        }
        *slot = Some(
            item.parse::<u64>()
                .map_err(|_| format!("`{s}` is not a version"))?,
        );
    }
    Ok(Partial { parts, pre })
}

fn fmt(m: u64, n: u64, p: u64, pre: &str) -> String {
    if pre.is_empty() {
        format!("{m}.{n}.{p}")
    } else {
        format!("{m}.{n}.{p}-{pre}")
    }
}

/// One comparator set (space-separated comparators, all must hold).
fn comparator_set(text: &str, scheme: Scheme) -> Result<VersionSet, String> {
    let e = |x: crate::version::Incomparable| x.to_string();
    let text = text.trim();
    let mut set = VersionSet::all(scheme);
    if text.is_empty() || text == "*" || text.eq_ignore_ascii_case("x") {
        return Ok(set);
    }
    // Hyphen range `A - B`.
    if let Some((a, b)) = text.split_once(" - ") {
        let lo = parse_partial(a)?;
        let hi = parse_partial(b)?;
        let lo_b = set
            .bound(
                &fmt(
                    lo.parts[0].unwrap_or(0),
                    lo.parts[1].unwrap_or(0),
                    lo.parts[2].unwrap_or(0),
                    &lo.pre,
                ),
                true,
            )
            .map_err(e)?;
        let hi_b = match hi.parts {
            [Some(m), Some(n), Some(p)] => set.bound(&fmt(m, n, p, &hi.pre), true).map_err(e)?,
            [Some(m), Some(n), None] => set.bound(&fmt(m, n + 1, 0, "0"), false).map_err(e)?,
            [Some(m), None, _] => set.bound(&fmt(m + 1, 0, 0, "0"), false).map_err(e)?,
            _ => return Ok(VersionSet::single(scheme, Some(lo_b), None)),
        };
        return Ok(VersionSet::single(scheme, Some(lo_b), Some(hi_b)));
    }
    // Glue operators to their versions: `>= 1.0` → `>=1.0`.
    let mut tokens: Vec<String> = Vec::new();
    let mut pending_op = String::new();
    for tok in text.split_whitespace() {
        if tok
            .chars()
            .all(|c| matches!(c, '<' | '>' | '=' | '~' | '^'))
        {
            pending_op.push_str(tok);
        } else {
            tokens.push(format!("{pending_op}{tok}"));
            pending_op.clear();
        }
    }
    if !pending_op.is_empty() {
        return Err(format!("operator `{pending_op}` without a version"));
    }
    for tok in tokens {
        let op_len = tok
            .chars()
            .take_while(|c| matches!(c, '<' | '>' | '=' | '~' | '^'))
            .count();
        let (op, ver) = tok.split_at(op_len);
        let p = parse_partial(ver)?;
        let [m, n, pa] = p.parts;
        let pre = p.pre.as_str();
        let b = |v: String, inc: bool| set.bound(&v, inc).map_err(e);
        let (lo, hi) = match (op, m, n, pa) {
            (_, None, _, _) if matches!(op, "" | "=" | ">=" | "<=" | "~" | "^") => (None, None),
            (">" | "<", None, _, _) => return Ok(VersionSet::empty(scheme)),
            ("" | "=", Some(m), Some(n), Some(pa)) => (
                Some(b(fmt(m, n, pa, pre), true)?),
                Some(b(fmt(m, n, pa, pre), true)?),
            ),
            ("" | "=", Some(m), Some(n), None) => (
                Some(b(fmt(m, n, 0, ""), true)?),
                Some(b(fmt(m, n + 1, 0, "0"), false)?),
            ),
            ("" | "=", Some(m), None, _) => (
                Some(b(fmt(m, 0, 0, ""), true)?),
                Some(b(fmt(m + 1, 0, 0, "0"), false)?),
            ),
            (">=", Some(m), n, pa) => (
                Some(b(fmt(m, n.unwrap_or(0), pa.unwrap_or(0), pre), true)?),
                None,
            ),
            (">", Some(m), Some(n), Some(pa)) => (Some(b(fmt(m, n, pa, pre), false)?), None),
            (">", Some(m), Some(n), None) => (Some(b(fmt(m, n + 1, 0, ""), true)?), None),
            (">", Some(m), None, _) => (Some(b(fmt(m + 1, 0, 0, ""), true)?), None),
            ("<", Some(m), Some(n), Some(pa)) => (None, Some(b(fmt(m, n, pa, pre), false)?)),
            ("<", Some(m), n, None) => (None, Some(b(fmt(m, n.unwrap_or(0), 0, "0"), false)?)),
            ("<", Some(m), None, Some(_)) => (None, Some(b(fmt(m, 0, 0, "0"), false)?)),
            ("<=", Some(m), Some(n), Some(pa)) => (None, Some(b(fmt(m, n, pa, pre), true)?)),
            ("<=", Some(m), Some(n), None) => (None, Some(b(fmt(m, n + 1, 0, "0"), false)?)),
            ("<=", Some(m), None, _) => (None, Some(b(fmt(m + 1, 0, 0, "0"), false)?)),
            ("~" | "~>", Some(m), n, pa) => {
                let lo = b(fmt(m, n.unwrap_or(0), pa.unwrap_or(0), pre), true)?;
                let hi = match n {
                    Some(n) => b(fmt(m, n + 1, 0, "0"), false)?,
                    None => b(fmt(m + 1, 0, 0, "0"), false)?,
                };
                (Some(lo), Some(hi))
            }
            ("^", Some(m), n, pa) => {
                let lo = b(fmt(m, n.unwrap_or(0), pa.unwrap_or(0), pre), true)?;
                let hi = match (m, n, pa) {
                    (0, Some(0), Some(p)) => b(fmt(0, 0, p + 1, "0"), false)?,
                    (0, Some(n), _) => b(fmt(0, n + 1, 0, "0"), false)?,
                    (m, _, _) => b(fmt(m + 1, 0, 0, "0"), false)?,
                };
                (Some(lo), Some(hi))
            }
            _ => return Err(format!("unsupported comparator `{tok}`")),
        };
        set = set.intersect(&VersionSet::single(scheme, lo, hi));
    }
    Ok(set)
}

/// Parses a whole npm range (`||`-separated comparator sets).
pub fn parse(range: &str) -> Result<VersionSet, String> {
    let scheme = Scheme::SemVer;
    let mut out = VersionSet::empty(scheme);
    for part in range.split("||") {
        out = out.union(comparator_set(part, scheme)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::Affected;
    use crate::matcher::{Verdict, evaluate};

    fn matches(range: &str, v: &str) -> bool {
        let set = parse(range).unwrap();
        let (ranges, versions) = set.to_osv();
        let a = Affected {
            ecosystem: "npm".into(),
            name: "x".into(),
            ranges,
            versions,
            severity: vec![],
            skipped: vec![],
            prepared: Default::default(),
        };
        matches!(evaluate(&a, v), Verdict::Affected { .. })
    }

    /// Expectations from node-semver's `satisfies` for release versions.
    #[test]
    fn node_semver_semantics() {
        let cases = [
            ("<=1.5.1", "1.5.1", true),
            ("<=1.5.1", "1.5.2", false),
            (">=1.0.0 <1.2.3 || 2.0.x", "2.0.9", true),
            (">=1.0.0 <1.2.3 || 2.0.x", "2.1.0", false),
            (">=1.0.0 <1.2.3 || 2.0.x", "1.2.2", true),
            (">=2.2.6 <2.47.0 || >2.51.0 <=2.67.0", "2.51.0", false),
            (">=2.2.6 <2.47.0 || >2.51.0 <=2.67.0", "2.51.1", true),
            (">=2.2.6 <2.47.0 || >2.51.0 <=2.67.0", "2.67.0", true),
            (">= 1.0.0 < 1.4.6 || 2.0.0", "2.0.0", true),
            (">= 1.0.0 < 1.4.6 || 2.0.0", "2.0.1", false),
            ("<3.11 || >= 4 <4.5", "3.10.9", true),
            ("<3.11 || >= 4 <4.5", "4.4.0", true),
            ("<3.11 || >= 4 <4.5", "4.5.0", false),
            ("<1.6.6 || < 2.2.4 > 2.0.0", "2.1.0", true),
            ("<1.6.6 || < 2.2.4 > 2.0.0", "2.0.0", false),
            ("*", "9.9.9", true),
            ("2.0.x || 2.1.x", "2.1.5", true),
            ("2.0.x || 2.1.x", "2.2.0", false),
            ("<5.0.3 >=5.0.0 || < 4.2.1", "4.2.0", true),
            ("<5.0.3 >=5.0.0 || < 4.2.1", "4.3.0", false),
            ("~1.2.3", "1.2.9", true),
            ("~1.2.3", "1.3.0", false),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("^1.2.3", "1.9.0", true),
            ("1.2.3 - 2.3", "2.3.9", true),
            ("1.2.3 - 2.3", "2.4.0", false),
            ("<=1.2", "1.2.9", true),
            ("<=1.2", "1.3.0", false),
            (">1.2", "1.2.9", false),
            (">1.2", "1.3.0", true),
            ("<0.0.0", "0.0.0", false),
        ];
        for (range, v, expected) in cases {
            assert_eq!(matches(range, v), expected, "{v} in {range}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "[<>=~^ |xX*0-9.a-z-]{0,40}") {
            if let Ok(set) = parse(&s) {
                let _ = set.to_osv();
                let _ = set.complement();
            }
        }
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(parse("not a range").is_err());
        assert!(parse(">=").is_err());
        assert!(parse("1.2.3.4").is_err());
    }
}
