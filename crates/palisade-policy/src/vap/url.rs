//! The parts of a URL that Kubernetes' CEL `url()` library exposes, split
//! the way Go's `net/url` does for absolute URLs and absolute paths.

#![deny(clippy::indexing_slicing)]

use std::collections::BTreeMap;

/// A URL split into its parts (still escaped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Url {
    pub scheme: String,
    /// `host[:port]`.
    pub host: String,
    pub path: String,
    pub query: String,
}

impl Url {
    /// Parses an absolute URI (`https://host:port/path?query`) or an
    /// absolute path (`/path`), as `url.ParseRequestURI` accepts them.
    pub fn parse(s: &str) -> Result<Url, String> {
        let bad =
            |why: &str| format!("URL parse error during conversion from string: {why}: `{s}`");
        if s.is_empty() {
            return Err(bad("empty url"));
        }
        if s.chars().any(|c| c.is_control() || c == ' ') {
            return Err(bad("invalid character in URL"));
        }
        let without_fragment = s.split_once('#').map_or(s, |(a, _)| a);
        let (rest, query) = without_fragment
            .split_once('?')
            .map_or((without_fragment, ""), |(a, q)| (a, q));
        let mut url = Url {
            query: query.to_string(),
            ..Url::default()
        };
        let after_scheme = if rest.starts_with('/') {
            rest
        } else {
            let (scheme, tail) = rest
                .split_once(':')
                .ok_or_else(|| bad("invalid URI for request"))?;
            let valid = scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if !valid {
                return Err(bad("missing protocol scheme"));
            }
            url.scheme = scheme.to_string();
            tail
        };
        if let Some(authority_and_path) = after_scheme.strip_prefix("//") {
            let end = authority_and_path
                .find('/')
                .unwrap_or(authority_and_path.len());
            let (authority, path) = authority_and_path.split_at(end);
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            url.host = host.to_string();
            url.path = path.to_string();
        } else {
            url.path = after_scheme.to_string();
        }
        Ok(url)
    }

    /// The host without the port; IPv6 addresses without brackets.
    pub fn hostname(&self) -> String {
        if let Some(inner) = self.host.strip_prefix('[') {
            return inner.split_once(']').map_or(inner, |(h, _)| h).to_string();
        }
        self.host
            .rsplit_once(':')
            .map_or(self.host.as_str(), |(h, _)| h)
            .to_string()
    }

    /// The port, or empty.
    pub fn port(&self) -> String {
        let tail = match self.host.rsplit_once(']') {
            Some((_, t)) => t,
            None => self.host.as_str(),
        };
        tail.rsplit_once(':')
            .map(|(_, p)| p.to_string())
            .unwrap_or_default()
    }

    /// The query as a map from key to its values, decoded.
    pub fn query_map(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in self.query.split(['&', ';']).filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.entry(unescape(k)).or_default().push(unescape(v));
        }
        out
    }
}

/// Form decoding: `+` is a space, `%XX` a byte.
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b);
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls_like_go() {
        let u = Url::parse("https://user@example.com:8443/a/b?x=1&x=2&y=a+b#frag").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.host, "example.com:8443");
        assert_eq!(u.hostname(), "example.com");
        assert_eq!(u.port(), "8443");
        assert_eq!(u.path, "/a/b");
        assert_eq!(u.query_map()["x"], ["1", "2"]);
        assert_eq!(u.query_map()["y"], ["a b"]);
        let v6 = Url::parse("http://[::1]:80/").unwrap();
        assert_eq!(v6.hostname(), "::1");
        assert_eq!(v6.port(), "80");
        assert_eq!(Url::parse("/healthz").unwrap().path, "/healthz");
        assert!(Url::parse("example.com").is_err());
        assert!(Url::parse("").is_err());
        assert!(Url::parse("1http://x").is_err());
    }
}
