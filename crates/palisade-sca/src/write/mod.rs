//! Writing SBOMs: CycloneDX 1.6 JSON, SPDX 2.3 JSON and a table for
//! people. Output is deterministic: components sorted by `bom_ref`, the
//! serial number / document namespace derived from the content, and no
//! timestamp unless the SBOM carries one (`--timestamp`).

pub mod cyclonedx;
pub mod spdx;
pub mod table;

use std::collections::HashSet;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::bom::Sbom;

/// SPDX licence ids CycloneDX 1.6's schema accepts in `license.id`.
fn license_ids() -> &'static HashSet<&'static str> {
    static IDS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    IDS.get_or_init(|| {
        include_str!("spdx-license-ids.txt")
            .lines()
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Whether `s` is one SPDX licence id (exact, as the list spells it).
pub fn is_license_id(s: &str) -> bool {
    license_ids().contains(s)
}

/// The SPDX id `s` names, as the list spells it: SPDX ids match without
/// regard to case (`mit` is `MIT`).
pub fn canonical_license_id(s: &str) -> Option<&'static str> {
    static LOWER: OnceLock<std::collections::HashMap<String, &'static str>> = OnceLock::new();
    LOWER
        .get_or_init(|| {
            license_ids()
                .iter()
                .map(|id| (id.to_ascii_lowercase(), *id))
                .collect()
        })
        .get(&s.to_ascii_lowercase())
        .copied()
}

/// Whether `s` is an SPDX expression over known ids (`MIT OR Apache-2.0`,
/// `GPL-2.0-or-later WITH Classpath-exception-2.0`, `LicenseRef-x`).
pub fn is_license_expression(s: &str) -> bool {
    let tokens: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.is_empty() {
        return false;
    }
    let mut expect_id = true;
    for t in tokens {
        if expect_id {
            let id = t.strip_suffix('+').unwrap_or(t);
            if !(is_license_id(id)
                || t.starts_with("LicenseRef-")
                || t.ends_with("-exception")
                || t.contains("exception"))
            {
                return false;
            }
            expect_id = false;
        } else {
            if !matches!(t, "AND" | "OR" | "WITH") {
                return false;
            }
            expect_id = true;
        }
    }
    !expect_id
}

/// A UUID-formatted digest of the SBOM's content (version nibble 5,
/// RFC 4122 variant), stable across runs on the same input.
pub fn content_uuid(sbom: &Sbom) -> String {
    let mut h = Sha256::new();
    h.update(sbom.target.name.as_bytes());
    h.update([0]);
    for c in &sbom.components {
        h.update(c.bom_ref.as_bytes());
        h.update([0]);
        for l in &c.locations {
            h.update(l.path.as_bytes());
            h.update(l.layer_digest.as_deref().unwrap_or("").as_bytes());
            h.update([1]);
        }
    }
    if let Some(t) = &sbom.timestamp {
        h.update(t.as_bytes());
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    for (dst, src) in b.iter_mut().zip(d.iter()) {
        *dst = *src;
    }
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or(""),
        hex.get(8..12).unwrap_or(""),
        hex.get(12..16).unwrap_or(""),
        hex.get(16..20).unwrap_or(""),
        hex.get(20..32).unwrap_or("")
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch.
pub fn rfc3339(secs: i64) -> String {
    let d = palisade_core::date::Date::from_days_since_epoch(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year,
        d.month,
        d.day,
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// The current time, RFC 3339 (for `--timestamp`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    rfc3339(secs)
}

/// A short stable hex id of a string (SPDX element ids).
pub fn short_hash(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    d.iter().take(8).map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn recognises_licences() {
        assert!(is_license_id("MIT"));
        assert!(!is_license_id("mit"));
        assert!(is_license_expression("MIT OR Apache-2.0"));
        assert!(is_license_expression(
            "(MIT AND BSD-3-Clause) OR GPL-2.0-or-later"
        ));
        assert!(is_license_expression(
            "GPL-2.0-or-later WITH Classpath-exception-2.0"
        ));
        assert!(!is_license_expression("MIT OR"));
        assert!(!is_license_expression("BSD License"));
    }
}
