//! Composer (Packagist) ordering: `VersionParser::normalize` (four numeric
//! parts, `v` prefix and build metadata dropped, stability suffixes
//! expanded: `a`→`alpha`, `b`→`beta`, `p`/`pl`→`patch`, `rc`→`RC`)
//! followed by PHP's `version_compare` on the normalised strings
//! (`dev < alpha < beta < RC < number < patch`). Branch versions
//! (`dev-main`, `1.x-dev`) have no order and cannot be compared.
#![deny(clippy::indexing_slicing)]

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone)]
pub struct Composer {
    normalized: String,
}

fn expand_stability(s: &str) -> &'static str {
    match s.to_ascii_lowercase().as_str() {
        "a" | "alpha" => "alpha",
        "b" | "beta" => "beta",
        "p" | "pl" | "patch" => "patch",
        "rc" => "RC",
        "dev" => "dev",
        _ => "stable",
    }
}

impl Composer {
    pub fn parse(input: &str) -> Result<Composer, &'static str> {
        let mut s = input.trim();
        if let Some((v, build)) = s.split_once('+') {
            if build.is_empty() || build.contains(char::is_whitespace) {
                return Err("bad build metadata");
            }
            s = v;
        }
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("dev-") || lower.ends_with(".x-dev") || lower.contains(".x") {
            return Err("branch versions have no order");
        }
        let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
        let bytes = s.as_bytes();
        // Up to four dot-separated numbers.
        let mut nums: Vec<String> = Vec::new();
        let mut i = 0;
        loop {
            let start = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return Err("expected a number");
            }
            nums.push(s.get(start..i).unwrap_or("0").to_owned());
            if nums.len() < 4
                && bytes.get(i) == Some(&b'.')
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            {
                i += 1;
                continue;
            }
            break;
        }
        while nums.len() < 4 {
            nums.push("0".to_owned());
        }
        let mut normalized = nums.join(".");
        // Modifier: [._-]?(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?([.-]?dev)?
        let mut rest = s.get(i..).unwrap_or("");
        if !rest.is_empty() {
            rest = rest.strip_prefix(['.', '_', '-']).unwrap_or(rest);
            let lower_rest = rest.to_ascii_lowercase();
            let word_len = lower_rest
                .bytes()
                .take_while(u8::is_ascii_alphabetic)
                .count();
            let word = lower_rest.get(..word_len).unwrap_or("");
            let known = [
                "stable", "beta", "b", "rc", "alpha", "a", "patch", "pl", "p", "dev",
            ];
            if !known.contains(&word) {
                return Err("unknown stability suffix");
            }
            let mut tail = lower_rest.get(word_len..).unwrap_or("");
            let mut number = String::new();
            while let Some(t) = tail
                .strip_prefix(['.', '-'])
                .filter(|t| t.starts_with(|c: char| c.is_ascii_digit()))
                .or_else(|| {
                    tail.starts_with(|c: char| c.is_ascii_digit())
                        .then_some(tail)
                })
            {
                let n = t.bytes().take_while(u8::is_ascii_digit).count();
                if !number.is_empty() {
                    number.push('.');
                }
                number.push_str(t.get(..n).unwrap_or(""));
                tail = t.get(n..).unwrap_or("");
            }
            let dev = match tail {
                "" => false,
                "dev" | ".dev" | "-dev" if word != "dev" => true,
                _ => return Err("unexpected characters after the stability suffix"),
            };
            let stability = expand_stability(word);
            if stability == "dev" {
                normalized.push_str("-dev");
            } else if stability != "stable" {
                normalized.push('-');
                normalized.push_str(stability);
                normalized.push_str(&number);
            }
            if dev {
                normalized.push_str("-dev");
            }
        }
        Ok(Composer { normalized })
    }
}

/// PHP's `php_canonicalize_version`.
fn canonicalize(v: &str) -> String {
    let mut out = String::with_capacity(v.len() * 2);
    let mut chars = v.chars();
    let Some(first) = chars.next() else {
        return out;
    };
    out.push(first);
    let mut lp = first;
    let isdig = |c: char| c.is_ascii_digit();
    let isndig = |c: char| !c.is_ascii_digit() && c != '.';
    for p in chars {
        let last_dot = out.ends_with('.');
        if matches!(p, '-' | '_' | '+') {
            if !last_dot {
                out.push('.');
            }
        } else if (isndig(lp) && isdig(p)) || (isdig(lp) && isndig(p)) {
            if !last_dot {
                out.push('.');
            }
            out.push(p);
        } else if !p.is_ascii_alphanumeric() {
            if !last_dot {
                out.push('.');
            }
        } else {
            out.push(p);
        }
        lp = p;
    }
    out
}

fn special_form(s: &str) -> i32 {
    const FORMS: [(&str, i32); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(name, _)| s.starts_with(name))
        .map_or(-1, |(_, o)| *o)
}

/// PHP's `version_compare` (without operator).
pub(crate) fn version_compare(a: &str, b: &str) -> Ordering {
    let ca = canonicalize(a);
    let cb = canonicalize(b);
    let pa: Vec<&str> = ca.split('.').collect();
    let pb: Vec<&str> = cb.split('.').collect();
    let is_num = |s: &str| s.starts_with(|c: char| c.is_ascii_digit());
    let n = pa.len().min(pb.len());
    for k in 0..n {
        let (x, y) = (
            pa.get(k).copied().unwrap_or(""),
            pb.get(k).copied().unwrap_or(""),
        );
        let o = match (is_num(x), is_num(y)) {
            (true, true) => cmp_digits(x, y),
            (false, false) => special_form(x).cmp(&special_form(y)),
            (true, false) => special_form("#N#").cmp(&special_form(y)),
            (false, true) => special_form(x).cmp(&special_form("#N#")),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    if let Some(x) = pa.get(n) {
        if is_num(x) {
            Ordering::Greater
        } else {
            special_form(x).cmp(&special_form("#N#"))
        }
    } else if let Some(y) = pb.get(n) {
        if is_num(y) {
            Ordering::Less
        } else {
            special_form("#N#").cmp(&special_form(y))
        }
    } else {
        Ordering::Equal
    }
}

impl Ord for Composer {
    fn cmp(&self, other: &Self) -> Ordering {
        version_compare(&self.normalized, &other.normalized)
    }
}

impl PartialOrd for Composer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Composer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Composer {}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, table};
    use proptest::prelude::*;

    #[test]
    fn composer_table() {
        table::check(
            Scheme::Packagist,
            include_str!("../../tests/fixtures/versions/packagist.txt"),
        );
    }

    proptest! {
        #[test]
        fn packagist_is_a_total_order(
            a in "v?[0-2](\\.[0-2]){0,3}(-(alpha|beta|RC|rc|a|b|p|pl|patch|dev)[0-2]?)?",
            b in "v?[0-2](\\.[0-2]){0,3}(-(alpha|beta|RC|rc|a|b|p|pl|patch|dev)[0-2]?)?",
            c in "v?[0-2](\\.[0-2]){0,3}(-(alpha|beta|RC|rc|a|b|p|pl|patch|dev)[0-2]?)?",
        ) {
            table::assert_total_order(Scheme::Packagist, &a, &b, &c);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Scheme::Packagist.compare(&s, "1.0");
        }
    }
}
