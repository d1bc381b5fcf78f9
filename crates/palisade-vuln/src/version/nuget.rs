//! NuGet versions (`NuGetVersion` / `VersionComparer.Default`): one to four
//! numeric parts (missing ones are 0), SemVer 2.0 release labels compared
//! case-insensitively, build metadata ignored.
#![deny(clippy::indexing_slicing)]

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone)]
pub struct NuGet {
    parts: [String; 4],
    labels: Vec<String>,
}

impl NuGet {
    pub fn parse(input: &str) -> Result<NuGet, &'static str> {
        let s = input.trim();
        if s.is_empty() {
            return Err("empty version");
        }
        let s = s.split_once('+').map_or(s, |(v, _)| v);
        let (core, labels) = match s.split_once('-') {
            Some((c, l)) => (c, Some(l)),
            None => (s, None),
        };
        let nums: Vec<&str> = core.split('.').collect();
        if nums.is_empty() || nums.len() > 4 {
            return Err("expected one to four numeric parts");
        }
        let mut parts: [String; 4] = Default::default();
        for (slot, n) in parts.iter_mut().zip(nums.iter()) {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) || n.len() > 10 {
                return Err("numeric parts must be numbers");
            }
            *slot = n.trim_start_matches('0').to_owned();
        }
        let labels = match labels {
            None => Vec::new(),
            Some(l) => {
                let ids: Vec<String> = l.split('.').map(str::to_ascii_lowercase).collect();
                if ids.iter().any(|i| {
                    i.is_empty() || !i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                }) {
                    return Err("bad release label");
                }
                ids
            }
        };
        Ok(NuGet { parts, labels })
    }
}

fn cmp_label(a: &str, b: &str) -> Ordering {
    let an = a.bytes().all(|c| c.is_ascii_digit());
    let bn = b.bytes().all(|c| c.is_ascii_digit());
    match (an, bn) {
        (true, true) => cmp_digits(a, b),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

impl Ord for NuGet {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.parts.iter().zip(other.parts.iter()) {
            match cmp_digits(a, b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        match (self.labels.is_empty(), other.labels.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            (false, false) => {}
        }
        for (a, b) in self.labels.iter().zip(other.labels.iter()) {
            match cmp_label(a, b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        self.labels.len().cmp(&other.labels.len())
    }
}

impl PartialOrd for NuGet {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NuGet {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NuGet {}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, table};
    use proptest::prelude::*;

    #[test]
    fn nuget_table() {
        table::check(
            Scheme::NuGet,
            include_str!("../../tests/fixtures/versions/nuget.txt"),
        );
    }

    proptest! {
        #[test]
        fn nuget_is_a_total_order(
            a in "[0-2](\\.[0-2]){0,3}(-[a-cA-C0-2]{1,2}(\\.[a-c0-2])?)?",
            b in "[0-2](\\.[0-2]){0,3}(-[a-cA-C0-2]{1,2}(\\.[a-c0-2])?)?",
            c in "[0-2](\\.[0-2]){0,3}(-[a-cA-C0-2]{1,2}(\\.[a-c0-2])?)?",
        ) {
            table::assert_total_order(Scheme::NuGet, &a, &b, &c);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Scheme::NuGet.compare(&s, "1.0");
        }
    }
}
