//! Redaction: findings show the first characters of a secret and a short
//! hash of it, enough to recognise and deduplicate it without leaking it.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// Longest secret shown by `--show-secrets` before it is cut.
const MAX_SHOWN: usize = 200;
/// Characters of the secret shown before the hash.
const SHOWN: usize = 4;

/// The first 8 bytes of the secret's SHA-256, hex encoded (16 characters).
pub fn secret_hash(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    let mut hex = String::with_capacity(16);
    for byte in digest.iter().take(8) {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// `ghp_…(sha256:1a2b3c4d5e6f7a8b)`: the first four characters (fewer for
/// secrets under 12 characters, so at most a third is shown) and the hash.
pub fn redact(secret: &[u8]) -> String {
    let text = String::from_utf8_lossy(secret);
    let chars = text.chars().count();
    let shown = SHOWN.min(chars / 3);
    let head: String = text
        .chars()
        .take(shown)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!("{head}…(sha256:{})", secret_hash(secret))
}

/// How a secret appears in a finding: redacted, or (with `--show-secrets`)
/// in full with control characters escaped and very long secrets cut.
pub fn present(secret: &[u8], show: bool) -> String {
    if !show {
        return redact(secret);
    }
    let text = String::from_utf8_lossy(secret);
    let mut out: String = text
        .chars()
        .take(MAX_SHOWN)
        .flat_map(|c| match c {
            '\n' => vec!['\\', 'n'],
            '\r' => vec!['\\', 'r'],
            '\t' => vec!['\\', 't'],
            c if c.is_control() => vec!['?'],
            c => vec![c],
        })
        .collect();
    if text.chars().count() > MAX_SHOWN {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_a_prefix_and_a_stable_hash() {
        let r = redact(b"ghp_0123456789abcdefghijklmnopqrstuvwxyz");
        assert!(r.starts_with("ghp_…(sha256:"), "{r}");
        assert_eq!(r, redact(b"ghp_0123456789abcdefghijklmnopqrstuvwxyz"));
        assert_ne!(r, redact(b"ghp_0123456789abcdefghijklmnopqrstuvwxyZ"));
        assert!(!r.contains("0123"));
        // Short secrets show at most a third of themselves.
        assert!(redact(b"hunter2").starts_with("hu…"));
        assert!(redact(b"ab").starts_with('…'));
    }

    #[test]
    fn shows_or_redacts() {
        assert!(present(b"abcdefghijklmnop", false).starts_with("abcd…(sha256:"));
        assert_eq!(present(b"ab\ncd", true), "ab\\ncd");
    }
}
