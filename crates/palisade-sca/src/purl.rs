//! Package URLs (<https://github.com/package-url/purl-spec>): building them
//! from catalogued packages and parsing them from SBOMs made by other tools.
//!
//! The canonical form percent-encodes every byte outside the unreserved set
//! (`A-Z a-z 0-9 . - _ ~`) in namespace segments, name, version, qualifier
//! values and subpath segments, lower-cases the type and qualifier keys, sorts
//! qualifiers by key and drops empty ones. Type-specific normalisation
//! (lower-case npm/PyPI/deb/apk/composer names, PyPI `_` → `-`) is applied by
//! [`Purl::new`] and when parsing, so two spellings of one package compare
//! equal.

#![deny(clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A parsed package URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Purl {
    /// `deb`, `npm`, `maven`, … (lower-case).
    pub ty: String,
    /// Decoded namespace, segments joined by `/` (npm scope with its `@`,
    /// Maven group id, Go module path prefix, distro vendor for OS packages).
    pub namespace: Option<String>,
    /// Decoded name.
    pub name: String,
    /// Decoded version.
    pub version: Option<String>,
    /// Decoded qualifiers (`arch`, `distro`, `epoch`, `upstream`, …), sorted.
    pub qualifiers: BTreeMap<String, String>,
    /// Decoded subpath.
    pub subpath: Option<String>,
}

/// Why a string is not a package URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurlError {
    #[error("package URL does not start with `pkg:`")]
    Scheme,
    #[error("package URL has no type")]
    MissingType,
    #[error("package URL type `{0}` has characters other than letters, digits, `.`, `+` and `-`")]
    InvalidType(String),
    #[error("package URL has no name")]
    MissingName,
    #[error("package URL has a malformed percent-encoding")]
    Encoding,
    #[error("package URL qualifier `{0}` has no `=`")]
    Qualifier(String),
    #[error("package URL is longer than {0} bytes")]
    TooLong(usize),
}

/// Longest purl accepted when parsing (they are identifiers, not payloads).
pub const MAX_PURL_LEN: usize = 4096;

impl Purl {
    /// A purl with type-specific normalisation of namespace and name.
    pub fn new(ty: &str, namespace: Option<&str>, name: &str, version: Option<&str>) -> Purl {
        let mut p = Purl {
            ty: ty.to_ascii_lowercase(),
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_owned),
            name: name.to_owned(),
            version: version.filter(|v| !v.is_empty()).map(str::to_owned),
            qualifiers: BTreeMap::new(),
            subpath: None,
        };
        p.normalize();
        p
    }

    /// Adds a qualifier (empty values are dropped, as the spec requires).
    #[must_use]
    pub fn with_qualifier(mut self, key: &str, value: impl Into<String>) -> Purl {
        let value = value.into();
        if !value.is_empty() {
            self.qualifiers.insert(key.to_ascii_lowercase(), value);
        }
        self
    }

    /// The purl without version, qualifiers and subpath: the package's
    /// identity across versions (what advisories are indexed by).
    pub fn package_key(&self) -> String {
        let mut s = format!("pkg:{}/", self.ty);
        if let Some(ns) = &self.namespace {
            for seg in ns.split('/').filter(|s| !s.is_empty()) {
                encode_into(&mut s, seg);
                s.push('/');
            }
        }
        encode_into(&mut s, &self.name);
        s
    }

    fn normalize(&mut self) {
        match self.ty.as_str() {
            "npm" | "deb" | "apk" | "composer" | "alpm" | "bitbucket" | "github" | "hex" => {
                self.name = self.name.to_lowercase();
                self.namespace = self.namespace.take().map(|n| n.to_lowercase());
            }
            "pypi" => {
                self.name = self.name.to_lowercase().replace('_', "-");
            }
            _ => {}
        }
        if let Some(ns) = &self.namespace {
            let trimmed = ns.trim_matches('/');
            self.namespace = (!trimmed.is_empty()).then(|| trimmed.to_owned());
        }
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~')
}

