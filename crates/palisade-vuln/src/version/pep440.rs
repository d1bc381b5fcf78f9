//! PEP 440 (PyPI), as `packaging.version.Version` parses and orders it:
//! epochs, release segments with trailing zeros ignored, pre-releases
//! (`a`/`b`/`rc` and their alternate spellings), post-releases (including
//! the implicit `-N`), dev releases and local versions.
#![deny(clippy::indexing_slicing)]

use std::cmp::Ordering;

use super::cmp_digits;

/// A parsed PEP 440 version.
#[derive(Debug, Clone)]
pub struct Pep440 {
    epoch: String,
    release: Vec<String>,
    pre: Option<(u8, String)>,
    post: Option<String>,
    dev: Option<String>,
    local: Option<Vec<LocalSeg>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LocalSeg {
    Num(String),
    Alpha(String),
}

impl Ord for LocalSeg {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (LocalSeg::Num(a), LocalSeg::Num(b)) => cmp_digits(a, b),
            // packaging: string segments sort before numeric ones.
            (LocalSeg::Alpha(_), LocalSeg::Num(_)) => Ordering::Less,
            (LocalSeg::Num(_), LocalSeg::Alpha(_)) => Ordering::Greater,
            (LocalSeg::Alpha(a), LocalSeg::Alpha(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for LocalSeg {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }
    fn digits(&mut self) -> Option<String> {
        let rest = self.rest();
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        self.pos += n;
        rest.get(..n).map(str::to_owned)
    }
    fn eat(&mut self, word: &str) -> bool {
        if self.rest().starts_with(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }
    fn eat_sep(&mut self) -> bool {
        self.eat("-") || self.eat("_") || self.eat(".")
    }
    /// `[-_.]? digits?` after a label, taking the separator only when
    /// digits follow it (the greedy regex match).
    fn label_number(&mut self) -> Option<String> {
        let save = self.pos;
        if self.eat_sep() {
            if let Some(d) = self.digits() {
                return Some(d);
            }
            self.pos = save;
            return None;
        }
        self.digits()
    }
}

const PRE_LABELS: [(&str, u8); 8] = [
    ("alpha", 0),
    ("a", 0),
    ("beta", 1),
    ("b", 1),
    ("preview", 2),
    ("pre", 2),
    ("c", 2),
    ("rc", 2),
];

impl Pep440 {
    pub fn parse(input: &str) -> Result<Pep440, &'static str> {
        let lower = input.trim().to_ascii_lowercase();
        let mut c = Cursor { s: &lower, pos: 0 };
        c.eat("v");
        // Epoch: digits followed by `!`.
        let save = c.pos;
        let mut epoch = "0".to_owned();
        if let Some(d) = c.digits() {
            if c.eat("!") {
                epoch = d;
            } else {
                c.pos = save;
            }
        }
        let mut release = vec![c.digits().ok_or("expected a release number")?];
        loop {
            let save = c.pos;
            if c.eat(".")
                && let Some(d) = c.digits()
            {
                release.push(d);
                continue;
            }
            c.pos = save;
            break;
        }
        // Pre-release.
        let mut pre = None;
        let save = c.pos;
        c.eat_sep();
        let label = PRE_LABELS.iter().find(|(l, _)| c.rest().starts_with(l));
        match label {
            Some((l, rank)) => {
                c.pos += l.len();
                let n = c.label_number().unwrap_or_else(|| "0".to_owned());
                pre = Some((*rank, n));
            }
            None => c.pos = save,
        }
        // Post-release: `-N`, or `[-_.]?(post|rev|r)[-_.]?N?`.
        let mut post = None;
        let save = c.pos;
        if c.eat("-")
            && let Some(d) = c.digits()
        {
            post = Some(d);
        } else {
            c.pos = save;
            c.eat_sep();
            if c.eat("post") || c.eat("rev") || c.eat("r") {
                post = Some(c.label_number().unwrap_or_else(|| "0".to_owned()));
            } else {
                c.pos = save;
            }
        }
        // Dev release.
        let mut dev = None;
        let save = c.pos;
        c.eat_sep();
        if c.eat("dev") {
            dev = Some(c.label_number().unwrap_or_else(|| "0".to_owned()));
        } else {
            c.pos = save;
        }
        // Local version.
        let mut local = None;
        if c.eat("+") {
            let text = c.rest();
            let segs: Vec<&str> = text.split(['-', '_', '.']).collect();
            if segs
                .iter()
                .any(|s| s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric()))
            {
                return Err("bad local version label");
            }
            local = Some(
                segs.iter()
                    .map(|s| {
                        if s.bytes().all(|b| b.is_ascii_digit()) {
                            LocalSeg::Num((*s).to_owned())
                        } else {
                            LocalSeg::Alpha((*s).to_owned())
                        }
                    })
                    .collect(),
            );
            c.pos = lower.len();
        }
        if !c.rest().is_empty() {
            return Err("unexpected characters");
        }
        while release.len() > 1 && release.last().is_some_and(|r| r.bytes().all(|b| b == b'0')) {
            release.pop();
        }
        Ok(Pep440 {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }
}

/// An ordering key part with the infinities `packaging` uses.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Key<T> {
    NegInf,
    Val(T),
    PosInf,
}

struct Digits<'a>(&'a str);

impl PartialEq for Digits<'_> {
    fn eq(&self, o: &Self) -> bool {
        cmp_digits(self.0, o.0) == Ordering::Equal
    }
}
impl Eq for Digits<'_> {}
impl PartialOrd for Digits<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Digits<'_> {
    fn cmp(&self, o: &Self) -> Ordering {
        cmp_digits(self.0, o.0)
    }
}

