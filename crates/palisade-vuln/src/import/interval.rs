//! Version sets as unions of intervals, for converting native range
//! languages (npm ranges, RubyGems requirements) into OSV events: parse
//! into intervals, take unions, intersections and complements with the
//! ecosystem's ordering, then write one OSV range per interval.

use std::cmp::Ordering;

use crate::advisory::{Event, Range, RangeKind};
use crate::version::{Incomparable, Scheme, Version};

/// An interval end.
#[derive(Debug, Clone)]
pub struct Bound {
    pub text: String,
    pub version: Version,
    pub inclusive: bool,
}

/// `lo..hi` with open ends as `None`.
#[derive(Debug, Clone)]
pub struct Interval {
    pub lo: Option<Bound>,
    pub hi: Option<Bound>,
}

/// A union of intervals over one scheme.
#[derive(Debug, Clone)]
pub struct VersionSet {
    pub scheme: Scheme,
    pub intervals: Vec<Interval>,
}

fn cmp_lo(a: &Option<Bound>, b: &Option<Bound>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x
            .version
            .cmp(&y.version)
            .then_with(|| y.inclusive.cmp(&x.inclusive)),
    }
}

fn cmp_hi(a: &Option<Bound>, b: &Option<Bound>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x
            .version
            .cmp(&y.version)
            .then_with(|| x.inclusive.cmp(&y.inclusive)),
    }
}

impl Interval {
    fn is_empty(&self) -> bool {
        match (&self.lo, &self.hi) {
            (Some(l), Some(h)) => match l.version.cmp(&h.version) {
                Ordering::Greater => true,
                Ordering::Equal => !(l.inclusive && h.inclusive),
                Ordering::Less => false,
            },
            _ => false,
        }
    }

    /// Whether `self` reaches or touches `next` (which starts no earlier).
    fn touches(&self, next: &Interval) -> bool {
        match (&self.hi, &next.lo) {
            (None, _) | (_, None) => true,
            (Some(h), Some(l)) => match h.version.cmp(&l.version) {
                Ordering::Greater => true,
                Ordering::Equal => h.inclusive || l.inclusive,
                Ordering::Less => false,
            },
        }
    }
}

impl VersionSet {
    pub fn empty(scheme: Scheme) -> VersionSet {
        VersionSet {
            scheme,
            intervals: Vec::new(),
        }
    }

    pub fn all(scheme: Scheme) -> VersionSet {
        VersionSet {
            scheme,
            intervals: vec![Interval { lo: None, hi: None }],
        }
    }

    pub fn bound(&self, text: &str, inclusive: bool) -> Result<Bound, Incomparable> {
        Ok(Bound {
            text: text.to_owned(),
            version: self.scheme.parse(text)?,
            inclusive,
        })
    }

    pub fn single(scheme: Scheme, lo: Option<Bound>, hi: Option<Bound>) -> VersionSet {
        let mut s = VersionSet {
            scheme,
            intervals: vec![Interval { lo, hi }],
        };
        s.normalize();
        s
    }

    /// Sorts and merges overlapping or touching intervals; drops empty ones.
    pub fn normalize(&mut self) {
        let mut v: Vec<Interval> = std::mem::take(&mut self.intervals)
            .into_iter()
            .filter(|i| !i.is_empty())
            .collect();
        v.sort_by(|a, b| cmp_lo(&a.lo, &b.lo));
        let mut out: Vec<Interval> = Vec::with_capacity(v.len());
        for i in v {
            match out.last_mut() {
                Some(last) if last.touches(&i) => {
                    if cmp_hi(&i.hi, &last.hi) == Ordering::Greater {
                        last.hi = i.hi;
                    }
                }
                _ => out.push(i),
            }
        }
        self.intervals = out;
    }

    pub fn union(mut self, other: VersionSet) -> VersionSet {
        self.intervals.extend(other.intervals);
        self.normalize();
        self
    }

    pub fn intersect(&self, other: &VersionSet) -> VersionSet {
        let mut out = Vec::new();
        for a in &self.intervals {
            for b in &other.intervals {
                let lo = if cmp_lo(&a.lo, &b.lo) == Ordering::Less {
                    b.lo.clone()
                } else {
                    a.lo.clone()
                };
                let hi = if cmp_hi(&a.hi, &b.hi) == Ordering::Greater {
                    b.hi.clone()
                } else {
                    a.hi.clone()
                };
                out.push(Interval { lo, hi });
            }
        }
        let mut s = VersionSet {
            scheme: self.scheme,
            intervals: out,
        };
        s.normalize();
        s
    }

    pub fn complement(&self) -> VersionSet {
        let mut out = Vec::new();
        let mut start: Option<Bound> = None;
        let mut open_start = true;
        for i in &self.intervals {
            if let Some(lo) = &i.lo {
                let hi = Bound {
                    inclusive: !lo.inclusive,
                    ..lo.clone()
                };
                out.push(Interval {
                    lo: if open_start { None } else { start.clone() },
                    hi: Some(hi),
                });
            }
            match &i.hi {
                None => {
                    let mut s = VersionSet {
                        scheme: self.scheme,
                        intervals: out,
                    };
                    s.normalize();
                    return s;
                }
                Some(h) => {
                    start = Some(Bound {
                        inclusive: !h.inclusive,
                        ..h.clone()
                    });
                    open_start = false;
                }
            }
        }
        out.push(Interval {
            lo: if open_start { None } else { start },
            hi: None,
        });
        let mut s = VersionSet {
            scheme: self.scheme,
            intervals: out,
        };
        s.normalize();
        s
    }