fn encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// Percent-encodes `s` as the canonical purl form does.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    encode_into(&mut out, s);
    out
}

/// Decodes `%XX` escapes; malformed escapes and invalid UTF-8 are errors.
pub fn decode(s: &str) -> Result<String, PurlError> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(PurlError::Encoding)?;
            let hex = std::str::from_utf8(hex).map_err(|_| PurlError::Encoding)?;
            let v = u8::from_str_radix(hex, 16).map_err(|_| PurlError::Encoding)?;
            out.push(v);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PurlError::Encoding)
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.package_key();
        if let Some(v) = &self.version {
            s.push('@');
            encode_into(&mut s, v);
        }
        let mut first = true;
        for (k, v) in &self.qualifiers {
            if v.is_empty() {
                continue;
            }
            s.push(if first { '?' } else { '&' });
            first = false;
            s.push_str(k);
            s.push('=');
            encode_into(&mut s, v);
        }
        if let Some(sub) = &self.subpath {
            let segs: Vec<&str> = sub
                .split('/')
                .filter(|s| !s.is_empty() && *s != "." && *s != "..")
                .collect();
            if !segs.is_empty() {
                s.push('#');
                for (i, seg) in segs.iter().enumerate() {
                    if i > 0 {
                        s.push('/');
                    }
                    encode_into(&mut s, seg);
                }
            }
        }
        f.write_str(&s)
    }
}

impl FromStr for Purl {
    type Err = PurlError;

    /// Parses per the spec's algorithm (right to left: subpath, qualifiers,
    /// scheme and type, version, name, namespace).
    fn from_str(input: &str) -> Result<Purl, PurlError> {
        if input.len() > MAX_PURL_LEN {
            return Err(PurlError::TooLong(MAX_PURL_LEN));
        }
        let (rest, subpath) = match input.split_once('#') {
            Some((r, sp)) => {
                let segs = sp
                    .split('/')
                    .filter(|s| !s.is_empty() && *s != "." && *s != "..")
                    .map(decode)
                    .collect::<Result<Vec<_>, _>>()?;
                (r, (!segs.is_empty()).then(|| segs.join("/")))
            }
            None => (input, None),
        };
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((r, q)) => {
                let mut map = BTreeMap::new();
                for pair in q.split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair
                        .split_once('=')
                        .ok_or_else(|| PurlError::Qualifier(pair.to_owned()))?;
                    let v = decode(v)?;
                    if !v.is_empty() {
                        map.insert(k.to_ascii_lowercase(), v);
                    }
                }
                (r, map)
            }
            None => (rest, BTreeMap::new()),
        };
        let rest = rest
            .strip_prefix("pkg:")
            .or_else(|| {
                rest.get(..4)
                    .filter(|p| p.eq_ignore_ascii_case("pkg:"))
                    .and_then(|_| rest.get(4..))
            })
            .ok_or(PurlError::Scheme)?;
        let rest = rest.trim_start_matches('/');
        let (ty, rest) = rest.split_once('/').ok_or(PurlError::MissingType)?;
        if ty.is_empty() {
            return Err(PurlError::MissingType);
        }
        if !ty
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
        {
            return Err(PurlError::InvalidType(ty.to_owned()));
        }
        let rest = rest.trim_end_matches('/');
        let (rest, version) = match rest.rsplit_once('@') {
            // `@` of an npm scope at the start of the namespace is not a version.
            Some((r, v)) if !r.is_empty() && !r.ends_with('/') => (r, Some(decode(v)?)),
            _ => (rest, None),
        };
        let (ns, name) = match rest.rsplit_once('/') {
            Some((ns, name)) => (Some(ns), name),
            None => (None, rest),
        };
        if name.is_empty() {
            return Err(PurlError::MissingName);
        }
        let namespace = match ns {
            Some(ns) => {
                let segs = ns
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(decode)
                    .collect::<Result<Vec<_>, _>>()?;
                (!segs.is_empty()).then(|| segs.join("/"))
            }
            None => None,
        };
        let mut p = Purl {
            ty: ty.to_ascii_lowercase(),
            namespace,
            name: decode(name)?,
            version: version.filter(|v| !v.is_empty()),
            qualifiers,
            subpath,
        };
        p.normalize();
        Ok(p)
    }
}

