//! SemVer 2.0 precedence as node-semver's `compare` implements it (build
//! metadata ignored), and Go module versions on top of it.
#![deny(clippy::indexing_slicing)]

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    Num(String),
    Alpha(String),
}

impl Ord for Ident {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ident::Num(a), Ident::Num(b)) => cmp_digits(a, b),
            (Ident::Num(_), Ident::Alpha(_)) => Ordering::Less,
            (Ident::Alpha(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Alpha(a), Ident::Alpha(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Ident {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed SemVer version (build metadata dropped: it has no precedence).
#[derive(Debug, Clone)]
pub struct SemVer {
    core: [String; 3],
    pre: Vec<Ident>,
}

impl PartialEq for SemVer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemVer {}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.core.iter().zip(other.core.iter()) {
            match cmp_digits(a, b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => self.pre.cmp(&other.pre),
        }
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn numeric(s: &str) -> Result<String, &'static str> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("major, minor and patch must be numbers");
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err("numbers must not have leading zeros");
    }
    // node-semver rejects parts above Number.MAX_SAFE_INTEGER.
    if s.len() > 16 || s.parse::<u64>().map_or(true, |n| n > 9_007_199_254_740_991) {
        return Err("number too large");
    }
    Ok(s.to_owned())
}

fn identifiers(s: &str, numeric_rules: bool) -> Result<Vec<Ident>, &'static str> {
    s.split('.')
        .map(|id| {
            if id.is_empty() {
                return Err("empty identifier");
            }
            if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err("identifiers may hold only [0-9A-Za-z-]");
            }
            if id.bytes().all(|b| b.is_ascii_digit()) {
                if numeric_rules && id.len() > 1 && id.starts_with('0') {
                    return Err("numeric identifiers must not have leading zeros");
                }
                Ok(Ident::Num(id.to_owned()))
            } else {
                Ok(Ident::Alpha(id.to_owned()))
            }
        })
        .collect()
}

impl SemVer {
    /// Strict SemVer, with node-semver's tolerance of a leading `v` and
    /// surrounding whitespace.
    pub fn parse(input: &str) -> Result<SemVer, &'static str> {
        let s = input.trim();
        let s = s.strip_prefix('v').unwrap_or(s);
        Self::parse_core(s, 3)
    }

    fn parse_core(s: &str, required: usize) -> Result<SemVer, &'static str> {
        if s.is_empty() {
            return Err("empty version");
        }
        let (s, build) = match s.split_once('+') {
            Some((v, b)) => (v, Some(b)),
            None => (s, None),
        };
        if let Some(b) = build {
            identifiers(b, false)?;
        }
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, identifiers(p, true)?),
            None => (s, Vec::new()),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 3 || parts.len() < required {
            return Err("expected MAJOR.MINOR.PATCH");
        }
        let mut out: [String; 3] = Default::default();
        for (slot, p) in out.iter_mut().zip(parts.iter()) {
            *slot = numeric(p)?;
        }
        for slot in out.iter_mut().skip(parts.len()) {
            *slot = "0".to_owned();
        }
        Ok(SemVer { core: out, pre })
    }

    /// Go module versions, as golang.org/x/mod/semver orders them: `v`
    /// optional (OSV writes Go versions without it), shorthand `v1` and
    /// `v1.2` (no prerelease allowed on shorthands), `+incompatible` and
    /// other build metadata ignored; pseudo-versions are prereleases.
    /// Go toolchain versions (`go1.21.3`, `go1.21rc1`) map onto SemVer as
    /// `1.21.3`, `1.21.0-rc.1`.
    pub fn parse_go(input: &str) -> Result<SemVer, &'static str> {
        let s = input.trim();
        if let Some(rest) = s.strip_prefix("go") {
            return Self::parse_go_toolchain(rest);
        }
        let s = s.strip_prefix('v').unwrap_or(s);
        let core_len = s
            .split(['-', '+'])
            .next()
            .map_or(0, |c| c.split('.').count());
        if core_len < 3 && s.contains(['-', '+']) {
            return Err("shorthand versions cannot have a prerelease or build");
        }
        Self::parse_core(s, 1)
    }

    fn parse_go_toolchain(s: &str) -> Result<SemVer, &'static str> {
        // go1.21rc1, go1.21.0, go1.9beta2
        let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
        let (num, pre) = s.split_at(split);
        let mut v = Self::parse_core(num, 2)?;
        if !pre.is_empty() {
            let digits = pre.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            let word = pre.get(..pre.len() - digits.len()).unwrap_or("");
            if word.is_empty() || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err("bad Go toolchain prerelease");
            }
            v.pre = vec![Ident::Alpha(word.to_owned()), Ident::Num(digits.to_owned())];
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, table};
    use proptest::prelude::*;
    use std::cmp::Ordering;

    #[test]
    fn node_semver_table() {
        table::check(
            Scheme::SemVer,
            include_str!("../../tests/fixtures/versions/semver.txt"),
        );
    }

    #[test]
    fn go_versions() {
        let go = Scheme::Go;
        let cmp = |a, b| go.compare(a, b).unwrap();
        assert_eq!(cmp("v1.2.3", "1.2.3"), Ordering::Equal);
        assert_eq!(cmp("v2.0.0+incompatible", "2.0.0"), Ordering::Equal);
        assert_eq!(cmp("v1.2", "v1.2.0"), Ordering::Equal);
        assert_eq!(cmp("v1", "v1.0.0"), Ordering::Equal);
        // Pseudo-versions sort before the release they precede and after
        // the tag they are based on.
        assert_eq!(
            cmp("v0.0.0-20191109021931-daa7c04131f5", "v0.0.1"),
            Ordering::Less
        );
        assert_eq!(
            cmp("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3"),
            Ordering::Greater
        );
        assert_eq!(
            cmp("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4"),
            Ordering::Less
        );
        assert_eq!(
            cmp(
                "v1.2.4-0.20191109021931-daa7c04131f5",
                "v1.2.4-0.20200101000000-aaaaaaaaaaaa"
            ),
            Ordering::Less
        );
        assert_eq!(cmp("go1.21rc1", "1.21.0"), Ordering::Less);
        assert_eq!(cmp("go1.21.3", "1.21.3"), Ordering::Equal);
        assert_eq!(cmp("go1.20", "1.20.0"), Ordering::Equal);
        assert!(go.compare("v1.2-pre", "1.2.0").is_err());
        assert!(go.compare("latest", "1.2.0").is_err());
        assert!(go.compare("v1.2.3.4", "1.2.0").is_err());
    }

    proptest! {
        #[test]
        fn semver_is_a_total_order(
            a in "v?[0-2]\\.[0-2]\\.[0-2](-(alpha|beta|[0-9]|rc\\.[0-9]|[a-z]\\.[0-3]))?(\\+b[0-9])?",
            b in "v?[0-2]\\.[0-2]\\.[0-2](-(alpha|beta|[0-9]|rc\\.[0-9]|[a-z]\\.[0-3]))?(\\+b[0-9])?",
            c in "v?[0-2]\\.[0-2]\\.[0-2](-(alpha|beta|[0-9]|rc\\.[0-9]|[a-z]\\.[0-3]))?(\\+b[0-9])?",
        ) {
            table::assert_total_order(Scheme::SemVer, &a, &b, &c);
            table::assert_total_order(Scheme::Go, &a, &b, &c);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Scheme::SemVer.compare(&s, "1.0.0");
            let _ = Scheme::Go.compare(&s, "1.0.0");
        }
    }
}
