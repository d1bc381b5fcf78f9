//! Every built-in rule against its fixtures: `fixtures/rules/<name>/`
//! holds `positive.yaml` (the rule must fire), `negative.yaml` (it must
//! not) and optionally `settings.yaml` (rule settings). The findings on the
//! positive fixture are snapshotted (`snapshots/rules__<name>.snap`).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use palisade_core::Finding;
use palisade_k8s::yaml::{Limits, parse_stream};
use palisade_k8s::{Engine, RuleSelection, Settings, catalog};

fn settings_for(dir: &Path) -> Settings {
    let path = dir.join("settings.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Settings::default();
    };
    let mut root = None;
    parse_stream(&text, &Limits::default(), 0, |d| root = d.root);
    serde_json::from_value(root.expect("settings document").to_json()).expect("valid settings.yaml")
}

fn scan(dir: &Path, file: &str) -> Vec<Finding> {
    let selection = RuleSelection {
        enable: vec!["*".into()],
        disable: Vec::new(),
    };
    let engine = Engine::new(&selection, settings_for(dir), Limits::default()).unwrap();
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let outcome = engine.scan_text(Arc::from(file), &text);
    assert!(
        outcome.errors.is_empty(),
        "{}: {:?}",
        path.display(),
        outcome.errors
    );
    let mut findings = outcome.findings;
    findings.extend(engine.finish(&outcome.inventory));
    findings
}

fn render(findings: &[&Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let span = f.location.span.unwrap_or_default();
        let _ = write!(
            out,
            "{}:{}-{}:{} {} {} {}",
            span.start.line,
            span.start.column,
            span.end.line,
            span.end.column,
            f.code,
            f.severity,
            f.message
        );
        if let Some(r) = &f.resource {
            let _ = write!(out, " [{r}]");
        }
        if let Some(field) = &f.field {
            let _ = write!(out, " {field}");
        }
        if let Some(s) = &f.suppressed {
            let _ = write!(out, " (suppressed: {})", s.kind.as_str());
        }
        out.push('\n');
    }
    out
}

#[test]
fn every_rule_fires_on_its_positive_fixture_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
    let mut problems = Vec::new();
    let mut snapshots = Vec::new();
    // RULE_FILTER=K8S001,host-pid checks only those rules (while writing one).
    let filter: Vec<String> = std::env::var("RULE_FILTER")
        .map(|f| {
            f.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    for entry in catalog() {
        let meta = entry.meta;
        if !filter.is_empty() && !filter.iter().any(|f| *f == meta.code || *f == meta.name) {
            continue;
        }
        let dir = root.join(meta.name.as_ref());
        if !dir.join("positive.yaml").is_file() || !dir.join("negative.yaml").is_file() {
            problems.push(format!(
                "{} {}: missing fixtures in {}",
                meta.code,
                meta.name,
                dir.display()
            ));
            continue;
        }
        let positive = scan(&dir, "positive.yaml");
        let hits: Vec<&Finding> = positive.iter().filter(|f| f.code == meta.code).collect();
        if hits.is_empty() {
            problems.push(format!(
                "{} {}: no finding on positive.yaml",
                meta.code, meta.name
            ));
        }
        let negative = scan(&dir, "negative.yaml");
        let false_hits: Vec<&Finding> = negative.iter().filter(|f| f.code == meta.code).collect();
        if !false_hits.is_empty() {
            problems.push(format!(
                "{} {}: findings on negative.yaml:\n{}",
                meta.code,
                meta.name,
                render(&false_hits)
            ));
        }
        snapshots.push((meta.name.to_string(), render(&hits)));
    }
    assert!(
        problems.is_empty(),
        "rule fixture problems:\n{}",
        problems.join("\n")
    );
    for (name, rendered) in snapshots {
        insta::assert_snapshot!(name, rendered);
    }
}

#[test]
fn rule_codes_and_names_are_unique_and_documented() {
    let all = catalog();
    let mut codes: Vec<&str> = all.iter().map(|c| c.meta.code.as_ref()).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), all.len(), "duplicate rule codes");
    let mut names: Vec<&str> = all.iter().map(|c| c.meta.name.as_ref()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len(), "duplicate rule names");
    for c in &all {
        let m = c.meta;
        let digits = m
            .code
            .trim_start_matches(|c: char| c.is_ascii_uppercase() || c == '8');
        assert!(
            ["K8S", "RBAC"].contains(&&m.code[..m.code.len() - digits.len()])
                && digits.len() == 3
                && digits.bytes().all(|b| b.is_ascii_digit()),
            "{}: code format",
            m.code
        );
        assert!(
            m.name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
            "{}: name must be kebab-case",
            m.code
        );
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Fix",
            "## References",
        ] {
            assert!(
                m.doc.contains(section),
                "{} {}: doc lacks `{section}`",
                m.code,
                m.name
            );
        }
        assert!(!m.fix.is_empty(), "{}: empty fix", m.code);
        assert!(!m.references.is_empty(), "{}: no references", m.code);
    }
}
