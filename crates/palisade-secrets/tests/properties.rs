//! Properties of the scanner on arbitrary input: it never panics, every
//! detection lies inside the text and names a rule, findings point inside
//! the text, and scanning is deterministic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, LazyLock};

use palisade_secrets::{RuleSetBuilder, ScanOptions, Scanner, builtin, line_column};
use proptest::prelude::*;

/// Bytes biased towards what rules look for, so regexes actually run.
fn texty() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "ghp_",
        "AKIA",
        "token",
        "password",
        "=",
        ": ",
        "\"",
        "\n",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----",
        "eyJ",
        ".",
        "postgres://",
        ":",
        "@",
        "sk_live_",
        "key-",
        "palisade:ignore ",
        "# ",
        "//",
        "\u{e9}",
        "\\n",
        "xoxb-",
        "AIza",
    ]);
    let chunk = prop_oneof![
        pieces.prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..40),
        "[A-Za-z0-9+/_-]{1,60}".prop_map(String::into_bytes),
    ];
    prop::collection::vec(chunk, 0..40).prop_map(|v| v.concat())
}

static SCANNER: LazyLock<Scanner> = LazyLock::new(|| {
    Scanner::new(
        Arc::new(RuleSetBuilder::new().build().unwrap()),
        ScanOptions::default(),
    )
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn detections_are_in_bounds_and_deterministic(text in texty()) {
        let rules = builtin().unwrap();
        let a = rules.detect("p.txt", &text);
        let b = rules.detect("p.txt", &text);
        prop_assert_eq!(&a, &b);
        for d in &a {
            prop_assert!(d.start < d.end && d.end <= text.len());
            prop_assert!(rules.rule(d.rule).is_some());
        }
    }

    #[test]
    fn findings_point_inside_the_text(text in texty()) {
        let scanner = &*SCANNER;
        let lines = text.split(|&b| b == b'\n').count() as u32;
        for f in scanner.scan_bytes(&Arc::from("p.txt"), &text) {
            let span = f.location.span.unwrap();
            prop_assert!(span.start.line >= 1 && span.end.line <= lines);
            prop_assert!(span.start <= span.end);
            prop_assert_eq!(f.fingerprint.len(), 32);
        }
    }

    #[test]
    fn line_column_agrees_with_counting(text in "[a-z\n\u{e9}]{0,80}", at in 0usize..100) {
        let bytes = text.as_bytes();
        let at = at.min(bytes.len());
        let (line, column, _) = line_column(bytes, at, 0, 1);
        let before = &bytes[..at];
        let want_line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        prop_assert_eq!(line, want_line);
        let start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let want_col = String::from_utf8_lossy(&bytes[start..at]).chars().count() as u32 + 1;
        prop_assert_eq!(column, want_col);
    }

    #[test]
    fn arbitrary_rule_files_never_panic(text in "[\\[\\]a-z=\"' \n_0-9(){}\\\\.*+?]{0,300}") {
        let _ = RuleSetBuilder::new().builtin(false).add_toml("fuzz.toml", &text).and_then(|b| b.build());
    }
}