impl Pep440 {
    fn pre_key(&self) -> Key<(u8, Digits<'_>)> {
        match (&self.pre, &self.post, &self.dev) {
            (None, None, Some(_)) => Key::NegInf,
            (None, _, _) => Key::PosInf,
            (Some((l, n)), _, _) => Key::Val((*l, Digits(n))),
        }
    }
    fn post_key(&self) -> Key<Digits<'_>> {
        self.post
            .as_deref()
            .map_or(Key::NegInf, |p| Key::Val(Digits(p)))
    }
    fn dev_key(&self) -> Key<Digits<'_>> {
        self.dev
            .as_deref()
            .map_or(Key::PosInf, |d| Key::Val(Digits(d)))
    }
    fn local_key(&self) -> Key<&[LocalSeg]> {
        self.local.as_deref().map_or(Key::NegInf, Key::Val)
    }
}

impl Ord for Pep440 {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_digits(&self.epoch, &other.epoch)
            .then_with(|| {
                let a: Vec<Digits<'_>> = self.release.iter().map(|r| Digits(r)).collect();
                let b: Vec<Digits<'_>> = other.release.iter().map(|r| Digits(r)).collect();
                a.cmp(&b)
            })
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            .then_with(|| self.post_key().cmp(&other.post_key()))
            .then_with(|| self.dev_key().cmp(&other.dev_key()))
            .then_with(|| self.local_key().cmp(&other.local_key()))
    }
}

impl PartialOrd for Pep440 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Pep440 {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pep440 {}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, table};
    use proptest::prelude::*;

    #[test]
    fn packaging_table() {
        table::check(
            Scheme::Pep440,
            include_str!("../../tests/fixtures/versions/pep440.txt"),
        );
    }

    proptest! {
        #[test]
        fn pep440_is_a_total_order(
            a in "([0-2]!)?[0-2](\\.[0-2]){0,2}((a|b|rc|c|alpha)[0-2]?)?(\\.post[0-2]|-[0-2])?(\\.dev[0-2]?)?(\\+[a-c0-2](\\.[a-c0-2])?)?",
            b in "([0-2]!)?[0-2](\\.[0-2]){0,2}((a|b|rc|c|alpha)[0-2]?)?(\\.post[0-2]|-[0-2])?(\\.dev[0-2]?)?(\\+[a-c0-2](\\.[a-c0-2])?)?",
            c in "([0-2]!)?[0-2](\\.[0-2]){0,2}((a|b|rc|c|alpha)[0-2]?)?(\\.post[0-2]|-[0-2])?(\\.dev[0-2]?)?(\\+[a-c0-2](\\.[a-c0-2])?)?",
        ) {
            table::assert_total_order(Scheme::Pep440, &a, &b, &c);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Scheme::Pep440.compare(&s, "1.0");
        }
    }
}