    /// One OSV range per interval (an exact version becomes an entry of
    /// `versions` instead).
    /// `self` (the vulnerable versions) with each interval that ends at an
    /// inclusive `X` closed by the first version `patched` starts at above
    /// `X`, as an exclusive end: `<=1.5.1` with patched `>=1.5.2` becomes
    /// `<1.5.2`, so the advisory names its fix (OSV's `fixed`, as GHSA
    /// writes `first_patched_version`). Only when that version is below the
    /// next vulnerable interval; what lies between `X` and the fix (a
    /// prerelease of it) is then reported too, the safe side.
    pub fn closed_by(&self, patched: &VersionSet) -> VersionSet {
        let mut out = self.clone();
        let starts: Vec<&Bound> = patched
            .intervals
            .iter()
            .filter_map(|i| i.lo.as_ref().filter(|b| b.inclusive))
            .collect();
        let next_lo: Vec<Option<Version>> = out
            .intervals
            .iter()
            .skip(1)
            .map(|i| i.lo.as_ref().map(|b| b.version.clone()))
            .chain(std::iter::once(None))
            .collect();
        for (interval, next) in out.intervals.iter_mut().zip(next_lo) {
            let Some(hi) = interval.hi.as_ref().filter(|h| h.inclusive) else {
                continue;
            };
            let fix = starts
                .iter()
                .filter(|b| b.version > hi.version)
                .filter(|b| next.as_ref().is_none_or(|n| b.version < *n))
                .min_by(|a, b| a.version.cmp(&b.version));
            if let Some(fix) = fix {
                interval.hi = Some(Bound {
                    inclusive: false,
                    ..(*fix).clone()
                });
            }
        }
        out
    }

    pub fn to_osv(&self) -> (Vec<Range>, Vec<String>) {
        let mut ranges = Vec::new();
        let mut versions = Vec::new();
        for i in &self.intervals {
            if let (Some(l), Some(h)) = (&i.lo, &i.hi)
                && l.inclusive
                && h.inclusive
                && l.version == h.version
            {
                versions.push(l.text.clone());
                continue;
            }
            let mut events = vec![match &i.lo {
                None => Event::Introduced("0".into()),
                Some(b) if b.inclusive => Event::Introduced(b.text.clone()),
                Some(b) => Event::IntroducedAfter(b.text.clone()),
            }];
            match &i.hi {
                None => {}
                Some(b) if b.inclusive => events.push(Event::LastAffected(b.text.clone())),
                Some(b) => events.push(Event::Fixed(b.text.clone())),
            }
            ranges.push(Range {
                kind: RangeKind::Ecosystem,
                events,
            });
        }
        (ranges, versions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &VersionSet, v: &str, inc: bool) -> Option<Bound> {
        Some(s.bound(v, inc).unwrap())
    }

    #[test]
    fn complement_of_patched_ranges() {
        let e = VersionSet::empty(Scheme::RubyGems);
        // patched: ~> 1.1.3 (>= 1.1.3, < 1.2), >= 1.4.0
        let p1 = VersionSet::single(Scheme::RubyGems, b(&e, "1.1.3", true), b(&e, "1.2", false));
        let p2 = VersionSet::single(Scheme::RubyGems, b(&e, "1.4.0", true), None);
        let vuln = p1.union(p2).complement();
        let (ranges, versions) = vuln.to_osv();
        assert!(versions.is_empty());
        assert_eq!(
            ranges[0].events,
            vec![Event::Introduced("0".into()), Event::Fixed("1.1.3".into())]
        );
        assert_eq!(
            ranges[1].events,
            vec![
                Event::Introduced("1.2".into()),
                Event::Fixed("1.4.0".into())
            ]
        );
        assert_eq!(ranges.len(), 2);
    }

    #[test]
    fn exclusive_bounds_and_exact_versions() {
        let e = VersionSet::empty(Scheme::SemVer);
        let gt = VersionSet::single(
            Scheme::SemVer,
            b(&e, "2.51.0", false),
            b(&e, "2.67.0", true),
        );
        let (r, _) = gt.to_osv();
        assert_eq!(
            r[0].events,
            vec![
                Event::IntroducedAfter("2.51.0".into()),
                Event::LastAffected("2.67.0".into())
            ]
        );
        let exact = VersionSet::single(Scheme::SemVer, b(&e, "1.0.0", true), b(&e, "1.0.0", true));
        assert_eq!(exact.to_osv().1, vec!["1.0.0".to_string()]);
        // Complement of everything is nothing, of nothing is everything.
        assert!(
            VersionSet::all(Scheme::SemVer)
                .complement()
                .intervals
                .is_empty()
        );
        assert_eq!(
            VersionSet::empty(Scheme::SemVer)
                .complement()
                .intervals
                .len(),
            1
        );
        // Touching intervals merge: [1,2) + [2,3) = [1,3)
        let a = VersionSet::single(Scheme::SemVer, b(&e, "1.0.0", true), b(&e, "2.0.0", false));
        let c = VersionSet::single(Scheme::SemVer, b(&e, "2.0.0", true), b(&e, "3.0.0", false));
        assert_eq!(a.union(c).intervals.len(), 1);
    }
}
