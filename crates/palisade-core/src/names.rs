//! Kubernetes object names (RFC 1123), as the API server checks them.

/// A DNS label: at most 63 lowercase letters, digits and `-`, starting
/// and ending with a letter or digit (namespaces, Services).
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS subdomain: dot-separated labels, at most 253 characters (most
/// object names: Roles, Secrets).
pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains() {
        assert!(is_dns_label("web-1") && !is_dns_label("-web") && !is_dns_label("Web"));
        assert!(is_dns_subdomain("palisade-admission.tls") && !is_dns_subdomain("a..b"));
        assert!(!is_dns_subdomain("a b") && !is_dns_subdomain(""));
    }
}
