//! Maven's `ComparableVersion` (maven-artifact 3.8): items split on `.`,
//! `-` and digit/letter transitions, nested lists after `-` and
//! transitions, qualifiers ordered `alpha < beta < milestone < rc <
//! snapshot < "" (release) < sp`, unknown qualifiers after them
//! lexically, trailing "null" items (0, "", empty lists) dropped.
#![deny(clippy::indexing_slicing)]

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone)]
enum Item {
    /// Digits without leading zeros ("" is zero).
    Int(String),
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

fn comparable_qualifier(q: &str) -> String {
    match QUALIFIERS.iter().position(|x| *x == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn string_item(value: &str, followed_by_digit: bool) -> Item {
    let mut v = value;
    if followed_by_digit && v.len() == 1 {
        v = match v {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            other => other,
        };
    }
    let v = match v {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Str(v.to_owned())
}

fn parse_item(is_digit: bool, buf: &str) -> Item {
    if is_digit {
        Item::Int(buf.trim_start_matches('0').to_owned())
    } else {
        string_item(buf, false)
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(d) => d.is_empty(),
            Item::Str(s) => s.is_empty(),
            Item::List(l) => l.is_empty(),
        }
    }

    /// `compareTo`, with `None` standing for a missing item.
    fn compare(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Int(d), None) => {
                if d.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => cmp_digits(a, b),
            (Item::Int(_), Some(_)) => Ordering::Greater,
            (Item::Str(s), None) => comparable_qualifier(s).cmp(&"5".to_owned()),
            (Item::Str(_), Some(Item::Int(_) | Item::List(_))) => Ordering::Less,
            (Item::Str(a), Some(Item::Str(b))) => {
                comparable_qualifier(a).cmp(&comparable_qualifier(b))
            }
            (Item::List(l), None) => l.first().map_or(Ordering::Equal, |f| f.compare(None)),
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => {
                let n = a.len().max(b.len());
                for i in 0..n {
                    let r = match (a.get(i), b.get(i)) {
                        (None, None) => Ordering::Equal,
                        (None, Some(r)) => r.compare(None).reverse(),
                        (Some(l), r) => l.compare(r),
                    };
                    if r != Ordering::Equal {
                        return r;
                    }
                }
                Ordering::Equal
            }
        }
    }
}

fn normalize(list: &mut Vec<Item>) {
    // Maven walks back from the end: nulls go, non-null lists are stepped
    // over (so `1.0-1` loses its `0`), anything else stops the walk.
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        match list.get(i) {
            Some(item) if item.is_null() => {
                list.remove(i);
            }
            Some(Item::List(_)) => {}
            _ => break,
        }
    }
}

/// A parsed Maven version.
#[derive(Debug, Clone)]
pub struct Maven {
    items: Vec<Item>,
}

/// Builds the nested item tree. Lists are kept as a path of indices into
/// the tree instead of Maven's mutable stack.
fn build(version: &str) -> Vec<Item> {
    // Each level: the items collected so far; nesting is closed at the end.
    let mut levels: Vec<Vec<Item>> = vec![Vec::new()];
    let push = |levels: &mut Vec<Vec<Item>>, item: Item| {
        if let Some(top) = levels.last_mut() {
            top.push(item);
        }
    };
    let v = version.to_lowercase();
    let chars: Vec<char> = v.chars().collect();
    let mut is_digit = false;
    let mut start = 0usize;
    let sub = |a: usize, b: usize| -> String { chars.get(a..b).unwrap_or(&[]).iter().collect() };
    for (i, c) in chars.iter().copied().enumerate() {
        if c == '.' || c == '-' {
            if i == start {
                push(&mut levels, Item::Int(String::new()));
            } else {
                push(&mut levels, parse_item(is_digit, &sub(start, i)));
            }
            start = i + 1;
            if c == '-' {
                levels.push(Vec::new());
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                push(&mut levels, string_item(&sub(start, i), true));
                start = i;
                levels.push(Vec::new());
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                push(&mut levels, parse_item(true, &sub(start, i)));
                start = i;
                levels.push(Vec::new());
            }
            is_digit = false;
        }
    }
    if chars.len() > start {
        push(&mut levels, parse_item(is_digit, &sub(start, chars.len())));
    }
    // Close the nested lists innermost first, normalising each as Maven
    // does when it pops its stack.
    while levels.len() > 1 {
        let mut inner = levels.pop().unwrap_or_default();
        normalize(&mut inner);
        push(&mut levels, Item::List(inner));
    }
    let mut top = levels.pop().unwrap_or_default();
    normalize(&mut top);
    top
}

impl Maven {
    pub fn parse(input: &str) -> Result<Maven, &'static str> {
        let s = input.trim();
        if s.is_empty() {
            return Err("empty version");
        }
        if s.contains(char::is_whitespace) {
            return Err("embedded spaces");
        }
        Ok(Maven { items: build(s) })
    }
}

impl Ord for Maven {
    fn cmp(&self, other: &Self) -> Ordering {
        Item::List(self.items.clone()).compare(Some(&Item::List(other.items.clone())))
    }
}

impl PartialOrd for Maven {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Maven {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Maven {}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, table};
    use proptest::prelude::*;

    #[test]
    fn comparable_version_table() {
        table::check(
            Scheme::Maven,
            include_str!("../../tests/fixtures/versions/maven.txt"),
        );
    }

    proptest! {
        #[test]
        fn maven_is_a_total_order(
            a in "[0-2](\\.[0-2]){0,2}(-?(alpha|beta|rc|sp|snapshot|final|a|b|m|foo)[0-2]?)?(-[0-2])?",
            b in "[0-2](\\.[0-2]){0,2}(-?(alpha|beta|rc|sp|snapshot|final|a|b|m|foo)[0-2]?)?(-[0-2])?",
            c in "[0-2](\\.[0-2]){0,2}(-?(alpha|beta|rc|sp|snapshot|final|a|b|m|foo)[0-2]?)?(-[0-2])?",
        ) {
            table::assert_total_order(Scheme::Maven, &a, &b, &c);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Scheme::Maven.compare(&s, "1.0");
        }
    }
}
