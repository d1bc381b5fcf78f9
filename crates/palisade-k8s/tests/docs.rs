//! `docs/rules/` is generated from the rules' doc comments. This test fails
//! when it is stale; `PALISADE_UPDATE_DOCS=1 cargo test -p palisade-k8s
//! --test docs` regenerates it.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use palisade_core::Framework;
use palisade_k8s::catalog;

const BEGIN: &str = "<!-- begin rule index (generated) -->";
const END: &str = "<!-- end rule index -->";

fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules")
}

fn index() -> String {
    let all = catalog();
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}");
    let _ = writeln!(out, "{} built-in rules.\n", all.len());
    let _ = writeln!(
        out,
        "| Code | Name | Severity | PSS | CIS | NSA/CISA | Title |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for c in &all {
        let m = c.meta;
        let refs = |f: Framework| m.references_of(f).collect::<Vec<_>>().join(", ");
        let opt_in = if c.enabled_by_default {
            ""
        } else {
            " (opt-in)"
        };
        let _ = writeln!(
            out,
            "| {} | [{}]({}.md){opt_in} | {} | {} | {} | {} | {} |",
            m.code,
            m.name,
            m.name,
            m.severity,
            refs(Framework::Pss),
            refs(Framework::Cis),
            refs(Framework::Nsa),
            m.title
        );
    }
    let _ = write!(out, "{END}");
    out
}

#[test]
fn rule_docs_are_current() {
    let dir = docs_dir();
    let update = std::env::var_os("PALISADE_UPDATE_DOCS").is_some();
    let mut stale = Vec::new();
    let mut expected_files = vec!["README.md".to_string()];
    for c in catalog() {
        let file = format!("{}.md", c.meta.name);
        let want = c.meta.to_markdown(c.enabled_by_default);
        let path = dir.join(&file);
        if fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            if update {
                fs::write(&path, &want).unwrap();
            } else {
                stale.push(file.clone());
            }
        }
        expected_files.push(file);
    }
    let readme_path = dir.join("README.md");
    let readme = fs::read_to_string(&readme_path).unwrap_or_default();
    let generated = index();
    let new_readme = match (readme.find(BEGIN), readme.find(END)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{}{}", &readme[..b], generated, &readme[e + END.len()..])
        }
        _ => format!("{readme}\n{generated}\n"),
    };
    if new_readme != readme {
        if update {
            fs::write(&readme_path, &new_readme).unwrap();
        } else {
            stale.push("README.md (rule index)".into());
        }
    }
    for entry in fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".md") && !expected_files.contains(&name) {
            if update {
                fs::remove_file(dir.join(&name)).unwrap();
            } else {
                stale.push(format!("{name} (no such rule)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/rules is stale: {}\nrun: PALISADE_UPDATE_DOCS=1 cargo test -p palisade-k8s --test docs",
        stale.join(", ")
    );
}