impl serde::Serialize for Purl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Purl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Purl, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spec_examples_round_trip() {
        for s in [
            "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie",
            "pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?packaging=sources",
            "pkg:npm/%40angular/animation@12.3.1",
            "pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c",
            "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25",
            "pkg:gem/ruby-advisory-db-check@0.12.4",
            "pkg:nuget/EnterpriseLibrary.Common@6.0.1304",
            "pkg:pypi/django@1.11.1",
            "pkg:cargo/rand@0.7.2",
            "pkg:composer/laravel/laravel@5.5.0",
        ] {
            let p: Purl = s.parse().unwrap();
            assert_eq!(p.to_string(), s);
        }
    }

    #[test]
    fn parses_parts() {
        let p: Purl = "pkg:npm/@babel/core@7.0.0".parse().unwrap();
        assert_eq!(p.namespace.as_deref(), Some("@babel"));
        assert_eq!(p.name, "core");
        assert_eq!(p.to_string(), "pkg:npm/%40babel/core@7.0.0");
        let p: Purl = "pkg:deb/debian/login@1%3A4.13%2Bdfsg1-1?arch=amd64&epoch=1"
            .parse()
            .unwrap();
        assert_eq!(p.version.as_deref(), Some("1:4.13+dfsg1-1"));
        assert_eq!(p.qualifiers.get("epoch").map(String::as_str), Some("1"));
        let p: Purl = "pkg:PyPI/Jinja2@2.10".parse().unwrap();
        assert_eq!(p.to_string(), "pkg:pypi/jinja2@2.10");
        let p: Purl = "pkg:golang/github.com/Azure/go-autorest@v1.0.0#sub/dir"
            .parse()
            .unwrap();
        assert_eq!(p.namespace.as_deref(), Some("github.com/Azure"));
        assert_eq!(p.subpath.as_deref(), Some("sub/dir"));
        assert_eq!(p.package_key(), "pkg:golang/github.com/Azure/go-autorest");
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!("npm/x@1".parse::<Purl>(), Err(PurlError::Scheme));
        assert_eq!("pkg:npm".parse::<Purl>(), Err(PurlError::MissingType));
        assert_eq!("pkg:npm/".parse::<Purl>(), Err(PurlError::MissingName));
        assert_eq!("pkg:npm/a%zz".parse::<Purl>(), Err(PurlError::Encoding));
        assert_eq!("pkg:npm/a%c3".parse::<Purl>(), Err(PurlError::Encoding));
        assert_eq!(
            "pkg:n pm/a".parse::<Purl>(),
            Err(PurlError::InvalidType("n pm".into()))
        );
        assert!(matches!(
            "pkg:npm/a?x".parse::<Purl>(),
            Err(PurlError::Qualifier(_))
        ));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = s.parse::<Purl>();
            let _ = format!("pkg:{s}").parse::<Purl>();
        }

        #[test]
        fn built_purls_round_trip(
            ty in "(npm|maven|golang|cargo|nuget|gem|generic)",
            ns in proptest::option::of("[a-zA-Z0-9@._/-]{1,20}"),
            name in "[a-zA-Z0-9@._ +:-]{1,20}",
            version in proptest::option::of("[a-zA-Z0-9@._ +:~-]{1,20}"),
            q in proptest::option::of("[a-z0-9 &=?#/]{1,10}"),
        ) {
            let mut p = Purl::new(&ty, ns.as_deref(), &name, version.as_deref());
            if let Some(q) = q { p = p.with_qualifier("distro", q); }
            let parsed: Purl = p.to_string().parse().unwrap();
            // Empty namespace segments vanish; compare the canonical forms.
            prop_assert_eq!(parsed.to_string(), p.to_string());
            prop_assert_eq!(&parsed.name, &p.name);
            prop_assert_eq!(&parsed.version, &p.version);
        }
    }
}
