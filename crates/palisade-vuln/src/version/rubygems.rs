//! RubyGems' `Gem::Version`: `-` means `.pre.`, segments are digit runs
//! and letter runs, trailing zeros of the numeric and of the prerelease
//! part are dropped (`canonical_segments`), a letter segment sorts before
//! a number (so any prerelease sorts before its release).
#![deny(clippy::indexing_slicing)]

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Num(String),
    Str(String),
}

/// A parsed gem version.
#[derive(Debug, Clone)]
pub struct Gem {
    canonical: Vec<Seg>,
}

fn is_zero(s: &Seg) -> bool {
    matches!(s, Seg::Num(d) if d.is_empty())
}

impl Gem {
    /// Accepts what `Gem::Version.correct?` accepts:
    /// `\A\s*([0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*\z`
    /// (an empty string is version `0`).
    pub fn parse(input: &str) -> Result<Gem, &'static str> {
        let s = input.trim();
        let s = if s.is_empty() { "0" } else { s };
        let (main, pre) = match s.split_once('-') {
            Some((m, p)) => (m, Some(p)),
            None => (s, None),
        };
        let mut parts = main.split('.');
        let first = parts.next().unwrap_or("");
        if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must start with a number");
        }
        for p in parts {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err("segments hold only letters and digits");
            }
        }
        if let Some(p) = pre {
            for id in p.split('.') {
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    return Err("bad prerelease segment");
                }
            }
        }
        let text = s.replace('-', ".pre.");
        // `scan(/[0-9]+|[a-z]+/i)`
        let mut segs = Vec::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while let Some(&c) = bytes.get(i) {
            if c.is_ascii_digit() || c.is_ascii_alphabetic() {
                let digit = c.is_ascii_digit();
                let start = i;
                while bytes.get(i).is_some_and(|b| {
                    if digit {
                        b.is_ascii_digit()
                    } else {
                        b.is_ascii_alphabetic()
                    }
                }) {
                    i += 1;
                }
                let run = text.get(start..i).unwrap_or("");
                segs.push(if digit {
                    Seg::Num(run.trim_start_matches('0').to_owned())
                } else {
                    Seg::Str(run.to_owned())
                });
            } else {
                i += 1;
            }
        }
        // canonical_segments: split at the first string, drop trailing
        // zeros from both halves, join.
        let split = segs
            .iter()
            .position(|s| matches!(s, Seg::Str(_)))
            .unwrap_or(segs.len());
        let string_part = segs.split_off(split);
        let mut numeric = segs;
        while numeric.last().is_some_and(is_zero) {
            numeric.pop();
        }
        let mut string_part = string_part;
        while string_part.last().is_some_and(is_zero) {
            string_part.pop();
        }
        numeric.extend(string_part);
        Ok(Gem { canonical: numeric })
    }
}

impl Ord for Gem {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Seg::Num(String::new());
        let n = self.canonical.len().max(other.canonical.len());
        for i in 0..n {
            let l = self.canonical.get(i).unwrap_or(&zero);
            let r = other.canonical.get(i).unwrap_or(&zero);
            let o = match (l, r) {
                (Seg::Num(a), Seg::Num(b)) => cmp_digits(a, b),
                (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
                (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
                (Seg::Str(a), Seg::Str(b)) => a.cmp(b),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for Gem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Gem {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Gem {}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, table};
    use proptest::prelude::*;

    #[test]
    fn gem_version_table() {
        table::check(
            Scheme::RubyGems,
            include_str!("../../tests/fixtures/versions/rubygems.txt"),
        );
    }

    proptest! {
        #[test]
        fn rubygems_is_a_total_order(
            a in "[0-2](\\.[0-2a-c]){0,3}(-[a-c0-2]{1,2})?",
            b in "[0-2](\\.[0-2a-c]){0,3}(-[a-c0-2]{1,2})?",
            c in "[0-2](\\.[0-2a-c]){0,3}(-[a-c0-2]{1,2})?",
        ) {
            table::assert_total_order(Scheme::RubyGems, &a, &b, &c);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Scheme::RubyGems.compare(&s, "1.0");
        }
    }
}
