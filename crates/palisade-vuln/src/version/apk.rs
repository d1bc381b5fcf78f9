//! Alpine apk ordering (Gentoo-style): `digit{.digit}[letter]{_suffix[N]}[-rN]`
//! with pre-release suffixes `_alpha < _beta < _pre < _rc` below the bare
//! version and `_cvs < _svn < _git < _hg < _p` above it. A token machine
//! with apk-tools' semantics, including its treatment of leading zeros
//! (`1.01 < 1.1`: a fractional-looking part).
#![deny(clippy::indexing_slicing)]

use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tok {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    RevisionNo,
    End,
}

impl Tok {
    /// apk's numeric token order (INVALID = -1 first).
    fn rank(self) -> i8 {
        match self {
            Tok::Invalid => -1,
            Tok::DigitOrZero => 0,
            Tok::Digit => 1,
            Tok::Letter => 2,
            Tok::Suffix => 3,
            Tok::SuffixNo => 4,
            Tok::RevisionNo => 5,
            Tok::End => 6,
        }
    }
}

const PRE: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

struct Lexer<'a> {
    s: &'a [u8],
    tok: Tok,
}

impl Lexer<'_> {
    fn next_token(&mut self) {
        let cur = self.tok;
        let mut n = Tok::Invalid;
        match self.s.first().copied() {
            None | Some(0) => n = Tok::End,
            Some(c) if matches!(cur, Tok::Digit | Tok::DigitOrZero) && c.is_ascii_lowercase() => {
                n = Tok::Letter;
            }
            Some(c) if cur == Tok::Letter && c.is_ascii_digit() => n = Tok::Digit,
            Some(c) if cur == Tok::Suffix && c.is_ascii_digit() => n = Tok::SuffixNo,
            Some(c) => {
                match c {
                    b'.' => n = Tok::DigitOrZero,
                    b'_' => n = Tok::Suffix,
                    b'-' if self.s.get(1) == Some(&b'r') => {
                        n = Tok::RevisionNo;
                        self.s = self.s.get(1..).unwrap_or(&[]);
                    }
                    _ => {}
                }
                self.s = self.s.get(1..).unwrap_or(&[]);
            }
        }
        if n.rank() < cur.rank()
            && !((n == Tok::DigitOrZero && cur == Tok::Digit)
                || (n == Tok::Suffix && cur == Tok::SuffixNo)
                || (n == Tok::Digit && cur == Tok::Letter))
        {
            n = Tok::Invalid;
        }
        self.tok = n;
    }

    /// Reads the value of the current token and moves to the next one.
    /// Values are i64 with saturation (apk uses a C int; long digit runs
    /// such as `_pre20191002222144` must still order correctly).
    fn get_token(&mut self) -> i64 {
        if self.s.is_empty() {
            self.tok = Tok::End;
            return 0;
        }
        let mut v: i64 = 0;
        let mut i = 0usize;
        let mut nt = Tok::Invalid;
        let digits = |s: &[u8], i: &mut usize, v: &mut i64| {
            while let Some(c) = s.get(*i).filter(|c| c.is_ascii_digit()) {
                *v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
                *i += 1;
            }
        };
        match self.tok {
            Tok::DigitOrZero if self.s.first() == Some(&b'0') => {
                while self.s.get(i) == Some(&b'0') {
                    i += 1;
                }
                nt = Tok::Digit;
                v = -(i as i64);
            }
            Tok::DigitOrZero | Tok::Digit | Tok::SuffixNo | Tok::RevisionNo => {
                digits(self.s, &mut i, &mut v);
            }
            Tok::Letter => {
                v = i64::from(self.s.first().copied().unwrap_or(0));
                i = 1;
            }
            Tok::Suffix => {
                if let Some(k) = PRE.iter().position(|p| self.s.starts_with(p.as_bytes())) {
                    i = PRE.get(k).map_or(0, |p| p.len());
                    v = k as i64 - PRE.len() as i64;
                } else if let Some(k) = POST.iter().position(|p| self.s.starts_with(p.as_bytes())) {
                    i = POST.get(k).map_or(0, |p| p.len());
                    v = k as i64;
                } else {
                    self.tok = Tok::Invalid;
                    return -1;
                }
            }
            Tok::Invalid | Tok::End => {
                self.tok = Tok::Invalid;
                return -1;
            }
        }
        self.s = self.s.get(i..).unwrap_or(&[]);
        if self.s.is_empty() {
            self.tok = Tok::End;
        } else if nt != Tok::Invalid {
            self.tok = nt;
        } else {
            self.next_token();
        }
        v
    }
}

/// apk's `apk_version_validate`.
pub fn validate(v: &str) -> Result<(), &'static str> {
    let mut l = Lexer {
        s: v.as_bytes(),
        tok: Tok::Digit,
    };
    if v.is_empty() {
        return Err("empty version");
    }
    while l.tok != Tok::End && l.tok != Tok::Invalid {
        l.get_token();
    }
    if l.tok == Tok::End {
        Ok(())
    } else {
        Err("not of the form digit{.digit}[letter]{_suffix[N]}[-rN]")
    }
}

/// apk's `apk_version_compare` for two valid versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let mut la = Lexer {
        s: a.as_bytes(),
        tok: Tok::Digit,
    };
    let mut lb = Lexer {
        s: b.as_bytes(),
        tok: Tok::Digit,
    };
    let (mut av, mut bv) = (0i64, 0i64);
    while la.tok == lb.tok && la.tok != Tok::End && la.tok != Tok::Invalid && av == bv {
        av = la.get_token();
        bv = lb.get_token();
    }
    if av != bv {
        return av.cmp(&bv);
    }
    if la.tok == lb.tok {
        return Ordering::Equal;
    }
    // Equal so far: the longer version is newer unless what follows is a
    // pre-release suffix.
    if la.tok == Tok::Suffix {
        let mut t = Lexer {
            s: la.s,
            tok: la.tok,
        };
        if t.get_token() < 0 {
            return Ordering::Less;
        }
    }
    if lb.tok == Tok::Suffix {
        let mut t = Lexer {
            s: lb.s,
            tok: lb.tok,
        };
        if t.get_token() < 0 {
            return Ordering::Greater;
        }
    }
    lb.tok.rank().cmp(&la.tok.rank())
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, table};
    use proptest::prelude::*;

    #[test]
    fn apk_tools_vectors() {
        table::check(
            Scheme::Apk,
            include_str!("../../tests/fixtures/versions/apk.txt"),
        );
    }

    proptest! {
        #[test]
        fn apk_is_a_total_order(
            a in "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}[a-c]?(_(alpha|beta|pre|rc|p|git)[0-9]?)?(-r[0-9])?",
            b in "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}[a-c]?(_(alpha|beta|pre|rc|p|git)[0-9]?)?(-r[0-9])?",
            c in "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}[a-c]?(_(alpha|beta|pre|rc|p|git)[0-9]?)?(-r[0-9])?",
        ) {
            table::assert_total_order(Scheme::Apk, &a, &b, &c);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Scheme::Apk.compare(&s, "1.0-r0");
        }
    }
}
