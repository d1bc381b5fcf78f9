//! RPM ordering: `[epoch:]version[-release]` compared as rpm's `rpmverCmp`
//! does (epoch numerically, then version and release with `rpmvercmp`:
//! alphanumeric segments, `~` before everything, `^` after the base
//! version but before anything else).
#![deny(clippy::indexing_slicing)]

use std::cmp::Ordering;

use super::cmp_digits;

/// A parsed RPM EVR.
#[derive(Debug, Clone)]
pub struct Rpm {
    epoch: String,
    version: String,
    release: Option<String>,
}

impl Rpm {
    pub fn parse(input: &str) -> Result<Rpm, &'static str> {
        let s = input.trim();
        if s.is_empty() {
            return Err("empty version");
        }
        if s.contains(char::is_whitespace) {
            return Err("embedded spaces");
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((e, r)) => {
                if !e.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("epoch is not a number");
                }
                (if e.is_empty() { "0" } else { e }.to_owned(), r)
            }
            None => ("0".to_owned(), s),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, Some(r.to_owned())),
            None => (rest, None),
        };
        if version.is_empty() {
            return Err("empty version part");
        }
        Ok(Rpm {
            epoch,
            version: version.to_owned(),
            release,
        })
    }
}

/// rpm's `rpmvercmp`.
pub(crate) fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let sep = |c: &u8| !c.is_ascii_alphanumeric() && *c != b'~' && *c != b'^';
    loop {
        while a.get(i).is_some_and(sep) {
            i += 1;
        }
        while b.get(j).is_some_and(sep) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca.is_none() && cb.is_none() {
            return Ordering::Equal;
        }
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else {
            break;
        };
        let numeric = ca.is_ascii_digit();
        let class = |c: &u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let si = i;
        while a.get(i).is_some_and(class) {
            i += 1;
        }
        let sj = j;
        while b.get(j).is_some_and(class) {
            j += 1;
        }
        if sj == j {
            // Different segment types: numeric is newer than alpha.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let sa = std::str::from_utf8(a.get(si..i).unwrap_or(b"")).unwrap_or("");
        let sb = std::str::from_utf8(b.get(sj..j).unwrap_or(b"")).unwrap_or("");
        let o = if numeric {
            cmp_digits(sa, sb)
        } else {
            sa.cmp(sb)
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    match (a.get(i).is_some(), b.get(j).is_some()) {
        (false, false) => Ordering::Equal,
        (true, _) => Ordering::Greater,
        (false, true) => Ordering::Less,
    }
}

impl Ord for Rpm {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_digits(&self.epoch, &other.epoch)
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| match (&self.release, &other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                // rpm 4.18's `rpm.vercmp`: a missing release sorts first.
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (None, None) => Ordering::Equal,
            })
    }
}

impl PartialOrd for Rpm {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Rpm {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Rpm {}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, table};
    use proptest::prelude::*;

    #[test]
    fn rpm_table() {
        table::check(
            Scheme::Rpm,
            include_str!("../../tests/fixtures/versions/rpm.txt"),
        );
    }

    proptest! {
        #[test]
        fn rpm_is_a_total_order(
            a in "([0-2]:)?[0-9a-c][0-9a-c.~^_]{0,5}(-[0-9a-c.~^]{1,4})?",
            b in "([0-2]:)?[0-9a-c][0-9a-c.~^_]{0,5}(-[0-9a-c.~^]{1,4})?",
            c in "([0-2]:)?[0-9a-c][0-9a-c.~^_]{0,5}(-[0-9a-c.~^]{1,4})?",
        ) {
            table::assert_total_order(Scheme::Rpm, &a, &b, &c);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Scheme::Rpm.compare(&s, "1.0-1");
        }
    }
}
