//! dpkg version ordering: `[epoch:]upstream[-revision]`, compared part by
//! part with dpkg's `verrevcmp` (`~` sorts before everything, even the end
//! of the string; letters before other characters; digit runs numerically).
#![deny(clippy::indexing_slicing)]

use std::cmp::Ordering;

use super::cmp_digits;

/// A parsed Debian version.
#[derive(Debug, Clone)]
pub struct Debian {
    epoch: String,
    upstream: String,
    revision: String,
}

impl Debian {
    /// Parses as dpkg's `parseversion` does; what dpkg rejects with an
    /// error (empty parts, bad epoch, spaces) is an error here too, and so
    /// are characters dpkg only warns about.
    pub fn parse(input: &str) -> Result<Debian, &'static str> {
        let s = input.trim();
        if s.is_empty() {
            return Err("empty version");
        }
        if s.contains(char::is_whitespace) {
            return Err("embedded spaces");
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((e, r)) => {
                if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("epoch is not a number");
                }
                if e.len() > 10 || e.parse::<u64>().map_or(true, |n| n > i32::MAX as u64) {
                    return Err("epoch is too big");
                }
                (e.to_owned(), r)
            }
            None => ("0".to_owned(), s),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) => {
                if r.is_empty() {
                    return Err("empty revision");
                }
                (u, r)
            }
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err("empty upstream version");
        }
        if !upstream.starts_with(|c: char| c.is_ascii_digit()) {
            return Err("upstream version does not start with a digit");
        }
        let ok_up = |b: u8| b.is_ascii_alphanumeric() || b".+~-:".contains(&b);
        let ok_rev = |b: u8| b.is_ascii_alphanumeric() || b".+~".contains(&b);
        if !upstream.bytes().all(ok_up) || !revision.bytes().all(ok_rev) {
            return Err("invalid character");
        }
        Ok(Debian {
            epoch,
            upstream: upstream.to_owned(),
            revision: revision.to_owned(),
        })
    }
}

/// dpkg's character weight for the non-digit parts.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`.
pub(crate) fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while a.get(i).is_some_and(|c| !c.is_ascii_digit())
            || b.get(j).is_some_and(|c| !c.is_ascii_digit())
        {
            let ac = order(a.get(i).copied().filter(|c| !c.is_ascii_digit()));
            let bc = order(b.get(j).copied().filter(|c| !c.is_ascii_digit()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            if a.get(i).is_some_and(|c| !c.is_ascii_digit()) {
                i += 1;
            }
            if b.get(j).is_some_and(|c| !c.is_ascii_digit()) {
                j += 1;
            }
        }
        let si = i;
        while a.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let sj = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        let da = std::str::from_utf8(a.get(si..i).unwrap_or(b"")).unwrap_or("");
        let db = std::str::from_utf8(b.get(sj..j).unwrap_or(b"")).unwrap_or("");
        match cmp_digits(da, db) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

impl Ord for Debian {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_digits(&self.epoch, &other.epoch)
            .then_with(|| verrevcmp(&self.upstream, &other.upstream))
            .then_with(|| verrevcmp(&self.revision, &other.revision))
    }
}

impl PartialOrd for Debian {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Debian {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Debian {}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, table};
    use proptest::prelude::*;

    #[test]
    fn dpkg_table() {
        table::check(
            Scheme::Debian,
            include_str!("../../tests/fixtures/versions/debian.txt"),
        );
    }

    proptest! {
        #[test]
        fn debian_is_a_total_order(
            a in "([0-2]:)?[0-9][0-9a-c.+~]{0,5}(-[0-9a-c.+~]{1,4})?",
            b in "([0-2]:)?[0-9][0-9a-c.+~]{0,5}(-[0-9a-c.+~]{1,4})?",
            c in "([0-2]:)?[0-9][0-9a-c.+~]{0,5}(-[0-9a-c.+~]{1,4})?",
        ) {
            table::assert_total_order(Scheme::Debian, &a, &b, &c);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Scheme::Debian.compare(&s, "1.0-1");
        }
    }
}
