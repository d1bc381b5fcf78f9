//! CVSS base scores (v2, v3.0, v3.1, v4.0) through RustSec's `cvss` crate,
//! and the severity Palisade gives an advisory: the highest base score of
//! its vectors, else the database's own rating.

use std::str::FromStr;

use palisade_core::Severity;

use crate::advisory::{Advisory, Affected};

/// A computed base score with the vector it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// `CVSS_V4`, `CVSS_V3`, `CVSS_V2`.
    pub kind: &'static str,
    pub vector: String,
    pub value: f64,
}

/// The base score of a vector string (`CVSS:3.1/…`, `CVSS:4.0/…`, or a v2
/// vector `AV:N/AC:L/…`); `None` when it does not parse.
pub fn base_score(vector: &str) -> Option<Score> {
    let v = vector.trim();
    if v.starts_with("CVSS:4.0/") {
        let parsed = cvss::v4::Vector::from_str(v).ok()?;
        return Some(Score {
            kind: "CVSS_V4",
            vector: v.to_owned(),
            value: parsed.score().value(),
        });
    }
    if v.starts_with("CVSS:3.") {
        let parsed = cvss::v3::Vector::from_str(v).ok()?;
        return Some(Score {
            kind: "CVSS_V3",
            vector: v.to_owned(),
            value: parsed.score().value(),
        });
    }
    None
}

/// The qualitative rating of a base score (the same bands in v3 and v4).
pub fn rating(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    }
}

/// A database's own severity word or number (`HIGH`, `moderate`, Debian
/// urgencies, `7.5`).
pub fn parse_rating(s: &str) -> Option<Severity> {
    let t = s.trim().to_ascii_lowercase();
    if let Ok(n) = t.parse::<f64>()
        && (0.0..=10.0).contains(&n)
    {
        return Some(rating(n));
    }
    Some(match t.as_str() {
        "critical" => Severity::Critical,
        "high" | "important" => Severity::High,
        "medium" | "moderate" => Severity::Medium,
        "low" | "negligible" | "unimportant" => Severity::Low,
        _ => return None,
    })
}

/// How an advisory was rated.
#[derive(Debug, Clone, PartialEq)]
pub struct Rated {
    pub severity: Severity,
    /// The score and vector used, when a vector was.
    pub score: Option<Score>,
    /// Whether nothing in the advisory rated it (the severity is then an
    /// assumption, see [`UNKNOWN_SEVERITY`]).
    pub unknown: bool,
}

/// The severity given to vulnerabilities no source rates: not `info`, so
/// that `--fail-on low|medium` still fails on them.
pub const UNKNOWN_SEVERITY: Severity = Severity::Medium;

/// Rates an advisory for one affected entry: per-package vectors first,
/// then the advisory's (highest of v4 and v3 preferred in that order),
/// then the database's rating. Malicious packages are critical.
pub fn rate(advisory: &Advisory, affected: Option<&Affected>) -> Rated {
    if advisory.is_malicious() {
        return Rated {
            severity: Severity::Critical,
            score: None,
            unknown: false,
        };
    }
    let entries = affected
        .map(|a| a.severity.as_slice())
        .filter(|s| !s.is_empty())
        .unwrap_or(&advisory.severity);
    let scores: Vec<Score> = entries
        .iter()
        .filter_map(|s| base_score(&s.score))
        .collect();
    let best = scores
        .iter()
        .filter(|s| s.kind == "CVSS_V4")
        .chain(scores.iter().filter(|s| s.kind == "CVSS_V3"))
        .next();
    if let Some(s) = best {
        return Rated {
            severity: rating(s.value),
            score: Some(s.clone()),
            unknown: false,
        };
    }
    let own = advisory
        .database_severity
        .as_deref()
        .and_then(parse_rating)
        .or_else(|| entries.iter().find_map(|s| parse_rating(&s.score)));
    match own {
        Some(severity) => Rated {
            severity,
            score: None,
            unknown: false,
        },
        None => Rated {
            severity: UNKNOWN_SEVERITY,
            score: None,
            unknown: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CVSS v3.1 specification, section 7 ("Scoring rubric examples" /
    /// the examples document): vectors and base scores published by FIRST.
    #[test]
    fn v3_1_specification_examples() {
        let cases = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1), // CVE-2013-1937 phpMyAdmin XSS
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4), // CVE-2013-0375 MySQL
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1), // CVE-2014-3566 POODLE
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9), // CVE-2012-1516 VMware
            ("CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2), // CVE-2009-0783 Tomcat
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8), // CVE-2012-0384 Cisco IOS
            ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8), // CVE-2015-1098 iWork
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5), // CVE-2014-0160 Heartbleed
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8), // CVE-2014-6271 Shellshock
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8), // CVE-2008-1447 DNS
            ("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8), // CVE-2014-2005 Sophos
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8), // CVE-2010-0467 Joomla
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", 5.8), // CVE-2012-1342 Cisco
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ];
        for (vector, expected) in cases {
            let s = base_score(vector).unwrap_or_else(|| panic!("{vector} did not parse"));
            assert_eq!(s.value, expected, "{vector}");
            assert_eq!(s.kind, "CVSS_V3");
        }
    }

    /// CVSS v4.0: vectors and scores from FIRST's v4.0 specification and
    /// examples document (and its reference calculator's extremes).
    #[test]
    fn v4_0_specification_examples() {
        let cases = [
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                9.3,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H",
                10.0,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N",
                0.0,
            ),
            (
                "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                8.5,
            ), // CVE-2022-41741 nginx
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N",
                8.7,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N",
                8.7,
            ),
        ];
        for (vector, expected) in cases {
            let s = base_score(vector).unwrap_or_else(|| panic!("{vector} did not parse"));
            assert_eq!(s.value, expected, "{vector}");
            assert_eq!(s.kind, "CVSS_V4");
        }
    }

    #[test]
    fn bad_vectors_do_not_score() {
        assert!(base_score("CVSS:3.1/AV:X").is_none());
        assert!(base_score("garbage").is_none());
        assert!(base_score("CVSS:4.0/AV:N").is_none());
    }

    #[test]
    fn ratings() {
        assert_eq!(rating(9.0), Severity::Critical);
        assert_eq!(rating(8.9), Severity::High);
        assert_eq!(rating(4.0), Severity::Medium);
        assert_eq!(rating(0.1), Severity::Low);
        assert_eq!(rating(0.0), Severity::Info);
        assert_eq!(parse_rating("MODERATE"), Some(Severity::Medium));
        assert_eq!(parse_rating("7.5"), Some(Severity::High));
        assert_eq!(parse_rating("unknown"), None);
    }
}
