//! The built-in rule file: enough rules, stable well-formed ids, and every
//! rule's own positive and negative examples hold.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use palisade_secrets::{RuleSetBuilder, builtin};

#[test]
fn builtin_rules_load_with_stable_unique_ids() {
    let rules = builtin().unwrap();
    assert!(rules.len() >= 150, "only {} built-in rules", rules.len());
    let mut ids = BTreeSet::new();
    let mut names = BTreeSet::new();
    for r in rules.rules() {
        assert!(
            ids.insert(r.code().to_string()),
            "duplicate id {}",
            r.code()
        );
        assert!(
            names.insert(r.name().to_string()),
            "duplicate name {}",
            r.name()
        );
        let digits = r
            .code()
            .strip_prefix("SEC")
            .expect("built-in ids are SECnnn");
        assert_eq!(digits.len(), 3, "{}", r.code());
        assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{}", r.code());
        assert!(!r.keywords.is_empty(), "{} has no keywords", r.code());
        assert!(
            !r.examples.positive.is_empty(),
            "{} has no positive example",
            r.code()
        );
        assert!(
            !r.examples.negative.is_empty(),
            "{} has no negative example",
            r.code()
        );
    }
    // Ids are dense from SEC001: retired ids would leave a gap, not a reuse.
    assert_eq!(ids.first().map(String::as_str), Some("SEC001"));
}

#[test]
fn every_rule_finds_its_positive_examples_and_not_its_negatives() {
    let rules = builtin().unwrap();
    let mut failures = Vec::new();
    for (index, r) in rules.rules().enumerate() {
        for text in &r.examples.positive {
            let found = rules.detect("examples.txt", text.as_bytes());
            if !found.iter().any(|d| d.rule == index) {
                failures.push(format!(
                    "{} {}: positive example not found: {text:?} (found: {:?})",
                    r.code(),
                    r.name(),
                    found
                        .iter()
                        .map(|d| rules.rule(d.rule).unwrap().code().to_string())
                        .collect::<Vec<_>>()
                ));
            }
        }
        for text in &r.examples.negative {
            let found = rules.detect("examples.txt", text.as_bytes());
            if found.iter().any(|d| d.rule == index) {
                failures.push(format!(
                    "{} {}: negative example reported: {text:?}",
                    r.code(),
                    r.name()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn user_rules_add_replace_and_disable() {
    let user = r#"
version = 1
[[rule]]
id = "ACME-001"
name = "acme-internal-token"
description = "ACME internal service token"
regex = '''\bacme_[a-z0-9]{24}\b'''
keywords = ["acme_"]
severity = "critical"
[rule.examples]
positive = ["acme_q8r2m4x7z1c9v3b6n5k0w2e4"]
negative = ["acme_short"]
"#;
    let set = RuleSetBuilder::new()
        .add_toml("user.toml", user)
        .unwrap()
        .disable(["SEC001".to_string(), "github-pat".to_string()])
        .build()
        .unwrap();
    assert!(set.find_rule("ACME-001").is_some());
    assert!(set.find_rule("SEC001").is_none());
    assert!(set.find_rule("github-pat").is_none());
    assert!(set.len() >= 150);
    let d = set.detect("a.txt", b"x = acme_q8r2m4x7z1c9v3b6n5k0w2e4\n");
    assert_eq!(d.len(), 1);
    assert_eq!(set.rule(d[0].rule).unwrap().code(), "ACME-001");

    let only_user = RuleSetBuilder::new()
        .add_toml("user.toml", &format!("builtin-rules = false\n{user}"))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(only_user.len(), 1);
}

#[test]
fn bad_user_rules_are_errors_naming_file_and_rule() {
    let cases = [
        ("[[rule]]\nid = \"X1\"\n", "missing field"),
        (
            "[[rule]]\nid = \"X1\"\nname = \"x\"\ndescription = \"d\"\nregex = '(unclosed'\nkeywords = [\"abc\"]\nseverity = \"high\"\n",
            "invalid regex",
        ),
        (
            "[[rule]]\nid = \"X1\"\nname = \"x\"\ndescription = \"d\"\nregex = 'a'\nkeywords = [\"a\"]\nseverity = \"high\"\n",
            "shorter than",
        ),
        (
            "[[rule]]\nid = \"X1\"\nname = \"x\"\ndescription = \"d\"\nregex = 'a*'\nkeywords = [\"abc\"]\nseverity = \"high\"\n",
            "empty string",
        ),
        (
            "[[rule]]\nid = \"X1\"\nname = \"Not Kebab\"\ndescription = \"d\"\nregex = 'abc'\nseverity = \"high\"\n",
            "kebab-case",
        ),
        (
            "[[rule]]\nid = \"X1\"\nname = \"x\"\ndescription = \"d\"\nregex = 'abc'\nseverity = \"severe\"\n",
            "unknown severity",
        ),
        ("version = 2\n", "unsupported version"),
        ("[[rule]]\nid = \"X1\"\nbogus = 1\n", "unknown field"),
    ];
    for (text, want) in cases {
        let err = RuleSetBuilder::new()
            .add_toml("mine.toml", text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mine.toml"), "{err}");
        assert!(err.contains(want), "expected `{want}` in: {err}");
    }
}

/// One secret, one finding: a GitHub token used as an `.npmrc` auth token
/// or as a git credential's password is reported once, by the lower rule.
#[test]
fn the_same_secret_under_two_rules_is_one_detection() {
    let set = builtin().unwrap();
    let token = "ghp_xJ4SXRVxfCQGgXkH1zxFUbEctT2NLLzPkkGo";
    for (path, text) in [
        (
            ".npmrc",
            format!("//npm.pkg.github.com/:_authToken={token}\n"),
        ),
        (
            "git-credentials",
            format!("https://octocat:{token}@github.com\n"),
        ),
    ] {
        let found = set.detect(path, text.as_bytes());
        let codes: Vec<&str> = found
            .iter()
            .map(|d| set.rule(d.rule).unwrap().code())
            .collect();
        assert_eq!(codes, ["SEC040"], "{path}");
    }
}

/// A comment above a PEM block's BEGIN line suppresses the key (the
/// finding is on the first key line, inside the block, where a comment
/// would be part of the key).
#[test]
fn comments_above_a_pem_block_suppress_it() {
    let set = builtin().unwrap();
    let key = set.find_rule("SEC192").unwrap().examples.positive[0].clone();
    let scanner = palisade_secrets::Scanner::new(
        std::sync::Arc::new(RuleSetBuilder::new().build().unwrap()),
        palisade_secrets::ScanOptions::default(),
    );
    let path: std::sync::Arc<str> = "key.pem".into();
    let run = |text: String| {
        scanner
            .scan_bytes(&path, text.as_bytes())
            .into_iter()
            .map(|f| (f.code.to_string(), f.suppressed.is_some()))
            .collect::<Vec<_>>()
    };
    let sec192 = |suppressed: bool| vec![("SEC192".to_string(), suppressed)];
    assert_eq!(run(key.clone()), sec192(false));
    assert_eq!(
        run(format!("# palisade:ignore SEC192 test key\n{key}\n")),
        sec192(true)
    );
    assert_eq!(
        run(format!(
            "KEY = \"\"\"\n{key}\n\"\"\"  # palisade:ignore SEC192 fixture\n"
        )),
        sec192(false),
        "a comment two lines after the block is not about it"
    );
}
