//! The rule index in `docs/secrets.md` is generated from the built-in rule
//! file. This test fails when it is stale; `PALISADE_UPDATE_DOCS=1 cargo
//! test -p palisade-secrets --test docs` regenerates it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use palisade_secrets::builtin;

const BEGIN: &str = "<!-- begin secret rule index (generated) -->";
const END: &str = "<!-- end secret rule index -->";

fn index() -> String {
    let rules = builtin().unwrap();
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}");
    let _ = writeln!(out, "{} built-in rules.\n", rules.len());
    let _ = writeln!(out, "| Id | Name | Severity | Finds |");
    let _ = writeln!(out, "|---|---|---|---|");
    for r in rules.rules() {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            r.code(),
            r.name(),
            r.severity(),
            r.description.replace('|', "\\|")
        );
    }
    out.push_str(END);
    out
}

#[test]
fn secret_rule_index_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/secrets.md");
    let text = fs::read_to_string(&path).unwrap();
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
        panic!("docs/secrets.md lacks the rule index markers");
    };
    let current = &text[b..e + END.len()];
    let wanted = index();
    if current != wanted {
        if std::env::var_os("PALISADE_UPDATE_DOCS").is_some() {
            let updated = format!("{}{}{}", &text[..b], wanted, &text[e + END.len()..]);
            fs::write(&path, updated).unwrap();
        } else {
            panic!(
                "docs/secrets.md rule index is stale\nrun: PALISADE_UPDATE_DOCS=1 cargo test -p palisade-secrets --test docs"
            );
        }
    }
}
